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
use super::kernel::Io;
use super::real::Real;
use super::spec::{CompartmentSpec, Role, Slot, Workspace};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How many pieces a multi-threaded `advance` deals its blocks in.
const GROUPS: usize = 64;

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
        c_name: c"p",
        role: Role::Input,
        scalar: false,
        rest: 0.0,
        display_name: Some("Bernoulli param (prob or logit) for B(X=1; p)"),
        units: None,
        description: "Predicted probability of a positive trial, or its logit when input_logits is set",
    },
    CompartmentSpec {
        name: "target",
        c_name: c"target",
        role: Role::Input,
        scalar: false,
        rest: 0.0,
        display_name: Some("Bernoulli data/target variable"),
        units: None,
        description: "Observed data / target value(s) x of Bernoulli(x; p)",
    },
    CompartmentSpec {
        name: "modulator",
        c_name: c"modulator",
        role: Role::Input,
        scalar: false,
        rest: 1.0,
        display_name: None,
        units: None,
        description: "Modulatory/scaling signal multiplied into dp and dtarget",
    },
    CompartmentSpec {
        name: "mask",
        c_name: c"mask",
        role: Role::ConsumedInput,
        scalar: false,
        rest: 1.0,
        display_name: None,
        units: None,
        description: "Binary/gating mask applied to dp and dtarget for one step; reset to ones by advance",
    },
    CompartmentSpec {
        name: "L",
        c_name: c"L",
        role: Role::Output,
        scalar: true,
        rest: 0.0,
        display_name: Some("Bernoulli Log likelihood"),
        units: Some("nats"),
        description: "Log-likelihood of target under Bernoulli(p), summed over all elements",
    },
    CompartmentSpec {
        name: "dp",
        c_name: c"dp",
        role: Role::Output,
        scalar: false,
        rest: 0.0,
        display_name: None,
        units: None,
        description: "Derivative of L with respect to p (with respect to the logits when input_logits is set)",
    },
    CompartmentSpec {
        name: "dtarget",
        c_name: c"dtarget",
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

/// Below this many elements per thread a cell uses fewer threads (one below
/// twice this size). 32768 elements are about 40 µs of work: a helper that is
/// still spinning from the previous call starts in about a microsecond, but one
/// that went to sleep takes tens of microseconds to wake on a virtual machine.
pub const MIN_ELEMENTS_PER_THREAD: usize = 1 << 15;

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
///
/// The reference implementation, with the standard library's (libm's) `ln` and
/// `exp`: the fast kernel ([`kernel`](super::kernel)) does the same operations
/// in the same order with its own `ln`/`exp`, and the tests compare the two.
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

/// The number of threads `advance` uses for `count` elements when `threads` are allowed.
pub fn threads_for(count: usize, threads: usize) -> usize {
    threads.clamp(1, (count / MIN_ELEMENTS_PER_THREAD).max(1))
}

/// The number of `SUM_BLOCK` blocks (log-likelihood partial sums) of `count` elements.
pub fn blocks_for(count: usize) -> usize {
    count.div_ceil(SUM_BLOCK)
}

pub(crate) fn advance_slots<T: Real>(
    input_logits: bool,
    slots: &mut [Slot<'_, T>],
    ws: &mut Workspace,
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
    let n_blocks = blocks_for(n);
    let width = ws.width();
    let platform = ws.platform();
    let (partials, pool) = ws.parts(n_blocks)?;
    let run = T::pick(platform, input_logits, n);
    let t = threads_for(n, width);
    match pool {
        Some(pool) if t > 1 => {
            // The blocks are dealt in up to GROUPS contiguous groups, taken in
            // turn by whichever thread is free (so a helper that starts late,
            // its core being busy, costs little: the caller takes its groups).
            // Each block's partial sum covers the same elements whoever
            // computes it, so the results do not depend on the threads.
            let per = n_blocks.div_ceil(GROUPS.min(n_blocks)) * SUM_BLOCK;
            let groups: [Mutex<Option<Io<'_, T>>>; GROUPS] =
                std::array::from_fn(|_| Mutex::new(None));
            let chunks = p
                .chunks(per)
                .zip(target.chunks(per))
                .zip(modulator.chunks(per))
                .zip(mask.chunks_mut(per))
                .zip(dp.chunks_mut(per))
                .zip(dtarget.chunks_mut(per))
                .zip(partials.chunks_mut(per / SUM_BLOCK));
            let mut count = 0;
            for (((((((p, x), m), k), dp), dt), partials), slot) in chunks.zip(groups.iter()) {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(Io {
                    p,
                    x,
                    m,
                    k,
                    dp,
                    dt,
                    partials,
                });
                count += 1;
            }
            let next = AtomicUsize::new(0);
            pool.run(t, &|_| loop {
                let g = next.fetch_add(1, Ordering::Relaxed);
                if g >= count {
                    break;
                }
                let io = groups[g].lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(io) = io {
                    run(io);
                }
            });
        }
        _ => run(Io {
            p,
            x: target,
            m: modulator,
            k: mask,
            dp,
            dt: dtarget,
            partials: &mut partials[..],
        }),
    }
    // Block order, whatever the thread count.
    let l: f64 = partials.iter().sum();
    loss[0] = T::from_f64(l);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::bernoulli_error_cell;

    fn cell_with_inputs<T: Real>(n: usize, logits: bool) -> crate::core::Cell<T> {
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

    fn bits<T: Real>(c: &crate::core::Cell<T>) -> Vec<u64> {
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
    fn threads_are_used_only_on_large_cells() {
        assert_eq!(threads_for(1000, 8), 1);
        assert_eq!(threads_for(2 * MIN_ELEMENTS_PER_THREAD - 1, 8), 1);
        assert_eq!(threads_for(2 * MIN_ELEMENTS_PER_THREAD, 8), 2);
        assert_eq!(threads_for(100 * MIN_ELEMENTS_PER_THREAD, 8), 8);
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
}
