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
use super::records::{Record, Records};
use super::revision::Revision;
use super::snapshot::Snapshot;
use crate::bbolt::prefetch::{prefetch, AHEAD};
use crate::bbolt::prefetched;
use crate::bbolt::usage::{compacted_pages, Packer, PageUsage, INIT_PAGES_FREED};
use crate::bbolt::CheckReport;
use serde::Serialize;
use std::collections::BTreeMap;

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
    fn add(&mut self, k: &Tally) {
        self.live_keys += k.live_keys;
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

    let KeyPass {
        totals,
        by_resource,
        by_namespace,
        by_prefix,
        largest_histories,
        hotspots,
    } = crate::trace::span("space: key pass", || key_pass(records, classify, opts));

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

/// What one walk over every key's history gives: the totals, the groups and the top lists.
struct KeyPass {
    totals: Tally,
    by_resource: BTreeMap<String, Tally>,
    by_namespace: BTreeMap<String, Tally>,
    by_prefix: BTreeMap<String, Tally>,
    largest_histories: Vec<KeyHistory>,
    hotspots: Vec<KeyHistory>,
}

/// One key's history, borrowed from the map: no display string until it is shown.
#[derive(Clone, Copy)]
struct Hist<'a> {
    key: &'a [u8],
    /// Position in key order (the tie-break of a stable sort).
    index: usize,
    tally: Tally,
    first_revision: i64,
    last_revision: i64,
}

impl Hist<'_> {
    fn to_history(self) -> KeyHistory {
        KeyHistory {
            key: display_key(self.key),
            revisions: self.tally.revisions,
            bytes: self.tally.bytes,
            live: self.tally.live_keys == 1,
            live_bytes: self.tally.live_bytes,
            first_revision: self.first_revision,
            last_revision: self.last_revision,
        }
    }
}

/// True when [`display_key`] shows `key` as it is (valid UTF-8, nothing escaped): then
/// comparing the raw bytes compares the display strings.
fn shown_as_is(key: &[u8]) -> bool {
    key.iter().all(|b| (0x20..0x7f).contains(b))
        || std::str::from_utf8(key).is_ok_and(|s| !s.chars().any(crate::sanitize::is_unsafe))
}

/// Display-key order, as sorting the [`display_key`] strings would give, without making them
/// for keys shown as they are.
fn display_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    if shown_as_is(a) && shown_as_is(b) {
        a.cmp(b)
    } else {
        display_key(a).cmp(&display_key(b))
    }
}

/// The `n` best keys by `by` (descending), then display key, then key order: what a stable
/// sort of every key by (`by` descending, display key) and taking the first `n` gives, kept as
/// the walk goes so only the candidates are compared and shown.
struct Top<'a> {
    n: usize,
    by: fn(&Tally) -> u64,
    best: Vec<Hist<'a>>,
}

impl<'a> Top<'a> {
    fn new(n: usize, by: fn(&Tally) -> u64) -> Self {
        Top {
            n,
            by,
            best: Vec::with_capacity(n.min(1024) + 1),
        }
    }

    fn cmp(&self, a: &Hist<'_>, b: &Hist<'_>) -> std::cmp::Ordering {
        (self.by)(&b.tally)
            .cmp(&(self.by)(&a.tally))
            .then_with(|| display_cmp(a.key, b.key))
            .then(a.index.cmp(&b.index))
    }

    fn offer(&mut self, h: Hist<'a>) {
        if self.n == 0 {
            return;
        }
        if self.best.len() == self.n {
            match self.best.last() {
                Some(worst) if self.cmp(&h, worst).is_lt() => {}
                _ => return,
            }
        }
        let at = self.best.partition_point(|x| self.cmp(x, &h).is_lt());
        self.best.insert(at, h);
        self.best.truncate(self.n);
    }

    fn finish(self) -> Vec<KeyHistory> {
        self.best.into_iter().map(Hist::to_history).collect()
    }
}

/// Where `prefix(key, depth)` stops reading `key`: the end of its `depth`-th non-empty segment
/// (the whole key when it has fewer), keeping a leading `/`. Keys with the same bytes up to
/// there have the same prefix: [`display_key`] escapes byte by byte and never makes a `/`.
fn prefix_end(key: &[u8], depth: usize) -> usize {
    let lead = usize::from(key.first() == Some(&b'/'));
    if depth == 0 {
        return lead;
    }
    let mut seen = 0usize;
    let mut i = 0usize;
    while i < key.len() {
        if key[i] == b'/' {
            i += 1;
            continue;
        }
        let end = memchr::memchr(b'/', &key[i..]).map_or(key.len(), |p| i + p);
        seen += 1;
        if seen == depth {
            return end;
        }
        i = end;
    }
    key.len()
}

/// A run of consecutive keys (in key order) in one group: its name and what it holds so far.
struct Run<T> {
    id: Option<T>,
    tally: Tally,
}

impl<T: PartialEq> Run<T> {
    fn new() -> Self {
        Run {
            id: None,
            tally: Tally::default(),
        }
    }

    /// Adds `t` to the run of `id`; when `id` starts a new run, returns the finished one.
    fn add(&mut self, id: T, t: &Tally) -> Option<(T, Tally)> {
        if self.id.as_ref() == Some(&id) {
            self.tally.add(t);
            return None;
        }
        let done = self.id.replace(id).map(|i| (i, self.tally));
        self.tally = *t;
        done
    }

    fn finish(self) -> Option<(T, Tally)> {
        self.id.map(|i| (i, self.tally))
    }
}

/// Every key's history in key order, one walk: totals, the groups (by resource, namespace and
/// prefix) and the top lists. Keys are sorted, so a group's keys come in runs: each run is
/// classified and named once, and a key's display string is made only for the top lists.
///
/// `classify` is asked once per run of keys sharing the bytes before their last `/` (when the
/// last segment is valid UTF-8, else for that key alone): a classifier must give such keys the
/// same class. The Kubernetes one (`correlate::space::classify`) does: a key path's resource
/// and namespace are segments before the name.
fn key_pass<'a>(
    records: &Records<'a>,
    classify: &dyn Fn(&[u8]) -> KeyClass,
    opts: Options,
) -> KeyPass {
    let mut totals = Tally::default();
    let mut by_resource: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_namespace: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_prefix: BTreeMap<String, Tally> = BTreeMap::new();
    let mut largest = Top::new(opts.top, |t| t.bytes);
    let mut hot = Top::new(opts.top, |t| t.revisions);
    // The class of the last run's directory (bytes up to the last `/`).
    let mut class_of: Option<(&[u8], std::rc::Rc<KeyClass>)> = None;
    let mut class_run: Run<std::rc::Rc<KeyClass>> = Run::new();
    let mut prefix_run: Run<&[u8]> = Run::new();
    let mut add_class = |class: std::rc::Rc<KeyClass>, t: &Tally| {
        if let Some((c, t)) = class_run.add(class, t) {
            by_resource.entry(c.resource.clone()).or_default().add(&t);
            by_namespace.entry(c.namespace.clone()).or_default().add(&t);
        }
    };
    let mut index = 0usize;
    let mut done = |h: Hist<'a>| {
        totals.add(&h.tally);
        let dir_end = memchr::memrchr(b'/', h.key).map(|p| p + 1);
        let name_ok = dir_end.is_some_and(|d| std::str::from_utf8(&h.key[d..]).is_ok());
        let class = match (&class_of, dir_end) {
            (Some((dir, c)), Some(d)) if name_ok && *dir == &h.key[..d] => c.clone(),
            _ => {
                let c = std::rc::Rc::new(classify(h.key));
                if let (true, Some(d)) = (name_ok, dir_end) {
                    class_of = Some((&h.key[..d], c.clone()));
                }
                c
            }
        };
        debug_assert_eq!(
            *class,
            classify(h.key),
            "classifier breaks the run contract"
        );
        add_class(class, &h.tally);
        let p = &h.key[..prefix_end(h.key, opts.depth)];
        if let Some((p, t)) = prefix_run.add(p, &h.tally) {
            by_prefix.entry(prefix(p, opts.depth)).or_default().add(&t);
        }
        largest.offer(h);
        if h.tally.revisions > 1 {
            hot.offer(h);
        }
    };
    let mut cur: Option<Hist<'a>> = None;
    // Keys in key order lie scattered over the whole map (one page each for 3.6 KiB Secrets):
    // each first touch waits for DRAM and a page-table walk, so the keys a few steps ahead are
    // asked for meanwhile (bbolt::prefetch).
    let hist: Vec<&Record<'a>> = records.history().collect();
    for (i, r) in hist.iter().enumerate() {
        if let Some(next) = hist.get(i + AHEAD) {
            prefetch(next.kv.key, 0);
        }
        let n = (r.kv.key.len() + r.kv.value.len()) as u64;
        let live = !r.rev.tombstone;
        let live_bytes = if live { n } else { 0 };
        match &mut cur {
            Some(h) if h.key == r.kv.key => {
                h.tally.revisions += 1;
                h.tally.bytes += n;
                h.tally.live_keys = u64::from(live);
                h.tally.live_bytes = live_bytes;
                h.last_revision = r.rev.main;
            }
            _ => {
                let next = Hist {
                    key: r.kv.key,
                    index,
                    tally: Tally {
                        live_keys: u64::from(live),
                        live_bytes,
                        revisions: 1,
                        bytes: n,
                    },
                    first_revision: r.rev.main,
                    last_revision: r.rev.main,
                };
                index += 1;
                if let Some(h) = cur.replace(next) {
                    done(h);
                }
            }
        }
    }
    if let Some(h) = cur {
        done(h);
    }
    if let Some((c, t)) = class_run.finish() {
        by_resource.entry(c.resource.clone()).or_default().add(&t);
        by_namespace.entry(c.namespace.clone()).or_default().add(&t);
    }
    if let Some((p, t)) = prefix_run.finish() {
        by_prefix.entry(prefix(p, opts.depth)).or_default().add(&t);
    }
    KeyPass {
        totals,
        by_resource,
        by_namespace,
        by_prefix,
        largest_histories: largest.finish(),
        hotspots: hot.finish(),
    }
}

/// Pages after `defrag` now, and after a compaction at the latest revision then `defrag`:
/// every top-level bucket replayed through [`Packer`]; for the second, the `key` bucket keeps
/// only each live key's latest revision.
fn estimates(snap: &Snapshot, records: &Records<'_>, page_size: u64) -> (u64, u64) {
    // Sorted for a binary search: as a hash set it cost a SipHash per element of the bucket.
    // Made only for a `key` bucket walked below.
    let live = std::cell::OnceCell::new();
    let live = || {
        live.get_or_init(|| {
            let mut v: Vec<(i64, i64)> = records.live().map(|r| (r.rev.main, r.rev.sub)).collect();
            v.sort_unstable();
            v
        })
    };
    let (top, _) = snap.db().root_bucket().buckets();
    let mut now = Vec::with_capacity(top.len());
    let mut compacted = Vec::with_capacity(top.len());
    let mut key_seen = false;
    for (name, bucket) in &top {
        let mut all = Packer::new(page_size, DEFRAG_FILL_PERCENT);
        let mut kept = Packer::new(page_size, DEFRAG_FILL_PERCENT);
        let is_key = *name == buckets::KEY;
        // The first `key` bucket is the one the records were read from (`Snapshot::bucket`):
        // when they are exactly its elements, replayed from them instead of walking its 300k
        // leaves again (each a first touch of a page on a big snapshot).
        let first_key = is_key && !key_seen;
        key_seen |= is_key;
        if let Some(elements) = first_key.then(|| records.bucket_elements()).flatten() {
            for (k, v, live) in elements {
                all.push(k as usize, v as usize);
                if live {
                    kept.push(k as usize, v as usize);
                }
            }
            now.push((name.len(), all));
            compacted.push((name.len(), kept));
            continue;
        }
        // Unreadable elements are skipped here; the structure check reports them. The leaves
        // as `Bucket::for_each` visits them, with the next ones' pages asked for meanwhile.
        let (leaves, _) = bucket.leaves();
        for e in prefetched(&leaves).flat_map(|l| l.elements().flatten()) {
            all.push(e.key.len(), e.value.len());
            let keep = !is_key
                || Revision::parse(e.key)
                    .is_some_and(|r| live().binary_search(&(r.main, r.sub)).is_ok());
            if keep {
                kept.push(e.key.len(), e.value.len());
            }
        }
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

    /// The `key` bucket replayed from the records gives the pages a walk of its leaves gives
    /// (records with something added, even nothing, walk the leaves).
    #[test]
    fn estimates_from_the_records_equal_the_leaf_walk() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
        for f in [
            "snapshots/basic.db",
            "snapshots/nospace.db",
            "space/space.db",
            "encrypted/multi.db",
            "incident/snapshot.db",
            "many/after.db",
            "versions/v36-map-persist-1k.db",
        ] {
            let bytes = std::fs::read(format!("{dir}/{f}")).unwrap();
            let snap = Snapshot::from_data(f, crate::bbolt::Data::Owned(bytes)).unwrap();
            let records = Records::read(&snap);
            assert!(records.bucket_elements().is_some(), "{f}");
            let page_size = snap.db().page_size() as u64;
            let fast = estimates(&snap, &records, page_size);
            let walked = records.with_extra(Vec::new());
            assert!(walked.bucket_elements().is_none());
            assert_eq!(fast, estimates(&snap, &walked, page_size), "{f}");
        }
    }

    #[test]
    fn prefix_depth() {
        assert_eq!(prefix(b"/registry/events/ns/x", 2), "/registry/events");
        assert_eq!(prefix(b"/registry/events/ns/x", 3), "/registry/events/ns");
        assert_eq!(prefix(b"/registry/events/ns/x", 9), "/registry/events/ns/x");
        assert_eq!(prefix(b"foo/bar", 1), "foo");
    }

    /// `prefix` of the bytes up to `prefix_end` is `prefix` of the whole key, for odd keys too.
    #[test]
    fn prefix_end_keeps_the_prefix() {
        let keys: [&[u8]; 9] = [
            b"/registry/events/ns/x",
            b"//registry//events/",
            b"registry/a",
            b"/",
            b"",
            b"/a\xff/b\xffc/d",
            b"/a\x1b[2J/b/c",
            b"noslash",
            b"/reg/\xe2\x80\xaeevil/x",
        ];
        for k in keys {
            for depth in 0..5 {
                let end = prefix_end(k, depth);
                assert_eq!(prefix(&k[..end], depth), prefix(k, depth), "{k:?} {depth}");
            }
        }
    }

    /// The kept top list is what a stable sort by (count descending, display key) gives, ties
    /// in display strings (a raw `\xff` and an escaped 0xff byte) kept in key order.
    #[test]
    fn top_matches_a_stable_sort() {
        let keys: Vec<&[u8]> = vec![b"/a", b"/b", b"/\\xff", b"/\xff", b"/c", b"/d\x07", b"/e"];
        let counts = [3u64, 5, 5, 5, 1, 5, 3];
        for n in 0..=keys.len() {
            let mut top = Top::new(n, |t| t.bytes);
            for (i, (k, c)) in keys.iter().zip(counts).enumerate() {
                top.offer(Hist {
                    key: k,
                    index: i,
                    tally: Tally {
                        bytes: c,
                        ..Tally::default()
                    },
                    first_revision: 1,
                    last_revision: 1,
                });
            }
            let got: Vec<String> = top.finish().into_iter().map(|h| h.key).collect();
            let mut all: Vec<(u64, String)> = keys
                .iter()
                .zip(counts)
                .map(|(k, c)| (c, display_key(k)))
                .collect();
            all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let want: Vec<String> = all.into_iter().take(n).map(|(_, k)| k).collect();
            assert_eq!(got, want, "n = {n}");
        }
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
