//! A panic inside a real export comes back as `NGC_ERR_PANIC` with a message, and
//! the cell stays usable and freeable.
//!
//! The ABI has no way to panic on purpose, so the panic is forced through the
//! test-only `__test_force_panic_in_next_call` (a Rust function, not part of the C
//! ABI): it makes this thread's next guarded call panic at the start of its body,
//! inside the barrier.

mod common;

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use ngc_cells::*;

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn last_error() -> String {
    let mut buf = [0 as c_char; 1100];
    // SAFETY: buf is writable for its length.
    unsafe { ngc_last_error_message(buf.as_mut_ptr(), buf.len()) };
    // SAFETY: NUL-terminated by the call.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn assert_panic_status(st: NgcStatus, export: &str) {
    assert_eq!(st, NGC_ERR_PANIC, "{export}: {}", last_error());
    let msg = last_error();
    assert_eq!(
        msg,
        format!(
            "{export}: internal panic caught at the ABI boundary (a bug in ngc-cells): \
             forced by __test_force_panic_in_next_call (test-only)"
        )
    );
}

fn new_cell() -> *mut NgcCell {
    let mut cell = ptr::null_mut();
    // SAFETY: valid arguments.
    let st = unsafe {
        ngc_bernoulli_error_cell_new(
            c("z").as_ptr(),
            2,
            1,
            false,
            ptr::null(),
            NGC_DTYPE_F32,
            &mut cell,
        )
    };
    assert_eq!(st, NGC_OK);
    cell
}

#[test]
fn a_panic_in_each_kind_of_export_is_the_panic_status_and_the_cell_survives() {
    let p = [0.25f32, 0.75];
    let x = [1.0f32, 0.0];
    let dp_buf = Box::into_raw(Box::new([0.0f32; 2])).cast::<f32>();
    let cell = new_cell();
    // SAFETY: live handle; the buffers outlive their use; dp_buf is freed last.
    unsafe {
        // The constructor: no handle comes out.
        let mut out: *mut NgcCell = ptr::null_mut();
        __test_force_panic_in_next_call();
        let st = ngc_bernoulli_error_cell_new(
            c("y").as_ptr(),
            2,
            1,
            false,
            ptr::null(),
            NGC_DTYPE_F32,
            &mut out,
        );
        assert_panic_status(st, "ngc_bernoulli_error_cell_new");
        assert!(out.is_null(), "no output is written on failure");

        // Set, bind, advance, get, reset, queries: each panics once, changes nothing.
        assert_eq!(
            ngc_cell_set_f32(cell, c("p").as_ptr(), p.as_ptr(), 2),
            NGC_OK
        );
        assert_eq!(
            ngc_cell_set_f32(cell, c("target").as_ptr(), x.as_ptr(), 2),
            NGC_OK
        );

        __test_force_panic_in_next_call();
        let st = ngc_cell_set_f32(cell, c("p").as_ptr(), [9.0f32, 9.0].as_ptr(), 2);
        assert_panic_status(st, "ngc_cell_set_f32");

        __test_force_panic_in_next_call();
        let st = ngc_cell_bind_f32(cell, c("dp").as_ptr(), dp_buf, 2);
        assert_panic_status(st, "ngc_cell_bind_f32");
        let mut bound = true;
        assert_eq!(
            ngc_cell_is_bound(cell, c("dp").as_ptr(), &mut bound),
            NGC_OK
        );
        assert!(!bound, "the panicking bind did not bind");

        __test_force_panic_in_next_call();
        assert_panic_status(ngc_cell_advance(cell, 0.0, 1.0), "ngc_cell_advance");

        let mut loss = 123.0f64;
        __test_force_panic_in_next_call();
        assert_panic_status(ngc_cell_loss(cell, &mut loss), "ngc_cell_loss");
        assert_eq!(loss, 123.0, "no output is written on failure");

        let mut got = [7.0f32; 2];
        __test_force_panic_in_next_call();
        let st = ngc_cell_get_f32(cell, c("p").as_ptr(), got.as_mut_ptr(), 2);
        assert_panic_status(st, "ngc_cell_get_f32");
        assert_eq!(got, [7.0, 7.0]);

        __test_force_panic_in_next_call();
        assert_panic_status(ngc_cell_batched_reset(cell, 2), "ngc_cell_batched_reset");

        // The flag is consumed: the next call works, and the cell is as it was.
        assert_eq!(
            ngc_cell_get_f32(cell, c("p").as_ptr(), got.as_mut_ptr(), 2),
            NGC_OK
        );
        assert_eq!(got, p);
        let mut b = 0usize;
        assert_eq!(ngc_cell_batch_size(cell, &mut b), NGC_OK);
        assert_eq!(b, 1);

        // Still usable: bind, advance, right values.
        assert_eq!(ngc_cell_bind_f32(cell, c("dp").as_ptr(), dp_buf, 2), NGC_OK);
        assert_eq!(ngc_cell_advance(cell, 0.0, 1.0), NGC_OK);
        let s = |z: f32| 1.0 / (1.0 + (-z).exp());
        let want0 = (1.0 / 0.25f32 - 0.0 / (1.0 - 0.25f32)) * ((1.0 - s(0.25)) * s(0.25));
        assert_eq!(dp_buf.read(), want0);
        assert_eq!(ngc_cell_loss(cell, &mut loss), NGC_OK);
        assert!(
            (loss - (0.25f64.ln() + 0.25f64.ln())).abs() < 1e-6,
            "{loss}"
        );

        // A panicking free leaves the cell alive (its body never ran); a second free frees it.
        __test_force_panic_in_next_call();
        ngc_cell_free(cell);
        assert!(last_error().starts_with("ngc_cell_free: internal panic caught"));
        assert_eq!(ngc_cell_advance(cell, 1.0, 1.0), NGC_OK);
        ngc_cell_free(cell);
        drop(Box::from_raw(dp_buf.cast::<[f32; 2]>()));
    }
}

#[test]
fn a_forced_panic_is_per_thread() {
    let cell = new_cell();
    __test_force_panic_in_next_call();
    // Another thread's calls are not affected by this thread's pending panic.
    let addr = cell as usize;
    std::thread::spawn(move || {
        let mut b = 0usize;
        // SAFETY: the cell is live and only this thread uses it meanwhile.
        let st = unsafe { ngc_cell_batch_size(addr as *mut NgcCell, &mut b) };
        assert_eq!(st, NGC_OK);
    })
    .join()
    .unwrap();
    // SAFETY: live handle.
    unsafe {
        assert_panic_status(ngc_cell_reset(cell), "ngc_cell_reset");
        assert_eq!(ngc_cell_reset(cell), NGC_OK);
        ngc_cell_free(cell);
    }
}

#[test]
fn the_test_hook_is_not_exported_to_c() {
    let header = std::fs::read_to_string(common::root().join("include/ngc_cells.h")).unwrap();
    assert!(!header.contains("force_panic"));
    let so = common::deps_dir().join("libngc_cells.so");
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let syms = String::from_utf8_lossy(&o.stdout);
            assert!(
                syms.contains("ngc_cell_advance"),
                "nm saw no exports: {syms}"
            );
            assert!(
                !syms.contains("force_panic"),
                "the test hook is exported from the shared library"
            );
        }
        _ => common::skip_or_fail("nm (binutils) is not available to list the exported symbols"),
    }
}
