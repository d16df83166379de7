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

use crate::decrypt::{Engine, NodeOutcome, RecordVerdict};
use crate::etcd::integrity::Integrity;
use crate::etcd::records::Records;
use crate::keyring::Keyring;
use crate::logs::LogScan;
use rayon::prelude::*;

/// One live record with its verdict.
pub struct Assessed<'a> {
    pub key: &'a [u8],
    pub mod_revision: i64,
    pub verdict: RecordVerdict<'a>,
}

impl Assessed<'_> {
    pub fn key_str(&self) -> String {
        crate::etcd::display_key(self.key)
    }
}

/// Runs the decryption engine over every live record in parallel. The result is in key order.
pub fn assess<'a>(records: &'a Records<'a>, engine: &'a Engine) -> Vec<Assessed<'a>> {
    let live: Vec<_> = records.live().collect();
    live.par_chunks(256)
        .flat_map_iter(|chunk| {
            let pairs: Vec<(&[u8], &[u8])> = chunk.iter().map(|r| (r.kv.key, r.kv.value)).collect();
            engine
                .assess_batch(&pairs)
                .into_iter()
                .zip(chunk.iter())
                .map(|(verdict, r)| Assessed {
                    key: r.kv.key,
                    mod_revision: r.kv.mod_revision,
                    verdict,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// True when a node's apiserver returns an error for the record (KMS records are unknown, not
/// failing: only the plugin can tell).
pub fn fails(o: &NodeOutcome<'_>) -> bool {
    matches!(
        o,
        NodeOutcome::Failed { .. } | NodeOutcome::Panics { .. } | NodeOutcome::Garbage { .. }
    )
}

/// Everything correlation needs.
pub struct Context<'a> {
    pub snapshot_path: &'a str,
    pub records: &'a Records<'a>,
    pub assessed: &'a [Assessed<'a>],
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
    pub unreadable: Vec<Unreadable>,
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
        records: cov.counts.clone(),
        matrix: cov.matrix(ctx),
        unreadable: cov.unreadable(ctx),
        nodes,
        log_events,
        findings,
        uncovered: cov
            .uncovered
            .iter()
            .map(|&i| ctx.assessed[i].key_str())
            .collect(),
    }
}
