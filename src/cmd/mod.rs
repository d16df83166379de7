//! The subcommands: each wires the layers together for one job and renders its result.
//! `main.rs` only parses arguments and turns [`Outcome`] / [`Error`] into exit codes.

pub mod logs;

/// What a command found. Exit code 0 or 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing wrong: exit 0.
    Clean,
    /// Problems found in readable input: exit 1.
    Problems,
}

/// Why a command could not run: exit 2, printed as one line naming the input and the reason.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

impl Error {
    pub fn new(msg: impl Into<String>) -> Self {
        Error(msg.into())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(format!("writing output: {e}"))
    }
}

pub type CmdResult = Result<Outcome, Error>;
