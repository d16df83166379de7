//! Integrity check equivalent to `bbolt check` of bbolt 1.4 (tx_check.go at v1.4.0, the rules
//! etcd 3.5.8+ and 3.6 run in `snapshot status`): every page reachable from the meta's root is
//! visited once; out-of-bounds pages, pages reached twice (cycles included), invalid page types
//! and elements outside their page are reported with page and bucket. Key order follows
//! `recursivelyCheckPageKeyOrderInternal` (bbolt ≥ 1.3.7): every key of a page lies within the
//! range its parent's branch element gives, and keys ascend. With a persisted freelist, tree
//! pages that are also free (`reachable freed`; the freelist's own pages are reachable but not
//! tree pages, so never this), pages neither reached nor free (`unreachable unfreed`) and pages
//! freed twice (`already freed`) are reported, as bbolt does.
//!
//! Unlike bbolt's check (bbolt#581) this never panics, and it keeps going past damage.

use super::bucket::Bucket;
use super::bytes::u64_at;
use super::db::Db;
use super::error::{Problem, ProblemKind, Problems};
use super::page::{
    BranchPage, LeafElement, LeafPage, PageKind, Pgid, FREELIST_PAGE_FLAG, PAGE_HEADER_SIZE,
};
use super::walk::{prefetched, Leaf, Visited, MAX_DEPTH};
use serde::Serialize;

/// Everything the check found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckReport {
    #[serde(serialize_with = "problems_as_strings")]
    pub problems: Vec<Problem>,
    /// Pages reached from the root (metas and the freelist included).
    pub reachable_pages: u64,
    /// Whether the meta points at a freelist page, and whether it could be read.
    pub freelist: FreelistState,
    /// Pages listed in the persisted freelist, when there is one and it could be read.
    pub freelist_pages: Option<u64>,
    /// Pages below the high-water mark not reached. Without a persisted freelist these are the
    /// free pages (bbolt rebuilds its freelist this way); with one, they are problems.
    pub unreachable_pages: u64,
    /// Buckets visited, nested and inline ones included.
    pub buckets: u64,
    /// Key/value pairs visited (sub-bucket entries excluded).
    pub keys: u64,
}

/// The freelist as the meta describes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FreelistState {
    /// `meta.freelist` = pgidNoFreelist: etcd's default since 3.4 (`NoFreelistSync`); bbolt
    /// rebuilds the freelist from the unreachable pages.
    #[default]
    NotPersisted,
    /// A freelist page that was read.
    Persisted,
    /// The meta points at a freelist page that cannot be read.
    Unreadable,
}

fn problems_as_strings<S: serde::Serializer>(p: &[Problem], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter().map(|p| p.to_string()))
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the whole file.
pub fn check(db: &Db) -> CheckReport {
    check_inner(db, None)
}

/// One run of leaves [`check_with`] hands its hook: up to [`HOOK_CHUNK`] consecutive leaves of
/// one bucket, in key order.
#[derive(Clone, Copy, Debug)]
pub struct BucketLeaves<'s, 'a> {
    /// The bucket's place among the buckets checked (0 = the top-level bucket tree, then in the
    /// order the check reaches them: depth first, by key), so runs can be put back in order.
    pub bucket: u64,
    /// The bucket's name in its parent (empty for the top-level tree).
    pub name: &'a [u8],
    /// 0 for the top-level tree, 1 for the buckets in it, and so on.
    pub nesting: usize,
    /// The run's place in the bucket, from 0. Every bucket reached gets a run 0, empty if the
    /// bucket has no leaves.
    pub chunk: usize,
    /// The leaves: run `chunk` holds the bucket's leaves `chunk × HOOK_CHUNK` onwards.
    pub leaves: &'s [Leaf<'a>],
}

/// Leaves per run handed to a [`check_with`] hook.
pub const HOOK_CHUNK: usize = 1024;

/// [`check`], handing every bucket's leaves to `hook` as its walk finds them, in runs of
/// [`HOOK_CHUNK`]: the runs are processed on the other cores while the walk and the rest of the
/// check go on, so a caller that must read every leaf (the status hash) needs no walk of its own.
/// Runs arrive in any order. The report is the same as [`check`]'s; on a file with problems the
/// leaves are those the check reached (a page reached twice is handed over once).
pub fn check_with<'a>(db: &'a Db, hook: &(dyn Fn(BucketLeaves<'_, 'a>) + Sync)) -> CheckReport {
    check_inner(db, Some(hook))
}

type Hook<'h, 'a> = Option<&'h (dyn Fn(BucketLeaves<'_, 'a>) + Sync)>;

fn check_inner<'a>(db: &'a Db, hook: Hook<'_, 'a>) -> CheckReport {
    let mut report = CheckReport::default();
    let mut reached = Visited::new(db.file_pages());
    reached.mark(0);
    reached.mark(1);
    let (free, freelist_run) = read_freelist(db, &mut reached, &mut report);
    // One seen-set for the key-order pass over all buckets: a page reached twice is the walk's
    // finding, and sharing keeps the pass linear in pages however many buckets there are.
    let mut order_seen = Visited::new(db.file_pages());
    check_bucket(
        db,
        &db.root_bucket(),
        b"",
        0,
        &mut reached,
        &mut order_seen,
        &mut report,
        hook,
    );

    count_pages(db, &reached, free.as_ref(), freelist_run, &mut report);
    report
}

/// The page accounting after the buckets are walked: reachable and unreachable pages below the
/// high-water mark, and against a persisted freelist `reachable freed` / `unreachable unfreed`.
pub(super) fn count_pages(
    db: &Db,
    reached: &Visited,
    free: Option<&Visited>,
    freelist_run: Option<(Pgid, Pgid)>,
    report: &mut CheckReport,
) {
    let hwm = db.meta().hwm.min(db.file_pages());
    let in_freelist_run = |id: Pgid| freelist_run.is_some_and(|(a, b)| (a..=b).contains(&id));
    for id in 2..hwm {
        let is_reached = reached.is_marked(id);
        let is_free = free.is_some_and(|f| f.is_marked(id));
        if is_reached {
            report.reachable_pages += 1;
        } else {
            report.unreachable_pages += 1;
        }
        // tx_check.go reports `reachable freed` from verifyPageReachable, which sees tree pages
        // only: the freelist's own pages are reachable without being checked against it.
        let kind = match (is_reached, is_free, free.is_some()) {
            (true, true, _) if !in_freelist_run(id) => ProblemKind::ReachableFreed,
            (false, false, true) => ProblemKind::UnreachableUnfreed,
            _ => continue,
        };
        report.problems.note(Problem {
            page: Some(id),
            bucket: String::new(),
            kind,
        });
    }
    report.reachable_pages += 2;
}

/// Reads the persisted freelist, if the meta points at one. The pointer is checked against the
/// page's flags before it is trusted: real files exist where it points at a leaf.
/// Returns the free set and the freelist's own page run (first, last).
pub(super) fn read_freelist(
    db: &Db,
    reached: &mut Visited,
    report: &mut CheckReport,
) -> (Option<Visited>, Option<(Pgid, Pgid)>) {
    let meta = db.meta();
    if !meta.freelist_persisted() {
        return (None, None);
    }
    report.freelist = FreelistState::Unreadable;
    let id = meta.freelist;
    let bad = |detail: String| Problem {
        page: Some(id),
        bucket: String::new(),
        kind: ProblemKind::FreelistUnreadable { detail },
    };
    let page = match db.page(id) {
        Ok(p) => p,
        Err(kind) => {
            report.problems.note(bad(kind.to_string()));
            return (None, None);
        }
    };
    if page.flags() != FREELIST_PAGE_FLAG {
        report.problems.note(bad(format!(
            "page type {:#06x}, not a freelist page",
            page.flags()
        )));
        return (None, None);
    }
    let run = (id, id + u64::from(page.overflow()));
    for i in 0..=u64::from(page.overflow()) {
        if reached.mark(id + i) {
            report.problems.note(Problem {
                page: Some(id + i),
                bucket: "(freelist)".into(),
                kind: ProblemKind::ReferencedTwice,
            });
        }
    }
    // count == 0xFFFF means the real count is the first u64 (freelist.go `read`).
    let b = page.bytes();
    let (count, start) = if page.count() == 0xFFFF {
        match u64_at(b, PAGE_HEADER_SIZE) {
            Some(n) => (n, PAGE_HEADER_SIZE + 8),
            None => {
                report.problems.note(bad("count word out of page".into()));
                return (None, None);
            }
        }
    } else {
        (u64::from(page.count()), PAGE_HEADER_SIZE)
    };
    let fits = count
        .checked_mul(8)
        .and_then(|n| n.checked_add(start as u64))
        .is_some_and(|end| end <= b.len() as u64);
    if !fits {
        report.problems.note(bad(format!(
            "it claims {count} ids, which do not fit in its {} bytes",
            b.len()
        )));
        return (None, None);
    }
    let mut free = Visited::new(db.file_pages());
    let mut n = 0u64;
    for i in 0..count as usize {
        let Some(pid) = u64_at(b, start + i * 8) else {
            break;
        };
        if pid < 2 || pid >= meta.hwm {
            report.problems.note(Problem {
                page: Some(pid),
                bucket: "(freelist)".into(),
                kind: ProblemKind::OutOfBounds {
                    hwm: meta.hwm,
                    file_pages: db.file_pages(),
                },
            });
            continue;
        }
        if free.mark(pid) {
            // Worded as bbolt words it (`page N: already freed`), no bucket.
            report.problems.note(Problem {
                page: Some(pid),
                bucket: String::new(),
                kind: ProblemKind::FreedTwice,
            });
        }
        n += 1;
    }
    report.freelist = FreelistState::Persisted;
    report.freelist_pages = Some(n);
    (Some(free), Some(run))
}

#[allow(clippy::too_many_arguments)]
fn check_bucket<'a>(
    db: &'a Db,
    bucket: &Bucket<'a>,
    name: &'a [u8],
    nesting: usize,
    reached: &mut Visited,
    order_seen: &mut Visited,
    report: &mut CheckReport,
    hook: Hook<'_, 'a>,
) {
    let id = report.buckets;
    report.buckets += 1;
    if nesting > MAX_DEPTH {
        report.problems.note(Problem {
            page: Some(bucket.root_page()),
            bucket: bucket.path.clone(),
            kind: ProblemKind::TooDeep { depth: MAX_DEPTH },
        });
        return;
    }
    let mut walk_problems = Vec::new();
    let subs = match hook {
        None => {
            let leaves = bucket.leaves_with(reached, &mut walk_problems);
            check_leaves(
                db,
                bucket,
                walk_problems,
                std::iter::once(&leaves[..]),
                order_seen,
                report,
            )
        }
        Some(hook) => {
            // Runs of leaves go to the hook on the other cores as the walk finds them; the rest of
            // this bucket's check runs here meanwhile. Runs are shared, not copied.
            let mut runs: Vec<std::sync::Arc<Vec<Leaf<'a>>>> = Vec::new();
            rayon::scope(|s| {
                let mut run = Vec::with_capacity(HOOK_CHUNK);
                let hand = |run: Vec<Leaf<'a>>, runs: &mut Vec<std::sync::Arc<Vec<Leaf<'a>>>>| {
                    let run = std::sync::Arc::new(run);
                    let chunk = runs.len();
                    runs.push(run.clone());
                    s.spawn(move |_| {
                        hook(BucketLeaves {
                            bucket: id,
                            name,
                            nesting,
                            chunk,
                            leaves: &run,
                        })
                    });
                };
                bucket.walk_leaves_with(reached, &mut walk_problems, &mut |l| {
                    run.push(l);
                    if run.len() == HOOK_CHUNK {
                        hand(
                            std::mem::replace(&mut run, Vec::with_capacity(HOOK_CHUNK)),
                            &mut runs,
                        );
                    }
                });
                if !run.is_empty() || runs.is_empty() {
                    hand(run, &mut runs);
                }
                check_leaves(
                    db,
                    bucket,
                    walk_problems,
                    runs.iter().map(|r| &r[..]),
                    order_seen,
                    report,
                )
            })
        }
    };
    for (page, e) in subs {
        match bucket.sub_bucket(page, &e) {
            Ok(sub) => check_bucket(
                db,
                &sub,
                e.key,
                nesting + 1,
                reached,
                order_seen,
                report,
                hook,
            ),
            Err(p) => report.problems.note(p),
        }
    }
}

/// The checks of one bucket after its walk: the walk's problems, key order, and each element of
/// `leaves` (given in runs, in key order). Returns the sub-buckets found, to check next.
fn check_leaves<'a, 'r>(
    db: &'a Db,
    bucket: &Bucket<'a>,
    walk_problems: Vec<Problem>,
    leaves: impl Iterator<Item = &'r [Leaf<'a>]>,
    order_seen: &mut Visited,
    report: &mut CheckReport,
) -> Vec<(Pgid, LeafElement<'a>)>
where
    'a: 'r,
{
    // For a tree bucket, key order is bbolt's range rule below (which covers branch order too, so
    // the walk's own branch-order findings would be duplicates). bbolt skips inline buckets
    // (`RootPage() == 0`); we still check that their keys ascend.
    let inline = bucket.is_inline();
    report.problems.extend(
        walk_problems
            .into_iter()
            .filter(|p| inline || !matches!(p.kind, ProblemKind::KeysOutOfOrder { .. })),
    );
    if !inline {
        let mut order = KeyOrder {
            db,
            bucket: &bucket.path,
            seen: order_seen,
            stack: Vec::new(),
            problems: &mut report.problems,
        };
        order.check(bucket.root_page(), None, None);
    }
    let mut prev: Option<&[u8]> = None;
    let mut subs: Vec<(Pgid, LeafElement<'a>)> = Vec::new();
    for run in leaves {
        for leaf in prefetched(run) {
            for (i, e) in leaf.view.elements().enumerate() {
                let problem = |kind| Problem {
                    page: Some(leaf.page),
                    bucket: bucket.path.clone(),
                    kind,
                };
                let e = match e {
                    Ok(e) => e,
                    Err(e) => {
                        report.problems.note(problem(ProblemKind::ElementOutOfPage {
                            index: i,
                            detail: e.detail,
                        }));
                        continue;
                    }
                };
                if inline && prev.is_some_and(|p| p >= e.key) {
                    report
                        .problems
                        .note(problem(ProblemKind::KeysOutOfOrder { index: i }));
                }
                prev = Some(e.key);
                if e.is_bucket() {
                    subs.push((leaf.page, e));
                } else {
                    report.keys += 1;
                }
            }
        }
    }
    subs
}

/// Keys shown in problems: hex, as bbolt's `HexKVStringer`, cut at 64 bytes so a hostile key
/// cannot flood the report.
fn key_hex(k: &[u8]) -> String {
    const SHOWN: usize = 64;
    let mut s: String = k.iter().take(SHOWN).map(|b| format!("{b:02x}")).collect();
    if k.len() > SHOWN {
        s += &format!("…({} bytes)", k.len());
    }
    s
}

/// bbolt ≥ 1.3.7's key-range check of one bucket's tree (tx_check.go
/// `recursivelyCheckPageKeyOrderInternal` and `verifyKeyOrder`, v1.3.7 through v1.4.x): each
/// subtree is bounded below (closed) by its branch element's key and above (open) by the next
/// element's key; within a page keys strictly ascend, and a branch element's key must lie above
/// the largest key of the previous element's subtree. Pages already seen (shared children, cycles: reported by the
/// walk) are not descended again, so work stays linear.
struct KeyOrder<'a, 'p> {
    db: &'a Db,
    bucket: &'p str,
    seen: &'p mut Visited,
    stack: Vec<Pgid>,
    problems: &'p mut Vec<Problem>,
}

impl<'a> KeyOrder<'a, '_> {
    /// Checks the subtree at `id` within `[min, max)` and returns its largest key (bbolt's
    /// `maxKeyInSubtree`; `None` where bbolt has nil).
    fn check(
        &mut self,
        id: Pgid,
        min: Option<&'a [u8]>,
        max: Option<&'a [u8]>,
    ) -> Option<&'a [u8]> {
        if self.stack.len() > MAX_DEPTH || self.seen.mark(id) {
            return None;
        }
        // Unreadable pages and wrong page types are the walk's findings.
        let page = self.db.page(id).ok()?;
        self.stack.push(id);
        let largest = match page.kind() {
            PageKind::Branch => match BranchPage::new(page) {
                Ok(b) => {
                    let keys: Vec<_> = (0..b.len()).map(|i| b.element(i).ok()).collect();
                    let mut running = min;
                    let mut largest = None;
                    for e in keys.iter().take(super::prefetch::AHEAD).flatten() {
                        self.db.prefetch_page(e.child);
                    }
                    for (i, e) in keys.iter().enumerate() {
                        let Some(e) = e else { continue };
                        // Children are read in turn: ask for the one AHEAD places on now.
                        if let Some(Some(n)) = keys.get(i + super::prefetch::AHEAD) {
                            self.db.prefetch_page(n.child);
                        }
                        self.verify(id, false, i, e.key, running, max);
                        let next = match keys.get(i + 1) {
                            Some(n) => n.as_ref().map(|n| n.key),
                            None => max,
                        };
                        largest = self.check(e.child, Some(e.key), next);
                        running = largest;
                    }
                    largest
                }
                Err(_) => None,
            },
            PageKind::Leaf => match LeafPage::new(page) {
                Ok(l) => {
                    let mut running = min;
                    for (i, e) in l.elements().enumerate() {
                        let Ok(e) = e else { continue };
                        self.verify(id, true, i, e.key, running, max);
                        running = Some(e.key);
                    }
                    if l.is_empty() {
                        None
                    } else {
                        running
                    }
                }
                Err(_) => None,
            },
            _ => None,
        };
        self.stack.pop();
        largest
    }

    /// `verifyKeyOrder`: `previous` is the lower bound for element 0 and the previous key after.
    fn verify(
        &mut self,
        id: Pgid,
        leaf: bool,
        index: usize,
        key: &[u8],
        previous: Option<&[u8]>,
        max: Option<&[u8]>,
    ) {
        // The page's parent is the page below it on the stack.
        let parent = self.stack.len().checked_sub(2).map(|i| self.stack[i]);
        let mut push = |kind| {
            self.problems.note(Problem {
                page: Some(id),
                bucket: self.bucket.to_string(),
                kind,
            })
        };
        match (index, previous) {
            (0, Some(p)) if p > key => push(ProblemKind::KeyBelowAncestor {
                index,
                leaf,
                key: key_hex(key),
                parent,
                bound: key_hex(p),
            }),
            (0, _) => {}
            // bytes.Compare(nil, key): nil is the empty key.
            (_, p) => {
                let p = p.unwrap_or_default();
                if p >= key {
                    push(ProblemKind::KeyNotAbovePrevious {
                        index,
                        leaf,
                        key: key_hex(key),
                        previous: key_hex(p),
                        equal: p == key,
                    });
                }
            }
        }
        if let Some(m) = max {
            if key >= m {
                push(ProblemKind::KeyNotBelowNext {
                    index,
                    leaf,
                    key: key_hex(key),
                    parent,
                    bound: key_hex(m),
                });
            }
        }
    }
}

/// Page kind names for reports.
pub fn kind_name(kind: PageKind) -> &'static str {
    match kind {
        PageKind::Branch => "branch",
        PageKind::Leaf => "leaf",
        PageKind::Meta => "meta",
        PageKind::Freelist => "freelist",
        PageKind::Invalid(_) => "invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bbolt::Data;
    use std::sync::Mutex;

    /// The hook sees every bucket once, with its leaves in runs that put back together give the
    /// bucket's own walk, and the report is `check`'s.
    #[test]
    fn check_with_hands_over_every_bucket_s_leaves() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/snapshots/basic.db");
        let db = Db::from_data(Data::Owned(std::fs::read(path).expect("basic.db"))).unwrap();
        let runs = Mutex::new(Vec::new());
        let report = check_with(&db, &|r| {
            let pages: Vec<Pgid> = r.leaves.iter().map(|l| l.page).collect();
            runs.lock()
                .unwrap()
                .push((r.bucket, r.chunk, r.name.to_vec(), pages));
        });
        assert_eq!(format!("{report:?}"), format!("{:?}", check(&db)));
        let mut runs = runs.into_inner().unwrap();
        runs.sort();
        assert_eq!(
            runs.len() as u64,
            report.buckets,
            "one run per small bucket"
        );
        let (top, _) = db.root_bucket().buckets();
        for (name, bucket) in top {
            let run = runs
                .iter()
                .find(|r| r.2 == name)
                .expect("bucket handed over");
            let want: Vec<Pgid> = bucket.leaves().0.iter().map(|l| l.page).collect();
            assert_eq!(run.3, want);
        }
    }
}
