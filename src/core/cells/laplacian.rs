//! ngc-learn's `LaplacianErrorCell`.
//!
//! The reference (ngc-learn 3.2.3, `advance_state`; `dt` is not used):
//!
//! ```text
//! s       = sign(target - shift)                   (-1, -0, +0, +1 or NaN)
//! dshift  = (s / Scale) * modulator * mask         (s * (1/Scale) is the same number)
//! dtarget = -(s / Scale) * modulator * mask
//! dScale  = Scale * 0 + 1                          (no derivative is computed for Scale)
//! L       = squeeze( -sum(|s|) * (1 / Scale) )     (minus the COUNT of elements where
//!                                                   target != shift, over Scale; not the L1 distance)
//! mask    = mask * 0 + 1                           ("eaten")
//! ```
//!
//! `Scale` starts as shape `(1, 1)` holding the constructor's `scale`, may take
//! any shape that broadcasts against the state shape, and is kept by the
//! resets; `dScale` and `L` follow its shape. Unlike ngc-learn 3.2.3 (whose
//! reset makes a 4-D cell 2-D), a reset keeps a 4-D cell 4-D.

use crate::core::error::CellError;
use crate::core::layout::Layout;
use crate::core::param_error::{compartments, Labels, ParamError, ParamErrorCell, ParamKernel};
use crate::core::platform::{Platform, Portable};
use crate::core::real::Real;
use crate::core::spec::{CellSpec, CompartmentSpec};
use crate::core::Cell;

/// The Laplacian error cell's compartments, with ngc-learn's names, rest values and labels.
pub const COMPARTMENTS: [CompartmentSpec; 9] = compartments(Labels {
    pred: (c"shift", "Laplacian shift"),
    target_shown: "Laplacian data/target variable",
    param: (
        c"Scale",
        "Laplacian scale",
        "Scale; shape (1, 1) or any shape that broadcasts against the state; kept by the resets",
    ),
    mask: "External binary/gating mask applied to dshift and dtarget for one step; reset to ones \
           by advance",
    d_pred: (
        c"dshift",
        "sign(target - shift) / Scale, times modulator and mask",
    ),
    d_target: "-sign(target - shift) / Scale, times modulator and mask",
    d_param: (
        c"dScale",
        "Ones of Scale's shape after advance (ngc-learn computes no derivative for Scale)",
    ),
    loss: (
        "Laplacian Log likelihood",
        "Minus the number of elements where target != shift, over Scale (ngc-learn's L; not \
         masked or modulated); Scale's shape, squeezed",
    ),
});

/// The Laplacian error cell type.
pub static SPEC: CellSpec = CellSpec {
    type_name: "LaplacianErrorCell",
    c_type_name: c"LaplacianErrorCell",
    description:
        "LaplacianErrorCell - computes mismatch/error signals at each time step t (between a \
                  `target` and a prediction `shift`)",
    dynamics: "s = sign(target - shift); dshift = s/Scale * modulator * mask; dtarget = -dshift; \
               dScale = 1; L = -sum(|s|) / Scale; mask is reset to ones after each step",
    takes_shape: true,
    compartments: &COMPARTMENTS,
};

/// `jnp.sign`: -1, +1, or `x` itself for ±0 and NaN.
#[inline(always)]
fn sign<T: Real>(x: T) -> T {
    if x > T::ZERO {
        T::ONE
    } else if x < T::ZERO {
        -T::ONE
    } else {
        x
    }
}

/// What the Laplacian error cell has of its own: its spec, `scale`, its element formula.
#[derive(Clone, Copy, Debug)]
pub struct LaplacianError;

impl ParamErrorCell for LaplacianError {
    const SPEC: &'static CellSpec = &SPEC;
    const HYPER_NAME: &'static str = "scale";
    const HYPER_DESCRIPTION: &'static str = "Initial value of Scale";
    const LOSS_SCALE: f64 = 1.0;

    /// `s = sign(target - shift)` (`dshift = s / Scale`).
    #[inline(always)]
    fn element<T: Real>(shift: T, target: T) -> T {
        sign(target - shift)
    }

    /// `|s|`.
    #[inline(always)]
    fn term<T: Real>(s: T) -> T {
        s.abs()
    }
}

/// ngc-learn's `LaplacianErrorCell` with its `scale`, and its scratch space.
pub type Laplacian<T> = ParamError<LaplacianError, T>;

/// The element formula; `RECIP`: the parameter holds `1 / Scale`.
pub type Kernel<const RECIP: bool> = ParamKernel<LaplacianError, RECIP>;

/// Creates ngc-learn's `LaplacianErrorCell(name, n_units, batch_size, scale, shape)`
/// on the portable platform.
pub fn laplacian_error_cell<T: Real>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    scale: f64,
    shape: Option<[usize; 3]>,
) -> Result<Cell<T>, CellError> {
    laplacian_error_cell_on::<T, Portable>(name, n_units, batch_size, scale, shape)
}

/// [`laplacian_error_cell`] on platform `P`.
pub fn laplacian_error_cell_on<T: Real, P: Platform>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    scale: f64,
    shape: Option<[usize; 3]>,
) -> Result<Cell<T, P>, CellError> {
    let layout = Layout::new(n_units, batch_size, shape)?;
    Cell::new(name, Box::new(Laplacian::<T>::new(scale)), layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l_counts_the_unequal_elements() {
        // ngc-learn's own test: one unit, L = -1.
        let mut c = laplacian_error_cell::<f32>("e", 4, 1, 2.0, None).unwrap();
        c.set("shift", &[0.0, 1.0, -0.0, f32::NAN]).unwrap();
        c.set("target", &[3.0, 1.0, 0.0, 0.0]).unwrap();
        c.advance(1.0).unwrap();
        let d = c.get("dshift").unwrap();
        assert_eq!(&d[..3], &[0.5, 0.0, 0.0]);
        assert!(d[3].is_nan());
        // |s| sums to 1 + 0 + 0 + NaN.
        assert!(c.loss().unwrap().is_nan());
        c.set("shift", &[0.0, 1.0, -0.0, 5.0]).unwrap();
        c.advance(1.0).unwrap();
        assert_eq!(c.loss().unwrap(), -1.0); // two unequal elements over Scale 2
    }

    #[test]
    fn a_4d_cell_stays_4d_after_reset() {
        let mut c = laplacian_error_cell::<f64>("e", 1, 2, 1.0, Some([2, 2, 3])).unwrap();
        c.reset().unwrap();
        assert_eq!(c.view("dshift").unwrap().shape(), &[2, 2, 2, 3]);
        c.batched_reset(3).unwrap();
        assert_eq!(c.view("target").unwrap().shape(), &[3, 2, 2, 3]);
    }
}
