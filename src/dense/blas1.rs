//! Vector kernels (dot, axpy, scal, sums) and row reductions of row-major matrices.

use super::elementwise::{update_with, zip_with};
use super::math;
use super::simd::Lanes;
use crate::Float;

/// `Σ_i a[i] b[i]`, four SIMD accumulators.
///
/// # Panics
/// If the lengths differ.
///
/// # Example
/// ```
/// assert_eq!(neurodyn::dense::dot(&[1.0_f64, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
/// ```
#[inline]
pub fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    assert_eq!(a.len(), b.len(), "dot: lengths {} and {}", a.len(), b.len());
    let n = T::Lanes::N;
    let mut acc = [T::Lanes::splat(T::ZERO); 4];
    let mut ac = a.chunks_exact(4 * n);
    let mut bc = b.chunks_exact(4 * n);
    for (x, y) in (&mut ac).zip(&mut bc) {
        for k in 0..4 {
            acc[k] = T::Lanes::load(&x[k * n..]).mul_add(T::Lanes::load(&y[k * n..]), acc[k]);
        }
    }
    let (ar, br) = (ac.remainder(), bc.remainder());
    let mut ar1 = ar.chunks_exact(n);
    let mut br1 = br.chunks_exact(n);
    for (x, y) in (&mut ar1).zip(&mut br1) {
        acc[0] = T::Lanes::load(x).mul_add(T::Lanes::load(y), acc[0]);
    }
    let mut s = ((acc[0] + acc[1]) + (acc[2] + acc[3])).reduce_sum();
    for (&x, &y) in ar1.remainder().iter().zip(br1.remainder()) {
        s = x.mul_add(y, s);
    }
    s
}

/// `Σ_i a[i]`, four SIMD accumulators.
#[inline]
pub fn sum<T: Float>(a: &[T]) -> T {
    let n = T::Lanes::N;
    let mut acc = [T::Lanes::splat(T::ZERO); 4];
    let mut ac = a.chunks_exact(4 * n);
    for x in &mut ac {
        for (k, v) in acc.iter_mut().enumerate() {
            *v = *v + T::Lanes::load(&x[k * n..]);
        }
    }
    let mut r1 = ac.remainder().chunks_exact(n);
    for x in &mut r1 {
        acc[0] = acc[0] + T::Lanes::load(x);
    }
    let mut s = ((acc[0] + acc[1]) + (acc[2] + acc[3])).reduce_sum();
    for &x in r1.remainder() {
        s += x;
    }
    s
}

/// Largest element (`−inf` for an empty slice; NaN if any element is NaN).
#[inline]
pub fn max<T: Float>(a: &[T]) -> T {
    let n = T::Lanes::N;
    let mut acc = T::Lanes::splat(-T::INFINITY);
    let mut ac = a.chunks_exact(n);
    for x in &mut ac {
        let v = T::Lanes::load(x);
        if T::Lanes::any(v.is_nan()) {
            return T::NAN;
        }
        acc = acc.max(v);
    }
    let mut m = acc.reduce_max();
    for &x in ac.remainder() {
        if x.is_nan() {
            return x;
        }
        m = m.max(x);
    }
    m
}

/// `dst += alpha · x`.
///
/// # Panics
/// If the lengths differ.
#[inline]
pub fn axpy<T: Float>(dst: &mut [T], alpha: T, x: &[T]) {
    let a = T::Lanes::splat(alpha);
    update_with(dst, x, |d, x| x.mul_add(a, d));
}

/// `dst *= alpha`.
#[inline]
pub fn scal<T: Float>(dst: &mut [T], alpha: T) {
    let a = T::Lanes::splat(alpha);
    let n = T::Lanes::N;
    let mut c = dst.chunks_exact_mut(n);
    for d in &mut c {
        (T::Lanes::load(d) * a).store(d);
    }
    for d in c.into_remainder() {
        *d *= alpha;
    }
}

/// `dst = a + alpha · b`.
#[inline]
pub fn add_scaled<T: Float>(dst: &mut [T], a: &[T], alpha: T, b: &[T]) {
    let s = T::Lanes::splat(alpha);
    zip_with(dst, a, b, |a, b| b.mul_add(s, a));
}

/// Per-row sums of a row-major `rows × cols` matrix into `dst[rows]`.
pub fn row_sums<T: Float>(dst: &mut [T], a: &[T], rows: usize, cols: usize) {
    assert_eq!(
        a.len(),
        rows * cols,
        "row_sums: {} elements for {rows}×{cols}",
        a.len()
    );
    assert_eq!(
        dst.len(),
        rows,
        "row_sums: dst has {} elements for {rows} rows",
        dst.len()
    );
    for (d, r) in dst.iter_mut().zip(a.chunks_exact(cols.max(1))) {
        *d = sum(r);
    }
    if cols == 0 {
        dst.fill(T::ZERO);
    }
}

/// Column sums of a row-major `rows × cols` matrix, accumulated into `dst[cols]`.
pub fn col_sums_acc<T: Float>(dst: &mut [T], a: &[T], rows: usize, cols: usize) {
    assert_eq!(
        a.len(),
        rows * cols,
        "col_sums: {} elements for {rows}×{cols}",
        a.len()
    );
    assert_eq!(
        dst.len(),
        cols,
        "col_sums: dst has {} elements for {cols} cols",
        dst.len()
    );
    if cols == 0 {
        return;
    }
    for r in a.chunks_exact(cols) {
        update_with(dst, r, |d, x| d + x);
    }
}

/// Per-row `logsumexp` of a row-major matrix: `dst[i] = m_i + ln Σ_j exp(a_ij − m_i)`,
/// `m_i = max_j a_ij` (`−inf` rows give `−inf`).
pub fn row_logsumexp<T: Float>(dst: &mut [T], a: &[T], rows: usize, cols: usize) {
    assert_eq!(
        a.len(),
        rows * cols,
        "row_logsumexp: {} elements for {rows}×{cols}",
        a.len()
    );
    assert_eq!(
        dst.len(),
        rows,
        "row_logsumexp: dst has {} for {rows} rows",
        dst.len()
    );
    if cols == 0 {
        dst.fill(-T::INFINITY);
        return;
    }
    let n = T::Lanes::N;
    for (d, r) in dst.iter_mut().zip(a.chunks_exact(cols)) {
        let m = max(r);
        if !m.is_finite() {
            // all −inf → −inf; any +inf → +inf; NaN → NaN
            *d = m;
            continue;
        }
        let mv = T::Lanes::splat(m);
        let mut acc = T::Lanes::splat(T::ZERO);
        let mut c = r.chunks_exact(n);
        for x in &mut c {
            acc = acc + math::exp::<T>(T::Lanes::load(x) - mv);
        }
        let rem = c.remainder();
        let mut buf = [-T::INFINITY; 16];
        buf[..rem.len()].copy_from_slice(rem);
        acc = acc + math::exp::<T>(T::Lanes::load(&buf) - mv);
        *d = m + acc.reduce_sum().ln();
    }
}

/// Row-wise softmax: `dst_ij = exp(a_ij − lse_i)`.
pub fn row_softmax<T: Float>(dst: &mut [T], a: &[T], rows: usize, cols: usize) {
    assert!(
        dst.len() == a.len() && a.len() == rows * cols,
        "row_softmax: dst {} src {} for {rows}×{cols}",
        dst.len(),
        a.len()
    );
    let mut lse = [T::ZERO; 1];
    for (d, r) in dst
        .chunks_exact_mut(cols.max(1))
        .zip(a.chunks_exact(cols.max(1)))
    {
        row_logsumexp(&mut lse, r, 1, cols);
        let l = T::Lanes::splat(lse[0]);
        super::elementwise::zip_with(d, r, r, |x, _| math::exp::<T>(x - l));
    }
}
