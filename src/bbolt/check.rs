//! Integrity check equivalent to `bbolt check` (tx_check.go): every page reachable from the meta's
//! root is visited once; out-of-bounds pages, pages reached twice (cycles included), invalid page
//! types, elements outside their page and keys out of order are reported with page and bucket.
//! With a persisted freelist, pages both reachable and free, and pages neither, are reported too.
//!
//! Unlike bbolt's check (bbolt#581) this never panics, and it keeps going past damage.

use super::bucket::Bucket;
use super::bytes::u64_at;
use super::db::Db;
use super::error::{Problem, ProblemKind, Problems};
use super::page::{PageKind, Pgid, FREELIST_PAGE_FLAG, PAGE_HEADER_SIZE};
use super::walk::{Visited, MAX_DEPTH};
use serde::Serialize;

/// Everything the check found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckReport {
    #[serde(serialize_with = "problems_as_strings")]
    pub problems: Vec<Problem>,
    /// Pages reached from the root (metas and the freelist included).
    pub reachable_pages: u64,
    /// Pages listed in the persisted freelist, when there is one.
    pub freelist_pages: Option<u64>,
    /// Pages below the high-water mark not reached. Without a persisted freelist these are the
    /// free pages (bbolt rebuilds its freelist this way); with one, they are problems.
    pub unreachable_pages: u64,
    /// Buckets visited, nested and inline ones included.
    pub buckets: u64,
    /// Key/value pairs visited (sub-bucket entries excluded).
    pub keys: u64,
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
    let mut report = CheckReport::default();
    let mut reached = Visited::new(db.file_pages());
    reached.mark(0);
    reached.mark(1);
    let free = read_freelist(db, &mut reached, &mut report);
    check_bucket(&db.root_bucket(), 0, &mut reached, &mut report);

    let hwm = db.meta().hwm.min(db.file_pages());
    for id in 2..hwm {
        let is_reached = reached.is_marked(id);
        let is_free = free.as_ref().is_some_and(|f| f.is_marked(id));
        if is_reached {
            report.reachable_pages += 1;
        } else {
            report.unreachable_pages += 1;
        }
        let kind = match (is_reached, is_free, free.is_some()) {
            (true, true, _) => ProblemKind::ReachableFreed,
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
    report
}

/// Reads the persisted freelist, if the meta points at one. The pointer is checked against the
/// page's flags before it is trusted: real files exist where it points at a leaf.
fn read_freelist(db: &Db, reached: &mut Visited, report: &mut CheckReport) -> Option<Visited> {
    let meta = db.meta();
    if !meta.freelist_persisted() {
        return None;
    }
    let id = meta.freelist;
    let bad = |detail: String| Problem {
        page: Some(id),
        bucket: String::new(),
        kind: ProblemKind::BadFreelist { detail },
    };
    let page = match db.page(id) {
        Ok(p) => p,
        Err(kind) => {
            report.problems.note(Problem {
                page: Some(id),
                bucket: "(freelist)".into(),
                kind,
            });
            return None;
        }
    };
    if page.flags() != FREELIST_PAGE_FLAG {
        report.problems.note(Problem {
            page: Some(id),
            bucket: "(freelist)".into(),
            kind: ProblemKind::InvalidType {
                flags: page.flags(),
                expected: "freelist",
            },
        });
        return None;
    }
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
                return None;
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
        report
            .problems
            .note(bad(format!("{count} ids do not fit in the page")));
        return None;
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
            report.problems.note(Problem {
                page: Some(pid),
                bucket: "(freelist)".into(),
                kind: ProblemKind::FreedTwice,
            });
        }
        n += 1;
    }
    report.freelist_pages = Some(n);
    Some(free)
}

fn check_bucket(
    bucket: &Bucket<'_>,
    nesting: usize,
    reached: &mut Visited,
    report: &mut CheckReport,
) {
    report.buckets += 1;
    if nesting > MAX_DEPTH {
        report.problems.note(Problem {
            page: Some(bucket.root_page()),
            bucket: bucket.path.clone(),
            kind: ProblemKind::TooDeep { depth: MAX_DEPTH },
        });
        return;
    }
    let leaves = bucket.leaves_with(reached, &mut report.problems);
    let mut prev: Option<&[u8]> = None;
    let mut subs: Vec<(Pgid, _)> = Vec::new();
    for leaf in leaves {
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
            if prev.is_some_and(|p| p >= e.key) {
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
    for (page, e) in subs {
        match bucket.sub_bucket(page, &e) {
            Ok(sub) => check_bucket(&sub, nesting + 1, reached, report),
            Err(p) => report.problems.note(p),
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
