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
//!
//! [`tune_malloc`] sets glibc's thresholds so that the smaller blocks come from one heap that
//! keeps its pages: see there.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks of at least this many bytes are advised `MADV_HUGEPAGE`.
pub const HUGE_MIN_BYTES: usize = 4 << 20;

/// The system allocator, with large blocks advised to use transparent huge pages.
pub struct HugePageAlloc;

/// Sets glibc's allocator thresholds for a process that allocates and frees many blocks of up
/// to a few MiB while it solves (gradient buffers, scratch, the case's parsed arrays):
///
/// * blocks under [`HUGE_MIN_BYTES`] come from the heap (`M_MMAP_THRESHOLD`), not from a
///   mapping of their own that is faulted in afresh each time (glibc's default threshold starts
///   at 128 KiB and only rises as mapped blocks are freed, and growing a mapped block moves it
///   with `mremap`); blocks from [`HUGE_MIN_BYTES`] on are mapped and advised huge pages as
///   before;
/// * the heap grows 16 MiB at a time (`M_TOP_PAD`) and keeps up to 64 MiB free at its top
///   (`M_TRIM_THRESHOLD`), so a freed buffer's pages are taken again instead of being returned
///   to the kernel and faulted in again.
///
/// `neurodyn grad` of the gnODE case at N = 128 (f64, one core, `--threads 1`) took 3 700 page
/// faults with glibc's defaults and 2 000–2 200 with these, and 145.7 → 140.3, 149.9 → 143.1,
/// 151.5 → 145.8 and 153.9 → 147.6 ms (medians of 25–30 alternating processes; the same
/// output); on both cores (two shards) 83.3 → 80.6 ms; N = 32 21.7 → 20.8 ms; N = 512
/// 2877 → 2865 ms; a reference case 3.8 → 3.4 ms. Called first in `main`; elsewhere than glibc
/// it does nothing.
pub fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets thresholds that glibc's allocator reads on its later calls
    // (blocks already handed out stay valid); any time is safe.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, HUGE_MIN_BYTES as libc::c_int);
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

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
