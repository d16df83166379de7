//! `check`: is the snapshot intact? Renders [`Integrity`].
//!
//! Exit 0 healthy (a missing trailer is only a warning: data-dir copies have none), 1 damage
//! found in a readable file, 2 unreadable.

use super::common::open_snapshot;
use super::{CmdResult, Outcome};
use crate::etcd::integrity::Integrity;
use crate::etcd::trailer::Trailer;
use crate::output::{write_json, Format};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file.
    pub snapshot: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: &Args) -> CmdResult {
    let snap = open_snapshot(&args.snapshot)?;
    let c = Integrity::run(&snap);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => write_json(&mut out, &c)?,
        Format::Text => render_text(&mut out, &c)?,
    }
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
    };
    writeln!(out, "trailer    {trailer}")?;
    let free = match c.structure.freelist_pages {
        Some(n) => format!("freelist persisted, {n} free pages"),
        None => format!(
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
    if c.ok {
        writeln!(out, "result     OK")
    } else {
        writeln!(out, "result     DAMAGED: {} problem(s)", c.problem_count)
    }
}
