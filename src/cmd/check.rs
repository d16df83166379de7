//! `check`: is the snapshot intact? Renders [`Integrity`].
//!
//! Exit 0 healthy (a missing trailer is only a warning: data-dir copies have none), 1 damage
//! found in a readable file, 2 unreadable.

use super::common::open_snapshot;
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::{CmdResult, Outcome};
use crate::bbolt::FreelistState;
use crate::etcd::integrity::Integrity;
use crate::etcd::trailer::Trailer;
use crate::output::write_json;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (also an etcd data dir, or a .gz/.zst/.xz snapshot).
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    guard.input(&args.snapshot);
    let (fmt, mut out) = args
        .out
        .prepare("check", formats("check"), &guard, Mode::Private)?;
    let snap = open_snapshot(&args.snapshot)?;
    let c = Integrity::run(&snap);
    match fmt {
        Fmt::Json => write_json(&mut out, &c)?,
        _ => render_text(&mut out, &c)?,
    }
    out.finish()?;
    Ok(if c.ok {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

fn render_text(out: &mut impl Write, c: &Integrity) -> std::io::Result<()> {
    writeln!(out, "snapshot   {}", c.file)?;
    writeln!(
        out,
        "file       {} bytes, page size {}, high-water mark {} pages ({} bytes)",
        c.trailer.file_size, c.page_size, c.meta.hwm, c.trailer.logical_size
    )?;
    let other = match &c.meta_choice.other_invalid {
        None => "valid".to_string(),
        Some(e) => format!("INVALID: {e}"),
    };
    writeln!(
        out,
        "meta       meta {} in use (txid {}); meta {}: {}",
        c.meta_choice.used,
        c.meta.txid,
        1 - c.meta_choice.used,
        other
    )?;
    let trailer = match &c.trailer.trailer {
        Trailer::Missing => "missing".to_string(),
        Trailer::Valid { sha256 } => format!("valid (sha256 {sha256})"),
        Trailer::Mismatch { .. } => "MISMATCH".to_string(),
        Trailer::NotChecked => "not checked".to_string(),
    };
    writeln!(out, "trailer    {trailer}")?;
    let free = match (c.structure.freelist, c.structure.freelist_pages) {
        (FreelistState::Persisted, Some(n)) => format!("freelist persisted, {n} free pages"),
        (FreelistState::Unreadable, _) | (FreelistState::Persisted, None) => format!(
            "freelist persisted but UNREADABLE (page {}), {} unreachable pages",
            c.meta.freelist, c.structure.unreachable_pages
        ),
        (FreelistState::NotPersisted, _) => format!(
            "freelist not persisted, {} unreachable (free) pages",
            c.structure.unreachable_pages
        ),
    };
    writeln!(
        out,
        "structure  {} buckets, {} keys, {} pages reachable; {free}",
        c.structure.buckets, c.structure.keys, c.structure.reachable_pages
    )?;
    writeln!(
        out,
        "records    {} revisions, {} live keys",
        c.revisions, c.live_keys
    )?;
    for w in &c.warnings {
        writeln!(out, "warning    {w}")?;
    }
    const SHOWN: usize = 50;
    for p in c.problems.iter().take(SHOWN) {
        writeln!(out, "problem    {p}")?;
    }
    if c.problems.len() > SHOWN {
        writeln!(
            out,
            "problem    … and {} more (use --format json for all)",
            c.problems.len() - SHOWN
        )?;
    }
    let key_range = c
        .structure
        .problems
        .iter()
        .filter(|p| p.kind.since_bbolt_1_3_7())
        .count();
    if key_range > 0 {
        // tx_check.go gained the key-range rule in bbolt 1.3.7 (etcd 3.5.8); docs/compatibility.md.
        writeln!(
            out,
            "note       {key_range} of these break bbolt >= 1.3.7's key-range rule, which etcdutl \
             3.6/3.5.8+ enforce (and etcd 3.5.8+/3.6 at start when the freelist is not \
             persisted); etcdctl 3.4 and etcd <= 3.5.7 do not check it"
        )?;
    }
    if c.ok {
        writeln!(out, "result     OK")
    } else {
        writeln!(out, "result     DAMAGED: {} problem(s)", c.problem_count)
    }
}
