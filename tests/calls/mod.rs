//! A call language over the C ABI and a simple model of the cell that predicts
//! every call's status and every output.
//!
//! A [`Driver`] draws calls from an [`Entropy`] source (a seeded generator in
//! `tests/random_calls.rs`, the fuzzer's bytes in `fuzz/`): create (good and bad
//! arguments), free, bind (good and bad arguments, overlapping ranges, buffers
//! shared between cells), unbind, set, get, advance, reset, batched_reset,
//! set_threads and queries, on live cells, NULL, misaligned handles and memory
//! that is not a cell. Before each call the model predicts the status; after it the
//! driver checks the status, the last-error message (it names the function on
//! failure and is left alone on success), every compartment of the cell against
//! the model, and every caller buffer byte for byte against its shadow copy (so a
//! write past a compartment's count, or into the wrong buffer, is caught).
//!
//! The model is written from README's formula, not from the library's kernel:
//! values it only moves (set, bind, reset, mask) must match bit for bit; values it
//! computes (`L`, `dp`, `dtarget`) must match to a relative 1e-3 (float32) or 1e-9
//! (float64), so a faster kernel that rounds differently still passes, and are
//! then taken from the library so rounding never accumulates. `inexact` counts the
//! values that were not bit-identical.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::ffi::{c_char, c_void, CStr};
use std::fmt::Write as _;
use std::ptr;

use ngc_cells::*;

/// Where the driver's choices come from. `None`: exhausted (the run stops).
pub trait Entropy {
    fn next_u64(&mut self) -> Option<u64>;
}

/// SplitMix64: a seeded, reproducible stream.
pub struct SplitMix(pub u64);

impl Entropy for SplitMix {
    fn next_u64(&mut self) -> Option<u64> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Some(z ^ (z >> 31))
    }
}

/// A fuzzer's input, one byte per choice.
pub struct Bytes<'a>(pub &'a [u8]);

impl Entropy for Bytes<'_> {
    fn next_u64(&mut self) -> Option<u64> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(u64::from(b))
    }
}

struct R<'a> {
    e: &'a mut dyn Entropy,
}

impl R<'_> {
    fn below(&mut self, n: u64) -> Option<u64> {
        Some(self.e.next_u64()? % n.max(1))
    }
    fn upto(&mut self, n: usize) -> Option<usize> {
        Some(self.below(n as u64 + 1)? as usize)
    }
    fn pct(&mut self, p: u64) -> Option<bool> {
        Some(self.below(100)? < p)
    }
}

const ARENA_LEN: usize = 64;
const MAX_CELLS: usize = 5;
const NAMES: [&CStr; 7] = [
    c"p",
    c"target",
    c"modulator",
    c"mask",
    c"L",
    c"dp",
    c"dtarget",
];
const REST: [f64; 7] = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0];
const L_IDX: usize = 4;
const COMPUTED: [bool; 7] = [false, false, false, false, true, true, true];

/// One caller buffer: real memory the library sees, and the model's copy.
struct Arena {
    f64: bool,
    mem: *mut u8,
    shadow: Vec<f64>,
}

impl Arena {
    fn new(f64: bool, seed: usize) -> Arena {
        let init: Vec<f64> = (0..ARENA_LEN)
            .map(|i| ((i * 37 + seed * 11) % 17) as f64 * 0.125 - 1.0)
            .collect();
        let mem = if f64 {
            Box::into_raw(init.clone().into_boxed_slice()).cast::<u8>()
        } else {
            let v: Vec<f32> = init.iter().map(|&x| x as f32).collect();
            Box::into_raw(v.into_boxed_slice()).cast::<u8>()
        };
        Arena {
            f64,
            mem,
            shadow: init,
        }
    }
    fn elem(&self) -> usize {
        if self.f64 {
            8
        } else {
            4
        }
    }
    fn at(&self, i: usize) -> *mut u8 {
        self.mem.wrapping_add(i * self.elem())
    }
    fn real(&self, i: usize) -> f64 {
        assert!(i < ARENA_LEN);
        // SAFETY: in bounds; the library is not running.
        unsafe {
            if self.f64 {
                self.mem.cast::<f64>().add(i).read()
            } else {
                f64::from(self.mem.cast::<f32>().add(i).read())
            }
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: made by Box::into_raw of a boxed slice of ARENA_LEN elements.
        unsafe {
            if self.f64 {
                drop(Box::from_raw(ptr::slice_from_raw_parts_mut(
                    self.mem.cast::<f64>(),
                    ARENA_LEN,
                )));
            } else {
                drop(Box::from_raw(ptr::slice_from_raw_parts_mut(
                    self.mem.cast::<f32>(),
                    ARENA_LEN,
                )));
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Comp {
    Owned(Vec<f64>),
    Bound {
        arena: usize,
        off: usize,
        cap: usize,
    },
}

/// The model of one live cell.
struct MCell {
    h: *mut NgcCell,
    f64: bool,
    logits: bool,
    n_units: usize,
    shape: Option<[usize; 3]>,
    batch: usize,
    init_batch: usize,
    threads: usize,
    comps: Vec<Comp>,
    /// After an advance: sum of |log-likelihood terms|, the scale of `L`'s tolerance.
    l_scale: f64,
}

impl MCell {
    fn unit(&self) -> usize {
        match self.shape {
            None => self.n_units,
            Some([h, w, c]) => h * w * c,
        }
    }
    fn count(&self, i: usize) -> usize {
        if i == L_IDX {
            1
        } else {
            self.batch * self.unit()
        }
    }
    fn round(&self, v: f64) -> f64 {
        if self.f64 {
            v
        } else {
            v as f32 as f64
        }
    }
    fn read(&self, arenas: &[Arena], i: usize) -> Vec<f64> {
        match &self.comps[i] {
            Comp::Owned(v) => v.clone(),
            Comp::Bound { arena, off, .. } => {
                arenas[*arena].shadow[*off..*off + self.count(i)].to_vec()
            }
        }
    }
    fn write(&mut self, arenas: &mut [Arena], i: usize, vals: &[f64]) {
        assert_eq!(vals.len(), self.count(i));
        match &mut self.comps[i] {
            Comp::Owned(v) => v.copy_from_slice(vals),
            Comp::Bound { arena, off, .. } => {
                arenas[*arena].shadow[*off..*off + vals.len()].copy_from_slice(vals)
            }
        }
    }
}

/// The same element formula as README's, in the cell's precision.
macro_rules! element_fn {
    ($name:ident, $t:ty) => {
        /// `(dp, dtarget, ll, new mask)` for one element.
        fn $name(logits: bool, p: $t, x: $t, m: $t, k: $t) -> ($t, $t, $t, $t) {
            let lo = 1e-4_f64 as $t;
            let hi = (1.0_f64 - 1e-4) as $t;
            let sig = |z: $t| (1.0 as $t) / ((1.0 as $t) + (-z).exp());
            let raw = if logits { sig(p) } else { p };
            // jnp.clip: NaN stays NaN.
            let q = if raw < lo {
                lo
            } else if raw > hi {
                hi
            } else {
                raw
            };
            let one = 1.0 as $t;
            let ll = x * q.ln() + (one - x) * (one - q).ln();
            let g = if logits {
                x - q
            } else {
                let s = sig(p);
                (x / q - (one - x) / (one - q)) * (s * (one - s))
            };
            let dp = g * m * k;
            let dt = (q.ln() - (one - q).ln()) * m * k;
            (dp, dt, ll, k * (0.0 as $t) + one)
        }
    };
}
element_fn!(element_f32, f32);
element_fn!(element_f64, f64);

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[derive(Clone, Copy, Debug)]
enum H {
    Live(usize),
    Null,
    NotACell,
    Misaligned(usize),
}

#[derive(Clone, Copy, Debug)]
enum N {
    Good(usize),
    Unknown,
    WrongCase,
    NonUtf8,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Variant {
    Untyped,
    F32,
    F64,
}

/// Where a pointer argument points.
#[derive(Clone, Copy, Debug)]
enum Mem {
    Null,
    Misaligned,
    Arena { arena: usize, off: usize },
    Fresh,
}

/// What a run did, for the report.
#[derive(Default, Debug)]
pub struct Stats {
    /// Random calls made (the count the tests report).
    pub calls: u64,
    /// Extra calls made to check the state after them.
    pub check_calls: u64,
    /// How often each status was predicted and returned.
    pub statuses: BTreeMap<NgcStatus, u64>,
    /// Computed values that matched the model within tolerance but not bit for bit.
    pub inexact: u64,
    /// Largest relative deviation of such a value.
    pub max_rel_dev: f64,
    pub cells_created: u64,
}

pub struct Driver {
    label: String,
    cells: Vec<MCell>,
    arenas: Vec<Arena>,
    not_a_cell: *mut u64,
    trace: VecDeque<String>,
    pub stats: Stats,
}

impl Drop for Driver {
    fn drop(&mut self) {
        for c in self.cells.drain(..) {
            // SAFETY: a live handle the driver owns.
            unsafe { ngc_cell_free(c.h) };
        }
        // SAFETY: made by Box::into_raw of a boxed [u64; 64].
        drop(unsafe { Box::from_raw(self.not_a_cell.cast::<[u64; 64]>()) });
        // Arenas drop after the cells that may have bound them.
    }
}

fn status_name(st: NgcStatus) -> String {
    // SAFETY: static string.
    unsafe { CStr::from_ptr(ngc_status_str(st)) }
        .to_string_lossy()
        .into_owned()
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

/// An impossible allocation (far past any machine) that still passes the size checks.
const HUGE_BYTES: usize = 1 << 50;

impl Driver {
    pub fn new(label: &str) -> Driver {
        Driver {
            label: label.to_string(),
            cells: Vec::new(),
            arenas: (0..4).map(|i| Arena::new(i >= 2, i)).collect(),
            not_a_cell: Box::into_raw(Box::new([0u64; 64])).cast::<u64>(),
            trace: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    fn fail(&self, what: &str) -> ! {
        let mut t = String::new();
        for line in &self.trace {
            let _ = writeln!(t, "  {line}");
        }
        panic!(
            "{}: call #{}: {what}\nlast calls (newest last):\n{t}",
            self.label, self.stats.calls
        );
    }

    fn log(&mut self, s: String) {
        if self.trace.len() == 40 {
            self.trace.pop_front();
        }
        self.trace.push_back(s);
    }

    /// Makes one random call and checks it. `false`: the entropy ran out.
    pub fn step(&mut self, e: &mut dyn Entropy) -> bool {
        let mut r = R { e };
        self.step_inner(&mut r).is_some()
    }

    fn step_inner(&mut self, r: &mut R) -> Option<()> {
        let k = r.below(100)?;
        if self.cells.is_empty() && k >= 8 {
            return self.op_create(r);
        }
        match k {
            0..=7 => {
                if self.cells.len() >= MAX_CELLS {
                    self.op_free(r)
                } else {
                    self.op_create(r)
                }
            }
            8..=11 => self.op_free(r),
            12..=33 => self.op_bind(r),
            34..=41 => self.op_unbind(r),
            42..=56 => self.op_set(r),
            57..=66 => self.op_get(r),
            67..=81 => self.op_advance(r),
            82..=85 => self.op_reset(r, false),
            86..=92 => self.op_reset(r, true),
            93..=94 => self.op_threads(r),
            _ => self.op_query(r),
        }
    }

    // ---- argument generators ------------------------------------------------------

    fn gen_handle(&self, r: &mut R) -> Option<H> {
        let slot = r.below(self.cells.len() as u64)? as usize;
        Some(match r.below(100)? {
            0..=1 => H::Null,
            2..=3 => H::NotACell,
            4 if !self.cells.is_empty() => H::Misaligned(slot),
            _ if self.cells.is_empty() => H::Null,
            _ => H::Live(slot),
        })
    }

    fn handle_ptr(&self, h: H) -> *mut NgcCell {
        match h {
            H::Live(s) => self.cells[s].h,
            H::Null => ptr::null_mut(),
            H::NotACell => self.not_a_cell.cast(),
            H::Misaligned(s) => self.cells[s].h.cast::<u8>().wrapping_add(1).cast(),
        }
    }

    fn handle_err(h: H) -> Option<NgcStatus> {
        match h {
            H::Live(_) => None,
            H::Null => Some(NGC_ERR_NULL_POINTER),
            H::NotACell => Some(NGC_ERR_INVALID_HANDLE),
            H::Misaligned(_) => Some(NGC_ERR_MISALIGNED_POINTER),
        }
    }

    fn gen_name(r: &mut R) -> Option<N> {
        Some(match r.below(100)? {
            0..=2 => N::Unknown,
            3..=4 => N::WrongCase,
            5..=6 => N::NonUtf8,
            7..=8 => N::Null,
            _ => N::Good(r.below(7)? as usize),
        })
    }

    fn name_ptr(n: N) -> *const c_char {
        match n {
            N::Good(i) => NAMES[i].as_ptr(),
            N::Unknown => c"mu".as_ptr(),
            N::WrongCase => c"DP".as_ptr(),
            N::NonUtf8 => c"\xff\xfe".as_ptr(),
            N::Null => ptr::null(),
        }
    }

    fn name_err(n: N) -> Option<NgcStatus> {
        match n {
            N::Good(_) => None,
            N::Unknown | N::WrongCase => Some(NGC_ERR_UNKNOWN_COMPARTMENT),
            N::NonUtf8 => Some(NGC_ERR_INVALID_ARGUMENT),
            N::Null => Some(NGC_ERR_NULL_POINTER),
        }
    }

    /// A typed or untyped variant; mostly one the cell accepts.
    fn gen_variant(&self, r: &mut R, h: H) -> Option<Variant> {
        let cell_f64 = match h {
            H::Live(s) => self.cells[s].f64,
            _ => r.pct(50)?,
        };
        Some(match r.below(100)? {
            0..=39 => Variant::Untyped,
            40..=89 => {
                if cell_f64 {
                    Variant::F64
                } else {
                    Variant::F32
                }
            }
            _ => {
                if cell_f64 {
                    Variant::F32
                } else {
                    Variant::F64
                }
            }
        })
    }

    /// Whether the data behind a pointer argument is f64: the variant's type, or the
    /// cell's for an untyped call.
    fn data_f64(&self, h: H, v: Variant) -> bool {
        match v {
            Variant::F32 => false,
            Variant::F64 => true,
            Variant::Untyped => match h {
                H::Live(s) | H::Misaligned(s) => self.cells[s].f64,
                _ => false,
            },
        }
    }

    /// Common prefix of every compartment call: handle, name, dtype. `Err(status)`
    /// when one of them is refused; `Ok((slot, idx))` otherwise.
    fn prefix_err(&self, h: H, n: N, v: Variant) -> Result<(usize, usize), NgcStatus> {
        if let Some(st) = Self::handle_err(h) {
            return Err(st);
        }
        if let Some(st) = Self::name_err(n) {
            return Err(st);
        }
        let (H::Live(s), N::Good(i)) = (h, n) else {
            unreachable!()
        };
        let f64 = self.cells[s].f64;
        match v {
            Variant::F32 if f64 => Err(NGC_ERR_DTYPE_MISMATCH),
            Variant::F64 if !f64 => Err(NGC_ERR_DTYPE_MISMATCH),
            _ => Ok((s, i)),
        }
    }

    fn gen_mem(r: &mut R, len: usize, arena_pct: u64, f64: bool) -> Option<Mem> {
        let k = r.below(100)?;
        Some(if k < 3 {
            Mem::Null
        } else if k < 6 {
            Mem::Misaligned
        } else if k < 6 + arena_pct && len <= ARENA_LEN {
            let arena = r.below(2)? as usize + if f64 { 2 } else { 0 };
            let off = r.upto(ARENA_LEN - len)?;
            Mem::Arena { arena, off }
        } else {
            Mem::Fresh
        })
    }

    fn gen_value(r: &mut R) -> Option<f64> {
        Some(match r.below(100)? {
            0..=54 => r.below(1 << 20)? as f64 / (1u64 << 20) as f64 * 16.0 - 8.0,
            55..=69 => r.below(1 << 20)? as f64 / (1u64 << 20) as f64,
            70..=79 => r.below(2)? as f64,
            80 => -0.0,
            81 => 0.9999,
            82 => 1e-4,
            83 => 0.99995,
            84 => 1e-5,
            85 => f64::NAN,
            86 => f64::INFINITY,
            87 => f64::NEG_INFINITY,
            88..=91 => 1e3,
            92..=95 => -1e3,
            _ => 100.0,
        })
    }

    // ---- checks -------------------------------------------------------------------

    /// Checks a returned status against the prediction and the last-error message.
    fn check_status(&mut self, func: &str, want: NgcStatus, got: NgcStatus, before: &str) {
        self.stats.calls += 1;
        *self.stats.statuses.entry(got).or_default() += 1;
        if got != want {
            self.fail(&format!(
                "{func}: the model predicts {} but the library returned {} ({})",
                status_name(want),
                status_name(got),
                last_error()
            ));
        }
        self.check_message(func, got != NGC_OK, before);
    }

    fn check_message(&self, func: &str, failed: bool, before: &str) {
        let msg = last_error();
        if failed {
            if !msg.starts_with(&format!("{func}: ")) || msg.len() <= func.len() + 2 {
                self.fail(&format!("{func} failed with the message {msg:?}"));
            }
        } else if msg != before {
            self.fail(&format!(
                "{func} succeeded but changed the message from {before:?} to {msg:?}"
            ));
        }
    }

    /// Every caller buffer equals its shadow, bit for bit.
    fn check_arenas(&self) {
        for (a, arena) in self.arenas.iter().enumerate() {
            for i in 0..ARENA_LEN {
                let (real, model) = (arena.real(i), arena.shadow[i]);
                if !same(real, model) {
                    self.fail(&format!(
                        "caller buffer {a} element {i} is {real:e}, the model says {model:e}"
                    ));
                }
            }
        }
    }

    /// Compares the library's view of cell `s` with the model. With `computed`,
    /// `L`, `dp`, `dtarget` may differ within tolerance and are then adopted.
    fn check_cell(&mut self, s: usize, computed: bool) {
        let h = self.cells[s].h;
        let (mut b, mut t) = (0usize, 0usize);
        // SAFETY: live handle, valid out pointers.
        unsafe {
            assert_eq!(ngc_cell_batch_size(h, &mut b), NGC_OK);
            assert_eq!(ngc_cell_threads(h, &mut t), NGC_OK);
        }
        self.stats.check_calls += 2;
        if b != self.cells[s].batch || t != self.cells[s].threads {
            self.fail(&format!(
                "cell {s}: batch {b} threads {t}, the model says {} and {}",
                self.cells[s].batch, self.cells[s].threads
            ));
        }
        for i in 0..7 {
            let n = self.cells[s].count(i);
            let (mut len, mut bound) = (0usize, false);
            let actual: Vec<f64>;
            // SAFETY: live handle; out pointers valid; `get` writes `n` elements.
            unsafe {
                assert_eq!(
                    ngc_cell_compartment_len(h, NAMES[i].as_ptr(), &mut len),
                    NGC_OK
                );
                assert_eq!(ngc_cell_is_bound(h, NAMES[i].as_ptr(), &mut bound), NGC_OK);
                if self.cells[s].f64 {
                    let mut v = vec![0f64; n];
                    let st = ngc_cell_get_f64(h, NAMES[i].as_ptr(), v.as_mut_ptr(), n);
                    assert_eq!(st, NGC_OK, "{}", last_error());
                    actual = v;
                } else {
                    let mut v = vec![0f32; n];
                    let st = ngc_cell_get_f32(h, NAMES[i].as_ptr(), v.as_mut_ptr(), n);
                    assert_eq!(st, NGC_OK, "{}", last_error());
                    actual = v.into_iter().map(f64::from).collect();
                }
            }
            self.stats.check_calls += 3;
            let model_bound = matches!(self.cells[s].comps[i], Comp::Bound { .. });
            if len != n || bound != model_bound {
                self.fail(&format!(
                    "cell {s} {:?}: len {len} bound {bound}, the model says {n} and {model_bound}",
                    NAMES[i]
                ));
            }
            let expected = self.cells[s].read(&self.arenas, i);
            let tolerant = computed && COMPUTED[i];
            let rtol = if self.cells[s].f64 { 1e-9 } else { 1e-3 };
            let mut adopt = false;
            for (j, (&e, &a)) in expected.iter().zip(&actual).enumerate() {
                if same(e, a) {
                    continue;
                }
                let scale = if i == L_IDX {
                    self.cells[s].l_scale
                } else {
                    0.0
                };
                let scale = scale.max(e.abs()).max(1.0);
                let dev = (e - a).abs() / scale;
                if tolerant && e.is_finite() && a.is_finite() && dev <= rtol {
                    self.stats.inexact += 1;
                    self.stats.max_rel_dev = self.stats.max_rel_dev.max(dev);
                    adopt = true;
                    continue;
                }
                self.fail(&format!(
                    "cell {s} {:?}[{j}] is {a:e}, the model says {e:e}",
                    NAMES[i]
                ));
            }
            if adopt {
                let cell = &mut self.cells[s];
                cell.write(&mut self.arenas, i, &actual);
            }
        }
    }

    fn after(&mut self, slot: Option<usize>, computed: bool) {
        if let Some(s) = slot {
            self.check_cell(s, computed);
        }
        self.check_arenas();
        if self.stats.calls.is_multiple_of(97) {
            for s in 0..self.cells.len() {
                self.check_cell(s, false);
            }
        }
    }

    // ---- operations ---------------------------------------------------------------

    fn op_create(&mut self, r: &mut R) -> Option<()> {
        let name = match r.below(100)? {
            0..=1 => N::Null,
            2..=3 => N::NonUtf8,
            _ => N::Good(0),
        };
        let name_ptr = match name {
            N::Null => ptr::null(),
            N::NonUtf8 => c"\xc3\x28".as_ptr(),
            _ => c"rnd".as_ptr(),
        };
        let size = |r: &mut R, hi: u64| -> Option<usize> {
            Some(match r.below(100)? {
                0..=1 => 0,
                2 => usize::MAX,
                3 => 1 << 59,
                4 => usize::MAX / 8,
                _ => r.below(hi)? as usize + 1,
            })
        };
        let n_units = size(r, 4)?;
        let batch = size(r, 3)?;
        let logits = r.pct(50)?;
        let shape: Option<[usize; 3]> = if r.pct(20)? {
            Some([size(r, 2)?, size(r, 2)?, size(r, 2)?])
        } else {
            None
        };
        let shape_misaligned = shape.is_some() && r.pct(3)?;
        let dtype = match r.below(100)? {
            0 => 0,
            1 => 3,
            2 => -1,
            k if k < 51 => NGC_DTYPE_F32,
            _ => NGC_DTYPE_F64,
        };
        let out_kind = r.below(100)?; // 0: NULL, 1: misaligned, else valid

        // Predict, in the library's order.
        let elem = if dtype == NGC_DTYPE_F64 { 8 } else { 4 };
        let count = {
            let unit: Option<usize> = match shape {
                None => Some(n_units),
                Some([a, b, c]) => a.checked_mul(b).and_then(|x| x.checked_mul(c)),
            };
            unit.and_then(|u| batch.checked_mul(u))
        };
        let want = if out_kind == 0 {
            NGC_ERR_NULL_POINTER
        } else if out_kind == 1 {
            NGC_ERR_MISALIGNED_POINTER
        } else if matches!(name, N::Null) {
            NGC_ERR_NULL_POINTER
        } else if matches!(name, N::NonUtf8) {
            NGC_ERR_INVALID_ARGUMENT
        } else if shape_misaligned {
            NGC_ERR_MISALIGNED_POINTER
        } else if dtype != NGC_DTYPE_F32 && dtype != NGC_DTYPE_F64 {
            NGC_ERR_INVALID_DTYPE
        } else if n_units == 0 || shape.is_some_and(|s| s.contains(&0)) || batch == 0 {
            NGC_ERR_ZERO_SIZE
        } else if count.is_none_or(|c| c.checked_mul(8).is_none_or(|b| b > isize::MAX as usize)) {
            NGC_ERR_SIZE_OVERFLOW
        } else if count.unwrap() * elem >= HUGE_BYTES {
            NGC_ERR_ALLOCATION
        } else {
            NGC_OK
        };
        if want == NGC_OK && count.unwrap() > 64 {
            // Valid but larger than the caller buffers: keep cells small.
            return Some(());
        }

        let shape_buf: [usize; 4] = match shape {
            Some([a, b, c]) => [a, b, c, 0],
            None => [0; 4],
        };
        let shape_ptr: *const usize = match shape {
            None => ptr::null(),
            Some(_) if shape_misaligned => shape_buf.as_ptr().cast::<u8>().wrapping_add(4).cast(),
            Some(_) => shape_buf.as_ptr(),
        };
        let mut out_store = [0usize; 2];
        let out: *mut *mut NgcCell = match out_kind {
            0 => ptr::null_mut(),
            1 => out_store.as_mut_ptr().cast::<u8>().wrapping_add(4).cast(),
            _ => out_store.as_mut_ptr().cast(),
        };
        let before = last_error();
        // SAFETY: name NULL or NUL-terminated; shape NULL, or 3 readable sizes (a
        // misaligned one is refused unread); out NULL, misaligned (refused) or valid.
        let st = unsafe {
            ngc_bernoulli_error_cell_new(name_ptr, n_units, batch, logits, shape_ptr, dtype, out)
        };
        self.log(format!(
            "new(name {name:?}, n {n_units}, batch {batch}, logits {logits}, shape {shape:?}{}, dtype {dtype}, out {out_kind}) -> {}",
            if shape_misaligned { " misaligned" } else { "" },
            status_name(st)
        ));
        self.check_status("ngc_bernoulli_error_cell_new", want, st, &before);
        if st != NGC_OK {
            if out_store != [0, 0] {
                self.fail("a failed constructor wrote its output");
            }
            return Some(());
        }
        self.stats.cells_created += 1;
        let h = out_store[0] as *mut NgcCell;
        let f64 = dtype == NGC_DTYPE_F64;
        let mut cell = MCell {
            h,
            f64,
            logits,
            n_units,
            shape,
            batch,
            init_batch: batch,
            threads: 1,
            comps: Vec::new(),
            l_scale: 0.0,
        };
        cell.comps = (0..7)
            .map(|i| Comp::Owned(vec![REST[i]; cell.count(i)]))
            .collect();
        self.cells.push(cell);
        let s = self.cells.len() - 1;
        self.after(Some(s), false);
        Some(())
    }

    fn op_free(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let p = self.handle_ptr(h);
        let before = last_error();
        // SAFETY: a live handle (removed from the model below), NULL, or refused.
        unsafe { ngc_cell_free(p) };
        self.log(format!("free({h:?})"));
        self.stats.calls += 1;
        match h {
            H::Live(s) => {
                self.check_message("ngc_cell_free", false, &before);
                self.cells.remove(s);
            }
            H::Null => self.check_message("ngc_cell_free", false, &before),
            H::NotACell | H::Misaligned(_) => self.check_message("ngc_cell_free", true, &before),
        }
        self.after(None, false);
        Some(())
    }

    fn op_bind(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = Self::gen_name(r)?;
        let v = self.gen_variant(r, h)?;
        let f64 = self.data_f64(h, v);
        let count = match (h, n) {
            (H::Live(s), N::Good(i)) => self.cells[s].count(i),
            _ => 4,
        };
        let mem = Self::gen_mem(r, 1, 94, f64)?;
        let mem = if matches!(mem, Mem::Fresh) {
            Mem::Null
        } else {
            mem
        };
        let room = match mem {
            Mem::Arena { off, .. } => ARENA_LEN - off,
            _ => ARENA_LEN,
        };
        let cap = match r.below(100)? {
            0..=2 => [usize::MAX, usize::MAX / 2, usize::MAX / 4 + 1][r.below(3)? as usize],
            3..=12 => r.upto(count.saturating_sub(1))?,
            _ => (count + r.upto(count * 2)?).min(room),
        };
        let want = match self.prefix_err(h, n, v) {
            Err(st) => st,
            Ok((s, i)) => match mem {
                Mem::Null => NGC_ERR_NULL_POINTER,
                Mem::Misaligned => NGC_ERR_MISALIGNED_POINTER,
                Mem::Fresh => unreachable!(),
                Mem::Arena { arena, off } => {
                    let elem = if f64 { 8 } else { 4 };
                    if cap
                        .checked_mul(elem)
                        .is_none_or(|b| b > isize::MAX as usize)
                    {
                        NGC_ERR_SIZE_OVERFLOW
                    } else if cap < self.cells[s].count(i) {
                        NGC_ERR_CAPACITY_TOO_SMALL
                    } else if self.cells[s].comps.iter().enumerate().any(|(j, c)| {
                        j != i
                            && matches!(c, Comp::Bound { arena: a, off: o, cap: k }
                                if *a == arena && *o < off + cap && off < o + k)
                    }) {
                        NGC_ERR_OVERLAP
                    } else {
                        NGC_OK
                    }
                }
            },
        };
        let data: *mut c_void = match mem {
            Mem::Null | Mem::Fresh => ptr::null_mut(),
            Mem::Misaligned => {
                let a = if f64 { 2 } else { 0 };
                self.arenas[a]
                    .mem
                    .wrapping_add(if f64 { 4 } else { 1 })
                    .cast()
            }
            Mem::Arena { arena, off } => self.arenas[arena].at(off).cast(),
        };
        let cell = self.handle_ptr(h);
        let name = Self::name_ptr(n);
        let before = last_error();
        // SAFETY: arena memory is valid for `cap` elements of its type from `data`
        // (cap <= room) whenever the library may keep it; huge capacities, NULL and
        // misaligned pointers are refused before use. Arenas outlive every cell.
        let (st, func) = unsafe {
            match v {
                Variant::Untyped => (ngc_cell_bind(cell, name, data, cap), "ngc_cell_bind"),
                Variant::F32 => (
                    ngc_cell_bind_f32(cell, name, data.cast(), cap),
                    "ngc_cell_bind_f32",
                ),
                Variant::F64 => (
                    ngc_cell_bind_f64(cell, name, data.cast(), cap),
                    "ngc_cell_bind_f64",
                ),
            }
        };
        self.log(format!(
            "{func}({h:?}, {n:?}, {mem:?}, cap {cap}) -> {}",
            status_name(st)
        ));
        self.check_status(func, want, st, &before);
        let slot = if let H::Live(s) = h { Some(s) } else { None };
        if st == NGC_OK {
            let (H::Live(s), N::Good(i), Mem::Arena { arena, off }) = (h, n, mem) else {
                unreachable!()
            };
            self.cells[s].comps[i] = Comp::Bound { arena, off, cap };
        }
        self.after(slot, false);
        Some(())
    }

    fn op_unbind(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = Self::gen_name(r)?;
        let want = match self.prefix_err(h, n, Variant::Untyped) {
            Err(st) => st,
            Ok((s, i)) => match self.cells[s].comps[i] {
                Comp::Bound { .. } => NGC_OK,
                Comp::Owned(_) => NGC_ERR_NOT_BOUND,
            },
        };
        let before = last_error();
        // SAFETY: live, NULL, misaligned or not-a-cell handle; NUL-terminated or NULL name.
        let st = unsafe { ngc_cell_unbind(self.handle_ptr(h), Self::name_ptr(n)) };
        self.log(format!("unbind({h:?}, {n:?}) -> {}", status_name(st)));
        self.check_status("ngc_cell_unbind", want, st, &before);
        let slot = if let H::Live(s) = h { Some(s) } else { None };
        if st == NGC_OK {
            let (H::Live(s), N::Good(i)) = (h, n) else {
                unreachable!()
            };
            let vals = self.cells[s].read(&self.arenas, i);
            self.cells[s].comps[i] = Comp::Owned(vals);
        }
        self.after(slot, false);
        Some(())
    }

    /// A length: mostly the compartment's count, sometimes not.
    fn gen_len(r: &mut R, count: usize) -> Option<usize> {
        Some(match r.below(100)? {
            0..=84 => count,
            85..=88 => 0,
            89..=92 => count + 1,
            93..=96 => count.saturating_sub(1),
            _ => count * 2 + 1,
        })
    }

    fn op_set(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = Self::gen_name(r)?;
        let v = self.gen_variant(r, h)?;
        let f64 = self.data_f64(h, v);
        let count = match (h, n) {
            (H::Live(s), N::Good(i)) => self.cells[s].count(i),
            _ => 4,
        };
        let len = Self::gen_len(r, count)?;
        let mem = Self::gen_mem(r, len, 20, f64)?;
        let mut fresh: Vec<f64> = Vec::with_capacity(len);
        for _ in 0..len {
            let x = Self::gen_value(r)?;
            fresh.push(if f64 { x } else { x as f32 as f64 });
        }
        let want = match self.prefix_err(h, n, v) {
            Err(st) => st,
            Ok((s, i)) => match mem {
                Mem::Null => NGC_ERR_NULL_POINTER,
                Mem::Misaligned => NGC_ERR_MISALIGNED_POINTER,
                _ if len != self.cells[s].count(i) => NGC_ERR_LENGTH_MISMATCH,
                _ => NGC_OK,
            },
        };
        // The source values, read before the call (the model's view of memmove).
        let src_vals: Vec<f64> = match mem {
            Mem::Arena { arena, off } => self.arenas[arena].shadow[off..off + len].to_vec(),
            _ => fresh.clone(),
        };
        let fresh32: Vec<f32> = fresh.iter().map(|&x| x as f32).collect();
        let src: *const c_void = match mem {
            Mem::Null => ptr::null(),
            Mem::Misaligned => self.arenas[if f64 { 2 } else { 0 }]
                .mem
                .wrapping_add(if f64 { 4 } else { 2 })
                .cast(),
            Mem::Arena { arena, off } => self.arenas[arena].at(off).cast(),
            Mem::Fresh if f64 => fresh.as_ptr().cast(),
            Mem::Fresh => fresh32.as_ptr().cast(),
        };
        let cell = self.handle_ptr(h);
        let name = Self::name_ptr(n);
        let before = last_error();
        // SAFETY: `src` is NULL, misaligned (refused), or valid for `len` elements
        // of its type (an arena range that fits, or `fresh`).
        let (st, func) = unsafe {
            match v {
                Variant::Untyped => (ngc_cell_set(cell, name, src, len), "ngc_cell_set"),
                Variant::F32 => (
                    ngc_cell_set_f32(cell, name, src.cast(), len),
                    "ngc_cell_set_f32",
                ),
                Variant::F64 => (
                    ngc_cell_set_f64(cell, name, src.cast(), len),
                    "ngc_cell_set_f64",
                ),
            }
        };
        self.log(format!(
            "{func}({h:?}, {n:?}, {mem:?}, len {len}) -> {}",
            status_name(st)
        ));
        self.check_status(func, want, st, &before);
        let slot = if let H::Live(s) = h { Some(s) } else { None };
        if st == NGC_OK {
            let (H::Live(s), N::Good(i)) = (h, n) else {
                unreachable!()
            };
            let cell = &mut self.cells[s];
            cell.write(&mut self.arenas, i, &src_vals);
        }
        self.after(slot, false);
        Some(())
    }

    fn op_get(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = Self::gen_name(r)?;
        let v = self.gen_variant(r, h)?;
        let f64 = self.data_f64(h, v);
        let count = match (h, n) {
            (H::Live(s), N::Good(i)) => self.cells[s].count(i),
            _ => 4,
        };
        let len = Self::gen_len(r, count)?;
        let mem = Self::gen_mem(r, len, 25, f64)?;
        let want = match self.prefix_err(h, n, v) {
            Err(st) => st,
            Ok((s, i)) => match mem {
                Mem::Null => NGC_ERR_NULL_POINTER,
                Mem::Misaligned => NGC_ERR_MISALIGNED_POINTER,
                _ if len != self.cells[s].count(i) => NGC_ERR_LENGTH_MISMATCH,
                _ => NGC_OK,
            },
        };
        // A fresh destination has one guard element past `len`.
        const GUARD: f64 = 12345.0;
        let mut fresh64 = vec![GUARD; len + 1];
        let mut fresh32 = vec![GUARD as f32; len + 1];
        let dst: *mut c_void = match mem {
            Mem::Null => ptr::null_mut(),
            Mem::Misaligned => self.arenas[if f64 { 2 } else { 0 }]
                .mem
                .wrapping_add(if f64 { 4 } else { 2 })
                .cast(),
            Mem::Arena { arena, off } => self.arenas[arena].at(off).cast(),
            Mem::Fresh if f64 => fresh64.as_mut_ptr().cast(),
            Mem::Fresh => fresh32.as_mut_ptr().cast(),
        };
        let cell = self.handle_ptr(h);
        let name = Self::name_ptr(n);
        let before = last_error();
        // SAFETY: `dst` is NULL, misaligned (refused), or valid for `len` writes.
        let (st, func) = unsafe {
            match v {
                Variant::Untyped => (ngc_cell_get(cell, name, dst, len), "ngc_cell_get"),
                Variant::F32 => (
                    ngc_cell_get_f32(cell, name, dst.cast(), len),
                    "ngc_cell_get_f32",
                ),
                Variant::F64 => (
                    ngc_cell_get_f64(cell, name, dst.cast(), len),
                    "ngc_cell_get_f64",
                ),
            }
        };
        self.log(format!(
            "{func}({h:?}, {n:?}, {mem:?}, len {len}) -> {}",
            status_name(st)
        ));
        self.check_status(func, want, st, &before);
        let fresh: Vec<f64> = if f64 {
            fresh64.clone()
        } else {
            fresh32.iter().map(|&x| f64::from(x)).collect()
        };
        if !same(fresh[len], GUARD) {
            self.fail("ngc_cell_get wrote past len");
        }
        let slot = if let H::Live(s) = h { Some(s) } else { None };
        if st == NGC_OK {
            let (H::Live(s), N::Good(i)) = (h, n) else {
                unreachable!()
            };
            let expected = self.cells[s].read(&self.arenas, i);
            match mem {
                Mem::Fresh => {
                    for (j, (&e, &a)) in expected.iter().zip(&fresh).enumerate() {
                        if !same(e, a) {
                            self.fail(&format!(
                                "{func} {:?}[{j}] gave {a:e}, the model says {e:e}",
                                NAMES[i]
                            ));
                        }
                    }
                }
                Mem::Arena { arena, off } => {
                    self.arenas[arena].shadow[off..off + len].copy_from_slice(&expected)
                }
                _ => unreachable!(),
            }
        } else if matches!(mem, Mem::Fresh) && fresh.iter().any(|&x| !same(x, GUARD)) {
            self.fail(&format!("a refused {func} wrote its destination"));
        }
        self.after(slot, false);
        Some(())
    }

    fn op_advance(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let want = Self::handle_err(h).unwrap_or(NGC_OK);
        let before = last_error();
        // SAFETY: live (bound arenas alive), NULL, misaligned or not-a-cell handle.
        let st = unsafe { ngc_cell_advance(self.handle_ptr(h), 0.0, 1.0) };
        self.log(format!("advance({h:?}) -> {}", status_name(st)));
        self.check_status("ngc_cell_advance", want, st, &before);
        let H::Live(s) = h else {
            self.after(None, false);
            return Some(());
        };
        let cell = &self.cells[s];
        let ins: Vec<Vec<f64>> = (0..4).map(|i| cell.read(&self.arenas, i)).collect();
        let n = cell.count(0);
        let (mut dp, mut dt, mut mask) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let (mut acc, mut scale) = (0.0f64, 0.0f64);
        for j in 0..n {
            let (p, x, m, k) = (ins[0][j], ins[1][j], ins[2][j], ins[3][j]);
            let (a, b, ll, c) = if cell.f64 {
                element_f64(cell.logits, p, x, m, k)
            } else {
                let (a, b, ll, c) =
                    element_f32(cell.logits, p as f32, x as f32, m as f32, k as f32);
                (a as f64, b as f64, ll as f64, c as f64)
            };
            dp[j] = a;
            dt[j] = b;
            mask[j] = c;
            acc += ll;
            scale += ll.abs();
        }
        let l = cell.round(acc);
        let cell = &mut self.cells[s];
        cell.write(&mut self.arenas, 3, &mask);
        cell.write(&mut self.arenas, L_IDX, &[l]);
        cell.write(&mut self.arenas, 5, &dp);
        cell.write(&mut self.arenas, 6, &dt);
        cell.l_scale = scale;
        self.after(Some(s), true);
        Some(())
    }

    fn op_reset(&mut self, r: &mut R, batched: bool) -> Option<()> {
        let h = self.gen_handle(r)?;
        let b = match r.below(100)? {
            0..=4 => 0,
            5..=7 => usize::MAX,
            8..=10 => usize::MAX / 3,
            11..=13 => 1 << 58,
            _ => r.below(4)? as usize + 1,
        };
        let want = match Self::handle_err(h) {
            Some(st) => st,
            None => {
                let H::Live(s) = h else { unreachable!() };
                let cell = &self.cells[s];
                let b = if batched { b } else { cell.init_batch };
                let count = b.checked_mul(cell.unit());
                if b == 0 {
                    NGC_ERR_ZERO_SIZE
                } else if count.is_none_or(|c| c.checked_mul(8).is_none_or(|x| x > isize::MAX as usize)) {
                    NGC_ERR_SIZE_OVERFLOW
                } else if cell.comps.iter().enumerate().any(|(i, c)| {
                    matches!(c, Comp::Bound { cap, .. } if *cap < if i == L_IDX { 1 } else { count.unwrap() })
                }) {
                    NGC_ERR_CAPACITY_TOO_SMALL
                } else if count.unwrap() * if cell.f64 { 8 } else { 4 } >= HUGE_BYTES {
                    NGC_ERR_ALLOCATION
                } else {
                    NGC_OK
                }
            }
        };
        let before = last_error();
        let p = self.handle_ptr(h);
        // SAFETY: live (bound arenas alive), NULL, misaligned or not-a-cell handle.
        let (st, func) = unsafe {
            if batched {
                (ngc_cell_batched_reset(p, b), "ngc_cell_batched_reset")
            } else {
                (ngc_cell_reset(p), "ngc_cell_reset")
            }
        };
        self.log(format!("{func}({h:?}, {b}) -> {}", status_name(st)));
        self.check_status(func, want, st, &before);
        let slot = if let H::Live(s) = h { Some(s) } else { None };
        if st == NGC_OK {
            let s = slot.unwrap();
            let cell = &mut self.cells[s];
            cell.batch = if batched { b } else { cell.init_batch };
            for (i, &r) in REST.iter().enumerate() {
                let rest = vec![r; cell.count(i)];
                match &cell.comps[i] {
                    Comp::Owned(_) => cell.comps[i] = Comp::Owned(rest),
                    Comp::Bound { .. } => cell.write(&mut self.arenas, i, &rest),
                }
            }
        }
        self.after(slot, false);
        Some(())
    }

    fn op_threads(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let t = [0usize, 1, 2, 3, 1000][r.below(5)? as usize];
        let want = Self::handle_err(h).unwrap_or(if t == 0 {
            NGC_ERR_INVALID_ARGUMENT
        } else {
            NGC_OK
        });
        let before = last_error();
        // SAFETY: live, NULL, misaligned or not-a-cell handle.
        let st = unsafe { ngc_cell_set_threads(self.handle_ptr(h), t) };
        self.log(format!("set_threads({h:?}, {t}) -> {}", status_name(st)));
        self.check_status("ngc_cell_set_threads", want, st, &before);
        let slot = if let H::Live(s) = h { Some(s) } else { None };
        if st == NGC_OK {
            self.cells[slot.unwrap()].threads = t.min(64); // ngc_cell_threads reports at most 64
        }
        self.after(slot, false);
        Some(())
    }

    fn op_query(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = Self::gen_name(r)?;
        let out_null = r.pct(4)?;
        let p = self.handle_ptr(h);
        let before = last_error();
        let slot = if let H::Live(s) = h { Some(s) } else { None };
        // Each query: (function, status, value as a number, the model's value).
        let which = r.below(4)?;
        let (func, st, got, model): (&str, NgcStatus, f64, Option<f64>) = match which {
            0 => {
                let mut v = usize::MAX;
                let out = if out_null { ptr::null_mut() } else { &mut v };
                // SAFETY: out NULL (refused) or valid.
                let st = unsafe { ngc_cell_batch_size(p, out) };
                let m = slot.map(|s| self.cells[s].batch as f64);
                ("ngc_cell_batch_size", st, v as f64, m)
            }
            1 => {
                let mut v = f64::NAN;
                let out = if out_null { ptr::null_mut() } else { &mut v };
                // SAFETY: out NULL (refused) or valid.
                let st = unsafe { ngc_cell_loss(p, out) };
                let m = slot.map(|s| self.cells[s].read(&self.arenas, L_IDX)[0]);
                ("ngc_cell_loss", st, v, m)
            }
            2 => {
                let mut v = usize::MAX;
                let out = if out_null { ptr::null_mut() } else { &mut v };
                // SAFETY: out NULL (refused) or valid; name NULL or NUL-terminated.
                let st = unsafe { ngc_cell_compartment_len(p, Self::name_ptr(n), out) };
                let m = match (slot, n) {
                    (Some(s), N::Good(i)) => Some(self.cells[s].count(i) as f64),
                    _ => None,
                };
                ("ngc_cell_compartment_len", st, v as f64, m)
            }
            _ => {
                let mut v = false;
                let out = if out_null { ptr::null_mut() } else { &mut v };
                // SAFETY: out NULL (refused) or valid; name NULL or NUL-terminated.
                let st = unsafe { ngc_cell_is_bound(p, Self::name_ptr(n), out) };
                let m = match (slot, n) {
                    (Some(s), N::Good(i)) => Some(f64::from(u8::from(matches!(
                        self.cells[s].comps[i],
                        Comp::Bound { .. }
                    )))),
                    _ => None,
                };
                ("ngc_cell_is_bound", st, f64::from(u8::from(v)), m)
            }
        };
        // The library checks the out-pointer first, then the handle, then the name.
        let uses_name = which >= 2;
        let want = if out_null {
            NGC_ERR_NULL_POINTER
        } else if let Some(e) = Self::handle_err(h) {
            e
        } else if let (true, Some(e)) = (uses_name, Self::name_err(n)) {
            e
        } else {
            NGC_OK
        };
        self.log(format!(
            "{func}({h:?}, {n:?}, out_null {out_null}) -> {}",
            status_name(st)
        ));
        self.check_status(func, want, st, &before);
        if st == NGC_OK {
            let m = model.unwrap();
            if !same(got, m) {
                self.fail(&format!("{func} gave {got:e}, the model says {m:e}"));
            }
        }
        self.after(slot, false);
        Some(())
    }
}

/// Runs `calls` random calls from `seed`; returns the stats.
pub fn run_seeded(seed: u64, calls: u64) -> Stats {
    let mut d = Driver::new(&format!("seed {seed:#x}"));
    let mut e = SplitMix(seed);
    while d.stats.calls < calls {
        d.step(&mut e);
    }
    std::mem::take(&mut d.stats)
}
