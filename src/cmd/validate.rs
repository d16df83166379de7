//! `validate`: is this backup restorable? For backup-validation jobs (docs/backup-validation.md).
//!
//! Restorable = the snapshot is intact (trailer valid, or missing and `--allow-missing-trailer`)
//! and every encrypted record can be read by at least one of the given kube-apiserver configs.
//! Exit 0 restorable, 1 not (every reason listed), 2 could not run.

use super::metrics::{self, Metrics};
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::progress::Progress;
use super::report::{assemble, now_utc, source_inputs};
use super::sources::KeySourceArgs;
use super::{CmdResult, Outcome};
use crate::etcd::trailer::Trailer;
use crate::output::write_json;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (also an etcd data dir, or a .gz/.zst/.xz snapshot).
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub keys: KeySourceArgs,
    /// Accept a snapshot without SHA-256 trailer (a copy of a data dir's member/snap/db).
    #[arg(long)]
    pub allow_missing_trailer: bool,
    /// Write a Prometheus textfile-collector file (atomically, 0644; also when validation cannot
    /// run, with restorable 0). An existing file is replaced only with --force.
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Use this time (RFC 3339) as the run's time in the metrics, for reproducible output.
    #[arg(long, value_name = "TIME", value_parser = super::report::parse_fixed_time)]
    pub fixed_time: Option<String>,
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
    /// Distinct live keys (a gauge in `--metrics`).
    #[serde(skip)]
    pub live_keys: usize,
}

/// Runs the validation; with `--metrics`, the metrics file is written whatever the outcome.
pub fn run(args: &Args) -> CmdResult {
    let started = Instant::now();
    let mut guard = Guard::new();
    guard.input(&args.snapshot);
    args.keys.guard(&mut guard);
    if let Some(m) = &args.metrics {
        // Refuse a bad metrics path before anything else: no file could make the alert fire.
        super::output_args::not_a_format_name("--metrics", m)?;
        guard.check(m, "--metrics", args.out.force)?;
    }
    let now = match &args.fixed_time {
        Some(t) => {
            crate::logs::time::parse_rfc3339(t.as_bytes()).map_or(0, |(us, _)| us / 1_000_000)
        }
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    };
    let mut verdict = None;
    let result = validate(args, &guard, &mut verdict);
    if let Some(path) = &args.metrics {
        let v = verdict.as_ref();
        let m = Metrics {
            snapshot: &args.snapshot,
            verdict: v.map(|(v, rev): &(Validation, Option<i64>)| metrics::Verdict {
                restorable: v.restorable,
                records: &v.records,
                revision: *rev,
                live_keys: v.live_keys as u64,
            }),
            now,
            seconds: started.elapsed().as_secs_f64(),
        };
        metrics::write(path, &guard, args.out.force, &m)?;
    }
    result
}

fn validate(
    args: &Args,
    guard: &Guard,
    verdict: &mut Option<(Validation, Option<i64>)>,
) -> CmdResult {
    let (fmt, mut out) = args
        .out
        .prepare("validate", formats("validate"), guard, Mode::Private)?;
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
            // A truncated file has no trailer either; its truncation is among the problems.
            if !args.allow_missing_trailer && snap.truncation().is_none() {
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
        if f.kind.as_str() == "plaintext-in-encrypted-resource" {
            warnings.push(f.summary.clone());
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
        live_keys: a.integrity.live_keys,
    };
    match fmt {
        Fmt::Json => write_json(&mut out, &v)?,
        _ => {
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
    out.finish()?;
    let restorable = v.restorable;
    let revision = a
        .report
        .snapshot
        .as_ref()
        .and_then(|s| s.status.get("revision"))
        .and_then(serde_json::Value::as_i64);
    *verdict = Some((v, revision));
    Ok(if restorable {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}
