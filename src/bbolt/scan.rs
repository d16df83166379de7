//! Every leaf page in the file, reachable or not: the raw material for salvage.
//!
//! bbolt never overwrites a page in place (copy-on-write, tx.go `commit` writes dirty pages to
//! freshly allocated ids), so a page freed by a later transaction keeps its old contents until it
//! is reused, and a subtree cut off by damage is still in the file. A page counts as a leaf when
//! its header carries its own id and the leaf flag (internal/common/page.go) and its element
//! table fits — exactly what [`Db::page`] and [`LeafPage::new`] check for reachable pages.

use super::db::Db;
use super::page::{LeafPage, PageKind, Pgid};

/// Pages 0 and 1 are the metas.
const FIRST_DATA_PAGE: Pgid = 2;

/// The leaf pages [`leaf_pages`] found: one bit per page id (38 KB for the 301k pages of the
/// bench file, where a list of views was 4.8 MB, twice: memory first touched is costly, most
/// of all under a hypervisor).
pub struct LeafSet {
    bits: Vec<u64>,
}

impl LeafSet {
    /// The leaf pages' ids, in page order.
    pub fn ids(&self) -> impl Iterator<Item = Pgid> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros();
                    rest &= rest - 1;
                    w as Pgid * 64 + Pgid::from(b)
                })
            })
        })
    }

    /// How many leaf pages.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }
}

/// The leaf view of page `id`, when it is one [`leaf_pages`] counts: its header carries its id
/// and the leaf flag, its element table fits, and it has elements.
pub fn leaf_page(db: &Db, id: Pgid) -> Option<LeafPage<'_>> {
    let page = db.page(id).ok()?;
    if page.kind() != PageKind::Leaf {
        return None;
    }
    LeafPage::new(page).ok().filter(|v| !v.is_empty())
}

/// Every leaf page from page 2 up to the high-water mark (and the end of the file).
/// Pages inside another page's overflow run are looked at too: their header is then value bytes,
/// which almost never carry the page's own id and the leaf flag, and callers validate every
/// element anyway.
pub fn leaf_pages(db: &Db) -> LeafSet {
    use rayon::prelude::*;
    let limit = db.meta().hwm.min(db.file_pages());
    // Each header is the first touch of its page (a cache and TLB miss: a third of salvage's CPU
    // went to that one load), so ranges go to both cores and each asks for the header a few
    // pages ahead ([`super::prefetch`]). A range is 64 words of the set.
    const RANGE: Pgid = 4096;
    let words: Vec<[u64; (RANGE / 64) as usize]> = (0..limit.div_ceil(RANGE))
        .into_par_iter()
        .map(|r| {
            let mut out = [0u64; (RANGE / 64) as usize];
            let lo = (r * RANGE).max(FIRST_DATA_PAGE);
            let hi = (r * RANGE).saturating_add(RANGE).min(limit);
            for id in lo..hi {
                db.prefetch_page(id + super::prefetch::AHEAD as Pgid);
                if leaf_page(db, id).is_some() {
                    let bit = id - r * RANGE;
                    out[(bit / 64) as usize] |= 1 << (bit % 64);
                }
            }
            out
        })
        .collect();
    LeafSet {
        bits: words.into_iter().flatten().collect(),
    }
}

/// Pages scanned by [`leaf_pages`].
pub fn scanned_pages(db: &Db) -> u64 {
    db.meta()
        .hwm
        .min(db.file_pages())
        .saturating_sub(FIRST_DATA_PAGE)
}

/// A key range of a tree whose subtree could not be read: from `lo` (None = from the start) up
/// to, not including, `hi` (None = to the end). Bounds come from the branch elements around the
/// damaged child (a branch element's key is its child's first key, internal/common/page.go).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hole<'a> {
    pub lo: Option<&'a [u8]>,
    pub hi: Option<&'a [u8]>,
}

impl Hole<'_> {
    /// True when every key from `first` to `last` lies in the hole.
    pub fn holds(&self, first: &[u8], last: &[u8]) -> bool {
        self.lo.is_none_or(|lo| lo <= first) && self.hi.is_none_or(|hi| last < hi)
    }
}

/// Depth beyond which a tree is treated as damaged (as the walker does).
const MAX_DEPTH: usize = 64;

/// The key ranges of the tree rooted at `root` that cannot be read: unreadable, misflagged or
/// twice-referenced pages, pages with unreadable elements, too deep a path. Empty for an intact
/// tree. Uses its own cycle-safe walk, so it reads branch pages and leaf element tables only.
pub fn holes(db: &Db, root: Pgid) -> Vec<Hole<'_>> {
    use super::page::BranchPage;
    let mut out = Vec::new();
    // One bit per page, as the walker marks them (a hash set of 150k ids was ~4 % of
    // `salvage`'s CPU on the bench file).
    let mut seen = super::walk::Visited::new(db.file_pages());
    // (page, hole bounds if it is unreadable, depth)
    type Pending<'a> = (Pgid, Option<&'a [u8]>, Option<&'a [u8]>, usize);
    let mut stack: Vec<Pending<'_>> = vec![(root, None, None, 0)];
    while let Some((id, lo, hi, depth)) = stack.pop() {
        let hole = Hole { lo, hi };
        let page = match db.page(id) {
            Ok(p) if depth <= MAX_DEPTH && !seen.mark(id) => p,
            _ => {
                out.push(hole);
                continue;
            }
        };
        match page.kind() {
            PageKind::Leaf => match LeafPage::new(page) {
                Ok(v) if v.elements().all(|e| e.is_ok()) => {}
                _ => out.push(hole),
            },
            PageKind::Branch => {
                let elems: Option<Vec<_>> = BranchPage::new(page)
                    .ok()
                    .and_then(|b| (0..b.len()).map(|i| b.element(i).ok()).collect());
                let Some(elems) = elems.filter(|e| !e.is_empty()) else {
                    out.push(hole);
                    continue;
                };
                for (i, e) in elems.iter().enumerate().rev() {
                    let clo = if i == 0 { lo } else { Some(e.key) };
                    let chi = elems.get(i + 1).map(|n| n.key).or(hi);
                    stack.push((e.child, clo, chi, depth + 1));
                }
            }
            _ => out.push(hole),
        }
    }
    out
}
