//! An opened bbolt file: the bytes, the page size, and the chosen meta (db.go `getPageSize`,
//! `meta()`).

use super::error::{Error, ProblemKind};
use super::fill::{self, Filler};
use super::meta::Meta;
use super::page::{Page, Pgid, PAGE_HEADER_SIZE};
use memmap2::Mmap;
use serde::Serialize;
use std::fs::File;
use std::ops::Deref;
use std::path::Path;

/// The file's bytes: a read-only mapping, or bytes in memory (tests, data built into the binary).
pub enum Data {
    Mapped(Mapping),
    Owned(Vec<u8>),
    Static(&'static [u8]),
}

/// A read-only mapping of a file, and the thread still bringing its pages in when the file was
/// not in the page cache ([`super::fill`]).
pub struct Mapping {
    /// Stopped and joined first when the mapping is dropped.
    filler: Option<Filler>,
    map: Mmap,
    /// A resident file mapped without its pages: [`Data::populate`] brings them in.
    deferred: bool,
}

/// When the pages of a file already in the page cache are mapped in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Populate {
    /// With the mapping (`MAP_POPULATE`).
    Now,
    /// By [`Data::populate`], on the thread that calls it. For a command that reads several
    /// files on several cores: a mapping is made under the process's memory-map lock held for
    /// writing, which waits for any populate under way to end (each holds it for reading), so
    /// mapping them one after another with `MAP_POPULATE` from different threads serializes
    /// them. Mapped first and populated afterwards, the populates run side by side.
    Deferred,
}

impl Drop for Mapping {
    fn drop(&mut self) {
        drop(self.filler.take());
        fill::release(self.map.as_ptr(), self.map.len());
    }
}

impl Deref for Data {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Mapped(m) => &m.map,
            Data::Owned(v) => v,
            Data::Static(s) => s,
        }
    }
}

impl Data {
    /// Maps `path` read-only. The file is opened with `O_RDONLY`; nothing can write through the
    /// mapping (`PROT_READ`, `MAP_PRIVATE` semantics are not needed since we never write).
    pub fn map(path: &Path) -> Result<Data, Error> {
        Data::map_with(path, Populate::Now)
    }

    /// [`Data::map`], the pages of a resident file brought in `when` asked. A file not in the
    /// page cache is populated on a background thread either way.
    pub fn map_with(path: &Path, when: Populate) -> Result<Data, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len == 0 {
            // mmap of an empty file fails on Linux; an empty Vec reports "too small" instead.
            return Ok(Data::Owned(Vec::new()));
        }
        // On a cold page cache, populating the mapping reads the file in small synchronous
        // steps (status on the 1.2 GB bench file: 16.5 s, ~75 MB/s, where `openssl dgst` reading
        // it sequentially took 6 s). Asking the kernel to read the whole file ahead first turns
        // that into large sequential reads; on a warm cache it only looks the pages up.
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::io::AsRawFd;
            // SAFETY: a plain syscall on a descriptor we own; it reads nothing into our memory.
            // Advice only: failure changes nothing but speed.
            let _ = unsafe {
                libc::posix_fadvise(
                    file.as_raw_fd(),
                    0,
                    libc::off_t::try_from(len).unwrap_or(0),
                    libc::POSIX_FADV_WILLNEED,
                )
            };
        }
        // MAP_POPULATE pre-faults the whole file in one call: every command reads every page, and
        // one populate costs far less than ~300k page faults per GiB (status on a 1.15 GiB
        // snapshot: 1.3 s -> 0.43 s). On a file larger than free memory it is best-effort.
        // When the file is not in the page cache, populating waits for the disk before any work
        // can start, so a thread does it instead while the work follows the read-ahead
        // ([`super::fill`]).
        let resident = fill::resident(&file, len);
        let mut options = memmap2::MmapOptions::new();
        if resident && when == Populate::Now {
            options.populate();
        }
        // SAFETY: the mapping is read-only. If another process truncates the file while we read
        // it, access past the new end raises SIGBUS; see docs/robustness.md for the defence.
        let map = unsafe { options.map(&file) }.map_err(io)?;
        #[cfg(unix)]
        {
            // The scan reads the whole file once, mostly in order.
            let _ = map.advise(memmap2::Advice::Sequential);
        }
        let filler = if resident {
            None
        } else {
            Filler::spawn(map.as_ptr(), map.len())
        };
        Ok(Data::Mapped(Mapping {
            filler,
            map,
            deferred: resident && when == Populate::Deferred,
        }))
    }

    /// Part `i` of `n` of a mapping as `(address, length)`, `None` when empty or for other data:
    /// parts end on 2 MiB boundaries, the last at the end (a count of 0 is taken as 1).
    fn part(&self, i: usize, n: usize) -> Option<(*const u8, usize)> {
        const HUGE: usize = 2 << 20;
        let Data::Mapped(m) = self else { return None };
        let len = m.map.len();
        let bound = |k: usize| (len / n.max(1) * k).next_multiple_of(HUGE).min(len);
        let (start, end) = (bound(i), if i + 1 >= n { len } else { bound(i + 1) });
        // SAFETY: `start` is within the mapping (at most its length).
        (start < end).then(|| (unsafe { m.map.as_ptr().add(start) }, end - start))
    }

    /// Drops the page-table entries of part `i` of `n` of a mapping ahead of its unmapping, so
    /// that one copy's teardown can be shared between cores ([`fill::release`] says why it can
    /// be); nothing for other data. The bytes stay readable: a page touched again is read from
    /// the file.
    pub fn release_part(&self, i: usize, n: usize) {
        if let Some((at, len)) = self.part(i, n) {
            fill::release(at, len);
        }
    }

    /// Brings part `i` of `n` of a [`Populate::Deferred`] mapping's pages in now, on this thread
    /// (parts as [`Data::release_part`]'s); nothing for any other data.
    pub fn populate_part(&self, i: usize, n: usize) {
        if matches!(self, Data::Mapped(m) if m.deferred) {
            if let Some((at, len)) = self.part(i, n) {
                fill::populate(at, len);
            }
        }
    }

    /// [`Data::populate_part`] of the whole mapping.
    pub fn populate(&self) {
        self.populate_part(0, 1)
    }
}

/// Which meta page is in use, and what was wrong with the other one, if anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetaChoice {
    /// 0 or 1.
    pub used: u8,
    /// Whether the used meta is the older one because the newer failed validation.
    pub fell_back: bool,
    /// Validation error of the meta not used, if it is invalid.
    pub other_invalid: Option<String>,
}

/// An opened bbolt database. Views (`Page`, `Bucket`, …) borrow from it.
pub struct Db {
    data: Data,
    page_size: usize,
    meta: Meta,
    choice: MetaChoice,
}

impl Db {
    /// Opens and maps a file read-only.
    pub fn open(path: &Path) -> Result<Db, Error> {
        Db::from_data(Data::map(path)?)
    }

    /// Reads meta pages from bytes already in hand.
    pub fn from_data(data: Data) -> Result<Db, Error> {
        let size = data.len() as u64;
        if data.len() < 2 * 512 {
            return Err(Error::TooSmall { size });
        }
        let (page_size, first_err) = discover_page_size(&data)?;
        let read = |n: usize| -> (Option<Meta>, Result<(), String>) {
            let Some(page) = data.get(n * page_size..(n + 1) * page_size) else {
                return (None, Err("past the end of the file".into()));
            };
            match Meta::decode(page) {
                Some(m) => {
                    let v = m.validate(page).and_then(|()| {
                        if m.page_size as usize == page_size {
                            Ok(())
                        } else {
                            Err(format!(
                                "page size {} differs from the file's {page_size}",
                                m.page_size
                            ))
                        }
                    });
                    (Some(m), v)
                }
                None => (None, Err("too short".into())),
            }
        };
        let (m0, v0) = read(0);
        let (m1, v1) = read(1);
        let v0 = v0.map_err(|e| first_err.clone().unwrap_or(e));
        let tx = |m: &Option<Meta>| m.map(|m| m.txid).unwrap_or(0);
        // The higher txid is tried first, the other is the fallback (db.go `meta()`).
        let (a, b) = if tx(&m1) > tx(&m0) {
            (1u8, 0u8)
        } else {
            (0, 1)
        };
        let pick = |i: u8| if i == 0 { (&m0, &v0) } else { (&m1, &v1) };
        let (chosen, fell_back) = match (pick(a), pick(b)) {
            ((Some(m), Ok(())), _) => ((*m, a), false),
            (_, (Some(m), Ok(()))) => ((*m, b), true),
            _ => {
                return Err(Error::NoValidMeta {
                    meta0: v0.err().unwrap_or_default(),
                    meta1: v1.err().unwrap_or_default(),
                })
            }
        };
        let (meta, used) = chosen;
        let other = if used == 0 { &v1 } else { &v0 };
        let choice = MetaChoice {
            used,
            fell_back,
            other_invalid: other.clone().err(),
        };
        Ok(Db {
            data,
            page_size,
            meta,
            choice,
        })
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }
    /// [`Data::release_part`].
    pub fn release_part(&self, i: usize, n: usize) {
        self.data.release_part(i, n)
    }
    /// [`Data::populate_part`].
    pub fn populate_part(&self, i: usize, n: usize) {
        self.data.populate_part(i, n)
    }
    pub fn page_size(&self) -> usize {
        self.page_size
    }
    pub fn meta(&self) -> &Meta {
        &self.meta
    }
    pub fn meta_choice(&self) -> &MetaChoice {
        &self.choice
    }
    /// Pages the file physically holds.
    pub fn file_pages(&self) -> u64 {
        (self.data.len() / self.page_size) as u64
    }
    /// `hwm × pageSize`: what bbolt's `tx.Size()` and etcd's `totalSize` report.
    pub fn logical_size(&self) -> u64 {
        self.meta.hwm.saturating_mul(self.page_size as u64)
    }

    /// Hints that page `id`'s header will be read soon ([`super::prefetch`]); ids past the file
    /// are ignored.
    #[inline]
    pub fn prefetch_page(&self, id: Pgid) {
        if let Some(off) = id.checked_mul(self.page_size as u64) {
            super::prefetch::prefetch(&self.data, usize::try_from(off).unwrap_or(usize::MAX));
        }
    }

    /// The page `id` with all its overflow blocks. Checks the page lies below the high-water
    /// mark and inside the file, and that its header carries its own id.
    pub fn page(&self, id: Pgid) -> Result<Page<'_>, ProblemKind> {
        let oob = ProblemKind::OutOfBounds {
            hwm: self.meta.hwm,
            file_pages: self.file_pages(),
        };
        let limit = self.meta.hwm.min(self.file_pages());
        if id >= limit {
            return Err(oob);
        }
        let ps = self.page_size as u64;
        let start = (id * ps) as usize;
        let head = Page::new(&self.data[start..start + PAGE_HEADER_SIZE]).ok_or(oob.clone())?;
        if head.id() != id {
            return Err(ProblemKind::IdMismatch { stored: head.id() });
        }
        let blocks = u64::from(head.overflow()) + 1;
        match id.checked_add(blocks) {
            Some(end) if end <= limit => {}
            _ => return Err(oob),
        }
        let end = start + (blocks * ps) as usize;
        Page::new(&self.data[start..end]).ok_or(oob)
    }
}

/// Finds the page size: meta 0's if valid, else a valid meta 1 at `1024 << i` (db.go
/// `getPageSize`). Returns meta 0's error too, to report it if meta 0 stays invalid.
fn discover_page_size(data: &[u8]) -> Result<(usize, Option<String>), Error> {
    let first = match Meta::decode(data) {
        Some(m) => m.validate(data).map(|()| m.page_size as usize),
        None => Err("too short".into()),
    };
    let err0 = match first {
        Ok(ps) => return Ok((ps, None)),
        Err(e) => e,
    };
    for i in 0..=14 {
        let pos = 1024usize << i;
        let Some(page) = data.get(pos..) else { break };
        if let Some(m) = Meta::decode(page) {
            if m.validate(page).is_ok() && m.page_size as usize == pos {
                return Ok((pos, Some(err0)));
            }
        }
    }
    Err(Error::NoValidMeta {
        meta0: err0,
        meta1: "no valid meta 1 at any page size from 1 KiB to 16 MiB".into(),
    })
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("len", &self.data.len())
            .field("page_size", &self.page_size)
            .field("meta", &self.meta)
            .field("choice", &self.choice)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deferred mapping reads the file's bytes before and after it is populated, and after
    /// its page-table entries are dropped part by part (a touched page is read again).
    #[test]
    fn deferred_populate_and_release_keep_the_bytes() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/snapshots/basic.db");
        let want = std::fs::read(path).expect("basic.db");
        for when in [Populate::Now, Populate::Deferred] {
            let data = Data::map_with(Path::new(path), when).expect("map");
            assert!(matches!(data, Data::Mapped(_)));
            data.populate();
            data.populate_part(1, 3);
            assert_eq!(&data[..], &want[..]);
            for n in [1, 2, 3, 7] {
                for i in 0..n {
                    data.release_part(i, n);
                }
                assert_eq!(&data[..], &want[..], "{when:?} in {n} parts");
            }
            // A part past the end is empty; a count of 0 is taken as 1.
            data.release_part(5, 2);
            data.release_part(0, 0);
            assert_eq!(&data[..], &want[..]);
        }
        Data::Owned(want.clone()).release_part(0, 2);
    }
}
