//! RateCell (FAMILY.md section 5). Stateful, per element:
//!
//! ```text
//! g  = dfx(z0)                     (at the old z, once per step)
//! j' = (j * g) * resist_scale      (written back into j)
//! u  = j' + j_td
//! f(zeta) = (-leak(zeta) * gamma + u) * (1/tau)
//! z1 = Euler / midpoint / RK4 step of f from z0 over dt; soft threshold; zF = fx(z1) * output_scale
//! ```
//! stateless: `z = j + j_td`, `zF = fx(z) * output_scale`.
//!
//! Every tolerance is derived from the inputs the step read (and where it evaluated a
//! function), output by output, and carries what ngc-cells' state already differed by
//! (`dev`: `z`, and `j` when it compounds):
//! - `j'`: `|rs| (|j0| Dg + |g| dev(j0)) + ULPS eps |j'|`, with `Dg` the change of `dfx`
//!   over `z0 +- dev(z0)` plus `ULPS eps` times the magnitude `dfx` is computed from:
//!   for tanh `1 - t^2` is computed from `t`, so `Dg` is ~eps absolute however small `g`
//!   is, and near saturation (|z| > 4) the relative error of `j'` grows to thousands of
//!   ulps: bounded from the inputs, not by loosening every comparison.
//! - `z1`: `A (dev(z0) + dt/tau Du) + ULPS eps (|z0| + dt/tau (|gamma| |leak| + |u|))`
//!   (+ `ULPS eps |z1|`), `A = exp(dt/tau |gamma| Lip(leak))` bounding how one step of
//!   any of the three integrators amplifies a difference in `z0`; for the laplacian
//!   prior (`sign`) a jump of `2 |gamma| dt/tau` where the step can reach 0.
//! - `zF`: `|os|` times the change of `fx` over `z1 +- tol(z1)` (step functions: their
//!   jump, where the interval holds it; bkwta: where an element is that close to its
//!   row's 5th largest) plus `ULPS eps` times the magnitude `fx` is computed from
//!   (`sin(30 z)`: `1 + 30 |z|`, since `30 z` is rounded).
//! - `j_td`, and `j` of a stateless cell: bit for bit.

use std::ptr;

use serde_json::Value;

use crate::engine::*;
use ngc_cells::ngc_rate_cell_new;

pub const ULPS: f64 = 16.0;

pub struct Rate;

impl CellModule for Rate {
    const KEY: &'static str = "rate";

    fn create<T: Elem>(case: &Value) -> Cell {
        let name = cstr(case["name"].as_str().unwrap());
        let s = |k: &str| cstr(arg(case, k).as_str().unwrap());
        let (prior, act, thr, integ) = (s("prior"), s("act_fx"), s("threshold"), s("integration"));
        let shape = shape_arg(case);
        let mut out = ptr::null_mut();
        // SAFETY: valid strings, shape NULL or 3 sizes, out writable.
        let st = unsafe {
            ngc_rate_cell_new(
                name.as_ptr(),
                usize_arg(case, "n_units"),
                usize_arg(case, "batch_size"),
                f64_arg(case, "tau_m"),
                prior.as_ptr(),
                f64_arg(case, "prior_leak"),
                act.as_ptr(),
                f64_arg(case, "output_scale"),
                thr.as_ptr(),
                f64_arg(case, "threshold_lambda"),
                integ.as_ptr(),
                f64_arg(case, "resist_scale"),
                arg(case, "is_stateful").as_bool().unwrap(),
                shape.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                T::DTYPE,
                &mut out,
            )
        };
        Cell::from_new(st, out, "ngc_rate_cell_new")
    }

    fn budget<T: Elem>(step: &Step<'_, T>) -> Budget {
        let e = T::EPS;
        let c = step.case;
        let act = Act::new(arg(c, "act_fx").as_str().unwrap());
        let os = f64_arg(c, "output_scale").abs();
        let tau = f64_arg(c, "tau_m");
        let stateful = arg(c, "is_stateful").as_bool().unwrap() && tau > 0.0;
        let dims = &step.dims["z"];
        let cols = if dims.len() == 2 { dims[1] } else { 0 };
        let (j0, jtd, z0) = (step.v("j"), step.v("j_td"), step.v("z"));
        let (j1, z1) = (&step.after["j"], &step.after["z"]);
        let (dj, djtd, dz) = (step.dev("j"), step.dev("j_td"), step.dev("z"));
        let n = z0.len();
        let mut b = Budget::default();
        let mut tz = Vec::with_capacity(n);
        let mut tj = Vec::with_capacity(n);
        if stateful {
            let prior = arg(c, "prior").as_str().unwrap();
            let gamma = f64_arg(c, "prior_leak").abs();
            let rs = f64_arg(c, "resist_scale").abs();
            let lam = if arg(c, "threshold") == "soft_threshold" {
                f64_arg(c, "threshold_lambda").abs()
            } else {
                0.0
            };
            let h = step.dt.abs() / tau;
            let (leak, lip): (fn(f64) -> f64, f64) = match prior {
                "gaussian" => (|z| z, 1.0),
                "laplacian" => (|z: f64| if z == 0.0 { 0.0 } else { z.signum() }, 0.0),
                "cauchy" => (|z| 2.0 * z / (1.0 + z * z), 2.0),
                "exp" => (|z| 2.0 * z * (-z * z).exp(), 2.0),
                other => panic!("prior {other}"),
            };
            let amp = (h * gamma * lip).exp();
            let dg = act.dev_row(z0, &dz, cols, false);
            for i in 0..n {
                let g = act.df(z0[i]);
                // j' = (j g) rs, written back: what the earlier differences in z and j
                // explain (carried), and dfx's own rounding (own).
                let j_carried = rs * (j0[i].abs() * 2.0 * dg[i] + g.abs() * dj[i]);
                let j_own = rs * j0[i].abs() * ULPS * e * act.mag_df(z0[i]);
                tj.push(Tol {
                    abs: tol_or_zero(j_own),
                    rel: ULPS * e,
                    carried: tol_or_zero(j_carried),
                });
                let u = j1[i] + jtd[i];
                let lmag = leak(z0[i]).abs().max(leak(z1[i]).abs()).max(lam);
                let z_carried = amp * (dz[i] + h * (j_carried + djtd[i]));
                let mut z_own = amp * h * (j_own + ULPS * e * (j1[i].abs() + u.abs()))
                    + ULPS * e * (z0[i].abs() + 2.0 * h * (gamma * lmag + u.abs()) + lam);
                if prior == "laplacian" && z0[i].abs() <= dz[i] + 2.0 * h * (gamma + u.abs()) {
                    // sign(zeta) may differ at a stage that reaches 0.
                    z_own += 2.0 * gamma * h * amp;
                }
                tz.push(Tol {
                    abs: tol_or_zero(z_own),
                    rel: ULPS * e,
                    carried: tol_or_zero(z_carried),
                });
            }
            b.tol.insert("j", tj);
        } else {
            for i in 0..n {
                tz.push(Tol {
                    abs: 0.0,
                    rel: ULPS * e,
                    carried: tol_or_zero(dj[i] + djtd[i]),
                });
            }
        }
        // zF = fx(z) * output_scale, at ngc-cells' z, which is within tz of the reference's.
        let tzv: Vec<f64> = (0..n).map(|i| tz[i].at(z1[i])).collect();
        let df = act.dev_row(z1, &tzv, cols, true);
        // (The change of fx over z's tolerance is what z's difference explains.)
        let tf = (0..n)
            .map(|i| Tol {
                abs: tol_or_zero(os * ULPS * e * act.mag_f(z1[i])),
                rel: ULPS * e,
                carried: tol_or_zero(os * 2.0 * df[i]),
            })
            .collect();
        b.tol.insert("z", tz);
        b.tol.insert("zF", tf);
        b
    }
}

/// One of ngc-learn's activation functions, in double precision (FAMILY.md 5.5).
#[derive(Clone, Copy)]
pub struct Act(&'static str);

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn step_at(x: f64, at: f64) -> f64 {
    if x >= at {
        1.0
    } else {
        0.0
    }
}

impl Act {
    pub fn new(name: &str) -> Act {
        const NAMES: [&str; 16] = [
            "identity",
            "tanh",
            "sigmoid",
            "relu",
            "lrelu",
            "relu6",
            "elu",
            "silu",
            "gelu",
            "telu",
            "softplus",
            "unit_threshold",
            "heaviside",
            "sine",
            "bkwta",
            "softmax",
        ];
        Act(NAMES
            .iter()
            .find(|n| **n == name)
            .unwrap_or_else(|| panic!("activation {name}")))
    }

    /// fx, element-wise (bkwta and softmax: see `dev_row`).
    pub fn f(self, x: f64) -> f64 {
        match self.0 {
            "identity" => x,
            "tanh" => x.tanh(),
            "sigmoid" => sigmoid(x),
            "relu" => x.max(0.0),
            "lrelu" => {
                if x >= 0.0 {
                    x
                } else {
                    0.01 * x
                }
            }
            "relu6" => x.clamp(0.0, 6.0),
            "elu" => {
                if x >= 0.0 {
                    x
                } else {
                    x.exp() - 1.0
                }
            }
            "silu" => x * sigmoid(x),
            "gelu" => x * sigmoid(1.702 * x),
            "telu" => x * x.exp().tanh(),
            "softplus" => x.max(0.0) + (-x.abs()).exp().ln_1p(),
            "unit_threshold" => step_at(x, 1.0),
            "heaviside" => step_at(x, 0.0),
            "sine" => (30.0 * x).sin(),
            other => panic!("{other} is not element-wise"),
        }
    }

    /// dfx, element-wise.
    pub fn df(self, x: f64) -> f64 {
        match self.0 {
            "identity" | "unit_threshold" | "heaviside" => 1.0,
            "tanh" => 1.0 - x.tanh().powi(2),
            "sigmoid" => sigmoid(x) * (1.0 - sigmoid(x)),
            "softplus" => sigmoid(x),
            "relu" => step_at(x, 0.0),
            "lrelu" => {
                if x >= 0.0 {
                    1.0
                } else {
                    0.01
                }
            }
            "relu6" => step_at(x, 0.0) * step_at(6.0, x),
            "elu" => {
                if x >= 0.0 {
                    1.0
                } else {
                    x.exp()
                }
            }
            "silu" => sigmoid(x) + x * sigmoid(x) * (1.0 - sigmoid(x)),
            "gelu" => {
                let s = sigmoid(1.702 * x);
                s + 1.702 * x * s * (1.0 - s)
            }
            "telu" => {
                let (ex, th) = (x.exp(), x.exp().tanh());
                th + x * ex * (1.0 - th * th)
            }
            "sine" => 30.0 * (30.0 * x).cos(),
            "bkwta" => 0.0, // (row-wise: dev_row)
            other => panic!("{other} has no element-wise derivative"),
        }
    }

    /// The magnitude fx is computed from (its rounding is ULPS eps of this).
    pub fn mag_f(self, x: f64) -> f64 {
        let x = if x.is_finite() { x } else { 0.0 };
        match self.0 {
            "unit_threshold" | "heaviside" | "bkwta" | "relu" | "relu6" | "identity" => 0.0,
            "elu" => self.f(x).abs().max(2.0 * x.exp().min(1.0)),
            "silu" | "gelu" | "telu" => 2.0 * x.abs(),
            "softplus" => self.f(x).abs() + 1.0,
            "sine" => 1.0 + 30.0 * x.abs(),
            "softmax" => 1.0,
            _ => self.f(x).abs().max(1e-300),
        }
    }

    /// The magnitude dfx is computed from.
    pub fn mag_df(self, x: f64) -> f64 {
        let x = if x.is_finite() { x } else { 0.0 };
        match self.0 {
            "identity" | "unit_threshold" | "heaviside" | "relu" | "relu6" | "bkwta" => 0.0,
            // 1 - t^2 from a rounded t: eps absolute, however small the result.
            "tanh" => 2.0,
            "sigmoid" | "softplus" => 2.0 * sigmoid(x),
            "lrelu" | "elu" => self.df(x).abs(),
            "silu" => 1.0 + 2.0 * x.abs(),
            "gelu" => 1.0 + 4.0 * x.abs(),
            "telu" => 2.0 + x.abs() * x.exp().min(1e300) * (2.0 + x.abs()),
            "sine" => 30.0 * (1.0 + 30.0 * x.abs()),
            other => panic!("{other}"),
        }
    }

    /// How much fx (`out`) or dfx (`!out`) can change when each `x[i]` moves by up to
    /// `d[i]`: for smooth functions the largest change over `x +- d` (sampled, and at
    /// least `|f'| d`), for step functions their jump where `x +- d` holds it, for bkwta
    /// 1 where an element is within `2 max(d)` of its row's 5th largest, for softmax
    /// `2 max(d)` of the row. `cols`: the row length (2-D cells), 0 for 4-D.
    pub fn dev_row(self, x: &[f64], d: &[f64], cols: usize, out: bool) -> Vec<f64> {
        let n = x.len();
        if self.0 == "bkwta" || (self.0 == "softmax" && out) {
            assert!(cols > 0, "{} needs a 2-D cell", self.0);
            let mut dev = vec![0.0; n];
            for r in 0..n / cols {
                let row = &x[r * cols..(r + 1) * cols];
                let dmax = d[r * cols..(r + 1) * cols]
                    .iter()
                    .fold(0.0f64, |a, &b| a.max(b));
                if dmax == 0.0 {
                    continue;
                }
                if self.0 == "softmax" {
                    dev[r * cols..(r + 1) * cols].fill(2.0 * dmax);
                    continue;
                }
                let mut sorted: Vec<f64> = row.to_vec();
                sorted.sort_by(|a, b| b.total_cmp(a));
                let kth = sorted[4.min(cols - 1)];
                for (i, &v) in row.iter().enumerate() {
                    if (v - kth).abs() <= 2.0 * dmax || !dmax.is_finite() {
                        dev[r * cols + i] = 1.0;
                    }
                }
            }
            return dev;
        }
        let f = |v: f64| if out { self.f(v) } else { self.df(v) };
        (0..n)
            .map(|i| {
                let (xi, di) = (x[i], d[i]);
                if di == 0.0 || !xi.is_finite() {
                    return 0.0;
                }
                if !di.is_finite() {
                    return f64::INFINITY;
                }
                let f0 = f(xi);
                [-1.0, -0.5, 0.5, 1.0]
                    .iter()
                    .map(|s| (f(xi + s * di) - f0).abs())
                    .fold(0.0f64, |a, b| if b.is_nan() { a } else { a.max(b) })
            })
            .collect()
    }
}

/// CI guard: both files, the cases' count and what they cover, checked on the data.
pub fn fixtures_cover_what_family_md_lists() {
    let (f32x, f64x) = check_fixture_pair("rate", 2);
    for fx in [&f32x, &f64x] {
        let cases = fx["cases"].as_array().unwrap();
        assert!(cases.len() >= 50, "{} cases", cases.len());
        let mut seen = std::collections::BTreeMap::<String, bool>::new();
        let mut mark = |what: String, yes: bool| *seen.entry(what).or_default() |= yes;
        for c in cases {
            let a = &c["constructor"];
            let stateful = a["is_stateful"] == true && a["tau_m"].as_f64().unwrap() > 0.0;
            let act = a["act_fx"].as_str().unwrap();
            let ops = c["ops"].as_array().unwrap();
            if stateful {
                mark(format!("stateful {act}"), true);
                for integ in ["euler", "midpoint", "rk4"] {
                    for prior in ["gaussian", "laplacian", "cauchy", "exp"] {
                        for fx_ in ["tanh", "identity"] {
                            mark(
                                format!("{prior} {integ} {fx_}"),
                                a["integration"] == integ && a["prior"] == prior && act == fx_,
                            );
                        }
                    }
                }
                // j compounding: advances with no set of j between them.
                let mut last_set_j = false;
                let mut compounding = false;
                let mut seen_adv = false;
                for o in ops {
                    if o["op"] == "set" && o["compartment"] == "j" {
                        last_set_j = true;
                    } else if o["op"] == "advance" {
                        compounding |= seen_adv && !last_set_j;
                        seen_adv = true;
                        last_set_j = false;
                    }
                }
                mark("j compounding".into(), compounding);
            } else {
                mark(format!("stateless {act}"), true);
            }
            mark("soft threshold".into(), a["threshold"] == "soft_threshold");
            mark("resist_scale != 1".into(), a["resist_scale"] != 1.0);
            mark("output_scale != 1".into(), a["output_scale"] != 1.0);
            mark("(batch, H, W, C)".into(), a["shape"].is_array());
            mark("tau_m 0".into(), a["tau_m"] == 0.0);
            mark("denormal case".into(), c["denormal"] == true);
            for o in ops {
                mark("reset".into(), o["op"] == "reset");
                mark("batched_reset".into(), o["op"] == "batched_reset");
                if let Some(dt) = o["dt"].as_f64() {
                    mark("dt < 1".into(), dt < 1.0);
                    mark("dt > 1".into(), dt > 1.0);
                }
                if o["op"] == "set" {
                    let v = o["values"].to_string();
                    mark("NaN input".into(), v.contains("\"NaN\""));
                    mark("inf input".into(), v.contains("Infinity"));
                }
            }
        }
        for act in [
            "identity",
            "tanh",
            "sigmoid",
            "relu",
            "lrelu",
            "relu6",
            "elu",
            "silu",
            "gelu",
            "telu",
            "softplus",
            "unit_threshold",
            "heaviside",
            "sine",
            "bkwta",
        ] {
            mark(format!("stateful {act}"), false);
            mark(format!("stateless {act}"), false);
        }
        mark("stateless softmax".into(), false);
        for (what, ok) in &seen {
            assert!(ok, "rate {}: no case covers {what}", fx["dtype"]);
        }
    }
}
