//! The `neurodyn` binary's global allocator: the system allocator, with large blocks advised to
//! use transparent huge pages.
//!
//! A one-shot process such as `neurodyn grad` writes its whole backprop tape (≈ 106 MiB for the
//! gnODE case of N = 128) into fresh memory, and the kernel faults it in page by page: 4 KiB at
//! a time, 34 600 faults for that process (measured with a 140 MiB tape); with huge pages 2 MiB
//! at a time, 3 200 faults in all (most of them start-up and small blocks). Linux's default THP mode is
//! `madvise`, so a program has to ask: blocks of at least [`HUGE_MIN_BYTES`] get
//! `madvise(MADV_HUGEPAGE)` over the whole pages that hold them (their allocator header
//! included: advising only the inner pages would split glibc's mapping, and growing it in place
//! with `mremap` would then fail and copy instead). On other systems, or where THP is off, the
//! advice is skipped or ignored. The library itself allocates through whatever allocator its
//! user's program has; this one is only the command-line tool's.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks of at least this many bytes are advised `MADV_HUGEPAGE`.
pub const HUGE_MIN_BYTES: usize = 4 << 20;

/// The system allocator, with large blocks advised to use transparent huge pages.
pub struct HugePageAlloc;

/// Advises the pages holding `size` bytes at `ptr` to be backed by huge pages (a hint: its
/// failure changes nothing).
fn advise(ptr: *mut u8, size: usize) {
    #[cfg(target_os = "linux")]
    if size >= HUGE_MIN_BYTES && !ptr.is_null() {
        const PAGE: usize = 4096;
        let start = (ptr as usize) & !(PAGE - 1);
        let end = (ptr as usize + size).next_multiple_of(PAGE);
        // SAFETY: the range covers whole pages of a block this allocator has just handed out
        // (so they are mapped); the advice changes no contents.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, size);
}

// SAFETY: every call forwards to `System` with the caller's arguments, so `System`'s guarantees
// hold; `advise` only adds a hint about the returned block.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller's contract on `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        advise(p, new_size);
        p
    }
}
