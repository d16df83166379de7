//! The one library path from inputs to a diagnosis and a report model: `report`, `demo`,
//! `validate` and `audit` all go through [`analyse`], and all but `audit` (which prints the
//! per-record table) through [`Analysis::into_report`], so they cannot drift apart.
//!
//! Progress is a callback ([`Progress`]); the library knows no terminal.

use super::model::{self, DiagnosisParts, Input, KeyRow, Report, SnapshotSection, Tool};
use crate::bbolt::CheckReport;
use crate::correlate::{self, Context, Diagnosis};
use crate::decrypt::{audit, recovered, Engine};
use crate::etcd::integrity::Integrity;
use crate::etcd::records::Records;
use crate::etcd::restore::{self, RestorePlan};
use crate::etcd::space::{self, Space};
use crate::etcd::status;
use crate::etcd::trailer::{Trailer, TrailerCheck};
use crate::etcd::Snapshot;
use crate::keyring::Keyring;
use crate::logs::LogScan;
use crate::trace;
use std::collections::BTreeMap;

/// Told when a long stage starts and ends (a spinner in the CLI; nothing by default).
pub trait Progress: Sync {
    fn start(&self, _stage: &str) {}
    fn finish(&self, _stage: &str) {}
}

/// No progress reporting.
pub struct Quiet;

impl Progress for Quiet {}

fn stage<T>(p: &dyn Progress, name: &str, f: impl FnOnce() -> T) -> T {
    p.start(name);
    let out = f();
    p.finish(name);
    out
}

/// What the caller decides.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// A missing SHA-256 trailer is expected (data-dir copy): no finding for it.
    pub allow_missing_trailer: bool,
    /// The space diagnosis's quota, prefix depth and list lengths (docs/space.md).
    pub space: space::Options,
    /// Do not hash the whole file (`audit`: judging records needs neither the SHA-256 trailer,
    /// ~40 % of its CPU on a 1 GiB snapshot, nor the `snapshot status` CRC-32C). The trailer is
    /// then `not-checked` (integrity warns so; a missing one is still found by its size), the
    /// report's chain-of-custody hash is empty and its status map too: only for callers that
    /// print no report.
    pub skip_file_hashes: bool,
    /// No space diagnosis (`audit`: it prints none, and the defrag replay and per-key history
    /// cost more than its trial decryption on a 1 GiB snapshot). Its findings are then absent.
    pub skip_space: bool,
}

impl Options {
    /// What `report` and `validate` judge a backup with: the trailer rule and the backend quota
    /// the user gave (`--allow-missing-trailer`, `--quota-backend-bytes`), the rest as default.
    pub fn judging(allow_missing_trailer: bool, quota_bytes: u64) -> Options {
        Options {
            allow_missing_trailer,
            space: space::Options {
                quota_bytes,
                ..Default::default()
            },
            ..Options::default()
        }
    }
}

/// Everything computed from one snapshot, its key sources and logs.
pub struct Analysis {
    pub snapshot_path: String,
    pub integrity: Integrity,
    /// False when damage kept part of the `key` bucket from being read.
    pub records_complete: bool,
    pub live_keys: usize,
    /// `etcdctl snapshot status` numbers, as JSON.
    pub status: BTreeMap<String, serde_json::Value>,
    /// The per-record judgement (`audit` prints it).
    pub audit: audit::Audit,
    pub diagnosis: Diagnosis,
    /// Where the space goes (its findings are in the diagnosis too); `None` with `skip_space`.
    pub space: Option<Space>,
    /// How to restore this snapshot.
    pub restore_plan: RestorePlan,
    keys: Vec<KeyRow>,
}

/// Reads, checks, trial-decrypts and correlates. The SHA-256 of the whole file runs on one core
/// while the page walk, status hash and record decode run on the other; the key bucket is
/// decoded once, for the integrity check and for everything after.
pub fn analyse(
    snap: &Snapshot,
    keyring: &Keyring,
    logs: Option<&LogScan>,
    opts: &Options,
    progress: &dyn Progress,
) -> Analysis {
    analyse_beside(snap, keyring, move || logs, |l| *l, None, opts, progress).0
}

/// [`analyse`] with `side` (e.g. scanning and hashing the logs) run beside the snapshot work,
/// and its result handed to the correlation through `logs_of`.
///
/// Only the integrity findings wait for the snapshot's SHA-256: the correlation starts as soon
/// as the records are judged and `side` is done, while the hash still runs, so no stage is left
/// to run alone on one core after it.
///
/// `companion`, another input the caller must hash anyway (a GB log for the chain of custody),
/// is hashed on the snapshot hash's thread, the two interleaved ([`crate::digest`]): one core
/// for both hashes instead of two. Its SHA-256 is the third value (None without a companion or
/// when `opts` skips the file hashes).
pub fn analyse_beside<T: Send>(
    snap: &Snapshot,
    keyring: &Keyring,
    side: impl FnOnce() -> T + Send,
    logs_of: impl FnOnce(&T) -> Option<&LogScan>,
    companion: Option<&[u8]>,
    opts: &Options,
    progress: &dyn Progress,
) -> (Analysis, T, Option<[u8; 32]>) {
    // Set when the analysis is done and only the hashes are left: they then go on one per core.
    let split = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        // Its own thread, not a rayon task: a task queued behind the pool's other work (the log
        // scan) would start late and the longest single task end last.
        let sha = s.spawn(|| {
            trace::span("snapshot sha256", || match companion {
                _ if opts.skip_file_hashes => (snap.skip_trailer(), None),
                Some(other) => {
                    let (check, digest) = snap.verify_trailer_paired(other, &split);
                    (check, Some(digest))
                }
                None => (snap.verify_trailer(), None),
            })
        });
        let (f, t) = rayon::join(|| facts(snap, keyring, opts, progress), side);
        let pending = f.diagnose_but_integrity(keyring, logs_of(&t), opts);
        split.store(true, std::sync::atomic::Ordering::Relaxed);
        let (trailer, companion) = match sha.join() {
            Ok(t) => t,
            Err(p) => std::panic::resume_unwind(p),
        };
        (
            f.finish(snap, keyring, trailer, pending, opts),
            t,
            companion,
        )
    })
}

/// What the snapshot and the keys alone say, before the logs and the SHA-256.
struct Facts<'s> {
    path: String,
    records: Records<'s>,
    structure: CheckReport,
    status: BTreeMap<String, serde_json::Value>,
    engine: Engine,
    audit: audit::Audit,
    space: Option<Space>,
    /// The given keyring plus the configs recovered from the snapshot, when any was.
    recovered: Option<Keyring>,
}

fn facts<'s>(
    snap: &'s Snapshot,
    keyring: &Keyring,
    opts: &Options,
    progress: &dyn Progress,
) -> Facts<'s> {
    // The page walk, status hash and record decode, then the trial decryption, which need no
    // integrity verdict and keep the other core busy beside the SHA-256.
    let given = Engine::new(keyring);
    let (records, structure, st, (engine, recovered, audit, space)) = stage(
        progress,
        "reading and trial-decrypting the snapshot",
        || {
            // The status CRC hashes each bucket's leaves as the structure check's walk finds
            // them: one walk of the tree for both.
            let (records, (structure, st)) = rayon::join(
                || trace::span("records read", || Records::read(snap)),
                || {
                    trace::span("structure check + status crc", || {
                        if opts.skip_file_hashes {
                            (snap.check_structure(), None)
                        } else {
                            let (st, problems, check) = status::compute_and_check(snap);
                            (check, Some((st, problems)))
                        }
                    })
                },
            );
            // Rule 4: openshift-apiserver's and oauth-apiserver's configs, kept in Secrets the
            // given kube-apiserver keys open, join the nodes.
            let (engine, recovered, recovery) = trace::span("recovered configs", || {
                recovered::judge_with_recovered(keyring, given, &records)
            });
            // The space diagnosis (defrag replay, history per key) beside the trial decryption:
            // both only read the records.
            let (mut audit, space) = rayon::join(
                || {
                    trace::span("audit", || {
                        let live: Vec<audit::Input> = audit::Input::live(&records);
                        audit::audit(&engine, recovered.as_ref().unwrap_or(keyring), &live)
                    })
                },
                || {
                    trace::span("space", || {
                        (!opts.skip_space).then(|| {
                            correlate::space::diagnosis(snap, &records, &structure, opts.space)
                        })
                    })
                },
            );
            audit.recovery = recovery;
            (records, structure, st, (engine, recovered, audit, space))
        },
    );
    // The report's snapshot status keeps its keys: the 3.4/3.5 numbers, 3.6's `version` (semver
    // only, as etcdutl 3.6 prints it) and the live-key count 3.6 calls total keys.
    let status_map: BTreeMap<String, serde_json::Value> = st
        .map(|(st, _)| {
            [
                ("hash", serde_json::Value::from(st.hash)),
                ("revision", st.revision.into()),
                ("totalKey", st.pairs.into()),
                ("totalSize", st.total_size.into()),
                ("version", st.version().into()),
                ("liveKeys", records.live_count().into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
        })
        .unwrap_or_default();
    Facts {
        path: snap.path.display().to_string(),
        records,
        structure,
        status: status_map,
        engine,
        audit,
        space,
        recovered,
    }
}

impl Facts<'_> {
    fn context<'a>(
        &'a self,
        given: &'a Keyring,
        logs: Option<&'a LogScan>,
        integrity: Option<&'a Integrity>,
        opts: &Options,
    ) -> Context<'a> {
        Context {
            snapshot_path: &self.path,
            records: &self.records,
            audit: &self.audit,
            engine: &self.engine,
            keyring: self.recovered.as_ref().unwrap_or(given),
            integrity,
            allow_missing_trailer: opts.allow_missing_trailer,
            logs,
            space: self.space.as_ref(),
        }
    }

    /// Everything but the integrity findings (which need the trailer).
    fn diagnose_but_integrity(
        &self,
        given: &Keyring,
        logs: Option<&LogScan>,
        opts: &Options,
    ) -> correlate::Pending {
        let ctx = self.context(given, logs, None, opts);
        trace::span("diagnose", || correlate::diagnose_but_integrity(&ctx))
    }

    /// The integrity check and restore plan from the trailer, the diagnosis finished with them.
    fn finish(
        self,
        snap: &Snapshot,
        given: &Keyring,
        trailer: TrailerCheck,
        pending: correlate::Pending,
        opts: &Options,
    ) -> Analysis {
        let restore_plan = trace::span("restore plan", || {
            restore::plan(snap, &self.records, &trailer, &self.path)
        });
        let Facts {
            path,
            records,
            structure,
            status,
            audit,
            space,
            recovered,
            ..
        } = self;
        let integrity = trace::span("integrity", || {
            Integrity::from_parts(snap, trailer, structure, &records)
        });
        let diagnosis = pending.finish(Some(&integrity), &path, opts.allow_missing_trailer);
        let keys = key_rows(recovered.as_ref().unwrap_or(given));
        Analysis {
            records_complete: records.complete(),
            live_keys: records.live_count(),
            snapshot_path: path,
            status,
            integrity,
            audit,
            diagnosis,
            space,
            restore_plan,
            keys,
        }
    }
}

fn key_rows(keyring: &Keyring) -> Vec<KeyRow> {
    keyring
        .keys
        .iter()
        .map(|k| KeyRow {
            id: k.id.clone(),
            node: Some(k.node.clone()),
            source: k
                .origins
                .iter()
                .map(|o| o.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            provider: k.provider.name().into(),
            name: k.name.clone(),
            fingerprint: k.fingerprint.clone(),
            role: k.role.to_string(),
        })
        .collect()
}

/// The trailer state's report spelling.
pub fn trailer_name(t: &Trailer) -> &'static str {
    match t {
        Trailer::Missing => "missing",
        Trailer::Valid { .. } => "valid",
        Trailer::Mismatch { .. } => "mismatch",
        Trailer::NotChecked => "not-checked",
    }
}

impl Analysis {
    /// The report model. `inputs` are the chain-of-custody entries other than the snapshot
    /// (which comes first); `created` is RFC 3339 UTC.
    pub fn into_report(self, mut inputs: Vec<Input>, created: String) -> Report {
        let Analysis {
            snapshot_path: path,
            integrity,
            status,
            audit,
            diagnosis,
            space,
            restore_plan,
            keys,
            ..
        } = self;
        inputs.insert(
            0,
            Input {
                path: path.clone(),
                role: "snapshot".into(),
                node: None,
                size: integrity.trailer.file_size,
                sha256: integrity.trailer.file_sha256.clone(),
            },
        );
        let parts = DiagnosisParts::from(diagnosis);
        Report {
            schema_version: model::SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME").into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            created,
            verdict: parts.verdict,
            inputs,
            snapshot: Some(SnapshotSection {
                path,
                status,
                integrity: model::Integrity {
                    ok: integrity.ok,
                    structure_ok: integrity.structure_ok,
                    sha256_trailer: trailer_name(&integrity.trailer.trailer).into(),
                    problems: integrity.problems,
                    warnings: integrity.warnings,
                },
            }),
            records: parts.records,
            keys,
            nodes: parts.nodes,
            matrix: parts.matrix,
            // The unreadable list can hold every record of a multi-GiB snapshot: moved, never
            // copied.
            unreadable: audit.unreadable,
            log_events: parts.log_events,
            findings: parts.findings,
            space: space.as_ref().map(model::SpaceSection::from_space),
            restore_plan: Some(model::RestorePlanSection::from_plan(&restore_plan)),
        }
    }
}
