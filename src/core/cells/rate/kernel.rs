//! RateCell's step kernel: one advance, element-wise, over a range of the arrays.
//!
//! The arrays are taken in blocks of [`BLOCK`] elements, each in three or
//! four tight passes (everything but the first reads what the previous pass
//! left in L1-resident scratch arrays on the stack):
//!
//! 1. `g = fx'(z)`, one loop per activation (stateful steps);
//! 2. the fused step: `j = (j * g) * resist_scale` (stored), `u = j + j_td`
//!    and every stage of the integration method, kept in registers, into
//!    `z1`: one loop per prior and method ([`Leak`] × [`Method`], 20 loops, each
//!    with and without the `resist_scale` multiply),
//!    so a stage never goes through memory and nothing is matched per element;
//! 3. the soft threshold on `z1`, if asked;
//! 4. `z = z1` and `zF = fx(z1) * output_scale` stored together, one loop per
//!    activation.
//!
//! Every store to a cell array goes through the [`Sink`] a whole `LANES`
//! chunk at a time (streaming stores for large arrays), the rest of a block
//! with ordinary ones. The arithmetic of every element is exactly the cell's
//! formulas (`mod.rs`), in the same order with the same fused multiply-adds, so
//! the results do not depend on the block or chunk structure.
//!
//! The passes (`dfx_slice`, `fused`, `out_pass`) are always inlined in an
//! optimised build: only inlined into a platform's `#[target_feature]` copy
//! are they compiled for its instruction set. In a debug build they are
//! separate functions: there the always-inlined kernel put the locals of every
//! instance (20 priors × methods twice, 16 activations) in one stack frame of
//! about 260 KB, more than a pool helper's 256 KiB stack. Same arithmetic,
//! same bits (`mul_add` is the correctly rounded fma either way).

use super::{out_scale, Act, Integration, Prior, Threshold};
use crate::core::kernel::{Kernel, Sink, LANES};
use crate::core::real::{fma, Real};
use crate::core::workspace::Blocks;

/// 1 or 0.
#[inline(always)]
pub(super) fn b2t<T: Real>(c: bool) -> T {
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

/// `out[i] = fx'(x[i])` (element-wise activations), one tight loop per activation.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
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
    /// Ralston's first stage, `dt * 0.75`.
    dt34: T,
}

/// The leak term of a prior, `leak(ζ)`: each prior gets its own fused loop.
trait Leak {
    /// `fma(-leak(ζ), gamma, u)`: the right-hand side before its `* r`.
    fn drive<T: Real, const F: bool>(c: &Consts<T>, zeta: T, u: T) -> T;
}

/// `leak(ζ) = ζ`.
struct GaussianLeak;
/// `leak(ζ) = sign(ζ)`.
struct LaplacianLeak;
/// `leak(ζ) = 2ζ / (1 + ζ²)`.
struct CauchyLeak;
/// `leak(ζ) = 2ζ exp(-ζ²)`.
struct ExpLeak;

impl Leak for GaussianLeak {
    #[inline(always)]
    fn drive<T: Real, const F: bool>(c: &Consts<T>, v: T, u: T) -> T {
        fma::<T, F>(-v, c.gamma, u)
    }
}

impl Leak for LaplacianLeak {
    #[inline(always)]
    fn drive<T: Real, const F: bool>(c: &Consts<T>, v: T, u: T) -> T {
        fma::<T, F>(-sign(v), c.gamma, u)
    }
}

impl Leak for CauchyLeak {
    #[inline(always)]
    fn drive<T: Real, const F: bool>(c: &Consts<T>, v: T, u: T) -> T {
        let two = T::from_f64(2.0);
        fma::<T, F>(-((v * two) / fma::<T, F>(v, v, T::ONE)), c.gamma, u)
    }
}

impl Leak for ExpLeak {
    #[inline(always)]
    fn drive<T: Real, const F: bool>(c: &Consts<T>, v: T, u: T) -> T {
        let two = T::from_f64(2.0);
        fma::<T, F>(-(((-(v * v)).exp_xla::<F>() * v) * two), c.gamma, u)
    }
}

/// `f(ζ) = fma(-leak(ζ), gamma, u) * r`.
#[inline(always)]
fn rhs<T: Real, const F: bool, L: Leak>(c: &Consts<T>, zeta: T, u: T) -> T {
    L::drive::<T, F>(c, zeta, u) * c.r
}

/// An integration method: `z` one step ahead under the drive `u`, each
/// `a + h b` one fused multiply-add (see `mod.rs` for the tableaus).
trait Method {
    fn step<T: Real, const F: bool, L: Leak>(c: &Consts<T>, z: T, u: T) -> T;
}

struct Euler;
struct Midpoint;
struct Heun;
struct Ralston;
struct Rk4;

impl Method for Euler {
    #[inline(always)]
    fn step<T: Real, const F: bool, L: Leak>(c: &Consts<T>, z: T, u: T) -> T {
        fma::<T, F>(rhs::<T, F, L>(c, z, u), c.dt, z)
    }
}

impl Method for Midpoint {
    #[inline(always)]
    fn step<T: Real, const F: bool, L: Leak>(c: &Consts<T>, z: T, u: T) -> T {
        let k1 = rhs::<T, F, L>(c, z, u);
        let k2 = rhs::<T, F, L>(c, fma::<T, F>(k1, c.half_dt, z), u);
        fma::<T, F>(k2, c.dt, z)
    }
}

impl Method for Heun {
    #[inline(always)]
    fn step<T: Real, const F: bool, L: Leak>(c: &Consts<T>, z: T, u: T) -> T {
        let k1 = rhs::<T, F, L>(c, z, u);
        // k1 + k2, with k2's `* r` fused into the sum (k2 has no other use).
        let sum = fma::<T, F>(L::drive::<T, F>(c, fma::<T, F>(k1, c.dt, z), u), c.r, k1);
        fma::<T, F>(sum, c.half_dt, z)
    }
}

impl Method for Ralston {
    #[inline(always)]
    fn step<T: Real, const F: bool, L: Leak>(c: &Consts<T>, z: T, u: T) -> T {
        let (w1, w2) = (T::from_f64(1.0 / 3.0), T::from_f64(2.0 / 3.0));
        let k1 = rhs::<T, F, L>(c, z, u);
        let k2 = rhs::<T, F, L>(c, fma::<T, F>(k1, c.dt34, z), u);
        // k1/3 + 2 k2/3 as XLA contracts ngc-learn's `_ralston`: fma(k1, 1/3, k2 * 2/3).
        fma::<T, F>(fma::<T, F>(k1, w1, k2 * w2), c.dt, z)
    }
}

impl Method for Rk4 {
    #[inline(always)]
    fn step<T: Real, const F: bool, L: Leak>(c: &Consts<T>, z: T, u: T) -> T {
        let (two, sixth) = (T::from_f64(2.0), T::ONE / T::from_f64(6.0));
        let k1 = rhs::<T, F, L>(c, z, u);
        let k2 = rhs::<T, F, L>(c, fma::<T, F>(k1, c.half_dt, z), u);
        let acc = fma::<T, F>(k2, two, k1);
        let k3 = rhs::<T, F, L>(c, fma::<T, F>(k2, c.half_dt, z), u);
        let acc = fma::<T, F>(k3, two, acc);
        // XLA fuses k4's `* r` into the last addition of the sum (k4 has no
        // other use): fma(g4, r, (k1 + 2 k2) + 2 k3).
        let g4 = L::drive::<T, F>(c, fma::<T, F>(k3, c.dt, z), u);
        fma::<T, F>(fma::<T, F>(g4, c.r, acc) * sixth, c.dt, z)
    }
}

/// Called at the top of every chunk loop: an empty optimisation barrier that
/// keeps LLVM's loop vectoriser off the loop over chunks. Without it, with
/// the 16 lanes of a chunk unrolled, the vectoriser turns that outer loop into
/// one over groups of chunks built with gathers and scatters (stride 16): the
/// AVX-512 Euler step was 4x slower than the separate passes it replaced. The
/// lanes of each chunk are still vectorised (one vector per chunk).
#[inline(always)]
fn chunk_barrier() {
    std::hint::black_box(());
}

/// The fused stateful step of one element: `(j', z1)` from `j`, `g = fx'(z)`,
/// `j_td` and `z`. `R`: `resist_scale` is not 1 (`x * 1` is `x` exactly, NaN
/// included, so a `resist_scale` of 1 is not multiplied: one operation fewer,
/// and one fewer that can produce a subnormal, which costs this CPU's vector
/// units several cycles per instruction; a compounding `j` decays through the
/// subnormals).
#[inline(always)]
fn element<T: Real, const F: bool, L: Leak, M: Method, const R: bool>(
    c: &Consts<T>,
    j: T,
    g: T,
    j_td: T,
    z: T,
) -> (T, T) {
    // j' = (j * fx'(z)) * resist_scale, written back; u = j' + j_td.
    let j = if R { (j * g) * c.resist } else { j * g };
    (j, M::step::<T, F, L>(c, z, j + j_td))
}

/// The first `m` elements of `s` in a chunk, the rest 0 (the last, partial
/// chunk of a block is computed as a whole one: no separate remainder loop).
#[inline(always)]
fn padded<T: Real>(s: &[T]) -> [T; LANES] {
    let mut a = [T::ZERO; LANES];
    a[..s.len()].copy_from_slice(s);
    a
}

/// Pass 2 of a stateful block: `j` (through the sink) and `z1` from `j`,
/// `g = fx'(z)`, `j_td` and `z`, every stage in registers.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
fn fused<T: Real, const F: bool, S: Sink, L: Leak, M: Method, const R: bool>(
    c: &Consts<T>,
    g: &[T],
    j: &mut [T],
    j_td: &[T],
    z: &[T],
    z1: &mut [T],
) {
    #[inline(always)]
    fn chunk<T: Real, const F: bool, L: Leak, M: Method, const R: bool>(
        c: &Consts<T>,
        j: &[T; LANES],
        g: &[T; LANES],
        j_td: &[T; LANES],
        z: &[T; LANES],
    ) -> ([T; LANES], [T; LANES]) {
        let (mut jo, mut zo) = ([T::ZERO; LANES], [T::ZERO; LANES]);
        for l in 0..LANES {
            (jo[l], zo[l]) = element::<T, F, L, M, R>(c, j[l], g[l], j_td[l], z[l]);
        }
        (jo, zo)
    }
    let n = z.len();
    let (g, j, j_td, z1) = (&g[..n], &mut j[..n], &j_td[..n], &mut z1[..n]);
    let full = n - n % LANES;
    for ((((jc, gc), tc), zc), oc) in j[..full]
        .chunks_exact_mut(LANES)
        .zip(g[..full].chunks_exact(LANES))
        .zip(j_td[..full].chunks_exact(LANES))
        .zip(z[..full].chunks_exact(LANES))
        .zip(z1[..full].chunks_exact_mut(LANES))
    {
        chunk_barrier();
        let jc: &mut [T; LANES] = jc.try_into().unwrap();
        let c4 = |s: &[T]| -> [T; LANES] { s.try_into().unwrap() };
        let (jo, zo) = chunk::<T, F, L, M, R>(c, jc, &c4(gc), &c4(tc), &c4(zc));
        S::put(jc, &jo);
        oc.copy_from_slice(&zo);
    }
    if full < n {
        let (jt, gt) = (padded(&j[full..]), padded(&g[full..]));
        let (tt, zt) = (padded(&j_td[full..]), padded(&z[full..]));
        let (jo, zo) = chunk::<T, F, L, M, R>(c, &jt, &gt, &tt, &zt);
        j[full..].copy_from_slice(&jo[..n - full]);
        z1[full..].copy_from_slice(&zo[..n - full]);
    }
}

/// Pass 4: `z = z1` and `z_f = fx(z1) * os` (no `z_f` for a row-wise
/// activation: the cell writes it), whole chunks through the sink.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
fn out_pass<T: Real, const F: bool, S: Sink>(
    act: Option<Act>,
    os: T,
    z1: &[T],
    z: &mut [T],
    z_f: &mut [T],
) {
    let n = z.len();
    let (z1, z_f) = (&z1[..n], &mut z_f[..n]);
    let full = n - n % LANES;
    macro_rules! each {
        ($v:ident => $e:expr) => {{
            for ((zc, fc), xc) in z[..full]
                .chunks_exact_mut(LANES)
                .zip(z_f[..full].chunks_exact_mut(LANES))
                .zip(z1[..full].chunks_exact(LANES))
            {
                chunk_barrier();
                let xc: &[T; LANES] = xc.try_into().unwrap();
                let mut o = [T::ZERO; LANES];
                for l in 0..LANES {
                    let $v = xc[l];
                    o[l] = ($e) * os;
                }
                S::put::<T, LANES>(fc.try_into().unwrap(), &o);
                S::put(zc.try_into().unwrap(), xc);
            }
            if full < n {
                let xt = padded(&z1[full..]);
                let mut o = [T::ZERO; LANES];
                for l in 0..LANES {
                    let $v = xt[l];
                    o[l] = ($e) * os;
                }
                z_f[full..].copy_from_slice(&o[..n - full]);
                z[full..].copy_from_slice(&z1[full..]);
            }
        }};
    }
    let Some(act) = act else {
        for (zc, xc) in z[..full]
            .chunks_exact_mut(LANES)
            .zip(z1[..full].chunks_exact(LANES))
        {
            chunk_barrier();
            S::put::<T, LANES>(zc.try_into().unwrap(), xc.try_into().unwrap());
        }
        z[full..].copy_from_slice(&z1[full..]);
        return;
    };
    match act {
        // `x + 0`: XLA drops the addition (-0 stays -0).
        Act::Identity => each!(v => v),
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
        Act::Telu => each!(v => v * (v.exp_xla::<F>()).tanh_k::<F>()),
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
        // Row-wise: the kernel gets `act: None`.
        Act::Bkwta | Act::Softmax => each!(v => v),
    }
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

/// Elements per block of the step kernel: the scratch arrays (`g`, `z1`) of
/// one block stay in L1 between the passes.
const BLOCK: usize = 256;

/// The scratch arrays of one block.
struct Scratch<T> {
    g: [T; BLOCK],
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
            dt34: dt * T::from_f64(0.75),
        }
    }

    /// Pass 2 with this cell's prior and method.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn fused<T: Real, const F: bool, S: Sink>(
        &self,
        c: &Consts<T>,
        g: &[T],
        j: &mut [T],
        j_td: &[T],
        z: &[T],
        z1: &mut [T],
    ) {
        macro_rules! by_method {
            ($leak:ty, $r:literal) => {
                match self.integration {
                    Integration::Euler => fused::<T, F, S, $leak, Euler, $r>(c, g, j, j_td, z, z1),
                    Integration::Midpoint => {
                        fused::<T, F, S, $leak, Midpoint, $r>(c, g, j, j_td, z, z1)
                    }
                    Integration::Heun => fused::<T, F, S, $leak, Heun, $r>(c, g, j, j_td, z, z1),
                    Integration::Ralston => {
                        fused::<T, F, S, $leak, Ralston, $r>(c, g, j, j_td, z, z1)
                    }
                    Integration::Rk4 => fused::<T, F, S, $leak, Rk4, $r>(c, g, j, j_td, z, z1),
                }
            };
        }
        match (self.prior, c.resist != T::ONE) {
            (Prior::Gaussian, false) => by_method!(GaussianLeak, false),
            (Prior::Gaussian, true) => by_method!(GaussianLeak, true),
            (Prior::Laplacian, false) => by_method!(LaplacianLeak, false),
            (Prior::Laplacian, true) => by_method!(LaplacianLeak, true),
            (Prior::Cauchy, false) => by_method!(CauchyLeak, false),
            (Prior::Cauchy, true) => by_method!(CauchyLeak, true),
            (Prior::Exp, false) => by_method!(ExpLeak, false),
            (Prior::Exp, true) => by_method!(ExpLeak, true),
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
        let (g, z1) = (&mut s.g[..n], &mut s.z1[..n]);
        if self.stateful {
            match self.act {
                Some(a) => dfx_slice::<T, F>(a, z, g),
                None => g.fill(T::ONE),
            }
            self.fused::<T, F, S>(c, g, j, j_td, z, z1);
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
        out_pass::<T, F, S>(self.act, c.out, z1, z, z_f);
    }
}

impl Kernel for Step {
    type Io<'a, T: Real> = RateIo<'a, T>;

    #[inline(always)]
    fn run<T: Real, const F: bool, S: Sink>(&self, io: RateIo<'_, T>) {
        let c = self.consts::<T>();
        let mut s = Scratch {
            g: [T::ZERO; BLOCK],
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
