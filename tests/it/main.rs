//! neurodyn's integration tests: one binary, one module per area.

mod activations;
mod common;
mod fuzz_replay;
mod kernels;
mod plot;
mod problems;
mod solver_grads;
mod solvers;
mod tape_hand;
mod tape_ops;
