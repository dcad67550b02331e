//! The per-thread message of the most recent failure.
//!
//! Stored in a fixed-size, const-initialised thread-local of a type with no
//! destructor, so no TLS destructor is ever registered: the library can be
//! unloaded (`dlclose`, MATLAB `clear mex`) while threads that used it live on.

use std::cell::RefCell;

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

#[cfg(test)]
mod tests {
    #[test]
    fn no_tls_destructor_is_needed() {
        assert!(!std::mem::needs_drop::<std::cell::RefCell<super::Message>>());
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
