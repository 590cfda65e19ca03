//! The gnODE workloads of `neurodyn::workloads` (the JAX peer's problem, every gradient mode,
//! and the scaling sweeps), timed by criterion. `neurodyn bench` runs the same workloads from
//! the command line; see `docs/benchmarks.md`.

use criterion::{Criterion, criterion_group};
use neurodyn::workloads::suite;
use std::time::Duration;

fn all(c: &mut Criterion) {
    for s in ["peer", "scaling"] {
        let mut g = c.benchmark_group(s);
        for e in suite(s).expect("known suite") {
            if e.name.starts_with("fma_peak") {
                continue; // in the dense benches
            }
            let mut w = e.build().expect("workload");
            let out = w.run().expect("run");
            eprintln!(
                "{}: loss {:.9e}, {} steps, {} RHS evaluations, peak memory {:.1} MiB",
                e.name,
                out.loss,
                out.steps,
                out.rhs_evals,
                (out.peak_values * w.scalar_bytes()) as f64 / 1048576.0
            );
            g.bench_function(&e.name, |b| b.iter(|| w.run().expect("run")));
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = all
}
