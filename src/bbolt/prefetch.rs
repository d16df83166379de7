//! Software prefetch hints over the mapped file.
//!
//! Why: a walk of a 1 GiB mapping touches each page once, in an order the hardware prefetcher
//! cannot guess (child page ids, not addresses) and across 4 KiB boundaries its streamer never
//! crosses. Each first touch then waits for DRAM and, under a hypervisor, for a two-level
//! page-table walk: a perf profile of `status` on the bench snapshot put a third of its CPU on
//! the one load of each page header (`Db::page`). Asking for the line a few pages ahead
//! overlaps those waits. A hint never faults and changes no result.

/// How many pages ahead of the one being read the walk and the leaf loops ask for.
pub(crate) const AHEAD: usize = 8;

/// Hints that the cache line holding `data[offset]` will be read soon. Out of range: nothing.
#[inline(always)]
pub(crate) fn prefetch(data: &[u8], offset: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(b) = data.get(offset) {
        // SAFETY: PREFETCHT0 is a hint (SSE, baseline on x86_64): it reads nothing into the
        // program and never faults, and the address is inside `data` anyway.
        unsafe {
            core::arch::x86_64::_mm_prefetch(
                (b as *const u8).cast::<i8>(),
                core::arch::x86_64::_MM_HINT_T0,
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, offset);
}

/// How many leaves ahead of the one being hashed [`prefetch_leaf_pages`] is asked for.
pub(crate) const LEAVES_AHEAD: usize = 4;

/// Asks for every cache line of the first 16 pages of `leaf`, into L2.
///
/// Why: a loop that hashes a leaf's keys and values stops short of the end of each leaf (the
/// free space at the end of its last page), and the hardware prefetchers take that gap as the
/// end of the stream: each leaf's pages then start with demand misses. A C loop over the bench
/// snapshot on an AMD EPYC (Zen 4) reading each 8 KiB block whole ran at 23–28 GB/s, reading
/// only its first 7300 bytes (what a leaf of two 3.6 KiB values holds) at 12 GB/s.
///
/// Measured on the bench snapshot's key bucket (150k leaves of 2 × 4 KiB pages). Intel Xeon,
/// one core, CRC-32C of every key and value in walk order, best of 5: 142–144 ms without, 124–125
/// ms asking for the first 8 lines of each page of the leaf 2 ahead. AMD EPYC (Zen 4), once
/// CRC-32C ran at 40 GB/s from cache (`crate::crc`), medians of 11 interleaved whole runs:
/// `status` 125 ms with one line 8 leaves ahead, 105 with every line 4 ahead; `compare` of three
/// copies 281 ms with 8 lines 2 ahead, 238 with every line 4 ahead (6 ahead and 48 lines the
/// same within noise).
#[inline]
pub(crate) fn prefetch_leaf_pages(leaf: &[u8]) {
    const PAGE: usize = 4096;
    const MAX_PAGES: usize = 16;
    let end = leaf.len().min(PAGE * MAX_PAGES);
    for line in (0..end).step_by(64) {
        prefetch_l2(leaf, line);
    }
}

/// [`prefetch`], into L2 rather than L1 (PREFETCHT1).
#[inline(always)]
fn prefetch_l2(data: &[u8], offset: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(b) = data.get(offset) {
        // SAFETY: as in `prefetch`: a hint that never faults, on an address inside `data`.
        unsafe {
            core::arch::x86_64::_mm_prefetch(
                (b as *const u8).cast::<i8>(),
                core::arch::x86_64::_MM_HINT_T1,
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, offset);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_never_fault_out_of_range() {
        let b = [1u8; 10];
        prefetch(&b, 0);
        prefetch(&b, 9);
        prefetch(&b, 10);
        prefetch(&b, usize::MAX);
        prefetch(&[], 0);
        prefetch_leaf_pages(&b);
        prefetch_leaf_pages(&[]);
        prefetch_leaf_pages(&vec![0u8; 100_000]);
    }
}
