//! # neurodyn: interpretable neural dynamics
//!
//! Fit dynamical models to time series and neural recordings, then open them up: fixed points,
//! attractors, connectivity, discrete states. Everything stands on one numerical core written
//! here:
//!
//! | layer | what |
//! |---|---|
//! | [`dense`] | SIMD (`wide`) kernels: dot, axpy, gemv, packed GEMM, activations, row reductions |
//! | [`tape`] | reverse-mode autodiff on an arena Wengert list; [`tape::check::gradcheck`] |
//! | [`solve`] | explicit Runge–Kutta solvers (fixed and adaptive) that gradients flow through |
//! | [`io`] | data formats: `.npy`/`.npz`, numeric CSV, UEA `.ts`; atomic writes (stands alone) |
//! | `plot` | figures (lines, flow fields, nullclines, heatmaps, histograms) as SVG and PNG; feature `plot` |
//!
//! Layers only use what lies above them in this table; [`io`] uses none of them. See
//! `docs/architecture.md`.
//!
//! # Example: a gradient, checked
//! ```
//! use neurodyn::tape::{ParamStore, Tape};
//! use neurodyn::tape::check::{gradcheck, GradCheckOptions};
//!
//! let mut store = ParamStore::<f64>::new();
//! let w = store.add("W", 3, 2, &[0.3, -0.1, 0.2, 0.5, -0.4, 0.1])?;
//! let b = store.add("b", 1, 3, &[0.01, 0.02, 0.03])?;
//! let loss = |tape: &mut Tape<f64>, s: &ParamStore<f64>| {
//!     let x = tape.constant(2, 2, &[1.0, 2.0, -1.0, 0.5]);
//!     let (w, b) = (tape.param(s, w), tape.param(s, b));
//!     let h = tape.linear(x, w, Some(b));
//!     let h = tape.silu(h);
//!     let h = tape.square(h);
//!     tape.mean(h)
//! };
//! let report = gradcheck(&store, loss, &GradCheckOptions::default());
//! assert!(report.passed, "{report}");
//! # Ok::<(), neurodyn::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod analysis;
pub mod baselines;
#[cfg(feature = "cli")]
pub mod cli;
pub mod dense;
pub mod error;
pub mod expressivity;
mod float;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod io;
pub mod metrics;
pub mod models;
mod parallel;
#[cfg(feature = "plot")]
pub mod plot;
pub mod rng;
pub mod solve;
pub mod tape;
pub mod tasks;
pub mod train;
pub mod workloads;

pub use error::{ConfigError, Error, Result};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// `docs/formats.md`'s examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/formats.md")]
struct FormatsDoctests;
pub use float::Float;
