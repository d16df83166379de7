//! One record: where it starts and ends around a prefilter hit, its rebuilt text, and its
//! classification.
//!
//! Everything here is a pure function of the window's bytes, the file's container and the
//! options, so `scan` prepares the records of several blocks in parallel (one [`Preparer`] per
//! worker) and then commits them in file order: time (the year tracker follows the file), node,
//! events, restarts and warnings are decided there, sequentially. The same bytes give the same
//! records whatever the number of threads.

use super::container::{self, Container, Envelope};
use super::event::{self, Context};
use super::klog::{self, Level};
use super::source::LogFile;
use super::wrap;
use super::ScanOptions;
use std::sync::Arc;

/// A record is rebuilt from at most this many physical lines…
pub(super) const MAX_RECORD_LINES: usize = 512;
/// …and this many bytes.
pub(super) const MAX_RECORD_BYTES: usize = 1 << 20;
/// Headerless lines that still start a record: kubectl's error and the shell prompts pasted with
/// it. (Not `error: `: a wrapped cacher line continues with `error: failed to list …`.)
const CLIENT_HEADS: &[&str] = &["Error from server", "$ "];
/// A line's identity in the current window and its kind.
type KindEntry = ((usize, usize), LineKind, bool);
const NO_KINDS: [KindEntry; 4] = [((usize::MAX, 0), LineKind::Blank, false); 4];

/// Messages whose classification is remembered (per preparer, replaced round-robin): a loop's few
/// distinct messages (reflector and cacher lines of one failing LIST) stay in it.
const CLASSIFY_CACHE: usize = 8;

/// What `classify` depends on: message, source, journald identifier, structured fields, and
/// whether the record had no header at all.
type ClassifyKey = (
    Vec<u8>,
    Option<Arc<str>>,
    Option<String>,
    Vec<(String, Vec<u8>)>,
    bool,
);

/// How a physical line relates to the record above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LineKind {
    /// Starts a record: a klog header or a JSON log object (possibly in an envelope).
    Head,
    /// No header: continues the record above.
    Continuation,
    /// Empty: ends the record above and starts nothing.
    Blank,
}

/// How `bounds` walked up from a hit line, to tell whether another floor gives the same record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Walk {
    /// Start of the highest line that passed the floor test (the hit line when none was tested).
    low: usize,
    /// Start of the line that failed it, if one did.
    below_floor: Option<usize>,
}

impl Walk {
    /// Would the walk have gone the same way with `floor`? Every line it tested compares with
    /// `floor` as it did with the floor it had.
    pub(super) fn same_with(&self, floor: usize) -> bool {
        self.low >= floor && self.below_floor.is_none_or(|ps| ps < floor)
    }
}

pub(super) fn line_around(buf: &[u8], at: usize) -> (usize, usize) {
    let s = memchr::memrchr(b'\n', &buf[..at]).map_or(0, |p| p + 1);
    let e = memchr::memchr(b'\n', &buf[at..]).map_or(buf.len(), |p| at + p);
    (s, e)
}

pub(super) fn prev_line(buf: &[u8], start: usize) -> Option<(usize, usize)> {
    if start == 0 {
        return None;
    }
    let e = start - 1;
    let s = memchr::memrchr(b'\n', &buf[..e]).map_or(0, |p| p + 1);
    Some((s, e))
}

pub(super) fn next_line(buf: &[u8], end: usize) -> Option<(usize, usize)> {
    let s = end.checked_add(1)?;
    if s >= buf.len() {
        return None;
    }
    let e = memchr::memchr(b'\n', &buf[s..]).map_or(buf.len(), |p| s + p);
    Some((s, e))
}

/// `kubectl describe`'s event rows: `Warning  FailedMount  3m (x23 over 40m)  kubelet  …`
/// (kubectl describe.go `DescribeEvents`: type, reason, age, from, message, tab-separated then
/// aligned).
pub(super) fn is_describe_row(p: &[u8]) -> bool {
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
#[derive(Debug)]
pub(super) struct Head {
    pub(super) level: Option<Level>,
    pub(super) source: Option<Arc<str>>,
    pub(super) stamp: Option<super::time::LocalStamp>,
    pub(super) enclosing: Option<i64>,
    pub(super) journal_stamp: Option<super::time::LocalStamp>,
    pub(super) host: Option<String>,
    pub(super) ident: Option<String>,
    pub(super) json: bool,
    /// A `kubectl describe` event row (`Warning  FailedMount  …`).
    pub(super) describe: bool,
}

/// What the record's context changes in a (cached, shared) classification.
#[derive(Debug)]
pub(super) struct Classification {
    pub(super) classified: Arc<event::Classified>,
    pub(super) side: event::Side,
    pub(super) client: Option<&'static str>,
    /// `Some` when the record replaces the classification's value.
    pub(super) component: Option<Option<String>>,
    pub(super) object: Option<Option<String>>,
    pub(super) resource: Option<Option<String>>,
    pub(super) operation: event::Operation,
    /// `x23 over 40m` of a describe row; 1 and None otherwise.
    pub(super) count: u64,
    pub(super) over_secs: Option<u64>,
    /// The line holding each item's error (same order as `classified.items`): the first item's,
    /// then the others' (records with one item, nearly all, allocate nothing for it).
    pub(super) line: u64,
    pub(super) more_lines: Vec<u64>,
}

/// A record with a first line: what `scan` needs to date and record it.
#[derive(Debug)]
pub(super) struct Body {
    pub(super) head: Head,
    pub(super) json_ts: Option<i64>,
    pub(super) first: u64,
    pub(super) last: u64,
    pub(super) level: Option<Level>,
    pub(super) src: Option<Arc<str>>,
    pub(super) classification: Option<Classification>,
    /// A kube-apiserver start: evidence and version.
    pub(super) start: Option<(String, Option<String>)>,
}

/// One prepared record.
#[derive(Debug)]
pub(super) struct Prepared {
    /// Bytes of the record used (up to the end of its last joined line).
    pub(super) used: usize,
    /// Warnings about its lines, in order, as (line, message).
    pub(super) warnings: Vec<(u64, String)>,
    pub(super) body: Option<Body>,
}

/// The work for one prefilter hit: the record around it and, when that record ended above the
/// hit line, the record the hit line starts.
#[derive(Debug)]
pub(super) struct Step {
    /// Index of the hit in its block.
    pub(super) hit: usize,
    pub(super) walk: Walk,
    /// (A `Prepared` is a few hundred bytes and every line of an error-only log is one: the rare
    /// second record is boxed so steps stay small to move.)
    pub(super) records: (Prepared, Option<Box<Prepared>>),
    /// Where the next record may start (one past the last byte used).
    pub(super) done_to: usize,
}

impl Prepared {
    /// Moves line numbers counted from `from` to count from `to`.
    fn renumber(&mut self, from: u64, to: u64) {
        let f = |l: &mut u64| *l = l.wrapping_sub(from).wrapping_add(to);
        self.warnings.iter_mut().for_each(|(l, _)| f(l));
        if let Some(b) = &mut self.body {
            f(&mut b.first);
            f(&mut b.last);
            if let Some(c) = &mut b.classification {
                f(&mut c.line);
                c.more_lines.iter_mut().for_each(f);
            }
        }
    }
}

impl Step {
    /// Moves the step's line numbers, prepared counting from `from`, to count from `to`.
    pub(super) fn renumber(&mut self, from: u64, to: u64) {
        self.records.0.renumber(from, to);
        if let Some(p) = &mut self.records.1 {
            p.renumber(from, to);
        }
    }
}

/// Prepares records; one per worker (its caches are not shared).
pub(super) struct Preparer<'a> {
    file: &'a LogFile,
    opts: &'a ScanOptions,
    /// The file's container, once detected.
    pub(super) hint: Container,
    /// Kinds of the last lines looked at, by (address, length) within the current window.
    kinds: std::cell::Cell<[KindEntry; 4]>,
    /// Classifications of recent messages: a cacher loop logs the same message thousands of
    /// times, and `classify` is a pure function of the message and its context.
    cache: Vec<(ClassifyKey, Option<Arc<event::Classified>>)>,
    /// Next cache slot to replace once it is full.
    cache_next: usize,
    /// A record's rebuilt text and where each of its lines starts in it, kept for the next.
    text: Vec<u8>,
    starts: Vec<(usize, u64)>,
    /// Recent klog sources (`cacher.go:419`): every record has one, and a few repeat.
    pub(super) sources: Recent,
}

/// Strings seen recently, shared rather than allocated again (replaced round-robin). Allocating
/// one per record on the workers, freed on the committing thread, had them wait on the
/// allocator's lock.
#[derive(Default)]
pub(super) struct Recent {
    items: Vec<Arc<str>>,
    next: usize,
}

impl Recent {
    const SIZE: usize = 8;

    /// `bytes` (invalid UTF-8 replaced), shared with an earlier call when it was recent.
    pub(super) fn get(&mut self, bytes: &[u8]) -> Arc<str> {
        if let Some(s) = self.items.iter().find(|s| s.as_bytes() == bytes) {
            return s.clone();
        }
        let s: Arc<str> = Arc::from(String::from_utf8_lossy(bytes));
        if self.items.len() < Self::SIZE {
            self.items.push(s.clone());
        } else {
            self.items[self.next] = s.clone();
            self.next = (self.next + 1) % Self::SIZE;
        }
        s
    }
}

impl<'a> Preparer<'a> {
    pub(super) fn new(file: &'a LogFile, opts: &'a ScanOptions, hint: Container) -> Preparer<'a> {
        Preparer {
            file,
            opts,
            hint,
            kinds: std::cell::Cell::new(NO_KINDS),
            cache: Vec::new(),
            cache_next: 0,
            text: Vec::new(),
            starts: Vec::new(),
            sources: Recent::default(),
        }
    }

    /// Forgets line kinds: lines are remembered by address, and a stream's buffer is reused
    /// between windows.
    pub(super) fn new_window(&self) {
        self.kinds.set(NO_KINDS);
    }

    /// `kind_uncached`, remembered for the last few lines: `bounds` asks about a hit line's
    /// neighbours, and in a log of consecutive hits each line is every role in turn.
    pub(super) fn kind(&self, line: &[u8]) -> (LineKind, bool) {
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
        let (env, header) = container::parse_klog(line, self.hint);
        if header.is_some() {
            // A bare klog line: a head, whole (none of the tests below can hold for it).
            return (LineKind::Head, false);
        }
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

    /// The record around a hit line: up to its head (not below `floor`, where an earlier record
    /// ended), down through its continuations. Returns its byte range, its first line, and how
    /// the walk up met the floor.
    pub(super) fn bounds(
        &self,
        buf: &[u8],
        hit_start: usize,
        hit_end: usize,
        hit_line: u64,
        floor: usize,
    ) -> (usize, usize, u64, Walk) {
        let (mut s, mut first) = (hit_start, hit_line);
        let mut walk = Walk {
            low: hit_start,
            below_floor: None,
        };
        let (hit_kind, hit_partial) = self.kind(&buf[hit_start..hit_end]);
        let mut kind = hit_kind;
        let mut steps = 0;
        while let Some((ps, pe)) = prev_line(buf, s) {
            if ps < floor {
                // Already part of an earlier record.
                walk.below_floor = Some(ps);
                break;
            }
            walk.low = ps;
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
        let (mut e, mut partial) = (hit_end, hit_partial);
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
            partial = npartial;
            steps += 1;
        }
        (s, e, first, walk)
    }

    /// The record's head line: klog header or JSON, envelope's time, host and identifier.
    /// `header` is `payload`'s klog header when the caller has it already.
    pub(super) fn head_of(
        env: &Envelope<'_>,
        payload: &[u8],
        header: Option<klog::KlogHeader<'_>>,
        sources: &mut Recent,
    ) -> (Head, usize) {
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
        if let Some(h) = header.or_else(|| klog::parse_header(payload)) {
            head.level = Some(h.level);
            head.source = Some(sources.get(h.source));
            head.stamp = Some(h.stamp);
            msg_start = h.msg_start;
        } else if klog::looks_like_json(payload) {
            head.json = true;
        }
        (head, msg_start)
    }

    /// The step for the hit line `[start, end)` (line `line_no`, index `hit` in its block), with
    /// no record reaching above `floor`: as the sequential scan would do it.
    pub(super) fn step(
        &mut self,
        buf: &[u8],
        hit: usize,
        (start, end): (usize, usize),
        line_no: u64,
        floor: usize,
    ) -> Step {
        let (rs, re, first, walk) = self.bounds(buf, start, end, line_no, floor);
        let before = prev_line(buf, rs).map_or(&b""[..], |(a, b)| &buf[a..b]);
        let p = self.prepare(&buf[rs..re.min(buf.len())], first, before);
        let used = rs + p.used;
        let mut second = None;
        let done_to = if used < start {
            // The record above finished before the hit line: that line starts its own.
            let (_, re, _, _) = self.bounds(buf, start, end, line_no, start);
            let before = prev_line(buf, start).map_or(&b""[..], |(a, b)| &buf[a..b]);
            let p = self.prepare(&buf[start..re.min(buf.len())], line_no, before);
            let used = start + p.used;
            second = Some(Box::new(p));
            used + 1
        } else {
            used + 1
        };
        Step {
            hit,
            walk,
            records: (p, second),
            done_to,
        }
    }

    /// Rebuilds and classifies one record (`rec` is its bytes, whole lines; `before` the line
    /// above it). Headerless lines join only until the record is complete (see
    /// [`wrap::complete`]): what follows a finished error in a paste is not part of it.
    pub(super) fn prepare(&mut self, rec: &[u8], first: u64, before: &[u8]) -> Prepared {
        let mut warnings = Vec::new();
        // Reused between records: most are a line or two, all alike.
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let mut head: Option<Head> = None;
        let mut prev_partial = false;
        let mut warned_binary = false;
        let mut used = 0usize;
        let mut last = first;
        // Where each physical line starts in `text`, to point an event at its error's line.
        let mut starts = std::mem::take(&mut self.starts);
        starts.clear();
        let mut offset = 0usize;
        for (line_no, raw) in (first..).zip(rec.split(|&c| c == b'\n')) {
            let line_end = offset + raw.len();
            offset = line_end + 1;
            if head.is_some() && !prev_partial && wrap::complete(&text, event::says_error) {
                break;
            }
            let raw = if raw.len() > self.opts.max_line {
                warnings.push((
                    line_no,
                    format!(
                        "line is {} bytes; only the first {} are classified",
                        raw.len(),
                        self.opts.max_line
                    ),
                ));
                &raw[..self.opts.max_line]
            } else {
                raw
            };
            let (env, header) = container::parse_klog(raw, self.hint);
            let payload: &[u8] = &env.payload;
            if !warned_binary && has_binary(payload) {
                warned_binary = true;
                warnings.push((
                    line_no,
                    "binary or invalid UTF-8 bytes (shown as U+FFFD)".into(),
                ));
            }
            starts.push((text.len(), line_no));
            match &head {
                None => {
                    let payload = &payload[payload
                        .iter()
                        .position(|c| !c.is_ascii_whitespace())
                        .unwrap_or(payload.len())..];
                    let (h, msg_start) = Self::head_of(&env, payload, header, &mut self.sources);
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
        let Some(mut head) = head else {
            self.text = text;
            self.starts = starts;
            return Prepared {
                used,
                warnings,
                body: None,
            };
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
        let mut src = head.source.take();
        let mut structured = None;
        if head.json {
            if let Some(j) = klog::parse_json(&text) {
                json_ts = j.ts;
                level = Some(j.level());
                src = j.caller.as_deref().map(Arc::from);
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
                    .map(Arc::new);
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
        let classification = classified.map(|c| {
            let (count, over_secs) = if head.describe {
                describe_count(&text)
            } else {
                (1, None)
            };
            // What the record's context adds to the classification.
            let (mut side, mut client) = (c.side, c.client);
            let (mut component, mut object, mut resource) = (None, None, None);
            if head.describe {
                side = event::Side::Client;
                client = Some("kubectl describe");
                if c.component.as_deref().is_none_or(|x| x == "client") {
                    component = Some(describe_from(&text));
                }
            } else if side == event::Side::Client && client == Some("client") {
                client = self.file_client().or(client);
            } else if side == event::Side::Apiserver {
                if let Some(cl) = self.file_client() {
                    side = event::Side::Client;
                    client = Some(cl);
                }
            }
            if c.object.is_none() && client == Some("kubectl") {
                if let Some((res, obj)) = kubectl_get_object(before) {
                    object = Some(Some(obj));
                    if c.resource.is_none() {
                        resource = Some(Some(res));
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
                component = Some(Some("secrets-encrypt".to_string()));
            }
            let operation = c.operation.unwrap_or(event::Operation::Unknown);
            let mut from = 0usize;
            let (mut line, mut more_lines) = (first, Vec::new());
            for (i, item) in c.items.iter().enumerate() {
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
                let at = at_err.or(anchor).map_or(first, |a| a.0);
                if i == 0 {
                    line = at;
                } else {
                    more_lines.push(at);
                }
                if let Some(a) = at_err.or(anchor) {
                    from = a.1 + 1;
                }
            }
            Classification {
                classified: c,
                side,
                client,
                component,
                object,
                resource,
                operation,
                count,
                over_secs,
                line,
                more_lines,
            }
        });
        self.text = text;
        self.starts = starts;
        Prepared {
            used,
            warnings,
            body: Some(Body {
                head,
                json_ts,
                first,
                last,
                level,
                src,
                classification,
                start,
            }),
        }
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
}
