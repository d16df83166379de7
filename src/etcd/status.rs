//! The numbers `etcdctl snapshot status` prints (etcdctl/snapshot/v3_snapshot.go `Status` in 3.4,
//! etcdutl/snapshot/v3_snapshot.go in 3.5):
//!
//! - `hash`: CRC-32C (Castagnoli) over, for each top-level bucket in byte order, the bucket name
//!   followed by every key and value of the bucket in key order (`b.ForEach`);
//! - `revision`: main revision of the last key of the `key` bucket (tombstones included);
//! - `totalKey`: number of key/value pairs over all buckets (3.4/3.5 meaning);
//! - `totalSize`: `tx.Size()` = high-water mark × page size;
//! - `version`: `meta/storageVersion`, written by 3.6+ only.
//!
//! Each bucket's leaves are hashed in parallel chunks and the CRCs combined, so the result equals
//! the sequential CRC over the concatenation.

use super::buckets;
use super::revision::Revision;
use super::snapshot::Snapshot;
use crate::bbolt::{Leaf, Problem, Problems};
use rayon::prelude::*;
use serde::Serialize;

/// What `snapshot status` reports, plus the live-key count etcd 3.6 calls total keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    pub hash: u32,
    pub revision: i64,
    #[serde(rename = "totalKey")]
    pub total_key: u64,
    #[serde(rename = "totalSize")]
    pub total_size: u64,
    pub version: String,
}

/// CRC of a run of bytes, its length and the number of pairs it covers.
#[derive(Clone, Copy, Default)]
struct Part {
    crc: u32,
    len: u64,
    pairs: u64,
}

impl Part {
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
const LEAVES_PER_CHUNK: usize = 1024;

/// Hashes a run of leaves as `b.ForEach` sees them: key then value; a nested bucket's value is
/// nil. Also returns the last key seen.
fn hash_leaves<'a>(leaves: &[Leaf<'a>]) -> (Part, Option<&'a [u8]>) {
    let mut p = Part::default();
    let mut last = None;
    for leaf in leaves {
        // Elements that cannot be read are skipped here; the integrity check reports them.
        // `Leaf::elements` reads each byte once: shared values are not hashed again (#18).
        for e in leaf.elements().flatten() {
            p.crc = crc32c::crc32c_append(p.crc, e.key);
            p.len += e.key.len() as u64;
            if !e.is_bucket() {
                p.crc = crc32c::crc32c_append(p.crc, e.value);
                p.len += e.value.len() as u64;
            }
            p.pairs += 1;
            last = Some(e.key);
        }
    }
    (p, last)
}

/// Computes the status numbers. Problems met on the way (unreadable subtrees) are returned; the
/// numbers then cover only what could be read, and etcdctl would have refused the file anyway
/// (its `tx.Check()` runs first).
pub fn compute(snap: &Snapshot) -> (Status, Vec<Problem>) {
    let db = snap.db();
    let (top, mut problems) = db.root_bucket().buckets();
    let mut total = Part::default();
    let mut revision = 0;
    for (name, bucket) in &top {
        total = total.append(Part {
            crc: crc32c::crc32c(name),
            len: name.len() as u64,
            pairs: 0,
        });
        let (leaves, p) = bucket.leaves();
        problems.note_all(p);
        let parts: Vec<_> = leaves
            .par_chunks(LEAVES_PER_CHUNK)
            .map(hash_leaves)
            .collect();
        for (part, last) in &parts {
            total = total.append(*part);
            if *name == buckets::KEY {
                if let Some(k) = last {
                    revision = Revision::main_of(k).unwrap_or(revision);
                }
            }
        }
    }
    let version = read_storage_version(snap).unwrap_or_default();
    let status = Status {
        hash: total.crc,
        revision,
        total_key: total.pairs,
        total_size: db.logical_size(),
        version,
    };
    (status, problems)
}

fn read_storage_version(snap: &Snapshot) -> Option<String> {
    let (meta, _) = snap.bucket(buckets::META);
    let mut v = None;
    meta?.for_each(|_, e| {
        if e.key == b"storageVersion" {
            v = Some(String::from_utf8_lossy(e.value).into_owned());
        }
    });
    v
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
            crc: crc32c::crc32c(a),
            len: 6,
            pairs: 1,
        };
        let pb = Part {
            crc: crc32c::crc32c(b),
            len: 5,
            pairs: 1,
        };
        assert_eq!(
            Part::default().append(pa).append(pb).crc,
            crc32c::crc32c(b"hello world")
        );
    }
}
