//! ngc-learn's `BernoulliErrorCell`: compartments and dynamics.
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

use super::error::CellError;
use super::real::Real;
use super::spec::{CompartmentSpec, Role, Slot};

/// Index of `p` in [`COMPARTMENTS`].
pub const P: usize = 0;
/// Index of `target`.
pub const TARGET: usize = 1;
/// Index of `modulator`.
pub const MODULATOR: usize = 2;
/// Index of `mask`.
pub const MASK: usize = 3;
/// Index of `L`.
pub const LOSS: usize = 4;
/// Index of `dp`.
pub const DP: usize = 5;
/// Index of `dtarget`.
pub const DTARGET: usize = 6;

/// The compartments of the Bernoulli error cell, with ngc-learn's names, rest values and labels.
pub const COMPARTMENTS: [CompartmentSpec; 7] = [
    CompartmentSpec {
        name: "p",
        role: Role::Input,
        scalar: false,
        rest: 0.0,
        display_name: Some("Bernoulli param (prob or logit) for B(X=1; p)"),
        units: None,
        description: "Predicted probability of a positive trial, or its logit when input_logits is set",
    },
    CompartmentSpec {
        name: "target",
        role: Role::Input,
        scalar: false,
        rest: 0.0,
        display_name: Some("Bernoulli data/target variable"),
        units: None,
        description: "Observed data / target value(s) x of Bernoulli(x; p)",
    },
    CompartmentSpec {
        name: "modulator",
        role: Role::Input,
        scalar: false,
        rest: 1.0,
        display_name: None,
        units: None,
        description: "Modulatory/scaling signal multiplied into dp and dtarget",
    },
    CompartmentSpec {
        name: "mask",
        role: Role::ConsumedInput,
        scalar: false,
        rest: 1.0,
        display_name: None,
        units: None,
        description: "Binary/gating mask applied to dp and dtarget for one step; reset to ones by advance",
    },
    CompartmentSpec {
        name: "L",
        role: Role::Output,
        scalar: true,
        rest: 0.0,
        display_name: Some("Bernoulli Log likelihood"),
        units: Some("nats"),
        description: "Log-likelihood of target under Bernoulli(p), summed over all elements",
    },
    CompartmentSpec {
        name: "dp",
        role: Role::Output,
        scalar: false,
        rest: 0.0,
        display_name: None,
        units: None,
        description: "Derivative of L with respect to p (with respect to the logits when input_logits is set)",
    },
    CompartmentSpec {
        name: "dtarget",
        role: Role::Output,
        scalar: false,
        rest: 0.0,
        display_name: None,
        units: None,
        description: "Derivative of L with respect to target",
    },
];

/// Elements per block of the log-likelihood sum. The sum is a sequence of
/// per-block partial sums in `f64`, added in block order, so the result is the
/// same bits for any number of threads.
pub const SUM_BLOCK: usize = 4096;

/// Below this many elements a cell never uses more than one thread.
pub const MIN_ELEMENTS_PER_THREAD: usize = 1 << 16;

#[inline(always)]
fn sigmoid<T: Real>(z: T) -> T {
    T::ONE / (T::ONE + (-z).exp())
}

#[inline(always)]
fn clip<T: Real>(q: T) -> T {
    // jnp.clip(q, lo, hi) = minimum(maximum(q, lo), hi): NaN stays NaN.
    if q < T::CLIP_LO {
        T::CLIP_LO
    } else if q > T::CLIP_HI {
        T::CLIP_HI
    } else {
        q
    }
}

/// The outputs for one element: `(dp, dtarget, log-likelihood term)`.
#[inline(always)]
pub fn element<T: Real>(input_logits: bool, p: T, x: T, modulator: T, mask: T) -> (T, T, T) {
    let q = clip(if input_logits { sigmoid(p) } else { p });
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
    let dp = g * modulator * mask;
    let dtarget = (log_q - log_one_min_q) * modulator * mask;
    (dp, dtarget, ll)
}

/// Runs the kernel over one range of elements; returns the log-likelihood
/// partial sum of each `SUM_BLOCK` block in `sums` (one entry per block).
#[allow(clippy::too_many_arguments)]
fn run_range<T: Real>(
    input_logits: bool,
    p: &[T],
    target: &[T],
    modulator: &[T],
    mask: &mut [T],
    dp: &mut [T],
    dtarget: &mut [T],
    sums: &mut [f64],
) {
    let blocks = p
        .chunks(SUM_BLOCK)
        .zip(target.chunks(SUM_BLOCK))
        .zip(modulator.chunks(SUM_BLOCK))
        .zip(mask.chunks_mut(SUM_BLOCK))
        .zip(dp.chunks_mut(SUM_BLOCK))
        .zip(dtarget.chunks_mut(SUM_BLOCK))
        .zip(sums.iter_mut());
    for ((((((p, x), m), k), dp), dt), sum) in blocks {
        let mut acc = 0.0_f64;
        for i in 0..p.len() {
            let (d, t, ll) = element(input_logits, p[i], x[i], m[i], k[i]);
            dp[i] = d;
            dt[i] = t;
            k[i] = k[i] * T::ZERO + T::ONE;
            acc += ll.to_f64();
        }
        *sum = acc;
    }
}

/// The number of threads `advance` uses for `count` elements when `threads` are allowed.
pub fn threads_for(count: usize, threads: usize) -> usize {
    threads.clamp(1, (count / MIN_ELEMENTS_PER_THREAD).max(1))
}

pub(crate) fn advance_slots<T: Real>(
    input_logits: bool,
    slots: &mut [Slot<'_, T>],
    threads: usize,
) -> Result<(), CellError> {
    let [p, target, modulator, mask, loss, dp, dtarget] = slots else {
        return Err(CellError::Internal("Bernoulli cell needs 7 slots".into()));
    };
    let (Slot::Write(mask), Slot::Write(loss), Slot::Write(dp), Slot::Write(dtarget)) =
        (mask, loss, dp, dtarget)
    else {
        return Err(CellError::Internal(
            "Bernoulli outputs must be writable".into(),
        ));
    };
    let (p, target, modulator) = (p.as_slice(), target.as_slice(), modulator.as_slice());
    let n = p.len();
    let n_blocks = n.div_ceil(SUM_BLOCK);
    let l = if n_blocks <= 16 {
        let mut sums = [0.0_f64; 16];
        let sums = &mut sums[..n_blocks];
        run_range(input_logits, p, target, modulator, mask, dp, dtarget, sums);
        sums.iter().sum::<f64>()
    } else {
        let mut sums = Vec::new();
        sums.try_reserve_exact(n_blocks)
            .map_err(|_| CellError::Alloc {
                name: "L (partial sums)".into(),
                bytes: n_blocks * 8,
            })?;
        sums.resize(n_blocks, 0.0);
        let t = threads_for(n, threads);
        if t <= 1 {
            run_range(
                input_logits,
                p,
                target,
                modulator,
                mask,
                dp,
                dtarget,
                &mut sums,
            );
        } else {
            // Whole blocks per thread, so each partial sum covers the same elements
            // whatever the thread count.
            let per = n_blocks.div_ceil(t) * SUM_BLOCK;
            std::thread::scope(|s| {
                let parts = p
                    .chunks(per)
                    .zip(target.chunks(per))
                    .zip(modulator.chunks(per))
                    .zip(mask.chunks_mut(per))
                    .zip(dp.chunks_mut(per))
                    .zip(dtarget.chunks_mut(per))
                    .zip(sums.chunks_mut(per / SUM_BLOCK));
                for ((((((p, x), m), k), d), dt), su) in parts {
                    s.spawn(move || run_range(input_logits, p, x, m, k, d, dt, su));
                }
            });
        }
        sums.iter().sum::<f64>()
    };
    loss[0] = T::from_f64(l);
    Ok(())
}
