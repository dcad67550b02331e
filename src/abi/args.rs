//! Every raw argument an export receives is checked here: pointers (NULL,
//! alignment), strings (UTF-8), dims arrays, and text written back snprintf-style.

use std::ffi::{c_char, CStr};
use std::mem::align_of;

use super::status::*;

pub(crate) fn check_ptr<T>(p: *const T, what: &str, align: usize) -> Result<(), FfiError> {
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
pub(crate) fn check_out<T>(p: *mut T, what: &str) -> Result<(), FfiError> {
    check_ptr(p.cast_const(), what, align_of::<T>())
}

/// Reads a NUL-terminated UTF-8 argument.
///
/// # Safety
/// `p`, when non-NULL, points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, FfiError> {
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

/// Writes `text` into the caller's `buf` (with a NUL) and its length into
/// `*out_len`, only on success:
/// - `buf_len == 0`: a size query; only `*out_len` is written (`buf` may be NULL);
/// - `text` fits (`text.len() < buf_len`): both are written;
/// - otherwise `NGC_ERR_BUFFER_TOO_SMALL`, and nothing is written.
///
/// # Safety
/// `buf`, when `buf_len > 0`, is valid for writing `buf_len` bytes; `out_len`,
/// when non-NULL and aligned, for writing one `size_t`.
pub(crate) unsafe fn write_text(
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
        if text.len() >= buf_len {
            return Err(FfiError::new(
                NGC_ERR_BUFFER_TOO_SMALL,
                format!(
                    "the text is {} bytes (plus the NUL) but buf_len is {buf_len}; nothing was \
                     written (ask for the length with buf_len 0)",
                    text.len()
                ),
            ));
        }
        // SAFETY: `buf` is non-NULL and valid for `buf_len > text.len()` bytes
        // (contract); `text` is a distinct Rust string.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
            buf.add(text.len()).write(0);
        }
    }
    if !out_len.is_null() {
        // SAFETY: checked non-NULL and aligned above; writable (contract).
        unsafe { out_len.write(text.len()) };
    }
    Ok(())
}

/// The most dims a shape argument may have.
pub(crate) const MAX_RANK: usize = 4;

/// Reads a `dims` argument of `rank` sizes (`dims` may be NULL when `rank` is 0).
///
/// # Safety
/// `dims`, when non-NULL, is valid for reading `rank` sizes (`rank <= MAX_RANK`
/// is checked first).
pub(crate) unsafe fn dims_arg(dims: *const usize, rank: usize) -> Result<Vec<usize>, FfiError> {
    if rank > MAX_RANK {
        return Err(FfiError::new(
            NGC_ERR_INVALID_ARGUMENT,
            format!("rank is {rank}, at most {MAX_RANK} dims are supported"),
        ));
    }
    if rank == 0 {
        return Ok(Vec::new());
    }
    check_ptr(dims, "dims", align_of::<usize>())?;
    // SAFETY: non-NULL and aligned (checked), valid for `rank` reads (contract).
    Ok(unsafe { std::slice::from_raw_parts(dims, rank) }.to_vec())
}
