//! SIMD kernels against the scalar references at every tail length (0..=67) and at 255–257.
//! Tolerances are in units of the error bound of a length-k sum, `k · ε · Σ|terms|`.

use crate::common::{assert_close_scaled, eps, uniform};
use crate::for_each_float;
use neurodyn::Float;
use neurodyn::dense::{self, Accum, MatMut, MatRef, Par, reference};
use proptest::prelude::*;

fn lengths() -> impl Iterator<Item = usize> {
    (0..=67).chain([255, 256, 257])
}

#[test]
fn dot_sum_max_axpy_every_length() {
    for_each_float!(T => {
        for n in lengths() {
            let a: Vec<T> = uniform(n as u64, n, -1.0, 1.0);
            let b: Vec<T> = uniform(1000 + n as u64, n, -1.0, 1.0);
            let abs: f64 = a.iter().zip(&b).map(|(x, y)| (x.to_f64() * y.to_f64()).abs()).sum();
            let tol = eps::<T>(2.0 * (n as f64 + 1.0));
            assert_close_scaled("dot", &[dense::dot(&a, &b)], &[reference::dot(&a, &b)], &[abs], tol);
            let s: f64 = a.iter().map(|x| x.to_f64()).sum();
            let sabs: f64 = a.iter().map(|x| x.to_f64().abs()).sum();
            assert!((dense::sum(&a).to_f64() - s).abs() <= tol * sabs + 1e-300, "sum n={n}");
            let m = a.iter().copied().fold(-T::INFINITY, |x, y| if y > x { y } else { x });
            assert_eq!(dense::max(&a), m, "max n={n}");
            let mut y = b.clone();
            dense::axpy(&mut y, T::from_f64(0.7), &a);
            let want: Vec<T> = a.iter().zip(&b).map(|(&x, &y)| y + T::from_f64(0.7) * x).collect();
            let scale: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x.to_f64().abs() + y.to_f64().abs()).collect();
            assert_close_scaled("axpy", &y, &want, &scale, eps::<T>(2.0));
            let mut z = a.clone();
            dense::scal(&mut z, T::from_f64(-3.0));
            for (zi, ai) in z.iter().zip(&a) {
                assert_eq!(*zi, *ai * T::from_f64(-3.0));
            }
            let mut w = vec![T::ZERO; n];
            dense::add_scaled(&mut w, &a, T::from_f64(0.25), &b);
            let want: Vec<T> = a.iter().zip(&b).map(|(&x, &y)| x + T::from_f64(0.25) * y).collect();
            assert_close_scaled("add_scaled", &w, &want, &scale, eps::<T>(2.0));
            if n > 0 {
                let mut nan = a.clone();
                nan[n / 2] = T::NAN;
                assert!(dense::max(&nan).is_nan(), "max must propagate NaN (n={n})");
            }
        }
    });
}

fn naive_gemv<T: Float>(
    a: &[T],
    rows: usize,
    cols: usize,
    x: &[T],
    trans: bool,
) -> (Vec<T>, Vec<f64>) {
    let (on, inn) = if trans { (cols, rows) } else { (rows, cols) };
    let mut y = vec![T::ZERO; on];
    let mut sc = vec![0.0; on];
    for o in 0..on {
        for i in 0..inn {
            let w = if trans {
                a[i * cols + o]
            } else {
                a[o * cols + i]
            };
            y[o] += w * x[i];
            sc[o] += (w.to_f64() * x[i].to_f64()).abs();
        }
    }
    (y, sc)
}

#[test]
fn gemv_gemv_t_ger_every_tail() {
    for_each_float!(T => {
        for rows in [0, 1, 2, 3, 7, 16, 17, 33, 67, 257] {
            for cols in [0, 1, 5, 8, 15, 16, 31, 64, 65, 256] {
                let a: Vec<T> = uniform((rows * 1000 + cols) as u64, rows * cols, -1.0, 1.0);
                let x: Vec<T> = uniform(7, cols, -1.0, 1.0);
                let xt: Vec<T> = uniform(8, rows, -1.0, 1.0);
                let tol = eps::<T>(2.0 * (rows.max(cols) as f64 + 2.0));
                let mut y = vec![T::from_f64(0.5); rows];
                dense::gemv(&mut y, Accum::Replace, T::ONE, &a, rows, cols, &x, Par::Rayon);
                let (want, sc_n) = naive_gemv(&a, rows, cols, &x, false);
                assert_close_scaled("gemv", &y, &want, &sc_n, tol);
                let mut yt = vec![T::ZERO; cols];
                dense::gemv_t(&mut yt, Accum::Replace, T::ONE, &a, rows, cols, &xt, Par::Seq);
                let (want, sc) = naive_gemv(&a, rows, cols, &xt, true);
                assert_close_scaled("gemv_t", &yt, &want, &sc, tol);
                // Accum::Add adds to what was there
                let mut y2 = vec![T::ONE; rows];
                dense::gemv(&mut y2, Accum::Add, T::from_f64(2.0), &a, rows, cols, &x, Par::Seq);
                let want2: Vec<T> = y.iter().map(|&v| T::ONE + T::from_f64(2.0) * v).collect();
                let sc2: Vec<f64> = sc_n.iter().map(|s| 1.0 + 2.0 * s).collect();
                assert_close_scaled("gemv add", &y2, &want2, &sc2, tol);
                let mut g = a.clone();
                dense::ger(&mut g, T::from_f64(0.5), &xt, &x);
                for i in 0..rows {
                    for j in 0..cols {
                        let w = a[i * cols + j] + T::from_f64(0.5) * xt[i] * x[j];
                        assert!((g[i * cols + j] - w).abs().to_f64() <= eps::<T>(4.0), "ger");
                    }
                }
            }
        }
    });
}

/// Checks `gemm` for one shape and layout against the triple loop.
#[allow(clippy::too_many_arguments)]
fn check_gemm<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    ta: bool,
    tb: bool,
    accum: Accum,
    par: Par,
    seed: u64,
) {
    let a: Vec<T> = uniform(seed, m * k, -1.0, 1.0);
    let b: Vec<T> = uniform(seed + 1, k * n, -1.0, 1.0);
    let c0: Vec<T> = uniform(seed + 2, m * n, -1.0, 1.0);
    let av = if ta {
        MatRef::new(&a, k, m).t()
    } else {
        MatRef::new(&a, m, k)
    };
    let bv = if tb {
        MatRef::new(&b, n, k).t()
    } else {
        MatRef::new(&b, k, n)
    };
    let alpha = T::from_f64(0.75);
    let mut c = c0.clone();
    dense::gemm(MatMut::new(&mut c, m, n), accum, alpha, av, bv, par);
    let mut want = c0.clone();
    let beta = if accum == Accum::Add { T::ONE } else { T::ZERO };
    reference::gemm(&mut want, beta, alpha, av, bv);
    let mut scale = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = if accum == Accum::Add {
                c0[i * n + j].to_f64().abs()
            } else {
                0.0
            };
            for l in 0..k {
                s += 0.75 * (av.at(i, l).to_f64() * bv.at(l, j).to_f64()).abs();
            }
            scale[i * n + j] = s + 1e-30;
        }
    }
    let what = format!("gemm {m}×{k}·{k}×{n} ta={ta} tb={tb} {accum:?}");
    assert_close_scaled(&what, &c, &want, &scale, eps::<T>(2.0 * (k as f64 + 2.0)));
}

#[test]
fn gemm_large_and_edge_sizes() {
    for_each_float!(T => {
        for &(m, n, k) in &[(255, 257, 256), (256, 256, 256), (257, 255, 257), (1, 300, 70), (300, 1, 33), (64, 64, 600), (3, 2100, 5)] {
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                check_gemm::<T>(m, n, k, ta, tb, Accum::Add, Par::Seq, (m * n + k) as u64);
            }
            check_gemm::<T>(m, n, k, false, true, Accum::Replace, Par::Rayon, 3);
        }
    });
}

#[test]
fn gemm_parallel_is_bitwise_sequential() {
    for_each_float!(T => {
        for &(m, n, k) in &[(193usize, 170usize, 161usize), (150, 90, 700), (300, 20, 40)] {
        let a: Vec<T> = uniform(1, m * k, -1.0, 1.0);
        let b: Vec<T> = uniform(2, k * n, -1.0, 1.0);
        let mut c1 = vec![T::ZERO; m * n];
        let mut c2 = vec![T::ZERO; m * n];
        dense::gemm(MatMut::new(&mut c1, m, n), Accum::Replace, T::ONE, MatRef::new(&a, m, k), MatRef::new(&b, k, n), Par::Seq);
        dense::gemm(MatMut::new(&mut c2, m, n), Accum::Replace, T::ONE, MatRef::new(&a, m, k), MatRef::new(&b, k, n), Par::Rayon);
        assert!(c1 == c2, "Par::Rayon must give the same bits as Par::Seq ({m}×{n}×{k})");
        }
    });
}

#[test]
fn gemm_segments_equal_sum_of_products() {
    for_each_float!(T => {
        let (m, n) = (37, 45);
        let ks = [3usize, 32, 1, 300, 17];
        let data: Vec<(Vec<T>, Vec<T>)> = ks.iter().enumerate().map(|(i, &k)| {
            (uniform(i as u64, k * m, -1.0, 1.0), uniform(100 + i as u64, k * n, -1.0, 1.0))
        }).collect();
        // A_s stored k×m and used transposed (as weight gradients are): Σ A_sᵀ B_s.
        let segs: Vec<(MatRef<T>, MatRef<T>)> = data.iter().zip(&ks).map(|((a, b), &k)| {
            (MatRef::new(a, k, m).t(), MatRef::new(b, k, n))
        }).collect();
        let mut c = vec![T::ZERO; m * n];
        dense::gemm_segments(MatMut::new(&mut c, m, n), Accum::Replace, T::ONE, &segs[..], Par::Seq);
        let mut want = vec![T::ZERO; m * n];
        for (a, b) in &segs {
            reference::gemm(&mut want, T::ONE, T::ONE, *a, *b);
        }
        let ktot: usize = ks.iter().sum();
        let scale = vec![ktot as f64; m * n];
        assert_close_scaled("gemm_segments", &c, &want, &scale, eps::<T>(4.0));
    });
}

/// `gemm_segments` against the reference for segments of depths `ks` (A used transposed, as
/// weight gradients are), with `C = 0.75·Σ A_sᵀ B_s (+ C0)`.
fn check_gemm_segments<T: Float>(m: usize, n: usize, ks: &[usize], add: bool, par: Par, seed: u64) {
    let data: Vec<(Vec<T>, Vec<T>)> = ks
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            let s = seed + 2 * i as u64;
            (
                uniform(s, k * m, -1.0, 1.0),
                uniform(s + 1, k * n, -1.0, 1.0),
            )
        })
        .collect();
    let segs: Vec<(MatRef<T>, MatRef<T>)> = data
        .iter()
        .zip(ks)
        .map(|((a, b), &k)| (MatRef::new(a, k, m).t(), MatRef::new(b, k, n)))
        .collect();
    let c0: Vec<T> = uniform(seed + 999, m * n, -1.0, 1.0);
    let accum = if add { Accum::Add } else { Accum::Replace };
    let alpha = T::from_f64(0.75);
    let mut c = c0.clone();
    dense::gemm_segments(MatMut::new(&mut c, m, n), accum, alpha, &segs[..], par);
    let mut want = if add {
        c0.clone()
    } else {
        vec![T::ZERO; m * n]
    };
    for (a, b) in &segs {
        reference::gemm(&mut want, T::ONE, alpha, *a, *b);
    }
    let ktot: usize = ks.iter().sum();
    let scale = vec![ktot as f64 + 1.0; m * n];
    assert_close_scaled("gemm_segments", &c, &want, &scale, eps::<T>(4.0));
}

#[test]
fn gemm_few_columns_deep_rows() {
    // n ≤ 4 and k ≥ 64 with a row-major A: the dot-product path (low-rank φ(X)·N)
    for (m, k) in [(2, 64), (16, 100), (37, 4000)] {
        for n in 1..=5 {
            for (tb, add) in [(false, false), (true, true)] {
                let accum = if add { Accum::Add } else { Accum::Replace };
                check_gemm::<f64>(m, n, k, false, tb, accum, Par::Seq, (m * n + k) as u64);
                check_gemm::<f32>(m, n, k, false, tb, accum, Par::Rayon, (m + n * k) as u64);
            }
        }
    }
}

#[test]
fn gemm_segments_take_both_paths() {
    // small C: the direct path (blocks of whole segments; a deep segment alone); large C: packed
    for_each_float!(T => {
        check_gemm_segments::<T>(130, 129, &[32, 32, 7, 300, 0, 32], false, Par::Seq, 1);
        check_gemm_segments::<T>(200, 181, &[32, 5, 300, 1], true, Par::Seq, 2);
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn gemm_random_shapes(m in 0usize..68, n in 0usize..68, k in 0usize..68, ta: bool, tb: bool, add: bool, seed in 0u64..1000) {
        let accum = if add { Accum::Add } else { Accum::Replace };
        check_gemm::<f64>(m, n, k, ta, tb, accum, Par::Seq, seed);
        check_gemm::<f32>(m, n, k, ta, tb, accum, Par::Rayon, seed);
    }

    #[test]
    fn gemm_segments_random(m in 0usize..70, n in 0usize..70,
                            ks in proptest::collection::vec(0usize..45, 1..24),
                            add: bool, seed in 0u64..1000) {
        check_gemm_segments::<f64>(m, n, &ks, add, Par::Seq, seed);
        check_gemm_segments::<f32>(m, n, &ks, add, Par::Rayon, seed);
    }

    #[test]
    fn row_reductions_random(rows in 0usize..20, cols in 0usize..68, seed in 0u64..1000) {
        for_each_float!(T => {
            let a: Vec<T> = uniform(seed, rows * cols, -30.0, 30.0);
            let mut rs = vec![T::ZERO; rows];
            dense::row_sums(&mut rs, &a, rows, cols);
            let mut cs = vec![T::ONE; cols];
            dense::col_sums_acc(&mut cs, &a, rows, cols);
            for i in 0..rows {
                let s: f64 = a[i * cols..(i + 1) * cols].iter().map(|x| x.to_f64()).sum();
                prop_assert!((rs[i].to_f64() - s).abs() <= eps::<T>(2.0 * cols as f64 + 2.0) * 30.0 * cols as f64 + 1e-300);
            }
            for j in 0..cols {
                let s: f64 = 1.0 + (0..rows).map(|i| a[i * cols + j].to_f64()).sum::<f64>();
                prop_assert!((cs[j].to_f64() - s).abs() <= eps::<T>(2.0 * rows as f64 + 2.0) * 30.0 * (rows as f64 + 1.0));
            }
            let mut lse = vec![T::ZERO; rows];
            dense::row_logsumexp(&mut lse, &a, rows, cols);
            let want = reference::row_logsumexp(&a, rows, cols);
            for i in 0..rows {
                if cols == 0 {
                    prop_assert!(lse[i] == -T::INFINITY);
                } else {
                    prop_assert!((lse[i] - want[i]).abs().to_f64() <= eps::<T>(8.0 * cols as f64) * want[i].abs().to_f64().max(1.0));
                }
            }
            let mut sm = vec![T::ZERO; rows * cols];
            dense::row_softmax(&mut sm, &a, rows, cols);
            for i in 0..rows {
                if cols > 0 {
                    let tot: f64 = sm[i * cols..(i + 1) * cols].iter().map(|x| x.to_f64()).sum();
                    prop_assert!((tot - 1.0).abs() <= eps::<T>(4.0 * cols as f64 + 4.0) * 30.0);
                    for j in 0..cols {
                        let w = (a[i * cols + j].to_f64() - want[i].to_f64()).exp();
                        prop_assert!((sm[i * cols + j].to_f64() - w).abs() <= eps::<T>(64.0 * cols as f64) * 30.0);
                    }
                }
            }
        });
    }
}
