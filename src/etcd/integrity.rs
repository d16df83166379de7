//! Is a snapshot intact? The SHA-256 trailer, both meta pages, the page graph (as `bbolt check`),
//! every record decodable, and alarms worth knowing about. Used by `check`, `report`, `validate`.

use super::cluster::{Alarm, ClusterInfo};
use super::records::Records;
use super::trailer::{Trailer, TrailerCheck};
use super::Snapshot;
use crate::bbolt::{CheckReport, Meta, MetaChoice};
use serde::Serialize;

/// Everything the integrity check found.
#[derive(Serialize)]
pub struct Integrity {
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
    /// Every problem, one line each, in a stable order (past the caps, one line counts the rest).
    pub problems: Vec<String>,
    /// The file is shorter than high-water mark × page size (then a missing trailer is not a
    /// data-dir copy). The problem line says so in `problems`.
    #[serde(skip)]
    pub truncated: bool,
    /// How many problems there are, those counted but not listed included.
    pub problem_count: u64,
    /// True when the only problem (if any) is the SHA-256 trailer's digest: the metas, pages and
    /// records are intact (what `check` calls "structure intact").
    pub structure_ok: bool,
}

impl Integrity {
    /// Runs every check on `snap`: the trailer hash on one core, the page walk and record decode
    /// on the other.
    pub fn run(snap: &Snapshot) -> Integrity {
        let (trailer, (structure, records)) = rayon::join(
            || snap.verify_trailer(),
            || (snap.check_structure(), Records::read(snap)),
        );
        Integrity::from_parts(snap, trailer, structure, &records)
    }

    /// Builds the result from checks the caller already ran (so `report` decodes the key bucket
    /// once for the integrity check and for everything else).
    pub fn from_parts(
        snap: &Snapshot,
        trailer: TrailerCheck,
        structure: CheckReport,
        records: &Records<'_>,
    ) -> Integrity {
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
        let truncated = snap.truncation();
        if let Some(t) = &truncated {
            problems.push(t.clone());
        }
        match &trailer.trailer {
            // A truncated file has no trailer either; it is not a data-dir copy.
            Trailer::Missing if truncated.is_some() => {}
            Trailer::Missing => warnings.push(format!(
                "no SHA-256 trailer (size {} is not 32 more than a multiple of 512): a copy of a data \
                 dir's member/snap/db has none; `etcdctl snapshot restore` needs --skip-hash-check",
                trailer.file_size
            )),
            Trailer::Mismatch { stored, computed } => problems.push(format!(
                "SHA-256 trailer mismatch: stored {stored}, computed {computed}; restore would fail"
            )),
            Trailer::Valid { .. } => {}
            Trailer::NotChecked => warnings.push(
                "SHA-256 trailer not checked (skipped for speed; `check` or `report` verify it)"
                    .into(),
            ),
        }
        if trailer.size_matches_hwm == Some(false) {
            problems.push(format!(
                "file holds {} bytes before the trailer but the high-water mark says {}",
                trailer.file_size.saturating_sub(32),
                trailer.logical_size
            ));
        }
        problems.extend(structure.problems.iter().map(|p| p.to_string()));
        let mut record_problems: Vec<String> = records
            .record_problems
            .iter()
            .map(|p| p.to_string())
            .collect();
        if records.record_problems_omitted > 0 {
            record_problems.push(format!(
                "bucket key: {} more undecodable record(s) not listed (only the first {} are kept)",
                records.record_problems_omitted,
                crate::bbolt::MAX_PROBLEMS
            ));
        }
        problems.extend(record_problems.iter().cloned());
        if !records.has_key_bucket && truncated.is_some() {
            problems.push("no readable `key` bucket (the file is truncated)".into());
        } else if !records.has_key_bucket {
            problems.push("no `key` bucket: not an etcd v3 backend".into());
        }
        let alarms: Vec<Alarm> = cluster.raised_alarms().cloned().collect();
        for a in &alarms {
            warnings.push(format!(
                "alarm {} raised on member {}",
                a.alarm, a.member_id
            ));
        }
        // The lines that stand for many (`N more problem(s) not listed`) count as N.
        let omitted: u64 = structure
            .problems
            .iter()
            .filter_map(|p| match p.kind {
                crate::bbolt::ProblemKind::Omitted { count } => Some(count),
                _ => None,
            })
            .sum();
        let summary_lines = structure
            .problems
            .iter()
            .filter(|p| matches!(p.kind, crate::bbolt::ProblemKind::Omitted { .. }))
            .count()
            + usize::from(records.record_problems_omitted > 0);
        let problem_count =
            (problems.len() - summary_lines) as u64 + omitted + records.record_problems_omitted;
        let trailer_problems = usize::from(matches!(trailer.trailer, Trailer::Mismatch { .. }));
        Integrity {
            file: snap.path.display().to_string(),
            ok: problems.is_empty(),
            structure_ok: problems.len() == trailer_problems,
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
            truncated: truncated.is_some(),
            problem_count,
        }
    }
}
