//! neurodyn's integration tests: one binary, one module per area.

mod activations;
mod cli;
mod cnf;
mod common;
mod fuzz_replay;
mod gnode;
mod io_formats;
mod kernels;
mod lowrank;
mod plot;
#[cfg(feature = "plot")]
mod plot_gallery;
mod problems;
mod solver_grads;
mod solvers;
mod tape_hand;
mod tape_ops;
