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
    pub fn label(self) -> &'static str {
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

/// One snapshot's gauges.
pub struct Metrics<'a> {
    /// The snapshot as given (its file name becomes the `snapshot` label).
    pub snapshot: &'a Path,
    /// None: validate could not run.
    pub verdict: Option<Verdict<'a>>,
    /// Seconds since the epoch: the run's time (`--fixed-time`, else now).
    pub now: i64,
    pub seconds: f64,
}

/// The set-level gauges of a run over a directory or several snapshots.
pub struct SetGauges<'a> {
    /// False when the listing could not be made (a directory unreadable, a bad `--index`).
    pub ran: bool,
    pub backups: usize,
    pub validated: usize,
    /// The run's summary: exit 0.
    pub ok: bool,
    /// Flags by kind (every kind of [`super::backupset::Flag::KINDS`], 0 included).
    pub flags: &'a [(&'static str, usize)],
    /// Age of the newest backup, when it has a time.
    pub newest_age: Option<i64>,
    pub now: i64,
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

/// The exposition text of one snapshot's run.
pub fn render(m: &Metrics<'_>) -> String {
    render_all(std::slice::from_ref(m), None)
}

/// The exposition text: each gauge once (HELP, TYPE), with a sample per snapshot, then the
/// set-level gauges. The exposition format wants a metric's samples together.
pub fn render_all(ms: &[Metrics<'_>], set: Option<&SetGauges<'_>>) -> String {
    let snaps: Vec<String> = ms
        .iter()
        .map(|m| {
            let shown = m.snapshot.display().to_string();
            label(
                m.snapshot
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or(&shown),
            )
        })
        .collect();
    let mut s = String::new();
    let mut gauge = |name: &str, help: &str, rows: &[(usize, String, String)]| {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(s, "# HELP etcd_autopsy_backup_{name} {help}");
        let _ = writeln!(s, "# TYPE etcd_autopsy_backup_{name} gauge");
        for (i, labels, value) in rows {
            let snap = &snaps[*i];
            let _ = writeln!(
                s,
                "etcd_autopsy_backup_{name}{{snapshot=\"{snap}\"{labels}}} {value}"
            );
        }
    };
    let each = |f: &dyn Fn(&Metrics<'_>) -> Option<String>| -> Vec<(usize, String, String)> {
        ms.iter()
            .enumerate()
            .filter_map(|(i, m)| f(m).map(|v| (i, String::new(), v)))
            .collect()
    };
    gauge(
        "restorable",
        "1 if the snapshot is intact and every encrypted record decrypts with the given keys; 0 also when validation could not run.",
        &each(&|m| Some(u8::from(m.verdict.as_ref().is_some_and(|v| v.restorable)).to_string())),
    );
    gauge(
        "validation_success",
        "1 if validation ran to a verdict, 0 if it could not run (missing or unreadable snapshot or key source).",
        &each(&|m| Some(u8::from(m.verdict.is_some()).to_string())),
    );
    gauge(
        "validation_timestamp_seconds",
        "When the validation ran (last run).",
        &each(&|m| Some(m.now.to_string())),
    );
    gauge(
        "validation_seconds",
        "Time the validation took.",
        &each(&|m| Some(format!("{:.3}", m.seconds))),
    );
    gauge(
        "size_bytes",
        "Size of the snapshot file.",
        &each(&|m| {
            std::fs::metadata(m.snapshot)
                .ok()
                .filter(|md| md.is_file())
                .map(|md| md.len().to_string())
        }),
    );
    let times: Vec<Option<(i64, TimeSource)>> =
        ms.iter().map(|m| snapshot_time(m.snapshot)).collect();
    let timed = |f: &dyn Fn(usize, i64) -> String| -> Vec<(usize, String, String)> {
        times
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                t.map(|(t, src)| (i, format!(",source=\"{}\"", src.label()), f(i, t)))
            })
            .collect()
    };
    gauge(
        "snapshot_timestamp_seconds",
        "When the snapshot was taken: a timestamp in its file name (read as UTC), else its mtime.",
        &timed(&|_, t| t.to_string()),
    );
    gauge(
        "age_seconds",
        "Age of the snapshot at validation time.",
        &timed(&|i, t| (ms[i].now - t).to_string()),
    );
    gauge(
        "revision",
        "The snapshot's revision (etcdctl snapshot status).",
        &each(&|m| {
            m.verdict
                .as_ref()
                .and_then(|v| v.revision)
                .map(|r| r.to_string())
        }),
    );
    gauge(
        "live_keys",
        "Distinct live keys in the snapshot.",
        &each(&|m| m.verdict.as_ref().map(|v| v.live_keys.to_string())),
    );
    let rows: Vec<(usize, String, String)> = ms
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.verdict.as_ref().map(|v| (i, v)))
        .flat_map(|(i, v)| {
            [
                ("live", v.records.live),
                ("encrypted", v.records.encrypted),
                ("plaintext", v.records.plaintext),
                ("undecryptable", v.records.undecryptable),
            ]
            .map(|(state, n)| (i, format!(",state=\"{state}\""), n.to_string()))
        })
        .collect();
    gauge("records", "Live records in the snapshot by state.", &rows);
    if let Some(set) = set {
        render_set(&mut s, set);
    }
    s
}

/// The set-level gauges (no `snapshot` label).
fn render_set(s: &mut String, set: &SetGauges<'_>) {
    let mut gauge = |name: &str, help: &str, rows: &[(String, String)]| {
        let _ = writeln!(s, "# HELP etcd_autopsy_backup_set_{name} {help}");
        let _ = writeln!(s, "# TYPE etcd_autopsy_backup_set_{name} gauge");
        for (labels, value) in rows {
            let _ = writeln!(s, "etcd_autopsy_backup_set_{name}{labels} {value}");
        }
    };
    let one = |v: String| [(String::new(), v)];
    gauge(
        "ok",
        "1 if every validated backup is restorable and no set-level check flagged anything (validate exit 0).",
        &one(u8::from(set.ok).to_string()),
    );
    gauge(
        "validation_success",
        "1 if the backups could be listed and selected, 0 if validate could not run at all.",
        &one(u8::from(set.ran).to_string()),
    );
    gauge(
        "backups",
        "Backups in the listing.",
        &one(set.backups.to_string()),
    );
    gauge(
        "validated",
        "Backups validated in this run.",
        &one(set.validated.to_string()),
    );
    gauge(
        "validation_timestamp_seconds",
        "When the run happened.",
        &one(set.now.to_string()),
    );
    if let Some(age) = set.newest_age {
        gauge(
            "newest_age_seconds",
            "Age of the newest backup in the listing.",
            &one(age.to_string()),
        );
    }
    let rows: Vec<(String, String)> = set
        .flags
        .iter()
        .map(|(kind, n)| (format!("{{kind=\"{kind}\"}}"), n.to_string()))
        .collect();
    gauge(
        "flags",
        "Set-level findings by kind: revision-went-back, shrank (below 50 % of the previous backup), stale (newest older than --max-age), tarball-without-snapshot, no-backups.",
        &rows,
    );
}

/// Writes `text` as the metrics file atomically; never over an input, over an existing file
/// only with `force`.
pub fn write_text(path: &Path, guard: &Guard, force: bool, text: &str) -> Result<(), Error> {
    write_file(path, "--metrics", guard, force, Mode::Shared, |w| {
        w.write_all(text.as_bytes())
    })
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
