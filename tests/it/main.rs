//! neurodyn's integration tests: one binary, one module per area.

mod activations;
mod common;
