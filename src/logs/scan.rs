//! One file, start to end: windows of whole records → prefilter hits → records → events.
//!
//! A mapped file is one window. A stream (gzip, stdin) is cut into windows of about `WINDOW`
//! bytes, each ending before the last record head so that no record is split; the rest is carried
//! into the next window. Within a window, `BLOCK`-sized runs of whole lines are searched in
//! parallel; the hits, and one line per block to follow the date, are then handled in order.

use super::container::{self, Container, Envelope};
use super::event::{self, Context, Event, Restart};
use super::klog::{self, Level};
use super::prefilter::{count_newlines, Prefilter};
use super::source::{self, LogFile, NodeFrom, Opened};
use super::time::{resolve_local, EventTime, TimeBasis, YearTracker};
use super::wrap;
use super::{Error, FileStats, ScanOptions, Warning};
use rayon::prelude::*;
use std::io::Read;

/// Parallel search unit.
const BLOCK: usize = 256 << 10;
/// Stream window.
const WINDOW: usize = 8 << 20;
/// Stream read size.
const CHUNK: usize = 1 << 20;
/// A record is rebuilt from at most this many physical lines…
const MAX_RECORD_LINES: usize = 512;
/// …and this many bytes.
const MAX_RECORD_BYTES: usize = 1 << 20;
/// Warnings kept per file; the rest are counted.
const MAX_WARNINGS: usize = 50;
/// Headerless lines that still start a record: kubectl's error and the shell prompts pasted with
/// it. (Not `error: `: a wrapped cacher line continues with `error: failed to list …`.)
const CLIENT_HEADS: &[&str] = &["Error from server", "$ "];
/// A line's identity in the current window and its kind.
type KindEntry = ((usize, usize), LineKind, bool);
const NO_KINDS: [KindEntry; 4] = [((usize::MAX, 0), LineKind::Blank, false); 4];

/// Messages whose classification is remembered (per file, replaced round-robin): a loop's few
/// distinct messages (reflector and cacher lines of one failing LIST) stay in it.
const CLASSIFY_CACHE: usize = 8;

/// What `classify` depends on: message, source, journald identifier, structured fields, and
/// whether the record had no header at all.
type ClassifyKey = (
    Vec<u8>,
    Option<String>,
    Option<String>,
    Vec<(String, Vec<u8>)>,
    bool,
);

/// Lines looked at to detect a file's format.
const SAMPLE_LINES: usize = 64;

/// Events listed in a scan; the rest are only counted and aggregated, so memory stays bounded
/// however many times a cacher loop logged (a week of a 1 s loop is over a million lines).
pub(crate) const MAX_EVENTS: usize = 100_000;

/// What all files contribute, in file order.
pub(crate) struct Sink {
    /// `MAX_EVENTS` (smaller in tests).
    pub max_events: usize,
    pub events: Vec<Event>,
    /// Events found beyond `MAX_EVENTS`: aggregated, not listed.
    pub unlisted: u64,
    pub aggregator: super::aggregate::Aggregator,
    pub restarts: Vec<Restart>,
    pub warnings: Vec<Warning>,
}

impl Default for Sink {
    fn default() -> Sink {
        Sink {
            max_events: MAX_EVENTS,
            events: Vec::new(),
            unlisted: 0,
            aggregator: Default::default(),
            restarts: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// Overwrites `dst` with `src`, keeping its allocation.
fn set(dst: &mut String, src: &str) {
    dst.clear();
    dst.push_str(src);
}

fn set_opt(dst: &mut Option<String>, src: Option<&str>) {
    match (dst.as_mut(), src) {
        (Some(d), Some(s)) => set(d, s),
        (_, s) => *dst = s.map(str::to_string),
    }
}

impl Sink {
    /// Will the next event be listed (not only aggregated)?
    fn listing(&self) -> bool {
        self.events.len() < self.max_events
    }

    /// Counts an event past the listing cap.
    fn aggregate_only(&mut self, e: &Event) {
        self.aggregator.add(e);
        self.unlisted += 1;
    }

    fn event(&mut self, e: Event) {
        self.aggregator.add(&e);
        if self.events.len() < self.max_events {
            self.events.push(e);
        } else {
            self.unlisted += 1;
        }
    }
}

/// How a physical line relates to the record above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineKind {
    /// Starts a record: a klog header or a JSON log object (possibly in an envelope).
    Head,
    /// No header: continues the record above.
    Continuation,
    /// Empty: ends the record above and starts nothing.
    Blank,
}

struct FileScanner<'a> {
    file: &'a LogFile,
    index: usize,
    opts: &'a ScanOptions,
    pf: &'a Prefilter,
    container: Option<Container>,
    detected: bool,
    payload: &'static str,
    years: YearTracker,
    first_time: Option<EventTime>,
    lines: u64,
    bytes: u64,
    events: u64,
    rejoined: u64,
    warnings: Vec<Warning>,
    suppressed: usize,
    /// Classifications of recent messages: a cacher loop logs the same message thousands of
    /// times, and `classify` is a pure function of the message and its context.
    cache: Vec<(ClassifyKey, Option<std::rc::Rc<event::Classified>>)>,
    /// Next cache slot to replace once it is full.
    cache_next: usize,
    /// Kinds of the last lines looked at, by (address, length) within the current window.
    kinds: std::cell::Cell<[KindEntry; 4]>,
    /// The event refilled for records past the listing cap.
    scratch: Option<Event>,
    /// `WINDOW` and `CHUNK`; smaller in tests, to cross many window boundaries.
    window_size: usize,
    chunk_size: usize,
}

pub(crate) fn scan_file(
    file: &LogFile,
    index: usize,
    opts: &ScanOptions,
    pf: &Prefilter,
    sink: &mut Sink,
) -> Result<FileStats, Error> {
    let mut s = FileScanner::new(file, index, opts, pf);
    let mut gzip = false;
    match source::open(file)? {
        Opened::Empty => {}
        Opened::Mapped(map) => s.whole(&map, sink),
        Opened::Stream { reader, gzip: gz } => {
            gzip = gz;
            s.stream(reader, sink);
        }
    }
    Ok(s.finish(gzip, sink))
}

/// Scans bytes already in memory as one mapped window.
pub(crate) fn scan_slice(
    file: &LogFile,
    index: usize,
    opts: &ScanOptions,
    pf: &Prefilter,
    data: &[u8],
    sink: &mut Sink,
) -> FileStats {
    let mut s = FileScanner::new(file, index, opts, pf);
    s.whole(data, sink);
    s.finish(false, sink)
}

impl<'a> FileScanner<'a> {
    fn new(
        file: &'a LogFile,
        index: usize,
        opts: &'a ScanOptions,
        pf: &'a Prefilter,
    ) -> FileScanner<'a> {
        FileScanner {
            file,
            index,
            opts,
            pf,
            container: None,
            detected: false,
            payload: "text",
            years: YearTracker::new(opts.year),
            first_time: None,
            lines: 0,
            bytes: 0,
            events: 0,
            rejoined: 0,
            warnings: Vec::new(),
            suppressed: 0,
            cache: Vec::new(),
            cache_next: 0,
            kinds: std::cell::Cell::new(NO_KINDS),
            scratch: None,
            window_size: WINDOW,
            chunk_size: CHUNK,
        }
    }

    /// Adds the pod-log restart, the closing warnings, and the statistics.
    fn finish(mut self, gzip: bool, sink: &mut Sink) -> FileStats {
        let (file, index) = (self.file, self.index);
        let s = &mut self;
        if let (Some(n), Some(t)) = (file.restart, s.first_time.clone()) {
            sink.restarts.push(Restart {
                node: file.node.clone(),
                time: t.text,
                time_basis: t.basis,
                evidence: format!("container log {n}.log"),
                version: None,
                file: file.display.clone(),
                line: 1,
                micros: t.micros,
                file_index: index,
            });
        }
        if s.suppressed > 0 {
            let n = s.suppressed;
            s.warnings.push(Warning {
                file: file.display.clone(),
                line: None,
                message: format!("{n} more warnings not shown"),
            });
        }
        let format = format!(
            "{}/{}",
            s.container.unwrap_or(Container::Plain).name(),
            s.payload
        );
        sink.warnings.append(&mut s.warnings);
        FileStats {
            file: file.display.clone(),
            node: file.node.clone(),
            node_from: file.node_from,
            format,
            gzip,
            bytes: s.bytes,
            lines: s.lines,
            events: s.events,
            restarts: 0,
            rejoined: s.rejoined,
            recognised: s.events > 0
                || s.payload != "text"
                || s.container.is_some_and(|c| c != Container::Plain),
        }
    }
}

/// Line `[start, end)` (end excludes the newline) containing offset `at`.
fn line_around(buf: &[u8], at: usize) -> (usize, usize) {
    let s = memchr::memrchr(b'\n', &buf[..at]).map_or(0, |p| p + 1);
    let e = memchr::memchr(b'\n', &buf[at..]).map_or(buf.len(), |p| at + p);
    (s, e)
}

fn prev_line(buf: &[u8], start: usize) -> Option<(usize, usize)> {
    if start == 0 {
        return None;
    }
    let e = start - 1;
    let s = memchr::memrchr(b'\n', &buf[..e]).map_or(0, |p| p + 1);
    Some((s, e))
}

fn next_line(buf: &[u8], end: usize) -> Option<(usize, usize)> {
    let s = end.checked_add(1)?;
    if s >= buf.len() {
        return None;
    }
    let e = memchr::memchr(b'\n', &buf[s..]).map_or(buf.len(), |p| s + p);
    Some((s, e))
}

/// Splits `buf` into runs of whole lines of about `BLOCK` bytes.
fn blocks(buf: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(buf.len() / BLOCK + 1);
    let mut s = 0;
    while s < buf.len() {
        let nominal = s.saturating_add(BLOCK);
        let e = if nominal >= buf.len() {
            buf.len()
        } else {
            memchr::memchr(b'\n', &buf[nominal..]).map_or(buf.len(), |p| nominal + p + 1)
        };
        out.push((s, e));
        s = e;
    }
    out
}

/// `kubectl describe`'s event rows: `Warning  FailedMount  3m (x23 over 40m)  kubelet  …`
/// (kubectl describe.go `DescribeEvents`: type, reason, age, from, message, tab-separated then
/// aligned).
fn is_describe_row(p: &[u8]) -> bool {
    for t in [&b"Warning"[..], b"Normal"] {
        if let Some(rest) = p.strip_prefix(t) {
            return rest.starts_with(b"  ") || rest.starts_with(b"\t");
        }
    }
    false
}

/// The `From` column of a describe row: the word after the age (`3m (x23 over 40m)`).
fn describe_from(text: &[u8]) -> Option<String> {
    let cols: Vec<&[u8]> = text
        .split(|&c| c == b' ' || c == b'\t')
        .filter(|w| !w.is_empty())
        .collect();
    // type, reason, age, [`(xN` `over` `AGE)`], from
    let from = if cols.get(3).is_some_and(|w| w.starts_with(b"(x")) {
        6
    } else {
        3
    };
    cols.get(from)
        .filter(|w| {
            w.iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b',' | b'.'))
        })
        .map(|w| String::from_utf8_lossy(w).into_owned())
}

/// `x23 over 40m` → (23, Some(2400)); otherwise (1, None).
fn describe_count(text: &[u8]) -> (u64, Option<u64>) {
    let Some(p) = memchr::memmem::find(text, b" over ") else {
        return (1, None);
    };
    let before = &text[..p];
    let digits = before
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let n0 = before.len() - digits;
    if digits == 0
        || n0 == 0
        || before[n0 - 1] != b'x'
        || (n0 >= 2 && before[n0 - 2].is_ascii_alphanumeric())
    {
        return (1, None);
    }
    let Some(n) = std::str::from_utf8(&before[n0..])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return (1, None);
    };
    let after = &text[p + 6..];
    let mut secs: u64 = 0;
    let mut num: u64 = 0;
    let mut any = false;
    for &c in after {
        match c {
            b'0'..=b'9' => num = num.saturating_mul(10).saturating_add(u64::from(c - b'0')),
            b'd' | b'h' | b'm' | b's' => {
                let mult = match c {
                    b'd' => 86_400,
                    b'h' => 3_600,
                    b'm' => 60,
                    _ => 1,
                };
                secs = secs.saturating_add(num.saturating_mul(mult));
                num = 0;
                any = true;
            }
            _ => break,
        }
    }
    (n.max(1), any.then_some(secs))
}

/// `$ kubectl get secret NAME -n NS` (or `secrets/NAME`, `--namespace NS`, `-nNS`) on the line
/// before a kubectl error: (`secrets`, `NS/NAME`).
fn kubectl_get_object(line: &[u8]) -> Option<(String, String)> {
    let line = String::from_utf8_lossy(line);
    let words: Vec<&str> = line.split_whitespace().collect();
    let k = words
        .iter()
        .position(|w| *w == "kubectl" || w.ends_with("/kubectl") || *w == "oc")?;
    let rest = &words[k + 1..];
    if rest.first() != Some(&"get") && rest.first() != Some(&"describe") {
        return None;
    }
    let (mut res, mut name, mut ns) = (None, None, None);
    let mut i = 1;
    while i < rest.len() {
        let w = rest[i];
        if w == "-n" || w == "--namespace" {
            ns = rest.get(i + 1).copied();
            i += 2;
            continue;
        }
        if let Some(n) = w
            .strip_prefix("--namespace=")
            .or_else(|| w.strip_prefix("-n").filter(|s| !s.is_empty()))
        {
            ns = Some(n);
        } else if w.starts_with('-') {
        } else if res.is_none() {
            match w.split_once('/') {
                Some((r, n)) => {
                    res = Some(r);
                    name = Some(n);
                }
                None => res = Some(w),
            }
        } else if name.is_none() {
            name = Some(w);
        }
        i += 1;
    }
    let plural = match res? {
        "secret" | "secrets" => "secrets",
        "configmap" | "configmaps" | "cm" => "configmaps",
        _ => return None,
    };
    let name = name?;
    // Without `-n` the namespace is the context's, which the paste does not show.
    Some((
        plural.to_string(),
        ns.map_or(name.to_string(), |n| format!("{n}/{name}")),
    ))
}

fn has_binary(b: &[u8]) -> bool {
    memchr::memchr(0, b).is_some() || std::str::from_utf8(b).is_err()
}

/// The parts of a record's first line that are kept while the rest is joined.
struct Head {
    level: Option<Level>,
    source: Option<String>,
    stamp: Option<super::time::LocalStamp>,
    enclosing: Option<i64>,
    journal_stamp: Option<super::time::LocalStamp>,
    host: Option<String>,
    ident: Option<String>,
    json: bool,
    /// A `kubectl describe` event row (`Warning  FailedMount  …`).
    describe: bool,
}

impl<'a> FileScanner<'a> {
    fn warn(&mut self, line: Option<u64>, message: String) {
        if self.warnings.len() >= MAX_WARNINGS {
            self.suppressed += 1;
            return;
        }
        self.warnings.push(Warning {
            file: self.file.display.clone(),
            line,
            message,
        });
    }

    fn hint(&self) -> Container {
        self.container.unwrap_or(Container::Plain)
    }

    /// `kind_uncached`, remembered for the last few lines: `bounds` asks about a hit line's
    /// neighbours, and in a log of consecutive hits each line is every role in turn.
    fn kind(&self, line: &[u8]) -> (LineKind, bool) {
        let id = (line.as_ptr() as usize, line.len());
        let mut cache = self.kinds.get();
        if let Some(&(_, k, p)) = cache.iter().find(|(i, _, _)| *i == id) {
            return (k, p);
        }
        let (k, p) = self.kind_uncached(line);
        cache.rotate_right(1);
        cache[0] = (id, k, p);
        self.kinds.set(cache);
        (k, p)
    }

    fn kind_uncached(&self, line: &[u8]) -> (LineKind, bool) {
        let env = container::parse(line, self.hint());
        let p = &*env.payload;
        let p = &p[p
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(p.len())..];
        // An empty runtime chunk still joins (`P` then an empty `F`). journalctl's
        // `-- Logs begin at … --` / `-- Boot … --` lines separate records too.
        if p.is_empty() || (env.container == Container::Plain && p.starts_with(b"-- ")) {
            return (LineKind::Blank, env.partial);
        }
        // Markdown structure ends a record: a code fence, a table row or rule, a describe table's
        // header rule.
        if env.container == Container::Plain
            && (p.starts_with(b"```") || p.starts_with(b"|") || p.starts_with(b"---"))
        {
            return (LineKind::Blank, false);
        }
        let head = (klog::looks_like_header(p) && klog::parse_header(p).is_some())
            || klog::looks_like_json(p)
            || CLIENT_HEADS.iter().any(|h| p.starts_with(h.as_bytes()))
            || is_describe_row(p);
        let k = if head {
            LineKind::Head
        } else {
            LineKind::Continuation
        };
        (k, env.partial)
    }

    /// Detects the container and payload formats from the first lines of the file.
    fn detect(&mut self, buf: &[u8]) {
        // Up to SAMPLE_LINES lines from the first MiB; over-long lines are left out.
        let sample = &buf[..buf.len().min(1 << 20)];
        let lines: Vec<&[u8]> = sample
            .split(|&c| c == b'\n')
            .filter(|l| l.len() <= 1 << 16)
            .take(SAMPLE_LINES)
            .collect();
        let c = container::detect(lines.iter().copied());
        let (mut klog_n, mut json_n, mut any) = (0, 0, 0);
        for l in &lines {
            let env = container::parse(l, c);
            let p = klog::trim(&env.payload);
            if p.is_empty() {
                continue;
            }
            any += 1;
            if klog::parse_header(p).is_some() {
                klog_n += 1;
            } else if klog::looks_like_json(p) {
                json_n += 1;
            }
        }
        self.payload = match (klog_n > 0, json_n > 0) {
            (true, true) => "klog+json",
            (true, false) => "klog",
            (false, true) => "json",
            (false, false) => "text",
        };
        if any > 0 {
            self.container = Some(c);
        }
        if let Some(p) = memchr::memchr(0, sample) {
            let line = count_newlines(&sample[..p]) + 1;
            self.warn(
                Some(line),
                "NUL bytes: binary data, read as text where possible".into(),
            );
        } else if klog_n == 0 && json_n == 0 && any > 0 {
            self.warn(
                Some(1),
                "no klog or JSON log lines in the first lines; not a kube-apiserver log?".into(),
            );
        }
    }

    /// Handles one window of whole records starting after `base` lines. Returns its newline count.
    fn window(&mut self, buf: &[u8], base: u64, sink: &mut Sink) -> u64 {
        // Lines are remembered by address: a stream's buffer is reused between windows.
        self.kinds.set(NO_KINDS);
        if !self.detected {
            self.detected = true;
            self.detect(buf);
        }
        self.bytes += buf.len() as u64;
        let ranges = blocks(buf);
        let pf = self.pf;
        let results: Vec<_> = if ranges.len() > 1 {
            ranges
                .par_iter()
                .map(|&(s, e)| pf.scan_block(&buf[s..e]))
                .collect()
        } else {
            ranges
                .iter()
                .map(|&(s, e)| pf.scan_block(&buf[s..e]))
                .collect()
        };
        let mut line_base = base;
        let mut done_to = 0usize;
        for (&(bs, be), (hits, newlines)) in ranges.iter().zip(results) {
            // One line per block keeps the year tracker in step with the file.
            if bs >= done_to {
                let (ls, le) = line_around(buf, bs);
                self.anchor(&buf[ls..le]);
            }
            for (hit, before) in hits {
                let start = bs + hit.start;
                if start < done_to {
                    continue;
                }
                let line_no = line_base + before + 1;
                let end = (bs + hit.end).min(be);
                let (rs, re, first, _) = self.bounds(buf, start, end, line_no, done_to);
                let before = prev_line(buf, rs).map_or(&b""[..], |(a, b)| &buf[a..b]);
                let used = rs + self.record(&buf[rs..re.min(buf.len())], first, before, sink);
                if used < start {
                    // The record above finished before the hit line: that line starts its own.
                    let (_, re, _, _) = self.bounds(buf, start, end, line_no, start);
                    let before = prev_line(buf, start).map_or(&b""[..], |(a, b)| &buf[a..b]);
                    let used =
                        start + self.record(&buf[start..re.min(buf.len())], line_no, before, sink);
                    done_to = used + 1;
                } else {
                    done_to = used + 1;
                }
            }
            line_base += newlines;
        }
        line_base - base
    }

    /// A whole file in memory (mapped): one window.
    fn whole(&mut self, buf: &[u8], sink: &mut Sink) {
        self.lines += self.window(buf, 0, sink);
        if buf.last().is_some_and(|&c| c != b'\n') {
            self.lines += 1;
        }
    }

    /// The record around a hit line: up to its head, down through its continuations.
    fn bounds(
        &self,
        buf: &[u8],
        hit_start: usize,
        hit_end: usize,
        hit_line: u64,
        floor: usize,
    ) -> (usize, usize, u64, u64) {
        let (mut s, mut first) = (hit_start, hit_line);
        let (hit_kind, hit_partial) = self.kind(&buf[hit_start..hit_end]);
        let mut kind = hit_kind;
        let mut steps = 0;
        while let Some((ps, pe)) = prev_line(buf, s) {
            if ps < floor {
                // Already part of an earlier record.
                break;
            }
            let (pk, ppartial) = self.kind(&buf[ps..pe]);
            if pk == LineKind::Blank && !ppartial {
                break;
            }
            if kind == LineKind::Head && !ppartial {
                break;
            }
            if steps >= MAX_RECORD_LINES || hit_start - ps > MAX_RECORD_BYTES {
                // A runaway block of headerless lines: take the hit line alone.
                s = hit_start;
                first = hit_line;
                break;
            }
            s = ps;
            first -= 1;
            kind = pk;
            steps += 1;
        }
        let (mut e, mut last, mut partial) = (hit_end, hit_line, hit_partial);
        let mut steps = 0;
        while let Some((ns, ne)) = next_line(buf, e) {
            let (nk, npartial) = self.kind(&buf[ns..ne]);
            if !partial && (nk == LineKind::Blank || nk == LineKind::Head) {
                break;
            }
            if steps >= MAX_RECORD_LINES || ne - s > MAX_RECORD_BYTES {
                break;
            }
            e = ne;
            last += 1;
            partial = npartial;
            steps += 1;
        }
        (s, e, first, last)
    }

    /// Node for a record: `NODE=` and pod names win; then a journald host; then the file name.
    fn node(&self, host: Option<&str>) -> String {
        match (self.file.node_from, host) {
            (NodeFrom::FileName | NodeFrom::Stdin, Some(h)) if !h.is_empty() => h.to_string(),
            _ => self.file.node.clone(),
        }
    }

    /// A line's time, feeding the year tracker.
    fn time_of(&mut self, head: &Head, json_ts: Option<i64>) -> Option<EventTime> {
        let t = if let Some(ts) = json_ts {
            Some(EventTime::utc(ts))
        } else if let Some(st) = &head.stamp {
            Some(resolve_local(
                st,
                head.enclosing,
                &mut self.years,
                self.opts.tz,
            ))
        } else if let Some(st) = &head.journal_stamp {
            Some(resolve_local(st, None, &mut self.years, self.opts.tz))
        } else {
            head.enclosing.map(EventTime::utc)
        };
        if let Some(t) = &t {
            if self.first_time.is_none() {
                self.first_time = Some(t.clone());
            }
        }
        t
    }

    fn head_of(env: &Envelope<'_>, payload: &[u8]) -> (Head, usize) {
        let mut head = Head {
            level: None,
            source: None,
            stamp: None,
            enclosing: env.time,
            journal_stamp: env.local,
            host: env.host.clone(),
            ident: env.ident.clone(),
            json: false,
            describe: is_describe_row(payload),
        };
        let mut msg_start = 0;
        if let Some(h) = klog::parse_header(payload) {
            head.level = Some(h.level);
            head.source = Some(String::from_utf8_lossy(h.source).into_owned());
            head.stamp = Some(h.stamp);
            msg_start = h.msg_start;
        } else if klog::looks_like_json(payload) {
            head.json = true;
        }
        (head, msg_start)
    }

    /// A block's first line: follow the date.
    fn anchor(&mut self, line: &[u8]) {
        let env = container::parse(line, self.hint());
        let payload = klog::trim(&env.payload);
        let (head, _) = Self::head_of(&env, payload);
        let ts = if head.json {
            klog::parse_json(payload).and_then(|j| j.ts)
        } else {
            None
        };
        self.time_of(&head, ts);
    }

    /// Rebuilds, classifies and records one record (`rec` is its bytes, whole lines; `before` the
    /// line above it). Headerless lines join only until the record is complete (see
    /// [`wrap::complete`]): what follows a finished error in a paste is not part of it. Returns
    /// the bytes of `rec` used (up to the end of its last joined line).
    fn record(&mut self, rec: &[u8], first: u64, before: &[u8], sink: &mut Sink) -> usize {
        let mut text: Vec<u8> = Vec::new();
        let mut head: Option<Head> = None;
        let mut prev_partial = false;
        let mut warned_binary = false;
        let mut used = 0usize;
        let mut last = first;
        // Where each physical line starts in `text`, to point an event at its error's line.
        let mut starts: Vec<(usize, u64)> = Vec::new();
        let mut offset = 0usize;
        for (line_no, raw) in (first..).zip(rec.split(|&c| c == b'\n')) {
            let line_end = offset + raw.len();
            offset = line_end + 1;
            if head.is_some() && !prev_partial && wrap::complete(&text, event::says_error) {
                break;
            }
            let raw = if raw.len() > self.opts.max_line {
                self.warn(
                    Some(line_no),
                    format!(
                        "line is {} bytes; only the first {} are classified",
                        raw.len(),
                        self.opts.max_line
                    ),
                );
                &raw[..self.opts.max_line]
            } else {
                raw
            };
            let env = container::parse(raw, self.hint());
            let payload: &[u8] = &env.payload;
            if !warned_binary && has_binary(payload) {
                warned_binary = true;
                self.warn(
                    Some(line_no),
                    "binary or invalid UTF-8 bytes (shown as U+FFFD)".into(),
                );
            }
            starts.push((text.len(), line_no));
            match &head {
                None => {
                    let payload = &payload[payload
                        .iter()
                        .position(|c| !c.is_ascii_whitespace())
                        .unwrap_or(payload.len())..];
                    let (h, msg_start) = Self::head_of(&env, payload);
                    text.extend_from_slice(&payload[msg_start..]);
                    head = Some(h);
                }
                Some(_) if prev_partial => text.extend_from_slice(payload),
                Some(_) => {
                    wrap::join(&mut text, payload);
                }
            }
            prev_partial = env.partial;
            used = line_end.min(rec.len());
            last = line_no;
        }
        let Some(head) = head else {
            return used;
        };
        let line_of = |needle: &[u8], from: usize| -> Option<(u64, usize)> {
            if needle.is_empty() || starts.len() < 2 {
                // One physical line: it holds everything.
                return None;
            }
            let at = from + memchr::memmem::find(text.get(from..)?, needle)?;
            let line = starts
                .iter()
                .rev()
                .find(|(s, _)| *s <= at)
                .map_or(first, |&(_, l)| l);
            Some((line, at))
        };

        // Message and structured fields.
        let mut fields: Vec<(String, Vec<u8>)> = Vec::new();
        let mut msg: std::borrow::Cow<'_, [u8]> = std::borrow::Cow::Borrowed(&text);
        let mut json_ts = None;
        let mut level = head.level;
        let mut src = head.source.clone();
        let mut structured = None;
        if head.json {
            if let Some(j) = klog::parse_json(&text) {
                json_ts = j.ts;
                level = Some(j.level());
                src = j.caller.clone();
                msg = std::borrow::Cow::Owned(j.msg.clone().unwrap_or_default().into_bytes());
                if let Some(e) = &j.err {
                    fields.push(("err".into(), e.clone().into_bytes()));
                }
                for (k, v) in &j.fields {
                    fields.push((k.clone(), v.clone().into_bytes()));
                }
            }
        } else if head.level.is_some() && text.first() == Some(&b'"') {
            if let Some(s) = klog::parse_structured(&text) {
                msg = std::borrow::Cow::Owned(s.msg.clone());
                fields = s.fields.clone();
                structured = Some(s);
            }
        }
        let ctx = Context {
            source: src.as_deref(),
            ident: head.ident.as_deref(),
            fields: if fields.is_empty() {
                None
            } else {
                Some(&fields)
            },
        };
        // A record with no header and no envelope at all (pasted prose, a README) is an event only
        // when its error reads like a Go error chain.
        let bare = head.level.is_none()
            && !head.json
            && !head.describe
            && head.stamp.is_none()
            && head.journal_stamp.is_none()
            && head.enclosing.is_none()
            && head.host.is_none()
            && head.ident.is_none();
        let hit = self.cache.iter().find(|(k, _)| {
            k.4 == bare
                && k.0.as_slice() == &*msg
                && k.1 == src
                && k.2 == head.ident
                && k.3 == fields
        });
        let classified = match hit {
            Some((_, c)) => c.clone(),
            None => {
                let c = event::classify(&msg, &ctx)
                    .filter(|_| !bare || event::chained(&msg))
                    .map(std::rc::Rc::new);
                let key = (
                    msg.to_vec(),
                    src.clone(),
                    head.ident.clone(),
                    fields.clone(),
                    bare,
                );
                if self.cache.len() < CLASSIFY_CACHE {
                    self.cache.push((key, c.clone()));
                } else {
                    self.cache[self.cache_next] = (key, c.clone());
                    self.cache_next = (self.cache_next + 1) % CLASSIFY_CACHE;
                }
                c
            }
        };
        let start = event::start_marker(&msg, structured.as_ref());
        let time = self.time_of(&head, json_ts);
        if classified.is_none() && start.is_none() {
            return used;
        }
        let time = time.unwrap_or(EventTime {
            text: "unknown".into(),
            basis: TimeBasis::Unknown,
            micros: 0,
        });
        let node = self.node(head.host.as_deref());
        if let Some(c) = classified {
            if last > first {
                self.rejoined += 1;
            }
            let (count, over_secs) = if head.describe {
                describe_count(&text)
            } else {
                (1, None)
            };
            // What the record's context adds to the (cached, shared) classification.
            let (mut side, mut client) = (c.side, c.client);
            let mut component: Option<std::borrow::Cow<'_, str>> =
                c.component.as_deref().map(std::borrow::Cow::Borrowed);
            let mut object: Option<std::borrow::Cow<'_, str>> =
                c.object.as_deref().map(std::borrow::Cow::Borrowed);
            let mut resource: Option<std::borrow::Cow<'_, str>> =
                c.resource.as_deref().map(std::borrow::Cow::Borrowed);
            if head.describe {
                side = event::Side::Client;
                client = Some("kubectl describe");
                if component.as_deref().is_none_or(|x| x == "client") {
                    component = describe_from(&text).map(std::borrow::Cow::Owned);
                }
            } else if side == event::Side::Client && client == Some("client") {
                client = self.file_client().or(client);
            } else if side == event::Side::Apiserver {
                if let Some(cl) = self.file_client() {
                    side = event::Side::Client;
                    client = Some(cl);
                }
            }
            if object.is_none() && client == Some("kubectl") {
                if let Some((res, obj)) = kubectl_get_object(before) {
                    object = Some(std::borrow::Cow::Owned(obj));
                    if resource.is_none() {
                        resource = Some(std::borrow::Cow::Owned(res));
                    }
                }
            }
            if c.items.iter().any(|i| {
                matches!(
                    i.class,
                    event::ErrorClass::SecretsEncryptHashMismatch
                        | event::ErrorClass::SecretsEncryptConfigNewer
                )
            }) {
                component = Some(std::borrow::Cow::Borrowed("secrets-encrypt"));
            }
            let operation = c.operation.unwrap_or(event::Operation::Unknown);
            let mut from = 0usize;
            for item in &c.items {
                self.events += 1;
                let anchor = item
                    .key
                    .as_deref()
                    .map(|k| &k.as_bytes()[..k.len().min(16)])
                    .and_then(|k| line_of(k, from));
                let at_err = line_of(
                    item.error
                        .as_bytes()
                        .get(..item.error.len().min(24))
                        .unwrap_or(b""),
                    anchor.map_or(from, |a| a.1),
                );
                let line = at_err.or(anchor).map_or(first, |a| a.0);
                if let Some(a) = at_err.or(anchor) {
                    from = a.1 + 1;
                }
                if sink.listing() {
                    sink.event(Event {
                        node: node.clone(),
                        time: time.text.clone(),
                        time_basis: time.basis,
                        level,
                        source: src.clone(),
                        component: component.as_deref().map(str::to_string),
                        operation,
                        resource: resource.as_deref().map(str::to_string),
                        key: item.key.clone(),
                        error: item.error.clone(),
                        class: item.class,
                        revision: item.revision,
                        side,
                        client: client.map(str::to_string),
                        object: object.as_deref().map(str::to_string),
                        count,
                        over_secs,
                        peers: c.peers.clone(),
                        file: self.file.display.clone(),
                        line,
                        record_line: first,
                        end_line: last,
                        micros: time.micros,
                        file_index: self.index,
                    });
                } else {
                    // Past the listing cap only the aggregates count it: refill one event's
                    // buffers instead of allocating a new one per record.
                    let e = self.scratch.get_or_insert_with(|| Event {
                        node: String::new(),
                        time: String::new(),
                        time_basis: TimeBasis::Unknown,
                        level: None,
                        source: None,
                        component: None,
                        operation,
                        resource: None,
                        key: None,
                        error: String::new(),
                        class: item.class,
                        revision: None,
                        side,
                        client: None,
                        object: None,
                        count,
                        over_secs: None,
                        peers: Vec::new(),
                        file: String::new(),
                        line,
                        record_line: first,
                        end_line: last,
                        micros: 0,
                        file_index: self.index,
                    });
                    set(&mut e.node, &node);
                    set(&mut e.time, &time.text);
                    e.time_basis = time.basis;
                    e.level = level;
                    set_opt(&mut e.source, src.as_deref());
                    set_opt(&mut e.component, component.as_deref());
                    e.operation = operation;
                    set_opt(&mut e.resource, resource.as_deref());
                    set_opt(&mut e.key, item.key.as_deref());
                    set(&mut e.error, &item.error);
                    e.class = item.class;
                    e.revision = item.revision;
                    e.side = side;
                    set_opt(&mut e.client, client);
                    set_opt(&mut e.object, object.as_deref());
                    e.count = count;
                    e.over_secs = over_secs;
                    e.peers.clone_from(&c.peers);
                    set(&mut e.file, &self.file.display);
                    e.line = line;
                    e.record_line = first;
                    e.end_line = last;
                    e.micros = time.micros;
                    e.file_index = self.index;
                    sink.aggregate_only(e);
                }
            }
        }
        if let Some((evidence, version)) = start {
            // A journald stream mixes units: only kube-apiserver's starts count.
            if head
                .ident
                .as_deref()
                .is_none_or(|i| i.contains("apiserver") || i == "hyperkube")
            {
                sink.restarts.push(Restart {
                    node,
                    time: time.text,
                    time_basis: time.basis,
                    evidence,
                    version,
                    file: self.file.display.clone(),
                    line: first,
                    micros: time.micros,
                    file_index: self.index,
                });
            }
        }
        used
    }

    /// A client named by the file: `kubelet.log`, `kube-controller-manager.log`, a pod of either.
    fn file_client(&self) -> Option<&'static str> {
        let name = self.file.display.rsplit('/').next().unwrap_or("");
        if name.contains("kubelet") {
            Some("kubelet")
        } else if name.contains("controller-manager") {
            Some("kube-controller-manager")
        } else {
            None
        }
    }

    /// Where to cut a stream buffer: before the last record head among its complete lines, so
    /// the record it starts can still grow. 0 when nothing can be cut yet; everything complete when
    /// the record at the end has grown past `MAX_RECORD_BYTES`.
    fn cut_point(&self, buf: &[u8]) -> usize {
        let Some(last_nl) = memchr::memrchr(b'\n', buf) else {
            return 0;
        };
        let complete = last_nl + 1;
        let give_up = if complete > MAX_RECORD_BYTES {
            complete
        } else {
            0
        };
        let (mut s, e) = line_around(buf, last_nl);
        let mut kind = self.kind(&buf[s..e]).0;
        let mut steps = 0;
        loop {
            let Some((ps, pe)) = prev_line(buf, s) else {
                return give_up;
            };
            let (pk, ppartial) = self.kind(&buf[ps..pe]);
            if kind == LineKind::Head && !ppartial {
                return s;
            }
            steps += 1;
            if steps > MAX_RECORD_LINES || complete - ps > MAX_RECORD_BYTES {
                return complete;
            }
            s = ps;
            kind = pk;
        }
    }

    /// Reads a stream in windows. A read error ends the stream with a warning: what was read
    /// is kept (a truncated gzip still yields its events).
    fn stream(&mut self, mut reader: Box<dyn Read + Send>, sink: &mut Sink) {
        let (window, chunk) = (self.window_size, self.chunk_size);
        let mut buf: Vec<u8> = Vec::with_capacity(window + chunk);
        let mut base: u64 = 0;
        let mut skipping = false;
        let mut eof = false;
        while !eof {
            let old = buf.len();
            buf.resize(old + chunk, 0);
            let n = loop {
                match reader.read(&mut buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let line = base + count_newlines(&buf[..old]) + 1;
                        let what = if self.file.path.is_some() {
                            "data ends early or is corrupt"
                        } else {
                            "read failed"
                        };
                        self.warn(
                            Some(line),
                            format!(
                                "{what} after {} bytes: {e}; the rest is not read",
                                self.bytes + old as u64
                            ),
                        );
                        break 0;
                    }
                }
            };
            buf.truncate(old + n);
            if n == 0 {
                eof = true;
            }
            if skipping {
                match memchr::memchr(b'\n', &buf[old..]) {
                    None => {
                        buf.truncate(old);
                        continue;
                    }
                    Some(p) => {
                        buf.drain(old..=old + p);
                        skipping = false;
                    }
                }
            }
            let tail = memchr::memrchr(b'\n', &buf).map_or(0, |p| p + 1);
            if buf.len() - tail > self.opts.max_line {
                let line = base + count_newlines(&buf[..tail]) + 1;
                self.warn(
                    Some(line),
                    format!(
                        "line longer than {} bytes; the rest of it is skipped",
                        self.opts.max_line
                    ),
                );
                buf.truncate(tail + self.opts.max_line);
                buf.push(b'\n');
                skipping = !eof;
            }
            if buf.len() >= window || eof {
                let cut = if eof { buf.len() } else { self.cut_point(&buf) };
                if cut > 0 {
                    let nl = self.window(&buf[..cut], base, sink);
                    base += nl;
                    self.lines += nl;
                    if eof && buf.last().is_some_and(|&c| c != b'\n') {
                        self.lines += 1;
                    }
                    buf.drain(..cut);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> LogFile {
        LogFile {
            path: None,
            display: "t".into(),
            node: "n".into(),
            node_from: NodeFrom::Given,
            restart: None,
        }
    }

    /// Scans `data` as a mapped file (one window) and as a stream in tiny windows.
    fn both(data: &[u8], window: usize, chunk: usize) -> ((Sink, FileStats), (Sink, FileStats)) {
        let f = file();
        let opts = ScanOptions {
            year: Some(2021),
            tz: None,
            max_line: 1 << 20,
        };
        let pf = Prefilter::new();
        let mut mapped = Sink::default();
        let mut s = FileScanner::new(&f, 0, &opts, &pf);
        s.whole(data, &mut mapped);
        let a = s.finish(false, &mut mapped);
        let mut streamed = Sink::default();
        let mut s = FileScanner::new(&f, 0, &opts, &pf);
        s.window_size = window;
        s.chunk_size = chunk;
        s.stream(Box::new(std::io::Cursor::new(data.to_vec())), &mut streamed);
        let b = s.finish(false, &mut streamed);
        ((mapped, a), (streamed, b))
    }

    fn corpus() -> Vec<u8> {
        let mut t = String::new();
        for i in 0..300 {
            let s = i % 60;
            t += &format!("I1116 20:{:02}:{s:02}.000001       1 httplog.go:94] \"HTTP\" verb=\"GET\" URI=\"/x/{i}\" resp=200\n", i / 60);
            if i % 7 == 0 {
                // Hard-wrapped, the key split.
                t += &format!("E1116 20:{:02}:{s:02}.500000 1 cacher.go:419] cacher (*core.Secret): unexpected ListAndWatch\n  error: failed to list *core.Secret: unable to transform key \"/registry/secrets/ns/name-\n  {i}\": invalid padding on input; reinitializing...\n", i / 60);
            }
            if i % 11 == 0 {
                t += "Trace[1]: ---\"x\" 1ms\n\n";
            }
        }
        t.into_bytes()
    }

    #[test]
    fn streamed_windows_match_one_mapped_window() {
        let data = corpus();
        for (window, chunk) in [(1024, 100), (4096, 4096), (300, 7)] {
            let ((m, ma), (s, sa)) = both(&data, window, chunk);
            assert_eq!(m.events.len(), 43);
            assert_eq!(m.events, s.events, "window {window} chunk {chunk}");
            assert_eq!((ma.lines, ma.bytes), (sa.lines, sa.bytes));
            assert_eq!(
                m.events[1].key.as_deref(),
                Some("/registry/secrets/ns/name-7")
            );
            assert_eq!(
                (
                    m.events[1].record_line,
                    m.events[1].line,
                    m.events[1].end_line
                ),
                (14, 16, 16)
            );
            assert_eq!(m.events[1].time, "2021-11-16T20:00:07.500000");
        }
    }

    #[test]
    fn events_beyond_the_cap_are_aggregated_not_listed() {
        let f = file();
        let opts = ScanOptions::default();
        let pf = Prefilter::new();
        let mut sink = Sink {
            max_events: 3,
            ..Sink::default()
        };
        let data = corpus();
        scan_slice(&f, 0, &opts, &pf, &data, &mut sink);
        assert_eq!((sink.events.len(), sink.unlisted), (3, 40));
        let aggs = std::mem::take(&mut sink.aggregator).finish(&[]);
        assert_eq!(aggs.iter().map(|a| a.count).sum::<u64>(), 43);
    }

    #[test]
    fn cri_partial_chunks_join_without_separator() {
        let data = b"2021-11-16T20:09:52.1Z stderr P E1116 20:09:52.000001 1 cacher.go:419] cacher (*core.Secret): x: unable to transform key \"/registry/secrets/a/b\n2021-11-16T20:09:52.2Z stderr P cd\n2021-11-16T20:09:52.3Z stderr F \": invalid padding on input; reinitializing...\n";
        let ((m, _), (s, _)) = both(data, 64, 16);
        assert_eq!(m.events, s.events);
        assert_eq!(m.events.len(), 1);
        // The record starts on line 1; its error is on line 3.
        assert_eq!(
            (
                m.events[0].record_line,
                m.events[0].line,
                m.events[0].end_line
            ),
            (1, 3, 3)
        );
        assert_eq!(m.events[0].key.as_deref(), Some("/registry/secrets/a/bcd"));
        assert_eq!(m.events[0].time, "2021-11-16T20:09:52.000001Z");
    }

    #[test]
    fn overlong_lines_are_cut_with_a_warning() {
        let mut data = vec![b'x'; 3 << 20];
        data.push(b'\n');
        data.extend_from_slice(b"E1116 20:09:52.000001 1 cacher.go:419] unable to transform key \"/registry/secrets/a/b\": invalid padding on input\n");
        let ((m, ma), (s, sa)) = both(&data, 1 << 20, 64 << 10);
        assert_eq!(m.events.len(), 1);
        assert_eq!(s.events.len(), 1);
        assert_eq!((s.events[0].line, m.events[0].line), (2, 2));
        assert_eq!((ma.lines, sa.lines), (2, 2));
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert_eq!(s.warnings[0].line, Some(1));
        // A mapped file only cuts lines it classifies.
        assert!(m.warnings.is_empty());
    }

    #[test]
    fn hostile_fragments_never_panic_and_modes_agree() {
        const FRAGMENTS: &[&[u8]] = &[
            b"\n",
            b"\n",
            b" ",
            b"E1116 20:09:52.635602       1 cacher.go:419] ",
            b"I1231 23:59:59.999999 1 server.go:1] Version: v1.2",
            b"2021-11-16T20:09:52.1Z stderr P ",
            b"2021-11-16T20:09:52.1Z stderr F ",
            b"2021-11-16T20:09:52+0000 h i[1]: ",
            b"Nov 16 20:09:52 h i: ",
            b"{\"log\":\"",
            b"{\"ts\":1.5e300,\"msg\":\"",
            b"{\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":[",
            b"unable to transform key \"",
            b"/registry/secrets/a/",
            b"\": ",
            b"\\\"",
            b"invalid padding on input",
            b"; reinitializing...",
            b"cacher (",
            b"storage/cacher.go:/",
            b"failed to list ",
            b"Internal error occurred: ",
            b"failed to prepare current and previous objects: ",
            b"data from the storage is not transformable revision=",
            b"StorageError: corrupt object, Key: ",
            b"AdditionalErrorMsg: ",
            b"not an metav1.Status: ",
            b"}: ",
            b"\"failed to decrypt data\" err=\"",
            b"err=<",
            b" >",
            b"[",
            b"]",
            b"\xff\xfe\x00",
            b"KMS",
            b"Golang settings",
            b"Error from server",
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for round in 0..300 {
            let mut data = Vec::new();
            for _ in 0..(20 + round % 60) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                data.extend_from_slice(FRAGMENTS[(x % FRAGMENTS.len() as u64) as usize]);
            }
            let ((m, ma), (s, sa)) = both(&data, 96, 7);
            assert_eq!(
                m.events,
                s.events,
                "round {round}: {}",
                String::from_utf8_lossy(&data)
            );
            assert_eq!(ma.lines, sa.lines);
        }
    }
}
