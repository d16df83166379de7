//! Log inputs: `[NODE=]PATH` arguments, stdin, directories walked for kube-apiserver logs, and
//! opening a file as a memory map or a (decompressing) stream.
//!
//! # Which files a directory contributes
//!
//! Files named on the command line are always read. Under a directory (walked recursively in
//! natural order, symlinked files followed, symlinked directories not, each file once):
//!
//! - kubelet's `/var/log/pods/<ns>_<pod>_<uid>/<container>/<N>.log` (and rotated
//!   `<N>.log.<timestamp>[.gz]`): pod `kube-apiserver-<node>`, container `kube-apiserver`. `N` is the
//!   container's restart count, so `N.log` with N ≥ 1 marks a restart.
//! - `/var/log/containers/<pod>_<ns>_<container>-<id>.log` with the same pod and container.
//! - must-gather's `namespaces/<ns>/pods/kube-apiserver-<node>/kube-apiserver/kube-apiserver/logs/
//!   {current,previous}.log` (an `.insecure.log` twin is skipped when the plain one exists).
//! - any other file whose first 64 KiB (gunzipped) hold a log line: klog, JSON logging, logrus,
//!   or any envelope (CRI, docker, journald, kubectl). Bundles name them `k3s.log`,
//!   `rke2-server.log`, `journal.txt`, `current.log`, …; the name does not matter.
//!
//! Everything else is listed in [`Skipped`] with the reason: other containers of a kube-apiserver
//! pod, other pods' logs, audit logs, empty, binary, or no log lines.
//!
//! # Node names
//!
//! `NODE=` on the command line wins; then the pod name (`kube-apiserver-<node>`); then, line by
//! line, the host an envelope names (journald's host, `kubectl logs --prefix`'s or stern's pod);
//! then the file. A file's node is read from its **absolute** path, so it does not depend on how
//! the path was spelled (`kube-apiserver.log` in `/x/cp-2` and `/x/cp-2/kube-apiserver.log` are
//! both `cp-2`): klog's own file name (`kube-apiserver.HOST.USER.log.SEVERITY.…`) gives HOST;
//! otherwise the file's stem without extensions, logrotate suffixes (`.1`, `-20240312`) and a
//! `kube-apiserver-` prefix, or, when that stem is generic (`kube-apiserver`, `apiserver`, `k3s`,
//! `rke2-server`, `journal`, `current`, `logs`, a number, …), the nearest parent directory whose
//! name is not. stdin is `stdin`.

use super::{Error, Warning};
use serde::Serialize;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One `[NODE=]PATH` argument. `PATH` `-` is stdin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogInput {
    pub node: Option<String>,
    pub path: PathBuf,
}

impl LogInput {
    /// Splits `NODE=PATH`. The part before the first `=` is a node only if it looks like one
    /// (letters, digits, `.`, `-`, `_`; no `/`), so paths containing `=` still work.
    pub fn parse(spec: &str) -> LogInput {
        if let Some((node, path)) = spec.split_once('=') {
            let is_node = !node.is_empty()
                && node
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
                && !path.is_empty();
            if is_node {
                return LogInput {
                    node: Some(node.to_string()),
                    path: PathBuf::from(path),
                };
            }
        }
        LogInput {
            node: None,
            path: PathBuf::from(spec),
        }
    }

    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == "-"
    }
}

impl std::str::FromStr for LogInput {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(LogInput::parse(s))
    }
}

/// Where a file's node name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeFrom {
    /// `NODE=PATH`.
    Given,
    /// `kube-apiserver-<node>` pod name.
    Pod,
    /// The file or directory name.
    FileName,
    /// stdin without `NODE=`.
    Stdin,
}

/// One file to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFile {
    /// None for stdin.
    pub path: Option<PathBuf>,
    /// As shown in events and warnings: the path as given or found, `-` for stdin.
    pub display: String,
    pub node: String,
    pub node_from: NodeFrom,
    /// `N` of a pod log `N.log` (not rotated), N ≥ 1: the container's Nth restart.
    pub restart: Option<u32>,
}

/// A file a directory walk did not read, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// Files to read, notes on the inputs, and files skipped under directories.
pub type Expanded = (Vec<LogFile>, Vec<Warning>, Vec<Skipped>);

/// Expands inputs into files, in order: named files as given, directory contents in natural
/// order. A file reached twice (e.g. through /var/log/containers symlinks) is read once.
pub fn expand(inputs: &[LogInput]) -> Result<Expanded, Error> {
    let mut files = Vec::new();
    let mut notes = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for input in inputs {
        if input.is_stdin() {
            files.push(LogFile {
                path: None,
                display: "-".into(),
                node: input.node.clone().unwrap_or_else(|| "stdin".into()),
                node_from: if input.node.is_some() {
                    NodeFrom::Given
                } else {
                    NodeFrom::Stdin
                },
                restart: None,
            });
            continue;
        }
        let meta = std::fs::metadata(&input.path).map_err(|e| Error::input(&input.path, e))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(&input.path, 0, &mut found).map_err(|(p, e)| Error::input(&p, e))?;
            let before = files.len();
            let picked = pick(&found, &mut skipped);
            for (path, pod) in picked {
                let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if !seen.insert(key) {
                    continue;
                }
                files.push(describe(path, input.node.as_deref(), pod));
            }
            if files.len() == before {
                notes.push(Warning {
                    file: input.path.display().to_string(),
                    line: None,
                    message: "no logs recognised in this directory (see the skipped files)".into(),
                });
            }
        } else {
            let key = std::fs::canonicalize(&input.path).unwrap_or_else(|_| input.path.clone());
            seen.insert(key);
            let pod = layout(&input.path);
            files.push(describe(input.path.clone(), input.node.as_deref(), pod));
        }
    }
    Ok((files, notes, skipped))
}

/// Pod-layout facts about a path: node from `kube-apiserver-<node>`, restart count from `N.log`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Layout {
    node: Option<String>,
    restart: Option<u32>,
    /// The path is a kube-apiserver container log in a known layout.
    apiserver: bool,
}

fn name_of(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Recognises the pod layouts in a path.
fn layout(path: &Path) -> Layout {
    let comps: Vec<&str> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    let n = comps.len();
    let file = comps.last().copied().unwrap_or("");
    // /var/log/pods/<ns>_<pod>_<uid>/<container>/<N>.log[.<ts>][.gz]
    if n >= 3 {
        let pod_dir = comps[n - 3];
        let container = comps[n - 2];
        let parts: Vec<&str> = pod_dir.split('_').collect();
        if parts.len() == 3 && file.contains(".log") {
            let pod = parts[1];
            let restart = file
                .strip_suffix(".log")
                .and_then(|s| s.parse::<u32>().ok())
                .filter(|&r| r >= 1);
            if let Some(node) = pod.strip_prefix("kube-apiserver-") {
                return Layout {
                    node: Some(node.to_string()),
                    restart,
                    apiserver: container == "kube-apiserver",
                };
            }
        }
    }
    // /var/log/containers/<pod>_<ns>_<container>-<id>.log
    let parts: Vec<&str> = file.splitn(3, '_').collect();
    if parts.len() == 3 && file.ends_with(".log") {
        if let Some(node) = parts[0].strip_prefix("kube-apiserver-") {
            let container_id = parts[2].trim_end_matches(".log");
            let container = container_id
                .rsplit_once('-')
                .map_or(container_id, |(c, _)| c);
            return Layout {
                node: Some(node.to_string()),
                restart: None,
                apiserver: container == "kube-apiserver",
            };
        }
    }
    // must-gather: pods/kube-apiserver-<node>/<container>/<container>/logs/<file>
    if n >= 5 && comps[n - 2] == "logs" && comps[n - 3] == comps[n - 4] {
        if let Some(node) = comps[n - 5].strip_prefix("kube-apiserver-") {
            return Layout {
                node: Some(node.to_string()),
                restart: None,
                apiserver: comps[n - 3] == "kube-apiserver" && file.contains(".log"),
            };
        }
    }
    Layout::default()
}

fn describe(path: PathBuf, given: Option<&str>, lay: Layout) -> LogFile {
    // The node a name gives must not depend on how the path was spelled (`kube-apiserver.log`
    // and `/abs/dir/kube-apiserver.log` are the same file): names are read from the absolute
    // path (not resolving symlinks: the name the user sees is the evidence).
    let (node, node_from) = match (given, &lay.node) {
        (Some(g), _) => (g.to_string(), NodeFrom::Given),
        (None, Some(n)) => (n.clone(), NodeFrom::Pod),
        (None, None) => {
            let abs = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
            (node_from_name(&abs), NodeFrom::FileName)
        }
    };
    LogFile {
        display: path.display().to_string(),
        path: Some(path),
        node,
        node_from,
        restart: lay.restart,
    }
}

const GENERIC: &[&str] = &[
    "",
    "log",
    "logs",
    "current",
    "previous",
    "kube-apiserver",
    "apiserver",
    "pods",
    "containers",
    "var",
    "tmp",
    // Names bundles and collectors give the kube-apiserver (or its host process's) log.
    "kube-apiserver-log",
    "apiserver-log",
    "k3s",
    "k3s-server",
    "rke2",
    "rke2-server",
    "k0s",
    "k0scontroller",
    "journal",
    "journald",
    "messages",
    "syslog",
    "kubelet",
    "kube-controller-manager",
    "openshift-kube-apiserver",
    "kube-system",
    "namespaces",
    "podlogs",
    "systemlogs",
    ".",
    "..",
];

fn strip_exts(name: &str) -> &str {
    let mut s = name;
    loop {
        let before = s.len();
        for ext in [".gz", ".log", ".txt", ".json", ".insecure"] {
            if let Some(t) = s.strip_suffix(ext) {
                s = t;
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

/// A file name without logrotate's `.1` / `-20231010` after `.log` (a `.gz` after them too) and
/// without klog's `.INFO`/`.WARNING`/`.ERROR`/`.FATAL` symlink suffix.
fn strip_rotation(name: &str) -> &str {
    let n = name.strip_suffix(".gz").unwrap_or(name);
    for sep in ['.', '-'] {
        if let Some((stem, tail)) = n.rsplit_once(sep) {
            if !tail.is_empty()
                && tail.bytes().all(|c| c.is_ascii_digit())
                && stem.ends_with(".log")
            {
                return stem;
            }
        }
    }
    for sev in [".INFO", ".WARNING", ".ERROR", ".FATAL"] {
        if let Some(stem) = n.strip_suffix(sev) {
            return stem;
        }
    }
    name
}

/// klog's own file names (`--log-dir`, klog.go `logName`): `PROGRAM.HOST.USER.log.SEVERITY.
/// YYYYMMDD-HHMMSS.PID`, and the `PROGRAM.SEVERITY` symlink to the newest. Returns the host.
fn klog_file_host(name: &str) -> Option<&str> {
    let parts: Vec<&str> = name.split('.').collect();
    let log = parts.iter().position(|p| *p == "log")?;
    let sev = parts.get(log + 1)?;
    if log < 3 || !matches!(*sev, "INFO" | "WARNING" | "ERROR" | "FATAL") {
        return None;
    }
    // PROGRAM is parts[0]; USER is the part before `log`; HOST is what lies between (a host
    // name may hold dots).
    let host_start = name.find('.')? + 1;
    let user_dot = parts[..log - 1].iter().map(|p| p.len() + 1).sum::<usize>();
    name.get(host_start..user_dot.checked_sub(1)?)
        .filter(|h| !h.is_empty())
}

/// `master-3.log` → `master-3`; `kube-apiserver-master-3.log.gz` → `master-3`;
/// `master-3/kube-apiserver.log` → `master-3`; `kube-apiserver.m3.root.log.ERROR.…` → `m3`.
fn node_from_name(path: &Path) -> String {
    if let Some(h) = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(klog_file_host)
    {
        return h.to_string();
    }
    let mut fallback = None;
    for (i, comp) in path.iter().rev().enumerate() {
        let raw = comp.to_str().unwrap_or("");
        let raw = if i == 0 { strip_rotation(raw) } else { raw };
        let s = strip_exts(raw);
        let s = s.strip_prefix("kube-apiserver-").unwrap_or(s);
        let s = s.strip_prefix("kube-apiserver_").unwrap_or(s);
        if i == 0 && fallback.is_none() {
            fallback = Some(s.to_string());
        }
        let generic = GENERIC.contains(&s) || s.bytes().all(|c| c.is_ascii_digit());
        if !generic {
            return s.to_string();
        }
    }
    fallback
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Depth-first, natural order; does not descend into symlinked directories.
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), (PathBuf, std::io::Error)> {
    if depth > 32 {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| (dir.to_path_buf(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort_by(|a, b| natural_cmp(name_of(a), name_of(b)));
    for p in entries {
        let Ok(lmeta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if lmeta.is_dir() {
            walk(&p, depth + 1, out)?;
        } else if lmeta.is_file() || (lmeta.file_type().is_symlink() && p.is_file()) {
            out.push(p);
        }
    }
    Ok(())
}

/// Bytes of a file looked at to recognise it as a log.
const SNIFF: usize = 64 << 10;

/// Does the file start like a log (klog, JSON logging, logrus, or any container envelope: CRI,
/// docker, journald, kubectl)? Returns why not. Gzip is looked into.
fn sniff(path: &Path) -> Result<(), String> {
    let Ok(f) = File::open(path) else {
        return Err("cannot be opened".into());
    };
    let mut head = Vec::with_capacity(SNIFF);
    let mut raw = BufReader::new(f);
    let gz = raw
        .fill_buf()
        .map(|b| b.starts_with(&GZIP_MAGIC))
        .unwrap_or(false);
    let r: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let _ = r.take(SNIFF as u64).read_to_end(&mut head);
    if head.is_empty() {
        return Err("empty".into());
    }
    if memchr::memchr(0, &head).is_some() {
        return Err("binary (NUL bytes)".into());
    }
    let log_line = head.split(|&c| c == b'\n').take(200).any(|l| {
        let env = super::container::parse(l, super::container::Container::Plain);
        let p = super::klog::trim(&env.payload);
        env.container != super::container::Container::Plain
            || super::klog::parse_header(p).is_some()
            || super::klog::looks_like_json(p)
    });
    if log_line {
        Ok(())
    } else {
        Err(format!(
            "no log lines (klog, JSON, journald, CRI, docker, kubectl) in its first {} KiB",
            SNIFF >> 10
        ))
    }
}

/// Chooses the logs among walked files: the kube-apiserver container of known pod layouts, and
/// any other file whose content is a log (bundles name them `k3s.log`, `rke2-server.log`,
/// `journal.txt`, `current.log`, …). Every other file is listed in `skipped` with the reason.
fn pick(found: &[PathBuf], skipped: &mut Vec<Skipped>) -> Vec<(PathBuf, Layout)> {
    let mut out = Vec::new();
    let mut skip = |p: &Path, reason: String| {
        skipped.push(Skipped {
            file: p.display().to_string(),
            reason,
        })
    };
    for p in found {
        let name = name_of(p);
        let lay = layout(p);
        if lay.node.is_some() {
            if !lay.apiserver {
                skip(
                    p,
                    "a container of the kube-apiserver pod other than kube-apiserver".into(),
                );
                continue;
            }
            if let Some(plain) = name.strip_suffix(".insecure.log") {
                if found.contains(&p.with_file_name(format!("{plain}.log"))) {
                    skip(p, format!("the .insecure twin of {plain}.log"));
                    continue;
                }
            }
            out.push((p.clone(), lay));
            continue;
        }
        if let Some(pod) = other_pod(p) {
            skip(p, format!("log of pod {pod}, not kube-apiserver"));
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if lower.contains("audit") {
            skip(p, "an audit log (requests, not apiserver errors)".into());
            continue;
        }
        match sniff(p) {
            Ok(()) => out.push((p.clone(), lay)),
            Err(reason) => skip(p, reason),
        }
    }
    out
}

/// The pod of a `/var/log/pods/<ns>_<pod>_<uid>/…` or `/var/log/containers/<pod>_<ns>_…` path
/// whose pod is not a kube-apiserver (etcd, operators): their logs are not apiserver logs.
fn other_pod(path: &Path) -> Option<String> {
    let comps: Vec<&str> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    let n = comps.len();
    if n >= 3 {
        let parts: Vec<&str> = comps[n - 3].split('_').collect();
        if parts.len() == 3 && comps[n - 1].contains(".log") && parts[2].len() >= 8 {
            return Some(parts[1].to_string());
        }
    }
    None
}

/// Orders `2.log` before `10.log`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (&a[..da], &b[..db]);
                let ta = na.iter().skip_while(|&&c| c == b'0').count();
                let tb = nb.iter().skip_while(|&&c| c == b'0').count();
                let ord = ta
                    .cmp(&tb)
                    .then_with(|| na[da - ta..].cmp(&nb[db - tb..]))
                    .then_with(|| da.cmp(&db));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

/// An opened input.
pub enum Opened {
    /// A regular file, mapped read-only. Like ripgrep, we accept that a file truncated by another
    /// process while mapped can end the process (SIGBUS); log files being analysed are static.
    Mapped(memmap2::Mmap),
    /// stdin, pipes, and gzip (decompressed as it is read; concatenated members are one stream).
    Stream {
        reader: Box<dyn Read + Send>,
        gzip: bool,
    },
    Empty,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens a file: gzip (by its magic bytes, not its name) as a decompressing stream, other regular
/// files as a map, everything else as a stream.
pub fn open(file: &LogFile) -> Result<Opened, Error> {
    let Some(path) = &file.path else {
        let mut r = BufReader::with_capacity(1 << 20, std::io::stdin());
        let head = r.fill_buf().map_err(|e| Error::input(Path::new("-"), e))?;
        let gzip = head.starts_with(&GZIP_MAGIC);
        let reader: Box<dyn Read + Send> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(r))
        } else {
            Box::new(r)
        };
        return Ok(Opened::Stream { reader, gzip });
    };
    let err = |e| Error::input(path, e);
    let mut f = File::open(path).map_err(err)?;
    let meta = f.metadata().map_err(err)?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut f, &mut magic).map_err(err)?;
    if n == 2 && magic == GZIP_MAGIC {
        let f = File::open(path).map_err(err)?;
        let reader = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, f));
        return Ok(Opened::Stream {
            reader: Box::new(reader),
            gzip: true,
        });
    }
    if meta.is_file() {
        if meta.len() == 0 {
            return Ok(Opened::Empty);
        }
        let f = File::open(path).map_err(err)?;
        // SAFETY: read-only private mapping of a regular file; see `Opened::Mapped`.
        if let Ok(m) = unsafe { memmap2::MmapOptions::new().map(&f) } {
            #[cfg(unix)]
            let _ = m.advise(memmap2::Advice::Sequential);
            return Ok(Opened::Mapped(m));
        }
    }
    // Pipes, FIFOs, devices, or a map that failed: read it. The first two bytes went to the magic
    // check, so chain them back in front.
    let reader: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(magic[..n].to_vec()).chain(f));
    Ok(Opened::Stream {
        reader,
        gzip: false,
    })
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_equals_path() {
        assert_eq!(
            LogInput::parse("master-3=/var/log/x.log"),
            LogInput {
                node: Some("master-3".into()),
                path: "/var/log/x.log".into()
            }
        );
        assert_eq!(LogInput::parse("/tmp/a=b.log").node, None);
        assert_eq!(LogInput::parse("m1=-").path, PathBuf::from("-"));
        assert_eq!(LogInput::parse("=x").node, None);
        assert_eq!(LogInput::parse("x=").node, None);
    }

    #[test]
    fn layouts() {
        let l = layout(Path::new(
            "/var/log/pods/kube-system_kube-apiserver-master-3_0f3a/kube-apiserver/2.log",
        ));
        assert_eq!(
            (l.node.as_deref(), l.restart, l.apiserver),
            (Some("master-3"), Some(2), true)
        );
        let l = layout(Path::new(
            "/var/log/pods/kube-system_kube-apiserver-master-3_0f3a/kube-apiserver/0.log.20211116-200952.gz",
        ));
        assert_eq!(
            (l.node.as_deref(), l.restart, l.apiserver),
            (Some("master-3"), None, true)
        );
        let l = layout(Path::new(
            "/var/log/pods/openshift-kube-apiserver_kube-apiserver-m0_1/kube-apiserver-check-endpoints/0.log",
        ));
        assert!(!l.apiserver);
        let l = layout(Path::new(
            "/var/log/containers/kube-apiserver-m1_kube-system_kube-apiserver-0123abcd.log",
        ));
        assert_eq!((l.node.as_deref(), l.apiserver), (Some("m1"), true));
        let l = layout(Path::new(
            "mg/namespaces/openshift-kube-apiserver/pods/kube-apiserver-m2/kube-apiserver/kube-apiserver/logs/previous.log",
        ));
        assert_eq!((l.node.as_deref(), l.apiserver), (Some("m2"), true));
    }

    #[test]
    fn node_names_from_files() {
        assert_eq!(node_from_name(Path::new("/x/master-3.log")), "master-3");
        assert_eq!(
            node_from_name(Path::new("kube-apiserver-master-3.log.gz")),
            "master-3"
        );
        assert_eq!(
            node_from_name(Path::new("/x/master-2/logs/kube-apiserver.log")),
            "master-2"
        );
        assert_eq!(node_from_name(Path::new("current.log")), "current");
        // Generic names: bundles, rotation, klog's own files.
        assert_eq!(node_from_name(Path::new("/b/node-a/k3s.log")), "node-a");
        assert_eq!(
            node_from_name(Path::new("/b/cp-2/rke2-server.log.1")),
            "cp-2"
        );
        assert_eq!(
            node_from_name(Path::new("/b/cp-2/kube-apiserver.log-20240312.gz")),
            "cp-2"
        );
        assert_eq!(
            node_from_name(Path::new("/var/log/cp-3/kube-apiserver.ERROR")),
            "cp-3"
        );
        assert_eq!(
            node_from_name(Path::new(
                "/tmp/kube-apiserver.cp-1.example.com.root.log.ERROR.20240312-101500.1"
            )),
            "cp-1.example.com"
        );
    }

    #[test]
    fn natural_order() {
        let mut v = vec!["10.log", "2.log", "1.log", "b", "a10", "a9"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, vec!["1.log", "2.log", "10.log", "a9", "a10", "b"]);
    }
}
