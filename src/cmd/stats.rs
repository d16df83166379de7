//! `stats`: where the space goes — counts and bytes by resource, namespace and envelope, the
//! largest objects, history held per key, compaction revisions, db size against live bytes.

use super::common::{display_key, open_snapshot};
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::{CmdResult, Outcome};
use crate::correlate::space::finding_text;
use crate::etcd::meta::MetaInfo;
use crate::etcd::records::Records;
use crate::etcd::space::{self, Space};
use crate::kube::{Envelope, KeyPath};
use crate::output::write_json;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (also an etcd data dir, or a .gz/.zst/.xz snapshot).
    pub snapshot: PathBuf,
    /// How many of the largest objects and most-revised keys to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub space: SpaceArgs,
}

/// The space diagnosis's own flags.
#[derive(clap::Args)]
pub struct SpaceArgs {
    /// The member's --quota-backend-bytes, in bytes (etcd's default: 2 GiB).
    #[arg(long, default_value_t = space::DEFAULT_QUOTA_BYTES, value_name = "BYTES")]
    pub quota_backend_bytes: u64,
    /// Group keys by their first N `/`-separated segments (2: /registry/events).
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub depth: u16,
}

#[derive(Clone, Copy, Default, Serialize)]
pub struct Tally {
    pub count: u64,
    pub bytes: u64,
}

impl Tally {
    fn add(&mut self, bytes: usize) {
        self.count += 1;
        self.bytes += bytes as u64;
    }
}

#[derive(Serialize)]
pub struct Sized {
    pub key: String,
    pub bytes: usize,
}

#[derive(Serialize)]
pub struct Revised {
    pub key: String,
    pub revisions: usize,
}

#[derive(Serialize)]
pub struct Stats {
    pub file_size: u64,
    pub db_size: u64,
    pub live_keys: usize,
    /// Bytes of live keys and values.
    pub live_bytes: u64,
    pub revisions: usize,
    /// Bytes of every revision's key and value (history included).
    pub history_bytes: u64,
    pub tombstones: usize,
    pub compacted_revision: Option<i64>,
    pub scheduled_compact_revision: Option<i64>,
    pub current_revision: i64,
    pub by_resource: BTreeMap<String, Tally>,
    pub by_namespace: BTreeMap<String, Tally>,
    pub by_envelope: BTreeMap<String, Tally>,
    pub largest: Vec<Sized>,
    pub most_revised: Vec<Revised>,
}

/// Adds `size` to `map[name]`: looked up by borrow first, so a name already there (nearly every
/// key's) costs no allocation.
fn add_to(map: &mut BTreeMap<String, Tally>, name: &str, size: usize) {
    match map.get_mut(name) {
        Some(t) => t.add(size),
        None => map.entry(name.to_string()).or_default().add(size),
    }
}

/// The first `n` of (count, key) pairs sorted by count descending, then key: kept as they come
/// instead of sorting every key (300k, all of one size, on the bench snapshot).
struct TopN<'a> {
    n: usize,
    best: Vec<(usize, &'a [u8])>,
}

impl<'a> TopN<'a> {
    fn new(n: usize) -> Self {
        TopN {
            n,
            best: Vec::new(),
        }
    }

    fn offer(&mut self, x: (usize, &'a [u8])) {
        let before = |a: &(usize, &[u8]), b: &(usize, &[u8])| b.0.cmp(&a.0).then(a.1.cmp(b.1));
        if self.n == 0 {
            return;
        }
        if self.best.len() == self.n {
            match self.best.last() {
                Some(worst) if before(&x, worst).is_lt() => {}
                _ => return,
            }
        }
        let at = self.best.partition_point(|y| before(y, &x).is_le());
        self.best.insert(at, x);
        self.best.truncate(self.n);
    }

    fn finish(self) -> Vec<(usize, &'a [u8])> {
        self.best
    }
}

pub fn compute(
    records: &Records<'_>,
    meta: &MetaInfo,
    file_size: u64,
    db_size: u64,
    top: usize,
) -> Stats {
    let mut s = Stats {
        file_size,
        db_size,
        live_keys: records.live_count(),
        live_bytes: 0,
        revisions: records.all.len(),
        history_bytes: 0,
        tombstones: records.all.iter().filter(|r| r.rev.tombstone).count(),
        compacted_revision: meta.finished_compact_revision,
        scheduled_compact_revision: meta.scheduled_compact_revision,
        current_revision: records.max_revision(),
        by_resource: BTreeMap::new(),
        by_namespace: BTreeMap::new(),
        by_envelope: BTreeMap::new(),
        largest: Vec::new(),
        most_revised: Vec::new(),
    };
    for r in &records.all {
        s.history_bytes += (r.kv.key.len() + r.kv.value.len()) as u64;
    }
    let mut sizes = TopN::new(top);
    // Keys come in key order: a key path's resource and namespace are named by the bytes
    // before its last `/`, so they are parsed once per run of keys sharing them (when the last
    // segment is valid UTF-8, which the parse requires too).
    let mut last: Option<(&[u8], String, String)> = None;
    for r in records.live() {
        let size = r.kv.value.len();
        s.live_bytes += (r.kv.key.len() + size) as u64;
        let key = r.kv.key;
        let dir = memchr::memrchr(b'/', key).map(|p| p + 1);
        let name_ok = dir.is_some_and(|d| std::str::from_utf8(&key[d..]).is_ok());
        let cached = match (&last, dir) {
            (Some((l, res, ns)), Some(d)) if name_ok && *l == &key[..d] => Some((res, ns)),
            _ => None,
        };
        let fresh;
        let (resource, ns) = match cached {
            Some((res, ns)) => (res.as_str(), ns.as_str()),
            None => {
                let path = KeyPath::parse(key);
                let resource = path
                    .map(|p| p.qualified_resource())
                    .unwrap_or_else(|| "(not a kube key)".into());
                let ns = path
                    .and_then(|p| p.namespace)
                    .unwrap_or("(cluster-scoped)")
                    .to_string();
                fresh = (resource, ns);
                (fresh.0.as_str(), fresh.1.as_str())
            }
        };
        add_to(&mut s.by_resource, resource, size);
        add_to(&mut s.by_namespace, ns, size);
        add_to(
            &mut s.by_envelope,
            Envelope::classify(r.kv.value).label(),
            size,
        );
        if cached.is_none() && name_ok {
            if let Some(d) = dir {
                last = Some((&key[..d], resource.to_string(), ns.to_string()));
            }
        }
        sizes.offer((size, key));
    }
    // Largest first; ties by key so output is deterministic.
    s.largest = sizes
        .finish()
        .into_iter()
        .map(|(n, k)| Sized {
            key: display_key(k),
            bytes: n,
        })
        .collect();
    let mut revised = TopN::new(top);
    let mut iter = records.history().peekable();
    while let Some(r) = iter.next() {
        let mut n = 1;
        while iter.peek().is_some_and(|x| x.kv.key == r.kv.key) {
            iter.next();
            n += 1;
        }
        revised.offer((n, r.kv.key));
    }
    s.most_revised = revised
        .finish()
        .iter()
        .filter(|(n, _)| *n > 1)
        .map(|(n, k)| Revised {
            key: display_key(k),
            revisions: *n,
        })
        .collect();
    s
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    guard.input(&args.snapshot);
    let (fmt, mut out) = args
        .out
        .prepare("stats", formats("stats"), &guard, Mode::Private)?;
    let snap = open_snapshot(&args.snapshot)?;
    // Both cores: the record decode beside the page check, then the statistics beside the
    // space diagnosis (each a single pass over the records; on the 1.2 GB bench file run in
    // turn they made `stats` 3.3 x `etcdctl snapshot status`).
    let (records, check) = rayon::join(|| Records::read(&snap), || snap.check_structure());
    let meta = MetaInfo::read(&snap);
    let opts = space::Options {
        quota_bytes: args.space.quota_backend_bytes,
        depth: usize::from(args.space.depth),
        top: args.top,
    };
    let (s, sp) = rayon::join(
        || {
            compute(
                &records,
                &meta,
                snap.bytes().len() as u64,
                snap.db().logical_size(),
                args.top,
            )
        },
        || crate::correlate::space::diagnosis(&snap, &records, &check, opts),
    );
    let structure_ok = check.ok();
    match fmt {
        Fmt::Json => write_json(
            &mut out,
            &WithSpace {
                stats: &s,
                space: &sp,
            },
        )?,
        _ => {
            render_space(&mut out, &sp)?;
            render_text(&mut out, &s)?;
        }
    }
    out.finish()?;
    if !records.complete() {
        eprintln!(
            "etcd-autopsy: warning: {}: partial statistics: {} structural and {} record problem(s); run `check`",
            snap.path.display(),
            records.structure_problems.len(),
            records.record_problems.len()
        );
    }
    Ok(if records.complete() && structure_ok {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

fn render_text(out: &mut impl Write, s: &Stats) -> std::io::Result<()> {
    let pct = |a: u64, b: u64| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    writeln!(
        out,
        "db size          {} bytes (file {} bytes)",
        s.db_size, s.file_size
    )?;
    writeln!(
        out,
        "live             {} keys, {} bytes ({:.1}% of the db)",
        s.live_keys,
        s.live_bytes,
        pct(s.live_bytes, s.db_size)
    )?;
    writeln!(
        out,
        "history          {} revisions ({} tombstones), {} bytes",
        s.revisions, s.tombstones, s.history_bytes
    )?;
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    writeln!(
        out,
        "revisions        current {}, compacted {}, scheduled compaction {}",
        s.current_revision,
        opt(s.compacted_revision),
        opt(s.scheduled_compact_revision)
    )?;
    for (title, map) in [
        ("by resource", &s.by_resource),
        ("by envelope", &s.by_envelope),
        ("by namespace", &s.by_namespace),
    ] {
        writeln!(out, "\n{title}:")?;
        let mut rows: Vec<_> = map.iter().collect();
        rows.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
        for (name, t) in rows {
            writeln!(out, "  {:>8} keys {:>12} bytes  {name}", t.count, t.bytes)?;
        }
    }
    writeln!(out, "\nlargest objects:")?;
    for l in &s.largest {
        writeln!(out, "  {:>12} bytes  {}", l.bytes, l.key)?;
    }
    if !s.most_revised.is_empty() {
        writeln!(out, "\nmost revisions held:")?;
        for r in &s.most_revised {
            writeln!(out, "  {:>8}  {}", r.revisions, r.key)?;
        }
    }
    Ok(())
}

// --- The space diagnosis (issue #16): computed in etcd::space, rendered here. ---------------

#[derive(Serialize)]
struct WithSpace<'a> {
    #[serde(flatten)]
    stats: &'a Stats,
    space: &'a Space,
}

/// Words of `text` in lines of at most `width` columns (a longer word gets its own line), the
/// first line after `first`, the rest after `rest`: findings stay readable on an 80-column
/// terminal.
pub(crate) fn wrap(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::from(first);
    let mut col = first.chars().count();
    let mut start = true;
    for word in text.split_whitespace() {
        let n = word.chars().count();
        if !start && col + 1 + n > width {
            out.push('\n');
            out.push_str(rest);
            col = rest.chars().count();
            start = true;
        }
        if !start {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += n;
        start = false;
    }
    out
}

fn human(b: u64) -> String {
    crate::etcd::status::humanize_bytes(b)
}

fn render_space(out: &mut impl Write, sp: &Space) -> std::io::Result<()> {
    let p = &sp.pages;
    writeln!(out, "space findings:")?;
    if sp.findings.is_empty() {
        writeln!(out, "  none above the thresholds")?;
    }
    for f in &sp.findings {
        let (head, remedy) = finding_text(f);
        let level = match f.level() {
            space::Level::Critical => "CRITICAL",
            space::Level::Warning => "warning",
            space::Level::Info => "info",
        };
        let lead = format!("  {level:<8} ");
        let pad = " ".repeat(lead.len());
        writeln!(out, "{}", wrap(&head, 80, &lead, &pad))?;
        writeln!(
            out,
            "{}",
            wrap(&format!("remedy: {remedy}"), 80, &pad, &format!("{pad}  "))
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "file             {} B: {} pages of {} B to the hwm, {} past it, {} B tail",
        p.file_bytes, p.hwm, p.page_size, p.past_hwm, p.tail_bytes
    )?;
    writeln!(
        out,
        "pages            {} in use, {} free ({:.1} % fragmentation)",
        p.in_use,
        p.free,
        100.0 * sp.fragmentation
    )?;
    writeln!(
        out,
        "quota            {} of {}{} ({:.1} %)",
        human(sp.quota.used_bytes),
        human(sp.quota.quota_bytes),
        if sp.quota.is_default {
            " (default)"
        } else {
            ""
        },
        100.0 * sp.quota.share()
    )?;
    writeln!(
        out,
        "defrag           db about {} after ({} freed)",
        human(sp.defrag.db_bytes),
        human(sp.defrag.frees_bytes)
    )?;
    writeln!(
        out,
        "compact latest   at {} frees {} revisions, {}; then defrag: db {}",
        sp.compaction.revision,
        sp.compaction.revisions_removed,
        human(sp.compaction.bytes_removed),
        human(sp.compaction.then_defrag.db_bytes)
    )?;
    let t = &sp.totals;
    writeln!(
        out,
        "data             live {} keys {}; held {} revisions {} ({} old)",
        t.live_keys,
        human(t.live_bytes),
        t.revisions,
        human(t.bytes),
        human(t.old_bytes())
    )?;
    let table = |out: &mut dyn Write,
                 title: &str,
                 map: &BTreeMap<String, space::Tally>|
     -> std::io::Result<()> {
        writeln!(out, "\n{title}:")?;
        writeln!(
            out,
            "  {:>9} {:>9} {:>9} {:>9}  group",
            "live", "held", "old", "revs"
        )?;
        let mut rows: Vec<_> = map.iter().collect();
        rows.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
        for (name, t) in rows {
            writeln!(
                out,
                "  {:>9} {:>9} {:>9} {:>9}  {name}",
                human(t.live_bytes),
                human(t.bytes),
                human(t.old_bytes()),
                t.revisions
            )?;
        }
        Ok(())
    };
    table(out, "history by resource", &sp.by_resource)?;
    table(out, "history by namespace", &sp.by_namespace)?;
    table(
        out,
        &format!("history by prefix (depth {})", sp.depth),
        &sp.by_prefix,
    )?;
    writeln!(out, "\nlargest histories (all revisions of a key):")?;
    for k in &sp.largest_histories {
        writeln!(
            out,
            "  {:>9} {:>6} revs  {}{}",
            human(k.bytes),
            k.revisions,
            k.key,
            if k.live { "" } else { " (deleted)" }
        )?;
    }
    writeln!(out, "\nwrite hotspots (revisions held, revision range):")?;
    for k in &sp.hotspots {
        writeln!(
            out,
            "  {:>6} revs  {}..{}  {}",
            k.revisions, k.first_revision, k.last_revision, k.key
        )?;
    }
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod space_tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_to_the_width() {
        let w = wrap("aaaa bbbb cccc dddd", 12, "- ", "  ");
        assert_eq!(w, "- aaaa bbbb\n  cccc dddd");
        for line in wrap(&"word ".repeat(50), 80, "  x ", "    ").lines() {
            assert!(line.chars().count() <= 80);
        }
        // A word longer than the width gets a line of its own.
        assert_eq!(wrap("a bbbbbbbbbbbb c", 6, "", ""), "a\nbbbbbbbbbbbb\nc");
    }
}
