//! The by-key order of the `key` bucket's records: (key bytes, revision), and the live view it
//! gives (each key's last revision, unless a tombstone).
//!
//! Kubernetes keys share long runs of bytes (`/registry/secrets/ns-07/secret-00123`: every
//! secret of a namespace agrees on its first 30), so a comparison sort on key bytes spends its
//! time walking the same bytes again and reading keys scattered over memory. This is a
//! most-significant-digit sort whose digits are 16 bytes of the key: the entries are sorted by
//! the digit at one offset (two integer compares, nothing read through a pointer); each run of
//! entries that agree on it and go on past it is then sorted by the next 16 bytes, and so on.
//! On the 300k-key bench file that is two digits per key. Small runs are sorted by their bytes
//! at once.

use super::revision::Revision;
use rayon::prelude::*;
use std::cmp::Ordering;

/// Bytes per digit.
const DIGIT: usize = 16;

/// Runs this short are sorted by comparing their bytes rather than digit by digit.
const SMALL: usize = 24;

/// One record in the sort. 32 bytes (a u128 would align it to 48): the sort moves 300k of them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    /// The digit the entry was last sorted by: 16 bytes of the key from that level's offset,
    /// big-endian, zero-padded, as (first 8, next 8).
    head: (u64, u64),
    /// Where the key lies: its piece of the arena (bits 40–62) and its offset in it (the low
    /// 40), or [`NOWHERE`]; the top bit marks a tombstone (the live view drops those without
    /// reading the record).
    at: u64,
    /// The key's length (a leaf element's value is at most u32::MAX bytes, and the key lies in
    /// it).
    len: u32,
    /// Index into `Records::all`.
    pub(super) index: u32,
}

/// Bits of [`Entry::at`] that hold the offset: pieces up to 1 TiB.
const OFFSET_BITS: u32 = 40;

/// Bits of [`Entry::at`] that hold the piece: 8M pieces (of 256 leaves each from the decode).
const PIECE_BITS: u32 = 23;

/// The tombstone mark in [`Entry::at`].
const TOMBSTONE: u64 = 1 << 63;

/// An [`Entry::at`] (without the mark) for a piece or offset too large to encode (no real file
/// has one): the key reads as empty.
const NOWHERE: u64 = TOMBSTONE - 1;

/// The keys, in pieces (one per decode task); an entry's key is a range of one piece.
pub(super) type Arena = [Vec<u8>];

impl Entry {
    /// The entry of record `index`, whose key is `pieces[piece][offset..offset + len]`, with
    /// its digit at `off` (the prefix every key shares, so no digit is spent on it).
    pub(super) fn new(
        pieces: &Arena,
        piece: usize,
        offset: usize,
        len: u32,
        index: u32,
        off: usize,
    ) -> Entry {
        let at = match (u64::try_from(piece), u64::try_from(offset)) {
            // The last piece number is left out: its last offset would read as NOWHERE.
            (Ok(p), Ok(o)) if p < (1 << PIECE_BITS) - 1 && o < 1 << OFFSET_BITS => {
                p << OFFSET_BITS | o
            }
            _ => NOWHERE,
        };
        let mut e = Entry {
            head: (0, 0),
            at,
            len,
            index,
        };
        e.head = digit(key(pieces, &e), off);
        e
    }

    /// The entry marked as a tombstone's.
    pub(super) fn tombstone(self) -> Entry {
        Entry {
            at: self.at | TOMBSTONE,
            ..self
        }
    }

    fn is_tombstone(&self) -> bool {
        self.at & TOMBSTONE != 0
    }
}

fn key<'k>(pieces: &'k Arena, e: &Entry) -> &'k [u8] {
    let at = e.at & !TOMBSTONE;
    if at == NOWHERE {
        return &[];
    }
    let (piece, offset) = (
        (at >> OFFSET_BITS) as usize,
        (at & ((1 << OFFSET_BITS) - 1)) as usize,
    );
    pieces
        .get(piece)
        .and_then(|p| p.get(offset..offset + e.len as usize))
        .unwrap_or_default()
}

/// The 16 bytes of `key` from `off`, zero-padded, as two big-endian integers: ordered as the
/// bytes are, except that a key ending inside them ties with one going on with zeros (the
/// digit's length, [`digit_len`], tells those apart).
fn digit(key: &[u8], off: usize) -> (u64, u64) {
    let mut b = [0u8; DIGIT];
    let rest = key.get(off..).unwrap_or_default();
    let n = rest.len().min(DIGIT);
    b[..n].copy_from_slice(&rest[..n]);
    let (hi, lo) = b.split_at(8);
    let word = |w: &[u8]| u64::from_be_bytes(w.try_into().unwrap_or_default());
    (word(hi), word(lo))
}

/// How many of the digit's bytes at `off` are the key's: 16 when the key goes on to the end of
/// the digit (and maybe further).
fn digit_len(e: &Entry, off: usize) -> usize {
    (e.len as usize).saturating_sub(off).min(DIGIT)
}

/// Entries that agree on every byte before `off` ordered by the digit at `off`: by its bytes,
/// then by how many of them the key has (a key that ends first is a prefix of the other, so it
/// comes first). Two keys that agree and both end inside the digit are the same key: ordered by
/// revision. Two that agree on the whole digit tie here; the next digit decides.
fn by_digit(a: &Entry, b: &Entry, off: usize, rev: &impl Fn(u32) -> Revision) -> Ordering {
    a.head.cmp(&b.head).then_with(|| {
        let (la, lb) = (digit_len(a, off), digit_len(b, off));
        la.cmp(&lb).then_with(|| {
            if la < DIGIT {
                rev(a.index).cmp(&rev(b.index))
            } else {
                Ordering::Equal
            }
        })
    })
}

/// Sorted by [`by_digit`] at `off`, `b` continues `a`'s run: the same digit, and both keys go on.
fn same_run(a: &Entry, b: &Entry, off: usize) -> bool {
    a.head == b.head && digit_len(a, off) == DIGIT && digit_len(b, off) == DIGIT
}

/// The runs of entries sorted by [`by_digit`] at `off` that the next digit must order: two or
/// more entries with the same digit whose keys all go on past it ([`same_run`]).
fn ties(sorted: &mut [Entry], off: usize) -> impl Iterator<Item = &mut [Entry]> {
    sorted
        .chunk_by_mut(move |a, b| same_run(a, b, off))
        .filter(|r| r.len() > 1)
}

/// Sorts `entries` (built with their digit at `off` by [`Entry::new`]) by (key, revision).
/// `rev` gives a record's revision; it is asked only for records of the same key.
pub(super) fn sort(
    entries: &mut [Entry],
    arena: &Arena,
    off: usize,
    rev: impl Fn(u32) -> Revision + Sync,
) {
    entries.par_sort_unstable_by(|a, b| by_digit(a, b, off, &rev));
    let runs: Vec<&mut [Entry]> = ties(entries, off).collect();
    runs.into_par_iter()
        .for_each(|run| sort_run(run, arena, off + DIGIT, &rev));
}

/// Sorts a run of entries that agree on every byte before `off`, digit by digit from `off`. An
/// explicit stack: a hostile file's keys may agree on a megabyte of bytes.
fn sort_run<'e>(run: &'e mut [Entry], arena: &Arena, off: usize, rev: &impl Fn(u32) -> Revision) {
    let mut stack: Vec<(&'e mut [Entry], usize)> = vec![(run, off)];
    while let Some((run, off)) = stack.pop() {
        if run.len() <= SMALL {
            // Digits are left as the run's last level had them: equal in the whole run, so
            // `differs` still compares these keys' bytes.
            run.sort_unstable_by(|a, b| {
                let tail = |e: &Entry| key(arena, e).get(off..).unwrap_or_default();
                tail(a)
                    .cmp(tail(b))
                    .then_with(|| rev(a.index).cmp(&rev(b.index)))
            });
            continue;
        }
        for e in run.iter_mut() {
            e.head = digit(key(arena, e), off);
        }
        run.sort_unstable_by(|a, b| by_digit(a, b, off, rev));
        stack.extend(ties(run, off).map(|r| (r, off + DIGIT)));
    }
}

/// Whether two entries next to each other in the sorted order hold different keys. Entries of
/// one key were in the same run at every level, so they end with the same digit and length:
/// when those differ the keys do, and only equal ones are compared byte by byte.
fn differs(arena: &Arena, a: &Entry, b: &Entry) -> bool {
    a.head != b.head || a.len != b.len || key(arena, a) != key(arena, b)
}

/// The sorted entries' record indexes, and those of each key's last revision unless it is a
/// tombstone (the live view), both in key order.
pub(super) fn indexes(entries: &[Entry], arena: &Arena) -> (Vec<u32>, Vec<u32>) {
    let by_key = entries.par_iter().map(|e| e.index).collect();
    let live = entries
        .par_iter()
        .enumerate()
        .filter(|&(i, e)| {
            entries
                .get(i + 1)
                .is_none_or(|next| differs(arena, e, next))
                && !e.is_tombstone()
        })
        .map(|(_, e)| e.index)
        .collect();
    (by_key, live)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sorts `keys` (with revisions) through entries and checks the order and the live view
    /// against a plain sort of (bytes, revision).
    fn check(keys: &[(Vec<u8>, Revision)]) {
        // Pieces of 7 keys.
        let mut arena: Vec<Vec<u8>> = Vec::new();
        let mut spans = Vec::new();
        for (i, (k, _)) in keys.iter().enumerate() {
            if i % 7 == 0 {
                arena.push(Vec::new());
            }
            let piece = arena.len() - 1;
            spans.push((piece, arena[piece].len(), k.len() as u32));
            arena[piece].extend_from_slice(k);
        }
        let shared = super::super::records::shared_prefix(keys.iter().map(|k| k.0.as_slice()));
        let mut entries: Vec<Entry> = spans
            .iter()
            .enumerate()
            .map(|(i, &(p, s, l))| {
                let e = Entry::new(&arena, p, s, l, i as u32, shared);
                if keys[i].1.tombstone {
                    e.tombstone()
                } else {
                    e
                }
            })
            .collect();
        sort(&mut entries, &arena, shared, |i| keys[i as usize].1);
        let (by_key, live) = indexes(&entries, &arena);
        let mut want: Vec<usize> = (0..keys.len()).collect();
        want.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        let got: Vec<usize> = by_key.iter().map(|&i| i as usize).collect();
        let show = |v: &[usize]| -> Vec<(String, Revision)> {
            v.iter()
                .map(|&i| (String::from_utf8_lossy(&keys[i].0).into_owned(), keys[i].1))
                .collect()
        };
        assert_eq!(show(&got), show(&want));
        let want_live: Vec<usize> = want
            .iter()
            .enumerate()
            .filter(|&(n, &i)| {
                want.get(n + 1).is_none_or(|&j| keys[j].0 != keys[i].0) && !keys[i].1.tombstone
            })
            .map(|(_, &i)| i)
            .collect();
        let got_live: Vec<usize> = live.iter().map(|&i| i as usize).collect();
        assert_eq!(show(&got_live), show(&want_live));
    }

    fn rev(main: i64, tombstone: bool) -> Revision {
        Revision::at(main, tombstone)
    }

    /// Keys that tie digit after digit: long shared runs, keys that are prefixes of others,
    /// that end exactly at a digit's end, that go on with NUL bytes, empty keys, many
    /// revisions of one key, and runs above and below the small-run size.
    #[test]
    fn orders_keys_as_bytes_then_revision() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..40 {
            let mut keys = Vec::new();
            let n = [5, 30, 300, 3000][round % 4];
            for i in 0..n {
                let r = next();
                let ns = r % 3;
                let name = (r >> 8) % (n as u64 / 2 + 1);
                let mut k = format!("/registry/secrets/ns-{ns:02}/secret-{name:06}").into_bytes();
                match (r >> 40) % 12 {
                    0 => k.truncate(((r >> 48) as usize) % (k.len() + 1)),
                    1 => k.push(0),
                    2 => k.extend_from_slice(&[0, 0, 1]),
                    3 => k.truncate(16),
                    4 => k.truncate(32),
                    5 => k.extend(std::iter::repeat_n(b'x', 100)),
                    6 => k.extend(std::iter::repeat_n(0u8, 40)),
                    _ => {}
                }
                keys.push((k, rev(1000 - (i as i64 % 17), (r >> 60) % 5 == 0)));
            }
            check(&keys);
        }
        check(&[]);
        check(&[(Vec::new(), rev(1, false))]);
        check(&[
            (b"a".to_vec(), rev(2, false)),
            (b"a".to_vec(), rev(1, true)),
        ]);
        // One key 10 kB long in 200 revisions: 640 digits deep, on the stack the sort keeps.
        let long = vec![7u8; 10_000];
        check(
            &(0..200)
                .map(|i| (long.clone(), rev(i, i % 50 == 49)))
                .collect::<Vec<_>>(),
        );
    }
}
