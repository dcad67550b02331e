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

use common::family;
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

/// One export that takes a cell, called with valid arguments (outputs into
/// locals it then checks were not written); returns its status. `name` is the
/// row's first compartment (an input every row has) and `n` its length, found
/// before the panic is armed.
struct Export {
    name: &'static str,
    call: fn(x: &family::Cell, name: &CStr, n: usize) -> NgcStatus,
}

/// Every export that takes a cell, except `ngc_cell_free` (tested last).
const EXPORTS: &[Export] = &[
    Export {
        name: "ngc_cell_advance",
        call: |x, _, _| unsafe { ngc_cell_advance(x.ptr, 0.0, 1.0) },
    },
    Export {
        name: "ngc_cell_evolve",
        call: |x, _, _| unsafe { ngc_cell_evolve(x.ptr, 0.0, 1.0) },
    },
    Export {
        name: "ngc_cell_set_shaped",
        // The compartment's own shape (every row's cell is batch 2): a valid call,
        // which a fixed shape accepts too.
        call: |x, name, n| {
            let dims = [2usize, n / 2];
            let (v, v32) = (vec![0.5f64; n], vec![0.5f32; n]);
            let src: *const std::ffi::c_void = if x.dtype == NGC_DTYPE_F64 {
                v.as_ptr().cast()
            } else {
                v32.as_ptr().cast()
            };
            unsafe { ngc_cell_set_shaped(x.ptr, name.as_ptr(), src, dims.as_ptr(), 2) }
        },
    },
    Export {
        name: "ngc_cell_reset",
        call: |x, _, _| unsafe { ngc_cell_reset(x.ptr) },
    },
    Export {
        name: "ngc_cell_batched_reset",
        call: |x, _, _| unsafe { ngc_cell_batched_reset(x.ptr, 3) },
    },
    Export {
        name: "ngc_cell_set_threads",
        call: |x, _, _| unsafe { ngc_cell_set_threads(x.ptr, 2) },
    },
    Export {
        name: "ngc_cell_set",
        call: |x, name, n| {
            let v = vec![0.5f64; n];
            let v32 = vec![0.5f32; n];
            let src: *const std::ffi::c_void = if x.dtype == NGC_DTYPE_F64 {
                v.as_ptr().cast()
            } else {
                v32.as_ptr().cast()
            };
            unsafe { ngc_cell_set(x.ptr, name.as_ptr(), src, n) }
        },
    },
    Export {
        name: "ngc_cell_set_f32",
        call: |x, name, n| unsafe {
            ngc_cell_set_f32(x.ptr, name.as_ptr(), vec![0.5f32; n].as_ptr(), n)
        },
    },
    Export {
        name: "ngc_cell_set_f64",
        call: |x, name, n| unsafe {
            ngc_cell_set_f64(x.ptr, name.as_ptr(), vec![0.5f64; n].as_ptr(), n)
        },
    },
    Export {
        name: "ngc_cell_get",
        call: |x, name, n| {
            let mut v = vec![7u64; n];
            let st = unsafe { ngc_cell_get(x.ptr, name.as_ptr(), v.as_mut_ptr().cast(), n) };
            assert!(v.iter().all(|&b| b == 7), "ngc_cell_get wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_get_f32",
        call: |x, name, n| {
            let mut v = vec![7.0f32; n];
            let st = unsafe { ngc_cell_get_f32(x.ptr, name.as_ptr(), v.as_mut_ptr(), n) };
            assert!(
                v.iter().all(|&b| b == 7.0),
                "ngc_cell_get_f32 wrote on failure"
            );
            st
        },
    },
    Export {
        name: "ngc_cell_get_f64",
        call: |x, name, n| {
            let mut v = vec![7.0f64; n];
            let st = unsafe { ngc_cell_get_f64(x.ptr, name.as_ptr(), v.as_mut_ptr(), n) };
            assert!(
                v.iter().all(|&b| b == 7.0),
                "ngc_cell_get_f64 wrote on failure"
            );
            st
        },
    },
    // The binds are given memory that outlives the cell (leaked on purpose: a
    // panicking bind must not keep it, and the check after each call sees that).
    Export {
        name: "ngc_cell_bind",
        call: |x, name, n| {
            let mem = Box::leak(vec![0u64; n].into_boxed_slice());
            unsafe { ngc_cell_bind(x.ptr, name.as_ptr(), mem.as_mut_ptr().cast(), n) }
        },
    },
    Export {
        name: "ngc_cell_bind_f32",
        call: |x, name, n| {
            let mem = Box::leak(vec![0f32; n].into_boxed_slice());
            unsafe { ngc_cell_bind_f32(x.ptr, name.as_ptr(), mem.as_mut_ptr(), n) }
        },
    },
    Export {
        name: "ngc_cell_bind_f64",
        call: |x, name, n| {
            let mem = Box::leak(vec![0f64; n].into_boxed_slice());
            unsafe { ngc_cell_bind_f64(x.ptr, name.as_ptr(), mem.as_mut_ptr(), n) }
        },
    },
    Export {
        name: "ngc_cell_unbind",
        call: |x, name, _| unsafe { ngc_cell_unbind(x.ptr, name.as_ptr()) },
    },
    Export {
        name: "ngc_cell_loss",
        call: |x, _, _| {
            let mut v = 123.0f64;
            let st = unsafe { ngc_cell_loss(x.ptr, &mut v) };
            assert_eq!(v, 123.0, "ngc_cell_loss wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_dtype",
        call: |x, _, _| {
            let mut v = 77;
            let st = unsafe { ngc_cell_dtype(x.ptr, &mut v) };
            assert_eq!(v, 77, "ngc_cell_dtype wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_batch_size",
        call: |x, _, _| {
            let mut v = 77usize;
            let st = unsafe { ngc_cell_batch_size(x.ptr, &mut v) };
            assert_eq!(v, 77, "ngc_cell_batch_size wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_n_units",
        call: |x, _, _| {
            let mut v = 77usize;
            let st = unsafe { ngc_cell_n_units(x.ptr, &mut v) };
            assert_eq!(v, 77, "ngc_cell_n_units wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_threads",
        call: |x, _, _| {
            let mut v = 77usize;
            let st = unsafe { ngc_cell_threads(x.ptr, &mut v) };
            assert_eq!(v, 77, "ngc_cell_threads wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_compartment_count",
        call: |x, _, _| {
            let mut v = 77usize;
            let st = unsafe { ngc_cell_compartment_count(x.ptr, &mut v) };
            assert_eq!(v, 77, "ngc_cell_compartment_count wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_compartment_name",
        call: |x, _, _| {
            let mut v: *const c_char = ptr::null();
            let st = unsafe { ngc_cell_compartment_name(x.ptr, 0, &mut v) };
            assert!(v.is_null(), "ngc_cell_compartment_name wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_compartment_len",
        call: |x, name, _| {
            let mut v = 77usize;
            let st = unsafe { ngc_cell_compartment_len(x.ptr, name.as_ptr(), &mut v) };
            assert_eq!(v, 77, "ngc_cell_compartment_len wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_compartment_dims",
        call: |x, name, _| {
            let (mut dims, mut ndim) = ([77usize; 4], 77usize);
            let st = unsafe {
                ngc_cell_compartment_dims(x.ptr, name.as_ptr(), dims.as_mut_ptr(), 4, &mut ndim)
            };
            assert_eq!(
                (dims, ndim),
                ([77; 4], 77),
                "ngc_cell_compartment_dims wrote on failure"
            );
            st
        },
    },
    Export {
        name: "ngc_cell_is_bound",
        call: |x, name, _| {
            let mut v = true;
            let st = unsafe { ngc_cell_is_bound(x.ptr, name.as_ptr(), &mut v) };
            assert!(v, "ngc_cell_is_bound wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_type",
        call: |x, _, _| {
            let mut v: *const c_char = ptr::null();
            let st = unsafe { ngc_cell_type(x.ptr, &mut v) };
            assert!(v.is_null(), "ngc_cell_type wrote on failure");
            st
        },
    },
    Export {
        name: "ngc_cell_name",
        call: |x, _, _| {
            let (mut buf, mut len) = ([b'#' as c_char; 64], 77usize);
            let st = unsafe { ngc_cell_name(x.ptr, buf.as_mut_ptr(), 64, &mut len) };
            assert!(
                buf.iter().all(|&b| b == b'#' as c_char) && len == 77,
                "ngc_cell_name wrote on failure"
            );
            st
        },
    },
    Export {
        name: "ngc_cell_metadata_json",
        call: |x, _, _| {
            let mut buf = vec![b'#' as c_char; 1 << 16];
            let mut len = 77usize;
            let st =
                unsafe { ngc_cell_metadata_json(x.ptr, buf.as_mut_ptr(), buf.len(), &mut len) };
            assert!(
                buf.iter().all(|&b| b == b'#' as c_char) && len == 77,
                "ngc_cell_metadata_json wrote on failure"
            );
            st
        },
    },
];

/// The functions the header declares.
fn header_functions() -> std::collections::BTreeSet<String> {
    let header = common::strip_c_comments(
        &std::fs::read_to_string(common::root().join("include/ngc_cells.h")).unwrap(),
    );
    let mut out = std::collections::BTreeSet::new();
    for (i, _) in header.match_indices("ngc_") {
        let name: String = header[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if header[i + name.len()..].starts_with('(') {
            out.insert(name);
        }
    }
    out
}

/// A row's constructor's C name (its messages' prefix), from its C call.
fn constructor_name(row: &family::Row) -> &'static str {
    row.c_new.split('(').next().unwrap().trim()
}

/// Everything observable about a cell: each compartment's values, dims and
/// binding, its batch size and threads.
fn observe(cell: &family::Cell) -> Vec<Vec<u64>> {
    let mut out = cell.snapshot();
    for name in cell.row.compartments {
        let n = c(name);
        let (mut dims, mut ndim, mut bound) = ([0usize; 8], 0usize, false);
        // SAFETY: live handle, valid outputs, dims holds 8.
        unsafe {
            assert_eq!(
                ngc_cell_compartment_dims(cell.ptr, n.as_ptr(), dims.as_mut_ptr(), 8, &mut ndim),
                NGC_OK
            );
            assert_eq!(ngc_cell_is_bound(cell.ptr, n.as_ptr(), &mut bound), NGC_OK);
        }
        let mut v: Vec<u64> = dims[..ndim].iter().map(|&d| d as u64).collect();
        v.push(u64::from(bound));
        out.push(v);
    }
    let (mut b, mut t) = (0usize, 0usize);
    // SAFETY: live handle, valid outputs.
    unsafe {
        assert_eq!(ngc_cell_batch_size(cell.ptr, &mut b), NGC_OK);
        assert_eq!(ngc_cell_threads(cell.ptr, &mut t), NGC_OK);
    }
    out.push(vec![b as u64, t as u64]);
    out
}

#[test]
fn every_export_turns_a_panic_into_the_panic_status_for_every_cell_type() {
    // Every export that can panic is exercised: the generic ones from EXPORTS and
    // ngc_cell_free, each row's constructor.
    let mut covered: std::collections::BTreeSet<String> =
        EXPORTS.iter().map(|e| e.name.to_string()).collect();
    covered.insert("ngc_cell_free".into());
    for row in family::FAMILY {
        covered.insert(constructor_name(row).into());
    }
    let cannot_panic = ["ngc_version", "ngc_status_str", "ngc_last_error_message"];
    for f in header_functions() {
        assert!(
            covered.contains(&f) || cannot_panic.contains(&f.as_str()),
            "export {f} is not covered by the panic-barrier test: add it to EXPORTS (or its \
             constructor's row to tests/common/family.rs)"
        );
    }
    let mut calls = 0;
    for row in family::FAMILY {
        for dtype in family::DTYPES {
            // The constructor: no handle comes out.
            let mut out: *mut NgcCell = ptr::null_mut();
            __test_force_panic_in_next_call();
            // SAFETY: valid arguments.
            let st = unsafe { (row.new)(c"y".as_ptr(), 3, 2, ptr::null(), dtype, &mut out) };
            assert_panic_status(st, constructor_name(row));
            assert!(
                out.is_null(),
                "{}: no output is written on failure",
                row.label
            );
            calls += 1;

            let cell = row.cell(3, 2, dtype);
            cell.set_random_inputs(7);
            cell.advance(0.0, 1.0);
            cell.set_random_inputs(8);
            let before = observe(&cell);
            let name = c(row.compartments[0]);
            let n = cell.len(row.compartments[0]);
            for e in EXPORTS {
                __test_force_panic_in_next_call();
                let st = (e.call)(&cell, &name, n);
                assert_panic_status(st, e.name);
                assert!(
                    observe(&cell) == before,
                    "{} {dtype}: the panicking {} changed the cell",
                    row.label,
                    e.name
                );
                calls += 1;
            }
            // The flag is consumed; the cell still works: advance gives what it
            // gives on a twin that never saw a panic.
            let twin = row.cell(3, 2, dtype);
            twin.set_random_inputs(7);
            twin.advance(0.0, 1.0);
            twin.set_random_inputs(8);
            assert_eq!(observe(&twin), before, "{}: the twin differs", row.label);
            cell.advance(1.0, 1.0);
            twin.advance(1.0, 1.0);
            assert_eq!(
                observe(&cell),
                observe(&twin),
                "{}: advance after the panics",
                row.label
            );

            // A panicking free leaves the cell alive (its body never ran).
            __test_force_panic_in_next_call();
            // SAFETY: live handle.
            unsafe { ngc_cell_free(cell.ptr) };
            assert!(last_error().starts_with("ngc_cell_free: internal panic caught"));
            calls += 1;
            cell.advance(2.0, 1.0);
            drop(cell);
        }
    }
    eprintln!(
        "panic barrier: {calls} forced panics over {} family rows x 2 dtypes, each the panic status",
        family::FAMILY.len()
    );
}
