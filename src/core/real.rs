//! The element types a cell can compute in.
//!
//! [`Real`] is what every cell's math needs of `f32` and `f64`: arithmetic,
//! conversions, the standard library's (libm) transcendental functions for
//! reference code, and the library's own fast `ln`/`exp` and XLA's `exp`/`tanh` ([`vmath`](super::vmath))
//! for the kernels. It knows nothing of any cell type.

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

use super::vmath;

/// The element type of a cell's compartments: `f32` or `f64`.
pub trait Real:
    Copy
    + Debug
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// The dtype tag of this type.
    const DTYPE: Dtype;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;

    /// Natural logarithm (the standard library's).
    fn ln(self) -> Self;
    /// `e^self` (the standard library's).
    fn exp(self) -> Self;
    /// `|self|`.
    fn abs(self) -> Self;
    /// `ln(1 + self)` (the standard library's).
    fn ln_1p(self) -> Self;
    /// Hyperbolic tangent (the standard library's).
    fn tanh(self) -> Self;
    /// Sine (the standard library's).
    fn sin(self) -> Self;
    /// Cosine (the standard library's).
    fn cos(self) -> Self;
    /// Whether this is a NaN.
    fn is_nan(self) -> bool;
    /// Rounds a double to this type.
    fn from_f64(v: f64) -> Self;
    /// Widens (or keeps) this value as a double.
    fn to_f64(self) -> f64;
    /// The kernels' `ln` ([`vmath`]; `F`: use fused multiply-adds).
    fn ln_k<const F: bool>(self) -> Self;
    /// The first half of [`ln_k`](Self::ln_k): the reduction (and, in f64, its
    /// division), as parts for [`ln_finish`](Self::ln_finish).
    fn ln_start(self) -> [Self; 3];
    /// The rest of [`ln_k`](Self::ln_k): `x.ln_k()` is `ln_finish(x.ln_start())`.
    fn ln_finish<const F: bool>(parts: [Self; 3]) -> Self;
    /// The kernels' `exp` ([`vmath`]).
    fn exp_k<const F: bool>(self) -> Self;
    /// The kernels' `tanh` ([`vmath`]: XLA's rational approximation).
    fn tanh_k<const F: bool>(self) -> Self;
    /// XLA's `exp` ([`vmath`]), results below the smallest normal number flushed to 0.
    fn exp_xla<const F: bool>(self) -> Self;
    /// `self * b + c` with one rounding.
    fn mul_add(self, b: Self, c: Self) -> Self;
}

/// `a * b + c`, fused (one rounding) when `F`, else two roundings.
#[inline(always)]
pub fn fma<T: Real, const F: bool>(a: T, b: T, c: T) -> T {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// The element type of a cell, as a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// IEEE-754 binary32 (`float`, `Float32`, `single`).
    F32,
    /// IEEE-754 binary64 (`double`, `Float64`, `double`).
    F64,
}

impl Dtype {
    /// The size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }

    /// The name ngc-learn / numpy give this dtype.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
        }
    }
}

impl Real for f32 {
    const DTYPE: Dtype = Dtype::F32;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    #[inline(always)]
    fn ln(self) -> Self {
        f32::ln(self)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        f32::exp(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f32::abs(self)
    }
    #[inline(always)]
    fn ln_1p(self) -> Self {
        f32::ln_1p(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        f32::tanh(self)
    }
    #[inline(always)]
    fn sin(self) -> Self {
        f32::sin(self)
    }
    #[inline(always)]
    fn cos(self) -> Self {
        f32::cos(self)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn ln_k<const F: bool>(self) -> Self {
        vmath::ln_f32::<F>(self)
    }
    #[inline(always)]
    fn ln_start(self) -> [Self; 3] {
        vmath::ln_f32_start(self)
    }
    #[inline(always)]
    fn ln_finish<const F: bool>(parts: [Self; 3]) -> Self {
        vmath::ln_f32_finish::<F>(parts)
    }
    #[inline(always)]
    fn exp_k<const F: bool>(self) -> Self {
        vmath::exp_f32::<F>(self)
    }
    #[inline(always)]
    fn tanh_k<const F: bool>(self) -> Self {
        vmath::tanh_f32::<F>(self)
    }
    #[inline(always)]
    fn exp_xla<const F: bool>(self) -> Self {
        vmath::exp_xla_f32::<F>(self)
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        f32::mul_add(self, b, c)
    }
}

impl Real for f64 {
    const DTYPE: Dtype = Dtype::F64;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    #[inline(always)]
    fn ln(self) -> Self {
        f64::ln(self)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f64::abs(self)
    }
    #[inline(always)]
    fn ln_1p(self) -> Self {
        f64::ln_1p(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    #[inline(always)]
    fn sin(self) -> Self {
        f64::sin(self)
    }
    #[inline(always)]
    fn cos(self) -> Self {
        f64::cos(self)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn ln_k<const F: bool>(self) -> Self {
        vmath::ln_f64::<F>(self)
    }
    #[inline(always)]
    fn ln_start(self) -> [Self; 3] {
        vmath::ln_f64_start(self)
    }
    #[inline(always)]
    fn ln_finish<const F: bool>(parts: [Self; 3]) -> Self {
        vmath::ln_f64_finish::<F>(parts)
    }
    #[inline(always)]
    fn exp_k<const F: bool>(self) -> Self {
        vmath::exp_f64::<F>(self)
    }
    #[inline(always)]
    fn tanh_k<const F: bool>(self) -> Self {
        vmath::tanh_f64::<F>(self)
    }
    #[inline(always)]
    fn exp_xla<const F: bool>(self) -> Self {
        vmath::exp_xla_f64::<F>(self)
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        f64::mul_add(self, b, c)
    }
}
