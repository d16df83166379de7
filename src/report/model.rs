//! The report document: everything a renderer may show, as owned, serialisable data in a
//! deterministic order. Assembled by `correlate`/`cmd` from the lower layers; renderers only
//! render it. Field by field in docs/report-schema.md (`schema_version` 1).
//!
//! Nothing here can hold a value's bytes or a key's bytes: keys appear as fingerprints only.

use serde::Serialize;
use std::collections::BTreeMap;

pub use crate::correlate::model::*;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    /// When the report was made, RFC 3339 UTC (`--fixed-time` for reproducible output).
    pub created: String,
    pub verdict: Verdict,
    pub inputs: Vec<Input>,
    pub snapshot: Option<SnapshotSection>,
    pub records: RecordCounts,
    pub keys: Vec<KeyRow>,
    pub nodes: Vec<NodeRow>,
    /// Node × key coverage: per node, per key name, what that node's key does.
    pub matrix: Vec<MatrixRow>,
    pub unreadable: Vec<Unreadable>,
    pub log_events: LogEvents,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// The answer first: is everything readable, and if not, the one-line why.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// `ok`, `problems` or `damaged`.
    pub status: String,
    pub headline: String,
}

/// Chain of custody: every input read, with its digest.
#[derive(Clone, Debug, Serialize)]
pub struct Input {
    pub path: String,
    /// `snapshot`, `encryption-config`, `static-resources`, `key-argument`, `log`, `builtin`.
    pub role: String,
    pub node: Option<String>,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct SnapshotSection {
    pub path: String,
    /// The `etcdctl snapshot status` numbers plus `liveKeys`.
    pub status: BTreeMap<String, serde_json::Value>,
    pub integrity: Integrity,
}

#[derive(Clone, Debug, Serialize)]
pub struct Integrity {
    pub ok: bool,
    /// `valid`, `missing` or `mismatch`.
    pub sha256_trailer: String,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct KeyRow {
    /// Stable id used by `decrypts_with[]` and findings: `k1`, `k2`, …
    pub id: String,
    pub node: Option<String>,
    /// Where the key came from: file, tarball revision, or `--key`.
    pub source: String,
    pub provider: String,
    pub name: String,
    /// `sha256:` + first 16 hex of SHA-256 of the key bytes.
    pub fingerprint: String,
    /// `write` (first provider's first key) or `read`.
    pub role: String,
}
