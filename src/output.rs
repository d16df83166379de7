//! Small output helpers shared by commands: output format selection and deterministic JSON.

use std::io::Write;

/// The output formats a command may offer. Each command accepts the subset it renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Writes `value` as pretty JSON followed by a newline. serde_json keeps object keys in insertion
/// order only with `preserve_order`; we build our JSON from structs and `BTreeMap`s, so the output
/// is byte-identical for the same inputs.
pub fn write_json<W: Write, T: serde::Serialize>(out: &mut W, value: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}
