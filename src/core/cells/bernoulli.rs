//! ngc-learn's `BernoulliErrorCell`.
//!
//! The reference (ngc-learn 3.2.3, `advance_state`), element-wise, then one sum:
//!
//! ```text
//! q       = clip(input_logits ? sigmoid(p) : p, 1e-4, 1 - 1e-4)
//! L       = sum( x*ln(q) + (1-x)*ln(1-q) )                 x = target
//! g       = input_logits ? x - q : (x/q - (1-x)/(1-q)) * d_sigmoid(p)    (raw p)
//! dp      = g * modulator * mask
//! dtarget = (ln(q) - ln(1-q)) * modulator * mask
//! mask    = mask * 0 + 1                                    ("eaten")
//! ```
//!
//! ngc-learn 3.2.3's `help()` calls the cell "GaussianErrorcell" and lists a
//! `sigma` hyper-parameter it does not have; the metadata here names the
//! Bernoulli cell and its real hyper-parameters (`input_logits`, `shape`).

use crate::core::elementwise::{self, ErrorKernel, Param, EARLY_MAX};
use crate::core::error::CellError;
use crate::core::layout::Layout;
use crate::core::platform::{Platform, Portable};
use crate::core::real::Real;
use crate::core::spec::{
    slot_array, CellSpec, CellType, CompartmentSpec, Extent, Hyper, Role, Shapes, Slot,
};
use crate::core::workspace::Workspace;
use crate::core::Cell;

/// The Bernoulli error cell's compartments, with ngc-learn's names, rest values and labels.
pub const COMPARTMENTS: [CompartmentSpec; 7] = [
    CompartmentSpec::new(
        "p",
        c"p",
        Role::Input,
        Extent::State,
        0.0,
        "Predicted probability of a positive trial, or its logit when input_logits is set",
    )
    .shown("Bernoulli param (prob or logit) for B(X=1; p)"),
    CompartmentSpec::new(
        "target",
        c"target",
        Role::Input,
        Extent::State,
        0.0,
        "Observed data / target value(s) x of Bernoulli(x; p)",
    )
    .shown("Bernoulli data/target variable"),
    CompartmentSpec::new(
        "modulator",
        c"modulator",
        Role::Input,
        Extent::State,
        1.0,
        "Modulatory/scaling signal multiplied into dp and dtarget",
    ),
    CompartmentSpec::new(
        "mask",
        c"mask",
        Role::ConsumedInput,
        Extent::State,
        1.0,
        "Binary/gating mask applied to dp and dtarget for one step; reset to ones by advance",
    ),
    CompartmentSpec::new(
        "L",
        c"L",
        Role::Output,
        Extent::Scalar,
        0.0,
        "Log-likelihood of target under Bernoulli(p), summed over all elements",
    )
    .shown("Bernoulli Log likelihood")
    .units("nats"),
    CompartmentSpec::new(
        "dp",
        c"dp",
        Role::Output,
        Extent::State,
        0.0,
        "Derivative of L with respect to p (with respect to the logits when input_logits is set)",
    ),
    CompartmentSpec::new(
        "dtarget",
        c"dtarget",
        Role::Output,
        Extent::State,
        0.0,
        "Derivative of L with respect to target",
    ),
];

/// The Bernoulli error cell type.
pub static SPEC: CellSpec = CellSpec {
    type_name: "BernoulliErrorCell",
    c_type_name: c"BernoulliErrorCell",
    description: "BernoulliErrorCell - computes mismatch/error signals at each time step t between a \
         binary/probabilistic `target` and a predicted Bernoulli parameter `p` (a probability, \
         or a logit when input_logits is set)",
    dynamics: "L = sum(x*ln(q) + (1-x)*ln(1-q)) with q = clip(p or sigmoid(p), 1e-4, 1-1e-4), \
         x = target; dp = dL/dp * modulator * mask; dtarget = (ln(q) - ln(1-q)) * modulator * mask; \
         mask is reset to ones after each step",
    takes_shape: true,
    compartments: &COMPARTMENTS,
};

/// ngc-learn's lower clip bound `1e-4`, rounded to `T` (as JAX rounds the Python double).
#[inline(always)]
pub fn clip_lo<T: Real>() -> T {
    T::from_f64(1e-4)
}

/// ngc-learn's upper clip bound `1 - 1e-4` (computed in double precision), rounded to `T`.
#[inline(always)]
pub fn clip_hi<T: Real>() -> T {
    T::from_f64(1.0 - 1e-4)
}

/// The element formula; `LOGITS` is the cell's `input_logits`.
#[derive(Clone, Copy, Debug)]
pub struct Kernel<const LOGITS: bool>;

impl<const LOGITS: bool> Kernel<LOGITS> {
    /// `q`: the probability, clipped.
    #[inline(always)]
    fn q<T: Real>(p: T, s: T) -> T {
        let q = if LOGITS { s } else { p };
        // jnp.clip: NaN stays NaN (both comparisons are false).
        if q < clip_lo::<T>() {
            clip_lo::<T>()
        } else if q > clip_hi::<T>() {
            clip_hi::<T>()
        } else {
            q
        }
    }
}

impl<const LOGITS: bool> ErrorKernel for Kernel<LOGITS> {
    /// In logits mode the logs need `q = sigmoid(p)`, so computing the
    /// sigmoid one chunk ahead lets its long dependency chain (exp, divide)
    /// overlap the previous chunk's logs. In probability mode the logs do not
    /// wait for it, and computing it ahead only keeps more values live: 6-9%
    /// slower in f32 and f64 on an AVX-512 Zen 5 (same operations, same bits).
    const PIPELINE: bool = LOGITS;

    /// Both logs' reductions (with their divisions in f64) and, in
    /// probability mode, `g`'s two quotients.
    const EARLY: usize = if LOGITS { 6 } else { 8 };

    /// `sigmoid(p)`.
    #[inline(always)]
    fn pre<T: Real, const F: bool>(&self, p: T) -> T {
        T::ONE / (T::ONE + (-p).exp_k::<F>())
    }

    #[inline(always)]
    fn early<T: Real, const F: bool>(&self, p: T, s: T, x: T, _param: T) -> [T; EARLY_MAX] {
        let q = Self::q(p, s);
        let one_min_q = T::ONE - q;
        let [a0, a1, a2] = q.ln_start();
        let [b0, b1, b2] = one_min_q.ln_start();
        let (ga, gb) = if LOGITS {
            (T::ZERO, T::ZERO)
        } else {
            (x / q, (T::ONE - x) / one_min_q)
        };
        [a0, a1, a2, b0, b1, b2, ga, gb]
    }

    #[inline(always)]
    fn element<T: Real, const F: bool>(
        &self,
        p: T,
        s: T,
        e: [T; EARLY_MAX],
        x: T,
        _param: T,
    ) -> (T, T, T) {
        let q = Self::q(p, s);
        let one_min_x = T::ONE - x;
        let log_q = T::ln_finish::<F>([e[0], e[1], e[2]]);
        let log_one_min_q = T::ln_finish::<F>([e[3], e[4], e[5]]);
        // Two rounded products, as in the reference: with x far outside [0, 1] the
        // two terms nearly cancel, and fusing one would change L visibly.
        let ll = log_q * x + log_one_min_q * one_min_x;
        let g = if LOGITS {
            x - q
        } else {
            // x/q - (1-x)/(1-q), the quotients from the early pass.
            (e[6] - e[7]) * ((T::ONE - s) * s)
        };
        (g, log_q - log_one_min_q, ll)
    }
}

/// ngc-learn's `BernoulliErrorCell` with its hyper-parameter.
#[derive(Clone, Copy, Debug)]
pub struct Bernoulli {
    /// `p` holds logits; the cell applies `sigmoid` first.
    pub input_logits: bool,
}

impl<T: Real, P: Platform> CellType<T, P> for Bernoulli {
    fn spec(&self) -> &'static CellSpec {
        &SPEC
    }

    fn hyperparameters(&self) -> Vec<Hyper> {
        vec![Hyper {
            name: "input_logits",
            json: self.input_logits.to_string(),
            description: "If true, p holds logits and the cell applies a sigmoid link to obtain the Bernoulli parameter",
        }]
    }

    fn param_dims(&self) -> Vec<usize> {
        Vec::new()
    }

    fn advance(
        &mut self,
        slots: &mut [Slot<'_, T>],
        _shapes: &Shapes,
        ws: &mut Workspace<P>,
        _dt: f64,
    ) -> Result<(), CellError> {
        let [p, target, modulator, mask, loss, dp, dtarget] = slot_array(slots, SPEC.type_name)?;
        let args = (p.as_slice(), target.as_slice(), modulator.unless_rest());
        let (mask, dp, dtarget) = (mask.unless_rest_mut()?, dp.writable()?, dtarget.writable()?);
        let l = if self.input_logits {
            elementwise::run(
                Kernel::<true>,
                ws,
                args.0,
                args.1,
                Param::All(T::ZERO),
                args.2,
                mask,
                dp,
                dtarget,
            )?
        } else {
            elementwise::run(
                Kernel::<false>,
                ws,
                args.0,
                args.1,
                Param::All(T::ZERO),
                args.2,
                mask,
                dp,
                dtarget,
            )?
        };
        loss.writable()?[0] = T::from_f64(l);
        Ok(())
    }
}

/// Creates ngc-learn's `BernoulliErrorCell(name, n_units, batch_size, input_logits, shape)`
/// on the portable platform.
pub fn bernoulli_error_cell<T: Real>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    input_logits: bool,
    shape: Option<[usize; 3]>,
) -> Result<Cell<T>, CellError> {
    bernoulli_error_cell_on::<T, Portable>(name, n_units, batch_size, input_logits, shape)
}

/// [`bernoulli_error_cell`] on platform `P` (the C ABI uses `ngc_cells::abi::Native`).
pub fn bernoulli_error_cell_on<T: Real, P: Platform>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    input_logits: bool,
    shape: Option<[usize; 3]>,
) -> Result<Cell<T, P>, CellError> {
    let layout = Layout::new(n_units, batch_size, shape)?;
    Cell::new(name, Box::new(Bernoulli { input_logits }), layout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::platform::{portable_fma, unfused};
    use crate::core::workspace::{MIN_ELEMENTS_PER_THREAD, SUM_BLOCK};
    use crate::core::{Elementwise, ErrorIo, RangeFn};

    #[inline(always)]
    fn sigmoid<T: Real>(z: T) -> T {
        T::ONE / (T::ONE + (-z).exp())
    }

    /// The outputs for one element, `(dp, dtarget, log-likelihood term)`,
    /// written straight from ngc-learn's source with the standard library's
    /// (libm's) `ln` and `exp`: the oracle the kernel is checked against.
    pub(crate) fn element<T: Real>(input_logits: bool, p: T, x: T, m: T, k: T) -> (T, T, T) {
        let q = if input_logits { sigmoid(p) } else { p };
        let q = if q < clip_lo::<T>() {
            clip_lo::<T>()
        } else if q > clip_hi::<T>() {
            clip_hi::<T>()
        } else {
            q
        };
        let one_min_q = T::ONE - q;
        let one_min_x = T::ONE - x;
        let log_q = q.ln();
        let log_one_min_q = one_min_q.ln();
        let ll = log_q * x + log_one_min_q * one_min_x;
        let g = if input_logits {
            x - q
        } else {
            let s = sigmoid(p);
            (x / q - one_min_x / one_min_q) * ((T::ONE - s) * s)
        };
        (g * m * k, (log_q - log_one_min_q) * m * k, ll)
    }

    #[test]
    fn clip_bounds_are_rounded_like_jax() {
        assert_eq!(clip_lo::<f32>(), 1.0e-4_f32);
        assert_eq!(clip_hi::<f32>(), 0.9999_f32);
        // 1 - 0.9999f is not 1e-4 in float32: the asymmetry the reference has.
        assert_eq!(1.0_f32 - clip_hi::<f32>(), 1.000_165_94e-4_f32);
        assert_eq!(clip_lo::<f64>(), 1e-4);
        assert_eq!(clip_hi::<f64>(), 0.9999);
    }

    fn cell_with_inputs<T: Real>(n: usize, logits: bool) -> Cell<T> {
        let mut c = bernoulli_error_cell::<T>("t", n, 1, logits, None).unwrap();
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let p: Vec<T> = (0..n)
            .map(|_| {
                T::from_f64(if logits {
                    (next() - 0.5) * 10.0
                } else {
                    next()
                })
            })
            .collect();
        let x: Vec<T> = (0..n).map(|_| T::from_f64(next())).collect();
        let m: Vec<T> = (0..n).map(|_| T::from_f64(next() * 2.0)).collect();
        c.set("p", &p).unwrap();
        c.set("target", &x).unwrap();
        c.set("modulator", &m).unwrap();
        c
    }

    fn bits<T: Real>(c: &Cell<T>) -> Vec<u64> {
        let mut v: Vec<u64> = c
            .get("dp")
            .unwrap()
            .iter()
            .map(|e| e.to_f64().to_bits())
            .collect();
        v.extend(
            c.get("dtarget")
                .unwrap()
                .iter()
                .map(|e| e.to_f64().to_bits()),
        );
        v.push(c.loss().unwrap().to_bits());
        v
    }

    fn same_bits_for_any_thread_count<T: Real>() {
        // Not a multiple of SUM_BLOCK, nor of any thread count's share.
        let n = 7 * MIN_ELEMENTS_PER_THREAD + 1234;
        for logits in [false, true] {
            let mut want = None;
            for threads in [1, 2, 3, 4, 7, 1] {
                let mut c = cell_with_inputs::<T>(n, logits);
                c.set_threads(threads).unwrap();
                assert_eq!(c.threads(), threads);
                c.advance(1.0).unwrap();
                let got = bits(&c);
                match &want {
                    None => want = Some(got),
                    Some(w) => assert!(w == &got, "threads={threads} logits={logits}"),
                }
            }
        }
    }

    #[test]
    fn results_are_bit_identical_for_any_thread_count_f32() {
        same_bits_for_any_thread_count::<f32>();
    }

    #[test]
    fn results_are_bit_identical_for_any_thread_count_f64() {
        same_bits_for_any_thread_count::<f64>();
    }

    #[test]
    fn batched_reset_grows_the_partial_sums() {
        let mut c = cell_with_inputs::<f32>(1000, false);
        c.batched_reset(300).unwrap();
        c.set("p", &vec![0.25; 300_000]).unwrap();
        c.advance(1.0).unwrap();
        let want = 300_000.0 * (0.75f32.ln() as f64);
        assert!((c.loss().unwrap() - want).abs() < 1e-6 * want.abs());
    }

    #[test]
    fn describes_the_bernoulli_cell_not_the_gaussian_one() {
        let c = bernoulli_error_cell::<f32>("z\"0\n", 3, 2, true, None).unwrap();
        let j = c.metadata_json();
        assert!(j.starts_with(
            "{\"cell_type\":\"BernoulliErrorCell\",\"name\":\"z\\\"0\\n\",\"dtype\":\"float32\""
        ));
        assert!(!j.contains("Gaussian"));
        assert!(!j.contains("sigma"));
        assert!(j.contains("\"input_logits\":{\"value\":true"));
        assert!(j.contains(
            "{\"name\":\"L\",\"role\":\"output\",\"display_name\":\"Bernoulli Log likelihood\",\"units\":\"nats\",\"shape\":[]"
        ));
        assert!(j.contains("{\"name\":\"mask\",\"role\":\"input\",\"display_name\":null,\"units\":null,\"shape\":[2,3],\"rest_value\":1.0"));
        assert!(j.contains("\"shape\":{\"value\":null"));
    }

    // ---- The fast kernel against the libm oracle ----------------------------------

    /// A small deterministic generator (xorshift), to need no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn specials<T: Real>() -> Vec<T> {
        let up = |v: f64| T::from_f64(v);
        let mut v: Vec<T> = [
            0.0,
            -0.0,
            1.0,
            0.5,
            1e-4,
            0.9999,
            0.99990004,
            0.99989998,
            1.0001e-4,
            0.99e-4,
            2.0,
            -1.0,
            1.5792128,
            -0.46947438,
            100.0,
            -100.0,
            88.7,
            -88.7,
            89.0,
            -89.0,
            103.0,
            -104.0,
            709.0,
            -709.0,
            710.0,
            -745.0,
            17.0,
            -17.0,
            40.0,
            -40.0,
            1e-40,
            -1e-40,
            1e-310,
            1.2e-38,
            3.4e38,
            -3.4e38,
            1e300,
        ]
        .iter()
        .map(|&x| up(x))
        .collect();
        v.extend([
            up(f64::NAN),
            up(f64::INFINITY),
            up(f64::NEG_INFINITY),
            clip_lo::<T>(),
            clip_hi::<T>(),
        ]);
        v
    }

    /// Inputs: random probabilities, logits and targets, and every pairing of edge values.
    pub(crate) fn inputs<T: Real>(n_random: usize, seed: u64) -> [Vec<T>; 4] {
        let mut r = Rng(seed);
        let sp = specials::<T>();
        let (mut p, mut x, mut m, mut k) = (vec![], vec![], vec![], vec![]);
        for i in 0..n_random {
            let u = r.unit();
            p.push(T::from_f64(match i % 4 {
                0 => u,
                1 => (u - 0.5) * 20.0,
                2 => (u - 0.5) * 2.4,
                _ => (u - 0.5) * 200.0,
            }));
            x.push(T::from_f64(if i % 3 == 0 {
                (r.next() & 1) as f64
            } else {
                r.unit() * 1.2 - 0.1
            }));
            m.push(T::from_f64(if i % 5 == 0 {
                1.0
            } else {
                r.unit() * 4.0 - 2.0
            }));
            k.push(T::from_f64(if i % 7 == 0 { 0.0 } else { 1.0 }));
        }
        for (a, &sa) in sp.iter().enumerate() {
            for (b, &sb) in sp.iter().enumerate() {
                p.push(sa);
                x.push(sb);
                m.push(sp[(a + 2 * b) % sp.len()]);
                k.push(if (a + b) % 3 == 0 {
                    sp[(a * 7 + b) % sp.len()]
                } else {
                    T::ONE
                });
            }
        }
        [p, x, m, k]
    }

    /// Runs one compiled copy of the kernel over the inputs: (dp, dtarget, mask after, partial sums).
    pub(crate) fn run_copy<T: Real, const LOGITS: bool>(
        f: RangeFn<Elementwise<Kernel<LOGITS>>, T>,
        inp: &[Vec<T>; 4],
    ) -> (Vec<T>, Vec<T>, Vec<T>, Vec<f64>) {
        let n = inp[0].len();
        let mut k = inp[3].clone();
        let mut dp = vec![T::ZERO; n];
        let mut dt = vec![T::ZERO; n];
        let mut partials = vec![0.0; n.div_ceil(SUM_BLOCK)];
        f(
            &Elementwise(Kernel::<LOGITS>),
            ErrorIo {
                pred: &inp[0],
                target: &inp[1],
                param: Param::All(T::ZERO),
                modulator: Some(&inp[2]),
                mask: Some(&mut k),
                d_pred: &mut dp,
                d_target: &mut dt,
                partials: &mut partials,
            },
        );
        (dp, dt, k, partials)
    }

    struct Diff {
        max_excess: f64,
        identical: usize,
        total: usize,
    }

    /// Runs a copy of the kernel and the libm oracle on the same inputs;
    /// checks that NaN/inf match exactly and finite values are within `ulps`
    /// of the operation-by-operation error bound.
    fn compare<T: Real, const LOGITS: bool>(
        f: RangeFn<Elementwise<Kernel<LOGITS>>, T>,
        inp: &[Vec<T>; 4],
        eps: f64,
        ulps: f64,
    ) -> Diff {
        let logits = LOGITS;
        let (p, x, m) = (&inp[0], &inp[1], &inp[2]);
        let (dp, dt, k, partials) = run_copy::<T, LOGITS>(f, inp);
        let mut d = Diff {
            max_excess: 0.0,
            identical: 0,
            total: 0,
        };
        let mut check = |what: &str, i: usize, got: T, want: T, scale: f64| {
            let (g, w) = (got.to_f64(), want.to_f64());
            d.total += 1;
            if g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()) {
                d.identical += 1;
                return;
            }
            assert!(
                g.is_finite() && w.is_finite(),
                "{what}[{i}] logits={logits}: got {g:e}, reference {w:e} (p={:e} x={:e} m={:e} k={:e})",
                p[i].to_f64(), x[i].to_f64(), m[i].to_f64(), inp[3][i].to_f64()
            );
            let excess = (g - w).abs() / (eps * scale.max(f64::MIN_POSITIVE));
            assert!(
                excess <= ulps,
                "{what}[{i}] logits={logits}: got {g:e}, reference {w:e}, {excess} x eps*scale (p={:e} x={:e} m={:e} k={:e})",
                p[i].to_f64(), x[i].to_f64(), m[i].to_f64(), inp[3][i].to_f64()
            );
            d.max_excess = d.max_excess.max(excess);
        };
        let (lo, hi) = (clip_lo::<T>().to_f64(), clip_hi::<T>().to_f64());
        let mut ll_sum = 0.0;
        let mut ll_scale = 0.0;
        for i in 0..p.len() {
            let (rdp, rdt, rll) = element(logits, p[i], x[i], m[i], inp[3][i]);
            // Condition of each output: the magnitudes its rounding errors scale with.
            let pf = p[i].to_f64();
            let s = 1.0 / (1.0 + (-pf).exp());
            let q = (if logits { s } else { pf }).clamp(lo, hi);
            let (xf, mk) = (x[i].to_f64(), (m[i].to_f64() * inp[3][i].to_f64()).abs());
            // In logits mode q = sigmoid(p) carries an ulp-sized error of its own
            // (exp, then 1 + e and the division round), which ln(1 - q) amplifies.
            let dq = if logits { 1.0 + q / (1.0 - q) } else { 0.0 };
            let lq = q.ln().abs() + (1.0 - q).ln().abs() + dq;
            let g_scale = if logits {
                xf.abs() + q
            } else {
                (xf / q).abs() + ((1.0 - xf) / (1.0 - q)).abs()
            };
            let ds_scale = if logits { 1.0 } else { s * (1.0 - s) + 1.0 };
            check("dp", i, dp[i], rdp, g_scale * ds_scale * mk);
            check("dtarget", i, dt[i], rdt, lq * mk);
            assert!(
                k[i].to_f64().to_bits() == (inp[3][i] * T::ZERO + T::ONE).to_f64().to_bits(),
                "mask[{i}]"
            );
            ll_sum += rll.to_f64();
            ll_scale += (xf * q.ln()).abs() + ((1.0 - xf) * (1.0 - q).ln()).abs() + xf.abs() * dq;
        }
        let l: f64 = partials.iter().sum();
        if ll_sum.is_finite() || l.is_finite() {
            assert!(
                (l - ll_sum).abs() <= 4.0 * eps * ll_scale,
                "L logits={logits}: {l} vs {ll_sum} (scale {ll_scale})"
            );
        } else {
            assert_eq!(
                l.is_nan(),
                ll_sum.is_nan(),
                "L logits={logits}: {l} vs {ll_sum}"
            );
        }
        d
    }

    fn check_mode<T: Real, const LOGITS: bool>(inp: &[Vec<T>; 4], eps: f64, ulps: f64) {
        let copies: [(&str, RangeFn<Elementwise<Kernel<LOGITS>>, T>); 2] = [
            (
                "portable_fma",
                portable_fma::<Elementwise<Kernel<LOGITS>>, T>,
            ),
            (
                "unfused (no fma)",
                unfused::<Elementwise<Kernel<LOGITS>>, T>,
            ),
        ];
        for (name, f) in copies {
            let d = compare::<T, LOGITS>(f, inp, eps, ulps);
            eprintln!(
                "{:?} {name} logits={LOGITS}: {}/{} outputs identical to the libm reference, max {:.2} x eps*scale",
                T::DTYPE, d.identical, d.total, d.max_excess
            );
        }
    }

    fn check_all<T: Real>(eps: f64, ulps: f64) {
        let inp = inputs::<T>(50_000, 0x5eed_1234_abcd_0001);
        check_mode::<T, false>(&inp, eps, ulps);
        check_mode::<T, true>(&inp, eps, ulps);
    }

    #[test]
    fn f32_kernel_matches_the_libm_reference() {
        check_all::<f32>(f32::EPSILON as f64 / 2.0, 8.0);
    }

    #[test]
    fn f64_kernel_matches_the_libm_reference() {
        check_all::<f64>(f64::EPSILON / 2.0, 8.0);
    }
}
