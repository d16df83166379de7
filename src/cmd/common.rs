//! Helpers shared by the snapshot commands: opening with a one-line error, and printing keys.

use super::Error;
use crate::etcd::Snapshot;
use std::path::Path;

/// Opens a snapshot, turning failure into the one-line error `main` prints (exit 2).
pub fn open_snapshot(path: &Path) -> Result<Snapshot, Error> {
    Snapshot::open(path).map_err(|e| Error::new(e.to_string()))
}

/// A key for display: UTF-8 as is, other bytes escaped as `\xNN`. Never used for values.
pub fn display_key(key: &[u8]) -> String {
    let mut s = String::with_capacity(key.len());
    for chunk in key.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                s.extend(c.escape_default());
            } else {
                s.push(c);
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}
