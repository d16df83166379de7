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
}

/// What correlation found.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    pub records: RecordCounts,
    pub nodes: Vec<NodeRow>,
    pub matrix: Vec<MatrixRow>,
    pub log_events: LogEvents,
    pub findings: Vec<Finding>,
    /// Keys of encrypted records in resources no given config covers.
    pub uncovered: Vec<String>,
}

impl Diagnosis {
    /// `ok`, `problems` or `damaged`, and the one-line why.
    pub fn verdict(&self) -> (&'static str, String) {
        let worst = self
            .findings
            .iter()
            .filter(|f| f.severity <= Severity::Warning)
            .min_by_key(|f| f.severity);
        if self.findings.iter().any(|f| f.kind == "snapshot-integrity") {
            let f = self
                .findings
                .iter()
                .find(|f| f.kind == "snapshot-integrity");
            return ("damaged", f.map(|f| f.summary.clone()).unwrap_or_default());
        }
        match worst {
            Some(f) => ("problems", f.summary.clone()),
            None => (
                "ok",
                format!(
                    "every node reads every record ({} live, {} encrypted); nothing to fix",
                    self.records.live, self.records.encrypted
                ),
            ),
        }
    }

    /// Problems worth a non-zero exit: anything of severity warning or worse.
    pub fn has_problems(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity <= Severity::Warning)
    }
}

/// Correlates everything in `ctx`.
pub fn diagnose(ctx: &Context<'_>) -> Diagnosis {
    let cov = coverage::Coverage::compute(ctx);
    let log_events = logmatch::summarise(ctx);
    let mut nodes = cov.node_rows(ctx);
    logmatch::match_nodes(ctx, &cov, &mut nodes);
    let mut findings = findings::all(ctx, &cov, &nodes);
    findings.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.kind.cmp(&b.kind))
            .then(a.summary.cmp(&b.summary))
    });
    Diagnosis {
        records: ctx.audit.records.clone(),
        matrix: cov.matrix(ctx),
        nodes,
        log_events,
        findings,
        uncovered: cov.uncovered.clone(),
    }
}
