//! Creating and destroying cells: one constructor per cell type, over one
//! generic helper, and `ngc_cell_free` for all of them.

use std::ffi::c_char;
use std::mem::align_of;

use super::args::{check_out, check_ptr, str_arg};
use super::guard::ffi_guard;
use super::handle::{cell_mut, AnyCell, NgcCell, NgcDtype, NGC_DTYPE_F32, NGC_DTYPE_F64};
use super::native::Native;
use super::status::*;
use crate::core::cells::bernoulli::Bernoulli;
use crate::core::{Cell, CellError, CellType, Layout, Real};

/// What every constructor does after reading its own hyper-parameters: reads
/// `name` and `shape`, builds the cell in `dtype` with the type `kind` makes
/// for it, and writes the handle to `out_cell`.
///
/// # Safety
/// `name` NULL or NUL-terminated; `shape` NULL or valid for reading 3 sizes;
/// `out_cell` NULL or valid for writing one pointer.
#[allow(clippy::too_many_arguments)]
unsafe fn new_cell<K>(
    name: *const c_char,
    n_units: usize,
    batch_size: usize,
    shape: *const usize,
    dtype: NgcDtype,
    out_cell: *mut *mut NgcCell,
    kind: K,
) -> Result<(), FfiError>
where
    K: CellType<f32, Native> + CellType<f64, Native> + 'static,
{
    check_out(out_cell, "out_cell")?;
    // SAFETY: NUL-terminated when non-NULL (contract).
    let name = unsafe { str_arg(name, "name")? };
    let shape = if shape.is_null() {
        None
    } else {
        check_ptr(shape, "shape", align_of::<usize>())?;
        // SAFETY: non-NULL, aligned (checked), valid for 3 reads (contract).
        Some(unsafe { [shape.read(), shape.add(1).read(), shape.add(2).read()] })
    };
    if dtype != NGC_DTYPE_F32 && dtype != NGC_DTYPE_F64 {
        return Err(FfiError::new(
            NGC_ERR_INVALID_DTYPE,
            format!("dtype {dtype} is neither NGC_DTYPE_F32 (1) nor NGC_DTYPE_F64 (2)"),
        ));
    }
    let layout = Layout::new(n_units, batch_size, shape).map_err(shape_hint)?;
    fn make<T: Real, K: CellType<T, Native> + 'static>(
        name: &str,
        layout: Layout,
        kind: K,
    ) -> Result<Cell<T, Native>, FfiError> {
        Ok(Cell::new(name, Box::new(kind), layout)?)
    }
    let cell = if dtype == NGC_DTYPE_F32 {
        AnyCell::F32(make(name, layout, kind)?)
    } else {
        AnyCell::F64(make(name, layout, kind)?)
    };
    let raw = Box::into_raw(Box::new(NgcCell::new(cell)));
    // SAFETY: checked non-NULL and aligned above; writable (contract).
    unsafe { out_cell.write(raw) };
    Ok(())
}

/// Creates ngc-learn's `BernoulliErrorCell(name, n_units, batch_size, input_logits, shape)`.
///
/// - `name`: NUL-terminated UTF-8; copied (the cell does not keep the pointer).
/// - `n_units`, `batch_size`: at least 1.
/// - `input_logits`: when true, `p` holds logits and the cell applies a sigmoid
///   first; when false, `p` holds probabilities.
/// - `shape`: NULL for compartments of shape `(batch_size, n_units)`, or a
///   pointer to 3 sizes `(H, W, C)`, each at least 1, for compartments of shape
///   `(batch_size, H, W, C)` (`n_units` is then only recorded, as in ngc-learn).
///   Read during the call only.
/// - `dtype`: `NGC_DTYPE_F32` (ngc-learn's default) or `NGC_DTYPE_F64`.
/// - `out_cell`: receives the new handle, on success only. The caller owns it and
///   must release it with `ngc_cell_free`.
///
/// Compartments, in index order: `p`, `target`, `modulator`, `mask` (inputs),
/// `L`, `dp`, `dtarget` (outputs). Every compartment starts at its rest value
/// in library-owned storage: `p`, `target`, `L`, `dp`, `dtarget` at 0,
/// `modulator` and `mask` at 1; the resets restore these.
///
/// `ngc_cell_advance` reads `p`, `target`, `modulator`, `mask`; writes `dp`,
/// `dtarget`, `L` (the log-likelihood in nats, summed over every element,
/// accumulated in double precision); then resets `mask` to ones (ngc-learn
/// "eats" the mask: it applies to one step only; it computes `mask * 0 + 1`, so
/// a NaN or infinite mask entry stays NaN). `modulator` is kept; `dt` is not
/// used (as in ngc-learn). `ngc_cell_evolve` does nothing (ngc-learn's cell has
/// no evolve step). See docs/cells/bernoulli.md.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER` (`name` or `out_cell`),
/// `NGC_ERR_MISALIGNED_POINTER` (`shape` or `out_cell`), `NGC_ERR_INVALID_ARGUMENT`
/// (`name` not UTF-8), `NGC_ERR_INVALID_DTYPE`, `NGC_ERR_ZERO_SIZE`,
/// `NGC_ERR_SIZE_OVERFLOW` (`batch_size * n_units`, or `batch_size * H * W * C`,
/// times the element size, beyond the address space), `NGC_ERR_ALLOCATION`,
/// `NGC_ERR_PANIC`.
///
/// # Safety
/// `name` must be NULL or NUL-terminated; `shape` NULL or valid for reading 3
/// `size_t`; `out_cell` NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn ngc_bernoulli_error_cell_new(
    name: *const c_char,
    n_units: usize,
    batch_size: usize,
    input_logits: bool,
    shape: *const usize,
    dtype: NgcDtype,
    out_cell: *mut *mut NgcCell,
) -> NgcStatus {
    ffi_guard!("ngc_bernoulli_error_cell_new", {
        // SAFETY: forwarded contract.
        unsafe {
            new_cell(
                name,
                n_units,
                batch_size,
                shape,
                dtype,
                out_cell,
                Bernoulli { input_logits },
            )
        }
    })
}

/// A zero `shape` entry is most often a 2-D shape in a 3-entry array (`{28, 28}`
/// leaves C at 0): say how to write one.
pub(crate) fn shape_hint(e: CellError) -> FfiError {
    let is_shape = matches!(&e, CellError::ZeroSize { what } if what.starts_with("shape"));
    let mut f = FfiError::from(e);
    if is_shape {
        f.message.push_str(
            " (shape is exactly 3 sizes, H, W and C; a 2-D sample of H x W is {H, W, 1})",
        );
    }
    f
}

/// Destroys a cell and the storage it owns. `NULL` is a no-op.
///
/// Buffers bound to the cell are not touched and stay the caller's. After this
/// call the handle is dangling: using it again is undefined behaviour (the
/// library catches most such uses with `NGC_ERR_INVALID_HANDLE`, but cannot
/// promise to).
///
/// # Safety
/// `cell` must be NULL or a handle from a `ngc_*_new` function that was not yet
/// freed, not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_free(cell: *mut NgcCell) {
    if cell.is_null() {
        return;
    }
    let _ = ffi_guard!("ngc_cell_free", {
        // SAFETY: forwarded contract.
        let c = unsafe { cell_mut(cell)? };
        c.magic = 0;
        // SAFETY: a live handle made by Box::into_raw in a `_new` function (tag
        // checked); the caller gives up the handle with this call.
        drop(unsafe { Box::from_raw(cell) });
        Ok(())
    });
}
