//! How many threads a cell's `advance` may use.

use super::guard::ffi_guard;
use super::handle::{cell_mut, query, with_cell, NgcCell};
use super::status::*;

/// Lets `ngc_cell_advance` use up to `threads` threads on this cell (default 1,
/// because host simulators usually have their own parallelism). Threads are
/// only used on cells large enough for them to pay off (at least 65536
/// elements, 32768 per thread, at most 64 threads), and results are
/// bit-identical for any value. The worker threads are started by this call
/// (or by a `ngc_cell_batched_reset` that makes the cell large enough), never
/// by `ngc_cell_advance`; they wait between calls and are joined by
/// `ngc_cell_free`. `NGC_ERR_ALLOCATION` if the system would not start one.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INVALID_ARGUMENT` (`threads` is 0),
/// `NGC_ERR_ALLOCATION`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_set_threads(cell: *mut NgcCell, threads: usize) -> NgcStatus {
    ffi_guard!("ngc_cell_set_threads", {
        // SAFETY: forwarded contract.
        let c = unsafe { cell_mut(cell)? };
        if threads == 0 {
            return Err(FfiError::new(
                NGC_ERR_INVALID_ARGUMENT,
                "threads must be at least 1",
            ));
        }
        with_cell!(&mut c.cell, x => x.set_threads(threads))?;
        Ok(())
    })
}

/// `*out_threads` = the number of threads `ngc_cell_advance` may use: the
/// value given to `ngc_cell_set_threads`, at most 64 (a cell smaller than the
/// thresholds there uses fewer).
///
/// Returns as `ngc_cell_dtype`.
///
/// # Safety
/// `cell` a live handle; `out_threads` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_threads(
    cell: *const NgcCell,
    out_threads: *mut usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_threads", {
        // SAFETY: forwarded contract.
        unsafe {
            query(cell, out_threads, |c| {
                Ok(with_cell!(&c.cell, x => x.threads()))
            })
        }
    })
}
