//! BernoulliErrorCell, from ngc-learn's formula (`docs/cells/bernoulli.md`, its
//! element formula), in the cell's precision.

use ngc_cells::*;

use super::{comp, CellModel, CompSpec, Computed, Extent, Kind, NewArgs, Role, State, Tol};

const COMPS: &[CompSpec] = &[
    comp(c"p", 0.0, Extent::State, Role::Input),
    comp(c"target", 0.0, Extent::State, Role::Input),
    comp(c"modulator", 1.0, Extent::State, Role::Input),
    comp(c"mask", 1.0, Extent::State, Role::Input),
    comp(c"L", 0.0, Extent::Scalar, Role::Output),
    comp(c"dp", 0.0, Extent::State, Role::Output),
    comp(c"dtarget", 0.0, Extent::State, Role::Output),
];
const P: usize = 0;
const TARGET: usize = 1;
const MODULATOR: usize = 2;
const MASK: usize = 3;
const L: usize = 4;
const DP: usize = 5;
const DTARGET: usize = 6;

/// The element formula in the cell's precision.
macro_rules! element_fn {
    ($name:ident, $t:ty) => {
        /// `(dp, dtarget, ll, new mask)` for one element.
        fn $name(logits: bool, p: $t, x: $t, m: $t, k: $t) -> ($t, $t, $t, $t) {
            let lo = 1e-4_f64 as $t;
            let hi = (1.0_f64 - 1e-4) as $t;
            let sig = |z: $t| (1.0 as $t) / ((1.0 as $t) + (-z).exp());
            let raw = if logits { sig(p) } else { p };
            // jnp.clip: NaN stays NaN.
            let q = if raw < lo {
                lo
            } else if raw > hi {
                hi
            } else {
                raw
            };
            let one = 1.0 as $t;
            let ll = x * q.ln() + (one - x) * (one - q).ln();
            let g = if logits {
                x - q
            } else {
                let s = sig(p);
                (x / q - (one - x) / (one - q)) * (s * (one - s))
            };
            let dp = g * m * k;
            let dt = (q.ln() - (one - q).ln()) * m * k;
            (dp, dt, ll, k * (0.0 as $t) + one)
        }
    };
}
element_fn!(element_f32, f32);
element_fn!(element_f64, f64);

pub struct Bernoulli {
    logits: bool,
}

impl CellModel for Bernoulli {
    fn comps(&self) -> &'static [CompSpec] {
        COMPS
    }
    fn type_name(&self) -> &'static str {
        "BernoulliErrorCell"
    }
    fn describe(&self) -> String {
        format!("logits {}", self.logits)
    }
    fn func(&self) -> &'static str {
        "ngc_bernoulli_error_cell_new"
    }
    unsafe fn call_new(&self, a: &NewArgs) -> NgcStatus {
        // SAFETY: forwarded contract.
        unsafe {
            ngc_bernoulli_error_cell_new(
                a.name,
                a.n_units,
                a.batch,
                self.logits,
                a.shape,
                a.dtype,
                a.out,
            )
        }
    }
    fn loss_index(&self) -> Option<usize> {
        Some(L)
    }
    fn advance(&mut self, st: &mut State, _t: f64, _dt: f64) -> Computed {
        let n = st.vals[P].len();
        let (mut acc, mut scale) = (0.0f64, 0.0f64);
        for j in 0..n {
            let (p, x, m, k) = (
                st.vals[P][j],
                st.vals[TARGET][j],
                st.vals[MODULATOR][j],
                st.vals[MASK][j],
            );
            let (a, b, ll, c) = if st.f64 {
                element_f64(self.logits, p, x, m, k)
            } else {
                let (a, b, ll, c) =
                    element_f32(self.logits, p as f32, x as f32, m as f32, k as f32);
                (a as f64, b as f64, ll as f64, c as f64)
            };
            st.vals[DP][j] = a;
            st.vals[DTARGET][j] = b;
            st.vals[MASK][j] = c;
            acc += ll;
            scale += ll.abs();
        }
        st.vals[L][0] = st.round(acc);
        let mut computed: Computed = vec![None; COMPS.len()];
        // L: a sum of n terms, so its error scales with the terms' magnitudes.
        computed[L] = Some(Tol { scale: vec![scale] });
        computed[DP] = Some(Tol {
            scale: vec![0.0; n],
        });
        computed[DTARGET] = Some(Tol {
            scale: vec![0.0; n],
        });
        computed
    }
}

/// The family rows of this type (tests/common/family.rs), with their fixed
/// hyper-parameters.
pub fn rows() -> Vec<Kind> {
    vec![
        Kind {
            label: "bernoulli_prob",
            takes_shape: true,
            new: None,
            gen: |_| Some(Box::new(Bernoulli { logits: false })),
        },
        Kind {
            label: "bernoulli_logits",
            takes_shape: true,
            new: None,
            gen: |_| Some(Box::new(Bernoulli { logits: true })),
        },
    ]
}

/// The rows cover both values of the only hyper-parameter.
pub fn randomized() -> Vec<Kind> {
    Vec::new()
}
