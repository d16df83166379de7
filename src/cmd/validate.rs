//! `validate PATH…`: is this backup restorable? For backup-validation jobs
//! (docs/backup-validation.md).
//!
//! Restorable, not verified or not restorable is a function of the same diagnosis `report`
//! builds ([`crate::correlate::Diagnosis::restorability`], docs/verdict-rules.md rule 7): not
//! restorable when the snapshot is damaged, its trailer is wrong or missing (unless
//! `--allow-missing-trailer`), or records need a key no given source holds or opens; not
//! verified when records could not be checked.
//!
//! A PATH may be a directory of backups ([`super::backupset`]): the run then validates the
//! newest backup without a verdict file in `--output-dir` (or `--all`, or `--index N`), writes
//! one verdict file per backup, and checks the set (revisions going back, a backup that
//! shrank, the newest one stale). Exit 0 all restorable and nothing flagged, 1 otherwise
//! (every reason listed), 2 could not run.

use super::backupset::{self, Backup, Flag, Listing, Selection};
use super::metrics::{self, Metrics, SetGauges};
use super::outfile::{write_file, Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::progress::Progress;
use super::report::{now_utc, source_inputs, Assembly};
use super::sources::KeySourceArgs;
use super::{CmdResult, Error, Outcome};
use crate::etcd::restore::RestorePlan;
use crate::output::write_json;
use crate::report::build;
use crate::report::model::{Finding, Input, Named, RecordCounts, Restorability, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod set;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshots (files, etcd data dirs, .gz/.zst/.xz) or directories of backups: OpenShift
    /// pairs snapshot_<ts>.db + static_kuberesources_<ts>.tar.gz (the tarball is the pair's key
    /// source) and plain *.db[.gz|.zst|.xz] (read with the key sources given here).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub keys: KeySourceArgs,
    /// Accept a snapshot without SHA-256 trailer (a copy of a data dir's member/snap/db).
    #[arg(long)]
    pub allow_missing_trailer: bool,
    /// The member's --quota-backend-bytes, in bytes (etcd's default: 2 GiB): what the space
    /// findings compare the db size with, as `stats` does (the snapshot does not record it).
    #[arg(long, default_value_t = crate::etcd::space::DEFAULT_QUOTA_BYTES, value_name = "BYTES")]
    pub quota_backend_bytes: u64,
    /// Validate every backup of the listing (default: the newest without a verdict file in
    /// --output-dir; without --output-dir, the newest).
    #[arg(long, conflicts_with = "index")]
    pub all: bool,
    /// Validate the N-th backup of the listing, oldest first from 0 (for Kubernetes Indexed
    /// Jobs: --index=$(JOB_COMPLETION_INDEX)).
    #[arg(long, value_name = "N")]
    pub index: Option<usize>,
    /// Write one verdict per backup, DIR/<snapshot file stem>.verdict.json (atomically, 0600),
    /// instead of stdout. DIR must exist and must not be, hold or lie inside an input; a
    /// verdict file is replaced only when it is of the same backup, or with --force.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Flag the set when its newest backup is older than this (e.g. 25h, 90m, 2d, 1h30m).
    #[arg(long, value_name = "DURATION", default_value = backupset::DEFAULT_MAX_AGE,
          value_parser = backupset::parse_duration)]
    pub max_age: i64,
    /// Write a Prometheus textfile-collector file (atomically, 0644; also when validation cannot
    /// run, with restorable 0); `-` prints it to stdout. An existing file is replaced only with
    /// --force.
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// PUT the metrics to a Prometheus Pushgateway (http:// only) at
    /// URL/metrics/job/<job>/instance/<instance>, after the verdicts are written; a failed push
    /// is exit 2.
    #[arg(long, value_name = "URL")]
    pub push: Option<String>,
    /// The Pushgateway job label.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "etcd-autopsy-validate",
        requires = "push"
    )]
    pub push_job: String,
    /// The Pushgateway instance label (default: this host's name; in a pod, the pod name).
    #[arg(long, value_name = "NAME", requires = "push")]
    pub push_instance: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Use this time (RFC 3339) as the run's time (metrics, staleness, verdict files), for
    /// reproducible output.
    #[arg(long, value_name = "TIME", value_parser = super::report::parse_fixed_time)]
    pub fixed_time: Option<String>,
    /// No progress on stderr (and, with `--metrics -`, no listing there either).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Serialize)]
pub struct Validation {
    pub snapshot: String,
    /// The file (or data dir) name: what a verdict file is matched by on re-validation.
    pub snapshot_name: String,
    /// SHA-256 of the snapshot bytes read (after decompression).
    pub snapshot_sha256: String,
    /// Bytes of the snapshot read (after decompression).
    pub size_bytes: u64,
    /// When the validation ran (RFC 3339 UTC; `--fixed-time` when given).
    pub validated_at: String,
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
    /// The snapshot's revision (`etcdctl snapshot status`).
    pub revision: Option<i64>,
    /// Distinct live keys.
    pub live_keys: u64,
    pub records: RecordCounts,
    /// Records no given config can read, by `provider key name`.
    pub unreadable_by_key: BTreeMap<String, u64>,
    /// Chain of custody: the snapshot and every key source read, with digests.
    pub inputs: Vec<Input>,
    /// How to restore it: the plan `restore-plan -o json` prints, with the reasons in words.
    pub restore_plan: Option<RestoreOut>,
    /// Exactly the report's `findings[]` (full key lists).
    pub findings: Vec<Finding>,
}

/// The restore plan with its reasons in words.
#[derive(Serialize)]
pub struct RestoreOut {
    #[serde(flatten)]
    pub plan: RestorePlan,
    /// Why `--bump-revision` has its value.
    pub bump_reason: String,
    /// `warnings[]` in words, in the same order.
    pub warning_texts: Vec<String>,
}

impl RestoreOut {
    fn of(plan: RestorePlan) -> RestoreOut {
        RestoreOut {
            bump_reason: crate::report::restore::bump_reason(&plan),
            warning_texts: plan
                .warnings
                .iter()
                .map(crate::report::restore::warning_text)
                .collect(),
            plan,
        }
    }
}

/// The verdict file of a backup that could not be validated at all.
#[derive(Serialize)]
struct Failure<'a> {
    snapshot: String,
    snapshot_name: &'a str,
    validated_at: &'a str,
    restorable: bool,
    restorability: &'static str,
    error: &'a str,
}

/// What `validate` reads back from an existing verdict file: whose it is, and the figures the
/// set checks compare.
#[derive(Deserialize, Default)]
struct VerdictHead {
    snapshot_name: Option<String>,
    revision: Option<i64>,
    live_keys: Option<u64>,
    size_bytes: Option<u64>,
}

fn read_head(path: &Path) -> Option<VerdictHead> {
    let f = std::fs::File::open(path).ok()?;
    serde_json::from_reader(std::io::BufReader::new(f)).ok()
}

/// One backup's result in this run.
enum Result1 {
    Validated(Box<Validation>),
    /// Could not be validated: the one-line reason.
    Failed(String),
}

impl Result1 {
    fn restorability(&self) -> &'static str {
        match self {
            Result1::Validated(v) => v.restorability,
            Result1::Failed(_) => "could-not-validate",
        }
    }
}

/// What a run got as far as: what the metrics are made of, whatever the outcome.
#[derive(Default)]
struct Run {
    listing: Option<Listing>,
    /// (index into the listing, result, seconds it took).
    results: Vec<(usize, Result1, f64)>,
    flags: Vec<Flag>,
    ok: bool,
    /// The backups were listed and the selection made: validation could start.
    ran: bool,
    /// Key sources were given on the command line.
    keys_given: bool,
    max_age: i64,
}

fn run_time(args: &Args) -> (i64, String) {
    match &args.fixed_time {
        Some(t) => (
            crate::logs::time::parse_rfc3339(t.as_bytes()).map_or(0, |(us, _)| us / 1_000_000),
            t.clone(),
        ),
        None => (
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
            now_utc(),
        ),
    }
}

fn is_stdout(p: &Path) -> bool {
    p.as_os_str() == "-"
}

/// Runs the validation; with `--metrics`, the metrics are written whatever the outcome, then
/// pushed with `--push`.
pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    for p in &args.paths {
        guard.input(p);
    }
    args.keys.guard(&mut guard);
    // Refusals that need no input come first: no file could make the alert fire.
    if let Some(url) = &args.push {
        super::push::parse_url(url)?;
    }
    let metrics_stdout = args.metrics.as_deref().is_some_and(is_stdout);
    if let Some(m) = args.metrics.as_deref().filter(|m| !is_stdout(m)) {
        super::output_args::not_a_format_name("--metrics", m)?;
        guard.check(m, "--metrics", args.out.force)?;
    }
    let summary_to_stdout = args.out.file.as_deref().is_none_or(is_stdout);
    if metrics_stdout && summary_to_stdout && args.output_dir.is_none() {
        return Err(Error::new(
            "--metrics -: stdout would carry the metrics and the verdict; give --output-dir DIR (verdict files) or --output-file FILE for the verdict",
        ));
    }
    let (now, now_text) = run_time(args);
    let mut state = Run {
        keys_given: !args.keys.is_empty(),
        max_age: args.max_age,
        ..Run::default()
    };
    let result = validate_all(args, &guard, now, &now_text, metrics_stdout, &mut state);
    if args.metrics.is_some() || args.push.is_some() {
        let text = exposition(args, &state, now);
        match args.metrics.as_deref() {
            Some(m) if is_stdout(m) => {
                let mut o = std::io::stdout().lock();
                o.write_all(text.as_bytes())?;
                o.flush()?;
            }
            Some(m) => metrics::write_text(m, &guard, args.out.force, &text)?,
            None => {}
        }
        if let Some(url) = &args.push {
            let instance = args
                .push_instance
                .clone()
                .unwrap_or_else(super::push::hostname);
            if let Err(e) = super::push::push(url, &args.push_job, &instance, &text) {
                // The verdicts are written; the push failing is still exit 2 (the alert
                // would not see this run). A run that could not run keeps its own error.
                return match result {
                    Err(first) => {
                        eprintln!("etcd-autopsy: {e}");
                        Err(first)
                    }
                    Ok(_) => Err(e),
                };
            }
        }
    }
    result
}

/// The metrics of what `state` got to.
fn exposition(args: &Args, state: &Run, now: i64) -> String {
    let listing = state.listing.as_ref();
    let mut entries: Vec<Metrics<'_>> = match listing {
        Some(l) => state
            .results
            .iter()
            .map(|(i, r, secs)| Metrics {
                snapshot: &l.backups[*i].path,
                verdict: match r {
                    Result1::Validated(v) => Some(metrics::Verdict {
                        restorable: v.restorable,
                        records: &v.records,
                        revision: v.revision,
                        live_keys: v.live_keys,
                    }),
                    Result1::Failed(_) => None,
                },
                now,
                seconds: *secs,
            })
            .collect(),
        None => Vec::new(),
    };
    let is_set = listing.map_or_else(
        || args.paths.len() > 1 || args.paths.iter().any(|p| p.is_dir()),
        Listing::is_set,
    );
    if entries.is_empty() && !is_set && !state.ran {
        // One snapshot that could not even be tried: its gauges still say so (restorable 0).
        entries.push(Metrics {
            snapshot: listing
                .and_then(|l| l.backups.first())
                .map_or(&args.paths[0], |b| &b.path),
            verdict: None,
            now,
            seconds: 0.0,
        });
    }
    let flags: Vec<(&'static str, usize)> = Flag::KINDS
        .iter()
        .map(|k| (*k, state.flags.iter().filter(|f| f.kind() == *k).count()))
        .collect();
    let set = SetGauges {
        ran: state.ran,
        backups: listing.map_or(0, |l| l.backups.len()),
        validated: state.results.len(),
        ok: state.ok,
        flags: &flags,
        newest_age: listing
            .and_then(|l| l.backups.last())
            .and_then(|b| b.time)
            .map(|(t, _)| now - t),
        now,
    };
    metrics::render_all(&entries, is_set.then_some(&set))
}

/// Checks `--output-dir`: an existing directory that is not an input, holds none and is not
/// inside an input directory (a verdict next to the evidence would be written into it).
fn check_output_dir(dir: &Path, args: &Args) -> Result<PathBuf, Error> {
    let shown = dir.display();
    let m = std::fs::metadata(dir).map_err(|e| {
        Error::new(format!(
            "--output-dir {shown}: {e}{}",
            if e.kind() == std::io::ErrorKind::NotFound {
                " (create it first)"
            } else {
                ""
            }
        ))
    })?;
    if !m.is_dir() {
        return Err(Error::new(format!("--output-dir {shown}: not a directory")));
    }
    let canon =
        std::fs::canonicalize(dir).map_err(|e| Error::new(format!("--output-dir {shown}: {e}")))?;
    let mut inputs: Vec<PathBuf> = args.paths.clone();
    for s in args
        .keys
        .encryption_config
        .iter()
        .chain(&args.keys.static_resources)
    {
        inputs.push(PathBuf::from(s));
        if let Some((_, p)) = s.split_once('=') {
            inputs.push(PathBuf::from(p));
        }
    }
    for input in &inputs {
        let Ok(ci) = std::fs::canonicalize(input) else {
            continue;
        };
        let why = if ci == canon {
            "is an input"
        } else if ci.starts_with(&canon) {
            "holds the input"
        } else if ci.is_dir() && canon.starts_with(&ci) {
            "lies inside the input directory"
        } else {
            continue;
        };
        let what = if ci == canon {
            String::new()
        } else {
            format!(" {}", input.display())
        };
        return Err(Error::new(format!(
            "--output-dir {shown}: {why}{what}; verdicts go to a directory of their own, evidence is never written to"
        )));
    }
    Ok(canon)
}

fn validate_all(
    args: &Args,
    guard: &Guard,
    now: i64,
    now_text: &str,
    metrics_stdout: bool,
    state: &mut Run,
) -> CmdResult {
    state.listing = Some(backupset::list(&args.paths)?);
    let listing = state.listing.as_ref().expect("just set");
    let out_dir = match &args.output_dir {
        Some(d) => Some((d.clone(), check_output_dir(d, args)?)),
        None => None,
    };
    // An output path that is an input is refused before any complaint about its format.
    if let Some(p) = args.out.file.as_ref().filter(|p| !is_stdout(p)) {
        guard.check(p, "--output-file", args.out.force)?;
    }
    let fmt = args.out.format("validate", formats("validate"))?;
    let is_set = listing.is_set();
    let selection = match (args.all, args.index) {
        (true, _) => Selection::All,
        (false, Some(i)) => Selection::Index(i),
        (false, None) => Selection::NewestNotValidated,
    };
    let dir = out_dir.as_ref().map(|(d, _)| d.as_path());
    if let Some(dir) = dir {
        // Two backups with one stem would share a verdict file.
        let mut stems: HashMap<&str, &Backup> = HashMap::new();
        for b in &listing.backups {
            if let Some(other) = stems.insert(&b.stem, b) {
                return Err(Error::new(format!(
                    "{} and {} would share the verdict file {}; validate them into different --output-dir",
                    other.path.display(),
                    b.path.display(),
                    b.verdict_path(dir).display()
                )));
            }
        }
    }
    let chosen = backupset::select(listing, selection, |b| {
        dir.is_some_and(|d| std::fs::symlink_metadata(b.verdict_path(d)).is_ok())
    })?;
    if let Some(dir) = dir {
        // Never over a verdict file of another backup (or a file that is no verdict), unless
        // --force: found before any work is done.
        for &i in &chosen {
            let b = &listing.backups[i];
            let vp = b.verdict_path(dir);
            if args.out.force || std::fs::symlink_metadata(&vp).is_err() {
                continue;
            }
            let same = read_head(&vp)
                .and_then(|h| h.snapshot_name)
                .is_some_and(|n| n == b.name);
            if !same {
                return Err(Error::new(format!(
                    "--output-dir: {} exists and is not a verdict of {}; add --force to replace it",
                    vp.display(),
                    b.name
                )));
            }
        }
    }
    state.ran = true;
    let progress = Progress::new(args.quiet);
    let mut write_errors = Vec::new();
    for (n, &i) in chosen.iter().enumerate() {
        let b = &listing.backups[i];
        if !args.quiet && chosen.len() > 1 {
            eprintln!(
                "etcd-autopsy: validating {} ({} of {})",
                crate::sanitize::text(&b.path.display().to_string()),
                n + 1,
                chosen.len()
            );
        }
        let started = Instant::now();
        let r = match validate_one(args, b, now_text, &progress) {
            Ok(v) => Result1::Validated(Box::new(v)),
            // One backup alone: it could not run (exit 2), as before directories.
            Err(e) if !is_set => {
                let failed = Result1::Failed(e.to_string());
                if let Some(dir) = dir {
                    let _ = write_verdict(dir, guard, b, &failed, now_text);
                }
                state
                    .results
                    .push((i, failed, started.elapsed().as_secs_f64()));
                return Err(e);
            }
            Err(e) => Result1::Failed(e.to_string()),
        };
        if let Some(dir) = dir {
            // Written as soon as it is known: a run cut short keeps what it finished.
            if let Err(e) = write_verdict(dir, guard, b, &r, now_text) {
                write_errors.push(e);
            }
        }
        state.results.push((i, r, started.elapsed().as_secs_f64()));
    }
    if is_set {
        let figures: Vec<backupset::Figures> = listing
            .backups
            .iter()
            .enumerate()
            .map(|(i, b)| figures_of(b, state.results.iter().find(|r| r.0 == i), dir))
            .collect();
        state.flags = backupset::check(listing, &figures, now, args.max_age);
    }
    let problems = !state.flags.is_empty()
        || state.results.iter().any(|(_, r, _)| match r {
            Result1::Validated(v) => !v.restorable,
            Result1::Failed(_) => true,
        });
    state.ok = !problems && write_errors.is_empty();
    let mut text = Vec::new();
    if !is_set && dir.is_none() {
        if let Some((_, Result1::Validated(v), _)) = state.results.first() {
            match fmt {
                Fmt::Json => write_json(&mut text, v.as_ref())?,
                _ => render_one(&mut text, v)?,
            }
        }
    } else {
        let embed = dir.is_none();
        match fmt {
            Fmt::Json => write_json(&mut text, &set::set_out(listing, state, dir, embed))?,
            _ => set::render_set(&mut text, listing, state, dir)?,
        }
    }
    if metrics_stdout && args.out.file.as_deref().is_none_or(is_stdout) {
        // stdout carries the metrics: the summary goes to stderr.
        if !args.quiet {
            std::io::stderr().write_all(&text)?;
        }
    } else {
        let mut sink = args.out.open(guard, Mode::Private)?;
        sink.write_all(&text)?;
        sink.finish()?;
    }
    if let Some(e) = write_errors.into_iter().next() {
        return Err(e);
    }
    Ok(if problems {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

/// A backup's figures: from this run, else from its verdict file, else (size) from the file.
fn figures_of(
    b: &Backup,
    result: Option<&(usize, Result1, f64)>,
    dir: Option<&Path>,
) -> backupset::Figures {
    if let Some((_, Result1::Validated(v), _)) = result {
        return backupset::Figures {
            revision: v.revision,
            live_keys: Some(v.live_keys),
            db_size: Some(v.size_bytes),
        };
    }
    let head = dir
        .and_then(|d| read_head(&b.verdict_path(d)))
        .filter(|h| h.snapshot_name.as_deref() == Some(b.name.as_str()))
        .unwrap_or_default();
    // A plain .db's size is its db size; a compressed one's is known only once read.
    let plain_size = std::fs::metadata(&b.path)
        .ok()
        .filter(|m| m.is_file() && b.name.ends_with(".db"))
        .map(|m| m.len());
    backupset::Figures {
        revision: head.revision,
        live_keys: head.live_keys,
        db_size: head.size_bytes.or(plain_size),
    }
}

/// Writes `DIR/<stem>.verdict.json` atomically, 0600 (a verdict names keys and records).
fn write_verdict(
    dir: &Path,
    guard: &Guard,
    b: &Backup,
    r: &Result1,
    now_text: &str,
) -> Result<(), Error> {
    let vp = b.verdict_path(dir);
    // The pre-check refused a verdict of another backup; what is there now is this backup's.
    let replace = std::fs::symlink_metadata(&vp).is_ok();
    write_file(&vp, "--output-dir", guard, replace, Mode::Private, |w| {
        let mut buf = Vec::new();
        match r {
            Result1::Validated(v) => write_json(&mut buf, v.as_ref()),
            Result1::Failed(e) => write_json(
                &mut buf,
                &Failure {
                    snapshot: b.path.display().to_string(),
                    snapshot_name: &b.name,
                    validated_at: now_text,
                    restorable: false,
                    restorability: "could-not-validate",
                    error: e,
                },
            ),
        }
        .map_err(|e| std::io::Error::other(e.to_string()))?;
        w.write_all(&buf)
    })
}

/// Validates one backup with its key sources: its tarball (an OpenShift pair) and those given.
fn validate_one(
    args: &Args,
    b: &Backup,
    now_text: &str,
    progress: &Progress,
) -> Result<Validation, Error> {
    let mut keys = args.keys.clone();
    if let Some(t) = &b.tarball {
        keys.static_resources.push(t.display().to_string());
    }
    let snap = super::common::open_snapshot(&b.path)?;
    let keyring = keys.load()?;
    let inputs = source_inputs(&keys, None)?;
    // The analysis carries the restore plan (from the records it read and its own trailer check).
    let analysis = build::analyse(
        &snap,
        &keyring,
        None,
        &build::Options::judging(args.allow_missing_trailer, args.quota_backend_bytes),
        progress,
    );
    let restorability = analysis.diagnosis.restorability();
    let plan = analysis.restore_plan.clone();
    let a = Assembly {
        report: analysis.into_report(inputs, now_text.to_string()),
        restorability,
    };
    let mut v = validation(snap.path.display().to_string(), a);
    v.snapshot_name = b.name.clone();
    v.validated_at = now_text.to_string();
    v.restore_plan = Some(RestoreOut::of(plan));
    Ok(v)
}

fn restorability_word(r: &str) -> &'static str {
    match r {
        "restorable" => "RESTORABLE",
        "not-verified" => "NOT VERIFIED",
        "could-not-validate" => "COULD NOT VALIDATE",
        _ => "NOT RESTORABLE",
    }
}

/// One snapshot's verdict in text, then its restore plan.
fn render_one(out: &mut impl Write, v: &Validation) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {}",
        v.snapshot,
        restorability_word(v.restorability)
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
    if let Some(p) = &v.restore_plan {
        writeln!(out)?;
        super::restore::render(out, &p.plan)?;
    }
    Ok(())
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
        .flat_map(|f| f.keys.iter().map(|k| &**k))
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
    let (snapshot_sha256, size_bytes) = r
        .inputs
        .first()
        .map(|i| (i.sha256.clone(), i.size))
        .unwrap_or_default();
    Validation {
        snapshot_name: Path::new(&snapshot)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| snapshot.clone()),
        snapshot,
        snapshot_sha256,
        size_bytes,
        validated_at: String::new(),
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
        inputs: r.inputs,
        restore_plan: None,
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
