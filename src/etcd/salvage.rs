//! Salvage: records of the `key` bucket found by scanning every page, not by walking the tree.
//!
//! Every leaf page is checked as a key-bucket leaf: each element's key must be a revision
//! (17 bytes `main_sub`, or 18 with the tombstone mark) and its value an mvccpb.KeyValue whose
//! key is not empty and whose mod_revision is the element's main revision (0 allowed for a
//! tombstone, which stores only the key: mvcc/kvstore_txn.go `delete`). Pages where every element
//! passes are key-bucket leaves. Those the tree does not reach are sorted by where their revisions
//! fall:
//!
//! - inside a *hole*, the key range of a subtree the tree walk could not read (bounded by the
//!   branch elements around it, [`crate::bbolt::scan::holes`]): *recovered* — live data the tree
//!   lost, merged with what the tree holds;
//! - anywhere else: *history* — an older copy of a page (copy-on-write leaves the old one behind
//!   on a free page), reported apart from live data. An intact tree has no holes, so on a healthy
//!   file every unreached page is history.
//!
//! In the merged view, for revisions at or below the compact revision only the newest per key is
//! kept, as compaction would have left it (mvcc/kvstore_compaction.go); older ones found on stale
//! pages count as history.

use super::buckets;
use super::kv::KeyValue;
use super::meta::MetaInfo;
use super::records::Records;
use super::revision::Revision;
use super::snapshot::Snapshot;
use crate::bbolt::scan;
use crate::bbolt::{LeafPage, Pgid};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};

/// A record found on a page the tree does not reach.
#[derive(Clone, Copy, Debug)]
pub struct Found<'a> {
    pub rev: Revision,
    pub kv: KeyValue<'a>,
    pub page: Pgid,
}

/// One record of the merged live view.
#[derive(Clone, Copy, Debug)]
pub struct LiveRecord<'a> {
    pub rev: Revision,
    pub kv: KeyValue<'a>,
    /// The page it was salvaged from; None when the tree reaches it.
    pub salvaged_from: Option<Pgid>,
}

pub struct Salvage<'a> {
    pub pages_scanned: u64,
    pub key_leaf_pages: usize,
    pub reached_pages: usize,
    /// Unreached key-bucket leaf pages in holes of the tree, and the records on them the tree
    /// does not hold.
    pub recovered_pages: Vec<Pgid>,
    pub recovered: Vec<Found<'a>>,
    /// Unreached pages overlapping what the tree holds (old copies on free pages), and records
    /// found only there or dropped by the compaction rule.
    pub history_pages: Vec<Pgid>,
    pub history: Vec<Found<'a>>,
    /// Records at or below the compaction on hole pages that an overlapping hole page lacks:
    /// live, or compacted away (see `uncertain_in_holes`); never counted as live.
    pub uncertain: Vec<Found<'a>>,
    /// Revisions found twice with different contents (the first found is kept).
    pub conflicts: Vec<(Revision, Pgid)>,
    /// Leaf pages that looked like key-bucket leaves but had elements failing validation.
    pub mixed_pages: Vec<Pgid>,
    /// Latest revision per key, not deleted, from the tree and the recovered records; `None`
    /// when nothing was recovered, so the merged view is the tree's own (`Records::live`, not
    /// copied: 300k records on the bench file; [`Salvage::live`] gives either).
    pub merged_live: Option<Vec<LiveRecord<'a>>>,
    pub tree_live: usize,
}

impl<'a> Salvage<'a> {
    /// The merged live view. `records` must be the ones this salvage was made from.
    pub fn live<'s>(
        &'s self,
        records: &'s Records<'a>,
    ) -> Box<dyn Iterator<Item = LiveRecord<'a>> + 's> {
        match &self.merged_live {
            Some(m) => Box::new(m.iter().copied()),
            None => Box::new(records.live().map(|r| LiveRecord {
                rev: r.rev,
                kv: r.kv,
                salvaged_from: None,
            })),
        }
    }

    /// How many live keys the merged view holds.
    pub fn live_count(&self) -> usize {
        self.merged_live.as_ref().map_or(self.tree_live, Vec::len)
    }

    /// How many of them only a salvaged record gives.
    pub fn live_salvaged(&self) -> usize {
        self.merged_live.as_ref().map_or(0, |m| {
            m.iter().filter(|l| l.salvaged_from.is_some()).count()
        })
    }
}

fn validate<'a>(view: &LeafPage<'a>, page: Pgid) -> Option<(Vec<Found<'a>>, bool)> {
    let mut out = Vec::with_capacity(view.len());
    let mut bad = false;
    for e in view.elements() {
        let parsed = e.ok().and_then(|e| {
            let rev = Revision::parse(e.key)?;
            let kv = KeyValue::decode(e.value).ok()?;
            let rev_ok = kv.mod_revision == rev.main || (rev.tombstone && kv.mod_revision == 0);
            (!kv.key.is_empty() && rev_ok).then_some(Found { rev, kv, page })
        });
        match parsed {
            Some(f) => out.push(f),
            None => bad = true,
        }
    }
    (!out.is_empty()).then_some((out, bad))
}

/// Reads the records of `snap` and salvages what the tree lost, on both cores: one walk of the
/// key tree gives the records and the leaf pages the tree reaches while every page of the file
/// is scanned beside it; only then are the pages the tree does not reach validated.
pub fn read_salvaged<'a>(snap: &'a Snapshot, meta: &MetaInfo) -> (Records<'a>, Salvage<'a>) {
    let ((records, reached_ids), pages) = rayon::join(
        || crate::trace::span("salvage: records", || Records::read_reached(snap)),
        || crate::trace::span("salvage: scan", || scan::leaf_pages(snap.db())),
    );
    let s = crate::trace::span("salvage: merge", || {
        salvage_pages(snap, &records, meta, reached_ids, pages)
    });
    (records, s)
}

/// Salvage from the tree's records, the leaf pages it reaches (sorted) and every leaf page of
/// the file ([`scan::leaf_pages`]).
fn salvage_pages<'a>(
    snap: &'a Snapshot,
    records: &Records<'a>,
    meta: &MetaInfo,
    reached_ids: Vec<Pgid>,
    pages: scan::LeafSet,
) -> Salvage<'a> {
    let db = snap.db();
    // Both in page order: one pass, no search per page.
    let mut reached = reached_ids.iter().peekable();
    let unreached_ids: Vec<Pgid> = pages
        .ids()
        .filter(|id| {
            while reached.next_if(|r| *r < id).is_some() {}
            reached.peek() != Some(&id)
        })
        .collect();
    let unreached: Vec<_> = unreached_ids
        .par_iter()
        .filter_map(|&id| {
            let view = scan::leaf_page(db, id)?;
            validate(&view, id).map(|(f, bad)| (id, view, f, bad))
        })
        .collect();
    // The key ranges the tree could not read. Without a key bucket (root bucket damaged) the
    // whole key space is one. A tree the walk read whole, every element decoded, has none:
    // each kind of hole `scan::holes` finds (unreadable, misflagged, twice-reached or too deep
    // a page, an element out of its page) is a problem the walk or the decode records, so the
    // third walk of the tree is only made on a damaged one.
    let holes = match snap.bucket(buckets::KEY).0 {
        None => vec![scan::Hole { lo: None, hi: None }],
        Some(b) if b.is_inline() || records.complete() => Vec::new(),
        Some(b) => scan::holes(db, b.root_page()),
    };
    let key_leaf_pages = reached_ids.len() + unreached.iter().filter(|u| !u.3).count();
    let mut s = Salvage {
        pages_scanned: scan::scanned_pages(db),
        key_leaf_pages,
        reached_pages: reached_ids.len(),
        recovered_pages: Vec::new(),
        recovered: Vec::new(),
        history_pages: Vec::new(),
        history: Vec::new(),
        uncertain: Vec::new(),
        conflicts: Vec::new(),
        mixed_pages: Vec::new(),
        merged_live: None,
        tree_live: records.live_count(),
    };
    // `records.all` is in bucket order, which is revision order: a binary search, no set.
    let in_tree = |k: &(i64, i64)| {
        records
            .all
            .binary_search_by(|r| (r.rev.main, r.rev.sub).cmp(k))
            .is_ok()
    };
    let mut hole_pages: Vec<(Pgid, Vec<Found<'a>>)> = Vec::new();
    for (id, view, found, bad) in unreached {
        if bad {
            // Not all elements are key-bucket records: another bucket's page, or damaged.
            s.mixed_pages.push(id);
            continue;
        }
        let key = |i: usize| view.element(i).ok().map(|e| e.key);
        let (first, last) = (key(0), key(found.len().saturating_sub(1)));
        let in_hole = match (first, last) {
            (Some(f), Some(l)) => holes.iter().any(|h| h.holds(f, l)),
            _ => false,
        };
        if !in_hole {
            s.history_pages.push(id);
            s.history.extend(
                found
                    .into_iter()
                    .filter(|f| !in_tree(&(f.rev.main, f.rev.sub))),
            );
            continue;
        }
        s.recovered_pages.push(id);
        hole_pages.push((id, found));
    }
    let compact = meta.finished_compact_revision.unwrap_or(-1);
    let uncertain = uncertain_in_holes(&hole_pages, compact);
    let mut candidates: BTreeMap<(i64, i64), Found<'a>> = BTreeMap::new();
    for (_, found) in hole_pages {
        for f in found {
            let k = (f.rev.main, f.rev.sub);
            if in_tree(&k) {
                continue;
            }
            if uncertain.contains(&k) {
                s.uncertain.push(f);
                continue;
            }
            match candidates.get(&k) {
                Some(prev) if prev.kv != f.kv => s.conflicts.push((f.rev, f.page)),
                Some(_) => {}
                None => {
                    candidates.insert(k, f);
                }
            }
        }
    }
    if candidates.is_empty() {
        // Nothing recovered: the live view is the tree's (`merged_live` stays `None`).
        tidy(&mut s.history);
        tidy(&mut s.uncertain);
        return s;
    }
    // Merge: tree records and candidates, by key then revision.
    let mut merged: Vec<LiveRecord<'a>> = records
        .all
        .iter()
        .map(|r| LiveRecord {
            rev: r.rev,
            kv: r.kv,
            salvaged_from: None,
        })
        .chain(candidates.values().map(|f| LiveRecord {
            rev: f.rev,
            kv: f.kv,
            salvaged_from: Some(f.page),
        }))
        .collect();
    merged.par_sort_unstable_by(|a, b| a.kv.key.cmp(b.kv.key).then(a.rev.cmp(&b.rev)));
    let mut live = Vec::new();
    let mut i = 0;
    while i < merged.len() {
        let key = merged[i].kv.key;
        let mut j = i;
        while j < merged.len() && merged[j].kv.key == key {
            j += 1;
        }
        let group = &merged[i..j];
        // Newest at or below the compaction survives it; older salvaged ones are history.
        let newest_compacted = group.iter().rposition(|r| r.rev.main <= compact);
        for (n, r) in group.iter().enumerate() {
            let dropped = newest_compacted.is_some_and(|nc| n < nc);
            if let (true, Some(page)) = (dropped, r.salvaged_from) {
                s.history.push(Found {
                    rev: r.rev,
                    kv: r.kv,
                    page,
                });
            } else if let Some(page) = r.salvaged_from {
                s.recovered.push(Found {
                    rev: r.rev,
                    kv: r.kv,
                    page,
                });
            }
        }
        // The newest revision of a key always survives the compaction rule.
        if let Some(last) = group.last().filter(|l| !l.rev.tombstone) {
            live.push(*last);
        }
        i = j;
    }
    s.merged_live = Some(live);
    s.recovered.sort_unstable_by_key(|f| f.rev);
    tidy(&mut s.uncertain);
    tidy(&mut s.history);
    s
}

/// Revision order, one entry per revision and content (the lowest page kept).
fn tidy(found: &mut Vec<Found<'_>>) {
    found.sort_unstable_by(|a, b| a.rev.cmp(&b.rev).then(a.page.cmp(&b.page)));
    found.dedup_by(|a, b| a.rev == b.rev && a.kv == b.kv);
}

/// Revisions at or below the compaction on hole pages that another hole page overlapping theirs
/// lacks. Records leave the `key` bucket only through compaction and are only added above every
/// existing revision, so two overlapping leaves are two versions of one leaf, and a record one
/// holds and the other lacks was either appended after the older was written or compacted away
/// before the newer was: a page carries no txid to tell which. Such records are reported as
/// uncertain, never as live data.
fn uncertain_in_holes(pages: &[(Pgid, Vec<Found<'_>>)], compact: i64) -> HashSet<(i64, i64)> {
    // Per page: first and last revision, and its revisions sorted.
    type Span = (Revision, Revision, Vec<(i64, i64)>);
    let spans: Vec<Span> = pages
        .iter()
        .filter_map(|(_, f)| {
            let mut revs: Vec<(i64, i64)> = f.iter().map(|x| (x.rev.main, x.rev.sub)).collect();
            revs.sort_unstable();
            Some((f.first()?.rev, f.last()?.rev, revs))
        })
        .collect();
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_unstable_by_key(|&i| spans[i].0);
    let mut out = HashSet::new();
    for (pi, (lo, hi, revs)) in spans.iter().enumerate() {
        if revs.first().is_none_or(|r| r.0 > compact) {
            continue;
        }
        // Pages starting at or before this one ends, and ending at or after it starts, overlap.
        let end = order.partition_point(|&i| spans[i].0 <= *hi);
        for &q in &order[..end] {
            if q == pi || spans[q].1 < *lo {
                continue;
            }
            for k in revs.iter().filter(|k| k.0 <= compact) {
                if spans[q].2.binary_search(k).is_err() {
                    out.insert(*k);
                }
            }
        }
    }
    out
}
