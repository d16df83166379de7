//! `check`: is the snapshot intact? The SHA-256 trailer, both meta pages, the page graph (as
//! `bbolt check`), every record decodable, and alarms worth knowing about.
//!
//! Exit 0 healthy (a missing trailer is only a warning: data-dir copies have none), 1 damage
//! found in a readable file, 2 unreadable.

use super::common::open_snapshot;
use super::{CmdResult, Outcome};
use crate::bbolt::{CheckReport, Meta, MetaChoice};
use crate::etcd::cluster::{Alarm, ClusterInfo};
use crate::etcd::records::Records;
use crate::etcd::trailer::{Trailer, TrailerCheck};
use crate::etcd::Snapshot;
use crate::output::{write_json, Format};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file.
    pub snapshot: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Everything `check` found, as rendered in JSON.
#[derive(Serialize)]
pub struct SnapshotCheck {
    pub file: String,
    pub ok: bool,
    pub page_size: usize,
    pub meta: Meta,
    pub meta_choice: MetaChoice,
    pub trailer: TrailerCheck,
    pub structure: CheckReport,
    pub revisions: usize,
    pub live_keys: usize,
    pub record_problems: Vec<String>,
    pub alarms: Vec<Alarm>,
    pub warnings: Vec<String>,
    /// Every problem, one line each, in a stable order.
    pub problems: Vec<String>,
}

impl SnapshotCheck {
    /// Runs every check on `snap`: the trailer hash on one core, the page walk and record decode
    /// on the other.
    pub fn run(snap: &Snapshot) -> SnapshotCheck {
        let (trailer, (structure, records)) = rayon::join(
            || snap.verify_trailer(),
            || (snap.check_structure(), Records::read(snap)),
        );
        let cluster = ClusterInfo::read(snap);
        let db = snap.db();
        let choice = db.meta_choice().clone();
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        if choice.fell_back {
            problems.push(format!(
                "meta {} is invalid ({}); using the older meta {}",
                1 - choice.used,
                choice.other_invalid.as_deref().unwrap_or("?"),
                choice.used
            ));
        } else if let Some(e) = &choice.other_invalid {
            problems.push(format!(
                "meta {} (the older) is invalid: {e}",
                1 - choice.used
            ));
        }
        match &trailer.trailer {
            Trailer::Missing => warnings.push(format!(
                "no SHA-256 trailer (size {} is not 32 more than a multiple of 512): a copy of a data \
                 dir's member/snap/db has none; `etcdctl snapshot restore` needs --skip-hash-check",
                trailer.file_size
            )),
            Trailer::Mismatch { stored, computed } => problems.push(format!(
                "SHA-256 trailer mismatch: stored {stored}, computed {computed}; restore would fail"
            )),
            Trailer::Valid { .. } => {}
        }
        if trailer.size_matches_hwm == Some(false) {
            problems.push(format!(
                "file holds {} bytes before the trailer but the high-water mark says {}",
                trailer.file_size.saturating_sub(32),
                trailer.logical_size
            ));
        }
        problems.extend(structure.problems.iter().map(|p| p.to_string()));
        let record_problems: Vec<String> = records
            .record_problems
            .iter()
            .map(|p| p.to_string())
            .collect();
        problems.extend(record_problems.iter().cloned());
        if !records.has_key_bucket {
            problems.push("no `key` bucket: not an etcd v3 backend".into());
        }
        let alarms: Vec<Alarm> = cluster.raised_alarms().cloned().collect();
        for a in &alarms {
            warnings.push(format!(
                "alarm {} raised on member {}",
                a.alarm, a.member_id
            ));
        }
        SnapshotCheck {
            file: snap.path.display().to_string(),
            ok: problems.is_empty(),
            page_size: db.page_size(),
            meta: *db.meta(),
            meta_choice: choice,
            trailer,
            structure,
            revisions: records.all.len(),
            live_keys: records.live_count(),
            record_problems,
            alarms,
            warnings,
            problems,
        }
    }
}

pub fn run(args: &Args) -> CmdResult {
    let snap = open_snapshot(&args.snapshot)?;
    let c = SnapshotCheck::run(&snap);
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

fn render_text(out: &mut impl Write, c: &SnapshotCheck) -> std::io::Result<()> {
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
        writeln!(out, "result     DAMAGED: {} problem(s)", c.problems.len())
    }
}
