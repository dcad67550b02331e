//! The misuse table: every way of calling the C ABI wrongly that
//! docs/hardening.md's "Misuse never crashes the host" lists, one case per row;
//! and the misuses that do not depend on the cell type, for every row of the
//! family table (`tests/common/family.rs`).
//!
//! `CASES` is the source of truth for the table. Each case runs against a fresh
//! fixture (four cells with bound buffers and non-rest values), and the test
//! checks the status, that the thread's last-error message names the function and
//! says what went wrong, and that the cells and every caller buffer are
//! bit-for-bit unchanged (except where the row says otherwise).
//! `readme_table_matches_the_cases` checks that the documented table has exactly
//! these rows, so every row is a test.
//!
//! `every_cell_type_refuses_misuse_and_changes_nothing` makes the same checks for
//! generic misuses (handles, out-pointers, every compartment's lengths,
//! capacities, dtypes, names, overlaps and bindings, resets, the constructor's
//! arguments) on a fixture of each family row, in both dtypes.
//!
//! `misuse_table_runs_clean_under_valgrind` and
//! `generic_misuses_run_clean_under_valgrind` run the two again under valgrind
//! memcheck.

mod common;

use std::ffi::{c_char, c_void, CStr};
use std::ptr;

use common::{cstr as s, family, last_error, RawBuf};
use ngc_cells::*;

/// What a row's call gives back.
#[derive(Clone, Copy)]
enum Gives {
    /// An `NgcStatus`.
    Status(NgcStatus),
    /// Nothing: a `void` function (the message still says what happened).
    Void,
    /// A value that is not a status, described.
    Value(&'static str),
}

struct Case {
    id: &'static str,
    misuse: &'static str,
    call: &'static str,
    gives: Gives,
    /// A fragment of the last-error message, which must also start with the
    /// function's name; `None`: the call leaves the message as it was.
    message: Option<&'static str>,
    /// `None`: the fixture is bit-for-bit unchanged. `Some(what)`: the row
    /// changes it as `what` says (and checks that itself).
    changes: Option<&'static str>,
    /// Runs before the "before" snapshot (for rows that need a prior step).
    prepare: Option<fn(&Fx)>,
    /// Makes the call; returns its status (or `None` for a void/value function,
    /// whose result it checks itself).
    run: fn(&Fx) -> Option<NgcStatus>,
}

/// Three cells with bound buffers and non-rest values, and spare buffers.
struct Fx {
    /// "fx": f32, n_units 4, batch 1, probabilities. `p` bound to `pbuf[0..8]`
    /// (room for batch 2), `dp` bound to `dpbuf`; advanced once; a mask pending.
    cell: *mut NgcCell,
    /// "fx64": f64, n_units 2, created with batch 2, logits; batched_reset to 1;
    /// `target` bound to `tbuf` (capacity 2); advanced once.
    cell64: *mut NgcCell,
    /// "plain": f32, n_units 3, batch 1, probabilities; nothing bound; advanced once.
    plain: *mut NgcCell,
    pbuf: RawBuf<f32>,
    dpbuf: RawBuf<f32>,
    tbuf: RawBuf<f64>,
    s32: RawBuf<f32>,
    s64: RawBuf<f64>,
    not_a_cell: RawBuf<u64>,
    /// 12 floats for the overlap boundary rows (nothing bound to them in the fixture).
    adj: RawBuf<f32>,
    /// "gx": f32 GaussianErrorCell, n_units 4, batch 2, sigma 0.5; `Sigma` set to
    /// shape (1, 4); `dSigma` bound to `dsbuf` (capacity 4); advanced once.
    gauss: *mut NgcCell,
    dsbuf: RawBuf<f32>,
}

macro_rules! ok {
    ($e:expr) => {{
        let st = $e;
        assert_eq!(st, NGC_OK, "{} -> {}", stringify!($e), last_error());
    }};
}

fn new_cell(name: &str, n: usize, batch: usize, logits: bool, dtype: NgcDtype) -> *mut NgcCell {
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    ok!(unsafe {
        ngc_bernoulli_error_cell_new(
            s(name).as_ptr(),
            n,
            batch,
            logits,
            ptr::null(),
            dtype,
            &mut out,
        )
    });
    out
}

impl Fx {
    fn new() -> Fx {
        let fx = Fx {
            cell: new_cell("fx", 4, 1, false, NGC_DTYPE_F32),
            cell64: new_cell("fx64", 2, 2, true, NGC_DTYPE_F64),
            plain: new_cell("plain", 3, 1, false, NGC_DTYPE_F32),
            pbuf: RawBuf::new(&[0.1, 0.2, 0.3, 0.4, 0.9, 0.9, 0.9, 0.9, 7.0, 7.0]),
            dpbuf: RawBuf::new(&[-3.0; 4]),
            tbuf: RawBuf::new(&[1.0, 0.0]),
            s32: RawBuf::new(&[5.0; 16]),
            s64: RawBuf::new(&[5.0; 16]),
            not_a_cell: RawBuf::new(&[0u64; 64]),
            adj: RawBuf::new(&[6.0; 12]),
            gauss: new_gaussian("gx", 4, 2, 0.5),
            dsbuf: RawBuf::new(&[-2.0; 4]),
        };
        // SAFETY: live handles; every bound buffer outlives its cell (Drop frees the
        // cells before the fields are dropped).
        unsafe {
            ok!(ngc_cell_bind_f32(fx.cell, s("p").as_ptr(), fx.pbuf.ptr, 8));
            ok!(ngc_cell_set_f32(
                fx.cell,
                s("target").as_ptr(),
                [1.0, 0.0, 1.0, 0.0].as_ptr(),
                4
            ));
            ok!(ngc_cell_set_f32(
                fx.cell,
                s("modulator").as_ptr(),
                [2.0; 4].as_ptr(),
                4
            ));
            ok!(ngc_cell_bind_f32(
                fx.cell,
                s("dp").as_ptr(),
                fx.dpbuf.ptr,
                4
            ));
            ok!(ngc_cell_advance(fx.cell, 0.0, 1.0));
            ok!(ngc_cell_set_f32(
                fx.cell,
                s("mask").as_ptr(),
                [1.0, 0.0, 1.0, 1.0].as_ptr(),
                4
            ));

            ok!(ngc_cell_batched_reset(fx.cell64, 1));
            ok!(ngc_cell_bind_f64(
                fx.cell64,
                s("target").as_ptr(),
                fx.tbuf.ptr,
                2
            ));
            ok!(ngc_cell_set_f64(
                fx.cell64,
                s("p").as_ptr(),
                [0.5, -0.5].as_ptr(),
                2
            ));
            ok!(ngc_cell_advance(fx.cell64, 0.0, 1.0));

            ok!(ngc_cell_set_f32(
                fx.plain,
                s("p").as_ptr(),
                [0.2, 0.5, 0.8].as_ptr(),
                3
            ));
            ok!(ngc_cell_set_f32(
                fx.plain,
                s("target").as_ptr(),
                [1.0, 1.0, 0.0].as_ptr(),
                3
            ));
            ok!(ngc_cell_advance(fx.plain, 0.0, 1.0));

            let sigma = [0.5f32, 1.0, 2.0, 4.0];
            ok!(ngc_cell_set_shaped(
                fx.gauss,
                c"Sigma".as_ptr(),
                sigma.as_ptr().cast(),
                [1usize, 4].as_ptr(),
                2
            ));
            ok!(ngc_cell_bind_f32(
                fx.gauss,
                c"dSigma".as_ptr(),
                fx.dsbuf.ptr,
                4
            ));
            ok!(ngc_cell_set_f32(
                fx.gauss,
                c"target".as_ptr(),
                [1.0f32, -1.0, 0.5, 2.0, 0.0, 1.0, 3.0, -2.0].as_ptr(),
                8
            ));
            ok!(ngc_cell_advance(fx.gauss, 0.0, 1.0));
        }
        fx
    }

    /// Everything observable about the fixture, as bits.
    fn snapshot(&self) -> Vec<(String, Vec<u64>)> {
        let mut out = Vec::new();
        for (label, cell) in [
            ("fx", self.cell),
            ("fx64", self.cell64),
            ("plain", self.plain),
            ("gx", self.gauss),
        ] {
            out.push((format!("{label} shape"), cell_meta(cell)));
            for i in 0..compartment_count(cell) {
                let (name, values) = compartment_bits(cell, i);
                out.push((format!("{label}.{name}"), values));
            }
        }
        let bits32 = |b: &RawBuf<f32>| b.to_vec().iter().map(|v| u64::from(v.to_bits())).collect();
        let bits64 = |b: &RawBuf<f64>| b.to_vec().iter().map(|v| v.to_bits()).collect();
        out.push(("pbuf".into(), bits32(&self.pbuf)));
        out.push(("dpbuf".into(), bits32(&self.dpbuf)));
        out.push(("s32".into(), bits32(&self.s32)));
        out.push(("tbuf".into(), bits64(&self.tbuf)));
        out.push(("s64".into(), bits64(&self.s64)));
        out.push(("not_a_cell".into(), self.not_a_cell.to_vec()));
        out.push(("adj".into(), bits32(&self.adj)));
        out.push(("dsbuf".into(), bits32(&self.dsbuf)));
        out
    }
}

impl Drop for Fx {
    fn drop(&mut self) {
        // SAFETY: live handles owned by the fixture (a row that frees one nulls nothing:
        // no row frees a fixture cell).
        unsafe {
            ngc_cell_free(self.cell);
            ngc_cell_free(self.cell64);
            ngc_cell_free(self.plain);
            ngc_cell_free(self.gauss);
        }
    }
}

/// How many compartments the cell has.
fn compartment_count(cell: *mut NgcCell) -> usize {
    let mut n = 0usize;
    // SAFETY: live handle, valid out pointer.
    ok!(unsafe { ngc_cell_compartment_count(cell, &mut n) });
    n
}

/// A float32 GaussianErrorCell.
fn new_gaussian(name: &str, n: usize, batch: usize, sigma: f64) -> *mut NgcCell {
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    ok!(unsafe {
        ngc_gaussian_error_cell_new(
            s(name).as_ptr(),
            n,
            batch,
            sigma,
            ptr::null(),
            NGC_DTYPE_F32,
            &mut out,
        )
    });
    out
}

/// Batch size, threads, and for each compartment its length, dims and whether it is bound.
fn cell_meta(cell: *mut NgcCell) -> Vec<u64> {
    let (mut b, mut t) = (0usize, 0usize);
    // SAFETY: live handle, valid out pointers.
    unsafe {
        ok!(ngc_cell_batch_size(cell, &mut b));
        ok!(ngc_cell_threads(cell, &mut t));
    }
    let mut v = vec![b as u64, t as u64];
    for i in 0..compartment_count(cell) {
        let mut name: *const c_char = ptr::null();
        let (mut len, mut bound, mut ndim) = (0usize, false, 0usize);
        let mut dims = [0usize; 4];
        // SAFETY: live handle, valid out pointers; `name` is static; dims holds 4.
        unsafe {
            ok!(ngc_cell_compartment_name(cell, i, &mut name));
            ok!(ngc_cell_compartment_len(cell, name, &mut len));
            ok!(ngc_cell_is_bound(cell, name, &mut bound));
            ok!(ngc_cell_compartment_dims(
                cell,
                name,
                dims.as_mut_ptr(),
                4,
                &mut ndim
            ));
        }
        v.extend([len as u64, u64::from(bound), ndim as u64]);
        v.extend(dims[..ndim].iter().map(|&d| d as u64));
    }
    v
}

/// Compartment `i`'s name and values, as bits.
fn compartment_bits(cell: *mut NgcCell, i: usize) -> (String, Vec<u64>) {
    let mut name: *const c_char = ptr::null();
    let (mut len, mut dtype) = (0usize, 0);
    // SAFETY: live handle, valid out pointers; `name` is static; the buffers hold `len`.
    unsafe {
        ok!(ngc_cell_compartment_name(cell, i, &mut name));
        ok!(ngc_cell_compartment_len(cell, name, &mut len));
        ok!(ngc_cell_dtype(cell, &mut dtype));
        let label = CStr::from_ptr(name).to_str().unwrap().to_string();
        let bits = if dtype == NGC_DTYPE_F32 {
            let mut v = vec![0f32; len];
            ok!(ngc_cell_get(cell, name, v.as_mut_ptr().cast(), len));
            v.iter().map(|x| u64::from(x.to_bits())).collect()
        } else {
            let mut v = vec![0f64; len];
            ok!(ngc_cell_get(cell, name, v.as_mut_ptr().cast(), len));
            v.iter().map(|x| x.to_bits()).collect()
        };
        (label, bits)
    }
}

/// A failing call whose message no row produces, so that a row's message is
/// known to be its own.
fn set_sentinel_message(fx: &Fx) -> String {
    let mut n = 0usize;
    // SAFETY: live handle, valid out pointer.
    let st = unsafe { ngc_cell_compartment_len(fx.plain, s("__sentinel__").as_ptr(), &mut n) };
    assert_eq!(st, NGC_ERR_UNKNOWN_COMPARTMENT);
    let msg = last_error();
    assert!(msg.contains("__sentinel__"));
    msg
}

fn misaligned<T>(p: *mut T, bytes: usize) -> *mut T {
    p.cast::<u8>().wrapping_add(bytes).cast::<T>()
}

/// Calls the constructor with everything valid except what `f` changes.
fn new_with(
    name: *const c_char,
    n: usize,
    batch: usize,
    shape: *const usize,
    dtype: NgcDtype,
    out_null: bool,
) -> NgcStatus {
    let mut out: *mut NgcCell = ptr::null_mut();
    let out_ptr: *mut *mut NgcCell = if out_null { ptr::null_mut() } else { &mut out };
    // SAFETY: `name` NULL or NUL-terminated; `shape` NULL or 3 readable sizes
    // (a misaligned one is refused before it is read); `out_ptr` NULL or valid.
    let st = unsafe { ngc_bernoulli_error_cell_new(name, n, batch, false, shape, dtype, out_ptr) };
    if st == NGC_OK {
        // SAFETY: a handle just made.
        unsafe { ngc_cell_free(out) };
    }
    assert!(
        st == NGC_OK || out.is_null(),
        "a failed constructor wrote its output"
    );
    st
}

const NAME: &CStr = c"x";

const MAX: usize = usize::MAX;

static CASES: &[Case] = &[
    // ---- handles and out-pointers -------------------------------------------------
    Case {
        id: "M01",
        misuse: "NULL handle",
        call: "ngc_cell_advance(NULL, 0, 1)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("cell is NULL"),
        changes: None,
        prepare: None,
        // SAFETY (all rows): every pointer passed is NULL, refused before use, or
        // valid for what the call does with it.
        run: |_| Some(unsafe { ngc_cell_advance(ptr::null_mut(), 0.0, 1.0) }),
    },
    Case {
        id: "M02",
        misuse: "a pointer that is not a cell (zeroed memory)",
        call: "ngc_cell_advance((NgcCell *)buf, 0, 1)",
        gives: Gives::Status(NGC_ERR_INVALID_HANDLE),
        message: Some("is not a live NgcCell"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_advance(fx.not_a_cell.ptr.cast(), 0.0, 1.0) }),
    },
    Case {
        id: "M03",
        misuse: "misaligned handle",
        call: "ngc_cell_reset((NgcCell *)((char *)cell + 1))",
        gives: Gives::Status(NGC_ERR_MISALIGNED_POINTER),
        message: Some("is not aligned to 8 bytes"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_reset(misaligned(fx.cell, 1)) }),
    },
    Case {
        id: "M04",
        misuse: "NULL out-pointer",
        call: "ngc_cell_loss(cell, NULL)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("output pointer is NULL"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_loss(fx.cell, ptr::null_mut()) }),
    },
    Case {
        id: "M05",
        misuse: "misaligned out-pointer",
        call: "ngc_cell_batch_size(cell, (size_t *)((char *)buf + 4))",
        gives: Gives::Status(NGC_ERR_MISALIGNED_POINTER),
        message: Some("output pointer"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_batch_size(fx.cell, misaligned(fx.s64.ptr.cast(), 4)) }),
    },
    Case {
        id: "M06",
        misuse: "free of NULL",
        call: "ngc_cell_free(NULL)",
        gives: Gives::Void,
        message: None,
        changes: None,
        prepare: None,
        run: |_| {
            unsafe { ngc_cell_free(ptr::null_mut()) };
            None
        },
    },
    Case {
        id: "M07",
        misuse: "free of a pointer that is not a cell",
        call: "ngc_cell_free((NgcCell *)buf)",
        gives: Gives::Void,
        message: Some("is not a live NgcCell"),
        changes: None,
        prepare: None,
        run: |fx| {
            unsafe { ngc_cell_free(fx.not_a_cell.ptr.cast()) };
            None
        },
    },
    // ---- the constructor ----------------------------------------------------------
    Case {
        id: "M08",
        misuse: "NULL out_cell",
        call: "ngc_bernoulli_error_cell_new(\"x\", 4, 1, false, NULL, NGC_DTYPE_F32, NULL)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("out_cell is NULL"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(NAME.as_ptr(), 4, 1, ptr::null(), NGC_DTYPE_F32, true)),
    },
    Case {
        id: "M09",
        misuse: "NULL name",
        call: "ngc_bernoulli_error_cell_new(NULL, 4, 1, false, NULL, NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("name is NULL"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(ptr::null(), 4, 1, ptr::null(), NGC_DTYPE_F32, false)),
    },
    Case {
        id: "M10",
        misuse: "name not UTF-8",
        call: "ngc_bernoulli_error_cell_new(\"\\xff\", 4, 1, false, NULL, NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("name is not valid UTF-8 (invalid byte at offset 0)"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(c"\xff".as_ptr(), 4, 1, ptr::null(), NGC_DTYPE_F32, false)),
    },
    Case {
        id: "M11",
        misuse: "unknown dtype",
        call: "ngc_bernoulli_error_cell_new(\"x\", 4, 1, false, NULL, 3, &c)",
        gives: Gives::Status(NGC_ERR_INVALID_DTYPE),
        message: Some("dtype 3 is neither NGC_DTYPE_F32 (1) nor NGC_DTYPE_F64 (2)"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(NAME.as_ptr(), 4, 1, ptr::null(), 3, false)),
    },
    Case {
        id: "M12",
        misuse: "zero n_units",
        call: "ngc_bernoulli_error_cell_new(\"x\", 0, 1, false, NULL, NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_ZERO_SIZE),
        message: Some("n_units must be at least 1, got 0"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(NAME.as_ptr(), 0, 1, ptr::null(), NGC_DTYPE_F32, false)),
    },
    Case {
        id: "M13",
        misuse: "zero batch_size",
        call: "ngc_bernoulli_error_cell_new(\"x\", 4, 0, false, NULL, NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_ZERO_SIZE),
        message: Some("batch_size must be at least 1, got 0"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(NAME.as_ptr(), 4, 0, ptr::null(), NGC_DTYPE_F32, false)),
    },
    Case {
        id: "M14",
        misuse: "a 2-dim shape: `size_t shape[3] = {28, 28}` (C is 0)",
        call: "ngc_bernoulli_error_cell_new(\"x\", 784, 1, false, shape, NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_ZERO_SIZE),
        message: Some("shape[2] (C) must be at least 1, got 0 (shape is exactly 3 sizes"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(NAME.as_ptr(), 784, 1, [28, 28, 0].as_ptr(), NGC_DTYPE_F32, false)),
    },
    Case {
        id: "M15",
        misuse: "a zero shape entry",
        call: "ngc_bernoulli_error_cell_new(\"x\", 4, 1, false, (size_t[]){2, 0, 2}, NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_ZERO_SIZE),
        message: Some("shape[1] (W) must be at least 1, got 0"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(NAME.as_ptr(), 4, 1, [2, 0, 2].as_ptr(), NGC_DTYPE_F32, false)),
    },
    Case {
        id: "M16",
        misuse: "batch × n_units past `usize`",
        call: "ngc_bernoulli_error_cell_new(\"x\", SIZE_MAX, 2, false, NULL, NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_SIZE_OVERFLOW),
        message: Some("batch_size x n_units overflows: 2 x 18446744073709551615"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(NAME.as_ptr(), MAX, 2, ptr::null(), NGC_DTYPE_F32, false)),
    },
    Case {
        id: "M17",
        misuse: "batch × H × W × C past `usize`",
        call: "ngc_bernoulli_error_cell_new(\"x\", 1, 4, false, (size_t[]){1 << 32, 1 << 32, 2}, NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_SIZE_OVERFLOW),
        message: Some("batch_size x H x W x C overflows: 4 x 4294967296 x 4294967296 x 2"),
        changes: None,
        prepare: None,
        run: |_| {
            let shape = [1usize << 32, 1 << 32, 2];
            Some(new_with(NAME.as_ptr(), 1, 4, shape.as_ptr(), NGC_DTYPE_F32, false))
        },
    },
    Case {
        id: "M18",
        misuse: "element count × 8 bytes past `isize`",
        call: "ngc_bernoulli_error_cell_new(\"x\", SIZE_MAX / 8, 1, false, NULL, NGC_DTYPE_F64, &c)",
        gives: Gives::Status(NGC_ERR_SIZE_OVERFLOW),
        message: Some("batch_size x n_units overflows"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(NAME.as_ptr(), MAX / 8, 1, ptr::null(), NGC_DTYPE_F64, false)),
    },
    Case {
        id: "M19",
        misuse: "huge allocation (2^59 floats: fits the size checks, not the machine)",
        call: "ngc_bernoulli_error_cell_new(\"x\", (size_t)1 << 59, 1, false, NULL, NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_ALLOCATION),
        message: Some("could not allocate 2305843009213693952 bytes for compartment 'p'"),
        changes: None,
        prepare: None,
        run: |_| Some(new_with(NAME.as_ptr(), 1 << 59, 1, ptr::null(), NGC_DTYPE_F32, false)),
    },
    Case {
        id: "M20",
        misuse: "misaligned shape pointer",
        call: "ngc_bernoulli_error_cell_new(\"x\", 4, 1, false, (size_t *)((char *)shape + 1), NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_MISALIGNED_POINTER),
        message: Some("shape ("),
        changes: None,
        prepare: None,
        run: |fx| {
            let shape = misaligned(fx.s64.ptr.cast::<usize>(), 1);
            Some(new_with(NAME.as_ptr(), 4, 1, shape, NGC_DTYPE_F32, false))
        },
    },
    // ---- binding ------------------------------------------------------------------
    Case {
        id: "M21",
        misuse: "NULL data with non-zero capacity",
        call: "ngc_cell_bind_f32(cell, \"target\", NULL, 4)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("data is NULL"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_bind_f32(fx.cell, c"target".as_ptr(), ptr::null_mut(), 4) }),
    },
    Case {
        id: "M22",
        misuse: "NULL data with capacity 0",
        call: "ngc_cell_bind(cell, \"target\", NULL, 0)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("data is NULL"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_bind(fx.cell, c"target".as_ptr(), ptr::null_mut(), 0) }),
    },
    Case {
        id: "M23",
        misuse: "misaligned data",
        call: "ngc_cell_bind(cell, \"target\", (char *)buf + 1, 4)",
        gives: Gives::Status(NGC_ERR_MISALIGNED_POINTER),
        message: Some("is not aligned to 4 bytes"),
        changes: None,
        prepare: None,
        run: |fx| {
            let p = misaligned(fx.s32.ptr, 1).cast::<c_void>();
            Some(unsafe { ngc_cell_bind(fx.cell, c"target".as_ptr(), p, 4) })
        },
    },
    Case {
        id: "M24",
        misuse: "a float-aligned buffer for a double cell",
        call: "ngc_cell_bind(cell64, \"p\", (char *)dbuf + 4, 2)",
        gives: Gives::Status(NGC_ERR_MISALIGNED_POINTER),
        message: Some("is not aligned to 8 bytes"),
        changes: None,
        prepare: None,
        run: |fx| {
            let p = misaligned(fx.s64.ptr, 4).cast::<c_void>();
            Some(unsafe { ngc_cell_bind(fx.cell64, c"p".as_ptr(), p, 2) })
        },
    },
    Case {
        id: "M25",
        misuse: "capacity too small",
        call: "ngc_cell_bind_f32(cell, \"target\", buf, 3)",
        gives: Gives::Status(NGC_ERR_CAPACITY_TOO_SMALL),
        message: Some("compartment 'target' holds 4 elements, but the buffer's capacity is 3"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_bind_f32(fx.cell, c"target".as_ptr(), fx.s32.ptr, 3) }),
    },
    Case {
        id: "M26",
        misuse: "capacity 0",
        call: "ngc_cell_bind_f32(cell, \"L\", buf, 0)",
        gives: Gives::Status(NGC_ERR_CAPACITY_TOO_SMALL),
        message: Some("compartment 'L' holds 1 elements, but the buffer's capacity is 0"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_bind_f32(fx.cell, c"L".as_ptr(), fx.s32.ptr, 0) }),
    },
    Case {
        id: "M27",
        misuse: "capacity past the address space",
        call: "ngc_cell_bind_f32(cell, \"target\", buf, SIZE_MAX / 2)",
        gives: Gives::Status(NGC_ERR_SIZE_OVERFLOW),
        message: Some("does not fit in the address space"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_bind_f32(fx.cell, c"target".as_ptr(), fx.s32.ptr, MAX / 2) }),
    },
    Case {
        id: "M28",
        misuse: "capacity whose byte size wraps (`SIZE_MAX / 4` doubles)",
        call: "ngc_cell_bind_f64(cell64, \"p\", dbuf, SIZE_MAX / 4)",
        gives: Gives::Status(NGC_ERR_SIZE_OVERFLOW),
        message: Some("elements of 8 bytes"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_bind_f64(fx.cell64, c"p".as_ptr(), fx.s64.ptr, MAX / 4) }),
    },
    Case {
        id: "M29",
        misuse: "unknown compartment name",
        call: "ngc_cell_bind_f32(cell, \"mu\", buf, 4)",
        gives: Gives::Status(NGC_ERR_UNKNOWN_COMPARTMENT),
        message: Some(
            "cell 'fx' (BernoulliErrorCell) has no compartment named 'mu'; it has: p, target, modulator, mask, L, dp, dtarget",
        ),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_bind_f32(fx.cell, c"mu".as_ptr(), fx.s32.ptr, 4) }),
    },
    Case {
        id: "M30",
        misuse: "compartment name in the wrong case",
        call: "ngc_cell_set_f32(cell, \"P\", src, 4)",
        gives: Gives::Status(NGC_ERR_UNKNOWN_COMPARTMENT),
        message: Some("has no compartment named 'P'"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_set_f32(fx.cell, c"P".as_ptr(), fx.s32.ptr, 4) }),
    },
    Case {
        id: "M31",
        misuse: "compartment name not UTF-8",
        call: "ngc_cell_get_f32(cell, \"\\xc3\\x28\", dst, 4)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("compartment is not valid UTF-8 (invalid byte at offset 0)"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_get_f32(fx.cell, c"\xc3\x28".as_ptr(), fx.s32.ptr, 4) }),
    },
    Case {
        id: "M32",
        misuse: "NULL compartment name",
        call: "ngc_cell_is_bound(cell, NULL, &bound)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("compartment is NULL"),
        changes: None,
        prepare: None,
        run: |fx| {
            let mut b = false;
            Some(unsafe { ngc_cell_is_bound(fx.cell, ptr::null(), &mut b) })
        },
    },
    Case {
        id: "M33",
        misuse: "a 100 000-byte compartment name",
        call: "ngc_cell_compartment_len(cell, long_name, &len)",
        gives: Gives::Status(NGC_ERR_UNKNOWN_COMPARTMENT),
        message: Some("has no compartment named 'yyyyyyyy"),
        changes: None,
        prepare: None,
        run: |fx| {
            let long = s(&"y".repeat(100_000));
            let mut n = 0usize;
            let st = unsafe { ngc_cell_compartment_len(fx.cell, long.as_ptr(), &mut n) };
            let msg = last_error();
            assert!(msg.len() < 300, "the name is shortened in the message: {} bytes", msg.len());
            assert!(msg.contains("yyy...'"), "{msg}");
            Some(st)
        },
    },
    Case {
        id: "M34",
        misuse: "typed bind of the other dtype",
        call: "ngc_cell_bind_f64(cell, \"target\", dbuf, 4)",
        gives: Gives::Status(NGC_ERR_DTYPE_MISMATCH),
        message: Some("the cell computes in float32, but float64 data was given"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_bind_f64(fx.cell, c"target".as_ptr(), fx.s64.ptr, 4) }),
    },
    Case {
        id: "M35",
        misuse: "typed set of the other dtype",
        call: "ngc_cell_set_f32(cell64, \"p\", src, 2)",
        gives: Gives::Status(NGC_ERR_DTYPE_MISMATCH),
        message: Some("the cell computes in float64, but float32 data was given"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_set_f32(fx.cell64, c"p".as_ptr(), fx.s32.ptr, 2) }),
    },
    Case {
        id: "M36",
        misuse: "overlapping compartments",
        call: "ngc_cell_bind_f32(cell, \"target\", pbuf + 6, 4)",
        gives: Gives::Status(NGC_ERR_OVERLAP),
        message: Some("overlaps the buffer bound to 'p'"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_bind_f32(fx.cell, c"target".as_ptr(), fx.pbuf.ptr.add(6), 4) }),
    },
    Case {
        id: "M37",
        misuse: "one buffer for two compartments of a cell",
        call: "ngc_cell_bind_f32(cell, \"dtarget\", dpbuf, 4)",
        gives: Gives::Status(NGC_ERR_OVERLAP),
        message: Some("overlaps the buffer bound to 'dp'"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_bind_f32(fx.cell, c"dtarget".as_ptr(), fx.dpbuf.ptr, 4) }),
    },
    Case {
        id: "M38",
        misuse: "a bound buffer unbound twice",
        call: "ngc_cell_unbind(cell, \"dp\") twice",
        gives: Gives::Status(NGC_ERR_NOT_BOUND),
        message: Some("compartment 'dp' is not bound to a buffer"),
        changes: None,
        prepare: Some(|fx| {
            ok!(unsafe { ngc_cell_unbind(fx.cell, c"dp".as_ptr()) });
        }),
        run: |fx| Some(unsafe { ngc_cell_unbind(fx.cell, c"dp".as_ptr()) }),
    },
    Case {
        id: "M39",
        misuse: "unbind of a compartment never bound",
        call: "ngc_cell_unbind(cell, \"dtarget\")",
        gives: Gives::Status(NGC_ERR_NOT_BOUND),
        message: Some("compartment 'dtarget' is not bound to a buffer"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_unbind(fx.cell, c"dtarget".as_ptr()) }),
    },
    // ---- copy in, copy out --------------------------------------------------------
    Case {
        id: "M40",
        misuse: "set with len ≠ the element count",
        call: "ngc_cell_set_f32(cell, \"p\", src, 5)",
        gives: Gives::Status(NGC_ERR_LENGTH_MISMATCH),
        message: Some("compartment 'p' holds 4 elements, but len is 5"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_set_f32(fx.cell, c"p".as_ptr(), fx.s32.ptr, 5) }),
    },
    Case {
        id: "M41",
        misuse: "NULL src",
        call: "ngc_cell_set(cell, \"p\", NULL, 4)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("src is NULL"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_set(fx.cell, c"p".as_ptr(), ptr::null(), 4) }),
    },
    Case {
        id: "M42",
        misuse: "`ngc_cell_get` into a buffer too small",
        call: "ngc_cell_get_f32(cell, \"dp\", small, 2)",
        gives: Gives::Status(NGC_ERR_LENGTH_MISMATCH),
        message: Some("compartment 'dp' holds 4 elements, but len is 2"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_get_f32(fx.cell, c"dp".as_ptr(), fx.s32.ptr, 2) }),
    },
    Case {
        id: "M43",
        misuse: "NULL dst",
        call: "ngc_cell_get(cell, \"dp\", NULL, 4)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("dst is NULL"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_get(fx.cell, c"dp".as_ptr(), ptr::null_mut(), 4) }),
    },
    Case {
        id: "M44",
        misuse: "misaligned dst",
        call: "ngc_cell_get_f64(cell64, \"dp\", (double *)((char *)dbuf + 4), 2)",
        gives: Gives::Status(NGC_ERR_MISALIGNED_POINTER),
        message: Some("is not aligned to 8 bytes"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_get_f64(fx.cell64, c"dp".as_ptr(), misaligned(fx.s64.ptr, 4), 2) }),
    },
    // ---- resets -------------------------------------------------------------------
    Case {
        id: "M45",
        misuse: "`batched_reset` to batch 0",
        call: "ngc_cell_batched_reset(cell, 0)",
        gives: Gives::Status(NGC_ERR_ZERO_SIZE),
        message: Some("batch_size must be at least 1, got 0"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_batched_reset(fx.cell, 0) }),
    },
    Case {
        id: "M46",
        misuse: "`batched_reset` beyond a bound capacity",
        call: "ngc_cell_batched_reset(cell, 3)",
        gives: Gives::Status(NGC_ERR_CAPACITY_TOO_SMALL),
        message: Some(
            "batched_reset to batch size 3 needs 12 elements in compartment 'p', but its bound buffer holds 8; nothing was changed",
        ),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_batched_reset(fx.cell, 3) }),
    },
    Case {
        id: "M47",
        misuse: "`reset` to a creation batch a buffer bound later cannot hold",
        call: "ngc_cell_reset(cell64)",
        gives: Gives::Status(NGC_ERR_CAPACITY_TOO_SMALL),
        message: Some("reset to the initial batch size 2 needs 4 elements in compartment 'target'"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_reset(fx.cell64) }),
    },
    Case {
        id: "M48",
        misuse: "`batched_reset` past `usize`",
        call: "ngc_cell_batched_reset(cell, SIZE_MAX)",
        gives: Gives::Status(NGC_ERR_SIZE_OVERFLOW),
        message: Some("batch_size x n_units overflows"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_batched_reset(fx.cell, MAX) }),
    },
    Case {
        id: "M49",
        misuse: "`batched_reset` to a huge allocation",
        call: "ngc_cell_batched_reset(plain, (size_t)1 << 58)",
        gives: Gives::Status(NGC_ERR_ALLOCATION),
        message: Some("could not allocate"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_batched_reset(fx.plain, 1 << 58) }),
    },
    // ---- the rest -----------------------------------------------------------------
    Case {
        id: "M50",
        misuse: "zero threads",
        call: "ngc_cell_set_threads(cell, 0)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("threads must be at least 1"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_set_threads(fx.cell, 0) }),
    },
    Case {
        id: "M51",
        misuse: "compartment index past the last",
        call: "ngc_cell_compartment_name(cell, 7, &name)",
        gives: Gives::Status(NGC_ERR_INDEX_OUT_OF_RANGE),
        message: Some("index 7 is past the last compartment (7 in all)"),
        changes: None,
        prepare: None,
        run: |fx| {
            let mut name: *const c_char = ptr::null();
            let st = unsafe { ngc_cell_compartment_name(fx.cell, 7, &mut name) };
            assert!(name.is_null(), "no output on failure");
            Some(st)
        },
    },
    Case {
        id: "M52",
        misuse: "dims array too short",
        call: "ngc_cell_compartment_dims(cell, \"p\", dims, 1, &ndim)",
        gives: Gives::Status(NGC_ERR_BUFFER_TOO_SMALL),
        message: Some("compartment 'p' has 2 dims but dims_cap is 1"),
        changes: None,
        prepare: None,
        run: |fx| {
            let mut dims = [77usize; 1];
            let mut ndim = 0usize;
            let st = unsafe { ngc_cell_compartment_dims(fx.cell, c"p".as_ptr(), dims.as_mut_ptr(), 1, &mut ndim) };
            assert_eq!((dims, ndim), ([77], 0), "nothing written on failure");
            Some(st)
        },
    },
    Case {
        id: "M53",
        misuse: "NULL dims with dims_cap > 0",
        call: "ngc_cell_compartment_dims(cell, \"p\", NULL, 4, &ndim)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("dims is NULL"),
        changes: None,
        prepare: None,
        run: |fx| {
            let mut ndim = 0usize;
            Some(unsafe { ngc_cell_compartment_dims(fx.cell, c"p".as_ptr(), ptr::null_mut(), 4, &mut ndim) })
        },
    },
    Case {
        id: "M54",
        misuse: "text buffer too small",
        call: "ngc_cell_name(cell, buf, 2, &len)",
        gives: Gives::Status(NGC_ERR_BUFFER_TOO_SMALL),
        message: Some("the text is 2 bytes (plus the NUL) but buf_len is 2; nothing was written"),
        changes: None,
        prepare: None,
        run: |fx| {
            let mut buf = [b'#' as c_char; 4];
            let mut len = 0usize;
            let st = unsafe { ngc_cell_name(fx.cell, buf.as_mut_ptr(), 2, &mut len) };
            assert_eq!(len, 0, "nothing written on failure");
            assert_eq!(buf.map(|b| b as u8), *b"####", "nothing written on failure");
            Some(st)
        },
    },
    Case {
        id: "M55",
        misuse: "NULL text buffer with buf_len > 0",
        call: "ngc_cell_metadata_json(cell, NULL, 16, &len)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("buf is NULL"),
        changes: None,
        prepare: None,
        run: |fx| {
            let mut len = 0usize;
            Some(unsafe { ngc_cell_metadata_json(fx.cell, ptr::null_mut(), 16, &mut len) })
        },
    },
    Case {
        id: "M56",
        misuse: "NULL message buffer with buf_len > 0",
        call: "ngc_last_error_message(NULL, 64)",
        gives: Gives::Value("the message's length; nothing written"),
        message: None,
        changes: None,
        prepare: None,
        run: |_| {
            let want = last_error().len();
            assert_eq!(unsafe { ngc_last_error_message(ptr::null_mut(), 64) }, want);
            None
        },
    },
    Case {
        id: "M57",
        misuse: "a number that is not a status",
        call: "ngc_status_str(12345)",
        gives: Gives::Value("`\"NGC_UNKNOWN_STATUS\"`"),
        message: None,
        changes: None,
        prepare: None,
        run: |_| {
            let name = unsafe { CStr::from_ptr(ngc_status_str(12345)) };
            assert_eq!(name, c"NGC_UNKNOWN_STATUS");
            None
        },
    },
    Case {
        id: "M58",
        misuse: "NaN and infinite inputs",
        call: "ngc_cell_advance(plain, 0, 1) with p = {NaN, inf, -inf}, target = {1, 1, inf}, mask = {1, 1, inf}",
        gives: Gives::Status(NGC_OK),
        message: None,
        changes: Some("outputs as in ngc-learn: dp = {NaN, 0, NaN}, dtarget = {NaN, 9.21, -inf}, L = NaN, mask = {1, 1, NaN}"),
        prepare: None,
        run: nan_and_inf_inputs,
    },
    Case {
        id: "M59",
        misuse: "adjacent buffers (one ends where the next begins) are not an overlap",
        call: "ngc_cell_bind_f32(plain, \"dtarget\", adj + 3, 3) between \"target\" at adj and \"mask\" at adj + 6",
        gives: Gives::Status(NGC_OK),
        message: None,
        changes: Some("`dtarget` bound; its neighbours stay bound, no byte of `adj` written"),
        prepare: Some(bind_neighbours),
        run: |fx| {
            let before = fx.adj.to_vec();
            let st = unsafe { ngc_cell_bind_f32(fx.plain, c"dtarget".as_ptr(), fx.adj.ptr.add(3), 3) };
            if st != NGC_OK {
                return Some(st);
            }
            let bound = |name: &CStr| {
                let mut b = false;
                ok!(unsafe { ngc_cell_is_bound(fx.plain, name.as_ptr(), &mut b) });
                b
            };
            assert!(bound(c"target") && bound(c"dtarget") && bound(c"mask"));
            assert_eq!(fx.adj.to_vec(), before, "binding writes nothing");
            Some(st)
        },
    },
    Case {
        id: "M60",
        misuse: "one element of overlap with the next buffer",
        call: "ngc_cell_bind_f32(plain, \"dtarget\", adj + 4, 3) with \"mask\" bound at adj + 6",
        gives: Gives::Status(NGC_ERR_OVERLAP),
        message: Some("overlaps the buffer bound to 'mask'"),
        changes: None,
        prepare: Some(bind_neighbours),
        run: |fx| Some(unsafe { ngc_cell_bind_f32(fx.plain, c"dtarget".as_ptr(), fx.adj.ptr.add(4), 3) }),
    },
    Case {
        id: "M61",
        misuse: "one element of overlap with the previous buffer",
        call: "ngc_cell_bind_f32(plain, \"dtarget\", adj + 2, 3) with \"target\" bound at adj",
        gives: Gives::Status(NGC_ERR_OVERLAP),
        message: Some("overlaps the buffer bound to 'target'"),
        changes: None,
        prepare: Some(bind_neighbours),
        run: |fx| Some(unsafe { ngc_cell_bind_f32(fx.plain, c"dtarget".as_ptr(), fx.adj.ptr.add(2), 3) }),
    },
    Case {
        id: "M62",
        misuse: "`fork()` after 2 threads advanced a 200,000-element cell",
        call: "ngc_cell_advance(big, 0, 1) in the child",
        gives: Gives::Status(NGC_OK),
        message: None,
        changes: Some("in the child only: outputs bit-identical to a one-thread advance (a separate process forks, so the fixture is untouched)"),
        prepare: None,
        run: fork_row,
    },
    // ---- shapes, evolve, the size queries ------------------------------------------
    Case {
        id: "M63",
        misuse: "`ngc_cell_set_shaped` on a compartment whose shape is fixed",
        call: "ngc_cell_set_shaped(cell, \"p\", src, (size_t[]){4}, 1)",
        gives: Gives::Status(NGC_ERR_SHAPE_MISMATCH),
        message: Some("compartment 'p': its shape is fixed at [1, 4] by the cell; dims [4] were given"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_set_shaped(fx.cell, c"p".as_ptr(), fx.s32.ptr.cast(), [4usize].as_ptr(), 1) }),
    },
    Case {
        id: "M64",
        misuse: "`ngc_cell_set_shaped` with rank > 4",
        call: "ngc_cell_set_shaped(cell, \"p\", src, (size_t[]){1, 1, 1, 1, 4}, 5)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("rank is 5, at most 4 dims are supported"),
        changes: None,
        prepare: None,
        run: |fx| {
            let dims = [1usize, 1, 1, 1, 4];
            Some(unsafe { ngc_cell_set_shaped(fx.cell, c"p".as_ptr(), fx.s32.ptr.cast(), dims.as_ptr(), 5) })
        },
    },
    Case {
        id: "M65",
        misuse: "`ngc_cell_set_shaped` with a zero dim",
        call: "ngc_cell_set_shaped(cell, \"p\", src, (size_t[]){1, 0}, 2)",
        gives: Gives::Status(NGC_ERR_ZERO_SIZE),
        message: Some("a dim must be at least 1, got 0"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_set_shaped(fx.cell, c"p".as_ptr(), fx.s32.ptr.cast(), [1usize, 0].as_ptr(), 2) }),
    },
    Case {
        id: "M66",
        misuse: "`ngc_cell_set_shaped` with NULL dims and rank > 0",
        call: "ngc_cell_set_shaped(cell, \"p\", src, NULL, 2)",
        gives: Gives::Status(NGC_ERR_NULL_POINTER),
        message: Some("dims is NULL"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_set_shaped(fx.cell, c"p".as_ptr(), fx.s32.ptr.cast(), ptr::null(), 2) }),
    },
    Case {
        id: "M67",
        misuse: "`ngc_cell_evolve` on a cell without an evolve step",
        call: "ngc_cell_evolve(cell, 0, 1)",
        gives: Gives::Status(NGC_OK),
        message: None,
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_evolve(fx.cell, 0.0, 1.0) }),
    },
    Case {
        id: "M68",
        misuse: "the dims size query (`dims` NULL, `dims_cap` 0)",
        call: "ngc_cell_compartment_dims(cell, \"p\", NULL, 0, &ndim)",
        gives: Gives::Status(NGC_OK),
        message: None,
        changes: None,
        prepare: None,
        run: |fx| {
            let mut ndim = 77usize;
            let st = unsafe { ngc_cell_compartment_dims(fx.cell, c"p".as_ptr(), ptr::null_mut(), 0, &mut ndim) };
            assert_eq!(ndim, 2, "only *out_ndim is written");
            Some(st)
        },
    },
    Case {
        id: "M69",
        misuse: "the text size query (`buf` NULL, `buf_len` 0)",
        call: "ngc_cell_name(cell, NULL, 0, &len)",
        gives: Gives::Status(NGC_OK),
        message: None,
        changes: None,
        prepare: None,
        run: |fx| {
            let mut len = 77usize;
            let st = unsafe { ngc_cell_name(fx.cell, ptr::null_mut(), 0, &mut len) };
            assert_eq!(len, 2, "only *out_len is written: the length of \"fx\"");
            let mut json_len = 0usize;
            ok!(unsafe { ngc_cell_metadata_json(fx.cell, ptr::null_mut(), 0, &mut json_len) });
            let mut json = vec![b'#' as c_char; json_len + 1];
            ok!(unsafe { ngc_cell_metadata_json(fx.cell, json.as_mut_ptr(), json_len + 1, ptr::null_mut()) });
            assert_eq!(json[json_len], 0, "the size query gave the length the text has");
            assert_ne!(json[json_len - 1], 0);
            Some(st)
        },
    },
    Case {
        id: "M70",
        misuse: "`json` buffer one byte short (no room for the NUL)",
        call: "ngc_cell_metadata_json(cell, buf, len, &n) with len the text's length",
        gives: Gives::Status(NGC_ERR_BUFFER_TOO_SMALL),
        message: Some("nothing was written"),
        changes: None,
        prepare: None,
        run: |fx| {
            let mut len = 0usize;
            ok!(unsafe { ngc_cell_metadata_json(fx.cell, ptr::null_mut(), 0, &mut len) });
            let mut buf = vec![b'#' as c_char; len + 1];
            let mut n = 77usize;
            let st = unsafe { ngc_cell_metadata_json(fx.cell, buf.as_mut_ptr(), len, &mut n) };
            assert_eq!(n, 77, "*out_len is not written on failure");
            assert!(buf.iter().all(|&b| b == b'#' as c_char), "buf is not written on failure");
            Some(st)
        },
    },
    // ---- what messages and queries say ---------------------------------------------
    Case {
        id: "M71",
        misuse: "more threads than any cell uses",
        call: "ngc_cell_set_threads(cell, SIZE_MAX)",
        gives: Gives::Status(NGC_OK),
        message: None,
        changes: Some("`ngc_cell_threads` reports 64, the most a cell uses"),
        prepare: None,
        run: |fx| {
            let st = unsafe { ngc_cell_set_threads(fx.cell, MAX) };
            let mut t = 0usize;
            ok!(unsafe { ngc_cell_threads(fx.cell, &mut t) });
            assert_eq!(t, 64);
            Some(st)
        },
    },
    Case {
        id: "M72",
        misuse: "a 1 MB cell name in a message",
        call: "ngc_cell_set_f32(named, \"nu\", src, 4) on a cell named 1,000,000 'x'",
        gives: Gives::Status(NGC_ERR_UNKNOWN_COMPARTMENT),
        message: Some("xxx...' (BernoulliErrorCell) has no compartment named 'nu'; it has: p, target"),
        changes: None,
        prepare: None,
        run: |fx| {
            let name = "x".repeat(1_000_000);
            let st = with_named(&name, |c| unsafe { ngc_cell_set_f32(c, c"nu".as_ptr(), fx.s32.ptr, 4) });
            let msg = last_error();
            assert!(
                msg.contains(&format!("cell '{}...'", "x".repeat(64))),
                "the name is cut to 64 characters and \"...\": {}",
                &msg[..msg.len().min(200)]
            );
            assert!(msg.len() < 300, "{} bytes", msg.len());
            Some(st)
        },
    },
    Case {
        id: "M73",
        misuse: "a message cut in the middle of a UTF-8 character",
        call: "ngc_cell_set_f32(named, \"nu\", src, 4) on a cell named \"éé…\", then ngc_last_error_message(buf, 28)",
        gives: Gives::Status(NGC_ERR_UNKNOWN_COMPARTMENT),
        message: Some("cell 'éééé"),
        changes: Some("`buf` holds the message up to the last whole character that fits (26 of the 27 bytes that fit, then the NUL); the call returns the full length"),
        prepare: None,
        run: |fx| {
            let st = with_named(&"é".repeat(40), |c| unsafe { ngc_cell_set_f32(c, c"nu".as_ptr(), fx.s32.ptr, 4) });
            let full = last_error();
            // "ngc_cell_set_f32: cell '" is 24 bytes and each 'é' 2 (0xC3 0xA9): 27
            // bytes end in the middle of the second.
            assert!(full.starts_with("ngc_cell_set_f32: cell 'éé"));
            let mut buf = [b'#' as c_char; 32];
            let n = unsafe { ngc_last_error_message(buf.as_mut_ptr(), 28) };
            assert_eq!(n, full.len(), "the full length");
            let text: Vec<u8> = buf.iter().map(|&b| b as u8).collect();
            let end = text.iter().position(|&b| b == 0).expect("NUL-terminated");
            assert!(end <= 27, "the text fits buf_len with its NUL");
            assert!(std::str::from_utf8(&text[..end]).is_ok(), "cut at a character: {:?}", &text[..end]);
            assert_eq!(&text[..end], &full.as_bytes()[..end], "a prefix of the message");
            assert_eq!(end, 26, "every whole character that fits, no lone lead byte");
            assert!(text[end + 1..].iter().all(|&b| b == b'#'), "nothing past the NUL");
            Some(st)
        },
    },
    // ---- parameter shapes and the other cell types ----------------------------------
    Case {
        id: "M74",
        misuse: "`ngc_cell_set_shaped` with dims that do not broadcast against the state",
        call: "ngc_cell_set_shaped(gx, \"Sigma\", src, (size_t[]){3}, 1)",
        gives: Gives::Status(NGC_ERR_SHAPE_MISMATCH),
        message: Some("compartment 'Sigma': dims [3] do not broadcast against the state shape [2, 4]"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_set_shaped(fx.gauss, c"Sigma".as_ptr(), fx.s32.ptr.cast(), [3usize].as_ptr(), 1) }),
    },
    Case {
        id: "M75",
        misuse: "`ngc_cell_set_shaped` to a shape a bound buffer cannot hold",
        call: "ngc_cell_set_shaped(gx, \"Sigma\", src, (size_t[]){2, 4}, 2) with \"dSigma\" bound to 4 floats",
        gives: Gives::Status(NGC_ERR_CAPACITY_TOO_SMALL),
        message: Some("dims [2, 4] give compartment 'dSigma' 8 elements, but its bound buffer holds 4; nothing was changed"),
        changes: None,
        prepare: None,
        run: |fx| Some(unsafe { ngc_cell_set_shaped(fx.gauss, c"Sigma".as_ptr(), fx.s32.ptr.cast(), [2usize, 4].as_ptr(), 2) }),
    },
    Case {
        id: "M76",
        misuse: "`ngc_cell_loss` on a cell whose `L` is not one value",
        call: "ngc_cell_loss(gx, &loss) with Sigma of shape (1, 4)",
        gives: Gives::Status(NGC_ERR_NOT_SUPPORTED),
        message: Some("GaussianErrorCell 'gx' has an L of 4 elements (shape [4]), not one value; read it with ngc_cell_get"),
        changes: None,
        prepare: None,
        run: |fx| {
            let mut l = 7.0f64;
            let st = unsafe { ngc_cell_loss(fx.gauss, &mut l) };
            assert_eq!(l, 7.0, "no output on failure");
            Some(st)
        },
    },
    Case {
        id: "M77",
        misuse: "`batched_reset` to a batch the kept parameter does not fit",
        call: "ngc_cell_batched_reset(gx, 3) with Sigma of shape (2, 1)",
        gives: Gives::Status(NGC_ERR_SHAPE_MISMATCH),
        message: Some("compartment 'Sigma': dims [2, 1] do not broadcast against the state shape [3, 4]"),
        changes: None,
        prepare: Some(|fx| {
            ok!(unsafe {
                ngc_cell_set_shaped(fx.gauss, c"Sigma".as_ptr(), [1.0f32, 2.0].as_ptr().cast(), [2usize, 1].as_ptr(), 2)
            });
        }),
        run: |fx| Some(unsafe { ngc_cell_batched_reset(fx.gauss, 3) }),
    },
    Case {
        id: "M78",
        misuse: "`ngc_cell_loss` on a cell without `L`",
        call: "ngc_cell_loss(reward_cell, &loss)",
        gives: Gives::Status(NGC_ERR_NOT_SUPPORTED),
        message: Some("RewardErrorCell"),
        changes: None,
        prepare: None,
        run: |_| {
            let mut c = ptr::null_mut();
            ok!(unsafe { ngc_reward_error_cell_new(c"r".as_ptr(), 2, 1, 0.1, 10, true, NGC_DTYPE_F32, &mut c) });
            let mut l = 7.0f64;
            let st = unsafe { ngc_cell_loss(c, &mut l) };
            assert_eq!(l, 7.0, "no output on failure");
            unsafe { ngc_cell_free(c) };
            Some(st)
        },
    },
    Case {
        id: "M79",
        misuse: "a zero moving-average window",
        call: "ngc_reward_error_cell_new(\"r\", 2, 1, 0.1, 0, true, NGC_DTYPE_F32, &c)",
        gives: Gives::Status(NGC_ERR_ZERO_SIZE),
        message: Some("ema_window_len must be at least 1, got 0"),
        changes: None,
        prepare: None,
        run: |_| {
            let mut c = ptr::null_mut();
            let st = unsafe { ngc_reward_error_cell_new(c"r".as_ptr(), 2, 1, 0.1, 0, true, NGC_DTYPE_F32, &mut c) };
            assert!(c.is_null(), "a failed constructor wrote its output");
            Some(st)
        },
    },
    // ---- RateCell's constructor ------------------------------------------------------
    Case {
        id: "M80",
        misuse: "an unknown prior",
        call: "ngc_rate_cell_new(\"r\", 4, 1, 10, \"student\", ...)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("prior \"student\" is not one of: \"gaussian\", \"laplacian\", \"cauchy\", \"exp\""),
        changes: None,
        prepare: None,
        run: |_| Some(rate_new(4, 10.0, Some(c"student"), Some(c"tanh"), None, None)),
    },
    Case {
        id: "M81",
        misuse: "an unknown activation (ngc-learn runs heaviside for any name containing it)",
        call: "ngc_rate_cell_new(\"r\", 4, 1, 10, NULL, 0, \"my_heaviside\", ...)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("(ngc-learn runs heaviside for any name containing \"heaviside\"; write \"heaviside\")"),
        changes: None,
        prepare: None,
        run: |_| Some(rate_new(4, 10.0, None, Some(c"my_heaviside"), None, None)),
    },
    Case {
        id: "M82",
        misuse: "`\"cauchy_threshold\"` (raises in ngc-learn 3.2.3)",
        call: "ngc_rate_cell_new(\"r\", 4, 1, 10, NULL, 0, NULL, 1, \"cauchy_threshold\", ...)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("threshold \"cauchy_threshold\" is not offered"),
        changes: None,
        prepare: None,
        run: |_| Some(rate_new(4, 10.0, None, None, Some(c"cauchy_threshold"), None)),
    },
    Case {
        id: "M83",
        misuse: "an unknown integration method",
        call: "ngc_rate_cell_new(\"r\", 4, 1, 10, NULL, 0, NULL, 1, NULL, 0, \"rk3\", ...)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("integration \"rk3\" is not one of: \"euler\""),
        changes: None,
        prepare: None,
        run: |_| Some(rate_new(4, 10.0, None, None, None, Some(c"rk3"))),
    },
    Case {
        id: "M84",
        misuse: "a stateful softmax (broken in ngc-learn 3.2.3)",
        call: "ngc_rate_cell_new(\"r\", 4, 1, 10, NULL, 0, \"softmax\", ...)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("act_fx \"softmax\" is accepted on a stateless cell only"),
        changes: None,
        prepare: None,
        run: |_| Some(rate_new(4, 10.0, None, Some(c"softmax"), None, None)),
    },
    Case {
        id: "M85",
        misuse: "bkwta on fewer than 5 units",
        call: "ngc_rate_cell_new(\"r\", 4, 1, 10, NULL, 0, \"bkwta\", ...)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("act_fx \"bkwta\" needs a 2-D state (batch, n_units) with n_units >= 5"),
        changes: None,
        prepare: None,
        run: |_| Some(rate_new(4, 10.0, None, Some(c"bkwta"), None, None)),
    },
    Case {
        id: "M86",
        misuse: "a name argument not UTF-8",
        call: "ngc_rate_cell_new(\"r\", 4, 1, 10, NULL, 0, \"\\xff\", ...)",
        gives: Gives::Status(NGC_ERR_INVALID_ARGUMENT),
        message: Some("act_fx is not valid UTF-8"),
        changes: None,
        prepare: None,
        run: |_| Some(rate_new(4, 10.0, None, Some(c"\xff"), None, None)),
    },
];

/// `ngc_rate_cell_new` with these names (NULL for `None`), the rest valid: a
/// failure must not write its output.
fn rate_new(
    n: usize,
    tau_m: f64,
    prior: Option<&CStr>,
    act_fx: Option<&CStr>,
    threshold: Option<&CStr>,
    integration: Option<&CStr>,
) -> NgcStatus {
    let p = |c: Option<&CStr>| c.map_or(ptr::null(), |c| c.as_ptr());
    let mut out: *mut NgcCell = ptr::null_mut();
    // SAFETY: NUL-terminated or NULL strings, a valid out pointer.
    let st = unsafe {
        ngc_rate_cell_new(
            c"r".as_ptr(),
            n,
            1,
            tau_m,
            p(prior),
            0.0,
            p(act_fx),
            1.0,
            p(threshold),
            0.0,
            p(integration),
            1.0,
            true,
            ptr::null(),
            NGC_DTYPE_F32,
            &mut out,
        )
    };
    if st == NGC_OK {
        // SAFETY: a handle just made.
        unsafe { ngc_cell_free(out) };
    }
    assert!(
        st == NGC_OK || out.is_null(),
        "a failed constructor wrote its output"
    );
    st
}

/// Runs `f` on a new float32 cell (4 units) of that name, then frees it.
fn with_named(name: &str, f: impl FnOnce(*mut NgcCell) -> NgcStatus) -> NgcStatus {
    let c = new_cell(name, 4, 1, false, NGC_DTYPE_F32);
    let st = f(c);
    // SAFETY: a handle just made.
    unsafe { ngc_cell_free(c) };
    st
}

/// Rows M59-M61: `target` bound to `adj[0..3]` and `mask` to `adj[6..9]` of `plain`
/// (3 elements each).
fn bind_neighbours(fx: &Fx) {
    // SAFETY: live handle; `adj` outlives the fixture's cells and holds 12 floats.
    unsafe {
        ok!(ngc_cell_bind_f32(
            fx.plain,
            c"target".as_ptr(),
            fx.adj.ptr,
            3
        ));
        ok!(ngc_cell_bind_f32(
            fx.plain,
            c"mask".as_ptr(),
            fx.adj.ptr.add(6),
            3
        ));
    }
}

/// Row M62: runs `fork_probe` in a fresh process of this test binary (one test
/// thread, not under valgrind even when this process is), which forks after a
/// two-thread advance; returns the status of the child's advance.
fn fork_row(_: &Fx) -> Option<NgcStatus> {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fork_probe", "--test-threads=1", "--nocapture"])
        .env("NGC_FORK_PROBE", "1")
        .env_remove("NGC_UNDER_VALGRIND")
        .output()
        .expect("the test binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "the fork probe failed:\n{text}"
    );
    let st = text
        .lines()
        .find_map(|l| l.split("fork probe: the child's advance returned ").nth(1))
        .unwrap_or_else(|| panic!("the fork probe said nothing:\n{text}"));
    Some(st.split_whitespace().next().unwrap().parse().unwrap())
}

/// The process side of row M62 (does nothing unless `NGC_FORK_PROBE` is set).
#[test]
fn fork_probe() {
    if std::env::var_os("NGC_FORK_PROBE").is_none() {
        return;
    }
    const N: usize = 200_000;
    let new = |threads: usize| {
        let c = new_cell("big", N, 1, false, NGC_DTYPE_F32);
        let p: Vec<f32> = (0..N)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect();
        let x: Vec<f32> = (0..N).map(|i| (i % 2) as f32).collect();
        // SAFETY: live handle; the sources hold N floats.
        unsafe {
            ok!(ngc_cell_set_threads(c, threads));
            ok!(ngc_cell_set_f32(c, c"p".as_ptr(), p.as_ptr(), N));
            ok!(ngc_cell_set_f32(c, c"target".as_ptr(), x.as_ptr(), N));
            // The first advance starts the helper threads.
            ok!(ngc_cell_advance(c, 0.0, 1.0));
            ok!(ngc_cell_set_f32(
                c,
                c"p".as_ptr(),
                p.iter().rev().copied().collect::<Vec<_>>().as_ptr(),
                N
            ));
        }
        c
    };
    let big = new(2);
    let one = new(1);
    let mut want = vec![0f32; N];
    // SAFETY: live handle; `want` holds N floats.
    unsafe {
        ok!(ngc_cell_advance(one, 1.0, 1.0));
        ok!(ngc_cell_get_f32(one, c"dp".as_ptr(), want.as_mut_ptr(), N));
    }
    let mut got = vec![0f32; N];
    // SAFETY: fork in a process whose other threads (the harness's, the pool's)
    // the child does not need: it only calls the library, compares two buffers
    // allocated before the fork and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: the child: a hang ends with SIGALRM; nothing here allocates.
        unsafe {
            libc::alarm(20);
            let st = ngc_cell_advance(big, 1.0, 1.0);
            if st != NGC_OK {
                libc::_exit(st);
            }
            if ngc_cell_get_f32(big, c"dp".as_ptr(), got.as_mut_ptr(), N) != NGC_OK {
                libc::_exit(201);
            }
            let same = got
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            libc::_exit(if same { 0 } else { 200 });
        }
    }
    let mut wstatus = 0;
    // SAFETY: our child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut wstatus, 0) }, pid);
    assert!(
        libc::WIFEXITED(wstatus),
        "the child did not exit (signal {}: hung in advance, killed by its alarm?)",
        libc::WTERMSIG(wstatus)
    );
    match libc::WEXITSTATUS(wstatus) {
        200 => panic!("the child's advance differs from a one-thread advance"),
        201 => panic!("the child could not read dp"),
        st => println!(
            "fork probe: the child's advance returned {st} and matched one thread bit for bit"
        ),
    }
    // SAFETY: live handles.
    unsafe {
        ngc_cell_free(big);
        ngc_cell_free(one);
    }
}

/// Row M58: NaN and infinities go through the float32 formula as in ngc-learn (JAX
/// computes the same IEEE operations), no crash, and the cell is usable afterwards.
fn nan_and_inf_inputs(fx: &Fx) -> Option<NgcStatus> {
    let (inf, nan) = (f32::INFINITY, f32::NAN);
    let get = |name: &CStr, n: usize| {
        let mut v = vec![0f32; n];
        ok!(unsafe { ngc_cell_get_f32(fx.plain, name.as_ptr(), v.as_mut_ptr(), n) });
        v
    };
    unsafe {
        ok!(ngc_cell_set_f32(
            fx.plain,
            c"p".as_ptr(),
            [nan, inf, -inf].as_ptr(),
            3
        ));
        ok!(ngc_cell_set_f32(
            fx.plain,
            c"target".as_ptr(),
            [1.0, 1.0, inf].as_ptr(),
            3
        ));
        ok!(ngc_cell_set_f32(
            fx.plain,
            c"mask".as_ptr(),
            [1.0, 1.0, inf].as_ptr(),
            3
        ));
    }
    let st = unsafe { ngc_cell_advance(fx.plain, 0.0, 1.0) };
    if st != NGC_OK {
        return Some(st);
    }
    let (lo, hi) = (1.0e-4f32, 0.9999f32);
    let dp = get(c"dp", 3);
    // NaN p: NaN everywhere. p = inf: q clips to 0.9999, sigmoid'(inf) = 0, dp = 0.
    // p = -inf, target inf: (inf/q - (1-inf)/(1-q)) * 0 = inf * 0 = NaN.
    assert!(dp[0].is_nan() && dp[1] == 0.0 && dp[2].is_nan(), "{dp:?}");
    let dt = get(c"dtarget", 3);
    assert!(dt[0].is_nan(), "{dt:?}");
    assert_eq!(dt[1], hi.ln() - (1.0 - hi).ln());
    assert_eq!(dt[2], (lo.ln() - (1.0 - lo).ln()) * 1.0 * inf);
    assert_eq!(dt[2], -inf);
    let mask = get(c"mask", 3);
    assert!(
        mask[0] == 1.0 && mask[1] == 1.0 && mask[2].is_nan(),
        "inf * 0 + 1 is NaN: {mask:?}"
    );
    assert!(get(c"L", 1)[0].is_nan());
    // Still usable: finite inputs give finite outputs again.
    unsafe {
        ok!(ngc_cell_set_f32(
            fx.plain,
            c"p".as_ptr(),
            [0.5; 3].as_ptr(),
            3
        ));
        ok!(ngc_cell_set_f32(
            fx.plain,
            c"target".as_ptr(),
            [1.0; 3].as_ptr(),
            3
        ));
        ok!(ngc_cell_set_f32(
            fx.plain,
            c"mask".as_ptr(),
            [1.0; 3].as_ptr(),
            3
        ));
        ok!(ngc_cell_advance(fx.plain, 1.0, 1.0));
    }
    assert_eq!(get(c"L", 1)[0], 3.0 * 0.5f32.ln());
    Some(st)
}

fn function_of(call: &str) -> &str {
    call.split('(').next().unwrap().trim()
}

fn run_case(case: &Case) {
    let fx = Fx::new();
    if let Some(prepare) = case.prepare {
        prepare(&fx);
    }
    let sentinel = set_sentinel_message(&fx);
    let before = fx.snapshot();
    let got = (case.run)(&fx);
    let msg = last_error();
    let id = case.id;
    match (case.gives, got) {
        (Gives::Status(want), Some(got)) => assert_eq!(
            got,
            want,
            "{id}: {} gave {} ({msg})",
            case.call,
            // SAFETY: static string.
            unsafe { CStr::from_ptr(ngc_status_str(got)) }.to_string_lossy()
        ),
        (Gives::Void | Gives::Value(_), None) => {}
        _ => panic!("{id}: the row's `gives` does not fit what its run returns"),
    }
    match case.message {
        Some(fragment) => {
            let prefix = format!("{}: ", function_of(case.call));
            assert!(
                msg.starts_with(&prefix) && msg.contains(fragment),
                "{id}: message {msg:?} should start with {prefix:?} and contain {fragment:?}"
            );
        }
        None => assert_eq!(
            msg, sentinel,
            "{id}: the call changed the last-error message"
        ),
    }
    if case.changes.is_none() {
        let after = fx.snapshot();
        for ((what, b), (_, a)) in before.iter().zip(&after) {
            assert_eq!(b, a, "{id}: {what} changed");
        }
    }
}

#[test]
fn every_row() {
    let mut ids = std::collections::HashSet::new();
    for case in CASES {
        assert!(ids.insert(case.id), "{} twice", case.id);
        run_case(case);
    }
    assert!(CASES.len() >= 25);
    eprintln!("misuse table: {} rows passed", CASES.len());
}

/// The documented rows for `CASES`, as they must appear.
fn table_rows() -> Vec<String> {
    CASES
        .iter()
        .map(|c| {
            let gives = match c.gives {
                // SAFETY: static string.
                Gives::Status(st) => format!(
                    "`{}`",
                    unsafe { CStr::from_ptr(ngc_status_str(st)) }
                        .to_str()
                        .unwrap()
                ),
                Gives::Void => "none (`void`)".to_string(),
                Gives::Value(v) => v.to_string(),
            };
            let message = match c.message {
                Some(m) => format!("`{}: …{m}…`", function_of(c.call)),
                None => "(unchanged)".to_string(),
            };
            let after = c.changes.unwrap_or("unchanged");
            format!(
                "| {} | {} | `{}` | {gives} | {message} | {after} |",
                c.id, c.misuse, c.call
            )
        })
        .collect()
}

#[test]
fn readme_table_matches_the_cases() {
    let readme = std::fs::read_to_string(common::root().join("docs/hardening.md")).unwrap();
    let section = readme
        .split("## Misuse never crashes the host")
        .nth(1)
        .expect("docs/hardening.md has the misuse section")
        .split("\n## ")
        .next()
        .unwrap();
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| M")).collect();
    let want = table_rows();
    assert!(
        rows == want,
        "docs/hardening.md's misuse table differs from tests/misuse.rs; the rows should be:\n\n{}\n",
        want.join("\n")
    );
    assert!(
        section.contains(&format!("{} rows", CASES.len())),
        "docs/hardening.md should say how many rows the table has ({})",
        CASES.len()
    );
}

#[test]
fn misuse_table_runs_clean_under_valgrind() {
    common::run_self_under_valgrind("every_row");
}

#[test]
fn generic_misuses_run_clean_under_valgrind() {
    common::run_self_under_valgrind("every_cell_type_refuses_misuse_and_changes_nothing");
}

// ---- the same properties for every cell type --------------------------------------

/// One cell of a family row with non-rest values and a bound output, and spare
/// buffers: the fixture of the generic misuses.
struct Gx {
    cell: family::Cell,
    /// The output compartment bound to `bound` (exactly its length: a larger batch
    /// does not fit), and its length.
    bound_name: &'static str,
    bound_len: usize,
    /// Its buffer, two guard elements past the capacity (as 8-byte slots, whatever the dtype).
    bound: RawBuf<u64>,
    s32: RawBuf<f32>,
    s64: RawBuf<f64>,
    not_a_cell: RawBuf<u64>,
}

impl Gx {
    fn new(row: &'static family::Row, dtype: NgcDtype) -> Gx {
        let cell = row.cell(3, 2, dtype);
        cell.set_random_inputs(1);
        cell.advance(0.0, 1.0);
        cell.set_random_inputs(2);
        let state = cell.len(row.compartments[0]);
        let bound_name = *row
            .outputs
            .iter()
            .rev()
            .find(|o| cell.len(o) == state)
            .expect("an output of the state's shape");
        let bound = RawBuf::new(&[0x5A5A_5A5A_5A5A_5A5Au64; 64]);
        let name = s(bound_name);
        // SAFETY: live handle; the buffer holds `state` elements of either dtype and
        // outlives the cell (Gx drops the cell first: field order).
        ok!(unsafe { ngc_cell_bind(cell.ptr, name.as_ptr(), bound.ptr.cast(), state) });
        cell.advance(1.0, 1.0);
        cell.set_random_inputs(3);
        Gx {
            cell,
            bound_name,
            bound_len: state,
            bound,
            s32: RawBuf::new(&[5.0; 64]),
            s64: RawBuf::new(&[5.0; 64]),
            not_a_cell: RawBuf::new(&[0u64; 64]),
        }
    }

    fn f64(&self) -> bool {
        self.cell.dtype == NGC_DTYPE_F64
    }

    /// Scratch data of the cell's dtype.
    fn scratch(&self) -> *mut c_void {
        if self.f64() {
            self.s64.ptr.cast()
        } else {
            self.s32.ptr.cast()
        }
    }

    /// Everything observable: every compartment's values, dims and binding, batch
    /// size, threads, and every buffer.
    fn snapshot(&self) -> Vec<Vec<u64>> {
        let c = &self.cell;
        let mut out = c.snapshot();
        for name in c.row.compartments {
            let n = s(name);
            let (mut dims, mut ndim, mut bound) = ([0usize; 8], 0usize, false);
            // SAFETY: live handle, valid outputs, dims holds 8.
            unsafe {
                ok!(ngc_cell_compartment_dims(
                    c.ptr,
                    n.as_ptr(),
                    dims.as_mut_ptr(),
                    8,
                    &mut ndim
                ));
                ok!(ngc_cell_is_bound(c.ptr, n.as_ptr(), &mut bound));
            }
            let mut v: Vec<u64> = dims[..ndim].iter().map(|&d| d as u64).collect();
            v.push(u64::from(bound));
            out.push(v);
        }
        let (mut b, mut t) = (0usize, 0usize);
        // SAFETY: live handle, valid outputs.
        unsafe {
            ok!(ngc_cell_batch_size(c.ptr, &mut b));
            ok!(ngc_cell_threads(c.ptr, &mut t));
        }
        out.push(vec![b as u64, t as u64]);
        out.push(self.bound.to_vec());
        out.push(
            self.s32
                .to_vec()
                .iter()
                .map(|v| u64::from(v.to_bits()))
                .collect(),
        );
        out.push(self.s64.to_vec().iter().map(|v| v.to_bits()).collect());
        out.push(self.not_a_cell.to_vec());
        out
    }
}

/// A generic misuse: a call on the fixture, the status, and a fragment of the
/// message (which must also start with `func`).
struct Generic {
    what: String,
    func: String,
    want: NgcStatus,
    fragment: String,
    run: Box<dyn Fn(&Gx) -> NgcStatus>,
}

fn generic(
    what: impl Into<String>,
    func: &str,
    want: NgcStatus,
    fragment: impl Into<String>,
    run: impl Fn(&Gx) -> NgcStatus + 'static,
) -> Generic {
    Generic {
        what: what.into(),
        func: func.to_string(),
        want,
        fragment: fragment.into(),
        run: Box::new(run),
    }
}

/// A row's constructor's C name (its messages' prefix), from its C call.
fn constructor_name(row: &family::Row) -> &'static str {
    row.c_new.split('(').next().unwrap().trim()
}

/// Calls a row's constructor; a success frees the cell; a failure must not write `out`.
fn row_new(
    row: &family::Row,
    name: *const c_char,
    n: usize,
    batch: usize,
    shape: *const usize,
    dtype: NgcDtype,
    out_null: bool,
) -> NgcStatus {
    let mut out: *mut NgcCell = ptr::null_mut();
    let out_ptr: *mut *mut NgcCell = if out_null { ptr::null_mut() } else { &mut out };
    // SAFETY: `name` NULL or NUL-terminated; `shape` NULL, 3 readable sizes, or
    // misaligned (refused before it is read); `out_ptr` NULL or valid.
    let st = unsafe { (row.new)(name, n, batch, shape, dtype, out_ptr) };
    if st == NGC_OK {
        // SAFETY: a handle just made.
        unsafe { ngc_cell_free(out) };
    }
    assert!(
        st == NGC_OK || out.is_null(),
        "a failed constructor wrote its output"
    );
    st
}

/// The generic misuses of one row (its compartments and hyper-parameters fixed).
fn generic_cases(row: &'static family::Row, dtype: NgcDtype) -> Vec<Generic> {
    let f64 = dtype == NGC_DTYPE_F64;
    let (ours, theirs) = if f64 {
        ("float64", "float32")
    } else {
        ("float32", "float64")
    };
    let elem = if f64 { 8 } else { 4 };
    let new = constructor_name(row);
    let mut v = vec![
        generic(
            "NULL handle",
            "ngc_cell_advance",
            NGC_ERR_NULL_POINTER,
            "cell is NULL",
            |_| unsafe { ngc_cell_advance(ptr::null_mut(), 0.0, 1.0) },
        ),
        generic(
            "not a cell",
            "ngc_cell_advance",
            NGC_ERR_INVALID_HANDLE,
            "is not a live NgcCell",
            |g| unsafe { ngc_cell_advance(g.not_a_cell.ptr.cast(), 0.0, 1.0) },
        ),
        generic(
            "misaligned handle",
            "ngc_cell_reset",
            NGC_ERR_MISALIGNED_POINTER,
            "is not aligned to 8 bytes",
            |g| unsafe { ngc_cell_reset(misaligned(g.cell.ptr, 1)) },
        ),
        generic(
            "unknown compartment",
            "ngc_cell_bind",
            NGC_ERR_UNKNOWN_COMPARTMENT,
            format!(
                "cell 'cell' ({}) has no compartment named 'nu'; it has: {}",
                row.type_name,
                row.compartments.join(", ")
            ),
            |g| unsafe { ngc_cell_bind(g.cell.ptr, c"nu".as_ptr(), g.scratch(), 4) },
        ),
        generic(
            "batched_reset to 0",
            "ngc_cell_batched_reset",
            NGC_ERR_ZERO_SIZE,
            "batch_size must be at least 1, got 0",
            |g| unsafe { ngc_cell_batched_reset(g.cell.ptr, 0) },
        ),
        generic(
            "batched_reset past usize",
            "ngc_cell_batched_reset",
            NGC_ERR_SIZE_OVERFLOW,
            "overflows",
            |g| unsafe { ngc_cell_batched_reset(g.cell.ptr, MAX) },
        ),
        generic(
            "zero threads",
            "ngc_cell_set_threads",
            NGC_ERR_INVALID_ARGUMENT,
            "threads must be at least 1",
            |g| unsafe { ngc_cell_set_threads(g.cell.ptr, 0) },
        ),
        generic(
            "compartment index past the last",
            "ngc_cell_compartment_name",
            NGC_ERR_INDEX_OUT_OF_RANGE,
            format!(
                "index {0} is past the last compartment ({0} in all)",
                row.compartments.len()
            ),
            |g| {
                let mut name: *const c_char = ptr::null();
                let k = g.cell.row.compartments.len();
                let st = unsafe { ngc_cell_compartment_name(g.cell.ptr, k, &mut name) };
                assert!(name.is_null(), "no output on failure");
                st
            },
        ),
        generic(
            "NULL out_loss",
            "ngc_cell_loss",
            NGC_ERR_NULL_POINTER,
            "is NULL",
            |g| unsafe { ngc_cell_loss(g.cell.ptr, ptr::null_mut()) },
        ),
        generic(
            "NULL out_batch_size",
            "ngc_cell_batch_size",
            NGC_ERR_NULL_POINTER,
            "is NULL",
            |g| unsafe { ngc_cell_batch_size(g.cell.ptr, ptr::null_mut()) },
        ),
        generic(
            "NULL out_dtype",
            "ngc_cell_dtype",
            NGC_ERR_NULL_POINTER,
            "is NULL",
            |g| unsafe { ngc_cell_dtype(g.cell.ptr, ptr::null_mut()) },
        ),
        generic(
            "NULL out_n_units",
            "ngc_cell_n_units",
            NGC_ERR_NULL_POINTER,
            "is NULL",
            |g| unsafe { ngc_cell_n_units(g.cell.ptr, ptr::null_mut()) },
        ),
        generic(
            "NULL out_threads",
            "ngc_cell_threads",
            NGC_ERR_NULL_POINTER,
            "is NULL",
            |g| unsafe { ngc_cell_threads(g.cell.ptr, ptr::null_mut()) },
        ),
        generic(
            "NULL out_count",
            "ngc_cell_compartment_count",
            NGC_ERR_NULL_POINTER,
            "is NULL",
            |g| unsafe { ngc_cell_compartment_count(g.cell.ptr, ptr::null_mut()) },
        ),
        generic(
            "NULL out_type",
            "ngc_cell_type",
            NGC_ERR_NULL_POINTER,
            "is NULL",
            |g| unsafe { ngc_cell_type(g.cell.ptr, ptr::null_mut()) },
        ),
        // The constructor, with everything valid but one argument.
        generic(
            "NULL out_cell",
            new,
            NGC_ERR_NULL_POINTER,
            "out_cell is NULL",
            move |_| row_new(row, c"x".as_ptr(), 4, 1, ptr::null(), dtype, true),
        ),
        generic(
            "NULL name",
            new,
            NGC_ERR_NULL_POINTER,
            "name is NULL",
            move |_| row_new(row, ptr::null(), 4, 1, ptr::null(), dtype, false),
        ),
        generic(
            "name not UTF-8",
            new,
            NGC_ERR_INVALID_ARGUMENT,
            "name is not valid UTF-8",
            move |_| row_new(row, c"\xff".as_ptr(), 4, 1, ptr::null(), dtype, false),
        ),
        generic(
            "unknown dtype",
            new,
            NGC_ERR_INVALID_DTYPE,
            "dtype 3 is neither",
            move |_| row_new(row, c"x".as_ptr(), 4, 1, ptr::null(), 3, false),
        ),
        generic(
            "zero n_units",
            new,
            NGC_ERR_ZERO_SIZE,
            "n_units must be at least 1, got 0",
            move |_| row_new(row, c"x".as_ptr(), 0, 1, ptr::null(), dtype, false),
        ),
        generic(
            "zero batch_size",
            new,
            NGC_ERR_ZERO_SIZE,
            "batch_size must be at least 1, got 0",
            move |_| row_new(row, c"x".as_ptr(), 4, 0, ptr::null(), dtype, false),
        ),
        generic(
            "batch x n_units past usize",
            new,
            NGC_ERR_SIZE_OVERFLOW,
            "overflows",
            move |_| row_new(row, c"x".as_ptr(), MAX, 2, ptr::null(), dtype, false),
        ),
        generic(
            "huge allocation",
            new,
            NGC_ERR_ALLOCATION,
            "could not allocate",
            move |_| row_new(row, c"x".as_ptr(), 1 << 59, 1, ptr::null(), dtype, false),
        ),
    ];
    if row.takes_shape {
        v.push(generic(
            "zero shape entry",
            new,
            NGC_ERR_ZERO_SIZE,
            "shape[1] (W) must be at least 1, got 0",
            move |_| row_new(row, c"x".as_ptr(), 4, 1, [2, 0, 2].as_ptr(), dtype, false),
        ));
        v.push(generic(
            "misaligned shape",
            new,
            NGC_ERR_MISALIGNED_POINTER,
            "shape (",
            move |g| {
                let shape = misaligned(g.s64.ptr.cast::<usize>(), 1);
                row_new(row, c"x".as_ptr(), 4, 1, shape, dtype, false)
            },
        ));
    }
    if !row.has_evolve {
        v.push(generic(
            "evolve on a cell without one (a no-op)",
            "ngc_cell_evolve",
            NGC_OK,
            "",
            |g| unsafe { ngc_cell_evolve(g.cell.ptr, 0.0, 1.0) },
        ));
    }
    if !row.has_loss {
        v.push(generic(
            "loss of a cell without a one-element L",
            "ngc_cell_loss",
            NGC_ERR_NOT_SUPPORTED,
            "",
            |g| {
                let mut l = 7.0f64;
                let st = unsafe { ngc_cell_loss(g.cell.ptr, &mut l) };
                assert_eq!(l, 7.0, "no output on failure");
                st
            },
        ));
    }
    // The bound buffer holds exactly the state: batch 3 does not fit.
    v.push(generic(
        "batched_reset beyond a bound capacity",
        "ngc_cell_batched_reset",
        NGC_ERR_CAPACITY_TOO_SMALL,
        "batched_reset to batch size 3 needs 9 elements in compartment '",
        |g| unsafe { ngc_cell_batched_reset(g.cell.ptr, 3) },
    ));
    // Lengths and the bound compartment as every fixture has them (all are made alike).
    let g0 = Gx::new(row, dtype);
    for &name in row.compartments {
        let cname = s(name);
        let swapped: String = name
            .chars()
            .map(|ch| {
                if ch.is_ascii_lowercase() {
                    ch.to_ascii_uppercase()
                } else {
                    ch.to_ascii_lowercase()
                }
            })
            .collect();
        let n = g0.cell.len(name);
        let nm = cname.clone();
        v.push(generic(
            format!("set '{name}' with len + 1"),
            if f64 {
                "ngc_cell_set_f64"
            } else {
                "ngc_cell_set_f32"
            },
            NGC_ERR_LENGTH_MISMATCH,
            format!(
                "compartment '{name}' holds {n} elements, but len is {}",
                n + 1
            ),
            move |g| unsafe {
                if g.f64() {
                    ngc_cell_set_f64(g.cell.ptr, nm.as_ptr(), g.s64.ptr, n + 1)
                } else {
                    ngc_cell_set_f32(g.cell.ptr, nm.as_ptr(), g.s32.ptr, n + 1)
                }
            },
        ));
        let nm = cname.clone();
        v.push(generic(
            format!("get '{name}' into len - 1"),
            "ngc_cell_get",
            NGC_ERR_LENGTH_MISMATCH,
            format!(
                "compartment '{name}' holds {n} elements, but len is {}",
                n - 1
            ),
            move |g| unsafe { ngc_cell_get(g.cell.ptr, nm.as_ptr(), g.scratch(), n - 1) },
        ));
        let nm = cname.clone();
        v.push(generic(
            format!("bind '{name}' with capacity - 1"),
            "ngc_cell_bind",
            NGC_ERR_CAPACITY_TOO_SMALL,
            format!(
                "compartment '{name}' holds {n} elements, but the buffer's capacity is {}",
                n - 1
            ),
            move |g| unsafe { ngc_cell_bind(g.cell.ptr, nm.as_ptr(), g.scratch(), n - 1) },
        ));
        let nm = cname.clone();
        v.push(generic(
            format!("typed set of '{name}' in the other dtype"),
            if f64 {
                "ngc_cell_set_f32"
            } else {
                "ngc_cell_set_f64"
            },
            NGC_ERR_DTYPE_MISMATCH,
            format!("the cell computes in {ours}, but {theirs} data was given"),
            move |g| unsafe {
                if g.f64() {
                    ngc_cell_set_f32(g.cell.ptr, nm.as_ptr(), g.s32.ptr, n)
                } else {
                    ngc_cell_set_f64(g.cell.ptr, nm.as_ptr(), g.s64.ptr, n)
                }
            },
        ));
        let nm = cname.clone();
        v.push(generic(
            format!("set '{name}' from NULL"),
            "ngc_cell_set",
            NGC_ERR_NULL_POINTER,
            "src is NULL",
            move |g| unsafe { ngc_cell_set(g.cell.ptr, nm.as_ptr(), ptr::null(), n) },
        ));
        let nm = cname.clone();
        v.push(generic(
            format!("get '{name}' into a misaligned dst"),
            "ngc_cell_get",
            NGC_ERR_MISALIGNED_POINTER,
            format!("is not aligned to {elem} bytes"),
            move |g| unsafe {
                ngc_cell_get(g.cell.ptr, nm.as_ptr(), misaligned(g.scratch(), 2), n)
            },
        ));
        v.push(generic(
            format!("'{name}' in the wrong case"),
            "ngc_cell_compartment_len",
            NGC_ERR_UNKNOWN_COMPARTMENT,
            format!("has no compartment named '{swapped}'"),
            move |g| {
                let w = s(&swapped);
                let mut len = 0usize;
                let st = unsafe { ngc_cell_compartment_len(g.cell.ptr, w.as_ptr(), &mut len) };
                assert_eq!(len, 0, "no output on failure");
                st
            },
        ));
        // `ngc_cell_set_shaped`: (7) is no compartment's shape and does not
        // broadcast against the state (2, 3).
        let nm = cname.clone();
        v.push(generic(
            format!("set_shaped '{name}' to (7)"),
            "ngc_cell_set_shaped",
            NGC_ERR_SHAPE_MISMATCH,
            format!("compartment '{name}': "),
            move |g| unsafe {
                ngc_cell_set_shaped(g.cell.ptr, nm.as_ptr(), g.scratch(), [7usize].as_ptr(), 1)
            },
        ));
        let nm = cname.clone();
        v.push(generic(
            format!("set_shaped '{name}' with rank 5"),
            "ngc_cell_set_shaped",
            NGC_ERR_INVALID_ARGUMENT,
            "rank is 5, at most 4",
            move |g| unsafe {
                ngc_cell_set_shaped(
                    g.cell.ptr,
                    nm.as_ptr(),
                    g.scratch(),
                    [1usize; 5].as_ptr(),
                    5,
                )
            },
        ));
        let nm = cname.clone();
        v.push(generic(
            format!("set_shaped '{name}' with a zero dim"),
            "ngc_cell_set_shaped",
            NGC_ERR_ZERO_SIZE,
            "a dim must be at least 1, got 0",
            move |g| unsafe {
                ngc_cell_set_shaped(
                    g.cell.ptr,
                    nm.as_ptr(),
                    g.scratch(),
                    [0usize, 3].as_ptr(),
                    2,
                )
            },
        ));
        let nm = cname.clone();
        v.push(generic(
            format!("set_shaped '{name}' with NULL dims"),
            "ngc_cell_set_shaped",
            NGC_ERR_NULL_POINTER,
            "dims is NULL",
            move |g| unsafe {
                ngc_cell_set_shaped(g.cell.ptr, nm.as_ptr(), g.scratch(), ptr::null(), 2)
            },
        ));
        let nm = cname.clone();
        v.push(generic(
            format!("set_shaped '{name}' from NULL"),
            "ngc_cell_set_shaped",
            NGC_ERR_NULL_POINTER,
            "src is NULL",
            move |g| unsafe {
                ngc_cell_set_shaped(
                    g.cell.ptr,
                    nm.as_ptr(),
                    ptr::null(),
                    [2usize, 3].as_ptr(),
                    2,
                )
            },
        ));
        let nm = cname.clone();
        v.push(generic(
            format!("is_bound of '{name}' into NULL"),
            "ngc_cell_is_bound",
            NGC_ERR_NULL_POINTER,
            "is NULL",
            move |g| unsafe { ngc_cell_is_bound(g.cell.ptr, nm.as_ptr(), ptr::null_mut()) },
        ));
        if g0.bound_name != name {
            let nm = cname.clone();
            v.push(generic(
                format!("unbind of '{name}', not bound"),
                "ngc_cell_unbind",
                NGC_ERR_NOT_BOUND,
                format!("compartment '{name}' is not bound to a buffer"),
                move |g| unsafe { ngc_cell_unbind(g.cell.ptr, nm.as_ptr()) },
            ));
            let nm = cname.clone();
            v.push(generic(
                format!("bind '{name}' over the bound output's buffer"),
                "ngc_cell_bind",
                NGC_ERR_OVERLAP,
                "overlaps the buffer bound to '",
                move |g| unsafe {
                    ngc_cell_bind(
                        g.cell.ptr,
                        nm.as_ptr(),
                        g.bound.ptr.cast(),
                        n.max(g.bound_len),
                    )
                },
            ));
        }
    }
    v
}

#[test]
fn every_cell_type_refuses_misuse_and_changes_nothing() {
    let mut checked = 0;
    for row in family::FAMILY {
        for dtype in family::DTYPES {
            // One fixture for all the cases of a row: each case must leave it exactly
            // as it was (checked), so the next one starts from the same state.
            let g = Gx::new(row, dtype);
            let before = g.snapshot();
            for case in generic_cases(row, dtype) {
                let sentinel = {
                    let mut n = 0usize;
                    // SAFETY: live handle, valid out pointer.
                    let st = unsafe {
                        ngc_cell_compartment_len(g.cell.ptr, c"__sentinel__".as_ptr(), &mut n)
                    };
                    assert_eq!(st, NGC_ERR_UNKNOWN_COMPARTMENT);
                    last_error()
                };
                let st = (case.run)(&g);
                let msg = last_error();
                let what = format!("{} {dtype}: {}", row.label, case.what);
                assert_eq!(st, case.want, "{what}: {msg}");
                if st == NGC_OK {
                    assert_eq!(msg, sentinel, "{what}: a success changed the message");
                } else {
                    assert!(
                        msg != sentinel
                            && msg.starts_with(&format!("{}: ", case.func))
                            && msg.len() > case.func.len() + 2
                            && msg.contains(&case.fragment),
                        "{what}: message {msg:?} should start with {:?} and contain {:?}",
                        case.func,
                        case.fragment
                    );
                }
                assert!(g.snapshot() == before, "{what}: the fixture changed");
                checked += 1;
            }
            // Still a working cell: it advances as a twin made the same way does.
            let twin = Gx::new(row, dtype);
            assert!(twin.snapshot() == before, "{}: the twin differs", row.label);
            g.cell.advance(2.0, 1.0);
            twin.cell.advance(2.0, 1.0);
            assert!(
                g.snapshot() == twin.snapshot(),
                "{}: advance after the misuses",
                row.label
            );
        }
    }
    eprintln!(
        "generic misuses: {checked} checked over {} family rows x 2 dtypes",
        family::FAMILY.len()
    );
}
