//! What a cell is: its dtype, sizes, compartments, type, name and metadata.

use std::ffi::c_char;

use super::args::{check_out, write_text};
use super::guard::ffi_guard;
use super::handle::{cell_ref, dtype_code, lookup, query, with_cell, NgcCell, NgcDtype};
use super::status::*;

/// `*out_dtype` = the cell's dtype (`NGC_DTYPE_F32` or `NGC_DTYPE_F64`).
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `out_dtype` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_dtype(
    cell: *const NgcCell,
    out_dtype: *mut NgcDtype,
) -> NgcStatus {
    ffi_guard!("ngc_cell_dtype", {
        // SAFETY: forwarded contract.
        unsafe { query(cell, out_dtype, |c| Ok(dtype_code(c.cell.dtype()))) }
    })
}

/// `*out_batch_size` = the cell's current batch size (changed by the resets).
///
/// Returns as `ngc_cell_dtype`.
///
/// # Safety
/// `cell` a live handle; `out_batch_size` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_batch_size(
    cell: *const NgcCell,
    out_batch_size: *mut usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_batch_size", {
        // SAFETY: forwarded contract.
        unsafe {
            query(cell, out_batch_size, |c| {
                Ok(with_cell!(&c.cell, x => x.layout().batch_size()))
            })
        }
    })
}

/// `*out_n_units` = the `n_units` the cell was created with.
///
/// Returns as `ngc_cell_dtype`.
///
/// # Safety
/// `cell` a live handle; `out_n_units` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_n_units(
    cell: *const NgcCell,
    out_n_units: *mut usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_n_units", {
        // SAFETY: forwarded contract.
        unsafe {
            query(cell, out_n_units, |c| {
                Ok(with_cell!(&c.cell, x => x.layout().n_units()))
            })
        }
    })
}

/// `*out_count` = the number of compartments of the cell's type. Their names
/// are given by `ngc_cell_compartment_name` for indices 0 to `*out_count - 1`.
///
/// Returns as `ngc_cell_dtype`.
///
/// # Safety
/// `cell` a live handle; `out_count` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_compartment_count(
    cell: *const NgcCell,
    out_count: *mut usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_compartment_count", {
        // SAFETY: forwarded contract.
        unsafe {
            query(cell, out_count, |c| {
                Ok(with_cell!(&c.cell, x => x.compartment_count()))
            })
        }
    })
}

/// `*out_loss` = the loss `L` after the last `ngc_cell_advance` (0 after a
/// reset), as a double, for a cell type whose `L` is one value (each
/// constructor says what it is). For an `NGC_DTYPE_F32` cell it is the float32
/// value of `L`, widened. A cell without an `L`, or whose `L` has several
/// elements (a Gaussian cell with a per-unit `Sigma`), gives
/// `NGC_ERR_NOT_SUPPORTED`: read `L` with `ngc_cell_get` then.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_NOT_SUPPORTED`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `out_loss` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_loss(cell: *const NgcCell, out_loss: *mut f64) -> NgcStatus {
    ffi_guard!("ngc_cell_loss", {
        // SAFETY: forwarded contract.
        unsafe {
            query(cell, out_loss, |c| {
                let i = with_cell!(&c.cell, x => x.loss_index())?;
                Ok(c.first_value(i))
            })
        }
    })
}

/// `*out_name` = the ngc-learn name of compartment `index` (0-based, in the
/// fixed order each constructor lists), as a static NUL-terminated string:
/// valid as long as the library is loaded; never free it.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INDEX_OUT_OF_RANGE`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `out_name` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_compartment_name(
    cell: *const NgcCell,
    index: usize,
    out_name: *mut *const c_char,
) -> NgcStatus {
    ffi_guard!("ngc_cell_compartment_name", {
        check_out(out_name, "out_name")?;
        // SAFETY: forwarded contract.
        let c = unsafe { cell_ref(cell)? };
        let names = with_cell!(&c.cell, x => x.spec().compartments);
        let name = names.get(index).ok_or_else(|| {
            FfiError::new(
                NGC_ERR_INDEX_OUT_OF_RANGE,
                format!(
                    "index {index} is past the last compartment ({} in all)",
                    names.len()
                ),
            )
        })?;
        // SAFETY: checked non-NULL and aligned; writable (contract).
        unsafe { out_name.write(name.c_name.as_ptr()) };
        Ok(())
    })
}

/// `*out_len` = the element count of a compartment at the cell's current
/// shapes: `batch_size * n_units` (or `batch_size * H * W * C`) for a
/// state-shaped compartment, 1 for a scalar, the product of its dims otherwise
/// (see `ngc_cell_compartment_dims`). This is the `len` that
/// `ngc_cell_set`/`ngc_cell_get` take and the least `capacity` that
/// `ngc_cell_bind` takes.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INVALID_ARGUMENT`,
/// `NGC_ERR_UNKNOWN_COMPARTMENT`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `compartment` NUL-terminated; `out_len` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_compartment_len(
    cell: *const NgcCell,
    compartment: *const c_char,
    out_len: *mut usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_compartment_len", {
        check_out(out_len, "out_len")?;
        // SAFETY: forwarded contract.
        let c = unsafe { cell_ref(cell)? };
        // SAFETY: forwarded contract.
        let (_, idx) = unsafe { lookup(c, compartment)? };
        let len = with_cell!(&c.cell, x => x.len_of(idx));
        // SAFETY: checked non-NULL and aligned; writable (contract).
        unsafe { out_len.write(len) };
        Ok(())
    })
}

/// The dims of a compartment, row-major as in ngc-learn: `(batch_size, n_units)`
/// or `(batch_size, H, W, C)` for a state-shaped compartment, none for a
/// scalar, `(batch_size, 1)` for a per-sample one, a parameter's own shape
/// (`ngc_cell_set_shaped`). A `dims_cap` of 4 always suffices.
///
/// - `dims_cap == 0`: a size query; only `*out_ndim` is written (`dims` may be NULL).
/// - `dims_cap >= ndim`: `*out_ndim` and `dims[0 .. ndim-1]` are written.
/// - otherwise `NGC_ERR_BUFFER_TOO_SMALL`, and nothing is written.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INVALID_ARGUMENT`,
/// `NGC_ERR_UNKNOWN_COMPARTMENT`, `NGC_ERR_BUFFER_TOO_SMALL`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `compartment` NUL-terminated; `dims` valid for writing
/// `dims_cap` sizes; `out_ndim` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_compartment_dims(
    cell: *const NgcCell,
    compartment: *const c_char,
    dims: *mut usize,
    dims_cap: usize,
    out_ndim: *mut usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_compartment_dims", {
        check_out(out_ndim, "out_ndim")?;
        if dims_cap > 0 {
            check_out(dims, "dims")?;
        }
        // SAFETY: forwarded contract.
        let c = unsafe { cell_ref(cell)? };
        // SAFETY: forwarded contract.
        let (name, idx) = unsafe { lookup(c, compartment)? };
        let d = with_cell!(&c.cell, x => x.dims_of(idx));
        if dims_cap > 0 && dims_cap < d.len() {
            return Err(FfiError::new(
                NGC_ERR_BUFFER_TOO_SMALL,
                format!(
                    "compartment '{name}' has {} dims but dims_cap is {dims_cap}",
                    d.len()
                ),
            ));
        }
        if dims_cap > 0 {
            // SAFETY: `dims` non-NULL and aligned when `dims_cap > 0` (checked),
            // valid for `dims_cap >= d.len()` writes (contract).
            unsafe { std::ptr::copy_nonoverlapping(d.as_ptr(), dims, d.len()) };
        }
        // SAFETY: checked non-NULL and aligned; writable (contract).
        unsafe { out_ndim.write(d.len()) };
        Ok(())
    })
}

/// `*out_bound` = whether a caller buffer is bound to the compartment.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INVALID_ARGUMENT`,
/// `NGC_ERR_UNKNOWN_COMPARTMENT`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `compartment` NUL-terminated; `out_bound` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_is_bound(
    cell: *const NgcCell,
    compartment: *const c_char,
    out_bound: *mut bool,
) -> NgcStatus {
    ffi_guard!("ngc_cell_is_bound", {
        check_out(out_bound, "out_bound")?;
        // SAFETY: forwarded contract.
        let c = unsafe { cell_ref(cell)? };
        // SAFETY: forwarded contract.
        let (_, idx) = unsafe { lookup(c, compartment)? };
        // SAFETY: checked non-NULL and aligned; writable (contract).
        unsafe { out_bound.write(c.bound[idx].is_some()) };
        Ok(())
    })
}

/// `*out_type` = the cell's type, ngc-learn's class name (`"BernoulliErrorCell"`,
/// `"GaussianErrorCell"`, ...), as a static NUL-terminated string; never free it.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `out_type` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_type(
    cell: *const NgcCell,
    out_type: *mut *const c_char,
) -> NgcStatus {
    ffi_guard!("ngc_cell_type", {
        check_out(out_type, "out_type")?;
        // SAFETY: forwarded contract.
        let c = unsafe { cell_ref(cell)? };
        let t = with_cell!(&c.cell, x => x.spec()).c_type_name;
        // SAFETY: checked non-NULL and aligned; writable (contract).
        unsafe { out_type.write(t.as_ptr()) };
        Ok(())
    })
}

/// Copies the cell's name (as given at creation) and a NUL into `buf`;
/// `*out_len` (when `out_len` is not NULL) gets the name's length in bytes,
/// without the NUL.
///
/// - `buf_len == 0`: a size query; only `*out_len` is written (`buf` may be NULL).
/// - `buf_len > length`: the name, its NUL and `*out_len` are written.
/// - otherwise `NGC_ERR_BUFFER_TOO_SMALL`, and nothing is written.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_BUFFER_TOO_SMALL`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle; `buf` valid for writing `buf_len` bytes; `out_len` NULL
/// or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_name(
    cell: *const NgcCell,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_name", {
        // SAFETY: forwarded contract.
        let c = unsafe { cell_ref(cell)? };
        let name = with_cell!(&c.cell, x => x.name());
        // SAFETY: forwarded contract.
        unsafe { write_text(name, buf, buf_len, out_len) }
    })
}

/// Copies the cell's metadata, one line of UTF-8 JSON, into `buf` (as
/// `ngc_cell_name`: a size query with `buf_len` 0, nothing written when it
/// does not fit). It is what ngc-learn's `help()` gives, corrected: the cell
/// type, its name and dtype, a description and the dynamics, the
/// hyper-parameters (`n_units`, `batch_size`, the type's own, `shape`) with
/// their values, and for each compartment its name, role (`"input"`,
/// `"state"`, `"output"`, `"parameter"`), display name, units, current shape,
/// rest value (`null` when not finite) and description.
///
/// Returns as `ngc_cell_name`.
///
/// # Safety
/// As `ngc_cell_name`.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_metadata_json(
    cell: *const NgcCell,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_metadata_json", {
        // SAFETY: forwarded contract.
        let c = unsafe { cell_ref(cell)? };
        let json = with_cell!(&c.cell, x => x.metadata_json());
        // SAFETY: forwarded contract.
        unsafe { write_text(&json, buf, buf_len, out_len) }
    })
}
