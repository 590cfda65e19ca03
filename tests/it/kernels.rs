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
        segments_sum_checked("gemm_segments", m, n, &segs);
    });
}

/// `Σ_s A_s B_s` by `gemm_segments` (C replaced, one thread) against the reference's sum, to
/// `4 ε` of the total depth; returns C.
fn segments_sum_checked<T: Float>(
    what: &str,
    m: usize,
    n: usize,
    segs: &[(MatRef<T>, MatRef<T>)],
) -> Vec<T> {
    let mut c = vec![T::ZERO; m * n];
    dense::gemm_segments(
        MatMut::new(&mut c, m, n),
        Accum::Replace,
        T::ONE,
        segs,
        Par::Seq,
    );
    let mut want = vec![T::ZERO; m * n];
    for (a, b) in segs {
        reference::gemm(&mut want, T::ONE, T::ONE, *a, *b);
    }
    let ktot: usize = segs.iter().map(|(a, _)| a.cols()).sum();
    assert_close_scaled(what, &c, &want, &vec![ktot as f64; m * n], eps::<T>(4.0));
    c
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
fn gemm_few_rows_deeper_than_one_direct_pass() {
    // m ≤ 64, k > 512, row-major B: the direct path in depth chunks (the stacked weights of a
    // wide mGRU cell); k = 513 leaves a one-deep last chunk, 1100 three chunks.
    for (m, n, k) in [
        (1, 40, 513),
        (7, 33, 1100),
        (32, 64, 1024),
        (64, 17, 777),
        (65, 20, 600),
    ] {
        for accum in [Accum::Add, Accum::Replace] {
            check_gemm::<f64>(m, n, k, false, false, accum, Par::Seq, (m * n + k) as u64);
            check_gemm::<f32>(m, n, k, true, false, accum, Par::Seq, (m + n * k) as u64);
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

/// The direct path from 64 rows of C copies each block's `B` panel by panel: segments whose `B`
/// are column windows of wider matrices (row stride beyond the width), with every tail of a
/// panel and of a row tile and blocks split by depth, `A` transposed (as weight gradients have
/// it) or row-major, against the reference; the same bits as with fewer rows.
#[test]
fn gemm_segments_direct_path_packs_strided_b() {
    for_each_float!(T => {
        for &(m, n) in &[(64usize, 1usize), (64, 17), (72, 33), (100, 40), (65, 64)] {
            let ks = [32usize, 32, 7, 100, 32, 1];
            let wide = n + 5;
            let data: Vec<(Vec<T>, Vec<T>)> = ks.iter().enumerate().map(|(i, &k)| {
                (uniform(10 + i as u64, k * m, -1.0, 1.0), uniform(50 + i as u64, k * wide, -1.0, 1.0))
            }).collect();
            let segs: Vec<(MatRef<T>, MatRef<T>)> = data.iter().zip(&ks).map(|((a, b), &k)| {
                (MatRef::new(a, k, m).t(), MatRef::from_strides(&b[2..], k, n, wide, 1))
            }).collect();
            let c = segments_sum_checked(&format!("gemm_segments {m}×{n} strided B"), m, n, &segs);
            let row_major: Vec<(MatRef<T>, MatRef<T>)> = data.iter().zip(&ks).map(|((a, b), &k)| {
                (MatRef::new(a, m, k), MatRef::from_strides(&b[2..], k, n, wide, 1))
            }).collect();
            segments_sum_checked(&format!("gemm_segments {m}×{n} row-major A"), m, n, &row_major);
            let ktot: usize = ks.iter().sum();
            // the first 8 rows alone (one row tile, B read in place): the same bits, where that
            // product is large enough for the direct path too
            if 8 * n * ktot < 4096 {
                continue;
            }
            let top: Vec<(MatRef<T>, MatRef<T>)> = data.iter().zip(&ks).map(|((a, b), &k)| {
                (MatRef::from_strides(a, 8, k, 1, m), MatRef::from_strides(&b[2..], k, n, wide, 1))
            }).collect();
            let mut c8 = vec![T::ZERO; 8 * n];
            dense::gemm_segments(MatMut::new(&mut c8, 8, n), Accum::Replace, T::ONE, &top[..], Par::Seq);
            assert!(c8 == c[..8 * n], "packing B changed the bits ({m}×{n})");
        }
    });
}

/// `gemm_prepacked` against the triple loop for one shape: `B` packed from a row-major or a
/// transposed view, C replaced or added to, the packing reused for a second, smaller `B`.
fn check_gemm_prepacked<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    tb: bool,
    add: bool,
    par: Par,
    seed: u64,
) {
    let a: Vec<T> = uniform(seed, m * k, -1.0, 1.0);
    let b: Vec<T> = uniform(seed + 1, k * n, -1.0, 1.0);
    let c0: Vec<T> = uniform(seed + 2, m * n, -1.0, 1.0);
    let av = MatRef::new(&a, m, k);
    let bv = if tb {
        MatRef::new(&b, n, k).t()
    } else {
        MatRef::new(&b, k, n)
    };
    let mut packed = dense::PackedRhs::new();
    // a stale, larger packing first: pack must replace all of it
    let junk: Vec<T> = uniform(seed + 3, (k + 3) * (n + 17), -9.0, 9.0);
    packed.pack(MatRef::new(&junk, k + 3, n + 17));
    packed.pack(bv);
    assert_eq!((packed.rows(), packed.cols()), (k, n));
    let accum = if add { Accum::Add } else { Accum::Replace };
    let alpha = T::from_f64(0.75);
    let mut c = c0.clone();
    dense::gemm_prepacked(MatMut::new(&mut c, m, n), accum, alpha, av, &packed, par);
    let mut want = c0.clone();
    reference::gemm(&mut want, if add { T::ONE } else { T::ZERO }, alpha, av, bv);
    let mut scale = vec![1e-30; m * n];
    for i in 0..m {
        for j in 0..n {
            scale[i * n + j] += if add {
                c0[i * n + j].to_f64().abs()
            } else {
                0.0
            };
            for l in 0..k {
                scale[i * n + j] += 0.75 * (av.at(i, l).to_f64() * bv.at(l, j).to_f64()).abs();
            }
        }
    }
    let what = format!("gemm_prepacked {m}×{k}·{k}×{n} tb={tb} add={add}");
    assert_close_scaled(&what, &c, &want, &scale, eps::<T>(2.0 * (k as f64 + 2.0)));
}

#[test]
fn gemm_prepacked_every_tail_and_parallel_bits() {
    for_each_float!(T => {
        // n up to three 16-lane panels plus every tail; m over every row-tile remainder
        for n in [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49] {
            for m in [1, 2, 5, 8, 9, 16, 17] {
                check_gemm_prepacked::<T>(m, n, 13, (m + n) % 2 == 0, m % 2 == 1, Par::Seq, (m * 100 + n) as u64);
            }
        }
        for &(m, n, k) in &[(0, 5, 3), (4, 0, 3), (3, 5, 0), (64, 130, 256), (40, 256, 128)] {
            check_gemm_prepacked::<T>(m, n, k, true, false, Par::Seq, 7);
            check_gemm_prepacked::<T>(m, n, k, false, true, Par::Rayon, 8);
        }
        // the parallel split gives the sequential bits
        let (m, n, k) = (200, 150, 90);
        let (a, b): (Vec<T>, Vec<T>) = (uniform(1, m * k, -1.0, 1.0), uniform(2, k * n, -1.0, 1.0));
        let mut packed = dense::PackedRhs::new();
        packed.pack(MatRef::new(&b, k, n));
        let (mut c1, mut c2) = (vec![T::ZERO; m * n], vec![T::ZERO; m * n]);
        dense::gemm_prepacked(MatMut::new(&mut c1, m, n), Accum::Replace, T::ONE, MatRef::new(&a, m, k), &packed, Par::Seq);
        dense::gemm_prepacked(MatMut::new(&mut c2, m, n), Accum::Replace, T::ONE, MatRef::new(&a, m, k), &packed, Par::Rayon);
        assert!(c1 == c2, "Par::Rayon must give the same bits as Par::Seq");
    });
}

#[test]
#[should_panic(expected = "gemm_prepacked: A is 2×3, B is 4×2, C is 2×2")]
fn gemm_prepacked_names_mismatched_shapes() {
    let mut packed = dense::PackedRhs::<f64>::new();
    packed.pack(MatRef::new(&[0.0; 8], 4, 2));
    let mut c = [0.0; 4];
    dense::gemm_prepacked(
        MatMut::new(&mut c, 2, 2),
        Accum::Replace,
        1.0,
        MatRef::new(&[0.0; 6], 2, 3),
        &packed,
        Par::Seq,
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn gemm_prepacked_random_shapes(m in 0usize..40, n in 0usize..70, k in 0usize..40, tb: bool, add: bool, seed in 0u64..1000) {
        check_gemm_prepacked::<f64>(m, n, k, tb, add, Par::Seq, seed);
        check_gemm_prepacked::<f32>(m, n, k, tb, add, Par::Seq, seed);
    }

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

/// The fused mGRU cell (`dense::gated_tanh` and its VJP) against a plain loop over the scalar
/// references, in f64: forward value and all three accumulated gradients, with only `gz` or only
/// `gh` wanted too. `n` from 1 to 40 takes every tail of 8 and 16 lanes, 63 to 257 rows of many
/// vectors; the pre-activations reach ±40, so `tanh′` and `σ′` are checked deep in their tails
/// (relative to their own size).
fn check_gated_tanh<T: Float>(rows: usize, n: usize, seed: u64) {
    let zr: Vec<T> = uniform(seed, rows * 2 * n, -1.0, 1.0);
    // mostly moderate values, every seventh one large
    let z: Vec<T> = zr
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if i % 7 == 3 {
                v * T::from_f64(40.0)
            } else {
                v * T::from_f64(3.0)
            }
        })
        .collect();
    let h: Vec<T> = uniform(seed + 1, rows * n, -1.5, 1.5);
    let g: Vec<T> = uniform(seed + 2, rows * n, -1.0, 1.0);
    // Accumulate onto zeros for even seeds, so that each gradient is checked relative to its
    // own size (tails included), onto random values for odd ones.
    let start = |s: u64, len: usize| -> Vec<T> {
        if seed.is_multiple_of(2) {
            vec![T::ZERO; len]
        } else {
            uniform(s, len, -0.5, 0.5)
        }
    };
    let (gz0, gh0) = (start(seed + 3, rows * 2 * n), start(seed + 4, rows * n));
    let (a, b) = (T::from_f64(0.3), T::from_f64(1.7));
    let f64s = |v: &[T]| v.iter().map(|x| x.to_f64()).collect::<Vec<f64>>();
    let (zd, hd, gd) = (f64s(&z), f64s(&h), f64s(&g));
    let (ad, bd) = (a.to_f64(), b.to_f64());
    // reference, in f64 from the same inputs
    let (mut y_ref, mut y_sc) = (vec![0.0; rows * n], vec![0.0; rows * n]);
    let (mut gz_ref, mut gz_sc) = (f64s(&gz0), vec![0.0; rows * 2 * n]);
    let (mut gh_ref, mut gh_sc) = (f64s(&gh0), vec![0.0; rows * n]);
    for r in 0..rows {
        for j in 0..n {
            let (zf, zg) = (zd[r * 2 * n + j], zd[r * 2 * n + n + j]);
            let (hh, gg) = (hd[r * n + j], gd[r * n + j]);
            let f = zf.tanh();
            let fp = reference::unary(dense::Unary::TanhPrime, zf);
            let s = reference::sigmoid(zg);
            let sp = reference::unary(dense::Unary::SigmoidPrime, zg);
            y_ref[r * n + j] = ad * hh + bd * s * (f - hh);
            y_sc[r * n + j] = (ad * hh).abs() + (bd * s).abs() * (f.abs() + hh.abs());
            let (i_f, i_g) = (r * 2 * n + j, r * 2 * n + n + j);
            gz_ref[i_f] += gg * bd * s * fp;
            gz_sc[i_f] = gz_ref[i_f].abs().max((gg * bd * s * fp).abs());
            gz_ref[i_g] += gg * bd * (f - hh) * sp;
            gz_sc[i_g] = gz_ref[i_g]
                .abs()
                .max((gg * bd * sp).abs() * (f.abs() + hh.abs()));
            gh_ref[r * n + j] += gg * (ad - bd * s);
            gh_sc[r * n + j] = gh_ref[r * n + j]
                .abs()
                .max(gg.abs() * (ad.abs() + (bd * s).abs()));
        }
    }
    let tol = eps::<T>(64.0);
    // Subnormal results are good to within the least normal number (as for the activations):
    // a subnormal coefficient holds fewer significant bits.
    let floor = T::MIN_POSITIVE.to_f64() / tol;
    for sc in [&mut y_sc, &mut gz_sc, &mut gh_sc] {
        sc.iter_mut().for_each(|v| *v = v.max(floor));
    }
    let to_t = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
    let mut y = vec![T::NAN; rows * n];
    dense::gated_tanh(&mut y, &z, &h, n, a, b);
    assert_close_scaled(
        &format!("gated_tanh {rows}×{n}"),
        &y,
        &to_t(&y_ref),
        &y_sc,
        tol,
    );
    let (mut gz, mut gh) = (gz0.clone(), gh0.clone());
    dense::gated_tanh_vjp(Some(&mut gz), Some(&mut gh), &g, &z, &h, n, a, b);
    assert_close_scaled(
        &format!("gated_tanh_vjp gz {rows}×{n}"),
        &gz,
        &to_t(&gz_ref),
        &gz_sc,
        tol,
    );
    assert_close_scaled(
        &format!("gated_tanh_vjp gh {rows}×{n}"),
        &gh,
        &to_t(&gh_ref),
        &gh_sc,
        tol,
    );
    // one gradient wanted: the same values
    let mut gz_only = gz0.clone();
    dense::gated_tanh_vjp(Some(&mut gz_only), None, &g, &z, &h, n, a, b);
    assert_eq!(
        f64s(&gz_only),
        f64s(&gz),
        "gz alone differs from gz with gh"
    );
    let mut gh_only = gh0.clone();
    dense::gated_tanh_vjp(None, Some(&mut gh_only), &g, &z, &h, n, a, b);
    assert_eq!(
        f64s(&gh_only),
        f64s(&gh),
        "gh alone differs from gh with gz"
    );
    // The same cell with its local derivatives kept: the same output to the bit, and the VJP
    // from the coefficients against the reference.
    let (mut yc, mut coef) = (vec![T::NAN; rows * n], vec![T::NAN; 3 * rows * n]);
    dense::gated_tanh_coefs(&mut yc, &mut coef, &z, &h, n, a, b);
    assert_eq!(
        f64s(&yc),
        f64s(&y),
        "gated_tanh_coefs output differs from gated_tanh"
    );
    let (mut gzc, mut ghc) = (gz0.clone(), gh0.clone());
    dense::gated_tanh_vjp_coefs(
        Some((&mut gzc[..], Accum::Add)),
        Some((&mut ghc[..], Accum::Add)),
        &g,
        &coef,
        n,
    );
    let what = format!("gated_tanh_vjp_coefs {rows}×{n}");
    assert_close_scaled(&format!("{what} gz"), &gzc, &to_t(&gz_ref), &gz_sc, tol);
    assert_close_scaled(&format!("{what} gh"), &ghc, &to_t(&gh_ref), &gh_sc, tol);
    let (mut gz_only, mut gh_only) = (gz0.clone(), gh0.clone());
    dense::gated_tanh_vjp_coefs(Some((&mut gz_only[..], Accum::Add)), None, &g, &coef, n);
    dense::gated_tanh_vjp_coefs(None, Some((&mut gh_only[..], Accum::Add)), &g, &coef, n);
    assert_eq!(f64s(&gz_only), f64s(&gzc), "coefficient gz alone differs");
    assert_eq!(f64s(&gh_only), f64s(&ghc), "coefficient gh alone differs");
    // Overwriting never reads the old contents (NaN here) and equals adding to zeros.
    let (mut gz_new, mut gh_new) = (vec![T::NAN; gz0.len()], vec![T::NAN; gh0.len()]);
    let (mut gz_zero, mut gh_zero) = (vec![T::ZERO; gz0.len()], vec![T::ZERO; gh0.len()]);
    dense::gated_tanh_vjp_coefs(
        Some((&mut gz_new[..], Accum::Replace)),
        Some((&mut gh_new[..], Accum::Replace)),
        &g,
        &coef,
        n,
    );
    dense::gated_tanh_vjp_coefs(
        Some((&mut gz_zero[..], Accum::Add)),
        Some((&mut gh_zero[..], Accum::Add)),
        &g,
        &coef,
        n,
    );
    assert_eq!(
        f64s(&gz_new),
        f64s(&gz_zero),
        "{what}: replacing gz differs"
    );
    assert_eq!(
        f64s(&gh_new),
        f64s(&gh_zero),
        "{what}: replacing gh differs"
    );
}

#[test]
fn gated_tanh_every_tail() {
    for_each_float!(T => {
        for n in (1..=40).chain([63, 64, 65, 127, 128, 129, 136, 257]) {
            for rows in [1, 3] {
                check_gated_tanh::<T>(rows, n, (n * 10 + rows) as u64);
                check_gated_tanh::<T>(rows, n, (n * 10 + rows + 1) as u64);
            }
        }
    });
}

#[test]
fn gated_tanh_special_values() {
    // ±0, saturation, far tails, ±∞ and NaN in both halves: finite where the maths is.
    let vals = [
        0.0,
        -0.0,
        19.0,
        -19.0,
        25.0,
        44.5,
        -44.5,
        300.0,
        -400.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for_each_float!(T => {
        let n = vals.len();
        let zf: Vec<T> = vals.iter().map(|&v| T::from_f64(v)).collect();
        let mut z = zf.clone();
        z.extend(zf.iter().rev());
        let h = vec![T::from_f64(0.5); n];
        let mut y = vec![T::ZERO; n];
        dense::gated_tanh(&mut y, &z, &h, n, T::ZERO, T::ONE);
        let (mut gz, mut gh) = (vec![T::ZERO; 2 * n], vec![T::ZERO; n]);
        dense::gated_tanh_vjp(Some(&mut gz), Some(&mut gh), &vec![T::ONE; n], &z, &h, n, T::ZERO, T::ONE);
        for j in 0..n {
            let (f, s) = (zf[j].to_f64().tanh(), reference::sigmoid(z[n + j].to_f64()));
            let want = s * (f - 0.5);
            assert!((y[j].to_f64() - want).abs() <= 1e-6, "{} y[{j}] = {:?}, want {want}", T::NAME, y[j].to_f64());
            for v in [gz[j], gz[n + j], gh[j]] {
                assert!(v.is_finite() && v.to_f64().abs() <= 1.0, "{} gradient {j}: {:?}", T::NAME, v.to_f64());
            }
        }
        let mut y = vec![T::ZERO; 1];
        dense::gated_tanh(&mut y, &[T::NAN, T::ZERO], &[T::ZERO], 1, T::ZERO, T::ONE);
        assert!(y[0].is_nan(), "NaN in, NaN out");
    });
}

/// The fused cell's four functions across their whole range, tails included: `tanh` and
/// `tanh′` (through `gz_f` and `y` with `σ(0) = ½`) and `σ`, `σ′` (through `y` and `gz_g` with
/// `tanh(±60) = ±1`), each within a few ulps of the f64 reference relative to its own size
/// where that is normal; beyond the documented clamp `tanh′` may read 0 (true value below
/// 1e-306 in f64, 1e-37 in f32), and subnormal results are within `MIN_POSITIVE`.
#[test]
fn gated_tanh_functions_to_the_ends_of_their_range() {
    for_each_float!(T => {
        let top = if T::NAME == "f64" { 800.0 } else { 110.0 };
        // ±10^-12 … ±top, 600 points per sign, log-spaced, plus 0
        let mut xs = vec![0.0];
        for i in 0..600 {
            let m = 10f64.powf(-12.0 + (12.0 + f64::log10(top)) * i as f64 / 599.0);
            xs.push(m);
            xs.push(-m);
        }
        let n = xs.len();
        let xt: Vec<T> = xs.iter().map(|&v| T::from_f64(v)).collect();
        let xd: Vec<f64> = xt.iter().map(|v| v.to_f64()).collect();
        let (tol, floor_tp) = if T::NAME == "f64" { (eps::<T>(16.0), 1e-306) } else { (eps::<T>(16.0), 1e-37) };
        let tiny = T::MIN_POSITIVE.to_f64();
        let check = |what: &str, x: f64, got: f64, want: f64, floor: f64| {
            let err = (got - want).abs();
            assert!(
                err <= tol * want.abs() || err <= floor,
                "{} {what}({x:e}): got {got:e}, want {want:e}",
                T::NAME
            );
        };
        // tanh and tanh′: z_f = x, z_g = 0 (σ = ½, σ′ = ¼), h = 0, a = 0, b = 2
        let mut z = xt.clone();
        z.extend(std::iter::repeat_n(T::ZERO, n));
        let h = vec![T::ZERO; n];
        let mut y = vec![T::NAN; n];
        dense::gated_tanh(&mut y, &z, &h, n, T::ZERO, T::from_f64(2.0));
        let mut gz = vec![T::ZERO; 2 * n];
        dense::gated_tanh_vjp(Some(&mut gz), None, &vec![T::ONE; n], &z, &h, n, T::ZERO, T::from_f64(2.0));
        // and through the kept coefficients (P = b σ tanh′ = tanh′ here)
        let (mut yc, mut coef) = (vec![T::NAN; n], vec![T::NAN; 3 * n]);
        dense::gated_tanh_coefs(&mut yc, &mut coef, &z, &h, n, T::ZERO, T::from_f64(2.0));
        for j in 0..n {
            let x = xd[j];
            check("tanh", x, y[j].to_f64(), x.tanh(), tiny);
            let tp = reference::unary(dense::Unary::TanhPrime, x);
            let floor = if x.abs() > 354.0 || (T::NAME == "f32" && x.abs() > 43.0) { floor_tp } else { tiny };
            check("tanh′", x, gz[j].to_f64(), tp, floor);
            check("tanh′ (coefficient)", x, coef[j].to_f64(), tp, floor);
        }
        // σ and σ′: z_f = 60 (tanh = 1), z_g = x, h = 0, a = 0, b = 1
        let mut z = vec![T::from_f64(60.0); n];
        z.extend(xt.iter().copied());
        let mut y = vec![T::NAN; n];
        dense::gated_tanh(&mut y, &z, &h, n, T::ZERO, T::ONE);
        let mut gz = vec![T::ZERO; 2 * n];
        dense::gated_tanh_vjp(Some(&mut gz), None, &vec![T::ONE; n], &z, &h, n, T::ZERO, T::ONE);
        // and through the kept coefficients (Q = b (tanh − h) σ′ = σ′, S = −σ here)
        let (mut yc, mut coef) = (vec![T::NAN; n], vec![T::NAN; 3 * n]);
        dense::gated_tanh_coefs(&mut yc, &mut coef, &z, &h, n, T::ZERO, T::ONE);
        for j in 0..n {
            let x = xd[j];
            check("σ", x, y[j].to_f64(), reference::sigmoid(x), tiny);
            assert!(y[j].to_f64() <= 1.0, "{} σ({x:e}) = {:e} > 1", T::NAME, y[j].to_f64());
            let sp = reference::unary(dense::Unary::SigmoidPrime, x);
            check("σ′", x, gz[n + j].to_f64(), sp, tiny);
            check("σ′ (coefficient)", x, coef[n + j].to_f64(), sp, tiny);
            check("σ (coefficient)", x, -coef[2 * n + j].to_f64(), reference::sigmoid(x), tiny);
        }
    });
}
