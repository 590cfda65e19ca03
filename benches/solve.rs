//! Solver gradient modes on a gnODE-sized problem: an mGRU vector field
//! `dh/dt = σ(h W_zᵀ + b_z) ∘ (−h + tanh(h Wᵀ + b))`, N = 128, batch 32, RK4 with 2000 steps,
//! loss on 20 saved states. Time per loss+gradient (criterion) and peak memory (printed once).

use criterion::{Criterion, criterion_group};
use neurodyn::solve::{Dynamics, GradMode, Method, SolveOptions, Stage, solve_with_grad};
use neurodyn::tape::{ParamId, ParamStore, Tape, Var};
use rand::RngExt;
use std::hint::black_box;
use std::time::Duration;

const N: usize = 128;
const B: usize = 32;
const STEPS: usize = 2000;
const T1: f32 = 10.0;

struct Mgru {
    store: ParamStore<f32>,
    ids: [ParamId; 4],
    h0: Vec<f32>,
}

impl Mgru {
    fn new() -> Self {
        let mut r = neurodyn::rng::seeded(7);
        let mut g = |n: usize, s: f32| -> Vec<f32> {
            (0..n)
                .map(|_| s * (r.random::<f32>() - 0.5) * 2.0)
                .collect()
        };
        let mut store = ParamStore::new();
        let s = 1.0 / (N as f32).sqrt();
        let w = store.add("W", N, N, &g(N * N, 1.5 * s)).unwrap();
        let b = store.add("b", 1, N, &g(N, 0.1)).unwrap();
        let wz = store.add("Wz", N, N, &g(N * N, s)).unwrap();
        let bz = store.add("bz", 1, N, &g(N, 0.1)).unwrap();
        let h0 = g(B * N, 0.5);
        Self {
            store,
            ids: [w, b, wz, bz],
            h0,
        }
    }
}

impl Dynamics<f32> for Mgru {
    type Params = [Var; 4];
    fn record(&self, tape: &mut Tape<f32>) -> [Var; 4] {
        self.ids.map(|id| tape.param(&self.store, id))
    }
    fn rhs(&self, t: &mut Tape<f32>, p: &[Var; 4], _: Stage<f32>, h: Var) -> Var {
        let a = t.linear(h, p[0], Some(p[1]));
        let f = t.tanh(a);
        let z = t.linear(h, p[2], Some(p[3]));
        let z = t.sigmoid(z);
        let d = t.sub(f, h);
        t.mul(z, d)
    }
}

fn opts() -> SolveOptions<f32> {
    SolveOptions {
        save_at: (1..=20).map(|k| k as f32 * T1 / 20.0).collect(),
        ..SolveOptions::fixed(Method::Rk4, T1 / STEPS as f32)
    }
}

fn run(m: &Mgru, mode: GradMode) -> (f32, usize) {
    let mut g = m.store.zeros_like();
    let o = opts();
    let s = solve_with_grad(
        m,
        |t, _| t.constant(B, N, &m.h0),
        |t, _, _, y| {
            let s = t.square(y);
            t.mean(s)
        },
        0.0,
        T1,
        &o,
        mode,
        &mut g,
    )
    .expect("solve");
    (s.loss, s.stats.peak_values)
}

fn bench_modes(c: &mut Criterion) {
    let m = Mgru::new();
    let mut g = c.benchmark_group("solve_grad/mgru_n128_b32_rk4_2000");
    for (mode, name) in [
        (GradMode::Backprop, "backprop"),
        (GradMode::Checkpointed, "checkpointed"),
        (GradMode::Adjoint, "adjoint"),
    ] {
        let (loss, peak) = run(&m, mode);
        eprintln!(
            "{name}: loss {loss:.6}, peak memory {:.1} MiB ({} f32 scalars)",
            peak as f64 * 4.0 / 1048576.0,
            peak
        );
        g.bench_function(name, |b| b.iter(|| black_box(run(&m, mode))));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(8));
    targets = bench_modes
}
