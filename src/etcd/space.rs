//! Where an etcd db's space goes, as typed facts with verdicts: pages in use / free / past the
//! high-water mark, what `defrag` and a compaction at the latest revision would give back, quota
//! usage and the NOSPACE alarm, and live and historical bytes per group and per key.
//!
//! Upstream facts this relies on:
//! - The quota compares the backend's *total* size, `Backend().Size()` = `tx.Size()` =
//!   high-water mark × page size, not `SizeInUse`: etcdserver/quota.go `Available` in v3.4.23 and
//!   v3.5.0–v3.5.x, server/storage/quota.go in v3.6 (`b.be.Size()+int64(cost) <
//!   b.maxBackendBytes`). Free pages therefore count against the quota until a defrag.
//! - Default quota 2 GiB (`DefaultQuotaBytes`), 8 GiB the suggested maximum (`MaxQuotaBytes`).
//! - `dbSizeInUse` is `Size() − FreePageN × pageSize` (mvcc/backend/backend.go `begin`); pages
//!   a write transaction freed are *pending* there (still counted in use) until the next write
//!   transaction, while in the file they are simply unreachable, so the file's in-use figure is
//!   at most the member's.
//! - defrag rewrites every bucket in key order with `FillPercent = 0.9` (backend.go `defragdb`);
//!   history stays: only compaction removes revisions (mvcc/kvstore_compaction.go).
//! - A compaction at the latest revision keeps exactly the latest revision of each live key
//!   (mvcc/key_index.go `compact`): deleted keys and every superseded revision go.

use super::buckets;
use super::cluster::ClusterInfo;
use super::display_key;
use super::meta::MetaInfo;
use super::records::Records;
use super::revision::Revision;
use super::snapshot::Snapshot;
use crate::bbolt::usage::{compacted_pages, Packer, PageUsage, INIT_PAGES_FREED};
use crate::bbolt::CheckReport;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// etcd's default `--quota-backend-bytes` (etcdserver/quota.go `DefaultQuotaBytes`).
pub const DEFAULT_QUOTA_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The largest quota etcd suggests (`MaxQuotaBytes`); it warns above it.
pub const MAX_SUGGESTED_QUOTA_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// `tmpb.FillPercent` in `defragdb`.
pub const DEFRAG_FILL_PERCENT: f64 = 0.9;

/// Quota share from which a finding is raised, and from which it is critical.
pub const QUOTA_WARN: f64 = 0.80;
pub const QUOTA_CRITICAL: f64 = 0.95;
/// Share of the db that defrag would give back from which it is worth a finding.
pub const DEFRAG_WORTH: f64 = 0.20;
/// Bytes a defrag or a compaction must give back for its finding to be a warning rather than
/// information: 100 MiB, about 5 % of etcd's default quota. Below it the share may be large
/// but the space is not a problem (a 2 MB db that defrag would shrink by 500 kB).
pub const WORTH_WARNING_BYTES: u64 = 100 * 1024 * 1024;
/// Share of the held bytes that are old revisions (superseded or deleted) from which a
/// compaction is worth a finding.
pub const COMPACTION_WORTH: f64 = 0.50;
/// Share of the old-revision bytes one resource holds from which it is named.
pub const RESOURCE_HISTORY_SHARE: f64 = 0.40;
/// A key holding this share of all revisions, and at least [`HOTSPOT_MIN_REVISIONS`], is a
/// write hotspot.
pub const HOTSPOT_SHARE: f64 = 0.10;
pub const HOTSPOT_MIN_REVISIONS: u64 = 50;

/// What the caller chooses.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub quota_bytes: u64,
    /// Prefix depth for [`Space::by_prefix`]: `/registry/events/ns/x` at depth 2 is `/registry/events`.
    pub depth: usize,
    pub top: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            quota_bytes: DEFAULT_QUOTA_BYTES,
            depth: 2,
            top: 10,
        }
    }
}

/// The group a key belongs to, as the caller's classifier (the `kube` layer) names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyClass {
    pub resource: String,
    pub namespace: String,
}

/// Bytes counted are the etcd key plus the value of each revision (what a client wrote), not
/// the bbolt encoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub live_keys: u64,
    pub live_bytes: u64,
    /// Every revision the file holds, live ones and tombstones included.
    pub revisions: u64,
    pub bytes: u64,
}

impl Tally {
    /// Bytes of revisions that are not the live one: what a compaction at the latest revision
    /// removes.
    pub fn old_bytes(&self) -> u64 {
        self.bytes.saturating_sub(self.live_bytes)
    }
    fn add(&mut self, k: &KeyHistory) {
        self.live_keys += u64::from(k.live);
        self.live_bytes += k.live_bytes;
        self.revisions += k.revisions;
        self.bytes += k.bytes;
    }
}

/// One key's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyHistory {
    pub key: String,
    pub revisions: u64,
    pub bytes: u64,
    pub live: bool,
    pub live_bytes: u64,
    /// Revision range the file holds for this key.
    pub first_revision: i64,
    pub last_revision: i64,
}

/// What `defrag` would leave, from replaying its copy (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// Pages in use in the defragmented file (metas included): its `dbSizeInUse`.
    pub pages: u64,
    pub in_use_bytes: u64,
    /// Its `dbSize`: in use plus the pages its first commit freed. A lower bound when the copy
    /// takes more than one commit (over 10,000 keys in a bucket run).
    pub db_bytes: u64,
    /// `dbSize` now minus `db_bytes`, never negative.
    pub frees_bytes: u64,
}

/// What a compaction at the latest revision would remove, and the defragmented size after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CompactionEstimate {
    pub revision: i64,
    pub revisions_removed: u64,
    /// Key + value bytes of the removed revisions.
    pub bytes_removed: u64,
    /// Compaction, then defrag.
    pub then_defrag: Estimate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub quota_bytes: u64,
    /// The figure etcd compares: `dbSize` (high-water mark × page size).
    pub used_bytes: u64,
    pub is_default: bool,
}

impl Quota {
    pub fn share(&self) -> f64 {
        if self.quota_bytes == 0 {
            0.0
        } else {
            self.used_bytes as f64 / self.quota_bytes as f64
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Critical,
}

/// A verdict about space, with the numbers it rests on. Remedies are rendered at the edge from
/// the kind; thresholds are the constants of this module.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpaceFinding {
    /// `dbSize` at or above [`QUOTA_WARN`] of the quota.
    QuotaUsage { used_bytes: u64, quota_bytes: u64 },
    /// The quota given is above etcd's suggested maximum.
    QuotaAboveSuggested { quota_bytes: u64 },
    /// A NOSPACE alarm is stored in the file: the members named refuse writes until disarmed.
    NoSpaceAlarm { member_ids: Vec<String> },
    /// Defrag would give back at least [`DEFRAG_WORTH`] of the db.
    DefragWouldFree { bytes: u64, db_bytes: u64 },
    /// Old revisions are at least [`COMPACTION_WORTH`] of the bytes held.
    CompactionWouldFree {
        revision: i64,
        revisions: u64,
        bytes: u64,
        held_bytes: u64,
        db_bytes_after_defrag: u64,
    },
    /// One resource holds at least [`RESOURCE_HISTORY_SHARE`] of the old-revision bytes.
    ResourceHoldsHistory {
        resource: String,
        old_bytes: u64,
        all_old_bytes: u64,
    },
    /// One key holds at least [`HOTSPOT_SHARE`] of all revisions.
    WriteHotspot {
        key: String,
        revisions: u64,
        all_revisions: u64,
    },
    /// `scheduledCompactRev` above `finishedCompactRev`: a compaction was interrupted; etcd
    /// finishes it when it opens the db (mvcc/kvstore.go `restore`).
    CompactionUnfinished { scheduled: i64, finished: i64 },
}

impl SpaceFinding {
    pub fn level(&self) -> Level {
        match self {
            SpaceFinding::QuotaUsage {
                used_bytes,
                quota_bytes,
            } => {
                if *used_bytes as f64 >= QUOTA_CRITICAL * *quota_bytes as f64 {
                    Level::Critical
                } else {
                    Level::Warning
                }
            }
            SpaceFinding::NoSpaceAlarm { .. } => Level::Critical,
            SpaceFinding::DefragWouldFree { bytes, .. }
            | SpaceFinding::CompactionWouldFree { bytes, .. } => {
                if *bytes >= WORTH_WARNING_BYTES {
                    Level::Warning
                } else {
                    Level::Info
                }
            }
            SpaceFinding::QuotaAboveSuggested { .. }
            | SpaceFinding::CompactionUnfinished { .. } => Level::Warning,
            SpaceFinding::ResourceHoldsHistory { .. } | SpaceFinding::WriteHotspot { .. } => {
                Level::Info
            }
        }
    }
}

/// The whole space diagnosis.
#[derive(Clone, Debug, Serialize)]
pub struct Space {
    pub pages: PageUsage,
    pub fragmentation: f64,
    pub defrag: Estimate,
    pub compaction: CompactionEstimate,
    pub quota: Quota,
    pub current_revision: i64,
    pub compacted_revision: Option<i64>,
    pub scheduled_compact_revision: Option<i64>,
    pub totals: Tally,
    pub by_resource: BTreeMap<String, Tally>,
    pub by_namespace: BTreeMap<String, Tally>,
    pub depth: usize,
    pub by_prefix: BTreeMap<String, Tally>,
    /// Keys holding the most bytes over all their revisions.
    pub largest_histories: Vec<KeyHistory>,
    /// Keys with the most revisions held.
    pub hotspots: Vec<KeyHistory>,
    pub findings: Vec<SpaceFinding>,
}

/// `key` cut to its first `depth` `/`-separated segments.
pub fn prefix(key: &[u8], depth: usize) -> String {
    let s = display_key(key);
    let lead = s.starts_with('/');
    let segs: Vec<&str> = s.split('/').filter(|p| !p.is_empty()).take(depth).collect();
    let joined = segs.join("/");
    if lead {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Builds the diagnosis. `check` is the structure check of the same file (its page counts);
/// `classify` names each key's resource and namespace (the caller's layer knows Kubernetes).
pub fn compute(
    snap: &Snapshot,
    records: &Records<'_>,
    check: &CheckReport,
    classify: &dyn Fn(&[u8]) -> KeyClass,
    opts: Options,
) -> Space {
    let db = snap.db();
    let page_size = db.page_size() as u64;
    let file_bytes = snap.bytes().len() as u64;
    let hwm = db.meta().hwm;
    let file_pages = db.file_pages();
    let pages = PageUsage {
        page_size,
        file_bytes,
        hwm,
        in_use: check.reachable_pages,
        free: check.unreachable_pages,
        past_hwm: file_pages.saturating_sub(hwm),
        tail_bytes: file_bytes.saturating_sub(file_pages.saturating_mul(page_size)),
    };
    let meta = MetaInfo::read(snap);
    let cluster = ClusterInfo::read(snap);

    let keys = crate::trace::span("space: key histories", || key_histories(records));
    let mut totals = Tally::default();
    let mut by_resource: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_namespace: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_prefix: BTreeMap<String, Tally> = BTreeMap::new();
    crate::trace::span("space: groups", || {
        for (raw, k) in &keys {
            totals.add(k);
            let class = classify(raw);
            by_resource.entry(class.resource).or_default().add(k);
            by_namespace.entry(class.namespace).or_default().add(k);
            by_prefix.entry(prefix(raw, opts.depth)).or_default().add(k);
        }
    });
    let top = |mut v: Vec<&KeyHistory>, by: fn(&KeyHistory) -> u64| {
        v.sort_by(|a, b| by(b).cmp(&by(a)).then(a.key.cmp(&b.key)));
        v.into_iter().take(opts.top).cloned().collect::<Vec<_>>()
    };
    let all: Vec<&KeyHistory> = keys.iter().map(|(_, k)| k).collect();
    let largest_histories = top(all.clone(), |k| k.bytes);
    let hotspots = top(all.into_iter().filter(|k| k.revisions > 1).collect(), |k| {
        k.revisions
    });

    let db_bytes = pages.db_bytes();
    let (defrag, after_compaction) =
        crate::trace::span("space: estimates", || estimates(snap, records, page_size));
    let estimate = |pages: u64| {
        let after = pages
            .saturating_add(INIT_PAGES_FREED)
            .saturating_mul(page_size);
        Estimate {
            pages,
            in_use_bytes: pages.saturating_mul(page_size),
            db_bytes: after,
            frees_bytes: db_bytes.saturating_sub(after),
        }
    };
    let current_revision = records.max_revision();
    let compaction = CompactionEstimate {
        revision: current_revision,
        revisions_removed: totals.revisions.saturating_sub(totals.live_keys),
        bytes_removed: totals.old_bytes(),
        then_defrag: estimate(after_compaction),
    };
    let quota = Quota {
        quota_bytes: opts.quota_bytes,
        used_bytes: db_bytes,
        is_default: opts.quota_bytes == DEFAULT_QUOTA_BYTES,
    };
    let mut space = Space {
        fragmentation: pages.fragmentation(),
        pages,
        defrag: estimate(defrag),
        compaction,
        quota,
        current_revision,
        compacted_revision: meta.finished_compact_revision,
        scheduled_compact_revision: meta.scheduled_compact_revision,
        totals,
        by_resource,
        by_namespace,
        depth: opts.depth,
        by_prefix,
        largest_histories,
        hotspots,
        findings: Vec::new(),
    };
    let nospace: Vec<String> = cluster
        .raised_alarms()
        .filter(|a| a.alarm == "NOSPACE")
        .map(|a| a.member_id.clone())
        .collect();
    space.findings = findings(&space, nospace);
    space
}

/// Every key's history, in key order, with the raw key for classification.
fn key_histories<'a>(records: &Records<'a>) -> Vec<(&'a [u8], KeyHistory)> {
    let mut out: Vec<(&[u8], KeyHistory)> = Vec::new();
    for r in records.history() {
        let n = (r.kv.key.len() + r.kv.value.len()) as u64;
        match out.last_mut() {
            Some((k, h)) if *k == r.kv.key => {
                h.revisions += 1;
                h.bytes += n;
                h.last_revision = r.rev.main;
                h.live = !r.rev.tombstone;
                h.live_bytes = if h.live { n } else { 0 };
            }
            _ => out.push((
                r.kv.key,
                KeyHistory {
                    key: display_key(r.kv.key),
                    revisions: 1,
                    bytes: n,
                    live: !r.rev.tombstone,
                    live_bytes: if r.rev.tombstone { 0 } else { n },
                    first_revision: r.rev.main,
                    last_revision: r.rev.main,
                },
            )),
        }
    }
    out
}

/// Pages after `defrag` now, and after a compaction at the latest revision then `defrag`:
/// every top-level bucket replayed through [`Packer`]; for the second, the `key` bucket keeps
/// only each live key's latest revision.
fn estimates(snap: &Snapshot, records: &Records<'_>, page_size: u64) -> (u64, u64) {
    let live: HashSet<(i64, i64)> = records.live().map(|r| (r.rev.main, r.rev.sub)).collect();
    let (top, _) = snap.db().root_bucket().buckets();
    let mut now = Vec::with_capacity(top.len());
    let mut compacted = Vec::with_capacity(top.len());
    for (name, bucket) in &top {
        let mut all = Packer::new(page_size, DEFRAG_FILL_PERCENT);
        let mut kept = Packer::new(page_size, DEFRAG_FILL_PERCENT);
        let is_key = *name == buckets::KEY;
        // Unreadable elements are skipped here; the structure check reports them.
        let _ = bucket.for_each(|_, e| {
            all.push(e.key.len(), e.value.len());
            let keep =
                !is_key || Revision::parse(e.key).is_some_and(|r| live.contains(&(r.main, r.sub)));
            if keep {
                kept.push(e.key.len(), e.value.len());
            }
        });
        now.push((name.len(), all));
        compacted.push((name.len(), kept));
    }
    (
        compacted_pages(page_size, &now),
        compacted_pages(page_size, &compacted),
    )
}

fn findings(s: &Space, nospace: Vec<String>) -> Vec<SpaceFinding> {
    let mut f = Vec::new();
    if !nospace.is_empty() {
        f.push(SpaceFinding::NoSpaceAlarm {
            member_ids: nospace,
        });
    }
    if s.quota.share() >= QUOTA_WARN {
        f.push(SpaceFinding::QuotaUsage {
            used_bytes: s.quota.used_bytes,
            quota_bytes: s.quota.quota_bytes,
        });
    }
    if s.quota.quota_bytes > MAX_SUGGESTED_QUOTA_BYTES {
        f.push(SpaceFinding::QuotaAboveSuggested {
            quota_bytes: s.quota.quota_bytes,
        });
    }
    if let (Some(scheduled), finished) = (s.scheduled_compact_revision, s.compacted_revision) {
        let finished = finished.unwrap_or(0);
        if scheduled > finished {
            f.push(SpaceFinding::CompactionUnfinished {
                scheduled,
                finished,
            });
        }
    }
    let db = s.pages.db_bytes();
    if db > 0 && s.defrag.frees_bytes as f64 >= DEFRAG_WORTH * db as f64 {
        f.push(SpaceFinding::DefragWouldFree {
            bytes: s.defrag.frees_bytes,
            db_bytes: db,
        });
    }
    let old = s.totals.old_bytes();
    if s.totals.bytes > 0 && old as f64 >= COMPACTION_WORTH * s.totals.bytes as f64 {
        f.push(SpaceFinding::CompactionWouldFree {
            revision: s.compaction.revision,
            revisions: s.compaction.revisions_removed,
            bytes: old,
            held_bytes: s.totals.bytes,
            db_bytes_after_defrag: s.compaction.then_defrag.db_bytes,
        });
    }
    if old > 0 {
        let mut rs: Vec<(&String, &Tally)> = s.by_resource.iter().collect();
        rs.sort_by(|a, b| b.1.old_bytes().cmp(&a.1.old_bytes()).then(a.0.cmp(b.0)));
        for (name, t) in rs {
            if t.old_bytes() as f64 >= RESOURCE_HISTORY_SHARE * old as f64 {
                f.push(SpaceFinding::ResourceHoldsHistory {
                    resource: name.clone(),
                    old_bytes: t.old_bytes(),
                    all_old_bytes: old,
                });
            }
        }
    }
    for k in &s.hotspots {
        if k.revisions >= HOTSPOT_MIN_REVISIONS
            && k.revisions as f64 >= HOTSPOT_SHARE * s.totals.revisions as f64
        {
            f.push(SpaceFinding::WriteHotspot {
                key: k.key.clone(),
                revisions: k.revisions,
                all_revisions: s.totals.revisions,
            });
        }
    }
    f.sort_by_key(|f| std::cmp::Reverse(f.level()));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_depth() {
        assert_eq!(prefix(b"/registry/events/ns/x", 2), "/registry/events");
        assert_eq!(prefix(b"/registry/events/ns/x", 3), "/registry/events/ns");
        assert_eq!(prefix(b"/registry/events/ns/x", 9), "/registry/events/ns/x");
        assert_eq!(prefix(b"foo/bar", 1), "foo");
    }

    #[test]
    fn quota_levels() {
        let q = |used| SpaceFinding::QuotaUsage {
            used_bytes: used,
            quota_bytes: 100,
        };
        assert_eq!(q(87).level(), Level::Warning);
        assert_eq!(q(95).level(), Level::Critical);
        // Defrag and compaction gains are warnings only when they are worth it in bytes.
        let d = |bytes| SpaceFinding::DefragWouldFree {
            bytes,
            db_bytes: bytes * 3,
        };
        assert_eq!(d(WORTH_WARNING_BYTES - 1).level(), Level::Info);
        assert_eq!(d(WORTH_WARNING_BYTES).level(), Level::Warning);
    }
}
