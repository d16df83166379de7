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

pub mod bbolt;
pub mod cmd;
pub mod correlate;
pub mod decrypt;
pub mod etcd;
pub mod guard;
pub mod keyring;
pub mod kube;
pub mod logs;
pub mod output;
pub mod proto;
pub mod report;
pub mod sanitize;
