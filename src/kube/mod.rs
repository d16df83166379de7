//! Kubernetes view of etcd records: key paths and value envelopes.
//!
//! Knows the layout kube-apiserver uses in etcd; knows nothing of bbolt pages or of keys.

pub mod envelope;
pub mod path;
pub mod unknown;

pub use envelope::{Envelope, Provider};
pub use path::KeyPath;
