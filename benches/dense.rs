//! Dense kernels: GEMM against nalgebra in the same run, the machine's FMA peak, gemv, and the
//! SIMD activations against scalar `std`.

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
    bench_activations::<f32>(c);
    bench_activations::<f64>(c);
}

criterion_group! {
    name = benches;
    config = config();
    targets = all
}
