//! etcd-autopsy: offline forensics on etcd snapshots of Kubernetes and OpenShift clusters.
//!
//! The crate is one pipeline of layers that only look down (see `docs/architecture.md`):
//!
//! ```text
//! snapshot.db ──mmap──> bbolt ──> etcd ──> kube ─┐
//! configs / static_kuberesources ──> keyring ────┼──> decrypt ──┐
//! apiserver logs ──> logs ──────────────────────────────────────┼──> correlate ──> report
//! ```
//!
//! `cmd` wires the layers into the command-line subcommands; `main.rs` only parses arguments and
//! maps outcomes to exit codes.
//!
//! # Embedding
//!
//! Another tool gets the same diagnosis as `report`, `validate`, `audit` and `demo` through
//! [`report::build::analyse`]: typed findings and a verdict ([`correlate::Diagnosis`]), and the
//! versioned report model ([`report::Report`], docs/report-schema.md) to render or serialise.
//! Progress is a callback ([`report::build::Progress`]); nothing here needs a terminal.
//!
//! ```
//! use etcd_autopsy::correlate::{Restorability, Verdict};
//! use etcd_autopsy::etcd::Snapshot;
//! use etcd_autopsy::keyring::KeyringBuilder;
//! use etcd_autopsy::report::build::{analyse, Options, Quiet};
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/incident");
//! let snap = Snapshot::open(format!("{dir}/snapshot.db").as_ref())?;
//! let mut keys = KeyringBuilder::new();
//! for node in ["master-1", "master-2", "master-3"] {
//!     keys.encryption_config(&format!("{node}={dir}/{node}.yaml"))?;
//! }
//! let keyring = keys.build();
//! let analysis = analyse(&snap, &keyring, None, &Options::default(), &Quiet);
//! let d = &analysis.diagnosis;
//! assert_eq!(d.verdict, Verdict::Problems); // master-3 holds a different key1
//! assert_eq!(d.restorability(), Restorability::Restorable); // every record has a reader
//! for f in &d.findings {
//!     println!("{:?} {:?}: {}", f.severity, f.kind, f.summary);
//! }
//! // The report document `report --format json` prints (schema_version 2).
//! let report = analysis.into_report(Vec::new(), "2026-01-01T00:00:00Z".into());
//! let json = serde_json::to_string(&report)?;
//! assert!(json.contains("\"kind\":\"key-mismatch\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bbolt;
pub mod cmd;
pub mod correlate;
pub mod crc;
pub mod decrypt;
pub mod digest;
pub mod etcd;
pub mod guard;
pub mod keyring;
pub mod kube;
pub mod logs;
pub mod output;
pub mod proto;
pub mod report;
pub mod sanitize;
pub mod trace;
