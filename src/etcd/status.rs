//! The numbers `snapshot status` prints, for each etcd generation that defines them:
//!
//! - etcdctl 3.4 (etcdctl/snapshot/v3_snapshot.go `Status`) and etcdutl 3.5
//!   (etcdutl/snapshot/v3_snapshot.go at v3.5.x) print four numbers: `hash`, `revision`,
//!   `totalKey` = every key/value pair of every top-level bucket, `totalSize`;
//! - etcdutl 3.6 (same file at 2d377000ff61, "use map to count unique user keys", in v3.6.0+)
//!   counts `totalKey` as distinct live user keys (a map fed in `key`-bucket order, tombstones
//!   deleting) and adds `version` = `meta/storageVersion` when it parses as semver, else `""`.
//!
//! Shared by both: `hash` is CRC-32C (Castagnoli) over, for each top-level bucket in byte order,
//! the bucket name followed by every key and value of the bucket in key order (`b.ForEach`);
//! `revision` is the main revision of the last key of the `key` bucket (tombstones included);
//! `totalSize` is `tx.Size()` = high-water mark × page size.
//!
//! Each bucket's leaves are hashed in parallel chunks and the CRCs combined, so the result equals
//! the sequential CRC over the concatenation.

use super::buckets;
use super::meta::storage_version_semver;
use super::records;
use super::revision::Revision;
use super::snapshot::Snapshot;
use crate::bbolt::check::{BucketLeaves, CheckReport};
use crate::bbolt::{streamed, Leaf, Problem, Problems};
use rayon::prelude::*;
use std::sync::Mutex;

/// Which tool's definition of `snapshot status` to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Semantics {
    /// etcdctl 3.4 and etcdutl 3.5: four fields, `totalKey` counts every pair.
    Etcd35,
    /// etcdutl 3.6: five fields, `totalKey` counts live user keys, `version`.
    Etcd36,
}

/// Everything needed to print `snapshot status` under either [`Semantics`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub hash: u32,
    pub revision: i64,
    /// Key/value pairs over all top-level buckets (3.4/3.5 `totalKey`).
    pub pairs: u64,
    pub total_size: u64,
    /// The raw `meta/storageVersion` value, when the key exists (written by etcd 3.6+).
    pub storage_version: Option<Vec<u8>>,
}

/// The fields one tool prints, in its order. `version` is `None` where the tool has no such
/// field (3.4/3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Printed {
    pub semantics: Semantics,
    pub hash: u32,
    pub revision: i64,
    pub total_key: u64,
    pub total_size: u64,
    pub version: Option<String>,
}

impl Status {
    /// The semantics of the etcd that wrote the file: 3.6 writes `meta/storageVersion` (at
    /// bootstrap and on every schema migration, server/storage/schema/schema.go), earlier
    /// versions never do.
    pub fn native_semantics(&self) -> Semantics {
        if self.storage_version.is_some() {
            Semantics::Etcd36
        } else {
            Semantics::Etcd35
        }
    }

    /// `storageVersion` as etcdutl 3.6 prints it: normalised semver, else empty.
    pub fn version(&self) -> String {
        self.storage_version
            .as_deref()
            .and_then(storage_version_semver)
            .unwrap_or_default()
    }

    /// What a tool of `semantics` prints. `live_keys` is the number of distinct keys whose latest
    /// revision is not a tombstone ([`crate::etcd::Records::live_count`]): the final size of
    /// etcdutl 3.6's `seenKeys` map, which is fed in revision order so each key's last entry
    /// decides.
    pub fn printed(&self, semantics: Semantics, live_keys: u64) -> Printed {
        let (total_key, version) = match semantics {
            Semantics::Etcd35 => (self.pairs, None),
            Semantics::Etcd36 => (live_keys, Some(self.version())),
        };
        Printed {
            semantics,
            hash: self.hash,
            revision: self.revision,
            total_key,
            total_size: self.total_size,
            version,
        }
    }
}

/// CRC of a run of bytes, its length and the number of pairs it covers.
#[derive(Clone, Copy, Default)]
struct Part {
    crc: u32,
    len: u64,
    pairs: u64,
}

impl Part {
    /// A top-level bucket's name, which `snapshot status` hashes before its pairs.
    fn of_name(name: &[u8]) -> Part {
        Part {
            crc: crate::crc::crc32c(name),
            len: name.len() as u64,
            pairs: 0,
        }
    }

    /// The status numbers once every bucket is appended.
    fn status(self, snap: &Snapshot, revision: i64) -> Status {
        Status {
            hash: self.crc,
            revision,
            pairs: self.pairs,
            total_size: snap.db().logical_size(),
            storage_version: read_storage_version(snap),
        }
    }

    fn append(self, other: Part) -> Part {
        Part {
            crc: crc32c::crc32c_combine(self.crc, other.crc, other.len as usize),
            len: self.len + other.len,
            pairs: self.pairs + other.pairs,
        }
    }
}

/// Leaves hashed sequentially per parallel task. `crc32c_combine` costs tens of thousands of
/// operations per call, so combining per leaf (one record per leaf when values are a few KiB)
/// would dominate; combining per chunk keeps it to a few hundred calls on a 1 GiB snapshot.
/// The same runs as the check hands over ([`crate::bbolt::check::HOOK_CHUNK`]): the revision is
/// taken from each run's last readable key, so both paths must cut the leaves alike.
const LEAVES_PER_CHUNK: usize = crate::bbolt::check::HOOK_CHUNK;

/// Hashes a run of leaves as `b.ForEach` sees them: key then value; a nested bucket's value is
/// nil. Also returns the last key seen and, when `count` is set, how many elements do not decode
/// as mvcc records ([`records::count_undecodable`]'s count, taken while the bytes are in cache).
fn hash_leaves<'a>(leaves: &[Leaf<'a>], count: bool) -> (Part, Option<&'a [u8]>, u64) {
    let mut p = Part::default();
    let mut last = None;
    let mut undecodable = 0u64;
    // Every key and value of each leaf is read: the free tails too (`bbolt::streamed`).
    for leaf in streamed(leaves) {
        // Elements that cannot be read are skipped here; the integrity check reports them.
        // `Leaf::elements` reads each byte once: shared values are not hashed again (#18).
        for e in leaf.elements() {
            if count && !records::decodes(&e) {
                undecodable += 1;
            }
            let Ok(e) = e else { continue };
            p.crc = crate::crc::append(p.crc, e.key);
            p.len += e.key.len() as u64;
            if !e.is_bucket() {
                p.crc = crate::crc::append(p.crc, e.value);
                p.len += e.value.len() as u64;
            }
            p.pairs += 1;
            last = Some(e.key);
        }
    }
    (p, last, undecodable)
}

/// Computes the status numbers. Problems met on the way (unreadable subtrees) are returned; the
/// numbers then cover only what could be read, and etcdctl would have refused the file anyway
/// (its `tx.Check()` runs first).
pub fn compute(snap: &Snapshot) -> (Status, Vec<Problem>) {
    let (status, problems, _) = compute_inner(snap, false);
    (status, problems)
}

/// [`compute`], plus the number of `key` bucket entries that do not decode as mvcc records,
/// equal to [`records::count_undecodable`]: counted in the hash pass, while each leaf is in
/// cache, instead of by a second walk and read of the bucket (status needs both).
pub fn compute_counting_undecodable(snap: &Snapshot) -> (Status, Vec<Problem>, u64) {
    compute_inner(snap, true)
}

fn compute_inner(snap: &Snapshot, count: bool) -> (Status, Vec<Problem>, u64) {
    let db = snap.db();
    let (top, mut problems) = db.root_bucket().buckets();
    let mut total = Part::default();
    let mut revision = 0;
    let mut undecodable = 0;
    // `Snapshot::bucket` (what `count_undecodable` reads) is the first bucket of that name.
    let mut key_counted = false;
    for (name, bucket) in &top {
        total = total.append(Part::of_name(name));
        let is_key = *name == buckets::KEY;
        let count_here = count && is_key && !key_counted;
        key_counted |= is_key;
        let (leaves, p) = bucket.leaves();
        problems.note_all(p);
        let parts: Vec<_> = leaves
            .par_chunks(LEAVES_PER_CHUNK)
            .map(|c| hash_leaves(c, count_here))
            .collect();
        for (part, last, bad) in &parts {
            total = total.append(*part);
            undecodable += bad;
            if is_key {
                if let Some(k) = last {
                    revision = Revision::main_of(k).unwrap_or(revision);
                }
            }
        }
    }
    (total.status(snap, revision), problems, undecodable)
}

/// [`compute_counting_undecodable`] and the integrity check ([`Snapshot::check_structure`]) in
/// one walk of the tree: the check hands each top-level bucket's leaves to the hash as it finds
/// them, and the hash runs on the other core while the check goes on. On a tree the check finds
/// intact, each bucket's leaves are exactly those `compute` walks to, hashed in the same runs, so
/// the numbers are the same; on a damaged one (the check's shared visited set and `compute`'s
/// per-bucket walks can then differ) `compute` runs afterwards and its numbers are returned.
pub fn compute_with_check(snap: &Snapshot) -> (Status, Vec<Problem>, u64, CheckReport) {
    with_check(snap, true)
}

/// [`compute`] and the integrity check in one walk of the tree, as [`compute_with_check`]
/// does, without counting undecodable records (`report` decodes them itself).
pub fn compute_and_check(snap: &Snapshot) -> (Status, Vec<Problem>, CheckReport) {
    let (status, problems, _, check) = with_check(snap, false);
    (status, problems, check)
}

fn with_check<'a>(snap: &'a Snapshot, count: bool) -> (Status, Vec<Problem>, u64, CheckReport) {
    type Run<'a> = (u64, usize, &'a [u8], Part, Option<&'a [u8]>, u64);
    let runs: Mutex<Vec<Run<'a>>> = Mutex::new(Vec::new());
    let hook = |b: BucketLeaves<'_, 'a>| {
        if b.nesting != 1 {
            return;
        }
        let (part, last, bad) = hash_leaves(b.leaves, count && b.name == buckets::KEY);
        let mut runs = runs.lock().unwrap_or_else(|e| e.into_inner());
        runs.push((b.bucket, b.chunk, b.name, part, last, bad));
    };
    let check = snap.check_structure_with(&hook);
    if !check.problems.is_empty() {
        let (status, problems, undecodable) = compute_inner(snap, count);
        return (status, problems, undecodable, check);
    }
    let mut runs = runs.into_inner().unwrap_or_else(|e| e.into_inner());
    runs.sort_unstable_by_key(|r| (r.0, r.1));
    let mut total = Part::default();
    let mut revision = 0;
    let mut undecodable = 0;
    let mut key_bucket = None;
    for (bucket, chunk, name, part, last, bad) in runs {
        if chunk == 0 {
            total = total.append(Part::of_name(name));
        }
        total = total.append(part);
        if name == buckets::KEY {
            // `Snapshot::bucket` (what `count_undecodable` reads) is the first of that name.
            if *key_bucket.get_or_insert(bucket) == bucket {
                undecodable += bad;
            }
            if let Some(k) = last {
                revision = Revision::main_of(k).unwrap_or(revision);
            }
        }
    }
    (total.status(snap, revision), Vec::new(), undecodable, check)
}

/// The raw `meta/storageVersion` value, when the key exists (etcd 3.6+ writes it).
pub fn read_storage_version<'a>(snap: &'a Snapshot) -> Option<Vec<u8>> {
    let (meta, _) = snap.bucket(buckets::META);
    let mut v: Option<&'a [u8]> = None;
    meta?.for_each(|_, e| {
        if e.key == b"storageVersion" && !e.is_bucket() {
            v = Some(e.value);
        }
    });
    v.map(<[u8]>::to_vec)
}

/// go-humanize `Bytes` (SI units), as etcdctl prints sizes: `238 kB`, `2.1 MB`.
pub fn humanize_bytes(s: u64) -> String {
    const SIZES: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if s < 10 {
        return format!("{s} B");
    }
    let e = ((s as f64).ln() / 1000f64.ln()).floor() as i32;
    let suffix = SIZES[e.clamp(0, 6) as usize];
    let val = ((s as f64) / 1000f64.powi(e) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 {
        format!("{val:.1} {suffix}")
    } else {
        format!("{val:.0} {suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanize_matches_go_humanize() {
        assert_eq!(humanize_bytes(237568), "238 kB");
        assert_eq!(humanize_bytes(2_100_000), "2.1 MB");
        assert_eq!(humanize_bytes(9), "9 B");
        assert_eq!(humanize_bytes(1000), "1.0 kB");
    }

    #[test]
    fn crc_combine_equals_sequential() {
        let (a, b) = (b"hello ".as_slice(), b"world".as_slice());
        let pa = Part {
            crc: crate::crc::crc32c(a),
            len: 6,
            pairs: 1,
        };
        let pb = Part {
            crc: crate::crc::crc32c(b),
            len: 5,
            pairs: 1,
        };
        assert_eq!(
            Part::default().append(pa).append(pb).crc,
            crate::crc::crc32c(b"hello world")
        );
    }
}
