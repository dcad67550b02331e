//! The cell family as the generic test suites see it: one row per cell
//! configuration (GSL's `rng/test.c` pattern). Concurrency, no-alloc, dlclose,
//! the sanitizers and valgrind, misuse, random calls and the panic barrier
//! iterate over [`FAMILY`], so a new cell type gets all of them by adding its
//! row (and, for the C programs, nothing more: `c_new` is the same call in C).
//! The random-call models (`tests/calls/model/`) have one per row, with the
//! same hyper-parameters (`every_family_row_has_a_model`); `tests/family.rs`
//! checks each row against the library.
//!
//! Everything goes through the C ABI, the way a host uses the library.
#![allow(dead_code)]

use std::ffi::{c_char, CStr};
use std::ptr;

use ngc_cells::*;

/// How a row's input values are drawn (from a uniform `u` in `[0, 1)`).
#[derive(Clone, Copy, Debug)]
pub enum Draw {
    /// Uniform in `[lo, hi)`.
    Uniform(f64, f64),
    /// 0 or 1, 1 with probability `p` (targets of a Bernoulli cell, masks).
    Binary(f64),
}

impl Draw {
    pub fn at(self, u: f64) -> f64 {
        match self {
            Draw::Uniform(lo, hi) => lo + u * (hi - lo),
            Draw::Binary(p) => f64::from(u < p),
        }
    }
}

/// A compartment a host sets before `advance`, and the values the suites give it.
#[derive(Clone, Copy, Debug)]
pub struct Input {
    pub name: &'static str,
    pub draw: Draw,
}

const fn input(name: &'static str, draw: Draw) -> Input {
    Input { name, draw }
}

/// One cell configuration: a type and fixed hyper-parameters.
pub struct Row {
    /// Unique among the rows: `bernoulli_prob`, `bernoulli_logits`, `gaussian`, ...
    pub label: &'static str,
    /// What `ngc_cell_type` reports (ngc-learn's class name).
    pub type_name: &'static str,
    /// Creates a cell of this row: `(name, n_units, batch_size, shape, dtype, out)`,
    /// `shape` NULL or 3 sizes `{H, W, C}` (only when `takes_shape`).
    pub new: unsafe fn(
        *const c_char,
        usize,
        usize,
        *const usize,
        NgcDtype,
        *mut *mut NgcCell,
    ) -> NgcStatus,
    /// The same call as a C expression over variables `name`, `n_units`,
    /// `batch_size`, `shape`, `dtype` and `out` (`NgcCell **`), for C programs built per row.
    pub c_new: &'static str,
    /// Every compartment, in index order (`ngc_cell_compartment_name`).
    pub compartments: &'static [&'static str],
    /// What a host sets before `advance` (state it may set included), with value ranges.
    pub inputs: &'static [Input],
    /// What `advance` writes.
    pub outputs: &'static [&'static str],
    /// `ngc_cell_loss` gives a value (the cell has a one-element `L`).
    pub has_loss: bool,
    /// Accepts a 4-D `{H, W, C}` shape.
    pub takes_shape: bool,
    /// Has a real `evolve` (otherwise `ngc_cell_evolve` is a no-op).
    pub has_evolve: bool,
}

// The constructors with each row's hyper-parameters fixed. A row with
// `takes_shape: false` is never given a shape.

unsafe fn bernoulli_prob(
    name: *const c_char,
    n: usize,
    batch: usize,
    shape: *const usize,
    dtype: NgcDtype,
    out: *mut *mut NgcCell,
) -> NgcStatus {
    // SAFETY: forwarded as the caller gave them.
    unsafe { ngc_bernoulli_error_cell_new(name, n, batch, false, shape, dtype, out) }
}

unsafe fn bernoulli_logits(
    name: *const c_char,
    n: usize,
    batch: usize,
    shape: *const usize,
    dtype: NgcDtype,
    out: *mut *mut NgcCell,
) -> NgcStatus {
    // SAFETY: forwarded as the caller gave them.
    unsafe { ngc_bernoulli_error_cell_new(name, n, batch, true, shape, dtype, out) }
}

unsafe fn gaussian(
    name: *const c_char,
    n: usize,
    batch: usize,
    shape: *const usize,
    dtype: NgcDtype,
    out: *mut *mut NgcCell,
) -> NgcStatus {
    // SAFETY: forwarded as the caller gave them.
    unsafe { ngc_gaussian_error_cell_new(name, n, batch, 0.5, shape, dtype, out) }
}

unsafe fn laplacian(
    name: *const c_char,
    n: usize,
    batch: usize,
    shape: *const usize,
    dtype: NgcDtype,
    out: *mut *mut NgcCell,
) -> NgcStatus {
    // SAFETY: forwarded as the caller gave them.
    unsafe { ngc_laplacian_error_cell_new(name, n, batch, 0.5, shape, dtype, out) }
}

unsafe fn reward(
    name: *const c_char,
    n: usize,
    batch: usize,
    shape: *const usize,
    dtype: NgcDtype,
    out: *mut *mut NgcCell,
) -> NgcStatus {
    assert!(shape.is_null(), "RewardErrorCell takes no shape");
    // SAFETY: forwarded as the caller gave them.
    unsafe { ngc_reward_error_cell_new(name, n, batch, 0.1, 10, true, dtype, out) }
}

unsafe fn rate(
    name: *const c_char,
    n: usize,
    batch: usize,
    shape: *const usize,
    dtype: NgcDtype,
    out: *mut *mut NgcCell,
) -> NgcStatus {
    // SAFETY: forwarded as the caller gave them.
    unsafe {
        ngc_rate_cell_new(
            name,
            n,
            batch,
            10.0,
            c"gaussian".as_ptr(),
            0.1,
            c"tanh".as_ptr(),
            1.0,
            c"none".as_ptr(),
            0.0,
            c"euler".as_ptr(),
            1.0,
            true,
            shape,
            dtype,
            out,
        )
    }
}

const BERNOULLI_COMPARTMENTS: &[&str] = &["p", "target", "modulator", "mask", "L", "dp", "dtarget"];
const BERNOULLI_OUTPUTS: &[&str] = &["mask", "L", "dp", "dtarget"];

/// Every cell configuration the generic suites cover.
pub const FAMILY: &[Row] = &[
    Row {
        label: "bernoulli_prob",
        type_name: "BernoulliErrorCell",
        new: bernoulli_prob,
        c_new: "ngc_bernoulli_error_cell_new(name, n_units, batch_size, false, shape, dtype, out)",
        compartments: BERNOULLI_COMPARTMENTS,
        // Probabilities, a few outside (0, 1) to reach the clip.
        inputs: &[
            input("p", Draw::Uniform(-0.05, 1.05)),
            input("target", Draw::Binary(0.5)),
            input("modulator", Draw::Uniform(0.0, 2.0)),
            input("mask", Draw::Binary(0.8)),
        ],
        outputs: BERNOULLI_OUTPUTS,
        has_loss: true,
        takes_shape: true,
        has_evolve: false,
    },
    Row {
        label: "bernoulli_logits",
        type_name: "BernoulliErrorCell",
        new: bernoulli_logits,
        c_new: "ngc_bernoulli_error_cell_new(name, n_units, batch_size, true, shape, dtype, out)",
        compartments: BERNOULLI_COMPARTMENTS,
        inputs: &[
            input("p", Draw::Uniform(-6.0, 6.0)),
            input("target", Draw::Binary(0.5)),
            input("modulator", Draw::Uniform(0.0, 2.0)),
            input("mask", Draw::Binary(0.8)),
        ],
        outputs: BERNOULLI_OUTPUTS,
        has_loss: true,
        takes_shape: true,
        has_evolve: false,
    },
    Row {
        label: "gaussian",
        type_name: "GaussianErrorCell",
        new: gaussian,
        c_new: "ngc_gaussian_error_cell_new(name, n_units, batch_size, 0.5, shape, dtype, out)",
        compartments: &[
            "mu",
            "target",
            "Sigma",
            "modulator",
            "mask",
            "dmu",
            "dtarget",
            "dSigma",
            "L",
        ],
        inputs: &[
            input("mu", Draw::Uniform(-3.0, 3.0)),
            input("target", Draw::Uniform(-3.0, 3.0)),
            input("Sigma", Draw::Uniform(0.25, 2.0)),
            input("modulator", Draw::Uniform(0.0, 2.0)),
            input("mask", Draw::Binary(0.8)),
        ],
        outputs: &["mask", "dmu", "dtarget", "dSigma", "L"],
        has_loss: true,
        takes_shape: true,
        has_evolve: false,
    },
    Row {
        label: "laplacian",
        type_name: "LaplacianErrorCell",
        new: laplacian,
        c_new: "ngc_laplacian_error_cell_new(name, n_units, batch_size, 0.5, shape, dtype, out)",
        compartments: &[
            "shift",
            "target",
            "Scale",
            "modulator",
            "mask",
            "dshift",
            "dtarget",
            "dScale",
            "L",
        ],
        inputs: &[
            input("shift", Draw::Uniform(-3.0, 3.0)),
            input("target", Draw::Uniform(-3.0, 3.0)),
            input("Scale", Draw::Uniform(0.25, 2.0)),
            input("modulator", Draw::Uniform(0.0, 2.0)),
            input("mask", Draw::Binary(0.8)),
        ],
        outputs: &["mask", "dshift", "dtarget", "dScale", "L"],
        has_loss: true,
        takes_shape: true,
        has_evolve: false,
    },
    Row {
        label: "reward",
        type_name: "RewardErrorCell",
        new: reward,
        c_new: "ngc_reward_error_cell_new(name, n_units, batch_size, 0.1, 10, true, dtype, out)",
        compartments: &["mu", "reward", "rpe", "accum_reward", "n_ep_steps"],
        inputs: &[
            input("reward", Draw::Uniform(-1.0, 1.0)),
            input("mu", Draw::Uniform(-1.0, 1.0)),
        ],
        outputs: &["mu", "rpe", "accum_reward", "n_ep_steps"],
        has_loss: false,
        takes_shape: false,
        has_evolve: true,
    },
    Row {
        label: "rate",
        type_name: "RateCell",
        new: rate,
        c_new:
            "ngc_rate_cell_new(name, n_units, batch_size, 10.0, \"gaussian\", 0.1, \"tanh\", 1.0, \
                \"none\", 0.0, \"euler\", 1.0, true, shape, dtype, out)",
        compartments: &["j", "j_td", "z", "zF"],
        inputs: &[
            input("j", Draw::Uniform(-2.0, 2.0)),
            input("j_td", Draw::Uniform(-2.0, 2.0)),
            input("z", Draw::Uniform(-1.0, 1.0)),
        ],
        outputs: &["j", "z", "zF"],
        has_loss: false,
        takes_shape: true,
        has_evolve: false,
    },
];

/// Both dtypes.
pub const DTYPES: [NgcDtype; 2] = [NGC_DTYPE_F32, NGC_DTYPE_F64];

/// The row of that label.
pub fn row(label: &str) -> &'static Row {
    FAMILY
        .iter()
        .find(|r| r.label == label)
        .unwrap_or_else(|| panic!("no FAMILY row {label:?}"))
}

/// A cell that frees itself. Movable between threads (the ABI allows one
/// thread at a time).
pub struct Cell {
    pub ptr: *mut NgcCell,
    pub row: &'static Row,
    pub dtype: NgcDtype,
}

// SAFETY: a cell may move between threads; `Cell` is used by one at a time.
unsafe impl Send for Cell {}

impl Drop for Cell {
    fn drop(&mut self) {
        // SAFETY: a live handle owned by this value.
        unsafe { ngc_cell_free(self.ptr) };
    }
}

impl Row {
    /// A fresh cell of this row, `(batch, n)` (panics unless creation succeeds).
    pub fn cell(&'static self, n: usize, batch: usize, dtype: NgcDtype) -> Cell {
        self.cell_shaped(n, batch, None, dtype)
    }

    /// A fresh cell of this row, 4-D `(batch, H, W, C)` when `shape` is given.
    pub fn cell_shaped(
        &'static self,
        n: usize,
        batch: usize,
        shape: Option<[usize; 3]>,
        dtype: NgcDtype,
    ) -> Cell {
        assert!(
            shape.is_none() || self.takes_shape,
            "{} takes no shape",
            self.label
        );
        let mut out = ptr::null_mut();
        let shape_ptr = shape.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        // SAFETY: a NUL-terminated name, `shape_ptr` NULL or 3 sizes, `out` writable.
        let st = unsafe { (self.new)(c"cell".as_ptr(), n, batch, shape_ptr, dtype, &mut out) };
        assert_eq!(
            st,
            NGC_OK,
            "{}: creating n={n} batch={batch} shape={shape:?} dtype={dtype}: {}",
            self.label,
            super::last_error()
        );
        Cell {
            ptr: out,
            row: self,
            dtype,
        }
    }

    /// The compartment names as C strings.
    pub fn c_names(&self) -> Vec<std::ffi::CString> {
        self.compartments.iter().map(|n| super::cstr(n)).collect()
    }
}

impl Cell {
    /// The element count of `compartment` (`ngc_cell_compartment_len`).
    pub fn len(&self, compartment: &str) -> usize {
        let name = super::cstr(compartment);
        let mut n = 0;
        // SAFETY: live handle, NUL-terminated name, writable output.
        let st = unsafe { ngc_cell_compartment_len(self.ptr, name.as_ptr(), &mut n) };
        assert_eq!(st, NGC_OK, "{}: len of {compartment}", self.row.label);
        n
    }

    /// Sets `compartment` from f64 values (rounded to f32 for an f32 cell).
    pub fn set(&self, compartment: &str, values: &[f64]) {
        let name = super::cstr(compartment);
        // SAFETY: live handle; the source holds `values.len()` elements of the cell's dtype.
        let st = unsafe {
            if self.dtype == NGC_DTYPE_F64 {
                ngc_cell_set_f64(self.ptr, name.as_ptr(), values.as_ptr(), values.len())
            } else {
                let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
                ngc_cell_set_f32(self.ptr, name.as_ptr(), v.as_ptr(), v.len())
            }
        };
        assert_eq!(
            st,
            NGC_OK,
            "{}: set {compartment}: {}",
            self.row.label,
            super::last_error()
        );
    }

    /// The bit patterns of `compartment`'s elements (f32 bits widened for an f32 cell).
    pub fn bits(&self, compartment: &str) -> Vec<u64> {
        let name = super::cstr(compartment);
        let n = self.len(compartment);
        // SAFETY: live handle; the destination holds `n` elements of the cell's dtype.
        unsafe {
            if self.dtype == NGC_DTYPE_F64 {
                let mut v = vec![0f64; n];
                let st = ngc_cell_get_f64(self.ptr, name.as_ptr(), v.as_mut_ptr(), n);
                assert_eq!(st, NGC_OK, "{}: get {compartment}", self.row.label);
                v.iter().map(|x| x.to_bits()).collect()
            } else {
                let mut v = vec![0f32; n];
                let st = ngc_cell_get_f32(self.ptr, name.as_ptr(), v.as_mut_ptr(), n);
                assert_eq!(st, NGC_OK, "{}: get {compartment}", self.row.label);
                v.iter().map(|x| u64::from(x.to_bits())).collect()
            }
        }
    }

    /// Every input of the row set to values drawn from `seed` (deterministic).
    pub fn set_random_inputs(&self, seed: u64) {
        for (k, inp) in self.row.inputs.iter().enumerate() {
            let n = self.len(inp.name);
            let v: Vec<f64> = (0..n)
                .map(|j| inp.draw.at(uniform(seed, k as u64, j as u64)))
                .collect();
            self.set(inp.name, &v);
        }
    }

    /// Every compartment's bits, in index order: the whole observable state.
    pub fn snapshot(&self) -> Vec<Vec<u64>> {
        self.row.compartments.iter().map(|c| self.bits(c)).collect()
    }

    /// `ngc_cell_advance`, asserting NGC_OK.
    pub fn advance(&self, t: f64, dt: f64) {
        // SAFETY: live handle.
        let st = unsafe { ngc_cell_advance(self.ptr, t, dt) };
        assert_eq!(
            st,
            NGC_OK,
            "{}: advance: {}",
            self.row.label,
            super::last_error()
        );
    }

    /// `ngc_cell_evolve`, asserting NGC_OK (a no-op for a cell without one).
    pub fn evolve(&self, t: f64, dt: f64) {
        // SAFETY: live handle.
        let st = unsafe { ngc_cell_evolve(self.ptr, t, dt) };
        assert_eq!(
            st,
            NGC_OK,
            "{}: evolve: {}",
            self.row.label,
            super::last_error()
        );
    }

    /// `ngc_cell_set_threads`, asserting NGC_OK.
    pub fn set_threads(&self, threads: usize) {
        // SAFETY: live handle.
        assert_eq!(unsafe { ngc_cell_set_threads(self.ptr, threads) }, NGC_OK);
    }

    /// The cell's type as `ngc_cell_type` reports it.
    pub fn type_name(&self) -> String {
        let mut p = ptr::null();
        // SAFETY: live handle, writable output; the result is a static string.
        unsafe {
            assert_eq!(ngc_cell_type(self.ptr, &mut p), NGC_OK);
            CStr::from_ptr(p).to_str().unwrap().to_owned()
        }
    }
}

/// A uniform number in `[0, 1)` from three integers (splitmix64 of their mix):
/// the same for the same arguments on every run and platform.
pub fn uniform(a: u64, b: u64, c: u64) -> f64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        .wrapping_add(c.wrapping_mul(0x1656_67B1_9E37_79F9))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The compiler flags that make `tests/c/family_cell.c` (and the other
/// per-row C programs) a program about `row`: its constructor call and facts.
pub fn c_defines(row: &Row) -> Vec<String> {
    vec![
        format!(
            "-DROW_NEW(name,n_units,batch_size,shape,dtype,out)={}",
            row.c_new
        ),
        format!("-DROW_LABEL=\"{}\"", row.label),
        format!("-DROW_HAS_LOSS={}", u8::from(row.has_loss)),
        format!("-DROW_TAKES_SHAPE={}", u8::from(row.takes_shape)),
        format!("-DROW_HAS_EVOLVE={}", u8::from(row.has_evolve)),
    ]
}

/// The C function a row's `c_new` calls (`ngc_bernoulli_error_cell_new`).
pub fn c_function(row: &Row) -> &'static str {
    let f = row.c_new.split('(').next().unwrap().trim();
    assert!(
        f.starts_with("ngc_") && f.ends_with("_new"),
        "{}: c_new must be one call of an ngc_*_new function: {}",
        row.label,
        row.c_new
    );
    f
}

/// Builds `tests/c/family_cell.c` for `row` into `exe` with `flags` (plus the
/// row's defines), linked as `link`.
pub fn build_family_cell(row: &Row, flags: &[&str], exe: &std::path::Path, link: super::Link) {
    let defines = c_defines(row);
    let all: Vec<&str> = flags
        .iter()
        .copied()
        .chain(defines.iter().map(String::as_str))
        .collect();
    super::build(
        "cc",
        &all,
        &[super::root().join("tests/c/family_cell.c")],
        exe,
        link,
    );
}

/// What `family_cell` prints last when all its checks pass: the count of checks.
pub fn family_cell_passed(row: &Row, stdout: &str) -> usize {
    let want = format!("family_cell {}: ", row.label);
    let last = stdout.lines().last().unwrap_or("");
    let rest = last
        .strip_prefix(&want)
        .unwrap_or_else(|| panic!("{}: unexpected output:\n{stdout}", row.label));
    assert!(rest.ends_with(", 0 failed"), "{}: {stdout}", row.label);
    rest.split_whitespace().next().unwrap().parse().unwrap()
}
