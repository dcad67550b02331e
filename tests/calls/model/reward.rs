//! RewardErrorCell, from ngc-learn's formulas (`FAMILY.md` section 7) and the
//! library's documented differences: `reward` is reset to 0 like every input;
//! `batched_reset` works; `ema_window_len` 0 is refused.

use ngc_cells::*;

use super::{comp, CellModel, CompSpec, Computed, Extent, Kind, NewArgs, Role, State, Tol};

const COMPS: &[CompSpec] = &[
    comp(c"mu", 0.0, Extent::State, Role::Input),
    comp(c"reward", 0.0, Extent::State, Role::Input),
    comp(c"rpe", 0.0, Extent::State, Role::Output),
    comp(c"accum_reward", 0.0, Extent::State, Role::Output),
    comp(c"n_ep_steps", 0.0, Extent::PerSample, Role::Output),
];
const MU: usize = 0;
const REWARD: usize = 1;
const RPE: usize = 2;
const ACCUM: usize = 3;
const STEPS: usize = 4;

pub struct Reward {
    alpha: f64,
    ema_window_len: usize,
    online: bool,
}

/// `a * b + c` in the cell's precision, each operation rounded (the model does
/// not fuse; the library may, within the tolerance).
fn mul_add(st: &State, a: f64, b: f64, c: f64) -> f64 {
    st.round(st.round(a * b) + c)
}

impl CellModel for Reward {
    fn comps(&self) -> &'static [CompSpec] {
        COMPS
    }
    fn type_name(&self) -> &'static str {
        "RewardErrorCell"
    }
    fn describe(&self) -> String {
        format!(
            "alpha {}, ema_window_len {}, online {}",
            self.alpha, self.ema_window_len, self.online
        )
    }
    fn func(&self) -> &'static str {
        "ngc_reward_error_cell_new"
    }
    fn hyper_err_early(&self) -> Option<NgcStatus> {
        (self.ema_window_len == 0).then_some(NGC_ERR_ZERO_SIZE)
    }
    unsafe fn call_new(&self, a: &NewArgs) -> NgcStatus {
        // SAFETY: forwarded contract (this constructor takes no shape).
        unsafe {
            ngc_reward_error_cell_new(
                a.name,
                a.n_units,
                a.batch,
                self.alpha,
                self.ema_window_len,
                self.online,
                a.dtype,
                a.out,
            )
        }
    }
    fn loss_index(&self) -> Option<usize> {
        None
    }
    fn advance(&mut self, st: &mut State, _t: f64, _dt: f64) -> Computed {
        // 1 - alpha in double, rounded once (a Python constant in ngc-learn).
        let (alpha, keep) = (st.round(self.alpha), st.round(1.0 - self.alpha));
        let n = st.vals[MU].len();
        let mut scale = Vec::with_capacity(n);
        for i in 0..n {
            let (mu, r) = (st.vals[MU][i], st.vals[REWARD][i]);
            st.vals[ACCUM][i] = st.round(st.vals[ACCUM][i] + r);
            st.vals[RPE][i] = st.round(r - mu);
            if self.online {
                // mu * (1 - alpha) + reward * alpha: two products, one sum.
                st.vals[MU][i] = st.round(st.round(mu * keep) + st.round(r * alpha));
            }
            scale.push((mu * keep).abs() + (r * alpha).abs());
        }
        for i in 0..st.vals[STEPS].len() {
            st.vals[STEPS][i] = st.round(st.vals[STEPS][i] + 1.0);
        }
        let mut computed: Computed = vec![None; COMPS.len()];
        computed[MU] = Some(Tol { scale });
        computed
    }
    fn evolve(&mut self, st: &mut State, _t: f64, _dt: f64) -> Option<Computed> {
        let mut computed: Computed = vec![None; COMPS.len()];
        if !self.online {
            return Some(computed);
        }
        let w = self.ema_window_len as f64;
        let (keep, take) = (st.round(1.0 - 1.0 / w), st.round(1.0 / w));
        let per_sample = st.unit_len();
        let n = st.vals[MU].len();
        let mut scale = Vec::with_capacity(n);
        for i in 0..n {
            let r = st.round(st.vals[ACCUM][i] / st.vals[STEPS][i / per_sample]);
            let mu = st.vals[MU][i];
            st.vals[MU][i] = mul_add(st, take, r, st.round(keep * mu));
            scale.push((keep * mu).abs() + (take * r).abs());
        }
        computed[MU] = Some(Tol { scale });
        Some(computed)
    }
}

/// The family row of this type (tests/common/family.rs), with its fixed
/// hyper-parameters.
pub fn rows() -> Vec<Kind> {
    vec![Kind {
        label: "reward",
        takes_shape: false,
        new: None,
        gen: |_| {
            Some(Box::new(Reward {
                alpha: 0.1,
                ema_window_len: 10,
                online: true,
            }))
        },
    }]
}

/// Hyper-parameters drawn at random: `alpha` outside [0, 1] too, the window 0
/// (refused) to 10, the predictor on and off.
pub fn randomized() -> Vec<Kind> {
    vec![Kind {
        label: "reward_random",
        takes_shape: false,
        new: None,
        gen: |r| {
            Some(Box::new(Reward {
                alpha: r.pick(&[0.1, 0.5, 0.0, 1.0, 0.9, -0.5, 2.0])?,
                ema_window_len: r.pick(&[1, 2, 10, 10, 3, 0])?,
                online: r.pct(70)?,
            }))
        },
    }]
}
