//! LaplacianErrorCell: `s = sign(target - shift)`, `dshift = ((s/Scale)*modulator)*mask`,
//! `dtarget = ((-(s/Scale))*modulator)*mask`, `dScale = Scale*0 + 1`,
//! `L = squeeze(-(count of s != 0) * (1/Scale))` (FAMILY.md section 2).
//!
//! Tolerances as for GaussianErrorCell (`gaussian::param_error_budget` with the summand
//! `|sign e|`), plus what flushing does to a sign: XLA reads subnormal inputs as 0 and
//! flushes a subnormal difference, so where `0 < |target - shift| < 2 MIN_NORMAL` the
//! reference has `s = 0` where ngc-cells has `s = +-1`. There (only in cases marked
//! denormal) `dshift`/`dtarget` may be `+-modulator*mask/Scale` against the reference's
//! 0, and `L` may count those elements too (both counted as flushes).

use std::ptr;

use serde_json::Value;

use crate::engine::*;
use crate::gaussian::{coverage, param_error_budget};
use ngc_cells::ngc_laplacian_error_cell_new;

pub struct Laplacian;

impl CellModule for Laplacian {
    const KEY: &'static str = "laplacian";

    fn create<T: Elem>(case: &Value) -> Cell {
        let name = cstr(case["name"].as_str().unwrap());
        let shape = shape_arg(case);
        let mut out = ptr::null_mut();
        // SAFETY: valid name, shape NULL or 3 sizes, out writable.
        let st = unsafe {
            ngc_laplacian_error_cell_new(
                name.as_ptr(),
                usize_arg(case, "n_units"),
                usize_arg(case, "batch_size"),
                f64_arg(case, "scale"),
                shape.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                T::DTYPE,
                &mut out,
            )
        };
        Cell::from_new(st, out, "ngc_laplacian_error_cell_new")
    }

    fn budget<T: Elem>(step: &Step<'_, T>) -> Budget {
        let sign = |d: f64| if d == 0.0 || d.is_nan() { d.abs() } else { 1.0 };
        let mut b = param_error_budget::<T>(step, "shift", "Scale", "dshift", sign, 1.0);
        if !step.denormal_case() {
            return b;
        }
        let (p, x) = (step.v("shift"), step.v("target"));
        let (m, k) = (step.v("modulator"), step.v("mask"));
        let scale = step.v("Scale");
        let bidx = broadcast_index(&step.dims["shift"], &step.dims["Scale"]);
        let mut flush = b.flush["dshift"].clone();
        let mut flushable = 0.0;
        for i in 0..p.len() {
            let d = (x[i] - p[i]).abs();
            if d > 0.0 && d < 2.0 * T::MIN_NORMAL {
                let q = (m[i] * k[i] / scale[bidx[i]]).abs() * (1.0 + 4.0 * T::EPS);
                flush[i] = flush[i].max(tol_or_zero(q));
                flushable += 1.0;
            }
        }
        b.flush.insert("dshift", flush.clone());
        b.flush.insert("dtarget", flush);
        let l_flush = scale
            .iter()
            .map(|sj| tol_or_zero(flushable / sj.abs() * (1.0 + 4.0 * T::EPS)))
            .collect();
        b.flush_any.insert("L", l_flush);
        b
    }
}

/// CI guard: both files, the cases' count and what they cover, checked on the data.
pub fn fixtures_cover_what_family_md_lists() {
    let (f32x, f64x) = check_fixture_pair("laplacian", 2);
    for fx in [&f32x, &f64x] {
        let mut seen = coverage(fx, "shift", "Scale", "scale");
        // Its L is a count, exact in any order: no large case.
        seen.remove("n >= 25088");
        seen.insert("ties (target = shift)".into(), has_tie(fx));
        for (what, ok) in &seen {
            assert!(ok, "laplacian {}: no case covers {what}", fx["dtype"]);
        }
        assert!(fx["cases"].as_array().unwrap().len() >= 20);
    }
}

fn has_tie(fx: &Value) -> bool {
    fx["cases"].as_array().unwrap().iter().any(|c| {
        c["ops"].as_array().unwrap().iter().any(|o| {
            o["op"] == "advance"
                && o["expect"]["dshift"]["values"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|v| v.as_f64() == Some(0.0)))
        })
    })
}
