//! `get`: one record's metadata, typeMeta and history. The value only with `--reveal`.

use super::common::{display_key, open_snapshot};
use super::ls::{entry, Entry};
use super::{CmdResult, Error, Outcome};
use crate::etcd::records::Records;
use crate::output::{write_json, Format};
use base64::Engine;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file.
    pub snapshot: PathBuf,
    /// The etcd key, e.g. /registry/secrets/default/my-secret.
    pub key: String,
    /// The key as of this revision (its latest revision at or below N).
    #[arg(long)]
    pub revision: Option<i64>,
    /// Print the stored value bytes (possibly a secret). Off by default.
    #[arg(long)]
    pub reveal: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Serialize)]
struct GetOutput<'a> {
    #[serde(flatten)]
    record: Entry<'a>,
    /// Every revision of the key held in the snapshot, oldest first.
    history: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_base64: Option<String>,
}

pub fn run(args: &Args) -> CmdResult {
    let snap = open_snapshot(&args.snapshot)?;
    let records = Records::read(&snap);
    let revs = records.of_key(args.key.as_bytes());
    let at = revs
        .iter()
        .rev()
        .map(|&i| records.get(i))
        .find(|r| args.revision.is_none_or(|n| r.rev.main <= n))
        .ok_or_else(|| {
            let when = args
                .revision
                .map(|n| format!(" at revision {n}"))
                .unwrap_or_default();
            Error::new(format!(
                "{}: key {:?} not found{when}",
                snap.path.display(),
                display_key(args.key.as_bytes())
            ))
        })?;
    let out_rec = GetOutput {
        record: entry(at),
        history: revs
            .iter()
            .map(|&i| records.get(i).rev.to_string())
            .collect(),
        value_base64: args
            .reveal
            .then(|| base64::engine::general_purpose::STANDARD.encode(at.kv.value)),
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => write_json(&mut out, &out_rec)?,
        Format::Text => {
            let r = &out_rec.record;
            writeln!(out, "key              {}", r.key)?;
            if r.deleted {
                writeln!(
                    out,
                    "revision         {} (deleted at revision {})",
                    r.revision, at.rev.main
                )?;
            } else {
                writeln!(out, "revision         {}", r.revision)?;
            }
            writeln!(out, "create_revision  {}", r.create_revision)?;
            writeln!(out, "mod_revision     {}", r.mod_revision)?;
            writeln!(out, "version          {}", r.version)?;
            writeln!(out, "lease            {}", r.lease)?;
            writeln!(out, "value size       {}", r.value_size)?;
            writeln!(out, "envelope         {}", r.info.envelope)?;
            if let Some(n) = &r.info.key_name {
                writeln!(out, "key name         {n}")?;
            }
            if let Some(res) = &r.info.resource {
                writeln!(out, "resource         {res}")?;
            }
            if let Some(ns) = r.info.namespace {
                writeln!(out, "namespace        {ns}")?;
            }
            if let Some(k) = &r.info.kind {
                writeln!(
                    out,
                    "kind             {} {}",
                    r.info.api_version.as_deref().unwrap_or(""),
                    k
                )?;
            }
            writeln!(out, "history          {}", out_rec.history.join(" "))?;
            match &out_rec.value_base64 {
                Some(v) => writeln!(out, "value (base64)   {v}")?,
                None => writeln!(out, "value            (hidden; --reveal prints it)")?,
            }
        }
    }
    Ok(Outcome::Clean)
}
