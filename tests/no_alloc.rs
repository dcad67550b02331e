//! `advance` (and `evolve`) allocates nothing: not through the core, not through the C ABI,
//! not with worker threads, not for large cells (whose `L` needs many partial sums),
//! for every row of the family table (`tests/common/family.rs`), with every
//! compartment bound to a caller buffer and with none bound (the library's own
//! storage, where a modulator and a mask at rest are not even read).

mod common;

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

use common::family::{DTYPES, FAMILY};

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
    unbound_through_the_c_abi();
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

/// Every row of the family table, both dtypes, every compartment bound to a
/// caller buffer (so the ABI's view of them is built on every call), with one
/// thread and with two (70,000 elements: enough for the cell's own threads and
/// several partial-sum blocks).
fn through_the_c_abi() {
    use ngc_cells::*;
    let (n, batch) = (35_000usize, 2usize);
    for row in FAMILY {
        for dtype in DTYPES {
            let c = row.cell(n, batch, dtype);
            // Caller buffers of the cell's dtype (f64 storage is aligned for both),
            // each sized for its compartment, alive until after the cell.
            let lens: Vec<usize> = row.compartments.iter().map(|name| c.len(name)).collect();
            let mut bufs: Vec<Vec<f64>> = lens.iter().map(|&len| vec![0.5; len]).collect();
            if dtype == NGC_DTYPE_F32 {
                for b in &mut bufs {
                    let halves: &mut [f32] = bytemuck_f32(b);
                    halves.fill(0.5);
                }
            }
            for ((name, buf), &len) in row.c_names().iter().zip(&mut bufs).zip(&lens) {
                // SAFETY: live handle; `buf` holds `len` elements of the cell's
                // dtype and outlives the cell (`drop(c)` below comes first).
                let st =
                    unsafe { ngc_cell_bind(c.ptr, name.as_ptr(), buf.as_mut_ptr().cast(), len) };
                assert_eq!(st, NGC_OK, "{}: bind {name:?}", row.label);
            }
            for threads in [1, 2] {
                c.set_threads(threads);
                let a = allocations_during(|| {
                    for _ in 0..3 {
                        c.advance(0.0, 1.0);
                        c.evolve(0.0, 1.0);
                    }
                });
                assert_eq!(a, 0, "{} dtype {dtype} threads={threads}", row.label);
            }
            drop(c);
        }
    }
}

/// Every row of the family table, both dtypes, nothing bound: every
/// compartment in the library's own storage, which takes the owned paths of
/// `Cell::step` (issue 16): a modulator and a mask at rest (after creation and
/// after `ngc_cell_reset`) are lent as `Slot::Rest` and not read; set, they are
/// read, and a mask eaten back to ones is found at rest again by one pass over
/// it. One thread and two, 70,000 elements as above.
fn unbound_through_the_c_abi() {
    use ngc_cells::*;
    let (n, batch) = (35_000usize, 2usize);
    for row in FAMILY {
        for dtype in DTYPES {
            let c = row.cell(n, batch, dtype);
            let what = |path: &str, threads: usize| {
                format!(
                    "{} dtype {dtype} threads={threads}, nothing bound, {path}",
                    row.label
                )
            };
            for threads in [1, 2] {
                c.set_threads(threads);
                // At rest: since creation (threads = 1), since the reset below (2).
                let a = allocations_during(|| {
                    for _ in 0..3 {
                        c.advance(0.0, 1.0);
                        c.evolve(0.0, 1.0);
                    }
                });
                assert_eq!(a, 0, "{}", what("inputs at rest", threads));
                // Every input set (the modulator stays so); the mask, eaten back to
                // ones by the first step, set again before each step from values and
                // a name made outside the count.
                c.set_random_inputs(threads as u64);
                let mask = row.inputs.iter().find(|i| i.name == "mask").map(|inp| {
                    let len = c.len(inp.name);
                    let mut v: Vec<f64> = (0..len)
                        .map(|j| inp.draw.at(common::family::uniform(9, 4, j as u64)))
                        .collect();
                    assert!(v.iter().any(|&x| x != 1.0), "{}: a mask of ones", row.label);
                    if dtype == NGC_DTYPE_F32 {
                        let w: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                        bytemuck_f32(&mut v)[..len].copy_from_slice(&w);
                    }
                    (common::cstr(inp.name), v)
                });
                let a = allocations_during(|| {
                    if let Some((name, v)) = &mask {
                        // SAFETY: live handle; `v` holds the mask's `len()` elements of
                        // the cell's dtype (f64 storage is aligned for f32 and twice the room).
                        let st = unsafe {
                            ngc_cell_set(c.ptr, name.as_ptr(), v.as_ptr().cast(), v.len())
                        };
                        assert_eq!(st, NGC_OK);
                    }
                    c.advance(0.0, 1.0);
                    c.evolve(0.0, 1.0);
                });
                assert_eq!(a, 0, "{}", what("inputs set", threads));
                // SAFETY: live handle.
                assert_eq!(unsafe { ngc_cell_reset(c.ptr) }, NGC_OK);
            }
        }
    }
}

/// The first `len` f32 of an f64 buffer's storage (aligned, and twice the room).
fn bytemuck_f32(b: &mut [f64]) -> &mut [f32] {
    let len = b.len();
    // SAFETY: f64 storage is aligned for f32 and holds 2 * len of them; any bit
    // pattern is a valid f32; the borrow of `b` covers the returned slice.
    unsafe { std::slice::from_raw_parts_mut(b.as_mut_ptr().cast::<f32>(), len) }
}
