//! kube-apiserver logs → typed encryption/transform error events.
//!
//! Knows log formats, not snapshots, keys or decryption. The flow for one file:
//!
//! ```text
//! source (open: map | gzip/stdin stream) ──> windows of whole records ──> 256 KiB blocks
//!   ──> per block, in parallel: prefilter (Teddy; newline counts) ──> hit lines
//!       ──> record (walk to the header above, continuation lines below; container → payload;
//!           wrap; klog / JSON header; classify)
//!   ──> in file order (overlapped with the next group's blocks): time ──> Event, Restart
//! all files ──> aggregate (node × key × error)
//! ```
//!
//! Most lines are never parsed: only lines holding one of the prefilter's literals (and one line
//! per block, to follow the date) are. Memory stays bounded: files are mapped or streamed in
//! windows of a few MiB, and a line is classified on at most `ScanOptions::max_line` bytes.

pub mod aggregate;
pub mod container;
pub mod event;
pub mod klog;
pub mod prefilter;
mod record;
mod scan;
pub mod source;
pub mod time;
pub mod wrap;

pub use aggregate::Aggregate;
pub use container::Container;
pub use event::{ErrorClass, Event, Operation, Restart};
pub use klog::Level;
pub use source::{LogInput, NodeFrom, Skipped};
pub use time::{Offset, TimeBasis};

use serde::Serialize;
use std::path::Path;

/// Why logs could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input that does not exist, cannot be opened, or fails while being read.
    #[error("{path}: {source}")]
    Input {
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn input(path: &Path, source: std::io::Error) -> Error {
        Error::Input {
            path: path.display().to_string(),
            source,
        }
    }
}

/// How to read the logs.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// The year of each file's first dated line, for klog and journald `short` times.
    pub year: Option<i32>,
    /// The offset of klog and journald `short` local times.
    pub tz: Option<Offset>,
    /// Lines longer than this are cut to it before they are classified (with a warning).
    pub max_line: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            year: None,
            tz: None,
            max_line: 1 << 20,
        }
    }
}

/// A problem with part of an input that did not stop the scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub file: String,
    pub line: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// What was read from one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileStats {
    pub file: String,
    pub node: String,
    pub node_from: NodeFrom,
    /// `<container>/<payload>`: `plain/klog`, `cri/klog`, `journal-json/klog`, `plain/json`, …
    pub format: String,
    pub gzip: bool,
    /// Bytes read (after decompression).
    pub bytes: u64,
    pub lines: u64,
    pub events: u64,
    pub restarts: u64,
    /// Event records that spanned several physical lines (hard-wrapped or multi-line messages).
    pub rejoined: u64,
    /// Log lines were recognised (klog, JSON, logrus, an envelope) or an event was found: the
    /// file was read as a log, not as unrelated text.
    pub recognised: bool,
}

/// Everything found in a set of logs. Same inputs, same value.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LogScan {
    pub files: Vec<FileStats>,
    /// In input order: by file (as given; directories in natural order), then line. At most
    /// 100,000; the rest are counted in `events_not_listed` and in the aggregates.
    pub events: Vec<Event>,
    pub events_not_listed: u64,
    pub restarts: Vec<Restart>,
    /// Per node × etcd key × error, ordered by node, key, error.
    pub aggregates: Vec<Aggregate>,
    pub warnings: Vec<Warning>,
    /// Files under the given directories that were not read, and why.
    pub skipped: Vec<Skipped>,
}

impl LogScan {
    /// Were any encryption/transform errors found?
    pub fn has_errors(&self) -> bool {
        !self.events.is_empty() || self.events_not_listed > 0
    }

    /// Was anything read as a log? False when every input was skipped or held no log lines:
    /// "no errors" would then claim more than was looked at.
    pub fn recognised_any(&self) -> bool {
        self.files.iter().any(|f| f.recognised)
    }
}

/// Scans logs held in memory, as `(node, name shown in events, bytes)`: the data `demo` carries
/// in the binary. Nothing is written to disk.
pub fn scan_memory(inputs: &[(&str, &str, &[u8])], opts: &ScanOptions) -> LogScan {
    let pf = prefilter::Prefilter::new();
    let mut sink = scan::Sink::default();
    let mut stats = Vec::with_capacity(inputs.len());
    for (index, (node, display, bytes)) in inputs.iter().enumerate() {
        let file = source::LogFile {
            path: None,
            display: display.to_string(),
            node: node.to_string(),
            node_from: NodeFrom::Given,
            restart: None,
        };
        stats.push(scan::scan_slice(&file, index, opts, &pf, bytes, &mut sink));
    }
    finish(stats, sink, Vec::new())
}

/// Scans log text already in memory (one file's worth), as `scan` would a file named `name` on
/// node `node`. For benchmarks and for callers that hold logs extracted from elsewhere.
pub fn scan_bytes(name: &str, node: &str, data: &[u8], opts: &ScanOptions) -> LogScan {
    let file = source::LogFile {
        path: None,
        display: name.to_string(),
        node: node.to_string(),
        node_from: NodeFrom::Given,
        restart: None,
    };
    let pf = prefilter::Prefilter::new();
    let mut sink = scan::Sink::default();
    let stats = scan::scan_slice(&file, 0, opts, &pf, data, &mut sink);
    finish(vec![stats], sink, Vec::new())
}

/// Reads every input and returns the events, restarts, aggregates, per-file statistics and
/// warnings. Fails only when an input cannot be opened or read at all.
pub fn scan(inputs: &[LogInput], opts: &ScanOptions) -> Result<LogScan, Error> {
    let (files, notes, skipped) = source::expand(inputs)?;
    let pf = prefilter::Prefilter::new();
    let mut sink = scan::Sink::default();
    let mut stats = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        stats.push(scan::scan_file(file, index, opts, &pf, &mut sink)?);
    }
    let mut scan = finish(stats, sink, notes);
    scan.skipped = skipped;
    Ok(scan)
}

/// Orders events, merges restarts, aggregates.
fn finish(mut files: Vec<FileStats>, sink: scan::Sink, mut warnings: Vec<Warning>) -> LogScan {
    let scan::Sink {
        mut events,
        unlisted,
        aggregator,
        restarts,
        warnings: found,
        ..
    } = sink;
    events.sort_by_key(|e| (e.file_index, e.line));
    let restarts = aggregate::dedupe_restarts(restarts);
    for f in files.iter_mut() {
        f.restarts = restarts.iter().filter(|r| r.file == f.file).count() as u64;
    }
    warnings.extend(found);
    if unlisted > 0 {
        warnings.push(Warning {
            file: "-".into(),
            line: None,
            message: format!(
                "{unlisted} more events not listed (the first {} are); the aggregates count them all",
                scan::MAX_EVENTS
            ),
        });
    }
    if aggregator.overflow > 0 {
        warnings.push(Warning {
            file: "-".into(),
            line: None,
            message: format!(
                "{} events name more than {} distinct node x key x error groups; they are counted here but not aggregated",
                aggregator.overflow,
                aggregate::MAX_GROUPS
            ),
        });
    }
    LogScan {
        aggregates: aggregator.finish(&restarts),
        files,
        events,
        events_not_listed: unlisted,
        restarts,
        warnings,
        skipped: Vec::new(),
    }
}
