//! Matrix–vector kernels on row-major matrices: `gemv`, `gemv_t` and the rank-1 update `ger`.

use super::blas1::{axpy, dot};
use super::matrix::{Accum, Par};
use crate::Float;

#[cfg(feature = "rayon")]
const PAR_MIN: usize = 1 << 18;

/// `dst = beta·dst + alpha·A·x` for row-major `A` (rows × cols), `beta` ∈ {0, 1} by `accum`.
///
/// # Panics
/// If `a.len() != rows·cols`, `x.len() != cols` or `dst.len() != rows`.
///
/// # Example
/// ```
/// use neurodyn::dense::{gemv, Accum, Par};
/// let a = [1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2×3
/// let mut y = [0.0; 2];
/// gemv(&mut y, Accum::Replace, 1.0, &a, 2, 3, &[1.0, 1.0, 1.0], Par::Seq);
/// assert_eq!(y, [6.0, 15.0]);
/// ```
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn gemv<T: Float>(
    dst: &mut [T],
    accum: Accum,
    alpha: T,
    a: &[T],
    rows: usize,
    cols: usize,
    x: &[T],
    par: Par,
) {
    assert!(
        a.len() == rows * cols && x.len() == cols && dst.len() == rows,
        "gemv: A has {} elements for {rows}×{cols}, x has {}, dst has {}",
        a.len(),
        x.len(),
        dst.len()
    );
    let body = |d: &mut [T], a: &[T]| {
        for (y, row) in d.iter_mut().zip(a.chunks_exact(cols.max(1))) {
            let v = alpha * if cols == 0 { T::ZERO } else { dot(row, x) };
            *y = if accum == Accum::Replace { v } else { *y + v };
        }
        if cols == 0 && accum == Accum::Replace {
            d.fill(T::ZERO);
        }
    };
    #[cfg(feature = "rayon")]
    if par == Par::Rayon && rows * cols >= PAR_MIN && cols > 0 {
        use rayon::prelude::*;
        let chunk = rows
            .div_ceil(rayon::current_num_threads().max(1) * 2)
            .max(16);
        dst.par_chunks_mut(chunk)
            .zip(a.par_chunks(chunk * cols))
            .for_each(|(d, a)| body(d, a));
        return;
    }
    let _ = par;
    body(dst, a);
}

/// `dst = beta·dst + alpha·Aᵀ·x` for row-major `A` (rows × cols).
///
/// # Panics
/// If `a.len() != rows·cols`, `x.len() != rows` or `dst.len() != cols`.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn gemv_t<T: Float>(
    dst: &mut [T],
    accum: Accum,
    alpha: T,
    a: &[T],
    rows: usize,
    cols: usize,
    x: &[T],
    par: Par,
) {
    assert!(
        a.len() == rows * cols && x.len() == rows && dst.len() == cols,
        "gemv_t: A has {} elements for {rows}×{cols}, x has {}, dst has {}",
        a.len(),
        x.len(),
        dst.len()
    );
    let _ = par;
    if accum == Accum::Replace {
        dst.fill(T::ZERO);
    }
    if cols == 0 {
        return;
    }
    for (row, &xi) in a.chunks_exact(cols).zip(x) {
        axpy(dst, alpha * xi, row);
    }
}

/// Rank-1 update `A += alpha · x yᵀ` of a row-major `A` (rows × cols).
///
/// # Panics
/// If `a.len() != x.len()·y.len()`.
#[track_caller]
pub fn ger<T: Float>(a: &mut [T], alpha: T, x: &[T], y: &[T]) {
    assert_eq!(
        a.len(),
        x.len() * y.len(),
        "ger: A has {} elements, x {} and y {}",
        a.len(),
        x.len(),
        y.len()
    );
    if y.is_empty() {
        return;
    }
    for (row, &xi) in a.chunks_exact_mut(y.len()).zip(x) {
        axpy(row, alpha * xi, y);
    }
}
