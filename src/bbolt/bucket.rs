//! Buckets: the top-level bucket tree under `meta.root`, and sub-buckets, stored either as their
//! own page tree or inline in the parent's leaf value (bucket.go: `InBucket` header
//! `root u64, sequence u64`; `root == 0` means the rest of the value is a fake leaf page).

use super::bytes::u64_at;
use super::db::Db;
use super::error::{Problem, ProblemKind, Problems};
use super::page::{LeafElement, LeafPage, Page, PageKind, Pgid};
pub use super::walk::Leaf;
use super::walk::{walk_tree, walk_tree_bounded, Bounds, Visited};

/// Size of the bucket header at the start of a sub-bucket's value.
pub const BUCKET_HEADER_SIZE: usize = 16;

#[derive(Clone, Copy, Debug)]
enum Root<'a> {
    Tree(Pgid),
    /// An inline bucket, with the address of its bytes in the map (to visit it once).
    Inline(Leaf<'a>, usize),
}

/// A bucket: a B+tree of keys and values, or an inline leaf.
#[derive(Clone, Debug)]
pub struct Bucket<'a> {
    db: &'a Db,
    root: Root<'a>,
    /// The bucket's sequence counter (`NextSequence`).
    pub sequence: u64,
    /// The bucket's path from the top level, `/`-separated; empty for the top level.
    pub path: String,
}

impl Db {
    /// The top-level bucket tree: its keys are bucket names.
    pub fn root_bucket(&self) -> Bucket<'_> {
        Bucket {
            db: self,
            root: Root::Tree(self.meta().root),
            sequence: self.meta().root_sequence,
            path: String::new(),
        }
    }
}

impl<'a> Bucket<'a> {
    /// Opens the sub-bucket stored at leaf element `elem` (found on page `page`) of this bucket.
    pub fn sub_bucket(&self, page: Pgid, elem: &LeafElement<'a>) -> Result<Bucket<'a>, Problem> {
        let name = String::from_utf8_lossy(elem.key).into_owned();
        let path = if self.path.is_empty() {
            name.clone()
        } else {
            format!("{}/{name}", self.path)
        };
        let bad = |detail: String| Problem {
            page: Some(page),
            bucket: self.path.clone(),
            kind: ProblemKind::BadBucketValue {
                key: name.clone(),
                detail,
            },
        };
        let v = elem.value;
        let (Some(root), Some(sequence)) = (u64_at(v, 0), u64_at(v, 8)) else {
            return Err(bad(format!(
                "value of {} bytes is shorter than the 16-byte bucket header",
                v.len()
            )));
        };
        if root != 0 {
            return Ok(Bucket {
                db: self.db,
                root: Root::Tree(root),
                sequence,
                path,
            });
        }
        let inline = &v[BUCKET_HEADER_SIZE..];
        let Some(p) = Page::new(inline) else {
            return Err(bad("inline bucket shorter than a page header".into()));
        };
        if p.kind() != PageKind::Leaf {
            return Err(bad(format!(
                "inline page has flags {:#06x}, expected leaf",
                p.flags()
            )));
        }
        let view = LeafPage::new(p)
            .map_err(|e| bad(format!("inline page: element {}: {}", e.index, e.detail)))?;
        Ok(Bucket {
            db: self.db,
            root: Root::Inline(
                Leaf {
                    page,
                    inline: true,
                    view,
                },
                inline.as_ptr() as usize,
            ),
            sequence,
            path,
        })
    }

    /// True for an inline bucket.
    pub fn is_inline(&self) -> bool {
        matches!(self.root, Root::Inline(..))
    }

    /// The bucket's root page (for inline buckets, the page holding it).
    pub fn root_page(&self) -> Pgid {
        match self.root {
            Root::Tree(p) => p,
            Root::Inline(l, _) => l.page,
        }
    }

    /// The bucket's leaves in key order, with the problems met on the way. Cheap: reads branch
    /// pages and leaf headers only, so leaves can then be decoded in parallel.
    pub fn leaves(&self) -> (Vec<Leaf<'a>>, Vec<Problem>) {
        let mut visited = Visited::new(self.db.file_pages());
        let mut problems = Vec::new();
        let leaves = self.leaves_with(&mut visited, &mut problems);
        (leaves, problems)
    }

    /// The walk of [`Bucket::leaves`], handing each leaf to `on_leaf` as it is found (in key
    /// order), so a caller can start on the first leaves while the walk goes on.
    pub fn walk_leaves(&self, on_leaf: &mut dyn FnMut(Leaf<'a>)) -> Vec<Problem> {
        let mut visited = Visited::new(self.db.file_pages());
        let mut problems = Vec::new();
        match self.root {
            Root::Inline(l, _) => on_leaf(l),
            Root::Tree(root) => walk_tree(
                self.db,
                root,
                &self.path,
                &mut visited,
                &mut problems,
                on_leaf,
            ),
        }
        problems
    }

    pub(crate) fn leaves_with(
        &self,
        visited: &mut Visited,
        problems: &mut Vec<Problem>,
    ) -> Vec<Leaf<'a>> {
        let mut out = Vec::new();
        self.walk_leaves_with(visited, problems, &mut |l| out.push(l));
        out
    }

    /// [`Bucket::leaves_with`], handing each leaf to `on_leaf` as the walk finds it.
    pub(crate) fn walk_leaves_with(
        &self,
        visited: &mut Visited,
        problems: &mut Vec<Problem>,
        on_leaf: &mut dyn FnMut(Leaf<'a>),
    ) {
        match self.root {
            Root::Inline(l, addr) => {
                if visited.mark_inline(addr) {
                    problems.note(Problem {
                        page: Some(l.page),
                        bucket: self.path.clone(),
                        kind: ProblemKind::ReferencedTwice,
                    });
                    return;
                }
                on_leaf(l)
            }
            Root::Tree(root) => walk_tree(self.db, root, &self.path, visited, problems, on_leaf),
        }
    }

    /// [`Bucket::walk_leaves_with`], with the key range each page's ancestors allow
    /// ([`walk_tree_bounded`]); an inline bucket's one leaf is unbounded and has no branches.
    pub(crate) fn walk_leaves_bounded(
        &self,
        visited: &mut Visited,
        problems: &mut Vec<Problem>,
        on_branch: &mut dyn FnMut(&[&'a [u8]], Bounds<'a>),
        on_leaf: &mut dyn FnMut(Leaf<'a>, Bounds<'a>),
    ) {
        match self.root {
            Root::Inline(..) => {
                self.walk_leaves_with(visited, problems, &mut |l| on_leaf(l, (None, None)))
            }
            Root::Tree(root) => walk_tree_bounded(
                self.db, root, &self.path, visited, problems, on_branch, on_leaf,
            ),
        }
    }

    /// Calls `f` for every element in key order. Elements that cannot be read are reported as
    /// problems and skipped.
    pub fn for_each(&self, mut f: impl FnMut(Pgid, LeafElement<'a>)) -> Vec<Problem> {
        let (leaves, mut problems) = self.leaves();
        for leaf in leaves {
            for (i, e) in leaf.elements().enumerate() {
                match e {
                    Ok(e) => f(leaf.page, e),
                    Err(e) => problems.note(Problem {
                        page: Some(leaf.page),
                        bucket: self.path.clone(),
                        kind: ProblemKind::ElementOutOfPage {
                            index: i,
                            detail: e.detail,
                        },
                    }),
                }
            }
        }
        problems
    }

    /// The named sub-buckets of this bucket, in key order.
    pub fn buckets(&self) -> (Vec<(&'a [u8], Bucket<'a>)>, Vec<Problem>) {
        let mut subs = Vec::new();
        let mut found = Vec::new();
        let mut problems = self.for_each(|page, e| {
            if e.is_bucket() {
                found.push((page, e));
            }
        });
        for (page, e) in found {
            match self.sub_bucket(page, &e) {
                Ok(b) => subs.push((e.key, b)),
                Err(p) => problems.note(p),
            }
        }
        (subs, problems)
    }

    /// The sub-bucket named `name`, if present.
    pub fn bucket(&self, name: &[u8]) -> (Option<Bucket<'a>>, Vec<Problem>) {
        let (subs, problems) = self.buckets();
        (
            subs.into_iter().find(|(n, _)| *n == name).map(|(_, b)| b),
            problems,
        )
    }
}
