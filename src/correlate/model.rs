//! What correlation produces: per-node read results, the node × key matrix, unreadable records,
//! log-event summaries and findings. Owned, serialisable, deterministic; no key or value bytes.

use serde::Serialize;
use std::collections::BTreeMap;

/// Counts over the live records, as `audit` computes them.
pub use crate::decrypt::audit::RecordCounts;
/// A live record at least one node cannot read, as `audit` lists it.
pub use crate::decrypt::audit::Unreadable;

#[derive(Clone, Debug, Serialize)]
pub struct NodeRow {
    pub name: String,
    /// Records this node's apiserver reads (plaintext or decrypted).
    pub decrypts: u64,
    /// Records this node's apiserver cannot read.
    pub fails: u64,
    /// Exact apiserver error → number of records.
    pub errors: BTreeMap<String, usize>,
    /// The first unreadable key in key order: where this node's LIST stops.
    pub first_failing_key: Option<String>,
    /// What this node's logs say about that prediction.
    pub log: LogMatch,
}

/// Prediction (from the snapshot) against observation (from the logs) for one node.
#[derive(Clone, Debug, Serialize)]
pub struct LogMatch {
    /// `confirmed`, `predicted-not-seen`, `no-log`, `clean`, or `seen-not-predicted`.
    pub state: String,
    pub events: u64,
    /// Keys the logs name that fail in the snapshot, too.
    pub confirmed_keys: Vec<String>,
    /// Keys the logs name that are not in the snapshot (newer, or deleted since).
    pub keys_not_in_snapshot: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MatrixRow {
    pub node: String,
    /// `provider:name` → cell.
    pub cells: BTreeMap<String, MatrixCell>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MatrixCell {
    pub fingerprint: String,
    /// Records stored under this key name that the node's key decrypts / fails.
    pub decrypts: u64,
    pub fails: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct LogEvents {
    pub total: u64,
    pub by_node: BTreeMap<String, u64>,
    pub by_key: BTreeMap<String, u64>,
    /// Per node, errors per time bucket (for the HTML timeline).
    pub timeline: Vec<TimelineSeries>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimelineSeries {
    pub node: String,
    /// (UTC RFC 3339 time, count) points in time order.
    pub points: Vec<(String, u64)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// `snapshot-integrity`, `key-mismatch`, `undecryptable-records`, `missing-read-key`,
    /// `plaintext-in-encrypted-resource`, `kms-required`, `log-key-not-in-snapshot`, …
    pub kind: String,
    pub severity: Severity,
    pub summary: String,
    pub nodes: Vec<String>,
    /// Every etcd key concerned (renderers other than JSON cap the list).
    pub keys: Vec<String>,
    pub evidence: Vec<Evidence>,
    pub remedy: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    pub text: String,
    /// `file:line` for log evidence, the snapshot path for records.
    pub source: Option<String>,
}
