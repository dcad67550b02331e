//! The element types a cell can compute in.

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// The element type of a cell's compartments: `f32` or `f64`.
///
/// One generic implementation of every cell serves both types. The associated
/// constants carry what differs between them (the clip bounds, rounded to the
/// type exactly as JAX rounds the Python doubles `1e-4` and `1 - 1e-4`).
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
    + super::kernel::Lane
{
    /// The dtype tag of this type.
    const DTYPE: Dtype;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// ngc-learn's lower clip bound `1e-4`, rounded to this type.
    const CLIP_LO: Self;
    /// ngc-learn's upper clip bound `1 - 1e-4` (computed in double precision), rounded to this type.
    const CLIP_HI: Self;

    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Rounds a double to this type.
    fn from_f64(v: f64) -> Self;
    /// Widens (or keeps) this value as a double.
    fn to_f64(self) -> f64;
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

const EPS: f64 = 1e-4;

impl Real for f32 {
    const DTYPE: Dtype = Dtype::F32;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const CLIP_LO: Self = EPS as f32;
    const CLIP_HI: Self = (1.0 - EPS) as f32;

    #[inline(always)]
    fn ln(self) -> Self {
        f32::ln(self)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        f32::exp(self)
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    const DTYPE: Dtype = Dtype::F64;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const CLIP_LO: Self = EPS;
    const CLIP_HI: Self = 1.0 - EPS;

    #[inline(always)]
    fn ln(self) -> Self {
        f64::ln(self)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_bounds_are_rounded_like_jax() {
        assert_eq!(f32::CLIP_LO, 1.0e-4_f32);
        assert_eq!(f32::CLIP_HI, 0.9999_f32);
        // 1 - 0.9999f is not 1e-4 in float32: the asymmetry the reference has.
        assert_eq!(1.0_f32 - f32::CLIP_HI, 1.000_165_94e-4_f32);
        assert_eq!(f64::CLIP_LO, 1e-4);
        assert_eq!(f64::CLIP_HI, 0.9999);
    }
}
