//! `logs`: kube-apiserver logs → encryption/transform error events, per-key summary, restarts.
//!
//! Exit 0 when logs were read and no encryption error is found, 1 when some are, 2 when an input
//! cannot be read, 3 when nothing given was recognised as a log (every file skipped, or no klog,
//! JSON, logrus or envelope line in any of them).

use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::{CmdResult, Error, Outcome};
use crate::logs::{self, Event, LogInput, LogScan, Offset, ScanOptions, TimeBasis};
use crate::output::{self, write_typed_line};
use rayon::prelude::*;
use std::io::Write;

/// How to date yearless and local log times; shared by every command that reads logs.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TimeArgs {
    /// Year of each log's first line, for klog and journald `short` times (which carry none).
    /// December → January rollovers within a file are followed.
    #[arg(long, value_name = "YEAR", value_parser = clap::value_parser!(i32).range(1970..=9999))]
    pub year: Option<i32>,
    /// UTC offset of klog and journald `short` times, e.g. `+00:00` or `-05:00`. Without it those
    /// times are shown as local, unless the log carries its own timestamps (CRI, journald json,
    /// kubectl --timestamps).
    #[arg(long, value_name = "+HH:MM", value_parser = parse_tz, allow_hyphen_values = true)]
    pub tz: Option<Offset>,
}

impl TimeArgs {
    pub fn options(&self) -> ScanOptions {
        ScanOptions {
            year: self.year,
            tz: self.tz,
            ..ScanOptions::default()
        }
    }
}

fn parse_tz(s: &str) -> Result<Offset, String> {
    Offset::parse(s).ok_or_else(|| format!("{s:?} is not an offset like +05:30, -08:00 or Z"))
}

fn parse_input(s: &str) -> Result<LogInput, String> {
    if s.is_empty() {
        return Err("empty path".into());
    }
    Ok(LogInput::parse(s))
}

/// kube-apiserver logs for commands that correlate them with a snapshot (`report` flattens this).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct LogSourceArgs {
    /// A kube-apiserver log: a file (plain or .gz), a directory (must-gather, /var/log/pods), or
    /// `-` for stdin, optionally prefixed with the node name. Repeatable.
    #[arg(long = "log", value_name = "[NODE=]PATH", value_parser = parse_input)]
    pub log: Vec<LogInput>,
    #[command(flatten)]
    pub time: TimeArgs,
}

impl LogSourceArgs {
    /// Scans the logs, or returns None when none were given.
    pub fn scan(&self) -> Result<Option<LogScan>, Error> {
        if self.log.is_empty() {
            return Ok(None);
        }
        for l in &self.log {
            super::input::log_path(&l.path)?;
        }
        logs::scan(&self.log, &self.time.options())
            .map(Some)
            .map_err(|e| Error::new(e.to_string()))
    }
}

/// Find encryption/transform errors in kube-apiserver logs.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Log files or directories, optionally prefixed with the node name; `-` reads stdin.
    #[arg(value_name = "[NODE=]PATH", required = true, value_parser = parse_input)]
    pub paths: Vec<LogInput>,
    #[command(flatten)]
    pub time: TimeArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    for p in &args.paths {
        guard.input(&p.path);
    }
    let (fmt, mut out) = args
        .out
        .prepare("logs", formats("logs"), &guard, Mode::Private)?;
    for p in &args.paths {
        super::input::log_path(&p.path)?;
    }
    let mut scan =
        logs::scan(&args.paths, &args.time.options()).map_err(|e| Error::new(e.to_string()))?;
    match fmt {
        Fmt::Json => write_json(&mut out, &mut scan)?,
        Fmt::Jsonl => write_lines(&mut out, &scan)?,
        _ => render_text(&mut out, &scan)?,
    }
    out.finish()?;
    Ok(if scan.has_errors() {
        Outcome::Problems
    } else if !scan.recognised_any() {
        Outcome::NothingRecognised
    } else {
        Outcome::Clean
    })
}

/// Events rendered per parallel task…
const EVENT_CHUNK: usize = 1024;
/// …and tasks rendered before they are written: the output of the 100,000 listed events (70 MB
/// of JSON) is never held whole.
const CHUNKS_AT_ONCE: usize = 8;

/// Writes the events in order, each rendered by `render(buffer, scratch, index, event)` into its
/// chunk's buffer, chunks in parallel: rendering them one by one after the scan was a tenth of
/// an error-only log's run.
fn write_events<R>(out: &mut impl Write, events: &[Event], render: R) -> std::io::Result<()>
where
    R: Fn(&mut Vec<u8>, &mut Vec<u8>, usize, &Event) -> std::io::Result<()> + Sync,
{
    let group = EVENT_CHUNK * CHUNKS_AT_ONCE;
    for (g, events) in events.chunks(group).enumerate() {
        let rendered: Vec<std::io::Result<Vec<u8>>> = events
            .par_chunks(EVENT_CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut buf = Vec::with_capacity(chunk.len() * 768);
                let mut scratch = Vec::new();
                let base = g * group + c * EVENT_CHUNK;
                for (i, e) in chunk.iter().enumerate() {
                    render(&mut buf, &mut scratch, base + i, e)?;
                }
                Ok(buf)
            })
            .collect();
        for r in rendered {
            out.write_all(&r?)?;
        }
    }
    Ok(())
}

/// The pretty JSON `output::write_json` writes, byte for byte, with the events rendered by
/// `write_events`: the rest of the scan is serialized with no events, and the events array is
/// written where its `[]` was.
fn write_json(out: &mut impl Write, scan: &mut LogScan) -> std::io::Result<()> {
    // The top-level key at its indentation: strings escape newlines, so only the structure has
    // a newline followed by two spaces.
    const EMPTY: &[u8] = b"\n  \"events\": []";
    if scan.events.len() <= EVENT_CHUNK {
        return output::write_json(out, scan);
    }
    let events = std::mem::take(&mut scan.events);
    let shell = serde_json::to_vec_pretty(&*scan);
    scan.events = events;
    let shell = shell?;
    let Some(at) = memchr::memmem::find(&shell, EMPTY) else {
        return output::write_json(out, scan);
    };
    let open = at + EMPTY.len() - 1;
    out.write_all(&shell[..open])?;
    // serde_json's pretty array: `[`, each element on its own line two levels in (the first
    // without a comma), then `]` on a line one level in.
    write_events(out, &scan.events, |buf, scratch, i, e| {
        buf.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
        scratch.clear();
        serde_json::to_writer_pretty(&mut *scratch, e)?;
        let mut rest = &scratch[..];
        while let Some(p) = memchr::memchr(b'\n', rest) {
            buf.extend_from_slice(&rest[..=p]);
            buf.extend_from_slice(b"    ");
            rest = &rest[p + 1..];
        }
        buf.extend_from_slice(rest);
        Ok(())
    })?;
    out.write_all(b"\n  ]")?;
    out.write_all(&shell[open + 1..])?;
    out.write_all(b"\n")
}

/// JSON Lines: a row per file, event, restart, aggregate and warning (`{"type": …}`), then a
/// `summary` row with the count of events not listed.
fn write_lines(out: &mut impl Write, scan: &LogScan) -> std::io::Result<()> {
    for f in &scan.files {
        write_typed_line(out, "file", f)?;
    }
    write_events(out, &scan.events, |buf, _, _, e| {
        write_typed_line(buf, "event", e)
    })?;
    for r in &scan.restarts {
        write_typed_line(out, "restart", r)?;
    }
    for a in &scan.aggregates {
        write_typed_line(out, "aggregate", a)?;
    }
    for w in &scan.warnings {
        write_typed_line(out, "warning", w)?;
    }
    #[derive(serde::Serialize)]
    struct Summary {
        events_not_listed: u64,
    }
    write_typed_line(
        out,
        "summary",
        &Summary {
            events_not_listed: scan.events_not_listed,
        },
    )
}

/// Makes log-derived text safe for a terminal: control characters are escaped.
fn clean(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn basis_note(b: TimeBasis) -> &'static str {
    match b {
        TimeBasis::Utc => "",
        TimeBasis::Local => " (local time; pass --tz)",
        TimeBasis::NoYear => " (no year, local time; pass --year and --tz)",
        TimeBasis::Unknown => "",
    }
}

fn lines(first: u64, last: u64) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}-{last}")
    }
}

/// The text report: files, restarts, per-key summary, events, warnings, one summary line.
pub fn render_text<W: Write>(out: &mut W, scan: &LogScan) -> std::io::Result<()> {
    writeln!(out, "Files")?;
    for f in &scan.files {
        writeln!(
            out,
            "  {:<16} {:<26} {:>10} lines {:>12} bytes {:>6} events  {}{}",
            clean(&f.node),
            f.format,
            f.lines,
            f.bytes,
            f.events,
            clean(&f.file),
            if f.gzip { " (gzip)" } else { "" }
        )?;
    }
    if !scan.restarts.is_empty() {
        writeln!(out, "\nkube-apiserver starts")?;
        for r in &scan.restarts {
            writeln!(
                out,
                "  {:<16} {}{}  {}  {}:{}",
                clean(&r.node),
                r.time,
                basis_note(r.time_basis),
                clean(&r.evidence),
                clean(&r.file),
                r.line
            )?;
        }
    }
    if !scan.aggregates.is_empty() {
        writeln!(out, "\nEncryption errors by node, key and error")?;
        for a in &scan.aggregates {
            writeln!(
                out,
                "  {}  {}",
                clean(&a.node),
                a.key.as_deref().map_or("(no key)".to_string(), clean)
            )?;
            writeln!(out, "      {}", clean(&a.error))?;
            let interval = match a.median_interval_secs {
                Some(s) if a.cacher_loop => format!(", every ~{s} s (cacher reinitializing)"),
                Some(s) => format!(", median interval {s} s"),
                None => String::new(),
            };
            let ops: Vec<&str> = a.operations.iter().map(|o| o.name()).collect();
            let comps: Vec<String> = a
                .components
                .iter()
                .map(|(c, n)| format!("{} x{n}", clean(c)))
                .collect();
            writeln!(
                out,
                "      {} events, {} .. {}{}{}, {} restarts in between; {}; {}",
                a.count,
                a.first_seen,
                a.last_seen,
                basis_note(a.time_basis),
                interval,
                a.restarts,
                ops.join(", "),
                comps.join(", ")
            )?;
        }
    }
    if !scan.events.is_empty() {
        writeln!(out, "\nEvents")?;
        for e in &scan.events {
            writeln!(
                out,
                "  {}  {}  {}  {}  {}  {}",
                e.time,
                clean(&e.node),
                e.level.map_or('-', |l| l.letter()),
                e.source.as_deref().map_or("-".into(), clean),
                e.operation.name(),
                e.component.as_deref().map_or("-".into(), clean),
            )?;
            let record = if e.record_line != e.line || e.end_line != e.line {
                format!(" (record {})", lines(e.record_line, e.end_line))
            } else {
                String::new()
            };
            let side = match (&e.client, &e.object) {
                (Some(c), Some(o)) => format!("  client {}  object {}", clean(c), clean(o)),
                (Some(c), None) => format!("  client {}", clean(c)),
                (None, _) => String::new(),
            };
            let count = if e.count > 1 {
                format!("  x{}", e.count)
            } else {
                String::new()
            };
            writeln!(
                out,
                "      key {}  error {}  at {}:{}{}{}{}",
                e.key.as_deref().map_or("-".into(), clean),
                clean(&e.error),
                clean(&e.file),
                e.line,
                record,
                side,
                count
            )?;
        }
    }
    if !scan.skipped.is_empty() {
        writeln!(out, "\nSkipped")?;
        for k in &scan.skipped {
            writeln!(out, "  {}: {}", clean(&k.file), clean(&k.reason))?;
        }
    }
    if !scan.warnings.is_empty() {
        writeln!(out, "\nWarnings")?;
        for w in &scan.warnings {
            writeln!(out, "  {}", clean(&w.to_string()))?;
        }
    }
    let nodes: std::collections::BTreeSet<&str> =
        scan.aggregates.iter().map(|a| a.node.as_str()).collect();
    writeln!(
        out,
        "\n{} encryption error events ({} node/key/error groups) on {} nodes; {} kube-apiserver starts; {} warnings",
        scan.events.len() as u64 + scan.events_not_listed,
        scan.aggregates.len(),
        nodes.len(),
        scan.restarts.len(),
        scan.warnings.len()
    )?;
    if !scan.recognised_any() {
        writeln!(
            out,
            "nothing was recognised as a log: no errors found is not \"no errors\" (exit 3)"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More events than one group of chunks, with quotes, escapes and non-ASCII in keys.
    fn scan_of_many() -> LogScan {
        let mut t = String::new();
        for i in 0..(EVENT_CHUNK * CHUNKS_AT_ONCE + 1500) {
            let (m, s) = (i / 60 % 60, i % 60);
            t += &format!(
                "E1116 20:{m:02}:{s:02}.{i:06} 1 cacher.go:419] cacher (*core.Secret): unexpected ListAndWatch error: failed to list *core.Secret: unable to transform key \"/registry/secrets/ns/n\\\"é\\t{}\": invalid padding on input; reinitializing...\n",
                i % 7
            );
        }
        logs::scan_bytes("t.log", "node-a", t.as_bytes(), &ScanOptions::default())
    }

    #[test]
    fn chunked_json_is_serde_jsons_pretty_json() {
        let mut scan = scan_of_many();
        assert!(scan.events.len() > EVENT_CHUNK * CHUNKS_AT_ONCE);
        let mut want = Vec::new();
        output::write_json(&mut want, &scan).unwrap();
        let mut got = Vec::new();
        write_json(&mut got, &mut scan).unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
        assert!(
            scan.events.len() > EVENT_CHUNK * CHUNKS_AT_ONCE,
            "events put back"
        );
    }

    #[test]
    fn chunked_lines_are_one_row_per_event_in_order() {
        let scan = scan_of_many();
        let mut got = Vec::new();
        write_lines(&mut got, &scan).unwrap();
        let mut want = Vec::new();
        for f in &scan.files {
            write_typed_line(&mut want, "file", f).unwrap();
        }
        for e in &scan.events {
            write_typed_line(&mut want, "event", e).unwrap();
        }
        assert!(got.starts_with(&want));
    }
}
