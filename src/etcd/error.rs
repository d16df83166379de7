//! Errors that stop a snapshot from being read at all.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// The file could not be opened or is not a usable bbolt file.
    #[error("{}: {source}", path.display())]
    Bbolt {
        path: PathBuf,
        source: crate::bbolt::Error,
    },
}
