//! The panic barrier every export runs its body in, and the test-only way to
//! trip it.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::last_error;
use super::status::{FfiError, NgcStatus, NGC_ERR_PANIC, NGC_OK};

/// Runs a function body inside the panic barrier and turns its result into a status.
///
/// `$body` is a block evaluating to `Result<(), FfiError>`. A returned error
/// becomes its status and sets the thread's last-error message (prefixed with
/// `$name`); a panic becomes `NGC_ERR_PANIC`. Nothing unwinds into the caller.
macro_rules! ffi_guard {
    ($name:expr, $body:block) => {{
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || -> Result<(), $crate::abi::status::FfiError> {
                $crate::abi::guard::forced_panic_check();
                $body
            },
        ));
        $crate::abi::guard::finish($name, result)
    }};
}
pub(crate) use ffi_guard;

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

#[cfg(test)]
mod tests {
    use super::super::last_error::ngc_last_error_message;
    use super::*;
    use std::ffi::{c_char, CStr};

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
}
