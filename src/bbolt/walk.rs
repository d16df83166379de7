//! Depth-first walk of one bucket's B+tree, in key order, that never follows a page twice.
//!
//! Shared by reading (collect a bucket's leaves, then decode them in parallel) and by the
//! integrity check (which shares one visited set across all buckets to find pages reached twice).

use super::db::Db;
use super::error::{Problem, ProblemKind, Problems};
use super::page::{BranchPage, ElementError, LeafElement, LeafPage, PageKind, Pgid};
use super::prefetch;
use std::collections::HashSet;

/// No real bbolt tree is this deep (a 4 KiB page holds ≥ 2 branch elements, so 64 levels would
/// address 2^64 pages). Deeper means corrupt links; the subtree is skipped.
pub(crate) const MAX_DEPTH: usize = 64;

/// Pages already reached, one bit each, sized by what the file can hold; and inline buckets
/// already reached, by the address of their bytes in the map. An inline bucket lives inside its
/// parent's value, so two elements pointing at one value share it without sharing a page: 40
/// levels of that made 2^40 buckets out of 2.6 KB (#18).
pub(crate) struct Visited {
    bits: Vec<u64>,
    inline: HashSet<usize>,
}

impl Visited {
    pub(crate) fn new(pages: u64) -> Visited {
        Visited {
            bits: vec![0; (pages as usize).div_ceil(64)],
            inline: HashSet::new(),
        }
    }
    /// Marks the inline bucket whose bytes start at `addr`; returns true if it was already
    /// marked.
    pub(crate) fn mark_inline(&mut self, addr: usize) -> bool {
        !self.inline.insert(addr)
    }
    /// Marks `id`; returns true if it was already marked. Ids out of range count as unmarked.
    pub(crate) fn mark(&mut self, id: Pgid) -> bool {
        let (w, b) = ((id / 64) as usize, id % 64);
        match self.bits.get_mut(w) {
            Some(word) => {
                let was = *word & (1 << b) != 0;
                *word |= 1 << b;
                was
            }
            None => false,
        }
    }
    pub(crate) fn is_marked(&self, id: Pgid) -> bool {
        self.bits
            .get((id / 64) as usize)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }
}

/// A leaf reached by a walk: the page it lives on and a view of its elements. For an inline
/// bucket, `page` is the page holding the bucket's value and `inline` is true.
#[derive(Clone, Copy, Debug)]
pub struct Leaf<'a> {
    pub page: Pgid,
    pub inline: bool,
    pub view: LeafPage<'a>,
}

impl<'a> Leaf<'a> {
    /// The leaf's elements in page order, each read at most once: an element whose key and value
    /// bytes overlap another's is an error (bbolt's node.write lays each element's key and
    /// value after the previous one, so real files never share bytes). Without this, 65,535
    /// elements pointing at one 1 MB value cost 65 GB of reading and hashing (#18).
    ///
    /// Cost: one pass over the element table; only a page whose elements are not laid out in
    /// order pays a sort (k log k, k ≤ 65,535).
    pub fn elements(&self) -> Elements<'a> {
        let view = self.view;
        let mut ordered = true;
        let mut end = 0usize;
        for e in view.elements().flatten() {
            let (start, stop) = span(&e);
            if start == stop {
                continue;
            }
            if start < end {
                ordered = false;
                break;
            }
            end = stop;
        }
        let owner = (!ordered).then(|| overlap_owners(&view));
        Elements {
            view,
            next: 0,
            owner,
        }
    }
}

/// Iterates `leaves` in order, asking for the first line of the leaf [`prefetch::AHEAD`] places
/// ahead, so loops that read every leaf of a mapped file (status hash, record decode, integrity
/// check) overlap the wait for each page instead of paying it in turn.
pub fn prefetched<'s, 'a>(leaves: &'s [Leaf<'a>]) -> impl Iterator<Item = &'s Leaf<'a>> + 's {
    leaves.iter().enumerate().map(move |(i, leaf)| {
        if let Some(next) = leaves.get(i + prefetch::AHEAD) {
            prefetch::prefetch(next.view.bytes(), 0);
        }
        leaf
    })
}

/// Iterates `leaves` in order for loops that read every key and value of each leaf (hashing):
/// before handing out a leaf it reads the previous one's free tail ([`prefetch::touch_tail`]
/// says why), so the whole run of pages is read as one stream.
pub fn streamed<'s, 'a>(leaves: &'s [Leaf<'a>]) -> impl Iterator<Item = &'s Leaf<'a>> + 's {
    leaves.iter().enumerate().map(move |(i, leaf)| {
        if let Some(prev) = i.checked_sub(1).and_then(|p| leaves.get(p)) {
            prefetch::touch_tail(&prev.view);
        }
        leaf
    })
}

/// The address range of an element's key and value (the value follows the key).
fn span(e: &LeafElement<'_>) -> (usize, usize) {
    let start = e.key.as_ptr() as usize;
    (start, start + e.key.len() + e.value.len())
}

/// For each element, the index of an earlier-placed element its bytes overlap, if any. Elements
/// are ordered by start address (ties by index); one whose span starts before the furthest end
/// seen so far overlaps the element that reached that end.
fn overlap_owners(view: &LeafPage<'_>) -> Vec<Option<u32>> {
    let mut spans: Vec<(usize, usize, u32)> = view
        .elements()
        .enumerate()
        .filter_map(|(i, e)| e.ok().map(|e| (span(&e), i as u32)))
        .filter(|((a, b), _)| a != b)
        .map(|((a, b), i)| (a, b, i))
        .collect();
    spans.sort_unstable();
    let mut owner = vec![None; view.len()];
    let mut reach: Option<(usize, u32)> = None;
    for (start, end, i) in spans {
        match reach {
            Some((far, j)) if start < far => {
                owner[i as usize] = Some(j);
                if end > far {
                    reach = Some((end, j));
                }
            }
            _ => reach = Some((end, i)),
        }
    }
    owner
}

/// Iterator of [`Leaf::elements`].
pub struct Elements<'a> {
    view: LeafPage<'a>,
    next: usize,
    owner: Option<Vec<Option<u32>>>,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<LeafElement<'a>, ElementError>;
    fn next(&mut self) -> Option<Self::Item> {
        let i = self.next;
        if i >= self.view.len() {
            return None;
        }
        self.next += 1;
        if let Some(j) = self
            .owner
            .as_ref()
            .and_then(|o| o.get(i).copied().flatten())
        {
            return Some(Err(ElementError {
                index: i,
                detail: format!(
                    "key and value overlap the bytes of element {j} (bbolt never shares them); \
                     not read twice"
                ),
            }));
        }
        Some(self.view.element(i))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.view.len() - self.next;
        (n, Some(n))
    }
}

/// The key range a page's keys must lie in, from its ancestors' branch elements (bbolt
/// tx_check.go `recursivelyCheckPageKeyOrderInternal`): at or above the element pointing at it
/// (closed), below the next element's key at the nearest level that has one (open). `None`:
/// unbounded.
pub(crate) type Bounds<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// Walks the tree rooted at `root`, calling `on_leaf` for each leaf in key order. Problems are
/// pushed with `bucket` as their path; the damaged subtree is skipped and the walk goes on.
pub(crate) fn walk_tree<'a>(
    db: &'a Db,
    root: Pgid,
    bucket: &str,
    visited: &mut Visited,
    problems: &mut Vec<Problem>,
    on_leaf: &mut dyn FnMut(Leaf<'a>),
) {
    walk_tree_bounded(
        db,
        root,
        bucket,
        visited,
        problems,
        &mut |_, _| {},
        &mut |leaf, _| on_leaf(leaf),
    )
}

/// [`walk_tree`], also giving each page the key range its ancestors allow: `on_branch` gets
/// each branch page's element keys (unreadable elements left out) with its bounds, `on_leaf`
/// each leaf with its bounds. The bounds cost nothing extra: the walk reads branch keys anyway.
pub(crate) fn walk_tree_bounded<'a>(
    db: &'a Db,
    root: Pgid,
    bucket: &str,
    visited: &mut Visited,
    problems: &mut Vec<Problem>,
    on_branch: &mut dyn FnMut(&[&'a [u8]], Bounds<'a>),
    on_leaf: &mut dyn FnMut(Leaf<'a>, Bounds<'a>),
) {
    // An explicit stack keeps a hostile depth from overflowing the call stack. Children are pushed
    // in reverse so they pop in key order.
    let mut stack: Vec<(Pgid, usize, Bounds<'a>)> = vec![(root, 0, (None, None))];
    let mut keys: Vec<&'a [u8]> = Vec::new();
    while let Some((id, depth, bounds)) = stack.pop() {
        // Leaves pop in stack order: ask for the header of the one AHEAD pops from now.
        if let Some(&(next, _, _)) = stack
            .len()
            .checked_sub(prefetch::AHEAD)
            .and_then(|i| stack.get(i))
        {
            db.prefetch_page(next);
        }
        let problem = |kind| Problem {
            page: Some(id),
            bucket: bucket.to_string(),
            kind,
        };
        if depth > MAX_DEPTH {
            problems.note(problem(ProblemKind::TooDeep { depth: MAX_DEPTH }));
            continue;
        }
        let page = match db.page(id) {
            Ok(p) => p,
            Err(kind) => {
                problems.note(problem(kind));
                continue;
            }
        };
        let mut twice = false;
        for i in 0..=u64::from(page.overflow()) {
            twice |= visited.mark(id + i);
        }
        if twice {
            problems.note(problem(ProblemKind::ReferencedTwice));
            continue;
        }
        match page.kind() {
            PageKind::Leaf => match LeafPage::new(page) {
                Ok(view) if view.is_empty() && depth > 0 => {
                    problems.note(problem(ProblemKind::EmptyPage))
                }
                Ok(view) => on_leaf(
                    Leaf {
                        page: id,
                        inline: false,
                        view,
                    },
                    bounds,
                ),
                Err(e) => problems.note(problem(ProblemKind::ElementOutOfPage {
                    index: e.index,
                    detail: e.detail,
                })),
            },
            PageKind::Branch => {
                let branch = match BranchPage::new(page) {
                    Ok(b) if b.is_empty() => {
                        problems.note(problem(ProblemKind::EmptyPage));
                        continue;
                    }
                    Ok(b) => b,
                    Err(e) => {
                        problems.note(problem(ProblemKind::ElementOutOfPage {
                            index: e.index,
                            detail: e.detail,
                        }));
                        continue;
                    }
                };
                let mut prev: Option<&[u8]> = None;
                let mut children = Vec::with_capacity(branch.len());
                keys.clear();
                for i in 0..branch.len() {
                    match branch.element(i) {
                        Ok(e) => {
                            if prev.is_some_and(|p| p >= e.key) {
                                problems.note(problem(ProblemKind::KeysOutOfOrder { index: i }));
                            }
                            prev = Some(e.key);
                            children.push((e.child, Some(e.key)));
                            keys.push(e.key);
                        }
                        Err(e) => {
                            problems.note(problem(ProblemKind::ElementOutOfPage {
                                index: e.index,
                                detail: e.detail,
                            }));
                            // bbolt's key-order check bounds the previous child by nothing here.
                            children.push((0, None));
                        }
                    }
                }
                on_branch(&keys, bounds);
                // The pops AHEAD from now are prefetched as they come; the first ones now.
                for &(c, _) in children
                    .iter()
                    .filter(|c| c.1.is_some())
                    .take(prefetch::AHEAD)
                {
                    db.prefetch_page(c);
                }
                // Child i: from its own key up to the next element's key (none when that element
                // is unreadable), or up to this page's bound after the last one.
                let mut upper = bounds.1;
                for &(c, key) in children.iter().rev() {
                    if key.is_some() {
                        stack.push((c, depth + 1, (key, upper)));
                    }
                    upper = key;
                }
            }
            _ => problems.note(problem(ProblemKind::InvalidType {
                flags: page.flags(),
                expected: "branch or leaf",
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bbolt::page::tests::leaf_bytes;
    use crate::bbolt::page::{Page, ELEMENT_SIZE, PAGE_HEADER_SIZE};

    fn leaf(b: &[u8]) -> Leaf<'_> {
        Leaf {
            page: 3,
            inline: false,
            view: LeafPage::new(Page::new(b).unwrap()).unwrap(),
        }
    }

    #[test]
    fn elements_laid_out_by_bbolt_are_all_read() {
        let b = leaf_bytes(3, &[(0, b"a", b"1"), (0, b"b", b"22"), (0, b"c", b"")], 256);
        let got: Vec<_> = leaf(&b).elements().map(|e| e.map(|e| e.key)).collect();
        assert_eq!(got, [Ok(&b"a"[..]), Ok(&b"b"[..]), Ok(&b"c"[..])]);
    }

    #[test]
    fn an_element_sharing_bytes_is_reported_not_read_again() {
        let mut b = leaf_bytes(
            3,
            &[(0, b"a", b"1"), (0, b"b", b"22"), (0, b"c", b"3")],
            256,
        );
        // Point element 2 at element 0's key and value (pos is relative to the element).
        let (e0, e2) = (PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + 2 * ELEMENT_SIZE);
        let pos0 = u32::from_le_bytes(b[e0 + 4..e0 + 8].try_into().unwrap()) as usize;
        let target = e0 + pos0;
        b[e2 + 4..e2 + 8].copy_from_slice(&((target - e2) as u32).to_le_bytes());
        let got: Vec<_> = leaf(&b).elements().collect();
        assert!(got[0].is_ok() && got[1].is_ok());
        let e = got[2].as_ref().unwrap_err();
        assert_eq!(e.index, 2);
        assert!(
            e.detail.contains("overlap the bytes of element 0"),
            "{}",
            e.detail
        );
    }
}
