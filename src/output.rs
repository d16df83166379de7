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

/// Writes `value` as one line of JSON Lines (<https://jsonlines.org>): compact, then a newline.
pub fn write_json_line<W: Write, T: serde::Serialize>(
    out: &mut W,
    value: &T,
) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

/// One JSON Lines row of a stream that mixes kinds of rows: `{"type": kind, …value's fields}`.
pub fn write_typed_line<W: Write, T: serde::Serialize>(
    out: &mut W,
    kind: &str,
    value: &T,
) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct Row<'a, T> {
        #[serde(rename = "type")]
        kind: &'a str,
        #[serde(flatten)]
        value: &'a T,
    }
    write_json_line(out, &Row { kind, value })
}
