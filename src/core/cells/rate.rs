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
//! twins), `sin`, `cos` and `log1p` the standard library's (XLA's `sin` and
//! `cos` agree with them; its `log1p` differs in the last bit or two).
//!
//! Refused at creation ([`CellError::InvalidArgument`], naming the accepted
//! values): unknown names (ngc-learn silently falls back for priors,
//! thresholds and integrators), a stateful `softmax` (broken upstream),
//! `"cauchy_threshold"` (crashes upstream), `bkwta` on a 4-D cell or on fewer
//! than 5 units. The lateral pathway (`use_lateral`) is not offered.

use crate::core::error::{short, CellError};
use crate::core::kernel::{Kernel, Sink, LANES};
use crate::core::layout::Layout;
use crate::core::metadata::json_number;
use crate::core::platform::{Platform, Portable};
use crate::core::real::{fma, Real};
use crate::core::spec::{
    slot_array, CellSpec, CellType, CompartmentSpec, Extent, Hyper, Role, Shapes, Slot,
};
use crate::core::workspace::{Blocks, Workspace};
use crate::core::Cell;

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

/// 1 or 0.
#[inline(always)]
fn b2t<T: Real>(c: bool) -> T {
    if c {
        T::ONE
    } else {
        T::ZERO
    }
}

/// `if c { a } else { b }` on values (a compare-and-blend in vector code).
#[inline(always)]
fn sel<T>(c: bool, a: T, b: T) -> T {
    if c {
        a
    } else {
        b
    }
}

/// `jnp.maximum(x, 0)`: NaN propagates, `max(-0, 0) = 0`.
#[inline(always)]
fn relu<T: Real>(x: T) -> T {
    sel(x > T::ZERO || x.is_nan(), x, T::ZERO)
}

/// `1 / (1 + exp(-x))`.
#[inline(always)]
fn sigmoid<T: Real, const F: bool>(x: T) -> T {
    T::ONE / (T::ONE + (-x).exp_xla::<F>())
}

/// `jnp.sign`: ±1, ±0 for ±0, NaN for NaN.
#[inline(always)]
fn sign<T: Real>(x: T) -> T {
    sel(x > T::ZERO, T::ONE, sel(x < T::ZERO, -T::ONE, x))
}

/// `x` for `x >= 0`, else `exp(x) - 1`, as ngc-learn writes it: `x * mask` is a
/// select in XLA, `(exp(x) - 1) * (1 - mask)` a product (NaN for `exp(x) = inf`).
#[inline(always)]
fn elu<T: Real, const F: bool>(x: T) -> T {
    let m = x >= T::ZERO;
    sel(m, x, T::ZERO) + (x.exp_xla::<F>() - T::ONE) * (T::ONE - b2t::<T>(m))
}

/// `out[i] = fx(x[i])` (element-wise activations), one tight loop per activation.
#[inline(always)]
fn fx_slice<T: Real, const F: bool>(act: Act, x: &[T], out: &mut [T]) {
    let out = &mut out[..x.len()];
    macro_rules! each {
        ($v:ident => $e:expr) => {
            for (o, &$v) in out.iter_mut().zip(x) {
                *o = $e;
            }
        };
    }
    match act {
        // `x + 0`: XLA drops the addition (-0 stays -0).
        Act::Identity => out.copy_from_slice(x),
        Act::Tanh => each!(v => v.tanh_k::<F>()),
        Act::Sigmoid => each!(v => sigmoid::<T, F>(v)),
        Act::Relu => each!(v => relu(v)),
        Act::Lrelu => {
            let s = T::from_f64(0.01);
            each!(v => sel(v >= T::ZERO, v, s * v))
        }
        Act::Relu6 => {
            let six = T::from_f64(6.0);
            each!(v => { let r = relu(v); sel(r > six, six, r) })
        }
        Act::Elu => each!(v => elu::<T, F>(v)),
        Act::Silu => each!(v => v * sigmoid::<T, F>(v)),
        Act::Gelu => {
            let b = T::from_f64(1.702);
            each!(v => v * sigmoid::<T, F>(v * b))
        }
        Act::Telu => each!(v => v * v.exp_xla::<F>().tanh_k::<F>()),
        // jnp.logaddexp(x, 0).
        Act::Softplus => each!(v => sel(
            v.is_nan(),
            v,
            relu(v) + (-v.abs()).exp_xla::<F>().ln_1p()
        )),
        Act::UnitThreshold => each!(v => b2t::<T>(v >= T::ONE)),
        Act::Heaviside => each!(v => b2t::<T>(v >= T::ZERO)),
        Act::Sine => {
            let w = T::from_f64(30.0);
            each!(v => (w * v).sin())
        }
        // Row-wise: the cell computes them (the kernel gets `act: None`).
        Act::Bkwta | Act::Softmax => out.copy_from_slice(x),
    }
}

/// `out[i] = fx'(x[i])` (element-wise activations), one tight loop per activation.
#[inline(always)]
fn dfx_slice<T: Real, const F: bool>(act: Act, x: &[T], out: &mut [T]) {
    let out = &mut out[..x.len()];
    macro_rules! each {
        ($v:ident => $e:expr) => {
            for (o, &$v) in out.iter_mut().zip(x) {
                *o = $e;
            }
        };
    }
    // The derivative of a swish `x * sigmoid(b x)`: s + (b x) * (s (1 - s)).
    #[inline(always)]
    fn swish<T: Real, const F: bool>(v: T, b: T) -> T {
        let s = sigmoid::<T, F>(v * b);
        fma::<T, F>(b * v, s * (T::ONE - s), s)
    }
    match act {
        Act::Identity | Act::UnitThreshold | Act::Heaviside => {
            each!(v => fma::<T, F>(v, T::ZERO, T::ONE))
        }
        Act::Tanh => each!(v => {
            let t = v.tanh_k::<F>();
            fma::<T, F>(-t, t, T::ONE)
        }),
        Act::Softplus => each!(v => sigmoid::<T, F>(v)),
        Act::Sigmoid => each!(v => {
            let s = sigmoid::<T, F>(v);
            s * (T::ONE - s)
        }),
        Act::Relu => each!(v => b2t::<T>(v >= T::ZERO)),
        Act::Lrelu => {
            // float32's 0.01 whatever the dtype (ngc-learn's mask is float32).
            let s = T::from_f64(0.01f32 as f64);
            each!(v => {
                let m = b2t::<T>(v >= T::ZERO);
                fma::<T, F>(T::ONE - m, s, m)
            })
        }
        Act::Relu6 => {
            let six = T::from_f64(6.0);
            each!(v => b2t::<T>(v >= T::ZERO) * b2t::<T>(v <= six))
        }
        Act::Elu => each!(v => {
            let m = b2t::<T>(v >= T::ZERO);
            fma::<T, F>(T::ONE - m, v.exp_xla::<F>(), m)
        }),
        Act::Silu => each!(v => swish::<T, F>(v, T::ONE)),
        Act::Gelu => {
            let b = T::from_f64(1.702);
            each!(v => swish::<T, F>(v, b))
        }
        Act::Telu => each!(v => {
            let ex = v.exp_xla::<F>();
            let th = ex.tanh_k::<F>();
            fma::<T, F>(v * ex, fma::<T, F>(-th, th, T::ONE), th)
        }),
        Act::Sine => {
            let w = T::from_f64(30.0);
            each!(v => w * (w * v).cos())
        }
        Act::Bkwta | Act::Softmax => out.fill(T::ONE),
    }
}

/// The step kernel's constants, in the cell's type.
#[derive(Clone, Copy)]
struct Consts<T> {
    /// `1 / tau_m`, divided in `T` (as XLA does with the traced `tau_m`).
    r: T,
    gamma: T,
    resist: T,
    out: T,
    lambda: T,
    dt: T,
    half_dt: T,
}

/// One stateful or stateless step, element-wise, over a range of the arrays.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// The activation; `None` for a row-wise one (`bkwta`, `softmax`): then
    /// the kernel neither modulates `j` by it nor writes `zF` (the cell does).
    pub act: Option<Act>,
    /// The prior.
    pub prior: Prior,
    /// The integration method.
    pub integration: Integration,
    /// The threshold.
    pub threshold: Threshold,
    /// Whether to integrate (else `z = j + j_td`).
    pub stateful: bool,
    /// `tau_m`.
    pub tau_m: f64,
    /// `gamma`.
    pub prior_leak: f64,
    /// `resist_scale`.
    pub resist_scale: f64,
    /// `output_scale`.
    pub output_scale: f64,
    /// `lambda`.
    pub threshold_lambda: f64,
    /// The step's `dt`.
    pub dt: f64,
}

/// The arrays one call of the step kernel reads and writes (one range of them).
#[derive(Debug)]
pub struct RateIo<'a, T> {
    /// `j`: read, and written with the modulated drive by a stateful step.
    pub j: &'a mut [T],
    /// `j_td`.
    pub j_td: &'a [T],
    /// `z`: read by a stateful step, written by every step.
    pub z: &'a mut [T],
    /// `zF`: written (unless the activation is row-wise).
    pub z_f: &'a mut [T],
}

impl<T: Real> Blocks for RateIo<'_, T> {
    fn len(&self) -> usize {
        self.z.len()
    }

    fn split_at(self, mid: usize) -> (Self, Self) {
        let (j0, j1) = self.j.split_at_mut(mid);
        let (t0, t1) = self.j_td.split_at(mid);
        let (z0, z1) = self.z.split_at_mut(mid);
        let (f0, f1) = self.z_f.split_at_mut(mid);
        (
            RateIo {
                j: j0,
                j_td: t0,
                z: z0,
                z_f: f0,
            },
            RateIo {
                j: j1,
                j_td: t1,
                z: z1,
                z_f: f1,
            },
        )
    }
}

/// Elements per block of the step kernel: each phase of a step (`fx'`, the
/// drive, each stage, the threshold, `fx`) is one tight loop over a block held
/// in scratch arrays on the stack (a few KiB, in L1), so every loop vectorises
/// and each `match` on a hyper-parameter runs once per block.
const BLOCK: usize = 256;

/// The scratch arrays of one block.
struct Scratch<T> {
    z0: [T; BLOCK],
    drive: [T; BLOCK],
    k: [T; BLOCK],
    acc: [T; BLOCK],
    ahead: [T; BLOCK],
    z1: [T; BLOCK],
}

impl Step {
    fn consts<T: Real>(&self) -> Consts<T> {
        let dt = T::from_f64(self.dt);
        Consts {
            r: T::ONE / T::from_f64(self.tau_m),
            gamma: T::from_f64(self.prior_leak),
            resist: T::from_f64(self.resist_scale),
            out: match self.act {
                Some(a) => out_scale::<T>(a, self.output_scale),
                None => T::ONE,
            },
            lambda: T::from_f64(self.threshold_lambda),
            dt,
            half_dt: dt * T::from_f64(0.5),
        }
    }

    /// `out = fma(-leak(ζ), gamma, u)`: the right-hand side before its `* r`.
    #[inline(always)]
    fn drive<T: Real, const F: bool>(&self, c: &Consts<T>, zeta: &[T], u: &[T], out: &mut [T]) {
        let n = zeta.len();
        let (u, out) = (&u[..n], &mut out[..n]);
        let two = T::from_f64(2.0);
        macro_rules! each {
            ($v:ident => $leak:expr) => {
                for i in 0..n {
                    let $v = zeta[i];
                    out[i] = fma::<T, F>(-($leak), c.gamma, u[i]);
                }
            };
        }
        match self.prior {
            Prior::Gaussian => each!(v => v),
            Prior::Laplacian => each!(v => sign(v)),
            Prior::Cauchy => each!(v => (v * two) / fma::<T, F>(v, v, T::ONE)),
            Prior::Exp => each!(v => ((-(v * v)).exp_xla::<F>() * v) * two),
        }
    }

    /// `out = f(ζ) = fma(-leak(ζ), gamma, u) * r`.
    #[inline(always)]
    fn rhs<T: Real, const F: bool>(&self, c: &Consts<T>, zeta: &[T], u: &[T], out: &mut [T]) {
        self.drive::<T, F>(c, zeta, u, out);
        for v in out[..zeta.len()].iter_mut() {
            *v = *v * c.r;
        }
    }

    /// `out = fma(k, h, z)`: the state one (partial) step ahead.
    #[inline(always)]
    fn ahead<T: Real, const F: bool>(k: &[T], h: T, z: &[T], out: &mut [T]) {
        let n = z.len();
        let (k, out) = (&k[..n], &mut out[..n]);
        for i in 0..n {
            out[i] = fma::<T, F>(k[i], h, z[i]);
        }
    }

    /// One integration step of a block: `z1` from `z` and the drive `u`
    /// (`k`, `acc`, `ahead`: scratch).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn integrate<T: Real, const F: bool>(
        &self,
        c: &Consts<T>,
        z: &[T],
        u: &[T],
        k: &mut [T],
        acc: &mut [T],
        ahead: &mut [T],
        z1: &mut [T],
    ) {
        let n = z.len();
        let (k, acc, ahead, z1) = (&mut k[..n], &mut acc[..n], &mut ahead[..n], &mut z1[..n]);
        self.rhs::<T, F>(c, z, u, k);
        match self.integration {
            Integration::Euler => Self::ahead::<T, F>(k, c.dt, z, z1),
            Integration::Midpoint => {
                Self::ahead::<T, F>(k, c.half_dt, z, ahead);
                self.rhs::<T, F>(c, ahead, u, k);
                Self::ahead::<T, F>(k, c.dt, z, z1);
            }
            Integration::Heun => {
                // k1 + k2, with k2's `* r` fused into the sum (k2 has no other use).
                Self::ahead::<T, F>(k, c.dt, z, ahead);
                self.drive::<T, F>(c, ahead, u, acc);
                for i in 0..n {
                    acc[i] = fma::<T, F>(acc[i], c.r, k[i]);
                }
                Self::ahead::<T, F>(acc, c.half_dt, z, z1);
            }
            Integration::Ralston => {
                let h = c.dt * T::from_f64(0.75);
                let (w1, w2) = (T::from_f64(1.0 / 3.0), T::from_f64(2.0 / 3.0));
                Self::ahead::<T, F>(k, h, z, ahead);
                acc.copy_from_slice(k);
                self.rhs::<T, F>(c, ahead, u, k);
                // k1/3 + 2 k2/3 as XLA contracts ngc-learn's `_ralston`: fma(k1, 1/3, k2 * 2/3).
                for i in 0..n {
                    acc[i] = fma::<T, F>(acc[i], w1, k[i] * w2);
                }
                Self::ahead::<T, F>(acc, c.dt, z, z1);
            }
            Integration::Rk4 => {
                let (two, sixth) = (T::from_f64(2.0), T::ONE / T::from_f64(6.0));
                acc.copy_from_slice(k);
                Self::ahead::<T, F>(k, c.half_dt, z, ahead);
                self.rhs::<T, F>(c, ahead, u, k);
                for i in 0..n {
                    acc[i] = fma::<T, F>(k[i], two, acc[i]);
                }
                Self::ahead::<T, F>(k, c.half_dt, z, ahead);
                self.rhs::<T, F>(c, ahead, u, k);
                for i in 0..n {
                    acc[i] = fma::<T, F>(k[i], two, acc[i]);
                }
                Self::ahead::<T, F>(k, c.dt, z, ahead);
                // XLA fuses k4's `* r` into the last addition of the sum (k4 has
                // no other use): fma(g4, r, (k1 + 2 k2) + 2 k3).
                self.drive::<T, F>(c, ahead, u, k);
                for i in 0..n {
                    acc[i] = fma::<T, F>(k[i], c.r, acc[i]) * sixth;
                }
                Self::ahead::<T, F>(acc, c.dt, z, z1);
            }
        }
    }

    /// One block: `j`, `z`, `zF` after the step, written through `S`.
    #[inline(always)]
    fn block<T: Real, const F: bool, S: Sink>(
        &self,
        c: &Consts<T>,
        io: RateIo<'_, T>,
        s: &mut Scratch<T>,
    ) {
        let n = io.z.len();
        let (j, j_td) = (&mut io.j[..n], &io.j_td[..n]);
        let (z, z_f) = (io.z, &mut io.z_f[..n]);
        let Scratch {
            z0,
            drive,
            k,
            acc,
            ahead,
            z1,
        } = s;
        let (z0, u, k) = (&mut z0[..n], &mut drive[..n], &mut k[..n]);
        let (acc, ahead, z1) = (&mut acc[..n], &mut ahead[..n], &mut z1[..n]);
        z0.copy_from_slice(z);
        if self.stateful {
            match self.act {
                Some(a) => dfx_slice::<T, F>(a, z0, k),
                None => k.fill(T::ONE),
            }
            // j' = (j * fx'(z)) * resist_scale, written back; u = j' + j_td.
            for i in 0..n {
                k[i] = (j[i] * k[i]) * c.resist;
                u[i] = k[i] + j_td[i];
            }
            put::<T, S>(j, k);
            self.integrate::<T, F>(c, z0, u, k, acc, ahead, z1);
            if self.threshold == Threshold::Soft {
                for v in z1.iter_mut() {
                    *v = relu(*v - c.lambda) - relu(-*v - c.lambda);
                }
            }
        } else {
            // `(j + j_td) + 0`: XLA drops the `+ 0`.
            for i in 0..n {
                z1[i] = j[i] + j_td[i];
            }
        }
        put::<T, S>(z, z1);
        if let Some(a) = self.act {
            fx_slice::<T, F>(a, z1, k);
            for v in k.iter_mut() {
                *v = *v * c.out;
            }
            put::<T, S>(z_f, k);
        }
    }
}

/// Stores `src` into `dst` through the sink, whole `LANES` chunks at a time.
#[inline(always)]
fn put<T: Real, S: Sink>(dst: &mut [T], src: &[T]) {
    let n = dst.len();
    let full = n - n % LANES;
    for (d, s) in dst[..full]
        .chunks_exact_mut(LANES)
        .zip(src[..full].chunks_exact(LANES))
    {
        S::put::<T, LANES>(d.try_into().unwrap(), s.try_into().unwrap());
    }
    dst[full..].copy_from_slice(&src[full..n]);
}

impl Kernel for Step {
    type Io<'a, T: Real> = RateIo<'a, T>;

    #[inline(always)]
    fn run<T: Real, const F: bool, S: Sink>(&self, io: RateIo<'_, T>) {
        let c = self.consts::<T>();
        let mut s = Scratch {
            z0: [T::ZERO; BLOCK],
            drive: [T::ZERO; BLOCK],
            k: [T::ZERO; BLOCK],
            acc: [T::ZERO; BLOCK],
            ahead: [T::ZERO; BLOCK],
            z1: [T::ZERO; BLOCK],
        };
        let mut rest = io;
        while !rest.z.is_empty() {
            let m = rest.z.len().min(BLOCK);
            let (head, tail) = rest.split_at(m);
            self.block::<T, F, S>(&c, head, &mut s);
            rest = tail;
        }
        S::finish();
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
mod tests {
    use super::*;
    use crate::core::workspace::MIN_ELEMENTS_PER_THREAD;

    /// A cell with every hyper-parameter given (names as the C ABI takes them).
    #[allow(clippy::too_many_arguments)]
    fn cell<T: Real>(
        n: usize,
        b: usize,
        tau: f64,
        prior: &str,
        leak: f64,
        act: &str,
        integ: &str,
        thr: (&str, f64),
        scales: (f64, f64),
        stateful: bool,
    ) -> Cell<T> {
        rate_cell::<T>(
            "r",
            n,
            b,
            tau,
            Some(prior),
            leak,
            Some(act),
            scales.0,
            Some(thr.0),
            thr.1,
            Some(integ),
            scales.1,
            stateful,
            None,
        )
        .unwrap()
    }

    /// An identity cell, no threshold, scales 1.
    fn plain(n: usize, tau: f64, prior: &str, leak: f64, integ: &str) -> Cell<f64> {
        cell(
            n,
            1,
            tau,
            prior,
            leak,
            "identity",
            integ,
            ("none", 0.0),
            (1.0, 1.0),
            true,
        )
    }

    fn f64s<T: Real>(v: &[T]) -> Vec<f64> {
        v.iter().map(|x| x.to_f64()).collect()
    }

    fn close(got: &[f64], want: &[f64], rtol: f64, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= rtol * w.abs();
            assert!(ok, "{what}[{i}]: {g:e}, want {w:e}");
        }
    }

    #[test]
    fn ngc_learns_own_test() {
        // test_RateCell: 1 unit, tau 50, identity, euler, j = 1 for ten steps of dt 1.
        let mut c = cell::<f32>(
            1,
            1,
            50.0,
            "gaussian",
            0.0,
            "identity",
            "euler",
            ("none", 0.0),
            (1.0, 1.0),
            true,
        );
        let r = 1.0f32 / 50.0;
        let mut want = 0.0f32;
        for k in 1..=10 {
            c.set("j", &[1.0]).unwrap();
            c.advance(1.0).unwrap();
            want += r;
            assert_eq!(c.get("z").unwrap(), &[want]);
            assert_eq!(c.get("zF").unwrap(), &[want]);
            assert!((want - 0.02 * k as f32).abs() < 1e-6);
        }
        // 1.0f / (float)tau, not the double's quotient rounded.
        let mut c = cell::<f32>(
            1,
            1,
            0.010049995,
            "gaussian",
            0.0,
            "identity",
            "euler",
            ("none", 0.0),
            (1.0, 1.0),
            true,
        );
        c.set("j", &[1.0]).unwrap();
        c.advance(1.0).unwrap();
        assert_eq!(c.get("z").unwrap(), &[99.50253f32]);
    }

    #[test]
    fn every_prior_one_euler_step_by_hand() {
        // tau 0.5 (r = 2), gamma 0.5, dt 0.125, j = 1, j_td = 0.25: z1 = z + (u - gamma leak(z)) / 4.
        let step = |prior: &str, z: &[f64]| {
            let mut c = plain(z.len(), 0.5, prior, 0.5, "euler");
            c.set("z", z).unwrap();
            c.set("j", &vec![1.0; z.len()]).unwrap();
            c.set("j_td", &vec![0.25; z.len()]).unwrap();
            c.advance(0.125).unwrap();
            c.get("z").unwrap().to_vec()
        };
        assert_eq!(step("gaussian", &[0.5, -1.0]), [0.75, -0.5625]);
        // sign: 1, -1, 0.
        assert_eq!(
            step("laplacian", &[0.5, -0.5, 0.0]),
            [0.6875, -0.0625, 0.3125]
        );
        // 2z / (1 + z^2): 1 at z = 1, -1 at -1, 0 at 0.
        assert_eq!(step("cauchy", &[1.0, -1.0, 0.0]), [1.1875, -0.5625, 0.3125]);
        // 2 z exp(-z^2): 2/e at z = 1.
        let e = step("exp", &[1.0, 0.0]);
        let want = 1.0 + (1.25 - 0.5 * 2.0 / std::f64::consts::E) * 0.25;
        close(&e, &[want, 0.3125], 1e-15, "exp prior");
    }

    /// `z1` after one step of `integ` on `f`, written from the method's tableau.
    fn tableau(integ: &str, f: &dyn Fn(f64) -> f64, z: f64, h: f64) -> f64 {
        let k1 = f(z);
        match integ {
            "euler" => z + h * k1,
            "midpoint" => z + h * f(z + h / 2.0 * k1),
            "heun" => z + h / 2.0 * (k1 + f(z + h * k1)),
            "ralston" => z + h * (k1 / 3.0 + 2.0 / 3.0 * f(z + 0.75 * h * k1)),
            "rk4" => {
                let k2 = f(z + h / 2.0 * k1);
                let k3 = f(z + h / 2.0 * k2);
                let k4 = f(z + h * k3);
                z + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            }
            _ => unreachable!(),
        }
    }

    const METHODS: [&str; 5] = ["euler", "midpoint", "heun", "ralston", "rk4"];

    #[test]
    fn every_integrator_one_step_by_hand() {
        // Linear: f(z) = (1.25 - 0.5 z) * 2 from z = 0.5, h = 0.25 (k1 = 2). Every
        // second-order method gives z + h k1 (1 - h/2) = 0.9375 on a linear ODE.
        let want = [1.0, 0.9375, 0.9375, 0.9375, 0.9423828125];
        for (integ, want) in METHODS.iter().zip(want) {
            let mut c = plain(1, 0.5, "gaussian", 0.5, integ);
            c.set("z", &[0.5]).unwrap();
            c.set("j", &[1.25]).unwrap();
            c.advance(0.25).unwrap();
            close(c.get("z").unwrap(), &[want], 1e-15, integ);
        }
        // Nonlinear (Cauchy prior): the second-order methods differ, each as its tableau.
        let (gamma, u, tau, h) = (1.5, 0.3, 2.0, 0.7);
        let f = |z: f64| (-(2.0 * z / (1.0 + z * z)) * gamma + u) / tau;
        let z0 = [-1.3, -0.2, 0.4, 2.5];
        let mut seen = Vec::new();
        for integ in METHODS {
            let mut c = plain(4, tau, "cauchy", gamma, integ);
            c.set("z", &z0).unwrap();
            c.set("j", &[u; 4]).unwrap();
            c.advance(h).unwrap();
            let want: Vec<f64> = z0.iter().map(|&z| tableau(integ, &f, z, h)).collect();
            close(c.get("z").unwrap(), &want, 1e-14, integ);
            seen.push(c.get("z").unwrap()[0]);
        }
        for i in 0..seen.len() {
            for k in i + 1..seen.len() {
                assert!(
                    (seen[i] - seen[k]).abs() > 1e-6,
                    "{} and {} agree",
                    METHODS[i],
                    METHODS[k]
                );
            }
        }
    }

    #[test]
    fn each_integrator_converges_at_its_order() {
        // dz/dt = (u - gamma 2z exp(-z^2)) / tau from t = 0 to 2, against a fine RK4 run.
        let (gamma, u, tau, t_end) = (1.5, 0.3, 1.0, 2.0);
        let z0 = [-1.5, -0.4, 0.3, 1.2];
        let run = |integ: &str, steps: usize| -> Vec<f64> {
            let mut c = plain(4, tau, "exp", gamma, integ);
            c.set("z", &z0).unwrap();
            c.set("j", &[u; 4]).unwrap();
            for _ in 0..steps {
                c.advance(t_end / steps as f64).unwrap();
            }
            c.get("z").unwrap().to_vec()
        };
        let exact = run("rk4", 4096);
        let err = |v: Vec<f64>| {
            v.iter()
                .zip(&exact)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
        };
        for (integ, order) in [
            ("euler", 1),
            ("midpoint", 2),
            ("heun", 2),
            ("ralston", 2),
            ("rk4", 4),
        ] {
            let (e1, e2) = (err(run(integ, 20)), err(run(integ, 40)));
            let ratio = e1 / e2;
            let want = f64::from(1u32 << order);
            assert!(
                (ratio / want - 1.0).abs() < 0.15,
                "{integ}: error {e1:e} at dt {}, {e2:e} at half: ratio {ratio}, want ~{want}",
                t_end / 20.0
            );
        }
    }

    #[test]
    fn soft_threshold_shrinks_after_the_step() {
        // Each z moves by +0.25 (f = 2, dt 0.125), then shrinks by lambda 0.5.
        let mut c = cell::<f64>(
            4,
            1,
            0.5,
            "gaussian",
            0.0,
            "identity",
            "euler",
            ("soft_threshold", 0.5),
            (1.0, 1.0),
            true,
        );
        c.set("z", &[0.5, -1.0, 0.0, -0.5]).unwrap();
        c.set("j", &[1.0; 4]).unwrap();
        c.advance(0.125).unwrap();
        let z = c.get("z").unwrap();
        assert_eq!(z, &[0.25, -0.25, 0.0, 0.0]);
        assert!(z[2].is_sign_positive() && z[3].is_sign_positive());
        assert_eq!(c.get("zF").unwrap(), z);
    }

    #[test]
    fn stateless_cells_add_their_inputs() {
        for (tau, stateful) in [(10.0, false), (0.0, true), (-1.0, true)] {
            let mut c = cell::<f64>(
                3,
                1,
                tau,
                "cauchy",
                0.7,
                "tanh",
                "rk4",
                ("soft_threshold", 9.0),
                (1.5, 3.0),
                stateful,
            );
            c.set("z", &[5.0, 5.0, 5.0]).unwrap();
            c.set("j", &[0.5, -1.0, 2.0]).unwrap();
            c.set("j_td", &[0.25, 0.5, -4.0]).unwrap();
            c.advance(1.0).unwrap();
            assert_eq!(c.get("z").unwrap(), &[0.75, -0.5, -2.0]);
            let want: Vec<f64> = [0.75f64, -0.5, -2.0]
                .iter()
                .map(|z| z.tanh() * 1.5)
                .collect();
            close(c.get("zF").unwrap(), &want, 1e-15, "zF");
            assert_eq!(c.get("j").unwrap(), &[0.5, -1.0, 2.0], "j is not modulated");
        }
        // A NaN tau_m is stateful (as in ngc-learn: NaN <= 0 is false): r = NaN.
        let mut c = plain(1, f64::NAN, "gaussian", 0.0, "euler");
        c.set("j", &[1.0]).unwrap();
        c.advance(1.0).unwrap();
        assert!(c.get("z").unwrap()[0].is_nan());
    }

    #[test]
    fn j_is_written_back_and_compounds() {
        // tanh, resist 1.5: each step j = j * (1 - tanh^2(z)) * 1.5 at the old z; the
        // leak is not modulated, j_td neither.
        let (z0, j0, jt) = ([0.3, -1.2], [2.0, -0.5], [0.1, 0.2]);
        let mut c = cell::<f64>(
            2,
            1,
            4.0,
            "gaussian",
            0.25,
            "tanh",
            "euler",
            ("none", 0.0),
            (1.0, 1.5),
            true,
        );
        c.set("z", &z0).unwrap();
        c.set("j", &j0).unwrap();
        c.set("j_td", &jt).unwrap();
        let (mut z, mut j) = (z0, j0);
        for step in 0..3 {
            c.advance(0.5).unwrap();
            for i in 0..2 {
                let t = z[i].tanh();
                j[i] = j[i] * (1.0 - t * t) * 1.5;
                z[i] += 0.5 * (-0.25 * z[i] + j[i] + jt[i]) / 4.0;
            }
            close(
                c.get("j").unwrap(),
                &j,
                1e-14,
                &format!("j after step {step}"),
            );
            close(
                c.get("z").unwrap(),
                &z,
                1e-14,
                &format!("z after step {step}"),
            );
            assert_eq!(c.get("j_td").unwrap(), &jt);
        }
        let zf: Vec<f64> = z.iter().map(|v| v.tanh()).collect();
        close(c.get("zF").unwrap(), &zf, 1e-14, "zF");
    }

    #[test]
    fn reset_gives_zeros_and_keeps_the_shape() {
        let mut c = rate_cell::<f32>(
            "r",
            24,
            2,
            10.0,
            None,
            0.1,
            Some("tanh"),
            1.0,
            None,
            0.0,
            Some("midpoint"),
            1.0,
            true,
            Some([3, 4, 2]),
        )
        .unwrap();
        c.set("z", &[1.0; 48]).unwrap();
        c.set("j", &[1.0; 48]).unwrap();
        c.advance(1.0).unwrap();
        assert!(c.get("zF").unwrap()[0] > 0.7);
        c.reset().unwrap();
        for name in ["j", "j_td", "z", "zF"] {
            assert_eq!(c.get(name).unwrap(), &[0.0; 48], "{name}");
            assert_eq!(c.view(name).unwrap().shape(), &[2, 3, 4, 2]);
        }
        c.batched_reset(3).unwrap();
        assert_eq!(c.view("z").unwrap().shape(), &[3, 3, 4, 2]);
    }

    #[test]
    fn unknown_and_unsupported_choices_are_refused_with_the_accepted_names() {
        let make = |prior: &str, act: &str, thr: &str, integ: &str, tau: f64, n: usize, shape| {
            rate_cell::<f32>(
                "r",
                n,
                2,
                tau,
                Some(prior),
                0.1,
                Some(act),
                1.0,
                Some(thr),
                0.1,
                Some(integ),
                1.0,
                true,
                shape,
            )
        };
        let msg = |r: Result<Cell<f32>, CellError>| match r {
            Err(CellError::InvalidArgument(m)) => m,
            other => panic!("not refused: {other:?}"),
        };
        let m = msg(make("gauss", "tanh", "none", "euler", 1.0, 8, None));
        assert!(
            m.contains("prior \"gauss\"") && m.contains("\"laplacian\"") && m.contains("\"exp\""),
            "{m}"
        );
        let m = msg(make("gaussian", "relu7", "none", "euler", 1.0, 8, None));
        assert!(m.contains("\"relu6\"") && m.contains("\"softmax\""), "{m}");
        let m = msg(make(
            "gaussian",
            "my_heaviside",
            "none",
            "euler",
            1.0,
            8,
            None,
        ));
        assert!(m.contains("write \"heaviside\""), "{m}");
        let m = msg(make("gaussian", "tanh", "hard", "euler", 1.0, 8, None));
        assert!(m.contains("\"soft_threshold\""), "{m}");
        let m = msg(make(
            "gaussian",
            "tanh",
            "cauchy_threshold",
            "euler",
            1.0,
            8,
            None,
        ));
        assert!(
            m.contains("not offered") && m.contains("\"soft_threshold\""),
            "{m}"
        );
        let m = msg(make("gaussian", "tanh", "none", "rk3", 1.0, 8, None));
        assert!(
            m.contains("\"ralston\"") && m.contains("\"rk2_heun\""),
            "{m}"
        );
        let m = msg(make("gaussian", "softmax", "none", "euler", 1.0, 8, None));
        assert!(m.contains("stateless"), "{m}");
        let m = msg(make("gaussian", "bkwta", "none", "euler", 1.0, 4, None));
        assert!(m.contains("n_units >= 5"), "{m}");
        let m = msg(make(
            "gaussian",
            "bkwta",
            "none",
            "euler",
            1.0,
            60,
            Some([2, 5, 6]),
        ));
        assert!(m.contains("2-D"), "{m}");
        // Accepted: stateless softmax, bkwta on 5 units, every alias.
        make("gaussian", "softmax", "none", "euler", 0.0, 3, None).unwrap();
        make("gaussian", "bkwta", "none", "euler", 1.0, 5, None).unwrap();
        for integ in ["rk1", "rk2", "rk2_heun", "rk2_ralston"] {
            make("gaussian", "tanh", "none", integ, 1.0, 3, None).unwrap();
        }
        // NULL names are ngc-learn's defaults.
        let c = rate_cell::<f64>(
            "r", 2, 1, 1.0, None, 0.0, None, 1.0, None, 0.0, None, 1.0, true, None,
        )
        .unwrap();
        let meta = c.metadata_json();
        for part in [
            "\"prior\":{\"value\":\"gaussian\"",
            "\"act_fx\":{\"value\":\"identity\"",
            "\"threshold\":{\"value\":\"none\"",
            "\"integration_type\":{\"value\":\"euler\"",
            "\"is_stateful\":{\"value\":true",
            "\"tau_m\":{\"value\":1.0",
        ] {
            assert!(meta.contains(part), "{part} not in {meta}");
        }
    }

    /// `(fx, fx')` at `x`, from ngc-learn's formulas with the standard library.
    fn reference(act: &str, x: f64) -> (f64, f64) {
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let swish = |b: f64| {
            let s = sig(b * x);
            (x * s, s + b * x * s * (1.0 - s))
        };
        let step = |c: bool| f64::from(u8::from(c));
        match act {
            "identity" => (x, x * 0.0 + 1.0),
            "tanh" => (x.tanh(), 1.0 - x.tanh() * x.tanh()),
            "sigmoid" => (sig(x), sig(x) * (1.0 - sig(x))),
            "relu" => (x.max(0.0), step(x >= 0.0)),
            "lrelu" => (
                if x >= 0.0 { x } else { 0.01 * x },
                if x >= 0.0 { 1.0 } else { 0.01f32 as f64 },
            ),
            "relu6" => (x.clamp(0.0, 6.0), step((0.0..=6.0).contains(&x))),
            "elu" => (
                if x >= 0.0 { x } else { x.exp() - 1.0 },
                if x >= 0.0 { 1.0 } else { x.exp() },
            ),
            "silu" => swish(1.0),
            "gelu" => swish(1.702),
            "telu" => {
                let th = x.exp().tanh();
                (x * th, th + x * x.exp() * (1.0 - th * th))
            }
            "softplus" => ((1.0 + x.exp()).ln(), sig(x)),
            "unit_threshold" => (step(x >= 1.0), 1.0),
            "heaviside" => (step(x >= 0.0), 1.0),
            "sine" => ((30.0 * x).sin(), 30.0 * (30.0 * x).cos()),
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_elementwise_activation_and_derivative_as_ngc_learn() {
        let xs = [
            -7.5, -3.0, -1.0, -0.3, -1e-3, 0.0, 1e-3, 0.4, 1.0, 2.5, 6.0, 9.0,
        ];
        for &(name, act) in &Act::NAMES {
            if !act.is_elementwise() {
                continue;
            }
            // fx: stateless, output_scale 1.
            let mut c = cell::<f64>(
                xs.len(),
                1,
                0.0,
                "gaussian",
                0.0,
                name,
                "euler",
                ("none", 0.0),
                (1.0, 1.0),
                false,
            );
            c.set("j", &xs).unwrap();
            c.advance(1.0).unwrap();
            let want: Vec<f64> = xs.iter().map(|&x| reference(name, x).0).collect();
            close(c.get("zF").unwrap(), &want, 1e-13, name);
            // fx': the modulated j of a stateful step from z = x with j = 1.
            let mut c = cell::<f64>(
                xs.len(),
                1,
                1.0,
                "gaussian",
                0.0,
                name,
                "euler",
                ("none", 0.0),
                (1.0, 1.0),
                true,
            );
            c.set("z", &xs).unwrap();
            c.set("j", &[1.0; 12]).unwrap();
            c.advance(1.0).unwrap();
            // Absolute: 1 - tanh^2 near saturation amplifies tanh's last-bit differences.
            for (i, (&g, &x)) in c.get("j").unwrap().iter().zip(&xs).enumerate() {
                let w = reference(name, x).1;
                assert!(
                    (g - w).abs() <= 1e-13 * w.abs().max(1.0),
                    "{name}'[{i}]: {g:e}, want {w:e}"
                );
            }
        }
    }

    #[test]
    fn activation_edge_values_follow_xla() {
        let fx = |act: &str, xs: &[f32]| {
            let mut c = cell::<f32>(
                xs.len(),
                1,
                0.0,
                "gaussian",
                0.0,
                act,
                "euler",
                ("none", 0.0),
                (1.0, 1.0),
                false,
            );
            c.set("j", xs).unwrap();
            c.advance(1.0).unwrap();
            c.get("zF").unwrap().to_vec()
        };
        let dfx = |act: &str, xs: &[f32]| {
            let mut c = cell::<f32>(
                xs.len(),
                1,
                1.0,
                "gaussian",
                0.0,
                act,
                "euler",
                ("none", 0.0),
                (1.0, 1.0),
                true,
            );
            c.set("z", xs).unwrap();
            c.set("j", &vec![1.0; xs.len()]).unwrap();
            c.advance(1.0).unwrap();
            c.get("j").unwrap().to_vec()
        };
        let (inf, nan) = (f32::INFINITY, f32::NAN);
        // elu: exp(95) overflows, inf * 0 is NaN in fx and fx'; elu(-inf) = -1.
        let e = fx("elu", &[95.0, -inf, -1.0]);
        assert!(
            e[0].is_nan() && e[1] == -1.0 && e[2] == (-1.0f32).exp() - 1.0,
            "{e:?}"
        );
        assert!(dfx("elu", &[95.0])[0].is_nan());
        // relu: max(-0, 0) = 0, NaN propagates; its derivative is 1 at 0, 0 at NaN.
        let r = fx("relu", &[-0.0, nan]);
        assert!(r[0] == 0.0 && r[0].is_sign_positive() && r[1].is_nan());
        assert_eq!(dfx("relu", &[0.0, nan, -0.0]), [1.0, 0.0, 1.0]);
        // identity's derivative x * 0 + 1 is NaN at infinities; tanh(±inf) = ±1.
        assert!(dfx("identity", &[inf])[0].is_nan());
        assert_eq!(fx("tanh", &[inf, -inf, 25.0]), [1.0, -1.0, 1.0]);
        // sine ignores omega_0: sin(30 x).
        assert_eq!(fx("sine", &[0.05])[0], (30.0f32 * 0.05).sin());
        // softplus: NaN stays NaN, large x is x, very negative is ~0.
        let s = fx("softplus", &[nan, 100.0, -100.0]);
        assert!(
            s[0].is_nan() && s[1] == 100.0 && s[2].abs() < 1e-37,
            "{s:?}"
        );
    }

    #[test]
    fn binary_activations_scale_by_a_float32_output_scale() {
        // ngc-learn's heaviside/unit_threshold/bkwta masks are float32 even under
        // x64, so zF = mask * float32(output_scale).
        let mut c = cell::<f64>(
            5,
            1,
            0.0,
            "gaussian",
            0.0,
            "heaviside",
            "euler",
            ("none", 0.0),
            (0.1, 1.0),
            false,
        );
        c.set("j", &[-1.0, 0.0, 1.0, -0.0, 2.0]).unwrap();
        c.advance(1.0).unwrap();
        let o = 0.1f32 as f64;
        assert_eq!(c.get("zF").unwrap(), &[0.0, o, o, o, o]);
        let mut c = cell::<f64>(
            2,
            1,
            0.0,
            "gaussian",
            0.0,
            "sigmoid",
            "euler",
            ("none", 0.0),
            (0.1, 1.0),
            false,
        );
        c.advance(1.0).unwrap();
        assert_eq!(c.get("zF").unwrap(), &[0.5 * 0.1; 2]);
    }

    #[test]
    fn bkwta_keeps_the_five_largest_of_each_row() {
        let rows = [
            [0.5, -1.0, 2.0, 0.25, 1.5, -0.5, 3.0],
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
            [1.0, f64::NAN, 3.0, 2.0, -1.0, 5.0, 0.0],
        ];
        let z: Vec<f64> = rows.concat();
        let want = [
            [1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0],
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
            [0.0; 7],
        ]
        .concat();
        // Stateless: zF = bkwta(j + j_td) * 2.
        let mut c = cell::<f64>(
            7,
            3,
            0.0,
            "gaussian",
            0.0,
            "bkwta",
            "euler",
            ("none", 0.0),
            (2.0, 1.0),
            false,
        );
        c.set("j", &z).unwrap();
        c.advance(1.0).unwrap();
        let twice: Vec<f64> = want.iter().map(|w| w * 2.0).collect();
        assert_eq!(c.get("zF").unwrap(), twice.as_slice());
        // Stateful: j is modulated by bkwta(z) at the old z (its own "derivative").
        let mut c = cell::<f64>(
            7,
            3,
            1.0,
            "gaussian",
            0.0,
            "bkwta",
            "euler",
            ("none", 0.0),
            (1.0, 1.0),
            true,
        );
        c.set("z", &z).unwrap();
        c.set("j", &[3.0; 21]).unwrap();
        c.advance(0.5).unwrap();
        let jw: Vec<f64> = want.iter().map(|w| w * 3.0).collect();
        assert_eq!(c.get("j").unwrap(), jw.as_slice());
        let zw: Vec<f64> = z.iter().zip(&jw).map(|(z, j)| z + 0.5 * j).collect();
        close(c.get("z").unwrap(), &zw, 0.0, "z");
        assert_eq!(
            &c.get("zF").unwrap()[..7],
            &[1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0]
        );
    }

    #[test]
    fn softmax_normalises_axis_1() {
        let mut c = cell::<f64>(
            3,
            2,
            0.0,
            "gaussian",
            0.0,
            "softmax",
            "euler",
            ("none", 0.0),
            (1.0, 1.0),
            false,
        );
        c.set("j", &[1.0, 2.0, 3.0, -1000.0, 0.0, 1000.0]).unwrap();
        c.advance(1.0).unwrap();
        let zf = c.get("zF").unwrap();
        let e = [(-2.0f64).exp(), (-1.0f64).exp(), 1.0];
        let s: f64 = e.iter().sum();
        close(&zf[..3], &[e[0] / s, e[1] / s, e[2] / s], 1e-15, "row 0");
        assert_eq!(&zf[3..], &[0.0, 0.0, 1.0]);
        // 4-D (batch, H, W, C): over H, as jnp.max(x, axis=1).
        let mut c = rate_cell::<f64>(
            "r",
            12,
            1,
            0.0,
            None,
            0.0,
            Some("softmax"),
            2.0,
            None,
            0.0,
            None,
            1.0,
            false,
            Some([3, 2, 2]),
        )
        .unwrap();
        let x: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).sin()).collect();
        c.set("j", &x).unwrap();
        c.advance(1.0).unwrap();
        let zf = c.get("zF").unwrap();
        for k in 0..4 {
            let s: f64 = (0..3).map(|h| zf[h * 4 + k]).sum();
            assert!((s - 2.0).abs() < 1e-14, "column {k}: {s}");
        }
    }

    #[test]
    fn any_thread_count_gives_the_same_bits() {
        let n = MIN_ELEMENTS_PER_THREAD + 1001;
        let x: Vec<f32> = (0..2 * n)
            .map(|i| ((i as f32) * 0.37).sin() * 3.0)
            .collect();
        let y: Vec<f32> = (0..2 * n).map(|i| ((i as f32) * 0.11).cos()).collect();
        let run = |threads: usize| {
            let mut c = cell::<f32>(
                n,
                2,
                3.0,
                "cauchy",
                0.2,
                "tanh",
                "rk4",
                ("soft_threshold", 0.01),
                (1.5, 0.8),
                true,
            );
            c.set_threads(threads).unwrap();
            c.set("z", &x).unwrap();
            c.set("j", &y).unwrap();
            c.set("j_td", &x).unwrap();
            c.advance(0.5).unwrap();
            c.advance(0.5).unwrap();
            ["j", "z", "zF"].map(|k| f64s(c.get(k).unwrap()))
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
    }
}
