//! The peer benchmark (`../shared/peers/bench_gnode.py`): loss + gradient of a gated neural ODE
//! (mGRU vector field) with batch 32, N ∈ {32, 128, 512}, inputs piecewise constant on 20
//! segments of 0.5 over [0, 10], MSE of a linear readout at 50 times; RK4 with 200 steps and
//! Dopri5 (rtol 1e-5, atol 1e-7, jump times at the segment boundaries), f32 and f64.

use criterion::{BenchmarkId, Criterion, criterion_group};
use neurodyn::Float;
use neurodyn::models::gnode::{Gnode, GnodeConfig, GnodeOde};
use neurodyn::solve::{Dynamics, Method, SolveOptions, solve_on_tape};
use neurodyn::tape::Tape;
use rand_distr::{Distribution, StandardNormal};
use std::hint::black_box;
use std::time::Duration;

const B: usize = 32;
const SEG: usize = 20;
const SAVES: usize = 50;

struct Problem<T> {
    model: Gnode<T>,
    x: Vec<T>,
    targets: Vec<T>,
}

fn problem<T: Float>(n: usize) -> Problem<T> {
    let cfg = GnodeConfig {
        hidden: n,
        inputs: 2,
        outputs: 2,
        flow: vec![],
        gate: true,
        tau: 1.0,
        ..Default::default()
    };
    let mut r = neurodyn::rng::seeded(n as u64);
    let mut model = Gnode::<T>::new(cfg, &mut r).unwrap();
    let mut normal = |k: usize, s: f64| -> Vec<T> {
        (0..k)
            .map(|_| {
                T::from_f64(
                    s * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut r),
                )
            })
            .collect()
    };
    let sn = 1.0 / (n as f64).sqrt();
    let fill = [
        ("flow.0.W", 1.2 * sn),
        ("flow.0.U", 1.0),
        ("flow.0.b", 0.1),
        ("gate.W", sn),
        ("gate.U", 0.5),
        ("gate.b", 0.5),
        ("readout.W", sn),
        ("readout.b", 0.1),
        ("h0", 0.5),
    ];
    for (name, s) in fill {
        let id = model.store().id(name).unwrap();
        let len = model.store().info(id).len();
        let v = normal(len, s);
        model.store_mut().get_mut(id).copy_from_slice(&v);
    }
    let x = normal(SEG * B * 2, 1.0);
    let targets = normal(SAVES * B * 2, 1.0);
    Problem { model, x, targets }
}

fn loss_grad<T: Float>(p: &Problem<T>, tape: &mut Tape<T>, opts: &SolveOptions<T>) -> T {
    tape.clear();
    let ode = GnodeOde::new(&p.model, &p.x, B, SEG, T::from_f64(0.5));
    let prm = ode.record(tape);
    let h0 = p.model.initial_state(tape, &prm.vars, None, B);
    let (saved, _, _) = solve_on_tape(
        tape,
        &ode,
        prm.clone(),
        h0,
        T::ZERO,
        T::from_f64(10.0),
        opts,
    )
    .unwrap();
    let st = tape.concat_rows(&saved);
    let y = p.model.readout(tape, &prm.vars, st);
    let t = tape.constant(SAVES * B, 2, &p.targets);
    let d = tape.sub(y, t);
    let s = tape.square(d);
    let l = tape.mean(s);
    tape.backward(l);
    let mut g = p.model.store().zeros_like();
    tape.accumulate_param_grads(&mut g);
    black_box(&g);
    tape.scalar(l)
}

fn options<T: Float>(method: Method) -> SolveOptions<T> {
    let save_at: Vec<T> = (1..=SAVES).map(|k| T::from_f64(0.2 * k as f64)).collect();
    let jumps: Vec<T> = (1..SEG).map(|k| T::from_f64(0.5 * k as f64)).collect();
    match method {
        Method::Rk4 => SolveOptions {
            save_at,
            jump_times: jumps,
            ..SolveOptions::fixed(Method::Rk4, T::from_f64(0.05))
        },
        m => SolveOptions {
            save_at,
            jump_times: jumps,
            h0: Some(T::from_f64(0.05)),
            ..SolveOptions::adaptive(m, T::from_f64(1e-5), T::from_f64(1e-7))
        },
    }
}

fn bench_type<T: Float>(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("gnode_grad/{}", T::NAME));
    for n in [32usize, 128, 512] {
        let p = problem::<T>(n);
        let mut tape = Tape::new();
        for (m, name) in [(Method::Rk4, "rk4_200"), (Method::Dopri5, "dopri5")] {
            let o = options::<T>(m);
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| loss_grad(&p, &mut tape, &o))
            });
        }
    }
    g.finish();
}

fn all(c: &mut Criterion) {
    bench_type::<f32>(c);
    bench_type::<f64>(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = all
}
