//! The scalar types the crate is generic over: `f32` and `f64`.
//!
//! [`Float`] is sealed: it carries the constants the SIMD maths needs (range-reduction splits,
//! polynomial degrees) and the SIMD vector type ([`Float::Lanes`]) that `wide` provides at the
//! host's vector width.

use crate::dense::simd::{Lanes, LanesOf};
use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point scalar: `f32` or `f64` (sealed).
///
/// Everything numerical in neurodyn is generic over it; reference checks run in `f64`.
///
/// # Example
/// ```
/// use neurodyn::Float;
/// fn half<T: Float>(x: T) -> T { x * T::from_f64(0.5) }
/// assert_eq!(half(3.0_f32), 1.5);
/// assert_eq!(half(3.0_f64), 1.5);
/// ```
pub trait Float:
    sealed::Sealed
    + Copy
    + Default
    + Debug
    + Display
    + std::fmt::LowerExp
    + PartialEq
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
{
    /// The SIMD vector of this scalar at the host's width (`f32x16`/`f64x8` with AVX-512,
    /// `f32x8`/`f64x4` otherwise).
    type Lanes: Lanes<Self>;
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Machine epsilon.
    const EPSILON: Self;
    /// Smallest positive normal number.
    const MIN_POSITIVE: Self;
    /// Largest finite number.
    const MAX: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// A quiet NaN.
    const NAN: Self;
    /// A short name for messages: `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Number of mantissa bits (23 or 52).
    const MANTISSA_BITS: i32;
    /// High part of ln 2 (trailing zeros, so `k * LN2_HI` is exact for small integers `k`).
    const LN2_HI: Self;
    /// Low part of ln 2: `LN2_HI + LN2_LO` ≈ ln 2 to twice working precision.
    const LN2_LO: Self;
    /// Degree of the Taylor polynomial of `expm1` on `|r| ≤ ln2/2` (error below half an ulp).
    const EXPM1_DEGREE: usize;
    /// Number of odd terms of the `atanh` series used by `log` on `|s| ≤ 0.172`.
    const LOG_TERMS: usize;
    /// Above this `exp` overflows to `+inf`.
    const EXP_MAX_ARG: Self;
    /// Below this `exp` underflows to `0`.
    const EXP_MIN_ARG: Self;
    /// Above this `tanh(x)` rounds to 1.
    const TANH_SATURATE: Self;

    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Converts from `usize` (rounding when large).
    fn from_usize(n: usize) -> Self {
        Self::from_f64(n as f64)
    }
    /// `e^x` (std).
    fn exp(self) -> Self;
    /// `ln x` (std).
    fn ln(self) -> Self;
    /// `ln(1 + x)` (std).
    fn ln_1p(self) -> Self;
    /// `e^x − 1` (std).
    fn exp_m1(self) -> Self;
    /// `tanh x` (std).
    fn tanh(self) -> Self;
    /// Square root (std).
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// Larger of two numbers (std semantics: NaN loses).
    fn max(self, other: Self) -> Self;
    /// Smaller of two numbers (std semantics: NaN loses).
    fn min(self, other: Self) -> Self;
    /// `self * a + b` with one rounding where the hardware has FMA.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `x^n` for an integer power.
    fn powi(self, n: i32) -> Self;
    /// `x^y`.
    fn powf(self, y: Self) -> Self;
    /// True when neither infinite nor NaN.
    fn is_finite(self) -> bool;
    /// True when NaN.
    fn is_nan(self) -> bool;
    /// Runs `f` with this thread's two scratch buffers for this scalar type (used by the
    /// packed GEMM so that a warm kernel never allocates).
    fn with_scratch<R>(f: impl FnOnce(&mut Vec<Self>, &mut Vec<Self>) -> R) -> R;
}

macro_rules! impl_float {
    ($t:ty, $name:literal, $mbits:expr, $hi:expr, $lo:expr, $deg:expr, $logt:expr,
     $emax:expr, $emin:expr, $tsat:expr, $tls:ident) => {
        thread_local! {
            static $tls: std::cell::RefCell<(Vec<$t>, Vec<$t>)> =
                const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
        }
        impl Float for $t {
            type Lanes = LanesOf<$t>;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const EPSILON: Self = <$t>::EPSILON;
            const MIN_POSITIVE: Self = <$t>::MIN_POSITIVE;
            const MAX: Self = <$t>::MAX;
            const INFINITY: Self = <$t>::INFINITY;
            const NAN: Self = <$t>::NAN;
            const NAME: &'static str = $name;
            const MANTISSA_BITS: i32 = $mbits;
            const LN2_HI: Self = $hi;
            const LN2_LO: Self = $lo;
            const EXPM1_DEGREE: usize = $deg;
            const LOG_TERMS: usize = $logt;
            const EXP_MAX_ARG: Self = $emax;
            const EXP_MIN_ARG: Self = $emin;
            const TANH_SATURATE: Self = $tsat;
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline(always)]
            fn exp_m1(self) -> Self {
                <$t>::exp_m1(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                <$t>::min(self, other)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                <$t>::powi(self, n)
            }
            #[inline(always)]
            fn powf(self, y: Self) -> Self {
                <$t>::powf(self, y)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn with_scratch<R>(f: impl FnOnce(&mut Vec<Self>, &mut Vec<Self>) -> R) -> R {
                $tls.with(|cell| {
                    let mut guard = cell.borrow_mut();
                    let (a, b) = &mut *guard;
                    f(a, b)
                })
            }
        }
    };
}

impl_float!(
    f32,
    "f32",
    23,
    f32::from_bits(0x3f31_8000),
    -2.121_944_4e-4_f32,
    8,
    5,
    88.722_83_f32,
    -103.972_08_f32,
    9.1_f32,
    SCRATCH_F32
);
impl_float!(
    f64,
    "f64",
    52,
    f64::from_bits(0x3fe6_2e42_fee0_0000),
    f64::from_bits(0x3dea_39ef_3579_3c76),
    13,
    11,
    709.782_712_893_384_f64,
    -745.133_219_101_941_1_f64,
    19.1_f64,
    SCRATCH_F64
);
