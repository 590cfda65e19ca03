//! Vectorised elementary functions on [`Lanes`]: `exp`, `expm1`, `ln`, `ln_1p` and the
//! activations built on them.
//!
//! Accuracy (property-tested against `std` in `tests/it/activations.rs`): relative error
//! ≤ 1e-6 (f32) and ≤ 1e-13 (f64) wherever the result is a normal number; ±0, ±∞ and NaN follow
//! `std`; results in the subnormal range are within [`Float::MIN_POSITIVE`] absolutely.
//!
//! ```text
//! exp(x)   = 2^k · (1 + p(r)),  x = k ln2 + r, |r| ≤ ln2/2, p = Taylor series of expm1
//!            (Estrin's scheme: four multiply–adds deep)
//! expm1(x) = p(x) for |x| ≤ ln2/2, else 2^k p(r) + (2^k − 1)
//! ln(x)    = e ln2 + 2 atanh(s),  x = m 2^e, m ∈ [√½, √2), s = (m−1)/(m+1)
//! ln_1p(u) = ln(w) · u / (w − 1), w = 1 + u   (Goldberg's correction; = u when w = 1)
//! tanh(x)  = sign(x) · e / (e + 2), e = expm1(2|x|)
//! σ(x)     = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0, e = exp(−|x|)
//! ```
//!
//! The activations call `exp` and `expm1` only on the half-lines they need (`exp(−|x|)`,
//! `expm1(2|x|)`), with one power of two each.

use super::simd::Lanes;
use crate::Float;

#[inline(always)]
fn c<T: Float>(x: f64) -> T::Lanes {
    T::Lanes::splat(T::from_f64(x))
}

/// `1/n!` for `n = 0..=15`.
const INV_FACT: [f64; 16] = {
    let mut t = [1.0; 16];
    let mut n = 1;
    while n < 16 {
        t[n] = t[n - 1] / n as f64;
        n += 1;
    }
    t
};

/// `1/(2j + 1)` for `j = 0..=15`.
const INV_ODD: [f64; 16] = {
    let mut t = [1.0; 16];
    let mut j = 0;
    while j < 16 {
        t[j] = 1.0 / (2 * j + 1) as f64;
        j += 1;
    }
    t
};

/// Taylor polynomial of `expm1(r)` of degree `T::EXPM1_DEGREE` (no constant term), evaluated
/// by Estrin's scheme: pairs of terms first, then pairs of pairs with `r²`, `r⁴`, `r⁸`, so that
/// the dependency chain is four multiply–adds deep instead of a dozen (the activations are
/// latency-bound in Horner form).
#[inline(always)]
fn expm1_poly<T: Float>(r: T::Lanes) -> T::Lanes {
    let deg = T::EXPM1_DEGREE;
    // p = 1/2! + r/3! + … + r^(deg−2)/deg!;  expm1 = r + r² p
    let m = deg - 1; // number of coefficients of p
    let mut q = [T::Lanes::splat(T::ZERO); 8];
    let mut len = 0;
    for j in (0..m).step_by(2) {
        q[len] = if j + 1 < m {
            r.mul_add(c::<T>(INV_FACT[j + 3]), c::<T>(INV_FACT[j + 2]))
        } else {
            c::<T>(INV_FACT[j + 2])
        };
        len += 1;
    }
    let r2 = r * r;
    let mut pw = r2;
    while len > 1 {
        let mut k = 0;
        for j in (0..len).step_by(2) {
            q[k] = if j + 1 < len {
                q[j + 1].mul_add(pw, q[j])
            } else {
                q[j]
            };
            k += 1;
        }
        len = k;
        pw = pw * pw;
    }
    r2.mul_add(q[0], r)
}

/// Splits `x = k ln2 + r` with `|r| ≤ ln2/2`; `k` is integer-valued.
#[inline(always)]
fn reduce_ln2<T: Float>(x: T::Lanes) -> (T::Lanes, T::Lanes) {
    let k = (x * c::<T>(std::f64::consts::LOG2_E)).round();
    let r = k.mul_add(-T::Lanes::splat(T::LN2_HI), x);
    let r = k.mul_add(-T::Lanes::splat(T::LN2_LO), r);
    (k, r)
}

/// `2^k · y` for integer-valued `k` that may lie outside the normal exponent range by up to a
/// factor of two (scales in two halves so that overflow and subnormal results are right).
#[inline(always)]
fn ldexp<T: Float>(y: T::Lanes, k: T::Lanes) -> T::Lanes {
    let k1 = (k * c::<T>(0.5)).round();
    let k2 = k - k1;
    y * T::Lanes::pow2i(k1) * T::Lanes::pow2i(k2)
}

/// Lanewise `e^x`.
#[inline(always)]
pub fn exp<T: Float>(x: T::Lanes) -> T::Lanes {
    let lo = T::Lanes::splat(T::EXP_MIN_ARG);
    let hi = T::Lanes::splat(T::EXP_MAX_ARG);
    let xc = x.fast_max(lo).fast_min(hi); // NaN lanes: overwritten below
    let (k, r) = reduce_ln2::<T>(xc);
    let y = ldexp::<T>(expm1_poly::<T>(r) + c::<T>(1.0), k);
    let y = T::Lanes::select(x.gt(hi), T::Lanes::splat(T::INFINITY), y);
    let y = T::Lanes::select(x.lt(lo), T::Lanes::splat(T::ZERO), y);
    T::Lanes::select(x.is_nan(), x, y)
}

/// Lanewise `e^x − 1`, accurate near 0.
#[inline(always)]
pub fn expm1<T: Float>(x: T::Lanes) -> T::Lanes {
    let lo = c::<T>(-60.0);
    let hi = T::Lanes::splat(T::EXP_MAX_ARG);
    let xc = x.fast_max(lo).fast_min(hi); // NaN lanes: overwritten below
    let (k, r) = reduce_ln2::<T>(xc);
    let p = expm1_poly::<T>(r);
    // 2^k p + (2^k − 1); with k = 0 this is p exactly.
    let t = T::Lanes::pow2i((k * c::<T>(0.5)).round());
    let t2 = T::Lanes::pow2i(k - (k * c::<T>(0.5)).round());
    let two_k = t * t2;
    let small = (p * t) * t2 + (two_k - c::<T>(1.0));
    // For large k the −1 is below an ulp; scale (1 + p) so that 2^k may approach overflow.
    let big = ((p + c::<T>(1.0)) * t) * t2 - c::<T>(1.0);
    let y = T::Lanes::select(k.gt(c::<T>((T::MANTISSA_BITS + 2) as f64)), big, small);
    let y = T::Lanes::select(x.gt(hi), T::Lanes::splat(T::INFINITY), y);
    let y = T::Lanes::select(x.lt(lo), c::<T>(-1.0), y);
    T::Lanes::select(x.is_nan(), x, y)
}

/// Lanewise natural logarithm (`−inf` at ±0, NaN below 0, `+inf` at `+inf`).
#[inline(always)]
pub fn ln<T: Float>(x: T::Lanes) -> T::Lanes {
    let zero = T::Lanes::splat(T::ZERO);
    // Subnormals: scale up by 2^MANTISSA_BITS first.
    let tiny = x.lt(T::Lanes::splat(T::MIN_POSITIVE));
    let scale = T::from_f64(2f64.powi(T::MANTISSA_BITS));
    let xs = T::Lanes::select(tiny, x * T::Lanes::splat(scale), x);
    let shift = T::Lanes::select(
        tiny,
        T::Lanes::splat(T::from_f64(T::MANTISSA_BITS as f64)),
        zero,
    );
    let (e, m) = xs.frexp();
    let big = m.gt(c::<T>(std::f64::consts::SQRT_2));
    let m = T::Lanes::select(big, m * c::<T>(0.5), m);
    let e = T::Lanes::select(big, e + c::<T>(1.0), e) - shift;
    let s = (m - c::<T>(1.0)) / (m + c::<T>(1.0));
    let s2 = s * s;
    // 2 atanh(s) = 2s (1 + s²/3 + s⁴/5 + …)
    let n = T::LOG_TERMS;
    let mut p = c::<T>(INV_ODD[n]);
    for &coef in INV_ODD[1..n].iter().rev() {
        p = p.mul_add(s2, c::<T>(coef));
    }
    let two_s = s + s;
    let log_m = (two_s * s2).mul_add(p, two_s);
    let y = e.mul_add(
        T::Lanes::splat(T::LN2_HI),
        e.mul_add(T::Lanes::splat(T::LN2_LO), log_m),
    );
    // Special values.
    let y = T::Lanes::select(x.eq(zero), T::Lanes::splat(-T::INFINITY), y);
    let y = T::Lanes::select(x.lt(zero), T::Lanes::splat(T::NAN), y);
    let y = T::Lanes::select(x.eq(T::Lanes::splat(T::INFINITY)), x, y);
    T::Lanes::select(x.is_nan(), x, y)
}

/// Lanewise `ln(1 + u)`, accurate near 0.
#[inline(always)]
pub fn ln_1p<T: Float>(u: T::Lanes) -> T::Lanes {
    let one = c::<T>(1.0);
    let w = u + one;
    let dw = w - one;
    let lw = ln::<T>(w);
    // Goldberg: ln(w) · u / (w − 1) corrects the rounding of 1 + u.
    let ratio = T::Lanes::select(dw.eq(T::Lanes::splat(T::ZERO)), one, u / dw);
    let y = lw * ratio;
    let y = T::Lanes::select(dw.eq(T::Lanes::splat(T::ZERO)), u, y);
    // +inf stays +inf (inf/inf would be NaN).
    let y = T::Lanes::select(u.eq(T::Lanes::splat(T::INFINITY)), u, y);
    T::Lanes::select(u.is_nan(), u, y)
}

/// Lanewise hyperbolic tangent.
#[inline(always)]
pub fn tanh<T: Float>(x: T::Lanes) -> T::Lanes {
    let a = x.abs().fast_min(T::Lanes::splat(T::TANH_SATURATE)); // NaN: overwritten
    let e = expm1_nonneg::<T>(a + a);
    let y = e / (e + c::<T>(2.0));
    let y = y.copysign(x);
    T::Lanes::select(x.is_nan(), x, y)
}

/// Lanewise `tanh x`, `tanh′ x`, `σ(y)` and `σ′(y)` together, as a gated cell needs them, from
/// one exponential each and one shared division:
///
/// ```text
/// e = expm1(2|x|), u = exp(−|y|), d = 1/((e + 2)(1 + u)), r = (1 + u) d = 1/(e + 2), ρ = (e + 2) d = 1/(1 + u)
/// tanh x = sign(x) · e r,   tanh′ x = 4 (e + 1) r²,   σ(y) = min(ρ, 1) (or u ρ for y < 0),   σ′(y) = u ρ²
/// ```
///
/// (`tanh′ = 1 − tanh²` without cancellation in the tails; `σ ≤ 1` exactly.) `|x|` is clamped
/// where `e` would overflow, beyond which `tanh′` is returned as 0 (the true value is below
/// 1e-306 in f64, 1e-37 in f32). The forward and backward passes of a fused cell both call
/// this, so the backward pass sees exactly the forward pass's values. A NaN in `x` or `y` makes
/// all four results NaN.
#[inline(always)]
pub fn tanh_sigmoid_and_primes<T: Float>(
    x: T::Lanes,
    y: T::Lanes,
) -> (T::Lanes, T::Lanes, T::Lanes, T::Lanes) {
    let one = c::<T>(1.0);
    let a = x.abs();
    let clamp = T::Lanes::splat(T::EXP_MAX_ARG) * c::<T>(0.5) - c::<T>(0.5);
    let ac = a.fast_min(clamp); // NaN lanes: overwritten below
    let e = expm1_nonneg::<T>(ac + ac);
    let u = exp_neg_abs::<T>(y);
    let (ep2, up1) = (e + c::<T>(2.0), u + one);
    let d = one / (ep2 * up1);
    let rt = up1 * d;
    let rho = (ep2 * d).fast_min(one);
    // |x| + |y| is NaN exactly when either is (∞ + ∞ is not).
    let nan = (a + y.abs()).is_nan();
    let t = T::Lanes::select(a.gt(T::Lanes::splat(T::TANH_SATURATE)), one, e * rt);
    let t = T::Lanes::select(nan, x + y, t.copysign(x));
    // ((e + 1) r) r first: 4 (e + 1) alone could overflow.
    let tp = (e + one) * rt * rt * c::<T>(4.0);
    let tp = T::Lanes::select(a.gt(clamp), T::Lanes::splat(T::ZERO), tp);
    let tp = T::Lanes::select(nan, x + y, tp);
    let ur = u * rho;
    let s = T::Lanes::select(y.lt(T::Lanes::splat(T::ZERO)), ur, rho);
    (
        t,
        tp,
        T::Lanes::select(nan, x + y, s),
        T::Lanes::select(nan, x + y, ur * rho),
    )
}

/// `expm1(a)` for `0 ≤ a ≤ EXP_MAX_ARG − 1` (no special values: the caller clamps), with one
/// power of two: `2^k p(r) + (2^k − 1)`.
#[inline(always)]
fn expm1_nonneg<T: Float>(a: T::Lanes) -> T::Lanes {
    let (k, r) = reduce_ln2::<T>(a);
    let two_k = T::Lanes::pow2i(k);
    expm1_poly::<T>(r).mul_add(two_k, two_k - c::<T>(1.0))
}

/// `exp(b)` for `b ≤ 0` (`−∞` gives 0) with one power of two: `(1 + p(r)) 2^{k+S} · 2^{−S}`,
/// `S = MANTISSA_BITS + 2`, so that `2^{k+S}` is normal down to the least subnormal result and
/// a subnormal result is rounded once, by the last product. `b` is clamped at
/// `EXP_MIN_ARG − 1/2`, whose result rounds to 0, so that no select is needed below it. A NaN
/// `b` gives an unspecified value: the callers overwrite NaN lanes.
#[inline(always)]
fn exp_nonpos<T: Float>(b: T::Lanes) -> T::Lanes {
    let lo = T::Lanes::splat(T::EXP_MIN_ARG) - c::<T>(0.5);
    let shift = (T::MANTISSA_BITS + 2) as f64;
    let (k, r) = reduce_ln2::<T>(b.fast_max(lo));
    let scaled = (expm1_poly::<T>(r) + c::<T>(1.0)) * T::Lanes::pow2i(k + c::<T>(shift));
    scaled * c::<T>((-shift).exp2())
}

/// `exp(−|x|)`, shared by the logistic family.
#[inline(always)]
fn exp_neg_abs<T: Float>(x: T::Lanes) -> T::Lanes {
    exp_nonpos::<T>(-x.abs())
}

/// Lanewise logistic sigmoid `σ(x) = 1/(1 + e^{−x})`.
#[inline(always)]
pub fn sigmoid<T: Float>(x: T::Lanes) -> T::Lanes {
    let e = exp_neg_abs::<T>(x);
    let s = c::<T>(1.0) / (c::<T>(1.0) + e);
    let y = T::Lanes::select(x.lt(T::Lanes::splat(T::ZERO)), e * s, s);
    T::Lanes::select(x.is_nan(), x, y)
}

/// Lanewise `(σ(x), σ′(x))` from one exponential: `e = exp(−|x|)`, `r = 1/(1+e)`,
/// `σ = r` (or `e r` for `x < 0`), `σ′ = e r²`.
#[inline(always)]
pub fn sigmoid_and_prime<T: Float>(x: T::Lanes) -> (T::Lanes, T::Lanes) {
    let e = exp_neg_abs::<T>(x);
    let r = c::<T>(1.0) / (c::<T>(1.0) + e);
    let er = e * r;
    let s = T::Lanes::select(x.lt(T::Lanes::splat(T::ZERO)), er, r);
    let nan = x.is_nan();
    (
        T::Lanes::select(nan, x, s),
        T::Lanes::select(nan, x, er * r),
    )
}

/// Lanewise `σ′(x) = σ(x)(1 − σ(x)) = e/(1+e)²`, `e = exp(−|x|)` (accurate in both tails).
#[inline(always)]
pub fn sigmoid_prime<T: Float>(x: T::Lanes) -> T::Lanes {
    let e = exp_neg_abs::<T>(x);
    let d = c::<T>(1.0) + e;
    let y = e / (d * d);
    T::Lanes::select(x.is_nan(), x, y)
}

/// Lanewise `softplus(x) = ln(1 + e^x) = max(x, 0) + ln_1p(e^{−|x|})`.
#[inline(always)]
pub fn softplus<T: Float>(x: T::Lanes) -> T::Lanes {
    let y = x.max(T::Lanes::splat(T::ZERO)) + ln_1p::<T>(exp_neg_abs::<T>(x));
    T::Lanes::select(x.is_nan(), x, y)
}

/// Lanewise `silu(x) = x σ(x)`.
#[inline(always)]
pub fn silu<T: Float>(x: T::Lanes) -> T::Lanes {
    let y = x * sigmoid::<T>(x);
    // −inf · 0 would be NaN; silu(−inf) = −0 in the limit.
    T::Lanes::select(
        x.eq(T::Lanes::splat(-T::INFINITY)),
        T::Lanes::splat(T::ZERO),
        y,
    )
}

/// Lanewise `silu′(x) = σ(x) + x σ′(x)`.
#[inline(always)]
pub fn silu_prime<T: Float>(x: T::Lanes) -> T::Lanes {
    let y = x.mul_add(sigmoid_prime::<T>(x), sigmoid::<T>(x));
    let inf = T::Lanes::splat(T::INFINITY);
    let y = T::Lanes::select(x.eq(inf), c::<T>(1.0), y);
    T::Lanes::select(x.eq(-inf), T::Lanes::splat(T::ZERO), y)
}

/// Lanewise `tanh′(x) = 1 − tanh²(x) = 4e/(1+e)²`, `e = exp(−2|x|)` (accurate in the tails).
#[inline(always)]
pub fn tanh_prime<T: Float>(x: T::Lanes) -> T::Lanes {
    let a = x.abs();
    let e = exp_nonpos::<T>(-(a + a));
    let d = c::<T>(1.0) + e;
    let y = c::<T>(4.0) * e / (d * d);
    T::Lanes::select(x.is_nan(), x, y)
}

/// Lanewise `tanh″(x) = −2 tanh(x) tanh′(x)`.
#[inline(always)]
pub fn tanh_second<T: Float>(x: T::Lanes) -> T::Lanes {
    c::<T>(-2.0) * tanh::<T>(x) * tanh_prime::<T>(x)
}

/// Lanewise `σ″(x) = σ′(x)(1 − 2σ(x))`.
#[inline(always)]
pub fn sigmoid_second<T: Float>(x: T::Lanes) -> T::Lanes {
    let s = sigmoid::<T>(x);
    sigmoid_prime::<T>(x) * (c::<T>(1.0) - s - s)
}

/// Lanewise `silu″(x) = σ′(x)(2 + x(1 − 2σ(x)))`.
#[inline(always)]
pub fn silu_second<T: Float>(x: T::Lanes) -> T::Lanes {
    let s = sigmoid::<T>(x);
    let y = sigmoid_prime::<T>(x) * x.mul_add(c::<T>(1.0) - s - s, c::<T>(2.0));
    let inf = T::Lanes::splat(T::INFINITY);
    T::Lanes::select(x.abs().eq(inf), T::Lanes::splat(T::ZERO), y)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `exp_nonpos` at its lower clamp and below gives exactly 0 (the clamp's value rounds to 0,
    /// so no select is needed), and at `ln` of the least subnormal exactly that subnormal.
    fn flush_is_exact<T: Float>(least_subnormal: f64) {
        let at = |b: f64| {
            let mut out = [T::ZERO; 16];
            exp_nonpos::<T>(T::Lanes::splat(T::from_f64(b))).store(&mut out);
            out[0].to_f64()
        };
        let lo = T::EXP_MIN_ARG.to_f64() - 0.5;
        for b in [lo, lo - 1e-3, lo - 10.0, -1e30, f64::NEG_INFINITY] {
            assert_eq!(at(b), 0.0, "exp({b}) [{}]", T::NAME);
        }
        assert_eq!(at(least_subnormal.ln()), least_subnormal, "[{}]", T::NAME);
        assert_eq!(at(0.0), 1.0);
    }

    #[test]
    fn exp_nonpos_flushes_to_zero_exactly() {
        flush_is_exact::<f32>(f32::from_bits(1) as f64);
        flush_is_exact::<f64>(f64::from_bits(1));
    }
}
