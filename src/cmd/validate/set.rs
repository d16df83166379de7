//! A backup set in words and JSON: the listing `validate` prints for a directory (or several
//! paths), from the typed facts of [`crate::cmd::backupset`] and this run's verdicts.

use super::{restorability_word, Result1, Run, Validation};
use crate::cmd::backupset::{self, Backup, Flag, Listing, Measure, Skip};
use crate::cmd::stats::wrap;
// Names and paths come from the directory: control characters are escaped before a terminal.
use crate::sanitize::text;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

fn time_text(b: &Backup) -> (Option<String>, Option<&'static str>) {
    match b.time {
        Some((t, src)) => (Some(rfc3339(t)), Some(src.label())),
        None => (None, None),
    }
}

fn skip_text(s: &Skip) -> &'static str {
    match s {
        Skip::Hidden => "hidden (a name starting with .)",
        Skip::Directory => "a directory (listings do not descend)",
        Skip::NotABackupName => "not a backup file name",
        Skip::NotUtf8 => "a name that is not UTF-8",
    }
}

/// A set-level flag in words.
fn flag_text(f: &Flag, l: &Listing, max_age: i64) -> String {
    let name = |i: usize| l.backups.get(i).map_or("?", |b| b.name.as_str());
    match f {
        Flag::NoBackups => "no backup found: no snapshot_<ts>.db, *.db, *.db.gz, *.db.zst or *.db.xz in the listing".into(),
        Flag::RevisionWentBack { backup, revision, previous, previous_revision } => format!(
            "{}: revision {revision} is below {previous_revision} of the older {}: a restore in between, another cluster's backup, or a wrong clock (the order is by time)",
            name(*backup), name(*previous)
        ),
        Flag::Shrank { backup, measure, value, previous, previous_value } => format!(
            "{}: {} {value} is below {}% of the previous backup's ({previous_value}, {}): find out what deleted them before relying on it",
            name(*backup),
            match measure { Measure::LiveKeys => "live keys", Measure::DbSize => "db size" },
            backupset::SHRINK_BELOW_PERCENT,
            name(*previous)
        ),
        Flag::Stale { newest, age, .. } => match age {
            Some(a) => format!(
                "{}: the newest backup is {} old, more than --max-age {}: the backup job may have stopped",
                name(*newest), duration_text(*a), duration_text(max_age)
            ),
            None => format!("{}: the newest backup has no time (none in its name, no mtime)", name(*newest)),
        },
        Flag::TarballWithoutSnapshot { tarball } => format!(
            "{}: a static_kuberesources tarball without its snapshot: an incomplete backup",
            l.unpaired_tarballs.get(*tarball).map_or_else(|| "?".into(), |p| p.display().to_string())
        ),
    }
}

fn duration_text(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h{m:02}m"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

#[derive(Serialize)]
pub(super) struct SetOut<'a> {
    backups: Vec<BackupOut<'a>>,
    unpaired_tarballs: Vec<String>,
    skipped: Vec<SkippedOut>,
    flags: Vec<FlagOut>,
    summary: Summary,
}

#[derive(Serialize)]
struct BackupOut<'a> {
    index: usize,
    snapshot: String,
    name: &'a str,
    time: Option<String>,
    time_source: Option<&'static str>,
    tarball: Option<String>,
    /// `tarball` (an OpenShift pair), `command-line`, or `none` (records that need a key are
    /// then not verified).
    key_sources: &'static str,
    validated: bool,
    restorability: Option<&'static str>,
    verdict_file: Option<String>,
    error: Option<&'a str>,
    reasons: Vec<String>,
    /// The whole validation, when there is no --output-dir to hold it.
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<&'a Validation>,
}

#[derive(Serialize)]
struct SkippedOut {
    path: String,
    why: &'static str,
}

#[derive(Serialize)]
struct FlagOut {
    kind: &'static str,
    summary: String,
}

#[derive(Serialize)]
struct Summary {
    backups: usize,
    validated: usize,
    restorable: usize,
    not_verified: usize,
    not_restorable: usize,
    could_not_validate: usize,
    flags: usize,
    /// The exit code's meaning: every validated backup restorable and nothing flagged.
    ok: bool,
}

fn key_sources(args_given: bool, b: &Backup) -> &'static str {
    if b.tarball.is_some() {
        "tarball"
    } else if args_given {
        "command-line"
    } else {
        "none"
    }
}

fn summary(state: &Run, listing: &Listing) -> Summary {
    let count = |w: &str| {
        state
            .results
            .iter()
            .filter(|(_, r, _)| r.restorability() == w)
            .count()
    };
    Summary {
        backups: listing.backups.len(),
        validated: state.results.len(),
        restorable: count("restorable"),
        not_verified: count("not-verified"),
        not_restorable: count("not-restorable"),
        could_not_validate: count("could-not-validate"),
        flags: state.flags.len(),
        ok: state.ok,
    }
}

pub(super) fn set_out<'a>(
    listing: &'a Listing,
    state: &'a Run,
    dir: Option<&Path>,
    embed: bool,
) -> SetOut<'a> {
    SetOut {
        backups: listing
            .backups
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let r = state.results.iter().find(|r| r.0 == i).map(|r| &r.1);
                let (time, time_source) = time_text(b);
                BackupOut {
                    index: i,
                    snapshot: b.path.display().to_string(),
                    name: &b.name,
                    time,
                    time_source,
                    tarball: b.tarball.as_ref().map(|t| t.display().to_string()),
                    key_sources: key_sources(state.keys_given, b),
                    validated: r.is_some(),
                    restorability: r.map(Result1::restorability),
                    verdict_file: dir
                        .map(|d| b.verdict_path(d))
                        .filter(|p| r.is_some() || p.exists())
                        .map(|p| p.display().to_string()),
                    error: match r {
                        Some(Result1::Failed(e)) => Some(e.as_str()),
                        _ => None,
                    },
                    reasons: match r {
                        Some(Result1::Validated(v)) => v.reasons.clone(),
                        _ => Vec::new(),
                    },
                    validation: match r {
                        Some(Result1::Validated(v)) if embed => Some(v.as_ref()),
                        _ => None,
                    },
                }
            })
            .collect(),
        unpaired_tarballs: listing
            .unpaired_tarballs
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        skipped: listing
            .skipped
            .iter()
            .map(|s| SkippedOut {
                path: s.path.display().to_string(),
                why: skip_text(&s.why),
            })
            .collect(),
        flags: state
            .flags
            .iter()
            .map(|f| FlagOut {
                kind: f.kind(),
                summary: flag_text(f, listing, state.max_age),
            })
            .collect(),
        summary: summary(state, listing),
    }
}

/// Seconds since the epoch as RFC 3339 UTC.
fn rfc3339(secs: i64) -> String {
    let s = crate::logs::time::format_utc(secs.saturating_mul(1_000_000));
    match s.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => s,
    }
}

/// The set in text: one block per backup (oldest first, the order --index counts in), what was
/// skipped, the set flags, the summary. Lines stay within 80 columns except long paths.
pub(super) fn render_set(
    out: &mut impl Write,
    listing: &Listing,
    state: &Run,
    dir: Option<&Path>,
) -> std::io::Result<()> {
    let o = set_out(listing, state, dir, false);
    writeln!(
        out,
        "backups, oldest first (--index counts in this order): {}",
        o.backups.len()
    )?;
    for b in &o.backups {
        let when = match (&b.time, b.time_source) {
            (Some(t), Some("mtime")) => format!("{t} (mtime)"),
            (Some(t), _) => t.clone(),
            _ => "no time".into(),
        };
        writeln!(out, "{:>3}  {}", b.index, text(&b.snapshot))?;
        let keys = match (&b.tarball, b.key_sources) {
            (Some(t), _) => format!(
                "keys from {}",
                Path::new(t)
                    .file_name()
                    .map_or_else(|| t.clone(), |n| n.to_string_lossy().into_owned())
            ),
            (None, "command-line") => "keys from the command line".into(),
            _ => "no key source".into(),
        };
        let state_text = match b.restorability {
            Some(r) => restorability_word(r).to_string(),
            None => "not validated in this run".into(),
        };
        writeln!(
            out,
            "{}",
            wrap(
                &format!("{when}; {keys}; {state_text}"),
                80,
                "     ",
                "       "
            )
        )?;
        if let Some(e) = b.error {
            writeln!(out, "{}", wrap(&text(e), 80, "     error: ", "       "))?;
        }
        for r in &b.reasons {
            writeln!(out, "{}", wrap(&text(r), 80, "     reason: ", "       "))?;
        }
        if let Some(v) = &b.verdict_file {
            writeln!(out, "     verdict: {}", text(v))?;
        }
    }
    for s in &o.skipped {
        writeln!(out, "skipped: {} ({})", text(&s.path), s.why)?;
    }
    for f in &o.flags {
        writeln!(
            out,
            "{}",
            wrap(
                &text(&f.summary),
                80,
                &format!("set: {}: ", f.kind),
                "     "
            )
        )?;
    }
    let s = &o.summary;
    writeln!(
        out,
        "{}",
        wrap(
            &format!(
                "{} backups, {} validated: {} restorable, {} not verified, {} not restorable, {} could not be validated; {} set flags: {}",
                s.backups,
                s.validated,
                s.restorable,
                s.not_verified,
                s.not_restorable,
                s.could_not_validate,
                s.flags,
                if s.ok { "OK" } else { "PROBLEMS" }
            ),
            80,
            "summary: ",
            "  "
        )
    )?;
    Ok(())
}
