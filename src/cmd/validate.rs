//! `validate`: is this backup restorable? For backup-validation jobs (docs/backup-validation.md).
//!
//! Restorable, not verified or not restorable is a function of the same diagnosis `report`
//! builds ([`crate::correlate::Diagnosis::restorability`], docs/verdict-rules.md rule 7): not
//! restorable when the snapshot is damaged, its trailer is wrong or missing (unless
//! `--allow-missing-trailer`), or records need a key no given source holds or opens; not
//! verified when records could not be checked. Exit 0 restorable, 1 otherwise (every reason
//! listed), 2 could not run.

use super::progress::Progress;
use super::report::{assemble, now_utc, source_inputs, Assembly};
use super::sources::KeySourceArgs;
use super::{CmdResult, Error, Outcome};
use crate::output::{write_json, Format};
use crate::report::model::{Finding, Named, RecordCounts, Restorability, Severity};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file.
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub keys: KeySourceArgs,
    /// Accept a snapshot without SHA-256 trailer (a copy of a data dir's member/snap/db).
    #[arg(long)]
    pub allow_missing_trailer: bool,
    /// Write a Prometheus textfile-collector file (replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Serialize)]
pub struct Validation {
    pub snapshot: String,
    pub restorable: bool,
    /// `restorable`, `not-verified` or `not-restorable` (docs/verdict-rules.md, rule 7).
    pub restorability: &'static str,
    /// The report's verdict on the same inputs.
    pub verdict: &'static str,
    /// Why not, one line each: the summaries of the findings that block (or leave unverified).
    pub reasons: Vec<String>,
    /// Worth knowing, not blocking: integrity warnings and the other findings of severity
    /// warning or worse.
    pub warnings: Vec<String>,
    pub sha256_trailer: String,
    pub records: RecordCounts,
    /// Records no given config can read, by `provider key name`.
    pub unreadable_by_key: BTreeMap<String, u64>,
    /// Exactly the report's `findings[]` (full key lists).
    pub findings: Vec<Finding>,
}

pub fn run(args: &Args) -> CmdResult {
    let started = Instant::now();
    let progress = Progress::new(args.quiet);
    let snap = super::common::open_snapshot(&args.snapshot)?;
    let keyring = args.keys.load()?;
    let inputs = source_inputs(&args.keys, None)?;
    let a = assemble(
        &snap,
        &keyring,
        None,
        inputs,
        now_utc(),
        args.allow_missing_trailer,
        &progress,
    );
    let v = validation(snap.path.display().to_string(), a);
    if let Some(path) = &args.metrics {
        write_metrics(path, &v, started.elapsed().as_secs_f64())?;
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => write_json(&mut out, &v)?,
        Format::Text => {
            writeln!(
                out,
                "{}: {}",
                v.snapshot,
                match v.restorability {
                    "restorable" => "RESTORABLE",
                    "not-verified" => "NOT VERIFIED",
                    _ => "NOT RESTORABLE",
                }
            )?;
            writeln!(
                out,
                "records: {} live, {} encrypted, {} plaintext; trailer {}",
                v.records.live, v.records.encrypted, v.records.plaintext, v.sha256_trailer
            )?;
            for r in &v.reasons {
                writeln!(out, "reason:  {r}")?;
            }
            for w in &v.warnings {
                writeln!(out, "warning: {w}")?;
            }
        }
    }
    Ok(if v.restorable {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

/// The answer as a function of the diagnosis: the reasons are the summaries of the findings
/// that decide it, the warnings every other finding of severity warning or worse.
pub fn validation(snapshot: String, a: Assembly) -> Validation {
    let r = a.report;
    let mut reasons = Vec::new();
    let mut warnings = r
        .snapshot
        .as_ref()
        .map(|s| s.integrity.warnings.clone())
        .unwrap_or_default();
    for f in &r.findings {
        let decides = match a.restorability {
            Restorability::NotRestorable => f.kind.blocks_restore(),
            Restorability::NotVerified => f.kind.unverified(),
            Restorability::Restorable => false,
        };
        if decides {
            reasons.push(f.summary.clone());
        } else if f.severity <= Severity::Warning || f.kind.unverified() {
            warnings.push(format!("{}: {}", f.kind.name(), f.summary));
        }
    }
    let lost: HashSet<&str> = r
        .findings
        .iter()
        .filter(|f| f.kind.blocks_restore())
        .flat_map(|f| f.keys.iter().map(String::as_str))
        .collect();
    let mut unreadable_by_key: BTreeMap<String, u64> = BTreeMap::new();
    for u in r.unreadable.iter().filter(|u| lost.contains(&*u.key)) {
        *unreadable_by_key
            .entry(format!(
                "{} key {}",
                u.provider,
                u.key_name.as_deref().unwrap_or("?")
            ))
            .or_default() += 1;
    }
    Validation {
        snapshot,
        restorable: a.restorability == Restorability::Restorable,
        restorability: a.restorability.name(),
        verdict: r.verdict.status.name(),
        reasons,
        warnings,
        sha256_trailer: r
            .snapshot
            .as_ref()
            .map(|s| s.integrity.sha256_trailer.clone())
            .unwrap_or_default(),
        records: r.records,
        unreadable_by_key,
        findings: r.findings,
    }
}

/// Escapes a Prometheus label value.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn write_metrics(path: &Path, v: &Validation, seconds: f64) -> Result<(), Error> {
    let snap = label(
        Path::new(&v.snapshot)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&v.snapshot),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut s = String::new();
    s += "# HELP etcd_autopsy_backup_restorable 1 if the snapshot is intact and every encrypted record decrypts with the given keys.\n";
    s += "# TYPE etcd_autopsy_backup_restorable gauge\n";
    s += &format!(
        "etcd_autopsy_backup_restorable{{snapshot=\"{snap}\"}} {}\n",
        u8::from(v.restorable)
    );
    s += "# HELP etcd_autopsy_backup_records Live records in the snapshot by state.\n# TYPE etcd_autopsy_backup_records gauge\n";
    for (state, n) in [
        ("live", v.records.live),
        ("encrypted", v.records.encrypted),
        ("plaintext", v.records.plaintext),
        ("undecryptable", v.records.undecryptable),
    ] {
        s += &format!("etcd_autopsy_backup_records{{snapshot=\"{snap}\",state=\"{state}\"}} {n}\n");
    }
    s += "# HELP etcd_autopsy_backup_validation_seconds Time the validation took.\n# TYPE etcd_autopsy_backup_validation_seconds gauge\n";
    s += &format!("etcd_autopsy_backup_validation_seconds{{snapshot=\"{snap}\"}} {seconds:.3}\n");
    s += "# HELP etcd_autopsy_backup_validation_timestamp_seconds When the validation ran.\n# TYPE etcd_autopsy_backup_validation_timestamp_seconds gauge\n";
    s +=
        &format!("etcd_autopsy_backup_validation_timestamp_seconds{{snapshot=\"{snap}\"}} {now}\n");
    // Write beside the target and rename, so the collector never reads a half-written file.
    let tmp = path.with_extension("prom.tmp");
    std::fs::write(&tmp, s).map_err(|e| Error::new(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::new(format!("{}: {e}", path.display())))
}
