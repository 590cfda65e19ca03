//! neurodyn's integration tests: one binary, one module per area.

mod activations;
mod common;
mod kernels;
mod tape_ops;
mod tape_hand;
