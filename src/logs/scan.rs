//! One file, start to end: windows of whole records → prefilter hits → records → events.
//!
//! A mapped file is one window. A stream (gzip, stdin) is cut into windows of about `WINDOW`
//! bytes, each ending before the last record head so that no record is split; the rest is carried
//! into the next window. Within a window, `BLOCK`-sized runs of whole lines are searched in
//! parallel; the hits, and one line per block to follow the date, are then handled in order.

use super::container::{self, Container};
use super::event::{Event, Restart};
use super::klog;
use super::prefilter::{count_newlines, Hit, Prefilter};
use super::record::{
    line_around, prev_line, Head, LineKind, Prepared, Preparer, Step, MAX_RECORD_BYTES,
    MAX_RECORD_LINES,
};
use super::source::{self, LogFile, NodeFrom, Opened};
use super::time::{resolve_local, EventTime, TimeBasis, YearTracker};
use super::{Error, FileStats, ScanOptions, Warning};
use rayon::prelude::*;
use std::io::Read;

/// Parallel search unit.
const BLOCK: usize = 256 << 10;
/// Blocks searched and prepared together (4 MiB) before they are committed in order: their hits
/// and records are held at once, so memory stays bounded however many lines hold a needle.
const PREPARE_GROUP: usize = 16;
/// Stream window.
const WINDOW: usize = 8 << 20;
/// Stream read size.
const CHUNK: usize = 1 << 20;
/// Warnings kept per file; the rest are counted.
const MAX_WARNINGS: usize = 50;
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
    /// Prepares records on this thread: for the stream cut and for the few hits whose record
    /// a worker could not know (it starts above the worker's block).
    prep: Preparer<'a>,
    /// The event refilled for records past the listing cap.
    scratch: Option<Event>,
    /// `WINDOW`, `CHUNK` and `BLOCK`; smaller in tests, to cross many window and block
    /// boundaries.
    window_size: usize,
    chunk_size: usize,
    block_size: usize,
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
            prep: Preparer::new(file, opts, Container::Plain),
            scratch: None,
            window_size: WINDOW,
            chunk_size: CHUNK,
            block_size: BLOCK,
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

/// Splits `buf` into runs of whole lines of about `size` bytes: block `i` starts at the first
/// line that starts at or after `i * size`. Each boundary is found on its own (in parallel for a
/// big buffer), so no thread walks the whole mapping before the search starts: the first touch
/// of a mapped page costs a page fault, and doing all of them on one thread was a tenth of the
/// scan of a 1 GB log.
fn blocks(buf: &[u8], size: usize) -> Vec<(usize, usize)> {
    let size = size.max(1);
    let n = buf.len().div_ceil(size);
    let start = |i: usize| -> usize {
        match i.checked_mul(size) {
            Some(0) => 0,
            Some(at) if at < buf.len() => {
                memchr::memchr(b'\n', &buf[at - 1..]).map_or(buf.len(), |p| at + p)
            }
            _ => buf.len(),
        }
    };
    let starts: Vec<usize> = if n > 8 {
        (0..=n).into_par_iter().map(start).collect()
    } else {
        (0..=n).map(start).collect()
    };
    starts
        .windows(2)
        .filter(|w| w[0] < w[1])
        .map(|w| (w[0], w[1]))
        .collect()
}

/// The steps of one block's hits, as a worker sees them: with no record reaching above the
/// block's start. The ones a record from an earlier block changes are redone in order.
fn block_steps(
    prep: &mut Preparer<'_>,
    buf: &[u8],
    (bs, be): (usize, usize),
    hits: &[(Hit, u64)],
    line_base: u64,
    mut steps: Vec<Step>,
) -> Vec<Step> {
    steps.clear();
    steps.reserve(hits.len());
    let mut done_to = bs;
    for (h, &(hit, before)) in hits.iter().enumerate() {
        let start = bs + hit.start;
        if start < done_to {
            continue;
        }
        let end = (bs + hit.end).min(be);
        let step = prep.step(buf, h, (start, end), line_base + before + 1, done_to);
        done_to = step.done_to;
        steps.push(step);
    }
    steps
}

/// Where records prepared ahead of their place are numbered from: far above any line they can
/// reach back to (`MAX_RECORD_LINES`), so numbering never underflows before `Step::renumber`.
const REL: u64 = 1 << 40;

/// One block, searched and its records prepared.
struct Searched {
    range: (usize, usize),
    hits: Vec<(Hit, u64)>,
    newlines: u64,
    steps: Vec<Step>,
}

/// How far a window has been committed: lines before the next block, and where the next record
/// may start.
struct Position {
    line_base: u64,
    done_to: usize,
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
    ///
    /// Per group of `PREPARE_GROUP` blocks, in parallel: the prefilter searches each block and its
    /// hit records are prepared (one `Preparer` per worker), numbered from `REL` since the
    /// block's first line number is not known yet. Then, in file order and while the next group
    /// is being prepared, each block's first line is dated and its records committed. A prepared
    /// record is used only if the sequential scan would have found the same one (see
    /// `Walk::same_with`); otherwise it is prepared again here. So the output does not depend on
    /// the number of threads or the block size.
    fn window(&mut self, buf: &[u8], base: u64, sink: &mut Sink) -> u64 {
        self.prep.new_window();
        if !self.detected {
            self.detected = true;
            self.detect(buf);
            self.prep.hint = self.hint();
        }
        self.bytes += buf.len() as u64;
        let ranges = blocks(buf, self.block_size);
        let (pf, file, opts, hint) = (self.pf, self.file, self.opts, self.prep.hint);
        // Step vectors committed and emptied, for the next blocks: a block's steps are a few
        // hundred KiB, and fresh ones for every block were a tenth of the time in page faults.
        let spare: std::sync::Mutex<Vec<Vec<Step>>> = Default::default();
        let prepare = |group: &[(usize, usize)]| -> Vec<Searched> {
            let work = |prep: &mut Preparer<'_>, &(bs, be): &(usize, usize)| {
                let (hits, newlines) = pf.scan_block(&buf[bs..be]);
                let spare = spare.lock().ok().and_then(|mut s| s.pop());
                let steps = block_steps(prep, buf, (bs, be), &hits, REL, spare.unwrap_or_default());
                Searched {
                    range: (bs, be),
                    hits,
                    newlines,
                    steps,
                }
            };
            if group.len() > 1 {
                group
                    .par_iter()
                    .map_init(|| Preparer::new(file, opts, hint), work)
                    .collect()
            } else {
                let mut prep = Preparer::new(file, opts, hint);
                group.iter().map(|b| work(&mut prep, b)).collect()
            }
        };
        let mut at = Position {
            line_base: base,
            done_to: 0,
        };
        let mut groups = ranges.chunks(PREPARE_GROUP);
        let mut ready = groups.next().map(prepare);
        while let Some(current) = ready.take() {
            // Commit this group while the next one is searched and prepared.
            let next = groups.next();
            let (prepared, ()) = match next {
                Some(g) => rayon::join(
                    || Some(prepare(g)),
                    || self.commit_group(buf, current, &mut at, sink, &spare),
                ),
                None => (None, self.commit_group(buf, current, &mut at, sink, &spare)),
            };
            ready = prepared;
        }
        at.line_base - base
    }

    /// Commits a group of searched blocks in order (see `window`).
    fn commit_group(
        &mut self,
        buf: &[u8],
        group: Vec<Searched>,
        at: &mut Position,
        sink: &mut Sink,
        spare: &std::sync::Mutex<Vec<Vec<Step>>>,
    ) {
        for block in group {
            let (bs, be) = block.range;
            let line_base = at.line_base;
            // One line per block keeps the year tracker in step with the file.
            if bs >= at.done_to {
                let (ls, le) = line_around(buf, bs);
                self.anchor(&buf[ls..le]);
            }
            let mut steps = block.steps;
            let mut ready = steps.iter_mut().peekable();
            for (h, &(hit, before)) in block.hits.iter().enumerate() {
                let start = bs + hit.start;
                let mut step = None;
                while let Some(s) = ready.next_if(|s| s.hit <= h) {
                    if s.hit == h {
                        step = Some(s);
                    }
                }
                if start < at.done_to {
                    continue;
                }
                // Committed in place: a step is too big to move for every line.
                let redone;
                let step: &Step = match step {
                    Some(s) if s.walk.same_with(at.done_to) => {
                        s.renumber(REL, line_base);
                        s
                    }
                    _ => {
                        let end = (bs + hit.end).min(be);
                        let line_no = line_base + before + 1;
                        redone = self.prep.step(buf, h, (start, end), line_no, at.done_to);
                        &redone
                    }
                };
                at.done_to = step.done_to;
                self.commit(&step.records.0, sink);
                if let Some(r) = &step.records.1 {
                    self.commit(r, sink);
                }
            }
            at.line_base += block.newlines;
            steps.clear();
            if let Ok(mut s) = spare.lock() {
                s.push(steps);
            }
        }
    }

    /// A whole file in memory (mapped): one window.
    fn whole(&mut self, buf: &[u8], sink: &mut Sink) {
        self.lines += self.window(buf, 0, sink);
        if buf.last().is_some_and(|&c| c != b'\n') {
            self.lines += 1;
        }
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

    /// A block's first line: follow the date.
    fn anchor(&mut self, line: &[u8]) {
        let env = container::parse(line, self.hint());
        // Trimmed at both ends: not always the payload a bare klog line's header was found in.
        let payload = klog::trim(&env.payload);
        let (head, _) = Preparer::head_of(&env, payload, None, &mut self.prep.sources);
        let ts = if head.json {
            klog::parse_json(payload).and_then(|j| j.ts)
        } else {
            None
        };
        self.time_of(&head, ts);
    }

    /// Dates and records one prepared record, in file order: its warnings, its time (which the
    /// year tracker follows), its events and a kube-apiserver start.
    fn commit(&mut self, p: &Prepared, sink: &mut Sink) {
        for (line, message) in &p.warnings {
            self.warn(Some(*line), message.clone());
        }
        let Some(b) = &p.body else {
            return;
        };
        let time = self.time_of(&b.head, b.json_ts);
        if b.classification.is_none() && b.start.is_none() {
            return;
        }
        let time = time.unwrap_or(EventTime {
            text: "unknown".into(),
            basis: TimeBasis::Unknown,
            micros: 0,
        });
        let node = self.node(b.head.host.as_deref());
        let (first, last, level, src) = (b.first, b.last, b.level, &b.src);
        if let Some(k) = &b.classification {
            let c = &*k.classified;
            if last > first {
                self.rejoined += 1;
            }
            let component = k
                .component
                .as_ref()
                .map_or(c.component.as_deref(), |o| o.as_deref());
            let object = k
                .object
                .as_ref()
                .map_or(c.object.as_deref(), |o| o.as_deref());
            let resource = k
                .resource
                .as_ref()
                .map_or(c.resource.as_deref(), |o| o.as_deref());
            let (side, client, operation) = (k.side, k.client, k.operation);
            let (count, over_secs) = (k.count, k.over_secs);
            let lines = std::iter::once(&k.line).chain(&k.more_lines);
            for (item, &line) in c.items.iter().zip(lines) {
                self.events += 1;
                if sink.listing() {
                    sink.event(Event {
                        node: node.clone(),
                        time: time.text.clone(),
                        time_basis: time.basis,
                        level,
                        source: src.as_deref().map(str::to_string),
                        component: component.map(str::to_string),
                        operation,
                        resource: resource.map(str::to_string),
                        key: item.key.clone(),
                        error: item.error.clone(),
                        class: item.class,
                        revision: item.revision,
                        side,
                        client: client.map(str::to_string),
                        object: object.map(str::to_string),
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
                    set_opt(&mut e.component, component);
                    e.operation = operation;
                    set_opt(&mut e.resource, resource);
                    set_opt(&mut e.key, item.key.as_deref());
                    set(&mut e.error, &item.error);
                    e.class = item.class;
                    e.revision = item.revision;
                    e.side = side;
                    set_opt(&mut e.client, client);
                    set_opt(&mut e.object, object);
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
        if let Some((evidence, version)) = &b.start {
            // A journald stream mixes units: only kube-apiserver's starts count.
            if b.head
                .ident
                .as_deref()
                .is_none_or(|i| i.contains("apiserver") || i == "hyperkube")
            {
                sink.restarts.push(Restart {
                    node,
                    time: time.text,
                    time_basis: time.basis,
                    evidence: evidence.clone(),
                    version: version.clone(),
                    file: self.file.display.clone(),
                    line: first,
                    micros: time.micros,
                    file_index: self.index,
                });
            }
        }
    }

    /// Where to cut a stream buffer: before the last record head among its complete lines, so
    /// the record it starts can still grow. 0 when nothing can be cut yet; everything complete when
    /// the record at the end has grown past `MAX_RECORD_BYTES`.
    fn cut_point(&self, buf: &[u8]) -> usize {
        // Line kinds are remembered by address, and the buffer's bytes moved since the last window.
        self.prep.new_window();
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
        let mut kind = self.prep.kind(&buf[s..e]).0;
        let mut steps = 0;
        loop {
            let Some((ps, pe)) = prev_line(buf, s) else {
                return give_up;
            };
            let (pk, ppartial) = self.prep.kind(&buf[ps..pe]);
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
    fn stream(&mut self, reader: Box<dyn Read + Send>, sink: &mut Sink) {
        // Inflating is as much work as scanning an error-only log: a thread reads (and inflates)
        // the next chunks while the windows are scanned. It makes the same reads the scan would
        // (of `chunk_size` bytes), so the windows, and everything else, are the same.
        let chunk = self.chunk_size;
        let (full_tx, full) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(4);
        let (empty, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::scope(|scope| {
            let read = move || read_chunks(reader, chunk, &full_tx, &empty_rx);
            let started = std::thread::Builder::new()
                .name("log-read".into())
                .spawn_scoped(scope, read);
            self.stream_from(&full, &empty, started.is_ok(), sink);
        });
    }

    /// The scan of `stream`, from the chunks the reading thread sends (returned through
    /// `empty` for reuse).
    fn stream_from(
        &mut self,
        full: &std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
        empty: &std::sync::mpsc::Sender<Vec<u8>>,
        started: bool,
        sink: &mut Sink,
    ) {
        let window = self.window_size;
        let mut buf: Vec<u8> = Vec::with_capacity(window + self.chunk_size);
        let mut base: u64 = 0;
        let mut skipping = false;
        let mut eof = false;
        while !eof {
            let old = buf.len();
            let failed = match full.recv() {
                Ok(Ok(piece)) => {
                    buf.extend_from_slice(&piece);
                    let _ = empty.send(piece);
                    None
                }
                Ok(Err(e)) => Some(e.to_string()),
                // The reader ends after the end of data or an error, and says so first.
                Err(_) if started => None,
                Err(_) => Some("no thread to read it".to_string()),
            };
            if let Some(e) = failed {
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
            }
            if buf.len() == old {
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

/// Reads `reader` in pieces of at most `chunk` bytes until its end (an empty piece) or an
/// error, sending each; buffers come back through `empty`.
fn read_chunks(
    mut reader: Box<dyn Read + Send>,
    chunk: usize,
    full: &std::sync::mpsc::SyncSender<std::io::Result<Vec<u8>>>,
    empty: &std::sync::mpsc::Receiver<Vec<u8>>,
) {
    loop {
        let mut piece = empty.try_recv().unwrap_or_default();
        piece.resize(chunk, 0);
        let read = loop {
            match reader.read(&mut piece) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        match read {
            Ok(n) => {
                piece.truncate(n);
                if full.send(Ok(piece)).is_err() || n == 0 {
                    return;
                }
            }
            Err(e) => {
                let _ = full.send(Err(e));
                return;
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

    /// Scans `data` as one mapped window cut into blocks of `block` bytes, on `threads` threads.
    fn blocked(data: &[u8], block: usize, threads: usize) -> (Sink, FileStats) {
        let f = file();
        let opts = ScanOptions {
            year: Some(2021),
            tz: None,
            max_line: 1 << 20,
        };
        let pf = Prefilter::new();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        pool.install(|| {
            let mut sink = Sink::default();
            let mut s = FileScanner::new(&f, 0, &opts, &pf);
            s.block_size = block;
            s.whole(data, &mut sink);
            let stats = s.finish(false, &mut sink);
            (sink, stats)
        })
    }

    fn same(a: &(Sink, FileStats), b: &(Sink, FileStats), what: &str) {
        assert_eq!(a.0.events, b.0.events, "{what}");
        assert_eq!(a.0.restarts, b.0.restarts, "{what}");
        assert_eq!(a.0.warnings, b.0.warnings, "{what}");
        assert_eq!(a.0.unlisted, b.0.unlisted, "{what}");
        assert_eq!(a.1, b.1, "{what}");
    }

    #[test]
    fn blocks_and_threads_do_not_change_the_records() {
        let mut data = corpus();
        // A record whose head is blocks above its hit, and a start line.
        data.extend_from_slice(b"I1116 20:09:00.000001 1 server.go:1] Version: v1.21.14\n");
        data.extend_from_slice(b"E1116 20:09:52.000001 1 cacher.go:419] cacher (*core.Secret): unexpected ListAndWatch error:\n");
        for _ in 0..40 {
            data.extend_from_slice(b"  failed to list *core.Secret:\n");
        }
        data.extend_from_slice(
            b"  unable to transform key \"/registry/secrets/a/b\": invalid padding on input\n",
        );
        let reference = blocked(&data, BLOCK, 1);
        assert_eq!(reference.0.events.len(), 44);
        assert_eq!(reference.0.restarts.len(), 1);
        for block in [1, 7, 64, 100, 333, 4096] {
            for threads in [1, 2, 3] {
                same(
                    &reference,
                    &blocked(&data, block, threads),
                    &format!("block {block}, {threads} threads"),
                );
            }
        }
    }

    #[test]
    fn blocks_are_whole_lines_covering_the_buffer() {
        for data in [&b""[..], b"\n", b"a", b"ab\ncd\n\nef", b"\n\n\n"] {
            for size in [1, 2, 3, 100] {
                let b = blocks(data, size);
                let mut at = 0;
                for &(s, e) in &b {
                    assert_eq!(s, at);
                    assert!(e > s);
                    assert!(s == 0 || data[s - 1] == b'\n');
                    at = e;
                }
                assert_eq!(at, data.len(), "{data:?} {size}");
            }
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
            let blockwise = blocked(&data, 1 + round % 50, 2);
            assert_eq!(m.events, blockwise.0.events, "round {round}, blocks");
            assert_eq!(m.warnings, blockwise.0.warnings, "round {round}, blocks");
            assert_eq!(ma, blockwise.1, "round {round}, blocks");
        }
    }
}
