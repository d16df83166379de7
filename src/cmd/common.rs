//! Helpers shared by the snapshot commands: opening with a one-line error, and printing keys.

use super::Error;
use crate::etcd::Snapshot;
use std::path::Path;

/// Opens a snapshot, turning failure into the one-line error `main` prints (exit 2).
pub fn open_snapshot(path: &Path) -> Result<Snapshot, Error> {
    Snapshot::open(path).map_err(|e| Error::new(e.to_string()))
}

pub use crate::etcd::display_key;
