//! `hashkv`: what `etcdctl endpoint hashkv --rev R` would answer for this file, without a server
//! (see [`crate::etcd::hashkv`]).

use super::common::open_snapshot;
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::{CmdResult, Error, Outcome};
use crate::etcd::hashkv::{self, HashKv, HashKvError, HashRules};
use crate::etcd::meta::MetaInfo;
use crate::output::write_json;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (`etcdctl snapshot save` output or a data dir's member/snap/db).
    pub snapshot: PathBuf,
    /// Revision to hash, as `etcdctl endpoint hashkv --rev`; 0 (the default) = latest.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub revision: i64,
    /// The etcd release whose answer to reproduce (`3.4.23`, `3.5.21`, `3.6`): patch releases
    /// differ at the compact revision (docs/many.md). Default: 3.6's rules for a file etcd 3.6
    /// wrote (`meta/storageVersion`); for a 3.4/3.5 file those of 3.4.0-3.4.26 and 3.5.0-3.5.9
    /// (checked against etcd 3.4.23), with a note when later patch releases answer otherwise.
    #[arg(long, value_name = "X.Y.Z")]
    pub etcd_version: Option<String>,
    /// `-w table|json|simple`, as etcdctl's (also `-o`).
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Serialize)]
struct JsonHashKv<'a> {
    file: String,
    hash: u32,
    hash_revision: i64,
    /// `header.revision` of etcd's response.
    current_revision: i64,
    compact_revision: i64,
    /// The etcd releases whose answer this is.
    rules: &'static str,
    /// Other releases that answer differently for this file and revision (only when
    /// `--etcd-version` was not given and the file does not say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    other_releases: Vec<OtherRelease>,
    /// False when part of the key bucket could not be read: the hash then covers only what was.
    complete: bool,
    problems: &'a [String],
}

#[derive(Serialize)]
struct OtherRelease {
    releases: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<u32>,
    /// etcd's error, for releases that refuse the revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `--etcd-version`: `X.Y.Z`, or `3.6` (every 3.6 release hashes alike).
fn parse_release(v: &str) -> Result<HashRules, Error> {
    let parts: Vec<&str> = v.trim_start_matches('v').split('.').collect();
    let n: Option<Vec<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
    let rules = match n.as_deref() {
        Some([3, 6]) => HashRules::of_release(3, 6, 0),
        Some([a, b, c]) => HashRules::of_release(*a, *b, *c),
        _ => None,
    };
    rules.ok_or_else(|| {
        Error::new(format!(
            "--etcd-version {}: give a release X.Y.Z from 3.4.0 on (or 3.6); 3.4 and 3.5 patch \
             releases hash differently at the compact revision",
            crate::sanitize::echo(v.as_bytes())
        ))
    })
}

fn etcd_error(e: &HashKvError) -> String {
    format!("etcdserver: {}", e.etcd_message())
}

pub fn run(args: &Args) -> CmdResult {
    if args.revision < 0 {
        return Err(Error::new(format!(
            "--revision {}: must be 0 (latest) or a positive revision",
            args.revision
        )));
    }
    let mut guard = Guard::new();
    guard.input(&args.snapshot);
    let (fmt, mut out) = args
        .out
        .prepare("hashkv", formats("hashkv"), &guard, Mode::Private)?;
    let explicit = args
        .etcd_version
        .as_deref()
        .map(parse_release)
        .transpose()?;
    let snap = open_snapshot(&args.snapshot)?;
    let meta = MetaInfo::read(&snap);
    // etcd 3.6 writes meta/storageVersion; 3.4 and 3.5 files do not say their patch release.
    let written_by_36 = meta.storage_version.is_some();
    let rules = explicit.unwrap_or(if written_by_36 {
        HashRules::TombstoneAtCompactSkipped
    } else {
        HashRules::Legacy
    });
    let c = hashkv::hash_by_rev_with(&snap, None, &meta, args.revision, rules);
    // Where the releases could differ (a revision at the compaction, a tombstone there), ask
    // what the others answer.
    let mut other_releases = Vec::new();
    let at_compact = matches!(c.result, Err(HashKvError::Compacted { requested, compact_revision }) if requested == compact_revision);
    if explicit.is_none() && !written_by_36 && (at_compact || c.tombstones_at_compact > 0) {
        for r in HashRules::ALL.into_iter().filter(|&r| r != rules) {
            let o = hashkv::hash_by_rev_with(&snap, None, &meta, args.revision, r);
            let same = match (&o.result, &c.result) {
                (Ok(a), Ok(b)) => a.hash == b.hash,
                (Err(a), Err(b)) => a == b,
                _ => false,
            };
            if !same {
                other_releases.push(OtherRelease {
                    releases: r.releases(),
                    hash: o.result.as_ref().ok().map(|h| h.hash),
                    error: o.result.as_ref().err().map(etcd_error),
                });
            }
        }
    }
    let others_note = other_releases
        .iter()
        .map(|o| match (o.hash, &o.error) {
            (Some(h), _) => format!("; {} answer hash {h}", o.releases),
            (None, Some(e)) => format!("; {} answer \"{e}\"", o.releases),
            _ => String::new(),
        })
        .collect::<String>();
    let h: HashKv = match c.result {
        Ok(h) => h,
        Err(e) => {
            let detail = match e {
                hashkv::HashKvError::Compacted {
                    compact_revision, ..
                } => format!("compact revision {compact_revision}"),
                hashkv::HashKvError::FutureRevision {
                    current_revision, ..
                } => format!("current revision {current_revision}"),
            };
            let which = if explicit.is_some() || written_by_36 || !others_note.is_empty() {
                format!("{} answer", rules.releases())
            } else {
                "etcd answers".to_string()
            };
            return Err(Error::new(format!(
                "{}: revision {}: {which} \"{}\" ({detail}){others_note}{}",
                snap.path.display(),
                args.revision,
                etcd_error(&e),
                if others_note.is_empty() {
                    ""
                } else {
                    " (--etcd-version X.Y.Z picks one)"
                }
            )));
        }
    };
    let mut problems: Vec<String> = c.problems.iter().map(|p| p.to_string()).collect();
    if c.unreadable > 0 {
        problems.push(format!(
            "{} key bucket entries are not mvcc records (run `etcd-autopsy check` for where)",
            c.unreadable
        ));
    }
    match fmt {
        Fmt::Json => write_json(
            &mut out,
            &JsonHashKv {
                file: snap.path.display().to_string(),
                hash: h.hash,
                hash_revision: h.hash_revision,
                current_revision: h.current_revision,
                compact_revision: h.compact_revision,
                rules: rules.releases(),
                other_releases,
                complete: problems.is_empty(),
                problems: &problems,
            },
        )?,
        Fmt::Simple => writeln!(
            out,
            "{}, {}, {}, {}",
            snap.path.display(),
            h.hash,
            h.hash_revision,
            h.compact_revision
        )?,
        _ => write!(
            out,
            "{}",
            super::table::etcdctl(
                &["FILE", "HASH", "HASH REVISION", "COMPACT REVISION"],
                &[vec![
                    snap.path.display().to_string(),
                    h.hash.to_string(),
                    h.hash_revision.to_string(),
                    h.compact_revision.to_string(),
                ]],
            )
        )?,
    }
    out.finish()?;
    if !others_note.is_empty() && fmt != Fmt::Json {
        eprintln!(
            "etcd-autopsy: {}: this is what {} answer{others_note} (--etcd-version X.Y.Z picks one)",
            snap.path.display(),
            rules.releases()
        );
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("etcd-autopsy: {}: {p}", snap.path.display());
        }
        eprintln!(
            "etcd-autopsy: {}: the hash covers only what could be read; etcd would not start on \
             this file. Run `etcd-autopsy check` for details.",
            snap.path.display()
        );
        return Ok(Outcome::Problems);
    }
    Ok(Outcome::Clean)
}
