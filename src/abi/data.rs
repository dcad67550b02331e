//! Copying values in and out of compartments.

use std::ffi::c_char;

use super::args::{check_ptr, dims_arg};
use super::guard::ffi_guard;
use super::handle::{cell_mut, cell_ref, dtype_align, dtype_check, lookup, NgcCell};
use super::status::*;
use crate::core::Dtype;

/// Copies `len` elements from `src` into a compartment (bound or not), for hosts
/// whose arrays move or are temporaries. `len` must equal the compartment's
/// current element count (see `ngc_cell_compartment_len`); `src` is an array of
/// the cell's dtype, read during the call only. `src` may be (part of) the
/// compartment's own bound buffer.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INVALID_ARGUMENT`,
/// `NGC_ERR_UNKNOWN_COMPARTMENT`, `NGC_ERR_LENGTH_MISMATCH`, `NGC_ERR_PANIC`.
/// On failure nothing changes.
///
/// # Safety
/// `cell` a live handle; `compartment` NUL-terminated; `src` valid for reading
/// `len` elements of the cell's dtype.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_set(
    cell: *mut NgcCell,
    compartment: *const c_char,
    src: *const core::ffi::c_void,
    len: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_set", {
        // SAFETY: forwarded contract.
        unsafe { set_impl(cell, compartment, src.cast(), len, None) }
    })
}

/// `ngc_cell_set` for an `NGC_DTYPE_F32` cell, type-checked (`NGC_ERR_DTYPE_MISMATCH`).
///
/// # Safety
/// As `ngc_cell_set`.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_set_f32(
    cell: *mut NgcCell,
    compartment: *const c_char,
    src: *const f32,
    len: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_set_f32", {
        // SAFETY: forwarded contract.
        unsafe { set_impl(cell, compartment, src.cast(), len, Some(Dtype::F32)) }
    })
}

/// `ngc_cell_set` for an `NGC_DTYPE_F64` cell, type-checked (`NGC_ERR_DTYPE_MISMATCH`).
///
/// # Safety
/// As `ngc_cell_set`.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_set_f64(
    cell: *mut NgcCell,
    compartment: *const c_char,
    src: *const f64,
    len: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_set_f64", {
        // SAFETY: forwarded contract.
        unsafe { set_impl(cell, compartment, src.cast(), len, Some(Dtype::F64)) }
    })
}

/// # Safety
/// As `ngc_cell_set`.
unsafe fn set_impl(
    cell: *mut NgcCell,
    compartment: *const c_char,
    src: *const u8,
    len: usize,
    want: Option<Dtype>,
) -> Result<(), FfiError> {
    // SAFETY: forwarded contract.
    let c = unsafe { cell_mut(cell)? };
    // SAFETY: forwarded contract.
    let (name, idx) = unsafe { lookup(c, compartment)? };
    if let Some(want) = want {
        dtype_check(c, want)?;
    }
    check_ptr(src, "src", dtype_align(c.cell.dtype()))?;
    // SAFETY: non-NULL, aligned (checked); valid for `len` reads (contract);
    // `set` checks `len` against the compartment before reading.
    unsafe { c.set(name, idx, src, len) }
}

/// Copies a compartment's current values (bound or not) into `dst`: exactly
/// `len` elements, which must equal the compartment's element count (1 for `L`).
/// `dst` is an array of the cell's dtype, written during the call only.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INVALID_ARGUMENT`,
/// `NGC_ERR_UNKNOWN_COMPARTMENT`, `NGC_ERR_LENGTH_MISMATCH` (nothing is written),
/// `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `compartment` NUL-terminated; `dst` valid for writing
/// `len` elements of the cell's dtype.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_get(
    cell: *const NgcCell,
    compartment: *const c_char,
    dst: *mut core::ffi::c_void,
    len: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_get", {
        // SAFETY: forwarded contract.
        unsafe { get_impl(cell, compartment, dst.cast(), len, None) }
    })
}

/// `ngc_cell_get` for an `NGC_DTYPE_F32` cell, type-checked (`NGC_ERR_DTYPE_MISMATCH`).
///
/// # Safety
/// As `ngc_cell_get`.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_get_f32(
    cell: *const NgcCell,
    compartment: *const c_char,
    dst: *mut f32,
    len: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_get_f32", {
        // SAFETY: forwarded contract.
        unsafe { get_impl(cell, compartment, dst.cast(), len, Some(Dtype::F32)) }
    })
}

/// `ngc_cell_get` for an `NGC_DTYPE_F64` cell, type-checked (`NGC_ERR_DTYPE_MISMATCH`).
///
/// # Safety
/// As `ngc_cell_get`.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_get_f64(
    cell: *const NgcCell,
    compartment: *const c_char,
    dst: *mut f64,
    len: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_get_f64", {
        // SAFETY: forwarded contract.
        unsafe { get_impl(cell, compartment, dst.cast(), len, Some(Dtype::F64)) }
    })
}

/// # Safety
/// As `ngc_cell_get`.
unsafe fn get_impl(
    cell: *const NgcCell,
    compartment: *const c_char,
    dst: *mut u8,
    len: usize,
    want: Option<Dtype>,
) -> Result<(), FfiError> {
    // SAFETY: forwarded contract.
    let c = unsafe { cell_ref(cell)? };
    // SAFETY: forwarded contract.
    let (name, idx) = unsafe { lookup(c, compartment)? };
    if let Some(want) = want {
        dtype_check(c, want)?;
    }
    check_ptr(dst, "dst", dtype_align(c.cell.dtype()))?;
    // SAFETY: non-NULL, aligned (checked); valid for `len` writes (contract);
    // `get` checks `len` against the compartment before writing.
    unsafe { c.get(name, idx, dst, len) }
}

/// Gives a compartment a new shape and values: `rank` dims at `dims`
/// (row-major, as in ngc-learn; `dims` may be NULL when `rank` is 0, a 0-d
/// value) and `prod(dims)` elements at `src`, of the cell's dtype, read during
/// the call only (`src` may be the compartment's own bound buffer).
///
/// A parameter compartment (a Gaussian cell's `Sigma`, a Laplacian cell's
/// `Scale`) takes any shape that broadcasts against the cell's state shape
/// (numpy rules: at most as many dims, each equal to the state's or 1; e.g.
/// `(1, 1)`, `()`, `(1, n)`, `(n)`, `(batch, 1)`, `(batch, n)`, or `(C)`,
/// `(W, C)`, `(H, W, C)` for a 4-D cell). The compartments whose shape follows
/// it (`dSigma`, `L`) take its shape (`L` without its 1-sized dims) and their
/// rest value. Any other compartment accepts only its current dims (then this
/// is `ngc_cell_set` with a shape check).
///
/// All or nothing: dims that do not broadcast or a compartment whose shape is
/// fixed give `NGC_ERR_SHAPE_MISMATCH`; a bound buffer too small for its new
/// element count gives `NGC_ERR_CAPACITY_TOO_SMALL`; nothing changes then.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INVALID_ARGUMENT` (name not UTF-8,
/// `rank > 4`), `NGC_ERR_UNKNOWN_COMPARTMENT`, `NGC_ERR_ZERO_SIZE` (a zero
/// dim), `NGC_ERR_SHAPE_MISMATCH`, `NGC_ERR_CAPACITY_TOO_SMALL`,
/// `NGC_ERR_ALLOCATION`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `compartment` NUL-terminated; `dims` valid for
/// reading `rank` sizes; `src` valid for reading `prod(dims)` elements of the
/// cell's dtype.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_set_shaped(
    cell: *mut NgcCell,
    compartment: *const c_char,
    src: *const core::ffi::c_void,
    dims: *const usize,
    rank: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_set_shaped", {
        // SAFETY: forwarded contract.
        let c = unsafe { cell_mut(cell)? };
        // SAFETY: forwarded contract.
        let (_, idx) = unsafe { lookup(c, compartment)? };
        // SAFETY: forwarded contract.
        let dims = unsafe { dims_arg(dims, rank)? };
        let src = src.cast::<u8>();
        check_ptr(src, "src", dtype_align(c.cell.dtype()))?;
        // SAFETY: non-NULL, aligned (checked); valid for `prod(dims)` reads
        // (contract); `set_shaped` checks the dims (and so the count) before
        // reading.
        unsafe { c.set_shaped(idx, src, &dims) }
    })
}
