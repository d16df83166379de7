//! `validate --metrics FILE`: a Prometheus textfile-collector file for backup jobs.
//!
//! The file is written on every run, also when `validate` cannot run at all (the snapshot is
//! missing, unreadable, not etcd): then `restorable` is 0 and `validation_success` is 0, so the
//! documented `etcd_autopsy_backup_restorable == 0` alert fires instead of the previous run's
//! `1` staying in place. Gauges for revision, size, live keys and the snapshot's age let a job
//! alert on "the backup is stale" or "the backup shrank". Written through [`super::outfile`]:
//! atomically (the collector never reads half a file), never over an input, mode 0644 (the
//! collector runs as another user; the file holds counts, no names or keys).

use super::outfile::{write_file, Guard, Mode};
use super::Error;
use crate::report::model::RecordCounts;
use std::fmt::Write as _;
use std::path::Path;

/// Where the snapshot's time came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeSource {
    /// A timestamp in the file name, read as UTC (`snapshot_2026-01-15_103000.db` as OpenShift's
    /// cluster-backup.sh names it, `…20260115T103000Z…`, `…2026-01-15T10:30:00Z…`).
    FileName,
    /// The file's modification time.
    Mtime,
}

impl TimeSource {
    fn label(self) -> &'static str {
        match self {
            TimeSource::FileName => "filename",
            TimeSource::Mtime => "mtime",
        }
    }
}

/// What a run that reached a verdict knows about the snapshot.
pub struct Verdict<'a> {
    pub restorable: bool,
    pub records: &'a RecordCounts,
    pub revision: Option<i64>,
    pub live_keys: u64,
}

/// One run's metrics.
pub struct Metrics<'a> {
    /// The snapshot as given (its file name becomes the `snapshot` label).
    pub snapshot: &'a Path,
    /// None: validate could not run.
    pub verdict: Option<Verdict<'a>>,
    /// Seconds since the epoch: the run's time (`--fixed-time`, else now).
    pub now: i64,
    pub seconds: f64,
}

/// Escapes a Prometheus label value (exposition format: `\\`, `\"`, `\n`).
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The snapshot's time: a timestamp in its file name, else its mtime.
pub fn snapshot_time(path: &Path) -> Option<(i64, TimeSource)> {
    if let Some(t) = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(time_in_name)
    {
        return Some((t, TimeSource::FileName));
    }
    let m = std::fs::metadata(path).ok()?.modified().ok()?;
    let secs = m.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some((i64::try_from(secs).ok()?, TimeSource::Mtime))
}

/// Finds `YYYY-MM-DD` or `YYYYMMDD`, then `_`/`T`/`-`, then `HHMMSS`, `HH:MM:SS` or `HH-MM-SS`.
fn time_in_name(name: &str) -> Option<i64> {
    let b = name.as_bytes();
    let num = |s: &[u8]| -> Option<u32> {
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    for start in 0..b.len() {
        if start > 0 && b[start - 1].is_ascii_digit() {
            continue;
        }
        let rest = &b[start..];
        let (y, mo, d, used) = if rest.len() >= 10 && rest[4] == b'-' && rest[7] == b'-' {
            (num(&rest[..4])?, num(&rest[5..7])?, num(&rest[8..10])?, 10)
        } else if rest.len() >= 8 && rest[..8].iter().all(u8::is_ascii_digit) {
            (num(&rest[..4])?, num(&rest[4..6])?, num(&rest[6..8])?, 8)
        } else {
            continue;
        };
        let t = &rest[used..];
        if !(1970..=9999).contains(&y) || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
            continue;
        }
        if t.len() < 7 || !matches!(t[0], b'_' | b'T' | b't' | b'-') {
            continue;
        }
        let t = &t[1..];
        let (h, mi, s) = if t.len() >= 8 && matches!(t[2], b':' | b'-') && t[5] == t[2] {
            (num(&t[..2]), num(&t[3..5]), num(&t[6..8]))
        } else {
            (num(&t[..2]), num(&t[2..4]), num(&t[4..6]))
        };
        let (Some(h), Some(mi), Some(s)) = (h, mi, s) else {
            continue;
        };
        if h > 23 || mi > 59 || s > 60 {
            continue;
        }
        let days = crate::logs::time::days_from_civil(y as i32, mo, d);
        return Some(days * 86_400 + i64::from(h * 3600 + mi * 60 + s));
    }
    None
}

/// The exposition text.
pub fn render(m: &Metrics<'_>) -> String {
    let shown = m.snapshot.display().to_string();
    let snap = label(
        m.snapshot
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&shown),
    );
    let mut s = String::new();
    let mut gauge = |name: &str, help: &str, rows: &[(String, String)]| {
        let _ = writeln!(s, "# HELP etcd_autopsy_backup_{name} {help}");
        let _ = writeln!(s, "# TYPE etcd_autopsy_backup_{name} gauge");
        for (labels, value) in rows {
            let _ = writeln!(
                s,
                "etcd_autopsy_backup_{name}{{snapshot=\"{snap}\"{labels}}} {value}"
            );
        }
    };
    let ran = m.verdict.is_some();
    gauge(
        "restorable",
        "1 if the snapshot is intact and every encrypted record decrypts with the given keys; 0 also when validation could not run.",
        &[(String::new(), u8::from(m.verdict.as_ref().is_some_and(|v| v.restorable)).to_string())],
    );
    gauge(
        "validation_success",
        "1 if validation ran to a verdict, 0 if it could not run (missing or unreadable snapshot or key source).",
        &[(String::new(), u8::from(ran).to_string())],
    );
    gauge(
        "validation_timestamp_seconds",
        "When the validation ran (last run).",
        &[(String::new(), m.now.to_string())],
    );
    gauge(
        "validation_seconds",
        "Time the validation took.",
        &[(String::new(), format!("{:.3}", m.seconds))],
    );
    if let Some(size) = std::fs::metadata(m.snapshot)
        .ok()
        .filter(|md| md.is_file())
        .map(|md| md.len())
    {
        gauge(
            "size_bytes",
            "Size of the snapshot file.",
            &[(String::new(), size.to_string())],
        );
    }
    if let Some((t, source)) = snapshot_time(m.snapshot) {
        let src = format!(",source=\"{}\"", source.label());
        gauge(
            "snapshot_timestamp_seconds",
            "When the snapshot was taken: a timestamp in its file name (read as UTC), else its mtime.",
            &[(src.clone(), t.to_string())],
        );
        gauge(
            "age_seconds",
            "Age of the snapshot at validation time.",
            &[(src, (m.now - t).to_string())],
        );
    }
    if let Some(v) = &m.verdict {
        if let Some(rev) = v.revision {
            gauge(
                "revision",
                "The snapshot's revision (etcdctl snapshot status).",
                &[(String::new(), rev.to_string())],
            );
        }
        gauge(
            "live_keys",
            "Distinct live keys in the snapshot.",
            &[(String::new(), v.live_keys.to_string())],
        );
        let rows: Vec<(String, String)> = [
            ("live", v.records.live),
            ("encrypted", v.records.encrypted),
            ("plaintext", v.records.plaintext),
            ("undecryptable", v.records.undecryptable),
        ]
        .iter()
        .map(|(state, n)| (format!(",state=\"{state}\""), n.to_string()))
        .collect();
        gauge("records", "Live records in the snapshot by state.", &rows);
    }
    s
}

/// Writes the metrics file atomically; never over an input, over an existing file only with
/// `force` (a backup job that rewrites its file each run passes `--force`).
pub fn write(path: &Path, guard: &Guard, force: bool, m: &Metrics<'_>) -> Result<(), Error> {
    let text = render(m);
    write_file(path, "--metrics", guard, force, Mode::Shared, |w| {
        w.write_all(text.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_backup_file_names() {
        // 2026-01-15T10:30:00Z
        let t = 1_768_473_000;
        assert_eq!(time_in_name("snapshot_2026-01-15_103000.db"), Some(t));
        assert_eq!(time_in_name("etcd-20260115T103000Z.db"), Some(t));
        assert_eq!(time_in_name("snap-2026-01-15T10:30:00Z.db.gz"), Some(t));
        assert_eq!(time_in_name("snapshot.db"), None);
        assert_eq!(time_in_name("v12345678901.db"), None);
    }

    #[test]
    fn a_failed_run_makes_the_alert_fire() {
        let m = Metrics {
            snapshot: Path::new("/nonexistent/snapshot_2026-01-15_103000.db"),
            verdict: None,
            now: 1_768_473_060,
            seconds: 0.0,
        };
        let s = render(&m);
        assert!(s.contains(
            "etcd_autopsy_backup_restorable{snapshot=\"snapshot_2026-01-15_103000.db\"} 0\n"
        ));
        assert!(s.contains("etcd_autopsy_backup_validation_success{snapshot=\"snapshot_2026-01-15_103000.db\"} 0\n"));
        assert!(s.contains("etcd_autopsy_backup_age_seconds{snapshot=\"snapshot_2026-01-15_103000.db\",source=\"filename\"} 60\n"));
        assert!(!s.contains("records{"));
    }
}
