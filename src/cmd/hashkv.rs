//! `hashkv`: what `etcdctl endpoint hashkv --rev R` would answer for this file, without a server
//! (see [`crate::etcd::hashkv`]).

use super::common::open_snapshot;
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::{CmdResult, Error, Outcome};
use crate::etcd::hashkv::{self, HashKv};
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
    /// False when part of the key bucket could not be read: the hash then covers only what was.
    complete: bool,
    problems: &'a [String],
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
    let snap = open_snapshot(&args.snapshot)?;
    let meta = MetaInfo::read(&snap);
    let c = hashkv::hash_by_rev(&snap, None, &meta, args.revision);
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
            return Err(Error::new(format!(
                "{}: revision {}: etcd answers \"etcdserver: {}\" ({detail})",
                snap.path.display(),
                args.revision,
                e.etcd_message()
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
