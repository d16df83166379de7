//! How a mapped file's pages come in: all at once when they are already in the page cache, on a
//! background thread when they must be read from disk.
//!
//! Why two ways: every command reads every page, so the mapping is populated up front
//! (`MAP_POPULATE`), which on a warm cache costs milliseconds instead of ~300k page faults per GiB.
//! On a cold cache the same call waits until the whole file has been read from disk before any
//! work starts, so a command that hashes the file paid the disk and then the hash, one after the
//! other: `check` on the cold 1.23 GB bench snapshot took 1.31–1.43 s where `openssl dgst`, which
//! hashes while it reads, took 0.81 s. Populating from a second thread instead lets the hash and
//! the walks run right behind the read-ahead (0.76–0.93 s in the same test, KVM guest, virtio
//! disk, Linux 6.18). The warm path is unchanged.

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Whether the page cache already holds the whole file, judged on a sample: a one-byte read that
/// must not wait for the disk (`preadv2(RWF_NOWAIT)`, Linux 4.14) at 32 places spread over the
/// file and at its last byte. Any miss, or a kernel or file system that cannot say, counts as
/// "not resident", which only moves the populate to a thread.
pub(crate) fn resident(file: &File, len: u64) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        if len == 0 {
            return true;
        }
        const SAMPLES: u64 = 32;
        let fd = file.as_raw_fd();
        let mut byte = 0u8;
        (0..=SAMPLES).all(|i| {
            let off = if i == SAMPLES {
                len - 1
            } else {
                len / SAMPLES * i
            };
            let iov = libc::iovec {
                iov_base: (&mut byte as *mut u8).cast(),
                iov_len: 1,
            };
            // SAFETY: reads at most one byte into `byte`, which outlives the call. The raw
            // syscall (not libc's wrapper, absent on musl) takes the offset as (low, high)
            // halves; on 64-bit the low half holds all of it.
            let n = unsafe {
                libc::syscall(
                    libc::SYS_preadv2,
                    fd,
                    &iov as *const libc::iovec,
                    1,
                    off,
                    0,
                    libc::RWF_NOWAIT,
                )
            };
            n == 1
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, len);
        true
    }
}

/// A thread populating a mapping, `STEP` bytes per `madvise(MADV_POPULATE_READ)` (Linux 5.14),
/// so that dropping it early stops it within one step. Joined on drop: it never outlives the
/// mapping it fills.
pub(crate) struct Filler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// 64 MiB: long enough that the syscalls cost nothing, short enough that stopping is quick.
const STEP: usize = 64 << 20;

impl Filler {
    /// Starts populating `len` bytes at `addr`, a live read-only mapping that the caller keeps
    /// mapped until this `Filler` is dropped.
    pub(crate) fn spawn(addr: *const u8, len: usize) -> Option<Filler> {
        #[cfg(target_os = "linux")]
        {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            let base = addr as usize;
            let thread = std::thread::Builder::new()
                .name("populate".into())
                // The owner keeps the mapping alive until this thread is joined.
                .spawn(move || {
                    populate_in_steps(base as *const u8, len, STEP, || {
                        flag.load(Ordering::Relaxed)
                    })
                })
                .ok()?;
            Some(Filler {
                stop,
                thread: Some(thread),
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (addr, len);
            None
        }
    }
}

impl Drop for Filler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `madvise(MADV_POPULATE_READ)` (Linux 5.14; 22, not yet in every libc crate release).
const MADV_POPULATE_READ: libc::c_int = 22;

/// Maps in the pages of `len` bytes at `addr` (a live read-only mapping of a resident file) on
/// this thread, as `MAP_POPULATE` would have, [`POPULATE_STEP`] bytes per call. On a kernel
/// without `MADV_POPULATE_READ` nothing happens: readers fault the pages in themselves.
pub(crate) fn populate(addr: *const u8, len: usize) {
    populate_in_steps(addr, len, POPULATE_STEP, || false)
}

/// `MADV_POPULATE_READ` over `len` bytes at `addr`, `step` bytes per call, until done, a call
/// fails or `stop` says so; `addr` is a live mapping the caller keeps alive meanwhile.
fn populate_in_steps(addr: *const u8, len: usize, step: usize, stop: impl Fn() -> bool) {
    #[cfg(target_os = "linux")]
    {
        let mut off = 0;
        while off < len && !stop() {
            let n = step.min(len - off);
            // SAFETY: advice on a range of a mapping the caller keeps alive; it only faults
            // pages in, read-only, and reports a failure (EFAULT past a truncated end, EINVAL
            // on an older kernel) as a return value instead of a signal. Nothing is lost on
            // failure: readers fault their pages in themselves.
            if unsafe { libc::madvise(addr.add(off) as *mut _, n, MADV_POPULATE_READ) } != 0 {
                return;
            }
            off += n;
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (addr, len, step, stop);
}

/// 16 MiB: each call holds the memory-map lock for reading, and every other thread's `mmap`,
/// heap growth or thread start waits for it. Whole, a 1.23 GB copy held it for ~90 ms with
/// 4 KiB page-cache pages: the second worker of `compare` could not even start its thread
/// until the first had populated its copy (trace: the two populates one after the other, 0–90
/// and 90–180 ms, in most runs). In steps a writer waits at most one step (~1 ms); the syscalls
/// cost nothing beside the page-table work.
const POPULATE_STEP: usize = 16 << 20;

/// Drops the page-table entries of `len` bytes at `addr` (a read-only mapping about to be
/// unmapped) with `MADV_DONTNEED`.
///
/// Why: `munmap` tears the page tables down while holding the process's memory-map lock, so
/// the unmaps of several copies on different threads ran one after another: `compare` of three
/// copies of the bench snapshot, 4 KiB page-cache pages, 30 + 29 + 35 ms in a row at its end.
/// `MADV_DONTNEED` does that work under the lock held for reading, side by side with other
/// threads' (a C test on the same copies: three at once on two threads, 68–75 ms by
/// `MADV_DONTNEED` against 100–103 ms by `munmap`, 95–97 ms on one thread either way); the
/// `munmap` after it then has nothing left to tear down. The contents are untouched: a page of
/// a file mapping never written to reads the file again if touched.
pub(crate) fn release(addr: *const u8, len: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: the range is a live mapping owned by the caller, read-only and never written, so
    // dropping its page-table entries loses nothing; a failure leaves it as it was.
    unsafe {
        libc::madvise(addr as *mut _, len, libc::MADV_DONTNEED);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (addr, len);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_just_written_is_resident_and_filling_it_changes_nothing() {
        let dir = std::env::temp_dir().join(format!("fill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let mut f = File::create(&path).unwrap();
        let bytes: Vec<u8> = (0..(3 << 20)).map(|i| (i % 251) as u8).collect();
        f.write_all(&bytes).unwrap();
        drop(f);
        let f = File::open(&path).unwrap();
        assert!(resident(&f, bytes.len() as u64));
        let map = unsafe { memmap2::Mmap::map(&f) }.unwrap();
        let filler = Filler::spawn(map.as_ptr(), map.len());
        drop(filler);
        assert_eq!(&map[..], &bytes[..]);
        drop(map);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
