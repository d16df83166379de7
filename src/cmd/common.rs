//! Helpers shared by the snapshot commands: opening with a one-line error, and printing keys.

use super::input::{self, Sniffed};
use super::Error;
use crate::bbolt::{Data, Populate};
use crate::etcd::{buckets, Snapshot};
use std::path::Path;

/// Opens a snapshot, turning failure into the one-line error `main` prints (exit 2).
///
/// The path may be a snapshot file, an etcd data dir (its `member/snap/db` is read, and said), or
/// a gzip/zstd/xz-compressed snapshot (decompressed into memory, and said). A directory, a special
/// file, a file of another kind ("this looks like a tarball; use --static-resources") and a bbolt
/// file without etcd's buckets are refused; a truncated file is opened with a warning.
pub fn open_snapshot(path: &Path) -> Result<Snapshot, Error> {
    open_snapshot_traced(path).map(|(snap, _)| snap)
}

/// [`open_snapshot`], also saying whether the file was decompressed (then the bytes read are not
/// the file's bytes: a chain of custody must hash the file as given).
pub fn open_snapshot_traced(path: &Path) -> Result<(Snapshot, Option<Sniffed>), Error> {
    open_snapshot_with(path, Populate::Now)
}

/// [`open_snapshot`], the pages of a file in the page cache left for [`Snapshot::populate_part`]:
/// for a command that maps several files and reads them on several cores ([`Populate`] says
/// why).
pub fn open_snapshot_deferred(path: &Path) -> Result<Snapshot, Error> {
    open_snapshot_with(path, Populate::Deferred).map(|(snap, _)| snap)
}

fn open_snapshot_with(path: &Path, when: Populate) -> Result<(Snapshot, Option<Sniffed>), Error> {
    let resolved = input::snapshot_path(path)?;
    if let Some(note) = &resolved.note {
        eprintln!("etcd-autopsy: note: {note}");
    }
    let file = &resolved.file;
    let shown = file.display().to_string();
    let data = Data::map_with(file, when).map_err(|e| match e {
        // bbolt::Error::Io already names the path.
        crate::bbolt::Error::Io { source, .. } => Error::new(format!("{shown}: {source}")),
        e => Error::new(format!("{shown}: {e}")),
    })?;
    let kind = input::sniff(&data[..data.len().min(4096)]);
    let compressed = matches!(
        kind,
        Sniffed::Gzip | Sniffed::Zstd | Sniffed::Xz | Sniffed::Bzip2
    );
    let snap = match kind {
        _ if compressed => {
            let bytes = input::decompress(kind, &data, &shown)?;
            let inner = input::sniff(&bytes[..bytes.len().min(4096)]);
            if inner != Sniffed::Bbolt {
                if let Some(hint) = input::not_a_snapshot(inner) {
                    return Err(Error::new(format!(
                        "{shown}: {hint} (inside {})",
                        kind.describe()
                    )));
                }
            }
            eprintln!(
                "etcd-autopsy: note: {shown} is {}: decompressed {} bytes into memory (nothing written to disk)",
                kind.describe(),
                bytes.len()
            );
            from_data(&shown, Data::Owned(bytes), inner)?
        }
        _ => from_data(&shown, data, kind)?,
    };
    not_etcd(&snap)?;
    if let Some(t) = snap.truncation() {
        eprintln!("etcd-autopsy: warning: {shown}: {t}; what follows is partial");
    }
    Ok((snap, compressed.then_some(kind)))
}

fn from_data(shown: &str, data: Data, kind: Sniffed) -> Result<Snapshot, Error> {
    Snapshot::from_data(shown, data).map_err(|e| {
        if let Some(hint) = input::not_a_snapshot(kind) {
            return Error::new(format!("{shown}: {hint}"));
        }
        match e {
            crate::etcd::Error::Bbolt { source, .. } => Error::new(format!("{shown}: {source}")),
        }
    })
}

/// A bbolt file whose readable root holds neither etcd's `key` nor its `meta` bucket is some
/// other program's database: exit 2 instead of an empty listing.
fn not_etcd(snap: &Snapshot) -> Result<(), Error> {
    let (key, p1) = snap.bucket(buckets::KEY);
    if key.is_some() || !p1.is_empty() {
        return Ok(());
    }
    let (meta, p2) = snap.bucket(buckets::META);
    if meta.is_some() || !p2.is_empty() {
        return Ok(());
    }
    Err(Error::new(format!(
        "{}: not an etcd backend: a bbolt file without etcd's `key` and `meta` buckets",
        snap.path.display()
    )))
}

pub use crate::etcd::display_key;
