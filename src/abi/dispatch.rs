//! Run-time choice of the kernel's instruction set.
//!
//! The kernel ([`crate::core::kernel`]) is safe, portable Rust. Here it is
//! compiled a few times, each copy inside a function with `#[target_feature]`
//! so that the compiler may use that instruction set's vector registers, and
//! [`kernel`] hands out the best copy the running CPU supports:
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
//! [`Platform`](crate::core::Platform) ([`native_platform`]). Each `unsafe`
//! block is reached only after `is_x86_feature_detected!` said yes.
#![allow(unsafe_code)]

use super::pool::Pool;
use crate::core::kernel::{Io, Plain};
pub use crate::core::platform::RangeFn;
use crate::core::platform::{baseline, Platform, Workers};
use crate::core::Real;

/// From this many bytes per array on, the AVX-512 copy writes `dp` and
/// `dtarget` with non-temporal (streaming) stores: arrays this large do not
/// stay in cache for the next reader anyway, and streaming saves reading each
/// output line before writing it. Measured on the benchmark machine (f32):
/// 1e7 elements 2.2 -> 2.0 ns/element on one thread, 1.05 -> 0.9 on two; no
/// gain at 1e6 (4 MB arrays), which therefore keep ordinary stores.
pub const STREAM_MIN_BYTES: usize = 16 << 20;

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

    use crate::core::kernel::Sink;
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
                    // only used inside `avx512_stream`, which `kernel` hands out
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
    fn avx512<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
        T::run_range::<LOGITS, true, Plain>(io)
    }

    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,bmi2")]
    fn avx512_stream<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
        T::run_range::<LOGITS, true, Stream>(io)
    }

    /// Entry to the AVX-512 copy with streaming stores (same results).
    pub(super) fn avx512_stream_entry<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
        // SAFETY: as for `avx512_entry`.
        unsafe { avx512_stream::<T, LOGITS>(io) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn avx2<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
        T::run_range::<LOGITS, true, Plain>(io)
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

/// The best copy of the kernel for this CPU and arrays of `count` elements.
pub(crate) fn kernel<T: Real>(input_logits: bool, count: usize) -> RangeFn<T> {
    #[cfg(not(target_arch = "x86_64"))]
    let _ = count;
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            if count.saturating_mul(std::mem::size_of::<T>()) >= STREAM_MIN_BYTES {
                return if input_logits {
                    x86::avx512_stream_entry::<T, true>
                } else {
                    x86::avx512_stream_entry::<T, false>
                };
            }
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
                "avx512_stream",
                if input_logits {
                    x86::avx512_stream_entry::<T, true>
                } else {
                    x86::avx512_stream_entry::<T, false>
                },
            ));
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
            crate::core::platform::portable_fma::<T, true>
        } else {
            crate::core::platform::portable_fma::<T, false>
        },
    ));
    v
}

/// The native platform: the best kernel copy for this CPU ([`kernel`]) and
/// persistent pthread workers ([`Pool`]).
#[derive(Debug)]
pub struct Native;

static NATIVE: Native = Native;

/// The platform the C ABI creates its cells on (Rust users of the core can pass
/// it to [`Cell::with_platform`](crate::core::Cell::with_platform) too).
pub fn native_platform() -> &'static dyn Platform {
    &NATIVE
}

impl Platform for Native {
    fn kernel_f32(&self, input_logits: bool, count: usize) -> RangeFn<f32> {
        kernel::<f32>(input_logits, count)
    }
    fn kernel_f64(&self, input_logits: bool, count: usize) -> RangeFn<f64> {
        kernel::<f64>(input_logits, count)
    }
    fn start_workers(&self, helpers: usize) -> std::io::Result<Box<dyn Workers>> {
        Ok(Box::new(Pool::new(helpers)?))
    }
    fn isa_name(&self) -> &'static str {
        isa_name()
    }
}
