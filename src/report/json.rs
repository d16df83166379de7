//! The report as JSON: exactly `serde_json::to_writer_pretty` of [`Report`] plus a newline, with
//! the unreadable list (300k records, ~95 MB of the 118 MB on the bench snapshot) rendered in
//! parallel pieces and spliced in order, each record's repeated part rendered once per class.
//!
//! serde_json's pretty printer indents by nesting depth, so a piece rendered on its own would
//! start at depth 0; [`Pretty`] is the same printer started at a given depth, so a field
//! rendered by itself is byte for byte what the whole document would hold at that place. The
//! test below holds the two equal on real reports.

use super::model::{Report, Unreadable, Unreadables};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::ser::Formatter;
use std::io::{self, Write};
use std::sync::Arc;

/// Records per piece rendered by one task: ~2.5 MB of JSON, enough to amortise the task,
/// few enough that a window of them bounds the memory held.
const PIECE: usize = 8192;

/// Pieces rendered at once before they are written: ~20 MB held.
const WINDOW: usize = 8;

/// serde_json's `PrettyFormatter` with two-space indents (serde_json 1.x `ser.rs`), started at
/// nesting `depth` instead of 0.
struct Pretty {
    depth: usize,
    has_value: bool,
}

impl Pretty {
    fn at(depth: usize) -> Pretty {
        Pretty {
            depth,
            has_value: false,
        }
    }
}

fn indent<W: ?Sized + Write>(w: &mut W, depth: usize) -> io::Result<()> {
    const SPACES: &[u8; 64] = b"                                                                ";
    let mut n = depth * 2;
    while n > 0 {
        let k = n.min(SPACES.len());
        w.write_all(&SPACES[..k])?;
        n -= k;
    }
    Ok(())
}

impl Pretty {
    /// An array or object opens: one level deeper, nothing in it yet.
    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// It closes: on its own line at the outer indent when it held anything.
    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            indent(w, self.depth)?;
        }
        w.write_all(bracket)
    }

    /// An element or key starts on a new line.
    fn item<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        indent(w, self.depth)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `value` as the pretty printer writes it at nesting `depth`.
fn value_at<W: Write, T: Serialize + ?Sized>(w: &mut W, depth: usize, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Pretty::at(depth));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// Writes `report` as `serde_json::to_writer_pretty` does, then a newline.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_with(report, out, PIECE)
}

fn write_with(report: &Report, out: &mut dyn Write, piece: usize) -> io::Result<()> {
    // serde_json writes in small pieces (a bracket, an indent, a key): a buffer of a concrete
    // type takes them inline, and `out` sees 1 MiB writes instead of one dynamic call each.
    let mut w = io::BufWriter::with_capacity(1 << 20, &mut *out);
    let mut first = true;
    let mut field = |w: &mut io::BufWriter<&mut dyn Write>, name: &str| -> io::Result<()> {
        w.write_all(if first { b"{\n  \"" } else { b",\n  \"" })?;
        first = false;
        w.write_all(name.as_bytes())?;
        w.write_all(b"\": ")
    };
    // The fields in `Report`'s declaration order, as its derived `Serialize` writes them.
    macro_rules! fields {
        ($($name:ident),*) => {$(
            field(&mut w, stringify!($name))?;
            value_at(&mut w, 1, &report.$name)?;
        )*};
    }
    fields!(
        schema_version,
        tool,
        created,
        verdict,
        inputs,
        snapshot,
        records,
        keys,
        nodes,
        matrix
    );
    field(&mut w, "unreadable")?;
    unreadable(&mut w, &report.unreadable, piece)?;
    fields!(log_events, findings, space, restore_plan);
    w.write_all(b"\n}\n")?;
    w.flush()
}

/// The unreadable list at depth 1: its records rendered in parallel pieces, written in order.
fn unreadable<W: Write>(w: &mut W, list: &Unreadables, piece: usize) -> io::Result<()> {
    if list.is_empty() {
        return w.write_all(b"[]");
    }
    w.write_all(b"[")?;
    let all: Vec<&Unreadable> = list.iter().collect();
    let pieces: Vec<&[&Unreadable]> = all.chunks(piece.max(1)).collect();
    for (n, window) in pieces.chunks(WINDOW).enumerate() {
        let rendered: Vec<io::Result<Vec<u8>>> = window
            .par_iter()
            .enumerate()
            .map(|(i, p)| render_piece(p, n == 0 && i == 0))
            .collect();
        for r in rendered {
            w.write_all(&r?)?;
        }
    }
    w.write_all(b"\n  ]")
}

/// Records at depth 2, each preceded by the array separator (`\n` for the list's first, else
/// `,\n`) and its indent.
fn render_piece(records: &[&Unreadable], list_first: bool) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(records.len() * 320);
    let mut tails = Tails::default();
    for (i, u) in records.iter().enumerate() {
        out.extend_from_slice(if list_first && i == 0 {
            b"\n    "
        } else {
            b",\n    "
        });
        tails.record(&mut out, u)?;
    }
    Ok(out)
}

/// The part of a record's JSON after `mod_revision` (resource, provider, key name, failing
/// nodes, decrypting keys and the closing brace) depends only on its class, which runs of
/// records share: rendered once per class and copied.
#[derive(Default)]
struct Tails {
    class: Option<Arc<crate::decrypt::audit::UnreadableClass>>,
    tail: Vec<u8>,
}

impl Tails {
    fn record(&mut self, out: &mut Vec<u8>, u: &Unreadable) -> io::Result<()> {
        let start = out.len();
        // What `Unreadable`'s `Serialize` writes before the class's fields.
        out.extend_from_slice(b"{\n      \"key\": ");
        serde_json::to_writer(&mut *out, &*u.key).map_err(io::Error::from)?;
        out.extend_from_slice(b",\n      \"mod_revision\": ");
        serde_json::to_writer(&mut *out, &u.mod_revision).map_err(io::Error::from)?;
        if self
            .class
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, &u.class))
        {
            out.extend_from_slice(&self.tail);
            return Ok(());
        }
        // A new class: the whole record through serde, its tail kept when it starts as above.
        let mut full = Vec::with_capacity(320);
        value_at(&mut full, 2, u)?;
        let head = out.len() - start;
        out.truncate(start);
        out.extend_from_slice(&full);
        if full.len() >= head && full[..head] == out[start..start + head] {
            self.tail = full[head..].to_vec();
            self.class = Some(u.class.clone());
        } else {
            self.class = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bbolt::Data;
    use crate::etcd::Snapshot;
    use crate::keyring::{config, KeyringBuilder, Origin};
    use crate::report::build;

    /// The built-in incident (testdata/incident, 33 unreadable records) with `configs` of its
    /// three masters.
    fn incident(configs: &[&str]) -> Report {
        let snap = Snapshot::from_data(
            "snapshot.db",
            Data::Static(include_bytes!("../../testdata/incident/snapshot.db")),
        )
        .unwrap();
        let mut b = KeyringBuilder::new();
        for node in configs {
            let path = format!(
                "{}/testdata/incident/{node}.yaml",
                env!("CARGO_MANIFEST_DIR")
            );
            let bytes = std::fs::read(&path).unwrap();
            let cfg = config::parse(&bytes, &path).unwrap();
            b.add_config(node, Origin::EncryptionConfig { path }, cfg)
                .unwrap();
        }
        let keyring = b.build();
        build::analyse(
            &snap,
            &keyring,
            None,
            &build::Options::default(),
            &build::Quiet,
        )
        .into_report(vec![], "2026-01-01T00:00:00Z".into())
    }

    fn serde(r: &Report) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(r).unwrap();
        v.push(b'\n');
        v
    }

    #[test]
    fn equals_serde_pretty_at_any_piece_size() {
        for configs in [
            &["master-1", "master-2", "master-3"][..],
            &["master-3"][..],
            &[][..],
        ] {
            let r = incident(configs);
            assert!(
                configs.len() != 3 || r.unreadable.len() > 2,
                "the tails and pieces are exercised"
            );
            let want = serde(&r);
            for piece in [1, 2, 3, 7, PIECE] {
                let mut got = Vec::new();
                write_with(&r, &mut got, piece).unwrap();
                assert!(
                    got == want,
                    "{configs:?} piece {piece}: {} vs {} bytes",
                    got.len(),
                    want.len()
                );
            }
        }
    }

    #[test]
    fn an_empty_unreadable_list_is_written_as_serde_does() {
        let mut r = incident(&["master-1", "master-2", "master-3"]);
        r.unreadable = Unreadables::default();
        let mut got = Vec::new();
        write(&r, &mut got).unwrap();
        assert!(got == serde(&r));
    }
}
