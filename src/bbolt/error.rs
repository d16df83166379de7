//! Errors that stop the file from being opened, and problems found while reading it.

use super::page::Pgid;
use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

/// The file cannot be used at all.
#[derive(Debug, Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("file is {size} bytes, too small to hold bbolt meta pages")]
    TooSmall { size: u64 },
    #[error("no valid meta page: meta 0: {meta0}; meta 1: {meta1}")]
    NoValidMeta { meta0: String, meta1: String },
}

/// Something wrong at one place in the file. The reader skips what it cannot read and carries on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The page the problem is on (for inline buckets: the page holding the bucket's value).
    pub page: Option<Pgid>,
    /// The bucket path, `/`-separated (`key`, `outer/inner`), empty for the top level.
    pub bucket: String,
    pub kind: ProblemKind,
}

/// What kind of damage a [`Problem`] is. The wording follows bbolt's tx_check.go where it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// A page id at or past the high-water mark, or past the end of the file.
    OutOfBounds { hwm: Pgid, file_pages: u64 },
    /// A page's header says another id than the one it was reached by.
    IdMismatch { stored: Pgid },
    /// Wrong page type for where it was reached (e.g. a freelist page under a branch).
    InvalidType { flags: u16, expected: &'static str },
    /// A page reached twice (a cycle, or two parents sharing a child). Not followed again.
    ReferencedTwice,
    /// A page whose element table or an element's key/value runs outside the page.
    ElementOutOfPage { index: usize, detail: String },
    /// Keys not in strictly ascending order at element `index`.
    KeysOutOfOrder { index: usize },
    /// A branch or leaf page with no elements.
    EmptyPage,
    /// Nesting deeper than any real B+tree reaches: assumed corrupt.
    TooDeep { depth: usize },
    /// A sub-bucket value too short to hold its header, or an inline page that is malformed.
    BadBucketValue { key: String, detail: String },
    /// A page both reachable from the tree and listed free.
    ReachableFreed,
    /// A page below the hwm neither reachable nor free (only when the freelist is persisted).
    UnreachableUnfreed,
    /// A page listed free twice in the freelist.
    FreedTwice,
    /// The meta points at a freelist page that cannot be read: bbolt would fail or panic loading
    /// it, so no free-page accounting is possible.
    FreelistUnreadable { detail: String },
    /// bbolt ≥ 1.3.7 key-range rule (tx_check.go `verifyKeyOrder`): element `index` of this
    /// branch or leaf page has a key below the bound its parent's branch element gives
    /// (`parent` page, key `bound`, hex).
    KeyBelowAncestor {
        index: usize,
        leaf: bool,
        key: String,
        parent: Option<Pgid>,
        bound: String,
    },
    /// bbolt ≥ 1.3.7: a key not above the previous one (within a leaf; for a branch element, the
    /// previous child's largest key). `equal` is bbolt's "(found =)".
    KeyNotAbovePrevious {
        index: usize,
        leaf: bool,
        key: String,
        previous: String,
        equal: bool,
    },
    /// bbolt ≥ 1.3.7: a key at or above the next branch element's key in the `parent` page,
    /// which bounds this subtree from above.
    KeyNotBelowNext {
        index: usize,
        leaf: bool,
        key: String,
        parent: Option<Pgid>,
        bound: String,
    },
    /// Problems past [`MAX_PROBLEMS`], counted, not listed.
    Omitted { count: u64 },
}

impl ProblemKind {
    /// Problems only bbolt 1.3.7 and later report (etcd 3.5.8+, 3.6): etcdctl 3.4 and etcdutl
    /// ≤ 3.5.7 (bbolt 1.3.6) accept such a file.
    pub fn since_bbolt_1_3_7(&self) -> bool {
        matches!(
            self,
            ProblemKind::KeyBelowAncestor { .. }
                | ProblemKind::KeyNotAbovePrevious { .. }
                | ProblemKind::KeyNotBelowNext { .. }
        )
    }
}

fn page_type(leaf: bool) -> &'static str {
    if leaf {
        "leaf"
    } else {
        "branch"
    }
}

fn parent_page(parent: &Option<Pgid>) -> String {
    match parent {
        Some(p) => format!("branch page {p}"),
        None => "its parent".into(),
    }
}

/// The most problems one walk or check keeps with their details. A crafted 105 MB file holds
/// 6.5 M broken elements; keeping each as a `Problem` took gigabytes. Past this they are
/// counted in one [`ProblemKind::Omitted`] entry, so nothing is dropped silently.
pub const MAX_PROBLEMS: usize = 10_000;

/// Adding problems to a list, capped at [`MAX_PROBLEMS`].
pub trait Problems {
    /// Adds `p`, or counts it once the list is full.
    fn note(&mut self, p: Problem);
    /// Adds each of `ps`, merging their `Omitted` counts.
    fn note_all(&mut self, ps: Vec<Problem>);
}

impl Problems for Vec<Problem> {
    fn note(&mut self, p: Problem) {
        if let ProblemKind::Omitted { count } = p.kind {
            return omit(self, count);
        }
        if self.len() < MAX_PROBLEMS {
            self.push(p);
        } else {
            omit(self, 1);
        }
    }
    fn note_all(&mut self, ps: Vec<Problem>) {
        for p in ps {
            self.note(p);
        }
    }
}

fn omit(list: &mut Vec<Problem>, n: u64) {
    if let Some(Problem {
        kind: ProblemKind::Omitted { count },
        ..
    }) = list
        .iter_mut()
        .rev()
        .find(|p| matches!(p.kind, ProblemKind::Omitted { .. }))
    {
        *count += n;
        return;
    }
    list.push(Problem {
        page: None,
        bucket: String::new(),
        kind: ProblemKind::Omitted { count: n },
    });
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.page {
            Some(p) => write!(f, "page {p}")?,
            None => write!(f, "file")?,
        }
        if !self.bucket.is_empty() {
            // Bucket names are file bytes: escaped.
            write!(f, " (bucket {})", crate::sanitize::text(&self.bucket))?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ProblemKind::*;
        match self {
            OutOfBounds { hwm, file_pages } => {
                write!(
                    f,
                    "out of bounds (high-water mark {hwm}, file holds {file_pages} pages)"
                )
            }
            IdMismatch { stored } => write!(f, "page header says id {stored}"),
            InvalidType { flags, expected } => {
                write!(f, "invalid page type {flags:#06x}, expected {expected}")
            }
            ReferencedTwice => write!(
                f,
                "multiple references (cycle or shared child); not followed again"
            ),
            ElementOutOfPage { index, detail } => write!(f, "element {index} {detail}"),
            KeysOutOfOrder { index } => write!(f, "keys out of order at element {index}"),
            EmptyPage => write!(f, "page has no elements"),
            TooDeep { depth } => write!(f, "tree deeper than {depth} levels; subtree skipped"),
            BadBucketValue { key, detail } => write!(f, "sub-bucket {key:?}: {detail}"),
            ReachableFreed => write!(f, "reachable freed"),
            UnreachableUnfreed => write!(f, "unreachable unfreed"),
            FreedTwice => write!(f, "already freed"),
            FreelistUnreadable { detail } => write!(
                f,
                "freelist persisted but unreadable ({detail}); free pages not checked"
            ),
            KeyBelowAncestor {
                index,
                leaf,
                key,
                parent,
                bound,
            } => write!(
                f,
                "{} key[{index}]=(hex){key} is below the key (hex){bound} of its element in {}",
                page_type(*leaf),
                parent_page(parent)
            ),
            KeyNotAbovePrevious {
                index,
                leaf,
                key,
                previous,
                equal,
            } => write!(
                f,
                "{} key[{index}]=(hex){key} is {} the previous key (hex){previous}",
                page_type(*leaf),
                if *equal { "equal to" } else { "below" }
            ),
            KeyNotBelowNext {
                index,
                leaf,
                key,
                parent,
                bound,
            } => write!(
                f,
                "{} key[{index}]=(hex){key} is not below the next element's key (hex){bound} in {}",
                page_type(*leaf),
                parent_page(parent)
            ),
            Omitted { count } => write!(
                f,
                "{count} more problem(s) not listed (only the first {MAX_PROBLEMS} are kept)"
            ),
        }
    }
}
