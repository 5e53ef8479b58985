//! The floating-point types the engine is generic over (f64 and f32).

use ndarray::{LinalgScalar, ScalarOperand};
use num_traits::Float;
use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A float the engine can compute in. `lit` turns an `f64` constant or
/// hyper-parameter into the working precision.
pub trait Real:
    Float
    + LinalgScalar
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Send
    + Sync
    + Debug
    + Display
    + Default
    + 'static
{
    /// The NumPy name of the type, for messages.
    const NAME: &'static str;
    fn lit(value: f64) -> Self;
    fn as_f64(self) -> f64;
}

impl Real for f64 {
    const NAME: &'static str = "float64";
    #[inline(always)]
    fn lit(value: f64) -> Self {
        value
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}

impl Real for f32 {
    const NAME: &'static str = "float32";
    #[inline(always)]
    fn lit(value: f64) -> Self {
        value as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

/// An element type of input arrays that the engine reads in place,
/// converting one value at a time (NumPy float64, float32 and uint8), so
/// large float32 or image data is never copied into a float64 array first.
pub trait Input: Copy + Send + Sync + 'static {
    fn to_f64(self) -> f64;
}

impl Input for f64 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

impl Input for f32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Input for u8 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}
