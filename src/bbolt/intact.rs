//! "Is the page graph intact?" in the pass that reads every leaf anyway.
//!
//! [`check`](super::check::check) walks each bucket, then descends its tree a second time for
//! bbolt's key-order rule and loops over every leaf a third time for its elements: three reads
//! of each leaf's first lines, and of the last key on its second page, from memory, on a file
//! the caller is about to hash in full anyway. `compare` needs only the verdict on an intact
//! copy. Here the walk carries each page's key range ([`walk_tree_bounded`]), branch pages are
//! checked against it as the walk reads them, and each leaf is checked by whoever hashes it,
//! right after hashing it, while its bytes are in cache.
//!
//! The verdict is the full check's: every rule of `check` (tx_check.go at bbolt v1.4.0, see
//! check.rs) is tested, in a form that fails exactly when one of them reports something on a
//! tree whose pages all read (any walk finding already fails here):
//!
//! - bbolt's range rule (`recursivelyCheckPageKeyOrderInternal`): element 0 of a page at or
//!   above the page's lower bound, every key below its upper bound, keys ascending within a
//!   page. bbolt compares a branch element with the largest key of the previous subtree instead
//!   of the previous element; on a tree without empty pages that largest key is the last key of
//!   the subtree's last leaf, whose upper bound is that branch element, so the leaf's own
//!   bound says the same;
//! - elements inside their page, inline buckets' keys ascending, sub-bucket values readable,
//!   the freelist and the page accounting (shared with `check`).
//!
//! On anything it returns `None`, and the caller runs [`check`](super::check::check) for the
//! report: problems are only ever worded there.

use super::bucket::Bucket;
use super::check::{count_pages, read_freelist, CheckReport, HOOK_CHUNK};
use super::db::Db;
use super::handoff::Handoff;
use super::page::{LeafElement, Pgid};
use super::prefetch;
use super::walk::{Bounds, Leaf, Visited, MAX_DEPTH};
use std::cell::{Cell, RefCell};
use std::sync::Mutex;

/// Up to [`HOOK_CHUNK`] consecutive leaves of one bucket, in key order, handed to a
/// [`check_intact_with`] hook on another core while the walk goes on.
pub struct CheckedRun<'s, 'a> {
    /// The bucket's place among the buckets checked (0 = the top-level bucket tree, then depth
    /// first, by key), as in [`super::check::BucketLeaves`].
    pub bucket: u64,
    /// The bucket's name in its parent (empty for the top-level tree).
    pub name: &'a [u8],
    /// 0 for the top-level tree, 1 for the buckets in it, and so on.
    pub nesting: usize,
    /// The run's place in the bucket, from 0; every bucket reached gets a run 0.
    pub chunk: usize,
    leaves: &'s [(Leaf<'a>, Bounds<'a>)],
    inline: bool,
    facts: RefCell<RunFacts<'a>>,
    checked: Cell<bool>,
}

/// What checking a run's leaves found.
#[derive(Default)]
struct RunFacts<'a> {
    bad: bool,
    keys: u64,
    /// Sub-bucket elements, in key order, to check next.
    subs: Vec<(Pgid, LeafElement<'a>)>,
}

impl<'a> CheckedRun<'_, 'a> {
    /// Calls `f` for each leaf in key order, then reads the leaf's free tail (the hooks hash every
    /// key and value: [`prefetch::touch_tail`] says why) and checks it while it is in cache. `f`
    /// may meet broken elements: they fail the check, and `f` must skip them as it would anyway.
    pub fn for_each_leaf(&self, mut f: impl FnMut(&Leaf<'a>)) {
        let first = !self.checked.replace(true);
        for (leaf, bounds) in self.leaves {
            f(leaf);
            // `f` read the keys and values: the free tail too, so the reads stay one stream.
            prefetch::touch_tail(&leaf.view);
            if first {
                self.check_leaf(leaf, *bounds);
            }
        }
    }

    /// The leaf's elements inside the page, its keys ascending and within `bounds` (check.rs
    /// `KeyOrder::verify` for a tree's leaf, `check_leaves` for an inline bucket's).
    fn check_leaf(&self, leaf: &Leaf<'a>, (min, max): Bounds<'a>) {
        let mut facts = self.facts.borrow_mut();
        let mut prev: Option<&[u8]> = None;
        for e in leaf.view.elements() {
            let Ok(e) = e else {
                facts.bad = true;
                continue;
            };
            let out_of_order = match prev {
                None => min.is_some_and(|m| m > e.key),
                Some(p) => p >= e.key,
            };
            if out_of_order || (!self.inline && max.is_some_and(|m| e.key >= m)) {
                facts.bad = true;
            }
            prev = Some(e.key);
            if e.is_bucket() {
                facts.subs.push((leaf.page, e));
            } else {
                facts.keys += 1;
            }
        }
    }

    /// Checks the leaves the hook did not go through, and gives what was found.
    fn finish(self) -> RunFacts<'a> {
        if !self.checked.get() {
            for (leaf, bounds) in self.leaves {
                self.check_leaf(leaf, *bounds);
            }
        }
        self.facts.into_inner()
    }
}

/// The hook [`check_intact_with`] hands each run to.
pub type IntactHook<'h, 'a> = &'h (dyn Fn(&CheckedRun<'_, 'a>) + Sync);

/// [`check`](super::check::check)'s report when it would find no problem, else `None`; every
/// bucket's leaves are handed to `hook` in runs as the walk finds them (in any order), and each
/// leaf is checked right after the hook has read it. On `None` the runs handed over may cover
/// only part of the file.
pub fn check_intact_with<'a>(db: &'a Db, hook: IntactHook<'_, 'a>) -> Option<CheckReport> {
    let mut report = CheckReport::default();
    let mut reached = Visited::new(db.file_pages());
    reached.mark(0);
    reached.mark(1);
    let (free, freelist_run) = read_freelist(db, &mut reached, &mut report);
    if !report.problems.is_empty()
        || !bucket_intact(&db.root_bucket(), b"", 0, &mut reached, &mut report, hook)
    {
        return None;
    }
    count_pages(db, &reached, free.as_ref(), freelist_run, &mut report);
    report.problems.is_empty().then_some(report)
}

fn bucket_intact<'a>(
    bucket: &Bucket<'a>,
    name: &'a [u8],
    nesting: usize,
    reached: &mut Visited,
    report: &mut CheckReport,
    hook: IntactHook<'_, 'a>,
) -> bool {
    let id = report.buckets;
    report.buckets += 1;
    if nesting > MAX_DEPTH {
        return false;
    }
    let inline = bucket.is_inline();
    let mut walk_problems = Vec::new();
    let mut branches_ok = true;
    let found: Mutex<Vec<(usize, RunFacts<'a>)>> = Mutex::new(Vec::new());
    let work = |chunk: usize, run: &[(Leaf<'a>, Bounds<'a>)]| {
        let r = CheckedRun {
            bucket: id,
            name,
            nesting,
            chunk,
            leaves: run,
            inline,
            facts: RefCell::default(),
            checked: Cell::new(false),
        };
        hook(&r);
        let facts = r.finish();
        found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((chunk, facts));
    };
    let handoff = Handoff::new(HOOK_CHUNK);
    rayon::scope(|s| {
        let mut run = handoff.buffer();
        let mut chunks = 0usize;
        bucket.walk_leaves_bounded(
            reached,
            &mut walk_problems,
            // The walk reports keys not ascending within a branch; here the range.
            &mut |keys, (min, max)| {
                let low = matches!((keys.first(), min), (Some(k), Some(m)) if m > *k);
                let high = matches!((keys.last(), max), (Some(k), Some(m)) if *k >= m);
                branches_ok &= !(low || high);
            },
            &mut |leaf, bounds| {
                run.push((leaf, bounds));
                if run.len() == HOOK_CHUNK {
                    handoff.hand(
                        s,
                        chunks,
                        std::mem::replace(&mut run, handoff.buffer()),
                        &work,
                    );
                    chunks += 1;
                }
            },
        );
        if !run.is_empty() || chunks == 0 {
            handoff.hand(s, chunks, run, &work);
        }
    });
    if !walk_problems.is_empty() || !branches_ok {
        return false;
    }
    let mut found = found.into_inner().unwrap_or_else(|e| e.into_inner());
    found.sort_unstable_by_key(|f| f.0);
    let mut subs = Vec::new();
    for (_, f) in found {
        if f.bad {
            return false;
        }
        report.keys += f.keys;
        subs.extend(f.subs);
    }
    subs.into_iter()
        .all(|(page, e)| match bucket.sub_bucket(page, &e) {
            Ok(sub) => bucket_intact(&sub, e.key, nesting + 1, reached, report, hook),
            Err(_) => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bbolt::check::check;
    use crate::bbolt::Data;

    fn verdicts_agree(db: &Db) -> bool {
        let full = check(db);
        let lean = check_intact_with(db, &|run| run.for_each_leaf(|_| {}));
        // And with a hook that reads nothing: the check then goes through the leaves itself.
        let idle = check_intact_with(db, &|_| {});
        let want = full.ok().then(|| format!("{full:?}"));
        let got = lean.map(|r| format!("{r:?}"));
        got == want && idle.map(|r| format!("{r:?}")) == want
    }

    fn open(bytes: Vec<u8>) -> Option<Db> {
        Db::from_data(Data::Owned(bytes)).ok()
    }

    /// Every committed snapshot: the same report when intact, `None` exactly when `check` finds
    /// something.
    #[test]
    fn same_verdict_and_report_as_check_on_testdata() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
        let mut files = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(root)];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).expect("testdata").flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "db") {
                    files.push(p);
                }
            }
        }
        let mut damaged = 0;
        for p in &files {
            let Some(db) = open(std::fs::read(p).expect("read")) else {
                continue;
            };
            damaged += usize::from(!check(&db).ok());
            assert!(verdicts_agree(&db), "{}", p.display());
        }
        assert!(
            files.len() > 10 && damaged > 0,
            "{} files, {damaged} damaged",
            files.len()
        );
    }

    /// Damage anywhere in the page area: flipped bits and overwritten words in every page of
    /// basic.db, keys and branch elements included.
    #[test]
    fn same_verdict_as_check_on_damaged_copies() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/snapshots/basic.db");
        let orig = std::fs::read(path).expect("basic.db");
        let page = 4096;
        let pages = orig.len() / page;
        let (mut tried, mut damaged) = (0, 0);
        for p in 2..pages {
            for (off, how) in [
                (8usize, 0u8),
                (20, 1),
                (40, 2),
                (64, 0),
                (600, 1),
                (2100, 2),
            ] {
                let mut b = orig.clone();
                let at = p * page + off;
                match how {
                    0 => b[at] ^= 0x10,
                    1 => b[at] = b[at].wrapping_add(1),
                    _ => b[at..at + 4].copy_from_slice(&[0xff; 4]),
                }
                let Some(db) = open(b) else { continue };
                tried += 1;
                damaged += usize::from(!check(&db).ok());
                assert!(verdicts_agree(&db), "page {p} offset {off} kind {how}");
            }
        }
        assert!(damaged > 50, "{damaged} of {tried} copies damaged");
    }
}
