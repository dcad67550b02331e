//! Status codes, their names, and the errors behind them.

use std::ffi::c_char;

use crate::core::CellError;

/// The result of every fallible `ngc_*` call: `NGC_OK` (0) or one of the
/// `NGC_ERR_*` codes below. The numbers are part of the ABI and are never
/// renumbered or reused; `ngc_status_str` names each one, and
/// `ngc_last_error_message` explains the most recent failure in words.
pub type NgcStatus = i32;

/// Success.
pub const NGC_OK: NgcStatus = 0;
/// A pointer argument that must not be NULL was NULL.
pub const NGC_ERR_NULL_POINTER: NgcStatus = 1;
/// A pointer argument was not aligned for its type (e.g. a `double` buffer not 8-byte aligned).
pub const NGC_ERR_MISALIGNED_POINTER: NgcStatus = 2;
/// A handle argument does not point to a live `NgcCell` (best-effort check: it
/// catches pointers of another type and most uses after `ngc_cell_free`).
pub const NGC_ERR_INVALID_HANDLE: NgcStatus = 3;
/// An argument is out of its domain: a string that is not UTF-8, zero threads, ...
pub const NGC_ERR_INVALID_ARGUMENT: NgcStatus = 4;
/// A dtype argument is not `NGC_DTYPE_F32` or `NGC_DTYPE_F64`.
pub const NGC_ERR_INVALID_DTYPE: NgcStatus = 5;
/// A typed call (`*_f32`, `*_f64`) was made on a cell of the other dtype.
pub const NGC_ERR_DTYPE_MISMATCH: NgcStatus = 6;
/// The cell has no compartment of that name (names are ngc-learn's, case-sensitive).
pub const NGC_ERR_UNKNOWN_COMPARTMENT: NgcStatus = 7;
/// A size is zero where at least 1 is needed (`n_units`, `batch_size`, a `shape` entry).
pub const NGC_ERR_ZERO_SIZE: NgcStatus = 8;
/// Sizes multiply (or, with the element size and the buffer address, add up)
/// beyond what the address space can hold.
pub const NGC_ERR_SIZE_OVERFLOW: NgcStatus = 9;
/// A bound buffer's capacity is smaller than the compartment's element count
/// (at `ngc_cell_bind`, or at the batch size asked of `ngc_cell_batched_reset`).
pub const NGC_ERR_CAPACITY_TOO_SMALL: NgcStatus = 10;
/// A `len` given to `ngc_cell_set` / `ngc_cell_get` is not the compartment's element count.
pub const NGC_ERR_LENGTH_MISMATCH: NgcStatus = 11;
/// The buffer would overlap a buffer bound to another compartment of the same cell.
pub const NGC_ERR_OVERLAP: NgcStatus = 12;
/// `ngc_cell_unbind` of a compartment that is not bound.
pub const NGC_ERR_NOT_BOUND: NgcStatus = 13;
/// Library-owned storage could not be allocated. Nothing was changed.
pub const NGC_ERR_ALLOCATION: NgcStatus = 14;
/// An index is out of range (e.g. a compartment index `>=` the compartment count).
pub const NGC_ERR_INDEX_OUT_OF_RANGE: NgcStatus = 15;
/// An output buffer is too small: the text was truncated (and NUL-terminated), or
/// the dims array cannot hold every dim. The size needed is still reported.
pub const NGC_ERR_BUFFER_TOO_SMALL: NgcStatus = 16;
/// The operation does not apply to this cell (e.g. `ngc_cell_loss` on a cell
/// type without a one-element `L`).
pub const NGC_ERR_NOT_SUPPORTED: NgcStatus = 17;
/// A shape does not fit: `ngc_cell_set_shaped` dims that do not broadcast
/// against the cell's state shape or a new shape for a compartment whose shape
/// is fixed, or a reset to a batch size a kept parameter's shape does not fit.
pub const NGC_ERR_SHAPE_MISMATCH: NgcStatus = 18;
/// A panic inside the library was caught at the ABI boundary. This is a bug in
/// ngc-cells; please report it with the message. The cell may be in any state
/// that its invariants allow and is safe to free.
pub const NGC_ERR_PANIC: NgcStatus = 100;
/// An internal inconsistency was detected (a bug in ngc-cells; please report it).
pub const NGC_ERR_INTERNAL: NgcStatus = 101;

/// Every status code with its name, for `ngc_status_str` and the tests.
pub(crate) const STATUS_NAMES: &[(NgcStatus, &std::ffi::CStr)] = &[
    (NGC_OK, c"NGC_OK"),
    (NGC_ERR_NULL_POINTER, c"NGC_ERR_NULL_POINTER"),
    (NGC_ERR_MISALIGNED_POINTER, c"NGC_ERR_MISALIGNED_POINTER"),
    (NGC_ERR_INVALID_HANDLE, c"NGC_ERR_INVALID_HANDLE"),
    (NGC_ERR_INVALID_ARGUMENT, c"NGC_ERR_INVALID_ARGUMENT"),
    (NGC_ERR_INVALID_DTYPE, c"NGC_ERR_INVALID_DTYPE"),
    (NGC_ERR_DTYPE_MISMATCH, c"NGC_ERR_DTYPE_MISMATCH"),
    (NGC_ERR_UNKNOWN_COMPARTMENT, c"NGC_ERR_UNKNOWN_COMPARTMENT"),
    (NGC_ERR_ZERO_SIZE, c"NGC_ERR_ZERO_SIZE"),
    (NGC_ERR_SIZE_OVERFLOW, c"NGC_ERR_SIZE_OVERFLOW"),
    (NGC_ERR_CAPACITY_TOO_SMALL, c"NGC_ERR_CAPACITY_TOO_SMALL"),
    (NGC_ERR_LENGTH_MISMATCH, c"NGC_ERR_LENGTH_MISMATCH"),
    (NGC_ERR_OVERLAP, c"NGC_ERR_OVERLAP"),
    (NGC_ERR_NOT_BOUND, c"NGC_ERR_NOT_BOUND"),
    (NGC_ERR_ALLOCATION, c"NGC_ERR_ALLOCATION"),
    (NGC_ERR_INDEX_OUT_OF_RANGE, c"NGC_ERR_INDEX_OUT_OF_RANGE"),
    (NGC_ERR_BUFFER_TOO_SMALL, c"NGC_ERR_BUFFER_TOO_SMALL"),
    (NGC_ERR_NOT_SUPPORTED, c"NGC_ERR_NOT_SUPPORTED"),
    (NGC_ERR_SHAPE_MISMATCH, c"NGC_ERR_SHAPE_MISMATCH"),
    (NGC_ERR_PANIC, c"NGC_ERR_PANIC"),
    (NGC_ERR_INTERNAL, c"NGC_ERR_INTERNAL"),
];

/* The status names -------------------------------------------------------- */

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

/// A failure on its way to the caller: a status and the words for it.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub status: NgcStatus,
    pub message: String,
}

impl FfiError {
    pub fn new(status: NgcStatus, message: impl Into<String>) -> FfiError {
        FfiError {
            status,
            message: message.into(),
        }
    }
}

impl From<CellError> for FfiError {
    fn from(e: CellError) -> FfiError {
        let status = match &e {
            CellError::ZeroSize { .. } => NGC_ERR_ZERO_SIZE,
            CellError::SizeOverflow { .. } => NGC_ERR_SIZE_OVERFLOW,
            CellError::UnknownCompartment { .. } => NGC_ERR_UNKNOWN_COMPARTMENT,
            CellError::LengthMismatch { .. } => NGC_ERR_LENGTH_MISMATCH,
            CellError::Alloc { .. } | CellError::Threads { .. } => NGC_ERR_ALLOCATION,
            CellError::ShapeMismatch { .. } => NGC_ERR_SHAPE_MISMATCH,
            CellError::NotSupported(_) => NGC_ERR_NOT_SUPPORTED,
            CellError::InvalidArgument(_) => NGC_ERR_INVALID_ARGUMENT,
            CellError::Internal(_) => NGC_ERR_INTERNAL,
        };
        FfiError::new(status, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

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
