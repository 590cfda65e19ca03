//! neurodyn's benchmarks: one criterion entry point over modules (`cargo bench`).
//!
//! Filter with a substring, e.g. `cargo bench -- gemm/f32`. Figures and how to read them are in
//! `docs/benchmarks.md`.

use criterion::criterion_main;

mod dense;
mod solve;
mod tape;
mod workloads;

criterion_main!(
    dense::benches,
    tape::benches,
    solve::benches,
    workloads::benches
);
