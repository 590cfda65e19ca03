//! Elementwise maps and zips over slices, SIMD body plus a padded SIMD tail (so every element
//! goes through the same code, whatever its position).

use super::math;
use super::simd::Lanes;
use crate::Float;

/// An elementwise function with a SIMD implementation.
///
/// The `*Prime`/`*Second` variants are first and second derivatives; they exist as functions
/// of their own so that the tape can record derivatives as ops (SPEC §1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unary {
    /// `e^x`
    Exp,
    /// `ln x`
    Ln,
    /// `ln(1 + x)`
    Ln1p,
    /// `e^x − 1`
    Expm1,
    /// `tanh x`
    Tanh,
    /// `σ(x) = 1/(1 + e^{−x})`
    Sigmoid,
    /// `ln(1 + e^x)`
    Softplus,
    /// `x σ(x)`
    Silu,
    /// `max(x, 0)`
    Relu,
    /// `tanh′(x) = 1 − tanh² x`
    TanhPrime,
    /// `σ′(x) = σ(x)(1 − σ(x))`
    SigmoidPrime,
    /// `silu′(x) = σ(x) + x σ′(x)`
    SiluPrime,
    /// `tanh″(x)`
    TanhSecond,
    /// `σ″(x)`
    SigmoidSecond,
    /// `silu″(x)`
    SiluSecond,
    /// `x²`
    Square,
    /// `√x`
    Sqrt,
}

/// Largest lane count of any supported vector type (f32x16).
const MAX_LANES: usize = 16;

/// `dst[i] = f(src[i])` with a SIMD closure.
#[inline(always)]
pub(crate) fn map_with<T: Float>(dst: &mut [T], src: &[T], f: impl Fn(T::Lanes) -> T::Lanes) {
    assert_eq!(
        dst.len(),
        src.len(),
        "map: dst has {} elements, src {}",
        dst.len(),
        src.len()
    );
    let n = T::Lanes::N;
    let mut d = dst.chunks_exact_mut(n);
    let mut s = src.chunks_exact(n);
    for (dc, sc) in (&mut d).zip(&mut s) {
        f(T::Lanes::load(sc)).store(dc);
    }
    let (dt, st) = (d.into_remainder(), s.remainder());
    if !st.is_empty() {
        let mut buf = [T::ZERO; MAX_LANES];
        buf[..st.len()].copy_from_slice(st);
        let mut out = [T::ZERO; MAX_LANES];
        f(T::Lanes::load(&buf)).store(&mut out);
        dt.copy_from_slice(&out[..st.len()]);
    }
}

/// `dst[i] = f(src[i])`.
///
/// # Panics
/// If the lengths differ.
///
/// # Example
/// ```
/// use neurodyn::dense::{map, Unary};
/// let mut y = [0.0_f64; 3];
/// map(&mut y, &[0.0, 1.0, -1.0], Unary::Tanh);
/// assert!((y[1] - 1.0_f64.tanh()).abs() < 1e-15);
/// ```
pub fn map<T: Float>(dst: &mut [T], src: &[T], f: Unary) {
    use Unary::*;
    match f {
        Exp => map_with(dst, src, math::exp::<T>),
        Ln => map_with(dst, src, math::ln::<T>),
        Ln1p => map_with(dst, src, math::ln_1p::<T>),
        Expm1 => map_with(dst, src, math::expm1::<T>),
        Tanh => map_with(dst, src, math::tanh::<T>),
        Sigmoid => map_with(dst, src, math::sigmoid::<T>),
        Softplus => map_with(dst, src, math::softplus::<T>),
        Silu => map_with(dst, src, math::silu::<T>),
        Relu => map_with(dst, src, |x| {
            let y = x.max(T::Lanes::splat(T::ZERO));
            T::Lanes::select(x.is_nan(), x, y)
        }),
        TanhPrime => map_with(dst, src, math::tanh_prime::<T>),
        SigmoidPrime => map_with(dst, src, math::sigmoid_prime::<T>),
        SiluPrime => map_with(dst, src, math::silu_prime::<T>),
        TanhSecond => map_with(dst, src, math::tanh_second::<T>),
        SigmoidSecond => map_with(dst, src, math::sigmoid_second::<T>),
        SiluSecond => map_with(dst, src, math::silu_second::<T>),
        Square => map_with(dst, src, |x| x * x),
        Sqrt => map_with(dst, src, |x| {
            // √ via the scalar path: wide's sqrt is exact (IEEE), keep it lanewise.
            let mut a = [T::ZERO; MAX_LANES];
            x.store(&mut a);
            for v in a.iter_mut().take(T::Lanes::N) {
                *v = v.sqrt();
            }
            T::Lanes::load(&a)
        }),
    }
}

/// In-place `x[i] = f(x[i])` (copies through a stack buffer per chunk).
pub fn map_inplace<T: Float>(x: &mut [T], f: Unary) {
    let mut buf = [T::ZERO; 256];
    for chunk in x.chunks_mut(256) {
        let b = &mut buf[..chunk.len()];
        b.copy_from_slice(chunk);
        map(chunk, b, f);
    }
}

/// `dst[i] = f(a[i], b[i])` with a SIMD closure.
#[inline(always)]
pub fn zip_with<T: Float>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    f: impl Fn(T::Lanes, T::Lanes) -> T::Lanes,
) {
    assert!(
        dst.len() == a.len() && a.len() == b.len(),
        "zip: lengths dst {} a {} b {}",
        dst.len(),
        a.len(),
        b.len()
    );
    let n = T::Lanes::N;
    let body = dst.len() / n * n;
    for ((dc, ac), bc) in dst[..body]
        .chunks_exact_mut(n)
        .zip(a[..body].chunks_exact(n))
        .zip(b[..body].chunks_exact(n))
    {
        f(T::Lanes::load(ac), T::Lanes::load(bc)).store(dc);
    }
    let rest = dst.len() - body;
    if rest > 0 {
        let mut ba = [T::ZERO; MAX_LANES];
        let mut bb = [T::ZERO; MAX_LANES];
        ba[..rest].copy_from_slice(&a[body..]);
        bb[..rest].copy_from_slice(&b[body..]);
        let mut out = [T::ZERO; MAX_LANES];
        f(T::Lanes::load(&ba), T::Lanes::load(&bb)).store(&mut out);
        dst[body..].copy_from_slice(&out[..rest]);
    }
}

/// `dst[i] = f(dst[i], a[i])` with a SIMD closure (accumulating updates).
#[inline(always)]
pub fn update_with<T: Float>(dst: &mut [T], a: &[T], f: impl Fn(T::Lanes, T::Lanes) -> T::Lanes) {
    assert_eq!(
        dst.len(),
        a.len(),
        "update: lengths dst {} a {}",
        dst.len(),
        a.len()
    );
    let n = T::Lanes::N;
    let body = dst.len() / n * n;
    for (dc, ac) in dst[..body]
        .chunks_exact_mut(n)
        .zip(a[..body].chunks_exact(n))
    {
        f(T::Lanes::load(dc), T::Lanes::load(ac)).store(dc);
    }
    let rest = dst.len() - body;
    if rest > 0 {
        let mut bd = [T::ZERO; MAX_LANES];
        let mut ba = [T::ZERO; MAX_LANES];
        bd[..rest].copy_from_slice(&dst[body..]);
        ba[..rest].copy_from_slice(&a[body..]);
        let mut out = [T::ZERO; MAX_LANES];
        f(T::Lanes::load(&bd), T::Lanes::load(&ba)).store(&mut out);
        dst[body..].copy_from_slice(&out[..rest]);
    }
}

/// `dst[i] = f(dst[i], a[i], b[i])` with a SIMD closure.
#[inline(always)]
pub fn update2_with<T: Float>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    f: impl Fn(T::Lanes, T::Lanes, T::Lanes) -> T::Lanes,
) {
    assert!(
        dst.len() == a.len() && a.len() == b.len(),
        "update2: lengths dst {} a {} b {}",
        dst.len(),
        a.len(),
        b.len()
    );
    let n = T::Lanes::N;
    let body = dst.len() / n * n;
    for ((dc, ac), bc) in dst[..body]
        .chunks_exact_mut(n)
        .zip(a[..body].chunks_exact(n))
        .zip(b[..body].chunks_exact(n))
    {
        f(T::Lanes::load(dc), T::Lanes::load(ac), T::Lanes::load(bc)).store(dc);
    }
    let rest = dst.len() - body;
    if rest > 0 {
        let mut bd = [T::ZERO; MAX_LANES];
        let mut ba = [T::ZERO; MAX_LANES];
        let mut bb = [T::ZERO; MAX_LANES];
        bd[..rest].copy_from_slice(&dst[body..]);
        ba[..rest].copy_from_slice(&a[body..]);
        bb[..rest].copy_from_slice(&b[body..]);
        let mut out = [T::ZERO; MAX_LANES];
        f(
            T::Lanes::load(&bd),
            T::Lanes::load(&ba),
            T::Lanes::load(&bb),
        )
        .store(&mut out);
        dst[body..].copy_from_slice(&out[..rest]);
    }
}

/// `dst[i] = f(dst[i], a[i], b[i], c[i])` with a SIMD closure.
#[inline(always)]
pub fn update3_with<T: Float>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    c: &[T],
    f: impl Fn(T::Lanes, T::Lanes, T::Lanes, T::Lanes) -> T::Lanes,
) {
    assert!(
        dst.len() == a.len() && a.len() == b.len() && b.len() == c.len(),
        "update3: lengths dst {} a {} b {} c {}",
        dst.len(),
        a.len(),
        b.len(),
        c.len()
    );
    let n = T::Lanes::N;
    let body = dst.len() / n * n;
    for i in (0..body).step_by(n) {
        let v = f(
            T::Lanes::load(&dst[i..]),
            T::Lanes::load(&a[i..]),
            T::Lanes::load(&b[i..]),
            T::Lanes::load(&c[i..]),
        );
        v.store(&mut dst[i..]);
    }
    for i in body..dst.len() {
        let mut bufs = [[T::ZERO; MAX_LANES]; 4];
        bufs[0][0] = dst[i];
        bufs[1][0] = a[i];
        bufs[2][0] = b[i];
        bufs[3][0] = c[i];
        let mut out = [T::ZERO; MAX_LANES];
        f(
            T::Lanes::load(&bufs[0]),
            T::Lanes::load(&bufs[1]),
            T::Lanes::load(&bufs[2]),
            T::Lanes::load(&bufs[3]),
        )
        .store(&mut out);
        dst[i] = out[0];
    }
}

/// `dst[i] = f(dst[i], a[i], b[i], c[i], e[i])` with a SIMD closure.
#[inline(always)]
pub fn update4_with<T: Float>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    c: &[T],
    e: &[T],
    f: impl Fn(T::Lanes, T::Lanes, T::Lanes, T::Lanes, T::Lanes) -> T::Lanes,
) {
    let n = dst.len();
    assert!(
        a.len() == n && b.len() == n && c.len() == n && e.len() == n,
        "update4: lengths differ"
    );
    let l = T::Lanes::N;
    let body = n / l * l;
    for i in (0..body).step_by(l) {
        let v = f(
            T::Lanes::load(&dst[i..]),
            T::Lanes::load(&a[i..]),
            T::Lanes::load(&b[i..]),
            T::Lanes::load(&c[i..]),
            T::Lanes::load(&e[i..]),
        );
        v.store(&mut dst[i..]);
    }
    for i in body..n {
        let mut bufs = [[T::ZERO; MAX_LANES]; 5];
        for (k, src) in [&dst[i..=i], &a[i..=i], &b[i..=i], &c[i..=i], &e[i..=i]]
            .iter()
            .enumerate()
        {
            bufs[k][0] = src[0];
        }
        let mut out = [T::ZERO; MAX_LANES];
        f(
            T::Lanes::load(&bufs[0]),
            T::Lanes::load(&bufs[1]),
            T::Lanes::load(&bufs[2]),
            T::Lanes::load(&bufs[3]),
            T::Lanes::load(&bufs[4]),
        )
        .store(&mut out);
        dst[i] = out[0];
    }
}

/// `dst[i] += g[i] · f′(x[i])`: the VJP of an elementwise map, with `fprime` one of the
/// derivative maps.
pub fn accumulate_vjp<T: Float>(dst: &mut [T], g: &[T], x: &[T], fprime: Unary) {
    use Unary::*;
    macro_rules! go {
        ($f:expr) => {
            update2_with(dst, g, x, |d, g, x| g.mul_add($f(x), d))
        };
    }
    match fprime {
        Exp => go!(math::exp::<T>),
        Sigmoid => go!(math::sigmoid::<T>),
        TanhPrime => go!(math::tanh_prime::<T>),
        SigmoidPrime => go!(math::sigmoid_prime::<T>),
        SiluPrime => go!(math::silu_prime::<T>),
        TanhSecond => go!(math::tanh_second::<T>),
        SigmoidSecond => go!(math::sigmoid_second::<T>),
        SiluSecond => go!(math::silu_second::<T>),
        other => {
            // Generic path: evaluate f′ into a stack buffer chunk by chunk.
            let mut buf = [T::ZERO; 256];
            for ((d, g), x) in dst.chunks_mut(256).zip(g.chunks(256)).zip(x.chunks(256)) {
                let b = &mut buf[..x.len()];
                map(b, x, other);
                update2_with(d, g, b, |d, g, b| g.mul_add(b, d));
            }
        }
    }
}
