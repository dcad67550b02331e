//! ngc-learn's `GaussianErrorCell`.
//!
//! The reference (ngc-learn 3.2.3, `advance_state`; `Sigma` is the variance
//! itself, not squared; `dt` is not used):
//!
//! ```text
//! e       = target - mu
//! dmu     = (e / Sigma) * modulator * mask        (e * (1/Sigma) for a broadcast Sigma, as XLA)
//! dtarget = -(e / Sigma) * modulator * mask
//! dSigma  = Sigma * 0 + 1                          (no derivative is computed for Sigma)
//! L       = squeeze( -sum(e^2) * (0.5 / Sigma) )   (over every element: not masked, not modulated)
//! mask    = mask * 0 + 1                           ("eaten")
//! ```
//!
//! `Sigma` starts as shape `(1, 1)` holding the constructor's `sigma`; it may
//! take any shape that broadcasts against the state shape
//! (`Cell::set_shaped`), and `dSigma` and `L` follow it (an array `Sigma` makes
//! `L` an array: `L_i = -S * 0.5 / Sigma_i` with the total `S`). The resets
//! keep `Sigma`.

use crate::core::error::CellError;
use crate::core::layout::Layout;
use crate::core::param_error::{compartments, Labels, ParamError, ParamErrorCell, ParamKernel};
use crate::core::platform::{Platform, Portable};
use crate::core::real::Real;
use crate::core::spec::{CellSpec, CompartmentSpec};
use crate::core::Cell;

/// The Gaussian error cell's compartments, with ngc-learn's names, rest values and labels.
pub const COMPARTMENTS: [CompartmentSpec; 9] = compartments(Labels {
    pred: (c"mu", "Gaussian mean"),
    target_shown: "Gaussian data/target variable",
    param: (
        c"Sigma",
        "Gaussian variance/covariance",
        "Variance (used as is, not squared); shape (1, 1) or any shape that broadcasts against \
         the state; kept by the resets",
    ),
    mask: "External binary/gating mask applied to dmu and dtarget for one step; reset to ones by \
           advance",
    d_pred: (
        c"dmu",
        "First derivative of L with respect to mu, times modulator and mask",
    ),
    d_target: "First derivative of L with respect to target, times modulator and mask",
    d_param: (
        c"dSigma",
        "Ones of Sigma's shape after advance (ngc-learn computes no derivative for Sigma)",
    ),
    loss: (
        "Gaussian Log likelihood",
        "-0.5 * sum((target - mu)^2) / Sigma over all elements (not masked or modulated); \
         Sigma's shape, squeezed",
    ),
});

/// The Gaussian error cell type.
pub static SPEC: CellSpec = CellSpec {
    type_name: "GaussianErrorCell",
    c_type_name: c"GaussianErrorCell",
    description:
        "GaussianErrorCell - computes mismatch/error signals at each time step t (between a \
                  `target` and a prediction `mu`)",
    dynamics: "e = target - mu; dmu = e/Sigma * modulator * mask; dtarget = -dmu; dSigma = 1; \
               L = -0.5 * sum(e^2) / Sigma; mask is reset to ones after each step",
    takes_shape: true,
    compartments: &COMPARTMENTS,
};

/// What the Gaussian error cell has of its own: its spec, `sigma`, its element formula.
#[derive(Clone, Copy, Debug)]
pub struct GaussianError;

impl ParamErrorCell for GaussianError {
    const SPEC: &'static CellSpec = &SPEC;
    const HYPER_NAME: &'static str = "sigma";
    const HYPER_DESCRIPTION: &'static str =
        "Initial value of Sigma, the variance (used as is, not squared)";
    const LOSS_SCALE: f64 = 0.5;

    /// `e = target - mu` (`dmu = e / Sigma`).
    #[inline(always)]
    fn element<T: Real>(mu: T, target: T) -> T {
        target - mu
    }

    /// `e^2`.
    #[inline(always)]
    fn term<T: Real>(e: T) -> T {
        e * e
    }
}

/// ngc-learn's `GaussianErrorCell` with its `sigma`, and its scratch space.
pub type Gaussian<T> = ParamError<GaussianError, T>;

/// The element formula; `RECIP`: the parameter holds `1 / Sigma`.
pub type Kernel<const RECIP: bool> = ParamKernel<GaussianError, RECIP>;

/// Creates ngc-learn's `GaussianErrorCell(name, n_units, batch_size, sigma, shape)`
/// on the portable platform.
pub fn gaussian_error_cell<T: Real>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    sigma: f64,
    shape: Option<[usize; 3]>,
) -> Result<Cell<T>, CellError> {
    gaussian_error_cell_on::<T, Portable>(name, n_units, batch_size, sigma, shape)
}

/// [`gaussian_error_cell`] on platform `P`.
pub fn gaussian_error_cell_on<T: Real, P: Platform>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    sigma: f64,
    shape: Option<[usize; 3]>,
) -> Result<Cell<T, P>, CellError> {
    let layout = Layout::new(n_units, batch_size, shape)?;
    Cell::new(name, Box::new(Gaussian::<T>::new(sigma)), layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngc_learns_lesson() {
        // ngc-learn's tutorial: mu = [-1, 1, 1], target = [1, -1, 1].
        let mut c = gaussian_error_cell::<f32>("e", 3, 1, 1.0, None).unwrap();
        c.set("mu", &[-1.0, 1.0, 1.0]).unwrap();
        c.set("target", &[1.0, -1.0, 1.0]).unwrap();
        c.advance(1.0).unwrap();
        assert_eq!(c.get("dmu").unwrap(), &[2.0, -2.0, 0.0]);
        let dt = c.get("dtarget").unwrap();
        assert_eq!(dt, &[-2.0, 2.0, 0.0]);
        assert!(dt[2].is_sign_negative(), "-0 where e = 0");
        assert_eq!(c.loss().unwrap(), -4.0);
        assert_eq!(c.get("dSigma").unwrap(), &[1.0]);
        assert_eq!(c.view("Sigma").unwrap().shape(), &[1, 1]);
        assert_eq!(c.view("L").unwrap().ndim(), 0);
    }

    #[test]
    fn per_unit_sigma_makes_l_an_array_and_survives_reset() {
        let mut c = gaussian_error_cell::<f64>("e", 3, 2, 1.0, None).unwrap();
        c.set_shaped("Sigma", &[1.0, 2.0, 4.0], &[1, 3]).unwrap();
        assert_eq!(c.view("L").unwrap().shape(), &[3]);
        assert_eq!(c.view("dSigma").unwrap().shape(), &[1, 3]);
        c.set("target", &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0]).unwrap();
        c.advance(1.0).unwrap();
        // S = 3 * 1 + 3 * 4 = 15; L_i = -15 * 0.5 / Sigma_i.
        assert_eq!(c.get("L").unwrap(), &[-7.5, -3.75, -1.875]);
        assert_eq!(c.get("dmu").unwrap(), &[1.0, 0.5, 0.25, 2.0, 1.0, 0.5]);
        assert!(matches!(c.loss(), Err(CellError::NotSupported(_))));
        c.reset().unwrap();
        assert_eq!(c.get("Sigma").unwrap(), &[1.0, 2.0, 4.0]);
        assert_eq!(c.get("dSigma").unwrap(), &[0.0; 3]);
        assert_eq!(c.get("L").unwrap(), &[0.0; 3]);
        // A shape that does not broadcast is refused.
        assert!(matches!(
            c.set_shaped("Sigma", &[1.0, 2.0], &[2]),
            Err(CellError::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn every_sigma_form_gives_the_full_computation() {
        // Per row, per unit, full, 0-d and 4-D forms against the element formula.
        type Case<'a> = (&'a [usize], Option<[usize; 3]>, usize, usize);
        let cases: [Case; 6] = [
            (&[2, 1], None, 3, 2),
            (&[3], None, 3, 2),
            (&[2, 3], None, 3, 2),
            (&[], None, 3, 2),
            (&[4], Some([2, 3, 4]), 24, 2),
            (&[3, 1], Some([2, 3, 1]), 6, 2),
        ];
        for (dims, shape, n, b) in cases {
            let mut c = gaussian_error_cell::<f64>("e", n, b, 1.0, shape).unwrap();
            let count = n * b;
            let sig: Vec<f64> = (0..dims.iter().product::<usize>())
                .map(|i| 0.5 + i as f64)
                .collect();
            c.set_shaped("Sigma", &sig, dims).unwrap();
            let x: Vec<f64> = (0..count).map(|i| (i as f64 * 0.37).sin()).collect();
            c.set("target", &x).unwrap();
            c.advance(1.0).unwrap();
            let state = c.shapes().state.clone();
            let mut want = Vec::new();
            crate::core::layout::for_each_broadcast(&state, dims, |j| want.push(sig[j]));
            for (i, (&d, s)) in c.get("dmu").unwrap().iter().zip(&want).enumerate() {
                assert!(
                    (d - x[i] / s).abs() <= 1e-15 * (x[i] / s).abs(),
                    "{dims:?} [{i}]"
                );
            }
        }
    }
}
