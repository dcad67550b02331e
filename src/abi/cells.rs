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
use crate::core::cells::gaussian::Gaussian;
use crate::core::cells::laplacian::Laplacian;
use crate::core::cells::rate::Rate;
use crate::core::cells::reward::Reward;
use crate::core::{Cell, CellError, CellType, Layout, Real};

/// What every constructor does after reading its own hyper-parameters: reads
/// `name` and `shape` (NULL for cell types without one), builds the cell in
/// `dtype` with its cell type (`kind`: the f32 and the f64 one), and writes the
/// handle to `out_cell`.
///
/// # Safety
/// `name` NULL or NUL-terminated; `shape` NULL or valid for reading 3 sizes;
/// `out_cell` NULL or valid for writing one pointer.
#[allow(clippy::too_many_arguments)]
unsafe fn new_cell<K32, K64>(
    name: *const c_char,
    n_units: usize,
    batch_size: usize,
    shape: *const usize,
    dtype: NgcDtype,
    out_cell: *mut *mut NgcCell,
    kind: (K32, K64),
) -> Result<(), FfiError>
where
    K32: CellType<f32, Native> + 'static,
    K64: CellType<f64, Native> + 'static,
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
        AnyCell::F32(make(name, layout, kind.0)?)
    } else {
        AnyCell::F64(make(name, layout, kind.1)?)
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
                (Bernoulli { input_logits }, Bernoulli { input_logits }),
            )
        }
    })
}

/// Creates ngc-learn's `GaussianErrorCell(name, n_units, batch_size, sigma, shape)`:
/// the error cell of ngc-learn's predictive-coding models.
///
/// - `name`, `n_units`, `batch_size`, `shape`, `dtype`, `out_cell`: as for
///   `ngc_bernoulli_error_cell_new`.
/// - `sigma`: the variance (used as is, not squared: ngc-learn's docstring says
///   standard deviation, its code uses it as the variance). `Sigma` starts as
///   shape `(1, 1)` holding it; `ngc_cell_set_shaped` gives it any shape that
///   broadcasts against the state (per unit, per sample, full, 0-d).
///
/// Compartments, in index order: `mu`, `target` (inputs, rest 0), `Sigma`
/// (parameter: kept by the resets), `modulator` (input, rest 1), `mask`
/// (consumed input, rest 1), `dmu`, `dtarget` (outputs, rest 0), `dSigma`
/// (output, Sigma's shape, rest 0), `L` (output, Sigma's shape squeezed: one
/// value for a one-element Sigma, rest 0).
///
/// `ngc_cell_advance`, with `e = target - mu`: `dmu = e / Sigma * modulator *
/// mask`, `dtarget = -e / Sigma * modulator * mask`, `dSigma = 1` (no
/// derivative, as in ngc-learn), `L = -0.5 * sum(e^2) / Sigma` summed over every
/// element of the batch (not masked, not modulated; one value per Sigma
/// element when Sigma is an array), then `mask` back to ones. `dt` is not
/// used; `ngc_cell_evolve` does nothing. See docs/cells/gaussian.md.
///
/// Returns as `ngc_bernoulli_error_cell_new`.
///
/// # Safety
/// As `ngc_bernoulli_error_cell_new`.
#[no_mangle]
pub unsafe extern "C" fn ngc_gaussian_error_cell_new(
    name: *const c_char,
    n_units: usize,
    batch_size: usize,
    sigma: f64,
    shape: *const usize,
    dtype: NgcDtype,
    out_cell: *mut *mut NgcCell,
) -> NgcStatus {
    ffi_guard!("ngc_gaussian_error_cell_new", {
        let kind = (Gaussian::new(sigma), Gaussian::new(sigma));
        // SAFETY: forwarded contract.
        unsafe { new_cell(name, n_units, batch_size, shape, dtype, out_cell, kind) }
    })
}

/// Creates ngc-learn's `LaplacianErrorCell(name, n_units, batch_size, scale, shape)`:
/// an error cell for robust (L1-like) errors.
///
/// Arguments as for `ngc_gaussian_error_cell_new`, with `scale` (the initial
/// `Scale`, shape `(1, 1)`, settable to any broadcasting shape with
/// `ngc_cell_set_shaped`) instead of `sigma`.
///
/// Compartments, in index order: `shift`, `target` (inputs, rest 0), `Scale`
/// (parameter: kept by the resets), `modulator` (rest 1), `mask` (consumed,
/// rest 1), `dshift`, `dtarget` (outputs), `dScale` (Scale's shape), `L`
/// (Scale's shape squeezed).
///
/// `ngc_cell_advance`, with `s = sign(target - shift)`: `dshift = s / Scale *
/// modulator * mask`, `dtarget = -s / Scale * modulator * mask`, `dScale = 1`,
/// `L = -sum(|s|) / Scale`, which is minus the number of elements where
/// `target != shift` over Scale (ngc-learn's definition; not the L1 distance),
/// then `mask` back to ones. Unlike ngc-learn 3.2.3, a reset keeps a 4-D cell
/// 4-D. See docs/cells/laplacian.md.
///
/// Returns as `ngc_bernoulli_error_cell_new`.
///
/// # Safety
/// As `ngc_bernoulli_error_cell_new`.
#[no_mangle]
pub unsafe extern "C" fn ngc_laplacian_error_cell_new(
    name: *const c_char,
    n_units: usize,
    batch_size: usize,
    scale: f64,
    shape: *const usize,
    dtype: NgcDtype,
    out_cell: *mut *mut NgcCell,
) -> NgcStatus {
    ffi_guard!("ngc_laplacian_error_cell_new", {
        let kind = (Laplacian::new(scale), Laplacian::new(scale));
        // SAFETY: forwarded contract.
        unsafe { new_cell(name, n_units, batch_size, shape, dtype, out_cell, kind) }
    })
}

/// Creates ngc-learn's `RewardErrorCell(name, n_units, alpha, ema_window_len,
/// use_online_predictor, batch_size)`: the reward prediction error of an
/// online reward predictor (reinforcement learning).
///
/// - `name`, `n_units`, `batch_size`, `dtype`, `out_cell`: as for
///   `ngc_bernoulli_error_cell_new` (this cell type has no `shape`).
/// - `alpha`: the predictor's moving-average decay factor.
/// - `ema_window_len`: `W`, the window of the evolve step's moving average; at
///   least 1 (ngc-learn divides by it).
/// - `use_online_predictor`: when false, `mu` never changes (so `rpe = reward - mu`).
///
/// Compartments, in index order: `mu` (state), `reward` (input), `rpe`
/// (output), `accum_reward` (state), `n_ep_steps` (state, shape `(batch, 1)`);
/// all rest at 0.
///
/// `ngc_cell_advance`: `accum_reward += reward`, `rpe = reward - mu` (the old
/// `mu`), `mu = mu * (1 - alpha) + reward * alpha`, `n_ep_steps += 1`.
/// `ngc_cell_evolve`: `mu = (1 - 1/W) * mu + (1/W) * accum_reward / n_ep_steps`
/// (before any advance this is 0/0: `mu` becomes NaN, as in ngc-learn). `dt`
/// is not used. See docs/cells/reward.md.
///
/// Returns as `ngc_bernoulli_error_cell_new` (`NGC_ERR_ZERO_SIZE` also for
/// `ema_window_len` 0).
///
/// # Safety
/// `name` must be NULL or NUL-terminated; `out_cell` NULL or valid for writing
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn ngc_reward_error_cell_new(
    name: *const c_char,
    n_units: usize,
    batch_size: usize,
    alpha: f64,
    ema_window_len: usize,
    use_online_predictor: bool,
    dtype: NgcDtype,
    out_cell: *mut *mut NgcCell,
) -> NgcStatus {
    ffi_guard!("ngc_reward_error_cell_new", {
        if ema_window_len == 0 {
            check_out(out_cell, "out_cell")?;
            return Err(CellError::ZeroSize {
                what: "ema_window_len",
            }
            .into());
        }
        let r = Reward {
            alpha,
            ema_window_len,
            use_online_predictor,
        };
        // SAFETY: forwarded contract (no shape: NULL).
        unsafe {
            new_cell(
                name,
                n_units,
                batch_size,
                std::ptr::null(),
                dtype,
                out_cell,
                (r, r),
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

/// Reads an optional name argument: NULL is `None` (ngc-learn's default).
///
/// # Safety
/// `p` NULL or NUL-terminated.
unsafe fn opt_str<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, FfiError> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated (contract).
    Ok(Some(unsafe { str_arg(p, what)? }))
}

/// Creates ngc-learn's `RateCell(name, n_units, tau_m, prior=(prior, prior_leak),
/// act_fx, output_scale, threshold=(threshold, threshold_lambda),
/// integration_type, batch_size, resist_scale, shape, is_stateful)`: the state
/// neuron of ngc-learn's predictive-coding models (latent layers; a stateless
/// one clamps data).
///
/// - `name`, `n_units`, `batch_size`, `shape`, `dtype`, `out_cell`: as for
///   `ngc_bernoulli_error_cell_new`.
/// - `tau_m`: the state's time constant. The cell is stateless when `tau_m <= 0`
///   or `is_stateful` is false.
/// - `prior`: NULL or `"gaussian"`, `"laplacian"`, `"cauchy"`, `"exp"`; with
///   `prior_leak`, its leak rate gamma.
/// - `act_fx`: NULL or `"identity"`, `"tanh"`, `"sigmoid"`, `"relu"`, `"lrelu"`,
///   `"relu6"`, `"elu"`, `"silu"`, `"gelu"`, `"telu"`, `"softplus"`,
///   `"unit_threshold"`, `"heaviside"`, `"sine"` (`sin(30 x)`), `"bkwta"` (1 for
///   the 5 largest of each row; 2-D cells of at least 5 units), `"softmax"`
///   (over axis 1; stateless cells only). `output_scale` multiplies it.
/// - `threshold`: NULL or `"none"`, `"soft_threshold"` (with `threshold_lambda`),
///   applied to `z` after each stateful step.
/// - `integration`: NULL or `"euler"` (`"rk1"`), `"midpoint"` (`"rk2"`), `"rk4"`,
///   `"heun"` (`"rk2_heun"`), `"ralston"` (`"rk2_ralston"`): each the method it
///   names (ngc-learn 3.2.3's `"heun"` runs RK4 and its `"rk4"` and `"ralston"`
///   run Euler: see the porting table in docs/cells/rate.md).
/// - `resist_scale`: multiplies the modulated drive.
///
/// Compartments, in index order: `j` (input; a stateful advance overwrites it),
/// `j_td` (input), `z` (state), `zF` (output); all of the state's shape, rest 0.
///
/// `ngc_cell_advance(cell, t, dt)`, stateful: `j = j * fx'(z) * resist_scale`
/// (written back into `j`, also a bound buffer, as ngc-learn overwrites a wired
/// input; `fx'` at the `z` before the step), then `z` integrates `tau_m dz/dt =
/// -prior_leak * prior'(z) + j + j_td` over `dt` (the leak is not modulated),
/// then the threshold, then `zF = fx(z) * output_scale`. Stateless: `z = j +
/// j_td`, `zF = fx(z) * output_scale`, `j` unchanged. `ngc_cell_evolve` does
/// nothing. The lateral pathway (`use_lateral`) is not offered. See
/// docs/cells/rate.md.
///
/// Returns as `ngc_bernoulli_error_cell_new`, and `NGC_ERR_INVALID_ARGUMENT` (the
/// message names the accepted values) for an unknown or non-UTF-8 name,
/// `"cauchy_threshold"` (it crashes in ngc-learn 3.2.3), a stateful `"softmax"`,
/// or `"bkwta"` on a 4-D cell or on fewer than 5 units.
///
/// # Safety
/// `name` must be NULL or NUL-terminated; `prior`, `act_fx`, `threshold` and
/// `integration` NULL or NUL-terminated; `shape` NULL or valid for reading 3
/// `size_t`; `out_cell` NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn ngc_rate_cell_new(
    name: *const c_char,
    n_units: usize,
    batch_size: usize,
    tau_m: f64,
    prior: *const c_char,
    prior_leak: f64,
    act_fx: *const c_char,
    output_scale: f64,
    threshold: *const c_char,
    threshold_lambda: f64,
    integration: *const c_char,
    resist_scale: f64,
    is_stateful: bool,
    shape: *const usize,
    dtype: NgcDtype,
    out_cell: *mut *mut NgcCell,
) -> NgcStatus {
    ffi_guard!("ngc_rate_cell_new", {
        // SAFETY: each NULL or NUL-terminated (contract).
        let kind = unsafe {
            (|| {
                Ok::<_, FfiError>(Rate::new(
                    tau_m,
                    opt_str(prior, "prior")?,
                    prior_leak,
                    opt_str(act_fx, "act_fx")?,
                    output_scale,
                    opt_str(threshold, "threshold")?,
                    threshold_lambda,
                    opt_str(integration, "integration")?,
                    resist_scale,
                    is_stateful,
                )?)
            })()
        };
        match kind {
            // SAFETY: forwarded contract.
            Ok(k) => unsafe { new_cell(name, n_units, batch_size, shape, dtype, out_cell, (k, k)) },
            Err(e) => {
                // The generic arguments' errors come first, as for every constructor.
                check_out(out_cell, "out_cell")?;
                // SAFETY: NUL-terminated when non-NULL (contract).
                unsafe { str_arg(name, "name")? };
                if !shape.is_null() {
                    check_ptr(shape, "shape", align_of::<usize>())?;
                }
                if dtype != NGC_DTYPE_F32 && dtype != NGC_DTYPE_F64 {
                    return Err(FfiError::new(
                        NGC_ERR_INVALID_DTYPE,
                        format!("dtype {dtype} is neither NGC_DTYPE_F32 (1) nor NGC_DTYPE_F64 (2)"),
                    ));
                }
                Err(e)
            }
        }
    })
}
