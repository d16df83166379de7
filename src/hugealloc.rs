//! The binary's allocator: the system one, with large blocks backed by transparent huge pages.
//!
//! Why: a command on a GB snapshot allocates a few vectors of tens of MB (300k records, their
//! sort entries, the audit's lists) and touches each page once. Under a hypervisor every first
//! touch of a 4 KiB page is a fault with a nested page-table walk: on the 1.23 GB bench file
//! (AMD EPYC KVM guest) page faults were ~19 % of `salvage`'s CPU and a copy of 26 MB of
//! records cost more in faults than in copying. `madvise(MADV_HUGEPAGE)` on the 2 MiB-aligned
//! part of each block of at least 4 MiB lets the kernel fault it in 2 MiB at a time where THP
//! is enabled (`always` or `madvise`); where it is not, the advice is ignored. glibc serves such
//! blocks with their own `mmap`, so the advice never touches a region shared with small
//! allocations, and it is dropped with the block. Only the binary installs it: an embedder of
//! the library keeps its own allocator.

use std::alloc::{GlobalAlloc, Layout, System};

pub struct HugeForLarge;

/// Blocks from this size on are advised.
const LARGE: usize = 4 << 20;
const HUGE_PAGE: usize = 2 << 20;

fn advise(ptr: *mut u8, size: usize) {
    if ptr.is_null() || size < LARGE {
        return;
    }
    let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
    let end = (ptr as usize + size) / HUGE_PAGE * HUGE_PAGE;
    if end > start {
        // SAFETY: [start, end) lies inside the block just allocated (rounded inwards to huge
        // pages); MADV_HUGEPAGE changes only how its pages are backed, never their contents, and
        // a failure (THP off, old kernel) leaves the memory as it was.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

// SAFETY: every call is forwarded to `System` with the same arguments; the advice above only
// changes how the kernel backs memory already allocated.
unsafe impl GlobalAlloc for HugeForLarge {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if new_size >= LARGE && new_size > layout.size() {
            advise(p, new_size);
        }
        p
    }
}
