//! The `pyc` binary's global allocator: mimalloc, entered through its plain `mi_malloc` /
//! `mi_realloc` whenever the alignment asked for is one every mimalloc block has.
//!
//! The `mimalloc` crate's allocator calls `mi_malloc_aligned` for every allocation, whose
//! alignment checks cost more than the plain fast path; the compiler makes millions of small
//! allocations (3.8% fewer instructions compiling the stdlib). pyc-compiler's `compile_tree`
//! example includes this file, so that its figures are the binary's.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Every mimalloc block is aligned to a machine word: block sizes are multiples of it and
/// pages start aligned to 16 bytes.
const WORD_ALIGN: usize = std::mem::size_of::<usize>();

/// mimalloc, as the global allocator.
pub struct MiMalloc;

// SAFETY: mimalloc returns blocks of at least the size asked for, aligned to a word (enough
// for `align <= WORD_ALIGN`) or, through its `_aligned` entry points, to the alignment asked
// for; it frees and reallocates any block it returned, whichever entry point made it.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD_ALIGN {
            mi::mi_malloc(layout.size()) as *mut u8
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD_ALIGN {
            mi::mi_zalloc(layout.size()) as *mut u8
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr as *mut c_void)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= WORD_ALIGN {
            mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
        }
    }
}
