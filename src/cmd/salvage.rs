//! `salvage`: scan every page for `key`-bucket leaves, reached by the tree or not, and report the
//! records the tree no longer reaches (marked salvaged, with their page) apart from the history
//! left on free pages. See [`crate::etcd::salvage`].

use super::common::{display_key, open_snapshot};
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::stats::wrap;
use super::{CmdResult, Outcome};
use crate::etcd::meta::MetaInfo;
use crate::etcd::records::{Record, Records};
use crate::etcd::salvage::{self, Found, Salvage};
use crate::etcd::snapshot::Snapshot;
use crate::output::write_json;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

/// Records for `get --salvage` / `export --salvage`: the tree's, plus the records a page scan
/// recovers where the tree lost them, so they are decoded, decrypted and exported like any other;
/// each is marked with the page it came from.
pub struct Salvaged {
    /// (main revision, printable key) → the page the record was salvaged from.
    pages: HashMap<(i64, String), u64>,
    recovered_pages: usize,
}

impl Salvaged {
    /// The page a record (by its key as printed and its mod_revision) was salvaged from; None
    /// when the tree reaches it.
    pub fn page_of(&self, key: &str, mod_revision: i64) -> Option<u64> {
        self.pages.get(&(mod_revision, key.to_string())).copied()
    }

    /// True when nothing was recovered.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// One line for stderr: what `--salvage` added.
    pub fn summary(&self, file: &std::path::Path) -> String {
        if self.pages.is_empty() {
            format!(
                "{}: --salvage: the tree reaches every record a page scan finds live; nothing \
                 recovered (`salvage` lists the history on free pages)",
                file.display()
            )
        } else {
            format!(
                "{}: --salvage: {} record(s) the tree no longer reaches recovered from {} \
                 page(s) and included, each marked with its page",
                file.display(),
                self.pages.len(),
                self.recovered_pages
            )
        }
    }
}

/// `Records::read(snap)`, and with `salvage` the recovered records merged in (the same merge
/// `salvage --live` reports: history on free pages and uncertain records stay out).
pub fn records<'a>(snap: &'a Snapshot, salvage: bool) -> (Records<'a>, Option<Salvaged>) {
    if !salvage {
        return (Records::read(snap), None);
    }
    let meta = MetaInfo::read(snap);
    let (records, s) = salvage::read_salvaged(snap, &meta);
    let pages = s
        .recovered
        .iter()
        .map(|f| ((f.rev.main, display_key(f.kv.key)), f.page))
        .collect();
    let extra: Vec<Record<'a>> = s
        .recovered
        .iter()
        .map(|f| Record {
            rev: f.rev,
            kv: f.kv,
        })
        .collect();
    let salvaged = Salvaged {
        pages,
        recovered_pages: s.recovered_pages.len(),
    };
    (records.with_extra(extra), Some(salvaged))
}

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (possibly damaged).
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Also list every live record of the merged view (key, revisions, value CRC-32C), not only
    /// the salvaged ones.
    #[arg(long)]
    pub live: bool,
    /// Records listed per section in text output (JSON lists all).
    #[arg(long, default_value_t = 20)]
    pub max: usize,
}

#[derive(Serialize)]
struct FoundJson {
    key: String,
    revision: String,
    mod_revision: i64,
    create_revision: i64,
    version: i64,
    tombstone: bool,
    page: u64,
    /// CRC-32C of the value, to compare copies without showing the value.
    value_crc32c: u32,
}

impl FoundJson {
    fn of(f: &Found<'_>) -> FoundJson {
        FoundJson {
            key: display_key(f.kv.key),
            revision: f.rev.to_string(),
            mod_revision: f.kv.mod_revision,
            create_revision: f.kv.create_revision,
            version: f.kv.version,
            tombstone: f.rev.tombstone,
            page: f.page,
            value_crc32c: crate::crc::crc32c(f.kv.value),
        }
    }
}

#[derive(Serialize)]
struct LiveJson {
    key: String,
    mod_revision: i64,
    create_revision: i64,
    version: i64,
    value_crc32c: u32,
    salvaged_from_page: Option<u64>,
}

#[derive(Serialize)]
struct SalvageJson {
    file: String,
    pages_scanned: u64,
    key_leaf_pages: usize,
    reached_pages: usize,
    tree_complete: bool,
    live_keys_tree: usize,
    live_keys_salvaged: usize,
    live_records_salvaged: usize,
    recovered_pages: Vec<u64>,
    recovered: Vec<FoundJson>,
    history_pages: Vec<u64>,
    history: Vec<FoundJson>,
    /// At or below the compaction, on a hole page an overlapping one contradicts: live, or
    /// deleted before the compaction. Not in the live set.
    uncertain: Vec<FoundJson>,
    conflicts: Vec<String>,
    mixed_pages: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    live: Option<Vec<LiveJson>>,
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    guard.input(&args.snapshot);
    let (fmt, sink) = args
        .out
        .prepare("salvage", formats("salvage"), &guard, Mode::Private)?;
    let snap = open_snapshot(&args.snapshot)?;
    let meta = MetaInfo::read(&snap);
    let (records, s) = salvage::read_salvaged(&snap, &meta);
    let report = to_json(&snap.path.display().to_string(), &s, &records, args.live);
    let mut out = sink;
    match fmt {
        Fmt::Json => write_json(&mut out, &report)?,
        _ => render_text(&mut out, &report, args.max)?,
    }
    out.finish()?;
    // Exit 1 when the tree lost something (salvage was needed) or pages conflict.
    Ok(
        if records.complete()
            && report.recovered.is_empty()
            && report.uncertain.is_empty()
            && report.conflicts.is_empty()
        {
            Outcome::Clean
        } else {
            Outcome::Problems
        },
    )
}

fn to_json(file: &str, s: &Salvage<'_>, records: &Records<'_>, live: bool) -> SalvageJson {
    SalvageJson {
        file: file.to_string(),
        pages_scanned: s.pages_scanned,
        key_leaf_pages: s.key_leaf_pages,
        reached_pages: s.reached_pages,
        tree_complete: records.complete(),
        live_keys_tree: s.tree_live,
        live_keys_salvaged: s.live_count(),
        live_records_salvaged: s.live_salvaged(),
        recovered_pages: s.recovered_pages.clone(),
        recovered: s.recovered.iter().map(FoundJson::of).collect(),
        history_pages: s.history_pages.clone(),
        history: s.history.iter().map(FoundJson::of).collect(),
        uncertain: s.uncertain.iter().map(FoundJson::of).collect(),
        conflicts: s
            .conflicts
            .iter()
            .map(|(r, p)| format!("revision {r} on page {p} differs from an earlier copy"))
            .collect(),
        mixed_pages: s.mixed_pages.clone(),
        live: live.then(|| {
            s.live(records)
                .map(|l| LiveJson {
                    key: display_key(l.kv.key),
                    mod_revision: l.kv.mod_revision,
                    create_revision: l.kv.create_revision,
                    version: l.kv.version,
                    value_crc32c: crate::crc::crc32c(l.kv.value),
                    salvaged_from_page: l.salvaged_from,
                })
                .collect()
        }),
    }
}

fn render_text(out: &mut impl Write, r: &SalvageJson, max: usize) -> std::io::Result<()> {
    // Lines stay within 80 columns: the summary wraps under its label, and a record whose key
    // would pass the edge gets the key on a line of its own.
    const LABEL: &str = "            ";
    writeln!(out, "snapshot    {}", r.file)?;
    let pages = format!(
        "{} scanned, {} key-bucket leaves: {} reached by the tree, {} in its holes, {} on free \
         pages (old copies)",
        r.pages_scanned,
        r.key_leaf_pages,
        r.reached_pages,
        r.recovered_pages.len(),
        r.history_pages.len()
    );
    writeln!(out, "{}", wrap(&pages, 80, "pages       ", LABEL))?;
    let live = format!(
        "{} through the tree, {} with salvaged records; live records salvaged: {}",
        r.live_keys_tree, r.live_keys_salvaged, r.live_records_salvaged
    );
    writeln!(out, "{}", wrap(&live, 80, "live keys   ", LABEL))?;
    let section = |out: &mut dyn Write, title: &str, why: &str, list: &[FoundJson]| {
        let head = format!("{title}: {} ({why})", list.len());
        writeln!(out, "\n{}", wrap(&head, 80, "", "  "))?;
        let shown = &list[..list.len().min(max)];
        let rev_w = shown.iter().map(|f| f.revision.len()).max().unwrap_or(0);
        let page_w = shown
            .iter()
            .map(|f| f.page.to_string().len())
            .max()
            .unwrap_or(0);
        for f in shown {
            let lead = format!("  {:<rev_w$}  page {:<page_w$}", f.revision, f.page);
            let delete = if f.tombstone { "  (delete)" } else { "" };
            let one = format!("{lead}  {}{delete}", f.key);
            if one.chars().count() <= 80 {
                writeln!(out, "{one}")?;
            } else {
                writeln!(out, "{}{delete}\n    {}", lead.trim_end(), f.key)?;
            }
        }
        if list.len() > max {
            writeln!(
                out,
                "  … and {} more (--format json lists all)",
                list.len() - max
            )?;
        }
        std::io::Result::Ok(())
    };
    section(
        out,
        "salvaged",
        "the tree no longer reaches these",
        &r.recovered,
    )?;
    section(out, "history on free pages", "not live data", &r.history)?;
    section(
        out,
        "uncertain",
        "older copies disagree: live, or deleted before the compaction; not counted",
        &r.uncertain,
    )?;
    for c in &r.conflicts {
        writeln!(out, "conflict: {c}")?;
    }
    if !r.mixed_pages.is_empty() {
        let text = format!(
            "{} unreached leaf page(s) hold elements that are not key-bucket records: {:?}",
            r.mixed_pages.len(),
            &r.mixed_pages[..r.mixed_pages.len().min(max)]
        );
        writeln!(out, "\n{}", wrap(&text, 80, "", "  "))?;
    }
    Ok(())
}
