//! `validate`: is this backup restorable? For backup-validation jobs (docs/backup-validation.md).
//!
//! Restorable, not verified or not restorable is a function of the same diagnosis `report`
//! builds ([`crate::correlate::Diagnosis::restorability`], docs/verdict-rules.md rule 7): not
//! restorable when the snapshot is damaged, its trailer is wrong or missing (unless
//! `--allow-missing-trailer`), or records need a key no given source holds or opens; not
//! verified when records could not be checked. Exit 0 restorable, 1 otherwise (every reason
//! listed), 2 could not run.

use super::metrics::{self, Metrics};
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::progress::Progress;
use super::report::{assemble, now_utc, source_inputs, Assembly};
use super::sources::KeySourceArgs;
use super::{CmdResult, Outcome};
use crate::output::write_json;
use crate::report::model::{Finding, Named, RecordCounts, Restorability, Severity};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
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
    /// Distinct live keys and the snapshot's revision (gauges in `--metrics`).
    #[serde(skip)]
    pub live_keys: u64,
    #[serde(skip)]
    pub revision: Option<i64>,
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
                live_keys: v.live_keys,
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
    let v = validation(snap.path.display().to_string(), a);
    match fmt {
        Fmt::Json => write_json(&mut out, &v)?,
        _ => {
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
    out.finish()?;
    let restorable = v.restorable;
    let revision = v.revision;
    *verdict = Some((v, revision));
    Ok(if restorable {
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
        live_keys: status_number(&r, "liveKeys").map_or(0, |n| n as u64),
        revision: status_number(&r, "revision"),
        records: r.records,
        unreadable_by_key,
        findings: r.findings,
    }
}

/// A number from the report's `snapshot status` section.
fn status_number(r: &crate::report::model::Report, key: &str) -> Option<i64> {
    r.snapshot
        .as_ref()
        .and_then(|s| s.status.get(key))
        .and_then(serde_json::Value::as_i64)
}
