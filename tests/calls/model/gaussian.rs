//! GaussianErrorCell and LaplacianErrorCell, from ngc-learn's formulas
//! (`FAMILY.md` sections 1 and 2) and the library's documented differences:
//! `Sigma`/`Scale` start as (1, 1) holding the constructor's value, take any shape
//! that broadcasts against the state (`ngc_cell_set_shaped`, after which `dSigma`
//! and `L` are at rest in their new shapes), and survive the resets; `dSigma` is
//! ones of Sigma's shape after an advance; `L` has Sigma's squeezed shape;
//! `reset` and `batched_reset` work for both (and keep a 4-D Laplacian 4-D).

use ngc_cells::*;

use super::{
    broadcast_index, comp, CellModel, CompSpec, Computed, Extent, Kind, NewArgs, Role, State, Tol,
};
use crate::calls::R;

const GAUSSIAN: &[CompSpec] = &[
    comp(c"mu", 0.0, Extent::State, Role::Input),
    comp(c"target", 0.0, Extent::State, Role::Input),
    comp(c"Sigma", 1.0, Extent::Param, Role::Parameter),
    comp(c"modulator", 1.0, Extent::State, Role::Input),
    comp(c"mask", 1.0, Extent::State, Role::Input),
    comp(c"dmu", 0.0, Extent::State, Role::Output),
    comp(c"dtarget", 0.0, Extent::State, Role::Output),
    comp(c"dSigma", 0.0, Extent::Param, Role::Output),
    comp(c"L", 0.0, Extent::ParamSqueezed, Role::Output),
];

const LAPLACIAN: &[CompSpec] = &[
    comp(c"shift", 0.0, Extent::State, Role::Input),
    comp(c"target", 0.0, Extent::State, Role::Input),
    comp(c"Scale", 1.0, Extent::Param, Role::Parameter),
    comp(c"modulator", 1.0, Extent::State, Role::Input),
    comp(c"mask", 1.0, Extent::State, Role::Input),
    comp(c"dshift", 0.0, Extent::State, Role::Output),
    comp(c"dtarget", 0.0, Extent::State, Role::Output),
    comp(c"dScale", 0.0, Extent::Param, Role::Output),
    comp(c"L", 0.0, Extent::ParamSqueezed, Role::Output),
];

// The same index in both tables.
const PRED: usize = 0;
const TARGET: usize = 1;
const PARAM: usize = 2;
const MODULATOR: usize = 3;
const MASK: usize = 4;
const DPRED: usize = 5;
const DTARGET: usize = 6;
const DPARAM: usize = 7;
const L: usize = 8;

/// One element: `(dpred, dtarget, the summand of L, new mask)` in the cell's
/// precision. Gaussian: `e = target - mu`, `q = e / Sigma`, summand `e^2`;
/// Laplacian: `s = sign(target - shift)`, `q = s / Scale`, summand `|s|`.
macro_rules! element_fn {
    ($name:ident, $t:ty) => {
        fn $name(laplacian: bool, pred: $t, x: $t, sigma: $t, m: $t, k: $t) -> ($t, $t, $t, $t) {
            let e = x - pred;
            let (num, term) = if laplacian {
                // jnp.sign: NaN stays NaN, -0.0 stays -0.0.
                let s = if e > 0.0 {
                    1.0
                } else if e < 0.0 {
                    -1.0
                } else {
                    e
                };
                (s, s.abs())
            } else {
                (e, e * e)
            };
            let q = num / sigma;
            ((q * m) * k, ((-q) * m) * k, term, k * 0.0 + 1.0)
        }
    };
}
element_fn!(element_f32, f32);
element_fn!(element_f64, f64);

pub struct ErrorCell {
    laplacian: bool,
    /// The constructor's sigma (scale): Sigma's (Scale's) rest value.
    sigma: f64,
}

impl CellModel for ErrorCell {
    fn comps(&self) -> &'static [CompSpec] {
        if self.laplacian {
            LAPLACIAN
        } else {
            GAUSSIAN
        }
    }
    fn type_name(&self) -> &'static str {
        if self.laplacian {
            "LaplacianErrorCell"
        } else {
            "GaussianErrorCell"
        }
    }
    fn describe(&self) -> String {
        format!(
            "{} {}",
            if self.laplacian { "scale" } else { "sigma" },
            self.sigma
        )
    }
    fn rest(&self, i: usize) -> f64 {
        if i == PARAM {
            self.sigma
        } else {
            self.comps()[i].rest
        }
    }
    fn func(&self) -> &'static str {
        if self.laplacian {
            "ngc_laplacian_error_cell_new"
        } else {
            "ngc_gaussian_error_cell_new"
        }
    }
    unsafe fn call_new(&self, a: &NewArgs) -> NgcStatus {
        // SAFETY: forwarded contract.
        unsafe {
            if self.laplacian {
                ngc_laplacian_error_cell_new(
                    a.name, a.n_units, a.batch, self.sigma, a.shape, a.dtype, a.out,
                )
            } else {
                ngc_gaussian_error_cell_new(
                    a.name, a.n_units, a.batch, self.sigma, a.shape, a.dtype, a.out,
                )
            }
        }
    }
    fn loss_index(&self) -> Option<usize> {
        Some(L)
    }
    fn advance(&mut self, st: &mut State, _t: f64, _dt: f64) -> Computed {
        let state = st.state_dims(st.batch);
        let at = broadcast_index(&st.param, &state);
        let n = at.len();
        let mut sum = 0.0f64;
        // dpred and dtarget are correctly rounded up to the e * (1 / Sigma) rewrite:
        // a few ulps of their own magnitude.
        let scale = vec![0.0; n];
        for (j, &aj) in at.iter().enumerate() {
            let (p, x, s, m, k) = (
                st.vals[PRED][j],
                st.vals[TARGET][j],
                st.vals[PARAM][aj],
                st.vals[MODULATOR][j],
                st.vals[MASK][j],
            );
            let (a, b, term, c) = if st.f64 {
                element_f64(self.laplacian, p, x, s, m, k)
            } else {
                let (a, b, t, c) = element_f32(
                    self.laplacian,
                    p as f32,
                    x as f32,
                    s as f32,
                    m as f32,
                    k as f32,
                );
                (a as f64, b as f64, t as f64, c as f64)
            };
            st.vals[DPRED][j] = a;
            st.vals[DTARGET][j] = b;
            st.vals[MASK][j] = c;
            sum += term;
        }
        // L_i = (-S) * (0.5 / Sigma_i) (Gaussian) or (-S) * (1 / Scale_i)
        // (Laplacian), S rounded to the cell's precision first, as jnp.sum gives it.
        let s = st.round(sum);
        let half = if self.laplacian { 1.0 } else { 0.5 };
        let params = st.vals[PARAM].clone();
        st.vals[L] = params
            .iter()
            .map(|&sg| st.round(-s * st.round(half / sg)))
            .collect();
        let l_scale: Vec<f64> = params.iter().map(|&sg| (sum * half / sg).abs()).collect();
        // dSigma = Sigma * 0 + 1.
        st.vals[DPARAM] = params.iter().map(|&sg| sg * 0.0 + 1.0).collect();
        let mut computed: Computed = vec![None; GAUSSIAN.len()];
        computed[DPRED] = Some(Tol {
            scale: scale.clone(),
        });
        computed[DTARGET] = Some(Tol { scale });
        computed[L] = Some(Tol { scale: l_scale });
        computed
    }
}

/// The family rows of these types (tests/common/family.rs), with their fixed
/// sigma and scale.
pub fn rows() -> Vec<Kind> {
    vec![
        Kind {
            label: "gaussian",
            takes_shape: true,
            new: None,
            gen: |_| {
                Some(Box::new(ErrorCell {
                    laplacian: false,
                    sigma: 0.5,
                }))
            },
        },
        Kind {
            label: "laplacian",
            takes_shape: true,
            new: None,
            gen: |_| {
                Some(Box::new(ErrorCell {
                    laplacian: true,
                    sigma: 0.5,
                }))
            },
        },
    ]
}

fn gen_sigma(r: &mut R) -> Option<f64> {
    r.pick(&[1.0, 1.0, 0.5, 2.0, 0.1, 1e3, 1e-3, 0.0, -1.0, -0.25])
}

/// Sigma and scale drawn at random (zero and negative among them: ngc-learn takes
/// any value, and so does the library).
pub fn randomized() -> Vec<Kind> {
    vec![
        Kind {
            label: "gaussian_random",
            takes_shape: true,
            new: None,
            gen: |r| {
                Some(Box::new(ErrorCell {
                    laplacian: false,
                    sigma: gen_sigma(r)?,
                }))
            },
        },
        Kind {
            label: "laplacian_random",
            takes_shape: true,
            new: None,
            gen: |r| {
                Some(Box::new(ErrorCell {
                    laplacian: true,
                    sigma: gen_sigma(r)?,
                }))
            },
        },
    ]
}
