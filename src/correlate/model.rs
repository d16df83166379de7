//! What correlation produces: per-node read results, the node × key matrix, unreadable records,
//! log-event summaries and findings. Owned, serialisable, deterministic; no key or value bytes.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize)]
pub struct RecordCounts {
    pub live: u64,
    pub encrypted: u64,
    pub plaintext: u64,
    /// Encrypted records no candidate key decrypts.
    pub undecryptable: u64,
    /// Live records by envelope: `aescbc`, `aesgcm`, `secretbox`, `kms`, `kmsv2`, `identity`, …
    pub by_provider: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeRow {
    pub name: String,
    /// Encrypted records this node's apiserver reads.
    pub decrypts: u64,
    /// Records this node's apiserver cannot read.
    pub fails: u64,
    /// Exact apiserver error → number of records.
    pub errors: BTreeMap<String, u64>,
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

#[derive(Clone, Debug, Serialize)]
pub struct Unreadable {
    pub key: String,
    pub mod_revision: i64,
    pub provider: String,
    pub key_name: Option<String>,
    /// node → the exact error that node's apiserver returns.
    pub failing_nodes: BTreeMap<String, String>,
    /// Ids of candidate keys that do decrypt it.
    pub decrypts_with: Vec<String>,
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
