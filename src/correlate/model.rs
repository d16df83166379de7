//! What correlation produces: per-node read results, the node × key matrix, unreadable records,
//! log-event summaries, findings and the verdict. Typed facts, deterministic, no key or value
//! bytes; `report` alone turns them into text and into its versioned JSON schema.

use serde::Serialize;
use std::collections::BTreeMap;

/// Counts over the live records, as `audit` computes them.
pub use crate::decrypt::audit::RecordCounts;
/// A live record at least one node cannot read, as `audit` lists it.
pub use crate::decrypt::audit::{Unreadable, Unreadables};

#[derive(Clone, Debug)]
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
#[derive(Clone, Debug)]
pub struct LogMatch {
    pub state: LogState,
    pub events: u64,
    /// Keys the logs name that fail in the snapshot, too.
    pub confirmed_keys: Vec<String>,
    /// Keys the logs name that are not in the snapshot (newer, or deleted since).
    pub keys_not_in_snapshot: Vec<String>,
    /// Keys the logs name as failing that this node's given config reads: the config given is
    /// not the one its apiserver runs.
    pub contradicted_keys: Vec<String>,
}

/// One node's logs against the snapshot's prediction for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogState {
    /// No log was given for this node.
    NoLog,
    /// The node reads everything and its logs show no transform error.
    Clean,
    /// Predicted failures, and the logs show them.
    Confirmed,
    /// Predicted failures the logs do not show.
    PredictedNotSeen,
    /// Errors the snapshot does not predict, on keys it does not hold (or without a key).
    SeenNotPredicted,
    /// Errors on records the node's given config reads: config and apiserver disagree.
    Contradicts,
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
    /// What the timeline's times are: the least certain basis of the events on it (`utc`,
    /// `local`: year known, zone not; `no-year`: neither). Events without a time are not on it.
    pub timeline_basis: Option<crate::logs::time::TimeBasis>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimelineSeries {
    pub node: String,
    /// (bucket start, count) points in time order; the time is written as `timeline_basis`
    /// allows (`…Z` only for UTC).
    pub points: Vec<(String, u64)>,
    /// kube-apiserver starts seen in this node's logs within the timeline's span.
    pub restarts: Vec<TimelineRestart>,
}

/// An apiserver start on the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct TimelineRestart {
    /// Written like the points' times.
    pub time: String,
    /// The bucket it falls in (index into `points`).
    pub bucket: usize,
    /// `file:line` of the start marker.
    pub source: String,
}

/// Exactly three: docs/verdict-rules.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

/// What a finding is about. Names and the JSON spelling are the report's (docs/report-schema.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// The page structure, metas or records are damaged.
    SnapshotIntegrity,
    /// Only the SHA-256 trailer disagrees; the structure is intact.
    TrailerMismatch,
    MissingTrailer,
    Alarm,
    KeyMismatch,
    /// Records under a key name no given source holds.
    MissingReadKey,
    /// Records under a key name some source holds, that none of those keys decrypts.
    UndecryptableRecords,
    /// One node fails records other nodes read.
    NodeReadFailures,
    PlaintextInEncryptedResource,
    KmsRequired,
    LogKeyNotInSnapshot,
    /// Encrypted records and no key source at all.
    NoKeySources,
    /// Only `--key`s given, and some encrypted records decrypt with none of them.
    UnverifiedRecords,
    /// Records of resources another apiserver serves (OpenShift), not checked.
    NotChecked,
    /// A node's logs contradict the config given for it.
    ConfigNotRunning,
    /// Unlabelled logs attached to the only config node.
    LogNodeAssumed,
    /// A log's node matches no config node.
    LogNodeUnmatched,
    /// Log files holding only client-side errors (kubelet, kubectl, …): what clients saw, never
    /// attributed to an apiserver node.
    ClientSideLog,
    /// The db size against the quota (docs/space.md).
    SpaceQuota,
    /// What defrag would give back.
    SpaceFragmentation,
    /// Old revisions a compaction would remove, the resources and keys that write them.
    SpaceHistory,
}

impl FindingKind {
    /// Findings that leave records unverified rather than proving a problem: they make the
    /// verdict "not verified" (docs/verdict-rules.md, rule 1).
    pub fn unverified(self) -> bool {
        matches!(
            self,
            FindingKind::NoKeySources
                | FindingKind::UnverifiedRecords
                | FindingKind::NotChecked
                | FindingKind::KmsRequired
        )
    }

    /// Findings that make a backup not restorable (docs/verdict-rules.md, rule 7). The others of
    /// severity warning or worse are validate warnings.
    pub fn blocks_restore(self) -> bool {
        matches!(
            self,
            FindingKind::SnapshotIntegrity
                | FindingKind::TrailerMismatch
                | FindingKind::MissingTrailer
                | FindingKind::MissingReadKey
                | FindingKind::UndecryptableRecords
        )
    }
}

/// The answer first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Every encrypted record was checked and every node reads every record.
    Ok,
    /// Some records could not be checked (no key source for them, a KMS, another apiserver).
    NotVerified,
    /// Findings of severity warning or worse.
    Problems,
    /// The snapshot's structure is damaged.
    Damaged,
}

/// What `validate` answers, as a function of the [`Verdict`] and the findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restorability {
    Restorable,
    NotVerified,
    NotRestorable,
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    pub summary: String,
    pub nodes: Vec<String>,
    /// Every etcd key concerned (renderers other than JSON cap the list).
    pub keys: Vec<std::sync::Arc<str>>,
    pub evidence: Vec<Evidence>,
    pub remedy: String,
    /// Typed facts some findings carry besides their text (`report` spells them).
    pub facts: FindingFacts,
}

/// What a finding knows beyond its summary, evidence and remedy text: typed, for `report`.
#[derive(Clone, Debug, Default)]
pub struct FindingFacts {
    /// The remedy's commands, in order.
    pub steps: Vec<RemedyStep>,
    /// Who wrote the records only the odd node's key reads (key-mismatch), from the objects'
    /// own metadata.
    pub writers: Option<super::writers::Writers>,
}

/// One step of a remedy that is a command to run. Typed here; `report` alone spells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemedyStep {
    /// `etcd-autopsy export`, from the snapshot, of the records only one key decrypts, while the
    /// snapshot still holds them: apply-ready manifests in a directory the user names.
    Export(ExportStep),
    /// After the key is fixed: no node reads the originals, and an apiserver has to read an
    /// object to update or delete it (kubernetes/kubernetes#86489), so `kubectl apply` and
    /// `replace` fail on them. Each original is removed by the path for undecryptable objects
    /// (KEP-3926: `kubectl delete --ignore-store-read-error-with-cluster-breaking-potential`,
    /// 1.32+ with the AllowUnsafeMalformedObjectDeletion feature gate; `etcdctl del` before),
    /// then the export is applied.
    Recreate(RecreateStep),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportStep {
    pub snapshot: String,
    /// The key source that holds the key (the node's config or tarball, or a `--key`).
    pub source: KeySourceRef,
    /// The key that decrypts exactly these records (the export selects by it).
    pub fingerprint: String,
    /// The records it selects.
    pub keys: Vec<std::sync::Arc<str>>,
    /// Secrets are among them (their manifests carry values: the export needs `--reveal`).
    pub secrets: bool,
    /// Records stored encrypted: `export` writes them only with `--reveal` (redacted values
    /// would not be apply-ready), whatever their kind.
    pub encrypted: bool,
}

/// How a key source is given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySourceRef {
    EncryptionConfig {
        node: String,
        path: String,
    },
    StaticResources {
        node: String,
        path: String,
    },
    /// A `--key` argument: its bytes are never printed; the user gives them again.
    CommandLine {
        provider: String,
        name: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecreateStep {
    /// The objects to remove and re-create, by etcd key.
    pub objects: Vec<ObjectRef>,
}

/// An object as `kubectl` names it, with its etcd key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub key: String,
    /// `secrets`, `deployments.apps`.
    pub resource: String,
    pub namespace: Option<String>,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct Evidence {
    pub text: String,
    /// `file:line` for log evidence, the snapshot path for records.
    pub source: Option<String>,
}
