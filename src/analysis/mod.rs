//! Opening up trained dynamics (SPEC §3.4): fixed and slow points, their stability, continuous
//! attractors, and flow fields of low-dimensional models.
//!
//! A vector field is anything implementing [`Field`]: `f(h)` for a batch of states, written on
//! the tape, so Jacobians and the gradient of the speed come from the tape.

mod field;
mod slow_points;

/// Largest real part of the eigenvalues of a real square matrix (row-major).
pub fn max_real_eigenvalue(m: &[f64], n: usize) -> f64 {
    crate::models::gnode::max_real_eigenvalue(m, n)
}

pub use field::{
    Field, FieldVars, GnodeField, flow_grid, flow_plane, gnode_f64, jacobian, jacobians, relax,
};
pub use slow_points::{
    AttractorSummary, FixedPoint, SlowPointOptions, Stability, angle_coverage, find_slow_points,
    relaxed_slow_points,
};
