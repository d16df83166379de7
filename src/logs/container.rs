//! The envelopes a kube-apiserver log line arrives in, around the klog payload.
//!
//! - CRI (kubelet `/var/log/pods/…/N.log`, containerd/CRI-O; cri-api `logs` spec):
//!   `<RFC3339Nano> <stdout|stderr> <F|P> <msg>` — `P` marks a partial line the runtime split
//!   (containerd at 16 KiB); the chunks are joined until the `F` one.
//! - docker json-file: `{"log":"…\n","stream":"stderr","time":"…"}` — a `log` without the
//!   trailing newline is a partial line (docker splits at 16 KiB too).
//! - journald: `short` `Nov 16 20:09:52 host ident[pid]: msg` (yearless local time; `short-precise`
//!   adds microseconds), `short-iso` `2021-11-16T20:09:52+0000 host ident[pid]: msg`, and `json`
//!   (`__REALTIME_TIMESTAMP` µs, `_HOSTNAME`, `SYSLOG_IDENTIFIER`, `MESSAGE` — a string, or an array
//!   of byte values when it is not UTF-8).
//! - `kubectl logs --timestamps` (and must-gather's `current.log`): `<RFC3339Nano> <msg>`.
//! - plain: the klog line itself, possibly indented (pasted into a ticket).

use super::klog::KlogHeader;
use super::time::{parse_rfc3339, LocalStamp, Micros};
use serde::Serialize;
use std::borrow::Cow;

/// A line's container format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Container {
    Plain,
    Cri,
    Docker,
    JournalShort,
    JournalShortIso,
    JournalJson,
    Kubectl,
    /// `kubectl logs --prefix`: `[pod/NAME/CONTAINER] msg`, the msg possibly `--timestamps`ed.
    KubectlPrefix,
    /// stern's default template: `POD CONTAINER msg`.
    Stern,
    /// logrus text (k3s, rke2, k0s): `time="…" level=… msg="…" [component=…]`, the klog line
    /// quoted inside `msg`.
    Logrus,
}

impl Container {
    pub fn name(self) -> &'static str {
        match self {
            Container::Plain => "plain",
            Container::Cri => "cri",
            Container::Docker => "docker-json",
            Container::JournalShort => "journal-short",
            Container::JournalShortIso => "journal-short-iso",
            Container::JournalJson => "journal-json",
            Container::Kubectl => "kubectl-timestamps",
            Container::KubectlPrefix => "kubectl-prefix",
            Container::Stern => "stern",
            Container::Logrus => "logrus",
        }
    }
}

/// One physical line taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub container: Container,
    /// The envelope's own full timestamp, UTC.
    pub time: Option<Micros>,
    /// journald `short`'s yearless local time.
    pub local: Option<LocalStamp>,
    /// The runtime split this line; the next one continues it without a separator.
    pub partial: bool,
    /// journald's host and identifier.
    pub host: Option<String>,
    pub ident: Option<String>,
    /// The logged text, unescaped, without trailing newline or carriage return.
    pub payload: Cow<'a, [u8]>,
}

impl<'a> Envelope<'a> {
    fn plain(line: &'a [u8]) -> Envelope<'a> {
        let start = line
            .iter()
            .position(|&c| c != b' ' && c != b'\t')
            .unwrap_or(line.len());
        Envelope {
            container: Container::Plain,
            time: None,
            local: None,
            partial: false,
            host: None,
            ident: None,
            payload: Cow::Borrowed(&line[start..]),
        }
    }
}

fn strip_eol(mut line: &[u8]) -> &[u8] {
    while let Some((&last, rest)) = line.split_last() {
        if last == b'\n' || last == b'\r' {
            line = rest;
        } else {
            break;
        }
    }
    line
}

/// Quote and list markers a paste puts before every line: e-mail `> ` (nested too), a shell
/// comment's `# `, Markdown list items `- ` / `* `, and the indentation around them.
pub fn strip_quote(line: &[u8]) -> &[u8] {
    let mut l = line;
    for _ in 0..8 {
        let t = &l[l
            .iter()
            .position(|&c| c != b' ' && c != b'\t')
            .unwrap_or(l.len())..];
        let next = if t.starts_with(b"> ")
            || t.starts_with(b"# ")
            || t.starts_with(b"- ")
            || t.starts_with(b"* ")
        {
            &t[2..]
        } else if t.starts_with(b">") {
            &t[1..]
        } else {
            return t;
        };
        l = next;
    }
    l
}

/// A pod name's node: `kube-apiserver-<node>` → `<node>`.
fn node_of_pod(pod: &[u8]) -> Option<String> {
    let n = pod.strip_prefix(b"kube-apiserver-")?;
    (!n.is_empty()).then(|| String::from_utf8_lossy(n).into_owned())
}

/// Takes a line apart, trying the file's format first, then the others (files may mix them, and
/// pasted text mixes everything). A line no envelope fits is plain. Quote markers are dropped
/// first; a logrus line inside any envelope (k3s under journald) is unwrapped after.
pub fn parse(line: &[u8], hint: Container) -> Envelope<'_> {
    parse_klog(line, hint).0
}

/// `parse`, and the klog header when the line is a bare klog line: its payload is the whole
/// (unquoted) line, and the header is the one `klog::parse_header` finds there, so the caller
/// need not parse it again.
pub fn parse_klog(line: &[u8], hint: Container) -> (Envelope<'_>, Option<KlogHeader<'_>>) {
    let line = strip_quote(strip_eol(line));
    // A bare klog line, the most common of all, is plain: no envelope starts with `E1116 ` (a
    // kubectl prefix starts `[pod/`, CRI, docker, journald and kubectl lines with a digit, `{`
    // or a month name; a stern pod name holds a `-`; logrus starts `time="`), so the other
    // parsers need not try.
    if let Some(h) = super::klog::parse_header(line) {
        return (Envelope::plain(line), Some(h));
    }
    (unwrap_logrus(parse_outer(line, hint)), None)
}

fn parse_outer(line: &[u8], hint: Container) -> Envelope<'_> {
    if let Some(e) = parse_prefix(line) {
        return e;
    }
    if hint != Container::Plain {
        if let Some(e) = parse_as(line, hint) {
            return e;
        }
    }
    for c in [
        Container::Cri,
        Container::Docker,
        Container::JournalJson,
        Container::JournalShortIso,
        Container::Kubectl,
        Container::JournalShort,
    ] {
        if c != hint {
            if let Some(e) = parse_as(line, c) {
                return e;
            }
        }
    }
    if let Some(e) = parse_stern(line) {
        return e;
    }
    // A log line inside Markdown inline code or bold after some prose (`Error seen: \`E0312 …\``):
    // the line starts at the marker.
    if super::klog::parse_header(line).is_none() {
        if let Some(p) = memchr::memchr2(b'`', b'*', line) {
            let rest = &line[p + 1..];
            let rest = rest.strip_prefix(b"*").unwrap_or(rest);
            if super::klog::parse_header(rest).is_some() {
                return Envelope::plain(rest);
            }
        }
    }
    Envelope::plain(line)
}

/// `[pod/NAME/CONTAINER] msg` (kubectl logs --prefix, kubectl cmd/logs/logs.go); the message may
/// start with `--timestamps`' RFC 3339 time.
fn parse_prefix(line: &[u8]) -> Option<Envelope<'_>> {
    let rest = line.strip_prefix(b"[pod/")?;
    let close = memchr::memchr(b']', rest)?;
    let inner = &rest[..close];
    let slash = memchr::memchr(b'/', inner)?;
    let pod = &inner[..slash];
    if pod.is_empty() || pod.contains(&b' ') {
        return None;
    }
    let msg = rest.get(close + 1..)?;
    let msg = msg.strip_prefix(b" ").unwrap_or(msg);
    let (time, msg) = match parse_kubectl(msg) {
        Some(k) if k.time.is_some() => (k.time, k.payload),
        _ => (None, Cow::Borrowed(msg)),
    };
    Some(Envelope {
        container: Container::KubectlPrefix,
        time,
        local: None,
        partial: false,
        host: node_of_pod(pod),
        ident: Some(String::from_utf8_lossy(&inner[slash + 1..]).into_owned()),
        payload: msg,
    })
}

/// stern: `POD CONTAINER msg`, accepted only when the message is itself a klog or JSON log line
/// (two words before a klog header are otherwise ordinary text).
fn parse_stern(line: &[u8]) -> Option<Envelope<'_>> {
    let sp1 = memchr::memchr(b' ', line)?;
    let pod = &line[..sp1];
    let rest = &line[sp1 + 1..];
    let sp2 = memchr::memchr(b' ', rest)?;
    let container = &rest[..sp2];
    let msg = &rest[sp2 + 1..];
    let word = |w: &[u8]| {
        !w.is_empty()
            && w.iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
    };
    if !word(pod) || !word(container) || !pod.contains(&b'-') {
        return None;
    }
    let is_log = super::klog::parse_header(msg).is_some() || super::klog::looks_like_json(msg);
    if !is_log {
        return None;
    }
    Some(Envelope {
        container: Container::Stern,
        time: None,
        local: None,
        partial: false,
        host: node_of_pod(pod),
        ident: Some(String::from_utf8_lossy(container).into_owned()),
        payload: Cow::Borrowed(msg),
    })
}

/// logrus's text formatter (sirupsen/logrus text_formatter.go): `time="RFC3339" level=LEVEL
/// msg="…"` then fields; values are Go-quoted when they need it. k0s and k3s run kube-apiserver
/// in-process and log its klog lines as `msg`, with `component=kube-apiserver`.
fn unwrap_logrus(env: Envelope<'_>) -> Envelope<'_> {
    let p: &[u8] = &env.payload;
    if !p.starts_with(b"time=\"") {
        return env;
    }
    let Some(m) = memchr::memmem::find(p, b" msg=") else {
        return env;
    };
    let value = &p[m + 5..];
    let (msg, used) = if value.starts_with(b"\"") {
        match super::klog::go_unquote(value) {
            Some(x) => x,
            None => return env,
        }
    } else {
        let end = memchr::memchr(b' ', value).unwrap_or(value.len());
        (value[..end].to_vec(), end)
    };
    let time = p
        .get(6..)
        .and_then(parse_rfc3339)
        .map(|(t, _)| t)
        .or(env.time);
    let after = value.get(used..).unwrap_or(b"");
    let component = memchr::memmem::find(after, b"component=").map(|c| {
        let v = &after[c + 10..];
        let v = v.strip_prefix(b"\"").unwrap_or(v);
        let end = v
            .iter()
            .position(|&c| c == b' ' || c == b'"')
            .unwrap_or(v.len());
        String::from_utf8_lossy(&v[..end]).into_owned()
    });
    let container = if env.container == Container::Plain {
        Container::Logrus
    } else {
        env.container
    };
    Envelope {
        container,
        time,
        local: if time.is_some() { None } else { env.local },
        partial: env.partial,
        host: env.host,
        ident: component.or(env.ident),
        payload: Cow::Owned(msg),
    }
}

/// Takes a line apart as one given container format.
pub fn parse_as(line: &[u8], c: Container) -> Option<Envelope<'_>> {
    let line = strip_eol(line);
    match c {
        Container::Plain => Some(Envelope::plain(line)),
        Container::Cri => parse_cri(line),
        Container::Docker => parse_docker(line),
        Container::JournalJson => parse_journal_json(line),
        Container::JournalShortIso => parse_journal_iso(line),
        Container::Kubectl => parse_kubectl(line),
        Container::JournalShort => parse_journal_short(line),
        Container::KubectlPrefix => parse_prefix(line),
        Container::Stern => parse_stern(line),
        Container::Logrus => line
            .starts_with(b"time=\"")
            .then(|| unwrap_logrus(Envelope::plain(line))),
    }
}

fn parse_cri(line: &[u8]) -> Option<Envelope<'_>> {
    let (t, n) = parse_rfc3339(line)?;
    let rest = line.get(n..)?.strip_prefix(b" ")?;
    let rest = rest
        .strip_prefix(b"stderr ")
        .or_else(|| rest.strip_prefix(b"stdout "))?;
    let sp = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let tag = &rest[..sp];
    // Tags are `F`, `P`, possibly more, separated by `:` (cri-api logs spec).
    if tag.is_empty() || !tag.split(|&c| c == b':').all(|t| t == b"F" || t == b"P") {
        return None;
    }
    let partial = tag.split(|&c| c == b':').any(|t| t == b"P");
    let payload = rest.get(sp + 1..).unwrap_or(b"");
    Some(Envelope {
        container: Container::Cri,
        time: Some(t),
        local: None,
        partial,
        host: None,
        ident: None,
        payload: Cow::Borrowed(payload),
    })
}

fn parse_kubectl(line: &[u8]) -> Option<Envelope<'_>> {
    let (t, n) = parse_rfc3339(line)?;
    let rest = match line.get(n..)? {
        [] => &[][..],
        [b' ', rest @ ..] => rest,
        _ => return None,
    };
    Some(Envelope {
        container: Container::Kubectl,
        time: Some(t),
        local: None,
        partial: false,
        host: None,
        ident: None,
        payload: Cow::Borrowed(rest),
    })
}

/// `host ident[pid]: msg` or `host ident: msg` after a journald timestamp.
fn host_ident(rest: &[u8]) -> Option<(String, String, &[u8])> {
    let sp = memchr::memchr(b' ', rest)?;
    let host = &rest[..sp];
    let after = &rest[sp + 1..];
    let colon = memchr::memmem::find(after, b": ").or_else(|| {
        // A message may be empty: `ident[pid]:` at the end of the line.
        after.ends_with(b":").then(|| after.len() - 1)
    })?;
    let ident = &after[..colon];
    if host.is_empty() || ident.is_empty() || ident.contains(&b' ') || ident.len() > 128 {
        return None;
    }
    // The identifier is a name optionally followed by `[pid]`; a klog header (`E1116 20:…`)
    // would fail the no-space test above.
    let name = match memchr::memchr(b'[', ident) {
        Some(b) => {
            let pid = ident.get(b + 1..ident.len() - 1)?;
            if !ident.ends_with(b"]") || pid.is_empty() || !pid.iter().all(u8::is_ascii_digit) {
                return None;
            }
            &ident[..b]
        }
        None => ident,
    };
    let msg = after.get(colon + 2..).unwrap_or(b"");
    Some((
        String::from_utf8_lossy(host).into_owned(),
        String::from_utf8_lossy(name).into_owned(),
        msg,
    ))
}

fn parse_journal_iso(line: &[u8]) -> Option<Envelope<'_>> {
    let (t, n) = parse_rfc3339(line)?;
    // journalctl writes a numeric offset (`+0000`, newer `+00:00`), never `Z`; kubectl and the
    // runtimes write `Z` in UTC. This keeps `<ts>Z foo bar: baz` a kubectl line.
    if matches!(line.get(n - 1), Some(b'Z' | b'z')) {
        return None;
    }
    let rest = line.get(n..)?.strip_prefix(b" ")?;
    let (host, ident, msg) = host_ident(rest)?;
    Some(Envelope {
        container: Container::JournalShortIso,
        time: Some(t),
        local: None,
        partial: false,
        host: Some(host),
        ident: Some(ident),
        payload: Cow::Borrowed(msg),
    })
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn parse_journal_short(line: &[u8]) -> Option<Envelope<'_>> {
    use super::time::digits;
    let mon = line.get(..3)?;
    let month = MONTHS.iter().position(|m| &m[..] == mon)? as u32 + 1;
    if line.get(3) != Some(&b' ') {
        return None;
    }
    // `Nov 16` or syslog's space-padded `Nov  6`.
    let mut i = 4;
    if line.get(i) == Some(&b' ') {
        i += 1;
    }
    let d0 = i;
    while i < line.len() && line[i].is_ascii_digit() && i - d0 < 2 {
        i += 1;
    }
    let day = std::str::from_utf8(&line[d0..i])
        .ok()?
        .parse::<u32>()
        .ok()?;
    if line.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let hour = digits(line, i, 2)?;
    let minute = digits(line, i + 3, 2)?;
    let second = digits(line, i + 6, 2)?;
    if line.get(i + 2) != Some(&b':') || line.get(i + 5) != Some(&b':') {
        return None;
    }
    i += 8;
    let mut micros = 0;
    if line.get(i) == Some(&b'.') {
        (micros, i) = super::time::fraction_micros(line, i + 1)?;
    }
    let stamp = LocalStamp {
        month,
        day,
        hour,
        minute,
        second,
        micros,
    };
    if !stamp.is_valid() {
        return None;
    }
    let rest = line.get(i..)?.strip_prefix(b" ")?;
    let (host, ident, msg) = host_ident(rest)?;
    Some(Envelope {
        container: Container::JournalShort,
        time: None,
        local: Some(stamp),
        partial: false,
        host: Some(host),
        ident: Some(ident),
        payload: Cow::Borrowed(msg),
    })
}

fn parse_docker(line: &[u8]) -> Option<Envelope<'static>> {
    if !line.starts_with(b"{") || memchr::memmem::find(line, b"\"log\":").is_none() {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Docker {
        log: String,
        #[serde(default)]
        time: Option<String>,
    }
    let d: Docker = serde_json::from_slice(line).ok()?;
    let time = d
        .time
        .as_deref()
        .and_then(|t| parse_rfc3339(t.as_bytes()))
        .map(|(t, _)| t);
    let mut log = d.log.into_bytes();
    let partial = !log.ends_with(b"\n");
    let keep = strip_eol(&log).len();
    log.truncate(keep);
    Some(Envelope {
        container: Container::Docker,
        time,
        local: None,
        partial,
        host: None,
        ident: None,
        payload: Cow::Owned(log),
    })
}

fn parse_journal_json(line: &[u8]) -> Option<Envelope<'static>> {
    if !line.starts_with(b"{") || memchr::memmem::find(line, b"\"__REALTIME_TIMESTAMP\"").is_none()
    {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line).ok()?;
    let time = map
        .get("__REALTIME_TIMESTAMP")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<i64>().ok());
    let text = |k: &str| map.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let payload: Vec<u8> = match map.get("MESSAGE") {
        Some(serde_json::Value::String(s)) => s.as_bytes().to_vec(),
        // Non-UTF-8 messages are exported as arrays of byte values.
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()))
            .collect(),
        _ => Vec::new(),
    };
    let keep = strip_eol(&payload).len();
    let mut payload = payload;
    payload.truncate(keep);
    Some(Envelope {
        container: Container::JournalJson,
        time,
        local: None,
        partial: false,
        host: text("_HOSTNAME"),
        ident: text("SYSLOG_IDENTIFIER").or_else(|| text("_COMM")),
        payload: Cow::Owned(payload),
    })
}

/// Guesses a file's container format from its first lines: the format most of them parse as.
/// Ties go to the more specific format. Returns Plain for an empty sample.
pub fn detect<'a>(lines: impl Iterator<Item = &'a [u8]>) -> Container {
    let mut counts: Vec<(Container, usize)> = Vec::new();
    for line in lines {
        let line = strip_eol(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let c = parse(line, Container::Plain).container;
        match counts.iter_mut().find(|(k, _)| *k == c) {
            Some((_, n)) => *n += 1,
            None => counts.push((c, 1)),
        }
    }
    // Plain lines in a container file are continuations or junk; they only win when alone.
    counts
        .iter()
        .filter(|(c, _)| *c != Container::Plain)
        .max_by_key(|(c, n)| (*n, std::cmp::Reverse(*c)))
        .map(|(c, _)| *c)
        .unwrap_or(Container::Plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::klog;
    use crate::logs::time::format_utc;

    fn ts(e: &Envelope) -> String {
        format_utc(e.time.unwrap())
    }

    #[test]
    fn cri_full_and_partial() {
        let e = parse(
            b"2021-11-16T20:09:52.635684123Z stderr F E1116 20:09:52.635602       1 x.go:1] m\n",
            Container::Cri,
        );
        assert_eq!((e.container, e.partial), (Container::Cri, false));
        assert_eq!(ts(&e), "2021-11-16T20:09:52.635684Z");
        assert_eq!(&*e.payload, b"E1116 20:09:52.635602       1 x.go:1] m");
        let e = parse(
            b"2021-11-16T20:09:52.635684123+01:00 stdout P abc",
            Container::Cri,
        );
        assert_eq!((e.partial, &*e.payload), (true, &b"abc"[..]));
        assert_eq!(ts(&e), "2021-11-16T19:09:52.635684Z");
        let e = parse(b"2021-11-16T20:09:52.1Z stderr F ", Container::Cri);
        assert_eq!(&*e.payload, b"");
    }

    #[test]
    fn kubectl_and_journal_iso_told_apart() {
        let e = parse(
            b"2021-11-16T20:09:52.635684123Z E1116 20:09:52.635602       1 x.go:1] m",
            Container::Plain,
        );
        assert_eq!(e.container, Container::Kubectl);
        assert_eq!(&*e.payload, b"E1116 20:09:52.635602       1 x.go:1] m");
        let e = parse(b"2021-11-16T20:09:52+0000 master-3 kube-apiserver[1234]: E1116 20:09:52.635602 1 x.go:1] m", Container::Plain);
        assert_eq!(e.container, Container::JournalShortIso);
        assert_eq!(
            (e.host.as_deref(), e.ident.as_deref()),
            (Some("master-3"), Some("kube-apiserver"))
        );
        assert_eq!(&*e.payload, b"E1116 20:09:52.635602 1 x.go:1] m");
    }

    #[test]
    fn journal_short() {
        let e = parse(
            b"Nov 16 20:09:52 master-3 kube-apiserver[1234]: E1116 20:09:52.635602 1 x.go:1] m",
            Container::JournalShort,
        );
        assert_eq!(e.container, Container::JournalShort);
        let s = e.local.unwrap();
        assert_eq!(
            (s.month, s.day, s.hour, s.second, s.micros),
            (11, 16, 20, 52, 0)
        );
        assert_eq!(e.host.as_deref(), Some("master-3"));
        let e = parse(
            b"Nov  6 20:09:52.123456 m3 hyperkube: text",
            Container::Plain,
        );
        assert_eq!(e.container, Container::JournalShort);
        assert_eq!(e.local.unwrap().micros, 123_456);
        assert_eq!(e.ident.as_deref(), Some("hyperkube"));
        // A klog line is not a journald line.
        let e = parse(
            b"E1116 20:09:52.635602 1 x.go:1] m",
            Container::JournalShort,
        );
        assert_eq!(e.container, Container::Plain);
    }

    #[test]
    fn docker_and_journal_json() {
        let e = parse(br#"{"log":"E1116 x \"/registry/a\"\n","stream":"stderr","time":"2021-11-16T20:09:52.635684Z"}"#, Container::Docker);
        assert_eq!((e.container, e.partial), (Container::Docker, false));
        assert_eq!(&*e.payload, br#"E1116 x "/registry/a""#);
        let e = parse(
            br#"{"log":"part","stream":"stderr","time":"2021-11-16T20:09:52.635684Z"}"#,
            Container::Docker,
        );
        assert!(e.partial);
        let e = parse(br#"{"__REALTIME_TIMESTAMP":"1637093392635684","_HOSTNAME":"m3","SYSLOG_IDENTIFIER":"kube-apiserver","MESSAGE":[69,255,10]}"#, Container::JournalJson);
        assert_eq!(e.container, Container::JournalJson);
        assert_eq!(ts(&e), "2021-11-16T20:09:52.635684Z");
        assert_eq!(&*e.payload, b"E\xff");
    }

    #[test]
    fn bare_klog_lines_give_the_header_found_in_their_payload() {
        for line in [
            &b"E1116 20:09:52.635602 1 cacher.go:419] m\r\n"[..],
            b"    I1116 20:09:52.635602       1 x.go:1]  m",
            b"> - E1116 20:09:52.6 a:1] ",
            b"E1116 20:09:52.6 a:1]",
            b"E1316 20:09:52.635602 1 x.go:1] bad month",
            b"2021-11-16T20:09:52.1Z stderr F E1116 20:09:52.635602 1 x.go:1] cri",
            b"E1116 20:09:52.635602 1 x.go] no line number",
        ] {
            for hint in [Container::Plain, Container::Cri, Container::JournalShort] {
                let (env, h) = parse_klog(line, hint);
                let p = klog::trim(&env.payload);
                let again = klog::parse_header(&env.payload);
                match h {
                    Some(h) => {
                        assert_eq!(env.container, Container::Plain);
                        assert!(env.payload.starts_with(p), "{line:?}");
                        let again = again.expect("the payload's header");
                        assert_eq!(
                            (h.msg_start, h.source, h.stamp),
                            (again.msg_start, again.source, again.stamp)
                        );
                    }
                    None => assert!(
                        env.container != Container::Plain || again.is_none(),
                        "{line:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn plain_strips_indentation_and_junk_is_plain() {
        let e = parse(b"    E1116 20:09:52.635602 1 x.go:1] m\r\n", Container::Cri);
        assert_eq!(
            (e.container, &*e.payload),
            (Container::Plain, &b"E1116 20:09:52.635602 1 x.go:1] m"[..])
        );
        let e = parse(b"\x00\xff\xfe{\"log\":", Container::Docker);
        assert_eq!(e.container, Container::Plain);
    }

    #[test]
    fn detection() {
        let lines: Vec<&[u8]> = vec![
            b"2021-11-16T20:09:52.1Z stderr F a",
            b"2021-11-16T20:09:52.2Z stderr P b",
            b"garbage",
        ];
        assert_eq!(detect(lines.into_iter()), Container::Cri);
        let lines: Vec<&[u8]> = vec![b"E1116 20:09:52.635602 1 x.go:1] m", b""];
        assert_eq!(detect(lines.into_iter()), Container::Plain);
    }

    #[test]
    fn pasted_envelopes() {
        let k = "E0312 12:00:00.000001       1 reflector.go:147] m";
        let e = parse(
            format!("[pod/kube-apiserver-cp-2/kube-apiserver] 2024-03-12T12:00:01.25Z {k}")
                .as_bytes(),
            Container::Plain,
        )
        .into_owned_for_test();
        assert_eq!(
            (e.0, e.1.as_deref(), e.2),
            (Container::KubectlPrefix, Some("cp-2"), k.to_string())
        );
        assert!(e.3.is_some());
        let e = parse(
            format!("kube-apiserver-cp-3 kube-apiserver {k}").as_bytes(),
            Container::Plain,
        )
        .into_owned_for_test();
        assert_eq!(
            (e.0, e.1.as_deref(), e.2),
            (Container::Stern, Some("cp-3"), k.to_string())
        );
        // Two words before ordinary text are not stern.
        assert_eq!(
            parse(b"we saw this error: boom", Container::Plain).container,
            Container::Plain
        );
        let e = parse(br#"time="2024-03-12T12:20:00Z" level=info msg="E0312 12:20:00.000001 1 x.go:1] key \"/registry/a\"" component=kube-apiserver"#, Container::Plain).into_owned_for_test();
        assert_eq!(
            (e.0, e.2.as_str()),
            (
                Container::Logrus,
                r#"E0312 12:20:00.000001 1 x.go:1] key "/registry/a""#
            )
        );
        let e = parse(
            format!("  - Mar 12 12:30:00 cp-1 kube-apiserver[2211]: {k}").as_bytes(),
            Container::Plain,
        )
        .into_owned_for_test();
        assert_eq!(
            (e.0, e.1.as_deref()),
            (Container::JournalShort, Some("cp-1"))
        );
        for q in ["> ", "> > ", "# ", ">", "* "] {
            let line = format!("{q}{k}");
            let e = parse(line.as_bytes(), Container::Plain);
            assert_eq!(&*e.payload, k.as_bytes(), "{q:?}");
        }
        let line = format!("Error seen: `{k}`");
        let e = parse(line.as_bytes(), Container::Plain);
        assert!(e.payload.starts_with(b"E0312"));
    }

    impl Envelope<'_> {
        fn into_owned_for_test(self) -> (Container, Option<String>, String, Option<Micros>) {
            (
                self.container,
                self.host,
                String::from_utf8_lossy(&self.payload).into_owned(),
                self.time,
            )
        }
    }
}
