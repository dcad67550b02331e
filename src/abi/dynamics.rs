//! The dynamics: advance, evolve, and the resets.

use super::guard::ffi_guard;
use super::handle::{cell_mut, NgcCell};
use super::status::*;

/// Advances the cell one step: ngc-learn's `advance_state(dt)` for the cell's
/// type (each constructor says what it reads and writes).
///
/// Inputs are read from their compartments (owned or bound), outputs and
/// state are written in place, a consumed input (an error cell's `mask`) is
/// reset to its rest value. `t` is accepted for the host's time loop and is not
/// used; `dt` is used by cell types that integrate in time (`RateCell`) and
/// ignored by the others. NaN and infinite inputs propagate as in ngc-learn;
/// they are not errors.
///
/// The same inputs give bit-identical outputs on every call, whatever
/// `ngc_cell_set_threads` says.
///
/// It allocates nothing (its scratch space and worker threads are made by
/// `new`, `ngc_cell_batched_reset`, `ngc_cell_set_shaped` and
/// `ngc_cell_set_threads`).
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle whose bound buffers are all still valid.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_advance(cell: *mut NgcCell, t: f64, dt: f64) -> NgcStatus {
    let _ = t;
    ffi_guard!("ngc_cell_advance", {
        // SAFETY: forwarded contract.
        let c = unsafe { cell_mut(cell)? };
        c.step(dt, false)
    })
}

/// ngc-learn's `reset()`: `ngc_cell_batched_reset` to the batch size the cell was
/// created with (not the current one).
///
/// Returns as `ngc_cell_batched_reset`.
///
/// # Safety
/// `cell` a live handle whose bound buffers are all still valid.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_reset(cell: *mut NgcCell) -> NgcStatus {
    ffi_guard!("ngc_cell_reset", {
        // SAFETY: forwarded contract.
        let c = unsafe { cell_mut(cell)? };
        c.batched_reset(None)
    })
}

/// ngc-learn's `batched_reset(batch_size)`: gives every compartment whose
/// shape has a batch axis the shape `(batch_size, ...)` and sets every
/// compartment but the parameters (`Sigma`, `Scale`, which keep their values) to
/// its rest value (each constructor lists them), in bound buffers too (their
/// first `count` elements). Bindings are kept. ngc-learn has no
/// `batched_reset` for some cell types; here every type has it.
///
/// All or nothing: if a bound buffer's capacity cannot hold the new count, the
/// call fails with `NGC_ERR_CAPACITY_TOO_SMALL` and changes nothing (no value,
/// no shape, no binding); it never writes past a capacity.
///
/// A parameter whose shape does not broadcast against the new state shape (a
/// full `(batch, n)` `Sigma` and another batch size) is refused with
/// `NGC_ERR_SHAPE_MISMATCH`: give it a shape with a leading 1 first.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_ZERO_SIZE`, `NGC_ERR_SIZE_OVERFLOW`,
/// `NGC_ERR_CAPACITY_TOO_SMALL`, `NGC_ERR_SHAPE_MISMATCH`,
/// `NGC_ERR_ALLOCATION`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle whose bound buffers are all still valid.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_batched_reset(
    cell: *mut NgcCell,
    batch_size: usize,
) -> NgcStatus {
    ffi_guard!("ngc_cell_batched_reset", {
        // SAFETY: forwarded contract.
        let c = unsafe { cell_mut(cell)? };
        c.batched_reset(Some(batch_size))
    })
}

/// ngc-learn's `evolve(dt)` for cell types that have an evolve step
/// (`RewardErrorCell`: the reward predictor's moving-average update); for the
/// others a no-op that returns `NGC_OK`, so a host can call it on every cell of
/// its model. `t` is not used.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_PANIC`.
///
/// # Safety
/// `cell` a live handle whose bound buffers are all still valid.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_evolve(cell: *mut NgcCell, t: f64, dt: f64) -> NgcStatus {
    let _ = t;
    ffi_guard!("ngc_cell_evolve", {
        // SAFETY: forwarded contract.
        let c = unsafe { cell_mut(cell)? };
        c.step(dt, true)
    })
}
