//! Space findings for the report: the `etcd::space` diagnosis (quota, fragmentation, history)
//! turned into [`Finding`]s with a [`Severity`], evidence and a remedy, beside the encryption
//! findings. `stats` prints the same words (the headline and remedy are chosen only here).
//!
//! Thresholds are `etcd::space`'s constants (docs/space.md). No remedy starts by deleting data:
//! compaction drops only superseded revisions the cluster itself would drop, defrag rewrites the
//! same keys, `--event-ttl` shortens how long the apiserver keeps Events.

use super::model::{Evidence, Finding, FindingFacts, FindingKind, Severity};
use crate::bbolt::CheckReport;
use crate::etcd::records::Records;
use crate::etcd::space::{self, Level, Space, SpaceFinding};
use crate::etcd::status::humanize_bytes;
use crate::etcd::Snapshot;
use crate::kube::KeyPath;
use std::sync::Arc;

/// Classifies keys by Kubernetes resource and namespace for the space diagnosis.
pub fn classify(key: &[u8]) -> space::KeyClass {
    let path = KeyPath::parse(key);
    space::KeyClass {
        resource: path
            .map(|p| p.qualified_resource())
            .unwrap_or_else(|| "(not a kube key)".into()),
        namespace: path
            .and_then(|p| p.namespace)
            .unwrap_or("(cluster-scoped)")
            .to_string(),
    }
}

/// The space diagnosis of an opened snapshot, keys grouped as Kubernetes names them. `check` is
/// the structure check of the same file (its page counts).
pub fn diagnosis(
    snap: &Snapshot,
    records: &Records<'_>,
    check: &CheckReport,
    opts: space::Options,
) -> Space {
    space::compute(snap, records, check, &classify, opts)
}

/// The report's severity for a space level: the same three steps.
pub fn severity(level: Level) -> Severity {
    match level {
        Level::Critical => Severity::Critical,
        Level::Warning => Severity::Warning,
        Level::Info => Severity::Info,
    }
}

/// Which report kind a space finding is: quota, fragmentation (what defrag gives back) or
/// history (what compaction gives back, and who writes it). `None` for the NOSPACE alarm, which
/// the integrity findings already report as `alarm` from the same bucket.
pub fn kind(f: &SpaceFinding) -> Option<FindingKind> {
    match f {
        SpaceFinding::QuotaUsage { .. } | SpaceFinding::QuotaAboveSuggested { .. } => {
            Some(FindingKind::SpaceQuota)
        }
        SpaceFinding::NoSpaceAlarm { .. } => None,
        SpaceFinding::DefragWouldFree { .. } => Some(FindingKind::SpaceFragmentation),
        SpaceFinding::CompactionWouldFree { .. }
        | SpaceFinding::ResourceHoldsHistory { .. }
        | SpaceFinding::WriteHotspot { .. }
        | SpaceFinding::CompactionUnfinished { .. } => Some(FindingKind::SpaceHistory),
    }
}

/// The report findings of a space diagnosis of the snapshot at `path`.
pub fn findings(sp: &Space, path: &str) -> Vec<Finding> {
    sp.findings
        .iter()
        .filter_map(|f| {
            let kind = kind(f)?;
            let (mut summary, remedy) = finding_text(f);
            if sp.quota.is_default && matches!(f, SpaceFinding::QuotaUsage { .. }) {
                // The snapshot does not record the member's quota: say which one was assumed.
                summary.push_str(
                    " (etcd's default quota assumed: --quota-backend-bytes checks another)",
                );
            }
            let keys = match f {
                SpaceFinding::WriteHotspot { key, .. } => vec![key.clone()],
                _ => vec![],
            };
            Some(Finding {
                facts: FindingFacts::default(),
                kind,
                severity: severity(f.level()),
                summary,
                nodes: vec![],
                keys: keys.into_iter().map(Arc::from).collect(),
                evidence: vec![Evidence {
                    text: evidence(sp, kind),
                    source: Some(path.to_string()),
                }],
                remedy,
            })
        })
        .collect()
}

/// The file's numbers a finding of `kind` rests on, in one line.
fn evidence(sp: &Space, kind: FindingKind) -> String {
    let h = humanize_bytes;
    match kind {
        FindingKind::SpaceFragmentation => format!(
            "{} of {} pages below the high-water mark are free; the defrag replay leaves {} pages in use, dbSize {}",
            sp.pages.free,
            sp.pages.hwm,
            sp.defrag.pages,
            h(sp.defrag.db_bytes)
        ),
        FindingKind::SpaceHistory => format!(
            "{} revisions held ({} bytes of keys and values), {} bytes of them superseded or deleted; current revision {}, compacted {}",
            sp.totals.revisions,
            sp.totals.bytes,
            sp.totals.old_bytes(),
            sp.current_revision,
            sp.compacted_revision
                .map(|r| r.to_string())
                .unwrap_or_else(|| "never".into())
        ),
        _ => format!(
            "dbSize {} = {} pages × {} B (free pages included), quota {}{}",
            sp.pages.db_bytes(),
            sp.pages.hwm,
            sp.pages.page_size,
            sp.quota.quota_bytes,
            if sp.quota.is_default {
                " (etcd's default)"
            } else {
                ""
            }
        ),
    }
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

/// A finding as one headline and one remedy line: the only place their words are chosen.
pub fn finding_text(f: &SpaceFinding) -> (String, String) {
    use SpaceFinding as F;
    let human = humanize_bytes;
    match f {
        F::QuotaUsage {
            used_bytes,
            quota_bytes,
        } => (
            format!(
                "db at {:.0} % of quota ({} of {} --quota-backend-bytes; etcd compares the whole db size, free pages included)",
                pct(*used_bytes, *quota_bytes),
                human(*used_bytes),
                human(*quota_bytes)
            ),
            "compact history, then `etcdctl defrag` each member in turn; or raise --quota-backend-bytes (etcd suggests at most 8 GiB)".into(),
        ),
        F::QuotaAboveSuggested { quota_bytes } => (
            format!(
                "quota {} is above the 8 GiB etcd suggests as a maximum",
                human(*quota_bytes)
            ),
            "expect slow starts, defrags and snapshots; keep the db small instead".into(),
        ),
        F::NoSpaceAlarm { member_ids } => (
            format!(
                "NOSPACE alarm stored for member {}: the cluster refuses writes",
                member_ids.join(", ")
            ),
            "free space first (compact, then defrag every member), then `etcdctl alarm disarm`; the alarm persists until disarmed".into(),
        ),
        F::DefragWouldFree { bytes, db_bytes } => (
            format!(
                "defrag would free {} ({:.0} % of the db)",
                human(*bytes),
                pct(*bytes, *db_bytes)
            ),
            "`etcdctl defrag` one member at a time: it blocks that member while it copies the db".into(),
        ),
        F::CompactionWouldFree {
            revision,
            revisions,
            bytes,
            held_bytes,
            db_bytes_after_defrag,
        } => (
            format!(
                "old revisions hold {} of {} held ({:.0} %): compacting at {revision} would remove {revisions} revisions",
                human(*bytes),
                human(*held_bytes),
                pct(*bytes, *held_bytes)
            ),
            format!(
                "`etcdctl compact {revision}` then defrag: db about {} after; Kubernetes compacts every --etcd-compaction-interval (5m by default), check it is not 0",
                human(*db_bytes_after_defrag)
            ),
        ),
        F::ResourceHoldsHistory {
            resource,
            old_bytes,
            all_old_bytes,
        } => {
            let share = pct(*old_bytes, *all_old_bytes);
            if resource == "events" || resource == "events.events.k8s.io" {
                (
                    format!("Events hold {share:.0} % of history"),
                    "shorten kube-apiserver --event-ttl (1h by default), or give Events their own etcd (--etcd-servers-overrides)".into(),
                )
            } else {
                (
                    format!("{resource} hold {share:.0} % of history"),
                    format!("find what rewrites {resource} so often (the write hotspots of `stats`, the apiserver audit log)"),
                )
            }
        }
        F::WriteHotspot {
            key,
            revisions,
            all_revisions,
        } => (
            format!(
                "write hotspot: {key} holds {revisions} revisions ({:.0} % of all held)",
                pct(*revisions, *all_revisions)
            ),
            "find the client rewriting it (apiserver audit log for that object); two controllers fighting over it is typical".into(),
        ),
        F::CompactionUnfinished {
            scheduled,
            finished,
        } => (
            format!("compaction scheduled at {scheduled} never finished (finished: {finished})"),
            "etcd finishes it when it next opens this db: revisions up to it will be gone".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_space_finding_maps_to_a_kind_and_level() {
        let all = [
            SpaceFinding::QuotaUsage {
                used_bytes: 96,
                quota_bytes: 100,
            },
            SpaceFinding::QuotaAboveSuggested {
                quota_bytes: 9 << 30,
            },
            SpaceFinding::NoSpaceAlarm {
                member_ids: vec!["8e9e05c52164694d".into()],
            },
            SpaceFinding::DefragWouldFree {
                bytes: 300 << 20,
                db_bytes: 1 << 30,
            },
            SpaceFinding::CompactionWouldFree {
                revision: 9,
                revisions: 3,
                bytes: 60,
                held_bytes: 100,
                db_bytes_after_defrag: 40,
            },
            SpaceFinding::ResourceHoldsHistory {
                resource: "events".into(),
                old_bytes: 61,
                all_old_bytes: 100,
            },
            SpaceFinding::WriteHotspot {
                key: "/registry/leases/kube-system/x".into(),
                revisions: 60,
                all_revisions: 100,
            },
            SpaceFinding::CompactionUnfinished {
                scheduled: 9,
                finished: 5,
            },
        ];
        for f in &all {
            let (head, remedy) = finding_text(f);
            assert!(!head.is_empty() && !remedy.is_empty());
            // No remedy starts by deleting data.
            for word in ["delete", "remove", "rm ", "del "] {
                assert!(!remedy.to_lowercase().starts_with(word), "{remedy}");
            }
        }
        assert_eq!(kind(&all[0]), Some(FindingKind::SpaceQuota));
        assert_eq!(severity(all[0].level()), Severity::Critical);
        assert_eq!(
            kind(&all[2]),
            None,
            "the alarm finding already reports NOSPACE"
        );
        assert_eq!(kind(&all[3]), Some(FindingKind::SpaceFragmentation));
        assert_eq!(severity(all[3].level()), Severity::Warning);
        assert_eq!(kind(&all[5]), Some(FindingKind::SpaceHistory));
        assert_eq!(severity(all[5].level()), Severity::Info);
        let (head, remedy) = finding_text(&all[5]);
        assert_eq!(head, "Events hold 61 % of history");
        assert!(remedy.contains("--event-ttl"));
    }
}
