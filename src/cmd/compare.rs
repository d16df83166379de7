//! `compare`: several copies of one cluster's data (member dbs, data dirs, snapshots) side by
//! side — revisions, compaction, consistent index, term, etcd's HashKV at the highest revision all
//! intact copies share, integrity — then which copies agree, which diverged and from which
//! revision, which is the most recent healthy copy to restore from, and the keys that differ.

use super::common::open_snapshot_deferred;
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::table::etcdctl as table;
use super::{CmdResult, Error, Outcome};
use crate::etcd::cluster::ClusterInfo;
use crate::etcd::hashkv::{self, StoreRevisions};
use crate::etcd::meta::MetaInfo;
use crate::etcd::records::Records;
use crate::etcd::wal::{self, WalIds};
use crate::etcd::{display_key, Snapshot};
use crate::output::write_json;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[derive(clap::Args)]
pub struct Args {
    /// Two or more copies: snapshot files, member/snap/db files, or data dirs.
    #[arg(required = true, num_args = 2..)]
    pub snapshots: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Differing keys listed in text output (all of them in JSON).
    #[arg(long, default_value_t = 20)]
    pub max_keys: usize,
}

/// What one copy is, relative to the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Same history as the majority and at the highest revision among them.
    Agrees,
    /// Same history as the majority up to its own revision; the revisions after it are missing.
    Behind { missing_from: i64, missing_to: i64 },
    /// History differs from the majority's; `from_revision` is the first revision that differs.
    Diverged { from_revision: Option<i64> },
    /// The key bucket or the page graph is damaged: left out of the vote.
    Damaged,
    /// No majority: this copy cannot be judged against the others.
    Undecided,
}

#[derive(Serialize)]
struct CopyReport {
    file: String,
    db: String,
    member_id: Option<String>,
    cluster_id: Option<String>,
    /// Member ids listed in the `members` bucket.
    members: Vec<String>,
    revision: i64,
    compact_revision: i64,
    consistent_index: Option<u64>,
    term: Option<u64>,
    hash: Option<u32>,
    hash_error: Option<String>,
    intact: bool,
    problems: Vec<String>,
    #[serde(flatten)]
    state: State,
    /// Keys whose history up to the common revision differs from the reference copy's.
    differing_keys: Vec<KeyDiff>,
}

#[derive(Serialize)]
struct KeyDiff {
    key: String,
    /// Newest revision of the key included at the common revision, here and in the reference.
    revision: Option<i64>,
    reference_revision: Option<i64>,
}

#[derive(Serialize)]
struct CompareReport {
    common_revision: Option<i64>,
    note: Option<String>,
    reference: Option<String>,
    restore_from: Option<String>,
    restore_reason: String,
    copies: Vec<CopyReport>,
}

/// A copy's db file and, for a data dir, its WAL dir.
fn resolve(p: &Path) -> Result<(PathBuf, Option<PathBuf>), Error> {
    if !p.is_dir() {
        return Ok((p.to_path_buf(), None));
    }
    for (db, wal) in [("member/snap/db", "member/wal"), ("snap/db", "wal")] {
        if p.join(db).is_file() {
            return Ok((p.join(db), Some(p.join(wal))));
        }
    }
    Err(Error::new(format!(
        "{}: a directory without member/snap/db or snap/db",
        p.display()
    )))
}

struct Copy<'a> {
    file: String,
    snap: &'a Snapshot,
    ids: Option<WalIds>,
    members: Vec<String>,
    meta: MetaInfo,
    revs: StoreRevisions,
    /// Main revision of the key bucket's first entry.
    first: Option<i64>,
    /// HashKV at this copy's own current revision, `(revision, hash)`, computed beside the
    /// integrity check; kept only for an intact copy whose hash needed no keep set and read every
    /// entry, so it is exactly what [`hashkv::hash_by_rev`] answers for that revision.
    own_hash: Option<(i64, u32)>,
    /// Decoded only when needed: a keep set below the compaction, or differing keys.
    records: OnceLock<Records<'a>>,
    problems: Vec<String>,
}

impl<'a> Copy<'a> {
    fn records(&self) -> &Records<'a> {
        self.records.get_or_init(|| Records::read(self.snap))
    }
}

fn read_copy<'a>(file: String, snap: &'a Snapshot, wal_dir: Option<&Path>) -> Copy<'a> {
    let meta = MetaInfo::read(snap);
    // First and last key-bucket entries from the tree's edges (exact once the check below finds
    // the tree intact). When the first record is above the compaction no keep set applies, and
    // the hash at the copy's own revision is computed on the other core while the check runs:
    // with copies of one cluster that is the common revision, and judging needs nothing more.
    let (edge_revs, edge_first) = hashkv::store_revisions_by_descent(snap, &meta);
    let speculate = edge_first.is_some_and(|f| f >= 0 && f > edge_revs.compact);
    // The page graph here; every key bucket entry is checked as an mvcc record by the hash pass.
    // One pass: the integrity verdict comes from the walk and from the leaves as the hash reads
    // them. Only when that finds anything does the full check run, for its report.
    let hasher = speculate.then(|| hashkv::CurrentHash::new(&meta));
    let intact = snap.check_intact_with(&|run| {
        if let Some(h) = &hasher {
            h.add(run)
        }
    });
    let (check, own) = match intact {
        Some(report) => (report, hasher.and_then(|h| h.finish(&meta))),
        None => (snap.check_structure(), None),
    };
    let (revs, first) = if check.problems.is_empty() {
        (edge_revs, edge_first)
    } else {
        hashkv::store_revisions(snap, &meta)
    };
    let mut problems: Vec<String> = check.problems.iter().map(|p| p.to_string()).collect();
    if snap.bucket(crate::etcd::buckets::KEY).0.is_none() {
        problems.push("no key bucket".into());
    }
    problems.sort();
    problems.dedup();
    // Every record parsed (so every main revision is at most the last one: keys ascend and are
    // non-negative from the first), nothing skipped, and the same revisions as `revs`.
    let own_hash = own.and_then(|c| match c.result {
        Ok(h)
            if problems.is_empty()
                && c.problems.is_empty()
                && c.unreadable == 0
                && h.current_revision == revs.current
                && h.compact_revision == revs.compact =>
        {
            Some((h.hash_revision, h.hash))
        }
        _ => None,
    });
    Copy {
        file,
        snap,
        ids: wal_dir.and_then(wal::read_ids),
        members: ClusterInfo::read(snap)
            .members
            .into_iter()
            .map(|m| m.id)
            .collect(),
        meta,
        revs,
        first,
        own_hash,
        records: OnceLock::new(),
        problems,
    }
}

/// First main revision at or below `upto` whose entries differ between the two copies, counting
/// only revisions above `floor`.
fn first_difference(a: &Snapshot, b: &Snapshot, upto: i64, floor: i64) -> Option<i64> {
    let (da, db) = (
        hashkv::revision_digests(a, upto),
        hashkv::revision_digests(b, upto),
    );
    let (ma, mb): (BTreeMap<_, _>, BTreeMap<_, _>) = (
        da.into_iter().filter(|r| r.0 > floor).collect(),
        db.into_iter().filter(|r| r.0 > floor).collect(),
    );
    ma.keys()
        .chain(mb.keys())
        .copied()
        .filter(|r| ma.get(r) != mb.get(r))
        .min()
}

fn differing_keys(a: &Copy<'_>, b: &Copy<'_>, rev: i64) -> Vec<KeyDiff> {
    let ka = hashkv::key_digests(a.records(), &a.meta, rev);
    let kb = hashkv::key_digests(b.records(), &b.meta, rev);
    let ma: BTreeMap<_, _> = ka.into_iter().map(|(k, c, r)| (k, (c, r))).collect();
    let mb: BTreeMap<_, _> = kb.into_iter().map(|(k, c, r)| (k, (c, r))).collect();
    let mut keys: Vec<&[u8]> = ma.keys().chain(mb.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .filter(|k| ma.get(k).map(|x| x.0) != mb.get(k).map(|x| x.0))
        .map(|k| KeyDiff {
            key: display_key(k),
            revision: ma.get(k).map(|x| x.1),
            reference_revision: mb.get(k).map(|x| x.1),
        })
        .collect()
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    for p in &args.snapshots {
        guard.input(p);
    }
    let (fmt, sink) = args
        .out
        .prepare("compare", formats("compare"), &guard, Mode::Private)?;
    let mut resolved = Vec::new();
    for p in &args.snapshots {
        let (db, wal_dir) = resolve(p)?;
        resolved.push((p.display().to_string(), db, wal_dir));
    }
    // The copies are mapped one after another without their pages, then each is populated,
    // checked and hashed in parallel with the others ([`Populate::Deferred`] says why);
    // errors are reported for the first failing argument, in order. The worker threads are
    // started before any populate: a thread's start maps its stack, which waits for the
    // memory-map lock a populate holds.
    rayon::broadcast(|_| ());
    let mut opened = Vec::with_capacity(resolved.len());
    for (_, db, _) in &resolved {
        opened.push(crate::trace::span("compare: map", || {
            open_snapshot_deferred(db)
        })?);
    }
    let copies: Vec<Copy<'_>> = resolved
        .par_iter()
        .zip(&opened)
        .map(|((f, _, w), snap)| {
            // In halves: a core with nothing else to do takes one (the third copy's, while
            // the other core finishes its copy).
            crate::trace::span("compare: populate", || {
                rayon::join(|| snap.populate_part(0, 2), || snap.populate_part(1, 2))
            });
            crate::trace::span("compare: copy", || read_copy(f.clone(), snap, w.as_deref()))
        })
        .collect();
    let report = crate::trace::span("compare: judge", || judge(&copies));
    let mut out = sink;
    match fmt {
        Fmt::Json => write_json(&mut out, &report)?,
        _ => render_text(&mut out, &report, args.max_keys)?,
    }
    out.finish()?;
    let all_fine = report
        .copies
        .iter()
        .all(|c| matches!(c.state, State::Agrees | State::Behind { .. }));
    // Tearing down a GiB-sized copy's page tables takes tens of milliseconds of kernel time
    // when the page cache holds it in 4 KiB pages: each copy's halves on both cores, side by
    // side, then the unmaps, which have nothing left to tear down.
    drop(copies);
    crate::trace::span("compare: unmap", || {
        opened
            .par_iter()
            .flat_map_iter(|s| [(s, 0), (s, 1)])
            .for_each(|(s, half)| s.release_part(half, 2));
        drop(opened);
    });
    Ok(if all_fine {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

fn judge(copies: &[Copy<'_>]) -> CompareReport {
    let intact: Vec<usize> = (0..copies.len())
        .filter(|&i| copies[i].problems.is_empty())
        .collect();
    let pool: &[usize] = if intact.is_empty() { &[] } else { &intact[..] };
    let max_compact = copies.iter().map(|c| c.revs.compact).max().unwrap_or(-1);
    let common = pool.iter().map(|&i| copies[i].revs.current).min();
    let mut note = None;
    let common = match common {
        Some(r) if r > max_compact => Some(r),
        Some(r) => {
            note = Some(format!(
                "the highest revision all intact copies hold ({r}) is compacted in some copy \
                 (compact revision {max_compact}): HashKV cannot compare them"
            ));
            None
        }
        None => {
            note = Some("no intact copy: nothing to compare against".into());
            None
        }
    };
    let mut unreadable = vec![0u64; copies.len()];
    let hashes: Vec<Result<u32, String>> = copies
        .iter()
        .enumerate()
        .map(|(i, c)| match common {
            None => Err("no common revision".into()),
            Some(r) if c.own_hash.is_some_and(|(at, _)| at == r) => {
                Ok(c.own_hash.map_or(0, |(_, h)| h))
            }
            Some(r) => {
                let needs_index = c.first.is_some_and(|f| f <= c.revs.compact);
                let records = needs_index.then(|| c.records());
                let computed = hashkv::hash_by_rev(c.snap, records, &c.meta, r);
                unreadable[i] = computed.unreadable;
                match computed.result {
                    Ok(h) => Ok(h.hash),
                    Err(e) => Err(format!("etcdserver: {}", e.etcd_message())),
                }
            }
        })
        .collect();
    // Majority among intact copies by hash at the common revision.
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for &i in pool {
        if unreadable[i] > 0 {
            continue;
        }
        if let Ok(h) = hashes[i] {
            groups.entry(h).or_default().push(i);
        }
    }
    let mut sizes: Vec<(usize, u32)> = groups.iter().map(|(h, v)| (v.len(), *h)).collect();
    sizes.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
    let majority: Option<&Vec<usize>> = match sizes.as_slice() {
        [(_, h)] => groups.get(h),
        [(a, h), (b, _), ..] if a > b => groups.get(h),
        _ => None,
    };
    let newest = |members: &[usize]| {
        members.iter().copied().max_by(|&a, &b| {
            let (ca, cb) = (&copies[a], &copies[b]);
            (ca.revs.current, ca.meta.consistent_index)
                .cmp(&(cb.revs.current, cb.meta.consistent_index))
                .then(b.cmp(&a))
        })
    };
    let reference = majority.and_then(|m| newest(m));
    let top = majority
        .map(|m| m.iter().map(|&i| copies[i].revs.current).max().unwrap_or(0))
        .unwrap_or(0);
    let same_compact = copies.iter().all(|c| c.revs.compact == max_compact);
    let floor = if same_compact { 0 } else { max_compact };
    let mut reports = Vec::new();
    for (i, c) in copies.iter().enumerate() {
        let in_majority = majority.is_some_and(|m| m.contains(&i));
        let mut differing = Vec::new();
        let mut problems = c.problems.clone();
        if unreadable[i] > 0 {
            problems.push(format!(
                "{} key bucket entries are not mvcc records (`etcd-autopsy check` says where)",
                unreadable[i]
            ));
        }
        let state = if !problems.is_empty() {
            State::Damaged
        } else if in_majority {
            if c.revs.current < top {
                State::Behind {
                    missing_from: c.revs.current + 1,
                    missing_to: top,
                }
            } else {
                State::Agrees
            }
        } else if let (Some(r), Some(ri)) = (reference, common) {
            let rc = &copies[r];
            differing = differing_keys(c, rc, ri);
            State::Diverged {
                from_revision: first_difference(c.snap, rc.snap, ri, floor),
            }
        } else {
            State::Undecided
        };
        if matches!(state, State::Damaged) {
            if let (Some(r), Some(ri)) = (reference, common) {
                differing = differing_keys(c, &copies[r], ri);
            }
        }
        let (hash, hash_error) = match &hashes[i] {
            Ok(h) => (Some(*h), None),
            Err(e) => (None, Some(e.clone())),
        };
        reports.push(CopyReport {
            file: c.file.clone(),
            db: c.snap.path.display().to_string(),
            member_id: c.ids.map(|x| format!("{:x}", x.member_id)),
            cluster_id: c.ids.map(|x| format!("{:x}", x.cluster_id)),
            members: c.members.clone(),
            revision: c.revs.current,
            compact_revision: c.revs.compact,
            consistent_index: c.meta.consistent_index,
            term: c.meta.term,
            hash,
            hash_error,
            intact: problems.is_empty(),
            problems,
            state,
            differing_keys: differing,
        });
    }
    let (restore_from, restore_reason) = match reference {
        Some(r) => (
            Some(copies[r].file.clone()),
            format!(
                "intact, agrees with the majority at revision {}, and holds the most revisions \
                 among them ({})",
                common.unwrap_or(0),
                copies[r].revs.current
            ),
        ),
        None => (
            None,
            match &note {
                Some(n) => n.clone(),
                None => "no majority: the intact copies disagree and none agrees with more \
                         copies than another; compare the differing keys by hand"
                    .into(),
            },
        ),
    };
    CompareReport {
        common_revision: common,
        note,
        reference: reference.map(|r| copies[r].file.clone()),
        restore_from,
        restore_reason,
        copies: reports,
    }
}

fn state_text(s: &State) -> String {
    match s {
        State::Agrees => "agrees".into(),
        State::Behind {
            missing_from,
            missing_to,
        } => format!("missing {missing_from}..{missing_to}"),
        State::Diverged {
            from_revision: Some(r),
        } => format!("DIVERGED at {r}"),
        State::Diverged {
            from_revision: None,
        } => "DIVERGED".into(),
        State::Damaged => "DAMAGED".into(),
        State::Undecided => "undecided".into(),
    }
}

/// Splits `text` at spaces into lines of at most `width` characters (longer words stay whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
}

fn render_text(out: &mut impl Write, r: &CompareReport, max_keys: usize) -> std::io::Result<()> {
    let hash_head = match r.common_revision {
        Some(c) => format!("HASH@{c}"),
        None => "HASH".into(),
    };
    // etcd 3.4 writes no term to the meta bucket: the column only when some copy has one.
    let with_term = r.copies.iter().any(|c| c.term.is_some());
    let rows: Vec<Vec<String>> = r
        .copies
        .iter()
        .map(|c| {
            let mut row = vec![
                c.file.clone(),
                opt(c.hash),
                c.revision.to_string(),
                c.compact_revision.to_string(),
                opt(c.consistent_index),
            ];
            if with_term {
                row.push(opt(c.term));
            }
            row.push(state_text(&c.state));
            row
        })
        .collect();
    let mut headers = vec!["FILE", &hash_head, "REVISION", "COMPACT", "INDEX"];
    if with_term {
        headers.push("TERM");
    }
    headers.push("STATE");
    write!(out, "{}", table(&headers, &rows))?;
    if let Some(n) = &r.note {
        writeln!(out, "note: {n}")?;
    }
    match &r.restore_from {
        Some(f) => writeln!(out, "restore from: {f}")?,
        None => writeln!(out, "restore from: undecided")?,
    }
    for line in wrap(&r.restore_reason, 76) {
        writeln!(out, "  {line}")?;
    }
    for c in &r.copies {
        let ids = match (&c.member_id, &c.cluster_id) {
            (Some(m), Some(cl)) => format!("member {m}, cluster {cl} (WAL)"),
            _ => "member/cluster id not in a db file (give the data dir for its WAL)".into(),
        };
        writeln!(out, "\n{}: {ids}", c.file)?;
        writeln!(out, "  members bucket: {}", c.members.join(", "))?;
        if let Some(e) = &c.hash_error {
            writeln!(out, "  hashkv: {e}")?;
        }
        for p in c.problems.iter().take(max_keys) {
            writeln!(out, "  problem: {p}")?;
        }
        if c.problems.len() > max_keys {
            writeln!(
                out,
                "  … and {} more problems (--format json lists all)",
                c.problems.len() - max_keys
            )?;
        }
        if !c.differing_keys.is_empty() {
            writeln!(
                out,
                "  {} key(s) differ from {} at revision {}:",
                c.differing_keys.len(),
                r.reference.as_deref().unwrap_or("?"),
                opt(r.common_revision)
            )?;
            for k in c.differing_keys.iter().take(max_keys) {
                writeln!(
                    out,
                    "    {}  here rev {}, there rev {}",
                    k.key,
                    opt(k.revision),
                    opt(k.reference_revision)
                )?;
            }
            if c.differing_keys.len() > max_keys {
                writeln!(
                    out,
                    "    … and {} more (--max-keys N, or --format json for all)",
                    c.differing_keys.len() - max_keys
                )?;
            }
        }
    }
    Ok(())
}
