//! klog's line shapes: the text header, structured `"msg" key="value"` messages, and JSON logging.
//!
//! - Text header (k8s.io/klog/v2 `formatHeader`): `Lmmdd hh:mm:ss.uuuuuu PPPPPPP file:line] msg` —
//!   L is one of IWEF, the PID is right-aligned in 7 columns. Pasted logs often collapse the
//!   padding, so any run of spaces is accepted, and a missing PID too.
//! - Structured text (klog `InfoS`/`ErrorS`, 1.19+): the message is a Go-quoted string followed by
//!   `key=value` pairs; values are Go-quoted strings, bare tokens, or multi-line `key=<` blocks.
//! - JSON logging (`--logging-format=json`, component-base/logs/json): one object per line with `ts`
//!   (epoch milliseconds as a float), `caller` (`cacher/cacher.go:419`), `msg`, `err` when an error
//!   is attached and `v` on info lines; there is no level field.

use super::time::{digits, fraction_micros, LocalStamp, Micros};
use serde::Serialize;

/// klog severity. JSON logging has no level: lines with `v` are info, the others errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    I,
    W,
    E,
    F,
}

impl Level {
    fn from_byte(b: u8) -> Option<Level> {
        match b {
            b'I' => Some(Level::I),
            b'W' => Some(Level::W),
            b'E' => Some(Level::E),
            b'F' => Some(Level::F),
            _ => None,
        }
    }

    pub fn letter(self) -> char {
        match self {
            Level::I => 'I',
            Level::W => 'W',
            Level::E => 'E',
            Level::F => 'F',
        }
    }
}

/// A parsed klog text header. Borrows the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KlogHeader<'a> {
    pub level: Level,
    pub stamp: LocalStamp,
    pub pid: Option<u32>,
    /// `cacher.go:419`.
    pub source: &'a [u8],
    /// Offset of the message in the line.
    pub msg_start: usize,
}

/// Quick test used on every line boundary the scanner looks at: level letter, 4 digits, space.
#[inline]
pub fn looks_like_header(line: &[u8]) -> bool {
    line.len() >= 21
        && matches!(line[0], b'I' | b'W' | b'E' | b'F')
        && line[1..5].iter().all(u8::is_ascii_digit)
        && line[5] == b' '
        && line[8] == b':'
}

/// Parses a klog text header at the start of `line`.
pub fn parse_header(line: &[u8]) -> Option<KlogHeader<'_>> {
    if !looks_like_header(line) {
        return None;
    }
    let level = Level::from_byte(line[0])?;
    let month = digits(line, 1, 2)?;
    let day = digits(line, 3, 2)?;
    let hour = digits(line, 6, 2)?;
    let minute = digits(line, 9, 2)?;
    if line[11] != b':' || line[14] != b'.' {
        return None;
    }
    let second = digits(line, 12, 2)?;
    let (micros, mut i) = fraction_micros(line, 15)?;
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
    i = skip_spaces(line, i);
    // PID (optional in pastes).
    let mut pid = None;
    let d0 = i;
    while i < line.len() && line[i].is_ascii_digit() && i - d0 < 10 {
        i += 1;
    }
    if i > d0 && line.get(i) == Some(&b' ') {
        pid = std::str::from_utf8(&line[d0..i]).ok()?.parse().ok();
        i = skip_spaces(line, i);
    } else {
        i = d0;
    }
    // file:line]
    let s0 = i;
    let limit = line.len().min(s0 + 256);
    let close = memchr::memchr(b']', &line[s0..limit])? + s0;
    let source = &line[s0..close];
    let colon = memchr::memrchr(b':', source)?;
    if colon == 0
        || colon + 1 == source.len()
        || !source[colon + 1..].iter().all(u8::is_ascii_digit)
        || source.contains(&b' ')
    {
        return None;
    }
    let mut msg_start = close + 1;
    if line.get(msg_start) == Some(&b' ') {
        msg_start += 1;
    }
    Some(KlogHeader {
        level,
        stamp,
        pid,
        source,
        msg_start,
    })
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

/// Does this payload look like a JSON logging line? Cheap: used at record boundaries.
#[inline]
pub fn looks_like_json(line: &[u8]) -> bool {
    line.first() == Some(&b'{') && line.get(1) == Some(&b'"')
}

/// The fields of a JSON logging line that matter here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonLine {
    pub ts: Option<Micros>,
    pub caller: Option<String>,
    pub msg: Option<String>,
    pub err: Option<String>,
    /// Info lines carry a verbosity; error lines do not.
    pub v: Option<i64>,
    /// The remaining string-valued fields (`key`, `resource`, `name`, …), in line order.
    pub fields: Vec<(String, String)>,
}

impl JsonLine {
    pub fn level(&self) -> Level {
        if self.v.is_some() {
            Level::I
        } else {
            Level::E
        }
    }
}

/// Parses a JSON logging line. Returns None when it is not a JSON object with `ts` or `msg`.
pub fn parse_json(line: &[u8]) -> Option<JsonLine> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line).ok()?;
    let mut out = JsonLine::default();
    for (k, v) in map {
        match (k.as_str(), v) {
            ("ts", serde_json::Value::Number(n)) => {
                out.ts = n
                    .as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e15)
                    .map(|ms| (ms * 1000.0).round() as Micros);
            }
            ("caller", serde_json::Value::String(s)) => out.caller = Some(s),
            ("msg", serde_json::Value::String(s)) => out.msg = Some(s),
            ("err", serde_json::Value::String(s)) => out.err = Some(s),
            ("v", serde_json::Value::Number(n)) => out.v = n.as_i64(),
            (_, serde_json::Value::String(s)) => out.fields.push((k, s)),
            _ => {}
        }
    }
    if out.ts.is_none() && out.msg.is_none() {
        return None;
    }
    Some(out)
}

/// A structured klog text message: `"msg" key="value" key2=value2`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Structured {
    pub msg: Vec<u8>,
    pub fields: Vec<(String, Vec<u8>)>,
}

impl Structured {
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

/// Parses a structured message (the text after the header). None when it does not start with a
/// Go-quoted string.
pub fn parse_structured(msg: &[u8]) -> Option<Structured> {
    let (text, mut i) = go_unquote(msg)?;
    let mut out = Structured {
        msg: text,
        fields: Vec::new(),
    };
    loop {
        i = skip_spaces(msg, i);
        if i >= msg.len() {
            break;
        }
        let k0 = i;
        while i < msg.len()
            && (msg[i].is_ascii_alphanumeric() || matches!(msg[i], b'_' | b'-' | b'.' | b'/'))
        {
            i += 1;
        }
        if i == k0 || msg.get(i) != Some(&b'=') {
            break;
        }
        let key = String::from_utf8_lossy(&msg[k0..i]).into_owned();
        i += 1;
        let value = match msg.get(i) {
            Some(b'"') => {
                let (v, used) = go_unquote(&msg[i..])?;
                i += used;
                v
            }
            // Multi-line value: `key=<` newline, tab-indented lines, newline, ` >`. Joined records
            // have the newlines turned into spaces; take everything up to the last ` >`.
            Some(b'<') => {
                let rest = &msg[i + 1..];
                let end = memchr::memmem::rfind(rest, b" >").unwrap_or(rest.len());
                i = i + 1 + (end + 2).min(rest.len());
                let v: Vec<u8> = rest[..end].to_vec();
                trim(&v).to_vec()
            }
            _ => {
                let v0 = i;
                while i < msg.len() && msg[i] != b' ' {
                    i += 1;
                }
                msg[v0..i].to_vec()
            }
        };
        out.fields.push((key, value));
    }
    Some(out)
}

/// Trims ASCII whitespace at both ends.
pub fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &b[start..end]
}

/// Unquotes a Go double-quoted string literal (strconv.Quote, which klog uses for structured
/// values) at the start of `b`. Returns the bytes and the length consumed, quotes included.
/// Invalid escapes are kept literally; an unterminated string runs to the end.
pub fn go_unquote(b: &[u8]) -> Option<(Vec<u8>, usize)> {
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut out = Vec::with_capacity(b.len().min(256));
    let mut i = 1;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' => return Some((out, i + 1)),
            b'\\' if i + 1 < b.len() => {
                let e = b[i + 1];
                let simple = match e {
                    b'a' => Some(7),
                    b'b' => Some(8),
                    b'f' => Some(12),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'v' => Some(11),
                    b'\\' => Some(b'\\'),
                    b'"' => Some(b'"'),
                    b'\'' => Some(b'\''),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    i += 2;
                    continue;
                }
                let hex = |at: usize, n: usize| -> Option<u32> {
                    let s = b.get(at..at + n)?;
                    u32::from_str_radix(std::str::from_utf8(s).ok()?, 16).ok()
                };
                match e {
                    b'x' => {
                        if let Some(v) = hex(i + 2, 2) {
                            out.push(v as u8);
                            i += 4;
                            continue;
                        }
                    }
                    b'u' | b'U' => {
                        let n = if e == b'u' { 4 } else { 8 };
                        if let Some(ch) = hex(i + 2, n).and_then(char::from_u32) {
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            i += 2 + n;
                            continue;
                        }
                    }
                    b'0'..=b'7' => {
                        let oct = b
                            .get(i + 1..i + 4)
                            .and_then(|s| std::str::from_utf8(s).ok())
                            .and_then(|s| u8::from_str_radix(s, 8).ok());
                        if let Some(v) = oct {
                            out.push(v);
                            i += 4;
                            continue;
                        }
                    }
                    _ => {}
                }
                out.push(c);
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some((out, b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_padded_and_collapsed() {
        let l = b"E1116 20:09:52.635602       1 cacher.go:419] cacher (*core.Secret): x";
        let h = parse_header(l).unwrap();
        assert_eq!(h.level, Level::E);
        assert_eq!(
            (h.stamp.month, h.stamp.day, h.stamp.micros),
            (11, 16, 635_602)
        );
        assert_eq!((h.pid, h.source), (Some(1), &b"cacher.go:419"[..]));
        assert_eq!(&l[h.msg_start..], b"cacher (*core.Secret): x");
        let l = b"W0515 17:48:36.025110 1 reflector.go:424] storage/cacher.go:/secrets: x";
        let h = parse_header(l).unwrap();
        assert_eq!((h.pid, h.source), (Some(1), &b"reflector.go:424"[..]));
        let l = b"I0515 17:48:36.025110 reflector.go:424] no pid";
        let h = parse_header(l).unwrap();
        assert_eq!((h.pid, &l[h.msg_start..]), (None, &b"no pid"[..]));
    }

    #[test]
    fn header_rejects_lookalikes() {
        for l in [
            &b"E1116 20:09:52.635602       1 cacher.go] no line"[..],
            b"E1316 20:09:52.635602       1 cacher.go:419] month 13",
            b"Trace[1234]: ---\"x\" 600ms",
            b"I1116 20:09:52.       1 a.go:1] no fraction",
            b"E1116 20:09:52.635602       1 no bracket at all",
            b"E1116",
        ] {
            assert!(parse_header(l).is_none(), "{}", String::from_utf8_lossy(l));
        }
    }

    #[test]
    fn json_logging_line() {
        let l = br#"{"ts":1690474935775.506,"caller":"value/transformer.go:164","msg":"failed to decrypt data","err":"invalid padding on input","resource":"secrets"}"#;
        let j = parse_json(l).unwrap();
        assert_eq!(j.ts, Some(1_690_474_935_775_506));
        assert_eq!(j.caller.as_deref(), Some("value/transformer.go:164"));
        assert_eq!(j.err.as_deref(), Some("invalid padding on input"));
        assert_eq!(j.level(), Level::E);
        assert_eq!(j.fields, vec![("resource".into(), "secrets".into())]);
        assert!(parse_json(b"{not json").is_none());
        assert!(parse_json(br#"{"a":1}"#).is_none());
    }

    #[test]
    fn structured_message() {
        let m = br#""failed to decrypt data" err="unable to transform key \"/registry/secrets/a/b\": invalid padding on input" verb="LIST" n=3"#;
        let s = parse_structured(m).unwrap();
        assert_eq!(s.msg, b"failed to decrypt data");
        assert_eq!(
            s.get("err").unwrap(),
            br#"unable to transform key "/registry/secrets/a/b": invalid padding on input"#
        );
        assert_eq!(s.get("verb").unwrap(), b"LIST");
        assert_eq!(s.get("n").unwrap(), b"3");
        let s = parse_structured(br#""corrupt objects" err=< line one	line two >"#).unwrap();
        assert_eq!(s.get("err").unwrap(), b"line one\tline two");
        assert!(parse_structured(b"cacher (*core.Secret): x").is_none());
    }

    #[test]
    fn unquote_escapes() {
        let (v, n) = go_unquote(br#""a\"b\\c\x41\u00e9\101\q" tail"#).unwrap();
        assert_eq!(v, "a\"b\\cAé\x41\\q".as_bytes());
        assert_eq!(n, 25);
        let (v, n) = go_unquote(b"\"unterminated").unwrap();
        assert_eq!((v.as_slice(), n), (&b"unterminated"[..], 13));
    }
}
