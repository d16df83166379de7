//! Depth-first walk of one bucket's B+tree, in key order, that never follows a page twice.
//!
//! Shared by reading (collect a bucket's leaves, then decode them in parallel) and by the
//! integrity check (which shares one visited set across all buckets to find pages reached twice).

use super::db::Db;
use super::error::{Problem, ProblemKind};
use super::page::{BranchPage, LeafPage, PageKind, Pgid};

/// No real bbolt tree is this deep (a 4 KiB page holds ≥ 2 branch elements, so 64 levels would
/// address 2^64 pages). Deeper means corrupt links; the subtree is skipped.
pub(crate) const MAX_DEPTH: usize = 64;

/// Pages already reached, one bit each, sized by what the file can hold.
pub(crate) struct Visited {
    bits: Vec<u64>,
}

impl Visited {
    pub(crate) fn new(pages: u64) -> Visited {
        Visited {
            bits: vec![0; (pages as usize).div_ceil(64)],
        }
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
    // An explicit stack keeps a hostile depth from overflowing the call stack. Children are pushed
    // in reverse so they pop in key order.
    let mut stack: Vec<(Pgid, usize)> = vec![(root, 0)];
    while let Some((id, depth)) = stack.pop() {
        let problem = |kind| Problem {
            page: Some(id),
            bucket: bucket.to_string(),
            kind,
        };
        if depth > MAX_DEPTH {
            problems.push(problem(ProblemKind::TooDeep { depth: MAX_DEPTH }));
            continue;
        }
        let page = match db.page(id) {
            Ok(p) => p,
            Err(kind) => {
                problems.push(problem(kind));
                continue;
            }
        };
        let mut twice = false;
        for i in 0..=u64::from(page.overflow()) {
            twice |= visited.mark(id + i);
        }
        if twice {
            problems.push(problem(ProblemKind::ReferencedTwice));
            continue;
        }
        match page.kind() {
            PageKind::Leaf => match LeafPage::new(page) {
                Ok(view) if view.is_empty() && depth > 0 => {
                    problems.push(problem(ProblemKind::EmptyPage))
                }
                Ok(view) => on_leaf(Leaf {
                    page: id,
                    inline: false,
                    view,
                }),
                Err(e) => problems.push(problem(ProblemKind::ElementOutOfPage {
                    index: e.index,
                    detail: e.detail,
                })),
            },
            PageKind::Branch => {
                let branch = match BranchPage::new(page) {
                    Ok(b) if b.is_empty() => {
                        problems.push(problem(ProblemKind::EmptyPage));
                        continue;
                    }
                    Ok(b) => b,
                    Err(e) => {
                        problems.push(problem(ProblemKind::ElementOutOfPage {
                            index: e.index,
                            detail: e.detail,
                        }));
                        continue;
                    }
                };
                let mut prev: Option<&[u8]> = None;
                let mut children = Vec::with_capacity(branch.len());
                for i in 0..branch.len() {
                    match branch.element(i) {
                        Ok(e) => {
                            if prev.is_some_and(|p| p >= e.key) {
                                problems.push(problem(ProblemKind::KeysOutOfOrder { index: i }));
                            }
                            prev = Some(e.key);
                            children.push(e.child);
                        }
                        Err(e) => problems.push(problem(ProblemKind::ElementOutOfPage {
                            index: e.index,
                            detail: e.detail,
                        })),
                    }
                }
                stack.extend(children.into_iter().rev().map(|c| (c, depth + 1)));
            }
            _ => problems.push(problem(ProblemKind::InvalidType {
                flags: page.flags(),
                expected: "branch or leaf",
            })),
        }
    }
}
