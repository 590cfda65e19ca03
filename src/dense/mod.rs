//! Dense kernels: SIMD (`wide`) vector, matrix–vector and matrix–matrix kernels on slices.
//!
//! Conventions (after faer): the destination comes first, then [`Accum`] (replace or add), then
//! the operands, then [`Par`]. Matrices are row-major slices or strided [`MatRef`] views; no
//! kernel allocates once its thread's scratch buffers are warm. [`reference`](mod@reference)
//! holds the scalar oracles every kernel is property-tested against.
//!
//! ```
//! use neurodyn::dense::{dot, map, Unary};
//! let x = [0.5_f32; 19];
//! let mut y = [0.0_f32; 19];
//! map(&mut y, &x, Unary::Sigmoid);
//! assert!((dot(&y, &x) - 19.0 * 0.5 * 0.622_459_3).abs() < 1e-5);
//! ```

mod blas1;
mod elementwise;
mod fused;
mod gemm;
mod gemv;
pub(crate) mod math;
mod matrix;
mod prepacked;
pub mod reference;
pub mod simd;

pub use blas1::{
    add_scaled, axpy, col_sums_acc, dot, max, row_logsumexp, row_softmax, row_sums, scal, sum,
};
pub use elementwise::{Unary, accumulate_vjp, map, map_inplace};
pub(crate) use elementwise::{
    map_with, update_with, update2_with, update3_with, update4_with, zip_with,
};
pub use fused::{gated_tanh, gated_tanh_coefs, gated_tanh_vjp, gated_tanh_vjp_coefs, gated_vjp};
pub use gemm::{Segments, gemm, gemm_segments};
pub use gemv::{gemv, gemv_t, ger};
pub use matrix::{Accum, MatMut, MatRef, Par};
pub use prepacked::{PackedRhs, gemm_prepacked};
