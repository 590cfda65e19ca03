//! neurodyn's integration tests: one binary, one module per area.

mod activations;
mod cli;
mod cnf;
mod common;
mod fuzz_replay;
mod gdm_baselines;
mod gdm_concrete;
mod gdm_model;
mod gnode;
mod io_formats;
mod kernels;
mod kill;
mod lowrank;
mod plot;
#[cfg(feature = "plot")]
mod plot_gallery;
mod problems;
mod solver_grads;
mod solvers;
mod sweep;
mod tape_hand;
mod tape_ops;
mod workloads;
