//! The `key` bucket decoded: every revision of every key, and the live view at the snapshot's
//! revision. Leaves are decoded in parallel (rayon), each record a zero-copy view into the map.

use super::buckets;
use super::keysort;
use super::kv::KeyValue;
use super::revision::Revision;
use super::snapshot::Snapshot;
use crate::bbolt::{prefetched, Leaf, Pgid, Problem, Problems, MAX_PROBLEMS};
use rayon::prelude::*;
use std::fmt;
use std::mem::MaybeUninit;

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

/// The prefix keys appended one by one to a piece share, kept as they are appended (while each
/// is in cache).
#[derive(Default)]
struct Shared {
    /// The first key's length and how many of its bytes every key so far shares; `None`
    /// before the first key.
    first: Option<(usize, usize)>,
}

impl Shared {
    /// Adds `key`, about to be appended to `piece` (which holds the keys added so far).
    fn add(&mut self, piece: &[u8], key: &[u8]) {
        self.first = Some(match self.first {
            None => (key.len(), key.len()),
            Some((first, n)) => {
                let head = piece.get(..first.min(n)).unwrap_or_default();
                (
                    first,
                    head.iter().zip(key).take_while(|(a, b)| a == b).count(),
                )
            }
        });
    }

    /// The shared length: `usize::MAX` for no keys (it constrains nothing).
    fn len(&self) -> usize {
        self.first.map_or(usize::MAX, |(_, n)| n)
    }
}

/// Length of the prefix every key shares (0 for no keys).
pub(super) fn shared_prefix<'k>(mut keys: impl Iterator<Item = &'k [u8]>) -> usize {
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

/// The keys of `records` in `piece`, where they lie one after the other: each with its
/// offset in the piece.
fn piece_keys<'s>(
    piece: &'s [u8],
    records: &'s [Record<'_>],
) -> impl Iterator<Item = (usize, &'s [u8])> + 's {
    let mut at = 0;
    records.iter().map(move |r| {
        let k = piece.get(at..at + r.kv.key.len()).unwrap_or_default();
        let here = at;
        at += r.kv.key.len();
        (here, k)
    })
}

/// Every record's key one after the other, in pieces: a piece holds the keys of `counts[i]`
/// records, the pieces follow `all`'s order. Decode tasks each leave one piece (kept as they
/// are: concatenating them was 11 MB more memory to fault in on the bench file);
/// [`Arena::copied`] cuts its own.
struct Arena {
    pieces: Vec<Vec<u8>>,
    counts: Vec<usize>,
    /// How many leading bytes the keys of each piece share (`usize::MAX` for none).
    shared: Vec<usize>,
}

/// Records per piece of [`Arena::copied`].
const PIECE: usize = 16 << 10;

impl Arena {
    /// The keys of `all` copied on both cores, a piece per [`PIECE`] records.
    fn copied(all: &[Record<'_>]) -> Arena {
        let (pieces, shared) = all
            .par_chunks(PIECE)
            .map(|c| {
                let mut piece = Vec::with_capacity(c.iter().map(|r| r.kv.key.len()).sum());
                let mut shared = Shared::default();
                for r in c {
                    shared.add(&piece, r.kv.key);
                    piece.extend_from_slice(r.kv.key);
                }
                (piece, shared.len())
            })
            .unzip();
        let counts = all.chunks(PIECE).map(<[_]>::len).collect();
        Arena {
            pieces,
            counts,
            shared,
        }
    }

    /// Each piece's records as a range of `all`, covering records `0..n` one after the other;
    /// `None` when the counts do not add up to `n`.
    fn ranges(&self, n: usize) -> Option<Vec<std::ops::Range<usize>>> {
        let mut out = Vec::with_capacity(self.counts.len());
        let mut at = 0usize;
        for &c in &self.counts {
            out.push(at..at.checked_add(c)?);
            at += c;
        }
        let lens = [self.pieces.len(), self.counts.len(), self.shared.len()];
        (at == n && lens.iter().all(|&l| l == out.len())).then_some(out)
    }
}

/// Problems one leaf keeps with details before counting the rest. Leaves are decoded in
/// parallel and merged afterwards, so this bounds what the merge holds: at most this many
/// problems (~100 bytes each) per leaf page of at least 1 KiB.
const LEAF_PROBLEMS: usize = 8;

/// Leaves decoded per parallel task: enough to amortise the task and its vectors (one record
/// per leaf is common: 3.6 KiB Secrets), few enough to balance two cores.
const LEAVES_PER_TASK: usize = 256;

/// What one decode task leaves besides the records and sizes it wrote in place
/// ([`Slots`]): their keys one after the other (a piece of the by-key sort's arena,
/// [`Records::from_parts`]), the first problems of each leaf, and how many more there were.
struct Decoded {
    keys: Vec<u8>,
    /// How many leading bytes all of `keys` share ([`shared_prefix`]).
    shared: usize,
    problems: Vec<RecordProblem>,
    omitted: u64,
}

/// One task's share of the spare capacity of `Records::all` and of its element sizes, filled
/// from the front. The records are decoded straight into the final vectors: decoding into
/// vectors per task and concatenating them after wrote every record twice and faulted in twice
/// the memory, on one core (measured on the 1.23 GB bench file, AMD EPYC KVM guest: the kernel
/// zeroing pages for that copy was ~17 % of `salvage`'s CPU).
struct Slots<'s, 'a> {
    records: &'s mut [MaybeUninit<Record<'a>>],
    sizes: &'s mut [MaybeUninit<(u32, u32)>],
    written: usize,
}

impl<'a> Slots<'_, 'a> {
    /// False when full: never, as a task gets one slot per element of its leaves and an
    /// element gives at most one record.
    fn push(&mut self, r: Record<'a>, size: (u32, u32)) -> bool {
        match (
            self.records.get_mut(self.written),
            self.sizes.get_mut(self.written),
        ) {
            (Some(rs), Some(ss)) => {
                rs.write(r);
                ss.write(size);
                self.written += 1;
                true
            }
            _ => false,
        }
    }
}

fn decode_leaves<'a>(leaves: &[Leaf<'a>], out: &mut Slots<'_, 'a>) -> Decoded {
    let mut keys = Vec::new();
    let mut shared = Shared::default();
    let mut problems = Vec::new();
    let mut omitted = 0u64;
    for leaf in prefetched(leaves) {
        let from = out.written;
        decode_leaf(leaf, out, &mut problems, &mut omitted);
        // Copied while the leaf is in cache: read later, from the mapping, each key is a miss.
        for r in &out.records[from..out.written] {
            // SAFETY: slots before `written` were written by `push`.
            let k = unsafe { r.assume_init_ref() }.kv.key;
            shared.add(&keys, k);
            keys.extend_from_slice(k);
        }
    }
    Decoded {
        keys,
        shared: shared.len(),
        problems,
        omitted,
    }
}

/// An element's key and value sizes; a leaf element's `ksize` and `vsize` are u32s
/// (bbolt internal/common/page.go `leafPageElement`), so these fit.
fn sizes(e: &crate::bbolt::LeafElement<'_>) -> (u32, u32) {
    (e.key.len() as u32, e.value.len() as u32)
}

fn decode_leaf<'a>(
    leaf: &Leaf<'a>,
    out: &mut Slots<'_, 'a>,
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
                Some((rev, kv, n)) if out.push(Record { rev, kv }, n) => {}
                _ => *omitted += 1,
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
                if !out.push(Record { rev, kv }, sizes(&e)) {
                    problem(format!("revision {rev}: no room for the record"));
                }
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
        Records::read_in_runs(snap, LEAVES_PER_TASK).0
    }

    /// [`Records::read`], with the pages of the leaves read, sorted (what salvage needs to know
    /// which leaf pages the tree reaches, without walking it again).
    pub fn read_reached(snap: &'a Snapshot) -> (Records<'a>, Vec<Pgid>) {
        Records::read_in_runs(snap, LEAVES_PER_TASK)
    }

    /// [`Records::read_reached`] with `per_task` leaves per parallel task (tests make tasks
    /// small to reach the gap closing between them).
    fn read_in_runs(snap: &'a Snapshot, per_task: usize) -> (Records<'a>, Vec<Pgid>) {
        let (bucket, mut structure_problems) = snap.bucket(buckets::KEY);
        let Some(bucket) = bucket else {
            let r = Records::from_parts(Vec::new(), None, structure_problems, Vec::new(), false);
            return (r, Vec::new());
        };
        let (leaves, problems) = crate::trace::span("records: walk", || bucket.leaves());
        structure_problems.note_all(problems);
        let mut reached: Vec<Pgid> = leaves.iter().map(|l| l.page).collect();
        reached.sort_unstable();
        reached.dedup();
        let runs: Vec<&[Leaf<'a>]> = leaves.chunks(per_task.max(1)).collect();
        // One slot per element: a leaf's count fits its page (`LeafPage::new`) and a walk
        // reaches each page once, so this is bounded by the file's size.
        let counts: Vec<usize> = runs
            .iter()
            .map(|run| run.iter().map(|l| l.view.len()).sum())
            .collect();
        let total: usize = counts.iter().sum();
        let mut all: Vec<Record<'a>> = Vec::with_capacity(total);
        let mut element_sizes: Vec<(u32, u32)> = Vec::with_capacity(total);
        let decoded: Vec<(Decoded, usize)> = crate::trace::span("records: decode", || {
            let mut records = &mut all.spare_capacity_mut()[..total];
            let mut sizes = &mut element_sizes.spare_capacity_mut()[..total];
            let mut tasks = Vec::with_capacity(runs.len());
            for (run, &n) in runs.iter().zip(&counts) {
                let (r, rest) = std::mem::take(&mut records).split_at_mut(n);
                records = rest;
                let (s, rest) = std::mem::take(&mut sizes).split_at_mut(n);
                sizes = rest;
                let slots = Slots {
                    records: r,
                    sizes: s,
                    written: 0,
                };
                tasks.push((*run, slots));
            }
            tasks
                .into_par_iter()
                .map(|(run, mut slots)| {
                    let d = decode_leaves(run, &mut slots);
                    (d, slots.written)
                })
                .collect()
        });
        // Elements that did not decode left their slots unwritten: close the gaps (none on a
        // healthy file).
        let mut len = 0;
        let mut at = 0;
        for ((_, written), &n) in decoded.iter().zip(&counts) {
            if at != len {
                all.spare_capacity_mut().copy_within(at..at + written, len);
                element_sizes
                    .spare_capacity_mut()
                    .copy_within(at..at + written, len);
            }
            len += written;
            at += n;
        }
        // SAFETY: each task wrote its first `written` slots; the loop above moved those runs
        // together, so the first `len` slots of both vectors are written.
        unsafe {
            all.set_len(len);
            element_sizes.set_len(len);
        }
        let mut arena = Arena {
            pieces: Vec::with_capacity(decoded.len()),
            counts: Vec::with_capacity(decoded.len()),
            shared: Vec::with_capacity(decoded.len()),
        };
        let mut record_problems = Vec::new();
        let mut omitted = 0u64;
        for (d, written) in decoded {
            arena.pieces.push(d.keys);
            arena.counts.push(written);
            arena.shared.push(d.shared);
            let room = MAX_PROBLEMS.saturating_sub(record_problems.len());
            omitted += d.omitted + d.problems.len().saturating_sub(room) as u64;
            record_problems.extend(d.problems.into_iter().take(room));
        }
        let mut records =
            Records::from_parts(all, Some(arena), structure_problems, record_problems, true);
        records.record_problems_omitted = omitted;
        records.element_sizes = element_sizes;
        (records, reached)
    }

    /// `arena`, when given, holds every record's key in `all`'s order, in pieces (what
    /// [`decode_leaves`] copies while each leaf is in cache); else it is copied here.
    fn from_parts(
        all: Vec<Record<'a>>,
        arena: Option<Arena>,
        structure_problems: Vec<Problem>,
        record_problems: Vec<RecordProblem>,
        has_key_bucket: bool,
    ) -> Self {
        // The sort compares keys. Read in place they are scattered over the whole mapping (on
        // the 1.2 GB bench file most comparisons missed the cache and the TLB), so they are
        // held in an arena (the keys' total size, in pieces the two cores work on, freed on
        // return).
        let (arena, ranges) = match arena.and_then(|a| a.ranges(all.len()).map(|r| (a, r))) {
            Some(ar) => ar,
            None => {
                let a = Arena::copied(&all);
                let r = a.ranges(all.len()).unwrap_or_default();
                (a, r)
            }
        };
        let pieces = &arena.pieces[..];
        let keys_of = |p: usize| piece_keys(&pieces[p], &all[ranges[p].clone()]);
        // The prefix all keys share (the sort spends no digit on it): the shortest of each
        // piece's own, and of what the pieces' first keys share.
        let firsts = (0..ranges.len()).filter_map(|p| keys_of(p).next().map(|(_, k)| k));
        let shared = arena
            .shared
            .iter()
            .copied()
            .min()
            .map_or(0, |n| shared_prefix(firsts).min(n));
        let mut entries: Vec<keysort::Entry> = Vec::with_capacity(all.len());
        crate::trace::span("records: sort entries", || {
            let mut rest = &mut entries.spare_capacity_mut()[..all.len()];
            let mut work = Vec::with_capacity(ranges.len());
            for (p, r) in ranges.iter().enumerate() {
                let (mine, tail) = std::mem::take(&mut rest).split_at_mut(r.len());
                rest = tail;
                work.push((p, mine));
            }
            work.into_par_iter().for_each(|(p, mine)| {
                for (slot, (j, (at, k))) in mine.iter_mut().zip(keys_of(p).enumerate()) {
                    let index = (ranges[p].start + j) as u32;
                    let tombstone = all[index as usize].rev.tombstone;
                    let e = keysort::Entry::new(pieces, p, at, k.len() as u32, index, shared);
                    slot.write(if tombstone { e.tombstone() } else { e });
                }
            });
        });
        // SAFETY: the ranges run one after the other from record 0 (`Arena::ranges`), and each
        // piece wrote one entry per record of its range (the zip above runs over as many keys
        // as the range has records): the first `covered` slots are written. `covered` is
        // `all.len()` whenever the ranges are those of `all`, which `Arena::ranges` checked.
        let covered = ranges.last().map_or(0, |r| r.end);
        unsafe { entries.set_len(covered) };
        crate::trace::span("records: by-key sort", || {
            keysort::sort(&mut entries, pieces, shared, |i| all[i as usize].rev)
        });
        let (by_key, live) =
            crate::trace::span("records: live", || keysort::indexes(&entries, pieces));
        drop(entries);
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
            // Decoded in place by tasks of any size, the records are those a plain loop over
            // the leaves decodes, in bucket order, with their element sizes.
            let plain: Vec<_> = snap
                .bucket(buckets::KEY)
                .0
                .map(|b| b.leaves().0)
                .unwrap_or_default()
                .iter()
                .flat_map(|l| l.elements())
                .flatten()
                .filter_map(|e| {
                    let rev = Revision::parse(e.key)?;
                    let kv = KeyValue::decode(e.value).ok()?;
                    Some((rev, kv.key.as_ptr(), sizes(&e)))
                })
                .collect();
            for per_task in [1, 3, LEAVES_PER_TASK] {
                let (rt, _) = Records::read_in_runs(&snap, per_task);
                let got: Vec<_> = rt
                    .all
                    .iter()
                    .zip(&rt.element_sizes)
                    .map(|(r, &n)| (r.rev, r.kv.key.as_ptr(), n))
                    .collect();
                assert_eq!(got, plain, "{per_task} leaves per task");
                assert_eq!(rt.record_problems, r.record_problems);
            }
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
