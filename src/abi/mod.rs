//! The C ABI: every `ngc_*` function of `include/ngc_cells.h`.
//!
//! A thin layer over [`crate::core`]: each export checks its pointers (NULL,
//! alignment, handle tag), its sizes (overflow) and its strings (UTF-8), runs its
//! body inside one panic barrier ([`ffi_guard!`]) and returns an [`NgcStatus`].
//! On failure the thread's last-error message says what went wrong, and no
//! output argument is written.
#![allow(unsafe_code)]

/// cbindgen:ignore
pub mod dispatch;
mod handle;
mod last_error;
/// cbindgen:ignore
mod pool;
pub mod status;

use std::cell::Cell;
use std::ffi::{c_char, CStr};
use std::mem::align_of;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::core::{bernoulli_error_cell_on, CellError, Dtype};
pub use dispatch::native_platform;
pub use handle::NgcCell;
use handle::{dtype_align, with_cell, AnyCell, MAGIC};
#[doc(hidden)]
pub use pool::{__test_pool_counts, __test_pool_helpers_delay};
use status::FfiError;
pub use status::*;

/// The element type of a cell: `NGC_DTYPE_F32` or `NGC_DTYPE_F64`.
pub type NgcDtype = i32;
/// 32-bit IEEE-754 elements (`float`, Julia `Float32`, MATLAB `single`).
/// ngc-learn's default (JAX computes in float32 unless 64-bit mode is on).
pub const NGC_DTYPE_F32: NgcDtype = 1;
/// 64-bit IEEE-754 elements (`double`, Julia `Float64`, MATLAB `double`).
/// Matches ngc-learn run with `jax_enable_x64`.
pub const NGC_DTYPE_F64: NgcDtype = 2;

/// Runs a function body inside the panic barrier and turns its result into a status.
///
/// `$body` is a block evaluating to `Result<(), FfiError>`. A returned error
/// becomes its status and sets the thread's last-error message (prefixed with
/// `$name`); a panic becomes `NGC_ERR_PANIC`. Nothing unwinds into the caller.
macro_rules! ffi_guard {
    ($name:expr, $body:block) => {{
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<(), FfiError> {
                $crate::abi::forced_panic_check();
                $body
            }));
        $crate::abi::finish($name, result)
    }};
}

/// How many threads have a forced panic pending (see [`__test_force_panic_in_next_call`]).
/// Zero in every real program, so the check in [`ffi_guard!`] is one relaxed load.
static FORCED_PANICS_ARMED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's next guarded call panics. Const-initialised and without a
    /// destructor, like the last-error message, so no TLS destructor is registered.
    static FORCED_PANIC_HERE: Cell<bool> = const { Cell::new(false) };
}

/// Test-only: makes the calling thread's next `ngc_*` call that runs inside the
/// panic barrier panic at the start of its body, so that tests can check that a
/// real export turns a panic into `NGC_ERR_PANIC` and a message.
///
/// A plain Rust function, not `extern "C"` and not `#[no_mangle]`: it is not in
/// the header nor among the shared library's exported symbols, so a C host
/// cannot call it. Other threads are not affected.
#[doc(hidden)]
pub fn __test_force_panic_in_next_call() {
    let newly = FORCED_PANIC_HERE.with(|f| !f.replace(true));
    if newly {
        FORCED_PANICS_ARMED.fetch_add(1, Ordering::SeqCst);
    }
}

#[inline(always)]
pub(crate) fn forced_panic_check() {
    // Another thread's arming may be seen late or early: harmless, the slow path
    // looks at this thread's own flag, which this thread set (program order).
    if FORCED_PANICS_ARMED.load(Ordering::Relaxed) != 0 {
        forced_panic_slow();
    }
}

#[cold]
#[inline(never)]
fn forced_panic_slow() {
    let here = FORCED_PANIC_HERE
        .try_with(|f| f.replace(false))
        .unwrap_or(false);
    if here {
        FORCED_PANICS_ARMED.fetch_sub(1, Ordering::SeqCst);
        panic!("forced by __test_force_panic_in_next_call (test-only)");
    }
}

pub(crate) fn finish(name: &str, result: std::thread::Result<Result<(), FfiError>>) -> NgcStatus {
    match result {
        Ok(Ok(())) => NGC_OK,
        Ok(Err(e)) => {
            last_error::set(&format!("{name}: {}", e.message));
            e.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_string());
            // The payload is dropped here, inside no other barrier: guard that too.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)));
            last_error::set(&format!(
                "{name}: internal panic caught at the ABI boundary (a bug in ngc-cells): {what}"
            ));
            NGC_ERR_PANIC
        }
    }
}

fn check_ptr<T>(p: *const T, what: &str, align: usize) -> Result<(), FfiError> {
    if p.is_null() {
        return Err(FfiError::new(
            NGC_ERR_NULL_POINTER,
            format!("{what} is NULL"),
        ));
    }
    if !(p as usize).is_multiple_of(align) {
        return Err(FfiError::new(
            NGC_ERR_MISALIGNED_POINTER,
            format!("{what} ({p:p}) is not aligned to {align} bytes"),
        ));
    }
    Ok(())
}

/// Checks an output pointer of a typed value.
fn check_out<T>(p: *mut T, what: &str) -> Result<(), FfiError> {
    check_ptr(p.cast_const(), what, align_of::<T>())
}

/// Reads a NUL-terminated UTF-8 argument.
///
/// # Safety
/// `p`, when non-NULL, points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, FfiError> {
    check_ptr(p, what, 1)?;
    // SAFETY: non-NULL (checked) and NUL-terminated (contract).
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|e| {
        FfiError::new(
            NGC_ERR_INVALID_ARGUMENT,
            format!(
                "{what} is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// Checks that `p` is a live cell handle and borrows it.
///
/// # Safety
/// `p`, when non-NULL and aligned, points to memory readable for
/// `size_of::<NgcCell>()` bytes (a handle from `ngc_*_new` not yet freed), not
/// used by another thread during `'a`.
unsafe fn cell_ref<'a>(p: *const NgcCell) -> Result<&'a NgcCell, FfiError> {
    check_ptr(p, "cell", align_of::<NgcCell>())?;
    // SAFETY: non-NULL and aligned (checked); readable (contract). The tag is read
    // through a raw pointer before any reference to the cell is formed.
    let magic = unsafe { std::ptr::addr_of!((*p).magic).read() };
    if magic != MAGIC {
        return Err(FfiError::new(
            NGC_ERR_INVALID_HANDLE,
            format!("cell ({p:p}) is not a live NgcCell (freed, or a pointer of another type)"),
        ));
    }
    // SAFETY: a live NgcCell (tag checked); not used elsewhere meanwhile (contract).
    Ok(unsafe { &*p })
}

/// As [`cell_ref`], mutably.
///
/// # Safety
/// As [`cell_ref`], and no other reference to the cell exists during `'a`.
unsafe fn cell_mut<'a>(p: *mut NgcCell) -> Result<&'a mut NgcCell, FfiError> {
    // SAFETY: forwarded contract.
    unsafe { cell_ref(p)? };
    // SAFETY: checked live above; exclusive by contract (one thread at a time).
    Ok(unsafe { &mut *p })
}

/// Writes `text` snprintf-style into `buf`; `*out_len` (when not NULL) gets its length.
///
/// # Safety
/// `buf`, when non-NULL, is valid for writing `buf_len` bytes; `out_len`, when
/// non-NULL and aligned, for writing one `size_t`.
unsafe fn write_text(
    text: &str,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> Result<(), FfiError> {
    if !out_len.is_null() {
        check_out(out_len, "out_len")?;
    }
    if buf_len > 0 {
        check_ptr(buf, "buf", 1)?;
        let n = text.len().min(buf_len - 1);
        // SAFETY: `buf` is non-NULL and valid for `buf_len > n` bytes (contract);
        // `text` is a distinct Rust string.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            buf.add(n).write(0);
        }
    }
    if !out_len.is_null() {
        // SAFETY: checked non-NULL and aligned above; writable (contract).
        unsafe { out_len.write(text.len()) };
    }
    if buf_len > 0 && text.len() >= buf_len {
        return Err(FfiError::new(
            NGC_ERR_BUFFER_TOO_SMALL,
            format!(
                "the text is {} bytes (plus the NUL) but buf_len is {buf_len}; it was truncated",
                text.len()
            ),
        ));
    }
    Ok(())
}

/// Resolves a compartment name argument to its index.
///
/// # Safety
/// As [`str_arg`].
unsafe fn lookup<'a>(cell: &NgcCell, name: *const c_char) -> Result<(&'a str, usize), FfiError> {
    // SAFETY: forwarded contract.
    let name = unsafe { str_arg(name, "compartment")? };
    Ok((name, cell.cell.index(name)?))
}

fn dtype_check(cell: &NgcCell, want: Dtype) -> Result<(), FfiError> {
    let have = cell.cell.dtype();
    if have != want {
        return Err(FfiError::new(
            NGC_ERR_DTYPE_MISMATCH,
            format!(
                "the cell computes in {}, but {} data was given",
                have.name(),
                want.name()
            ),
        ));
    }
    Ok(())
}

/* ------------------------------------------------------------------------- */
/* Library                                                                   */
/* ------------------------------------------------------------------------- */

/// The library's version as a static NUL-terminated string, `"ngc-cells/MAJOR.MINOR.PATCH"`.
///
/// Compare with the `NGC_CELLS_VERSION_*` macros to check that the library
/// loaded at run time is the one compiled against. Never NULL; never free it.
#[no_mangle]
pub extern "C" fn ngc_version() -> *const c_char {
    const V: &str = concat!("ngc-cells/", env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr().cast()
}

/// The name of a status code (`"NGC_ERR_NULL_POINTER"`, ...) as a static
/// NUL-terminated string; `"NGC_UNKNOWN_STATUS"` for a number that is not a status.
/// Never NULL; never free it.
#[no_mangle]
pub extern "C" fn ngc_status_str(status: NgcStatus) -> *const c_char {
    STATUS_NAMES
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, n)| n.as_ptr())
        .unwrap_or(c"NGC_UNKNOWN_STATUS".as_ptr())
}

/// Copies the calling thread's last error message into `buf`, snprintf-style.
///
/// Every `ngc_*` call that fails records a message saying what went wrong (for
/// example `ngc_cell_bind: compartment 'p' holds 784 elements, but the buffer's
/// capacity is 100`). Messages are per thread, so one thread's failure never
/// clobbers another's; successful calls leave the message as it was (like
/// `errno`). It is empty before the first failure.
///
/// Writes at most `buf_len - 1` bytes and a terminating NUL (nothing when
/// `buf_len` is 0; `buf` may then be NULL). Returns the message's full length in
/// bytes, not counting the NUL: a return value `>= buf_len` means it was cut.
/// The message is UTF-8, at most 1024 bytes.
///
/// # Safety
/// `buf` must be valid for writing `buf_len` bytes (or `buf_len` is 0).
#[no_mangle]
pub unsafe extern "C" fn ngc_last_error_message(buf: *mut c_char, buf_len: usize) -> usize {
    let result = std::panic::catch_unwind(|| {
        last_error::with(|msg| {
            if buf_len > 0 && !buf.is_null() {
                let n = msg.len().min(buf_len - 1);
                // SAFETY: `buf` is non-NULL and valid for `buf_len > n` bytes
                // (contract); `msg` is the library's own storage.
                unsafe {
                    std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
                    buf.add(n).write(0);
                }
            }
            msg.len()
        })
    });
    result.unwrap_or(0)
}

/* ------------------------------------------------------------------------- */
/* Creating and destroying cells                                             */
/* ------------------------------------------------------------------------- */

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
/// Every compartment starts at its rest value in library-owned storage: `p`,
/// `target`, `L`, `dp`, `dtarget` at 0, `modulator` and `mask` at 1.
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
        // One generic constructor for both dtypes.
        fn make<T: crate::core::Real>(
            name: &str,
            n_units: usize,
            batch_size: usize,
            input_logits: bool,
            shape: Option<[usize; 3]>,
        ) -> Result<crate::core::Cell<T>, FfiError> {
            bernoulli_error_cell_on(
                name,
                n_units,
                batch_size,
                input_logits,
                shape,
                native_platform(),
            )
            .map_err(shape_hint)
        }
        let cell = match dtype {
            NGC_DTYPE_F32 => AnyCell::F32(make(name, n_units, batch_size, input_logits, shape)?),
            NGC_DTYPE_F64 => AnyCell::F64(make(name, n_units, batch_size, input_logits, shape)?),
            other => {
                return Err(FfiError::new(
                    NGC_ERR_INVALID_DTYPE,
                    format!("dtype {other} is neither NGC_DTYPE_F32 (1) nor NGC_DTYPE_F64 (2)"),
                ))
            }
        };
        let raw = Box::into_raw(Box::new(NgcCell::new(cell)));
        // SAFETY: checked non-NULL and aligned above; writable (contract).
        unsafe { out_cell.write(raw) };
        Ok(())
    })
}

/// A zero `shape` entry is most often a 2-D shape in a 3-entry array (`{28, 28}`
/// leaves C at 0): say how to write one.
fn shape_hint(e: CellError) -> FfiError {
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

/* ------------------------------------------------------------------------- */
/* Binding caller buffers (zero copy)                                        */
/* ------------------------------------------------------------------------- */

/// Binds a caller-owned array to a compartment, without copying.
///
/// From this call on, the compartment's values are the first `count` elements
/// of `data`, where `count` is the compartment's element count (`batch_size *
/// n_units`, or `batch_size * H * W * C`; 1 for `L`): `ngc_cell_advance` reads
/// inputs from it and writes outputs into it in place, and the resets write rest
/// values into it. Binding does not write `data`: its current contents become
/// the compartment's value. Binding a bound compartment again replaces the old
/// buffer (which is then no longer used and not written).
///
/// - `compartment`: an ngc-learn name (`"p"`, `"target"`, `"modulator"`,
///   `"mask"`, `"L"`, `"dp"`, `"dtarget"`), NUL-terminated.
/// - `data`: a contiguous array of the cell's dtype (`float` for
///   `NGC_DTYPE_F32`, `double` for `NGC_DTYPE_F64`), aligned for it. Row-major or
///   column-major does not matter: every array compartment of a cell has the
///   same shape and the math is element-wise, so a Julia or MATLAB array binds as
///   it is.
/// - `capacity`: how many elements `data` holds. At least `count`; a larger
///   buffer lets `ngc_cell_batched_reset` grow the batch without re-binding. The
///   library never touches elements past `count`.
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

/* ------------------------------------------------------------------------- */
/* Copy in, copy out                                                         */
/* ------------------------------------------------------------------------- */

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

/* ------------------------------------------------------------------------- */
/* Dynamics                                                                  */
/* ------------------------------------------------------------------------- */

/// Advances the cell one step: ngc-learn's `advance_state(dt)`.
///
/// Reads `p`, `target`, `modulator`, `mask`; writes `dp`, `dtarget`, `L` (the
/// log-likelihood summed over every element, accumulated in double precision);
/// then resets `mask` to ones (ngc-learn "eats" the mask: it applies to one step
/// only; it computes `mask * 0 + 1`, so a NaN or infinite mask entry stays NaN).
/// `modulator` is kept. `p` and `target` are not modified. `t` and `dt` are
/// accepted for the host's time loop and are not used by this cell (as in
/// ngc-learn). NaN and infinite inputs propagate as in ngc-learn; they are not errors.
///
/// The same inputs give bit-identical outputs on every call, whatever
/// `ngc_cell_set_threads` says.
///
/// It allocates nothing (its scratch space and worker threads are made by
/// `new`, `ngc_cell_batched_reset` and `ngc_cell_set_threads`).
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
        c.advance(dt)
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

/// ngc-learn's `batched_reset(batch_size)`: gives every array compartment the
/// shape `(batch_size, ...)` and sets every compartment to its rest value (`p`,
/// `target`, `L`, `dp`, `dtarget` to 0; `modulator`, `mask` to 1), in bound buffers
/// too (their first `count` elements). Bindings are kept.
///
/// All or nothing: if a bound buffer's capacity cannot hold the new count, the
/// call fails with `NGC_ERR_CAPACITY_TOO_SMALL` and changes nothing (no value,
/// no shape, no binding); it never writes past a capacity.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_ZERO_SIZE`, `NGC_ERR_SIZE_OVERFLOW`,
/// `NGC_ERR_CAPACITY_TOO_SMALL`, `NGC_ERR_ALLOCATION`, `NGC_ERR_PANIC`.
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

/* ------------------------------------------------------------------------- */
/* Queries                                                                   */
/* ------------------------------------------------------------------------- */

/// Checks the handle and the output pointer, computes the value, writes it.
///
/// # Safety
/// `cell` a live handle (see [`cell_ref`]); `out` valid for one write.
unsafe fn query<T>(
    cell: *const NgcCell,
    out: *mut T,
    value: impl FnOnce(&NgcCell) -> Result<T, FfiError>,
) -> Result<(), FfiError> {
    check_out(out, "output pointer")?;
    // SAFETY: forwarded contract.
    let c = unsafe { cell_ref(cell)? };
    let v = value(c)?;
    // SAFETY: checked non-NULL and aligned; writable (contract).
    unsafe { out.write(v) };
    Ok(())
}

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
        unsafe {
            query(cell, out_dtype, |c| {
                Ok(match c.cell.dtype() {
                    Dtype::F32 => NGC_DTYPE_F32,
                    Dtype::F64 => NGC_DTYPE_F64,
                })
            })
        }
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

/// `*out_threads` = the number of threads `ngc_cell_advance` may use (see
/// `ngc_cell_set_threads`).
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

/// `*out_count` = the number of compartments (7 for the Bernoulli cell). Their
/// names are given by `ngc_cell_compartment_name` for indices 0 to `*out_count - 1`.
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
/// reset), as a double: the Bernoulli log-likelihood in nats, summed over every
/// element. For an `NGC_DTYPE_F32` cell it is the float32 value of `L`, widened.
///
/// Returns as `ngc_cell_dtype`.
///
/// # Safety
/// `cell` a live handle; `out_loss` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ngc_cell_loss(cell: *const NgcCell, out_loss: *mut f64) -> NgcStatus {
    ffi_guard!("ngc_cell_loss", {
        // SAFETY: forwarded contract.
        unsafe { query(cell, out_loss, |c| Ok(c.first_value(c.cell.index("L")?))) }
    })
}

/// `*out_name` = the ngc-learn name of compartment `index` (0-based, in a fixed
/// order: for the Bernoulli cell `p`, `target`, `modulator`, `mask`, `L`, `dp`,
/// `dtarget`), as a static NUL-terminated string: valid as long as the library
/// is loaded; never free it.
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
        let names = with_cell!(&c.cell, x => x.kind().compartments());
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

/// `*out_len` = the element count of a compartment at the cell's current shape:
/// `batch_size * n_units` (or `batch_size * H * W * C`), 1 for `L`. This is the
/// `len` that `ngc_cell_set`/`ngc_cell_get` take and the least `capacity` that
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

/// The dims of a compartment: `(batch_size, n_units)` or `(batch_size, H, W, C)`;
/// none for the scalar `L`. `*out_ndim` gets the number of dims (0, 2 or 4) and
/// `dims[0 .. ndim-1]` the dims, row-major order as in ngc-learn. `dims` may be
/// NULL when `dims_cap` is 0 (to ask for `ndim` only); a `dims_cap` of 4 always
/// suffices.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_INVALID_ARGUMENT`,
/// `NGC_ERR_UNKNOWN_COMPARTMENT`, `NGC_ERR_BUFFER_TOO_SMALL` (`dims_cap < ndim`:
/// `*out_ndim` is set, `dims` is not written), `NGC_ERR_PANIC`.
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
        // SAFETY: checked non-NULL and aligned; writable (contract).
        unsafe { out_ndim.write(d.len()) };
        if dims_cap < d.len() {
            return Err(FfiError::new(
                NGC_ERR_BUFFER_TOO_SMALL,
                format!(
                    "compartment '{name}' has {} dims but dims_cap is {dims_cap}",
                    d.len()
                ),
            ));
        }
        // SAFETY: `dims` non-NULL and aligned when `dims_cap > 0` (checked),
        // valid for `dims_cap >= d.len()` writes (contract).
        unsafe { std::ptr::copy_nonoverlapping(d.as_ptr(), dims, d.len()) };
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

/// `*out_type` = the cell's type, ngc-learn's class name (`"BernoulliErrorCell"`),
/// as a static NUL-terminated string; never free it.
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
        let t = with_cell!(&c.cell, x => x.kind()).type_name_c();
        // SAFETY: checked non-NULL and aligned; writable (contract).
        unsafe { out_type.write(t.as_ptr()) };
        Ok(())
    })
}

/// Copies the cell's name (as given at creation) into `buf`, snprintf-style:
/// at most `buf_len - 1` bytes and a NUL. `*out_len` (when `out_len` is not
/// NULL) gets the name's full length in bytes, without the NUL. With `buf_len`
/// 0, `buf` may be NULL: a size query.
///
/// Returns `NGC_OK`, `NGC_ERR_NULL_POINTER`, `NGC_ERR_MISALIGNED_POINTER`,
/// `NGC_ERR_INVALID_HANDLE`, `NGC_ERR_BUFFER_TOO_SMALL` (the name was cut;
/// `*out_len` says how long it is), `NGC_ERR_PANIC`.
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

/// Copies the cell's metadata, one line of UTF-8 JSON, into `buf`, snprintf-style
/// (as `ngc_cell_name`). It is what ngc-learn's `help()` gives, corrected: the
/// cell type, its name and dtype, a description and the dynamics, the
/// hyper-parameters (`n_units`, `batch_size`, `input_logits`, `shape`) with their
/// values, and for each compartment its name, role (`"input"`/`"output"`),
/// display name, units, current shape, rest value and description.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn boom() -> NgcStatus {
        ffi_guard!("boom", {
            let v: Vec<u8> = Vec::new();
            if v.is_empty() {
                panic!("forced panic for the test");
            }
            Ok(())
        })
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        assert_eq!(boom(), NGC_ERR_PANIC);
        let mut buf = [0 as c_char; 256];
        // SAFETY: buf is 256 writable bytes.
        let n = unsafe { ngc_last_error_message(buf.as_mut_ptr(), buf.len()) };
        // SAFETY: NUL-terminated by ngc_last_error_message.
        let msg = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
        assert_eq!(n, msg.len());
        assert!(msg.starts_with("boom: internal panic caught"), "{msg}");
        assert!(msg.ends_with("forced panic for the test"), "{msg}");
    }

    #[test]
    fn every_status_has_a_distinct_name() {
        for (i, (code, name)) in STATUS_NAMES.iter().enumerate() {
            // SAFETY: ngc_status_str returns a static NUL-terminated string.
            let s = unsafe { CStr::from_ptr(ngc_status_str(*code)) };
            assert_eq!(s, *name);
            for (code2, _) in &STATUS_NAMES[i + 1..] {
                assert_ne!(code, code2);
            }
        }
        // SAFETY: as above.
        let s = unsafe { CStr::from_ptr(ngc_status_str(-7)) };
        assert_eq!(s.to_str().unwrap(), "NGC_UNKNOWN_STATUS");
    }
}
