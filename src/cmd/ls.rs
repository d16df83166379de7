//! `ls`: keys in the snapshot with their metadata — live keys by default, every revision with
//! `--history`, deleted keys with `--deleted`.

use super::common::{display_key, open_snapshot};
use super::{CmdResult, Outcome};
use crate::etcd::records::{Record, Records};
use crate::kube::ObjectInfo;
use crate::output::{write_json, Format};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file.
    pub snapshot: PathBuf,
    /// Only keys starting with this prefix (e.g. /registry/secrets/).
    pub prefix: Option<String>,
    /// Every revision held, tombstones included, not just the live keys.
    #[arg(long)]
    pub history: bool,
    /// Keys whose latest revision is a deletion (still visible until compaction).
    #[arg(long, conflicts_with = "history")]
    pub deleted: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
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
        info: ObjectInfo::describe(r.kv.key, r.kv.value),
    }
}

pub fn run(args: &Args) -> CmdResult {
    let snap = open_snapshot(&args.snapshot)?;
    let records = Records::read(&snap);
    let prefix = args.prefix.as_deref().unwrap_or("").as_bytes();
    let selected: Vec<&Record> = if args.history {
        records
            .history()
            .filter(|r| r.kv.key.starts_with(prefix))
            .collect()
    } else if args.deleted {
        // The latest revision of each key, where that is a tombstone.
        let mut out: Vec<&Record> = Vec::new();
        for r in records.history().filter(|r| r.kv.key.starts_with(prefix)) {
            if out.last().is_some_and(|l| l.kv.key == r.kv.key) {
                out.pop();
            }
            out.push(r);
        }
        out.retain(|r| r.rev.tombstone);
        out
    } else {
        records
            .live()
            .filter(|r| r.kv.key.starts_with(prefix))
            .collect()
    };
    let entries: Vec<Entry> = selected.iter().map(|r| entry(r)).collect();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => write_json(&mut out, &entries)?,
        Format::Text => {
            writeln!(
                out,
                "{:<10} {:>8} {:>8} {:>5} {:>8} {:<10} {:<22} KEY",
                "REVISION", "CREATED", "MODIFIED", "VER", "SIZE", "ENVELOPE", "KIND"
            )?;
            for e in &entries {
                let kind = match (&e.info.kind, &e.info.key_name) {
                    (Some(k), _) => k.clone(),
                    (None, Some(n)) => format!("key {n}"),
                    _ => "-".into(),
                };
                let env = if e.deleted {
                    "deleted"
                } else {
                    e.info.envelope
                };
                writeln!(
                    out,
                    "{:<10} {:>8} {:>8} {:>5} {:>8} {:<10} {:<22} {}",
                    e.revision,
                    e.create_revision,
                    e.mod_revision,
                    e.version,
                    e.value_size,
                    env,
                    kind,
                    e.key
                )?;
            }
        }
    }
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
