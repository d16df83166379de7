//! An etcd snapshot (or data-dir db) opened read-only.

use super::error::Error;
use super::trailer::{self, TrailerCheck};
use crate::bbolt::{self, Bucket, Data, Db, Problem};
use std::path::{Path, PathBuf};

/// An opened snapshot: the bbolt file and where it came from.
pub struct Snapshot {
    pub path: PathBuf,
    db: Db,
}

impl Snapshot {
    /// Maps `path` read-only and selects its meta page.
    pub fn open(path: &Path) -> Result<Snapshot, Error> {
        let wrap = |source| Error::Bbolt {
            path: path.to_path_buf(),
            source,
        };
        let db = Db::open(path).map_err(wrap)?;
        Ok(Snapshot {
            path: path.to_path_buf(),
            db,
        })
    }

    /// A snapshot held in memory (data built into the binary, tests).
    pub fn from_data(name: &str, data: Data) -> Result<Snapshot, Error> {
        let path = PathBuf::from(name);
        let db = Db::from_data(data).map_err(|source| Error::Bbolt {
            path: path.clone(),
            source,
        })?;
        Ok(Snapshot { path, db })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Brings in part `i` of `n` of the pages of a snapshot mapped with
    /// [`bbolt::Populate::Deferred`], on this thread ([`Data::populate_part`]).
    pub fn populate_part(&self, i: usize, n: usize) {
        self.db.populate_part(i, n)
    }

    /// [`Data::release_part`] of the snapshot's mapping.
    pub fn release_part(&self, i: usize, n: usize) {
        self.db.release_part(i, n)
    }

    /// The whole file's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.db.data()
    }

    /// Verifies the SHA-256 trailer (hashes the whole file).
    pub fn verify_trailer(&self) -> TrailerCheck {
        trailer::verify(self.db.data(), self.db.logical_size())
    }

    /// [`Snapshot::verify_trailer`], and the SHA-256 of `other` hashed beside it on the same
    /// thread until `split` is set ([`trailer::verify_paired`]).
    pub fn verify_trailer_paired(
        &self,
        other: &[u8],
        split: &std::sync::atomic::AtomicBool,
    ) -> (TrailerCheck, [u8; 32]) {
        trailer::verify_paired(self.db.data(), self.db.logical_size(), other, split)
    }

    /// The trailer state without hashing ([`trailer::skipped`]).
    pub fn skip_trailer(&self) -> TrailerCheck {
        trailer::skipped(self.db.data(), self.db.logical_size())
    }

    /// When the file is shorter than its meta page says: `truncated: N of at least M bytes
    /// (high-water mark × page size)`. A data-dir copy is never shorter (bbolt grows the file
    /// ahead of the high-water mark, bbolt db.go `mmap`/`grow`), so this is damage, not a copy
    /// without a trailer.
    pub fn truncation(&self) -> Option<String> {
        let have = self.db.data().len() as u64;
        let need = self.db.logical_size();
        (have < need).then(|| {
            format!(
                "truncated: {have} of at least {need} bytes (high-water mark {} × page size {})",
                self.db.meta().hwm,
                self.db.page_size()
            )
        })
    }

    /// A top-level bucket by name.
    pub fn bucket(&self, name: &[u8]) -> (Option<Bucket<'_>>, Vec<Problem>) {
        self.db.root_bucket().bucket(name)
    }

    /// The full bbolt integrity check.
    pub fn check_structure(&self) -> bbolt::CheckReport {
        bbolt::check(&self.db)
    }

    /// [`Snapshot::check_structure`], handing every bucket's leaves to `hook` as the walk finds
    /// them ([`bbolt::check::check_with`]).
    pub fn check_structure_with<'a>(
        &'a self,
        hook: &(dyn Fn(bbolt::check::BucketLeaves<'_, 'a>) + Sync),
    ) -> bbolt::CheckReport {
        bbolt::check::check_with(&self.db, hook)
    }

    /// [`Snapshot::check_structure`]'s report when it would find no problem, else `None`, in the
    /// pass that hands every bucket's leaves to `hook` ([`bbolt::intact::check_intact_with`]).
    pub fn check_intact_with<'a>(
        &'a self,
        hook: bbolt::intact::IntactHook<'_, 'a>,
    ) -> Option<bbolt::CheckReport> {
        bbolt::intact::check_intact_with(&self.db, hook)
    }
}
