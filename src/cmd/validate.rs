//! `validate`: is this backup restorable? For backup-validation jobs (docs/backup-validation.md).
//!
//! Restorable = the snapshot is intact (trailer valid, or missing and `--allow-missing-trailer`)
//! and every encrypted record can be read by at least one of the given kube-apiserver configs.
//! Exit 0 restorable, 1 not (every reason listed), 2 could not run.

use super::progress::Progress;
use super::report::{assemble, now_utc, source_inputs};
use super::sources::KeySourceArgs;
use super::{CmdResult, Error, Outcome};
use crate::etcd::trailer::Trailer;
use crate::output::{write_json, Format};
use serde::Serialize;
use std::collections::BTreeMap;
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
    /// Why not, one line each.
    pub reasons: Vec<String>,
    /// Worth knowing, not blocking.
    pub warnings: Vec<String>,
    pub sha256_trailer: String,
    pub records: crate::correlate::RecordCounts,
    /// Records no given config can read, by `provider key name`.
    pub unreadable_by_key: BTreeMap<String, u64>,
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
    let mut reasons = Vec::new();
    let mut warnings = a.integrity.warnings.clone();
    let trailer = match &a.integrity.trailer.trailer {
        Trailer::Valid { .. } => "valid",
        Trailer::Missing => {
            if !args.allow_missing_trailer {
                reasons.push("no SHA-256 trailer: restore would need --skip-hash-check (use --allow-missing-trailer for a data-dir copy)".into());
            }
            "missing"
        }
        Trailer::Mismatch { .. } => "mismatch",
    };
    // Trailer-missing is handled above; every other integrity problem blocks.
    reasons.extend(a.integrity.problems.iter().cloned());
    let nodes = !a.report.nodes.is_empty();
    let mut unreadable_by_key: BTreeMap<String, u64> = BTreeMap::new();
    let kms = a.report.records.kms;
    let uncovered: std::collections::BTreeSet<&str> =
        a.uncovered.iter().map(String::as_str).collect();
    if !uncovered.is_empty() && nodes {
        warnings.push(format!(
            "{} encrypted record(s) belong to resources none of the given configs covers (OpenShift: routes and \
             OAuth tokens use openshift-apiserver/oauth-apiserver keys stored in secrets inside etcd); not checked",
            uncovered.len()
        ));
    }
    for u in &a.report.unreadable {
        if nodes && uncovered.contains(u.key.as_str()) {
            continue;
        }
        let all_fail = u.failing_nodes.len() == a.report.nodes.len();
        if all_fail {
            *unreadable_by_key
                .entry(format!(
                    "{} key {}",
                    u.provider,
                    u.key_name.as_deref().unwrap_or("?")
                ))
                .or_default() += 1;
        }
    }
    for f in &a.report.findings {
        match f.kind.as_str() {
            "plaintext-in-encrypted-resource" => warnings.push(f.summary.clone()),
            _ => {}
        }
    }
    if !nodes && a.report.records.encrypted > kms {
        reasons.push(format!(
            "{} encrypted record(s) but no kube-apiserver config given (--encryption-config or --static-resources)",
            a.report.records.encrypted - kms
        ));
    }
    for (k, n) in &unreadable_by_key {
        reasons.push(format!(
            "{n} record(s) under {k} cannot be read with any given config"
        ));
    }
    if kms > 0 {
        warnings.push(format!(
            "{kms} record(s) are KMS-encrypted: readable only if the KMS still holds their key"
        ));
    }
    let v = Validation {
        snapshot: snap.path.display().to_string(),
        restorable: reasons.is_empty(),
        reasons,
        warnings,
        sha256_trailer: trailer.into(),
        records: a.report.records.clone(),
        unreadable_by_key,
    };
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
                if v.restorable {
                    "RESTORABLE"
                } else {
                    "NOT RESTORABLE"
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
