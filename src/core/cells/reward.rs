//! ngc-learn's `RewardErrorCell`: the reward prediction error of an online
//! reward predictor.
//!
//! The reference (ngc-learn 3.2.3; `dt` is not used):
//!
//! ```text
//! advance:  accum_reward = accum_reward + reward
//!           rpe          = reward - mu                 (the OLD mu)
//!           mu           = mu * (1 - alpha) + reward * alpha        (if use_online_predictor)
//!           n_ep_steps   = n_ep_steps + 1              (one per sample: shape (batch, 1))
//! evolve:   r  = accum_reward / n_ep_steps             (if use_online_predictor)
//!           mu = (1 - 1/W) * mu + (1/W) * r            (W = ema_window_len)
//! ```
//!
//! `1 - alpha`, `1/W` and `1 - 1/W` are computed in double precision and
//! rounded once to the cell's type, as JAX does with Python constants. An
//! evolve before any advance divides 0 by 0: `mu` becomes NaN, as in ngc-learn.
//! The resets give `mu`, `rpe`, `accum_reward` and `n_ep_steps` zeros and keep
//! `reward`'s shape only (ngc-learn does not reset `reward`; here it is reset
//! to 0 like every input: a documented difference).

use crate::core::error::CellError;
use crate::core::layout::Layout;
use crate::core::metadata::json_number;
use crate::core::platform::{Platform, Portable};
use crate::core::real::Real;
use crate::core::spec::{
    slot_array, CellSpec, CellType, CompartmentSpec, Extent, Hyper, Role, Shapes, Slot,
};
use crate::core::workspace::Workspace;
use crate::core::Cell;

/// The reward error cell's compartments, with ngc-learn's names and rest values.
pub const COMPARTMENTS: [CompartmentSpec; 5] = [
    CompartmentSpec::new(
        "mu",
        c"mu",
        Role::State,
        Extent::State,
        0.0,
        "Current state of the reward predictor",
    ),
    CompartmentSpec::new(
        "reward",
        c"reward",
        Role::Input,
        Extent::State,
        0.0,
        "External reward signals/values",
    ),
    CompartmentSpec::new(
        "rpe",
        c"rpe",
        Role::Output,
        Extent::State,
        0.0,
        "Reward prediction error at time t: reward - mu (mu before this step's update)",
    ),
    CompartmentSpec::new(
        "accum_reward",
        c"accum_reward",
        Role::State,
        Extent::State,
        0.0,
        "Accumulated episodic reward since the last reset",
    ),
    CompartmentSpec::new(
        "n_ep_steps",
        c"n_ep_steps",
        Role::State,
        Extent::PerSample,
        0.0,
        "Number of episodic steps taken since the last reset, one per sample: shape (batch, 1)",
    ),
];

/// The reward error cell type.
pub static SPEC: CellSpec = CellSpec {
    type_name: "RewardErrorCell",
    c_type_name: c"RewardErrorCell",
    description: "RewardErrorCell - computes the reward prediction error at each time step `t`; \
                  this is an online RPE estimator",
    dynamics: "rpe = reward - mu; mu = mu * (1 - alpha) + reward * alpha; accum_reward = \
               accum_reward + reward; n_ep_steps = n_ep_steps + 1; evolve: mu = (1 - 1/W) * mu + \
               (1/W) * accum_reward / n_ep_steps",
    takes_shape: false,
    compartments: &COMPARTMENTS,
};

/// ngc-learn's `RewardErrorCell` with its hyper-parameters.
#[derive(Clone, Copy, Debug)]
pub struct Reward {
    /// The moving-average decay factor of the online predictor.
    pub alpha: f64,
    /// `W`, the window length of the evolve step's moving average (at least 1).
    pub ema_window_len: usize,
    /// Whether `mu` is updated (by advance and evolve).
    pub use_online_predictor: bool,
}

impl<T: Real, P: Platform> CellType<T, P> for Reward {
    fn spec(&self) -> &'static CellSpec {
        &SPEC
    }

    fn hyperparameters(&self) -> Vec<Hyper> {
        vec![
            Hyper {
                name: "alpha",
                json: json_number(self.alpha),
                description: "Moving average decay factor",
            },
            Hyper {
                name: "ema_window_len",
                json: self.ema_window_len.to_string(),
                description: "Exponential moving average window length",
            },
            Hyper {
                name: "use_online_predictor",
                json: self.use_online_predictor.to_string(),
                description: "Should an online reward predictor be used/maintained?",
            },
        ]
    }

    fn param_dims(&self) -> Vec<usize> {
        Vec::new()
    }

    fn advance(
        &mut self,
        slots: &mut [Slot<'_, T>],
        shapes: &Shapes,
        _ws: &mut Workspace<P>,
        _dt: f64,
    ) -> Result<(), CellError> {
        let [mu, reward, rpe, accum, steps] = slot_array(slots, SPEC.type_name)?;
        let (mu, reward, rpe) = (mu.writable()?, reward.as_slice(), rpe.writable()?);
        let (accum, steps) = (accum.writable()?, steps.writable()?);
        let alpha = T::from_f64(self.alpha);
        let keep = T::from_f64(1.0 - self.alpha);
        for i in 0..mu.len() {
            accum[i] = accum[i] + reward[i];
            rpe[i] = reward[i] - mu[i];
            if self.use_online_predictor {
                mu[i] = mu[i] * keep + reward[i] * alpha;
            }
        }
        let _ = shapes;
        for s in steps.iter_mut() {
            *s = *s + T::ONE;
        }
        Ok(())
    }

    fn evolve(
        &mut self,
        slots: &mut [Slot<'_, T>],
        shapes: &Shapes,
        _ws: &mut Workspace<P>,
        _dt: f64,
    ) -> Result<(), CellError> {
        if !self.use_online_predictor {
            return Ok(());
        }
        let [mu, _reward, _rpe, accum, steps] = slot_array(slots, SPEC.type_name)?;
        let (mu, accum, steps) = (mu.writable()?, accum.as_slice(), steps.as_slice());
        let w = self.ema_window_len as f64;
        let (keep, take) = (T::from_f64(1.0 - 1.0 / w), T::from_f64(1.0 / w));
        let per_sample = shapes.len(Extent::State) / steps.len().max(1);
        for (i, m) in mu.iter_mut().enumerate() {
            let r = accum[i] / steps[i / per_sample];
            *m = keep * *m + take * r;
        }
        Ok(())
    }
}

/// Creates ngc-learn's `RewardErrorCell(name, n_units, alpha, ema_window_len,
/// use_online_predictor, batch_size)` on the portable platform.
pub fn reward_error_cell<T: Real>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    alpha: f64,
    ema_window_len: usize,
    use_online_predictor: bool,
) -> Result<Cell<T>, CellError> {
    reward_error_cell_on::<T, Portable>(
        name,
        n_units,
        batch_size,
        alpha,
        ema_window_len,
        use_online_predictor,
    )
}

/// [`reward_error_cell`] on platform `P`.
pub fn reward_error_cell_on<T: Real, P: Platform>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    alpha: f64,
    ema_window_len: usize,
    use_online_predictor: bool,
) -> Result<Cell<T, P>, CellError> {
    if ema_window_len == 0 {
        return Err(CellError::ZeroSize {
            what: "ema_window_len",
        });
    }
    let layout = Layout::new(n_units, batch_size, None)?;
    let kind = Reward {
        alpha,
        ema_window_len,
        use_online_predictor,
    };
    Cell::new(name, Box::new(kind), layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpe_uses_the_old_mu_and_evolve_averages_the_episode() {
        let mut c = reward_error_cell::<f64>("r", 2, 2, 0.5, 4, true).unwrap();
        assert_eq!(c.view("n_ep_steps").unwrap().shape(), &[2, 1]);
        c.set("reward", &[1.0, 2.0, 3.0, 4.0]).unwrap();
        c.advance(1.0).unwrap();
        assert_eq!(c.get("rpe").unwrap(), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(c.get("mu").unwrap(), &[0.5, 1.0, 1.5, 2.0]);
        c.advance(1.0).unwrap();
        assert_eq!(c.get("rpe").unwrap(), &[0.5, 1.0, 1.5, 2.0]);
        assert_eq!(c.get("n_ep_steps").unwrap(), &[2.0, 2.0]);
        assert_eq!(c.get("accum_reward").unwrap(), &[2.0, 4.0, 6.0, 8.0]);
        c.evolve(1.0).unwrap();
        // mu = 0.75 * mu + 0.25 * accum / 2.
        assert_eq!(
            c.get("mu").unwrap(),
            &[
                0.75 * 0.75 + 0.25,
                1.5 * 0.75 + 0.5,
                2.25 * 0.75 + 0.75,
                3.0 * 0.75 + 1.0
            ]
        );
    }

    #[test]
    fn evolve_before_any_advance_gives_nan() {
        let mut c = reward_error_cell::<f32>("r", 1, 1, 0.1, 10, true).unwrap();
        c.evolve(1.0).unwrap();
        assert!(c.get("mu").unwrap()[0].is_nan());
        c.reset().unwrap();
        assert_eq!(c.get("mu").unwrap(), &[0.0]);
    }

    #[test]
    fn a_zero_window_is_refused() {
        assert!(matches!(
            reward_error_cell::<f32>("r", 1, 1, 0.1, 0, true),
            Err(CellError::ZeroSize { .. })
        ));
    }
}
