//! A restore plan for one snapshot: the `snapshot restore` command lines it needs, what a member
//! restored from it will hold, and what will go wrong if ignored.
//!
//! Upstream facts:
//! - `--bump-revision N --mark-compacted` exist in `etcdutl snapshot restore` from v3.6.0
//!   (etcd-io/etcd#16029) and were backported to v3.5.10 for both `etcdutl` and the deprecated
//!   `etcdctl snapshot restore` (etcd-io/etcd#16165, CHANGELOG-3.5 "v3.5.10"); etcd 3.4 has
//!   neither. They must come together (etcdutl/etcdutl/snapshot_command.go: "--mark-compacted
//!   required if --revision-bump > 0"). The bump adds a record at `latest + N` to the `key`
//!   bucket and sets `scheduledCompactRev` to it, so the member compacts there on start and
//!   every client's older revision gets `ErrCompacted` (a relist) instead of silently missing or
//!   replaying events (etcdutl/snapshot/v3_snapshot.go `modifyLatestRevision`; the Kubernetes
//!   side is kubernetes/kubernetes#118501, etcd-io/etcd#16028).
//! - Restore checks the SHA-256 trailer when `size % 512 == 32` and refuses a file without one
//!   unless `--skip-hash-check` ("snapshot missing hash but --skip-hash-check=false",
//!   clientv3/snapshot/v3_snapshot.go in 3.4, etcdutl/snapshot/v3_snapshot.go in 3.5+).
//! - Restore drops the `members` and `members_removed` buckets and writes the members of
//!   `--initial-cluster`; the `alarm` bucket and the rest are kept (same files), and etcd
//!   reloads stored alarms when it starts, so a NOSPACE alarm in the file comes back.

use super::cluster::{Alarm, ClusterInfo};
use super::display_key;
use super::meta::MetaInfo;
use super::records::Records;
use super::snapshot::Snapshot;
use super::trailer::{Trailer, TrailerCheck};
use serde::Serialize;

/// Smallest bump proposed: 10⁹ revisions, a thousand writes a second for eleven days.
pub const MIN_BUMP: u64 = 1_000_000_000;

/// Which restore tool a command line is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    /// `etcdutl snapshot restore`, v3.5.10+ / v3.6: has the bump flags.
    Etcdutl,
    /// `ETCDCTL_API=3 etcdctl snapshot restore` of etcd 3.4: no bump flags.
    Etcdctl34,
}

/// One member's restore command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Command {
    pub tool: Tool,
    pub member: String,
    /// The argument vector, the program first. Placeholders are in `<angle brackets>`.
    pub argv: Vec<String>,
}

/// The revision bump and why it has that size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Bump {
    pub bump: u64,
    /// The snapshot's latest revision (the `key` bucket's last, tombstones included).
    pub from_revision: i64,
    /// `from_revision + bump`: the restored member's revision, also its compacted revision.
    pub restored_revision: i64,
}

/// What a member restored from this file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Restored {
    /// Without a bump (etcd 3.4): the snapshot's revision.
    pub revision: i64,
    /// Without a bump: the compacted revision once the member has opened the db (an unfinished
    /// scheduled compaction is finished then, so it is the larger of the two).
    pub compacted_revision: Option<i64>,
    pub cluster_version: Option<String>,
    pub storage_version: Option<String>,
    pub live_keys: usize,
    /// Members named in the file: restore replaces them with `--initial-cluster`.
    pub members_in_file: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// No SHA-256 trailer: restore needs `--skip-hash-check`, and nothing then proves the file
    /// is the one that was saved.
    NoTrailer,
    /// The trailer does not match: the file changed after it was saved. Restore refuses it; do
    /// not skip the check, find an intact copy.
    TrailerMismatch,
    /// Trailer valid but the length does not fit the high-water mark.
    SizeMismatch,
    /// `scheduledCompactRev > finishedCompactRev`: the member finishes that compaction when it
    /// opens the db, so revisions up to `scheduled` are gone after restore.
    CompactionUnfinished { scheduled: i64, finished: i64 },
    /// Alarms stored in the file come back with the restored member.
    AlarmsSet { alarms: Vec<Alarm> },
    /// etcd 3.4 restore cannot bump: clients that saw revisions above the snapshot's will see
    /// revisions go back.
    NoBumpIn34,
    /// The file names no members: the command lines carry placeholders.
    NoMembers,
    /// Part of the `key` bucket could not be read: the revision may be understated.
    RecordsIncomplete,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestorePlan {
    pub snapshot: String,
    pub bump: Bump,
    pub restored: Restored,
    pub commands: Vec<Command>,
    pub warnings: Vec<Warning>,
}

/// The bump for a snapshot at `revision`: the file cannot say how many revisions the lost
/// cluster wrote after it was saved, and the bump must exceed that. The snapshot's own revision
/// is what the cluster wrote over its whole life; ten times it (rounded up to a power of ten)
/// covers nine more lifetimes at the same average rate, with [`MIN_BUMP`] as the floor.
pub fn bump_for(revision: i64) -> u64 {
    let ten_lives = u64::try_from(revision.max(1))
        .unwrap_or(1)
        .saturating_mul(10);
    let mut p: u64 = 1;
    while p < ten_lives {
        match p.checked_mul(10) {
            Some(n) => p = n,
            None => break,
        }
    }
    p.max(MIN_BUMP)
}

pub fn plan(
    snap: &Snapshot,
    records: &Records<'_>,
    trailer: &TrailerCheck,
    display_path: &str,
) -> RestorePlan {
    let meta = MetaInfo::read(snap);
    let cluster = ClusterInfo::read(snap);
    let revision = records.max_revision();
    let bump = bump_for(revision);
    let bump = Bump {
        bump,
        from_revision: revision,
        restored_revision: revision.saturating_add(i64::try_from(bump).unwrap_or(i64::MAX)),
    };
    let mut warnings = Vec::new();
    let skip_hash = match &trailer.trailer {
        Trailer::Missing => {
            warnings.push(Warning::NoTrailer);
            true
        }
        Trailer::Mismatch { .. } => {
            warnings.push(Warning::TrailerMismatch);
            false
        }
        // Not hashed: etcdutl hashes it on restore, so no --skip-hash-check is planned.
        Trailer::Valid { .. } | Trailer::NotChecked => {
            if trailer.size_matches_hwm == Some(false) {
                warnings.push(Warning::SizeMismatch);
            }
            false
        }
    };
    let finished = meta.finished_compact_revision;
    if let Some(s) = meta.scheduled_compact_revision {
        if s > finished.unwrap_or(0) {
            warnings.push(Warning::CompactionUnfinished {
                scheduled: s,
                finished: finished.unwrap_or(0),
            });
        }
    }
    let compacted = match (meta.scheduled_compact_revision, finished) {
        (Some(s), Some(f)) => Some(s.max(f)),
        (s, f) => s.or(f),
    };
    let alarms: Vec<Alarm> = cluster.raised_alarms().cloned().collect();
    if !alarms.is_empty() {
        warnings.push(Warning::AlarmsSet { alarms });
    }
    if !records.complete() {
        warnings.push(Warning::RecordsIncomplete);
    }
    warnings.push(Warning::NoBumpIn34);

    let mut members: Vec<(String, String)> = cluster
        .members
        .iter()
        .filter(|m| !m.is_learner)
        .map(|m| {
            // Names and URLs come from the file: control characters are escaped before they
            // reach a command line someone may paste into a shell.
            let name = if m.name.is_empty() {
                format!("<name of member {}>", display_key(m.id.as_bytes()))
            } else {
                display_key(m.name.as_bytes())
            };
            let url = m
                .peer_urls
                .first()
                .map(|u| display_key(u.as_bytes()))
                .unwrap_or_else(|| format!("<peer URL of {name}>"));
            (name, url)
        })
        .collect();
    members.sort();
    if members.is_empty() {
        warnings.push(Warning::NoMembers);
        members.push(("<member name>".into(), "<peer URL>".into()));
    }
    let initial_cluster = members
        .iter()
        .map(|(n, u)| format!("{n}={u}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut commands = Vec::new();
    for tool in [Tool::Etcdutl, Tool::Etcdctl34] {
        for (name, url) in &members {
            let mut argv: Vec<String> = match tool {
                Tool::Etcdutl => vec!["etcdutl".into()],
                Tool::Etcdctl34 => vec!["etcdctl".into()],
            };
            argv.extend(
                [
                    "snapshot",
                    "restore",
                    display_path,
                    "--name",
                    name,
                    "--data-dir",
                    &format!("<new data dir of {name}>"),
                    "--initial-cluster",
                    &initial_cluster,
                    "--initial-advertise-peer-urls",
                    url,
                    "--initial-cluster-token",
                    "<new cluster token>",
                ]
                .map(String::from),
            );
            if tool == Tool::Etcdutl {
                argv.extend([
                    "--bump-revision".into(),
                    bump.bump.to_string(),
                    "--mark-compacted".into(),
                ]);
            }
            if skip_hash {
                argv.push("--skip-hash-check".into());
            }
            commands.push(Command {
                tool,
                member: name.clone(),
                argv,
            });
        }
    }
    RestorePlan {
        snapshot: display_path.to_string(),
        bump,
        restored: Restored {
            revision,
            compacted_revision: compacted,
            cluster_version: cluster.cluster_version.clone(),
            storage_version: meta.storage_version.clone(),
            live_keys: records.live_count(),
            members_in_file: cluster
                .members
                .iter()
                .map(|m| display_key(m.name.as_bytes()))
                .collect(),
        },
        commands,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_has_a_floor_and_grows_with_the_revision() {
        assert_eq!(bump_for(0), MIN_BUMP);
        assert_eq!(bump_for(1691), MIN_BUMP);
        assert_eq!(bump_for(150_000_000), 10_000_000_000);
        assert_eq!(bump_for(1_000_000_000), 10_000_000_000);
        assert!(bump_for(i64::MAX) > 0);
    }
}
