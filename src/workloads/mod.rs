//! Benchmark workloads: the hot paths of every model, defined once and timed both by the
//! criterion benches (`cargo bench`) and by `neurodyn bench` (so users can compare machines).
//!
//! A [`Workload`] owns its data, tapes and gradient buffers; [`Workload::run`] performs one unit
//! of work (a loss and its gradient, a simulation …) without allocating once warm, and reports
//! what it did. [`measure`] times a workload as the median of repeated runs after a warm-up.
//!
//! ```
//! use neurodyn::workloads::{Workload, measure, gnode::{GnodeGrad, GnodeGradSpec}};
//! let spec = GnodeGradSpec { n: 16, batch: 4, ..GnodeGradSpec::default() };
//! let mut w = GnodeGrad::<f32>::new(&spec)?;
//! let t = measure(&mut w, 0.0, 2)?;
//! assert!(t.median > 0.0 && t.output.loss.is_finite());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod gnode;
pub mod peak;
mod suites;
mod timing;

pub use suites::{Entry, SUITES, suite};
pub use timing::{Timing, measure};

/// What one run of a workload did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOutput {
    /// The loss (or another scalar the run computed), to check two implementations agree.
    pub loss: f64,
    /// Solver steps taken (accepted), summed over shards' first solve, if there is a solver.
    pub steps: usize,
    /// Right-hand-side evaluations, if there is a solver.
    pub rhs_evals: usize,
    /// Peak number of scalars held on tapes and checkpoint buffers (all shards).
    pub peak_values: usize,
}

/// A unit of work to time.
pub trait Workload {
    /// A stable name: `family/dtype/variant/size`.
    fn name(&self) -> String;
    /// Floating-point operations of one run, where they can be counted (see each workload).
    fn flops(&self) -> Option<f64> {
        None
    }
    /// Bytes per scalar (4 for f32, 8 for f64), to turn `peak_values` into bytes.
    fn scalar_bytes(&self) -> usize;
    /// Performs one run.
    ///
    /// # Errors
    /// When the computation fails (a solver error); the message says why.
    fn run(&mut self) -> Result<RunOutput, WorkloadError>;
}

/// A workload could not be built or run.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadError(pub String);

impl std::fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WorkloadError {}

impl From<crate::solve::SolveError> for WorkloadError {
    fn from(e: crate::solve::SolveError) -> Self {
        Self(e.to_string())
    }
}

impl From<crate::ConfigError> for WorkloadError {
    fn from(e: crate::ConfigError) -> Self {
        Self(e.to_string())
    }
}
