//! The report document: everything a renderer may show, as owned, serialisable data in a
//! deterministic order. Built by [`super::build`] from the typed [`Diagnosis`]; renderers only
//! render it. Field by field in docs/report-schema.md (`schema_version` 2).
//!
//! This is the only place the typed facts get their JSON spelling ([`FindingKind::name`],
//! [`Severity::name`], [`Verdict::name`], [`LogState::name`]).
//!
//! Nothing here can hold a value's bytes or a key's bytes: keys appear as fingerprints only.

use crate::correlate::Diagnosis;
use crate::kube::transform_error::line_is_derived;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

pub use crate::correlate::model::{
    FindingKind, LogEvents, LogState, MatrixCell, MatrixRow, Restorability, Severity,
    TimelineSeries, Unreadable, Unreadables, Verdict,
};

pub const SCHEMA_VERSION: u32 = 2;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    /// When the report was made, RFC 3339 UTC (`--fixed-time` for reproducible output).
    pub created: String,
    pub verdict: VerdictSection,
    pub inputs: Vec<Input>,
    pub snapshot: Option<SnapshotSection>,
    pub records: RecordCounts,
    pub keys: Vec<KeyRow>,
    pub nodes: Vec<NodeRow>,
    /// Node × key coverage: per node, per key name, what that node's key does.
    pub matrix: Vec<MatrixRow>,
    pub unreadable: Unreadables,
    pub log_events: LogEvents,
    pub findings: Vec<Finding>,
    /// Where the space goes (docs/space.md); its findings are in `findings`.
    pub space: Option<SpaceSection>,
    /// How to restore this snapshot (`restore-plan`).
    pub restore_plan: Option<RestorePlanSection>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// The answer first: is everything readable and checked, and if not, the one-line why.
#[derive(Clone, Debug, Serialize)]
pub struct VerdictSection {
    /// `ok`, `not-verified`, `problems` or `damaged`.
    #[serde(serialize_with = "by_name")]
    pub status: Verdict,
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
    /// True when pages, metas and records are intact (a trailer-only mismatch keeps this true).
    pub structure_ok: bool,
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

/// Counts over the live records.
#[derive(Clone, Debug, Serialize)]
pub struct RecordCounts {
    pub live: usize,
    pub encrypted: usize,
    pub plaintext: usize,
    /// Encrypted records no candidate key decrypts, KMS records included.
    pub undecryptable: usize,
    /// Of `undecryptable`: encrypted through a KMS plugin.
    pub kms: usize,
    /// By provider for encrypted records, by storage (`protobuf`, `json`, `other`) for the rest.
    pub by_provider: BTreeMap<String, usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeRow {
    pub name: String,
    /// Encrypted records this node's apiserver reads.
    pub decrypts: u64,
    /// Records this node's apiserver cannot read.
    pub fails: u64,
    /// Exact apiserver error → number of records (derived strings start with `[derived] `).
    pub errors: BTreeMap<String, usize>,
    /// The first unreadable key in key order: where this node's LIST stops.
    pub first_failing_key: Option<String>,
    pub log: LogMatch,
}

#[derive(Clone, Debug, Serialize)]
pub struct LogMatch {
    /// `no-log`, `clean`, `confirmed`, `predicted-not-seen`, `seen-not-predicted`, `contradicts`.
    #[serde(serialize_with = "by_name")]
    pub state: LogState,
    pub events: u64,
    pub confirmed_keys: Vec<String>,
    pub keys_not_in_snapshot: Vec<String>,
    /// Keys its logs fail on that the config given for it decrypts.
    pub contradicted_keys: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    #[serde(serialize_with = "by_name")]
    pub kind: FindingKind,
    /// `critical`, `warning` or `info`.
    #[serde(serialize_with = "by_name")]
    pub severity: Severity,
    pub summary: String,
    pub nodes: Vec<String>,
    /// Every etcd key concerned (renderers other than JSON cap the list). Shared with the
    /// audit's list of unreadable records: a finding can name 300k of them.
    pub keys: Vec<std::sync::Arc<str>>,
    pub evidence: Vec<Evidence>,
    pub remedy: String,
    /// The remedy's commands, step by step (none for most findings).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<super::remedy::Step>,
    /// key-mismatch: who wrote the records only the odd node's key reads (from their metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writers: Option<super::writers::WritersJson>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    pub text: String,
    /// `file:line` for log evidence, the snapshot path for records.
    pub source: Option<String>,
    /// The text holds a string derived from code, not one an apiserver was seen to print.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub derived: bool,
}

/// A typed fact's one spelling in the report.
pub trait Named {
    fn name(&self) -> &'static str;
}

fn by_name<T: Named, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.name())
}

impl Named for Severity {
    fn name(&self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl Named for Verdict {
    fn name(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::NotVerified => "not-verified",
            Verdict::Problems => "problems",
            Verdict::Damaged => "damaged",
        }
    }
}

impl Named for Restorability {
    fn name(&self) -> &'static str {
        match self {
            Restorability::Restorable => "restorable",
            Restorability::NotVerified => "not-verified",
            Restorability::NotRestorable => "not-restorable",
        }
    }
}

impl Named for LogState {
    fn name(&self) -> &'static str {
        match self {
            LogState::NoLog => "no-log",
            LogState::Clean => "clean",
            LogState::Confirmed => "confirmed",
            LogState::PredictedNotSeen => "predicted-not-seen",
            LogState::SeenNotPredicted => "seen-not-predicted",
            LogState::Contradicts => "contradicts",
        }
    }
}

impl Named for FindingKind {
    fn name(&self) -> &'static str {
        match self {
            FindingKind::SnapshotIntegrity => "snapshot-integrity",
            FindingKind::TrailerMismatch => "trailer-mismatch",
            FindingKind::MissingTrailer => "missing-trailer",
            FindingKind::Alarm => "alarm",
            FindingKind::KeyMismatch => "key-mismatch",
            FindingKind::MissingReadKey => "missing-read-key",
            FindingKind::UndecryptableRecords => "undecryptable-records",
            FindingKind::NodeReadFailures => "node-read-failures",
            FindingKind::PlaintextInEncryptedResource => "plaintext-in-encrypted-resource",
            FindingKind::KmsRequired => "kms-required",
            FindingKind::LogKeyNotInSnapshot => "log-key-not-in-snapshot",
            FindingKind::NoKeySources => "no-key-sources",
            FindingKind::UnverifiedRecords => "unverified-records",
            FindingKind::NotChecked => "not-checked",
            FindingKind::ConfigNotRunning => "config-not-running",
            FindingKind::LogNodeAssumed => "log-node-assumed",
            FindingKind::LogNodeUnmatched => "log-node-unmatched",
            FindingKind::ClientSideLog => "client-side-log",
            FindingKind::SpaceQuota => "space-quota",
            FindingKind::SpaceFragmentation => "space-fragmentation",
            FindingKind::SpaceHistory => "space-history",
        }
    }
}

impl Finding {
    /// The report's form of a diagnosis finding (moved: a finding can list 300k keys).
    pub fn from_diagnosis(f: crate::correlate::Finding) -> Finding {
        let mut evidence = f.evidence;
        if let Some(w) = &f.facts.writers {
            // Right after the count of records the odd key wrote.
            let at = evidence
                .iter()
                .position(|e| e.text.contains(" records were written with "))
                .map_or(evidence.len(), |i| i + 1);
            evidence.insert(
                at,
                crate::correlate::Evidence {
                    text: super::writers::sentence(w),
                    source: None,
                },
            );
        }
        Finding {
            kind: f.kind,
            severity: f.severity,
            summary: f.summary,
            nodes: f.nodes,
            keys: f.keys,
            evidence: evidence
                .into_iter()
                .map(|e| Evidence {
                    derived: line_is_derived(&e.text),
                    text: e.text,
                    source: e.source,
                })
                .collect(),
            remedy: f.remedy,
            steps: f
                .facts
                .steps
                .iter()
                .map(super::remedy::Step::from_step)
                .collect(),
            writers: f
                .facts
                .writers
                .as_ref()
                .map(super::writers::WritersJson::from_writers),
        }
    }
}

impl NodeRow {
    fn from_diagnosis(n: crate::correlate::NodeRow) -> NodeRow {
        NodeRow {
            name: n.name,
            decrypts: n.decrypts,
            fails: n.fails,
            errors: n.errors,
            first_failing_key: n.first_failing_key,
            log: LogMatch {
                state: n.log.state,
                events: n.log.events,
                confirmed_keys: n.log.confirmed_keys,
                keys_not_in_snapshot: n.log.keys_not_in_snapshot,
                contradicted_keys: n.log.contradicted_keys,
            },
        }
    }
}

impl RecordCounts {
    pub fn from_audit(c: &crate::decrypt::audit::RecordCounts) -> RecordCounts {
        RecordCounts {
            live: c.live,
            encrypted: c.encrypted,
            plaintext: c.plaintext,
            undecryptable: c.undecryptable,
            kms: c.kms,
            by_provider: c.by_provider.clone(),
        }
    }
}

/// The diagnosis parts of the report, moved out of `d`.
pub(super) struct DiagnosisParts {
    pub verdict: VerdictSection,
    pub records: RecordCounts,
    pub nodes: Vec<NodeRow>,
    pub matrix: Vec<MatrixRow>,
    pub log_events: LogEvents,
    pub findings: Vec<Finding>,
}

impl DiagnosisParts {
    pub fn from(d: Diagnosis) -> DiagnosisParts {
        DiagnosisParts {
            verdict: VerdictSection {
                status: d.verdict,
                headline: d.headline,
            },
            records: RecordCounts::from_audit(&d.records),
            nodes: d.nodes.into_iter().map(NodeRow::from_diagnosis).collect(),
            matrix: d.matrix,
            log_events: d.log_events,
            findings: d
                .findings
                .into_iter()
                .map(Finding::from_diagnosis)
                .collect(),
        }
    }
}

/// How many resources and hotspots the report lists (`stats` lists any number).
pub const SPACE_ROWS: usize = 5;

/// The space numbers the report shows: a summary of `stats`.
#[derive(Clone, Debug, Serialize)]
pub struct SpaceSection {
    /// etcd's `dbSize`: high-water mark × page size.
    pub db_size: u64,
    pub page_size: u64,
    pub pages_in_use: u64,
    pub pages_free: u64,
    /// Free pages over pages below the high-water mark.
    pub fragmentation: f64,
    /// What `defrag` would give back, and the db size after it.
    pub defrag_frees: u64,
    pub db_size_after_defrag: u64,
    pub quota_bytes: u64,
    /// True when the quota is etcd's default, assumed (no --quota-backend-bytes known).
    pub quota_is_default: bool,
    pub live_keys: u64,
    pub live_bytes: u64,
    /// Every revision the file holds, tombstones included.
    pub revisions: u64,
    pub held_bytes: u64,
    /// Bytes of superseded and deleted revisions: what a compaction at the latest revision
    /// removes.
    pub old_bytes: u64,
    pub compaction: CompactionSection,
    /// Resources holding the most bytes over all revisions, at most [`SPACE_ROWS`].
    pub history_by_resource: Vec<ResourceHistory>,
    /// Keys with the most revisions held, at most [`SPACE_ROWS`].
    pub hotspots: Vec<Hotspot>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CompactionSection {
    pub revision: i64,
    pub revisions_removed: u64,
    pub bytes_removed: u64,
    pub db_size_after_defrag: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ResourceHistory {
    pub resource: String,
    pub live_bytes: u64,
    pub held_bytes: u64,
    pub old_bytes: u64,
    pub revisions: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Hotspot {
    pub key: String,
    pub revisions: u64,
    pub first_revision: i64,
    pub last_revision: i64,
}

impl SpaceSection {
    pub fn from_space(sp: &crate::etcd::space::Space) -> SpaceSection {
        let mut resources: Vec<_> = sp.by_resource.iter().collect();
        resources.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
        SpaceSection {
            db_size: sp.pages.db_bytes(),
            page_size: sp.pages.page_size,
            pages_in_use: sp.pages.in_use,
            pages_free: sp.pages.free,
            fragmentation: sp.fragmentation,
            defrag_frees: sp.defrag.frees_bytes,
            db_size_after_defrag: sp.defrag.db_bytes,
            quota_bytes: sp.quota.quota_bytes,
            quota_is_default: sp.quota.is_default,
            live_keys: sp.totals.live_keys,
            live_bytes: sp.totals.live_bytes,
            revisions: sp.totals.revisions,
            held_bytes: sp.totals.bytes,
            old_bytes: sp.totals.old_bytes(),
            compaction: CompactionSection {
                revision: sp.compaction.revision,
                revisions_removed: sp.compaction.revisions_removed,
                bytes_removed: sp.compaction.bytes_removed,
                db_size_after_defrag: sp.compaction.then_defrag.db_bytes,
            },
            history_by_resource: resources
                .into_iter()
                .take(SPACE_ROWS)
                .map(|(name, t)| ResourceHistory {
                    resource: name.clone(),
                    live_bytes: t.live_bytes,
                    held_bytes: t.bytes,
                    old_bytes: t.old_bytes(),
                    revisions: t.revisions,
                })
                .collect(),
            hotspots: sp
                .hotspots
                .iter()
                .take(SPACE_ROWS)
                .map(|k| Hotspot {
                    key: k.key.clone(),
                    revisions: k.revisions,
                    first_revision: k.first_revision,
                    last_revision: k.last_revision,
                })
                .collect(),
        }
    }
}

/// The restore plan the report shows: `restore-plan`'s content.
#[derive(Clone, Debug, Serialize)]
pub struct RestorePlanSection {
    /// `--bump-revision` for etcdutl 3.5.10+ / 3.6, and why that size: it must exceed the
    /// revisions written after the snapshot; ten times the snapshot's revision, rounded up to a
    /// power of ten, at least 10^9.
    pub bump_revision: u64,
    pub from_revision: i64,
    /// With the bump: the restored member's revision, also its compacted revision.
    pub restored_revision: i64,
    /// Without a bump (etcd 3.4): what the restored member holds.
    pub revision: i64,
    pub compacted_revision: Option<i64>,
    pub cluster_version: Option<String>,
    pub storage_version: Option<String>,
    pub live_keys: usize,
    /// Members named in the file: restore replaces them with `--initial-cluster`.
    pub members_in_file: Vec<String>,
    pub commands: Vec<RestoreCommand>,
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RestoreCommand {
    /// `etcdutl` (3.5.10+ / 3.6, with the bump flags) or `etcdctl-3.4` (without).
    pub tool: String,
    pub member: String,
    pub argv: Vec<String>,
    /// The command line as a POSIX shell takes it, `\`-continued before each flag.
    pub line: String,
}

impl RestorePlanSection {
    pub fn from_plan(p: &crate::etcd::restore::RestorePlan) -> RestorePlanSection {
        use crate::etcd::restore::Tool as T;
        RestorePlanSection {
            bump_revision: p.bump.bump,
            from_revision: p.bump.from_revision,
            restored_revision: p.bump.restored_revision,
            revision: p.restored.revision,
            compacted_revision: p.restored.compacted_revision,
            cluster_version: p.restored.cluster_version.clone(),
            storage_version: p.restored.storage_version.clone(),
            live_keys: p.restored.live_keys,
            members_in_file: p.restored.members_in_file.clone(),
            commands: p
                .commands
                .iter()
                .map(|c| {
                    let (tool, env) = match c.tool {
                        T::Etcdutl => ("etcdutl", ""),
                        T::Etcdctl34 => ("etcdctl-3.4", "ETCDCTL_API=3 "),
                    };
                    RestoreCommand {
                        tool: tool.into(),
                        member: c.member.clone(),
                        argv: c.argv.clone(),
                        line: super::restore::command_line(&c.argv, env),
                    }
                })
                .collect(),
            warnings: p
                .warnings
                .iter()
                .map(super::restore::warning_text)
                .collect(),
        }
    }
}
