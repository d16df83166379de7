//! Software prefetch hints over the mapped file.
//!
//! Why: a walk of a 1 GiB mapping touches each page once, in an order the hardware prefetcher
//! cannot guess (child page ids, not addresses) and across 4 KiB boundaries its streamer never
//! crosses. Each first touch then waits for DRAM and, under a hypervisor, for a two-level
//! page-table walk: a perf profile of `status` on the bench snapshot put a third of its CPU on
//! the one load of each page header (`Db::page`). Asking for the line a few pages ahead
//! overlaps those waits. A hint never faults and changes no result.

use super::page::LeafPage;

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

/// Reads one byte of each cache line of `leaf` after its last element's data, to the end of
/// its last page (the free space bbolt leaves there), so a loop that read every key and value
/// of the leaf reads the whole run, as one unbroken stream into the next leaf.
///
/// Why: the hardware prefetchers take the unread tail as the end of the stream and start the
/// next leaf from demand misses. A C loop over big.db's 8 KiB blocks on an AMD EPYC (Zen 4), one
/// thread: the first 7296 bytes of each block 0.099 s; the same, then the remaining 896 bytes
/// 0.043–0.046 s; the whole block in one loop 0.044–0.045 s. In `status` on big.db (hyperfine,
/// 15 runs, twice): neither this nor a software prefetch 126–131 ms; every line of the leaf 4
/// ahead (PREFETCHT1, which this replaced) 108–109 ms; both 104–106 ms; this alone 90–92 ms.
/// `compare` of three copies: 250–257 ms with both, 192–210 ms with this alone. (On the Intel
/// Xeon of the first rounds the first 8 lines of each page of the leaf 2 ahead gave 142 → 124
/// ms; this was not measured there.) Costs ~14 loads per leaf of two 3.6 KiB values.
#[inline]
pub(crate) fn touch_tail(leaf: &LeafPage<'_>) {
    let bytes = leaf.bytes();
    let Some(last) = leaf.len().checked_sub(1) else {
        return;
    };
    let Ok(e) = leaf.element(last) else { return };
    // The last element's value ends the data (bbolt's node.write lays them in order); where a
    // damaged page says otherwise the touch only reads more or fewer lines of the same page.
    let end = (e.value.as_ptr() as usize + e.value.len()).saturating_sub(bytes.as_ptr() as usize);
    // A sound leaf's run ends within a page of its data; a hostile one may claim a long overflow
    // run: at most 64 KiB (the largest bbolt page size) past the data is read.
    const MAX_TAIL: usize = 64 << 10;
    let stop = bytes.len().min(end.saturating_add(MAX_TAIL));
    let mut sink = 0u8;
    for at in (end.next_multiple_of(64)..stop).step_by(64) {
        // SAFETY: `at < bytes.len()`: a plain read of the mapping, volatile so it stays a load.
        sink ^= unsafe { std::ptr::read_volatile(bytes.as_ptr().add(at)) };
    }
    std::hint::black_box(sink);
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
    }
}
