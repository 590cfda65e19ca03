//! Dense kernels: GEMM against nalgebra in the same run, the machine's FMA peak, gemv, the
//! gnODE gradient's products and cell, and the SIMD activations against scalar `std`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use nalgebra::DMatrix;
use neurodyn::Float;
use neurodyn::dense::simd::Lanes;
use neurodyn::dense::{self, Accum, MatMut, MatRef, Par, Unary};
use rand::RngExt;
use std::hint::black_box;
use std::time::Duration;

fn data<T: Float>(n: usize, seed: u64) -> Vec<T> {
    let mut r = neurodyn::rng::seeded(seed);
    (0..n)
        .map(|_| T::from_f64(r.random::<f64>() - 0.5))
        .collect()
}

use neurodyn::workloads::peak::fma_chains as fma_peak;

fn bench_fma<T: Float>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("fma_peak/{}", T::NAME));
    let iters = 100_000;
    g.throughput(Throughput::Elements((2 * T::Lanes::N * 12 * iters) as u64));
    g.bench_function("1core", |b| {
        b.iter(|| black_box(fma_peak::<T>(black_box(iters))))
    });
    g.finish();
}

macro_rules! bench_gemm {
    ($name:ident, $t:ty) => {
        fn $name(c: &mut Criterion) {
            let mut g = c.benchmark_group(format!("gemm/{}", <$t as Float>::NAME));
            for n in [16usize, 32, 64, 128, 256, 512] {
                let a = data::<$t>(n * n, 1);
                let bm = data::<$t>(n * n, 2);
                let mut cm = vec![0.0 as $t; n * n];
                g.throughput(Throughput::Elements((2 * n * n * n) as u64));
                g.bench_with_input(BenchmarkId::new("neurodyn", n), &n, |b, &n| {
                    b.iter(|| {
                        dense::gemm(
                            MatMut::new(&mut cm, n, n),
                            Accum::Replace,
                            1.0,
                            MatRef::new(&a, n, n),
                            MatRef::new(&bm, n, n),
                            Par::Seq,
                        );
                        black_box(&cm);
                    })
                });
                let na = DMatrix::from_row_slice(n, n, &a);
                let nb = DMatrix::from_row_slice(n, n, &bm);
                let mut nc = DMatrix::<$t>::zeros(n, n);
                g.bench_with_input(BenchmarkId::new("nalgebra", n), &n, |b, _| {
                    b.iter(|| {
                        nc.gemm(1.0, &na, &nb, 0.0);
                        black_box(&nc);
                    })
                });
            }
            g.finish();
        }
    };
}
bench_gemm!(bench_gemm_f32, f32);
bench_gemm!(bench_gemm_f64, f64);

fn bench_gemv<T: Float>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("gemv/{}", T::NAME));
    for n in [64usize, 256, 1024] {
        let a = data::<T>(n * n, 3);
        let x = data::<T>(n, 4);
        let mut y = vec![T::ZERO; n];
        g.throughput(Throughput::Elements((2 * n * n) as u64));
        g.bench_with_input(BenchmarkId::new("gemv", n), &n, |b, &n| {
            b.iter(|| {
                dense::gemv(&mut y, Accum::Replace, T::ONE, &a, n, n, &x, Par::Seq);
                black_box(&y);
            })
        });
        g.bench_with_input(BenchmarkId::new("gemv_t", n), &n, |b, &n| {
            b.iter(|| {
                dense::gemv_t(&mut y, Accum::Replace, T::ONE, &a, n, n, &x, Par::Seq);
                black_box(&y);
            })
        });
    }
    g.finish();
}

fn bench_activations<T: Float>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("activations/{}", T::NAME));
    let n = 4096;
    let x: Vec<T> = data::<T>(n, 5)
        .iter()
        .map(|&v| v * T::from_f64(8.0))
        .collect();
    let mut y = vec![T::ZERO; n];
    g.throughput(Throughput::Elements(n as u64));
    for (f, name) in [
        (Unary::Exp, "exp"),
        (Unary::Tanh, "tanh"),
        (Unary::Sigmoid, "sigmoid"),
        (Unary::Softplus, "softplus"),
    ] {
        g.bench_function(BenchmarkId::new("simd", name), |b| {
            b.iter(|| {
                dense::map(&mut y, &x, f);
                black_box(&y);
            })
        });
        g.bench_function(BenchmarkId::new("std", name), |b| {
            b.iter(|| {
                for (o, &v) in y.iter_mut().zip(&x) {
                    *o = dense::reference::unary(f, v);
                }
                black_box(&y);
            })
        });
    }
    g.finish();
}

/// The products of a gnODE gradient at N = 128, batch 32 (the stacked mGRU cell, `2N × N`):
/// the stage product `h Wᵀ` with `Wᵀ` read in place (row-major) and packed once
/// ([`dense::PackedRhs`]), the input gradient `g W` likewise, and the weight gradient summed over
/// 16 stages `Σ gᵀ h` (`gemm_segments`, 256 rows: each block's `B` copied in panels); the fused
/// cell forward, with its kept derivatives, and their VJP. Throughput in multiply–adds × 2
/// (GEMMs) or elements (cell).
fn bench_gnode_shapes<T: Float>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("gnode_shapes/{}", T::NAME));
    let (b, n) = (32usize, 128usize);
    let h = data::<T>(b * n, 11);
    let w = data::<T>(2 * n * n, 12);
    let gz = data::<T>(b * 2 * n, 13);
    let mut wt = vec![T::ZERO; n * 2 * n];
    for i in 0..2 * n {
        for j in 0..n {
            wt[j * 2 * n + i] = w[i * n + j];
        }
    }
    let (mut pwt, mut pw) = (dense::PackedRhs::new(), dense::PackedRhs::new());
    pwt.pack(MatRef::new(&w, 2 * n, n).t());
    pw.pack(MatRef::new(&w, 2 * n, n));
    let mut z = vec![T::ZERO; b * 2 * n];
    let mut dh = vec![T::ZERO; b * n];
    g.throughput(Throughput::Elements((2 * b * n * 2 * n) as u64));
    g.bench_function("stage_product/in_place", |bn| {
        bn.iter(|| {
            let (a, bm) = (MatRef::new(&h, b, n), MatRef::new(&wt, n, 2 * n));
            dense::gemm(
                MatMut::new(&mut z, b, 2 * n),
                Accum::Replace,
                T::ONE,
                a,
                bm,
                Par::Seq,
            );
            black_box(&z);
        })
    });
    g.bench_function("stage_product/prepacked", |bn| {
        bn.iter(|| {
            let (dst, a) = (MatMut::new(&mut z, b, 2 * n), MatRef::new(&h, b, n));
            dense::gemm_prepacked(dst, Accum::Replace, T::ONE, a, &pwt, Par::Seq);
            black_box(&z);
        })
    });
    g.bench_function("input_grad/in_place", |bn| {
        bn.iter(|| {
            let (a, bm) = (MatRef::new(&gz, b, 2 * n), MatRef::new(&w, 2 * n, n));
            dense::gemm(
                MatMut::new(&mut dh, b, n),
                Accum::Add,
                T::ONE,
                a,
                bm,
                Par::Seq,
            );
            black_box(&dh);
        })
    });
    g.bench_function("input_grad/prepacked", |bn| {
        bn.iter(|| {
            let (dst, a) = (MatMut::new(&mut dh, b, n), MatRef::new(&gz, b, 2 * n));
            dense::gemm_prepacked(dst, Accum::Add, T::ONE, a, &pw, Par::Seq);
            black_box(&dh);
        })
    });
    let stages = 16;
    let gs: Vec<Vec<T>> = (0..stages).map(|s| data::<T>(b * 2 * n, 20 + s)).collect();
    let hs: Vec<Vec<T>> = (0..stages).map(|s| data::<T>(b * n, 40 + s)).collect();
    let segs: Vec<(MatRef<T>, MatRef<T>)> = gs
        .iter()
        .zip(&hs)
        .map(|(gv, hv)| (MatRef::new(gv, b, 2 * n).t(), MatRef::new(hv, b, n)))
        .collect();
    let mut dw = vec![T::ZERO; 2 * n * n];
    g.throughput(Throughput::Elements(
        (2 * b * n * 2 * n * stages as usize) as u64,
    ));
    g.bench_function("weight_grad_16_stages", |bn| {
        bn.iter(|| {
            let dst = MatMut::new(&mut dw, 2 * n, n);
            dense::gemm_segments(dst, Accum::Add, T::ONE, &segs[..], Par::Seq);
            black_box(&dw);
        })
    });
    let zc: Vec<T> = data::<T>(b * 2 * n, 60)
        .iter()
        .map(|&v| v * T::from_f64(6.0))
        .collect();
    let (mut y, mut coef) = (vec![T::ZERO; b * n], vec![T::ZERO; 3 * b * n]);
    let (mut gzc, mut ghc) = (vec![T::ZERO; b * 2 * n], vec![T::ZERO; b * n]);
    let (a, bb) = (T::ONE, T::from_f64(0.05));
    g.throughput(Throughput::Elements((b * n) as u64));
    g.bench_function("cell/forward", |bn| {
        bn.iter(|| {
            dense::gated_tanh(&mut y, &zc, &h, n, a, bb);
            black_box(&y);
        })
    });
    g.bench_function("cell/forward_keeping_derivatives", |bn| {
        bn.iter(|| {
            dense::gated_tanh_coefs(&mut y, &mut coef, &zc, &h, n, a, bb);
            black_box(&y);
        })
    });
    g.bench_function("cell/vjp_recomputing", |bn| {
        bn.iter(|| {
            dense::gated_tanh_vjp(Some(&mut gzc), Some(&mut ghc), &h, &zc, &h, n, a, bb);
            black_box(&gzc);
        })
    });
    g.bench_function("cell/vjp_from_kept_derivatives", |bn| {
        bn.iter(|| {
            dense::gated_tanh_vjp_coefs(
                Some((&mut gzc[..], Accum::Add)),
                Some((&mut ghc[..], Accum::Add)),
                &h,
                &coef,
                n,
            );
            black_box(&gzc);
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}

fn all(c: &mut Criterion) {
    bench_fma::<f32>(c);
    bench_fma::<f64>(c);
    bench_gemm_f32(c);
    bench_gemm_f64(c);
    bench_gemv::<f32>(c);
    bench_gemv::<f64>(c);
    bench_gnode_shapes::<f32>(c);
    bench_gnode_shapes::<f64>(c);
    bench_activations::<f32>(c);
    bench_activations::<f64>(c);
}

criterion_group! {
    name = benches;
    config = config();
    targets = all
}
