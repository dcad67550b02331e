//! GaussianErrorCell: `e = target - mu`, `dmu = ((e/Sigma)*modulator)*mask`,
//! `dtarget = ((-(e/Sigma))*modulator)*mask`, `dSigma = Sigma*0 + 1`,
//! `L = squeeze(-(sum of all e^2) * (0.5/Sigma))` (FAMILY.md section 1).
//!
//! Tolerances, per element, in units of the dtype's `eps`:
//! - `dmu`, `dtarget`: `ULPS eps` relative. `e` is one subtraction of the same two
//!   numbers in both, so there is no cancellation to amplify; what remains is
//!   `e/Sigma` against `e*(1/Sigma)` (XLA rewrites a division by a broadcast Sigma into
//!   a multiplication by its reciprocal: 1 ulp) and the order of the two products.
//! - `L_j` (one per element of Sigma): `(ULPS + n/2) eps * S * 0.5/|Sigma_j|` with
//!   `S = sum e^2` over all `n` elements: the reference sums `n` positive terms in the
//!   dtype in XLA's order (worst case `(n-1)/2 eps S`), ngc-cells in double precision.
//! - `mu`, `target`, `Sigma`, `modulator`, `mask` (eaten: `mask*0 + 1`), `dSigma`:
//!   bit for bit.
//!
//! Against the float64 reference on the same inputs (float32 cells): `L_j` within
//! `eps * (2 S 0.5/|Sigma_j| + 1.5 |L_j|)`: `e` rounded to float32 (eps/2 relative,
//! eps in `e^2`), `e^2` rounded (eps/2), `0.5/Sigma` and the product rounded (eps):
//! nothing for the sum, which ngc-cells does in double precision. A float32 sum breaks
//! it on `L_outliers_32x784`.

use std::collections::BTreeMap;
use std::ptr;

use serde_json::Value;

use crate::engine::*;
use ngc_cells::ngc_gaussian_error_cell_new;

/// As for BernoulliErrorCell: a handful of rounded operations, 16 eps.
pub const ULPS: f64 = 16.0;

pub struct Gaussian;

impl CellModule for Gaussian {
    const KEY: &'static str = "gaussian";

    fn create<T: Elem>(case: &Value) -> Cell {
        let name = cstr(case["name"].as_str().unwrap());
        let shape = shape_arg(case);
        let mut out = ptr::null_mut();
        // SAFETY: valid name, shape NULL or 3 sizes, out writable.
        let st = unsafe {
            ngc_gaussian_error_cell_new(
                name.as_ptr(),
                usize_arg(case, "n_units"),
                usize_arg(case, "batch_size"),
                f64_arg(case, "sigma"),
                shape.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                T::DTYPE,
                &mut out,
            )
        };
        Cell::from_new(st, out, "ngc_gaussian_error_cell_new")
    }

    fn budget<T: Elem>(step: &Step<'_, T>) -> Budget {
        param_error_budget::<T>(step, "mu", "Sigma", "dmu", |e| e * e, 0.5)
    }
}

/// The budget of Gaussian and Laplacian advances: `term(e)` is the summand of `L` as a
/// function of `e = target - pred` (`e^2`, `|sign e|`), `half` the constant over the
/// parameter (`0.5/Sigma`, `1/Scale`).
pub fn param_error_budget<T: Elem>(
    step: &Step<'_, T>,
    pred: &str,
    param: &str,
    dpred: &'static str,
    term: fn(f64) -> f64,
    half: f64,
) -> Budget {
    let e = T::EPS;
    let (p, x) = (step.v(pred), step.v("target"));
    let sig = step.v(param);
    let (m, k) = (step.v("modulator"), step.v("mask"));
    let bidx = broadcast_index(&step.dims[pred], &step.dims[param]);
    let n = p.len();
    // The sum of the (positive) summands: what the sum's rounding scales with.
    let s: f64 = (0..n).map(|i| term(x[i] - p[i])).sum();
    // XLA divides by a broadcast parameter as a product with its reciprocal, and
    // flushes a subnormal reciprocal (|param| > 2^126 in float32, 2^1022 in float64):
    // then the reference's derivative is 0 where the quotient is not. Allowed (and
    // counted as a flush) only in cases marked denormal.
    let mut flush = vec![T::MIN_NORMAL * FTZ_FACTOR; n];
    for i in 0..n {
        let sg = sig[bidx[i]];
        if (1.0 / sg).abs() < T::MIN_NORMAL {
            let q = ((x[i] - p[i]) / sg * m[i] * k[i]).abs() * (1.0 + 4.0 * e);
            flush[i] = flush[i].max(tol_or_zero(q));
        }
    }
    let rel = vec![
        Tol {
            abs: T::MIN_NORMAL,
            rel: ULPS * e,
            carried: 0.0,
        };
        n
    ];
    let mut b = Budget::default();
    b.tol.insert(dpred, rel.clone());
    b.tol.insert("dtarget", rel);
    b.flush.insert(dpred, flush.clone());
    b.flush.insert("dtarget", flush);
    let mut l = Vec::with_capacity(sig.len());
    let mut l_flush = Vec::with_capacity(sig.len());
    for (j, &sj) in sig.iter().enumerate() {
        let scale = half / sj.abs();
        l_flush.push(if scale < T::MIN_NORMAL {
            tol_or_zero(s * scale * (1.0 + 4.0 * e)).max(T::MIN_NORMAL * FTZ_FACTOR)
        } else {
            T::MIN_NORMAL * FTZ_FACTOR
        });
        l.push(Tol::abs(tol_or_zero(
            (ULPS + n as f64 / 2.0) * e * s * scale,
        )));
        if T::EPS > 1e-10 {
            let lj = s * scale;
            let bound = e * (2.0 * s * scale + 1.5 * lj);
            // (Where float32 overflows, infinities are compared exactly instead.)
            let fits = T::from_f64(s).to_f64().is_finite() && T::from_f64(lj).to_f64().is_finite();
            if bound.is_finite() && fits {
                b.x64.push(("L", j, bound));
            }
        }
    }
    b.tol.insert("L", l);
    b.flush.insert("L", l_flush);
    b
}

/// CI guard: both files, the cases' count and what they cover, checked on the data.
pub fn fixtures_cover_what_family_md_lists() {
    let (f32x, f64x) = check_fixture_pair("gaussian", 2);
    for fx in [&f32x, &f64x] {
        let seen = coverage(fx, "mu", "Sigma", "sigma");
        for (what, ok) in &seen {
            assert!(ok, "gaussian {}: no case covers {what}", fx["dtype"]);
        }
        assert!(fx["cases"].as_array().unwrap().len() >= 20);
    }
}

/// What the Gaussian and Laplacian cases must cover (FAMILY.md sections 1, 2).
pub fn coverage(fx: &Value, pred: &str, param: &str, arg_name: &str) -> BTreeMap<String, bool> {
    let mut seen = BTreeMap::<String, bool>::new();
    let mut mark = |what: &str, yes: bool| *seen.entry(what.to_string()).or_default() |= yes;
    for c in fx["cases"].as_array().unwrap() {
        let a = &c["constructor"];
        let v = a[arg_name].as_f64().unwrap();
        let (n, b) = (
            a["n_units"].as_u64().unwrap(),
            a["batch_size"].as_u64().unwrap(),
        );
        let hwc = a["shape"]
            .as_array()
            .map(|s| s.iter().map(|x| x.as_u64().unwrap()).collect::<Vec<_>>());
        mark("ngc-learn's own test", c["name"] == "ngclearn_own_test");
        mark(&format!("{arg_name} 0"), v == 0.0);
        mark(&format!("{arg_name} < 0"), v < 0.0);
        mark(&format!("{arg_name} >= 3e38"), v >= 3e38);
        mark(&format!("{arg_name} <= 1e-30"), v > 0.0 && v <= 1e-30);
        mark("(batch, H, W, C)", hwc.is_some());
        mark("(1, 1) cell", n == 1 && b == 1);
        mark("n >= 25088", n * b >= 25088);
        mark("denormal case", c["denormal"] == true);
        let ops = c["ops"].as_array().unwrap();
        mark(
            "several advances",
            ops.iter().filter(|o| o["op"] == "advance").count() >= 3,
        );
        for o in ops {
            mark("reset()", o["op"] == "reset");
            mark("batched_reset", o["op"] == "batched_reset");
            mark("a difference on purpose", o.get("differs").is_some());
            if o["op"] == "set_shaped" && o["compartment"] == param {
                let d: Vec<u64> = o["dims"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap())
                    .collect();
                let form = match (&hwc, d.as_slice()) {
                    (_, []) => "()".to_string(),
                    (None, [1, 1]) => "(1,1)".to_string(),
                    (None, [1, k]) if *k == n => "(1,n)".to_string(),
                    (None, [k]) if *k == n => "(n,)".to_string(),
                    (None, [k, 1]) if *k == b => "(B,1)".to_string(),
                    (None, [k, m]) if *k == b && *m == n => "(B,n)".to_string(),
                    (Some(s), [k]) if *k == s[2] => "4-D (C,)".to_string(),
                    (Some(s), [w, k]) if *w == s[1] && *k == s[2] => "4-D (W,C)".to_string(),
                    (Some(s), [h, w, k]) if [*h, *w, *k] == s[..] => "4-D (H,W,C)".to_string(),
                    _ => format!("other {d:?}"),
                };
                mark(&format!("{param} {form}"), true);
                let vals = o["values"].to_string();
                mark(
                    &format!("NaN/inf {param}"),
                    vals.contains("NaN") && vals.contains("Infinity"),
                );
            }
            if o["op"] == "set" {
                let comp = o["compartment"].as_str().unwrap();
                let vals = o["values"].to_string();
                let has = |x: f64| {
                    o["values"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|v| v.as_f64() == Some(x)))
                };
                if comp == pred || comp == "target" {
                    mark("NaN input", vals.contains("\"NaN\""));
                    mark("+inf input", vals.contains("\"Infinity\""));
                    mark("-inf input", vals.contains("\"-Infinity\""));
                }
                if comp == "mask" {
                    mark("mask with zeros", has(0.0));
                    mark("NaN mask", vals.contains("\"NaN\""));
                    mark("inf mask", vals.contains("Infinity"));
                }
                if comp == "modulator" {
                    mark("modulator 0", has(0.0));
                    mark(
                        "negative modulator",
                        o["values"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|v| v.as_f64().is_some_and(|x| x < 0.0))),
                    );
                }
            }
        }
    }
    for form in [
        "()",
        "(1,1)",
        "(1,n)",
        "(n,)",
        "(B,1)",
        "(B,n)",
        "4-D (C,)",
        "4-D (W,C)",
        "4-D (H,W,C)",
    ] {
        mark(&format!("{param} {form}"), false);
    }
    seen
}
