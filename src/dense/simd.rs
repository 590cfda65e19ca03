//! The only file that names `wide`: the [`Lanes`] vector abstraction and its two impls.
//!
//! `wide` chooses its instructions at compile time. With `-C target-cpu=native` (set in the
//! repository's `.cargo/config.toml`) on an AVX-512 host, `f32x16`/`f64x8` are single `zmm`
//! registers; on an AVX2 host we use `f32x8`/`f64x4` (`ymm`). Without those flags `wide` falls back
//! to SSE halves, which is still correct.

use std::ops::{Add, Div, Mul, Neg, Sub};

#[cfg(target_feature = "avx512f")]
mod width {
    pub type F32 = wide::f32x16;
    pub type F64 = wide::f64x8;
    pub type U32 = wide::u32x16;
    pub type U64 = wide::u64x8;
}
#[cfg(not(target_feature = "avx512f"))]
mod width {
    pub type F32 = wide::f32x8;
    pub type F64 = wide::f64x4;
    pub type U32 = wide::u32x8;
    pub type U64 = wide::u64x4;
}

/// The SIMD vector type of a scalar (`LanesOf<f32>` is `wide::f32x16` on AVX-512 hosts).
pub type LanesOf<T> = <T as HasLanes>::V;

/// Maps a scalar type to its `wide` vector type.
pub trait HasLanes {
    /// The vector type.
    type V;
}
impl HasLanes for f32 {
    type V = width::F32;
}
impl HasLanes for f64 {
    type V = width::F64;
}

/// A SIMD vector of `T` (implemented for the `wide` types only).
///
/// Masks are vectors whose lanes are all-ones or all-zeros bit patterns, as in `wide`.
pub trait Lanes<T>:
    Copy
    + Send
    + Sync
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// Number of lanes.
    const N: usize;
    /// All lanes equal to `x`.
    fn splat(x: T) -> Self;
    /// Loads the first `N` elements of `s`.
    ///
    /// # Panics
    /// If `s.len() < N`.
    fn load(s: &[T]) -> Self;
    /// Stores into the first `N` elements of `s`.
    ///
    /// # Panics
    /// If `s.len() < N`.
    fn store(self, s: &mut [T]);
    /// `self * a + b` (fused where the target has FMA).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// Lanewise maximum.
    fn max(self, o: Self) -> Self;
    /// Lanewise minimum.
    fn min(self, o: Self) -> Self;
    /// Lanewise maximum where neither lane is NaN (a NaN lane gives either operand: for
    /// callers that overwrite NaN lanes anyway; one instruction fewer than [`Lanes::max`]).
    fn fast_max(self, o: Self) -> Self;
    /// Lanewise minimum where neither lane is NaN (see [`Lanes::fast_max`]).
    fn fast_min(self, o: Self) -> Self;
    /// Lanewise absolute value.
    fn abs(self) -> Self;
    /// Round to nearest, ties to even.
    fn round(self) -> Self;
    /// Mask of `self < o`.
    fn lt(self, o: Self) -> Self;
    /// Mask of `self > o`.
    fn gt(self, o: Self) -> Self;
    /// Mask of `self == o`.
    fn eq(self, o: Self) -> Self;
    /// Mask of NaN lanes.
    fn is_nan(self) -> Self;
    /// Lanewise `if mask { a } else { b }`.
    fn select(mask: Self, a: Self, b: Self) -> Self;
    /// True if any lane of the mask is set.
    fn any(mask: Self) -> bool;
    /// Magnitude of `self` with the sign of `sign`.
    fn copysign(self, sign: Self) -> Self;
    /// `2^k` for integer-valued `k` in the normal exponent range.
    fn pow2i(k: Self) -> Self;
    /// For positive normal `x`: `(e, m)` with `x = m · 2^e`, `m ∈ [1, 2)`.
    fn frexp(self) -> (Self, Self);
    /// Sum of the lanes.
    fn reduce_sum(self) -> T;
    /// Largest lane.
    fn reduce_max(self) -> T;
}

macro_rules! impl_lanes {
    ($t:ty, $v:ty, $u:ty, $ubits:ty, $mbits:expr, $bias:expr, $magic:expr) => {
        impl Lanes<$t> for $v {
            const N: usize = std::mem::size_of::<$v>() / std::mem::size_of::<$t>();
            #[inline(always)]
            fn splat(x: $t) -> Self {
                <$v>::splat(x)
            }
            #[inline(always)]
            fn load(s: &[$t]) -> Self {
                const L: usize = std::mem::size_of::<$v>() / std::mem::size_of::<$t>();
                let a: [$t; L] = s[..L].try_into().expect("internal: exact-length slice");
                <$v>::new(a)
            }
            #[inline(always)]
            fn store(self, s: &mut [$t]) {
                const L: usize = std::mem::size_of::<$v>() / std::mem::size_of::<$t>();
                s[..L].copy_from_slice(self.as_array());
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$v>::mul_add(self, a, b)
            }
            #[inline(always)]
            fn max(self, o: Self) -> Self {
                <$v>::max(self, o)
            }
            #[inline(always)]
            fn min(self, o: Self) -> Self {
                <$v>::min(self, o)
            }
            #[inline(always)]
            fn fast_max(self, o: Self) -> Self {
                <$v>::fast_max(self, o)
            }
            #[inline(always)]
            fn fast_min(self, o: Self) -> Self {
                <$v>::fast_min(self, o)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$v>::abs(self)
            }
            #[inline(always)]
            fn round(self) -> Self {
                <$v>::round_ties_even(self)
            }
            #[inline(always)]
            fn lt(self, o: Self) -> Self {
                self.simd_lt(o)
            }
            #[inline(always)]
            fn gt(self, o: Self) -> Self {
                self.simd_gt(o)
            }
            #[inline(always)]
            fn eq(self, o: Self) -> Self {
                self.simd_eq(o)
            }
            #[inline(always)]
            fn is_nan(self) -> Self {
                <$v>::is_nan(self)
            }
            #[inline(always)]
            fn select(mask: Self, a: Self, b: Self) -> Self {
                mask.select(a, b)
            }
            #[inline(always)]
            fn any(mask: Self) -> bool {
                <$v>::any(mask)
            }
            #[inline(always)]
            fn copysign(self, sign: Self) -> Self {
                <$v>::copysign(self, sign)
            }
            #[inline(always)]
            fn pow2i(k: Self) -> Self {
                // k + (bias + 2^mbits) has the biased exponent in its low mantissa bits.
                let biased = k + <$v>::splat($magic + $bias);
                <$v>::from_bits(biased.to_bits() << $mbits)
            }
            #[inline(always)]
            fn frexp(self) -> (Self, Self) {
                let bits = self.to_bits();
                let mant_mask: $ubits = (1 << $mbits) - 1;
                let one_bits: $ubits = ($bias as $ubits) << $mbits;
                let m = <$v>::from_bits((bits & <$u>::splat(mant_mask)) | <$u>::splat(one_bits));
                // Exponent field as a float: OR it into the mantissa of 2^mbits.
                let magic_bits: $ubits = (($bias as $ubits) + $mbits) << $mbits;
                let ef = <$v>::from_bits((bits >> $mbits) | <$u>::splat(magic_bits));
                let e = ef - <$v>::splat($magic + $bias);
                (e, m)
            }
            #[inline(always)]
            fn reduce_sum(self) -> $t {
                <$v>::reduce_add(self)
            }
            #[inline(always)]
            fn reduce_max(self) -> $t {
                self.as_array()
                    .iter()
                    .copied()
                    .fold(<$t>::NEG_INFINITY, <$t>::max)
            }
        }
    };
}

impl_lanes!(
    f32,
    width::F32,
    width::U32,
    u32,
    23,
    127.0_f32,
    8_388_608.0_f32
);
impl_lanes!(
    f64,
    width::F64,
    width::U64,
    u64,
    52,
    1023.0_f64,
    4_503_599_627_370_496.0_f64
);

#[cfg(test)]
mod tests {
    use super::Lanes;
    use crate::Float;

    /// `fast_min`/`fast_max` agree with `min`/`max` on every non-NaN pair (±∞ and both
    /// orders included), lane by lane.
    fn fast_min_max_agree<T: Float>() {
        let vals = [-3.5, -1.0, -1e-300, 0.5, 2.0, 7.25, 1e30, f64::INFINITY];
        let vals: Vec<T> = vals
            .iter()
            .chain(&[f64::NEG_INFINITY])
            .map(|&v| T::from_f64(v))
            .collect();
        let l = T::Lanes::N;
        for shift in 0..vals.len() {
            let a: Vec<T> = (0..l).map(|i| vals[i % vals.len()]).collect();
            let b: Vec<T> = (0..l).map(|i| vals[(i + shift) % vals.len()]).collect();
            let (va, vb) = (T::Lanes::load(&a), T::Lanes::load(&b));
            let mut out = vec![T::ZERO; 4 * l];
            va.fast_min(vb).store(&mut out[..l]);
            va.min(vb).store(&mut out[l..2 * l]);
            va.fast_max(vb).store(&mut out[2 * l..3 * l]);
            va.max(vb).store(&mut out[3 * l..]);
            for i in 0..l {
                assert_eq!(out[i].to_f64(), out[l + i].to_f64(), "fast_min lane {i}");
                assert_eq!(out[2 * l + i].to_f64(), out[3 * l + i].to_f64(), "fast_max");
                assert_eq!(out[i].to_f64(), a[i].to_f64().min(b[i].to_f64()), "min");
                assert_eq!(out[3 * l + i].to_f64(), a[i].to_f64().max(b[i].to_f64()));
            }
        }
    }

    #[test]
    fn fast_min_max_agree_with_min_max() {
        fast_min_max_agree::<f32>();
        fast_min_max_agree::<f64>();
    }
}
