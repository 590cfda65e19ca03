//! Tape overhead: recording (and back-propagating) a chain of tiny 1×1 ops; and a small MLP
//! training step.

use criterion::{Criterion, Throughput, criterion_group};
use neurodyn::tape::{ParamStore, Tape};
use std::hint::black_box;
use std::time::Duration;

const CHAIN: usize = 1000;

fn chain(tape: &mut Tape<f64>) -> neurodyn::tape::Var {
    tape.clear();
    let mut x = tape.variable(1, 1, &[0.5]);
    let c = tape.constant(1, 1, &[0.999]);
    for i in 0..CHAIN {
        x = match i % 4 {
            0 => tape.mul(x, c),
            1 => tape.add_scalar(x, 1e-3),
            2 => tape.tanh(x),
            _ => tape.scale(x, 1.01),
        };
    }
    x
}

fn bench_overhead(c: &mut Criterion) {
    let mut g = c.benchmark_group("tape_overhead");
    g.throughput(Throughput::Elements(CHAIN as u64));
    let mut tape = Tape::<f64>::new();
    g.bench_function("record_1x1_op", |b| {
        b.iter(|| black_box(chain(&mut tape)));
    });
    g.bench_function("record_and_backward_1x1_op", |b| {
        b.iter(|| {
            let x = chain(&mut tape);
            tape.backward(x);
            black_box(tape.grad(x)[0]);
        });
    });
    g.finish();
}

fn bench_mlp_step(c: &mut Criterion) {
    let mut store = ParamStore::<f32>::new();
    let w0 = store.add("w0", 128, 16, &vec![0.01; 2048]).unwrap();
    let w1 = store.add("w1", 128, 128, &vec![0.01; 16384]).unwrap();
    let w2 = store.add("w2", 4, 128, &vec![0.01; 512]).unwrap();
    let x = vec![0.5f32; 64 * 16];
    let mut tape = Tape::<f32>::new();
    let mut grads = store.zeros_like();
    c.bench_function("mlp_step/f32_b64_16-128-128-4", |b| {
        b.iter(|| {
            tape.clear();
            let xv = tape.constant(64, 16, &x);
            let (a, bw, cw) = (
                tape.param(&store, w0),
                tape.param(&store, w1),
                tape.param(&store, w2),
            );
            let h = tape.matmul_t(xv, a);
            let h = tape.tanh(h);
            let h = tape.matmul_t(h, bw);
            let h = tape.tanh(h);
            let o = tape.matmul_t(h, cw);
            let l = tape.square(o);
            let l = tape.mean(l);
            tape.backward(l);
            grads.zero();
            tape.accumulate_param_grads(&mut grads);
            black_box(&grads);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    targets = bench_overhead, bench_mlp_step
}
