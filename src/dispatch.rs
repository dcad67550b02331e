//! Run-time choice of the kernel's instruction set.
//!
//! The kernel ([`crate::core::kernel`]) is safe, portable Rust. Here it is
//! compiled a few times, each copy inside a function with `#[target_feature]`
//! so that the compiler may use that instruction set's vector registers, and
//! [`kernel`] hands out the best copy the running CPU supports:
//!
//! | CPU | copy | vector width |
//! |---|---|---|
//! | x86-64 with AVX-512F | `avx512f,avx2,fma` | 512 bits |
//! | x86-64 with AVX2 and FMA | `avx2,fma` | 256 bits |
//! | other x86-64 | baseline (SSE2), separate multiply and add | 128 bits |
//! | aarch64 | baseline (NEON, FMA) | 128 bits |
//!
//! The library is built for the plain target (no `-C target-cpu`), so it runs
//! on any x86-64. Calling a `#[target_feature]` function is `unsafe` (it would
//! be undefined behaviour on a CPU without the feature); the two `unsafe`
//! blocks below are the only ones outside `abi` and `pool`, and each is
//! reached only after `is_x86_feature_detected!` said yes.
#![allow(unsafe_code)]

use crate::core::kernel::Io;
use crate::core::Real;

/// A compiled copy of the kernel for one element type.
pub(crate) type RangeFn<T> = fn(Io<'_, T>);

/// Which copy of the kernel [`kernel`] picks on this CPU (for reports and tests).
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

    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,bmi2")]
    fn avx512<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
        T::run_range::<LOGITS, true>(io)
    }

    #[target_feature(enable = "avx2,fma")]
    fn avx2<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
        T::run_range::<LOGITS, true>(io)
    }

    /// Entry to the AVX-512 copy. Only [`kernel`](super::kernel) names it, and
    /// only after `has_avx512()`.
    pub(super) fn avx512_entry<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
        // SAFETY: this function is handed out by `kernel` only when
        // `is_x86_feature_detected!` found avx512f, avx2 and fma on this CPU,
        // which is all `avx512` requires; it has no other precondition.
        unsafe { avx512::<T, LOGITS>(io) }
    }

    /// Entry to the AVX2+FMA copy. Only [`kernel`](super::kernel) names it, and
    /// only after `has_avx2_fma()`.
    pub(super) fn avx2_entry<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
        // SAFETY: handed out by `kernel` only when `is_x86_feature_detected!`
        // found avx2 and fma on this CPU, all that `avx2` requires.
        unsafe { avx2::<T, LOGITS>(io) }
    }
}

/// The portable copy: fused multiply-adds where the target always has them.
fn baseline<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
    const FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));
    T::run_range::<LOGITS, FMA>(io)
}

/// The portable copy with fused multiply-adds whatever the target (slow where
/// `mul_add` is a libm call): the reference the vector copies must equal bit for bit.
#[cfg(test)]
pub(crate) fn portable_fma<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
    T::run_range::<LOGITS, true>(io)
}

/// The best copy of the kernel for this CPU.
pub(crate) fn kernel<T: Real>(input_logits: bool) -> RangeFn<T> {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            return if input_logits {
                x86::avx512_entry::<T, true>
            } else {
                x86::avx512_entry::<T, false>
            };
        }
        if has_avx2_fma() {
            return if input_logits {
                x86::avx2_entry::<T, true>
            } else {
                x86::avx2_entry::<T, false>
            };
        }
    }
    if input_logits {
        baseline::<T, true>
    } else {
        baseline::<T, false>
    }
}

/// Every copy this CPU can run, by name (for tests: they must agree).
#[cfg(test)]
pub(crate) fn all_kernels<T: Real>(input_logits: bool) -> Vec<(&'static str, RangeFn<T>)> {
    let mut v: Vec<(&'static str, RangeFn<T>)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            v.push((
                "avx512",
                if input_logits {
                    x86::avx512_entry::<T, true>
                } else {
                    x86::avx512_entry::<T, false>
                },
            ));
        }
        if has_avx2_fma() {
            v.push((
                "avx2",
                if input_logits {
                    x86::avx2_entry::<T, true>
                } else {
                    x86::avx2_entry::<T, false>
                },
            ));
        }
    }
    v.push((
        "portable_fma",
        if input_logits {
            portable_fma::<T, true>
        } else {
            portable_fma::<T, false>
        },
    ));
    v
}
