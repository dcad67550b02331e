//! The per-thread message of the most recent failure.
//!
//! Stored in a fixed-size, const-initialised thread-local of a type with no
//! destructor, so no TLS destructor is ever registered: the library can be
//! unloaded (`dlclose`, MATLAB `clear mex`) while threads that used it live on.

use std::cell::RefCell;
use std::ffi::c_char;

/// Longest message kept, in bytes (longer ones are cut at a UTF-8 boundary).
pub(crate) const MESSAGE_CAP: usize = 1024;

pub(crate) struct Message {
    len: usize,
    bytes: [u8; MESSAGE_CAP],
}

thread_local! {
    static LAST_ERROR: RefCell<Message> = const {
        RefCell::new(Message { len: 0, bytes: [0; MESSAGE_CAP] })
    };
}

/// Records `text` as this thread's last error message.
pub(crate) fn set(text: &str) {
    let mut end = text.len().min(MESSAGE_CAP);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let _ = LAST_ERROR.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            m.bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
            m.len = end;
        }
    });
}

/// Calls `f` with this thread's last error message (empty when there was none).
pub(crate) fn with<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    let mut copy = [0u8; MESSAGE_CAP];
    let len = LAST_ERROR
        .try_with(|m| match m.try_borrow() {
            Ok(m) => {
                copy[..m.len].copy_from_slice(&m.bytes[..m.len]);
                m.len
            }
            Err(_) => 0,
        })
        .unwrap_or(0);
    f(&copy[..len])
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
/// The message is UTF-8, at most 1024 bytes; a cut text ends at a whole
/// character (it may then be shorter than `buf_len - 1` bytes).
///
/// # Safety
/// `buf` must be valid for writing `buf_len` bytes (or `buf_len` is 0).
#[no_mangle]
pub unsafe extern "C" fn ngc_last_error_message(buf: *mut c_char, buf_len: usize) -> usize {
    let result = std::panic::catch_unwind(|| {
        with(|msg| {
            if buf_len > 0 && !buf.is_null() {
                // Cut at a character boundary: the text stays valid UTF-8.
                let mut n = msg.len().min(buf_len - 1);
                while n > 0 && n < msg.len() && (msg[n] & 0xC0) == 0x80 {
                    n -= 1;
                }
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

#[cfg(test)]
mod tests {
    #[test]
    fn no_tls_destructor_is_needed() {
        assert!(!std::mem::needs_drop::<std::cell::RefCell<super::Message>>());
    }

    #[test]
    fn a_cut_copy_ends_at_a_whole_character() {
        super::set("éé");
        let mut buf = [0x55 as std::ffi::c_char; 4];
        // SAFETY: buf is 4 writable bytes.
        let n = unsafe { super::ngc_last_error_message(buf.as_mut_ptr(), 2) };
        assert_eq!(n, 4);
        assert_eq!(buf[0], 0, "a lone lead byte of 'é' must not be copied");
        // SAFETY: as above.
        let n = unsafe { super::ngc_last_error_message(buf.as_mut_ptr(), 4) };
        assert_eq!(n, 4);
        assert_eq!(
            &buf[..3].iter().map(|&b| b as u8).collect::<Vec<_>>(),
            &[0xC3, 0xA9, 0]
        );
    }

    #[test]
    fn long_messages_are_cut_at_a_char_boundary() {
        let s = "é".repeat(super::MESSAGE_CAP); // 2 bytes each
        super::set(&s);
        super::with(|m| {
            assert_eq!(m.len(), super::MESSAGE_CAP);
            assert!(std::str::from_utf8(m).is_ok());
        });
    }
}
