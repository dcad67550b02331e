//! Run-time choice of a kernel's instruction set.
//!
//! The kernels ([`crate::core::kernel::Kernel`]) are safe, portable Rust. Here
//! each is compiled a few times, each copy inside a function with
//! `#[target_feature]` so that the compiler may use that instruction set's
//! vector registers, and [`pick`] hands out the best copy the running CPU
//! supports. Everything is generic over the kernel: a new cell type adds no
//! line here.
//!
//! | CPU | copy | vector width |
//! |---|---|---|
//! | x86-64 with AVX-512F | `avx512f,avx512vl,avx512dq,avx512bw,avx2,fma` (streaming stores for arrays of 16 MiB and more) | 512 bits |
//! | x86-64 with AVX2 and FMA | `avx2,fma` | 256 bits |
//! | other x86-64 | baseline (SSE2), separate multiply and add | 128 bits |
//! | aarch64 | baseline (NEON, FMA) | 128 bits |
//!
//! The library is built for the plain target (no `-C target-cpu`), so it runs
//! on any x86-64. Calling a `#[target_feature]` function is `unsafe` (it would
//! be undefined behaviour on a CPU without the feature), and so are the
//! streaming-store intrinsics of the AVX-512 copy: that is why this module lives
//! in the ABI layer and reaches the safe core as a
//! [`Platform`](crate::core::Platform) ([`super::Native`]). Each `unsafe`
//! block is reached only after `is_x86_feature_detected!` said yes.
#![allow(unsafe_code)]

use crate::core::kernel::{Kernel, RangeFn};
use crate::core::platform::baseline;
use crate::core::Real;

/// From this many bytes per array on, the AVX-512 copy writes its outputs with
/// non-temporal (streaming) stores: arrays this large do not stay in cache for
/// the next reader anyway, and streaming saves reading each output line before
/// writing it. Measured on the benchmark machine (Bernoulli, f32): 1e7 elements
/// 2.2 -> 2.0 ns/element on one thread, 1.05 -> 0.9 on two; no gain at 1e6
/// (4 MB arrays), which therefore keep ordinary stores.
pub const STREAM_MIN_BYTES: usize = 16 << 20;

/// Which copy of the kernels [`pick`] takes on this CPU (for reports and tests).
pub fn isa_name() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            return "avx512f";
        }
        if has_avx2_fma() {
            return "avx2+fma";
        }
        "x86-64 baseline (no fma)"
    }
    #[cfg(target_arch = "aarch64")]
    {
        "aarch64 neon"
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        "portable (no fma)"
    }
}

#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;

    use crate::core::kernel::{Plain, Sink};
    use std::arch::x86_64::{__m512i, _mm512_loadu_si512, _mm512_stream_si512, _mm_sfence};

    /// Streaming (non-temporal) stores for 64-byte-aligned chunks of whole
    /// cache lines; ordinary stores otherwise. Used only by `avx512_stream`.
    struct Stream;

    impl Sink for Stream {
        #[inline(always)]
        fn put<T: Real, const W: usize>(dst: &mut [T; W], src: &[T; W]) {
            let bytes = std::mem::size_of::<[T; W]>();
            if bytes.is_multiple_of(64) && (dst.as_ptr() as usize).is_multiple_of(64) {
                let d = dst.as_mut_ptr().cast::<__m512i>();
                let s = src.as_ptr().cast::<__m512i>();
                for i in 0..bytes / 64 {
                    // SAFETY: `dst` and `src` are valid for `bytes` bytes (whole
                    // arrays borrowed for this call), `d` is 64-byte aligned as
                    // `_mm512_stream_si512` requires (checked above), `s` needs
                    // no alignment (`loadu`); AVX-512F is available: `Stream` is
                    // only used inside `avx512_stream`, which `pick` hands out
                    // only after detecting it.
                    unsafe { _mm512_stream_si512(d.add(i), _mm512_loadu_si512(s.add(i))) };
                }
            } else {
                *dst = *src;
            }
        }

        #[inline(always)]
        fn finish() {
            // SAFETY: SSE is part of x86-64. Orders the streaming stores before
            // anything that follows (the helper's "done" signal, the return).
            unsafe { _mm_sfence() };
        }
    }

    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,bmi2")]
    fn avx512<K: Kernel, T: Real>(k: &K, io: K::Io<'_, T>) {
        k.run::<T, true, Plain>(io)
    }

    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,bmi2")]
    fn avx512_stream<K: Kernel, T: Real>(k: &K, io: K::Io<'_, T>) {
        k.run::<T, true, Stream>(io)
    }

    #[target_feature(enable = "avx2,fma")]
    fn avx2<K: Kernel, T: Real>(k: &K, io: K::Io<'_, T>) {
        k.run::<T, true, Plain>(io)
    }

    /// Entry to the AVX-512 copy. Only [`pick`](super::pick) names it, and
    /// only after `has_avx512()`.
    pub(super) fn avx512_entry<K: Kernel, T: Real>(k: &K, io: K::Io<'_, T>) {
        // SAFETY: this function is handed out by `pick` only when
        // `is_x86_feature_detected!` found avx512f, avx2 and fma on this CPU,
        // which is all `avx512` requires; it has no other precondition.
        unsafe { avx512::<K, T>(k, io) }
    }

    /// Entry to the AVX-512 copy with streaming stores (same results).
    pub(super) fn avx512_stream_entry<K: Kernel, T: Real>(k: &K, io: K::Io<'_, T>) {
        // SAFETY: as for `avx512_entry`.
        unsafe { avx512_stream::<K, T>(k, io) }
    }

    /// Entry to the AVX2+FMA copy. Only [`pick`](super::pick) names it, and
    /// only after `has_avx2_fma()`.
    pub(super) fn avx2_entry<K: Kernel, T: Real>(k: &K, io: K::Io<'_, T>) {
        // SAFETY: handed out by `pick` only when `is_x86_feature_detected!`
        // found avx2 and fma on this CPU, all that `avx2` requires.
        unsafe { avx2::<K, T>(k, io) }
    }
}

/// The best copy of `K` for this CPU and arrays of `bytes` bytes each.
pub fn pick<K: Kernel, T: Real>(bytes: usize) -> RangeFn<K, T> {
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            if bytes >= STREAM_MIN_BYTES {
                return x86::avx512_stream_entry::<K, T>;
            }
            return x86::avx512_entry::<K, T>;
        }
        if has_avx2_fma() {
            return x86::avx2_entry::<K, T>;
        }
    }
    baseline::<K, T>
}

/// Every copy of `K` this CPU can run, by name (for tests: they must agree).
pub fn all<K: Kernel, T: Real>() -> Vec<(&'static str, RangeFn<K, T>)> {
    let mut v: Vec<(&'static str, RangeFn<K, T>)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            v.push(("avx512_stream", x86::avx512_stream_entry::<K, T>));
            v.push(("avx512", x86::avx512_entry::<K, T>));
        }
        if has_avx2_fma() {
            v.push(("avx2", x86::avx2_entry::<K, T>));
        }
    }
    v.push(("portable_fma", crate::core::platform::portable_fma::<K, T>));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::cells::FAMILY;
    use crate::core::elementwise::{Elementwise, ErrorIo, ErrorKernel, Param};
    use crate::core::workspace::SUM_BLOCK;

    /// Random and edge-value inputs (xorshift; NaN, infinities, huge and tiny values).
    fn inputs<T: Real>(n: usize, seed: u64) -> [Vec<T>; 5] {
        let mut s = seed;
        let mut unit = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let edges = [
            0.0,
            -0.0,
            1.0,
            1e-4,
            0.9999,
            88.7,
            -104.0,
            710.0,
            1e-40,
            3.4e38,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut v: [Vec<T>; 5] = Default::default();
        for i in 0..n {
            for (a, arr) in v.iter_mut().enumerate() {
                let x = if (i + a) % 11 == 0 {
                    edges[(i / 11 + a) % edges.len()]
                } else {
                    (unit() - 0.3) * [1.0, 2.0, 4.0, 1.0, 20.0][a]
                };
                arr.push(T::from_f64(x));
            }
        }
        v
    }

    /// The bits of `x`, every NaN as one: which NaN an operation on NaN gives
    /// (its sign, its payload) is not fixed by IEEE 754, and a compiler's
    /// constant folding may pick another than the hardware, so copies agree
    /// "bit for bit" up to the NaN they produce.
    fn canon(x: f64) -> u64 {
        if x.is_nan() {
            u64::MAX
        } else {
            x.to_bits()
        }
    }

    fn agree<E: ErrorKernel, T: Real>(k: E, param_each: bool) {
        let n = 3 * SUM_BLOCK + 77;
        let inp = inputs::<T>(n, 0x5eed_0000_1234_5678);
        let mut outs = vec![];
        for (name, f) in all::<Elementwise<E>, T>() {
            let mut mask = inp[3].clone();
            let (mut dp, mut dt) = (vec![T::ZERO; n], vec![T::ZERO; n]);
            let mut partials = vec![0.0; n.div_ceil(SUM_BLOCK)];
            let param = if param_each {
                Param::Each(&inp[4][..])
            } else {
                Param::All(T::from_f64(0.75))
            };
            f(
                &Elementwise(k),
                ErrorIo {
                    pred: &inp[0],
                    target: &inp[1],
                    param,
                    modulator: Some(&inp[2]),
                    mask: Some(&mut mask),
                    d_pred: &mut dp,
                    d_target: &mut dt,
                    partials: &mut partials,
                },
            );
            let bits = |v: &[T]| v.iter().map(|e| canon(e.to_f64())).collect::<Vec<_>>();
            outs.push((
                name,
                (
                    bits(&dp),
                    bits(&dt),
                    bits(&mask),
                    partials.iter().map(|e| canon(*e)).collect::<Vec<_>>(),
                ),
            ));
        }
        for (name, o) in &outs[1..] {
            assert!(
                o == &outs[0].1,
                "{name} disagrees with {} ({:?})",
                outs[0].0,
                T::DTYPE
            );
        }
    }

    /// Every copy with fused multiply-adds gives the same bits, for every
    /// error kernel of the family.
    #[test]
    fn instruction_set_copies_agree_bit_for_bit() {
        use crate::core::cells::{bernoulli, gaussian, laplacian};
        assert!(!FAMILY.is_empty());
        fn both<E: ErrorKernel>(k: E, param_each: bool) {
            agree::<E, f32>(k, param_each);
            agree::<E, f64>(k, param_each);
        }
        both(bernoulli::Kernel::<false>, false);
        both(bernoulli::Kernel::<true>, false);
        for each in [false, true] {
            both(gaussian::Kernel::<false>::new(), each);
            both(gaussian::Kernel::<true>::new(), each);
            both(laplacian::Kernel::<false>::new(), each);
            both(laplacian::Kernel::<true>::new(), each);
        }
        for k in rate_steps() {
            agree_rate::<f32>(k);
            agree_rate::<f64>(k);
        }
    }

    /// RateCell's step kernel in configurations covering every activation,
    /// prior and integrator.
    fn rate_steps() -> Vec<crate::core::cells::rate::Step> {
        use crate::core::cells::rate::{Act, Integration, Prior, Step, Threshold};
        let acts = [
            Act::Identity,
            Act::Tanh,
            Act::Sigmoid,
            Act::Relu,
            Act::Lrelu,
            Act::Relu6,
            Act::Elu,
            Act::Silu,
            Act::Gelu,
            Act::Telu,
            Act::Softplus,
            Act::UnitThreshold,
            Act::Heaviside,
            Act::Sine,
        ];
        let priors = [Prior::Gaussian, Prior::Laplacian, Prior::Cauchy, Prior::Exp];
        let integs = [
            Integration::Euler,
            Integration::Midpoint,
            Integration::Rk4,
            Integration::Heun,
            Integration::Ralston,
        ];
        (0..acts.len().max(integs.len() * priors.len()))
            .map(|i| Step {
                act: Some(acts[i % acts.len()]),
                prior: priors[i % priors.len()],
                integration: integs[(i / priors.len()) % integs.len()],
                threshold: if i % 3 == 0 {
                    Threshold::Soft
                } else {
                    Threshold::None
                },
                stateful: i % 7 != 6,
                tau_m: 3.0,
                prior_leak: 0.4,
                resist_scale: 0.9,
                output_scale: 1.5,
                threshold_lambda: 0.05,
                dt: 0.7,
            })
            .collect()
    }

    fn agree_rate<T: Real>(k: crate::core::cells::rate::Step) {
        use crate::core::cells::rate::RateIo;
        let n = 3 * SUM_BLOCK + 77;
        let inp = inputs::<T>(n, 0x5eed_0000_8765_4321);
        let bits = |v: &[T]| v.iter().map(|e| canon(e.to_f64())).collect::<Vec<_>>();
        let mut outs = vec![];
        for (name, f) in all::<crate::core::cells::rate::Step, T>() {
            let (mut j, mut z, mut zf) = (inp[0].clone(), inp[2].clone(), vec![T::ZERO; n]);
            f(
                &k,
                RateIo {
                    j: &mut j,
                    j_td: &inp[1],
                    z: &mut z,
                    z_f: &mut zf,
                },
            );
            outs.push((name, [bits(&j), bits(&z), bits(&zf)]));
        }
        for (name, o) in &outs[1..] {
            assert!(
                o == &outs[0].1,
                "{name} disagrees with {} ({:?}, {k:?})",
                outs[0].0,
                T::DTYPE
            );
        }
    }
}
