//! etcd's HashKV offline: the CRC-32C `etcdctl endpoint hashkv --rev R` reports, computed from the
//! `key` bucket of a snapshot without a server.
//!
//! Follows etcd v3.4.23 `mvcc/kvstore.go` `(*store).HashByRev` (Debian golang-etcd-server-dev,
//! /usr/share/gocode/src/go.etcd.io/etcd/mvcc/kvstore.go) with the in-memory index the server
//! builds on start (`restore`, `restoreIntoIndex`) and `keyIndex.keep` (mvcc/key_index.go):
//!
//! - the compact revision is `meta/finishedCompactRev` (-1 when absent), or `scheduledCompactRev`
//!   when that is higher, because `restore` resumes an unfinished compaction before serving;
//! - the current revision is the main revision of the last record (at least the compact revision);
//! - `R <= compact` is `ErrCompacted`, `R > current` is `ErrFutureRev`, `R = 0` means current;
//! - the hash is CRC-32C over `"key"`, then every bucket key and value with revision `< {R+1, 0}`,
//!   where a revision `< {compact+1, 0}` counts only if it is in `kvindex.Keep(R)` (unless that set
//!   is empty): per key, the newest revision at or below R, dropped when it is the tombstone that
//!   ends a generation which is not the last.
//!
//! Every release calls `Keep(R)` with the hash revision; verified against a 3.4.23 server
//! (`scripts/many/hashkv-expected.sh`). Later patch releases differ at the compact revision only
//! ([`HashRules`], read at the upstream tags).

use super::kv::KeyValue;
use super::records::Records;
use super::revision::Revision;
use super::snapshot::Snapshot;
use super::{buckets, meta::MetaInfo};
use crate::bbolt::{streamed, Leaf, Problem};
use rayon::prelude::*;
use std::cmp::Ordering;

mod combine;

/// What `HashKV` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashKv {
    pub hash: u32,
    /// The revision hashed (the requested one, or the current revision for 0).
    pub hash_revision: i64,
    /// `header.revision` of the response: the store's current revision.
    pub current_revision: i64,
    /// `compact_revision` of the response.
    pub compact_revision: i64,
}

/// Why etcd would refuse the request; the strings are mvcc's (kvstore.go `ErrCompacted`,
/// `ErrFutureRev`), which the server wraps as `etcdserver: <mvcc error>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKvError {
    Compacted {
        requested: i64,
        compact_revision: i64,
    },
    FutureRevision {
        requested: i64,
        current_revision: i64,
    },
}

impl HashKvError {
    pub fn etcd_message(&self) -> &'static str {
        match self {
            HashKvError::Compacted { .. } => "mvcc: required revision has been compacted",
            HashKvError::FutureRevision { .. } => "mvcc: required revision is a future revision",
        }
    }
}

/// Where etcd releases differ in `HashKV` (read from etcd-io/etcd at each tag; only 3.4.23 is
/// run here):
///
/// - `ErrCompacted` for `rev <= compact` up to 3.4.26 and 3.5.9; from 3.4.27, 3.5.10 and in 3.6
///   only for `rev < compact`, so the compact revision itself is hashed (mvcc/kvstore.go
///   `HashByRev`; server/mvcc/kvstore.go `hashByRev`; server/storage/mvcc/kvstore.go in 3.6);
/// - from 3.4.34, 3.5.16 and in 3.6 a tombstone whose main revision is the compact revision is
///   left out of the hash, because those releases keep such a tombstone on compaction where older
///   ones delete it (mvcc/kvstore.go 3.4.34 `HashByRev`; server/mvcc/hash.go and
///   server/storage/mvcc/hash.go `kvHasher.WriteKeyValue`);
/// - everything else (the keep set, `restore`, the CRC) is the same in every release, and 3.6's
///   `HashStorage` cache is empty in a freshly started server and in `etcdutl hashkv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashRules {
    /// 3.4.0–3.4.26, 3.5.0–3.5.9.
    Legacy,
    /// 3.4.27–3.4.33, 3.5.10–3.5.15: the compact revision can be hashed.
    CompactRevHashed,
    /// 3.4.34+, 3.5.16+, 3.6: also without a tombstone at the compact revision.
    TombstoneAtCompactSkipped,
}

impl HashRules {
    pub const ALL: [HashRules; 3] = [
        HashRules::Legacy,
        HashRules::CompactRevHashed,
        HashRules::TombstoneAtCompactSkipped,
    ];

    /// The rules of release `major.minor.patch`; None for releases without `HashKV` by revision
    /// (before 3.4) or not known here.
    pub fn of_release(major: u32, minor: u32, patch: u32) -> Option<HashRules> {
        match (major, minor) {
            (3, 4) if patch <= 26 => Some(HashRules::Legacy),
            (3, 4) if patch <= 33 => Some(HashRules::CompactRevHashed),
            (3, 4) => Some(HashRules::TombstoneAtCompactSkipped),
            (3, 5) if patch <= 9 => Some(HashRules::Legacy),
            (3, 5) if patch <= 15 => Some(HashRules::CompactRevHashed),
            (3, 5) => Some(HashRules::TombstoneAtCompactSkipped),
            (3, 6) => Some(HashRules::TombstoneAtCompactSkipped),
            _ => None,
        }
    }

    /// The releases that follow these rules.
    pub fn releases(self) -> &'static str {
        match self {
            HashRules::Legacy => "etcd 3.4.0-3.4.26, 3.5.0-3.5.9",
            HashRules::CompactRevHashed => "etcd 3.4.27-3.4.33, 3.5.10-3.5.15",
            HashRules::TombstoneAtCompactSkipped => "etcd 3.4.34+, 3.5.16+, 3.6",
        }
    }

    fn refuses_compact_rev(self) -> bool {
        self == HashRules::Legacy
    }

    fn skips_tombstone_at_compact(self) -> bool {
        self == HashRules::TombstoneAtCompactSkipped
    }
}

/// The revision numbers a server restored from this file starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreRevisions {
    pub current: i64,
    pub compact: i64,
    /// True when `scheduledCompactRev` > `finishedCompactRev`: etcd finishes that compaction on start.
    pub resumes_compaction: bool,
}

impl StoreRevisions {
    pub fn of(meta: &MetaInfo, records: &Records<'_>) -> StoreRevisions {
        StoreRevisions::from_last(meta, records.all.last().map(|r| r.rev.main))
    }

    /// From the main revision of the key bucket's last entry.
    pub fn from_last(meta: &MetaInfo, last: Option<i64>) -> StoreRevisions {
        // kvstore.go Restore sets compactMainRev = -1; restore() reads finishedCompactRev.
        let finished = meta.finished_compact_revision.unwrap_or(-1);
        let scheduled = meta.scheduled_compact_revision.unwrap_or(0);
        // `if scheduledCompact <= s.compactMainRev { scheduledCompact = 0 }`; 0 = nothing to resume.
        let resumes = scheduled != 0 && scheduled > finished;
        let compact = if resumes { scheduled } else { finished };
        // restoreIntoIndex starts currentRev at 1 and takes each record's main revision.
        let last = last.unwrap_or(1);
        StoreRevisions {
            current: last.max(compact),
            compact,
            resumes_compaction: resumes,
        }
    }
}

/// `revision.GreaterThan` (mvcc/revision.go) on (main, sub), computed without overflow.
fn greater(a: (i128, i128), b: (i64, i64)) -> bool {
    a.cmp(&(i128::from(b.0), i128::from(b.1))) == Ordering::Greater
}

/// `bytesToRev`: main from bytes 0..8, sub from bytes 9..17. None for keys shorter than 17 bytes
/// (Go would panic; the integrity check reports such keys).
fn bytes_to_rev(k: &[u8]) -> Option<(i64, i64)> {
    let main = i64::from_be_bytes(k.get(0..8)?.try_into().ok()?);
    let sub = i64::from_be_bytes(k.get(9..17)?.try_into().ok()?);
    Some((main, sub))
}

/// One key's history as the rebuilt `keyIndex` holds it: generations of revisions.
/// `restoreIntoIndex`: a key first seen as a tombstone is not indexed; the first put `restore`s
/// a generation; a tombstone on an empty last generation is refused (ErrRevisionNotFound).
fn generations(revs: impl Iterator<Item = Revision>) -> Vec<Vec<(i64, i64)>> {
    let mut gens: Vec<Vec<(i64, i64)>> = Vec::new();
    for r in revs {
        let rv = (r.main, r.sub);
        match gens.last_mut() {
            None if r.tombstone => {}
            None => gens.push(vec![rv]),
            Some(last) if r.tombstone => {
                if !last.is_empty() {
                    last.push(rv);
                    gens.push(Vec::new());
                }
            }
            Some(last) => last.push(rv),
        }
    }
    gens
}

/// `keyIndex.keep(atRev)` (key_index.go, via `doCompact`): the revision kept for this key.
fn keep(gens: &[Vec<(i64, i64)>], at: i64) -> Option<(i64, i64)> {
    let last_gen = gens.len().checked_sub(1)?;
    let mut gi = 0;
    while gi < last_gen {
        match gens[gi].last() {
            Some(tomb) if tomb.0 > at => break,
            _ => gi += 1,
        }
    }
    let g = &gens[gi];
    let ri = g.iter().rposition(|r| r.0 <= at)?;
    if ri + 1 == g.len() && gi != last_gen {
        return None;
    }
    Some(g[ri])
}

/// `treeIndex.Keep(at)` restricted to revisions at or below `below` (the only ones it filters),
/// sorted.
fn keep_set(records: &Records<'_>, at: i64, below: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let hist: Vec<_> = records.history().collect();
    let mut i = 0;
    while i < hist.len() {
        let key = hist[i].kv.key;
        let mut j = i;
        while j < hist.len() && hist[j].kv.key == key {
            j += 1;
        }
        let gens = generations(hist[i..j].iter().map(|r| r.rev));
        if let Some(k) = keep(&gens, at) {
            if k.0 <= below {
                out.push(k);
            }
        }
        i = j;
    }
    out.sort_unstable();
    out
}

/// Which bucket entries `HashByRev(rev)` hashes.
struct Filter {
    upper: (i128, i128),
    lower: (i128, i128),
    keep: Vec<(i64, i64)>,
    /// The compact revision, when a tombstone there is left out ([`HashRules`]).
    skip_tombstone_at: Option<i64>,
    compact: i64,
}

impl Filter {
    fn includes(&self, kr: (i64, i64)) -> bool {
        if !greater(self.upper, kr) {
            return false;
        }
        if greater(self.lower, kr) && !self.keep.is_empty() {
            return self.keep.binary_search(&kr).is_ok();
        }
        true
    }
}

/// Leaves hashed sequentially per parallel task (see status.rs for why per chunk).
const LEAVES_PER_CHUNK: usize = 1024;

/// What one chunk of leaves contributes.
#[derive(Clone, Copy, Default)]
struct Part {
    crc: u32,
    len: usize,
    unreadable: u64,
    /// Tombstones at the compact revision the filter let through or skipped: where releases
    /// answer differently.
    tombstones_at_compact: u64,
}

/// `isTombstone`: an 18-byte bucket key ending in `t` (mvcc/revision.go `markTombstone`).
fn is_tombstone_key(k: &[u8]) -> bool {
    k.len() == 18 && k.get(17) == Some(&b't')
}

fn hash_chunk(leaves: &[Leaf<'_>], f: &Filter) -> Part {
    let mut part = Part::default();
    for leaf in streamed(leaves) {
        hash_leaf(&mut part, leaf, f);
    }
    part
}

/// Adds one leaf's entries that `f` includes to `part`.
fn hash_leaf(part: &mut Part, leaf: &Leaf<'_>, f: &Filter) {
    for e in leaf.view.elements() {
        let Ok(e) = e else {
            part.unreadable += 1;
            continue;
        };
        let Some(kr) = bytes_to_rev(e.key) else {
            part.unreadable += 1;
            continue;
        };
        if f.includes(kr) {
            if kr.0 == f.compact && is_tombstone_key(e.key) {
                part.tombstones_at_compact += 1;
                if f.skip_tombstone_at == Some(kr.0) {
                    // Still checked as a record below.
                    if KeyValue::decode(e.value).is_err() {
                        part.unreadable += 1;
                    }
                    continue;
                }
            }
            part.crc = crate::crc::append(part.crc, e.key);
            part.crc = crate::crc::append(part.crc, e.value);
            part.len += e.key.len() + e.value.len();
        }
        // etcd's restore would stop on a value that is not a KeyValue (lg.Fatal). Decoded
        // after the hash read the value, so its bytes are in cache.
        if KeyValue::decode(e.value).is_err() {
            part.unreadable += 1;
        }
    }
}

/// The answer plus what could not be read: when `problems` or `unreadable` are non-zero the hash
/// covers only what was read, and a real etcd would not have started on this file.
pub struct Computed {
    pub result: Result<HashKv, HashKvError>,
    pub problems: Vec<Problem>,
    pub unreadable: u64,
    /// Tombstones at the compact revision within the hashed range: when non-zero, releases
    /// before and after 3.4.34/3.5.16 answer differently ([`HashRules`]).
    pub tombstones_at_compact: u64,
    pub rules: HashRules,
}

/// The revisions a server restored from `snap` starts with, from the key bucket's first and
/// last entries only (no decoding).
pub fn store_revisions(snap: &Snapshot, meta: &MetaInfo) -> (StoreRevisions, Option<i64>) {
    let (first, last) = match snap.bucket(buckets::KEY) {
        (Some(b), _) => {
            let (leaves, _) = b.leaves();
            (first_key_main(leaves.first()), last_key_main(leaves.last()))
        }
        _ => (None, None),
    };
    (StoreRevisions::from_last(meta, last), first)
}

/// [`store_revisions`] by descending the key bucket's leftmost and rightmost paths (a few pages)
/// instead of walking all of it. On a tree the integrity check finds intact the walk's first and
/// last leaves are these, so the answer is the same; on a damaged one the walk skips what it
/// cannot read and may end elsewhere: use [`store_revisions`] there.
pub fn store_revisions_by_descent(
    snap: &Snapshot,
    meta: &MetaInfo,
) -> (StoreRevisions, Option<i64>) {
    let (first, last) = match snap.bucket(buckets::KEY) {
        (Some(b), _) if b.is_inline() => {
            let mut leaf = None;
            b.walk_leaves(&mut |l| leaf = Some(l));
            (first_key_main(leaf.as_ref()), last_key_main(leaf.as_ref()))
        }
        (Some(b), _) => {
            let db = snap.db();
            let root = b.root_page();
            (
                first_key_main(edge_leaf(db, root, false).as_ref()),
                last_key_main(edge_leaf(db, root, true).as_ref()),
            )
        }
        _ => (None, None),
    };
    (StoreRevisions::from_last(meta, last), first)
}

/// The first (or last) leaf of the tree at `root`: child 0 (or the last child) of each branch.
fn edge_leaf(db: &crate::bbolt::Db, root: crate::bbolt::Pgid, last: bool) -> Option<Leaf<'_>> {
    use crate::bbolt::page::BranchPage;
    use crate::bbolt::{LeafPage, PageKind};
    let mut id = root;
    // The walk gives up below this depth too (bbolt walk.rs MAX_DEPTH).
    for _ in 0..=64 {
        let page = db.page(id).ok()?;
        match page.kind() {
            PageKind::Leaf => {
                return Some(Leaf {
                    page: id,
                    inline: false,
                    view: LeafPage::new(page).ok()?,
                })
            }
            PageKind::Branch => {
                let b = BranchPage::new(page).ok()?;
                let i = if last { b.len().checked_sub(1)? } else { 0 };
                id = b.element(i).ok()?.child;
            }
            _ => return None,
        }
    }
    None
}

/// Main revision of a leaf's first element, as [`store_revisions`] reads it.
fn first_key_main(l: Option<&Leaf<'_>>) -> Option<i64> {
    bytes_to_rev(l?.view.element(0).ok()?.key).map(|r| r.0)
}

/// Main revision of a leaf's last element.
fn last_key_main(l: Option<&Leaf<'_>>) -> Option<i64> {
    let v = l?.view;
    bytes_to_rev(v.element(v.len().checked_sub(1)?).ok()?.key).map(|r| r.0)
}

/// The key bucket hashed by `filter`, in chunks of leaves on every core while the walk is still
/// finding the next ones (CRC-32C is sequential, but per-chunk CRCs combine into the CRC of the
/// concatenation: [`combine::crc32c_combine`]).
struct Hashed<'a> {
    crc: u32,
    unreadable: u64,
    tombstones_at_compact: u64,
    problems: Vec<Problem>,
    /// The bucket's last leaf, for the store's current revision.
    last: Option<Leaf<'a>>,
    /// The leaves in order, kept only when `speculate` said the filter is not final.
    leaves: Vec<Leaf<'a>>,
    /// False when hashing was not started because the first record is at or below the
    /// compaction (a keep set is needed).
    hashed: bool,
}

/// Walks the key bucket; once the first leaf shows no record at or below `compact`, hashes
/// chunks as the walk goes (the keep set is then empty and `filter` final); otherwise only
/// collects the leaves.
fn walk_and_hash<'a>(
    bucket: &crate::bbolt::Bucket<'a>,
    filter: &Filter,
    compact: i64,
) -> Hashed<'a> {
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Part)>();
    let mut h = Hashed {
        crc: 0,
        unreadable: 0,
        tombstones_at_compact: 0,
        problems: Vec::new(),
        last: None,
        leaves: Vec::new(),
        hashed: false,
    };
    rayon::scope(|s| {
        let mut chunk: Vec<Leaf<'a>> = Vec::with_capacity(LEAVES_PER_CHUNK);
        let mut n = 0usize;
        let mut decided: Option<bool> = None;
        let spawn = |chunk: Vec<Leaf<'a>>, n: &mut usize| {
            let tx = tx.clone();
            let i = *n;
            *n += 1;
            s.spawn(move |_| {
                // The receiver outlives the scope; a send cannot fail.
                let _ = tx.send((i, hash_chunk(&chunk, filter)));
            });
        };
        h.problems = bucket.walk_leaves(&mut |leaf| {
            h.last = Some(leaf);
            let fast =
                *decided.get_or_insert_with(|| first_main(&leaf).is_some_and(|f| f > compact));
            if !fast {
                h.leaves.push(leaf);
                return;
            }
            chunk.push(leaf);
            if chunk.len() == LEAVES_PER_CHUNK {
                spawn(
                    std::mem::replace(&mut chunk, Vec::with_capacity(LEAVES_PER_CHUNK)),
                    &mut n,
                );
            }
        });
        if !chunk.is_empty() {
            spawn(chunk, &mut n);
        }
        h.hashed = decided != Some(false);
    });
    drop(tx);
    let mut parts: Vec<(usize, Part)> = rx.into_iter().collect();
    parts.sort_unstable_by_key(|p| p.0);
    let all = combine(parts.into_iter().map(|p| p.1));
    h.crc = all.crc;
    h.unreadable = all.unreadable;
    h.tombstones_at_compact = all.tombstones_at_compact;
    h
}

/// The parts in bucket order, after the bucket name: the CRC of the whole sequence.
fn combine(parts: impl Iterator<Item = Part>) -> Part {
    let mut all = Part {
        crc: crate::crc::crc32c(buckets::KEY),
        ..Part::default()
    };
    for p in parts {
        all.crc = combine::crc32c_combine(all.crc, p.crc, p.len);
        all.unreadable += p.unreadable;
        all.tombstones_at_compact += p.tombstones_at_compact;
    }
    all
}

/// The main revision of a leaf's first element.
fn first_main(l: &Leaf<'_>) -> Option<i64> {
    bytes_to_rev(l.view.element(0).ok()?.key).map(|r| r.0)
}

/// The main revision of a leaf's last element.
fn last_main(l: &Leaf<'_>) -> Option<i64> {
    let i = l.view.len().checked_sub(1)?;
    bytes_to_rev(l.view.element(i).ok()?.key).map(|r| r.0)
}

/// `HashByRev(rev)` over `snap` (rev 0 = current). `records` (`Records::read(snap)`) is only
/// needed when some record lies at or below the compaction; it is read here if not given.
///
/// One walk of the key bucket: while it runs, chunks of leaves are hashed on the other core
/// with a filter that is final as soon as the first record is above the compaction (then no
/// keep set applies, and `{rev+1, 0}` is known up front: for rev 0 every record is at or below
/// the current revision). The revision checks need the last record, so they come after the walk
/// and discard the hash when etcd would refuse the request.
pub fn hash_by_rev(
    snap: &Snapshot,
    records: Option<&Records<'_>>,
    meta: &MetaInfo,
    rev: i64,
) -> Computed {
    hash_by_rev_with(snap, records, meta, rev, HashRules::Legacy)
}

/// [`hash_by_rev`] under the rules of a given etcd release.
pub fn hash_by_rev_with(
    snap: &Snapshot,
    records: Option<&Records<'_>>,
    meta: &MetaInfo,
    rev: i64,
    rules: HashRules,
) -> Computed {
    let err = |e| Computed {
        result: Err(e),
        problems: Vec::new(),
        unreadable: 0,
        tombstones_at_compact: 0,
        rules,
    };
    let compact0 = StoreRevisions::from_last(meta, None).compact;
    let (bucket, mut problems) = snap.bucket(buckets::KEY);
    let Some(bucket) = bucket else {
        // UnsafeForEach on a missing bucket: the server would not have started.
        let revs = StoreRevisions::from_last(meta, None);
        if let Some(e) = check(rev, &revs, rules) {
            return err(e);
        }
        return Computed {
            result: Ok(HashKv {
                hash: crate::crc::crc32c(buckets::KEY),
                hash_revision: if rev == 0 { revs.current } else { rev },
                current_revision: revs.current,
                compact_revision: revs.compact,
            }),
            problems,
            unreadable: 0,
            tombstones_at_compact: 0,
            rules,
        };
    };
    // Final whenever it is used: only when no record is at or below the compaction.
    let speculative = Filter {
        upper: if rev == 0 {
            (i128::MAX, 0)
        } else {
            (i128::from(rev) + 1, 0)
        },
        lower: (i128::from(compact0) + 1, 0),
        keep: Vec::new(),
        skip_tombstone_at: None,
        compact: compact0,
    };
    let h = walk_and_hash(&bucket, &speculative, compact0);
    problems.extend(h.problems);
    let revs = StoreRevisions::from_last(meta, h.last.as_ref().and_then(last_main));
    if let Some(e) = check(rev, &revs, rules) {
        return err(e);
    }
    let rev = if rev == 0 { revs.current } else { rev };
    let all = if h.hashed {
        Part {
            crc: h.crc,
            len: 0,
            unreadable: h.unreadable,
            tombstones_at_compact: h.tombstones_at_compact,
        }
    } else {
        // Some record is at or below the compaction: only `kvindex.Keep(rev)` of those count.
        let keep = match records {
            Some(r) => keep_set(r, rev, revs.compact),
            None => keep_set(&Records::read(snap), rev, revs.compact),
        };
        let filter = Filter {
            upper: (i128::from(rev) + 1, 0),
            lower: (i128::from(revs.compact) + 1, 0),
            keep,
            skip_tombstone_at: rules.skips_tombstone_at_compact().then_some(revs.compact),
            compact: revs.compact,
        };
        let parts: Vec<Part> = h
            .leaves
            .par_chunks(LEAVES_PER_CHUNK)
            .map(|c| hash_chunk(c, &filter))
            .collect();
        combine(parts.into_iter())
    };
    Computed {
        result: Ok(HashKv {
            hash: all.crc,
            hash_revision: rev,
            current_revision: revs.current,
            compact_revision: revs.compact,
        }),
        problems,
        unreadable: all.unreadable,
        tombstones_at_compact: all.tombstones_at_compact,
        rules,
    }
}

/// HashKV at the store's current revision (`hash_by_rev(…, 0)`) from runs of the key bucket's
/// leaves that someone else walked to: the integrity check's hook
/// ([`crate::bbolt::check::check_with`]), so a file is walked once for both. Valid only when no
/// record is at or below the compaction (no keep set: [`hash_by_rev`]'s fast path) and the check
/// found the tree intact, so its runs are the leaves `hash_by_rev` would walk to; the caller
/// checks both.
pub struct CurrentHash<'a> {
    filter: Filter,
    runs: std::sync::Mutex<Vec<HashedRun<'a>>>,
}

/// `(bucket, run, part, last leaf of the run)`.
type HashedRun<'a> = (u64, usize, Part, Option<Leaf<'a>>);

impl<'a> CurrentHash<'a> {
    pub fn new(meta: &MetaInfo) -> CurrentHash<'a> {
        let compact0 = StoreRevisions::from_last(meta, None).compact;
        CurrentHash {
            // `hash_by_rev`'s speculative filter for rev 0.
            filter: Filter {
                upper: (i128::MAX, 0),
                lower: (i128::from(compact0) + 1, 0),
                keep: Vec::new(),
                skip_tombstone_at: None,
                compact: compact0,
            },
            runs: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Hashes one run of leaves of a top-level `key` bucket (others are ignored), from
    /// [`crate::bbolt::intact::check_intact_with`]: each leaf is hashed, then checked by the
    /// integrity pass while its bytes are still in cache.
    pub fn add(&self, run: &crate::bbolt::intact::CheckedRun<'_, 'a>) {
        if run.nesting != 1 || run.name != buckets::KEY {
            return;
        }
        let mut part = Part::default();
        let mut last = None;
        run.for_each_leaf(|leaf| {
            hash_leaf(&mut part, leaf, &self.filter);
            last = Some(*leaf);
        });
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        runs.push((run.bucket, run.chunk, part, last));
    }

    /// The answer, or None when the runs came from more than one `key` bucket or none.
    pub fn finish(self, meta: &MetaInfo) -> Option<Computed> {
        let mut runs = self.runs.into_inner().unwrap_or_else(|e| e.into_inner());
        runs.sort_unstable_by_key(|r| (r.0, r.1));
        let bucket = runs.first()?.0;
        if runs.iter().any(|r| r.0 != bucket) {
            return None;
        }
        let last = runs.iter().rev().find_map(|r| r.3);
        let all = combine(runs.iter().map(|r| r.2));
        let revs = StoreRevisions::from_last(meta, last.as_ref().and_then(last_main));
        Some(Computed {
            result: Ok(HashKv {
                hash: all.crc,
                hash_revision: revs.current,
                current_revision: revs.current,
                compact_revision: revs.compact,
            }),
            problems: Vec::new(),
            unreadable: all.unreadable,
            tombstones_at_compact: all.tombstones_at_compact,
            rules: HashRules::Legacy,
        })
    }
}

/// etcd's refusals: at or below the compaction, or above the current revision (0 = current).
fn check(rev: i64, revs: &StoreRevisions, rules: HashRules) -> Option<HashKvError> {
    let compacted = if rules.refuses_compact_rev() {
        rev <= revs.compact
    } else {
        rev < revs.compact
    };
    if rev > 0 && compacted {
        return Some(HashKvError::Compacted {
            requested: rev,
            compact_revision: revs.compact,
        });
    }
    if rev > 0 && rev > revs.current {
        return Some(HashKvError::FutureRevision {
            requested: rev,
            current_revision: revs.current,
        });
    }
    None
}

/// Per main revision up to `upto`, CRC-32C over its bucket entries (key and value bytes, in
/// bucket order): two copies of one cluster hold identical entries for every revision both still
/// keep, so the first revision whose digest differs is where they diverged.
pub fn revision_digests(snap: &Snapshot, upto: i64) -> Vec<(i64, u32)> {
    let mut out: Vec<(i64, u32)> = Vec::new();
    let (Some(bucket), _) = snap.bucket(buckets::KEY) else {
        return out;
    };
    let (leaves, _) = bucket.leaves();
    for leaf in &leaves {
        for e in leaf.view.elements().flatten() {
            let Some((main, _)) = bytes_to_rev(e.key) else {
                continue;
            };
            if main > upto {
                return out;
            }
            let c = match out.last() {
                Some(&(m, c)) if m == main => c,
                _ => 0,
            };
            let c = crate::crc::append(crate::crc::append(c, e.key), e.value);
            match out.last_mut() {
                Some(l) if l.0 == main => l.1 = c,
                _ => out.push((main, c)),
            }
        }
    }
    out
}

/// Per key, a digest of the revisions `HashByRev(rev)` would include, for locating divergence
/// between copies (etcd has no per-key hash; this one is ours): CRC-32C over, per revision, the
/// 17/18-byte bucket key, then the KeyValue's key, value and the four numbers (LE i64).
/// Keys in key order.
pub fn key_digests<'a>(
    records: &Records<'a>,
    meta: &MetaInfo,
    rev: i64,
) -> Vec<(&'a [u8], u32, i64)> {
    let revs = StoreRevisions::of(meta, records);
    let keep = keep_set(records, rev, revs.compact);
    let filter = Filter {
        upper: (i128::from(rev) + 1, 0),
        lower: (i128::from(revs.compact) + 1, 0),
        keep,
        skip_tombstone_at: None,
        compact: revs.compact,
    };
    let mut out: Vec<(&'a [u8], u32, i64)> = Vec::new();
    for r in records.history() {
        if !filter.includes((r.rev.main, r.rev.sub)) {
            continue;
        }
        let mut c = match out.last() {
            Some(l) if l.0 == r.kv.key => l.1,
            _ => 0,
        };
        c = crate::crc::append(c, &r.rev.main.to_be_bytes());
        c = crate::crc::append(c, b"_");
        c = crate::crc::append(c, &r.rev.sub.to_be_bytes());
        if r.rev.tombstone {
            c = crate::crc::append(c, b"t");
        }
        c = crate::crc::append(c, r.kv.key);
        c = crate::crc::append(c, r.kv.value);
        for n in [
            r.kv.create_revision,
            r.kv.mod_revision,
            r.kv.version,
            r.kv.lease,
        ] {
            c = crate::crc::append(c, &n.to_le_bytes());
        }
        match out.last_mut() {
            Some(l) if l.0 == r.kv.key => {
                l.1 = c;
                l.2 = r.rev.main;
            }
            _ => out.push((r.kv.key, c, r.rev.main)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(main: i64, tombstone: bool) -> Revision {
        Revision::at(main, tombstone)
    }

    #[test]
    fn generations_follow_restore_into_index() {
        // Tombstone first: not indexed. put, put, delete, put.
        let g = generations(
            [
                rev(2, true),
                rev(3, false),
                rev(4, false),
                rev(5, true),
                rev(7, false),
            ]
            .into_iter(),
        );
        assert_eq!(g, vec![vec![(3, 0), (4, 0), (5, 0)], vec![(7, 0)]]);
        let g = generations([rev(3, false), rev(5, true)].into_iter());
        assert_eq!(g, vec![vec![(3, 0), (5, 0)], vec![]]);
    }

    #[test]
    fn keep_drops_generation_ending_tombstones() {
        let g = vec![vec![(3, 0), (4, 0), (5, 0)], vec![(7, 0)]];
        assert_eq!(keep(&g, 4), Some((4, 0)));
        assert_eq!(keep(&g, 5), None); // deleted at 5, recreated at 7
        assert_eq!(keep(&g, 6), None); // walks into the last generation: nothing <= 6
        assert_eq!(keep(&g, 9), Some((7, 0)));
        assert_eq!(keep(&g, 2), None);
        let deleted = vec![vec![(3, 0), (5, 0)], vec![]];
        assert_eq!(keep(&deleted, 9), None);
    }

    #[test]
    fn filter_is_greater_than_on_main_then_sub() {
        let f = Filter {
            upper: (11, 0),
            lower: (6, 0),
            keep: vec![(4, 0)],
            skip_tombstone_at: None,
            compact: 5,
        };
        assert!(f.includes((10, 3)));
        assert!(!f.includes((11, 0)));
        assert!(f.includes((4, 0)));
        assert!(!f.includes((3, 0)));
        assert!(f.includes((6, 0)));
        assert!(!f.includes((11, -1)) || greater((11, 0), (11, -1)));
    }

    #[test]
    fn releases_map_to_their_hash_rules() {
        use HashRules::*;
        let r = |a, b, c| HashRules::of_release(a, b, c);
        assert_eq!(r(3, 4, 23), Some(Legacy));
        assert_eq!(r(3, 4, 26), Some(Legacy));
        assert_eq!(r(3, 4, 27), Some(CompactRevHashed));
        assert_eq!(r(3, 4, 33), Some(CompactRevHashed));
        assert_eq!(r(3, 4, 34), Some(TombstoneAtCompactSkipped));
        assert_eq!(r(3, 5, 9), Some(Legacy));
        assert_eq!(r(3, 5, 10), Some(CompactRevHashed));
        assert_eq!(r(3, 5, 15), Some(CompactRevHashed));
        assert_eq!(r(3, 5, 16), Some(TombstoneAtCompactSkipped));
        assert_eq!(r(3, 6, 0), Some(TombstoneAtCompactSkipped));
        assert_eq!(r(3, 3, 0), None);
        let revs = StoreRevisions {
            current: 20,
            compact: 10,
            resumes_compaction: false,
        };
        assert!(check(10, &revs, Legacy).is_some());
        assert!(check(10, &revs, CompactRevHashed).is_none());
        assert!(check(9, &revs, TombstoneAtCompactSkipped).is_some());
        assert!(check(21, &revs, CompactRevHashed).is_some());
    }

    #[test]
    fn tombstone_keys_carry_the_mark() {
        let mut k = 5i64.to_be_bytes().to_vec();
        k.push(b'_');
        k.extend_from_slice(&0i64.to_be_bytes());
        assert!(!is_tombstone_key(&k));
        k.push(b't');
        assert!(is_tombstone_key(&k));
    }

    #[test]
    fn bytes_to_rev_needs_seventeen_bytes() {
        assert_eq!(bytes_to_rev(b"short"), None);
        let mut k = 5i64.to_be_bytes().to_vec();
        k.push(b'_');
        k.extend_from_slice(&2i64.to_be_bytes());
        assert_eq!(bytes_to_rev(&k), Some((5, 2)));
    }
}
