//! RewardErrorCell (FAMILY.md section 7):
//!
//! ```text
//! advance: accum_reward += reward; rpe = reward - mu; mu = mu*(1-alpha) + reward*alpha;
//!          n_ep_steps += 1                                  (mu only if online)
//! evolve:  mu = (1 - 1/W)*mu + (1/W)*(accum_reward/n_ep_steps)   (only if online)
//! ```
//!
//! `mu` and `accum_reward` are state carried from step to step, so an earlier difference
//! comes back: each tolerance is what the op does to the difference ngc-cells already
//! had before it (`dev`, read from the previous expectation) plus `ULPS eps` of the
//! magnitudes it rounds. `n_ep_steps` (small integers) and `reward` (never written):
//! bit for bit.

use std::ptr;

use serde_json::Value;

use crate::engine::*;
use ngc_cells::ngc_reward_error_cell_new;

pub const ULPS: f64 = 16.0;

pub struct Reward;

impl CellModule for Reward {
    const KEY: &'static str = "reward";

    fn create<T: Elem>(case: &Value) -> Cell {
        let name = cstr(case["name"].as_str().unwrap());
        let mut out = ptr::null_mut();
        // SAFETY: valid name, out writable.
        let st = unsafe {
            ngc_reward_error_cell_new(
                name.as_ptr(),
                usize_arg(case, "n_units"),
                usize_arg(case, "batch_size"),
                f64_arg(case, "alpha"),
                usize_arg(case, "ema_window_len"),
                arg(case, "use_online_predictor").as_bool().unwrap(),
                T::DTYPE,
                &mut out,
            )
        };
        Cell::from_new(st, out, "ngc_reward_error_cell_new")
    }

    fn budget<T: Elem>(step: &Step<'_, T>) -> Budget {
        let e = T::EPS;
        let online = arg(step.case, "use_online_predictor").as_bool().unwrap();
        let alpha = f64_arg(step.case, "alpha");
        let w = usize_arg(step.case, "ema_window_len") as f64;
        let (mu, r, acc) = (step.v("mu"), step.v("reward"), step.v("accum_reward"));
        let steps = step.v("n_ep_steps");
        let (dmu, dacc) = (step.dev("mu"), step.dev("accum_reward"));
        let n = mu.len();
        let units = n / steps.len();
        let mut b = Budget::default();
        let mut t_mu = Vec::with_capacity(n);
        if step.kind == "advance" {
            let mut t_rpe = Vec::with_capacity(n);
            let mut t_acc = Vec::with_capacity(n);
            let a1 = T::from_f64(1.0 - alpha).to_f64();
            for i in 0..n {
                t_acc.push(Tol {
                    abs: 0.0,
                    rel: ULPS * e,
                    carried: dacc[i],
                });
                t_rpe.push(Tol {
                    abs: 0.0,
                    rel: ULPS * e,
                    carried: dmu[i],
                });
                t_mu.push(if online {
                    Tol {
                        abs: tol_or_zero(ULPS * e * ((mu[i] * a1).abs() + (r[i] * alpha).abs())),
                        rel: 0.0,
                        carried: a1.abs() * dmu[i],
                    }
                } else {
                    Tol::carried(dmu[i])
                });
            }
            b.tol.insert("rpe", t_rpe);
            b.tol.insert("accum_reward", t_acc);
        } else {
            // evolve leaves rpe and accum_reward as they were.
            b.tol.insert(
                "rpe",
                step.dev("rpe").into_iter().map(Tol::carried).collect(),
            );
            b.tol.insert(
                "accum_reward",
                dacc.iter().map(|&d| Tol::carried(d)).collect(),
            );
            let c1 = T::from_f64(1.0 - 1.0 / w).to_f64();
            for i in 0..n {
                let k = steps[i / units];
                t_mu.push(if online {
                    Tol {
                        abs: tol_or_zero(
                            ULPS * e * ((c1 * mu[i]).abs() + 2.0 * (acc[i] / (w * k)).abs()),
                        ),
                        rel: 0.0,
                        carried: c1.abs() * dmu[i] + dacc[i] / (w * k.abs()),
                    }
                } else {
                    Tol::carried(dmu[i])
                });
            }
        }
        b.tol.insert("mu", t_mu);
        b
    }
}

/// CI guard: both files, the cases' count and what they cover, checked on the data.
pub fn fixtures_cover_what_family_md_lists() {
    let (f32x, f64x) = check_fixture_pair("reward", 2);
    for fx in [&f32x, &f64x] {
        let cases = fx["cases"].as_array().unwrap();
        assert!(cases.len() >= 5);
        let mut seen = std::collections::BTreeMap::<&str, bool>::new();
        for c in cases {
            let ops = c["ops"].as_array().unwrap();
            let kinds: Vec<&str> = ops.iter().map(|o| o["op"].as_str().unwrap()).collect();
            let first = kinds.iter().find(|k| !k.starts_with("set") && **k != "new");
            *seen.entry("ngc-learn's own test").or_default() |= c["name"] == "ngclearn_own_test";
            *seen.entry("evolve before any advance").or_default() |= first == Some(&"evolve");
            *seen.entry("evolve").or_default() |= kinds.contains(&"evolve");
            *seen.entry("reset").or_default() |= kinds.contains(&"reset");
            *seen.entry("use_online_predictor false").or_default() |=
                c["constructor"]["use_online_predictor"] == false;
            *seen.entry("batch > 1").or_default() |=
                c["constructor"]["batch_size"].as_u64() > Some(1);
            *seen.entry("NaN/inf reward").or_default() |= ops
                .iter()
                .any(|o| o["compartment"] == "reward" && o["values"].to_string().contains("NaN"));
        }
        for (what, ok) in &seen {
            assert!(ok, "reward {}: no case covers {what}", fx["dtype"]);
        }
    }
}
