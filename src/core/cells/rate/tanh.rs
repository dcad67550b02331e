//! XLA's `tanh` for the step kernel: the same bits as
//! [`vmath::tanh_f32`](crate::core::vmath::tanh_f32) and
//! [`vmath::tanh_f64`](crate::core::vmath::tanh_f64) (what `jnp.tanh` gives
//! on CPU), in float32 with fused multiply-adds in fewer vector operations.
//!
//! XLA's rational function is evaluated on `x` clamped to `±7.998811722`,
//! where, in float32 with fused multiply-adds, it is exactly `±1`; XLA then
//! also selects `±1` for `|x| >= 20`. That select changes nothing there: every
//! `|x| >= 20` (and `±inf`) is clamped first, so the rational function already
//! gives `±1` (NaN passes both unchanged). Dropping it saves three operations
//! per vector (a compare, a copy-sign and a blend) of the 20 or so of a `tanh`,
//! which the step kernel evaluates twice per element (`fx'(z)` and `fx(z)`).
//! Checked against `vmath` on every float32 (outside the test suite: all 2^32
//! values) and, in the unit tests below, at the clamps, on a sweep of every
//! exponent and on the special values. Without fused multiply-adds (the
//! rational function gives 0.9999998 at the clamp) and in float64 (1 - 2^-53
//! or so) the select matters: those are `vmath`'s own.

// The coefficients are vmath's, written as fitted (more digits than the type
// holds); the compiler rounds each to the nearest float32, as there.
#![allow(clippy::excessive_precision)]

use crate::core::real::{fma, Dtype, Real};

/// `if c { a } else { b }` on values (a compare-and-blend in vector code).
#[inline(always)]
fn sel<T>(c: bool, a: T, b: T) -> T {
    if c {
        a
    } else {
        b
    }
}

/// `x` clamped to `[-c, c]`, NaN unchanged.
#[inline(always)]
fn clamp<T: Real>(x: T, c: T) -> T {
    let x = sel(x > c, c, x);
    sel(x < -c, -c, x)
}

/// `p(x2)` by Horner's rule, `p[0]` the highest coefficient.
#[inline(always)]
fn horner<T: Real, const F: bool, const N: usize>(x2: T, p: [T; N]) -> T {
    let mut acc = p[0];
    for &c in &p[1..] {
        acc = fma::<T, F>(x2, acc, c);
    }
    acc
}

/// XLA's `tanh` (bit for bit `vmath::tanh_f32`/`tanh_f64` with the same `F`).
#[inline(always)]
pub fn tanh<T: Real, const F: bool>(x: T) -> T {
    if !(F && T::DTYPE == Dtype::F32) {
        return x.tanh_k::<F>();
    }
    // vmath::tanh_f32's constants, as float32 literals.
    const CLAMP: f32 = 7.99881172180175781;
    const NUM: [f32; 7] = [
        -2.76076847742355e-16,
        2.00018790482477e-13,
        -8.60467152213735e-11,
        5.12229709037114e-08,
        1.48572235717979e-05,
        6.37261928875436e-04,
        4.89352455891786e-03,
    ];
    const DEN: [f32; 4] = [
        1.19825839466702e-06,
        1.18534705686654e-04,
        2.26843463243900e-03,
        4.89352518554385e-03,
    ];
    let xc = clamp(x, T::from_f64(CLAMP as f64));
    let x2 = xc * xc;
    let n = xc * horner::<T, F, 7>(x2, NUM.map(|c| T::from_f64(c as f64)));
    let d = horner::<T, F, 4>(x2, DEN.map(|c| T::from_f64(c as f64)));
    sel(x.abs() < T::from_f64(0.0004f32 as f64), x, n / d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::vmath::{tanh_f32, tanh_f64};

    fn same32(a: f32, b: f32) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    fn same64(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn the_clamp_is_exactly_one_in_float32_with_fma() {
        // What makes XLA's `|x| >= 20` select redundant there.
        for s in [1.0f32, -1.0] {
            assert_eq!(tanh::<f32, true>(s * 7.998_811_7), s);
            assert_eq!(tanh::<f32, true>(s * 20.0), s);
        }
        // And why it is kept without fused multiply-adds.
        assert_eq!(tanh_f32::<false>(7.998_811_7), 0.999_999_8);
    }

    #[test]
    fn float32_is_vmath_bit_for_bit() {
        let special = [
            0.0f32,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            f32::MIN_POSITIVE,
            1e-45,
            0.0004,
            -0.0004,
            7.998_811_7,
            8.0,
            19.999998,
            20.0,
            -20.0,
            25.0,
        ];
        // Every 1021st bit pattern (4.2 million values, all exponents), and the specials.
        let sweep = (0..=u32::MAX).step_by(1021).map(f32::from_bits);
        for x in sweep.chain(special) {
            for (ours, xla) in [
                (tanh::<f32, true>(x), tanh_f32::<true>(x)),
                (tanh::<f32, false>(x), tanh_f32::<false>(x)),
            ] {
                assert!(same32(ours, xla), "tanh({x:e}): {ours:e}, vmath {xla:e}");
            }
        }
    }

    #[test]
    fn float64_is_vmath() {
        for x in [0.3f64, -17.8, 20.0, 1e300, f64::NAN] {
            for (ours, xla) in [
                (tanh::<f64, true>(x), tanh_f64::<true>(x)),
                (tanh::<f64, false>(x), tanh_f64::<false>(x)),
            ] {
                assert!(same64(ours, xla), "tanh({x:e}): {ours:e}, vmath {xla:e}");
            }
        }
    }
}
