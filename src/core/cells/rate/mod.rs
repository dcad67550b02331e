//! ngc-learn's `RateCell`: the graded state neuron of predictive coding (the
//! latent `z` layers of ngc-learn's models; a stateless one clamps data).
//!
//! The reference (ngc-learn 3.2.3, `advance_state(dt)`; FAMILY.md §5), element-wise:
//!
//! ```text
//! stateful (is_stateful and tau_m > 0):
//!   g     = fx'(z)                          at the OLD z, once per step
//!   j     = (j * g) * resist_scale          written back into j (a bound j buffer too)
//!   u     = j + j_td                        j_td is not modulated
//!   f(ζ)  = fma(-leak(ζ), prior_leak, u) * r          r = 1 / tau_m, computed in the cell's type
//!   leak(ζ) = ζ | sign(ζ) | 2ζ / fma(ζ, ζ, 1) | (exp(-ζ²) ζ) 2   (gaussian | laplacian | cauchy | exp)
//!   z     = step(z, f, dt)                  euler, midpoint, rk4, heun or ralston (below)
//!   z     = soft_threshold(z, lambda)       max(z - λ, 0) - max(-z - λ, 0), if asked
//!   zF    = fx(z) * output_scale
//! stateless:
//!   z = j + j_td;  zF = fx(z) * output_scale;  j unchanged
//! ```
//!
//! The steps, with XLA's fused multiply-adds (`fma(a, b, c) = a*b + c`, one rounding):
//!
//! ```text
//! euler     z + f(z) dt                                   fma(k1, dt, z)
//! midpoint  k2 = f(fma(k1, dt/2, z));                     fma(k2, dt, z)
//! heun      k2 = f(fma(k1, dt, z));                       fma(k1 + k2, dt/2, z)
//! ralston   k2 = f(fma(k1, 3dt/4, z));                    fma(fma(k1, 1/3, k2 * (2/3)), dt, z)
//! rk4       k2 = f(fma(k1, dt/2, z)); k3 = f(fma(k2, dt/2, z)); k4 = f(fma(k3, dt, z))
//!           fma((((k1 + 2 k2) + 2 k3) + k4) * (1/6), dt, z)
//! ```
//!
//! where a stage used once (RK4's `k4`, Heun's `k2`) enters the sum unrounded:
//! `f(ζ) = g(ζ) * r` and `sum + f(ζ)` is `fma(g(ζ), r, sum)`, as XLA contracts it
//! (RK4 bit for bit with ngc-learn on 3000 float64 samples; plain `+ k4` differs in 1.5%).
//!
//! Names mean the methods they name. ngc-learn 3.2.3 maps them wrongly (its
//! `"heun"` runs RK4, its `"rk4"` and `"ralston"` run Euler): docs/cells/rate.md
//! has the porting table.
//!
//! The activation functions are ngc-learn's (`create_function`), formulas,
//! derivatives and quirks included: `sine` is `sin(30 x)`, `elu` is NaN where
//! `exp` overflows, `bkwta` is 1 where `x` is at least the 5th largest value of
//! its row, `softmax` is over axis 1 (stateless only). The binary ones
//! (`unit_threshold`, `heaviside`, `bkwta`) are float32 in ngc-learn whatever
//! the dtype, so a float64 cell multiplies them by `output_scale` rounded to
//! float32, as ngc-learn does; `lrelu`'s derivative `0.01` is float32 too.
//! `tanh` and `exp` are XLA's own (bit for bit what `jnp.tanh` and `jnp.exp`
//! give on CPU: [`vmath::tanh_f32`](crate::core::vmath::tanh_f32),
//! [`vmath::exp_xla_f32`](crate::core::vmath::exp_xla_f32) and their f64
//! twins; float32 `tanh` with fused multiply-adds leaves out XLA's redundant
//! `|x| >= 20` select, the same bits in fewer operations), `sin`, `cos` and `log1p` the standard library's
//! (XLA's `sin` and `cos` agree with them; its `log1p` differs in the last bit
//! or two).
//!
//! Files: this one (names, the compartment table, the cell type, the row-wise
//! activations), `kernel.rs` (the element-wise step kernel: how a block is
//! computed, and why), `tests.rs` (unit tests).
//!
//! Refused at creation ([`CellError::InvalidArgument`], naming the accepted
//! values): unknown names (ngc-learn silently falls back for priors,
//! thresholds and integrators), a stateful `softmax` (broken upstream),
//! `"cauchy_threshold"` (crashes upstream), `bkwta` on a 4-D cell or on fewer
//! than 5 units. The lateral pathway (`use_lateral`) is not offered.

use crate::core::error::{short, CellError};
use crate::core::layout::Layout;
use crate::core::metadata::json_number;
use crate::core::platform::{Platform, Portable};
use crate::core::real::Real;
use crate::core::spec::{
    slot_array, CellSpec, CellType, CompartmentSpec, Extent, Hyper, Role, Shapes, Slot,
};
use crate::core::workspace::Workspace;
use crate::core::Cell;

mod kernel;

use kernel::b2t;
pub use kernel::{RateIo, Step};

/// The rate cell's compartments, with ngc-learn's names, rest values and labels.
pub const COMPARTMENTS: [CompartmentSpec; 4] = [
    CompartmentSpec::new(
        "j",
        c"j",
        Role::State,
        Extent::State,
        0.0,
        "External input stimulus value(s); a stateful advance overwrites it with the modulated \
         drive j * fx'(z) * resist_scale (as ngc-learn does, also when it is wired/bound)",
    )
    .shown("Input Stimulus Current")
    .units("mA"),
    CompartmentSpec::new(
        "j_td",
        c"j_td",
        Role::Input,
        Extent::State,
        0.0,
        "External top-down input stimulus value(s), added to the drive unmodulated",
    )
    .shown("Modulatory Stimulus Current")
    .units("mA"),
    CompartmentSpec::new(
        "z",
        c"z",
        Role::State,
        Extent::State,
        0.0,
        "Rate-coded activity (the pre-activation state); value at time t",
    )
    .shown("Rate Activity")
    .units("mA"),
    CompartmentSpec::new(
        "zF",
        c"zF",
        Role::Output,
        Extent::State,
        0.0,
        "Transformed rate activity: fx(z) * output_scale",
    )
    .shown("Transformed Rate Activity"),
];

/// The rate cell type (ngc-learn's `help()`, corrected: it is broken in 3.2.3).
pub static SPEC: CellSpec = CellSpec {
    type_name: "RateCell",
    c_type_name: c"RateCell",
    description: "RateCell - evolves neurons according to rate-coded/continuous dynamics",
    dynamics: "tau_m * dz/dt = -prior_leak * prior'(z) + j * fx'(z) * resist_scale + j_td \
               (fx'(z) at the z before the step; j is overwritten with j * fx'(z) * \
               resist_scale); zF = fx(z) * output_scale; stateless (is_stateful false or \
               tau_m <= 0): z = j + j_td",
    takes_shape: true,
    compartments: &COMPARTMENTS,
};

/// Looks `name` up in `table`, or says which names are accepted.
fn parse<E: Copy>(what: &str, name: &str, table: &[(&str, E)]) -> Result<E, CellError> {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, e)| e)
        .ok_or_else(|| {
            let known: Vec<String> = table.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            CellError::InvalidArgument(format!(
                "{what} \"{}\" is not one of: {}",
                short(name),
                known.join(", ")
            ))
        })
}

/// The kurtotic prior over the state: the leak term of the dynamics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prior {
    /// `leak(z) = z`.
    Gaussian,
    /// `leak(z) = sign(z)`.
    Laplacian,
    /// `leak(z) = 2z / (1 + z²)`.
    Cauchy,
    /// `leak(z) = 2z exp(-z²)`.
    Exp,
}

impl Prior {
    const NAMES: [(&'static str, Prior); 4] = [
        ("gaussian", Prior::Gaussian),
        ("laplacian", Prior::Laplacian),
        ("cauchy", Prior::Cauchy),
        ("exp", Prior::Exp),
    ];

    /// The prior called `name`.
    pub fn parse(name: &str) -> Result<Prior, CellError> {
        parse("prior", name, &Prior::NAMES)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Prior::NAMES.iter().find(|(_, p)| *p == self).unwrap().0
    }
}

/// The activation function `fx` (and its derivative `fx'`), as ngc-learn's `create_function`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// `x`; derivative `x * 0 + 1` (NaN at ±inf).
    Identity,
    /// `tanh(x)`; `1 - tanh²(x)`.
    Tanh,
    /// `1 / (1 + exp(-x))`; `s (1 - s)`.
    Sigmoid,
    /// `max(x, 0)`; `x >= 0`.
    Relu,
    /// `x >= 0 ? x : 0.01 x`; `x >= 0 ? 1 : 0.01`.
    Lrelu,
    /// `min(max(x, 0), 6)`; `0 <= x <= 6`.
    Relu6,
    /// `x >= 0 ? x : exp(x) - 1`; `x >= 0 ? 1 : exp(x)` (NaN where exp overflows).
    Elu,
    /// `x sigmoid(x)`.
    Silu,
    /// `x sigmoid(1.702 x)` (ngc-learn's approximate GELU).
    Gelu,
    /// `x tanh(exp(x))`.
    Telu,
    /// `log(1 + exp(x))`; `sigmoid(x)`.
    Softplus,
    /// `x >= 1`; derivative 1 (straight-through).
    UnitThreshold,
    /// `x >= 0`; derivative 1 (straight-through).
    Heaviside,
    /// `sin(30 x)`; `30 cos(30 x)`.
    Sine,
    /// 1 where `x` is at least the 5th largest of its row, else 0; derivative: the same.
    Bkwta,
    /// Softmax over axis 1 (stateless cells only).
    Softmax,
}

impl Act {
    const NAMES: [(&'static str, Act); 16] = [
        ("identity", Act::Identity),
        ("tanh", Act::Tanh),
        ("sigmoid", Act::Sigmoid),
        ("relu", Act::Relu),
        ("lrelu", Act::Lrelu),
        ("relu6", Act::Relu6),
        ("elu", Act::Elu),
        ("silu", Act::Silu),
        ("gelu", Act::Gelu),
        ("telu", Act::Telu),
        ("softplus", Act::Softplus),
        ("unit_threshold", Act::UnitThreshold),
        ("heaviside", Act::Heaviside),
        ("sine", Act::Sine),
        ("bkwta", Act::Bkwta),
        ("softmax", Act::Softmax),
    ];

    /// The activation called `name`.
    pub fn parse(name: &str) -> Result<Act, CellError> {
        parse("act_fx", name, &Act::NAMES).map_err(|e| match e {
            CellError::InvalidArgument(m) if name.contains("heaviside") => {
                CellError::InvalidArgument(format!(
                    "{m} (ngc-learn runs heaviside for any name containing \"heaviside\"; \
                     write \"heaviside\")"
                ))
            }
            e => e,
        })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Act::NAMES.iter().find(|(_, a)| *a == self).unwrap().0
    }

    /// Whether each element's value depends on that element alone (all but
    /// `bkwta` and `softmax`, which see the whole row).
    pub fn is_elementwise(self) -> bool {
        !matches!(self, Act::Bkwta | Act::Softmax)
    }

    /// Whether ngc-learn computes it as a float32 0/1 mask whatever the dtype
    /// (so `fx(z) * output_scale` is float32 there).
    pub fn is_binary(self) -> bool {
        matches!(self, Act::UnitThreshold | Act::Heaviside | Act::Bkwta)
    }
}

/// The integration method of a stateful step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integration {
    /// Forward Euler (RK1).
    Euler,
    /// The midpoint method (RK2).
    Midpoint,
    /// The classical fourth-order Runge-Kutta method.
    Rk4,
    /// Heun's method (RK2, trapezoidal corrector).
    Heun,
    /// Ralston's method (RK2, minimum error bound).
    Ralston,
}

impl Integration {
    const NAMES: [(&'static str, Integration); 9] = [
        ("euler", Integration::Euler),
        ("rk1", Integration::Euler),
        ("midpoint", Integration::Midpoint),
        ("rk2", Integration::Midpoint),
        ("rk4", Integration::Rk4),
        ("heun", Integration::Heun),
        ("rk2_heun", Integration::Heun),
        ("ralston", Integration::Ralston),
        ("rk2_ralston", Integration::Ralston),
    ];

    /// The method called `name` (each name means the method it names).
    pub fn parse(name: &str) -> Result<Integration, CellError> {
        parse("integration", name, &Integration::NAMES)
    }

    /// Its name (the first of its aliases).
    pub fn name(self) -> &'static str {
        Integration::NAMES
            .iter()
            .find(|(_, i)| *i == self)
            .unwrap()
            .0
    }
}

/// The thresholding applied to `z` after each stateful step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// None.
    None,
    /// `max(z - λ, 0) - max(-z - λ, 0)` (ISTA's shrinkage).
    Soft,
}

impl Threshold {
    const NAMES: [(&'static str, Threshold); 2] = [
        ("none", Threshold::None),
        ("soft_threshold", Threshold::Soft),
    ];

    /// The threshold called `name`.
    pub fn parse(name: &str) -> Result<Threshold, CellError> {
        if name == "cauchy_threshold" {
            return Err(CellError::InvalidArgument(
                "threshold \"cauchy_threshold\" is not offered: ngc-learn 3.2.3's \
                 threshold_cauchy raises on its first call (a misplaced parenthesis); accepted: \
                 \"none\", \"soft_threshold\""
                    .into(),
            ));
        }
        parse("threshold", name, &Threshold::NAMES)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Threshold::NAMES.iter().find(|(_, t)| *t == self).unwrap().0
    }
}

/// ngc-learn's `RateCell` with its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// The state's time constant (`tau_m <= 0`: stateless).
    pub tau_m: f64,
    /// The prior over the state.
    pub prior: Prior,
    /// Its leak rate `gamma`.
    pub prior_leak: f64,
    /// The activation function.
    pub act_fx: Act,
    /// The factor of `zF = fx(z) * output_scale`.
    pub output_scale: f64,
    /// The threshold after each stateful step.
    pub threshold: Threshold,
    /// Its `lambda`.
    pub threshold_lambda: f64,
    /// The integration method.
    pub integration: Integration,
    /// The factor of the modulated drive.
    pub resist_scale: f64,
    /// `false`: stateless whatever `tau_m`.
    pub is_stateful: bool,
}

impl Rate {
    /// The cell type from the constructor's arguments, names as in ngc-learn
    /// (`None`: ngc-learn's default, "gaussian", "identity", "none", "euler").
    /// Refuses unknown names and a stateful softmax; `bkwta`'s shape
    /// requirement is checked when the cell is made (it needs the shape).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tau_m: f64,
        prior: Option<&str>,
        prior_leak: f64,
        act_fx: Option<&str>,
        output_scale: f64,
        threshold: Option<&str>,
        threshold_lambda: f64,
        integration: Option<&str>,
        resist_scale: f64,
        is_stateful: bool,
    ) -> Result<Rate, CellError> {
        let r = Rate {
            tau_m,
            prior: Prior::parse(prior.unwrap_or("gaussian"))?,
            prior_leak,
            act_fx: Act::parse(act_fx.unwrap_or("identity"))?,
            output_scale,
            threshold: Threshold::parse(threshold.unwrap_or("none"))?,
            threshold_lambda,
            integration: Integration::parse(integration.unwrap_or("euler"))?,
            resist_scale,
            is_stateful,
        };
        if r.act_fx == Act::Softmax && r.stateful() {
            return Err(CellError::InvalidArgument(
                "act_fx \"softmax\" is accepted on a stateless cell only (is_stateful false or \
                 tau_m <= 0): a stateful ngc-learn 3.2.3 RateCell multiplies j by softmax's \
                 (batch, n, n) Jacobian, which fails or makes z 3-D"
                    .into(),
            ));
        }
        Ok(r)
    }

    /// Whether `advance` integrates (`is_stateful` and `tau_m > 0`; a NaN
    /// `tau_m` is stateful, as in ngc-learn).
    pub fn stateful(&self) -> bool {
        self.is_stateful && (self.tau_m > 0.0 || self.tau_m.is_nan())
    }

    /// The step kernel for `dt`.
    fn kernel(&self, dt: f64) -> Step {
        let act = self.act_fx;
        Step {
            act: if act.is_elementwise() {
                Some(act)
            } else {
                None
            },
            prior: self.prior,
            integration: self.integration,
            threshold: self.threshold,
            stateful: self.stateful(),
            tau_m: self.tau_m,
            prior_leak: self.prior_leak,
            resist_scale: self.resist_scale,
            output_scale: self.output_scale,
            threshold_lambda: self.threshold_lambda,
            dt,
        }
    }
}

impl<T: Real, P: Platform> CellType<T, P> for Rate {
    fn spec(&self) -> &'static CellSpec {
        &SPEC
    }

    fn hyperparameters(&self) -> Vec<Hyper> {
        let text = |s: &str| format!("\"{s}\"");
        vec![
            Hyper {
                name: "tau_m",
                json: json_number(self.tau_m),
                description: "Cell state/membrane time constant (tau_m <= 0: stateless)",
            },
            Hyper {
                name: "prior",
                json: text(self.prior.name()),
                description: "Kurtotic prior over the state (its leak term): gaussian, \
                              laplacian, cauchy or exp",
            },
            Hyper {
                name: "prior_leak",
                json: json_number(self.prior_leak),
                description: "Leak rate gamma of the prior",
            },
            Hyper {
                name: "act_fx",
                json: text(self.act_fx.name()),
                description: "Elementwise activation function applied to z (bkwta, softmax: \
                              per row)",
            },
            Hyper {
                name: "output_scale",
                json: json_number(self.output_scale),
                description: "Factor of zF = fx(z) * output_scale",
            },
            Hyper {
                name: "threshold",
                json: text(self.threshold.name()),
                description: "Thresholding applied to z after each stateful step: none or \
                              soft_threshold",
            },
            Hyper {
                name: "threshold_lambda",
                json: json_number(self.threshold_lambda),
                description: "Lambda of the threshold",
            },
            Hyper {
                name: "integration_type",
                json: text(self.integration.name()),
                description: "Numerical integration of the dynamics: euler, midpoint, rk4, \
                              heun or ralston (each the method it names)",
            },
            Hyper {
                name: "resist_scale",
                json: json_number(self.resist_scale),
                description: "Factor of the modulated drive j * fx'(z)",
            },
            Hyper {
                name: "is_stateful",
                json: self.is_stateful.to_string(),
                description: "Whether z integrates its drive (false: z = j + j_td)",
            },
        ]
    }

    fn param_dims(&self) -> Vec<usize> {
        Vec::new()
    }

    fn reshape(&mut self, shapes: &Shapes) -> Result<(), CellError> {
        if self.act_fx == Act::Bkwta && (shapes.state.len() != 2 || shapes.state[1] < 5) {
            return Err(CellError::InvalidArgument(format!(
                "act_fx \"bkwta\" needs a 2-D state (batch, n_units) with n_units >= 5 (it \
                 keeps the 5 largest values of each row); this cell's state is {:?}",
                shapes.state
            )));
        }
        Ok(())
    }

    fn advance(
        &mut self,
        slots: &mut [Slot<'_, T>],
        shapes: &Shapes,
        ws: &mut Workspace<P>,
        dt: f64,
    ) -> Result<(), CellError> {
        let [j, j_td, z, z_f] = slot_array(slots, SPEC.type_name)?;
        let (j, j_td) = (j.writable()?, j_td.as_slice());
        let (z, z_f) = (z.writable()?, z_f.writable()?);
        let k = self.kernel(dt);
        let act = self.act_fx;
        if k.stateful && act == Act::Bkwta {
            // j * bkwta(z), at the old z.
            let n = shapes.state[1];
            for (jr, zr) in j.chunks_exact_mut(n).zip(z.chunks_exact(n)) {
                let kth = fifth_largest(zr);
                for (jv, &zv) in jr.iter_mut().zip(zr) {
                    *jv = *jv * b2t::<T>(zv >= kth);
                }
            }
        }
        ws.runner().run(&k, RateIo { j, j_td, z, z_f });
        if !act.is_elementwise() {
            let os = out_scale::<T>(act, self.output_scale);
            match act {
                Act::Bkwta => {
                    let n = shapes.state[1];
                    for (fr, zr) in z_f.chunks_exact_mut(n).zip(z.chunks_exact(n)) {
                        let kth = fifth_largest(zr);
                        for (f, &zv) in fr.iter_mut().zip(zr) {
                            *f = b2t::<T>(zv >= kth) * os;
                        }
                    }
                }
                _ => softmax_axis1(z, z_f, &shapes.state, os),
            }
        }
        Ok(())
    }
}

/// The 5th largest value of a row (at least 5 long), NaN if the row holds a
/// NaN (`lax.top_k` ranks NaN first, and `jnp.min` of the top 5 is then NaN).
fn fifth_largest<T: Real>(row: &[T]) -> T {
    let mut top = [T::ZERO; 5];
    top.copy_from_slice(&row[..5]);
    if let Some(&v) = top.iter().find(|v| v.is_nan()) {
        return v;
    }
    // Descending insertion sort of the first five, then one pass.
    for i in 1..5 {
        let mut k = i;
        while k > 0 && top[k - 1] < top[k] {
            top.swap(k - 1, k);
            k -= 1;
        }
    }
    for &v in &row[5..] {
        if v.is_nan() {
            return v;
        }
        if v > top[4] {
            let mut k = 4;
            top[4] = v;
            while k > 0 && top[k - 1] < top[k] {
                top.swap(k - 1, k);
                k -= 1;
            }
        }
    }
    top[4]
}

/// ngc-learn's `softmax(x)` over axis 1 of the state (the units of a 2-D
/// state; `H` of a 4-D one, as `jnp.max(x, axis=1)` there), times `os`:
/// `exp(x - max) * (1 / sum)` (XLA multiplies by the reciprocal of a broadcast sum).
fn softmax_axis1<T: Real>(z: &[T], z_f: &mut [T], state: &[usize], os: T) {
    let a = state[1];
    let inner: usize = state[2..].iter().product();
    for (zb, fb) in z
        .chunks_exact(a * inner)
        .zip(z_f.chunks_exact_mut(a * inner))
    {
        for k in 0..inner {
            let mut m = zb[k];
            for h in 1..a {
                let v = zb[h * inner + k];
                // jnp.max: NaN wins.
                if v > m || v.is_nan() {
                    m = v;
                }
                if m.is_nan() {
                    break;
                }
            }
            let mut s = T::ZERO;
            for h in 0..a {
                let e = (zb[h * inner + k] - m).exp_xla::<true>();
                fb[h * inner + k] = e;
                s = s + e;
            }
            let r = T::ONE / s;
            for h in 0..a {
                let f = &mut fb[h * inner + k];
                *f = (*f * r) * os;
            }
        }
    }
}

/// `output_scale` in `T`, rounded to float32 first for the activations
/// ngc-learn computes as float32 masks (`fx(z) * output_scale` is float32 there).
fn out_scale<T: Real>(act: Act, output_scale: f64) -> T {
    if act.is_binary() {
        T::from_f64(output_scale as f32 as f64)
    } else {
        T::from_f64(output_scale)
    }
}

/// Creates ngc-learn's `RateCell` on the portable platform. Names as in
/// ngc-learn (`None`: its defaults, "gaussian", "identity", "none", "euler");
/// `shape` is ngc-learn's `(H, W, C)`.
#[allow(clippy::too_many_arguments)]
pub fn rate_cell<T: Real>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    tau_m: f64,
    prior: Option<&str>,
    prior_leak: f64,
    act_fx: Option<&str>,
    output_scale: f64,
    threshold: Option<&str>,
    threshold_lambda: f64,
    integration: Option<&str>,
    resist_scale: f64,
    is_stateful: bool,
    shape: Option<[usize; 3]>,
) -> Result<Cell<T>, CellError> {
    let kind = Rate::new(
        tau_m,
        prior,
        prior_leak,
        act_fx,
        output_scale,
        threshold,
        threshold_lambda,
        integration,
        resist_scale,
        is_stateful,
    )?;
    rate_cell_on::<T, Portable>(name, n_units, batch_size, kind, shape)
}

/// A rate cell of type `kind` on platform `P`.
pub fn rate_cell_on<T: Real, P: Platform>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    kind: Rate,
    shape: Option<[usize; 3]>,
) -> Result<Cell<T, P>, CellError> {
    let layout = Layout::new(n_units, batch_size, shape)?;
    Cell::new(name, Box::new(kind), layout)
}

#[cfg(test)]
mod tests;
