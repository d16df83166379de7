//! The subcommands: each wires the layers together for one job and renders its result.
//! `main.rs` only parses arguments and turns [`Outcome`] / [`Error`] into exit codes.

pub mod logs;
pub mod metrics;

/// What a command found. Exit code 0 or 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing wrong: exit 0.
    Clean,
    /// Problems found in readable input: exit 1.
    Problems,
    /// Inputs were readable but nothing in them was recognised (`logs`: no file held log lines):
    /// exit 3, so "nothing to look at" is never taken for "looked, found nothing".
    NothingRecognised,
}

/// Why a command could not run: exit 2, printed as one line naming the input and the reason.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Failed(String),
    /// What was asked for is not there (`get` of a missing key or revision): exit 3, so a
    /// script can tell "absent" from "could not run".
    #[error("{0}")]
    NotFound(String),
    /// The reader of our output went away (`| head`): not an error worth a message.
    #[error("output closed")]
    OutputClosed,
}

impl Error {
    pub fn new(msg: impl Into<String>) -> Self {
        Error::Failed(msg.into())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Error::OutputClosed
        } else {
            Error::Failed(format!("writing output: {e}"))
        }
    }
}

pub type CmdResult = Result<Outcome, Error>;

pub mod audit;
pub mod backupset;
pub mod check;
pub mod common;
pub mod compare;
pub mod demo;
pub mod diff;
pub mod export;
pub mod get;
pub mod hashkv;
pub mod input;
pub mod keys;
pub mod ls;
pub mod objects;
pub mod outfile;
pub mod output_args;
pub mod progress;
pub mod push;
pub mod report;
pub mod restore;
pub mod salvage;
pub mod select;
pub mod shell;
pub mod sources;
pub mod stats;
pub mod status;
pub mod table;
pub mod validate;
pub mod version;
