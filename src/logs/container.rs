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

/// Takes a line apart, trying the file's format first, then the others (files may mix them, and
/// pasted text mixes everything). A line no envelope fits is plain.
pub fn parse(line: &[u8], hint: Container) -> Envelope<'_> {
    let line = strip_eol(line);
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
    Envelope::plain(line)
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
}
