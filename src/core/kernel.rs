//! The fast Bernoulli kernel: the same math as [`bernoulli::element`](super::bernoulli::element),
//! with the polynomial `ln`/`exp` of [`vmath`](super::vmath), over fixed-width
//! chunks of lanes that the compiler keeps in vector registers.
//!
//! Everything here is safe, portable Rust. [`crate::abi::dispatch`] compiles
//! [`Lane::run_range`] once per instruction set (AVX-512, AVX2+FMA, baseline)
//! and picks one at run time. With fused multiply-adds (every path except
//! x86-64 CPUs without FMA) all paths give the same bits: the lane count is
//! fixed per element type, not per instruction set.
//!
//! The log-likelihood of each [`SUM_BLOCK`] block is summed in `f64`, lane `l`
//! of the block's chunks into accumulator `l`, the accumulators then added in a
//! fixed order. Blocks never straddle a thread's range, so `L` is bit-identical
//! for any thread count.

use super::bernoulli::SUM_BLOCK;
use super::platform::{Platform, RangeFn};
use super::real::Real;
use super::vmath;

/// The slices one call of the kernel reads and writes, all of one length
/// (a whole number of [`SUM_BLOCK`] blocks, except at the end of the arrays),
/// and one partial sum per block.
#[derive(Debug)]
pub struct Io<'a, T> {
    /// `p`.
    pub p: &'a [T],
    /// `target`.
    pub x: &'a [T],
    /// `modulator`.
    pub m: &'a [T],
    /// `mask` (read, then reset to ones).
    pub k: &'a mut [T],
    /// `dp` (written).
    pub dp: &'a mut [T],
    /// `dtarget` (written).
    pub dt: &'a mut [T],
    /// The log-likelihood partial sum of each block (`ceil(len / SUM_BLOCK)` entries).
    pub partials: &'a mut [f64],
}

/// How a chunk of results is written to memory.
pub trait Sink {
    /// Writes `src` to `dst`.
    fn put<T: Real, const W: usize>(dst: &mut [T; W], src: &[T; W]);
    /// Called once after the last `put` of a range (before other threads may read it).
    fn finish() {}
}

/// Ordinary stores.
#[derive(Debug)]
pub struct Plain;

impl Sink for Plain {
    #[inline(always)]
    fn put<T: Real, const W: usize>(dst: &mut [T; W], src: &[T; W]) {
        *dst = *src;
    }
}

/// What the fast kernel needs of an element type beyond [`Real`] (of which it
/// is a supertrait): its transcendental functions and its lane count.
pub trait Lane: Copy {
    /// `ln` on the kernel's clipped probabilities (see [`vmath`]).
    fn ln_k<const F: bool>(self) -> Self;
    /// `exp` for the sigmoid (see [`vmath`]).
    fn exp_k<const F: bool>(self) -> Self;
    /// `self * b + c` with one rounding.
    fn fma_k(self, b: Self, c: Self) -> Self;
    /// Runs the kernel over `io`, with `LOGITS` the cell's `input_logits` and
    /// `F` whether to fuse multiply-adds.
    fn run_range<const LOGITS: bool, const F: bool, S: Sink>(io: Io<'_, Self>)
    where
        Self: Sized;
    /// The platform's best copy of the kernel for this type.
    fn pick(platform: &dyn Platform, input_logits: bool, count: usize) -> RangeFn<Self>
    where
        Self: Sized;
}

impl Lane for f32 {
    #[inline(always)]
    fn ln_k<const F: bool>(self) -> Self {
        vmath::ln_f32::<F>(self)
    }
    #[inline(always)]
    fn exp_k<const F: bool>(self) -> Self {
        vmath::exp_f32::<F>(self)
    }
    #[inline(always)]
    fn fma_k(self, b: Self, c: Self) -> Self {
        self.mul_add(b, c)
    }
    #[inline(always)]
    fn run_range<const LOGITS: bool, const F: bool, S: Sink>(io: Io<'_, Self>) {
        run_range::<f32, 16, LOGITS, F, S>(io)
    }
    fn pick(platform: &dyn Platform, input_logits: bool, count: usize) -> RangeFn<Self> {
        platform.kernel_f32(input_logits, count)
    }
}

impl Lane for f64 {
    #[inline(always)]
    fn ln_k<const F: bool>(self) -> Self {
        vmath::ln_f64::<F>(self)
    }
    #[inline(always)]
    fn exp_k<const F: bool>(self) -> Self {
        vmath::exp_f64::<F>(self)
    }
    #[inline(always)]
    fn fma_k(self, b: Self, c: Self) -> Self {
        self.mul_add(b, c)
    }
    #[inline(always)]
    fn run_range<const LOGITS: bool, const F: bool, S: Sink>(io: Io<'_, Self>) {
        run_range::<f64, 16, LOGITS, F, S>(io)
    }
    fn pick(platform: &dyn Platform, input_logits: bool, count: usize) -> RangeFn<Self> {
        platform.kernel_f64(input_logits, count)
    }
}

/// `sigmoid(p)`, the first half of an element: computed one chunk ahead of the
/// rest (see [`block`]) so that its long dependency chain (exp, divide)
/// overlaps the logs of the previous chunk.
#[inline(always)]
fn sig<T: Real, const F: bool>(p: T) -> T {
    T::ONE / (T::ONE + (-p).exp_k::<F>())
}

#[inline(always)]
fn fma<T: Real, const F: bool>(a: T, b: T, c: T) -> T {
    if F {
        a.fma_k(b, c)
    } else {
        a * b + c
    }
}

/// The rest of one element, given `s = sigmoid(p)`: `(dp, dtarget, mask after,
/// log-likelihood term)`. Written like the reference
/// [`element`](super::bernoulli::element), operation for operation, except
/// `ln`/`exp` and `mask * 0 + 1` (one fused operation: the same value).
#[inline(always)]
fn elem<T: Real, const LOGITS: bool, const F: bool>(p: T, s: T, x: T, m: T, k: T) -> (T, T, T, T) {
    let q = if LOGITS { s } else { p };
    // jnp.clip: NaN stays NaN (both comparisons are false).
    let q = if q < T::CLIP_LO {
        T::CLIP_LO
    } else if q > T::CLIP_HI {
        T::CLIP_HI
    } else {
        q
    };
    let one_min_q = T::ONE - q;
    let one_min_x = T::ONE - x;
    let log_q = q.ln_k::<F>();
    let log_one_min_q = one_min_q.ln_k::<F>();
    // Two rounded products, as in the reference: with x far outside [0, 1] the
    // two terms nearly cancel, and fusing one would change L visibly.
    let ll = log_q * x + log_one_min_q * one_min_x;
    let g = if LOGITS {
        x - q
    } else {
        (x / q - one_min_x / one_min_q) * ((T::ONE - s) * s)
    };
    let dp = g * m * k;
    let dt = (log_q - log_one_min_q) * m * k;
    (dp, dt, fma::<T, F>(k, T::ZERO, T::ONE), ll)
}

/// `sigmoid` of one chunk of `p`.
#[inline(always)]
fn sig_chunk<T: Real, const W: usize, const F: bool>(p: &[T; W]) -> [T; W] {
    let mut s = [T::ZERO; W];
    for l in 0..W {
        s[l] = sig::<T, F>(p[l]);
    }
    s
}

/// One chunk of `W` lanes given their sigmoids, adding each lane's
/// log-likelihood term to `acc` (only the first `live` lanes: the others are padding).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn chunk<T: Real, const W: usize, const LOGITS: bool, const F: bool, S: Sink>(
    p: &[T; W],
    s: &[T; W],
    x: &[T; W],
    m: &[T; W],
    k: &mut [T; W],
    dp: &mut [T; W],
    dt: &mut [T; W],
    acc: &mut [f64; W],
    live: usize,
) {
    let mut lls = [T::ZERO; W];
    let (mut dpo, mut dto, mut ko) = ([T::ZERO; W], [T::ZERO; W], [T::ZERO; W]);
    for l in 0..W {
        let (a, b, c, ll) = elem::<T, LOGITS, F>(p[l], s[l], x[l], m[l], k[l]);
        dpo[l] = a;
        dto[l] = b;
        ko[l] = c;
        lls[l] = ll;
    }
    S::put(dp, &dpo);
    S::put(dt, &dto);
    // `mask` was just read, so its lines are in cache: ordinary stores.
    *k = ko;
    // A separate loop: mixing f64 into the loop above would make the
    // vectoriser use as few lanes for the f32 math as for the f64 sums.
    for l in 0..W {
        // -0.0 is the identity of `+` (0.0 is not, for -0.0).
        acc[l] += if l < live { lls[l].to_f64() } else { -0.0 };
    }
}

/// The sum of one block's lane accumulators, in a fixed (pairwise) order.
#[inline(always)]
fn reduce<const W: usize>(acc: &[f64; W]) -> f64 {
    let mut v = *acc;
    let mut w = W;
    while w > 1 {
        w /= 2;
        for i in 0..w {
            v[i] += v[i + w];
        }
    }
    v[0]
}

/// One block (at most [`SUM_BLOCK`] elements); returns its log-likelihood sum.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn block<T: Real, const W: usize, const LOGITS: bool, const F: bool, S: Sink>(
    p: &[T],
    x: &[T],
    m: &[T],
    k: &mut [T],
    dp: &mut [T],
    dt: &mut [T],
) -> f64 {
    let n = p.len();
    let (x, m, k, dp, dt) = (&x[..n], &m[..n], &mut k[..n], &mut dp[..n], &mut dt[..n]);
    let mut acc = [0.0f64; W];
    let full = n - n % W;
    if full > 0 {
        // Software-pipelined: the sigmoids of chunk i + 1 are computed in
        // iteration i, independent of that iteration's logs.
        let mut s = sig_chunk::<T, W, F>(p[..W].try_into().unwrap());
        let mut i = 0;
        loop {
            let j = i + W;
            let next = if j < full {
                sig_chunk::<T, W, F>(p[j..j + W].try_into().unwrap())
            } else {
                [T::ONE; W]
            };
            chunk::<T, W, LOGITS, F, S>(
                p[i..j].try_into().unwrap(),
                &s,
                x[i..j].try_into().unwrap(),
                m[i..j].try_into().unwrap(),
                (&mut k[i..j]).try_into().unwrap(),
                (&mut dp[i..j]).try_into().unwrap(),
                (&mut dt[i..j]).try_into().unwrap(),
                &mut acc,
                W,
            );
            s = next;
            i = j;
            if i >= full {
                break;
            }
        }
    }
    let live = n - full;
    if live > 0 {
        // The tail through the same code, padded with harmless values.
        let mut pp = [T::ZERO; W];
        let mut xx = [T::ZERO; W];
        let mut mm = [T::ONE; W];
        let mut kk = [T::ONE; W];
        let mut dd = [T::ZERO; W];
        let mut tt = [T::ZERO; W];
        pp[..live].copy_from_slice(&p[full..]);
        xx[..live].copy_from_slice(&x[full..]);
        mm[..live].copy_from_slice(&m[full..]);
        kk[..live].copy_from_slice(&k[full..]);
        let ss = sig_chunk::<T, W, F>(&pp);
        chunk::<T, W, LOGITS, F, Plain>(
            &pp, &ss, &xx, &mm, &mut kk, &mut dd, &mut tt, &mut acc, live,
        );
        dp[full..].copy_from_slice(&dd[..live]);
        dt[full..].copy_from_slice(&tt[..live]);
        k[full..].copy_from_slice(&kk[..live]);
    }
    reduce(&acc)
}

/// The kernel over a range of whole blocks (the last one may be short).
#[inline(always)]
pub fn run_range<T: Real, const W: usize, const LOGITS: bool, const F: bool, S: Sink>(
    io: Io<'_, T>,
) {
    let Io {
        p,
        x,
        m,
        k,
        dp,
        dt,
        partials,
    } = io;
    let blocks = p
        .chunks(SUM_BLOCK)
        .zip(x.chunks(SUM_BLOCK))
        .zip(m.chunks(SUM_BLOCK))
        .zip(k.chunks_mut(SUM_BLOCK))
        .zip(dp.chunks_mut(SUM_BLOCK))
        .zip(dt.chunks_mut(SUM_BLOCK))
        .zip(partials.iter_mut());
    for ((((((p, x), m), k), dp), dt), sum) in blocks {
        *sum = block::<T, W, LOGITS, F, S>(p, x, m, k, dp, dt);
    }
    S::finish();
}

#[cfg(test)]
mod tests {
    use super::super::bernoulli::element;
    use super::*;
    use crate::abi::dispatch::all_kernels;

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
            T::CLIP_LO,
            T::CLIP_HI,
        ]);
        v
    }

    /// Inputs: random probabilities, logits and targets, and every pairing of edge values.
    fn inputs<T: Real>(n_random: usize, seed: u64) -> [Vec<T>; 4] {
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

    struct Diff {
        max_excess: f64,
        identical: usize,
        total: usize,
    }

    /// Runs `f` and the reference `element` on the same inputs; checks that
    /// NaN/inf match exactly and finite values are within `ulps` of the
    /// operation-by-operation error bound.
    fn compare<T: Real>(
        logits: bool,
        f: RangeFnT<T>,
        inp: &[Vec<T>; 4],
        eps: f64,
        ulps: f64,
    ) -> Diff {
        let n = inp[0].len();
        let (p, x, m) = (&inp[0], &inp[1], &inp[2]);
        let mut k = inp[3].clone();
        let mut dp = vec![T::ZERO; n];
        let mut dt = vec![T::ZERO; n];
        let mut partials = vec![0.0; n.div_ceil(SUM_BLOCK)];
        f(Io {
            p,
            x,
            m,
            k: &mut k,
            dp: &mut dp,
            dt: &mut dt,
            partials: &mut partials,
        });
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
        let mut ll_sum = 0.0;
        let mut ll_scale = 0.0;
        for i in 0..n {
            let (rdp, rdt, rll) = element(logits, p[i], x[i], m[i], inp[3][i]);
            // Condition of each output: the magnitudes its rounding errors scale with.
            let pf = p[i].to_f64();
            let s = 1.0 / (1.0 + (-pf).exp());
            let q = (if logits { s } else { pf }).clamp(T::CLIP_LO.to_f64(), T::CLIP_HI.to_f64());
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

    type RangeFnT<T> = crate::core::platform::RangeFn<T>;

    fn check_all<T: Real>(eps: f64, ulps: f64) {
        let inp = inputs::<T>(50_000, 0x5eed_1234_abcd_0001);
        for logits in [false, true] {
            let kernels = all_kernels::<T>(logits);
            for (name, f) in &kernels {
                let d = compare(logits, *f, &inp, eps, ulps);
                eprintln!(
                    "{:?} {name} logits={logits}: {}/{} outputs identical to the libm reference, max {:.2} x eps*scale",
                    T::DTYPE, d.identical, d.total, d.max_excess
                );
            }
            let d = compare(
                logits,
                crate::core::platform::unfused_kernel::<T>(logits),
                &inp,
                eps,
                ulps,
            );
            eprintln!(
                "{:?} unfused (no fma) logits={logits}: {}/{} identical, max {:.2} x eps*scale",
                T::DTYPE,
                d.identical,
                d.total,
                d.max_excess
            );
            // Every copy with fused multiply-adds gives the same bits.
            let n = inp[0].len();
            let mut outs = vec![];
            for (_, f) in &kernels {
                let mut k = inp[3].clone();
                let (mut dp, mut dt) = (vec![T::ZERO; n], vec![T::ZERO; n]);
                let mut partials = vec![0.0; n.div_ceil(SUM_BLOCK)];
                f(Io {
                    p: &inp[0],
                    x: &inp[1],
                    m: &inp[2],
                    k: &mut k,
                    dp: &mut dp,
                    dt: &mut dt,
                    partials: &mut partials,
                });
                let bits = |v: &[T]| v.iter().map(|e| e.to_f64().to_bits()).collect::<Vec<_>>();
                outs.push((
                    bits(&dp),
                    bits(&dt),
                    partials.iter().map(|e| e.to_bits()).collect::<Vec<_>>(),
                ));
            }
            for o in &outs[1..] {
                assert!(o == &outs[0], "instruction-set copies disagree");
            }
        }
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
