//! The replay engine: runs any fixture case through the C ABI and compares every
//! compartment with the reference, using the tolerances a cell module derives.
//!
//! Comparison rules (the same for every cell type):
//! - NaN positions, infinities (with their sign) and the sign of zeros: exactly.
//! - Compartments the cell module gives no tolerance for (inputs, rest values after a
//!   reset, the eaten mask, `dSigma`, `n_ep_steps`, ...): bit for bit.
//! - The others: `|ours - ref| <= tol`, `tol` per element from the cell module, derived
//!   from the inputs the op reads (read back through the ABI before the op) and, for
//!   state carried from step to step, from how far ours already was from the reference.
//! - Denormals: XLA on CPU flushes subnormal inputs and results to zero (FTZ/DAZ);
//!   ngc-cells keeps IEEE arithmetic. "Reference 0, ours within `flush`" (by default
//!   `MIN_NORMAL * FTZ_FACTOR`) is accepted only in cases marked `"denormal": true`, is
//!   counted and printed, and each marked case must show at least one.
//! - Dims of every compartment: exactly (`ngc_cell_compartment_dims`); `ngc_cell_loss`
//!   is `L` when `L` has one element and `NGC_ERR_NOT_SUPPORTED` otherwise.
//! - Where the fixture marks an op `"differs"` (ngc-cells differs from ngc-learn on
//!   purpose), "expect" is ngc-cells' documented result; the reasons are collected.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{c_char, CString};
use std::fmt::Display;

use ngc_cells::*;
use serde_json::Value;

/// A flushed subnormal (XLA runs with FTZ/DAZ) can change an output by at most a
/// subnormal times a gain (at most about 1e4 in these cases): `MIN_NORMAL * 2^20`
/// bounds that.
pub const FTZ_FACTOR: f64 = 1048576.0;

/// An element type of a cell.
pub trait Elem: Copy + PartialEq + Display + std::fmt::Debug + Send + Sync + 'static {
    const DTYPE: NgcDtype;
    /// "float32" / "float64", as in the fixtures.
    const NAME: &'static str;
    /// "f32" / "f64", the fixture file suffix.
    const SUFFIX: &'static str;
    /// Machine epsilon of the dtype (the gap between 1 and the next number).
    const EPS: f64;
    /// The smallest positive normal number of the dtype.
    const MIN_NORMAL: f64;
    fn parse(s: &str) -> Self;
    fn to_f64(self) -> f64;
    /// Rounds a double to the dtype.
    fn from_f64(v: f64) -> Self;
    fn is_nan(self) -> bool;
    fn bits(self) -> u64;
    /// # Safety
    /// As `ngc_cell_set_f32/f64`.
    unsafe fn set(
        cell: *mut NgcCell,
        comp: *const c_char,
        src: *const Self,
        len: usize,
    ) -> NgcStatus;
    /// # Safety
    /// As `ngc_cell_get_f32/f64`.
    unsafe fn get(
        cell: *const NgcCell,
        comp: *const c_char,
        dst: *mut Self,
        len: usize,
    ) -> NgcStatus;
}

impl Elem for f32 {
    const DTYPE: NgcDtype = NGC_DTYPE_F32;
    const NAME: &'static str = "float32";
    const SUFFIX: &'static str = "f32";
    const EPS: f64 = f32::EPSILON as f64;
    const MIN_NORMAL: f64 = f32::MIN_POSITIVE as f64;
    fn parse(s: &str) -> Self {
        s.parse()
            .unwrap_or_else(|e| panic!("bad float32 {s:?}: {e}"))
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    unsafe fn set(c: *mut NgcCell, n: *const c_char, s: *const Self, len: usize) -> NgcStatus {
        unsafe { ngc_cell_set_f32(c, n, s, len) }
    }
    unsafe fn get(c: *const NgcCell, n: *const c_char, d: *mut Self, len: usize) -> NgcStatus {
        unsafe { ngc_cell_get_f32(c, n, d, len) }
    }
}

impl Elem for f64 {
    const DTYPE: NgcDtype = NGC_DTYPE_F64;
    const NAME: &'static str = "float64";
    const SUFFIX: &'static str = "f64";
    const EPS: f64 = f64::EPSILON;
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    fn parse(s: &str) -> Self {
        s.parse()
            .unwrap_or_else(|e| panic!("bad float64 {s:?}: {e}"))
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
    unsafe fn set(c: *mut NgcCell, n: *const c_char, s: *const Self, len: usize) -> NgcStatus {
        unsafe { ngc_cell_set_f64(c, n, s, len) }
    }
    unsafe fn get(c: *const NgcCell, n: *const c_char, d: *mut Self, len: usize) -> NgcStatus {
        unsafe { ngc_cell_get_f64(c, n, d, len) }
    }
}

// ---------------------------------------------------------------------------------------
// fixtures

pub fn load(file: &str) -> Value {
    let path = format!(
        "{}/tests/reference/fixtures/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One number of the fixture: the shortest decimal of the dtype, parsed straight into it
/// (serde_json keeps the text: `arbitrary_precision`), or "NaN" / "Infinity" / "-Infinity".
pub fn num<T: Elem>(v: &Value) -> T {
    match v {
        Value::Number(n) => T::parse(&n.to_string()),
        Value::String(s) => match s.as_str() {
            "NaN" => T::parse("NaN"),
            "Infinity" => T::parse("inf"),
            "-Infinity" => T::parse("-inf"),
            other => panic!("bad number string {other:?}"),
        },
        other => panic!("bad number {other}"),
    }
}

/// An array of the fixture: a list, `{"fill": v}` or `"as_set"`.
pub fn array<T: Elem>(v: &Value, len: usize, as_set: Option<&Vec<T>>) -> Vec<T> {
    match v {
        Value::Array(a) => {
            assert_eq!(a.len(), len, "array length");
            a.iter().map(num::<T>).collect()
        }
        Value::Object(o) => vec![num::<T>(&o["fill"]); len],
        Value::String(s) if s == "as_set" => as_set.expect("\"as_set\" but nothing set").clone(),
        other => panic!("bad array {other}"),
    }
}

pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list of sizes: {v}"))
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

pub fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// A fixture's expectation for one compartment after an op: dims and values.
/// Format 1 (Bernoulli) has one `dims` for all compartments but `L` (0-d); format 2
/// gives each its own.
pub fn expectation<'a>(format: u64, exp: &'a Value, comp: &str) -> (Vec<usize>, &'a Value) {
    if format == 1 {
        let dims = if comp == "L" {
            vec![]
        } else {
            usizes(&exp["dims"])
        };
        (dims, &exp[comp])
    } else {
        (usizes(&exp[comp]["dims"]), &exp[comp]["values"])
    }
}

// ---------------------------------------------------------------------------------------
// the cell, through the C ABI only

pub struct Cell(pub *mut NgcCell);

impl Drop for Cell {
    fn drop(&mut self) {
        // SAFETY: a live handle from a constructor, freed once.
        unsafe { ngc_cell_free(self.0) }
    }
}

pub fn last_error() -> String {
    let mut buf = vec![0u8; 1100];
    // SAFETY: buf is writable for its length.
    let n = unsafe { ngc_last_error_message(buf.as_mut_ptr().cast(), buf.len()) };
    String::from_utf8_lossy(&buf[..n.min(buf.len() - 1)]).into_owned()
}

pub fn ok(status: NgcStatus, what: &str) {
    if status != NGC_OK {
        panic!("{what}: status {status}: {}", last_error());
    }
}

impl Cell {
    /// Wraps what a constructor wrote into `out` (after checking its status).
    pub fn from_new(status: NgcStatus, out: *mut NgcCell, what: &str) -> Cell {
        ok(status, what);
        assert!(!out.is_null(), "{what}: NGC_OK but no cell");
        Cell(out)
    }

    pub fn len(&self, comp: &str) -> usize {
        let c = cstr(comp);
        let mut n = 0usize;
        // SAFETY: live handle, valid name, out writable.
        ok(
            unsafe { ngc_cell_compartment_len(self.0, c.as_ptr(), &mut n) },
            "compartment_len",
        );
        n
    }

    pub fn dims(&self, comp: &str) -> Vec<usize> {
        let c = cstr(comp);
        let mut d = [0usize; 4];
        let mut nd = 0usize;
        // SAFETY: live handle, valid name, 4 writable dims.
        ok(
            unsafe { ngc_cell_compartment_dims(self.0, c.as_ptr(), d.as_mut_ptr(), 4, &mut nd) },
            "dims",
        );
        d[..nd].to_vec()
    }

    pub fn set<T: Elem>(&self, comp: &str, v: &[T]) {
        let c = cstr(comp);
        // SAFETY: live handle, valid name, v readable for its length.
        ok(
            unsafe { T::set(self.0, c.as_ptr(), v.as_ptr(), v.len()) },
            &format!("set {comp}"),
        );
    }

    pub fn get<T: Elem>(&self, comp: &str) -> Vec<T> {
        let n = self.len(comp);
        let c = cstr(comp);
        let mut v = Vec::with_capacity(n);
        // SAFETY: live handle, valid name, v writable for n elements (then set_len).
        unsafe {
            ok(T::get(self.0, c.as_ptr(), v.as_mut_ptr(), n), "get");
            v.set_len(n);
        }
        v
    }

    pub fn get_f64<T: Elem>(&self, comp: &str) -> Vec<f64> {
        self.get::<T>(comp).into_iter().map(T::to_f64).collect()
    }

    /// `ngc_cell_loss`: the status and the value.
    pub fn loss(&self) -> (NgcStatus, f64) {
        let mut l = 0.0;
        // SAFETY: live handle, out writable.
        let st = unsafe { ngc_cell_loss(self.0, &mut l) };
        (st, l)
    }

    pub fn batch_size(&self) -> usize {
        let mut b = 0;
        // SAFETY: live handle, out writable.
        ok(unsafe { ngc_cell_batch_size(self.0, &mut b) }, "batch_size");
        b
    }

    pub fn advance(&self, dt: f64) {
        // SAFETY: live handle.
        ok(unsafe { ngc_cell_advance(self.0, 0.0, dt) }, "advance");
    }

    pub fn reset(&self) {
        // SAFETY: live handle.
        ok(unsafe { ngc_cell_reset(self.0) }, "reset");
    }

    pub fn batched_reset(&self, b: usize) {
        // SAFETY: live handle.
        ok(
            unsafe { ngc_cell_batched_reset(self.0, b) },
            "batched_reset",
        );
    }
}

// ---------------------------------------------------------------------------------------
// what a cell module provides

/// One cell type's part of the replay: how to create its cells and the tolerances of
/// its outputs (computed once the op has run, from what it read and where it evaluated).
pub trait CellModule {
    /// The fixture file stem: `bernoulli`, `gaussian`, ...
    const KEY: &'static str;
    /// Creates the case's cell (in its state before the first op).
    fn create<T: Elem>(case: &Value) -> Cell;
    /// The tolerances of one advance or evolve, from what it read.
    fn budget<T: Elem>(step: &Step<'_, T>) -> Budget;
}

/// An advance or evolve that ran, as a cell module sees it. (Bernoulli's budget reads
/// only the inputs; the rest is for the cells whose state carries from step to step.)
#[allow(dead_code)]
pub struct Step<'a, T: Elem> {
    pub case: &'a Value,
    pub op: &'a Value,
    /// "advance" or "evolve".
    pub kind: &'a str,
    pub dt: f64,
    /// ngc-cells' compartments before the op (read through the ABI), as doubles.
    pub ours: &'a BTreeMap<String, Vec<f64>>,
    /// The same after the op: where a function of an output is checked, the tolerance
    /// may depend on where it was evaluated (never on the reference's value).
    pub after: &'a BTreeMap<String, Vec<f64>>,
    /// Their dims.
    pub dims: &'a BTreeMap<String, Vec<usize>>,
    /// The reference's compartments before the op (its last expectation, or what was set).
    pub reference: &'a BTreeMap<String, Vec<T>>,
}

#[allow(dead_code)]
impl<T: Elem> Step<'_, T> {
    pub fn v(&self, comp: &str) -> &[f64] {
        &self.ours[comp]
    }

    /// `|ours - reference|` before the op, per element: 0 where both are NaN or the
    /// same infinity, +inf where only one is non-finite. What a state carried from an
    /// earlier step brings in.
    pub fn dev(&self, comp: &str) -> Vec<f64> {
        let o = &self.ours[comp];
        let r = &self.reference[comp];
        o.iter()
            .zip(r)
            .map(|(&o, &r)| {
                let r = r.to_f64();
                if (o.is_nan() && r.is_nan()) || o == r {
                    0.0
                } else if o.is_finite() && r.is_finite() {
                    (o - r).abs()
                } else {
                    f64::INFINITY
                }
            })
            .collect()
    }

    pub fn denormal_case(&self) -> bool {
        self.case["denormal"].as_bool().unwrap_or(false)
    }
}

/// The tolerance of one element: `carried + abs + rel * |reference|`. `carried` is what
/// an earlier difference in the state this op reads already explains (0 for cells
/// without state); "largest error / tolerance" in the report is taken after it, as
/// `(error - carried) / (tolerance - carried)`: the share of the op's own budget used.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tol {
    pub abs: f64,
    pub rel: f64,
    pub carried: f64,
}

impl Tol {
    pub fn abs(abs: f64) -> Tol {
        Tol {
            abs,
            ..Tol::default()
        }
    }

    /// Only what an earlier difference explains (an op that does not touch the value).
    pub fn carried(carried: f64) -> Tol {
        Tol {
            carried,
            ..Tol::default()
        }
    }

    pub fn at(self, want: f64) -> f64 {
        self.carried + self.abs + self.rel * want.abs()
    }
}

/// Tolerances of one op; compartments without one are compared bit for bit.
#[derive(Default)]
pub struct Budget {
    pub tol: BTreeMap<&'static str, Vec<Tol>>,
    /// Where the reference may be 0 although ours is not (a flushed subnormal), how
    /// large ours may be there (default: `MIN_NORMAL * FTZ_FACTOR`). Only in cases
    /// marked denormal.
    pub flush: BTreeMap<&'static str, Vec<f64>>,
    /// Where flushing changes a value the reference did not flush to 0 (a count that
    /// lost the elements whose difference was subnormal): how far ours may be from the
    /// reference for that reason. Only in cases marked denormal; counted as flushes.
    pub flush_any: BTreeMap<&'static str, Vec<f64>>,
    /// Bounds of `|ours - exact|` to check against the float64 reference run on the
    /// same inputs (float32 cells only): `(compartment, element, bound)`.
    pub x64: Vec<(&'static str, usize, f64)>,
}

// ---------------------------------------------------------------------------------------
// the report

/// The largest errors seen for one output, over all cases of one dtype.
#[derive(Default, Clone)]
pub struct Stat {
    pub elements: usize,
    pub bit_exact: usize,
    /// Compared with a tolerance at least once (a row of the summary table).
    pub toleranced: bool,
    pub max_abs: f64,
    pub max_abs_at: String,
    pub max_rel: f64,
    pub max_rel_at: String,
    /// max of error / tolerance: how close to failing.
    pub max_ratio: f64,
    pub max_ratio_at: String,
    pub ftz: usize,
}

/// A value of a float32 cell to check against the float64 reference.
#[derive(Clone, Debug)]
pub struct X64Check {
    pub case: String,
    pub op: usize,
    pub comp: &'static str,
    pub idx: usize,
    pub ours: f64,
    pub bound: f64,
}

#[derive(Default)]
pub struct Report {
    pub cell: &'static str,
    pub dtype: &'static str,
    pub stats: BTreeMap<String, Stat>,
    pub failures: Vec<String>,
    pub ftz_cases: BTreeMap<String, usize>,
    pub cases: usize,
    pub advances: usize,
    pub evolves: usize,
    /// Why ngc-cells differs from ngc-learn, and in how many ops.
    pub differs: BTreeMap<String, usize>,
    pub x64: Vec<X64Check>,
    pub log: Vec<String>,
}

impl Report {
    pub fn fail(&mut self, msg: String) {
        if self.failures.len() < 40 {
            self.failures.push(msg);
        }
    }

    /// Compares one value: NaN, infinities and signed zeros exactly, the rest within `tol`.
    #[allow(clippy::too_many_arguments)]
    pub fn value<T: Elem>(
        &mut self,
        out: &str,
        at: &str,
        ours: T,
        want: T,
        tol: (f64, f64),
        flush: (f64, f64),
        ftz_ok: bool,
    ) {
        let (flush, flush_any) = flush;
        let (tol, carried) = tol;
        let st = self.stats.entry(out.to_string()).or_default();
        st.elements += 1;
        st.toleranced = true;
        let (o, w) = (ours.to_f64(), want.to_f64());
        if ours.is_nan() || want.is_nan() {
            if ours.is_nan() != want.is_nan() {
                self.fail(format!(
                    "{at}: {out} is {ours}, reference {want} (NaN must match)"
                ));
            } else {
                st.bit_exact += 1;
            }
            return;
        }
        if o.is_infinite() || w.is_infinite() {
            if o != w {
                self.fail(format!(
                    "{at}: {out} is {ours}, reference {want} (infinities must match)"
                ));
            } else {
                st.bit_exact += 1;
            }
            return;
        }
        if ours.bits() == want.bits() {
            st.bit_exact += 1;
            return;
        }
        let err = (o - w).abs();
        if o == 0.0 && w == 0.0 {
            self.fail(format!(
                "{at}: {out} is {ours}, reference {want} (sign of zero must match)"
            ));
            return;
        }
        let flushed = (w == 0.0 && err <= flush) || (err > tol && err <= flush_any);
        if flushed {
            // The reference is 0 where we have a number: a subnormal that XLA flushed
            // (or a value that such a flush changed).
            if ftz_ok {
                st.ftz += 1;
                let case = at.split(':').next().unwrap_or(at).to_string();
                *self.ftz_cases.entry(case).or_default() += 1;
                self.log.push(format!(
                    "  FTZ  {at}: {out} = {o:e} here, {w:e} in ngc-learn (XLA flushed a subnormal)"
                ));
            } else {
                self.fail(format!("{at}: {out} is {o:e}, reference {w:e}: a flushed subnormal outside a denormal case"));
            }
            return;
        }
        if err <= tol {
            if err > st.max_abs {
                st.max_abs = err;
                st.max_abs_at = format!("{at} ({ours} vs {want})");
            }
            if w != 0.0 && err / w.abs() > st.max_rel {
                st.max_rel = err / w.abs();
                st.max_rel_at = format!("{at} ({ours} vs {want})");
            }
            let ratio = if tol > carried {
                (err - carried).max(0.0) / (tol - carried)
            } else {
                0.0
            };
            if ratio > st.max_ratio {
                st.max_ratio = ratio;
                st.max_ratio_at = format!("{at} ({ours} vs {want})");
            }
            return;
        }
        self.fail(format!(
            "{at}: {out} is {ours}, reference {want}: error {err:e} > tolerance {tol:e}"
        ));
    }

    pub fn bitwise<T: Elem>(&mut self, out: &str, at: &str, ours: &[T], want: &[T]) {
        let st = self.stats.entry(out.to_string()).or_default();
        st.elements += ours.len();
        for (i, (o, w)) in ours.iter().zip(want).enumerate() {
            if o.bits() == w.bits() || (o.is_nan() && w.is_nan()) {
                st.bit_exact += 1;
            } else {
                self.fail(format!(
                    "{at}[{i}]: {out} is {o}, reference {w} (must be bit for bit)"
                ));
                return;
            }
        }
    }

    /// Prints what a `--nocapture` run shows.
    pub fn print(&self, versions: &Value) {
        println!(
            "{} {} conformance vs ngc-learn {} (jax {}): {} cases, {} advances, {} evolves",
            self.cell,
            self.dtype,
            versions["ngclearn"],
            versions["jax"],
            self.cases,
            self.advances,
            self.evolves
        );
        for line in &self.log {
            println!("{line}");
        }
        for (out, s) in &self.stats {
            if !s.toleranced {
                println!("  {out:<12} {:>7} elements, all bit for bit", s.elements);
                continue;
            }
            println!(
                "  {out:<12} {:>7} elements, {:>7} bit-exact, {} FTZ; max abs err {:e} at {}; max rel err {:e} at {}; max err/tol {:.3} at {}",
                s.elements, s.bit_exact, s.ftz, s.max_abs, s.max_abs_at, s.max_rel, s.max_rel_at, s.max_ratio, s.max_ratio_at
            );
        }
        for (why, n) in &self.differs {
            println!("  differs on purpose ({n} ops): {why}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// replay

/// Replays every case of `<M::KEY>_<T::SUFFIX>.json`.
pub fn replay<M: CellModule, T: Elem>() -> Report {
    let fx = load(&format!("{}_{}.json", M::KEY, T::SUFFIX));
    assert_eq!(fx["dtype"], T::NAME);
    let format = fx["format"].as_u64().unwrap();
    let compartments: Vec<String> = match format {
        1 => ["p", "target", "modulator", "mask", "L", "dp", "dtarget"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        _ => fx["compartments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect(),
    };
    let mut rep = Report {
        cell: M::KEY,
        dtype: T::NAME,
        ..Report::default()
    };
    for case in fx["cases"].as_array().unwrap() {
        replay_case::<M, T>(case, format, &compartments, &mut rep);
    }
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        if case["denormal"].as_bool().unwrap() && !rep.ftz_cases.contains_key(name) {
            rep.fail(format!(
                "{name}: marked denormal, but shows no flush-to-zero difference"
            ));
        }
    }
    rep.print(&fx["versions"]);
    rep
}

fn replay_case<M: CellModule, T: Elem>(
    case: &Value,
    format: u64,
    compartments: &[String],
    rep: &mut Report,
) {
    let name = case["name"].as_str().unwrap();
    let ftz_ok = case["denormal"].as_bool().unwrap();
    let cell = M::create::<T>(case);
    let mut last_set: HashMap<String, Vec<T>> = HashMap::new();
    let mut reference: BTreeMap<String, Vec<T>> = BTreeMap::new();
    rep.cases += 1;
    for (k, op) in case["ops"].as_array().unwrap().iter().enumerate() {
        let kind = op["op"].as_str().unwrap();
        let at = format!("{name}: op {k} ({kind})");
        let mut budget = Budget::default();
        match kind {
            "set" | "set_shaped" => {
                let comp = op["compartment"].as_str().unwrap();
                let v: Vec<T> = if kind == "set" {
                    array::<T>(&op["values"], cell.len(comp), None)
                } else {
                    let dims = usizes(&op["dims"]);
                    let v = array::<T>(&op["values"], dims.iter().product(), None);
                    set_shaped(&cell, comp, &v, &dims);
                    v
                };
                if kind == "set" {
                    cell.set(comp, &v);
                }
                last_set.insert(comp.to_string(), v.clone());
                reference.insert(comp.to_string(), v);
                continue;
            }
            "advance" | "evolve" => {
                let read = || {
                    let mut ours = BTreeMap::new();
                    let mut dims = BTreeMap::new();
                    for c in compartments {
                        ours.insert(c.clone(), cell.get_f64::<T>(c));
                        dims.insert(c.clone(), cell.dims(c));
                    }
                    (ours, dims)
                };
                let (ours, dims) = read();
                let dt = op.get("dt").map_or(1.0, |d| d.as_f64().unwrap());
                if kind == "advance" {
                    cell.advance(dt);
                    rep.advances += 1;
                } else {
                    evolve(&cell, dt);
                    rep.evolves += 1;
                }
                let (after, _) = read();
                let step = Step {
                    case,
                    op,
                    kind,
                    dt,
                    ours: &ours,
                    after: &after,
                    dims: &dims,
                    reference: &reference,
                };
                budget = M::budget::<T>(&step);
            }
            "reset" => {
                cell.reset();
                last_set.retain(|c, _| reference_keeps(format, op, c));
            }
            "batched_reset" => {
                cell.batched_reset(op["batch_size"].as_u64().unwrap() as usize);
                last_set.retain(|c, _| reference_keeps(format, op, c));
            }
            "new" => {}
            other => panic!("{at}: unknown op {other}"),
        }
        if let Some(d) = op.get("differs").and_then(Value::as_object) {
            for why in d.values() {
                *rep.differs
                    .entry(why.as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        let exp = &op["expect"];
        let mut wants = BTreeMap::new();
        for comp in compartments {
            let (want_dims, values) = expectation(format, exp, comp);
            let got = cell.dims(comp);
            if got != want_dims {
                rep.fail(format!(
                    "{at}: {comp} has dims {got:?}, reference {want_dims:?}"
                ));
                return;
            }
            let len = want_dims.iter().product::<usize>();
            wants.insert(comp.clone(), array::<T>(values, len, last_set.get(comp)));
        }
        let first = &compartments[0];
        let batch = expectation(format, exp, first).0[0];
        if cell.batch_size() != batch {
            rep.fail(format!(
                "{at}: batch size {}, reference {batch}",
                cell.batch_size()
            ));
        }
        for comp in compartments {
            let want = &wants[comp];
            let ours = cell.get::<T>(comp);
            let at_c = format!("{at} {comp}");
            if comp == "L" {
                check_loss(&cell, &ours, &at, rep);
            }
            match budget.tol.get(comp.as_str()) {
                Some(tol) => {
                    let flush = budget.flush.get(comp.as_str());
                    let flush_any = budget.flush_any.get(comp.as_str());
                    for (i, (o, w)) in ours.iter().zip(want).enumerate() {
                        let fl = (
                            flush.map_or(T::MIN_NORMAL * FTZ_FACTOR, |f| f[i]),
                            flush_any.map_or(0.0, |f| f[i]),
                        );
                        let at_i = if ours.len() == 1 {
                            at_c.clone()
                        } else {
                            format!("{at_c}[{i}]")
                        };
                        let t = (tol[i].at(w.to_f64()), tol_or_zero(tol[i].carried));
                        rep.value(comp, &at_i, *o, *w, t, fl, ftz_ok);
                    }
                }
                None => rep.bitwise(comp, &at_c, &ours, want),
            }
        }
        for (comp, idx, bound) in budget.x64 {
            let ours = cell.get::<T>(comp)[idx].to_f64();
            rep.x64.push(X64Check {
                case: name.to_string(),
                op: k,
                comp,
                idx,
                ours,
                bound,
            });
        }
        reference = wants;
    }
}

/// Whether an "as_set" after a reset may still mean the values set before it: only for
/// what the reset keeps (`Sigma`/`Scale`), which the generator writes out otherwise.
fn reference_keeps(format: u64, _op: &Value, comp: &str) -> bool {
    format == 2 && (comp == "Sigma" || comp == "Scale")
}

/// `ngc_cell_loss`: `L` when it has one element, `NGC_ERR_NOT_SUPPORTED` otherwise.
fn check_loss<T: Elem>(cell: &Cell, l: &[T], at: &str, rep: &mut Report) {
    let (st, loss) = cell.loss();
    if l.len() == 1 {
        if st != NGC_OK {
            rep.fail(format!("{at}: ngc_cell_loss gave status {st}"));
        } else if loss.to_bits() != l[0].to_f64().to_bits() && !(loss.is_nan() && l[0].is_nan()) {
            rep.fail(format!("{at}: ngc_cell_loss {loss} is not L {}", l[0]));
        }
    } else if st != NGC_ERR_NOT_SUPPORTED {
        rep.fail(format!(
            "{at}: ngc_cell_loss on an L of {} elements gave status {st}, not NGC_ERR_NOT_SUPPORTED",
            l.len()
        ));
    }
}

/// The cell-type-independent part of `set_shaped`/`evolve`, switched on with the family
/// constructors (they land together on main).
fn set_shaped<T: Elem>(cell: &Cell, comp: &str, v: &[T], dims: &[usize]) {
    crate::family::set_shaped(cell, comp, v, dims)
}

fn evolve(cell: &Cell, dt: f64) {
    crate::family::evolve(cell, dt)
}

// ---------------------------------------------------------------------------------------
// shared checks of the fixture files

/// The names of a fixture's cases.
pub fn case_names(fx: &Value) -> Vec<String> {
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// Both files of a cell: made by the pinned reference in the right mode, same cases.
pub fn check_fixture_pair(key: &str, format: u64) -> (Value, Value) {
    let f32x = load(&format!("{key}_f32.json"));
    let f64x = load(&format!("{key}_f64.json"));
    for (fx, dtype, x64) in [(&f32x, "float32", false), (&f64x, "float64", true)] {
        let file = format!("{key} {dtype}");
        assert_eq!(fx["format"], format, "{file}");
        assert_eq!(fx["dtype"], dtype, "{file}");
        assert_eq!(fx["jax_enable_x64"], x64, "{file}");
        assert_eq!(fx["versions"]["ngclearn"], "3.2.3", "{file}");
        assert_eq!(fx["versions"]["ngcsimlib"], "3.1.1", "{file}");
        for k in ["jax", "jaxlib", "numpy", "python"] {
            assert!(
                fx["versions"][k].is_string(),
                "{file}: version of {k} not recorded"
            );
        }
        let names = case_names(fx);
        let unique: BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{file}: duplicate case names");
        for c in fx["cases"].as_array().unwrap() {
            let ops = c["ops"].as_array().unwrap();
            assert!(
                ops.iter().any(|o| o["op"] == "advance"),
                "{file}: {} never advances",
                c["name"]
            );
            if format == 2 {
                check_differs(&file, fx, c);
            }
        }
    }
    assert_eq!(
        case_names(&f32x),
        case_names(&f64x),
        "{key}: the two dtypes hold different cases"
    );
    (f32x, f64x)
}

/// A "differs" mark must be honest: every compartment listed in "reference" really
/// differs from the expectation, and every op that has "reference" has "differs".
fn check_differs(file: &str, fx: &Value, case: &Value) {
    let comps: Vec<&str> = fx["compartments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for op in case["ops"].as_array().unwrap() {
        let Some(r) = op.get("reference").and_then(Value::as_object) else {
            continue;
        };
        let d = op["differs"]
            .as_object()
            .unwrap_or_else(|| panic!("{file}: {}: reference without differs", case["name"]));
        for (comp, v) in r {
            assert!(comps.contains(&comp.as_str()), "{file}: {comp}");
            assert!(d.contains_key(comp), "{file}: {comp} not in differs");
            let e = &op["expect"][comp];
            assert!(
                e["dims"] != v["dims"] || e["values"] != v["values"],
                "{file}: {}: {comp} marked as differing but equal to the reference",
                case["name"]
            );
        }
    }
}
// ---------------------------------------------------------------------------------------
// helpers for the cell modules

/// For each element of an array of shape `dims` (row-major), the index of the element of
/// an array of shape `small` that numpy broadcasting pairs with it (`small` aligned to
/// the right, 1-sized dims repeated).
pub fn broadcast_index(dims: &[usize], small: &[usize]) -> Vec<usize> {
    let n: usize = dims.iter().product();
    assert!(small.len() <= dims.len(), "{small:?} against {dims:?}");
    let off = dims.len() - small.len();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; dims.len()];
    for _ in 0..n {
        let mut j = 0;
        for (a, &s) in small.iter().enumerate() {
            let i = if s == 1 { 0 } else { idx[off + a] };
            j = j * s + i;
        }
        out.push(j);
        for d in (0..dims.len()).rev() {
            idx[d] += 1;
            if idx[d] < dims[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// A tolerance that is NaN (from NaN inputs, whose outputs must match exactly anyway)
/// becomes 0.
pub fn tol_or_zero(t: f64) -> f64 {
    if t.is_nan() {
        0.0
    } else {
        t
    }
}

/// A constructor argument of a format-2 case.
pub fn arg<'a>(case: &'a Value, name: &str) -> &'a Value {
    let v = &case["constructor"][name];
    assert!(
        !v.is_null(),
        "{}: no constructor argument {name}",
        case["name"]
    );
    v
}

/// The optional `{H, W, C}` shape argument.
pub fn shape_arg(case: &Value) -> Option<[usize; 3]> {
    case["constructor"]["shape"].as_array().map(|s| {
        let s: Vec<usize> = s.iter().map(|x| x.as_u64().unwrap() as usize).collect();
        [s[0], s[1], s[2]]
    })
}

pub fn usize_arg(case: &Value, name: &str) -> usize {
    arg(case, name).as_u64().unwrap() as usize
}

pub fn f64_arg(case: &Value, name: &str) -> f64 {
    arg(case, name).as_f64().unwrap()
}
