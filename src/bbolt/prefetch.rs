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
