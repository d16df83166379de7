//! Correlation: per-record verdicts (from `decrypt`) × log events (from `logs`) → per-node read
//! results, the node × key matrix, unreadable records and findings with evidence and remedy.
//!
//! The findings are the incidents this tool exists for (docs/architecture.md): one node with a
//! different key under a shared name (and the mirror set of records it wrote), records needing a
//! read key no candidate holds, records no candidate decrypts, plaintext in resources configured
//! for encryption, KMS-only records, a damaged snapshot, and log keys absent from the snapshot.

pub mod coverage;
pub mod findings;
pub mod logmatch;
pub mod model;
pub mod space;
pub mod writers;

pub use model::*;

use crate::decrypt::audit::Audit;
use crate::decrypt::Engine;
use crate::etcd::integrity::Integrity;
use crate::etcd::records::Records;
use crate::keyring::Keyring;
use crate::logs::LogScan;

/// Everything correlation needs. The per-record work is done once, by `decrypt::audit` (which
/// `audit` prints too), so `report` and `audit` can never disagree.
pub struct Context<'a> {
    pub snapshot_path: &'a str,
    pub records: &'a Records<'a>,
    pub audit: &'a Audit,
    pub engine: &'a Engine,
    pub keyring: &'a Keyring,
    pub integrity: Option<&'a Integrity>,
    /// A missing SHA-256 trailer is expected (data-dir copy): no finding for it.
    pub allow_missing_trailer: bool,
    pub logs: Option<&'a LogScan>,
    /// The space diagnosis of the snapshot, when one was made: its findings join the others.
    pub space: Option<&'a crate::etcd::space::Space>,
}

/// What correlation found.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    pub records: RecordCounts,
    pub nodes: Vec<NodeRow>,
    pub matrix: Vec<MatrixRow>,
    pub log_events: LogEvents,
    /// In severity, kind, summary order.
    pub findings: Vec<Finding>,
    /// Keys of encrypted records in resources no given config covers.
    pub uncovered: Vec<String>,
    pub verdict: Verdict,
    /// The one-line why of the verdict.
    pub headline: String,
}

impl Diagnosis {
    /// Anything but [`Verdict::Ok`] is a non-zero exit (docs/verdict-rules.md).
    pub fn has_problems(&self) -> bool {
        self.verdict != Verdict::Ok
    }

    /// `validate`'s answer: not restorable when a restore-blocking finding is present
    /// ([`FindingKind::blocks_restore`]), not verified when the verdict is, else restorable.
    /// `allow_missing_trailer` drops the missing-trailer finding before it gets here.
    pub fn restorability(&self) -> Restorability {
        if self.findings.iter().any(|f| f.kind.blocks_restore()) {
            Restorability::NotRestorable
        } else if self.verdict == Verdict::NotVerified
            || self.findings.iter().any(|f| f.kind.unverified())
        {
            Restorability::NotVerified
        } else {
            Restorability::Restorable
        }
    }
}

/// The verdict and its headline from the sorted findings: damaged structure first, then findings
/// of severity warning or worse that prove a problem, then findings that leave records
/// unverified, else ok (docs/verdict-rules.md).
pub fn verdict(findings: &[Finding], records: &RecordCounts) -> (Verdict, String) {
    if let Some(f) = findings
        .iter()
        .find(|f| f.kind == FindingKind::SnapshotIntegrity)
    {
        return (Verdict::Damaged, f.summary.clone());
    }
    if let Some(f) = findings
        .iter()
        .find(|f| f.severity <= Severity::Warning && !f.kind.unverified())
    {
        return (Verdict::Problems, f.summary.clone());
    }
    if let Some(f) = findings.iter().find(|f| f.kind.unverified()) {
        return (Verdict::NotVerified, f.summary.clone());
    }
    let headline = if records.encrypted == 0 {
        format!(
            "no encrypted records ({} live, all plaintext); nothing to fix",
            records.live
        )
    } else {
        format!(
            "every node reads every record ({} live, {} encrypted, all checked); nothing to fix",
            records.live, records.encrypted
        )
    };
    (Verdict::Ok, headline)
}

/// Correlates everything in `ctx`.
pub fn diagnose(ctx: &Context<'_>) -> Diagnosis {
    diagnose_but_integrity(ctx).finish(ctx.integrity, ctx.snapshot_path, ctx.allow_missing_trailer)
}

/// [`diagnose`] without the integrity findings, which wait for the snapshot's SHA-256 (the
/// longest single task): everything else is judged while the hash still runs, and
/// [`Pending::finish`] adds them.
pub fn diagnose_but_integrity(ctx: &Context<'_>) -> Pending {
    use crate::trace::span;
    let cov = span("coverage", || coverage::Coverage::compute(ctx));
    let log_events = span("log summary", || logmatch::summarise(ctx));
    let mut nodes = cov.node_rows(ctx);
    span("log match", || logmatch::match_nodes(ctx, &cov, &mut nodes));
    let mut findings = span("findings", || {
        findings::all_but_integrity(ctx, &cov, &nodes)
    });
    if let Some(sp) = ctx.space {
        findings.extend(space::findings(sp, ctx.snapshot_path));
    }
    Pending {
        records: ctx.audit.records.clone(),
        matrix: cov.matrix(ctx),
        nodes,
        log_events,
        findings,
        uncovered: cov.uncovered.clone(),
    }
}

/// A diagnosis waiting for the integrity check: its findings unsorted, no verdict yet.
pub struct Pending {
    records: RecordCounts,
    matrix: Vec<MatrixRow>,
    nodes: Vec<NodeRow>,
    log_events: LogEvents,
    findings: Vec<Finding>,
    uncovered: Vec<String>,
}

impl Pending {
    /// Adds the integrity findings of `integrity` (none when `None`), sorts and decides the
    /// verdict. The integrity findings come first before the (stable) sort, as [`diagnose`]
    /// always produced them, so ties keep the order they had.
    pub fn finish(
        self,
        integrity: Option<&Integrity>,
        snapshot_path: &str,
        allow_missing_trailer: bool,
    ) -> Diagnosis {
        let mut all = Vec::with_capacity(self.findings.len() + 4);
        if let Some(i) = integrity {
            findings::integrity(i, snapshot_path, allow_missing_trailer, &mut all);
        }
        all.extend(self.findings);
        let mut findings = all;
        findings.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(a.kind.cmp(&b.kind))
                .then(a.summary.cmp(&b.summary))
        });
        let (verdict, headline) = verdict(&findings, &self.records);
        Diagnosis {
            records: self.records,
            matrix: self.matrix,
            nodes: self.nodes,
            log_events: self.log_events,
            findings,
            uncovered: self.uncovered,
            verdict,
            headline,
        }
    }
}

#[cfg(test)]
mod tests;
