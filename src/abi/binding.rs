//! Binding caller buffers to compartments (zero copy).

use std::ffi::c_char;
use std::ptr::NonNull;

use super::args::check_ptr;
use super::guard::ffi_guard;
use super::handle::{cell_mut, dtype_align, dtype_check, lookup, NgcCell};
use super::status::*;
use crate::core::Dtype;

/// Binds a caller-owned array to a compartment, without copying.
///
/// From this call on, the compartment's values are the first `count` elements
/// of `data`, where `count` is the compartment's element count
/// (`ngc_cell_compartment_len`: `batch_size * n_units` or `batch_size * H * W * C`
/// for state-shaped compartments, 1 for a scalar such as an error cell's `L`):
/// `ngc_cell_advance` reads inputs from it and writes outputs into it in
/// place, and the resets write rest values into it. Binding does not write
/// `data`: its current contents become the compartment's value. Binding a bound
/// compartment again replaces the old buffer (which is then no longer used and
/// not written).
///
/// - `compartment`: an ngc-learn name (each constructor lists its cell's),
///   NUL-terminated.
/// - `data`: a contiguous array of the cell's dtype (`float` for
///   `NGC_DTYPE_F32`, `double` for `NGC_DTYPE_F64`), aligned for it. Row-major or
///   column-major does not matter for the state-shaped compartments: they all
///   have the cell's state shape and the math is element-wise, so a Julia or
///   MATLAB array binds as it is (see the header's "Layout" note for
///   compartments of other shapes).
/// - `capacity`: how many elements `data` holds. At least `count`; a larger
///   buffer lets `ngc_cell_batched_reset` (or `ngc_cell_set_shaped`) grow the
///   compartment without re-binding. The library never touches elements past
///   `count`.
///
/// Ownership and lifetime: the library never frees `data`. The caller keeps it
/// alive, and does not free or move it, until `ngc_cell_unbind` of this
/// compartment, a re-bind, or `ngc_cell_free`. The caller may read and write it
/// between calls, but not during a call on this cell (from another thread).
///
/// Wiring: the same buffer may be bound to an output of one cell and an input
/// of another (e.g. one cell's `dp` as the next one's `modulator`): that is how
/// cells are connected without copies. Two compartments of the *same* cell may
/// not share memory: overlapping `[data, data + capacity)` ranges are refused.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INVALID_ARGUMENT` (name not UTF-8),
/// `NGC_ERR_UNKNOWN_COMPARTMENT`, `NGC_ERR_CAPACITY_TOO_SMALL`,
/// `NGC_ERR_SIZE_OVERFLOW` (`capacity` beyond the address space),
/// `NGC_ERR_OVERLAP`, `NGC_ERR_PANIC`. On failure nothing changes.
///
/// # Safety
/// `cell` a live handle; `compartment` NUL-terminated; `data` valid for reading
/// and writing `capacity` elements of the cell's dtype for as long as it is bound.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_bind(
    cell: *mut NgcCell,
    compartment: *const c_char,
    data: *mut core::ffi::c_void,
    capacity: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_bind", {
        // SAFETY: forwarded contract.
        unsafe { bind_impl(cell, compartment, data.cast(), capacity, None) }
    })
}

/// `ngc_cell_bind` for a cell of dtype `NGC_DTYPE_F32`, type-checked: a cell of
/// another dtype gets `NGC_ERR_DTYPE_MISMATCH`. Otherwise as `ngc_cell_bind`.
///
/// # Safety
/// As `ngc_cell_bind`.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_bind_f32(
    cell: *mut NgcCell,
    compartment: *const c_char,
    data: *mut f32,
    capacity: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_bind_f32", {
        // SAFETY: forwarded contract.
        unsafe { bind_impl(cell, compartment, data.cast(), capacity, Some(Dtype::F32)) }
    })
}

/// `ngc_cell_bind` for a cell of dtype `NGC_DTYPE_F64`, type-checked: a cell of
/// another dtype gets `NGC_ERR_DTYPE_MISMATCH`. Otherwise as `ngc_cell_bind`.
///
/// # Safety
/// As `ngc_cell_bind`.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_bind_f64(
    cell: *mut NgcCell,
    compartment: *const c_char,
    data: *mut f64,
    capacity: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_bind_f64", {
        // SAFETY: forwarded contract.
        unsafe { bind_impl(cell, compartment, data.cast(), capacity, Some(Dtype::F64)) }
    })
}

/// # Safety
/// As `ngc_cell_bind`.
unsafe fn bind_impl(
    cell: *mut NgcCell,
    compartment: *const c_char,
    data: *mut u8,
    capacity: usize,
    want: Option<Dtype>,
) -> Result<(), FfiError> {
    // SAFETY: forwarded contract.
    let c = unsafe { cell_mut(cell)? };
    // SAFETY: forwarded contract.
    let (name, idx) = unsafe { lookup(c, compartment)? };
    if let Some(want) = want {
        dtype_check(c, want)?;
    }
    check_ptr(data, "data", dtype_align(c.cell.dtype()))?;
    let data =
        NonNull::new(data).ok_or_else(|| FfiError::new(NGC_ERR_NULL_POINTER, "data is NULL"))?;
    c.bind(name, idx, data, capacity)
}

/// Unbinds a compartment's buffer: the cell copies the compartment's current
/// values (the first `count` elements of the buffer) into storage it owns and
/// stops using the buffer, which the caller may then free.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INVALID_ARGUMENT`,
/// `NGC_ERR_UNKNOWN_COMPARTMENT`, `NGC_ERR_NOT_BOUND` (including a second unbind),
/// `NGC_ERR_ALLOCATION` (the binding is then kept), `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `compartment` NUL-terminated; the bound buffer still valid.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_unbind(
    cell: *mut NgcCell,
    compartment: *const c_char,
) -> NgcStatus {
    ffi_guard!("ngc_cell_unbind", {
        // SAFETY: forwarded contract.
        let c = unsafe { cell_mut(cell)? };
        // SAFETY: forwarded contract.
        let (name, idx) = unsafe { lookup(c, compartment)? };
        c.unbind(name, idx)
    })
}
