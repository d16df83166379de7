//! The `key` bucket decoded: every revision of every key, and the live view at the snapshot's
//! revision. Leaves are decoded in parallel (rayon), each record a zero-copy view into the map.

use super::buckets;
use super::kv::KeyValue;
use super::revision::Revision;
use super::snapshot::Snapshot;
use crate::bbolt::{prefetched, Leaf, Pgid, Problem, Problems, MAX_PROBLEMS};
use rayon::prelude::*;
use std::fmt;

/// One revision of one key.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub rev: Revision,
    pub kv: KeyValue<'a>,
}

/// A `key` bucket entry that could not be decoded; the rest are still read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordProblem {
    pub page: Pgid,
    pub index: usize,
    pub detail: String,
}

impl fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "page {} (bucket key) element {}: {}",
            self.page, self.index, self.detail
        )
    }
}

/// Every record of the `key` bucket, in revision order, plus indexes by key.
pub struct Records<'a> {
    /// All revisions, in the bucket's (revision) order.
    pub all: Vec<Record<'a>>,
    /// Indexes into `all`, sorted by (key, revision): each key's history is contiguous.
    by_key: Vec<u32>,
    /// Indexes into `all` of each key's latest revision when that is not a tombstone, by key.
    live: Vec<u32>,
    /// Structural damage met while walking the bucket (those subtrees were skipped).
    pub structure_problems: Vec<Problem>,
    /// Entries that could not be decoded: the first [`MAX_PROBLEMS`], in bucket order.
    pub record_problems: Vec<RecordProblem>,
    /// Entries that could not be decoded past those listed (counted, not kept).
    pub record_problems_omitted: u64,
    /// False when the snapshot has no `key` bucket.
    pub has_key_bucket: bool,
    /// Key and value sizes of each element of `all`, as the leaf holds them (the value is the
    /// encoded KeyValue): empty unless `all` was read from the bucket, nothing added.
    element_sizes: Vec<(u32, u32)>,
}

/// One key in the by-key sort ([`Records::from_parts`]).
/// 32 bytes (a u128 would align it to 48): the sort moves 300k of them.
struct SortEntry {
    /// The key's 16 bytes after the prefix every key shares, big-endian, zero-padded, as
    /// (first 8, next 8): ordered as the bytes are, except that keys equal here may still
    /// differ further on.
    head: (u64, u64),
    /// The key in the sort's arena.
    start: usize,
    /// The key's length (bbolt's `ksize` is a u32, internal/common/page.go).
    len: u32,
    /// Index into `Records::all`.
    index: u32,
}

/// Length of the prefix every key shares (0 for no keys).
fn shared_prefix<'k>(mut keys: impl Iterator<Item = &'k [u8]>) -> usize {
    let Some(first) = keys.next() else {
        return 0;
    };
    let mut n = first.len();
    for k in keys {
        n = n.min(k.len());
        n = first[..n].iter().zip(k).take_while(|(a, b)| a == b).count();
        if n == 0 {
            break;
        }
    }
    n
}

/// [`SortEntry::head`] of `key`, whose first `shared` bytes every key shares.
fn head_after(key: &[u8], shared: usize) -> (u64, u64) {
    let mut b = [0u8; 16];
    let rest = key.get(shared..).unwrap_or_default();
    let n = rest.len().min(16);
    b[..n].copy_from_slice(&rest[..n]);
    let (hi, lo) = b.split_at(8);
    let word = |w: &[u8]| u64::from_be_bytes(w.try_into().unwrap_or_default());
    (word(hi), word(lo))
}

/// The keys of `records` in `arena`, where they lie one after the other from `start`: each
/// with its offset in the arena.
fn arena_keys<'s>(
    arena: &'s [u8],
    start: usize,
    records: &'s [Record<'_>],
) -> impl Iterator<Item = (usize, &'s [u8])> + 's {
    let mut at = start;
    records.iter().map(move |r| {
        let k = arena.get(at..at + r.kv.key.len()).unwrap_or_default();
        let here = at;
        at += r.kv.key.len();
        (here, k)
    })
}

/// Problems one leaf keeps with details before counting the rest. Leaves are decoded in
/// parallel and merged afterwards, so this bounds what the merge holds: at most this many
/// problems (~100 bytes each) per leaf page of at least 1 KiB.
const LEAF_PROBLEMS: usize = 8;

/// Leaves decoded per parallel task: enough to amortise the task and its vectors (one record
/// per leaf is common: 3.6 KiB Secrets), few enough to balance two cores.
const LEAVES_PER_TASK: usize = 256;

/// A run of leaves decoded: its records, their keys one after the other (the by-key sort's
/// arena, [`Records::from_parts`]), the first problems of each leaf, and how many more there
/// were.
type Decoded<'a> = (
    Vec<Record<'a>>,
    Vec<u8>,
    Vec<(u32, u32)>,
    Vec<RecordProblem>,
    u64,
);

fn decode_leaves<'a>(leaves: &[Leaf<'a>]) -> Decoded<'a> {
    let n = leaves.iter().map(|l| l.view.len()).sum();
    let mut out: Vec<Record<'a>> = Vec::with_capacity(n);
    let mut keys = Vec::new();
    let mut sizes = Vec::with_capacity(n);
    let mut problems = Vec::new();
    let mut omitted = 0u64;
    for leaf in prefetched(leaves) {
        let from = out.len();
        decode_leaf(leaf, &mut out, &mut sizes, &mut problems, &mut omitted);
        // Copied while the leaf is in cache: read later, from the mapping, each key is a miss.
        for r in &out[from..] {
            keys.extend_from_slice(r.kv.key);
        }
    }
    (out, keys, sizes, problems, omitted)
}

/// An element's key and value sizes; a leaf element's `ksize` and `vsize` are u32s
/// (bbolt internal/common/page.go `leafPageElement`), so these fit.
fn sizes(e: &crate::bbolt::LeafElement<'_>) -> (u32, u32) {
    (e.key.len() as u32, e.value.len() as u32)
}

fn decode_leaf<'a>(
    leaf: &Leaf<'a>,
    out: &mut Vec<Record<'a>>,
    sizes_out: &mut Vec<(u32, u32)>,
    problems: &mut Vec<RecordProblem>,
    omitted: &mut u64,
) {
    let mut listed = 0;
    for (index, e) in leaf.elements().enumerate() {
        if listed >= LEAF_PROBLEMS {
            // Count what is past the cap without formatting it.
            let ok = e.ok().and_then(|e| {
                Some((
                    Revision::parse(e.key)?,
                    KeyValue::decode(e.value).ok()?,
                    sizes(&e),
                ))
            });
            match ok {
                Some((rev, kv, n)) => {
                    out.push(Record { rev, kv });
                    sizes_out.push(n);
                }
                None => *omitted += 1,
            }
            continue;
        }
        let mut problem = |detail: String| {
            listed += 1;
            problems.push(RecordProblem {
                page: leaf.page,
                index,
                detail,
            })
        };
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                problem(err.detail);
                continue;
            }
        };
        let Some(rev) = Revision::parse(e.key) else {
            problem(format!("key of {} bytes is not a revision", e.key.len()));
            continue;
        };
        match KeyValue::decode(e.value) {
            Ok(kv) => {
                out.push(Record { rev, kv });
                sizes_out.push(sizes(&e));
            }
            Err(err) => problem(format!("revision {rev}: KeyValue: {err}")),
        }
    }
}

/// Whether an element of the `key` bucket decodes as a record (what [`count_undecodable`] and
/// the status hash pass count).
pub(crate) fn decodes(
    e: &Result<crate::bbolt::LeafElement<'_>, crate::bbolt::page::ElementError>,
) -> bool {
    e.as_ref()
        .is_ok_and(|e| Revision::parse(e.key).is_some() && KeyValue::decode(e.value).is_ok())
}

/// How many entries of the `key` bucket cannot be decoded, without keeping the records: all
/// `status` needs when it prints no live-key count. [`Records::read`] also builds the by-key
/// index, whose sort compares keys scattered over the whole mapping (on the 1.2 GB bench file
/// it was a fifth of `status`'s CPU). Same count as `record_problems` + `record_problems_omitted`.
pub fn count_undecodable(snap: &Snapshot) -> u64 {
    let (Some(bucket), _) = snap.bucket(buckets::KEY) else {
        return 0;
    };
    let (leaves, _) = bucket.leaves();
    leaves
        .par_chunks(LEAVES_PER_TASK)
        .map(|run| {
            prefetched(run)
                .map(|l| l.elements().filter(|e| !decodes(e)).count() as u64)
                .sum::<u64>()
        })
        .sum()
}

impl<'a> Records<'a> {
    /// Decodes the `key` bucket of `snap` in parallel.
    pub fn read(snap: &'a Snapshot) -> Records<'a> {
        let (bucket, mut structure_problems) = snap.bucket(buckets::KEY);
        let Some(bucket) = bucket else {
            return Records::from_parts(Vec::new(), None, structure_problems, Vec::new(), false);
        };
        let (leaves, problems) = crate::trace::span("records: walk", || bucket.leaves());
        structure_problems.note_all(problems);
        let decoded: Vec<_> = crate::trace::span("records: decode", || {
            leaves
                .par_chunks(LEAVES_PER_TASK)
                .map(decode_leaves)
                .collect()
        });
        let total = decoded.iter().map(|d| d.0.len()).sum();
        let mut all = Vec::with_capacity(total);
        let mut arena = Vec::with_capacity(decoded.iter().map(|d| d.1.len()).sum());
        let mut element_sizes = Vec::with_capacity(total);
        let mut record_problems = Vec::new();
        let mut omitted = 0u64;
        for (r, k, n, p, more) in decoded {
            all.extend(r);
            arena.extend_from_slice(&k);
            element_sizes.extend(n);
            let room = MAX_PROBLEMS.saturating_sub(record_problems.len());
            omitted += more + p.len().saturating_sub(room) as u64;
            record_problems.extend(p.into_iter().take(room));
        }
        let mut records =
            Records::from_parts(all, Some(arena), structure_problems, record_problems, true);
        records.record_problems_omitted = omitted;
        records.element_sizes = element_sizes;
        records
    }

    /// `arena`, when given, is every record's key one after the other in `all`'s order (what
    /// [`decode_leaves`] copies while each leaf is in cache); else it is copied here.
    fn from_parts(
        all: Vec<Record<'a>>,
        arena: Option<Vec<u8>>,
        structure_problems: Vec<Problem>,
        record_problems: Vec<RecordProblem>,
        has_key_bucket: bool,
    ) -> Self {
        // The sort compares keys. Read in place they are scattered over the whole mapping (on
        // the 1.2 GB bench file most comparisons missed the cache and the TLB), so they are
        // held in one contiguous buffer (the keys' total size, freed on return): filled by the
        // decode while each leaf was in cache, or copied here in pieces on both cores.
        // Kubernetes keys share long prefixes (`/registry/secrets/ns-00/secret-…`), so most
        // byte comparisons walked the same 20–30 bytes: each entry also carries the 16 bytes
        // after the prefix all keys share, as one integer, and only keys equal there are
        // compared as bytes (measured on the 300k-key bench file, AMD EPYC: memcmp and the
        // comparator were ~40 % of `salvage`'s CPU).
        const PIECE: usize = 16 << 10;
        let mut starts = Vec::with_capacity(all.len().div_ceil(PIECE) + 1);
        let mut total = 0usize;
        for c in all.chunks(PIECE) {
            starts.push(total);
            total += c.iter().map(|r| r.kv.key.len()).sum::<usize>();
        }
        let arena = match arena {
            Some(a) if a.len() == total => a,
            _ => {
                let mut arena = vec![0u8; total];
                // The arena cut at each piece's start, so each piece writes its own range.
                let mut rest = &mut arena[..];
                let mut parts = Vec::with_capacity(starts.len());
                for (i, c) in all.chunks(PIECE).enumerate() {
                    let len = starts.get(i + 1).copied().unwrap_or(total) - starts[i];
                    let (mine, tail) = rest.split_at_mut(len);
                    parts.push((c, mine));
                    rest = tail;
                }
                parts.into_par_iter().for_each(|(c, mine)| {
                    let mut at = 0;
                    for r in c {
                        let k = r.kv.key;
                        mine[at..at + k.len()].copy_from_slice(k);
                        at += k.len();
                    }
                });
                arena
            }
        };
        // The prefix all keys share: the shortest of each piece's own, and of what the pieces'
        // first keys share.
        let shared = all
            .par_chunks(PIECE)
            .enumerate()
            .map(|(p, c)| shared_prefix(arena_keys(&arena, starts[p], c).map(|(_, k)| k)))
            .min()
            .map_or(0, |n| {
                shared_prefix(all.chunks(PIECE).map(|c| c[0].kv.key)).min(n)
            });
        let mut spans: Vec<SortEntry> = Vec::with_capacity(all.len());
        {
            let pieces: Vec<Vec<SortEntry>> = all
                .par_chunks(PIECE)
                .enumerate()
                .map(|(p, c)| {
                    arena_keys(&arena, starts[p], c)
                        .enumerate()
                        .map(|(j, (start, k))| SortEntry {
                            head: head_after(k, shared),
                            start,
                            len: k.len() as u32,
                            index: (p * PIECE + j) as u32,
                        })
                        .collect()
                })
                .collect();
            for p in pieces {
                spans.extend(p);
            }
        }
        let key = |e: &SortEntry| &arena[e.start..e.start + e.len as usize];
        crate::trace::span("records: by-key sort", || {
            spans.par_sort_unstable_by(|a, b| {
                a.head
                    .cmp(&b.head)
                    .then_with(|| key(a)[shared..].cmp(&key(b)[shared..]))
                    .then_with(|| all[a.index as usize].rev.cmp(&all[b.index as usize].rev))
            })
        });
        let mut live = Vec::new();
        for (i, span) in spans.iter().enumerate() {
            let idx = span.index;
            let last_of_key = spans.get(i + 1).is_none_or(|n| key(n) != key(span));
            if last_of_key && !all[idx as usize].rev.tombstone {
                live.push(idx);
            }
        }
        let by_key: Vec<u32> = spans.iter().map(|s| s.index).collect();
        drop(spans);
        drop(arena);
        Records {
            all,
            by_key,
            live,
            structure_problems,
            record_problems,
            record_problems_omitted: 0,
            has_key_bucket,
            element_sizes: Vec::new(),
        }
    }

    /// These records plus `extra`, found outside the tree (salvaged from unreached pages, see
    /// [`super::salvage`]), re-indexed as one set. The tree's problems are kept: the file is
    /// still damaged. `extra` must not repeat a revision these hold.
    pub fn with_extra(self, extra: impl IntoIterator<Item = Record<'a>>) -> Records<'a> {
        let mut all = self.all;
        all.extend(extra);
        // Bucket order is revision order.
        all.par_sort_unstable_by_key(|r| r.rev);
        let mut r = Records::from_parts(
            all,
            None,
            self.structure_problems,
            self.record_problems,
            self.has_key_bucket,
        );
        r.record_problems_omitted = self.record_problems_omitted;
        r
    }

    /// The live records (latest revision of each key, not deleted), in key order.
    pub fn live(&self) -> impl ExactSizeIterator<Item = &Record<'a>> + '_ {
        self.live.iter().map(|&i| &self.all[i as usize])
    }

    /// The `i`-th live record in key order (what [`Records::live`] yields `i`-th).
    pub fn live_at(&self, i: usize) -> Option<&Record<'a>> {
        self.live.get(i).map(|&j| &self.all[j as usize])
    }

    /// Every revision held, in (key, revision) order.
    pub fn history(&self) -> impl ExactSizeIterator<Item = &Record<'a>> + '_ {
        self.by_key.iter().map(|&i| &self.all[i as usize])
    }

    /// The revisions of one key, oldest first.
    pub fn of_key(&self, key: &[u8]) -> &[u32] {
        let start = self
            .by_key
            .partition_point(|&i| self.all[i as usize].kv.key < key);
        let end = self
            .by_key
            .partition_point(|&i| self.all[i as usize].kv.key <= key);
        &self.by_key[start..end]
    }

    /// Every revision of every key starting with `prefix`, in (key, revision) order: a binary
    /// search in the key-sorted index, not a scan.
    pub fn with_prefix(&self, prefix: &[u8]) -> &[u32] {
        let start = self
            .by_key
            .partition_point(|&i| self.all[i as usize].kv.key < prefix);
        let len = self.by_key[start..]
            .partition_point(|&i| self.all[i as usize].kv.key.starts_with(prefix));
        &self.by_key[start..start + len]
    }

    /// The distinct first key segments (`/registry`, `/kubernetes.io`, …), found by seeking.
    pub fn key_roots(&self) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut from: Vec<u8> = Vec::new();
        loop {
            let i = self
                .by_key
                .partition_point(|&i| self.all[i as usize].kv.key < from.as_slice());
            let Some(&idx) = self.by_key.get(i) else {
                break;
            };
            let key = self.all[idx as usize].kv.key;
            // `/root/...`: the root ends at the second '/'; a key without one is its own root.
            let end = key
                .iter()
                .skip(1)
                .position(|&b| b == b'/')
                .map_or(key.len(), |p| p + 1);
            let root = &key[..end];
            out.push(root);
            // The next key past every key starting with `root/`.
            from = root.to_vec();
            from.push(b'/' + 1);
            if end == key.len() {
                from = key.to_vec();
                from.push(0);
            }
        }
        out.dedup();
        out
    }

    pub fn get(&self, index: u32) -> &Record<'a> {
        &self.all[index as usize]
    }

    /// Number of live keys: etcd 3.6's meaning of "total keys".
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// The highest main revision held, including tombstones.
    pub fn max_revision(&self) -> i64 {
        self.all.last().map(|r| r.rev.main).unwrap_or(0)
    }

    /// True when every leaf of the bucket was read and decoded.
    pub fn complete(&self) -> bool {
        self.structure_problems.is_empty() && self.record_problems.is_empty()
    }

    /// The `key` bucket's elements in bucket order, each as (key size, value size, whether
    /// its revision is that of a live record), without walking the leaves again: what a walk
    /// of the bucket would give when these records are exactly its elements. `None` unless
    /// every leaf was read and decoded, nothing was added ([`Records::with_extra`]) and no two
    /// elements share a (main, sub) revision (`5_0` and `5_0t`: a caller matching live records
    /// by revision would keep both, this answers for one).
    pub fn bucket_elements(&self) -> Option<Vec<(u32, u32, bool)>> {
        if !self.complete() || self.element_sizes.len() != self.all.len() {
            return None;
        }
        let same =
            |a: &Record<'_>, b: &Record<'_>| (a.rev.main, a.rev.sub) == (b.rev.main, b.rev.sub);
        if self.all.windows(2).any(|w| same(&w[0], &w[1])) {
            return None;
        }
        let mut live = vec![false; self.all.len()];
        for &i in &self.live {
            live[i as usize] = true;
        }
        Some(
            self.element_sizes
                .iter()
                .zip(live)
                .map(|(&(k, v), l)| (k, v, l))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bbolt::Data;

    fn snapshot(bytes: Vec<u8>) -> Option<Snapshot> {
        Snapshot::from_data("variant.db", Data::Owned(bytes)).ok()
    }

    /// The by-key index equals a plain sort by (key bytes, revision) on keys built to tie in the
    /// 16-byte head: shared prefixes, keys that end inside the head, NUL bytes, empty keys and
    /// several revisions of one key.
    #[test]
    fn by_key_order_is_byte_order_then_revision() {
        // 300 keys: one piece of the parallel arena build; 40k: three, the last one short.
        for count in [300u32, 40_000] {
            by_key_order_on(count);
        }
    }

    fn by_key_order_on(count: u32) {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for n in 0..count {
            let mut k = format!(
                "/registry/secrets/ns-{:02}/secret-{:07}",
                n % 7,
                n * 7919 % 1000
            )
            .into_bytes();
            match n % 9 {
                0 => k.truncate(21 + (n as usize % 20)),
                1 => k.push(0),
                2 => k.extend_from_slice(&[0, 0, 1]),
                3 => k = k[..k.len().min(n as usize % 5)].to_vec(),
                _ => {}
            }
            keys.push(k);
        }
        let all: Vec<Record<'_>> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Record {
                rev: Revision {
                    main: 1000 - i as i64 % 13,
                    sub: i as i64,
                    tombstone: i % 11 == 0,
                },
                kv: KeyValue {
                    key: k,
                    ..KeyValue::default()
                },
            })
            .collect();
        let mut want: Vec<(&[u8], Revision)> = all.iter().map(|r| (r.kv.key, r.rev)).collect();
        want.sort();
        let r = Records::from_parts(all.clone(), None, Vec::new(), Vec::new(), true);
        let got: Vec<(&[u8], Revision)> = r.history().map(|r| (r.kv.key, r.rev)).collect();
        assert_eq!(got, want);
        // Live: the last revision of each key, unless a tombstone.
        let mut live = Vec::new();
        for (i, w) in want.iter().enumerate() {
            if want.get(i + 1).is_none_or(|n| n.0 != w.0) && !w.1.tombstone {
                live.push(*w);
            }
        }
        let got: Vec<(&[u8], Revision)> = r.live().map(|r| (r.kv.key, r.rev)).collect();
        assert_eq!(got, live);
        assert_eq!(shared_prefix([&b"abc"[..], b"abd", b"ab"].into_iter()), 2);
        assert_eq!(shared_prefix([&b""[..], b"x"].into_iter()), 0);
        assert_eq!(shared_prefix(std::iter::empty()), 0);
    }

    /// `status` trusts `count_undecodable` to say what `Records::read` would: on the real-etcd
    /// basic snapshot and on 300 copies with one byte flipped (fixed positions), both counts and
    /// the index built from buffered keys agree with what the records hold.
    #[test]
    fn count_undecodable_agrees_with_read_on_damaged_copies() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/snapshots/basic.db");
        let base = std::fs::read(path).expect("testdata/snapshots/basic.db");
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut variants = vec![base.clone()];
        for _ in 0..300 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut b = base.clone();
            // Past the two meta pages, so the copy still opens.
            let off = 8192 + (x as usize) % (b.len() - 8192);
            b[off] ^= 1 << (x >> 61);
            variants.push(b);
        }
        let mut damaged = 0;
        for b in variants {
            let Some(snap) = snapshot(b) else { continue };
            let r = Records::read(&snap);
            let bad = r.record_problems.len() as u64 + r.record_problems_omitted;
            assert_eq!(count_undecodable(&snap), bad);
            assert_eq!(
                super::super::status::compute_counting_undecodable(&snap).2,
                bad
            );
            let (st, problems) = super::super::status::compute(&snap);
            assert_eq!(
                super::super::status::compute_counting_undecodable(&snap).0,
                st
            );
            // One walk for the check and the hash: the same numbers, problems and report.
            let (st2, problems2, bad2, check2) = super::super::status::compute_with_check(&snap);
            assert_eq!((st2, bad2), (st, bad));
            assert_eq!(problems2, problems);
            let check = snap.check_structure();
            assert_eq!(format!("{check2:?}"), format!("{check:?}"));
            damaged += usize::from(bad > 0);
            // by_key is (key, revision) order and live holds each key's last non-tombstone.
            let hist: Vec<_> = r.history().map(|h| (h.kv.key, h.rev)).collect();
            assert!(hist.windows(2).all(|w| w[0] <= w[1]));
            for l in r.live() {
                let last = r.of_key(l.kv.key).last().map(|&i| r.get(i).rev);
                assert_eq!(last, Some(l.rev));
                assert!(!l.rev.tombstone);
            }
        }
        assert!(damaged > 0, "no flip reached a record");
    }
}
