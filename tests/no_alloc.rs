//! `advance` allocates nothing: not through the core, not through the C ABI,
//! not with worker threads, not for large cells (whose `L` needs many partial sums).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count(f: &mut dyn FnMut()) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    f();
    ALLOCS.load(Ordering::SeqCst) - before
}

/// The fewest allocations the process made over three runs of `f`. The
/// counter is process-wide, so a stray allocation elsewhere (the test
/// harness, a thread starting up) may land in one window; an allocation in
/// `advance` itself lands in all of them.
fn allocations_during(mut f: impl FnMut()) -> usize {
    (0..3).map(|_| count(&mut f)).min().unwrap()
}

/// One test function for the whole file: the count is process-wide, and the
/// test harness allocates when a concurrent test finishes.
#[test]
fn advance_allocates_nothing() {
    through_the_core();
    through_the_c_abi();
}

fn through_the_core() {
    // The native platform (what the C ABI uses): persistent workers. The
    // portable one spawns scoped threads per call, which allocates.
    use ngc_cells::abi::Native;
    let bernoulli_error_cell = |name, n, batch, logits, shape| {
        ngc_cells::core::bernoulli_error_cell_on::<f32, Native>(name, n, batch, logits, shape)
    };
    let bernoulli_error_cell_f64 = |name, n, batch, logits, shape| {
        ngc_cells::core::bernoulli_error_cell_on::<f64, Native>(name, n, batch, logits, shape)
    };
    for &n in &[1usize, 784, 100_000, 300_000] {
        for threads in [1, 2] {
            for logits in [false, true] {
                let mut c = bernoulli_error_cell("a", n, 1, logits, None).unwrap();
                c.set_threads(threads).unwrap();
                let a = allocations_during(|| c.advance(1.0).unwrap());
                assert_eq!(a, 0, "f32 n={n} threads={threads} (first calls)");
                let a = allocations_during(|| {
                    for _ in 0..3 {
                        c.advance(1.0).unwrap();
                    }
                });
                assert_eq!(a, 0, "f32 n={n} threads={threads}");
                let mut d = bernoulli_error_cell_f64("b", n, 1, logits, None).unwrap();
                d.set_threads(threads).unwrap();
                let a = allocations_during(|| d.advance(1.0).unwrap());
                assert_eq!(a, 0, "f64 n={n} threads={threads}");
            }
        }
    }
}

fn through_the_c_abi() {
    use ngc_cells::*;
    let n = 200_000usize;
    let mut bufs: Vec<Vec<f32>> = (0..7).map(|_| vec![0.5f32; n]).collect();
    let names = [
        c"p",
        c"target",
        c"modulator",
        c"mask",
        c"L",
        c"dp",
        c"dtarget",
    ];
    let mut cell: *mut NgcCell = std::ptr::null_mut();
    // SAFETY: valid arguments per the header; the buffers outlive the cell.
    unsafe {
        assert_eq!(
            ngc_bernoulli_error_cell_new(
                c"c".as_ptr(),
                n,
                1,
                true,
                std::ptr::null(),
                NGC_DTYPE_F32,
                &mut cell
            ),
            NGC_OK
        );
        for (name, buf) in names.iter().zip(bufs.iter_mut()) {
            let cap = if name.to_bytes() == b"L" { 1 } else { n };
            assert_eq!(
                ngc_cell_bind_f32(cell, name.as_ptr(), buf.as_mut_ptr(), cap),
                NGC_OK
            );
        }
        for threads in [1, 2] {
            assert_eq!(ngc_cell_set_threads(cell, threads), NGC_OK);
            let a = allocations_during(|| {
                for _ in 0..3 {
                    assert_eq!(ngc_cell_advance(cell, 0.0, 1.0), NGC_OK);
                }
            });
            assert_eq!(a, 0, "threads={threads}");
        }
        ngc_cell_free(cell);
    }
}
