//! Scalar reference kernels: the oracles the SIMD kernels are tested against.
//!
//! Plain loops over `std` functions, written for clarity rather than speed. The activations use
//! the numerically careful scalar formulas (the same algebra as the SIMD versions) so that the
//! comparison measures the SIMD polynomial error, not a cancellation in the oracle.

use super::elementwise::Unary;
use super::matrix::MatRef;
use crate::Float;

/// Scalar `σ(x)` (stable in both tails).
pub fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::ZERO {
        T::ONE / (T::ONE + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::ONE + e)
    }
}

/// Scalar `f(x)` for any [`Unary`].
pub fn unary<T: Float>(f: Unary, x: T) -> T {
    let one = T::ONE;
    let two = T::from_f64(2.0);
    let sig_p = |x: T| {
        if x.is_nan() {
            return x;
        }
        let e = (-x.abs()).exp();
        e / ((one + e) * (one + e))
    };
    match f {
        Unary::Exp => x.exp(),
        Unary::Ln => x.ln(),
        Unary::Ln1p => x.ln_1p(),
        Unary::Expm1 => x.exp_m1(),
        Unary::Tanh => x.tanh(),
        Unary::Sigmoid => sigmoid(x),
        Unary::Softplus => {
            if x.is_nan() {
                x
            } else {
                x.max(T::ZERO) + (-x.abs()).exp().ln_1p()
            }
        }
        Unary::Silu => {
            if x == -T::INFINITY {
                T::ZERO
            } else {
                x * sigmoid(x)
            }
        }
        Unary::Relu => {
            if x.is_nan() {
                x
            } else {
                x.max(T::ZERO)
            }
        }
        Unary::TanhPrime => {
            if x.is_nan() {
                return x;
            }
            let e = (-two * x.abs()).exp();
            T::from_f64(4.0) * e / ((one + e) * (one + e))
        }
        Unary::SigmoidPrime => sig_p(x),
        Unary::SiluPrime => {
            if x == T::INFINITY {
                one
            } else if x == -T::INFINITY {
                T::ZERO
            } else {
                sigmoid(x) + x * sig_p(x)
            }
        }
        Unary::TanhSecond => -two * x.tanh() * unary(Unary::TanhPrime, x),
        Unary::SigmoidSecond => sig_p(x) * (one - two * sigmoid(x)),
        Unary::SiluSecond => {
            if x.abs() == T::INFINITY {
                T::ZERO
            } else {
                sig_p(x) * (two + x * (one - two * sigmoid(x)))
            }
        }
        Unary::Square => x * x,
        Unary::Sqrt => x.sqrt(),
    }
}

/// `Σ a_i b_i`, one accumulator, in order.
pub fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(T::ZERO, |s, (&x, &y)| s + x * y)
}

/// `C = beta C + alpha A B` with plain triple loops (C row-major m×n).
pub fn gemm<T: Float>(c: &mut [T], beta: T, alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>) {
    let (m, n, k) = (a.rows, b.cols, a.cols);
    assert_eq!(c.len(), m * n);
    for i in 0..m {
        for j in 0..n {
            let mut s = T::ZERO;
            for l in 0..k {
                s += a.at(i, l) * b.at(l, j);
            }
            let old = if beta == T::ZERO {
                T::ZERO
            } else {
                beta * c[i * n + j]
            };
            c[i * n + j] = old + alpha * s;
        }
    }
}

/// Per-row log-sum-exp, the textbook way (max shift, then sum of exps).
pub fn row_logsumexp<T: Float>(a: &[T], rows: usize, cols: usize) -> Vec<T> {
    (0..rows)
        .map(|i| {
            let r = &a[i * cols..(i + 1) * cols];
            let m = r.iter().copied().fold(-T::INFINITY, T::max);
            if !m.is_finite() {
                return m;
            }
            m + r.iter().map(|&x| (x - m).exp()).sum::<T>().ln()
        })
        .collect()
}
