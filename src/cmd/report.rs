//! `report`: the main job. Snapshot + key sources + logs → findings with evidence and remedies, in
//! text, Markdown, JSON or HTML. Also the assembly `demo` and `validate` share.

use super::logs::LogSourceArgs;
use super::outfile::{Guard, Mode};
use super::output_args::{Fmt, Sink};
use super::progress::Progress;
use super::sources::KeySourceArgs;
use super::{CmdResult, Error, Outcome};
use crate::etcd::trailer::{hex, sha256};
use crate::etcd::Snapshot;
use crate::keyring::Keyring;
use crate::logs::LogScan;
use crate::report::model::{Input, Report, Restorability, Verdict};
use crate::report::{build, render, ReportFormat};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (`etcdctl snapshot save` output or a data dir's member/snap/db; also the data
    /// dir itself, or a .gz/.zst/.xz snapshot).
    #[arg(long)]
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub keys: KeySourceArgs,
    #[command(flatten)]
    pub logs: LogSourceArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Do not report a missing SHA-256 trailer (the snapshot is a data-dir copy).
    #[arg(long)]
    pub allow_missing_trailer: bool,
    /// The member's --quota-backend-bytes, in bytes (etcd's default: 2 GiB): what the space
    /// findings compare the db size with, as `stats` does (the snapshot does not record it).
    #[arg(long, default_value_t = crate::etcd::space::DEFAULT_QUOTA_BYTES, value_name = "BYTES")]
    pub quota_backend_bytes: u64,
}

/// Output options shared by `report` and `demo`: the common output flags (`-o FORMAT`,
/// `--output-file`, `--force`, `--color`) plus the report's own.
#[derive(clap::Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub common: super::output_args::OutputArgs,
    /// Use this creation time (RFC 3339, e.g. 2026-01-01T00:00:00Z) for reproducible output.
    #[arg(long, value_name = "TIME", value_parser = parse_fixed_time)]
    pub fixed_time: Option<String>,
    /// No progress bars on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `--fixed-time` must be RFC 3339 (`2026-01-01T00:00:00Z`, `…+02:00`): it is written into the
/// report as its creation time, so `yesterday` would be a lie in the evidence.
pub fn parse_fixed_time(s: &str) -> Result<String, String> {
    match crate::logs::time::parse_rfc3339(s.as_bytes()) {
        Some((_, n)) if n == s.len() => Ok(s.to_string()),
        _ => Err("not an RFC 3339 time; write e.g. 2026-01-01T00:00:00Z".into()),
    }
}

impl OutputArgs {
    pub fn created(&self) -> String {
        self.fixed_time.clone().unwrap_or_else(now_utc)
    }

    /// The report's format, checked before any input is read.
    pub fn format(&self, command: &str) -> Result<ReportFormat, Error> {
        Ok(
            match self
                .common
                .format(command, super::output_args::formats(command))?
            {
                Fmt::Md => ReportFormat::Md,
                Fmt::Json => ReportFormat::Json,
                Fmt::Html => ReportFormat::Html,
                _ => ReportFormat::Text,
            },
        )
    }

    /// Opens the destination (stdout or `--output-file`, 0600: a report names keys and
    /// records) after checking it against the inputs.
    pub fn open(&self, guard: &Guard) -> Result<Sink, Error> {
        self.common.open(guard, Mode::Private)
    }

    /// Renders to `sink`, streaming through a buffer (a report on a multi-GiB snapshot can list
    /// hundreds of thousands of keys); colour only for text, as `--color` says.
    pub fn write(
        &self,
        report: &Report,
        format: ReportFormat,
        mut sink: Sink,
    ) -> Result<(), Error> {
        let text = format == ReportFormat::Text;
        let color = text && self.common.color();
        let width = if text { self.common.text_width() } else { None };
        render(report, format, color, width, &mut sink)?;
        sink.finish()
    }
}

/// The current time, RFC 3339 UTC.
pub fn now_utc() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    let s = crate::logs::time::format_utc(micros - micros % 1_000_000);
    // format_utc prints microseconds; a report's creation time needs seconds.
    match s.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => s,
    }
}

/// One input for the chain of custody.
pub fn input_of(path: &str, role: &str, node: Option<&str>, bytes: &[u8]) -> Input {
    Input {
        path: path.to_string(),
        role: role.to_string(),
        node: node.map(str::to_string),
        size: bytes.len() as u64,
        sha256: hex(&sha256(bytes)),
    }
}

/// A chain-of-custody entry for a file named on the command line: read once more, read-only, in
/// 1 MiB steps so a multi-GB log costs no memory.
pub fn file_input(path: &str, role: &str, node: Option<&str>) -> Result<Input, Error> {
    use sha2::Digest;
    use std::io::Read;
    let err = |e: std::io::Error| Error::new(format!("{path}: {e}"));
    let mut f = std::fs::File::open(path).map_err(err)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok(Input {
        path: path.to_string(),
        role: role.to_string(),
        node: node.map(str::to_string),
        size,
        sha256: hex(&h.finalize()),
    })
}

/// Everything `report`, `demo` and `validate` compute before rendering.
pub struct Assembly {
    pub report: Report,
    /// `validate`'s answer, a function of the diagnosis.
    pub restorability: Restorability,
}

impl Assembly {
    /// Anything but verdict ok is exit 1.
    pub fn problems(&self) -> bool {
        self.report.verdict.status != Verdict::Ok
    }
}

/// Runs the whole pipeline ([`build::analyse`] → [`build::Analysis::into_report`]) on an
/// opened snapshot, a keyring and (optionally) scanned logs.
pub fn assemble(
    snap: &Snapshot,
    keyring: &Keyring,
    logs: Option<&LogScan>,
    inputs: Vec<Input>,
    created: String,
    allow_missing_trailer: bool,
    progress: &Progress,
) -> Assembly {
    let analysis = build::analyse(
        snap,
        keyring,
        logs,
        &build::Options {
            allow_missing_trailer,
            ..build::Options::default()
        },
        progress,
    );
    let restorability = analysis.diagnosis.restorability();
    Assembly {
        report: analysis.into_report(inputs, created),
        restorability,
    }
}

/// Chain-of-custody entries for the key sources and logs given on the command line.
pub fn source_inputs(keys: &KeySourceArgs, logs: Option<&LogScan>) -> Result<Vec<Input>, Error> {
    source_inputs_hashed(keys, logs, &Prehashed::default())
}

/// Sizes and SHA-256s of input files hashed ahead of need, by the path as given.
#[derive(Default)]
pub struct Prehashed(std::collections::HashMap<String, (u64, String)>);

impl Prehashed {
    /// Hashes the regular files among the key sources and the log files `logs` expands to
    /// (directories as the scan expands them), each mapped read-only: started before anything
    /// else so a GB log's SHA-256 runs beside the snapshot work instead of after the log scan.
    /// A path that cannot be read here is left out; [`source_inputs_hashed`] then reads it
    /// itself and reports its error as before. FIFOs and devices are never opened here.
    /// `skip` (a path as given) is left out: it is hashed elsewhere and added with
    /// [`Prehashed::insert`].
    pub fn compute(
        keys: &KeySourceArgs,
        logs: &[crate::logs::LogInput],
        skip: Option<&str>,
    ) -> Prehashed {
        let mut paths: Vec<String> = Vec::new();
        for (list, flag) in [
            (&keys.encryption_config, "--encryption-config"),
            (&keys.static_resources, "--static-resources"),
        ] {
            for s in list {
                if let Ok(s) = crate::keyring::node_spec(s, flag) {
                    paths.push(s.display);
                }
            }
        }
        if !logs.is_empty() {
            if let Ok((files, _, _)) = crate::logs::source::expand(logs) {
                paths.extend(
                    files
                        .into_iter()
                        .filter(|f| f.path.is_some())
                        .map(|f| f.display),
                );
            }
        }
        let mut out = std::collections::HashMap::new();
        for p in paths {
            if out.contains_key(&p) || skip == Some(p.as_str()) {
                continue;
            }
            if let Some(h) = hash_regular_file(&p) {
                out.insert(p, h);
            }
        }
        Prehashed(out)
    }

    /// A file hashed elsewhere ([`Companion`]).
    pub fn insert(&mut self, path: String, size: u64, sha256: &[u8; 32]) {
        self.0.insert(path, (size, hex(sha256)));
    }

    fn input(&self, path: &str, role: &str, node: Option<&str>) -> Result<Input, Error> {
        match self.0.get(path) {
            Some((size, sha)) => Ok(Input {
                path: path.to_string(),
                role: role.to_string(),
                node: node.map(str::to_string),
                size: *size,
                sha256: sha.clone(),
            }),
            None => file_input(path, role, node),
        }
    }
}

/// The largest regular log file, mapped read-only, to hash beside the snapshot on the snapshot
/// hash's thread ([`build::analyse_beside`]'s companion) instead of on a thread of its own.
pub struct Companion {
    /// The path as the scan names it (the chain of custody's key).
    pub path: String,
    map: memmap2::Mmap,
}

impl Companion {
    /// None when no log is a non-empty regular file that can be mapped.
    pub fn pick(logs: &[crate::logs::LogInput]) -> Option<Companion> {
        if logs.is_empty() {
            return None;
        }
        let (files, _, _) = crate::logs::source::expand(logs).ok()?;
        let (size, path) = files
            .into_iter()
            .filter(|f| f.path.is_some())
            .filter_map(|f| {
                let m = std::fs::metadata(&f.display).ok()?;
                (m.is_file() && m.len() > 0).then_some((m.len(), f.display))
            })
            .max()?;
        let map = map_regular(&path)?;
        (map.len() as u64 == size).then_some(Companion { path, map })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}

/// A read-only mapping of a regular file; `None` for anything else, an empty file or on error.
fn map_regular(path: &str) -> Option<memmap2::Mmap> {
    // Asked before opening: opening a FIFO for reading would wait for a writer.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let f = std::fs::File::open(path).ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() || meta.len() == 0 {
        return None;
    }
    // SAFETY: a read-only private mapping of a regular file the user named as evidence; like
    // the log scan's own mapping (logs::source::Opened::Mapped), a file truncated meanwhile
    // can end the process (SIGBUS), which the snapshot's mapping guards against the same way.
    let map = unsafe { memmap2::MmapOptions::new().map(&f) }.ok()?;
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    Some(map)
}

/// Size and SHA-256 of a regular file, mapped read-only; `None` for anything else or on error.
fn hash_regular_file(path: &str) -> Option<(u64, String)> {
    match map_regular(path) {
        Some(map) => Some((map.len() as u64, hex(&sha256(&map)))),
        // An empty regular file cannot be mapped; its hash is that of no bytes.
        None => std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file() && m.len() == 0)
            .map(|_| (0, hex(&sha256(&[])))),
    }
}

/// How much nicer the analysis threads are than the hash thread.
#[cfg(target_os = "linux")]
const ANALYSIS_NICE: libc::c_int = 5;

/// A pool for the analysis whose threads yield to the SHA-256 thread: with the snapshot's and the
/// log's hashes on one thread ([`Companion`]) that thread is the longest single task, and with
/// three runnable threads on two cores the scheduler gave it ~2/3 of a core (1.13 s of CPU over
/// 1.42 s). Measured on the bench data (AMD EPYC, 2 cores, 5 interleaved runs twice): nice +1
/// changed little (1.58 → 1.52 × openssl), nice +5 gave 1.38 × against 1.49–1.59 × for the same
/// code on the global pool, with less CPU in all (2.49 vs 2.64–2.84 × openssl's). The cost: on a
/// busy machine the analysis also yields to other programs. Linux only; None (the global pool)
/// elsewhere or when the pool cannot be built.
fn yielding_pool() -> Option<rayon::ThreadPool> {
    #[cfg(target_os = "linux")]
    {
        rayon::ThreadPoolBuilder::new()
            .start_handler(|_| {
                // SAFETY: gettid and setpriority on the calling thread (Linux keeps a nice
                // value per thread); raising one's own nice value needs no privilege, and a
                // failure leaves the thread as it was.
                unsafe {
                    let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                    let now = libc::getpriority(libc::PRIO_PROCESS, tid);
                    libc::setpriority(libc::PRIO_PROCESS, tid, now.saturating_add(ANALYSIS_NICE));
                }
            })
            .build()
            .ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// [`source_inputs`], taking the hashes `pre` already holds.
pub fn source_inputs_hashed(
    keys: &KeySourceArgs,
    logs: Option<&LogScan>,
    pre: &Prehashed,
) -> Result<Vec<Input>, Error> {
    let mut out = Vec::new();
    // The same [NODE=]PATH parsing the keyring used when it loaded these sources.
    let spec = |s: &str, flag: &str| {
        crate::keyring::node_spec(s, flag).map_err(|e| Error::new(e.to_string()))
    };
    for s in &keys.encryption_config {
        let s = spec(s, "--encryption-config")?;
        out.push(pre.input(&s.display, "encryption-config", Some(&s.node))?);
    }
    for s in &keys.static_resources {
        let s = spec(s, "--static-resources")?;
        out.push(pre.input(&s.display, "static-resources", Some(&s.node))?);
    }
    for (i, _) in keys.candidate_key.iter().enumerate() {
        // The argument holds key bytes: record that it was given, never what it was.
        out.push(Input {
            path: format!("--key #{}", i + 1),
            role: "key-argument".into(),
            node: None,
            size: 0,
            sha256: String::new(),
        });
    }
    if let Some(scan) = logs {
        for f in &scan.files {
            // A pipe (`-`, a FIFO, `<(zcat …)`) can be read once, by the scan: it is recorded
            // with the bytes read and no hash; opening it again would wait for a writer forever.
            let stream = f.file == "-"
                || std::fs::metadata(&f.file).is_ok_and(|m| !m.is_file() && !m.is_dir());
            if stream {
                out.push(Input {
                    path: f.file.clone(),
                    role: "log".into(),
                    node: Some(f.node.clone()),
                    size: f.bytes,
                    sha256: String::new(),
                });
            } else {
                out.push(pre.input(&f.file, "log", Some(&f.node))?);
            }
        }
    }
    Ok(out)
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    guard.input(&args.snapshot);
    args.keys.guard(&mut guard);
    for l in &args.logs.log {
        guard.input(&l.path);
    }
    // The guard first: an output path that is an input is refused before anything else.
    let sink = args.out.open(&guard)?;
    let format = args.out.format("report")?;
    let progress = Progress::new(args.out.quiet);
    // Hashing every input for the chain of custody (a log can be GBs) runs on its own thread
    // from the very start: beside the snapshot's mapping being populated (~80 ms on one core
    // for the 1.2 GB bench file, the other idle), then beside the snapshot's SHA-256
    // (build::analyse). Not scoped: an error opening the snapshot or a key source returns at
    // once instead of waiting for a GB hash it no longer needs.
    // The largest log is hashed with the snapshot instead, on one core ([`Companion`]).
    let companion = Companion::pick(&args.logs.log);
    let pre = {
        let (keys, logs) = (args.keys.clone(), args.logs.log.clone());
        let skip = companion.as_ref().map(|c| c.path.clone());
        std::thread::spawn(move || {
            crate::trace::span("input hashes", || {
                Prehashed::compute(&keys, &logs, skip.as_deref())
            })
        })
    };
    let (snap, compressed) = super::common::open_snapshot_traced(&args.snapshot)?;
    let keyring = args.keys.load()?;
    // Scanning the logs overlaps the snapshot work, and only the correlation waits for it.
    let analyse = || {
        build::analyse_beside(
            &snap,
            &keyring,
            || crate::trace::span("log scan", || args.logs.scan()),
            |logs| logs.as_ref().ok().and_then(Option::as_ref),
            companion.as_ref().map(Companion::bytes),
            &build::Options::judging(args.allow_missing_trailer, args.quota_backend_bytes),
            &progress,
        )
    };
    let (analysis, logs, companion_sha256) = match yielding_pool() {
        Some(pool) => pool.install(analyse),
        None => analyse(),
    };
    // A panic there is a bug; without its hashes the inputs are read again below.
    let mut pre = pre.join().unwrap_or_default();
    if let (Some(c), Some(sha)) = (companion, companion_sha256) {
        let size = c.bytes().len() as u64;
        pre.insert(c.path, size, &sha);
    }
    let logs = logs?;
    let inputs = source_inputs_hashed(&args.keys, logs.as_ref(), &pre)?;
    let mut report = crate::trace::span("into report", || {
        analysis.into_report(inputs, args.out.created())
    });
    if compressed.is_some() {
        // The chain of custody names the file as given: its size and SHA-256, not those of the
        // bytes decompressed from it.
        let path = snap.path.display().to_string();
        if let Some(first) = report.inputs.iter_mut().find(|i| i.path == path) {
            *first = file_input(&path, "snapshot", None)?;
        }
    }
    let verdict = report.verdict.status;
    crate::trace::span("render", || args.out.write(&report, format, sink))?;
    Ok(if verdict != Verdict::Ok {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
