//! `ls`: keys in the snapshot with their metadata — live keys by default, every revision with
//! `--history`, deleted keys with `--deleted` (their last value, and when they were deleted).
//! Selection as in `get` (resource, names, `-n`, `-l`, key prefixes, `--revision`).

use super::common::{display_key, open_snapshot};
use super::objects::Decoder;
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::select::{select, SelectArgs};
use super::sources::KeySourceArgs;
use super::{CmdResult, Outcome};
use crate::etcd::records::{Record, Records};
use crate::kube::ObjectInfo;
use crate::output::write_json;
use serde::Serialize;
use std::io::Write;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Every revision held, tombstones included, not just the live keys.
    #[arg(long, conflicts_with_all = ["deleted", "revision"])]
    pub history: bool,
    /// Only the keys, one a line.
    #[arg(long)]
    pub keys_only: bool,
    /// Only the number of keys selected.
    #[arg(long, conflicts_with = "keys_only")]
    pub count: bool,
    /// -o text (a table and a count), json (an array), jsonl (one entry a line).
    #[command(flatten)]
    pub out: OutputArgs,
    /// Key sources, for `--selector` on encrypted objects.
    #[command(flatten)]
    pub keys: KeySourceArgs,
}

#[derive(Serialize)]
pub struct Entry<'a> {
    pub key: String,
    pub revision: String,
    pub deleted: bool,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub lease: i64,
    pub value_size: usize,
    /// With --deleted: the revision of the deletion (the entry shows the last value before it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<i64>,
    #[serde(flatten)]
    pub info: ObjectInfo<'a>,
}

pub fn entry<'a>(r: &Record<'a>) -> Entry<'a> {
    Entry {
        key: display_key(r.kv.key),
        revision: r.rev.to_string(),
        deleted: r.rev.tombstone,
        create_revision: r.kv.create_revision,
        mod_revision: r.kv.mod_revision,
        version: r.kv.version,
        lease: r.kv.lease,
        value_size: r.kv.value.len(),
        deleted_at: None,
        info: ObjectInfo::describe(r.kv.key, r.kv.value),
    }
}

pub fn run(args: &Args) -> CmdResult {
    let sel = &args.select;
    let mut guard = Guard::new();
    guard.input(&sel.snapshot);
    args.keys.guard(&mut guard);
    let (fmt, mut out) = args
        .out
        .prepare("ls", formats("ls"), &guard, Mode::Private)?;
    let target = sel.target()?;
    let labels = sel.label_selector()?;
    let keyring = if args.keys.is_empty() {
        None
    } else {
        Some(args.keys.load()?)
    };
    let snap = open_snapshot(&sel.snapshot)?;
    let records = Records::read(&snap);
    let mut selected: Vec<(&Record, Option<i64>)> = if args.history {
        // Every revision of the selected keys.
        let mut live = sel.clone();
        live.revision = None;
        let mut all = Vec::new();
        for deleted in [false, true] {
            live.deleted = deleted;
            for s in select(&records, &live, &target) {
                all.extend(
                    records
                        .of_key(s.key())
                        .iter()
                        .map(|&i| (records.get(i), None)),
                );
            }
        }
        all.sort_by(|a, b| a.0.kv.key.cmp(b.0.kv.key).then(a.0.rev.cmp(&b.0.rev)));
        all.dedup_by(|a, b| a.0.rev == b.0.rev && a.0.kv.key == b.0.kv.key);
        all
    } else {
        let decoder = labels
            .as_ref()
            .map(|_| Decoder::new(keyring.as_ref(), false));
        select(&records, sel, &target)
            .into_iter()
            .filter(|s| match (&labels, &decoder) {
                (Some(l), Some(d)) => l.matches(&d.decode_one(s).object),
                _ => true,
            })
            .map(|s| (s.record, s.deleted_at.map(|r| r.main)))
            .collect()
    };
    if let Some(n) = sel.limit {
        selected.truncate(n);
    }
    if args.count {
        writeln!(out, "{}", selected.len())?;
    } else if args.keys_only {
        for (r, _) in &selected {
            writeln!(out, "{}", display_key(r.kv.key))?;
        }
    } else {
        let entries: Vec<Entry> = selected
            .iter()
            .map(|(r, d)| {
                let mut e = entry(r);
                if let Some(d) = d {
                    e.deleted_at = Some(*d);
                }
                e
            })
            .collect();
        match fmt {
            Fmt::Json => write_json(&mut out, &entries)?,
            Fmt::Jsonl => {
                for e in &entries {
                    serde_json::to_writer(&mut out, e).map_err(std::io::Error::from)?;
                    out.write_all(b"\n")?;
                }
            }
            _ => {
                // REVISION is the record's own (main.sub): for a live key that is its
                // mod_revision, so no MODIFIED column repeats it.
                writeln!(
                    out,
                    "{:<10} {:>8} {:>5} {:>8} {:<10} {:<22} KEY",
                    "REVISION", "CREATED", "VER", "SIZE", "ENVELOPE", "KIND"
                )?;
                for e in &entries {
                    let kind = match (&e.info.kind, &e.info.key_name) {
                        (Some(k), _) => k.clone(),
                        (None, Some(n)) => format!("key {n}"),
                        _ => "-".into(),
                    };
                    let env = match e.deleted_at {
                        Some(_) => "deleted",
                        None if e.deleted => "deleted",
                        None => e.info.envelope,
                    };
                    writeln!(
                        out,
                        "{:<10} {:>8} {:>5} {:>8} {:<10} {:<22} {}",
                        e.revision, e.create_revision, e.version, e.value_size, env, kind, e.key
                    )?;
                }
                let what = if args.history { "revision" } else { "key" };
                let plural = if entries.len() == 1 { "" } else { "s" };
                writeln!(out, "{} {what}{plural}", entries.len())?;
            }
        }
    }
    out.finish()?;
    if !records.complete() {
        eprintln!(
            "etcd-autopsy: {}: partial listing: {} structural and {} record problem(s); run `check`",
            snap.path.display(),
            records.structure_problems.len(),
            records.record_problems.len() as u64 + records.record_problems_omitted
        );
        return Ok(Outcome::Problems);
    }
    Ok(Outcome::Clean)
}
