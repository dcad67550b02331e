//! The C ABI, called from Rust exactly as a C program calls it.

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use ngc_cells::*;

mod common;

use common::{last_error, RawBuf};

#[allow(clippy::excessive_precision)]
const P_IN: [f32; 10] = [
    0.496_714_14,
    -0.138_264_3,
    0.647_688_57,
    1.523_029_8,
    -0.234_153_38,
    -0.234_136_95,
    1.579_212_8,
    0.767_434_72,
    -0.469_474_38,
    0.542_560_04,
];
#[allow(clippy::excessive_precision)]
const DP_REF: [f32; 10] = [
    -2.819_338_1,
    -4_976.926_3,
    -2.122_492_8,
    -2_939.042_5,
    -1_233.391_6,
    -0.246_629_45,
    -708.300_42,
    0.282_139_39,
    3_550.847_7,
    1.365_124_6,
];

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Calls and asserts `NGC_OK`, printing the last error otherwise.
macro_rules! ok {
    ($e:expr) => {{
        let st = $e;
        assert_eq!(st, NGC_OK, "{} -> {}", stringify!($e), last_error());
    }};
}

struct Cell(*mut NgcCell);
impl Drop for Cell {
    fn drop(&mut self) {
        // SAFETY: a live handle owned by this guard.
        unsafe { ngc_cell_free(self.0) }
    }
}

fn new_cell(
    n: usize,
    batch: usize,
    logits: bool,
    shape: Option<[usize; 3]>,
    dtype: NgcDtype,
) -> Cell {
    let mut out = ptr::null_mut();
    let sp = shape.as_ref().map_or(ptr::null(), |s| s.as_ptr());
    // SAFETY: valid name, shape and out pointers.
    ok!(unsafe {
        ngc_bernoulli_error_cell_new(c("z").as_ptr(), n, batch, logits, sp, dtype, &mut out)
    });
    assert!(!out.is_null());
    Cell(out)
}

fn get_f32(cell: &Cell, name: &str, len: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; len];
    // SAFETY: v holds len floats.
    ok!(unsafe { ngc_cell_get_f32(cell.0, c(name).as_ptr(), v.as_mut_ptr(), len) });
    v
}

fn set_f32(cell: &Cell, name: &str, v: &[f32]) {
    // SAFETY: v holds v.len() floats.
    ok!(unsafe { ngc_cell_set_f32(cell.0, c(name).as_ptr(), v.as_ptr(), v.len()) });
}

fn loss(cell: &Cell) -> f64 {
    let mut l = f64::NAN;
    // SAFETY: live handle, valid out pointer.
    ok!(unsafe { ngc_cell_loss(cell.0, &mut l) });
    l
}

#[test]
fn ngc_learn_test_sequence_copy_in_copy_out() {
    for dtype in [NGC_DTYPE_F32, NGC_DTYPE_F64] {
        let cell = new_cell(1, 1, false, None, dtype);
        for t in 0..10 {
            let target = (t as f64 - 5.0) / 2.0;
            let dp = if dtype == NGC_DTYPE_F32 {
                set_f32(&cell, "p", &[P_IN[t]]);
                set_f32(&cell, "target", &[target as f32]);
                // SAFETY: live handle.
                ok!(unsafe { ngc_cell_advance(cell.0, t as f64, 1.0) });
                f64::from(get_f32(&cell, "dp", 1)[0])
            } else {
                let (p, x) = (f64::from(P_IN[t]), target);
                let mut dp = 0.0f64;
                // SAFETY: one double each.
                unsafe {
                    ok!(ngc_cell_set_f64(cell.0, c("p").as_ptr(), &p, 1));
                    ok!(ngc_cell_set_f64(cell.0, c("target").as_ptr(), &x, 1));
                    ok!(ngc_cell_advance(cell.0, t as f64, 1.0));
                    ok!(ngc_cell_get_f64(cell.0, c("dp").as_ptr(), &mut dp, 1));
                }
                dp
            };
            let want = f64::from(DP_REF[t]);
            // ngc-learn's own tolerance is atol 1e-3; float64 differs where q sits on the
            // upper clip bound (steps 3 and 6: 0.9999 vs 0.9999f), by a relative 1.7e-4.
            let tol = if dtype == NGC_DTYPE_F64 && (t == 3 || t == 6) {
                2e-4 * want.abs()
            } else {
                1e-3
            };
            assert!(
                (dp - want).abs() <= tol,
                "dtype {dtype} t={t}: {dp} vs {want}"
            );
        }
    }
}

#[test]
fn bound_buffers_are_read_and_written_in_place() {
    let cell = new_cell(1, 1, false, None, NGC_DTYPE_F32);
    let (p, x, dp, l) = (
        RawBuf::new(&[0.0f32]),
        RawBuf::new(&[0.0f32]),
        RawBuf::new(&[0.0f32]),
        RawBuf::new(&[0.0f32]),
    );
    // SAFETY: each RawBuf stays alive until after the cell is freed (declared first).
    unsafe {
        ok!(ngc_cell_bind_f32(cell.0, c("p").as_ptr(), p.ptr, 1));
        ok!(ngc_cell_bind_f32(cell.0, c("target").as_ptr(), x.ptr, 1));
        ok!(ngc_cell_bind_f32(cell.0, c("dp").as_ptr(), dp.ptr, 1));
        ok!(ngc_cell_bind_f32(cell.0, c("L").as_ptr(), l.ptr, 1));
    }
    for t in 0..10 {
        p.set(0, P_IN[t]);
        x.set(0, (t as f32 - 5.0) / 2.0);
        // SAFETY: live handle, bound buffers alive.
        ok!(unsafe { ngc_cell_advance(cell.0, t as f64, 1.0) });
        assert!(
            (dp.get(0) - DP_REF[t]).abs() <= 1e-3,
            "t={t}: {}",
            dp.get(0)
        );
        assert_eq!(f64::from(l.get(0)), loss(&cell));
    }
    // p and target are left as set; the copy-out path sees the bound values.
    assert_eq!(get_f32(&cell, "p", 1), vec![P_IN[9]]);
    for name in ["p", "target", "dp", "L"] {
        // SAFETY: live handle.
        ok!(unsafe { ngc_cell_unbind(cell.0, c(name).as_ptr()) });
    }
    // After unbind the cell owns a copy of the last values and no longer writes ours.
    assert_eq!(get_f32(&cell, "dp", 1), vec![dp.get(0)]);
    dp.set(0, 12345.0);
    // SAFETY: live handle.
    ok!(unsafe { ngc_cell_advance(cell.0, 10.0, 1.0) });
    assert_eq!(dp.get(0), 12345.0);
}

#[test]
fn binding_does_not_write_and_reset_writes_rest_values_into_bound_buffers() {
    let m = RawBuf::new(&[7.0f64, 8.0, -1.0]); // capacity 3, count 2
    let cell = new_cell(2, 1, false, None, NGC_DTYPE_F64);
    // SAFETY: m outlives the cell (declared first, dropped last).
    unsafe { ok!(ngc_cell_bind_f64(cell.0, c("modulator").as_ptr(), m.ptr, 3)) };
    assert_eq!(m.to_vec(), [7.0, 8.0, -1.0]);
    let mut got = [0.0f64; 2];
    // SAFETY: got holds 2 doubles.
    unsafe {
        ok!(ngc_cell_get_f64(
            cell.0,
            c("modulator").as_ptr(),
            got.as_mut_ptr(),
            2
        ))
    };
    assert_eq!(got, [7.0, 8.0]);
    // SAFETY: live handle.
    ok!(unsafe { ngc_cell_reset(cell.0) });
    assert_eq!(
        m.to_vec(),
        [1.0, 1.0, -1.0],
        "reset writes the first count elements only"
    );
}

#[test]
fn batched_reset_respects_bound_capacities_all_or_nothing() {
    let p = RawBuf::new(&[0.5f32; 6]); // room for batch 2
    let sentinel = 99.0f32;
    let dp = RawBuf::new(&[sentinel; 7]); // room for batch 2, plus one sentinel
    let cell = new_cell(3, 1, true, None, NGC_DTYPE_F32);
    // SAFETY: p and dp outlive the cell (declared first, dropped last).
    unsafe {
        ok!(ngc_cell_bind_f32(cell.0, c("p").as_ptr(), p.ptr, 6));
        ok!(ngc_cell_bind_f32(cell.0, c("dp").as_ptr(), dp.ptr, 6));
    }
    set_f32(&cell, "modulator", &[2.0; 3]);
    // SAFETY: live handle.
    let st = unsafe { ngc_cell_batched_reset(cell.0, 3) };
    assert_eq!(st, NGC_ERR_CAPACITY_TOO_SMALL);
    let msg = last_error();
    assert!(
        msg.contains("ngc_cell_batched_reset") && msg.contains("9 elements") && msg.contains("'p'"),
        "{msg}"
    );
    // Nothing changed: batch, values, bindings.
    let mut b = 0usize;
    // SAFETY: live handle, valid out pointer.
    ok!(unsafe { ngc_cell_batch_size(cell.0, &mut b) });
    assert_eq!(b, 1);
    assert_eq!(get_f32(&cell, "modulator", 3), vec![2.0; 3]);
    assert_eq!(p.to_vec(), vec![0.5; 6]);
    let mut bound = false;
    // SAFETY: live handle, valid out pointer.
    ok!(unsafe { ngc_cell_is_bound(cell.0, c("p").as_ptr(), &mut bound) });
    assert!(bound);
    // A batch the buffers can hold works, writes rest values, and keeps the bindings.
    // SAFETY: live handle.
    ok!(unsafe { ngc_cell_batched_reset(cell.0, 2) });
    assert_eq!(p.to_vec(), vec![0.0; 6]);
    assert_eq!(get_f32(&cell, "modulator", 6), vec![1.0; 6]);
    for (i, v) in [0.0, 100.0, -100.0, 1.0, 2.0, 3.0].into_iter().enumerate() {
        p.set(i, v);
    }
    // SAFETY: live handle.
    ok!(unsafe { ngc_cell_advance(cell.0, 0.0, 1.0) });
    assert_eq!(dp.get(6), sentinel, "never past the capacity");
    assert_eq!(dp.get(0), -0.5);
    // reset() goes back to the constructor's batch size (1).
    // SAFETY: live handle.
    ok!(unsafe { ngc_cell_reset(cell.0) });
    // SAFETY: live handle, valid out pointer.
    ok!(unsafe { ngc_cell_batch_size(cell.0, &mut b) });
    assert_eq!(b, 1);
    let s = |z: f32| 1.0 / (1.0 + (-z).exp());
    assert_eq!(
        dp.to_vec(),
        vec![0.0, 0.0, 0.0, -s(1.0), -s(2.0), -s(3.0), sentinel],
        "reset writes the count at batch 1 and leaves the rest alone"
    );
}

#[test]
fn one_buffer_wires_an_output_of_one_cell_to_an_input_of_another() {
    // Cell A's dp feeds cell B's target, zero copy.
    let wire = RawBuf::new(&[0.0f32; 4]);
    let a = new_cell(4, 1, true, None, NGC_DTYPE_F32);
    let b = new_cell(4, 1, true, None, NGC_DTYPE_F32);
    // SAFETY: wire outlives both cells (declared first, dropped last).
    unsafe {
        ok!(ngc_cell_bind_f32(a.0, c("dp").as_ptr(), wire.ptr, 4));
        ok!(ngc_cell_bind_f32(b.0, c("target").as_ptr(), wire.ptr, 4));
    }
    set_f32(&a, "p", &[0.0, 1.0, -1.0, 2.0]);
    set_f32(&a, "target", &[1.0, 0.0, 1.0, 0.0]);
    // SAFETY: live handle.
    ok!(unsafe { ngc_cell_advance(a.0, 0.0, 1.0) });
    let s = |z: f32| 1.0 / (1.0 + (-z).exp());
    let want = [1.0 - 0.5, -s(1.0), 1.0 - s(-1.0), -s(2.0)];
    for (w, v) in want.iter().zip(wire.to_vec()) {
        assert!((w - v).abs() < 1e-6);
    }
    set_f32(&b, "p", &[0.0; 4]);
    // SAFETY: live handle.
    ok!(unsafe { ngc_cell_advance(b.0, 0.0, 1.0) });
    // B's dp = target - sigmoid(0) = wire - 0.5.
    let dp_b = get_f32(&b, "dp", 4);
    for (w, v) in wire.to_vec().iter().zip(dp_b) {
        assert_eq!(v, w - 0.5);
    }
}

#[test]
fn overlapping_compartments_of_one_cell_are_refused() {
    let buf = RawBuf::new(&[0.0f32; 8]);
    let cell = new_cell(4, 1, false, None, NGC_DTYPE_F32);
    let base = buf.ptr;
    // SAFETY: all pointers are inside buf, which outlives the cell.
    unsafe {
        ok!(ngc_cell_bind_f32(cell.0, c("p").as_ptr(), base, 4));
        assert_eq!(
            ngc_cell_bind_f32(cell.0, c("target").as_ptr(), base.add(3), 4),
            NGC_ERR_OVERLAP
        );
        assert!(last_error().contains("overlaps the buffer bound to 'p'"));
        // Adjacent is fine; re-binding p to itself is fine.
        ok!(ngc_cell_bind_f32(
            cell.0,
            c("target").as_ptr(),
            base.add(4),
            4
        ));
        ok!(ngc_cell_bind_f32(cell.0, c("p").as_ptr(), base, 4));
        ok!(ngc_cell_unbind(cell.0, c("p").as_ptr()));
        ok!(ngc_cell_unbind(cell.0, c("target").as_ptr()));
        assert_eq!(
            ngc_cell_unbind(cell.0, c("target").as_ptr()),
            NGC_ERR_NOT_BOUND
        );
    }
}

#[test]
fn queries_describe_the_cell() {
    let cell = new_cell(9, 2, true, Some([2, 3, 4]), NGC_DTYPE_F64);
    let mut n = 0usize;
    let mut dims = [0usize; 4];
    let mut dt = 0;
    // SAFETY: live handle, valid out pointers.
    unsafe {
        ok!(ngc_cell_dtype(cell.0, &mut dt));
        assert_eq!(dt, NGC_DTYPE_F64);
        ok!(ngc_cell_n_units(cell.0, &mut n));
        assert_eq!(n, 9);
        ok!(ngc_cell_threads(cell.0, &mut n));
        assert_eq!(n, 1);
        ok!(ngc_cell_compartment_count(cell.0, &mut n));
        assert_eq!(n, 7);
        let mut names = Vec::new();
        for i in 0..n {
            let mut p = ptr::null();
            ok!(ngc_cell_compartment_name(cell.0, i, &mut p));
            names.push(CStr::from_ptr(p).to_str().unwrap().to_string());
        }
        assert_eq!(
            names,
            ["p", "target", "modulator", "mask", "L", "dp", "dtarget"]
        );
        ok!(ngc_cell_compartment_len(
            cell.0,
            c("dtarget").as_ptr(),
            &mut n
        ));
        assert_eq!(n, 48);
        ok!(ngc_cell_compartment_len(cell.0, c("L").as_ptr(), &mut n));
        assert_eq!(n, 1);
        ok!(ngc_cell_compartment_dims(
            cell.0,
            c("mask").as_ptr(),
            dims.as_mut_ptr(),
            4,
            &mut n
        ));
        assert_eq!((n, dims), (4, [2, 2, 3, 4]));
        ok!(ngc_cell_compartment_dims(
            cell.0,
            c("L").as_ptr(),
            ptr::null_mut(),
            0,
            &mut n
        ));
        assert_eq!(n, 0);
        let mut t = ptr::null();
        ok!(ngc_cell_type(cell.0, &mut t));
        assert_eq!(CStr::from_ptr(t).to_str().unwrap(), "BernoulliErrorCell");
        let mut len = 0usize;
        ok!(ngc_cell_name(cell.0, ptr::null_mut(), 0, &mut len));
        assert_eq!(len, 1);
        ok!(ngc_cell_metadata_json(cell.0, ptr::null_mut(), 0, &mut len));
        let mut buf = vec![0 as c_char; len + 1];
        ok!(ngc_cell_metadata_json(
            cell.0,
            buf.as_mut_ptr(),
            buf.len(),
            &mut len
        ));
        let json = CStr::from_ptr(buf.as_ptr()).to_str().unwrap();
        assert_eq!(json.len(), len);
        assert!(json.starts_with(
            "{\"cell_type\":\"BernoulliErrorCell\",\"name\":\"z\",\"dtype\":\"float64\""
        ));
        assert!(json.contains("\"shape\":{\"value\":[2,3,4]"));
        assert!(json.contains("{\"name\":\"dp\",\"role\":\"output\",\"display_name\":null,\"units\":null,\"shape\":[2,2,3,4]"));
        assert!(!json.contains("Gaussian") && !json.contains("sigma"));
        // Too small a buffer: the status, and nothing written (neither the
        // buffer nor the length); the size query gives the length.
        let mut small = [0x55 as c_char; 8];
        let mut small_len = 7usize;
        assert_eq!(
            ngc_cell_metadata_json(cell.0, small.as_mut_ptr(), 8, &mut small_len),
            NGC_ERR_BUFFER_TOO_SMALL
        );
        assert!(small.iter().all(|&b| b == 0x55));
        assert_eq!(small_len, 7);
        assert_eq!(
            ngc_cell_metadata_json(cell.0, std::ptr::null_mut(), 0, &mut small_len),
            NGC_OK
        );
        assert_eq!(small_len, json.len());
    }
}

#[test]
fn version_string_and_header_macros_match_cargo_toml() {
    // SAFETY: static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(ngc_version()) }.to_str().unwrap();
    assert_eq!(v, format!("ngc-cells/{}", env!("CARGO_PKG_VERSION")));
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/ngc_cells.h"))
            .unwrap();
    let get = |name: &str| -> String {
        let prefix = format!("#define {name} ");
        header
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("{name} missing from the header"))
            .trim()
            .to_string()
    };
    let (ma, mi, pa): (u32, u32, u32) = (
        env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap(),
        env!("CARGO_PKG_VERSION_MINOR").parse().unwrap(),
        env!("CARGO_PKG_VERSION_PATCH").parse().unwrap(),
    );
    assert_eq!(get("NGC_CELLS_VERSION_MAJOR"), ma.to_string());
    assert_eq!(get("NGC_CELLS_VERSION_MINOR"), mi.to_string());
    assert_eq!(get("NGC_CELLS_VERSION_PATCH"), pa.to_string());
    assert_eq!(
        get("NGC_CELLS_VERSION_STRING"),
        format!("\"{}\"", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        get("NGC_CELLS_VERSION_NUMBER"),
        ((ma << 16) | (mi << 8) | pa).to_string()
    );
}

#[test]
fn header_is_current() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/ngc_cells.h"))
            .unwrap();
    let generated =
        std::fs::read_to_string(concat!(env!("OUT_DIR"), "/include/ngc_cells.h")).unwrap();
    assert!(
        committed == generated,
        "include/ngc_cells.h is stale: regenerate it with `NGC_CELLS_UPDATE_HEADER=1 cargo build` and commit it"
    );
}

#[test]
fn every_status_constant_is_named_and_documented_in_the_header() {
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/ngc_cells.h"))
            .unwrap();
    let codes = [
        (NGC_OK, "NGC_OK"),
        (NGC_ERR_NULL_POINTER, "NGC_ERR_NULL_POINTER"),
        (NGC_ERR_MISALIGNED_POINTER, "NGC_ERR_MISALIGNED_POINTER"),
        (NGC_ERR_INVALID_HANDLE, "NGC_ERR_INVALID_HANDLE"),
        (NGC_ERR_INVALID_ARGUMENT, "NGC_ERR_INVALID_ARGUMENT"),
        (NGC_ERR_INVALID_DTYPE, "NGC_ERR_INVALID_DTYPE"),
        (NGC_ERR_DTYPE_MISMATCH, "NGC_ERR_DTYPE_MISMATCH"),
        (NGC_ERR_UNKNOWN_COMPARTMENT, "NGC_ERR_UNKNOWN_COMPARTMENT"),
        (NGC_ERR_ZERO_SIZE, "NGC_ERR_ZERO_SIZE"),
        (NGC_ERR_SIZE_OVERFLOW, "NGC_ERR_SIZE_OVERFLOW"),
        (NGC_ERR_CAPACITY_TOO_SMALL, "NGC_ERR_CAPACITY_TOO_SMALL"),
        (NGC_ERR_LENGTH_MISMATCH, "NGC_ERR_LENGTH_MISMATCH"),
        (NGC_ERR_OVERLAP, "NGC_ERR_OVERLAP"),
        (NGC_ERR_NOT_BOUND, "NGC_ERR_NOT_BOUND"),
        (NGC_ERR_ALLOCATION, "NGC_ERR_ALLOCATION"),
        (NGC_ERR_INDEX_OUT_OF_RANGE, "NGC_ERR_INDEX_OUT_OF_RANGE"),
        (NGC_ERR_BUFFER_TOO_SMALL, "NGC_ERR_BUFFER_TOO_SMALL"),
        (NGC_ERR_PANIC, "NGC_ERR_PANIC"),
        (NGC_ERR_INTERNAL, "NGC_ERR_INTERNAL"),
    ];
    // Released numbers never change.
    let numbers: Vec<i32> = codes.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        numbers,
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 100, 101]
    );
    for (code, name) in codes {
        // SAFETY: static string.
        assert_eq!(
            unsafe { CStr::from_ptr(ngc_status_str(code)) }
                .to_str()
                .unwrap(),
            name
        );
        assert!(
            header.contains(&format!("#define {name} {code}\n")),
            "{name}"
        );
    }
}

/// Every `.rs` file under `src/abi`, recursively (the ABI is one file per C concept).
fn abi_sources() -> Vec<(std::path::PathBuf, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&common::root().join("src/abi"), &mut out);
    out
}

#[test]
fn every_export_runs_inside_the_panic_barrier() {
    // Each `extern "C" fn` body must start with ffi_guard! (rustls-ffi #286 was one that
    // did not). The three that cannot fail are listed: they have no fallible body.
    // Every file under src/abi is scanned, and the exports found must be exactly the
    // functions the header declares, so an export in a file the scan misses fails here.
    let mut checked = std::collections::BTreeSet::new();
    for (path, src) in abi_sources() {
        // An export is an item under `#[no_mangle]` (or `#[unsafe(no_mangle)]`); other
        // `extern "C" fn`s (a thread's start routine) are not exported.
        let mut at = 0;
        let lines: Vec<&str> = src.split_inclusive('\n').collect();
        for (li, line) in lines.iter().enumerate() {
            let start = at;
            at += line.len();
            let attr = line.trim();
            if attr != "#[no_mangle]" && attr != "#[unsafe(no_mangle)]" {
                continue;
            }
            let item = &src[start + line.len()..];
            let here = format!("{}:{}", path.display(), li + 1);
            let fn_at = item.find("extern \"C\" fn ").unwrap_or_else(|| {
                panic!("{here}: #[no_mangle] on something not an extern \"C\" fn")
            });
            assert!(
                !item[..fn_at].contains(['{', ';']),
                "{here}: #[no_mangle] on something not an extern \"C\" fn"
            );
            let part = &item[fn_at + "extern \"C\" fn ".len()..];
            let name: String = part
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let body_start = part.find('{').unwrap();
            let body = &part[body_start..];
            let first_line = body.lines().nth(1).unwrap_or("").trim();
            let guarded = first_line.starts_with("ffi_guard!(")
                || (name == "ngc_cell_free" && body.contains("ffi_guard!(\"ngc_cell_free\""))
                || (name == "ngc_cell_advance" && body.contains("ffi_guard!(\"ngc_cell_advance\""))
                || (name == "ngc_cell_evolve" && body.contains("ffi_guard!(\"ngc_cell_evolve\""))
                || (name == "ngc_last_error_message" && body.contains("catch_unwind"));
            let trivially_safe = matches!(name.as_str(), "ngc_version" | "ngc_status_str");
            assert!(
                guarded || trivially_safe,
                "{here}: export {name} is not wrapped in ffi_guard!"
            );
            if guarded {
                assert!(
                    name == "ngc_last_error_message"
                        || body.contains(&format!("ffi_guard!(\"{name}\"")),
                    "{name} reports under another name"
                );
            }
            assert!(checked.insert(name.clone()), "{name} is defined twice");
        }
    }
    assert!(checked.len() >= 30, "only {} exports found", checked.len());
    let header = common::strip_c_comments(
        &std::fs::read_to_string(common::root().join("include/ngc_cells.h")).unwrap(),
    );
    let mut declared = std::collections::BTreeSet::new();
    for (i, _) in header.match_indices("ngc_") {
        let name: String = header[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if header[i + name.len()..].starts_with('(') {
            declared.insert(name);
        }
    }
    assert_eq!(
        checked, declared,
        "the exports found under src/abi are not the functions the header declares"
    );
}
