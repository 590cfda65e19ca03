//! ODE solvers that gradients flow through.
//!
//! One explicit Runge–Kutta engine ([`tableau`] holds the methods as data) integrates any
//! [`Dynamics`] written once against the [`Tape`]: the same `rhs` runs
//!
//! * without gradients ([`solve`]): on a scratch tape that is rewound after every step, so memory
//!   stays constant;
//! * with gradients ([`solve_with_grad`]) in one of three [`GradMode`]s: backprop through the
//!   solver, checkpointed backprop, or the continuous adjoint.
//!
//! Adaptive methods use an RMS error norm with `rtol`/`atol`, a step-size controller of the PI
//! family ([`Controller`]: integral by default, Hairer's PI as an option; safety 0.9, step factor
//! in [0.2, 10]) and Hairer's initial step; they stop exactly at
//! `jump_times` (where piecewise-constant inputs change) and interpolate saved points with each
//! method's dense output. See `docs/solvers.md` for the maths.
//!
//! # Example: the harmonic oscillator
//! ```
//! use neurodyn::solve::{solve, Dynamics, Method, SolveOptions, Stage};
//! use neurodyn::tape::{Tape, Var};
//!
//! /// y = (x, v):  x' = v,  v' = −x
//! struct Oscillator;
//! impl Dynamics<f64> for Oscillator {
//!     type Params = ();
//!     fn record(&self, _: &mut Tape<f64>) {}
//!     fn rhs(&self, tape: &mut Tape<f64>, _: &(), _: Stage<f64>, y: Var) -> Var {
//!         let x = tape.slice_cols(y, 0, 1);
//!         let v = tape.slice_cols(y, 1, 1);
//!         let mx = tape.neg(x);
//!         tape.concat_cols(&[v, mx])
//!     }
//! }
//! let opts = SolveOptions { method: Method::Dopri5, rtol: 1e-10, atol: 1e-10, ..Default::default() };
//! let sol = solve(&Oscillator, 1, &[1.0, 0.0], 0.0, std::f64::consts::PI, &opts)?;
//! assert!((sol.y_final[0] + 1.0).abs() < 1e-8);
//! # Ok::<(), neurodyn::solve::SolveError>(())
//! ```

mod adjoint;
mod backprop;
mod checkpoint;
mod controller;
mod engine;
mod interp;
mod mode_choice;
mod options;
pub mod tableau;

pub use backprop::solve_on_tape;
pub use controller::Controller;
pub use mode_choice::{MIN_MULTIPLY_ADDS_PER_VALUE, backprop_tape_bytes, fastest_grad_mode};
pub use options::{GradMode, Method, SolveOptions};

use crate::Float;
use crate::error::ConfigError;
use crate::tape::{Grads, Tape, Var};
use std::fmt;

/// Where a right-hand side is evaluated: the stage time and the step it belongs to.
///
/// Piecewise-constant inputs must be looked up from the step (`step_start`, `step_end`), not
/// from `t`: every stage of a step uses the input of the interval the step lies in, including a
/// stage at the step's right end (SPEC §7). The solver stops at every jump, so a step never
/// straddles one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage<T> {
    /// Stage time `t + c_i h`.
    pub t: T,
    /// Start of the step.
    pub step_start: T,
    /// End of the step.
    pub step_end: T,
}

impl<T: Float> Stage<T> {
    /// Midpoint of the step: a time strictly inside the step's input interval.
    pub fn step_mid(&self) -> T {
        (self.step_start + self.step_end) * T::from_f64(0.5)
    }
}

/// A vector field `dy/dt = f(t, y; θ)`, written once against the tape and used with and without
/// gradient recording.
///
/// The state is a `rows × cols` node (a batch of states as rows).
pub trait Dynamics<T: Float> {
    /// The parameters as recorded on a tape (a struct of [`Var`]s, or `()`).
    type Params: Clone;
    /// Records the parameters on `tape` (once per tape; the solver calls it for each fresh
    /// tape it uses).
    fn record(&self, tape: &mut Tape<T>) -> Self::Params;
    /// Records `f(t, y)`; the result has the shape of `y`.
    fn rhs(&self, tape: &mut Tape<T>, p: &Self::Params, at: Stage<T>, y: Var) -> Var;

    /// Records `f(t, Σ_i c_i y_i)`: the right-hand side at a linear combination of states
    /// (`terms`, as for [`Tape::lin_comb`]), which is how a Runge–Kutta stage reaches it
    /// (`y + h Σ_j a_ij k_j`). The default records the combination and calls [`Dynamics::rhs`];
    /// a vector field that can take the combination into its first op (the gnODE's mGRU
    /// cell, [`Tape::gated_tanh_cell_comb`]) overrides it to keep the stage state off the tape.
    /// An override must give the values and gradients of the default, bit for bit.
    ///
    /// # Example
    /// ```
    /// use neurodyn::solve::{Dynamics, Stage};
    /// use neurodyn::tape::{Tape, Var};
    /// struct Decay;
    /// impl Dynamics<f64> for Decay {
    ///     type Params = ();
    ///     fn record(&self, _: &mut Tape<f64>) {}
    ///     fn rhs(&self, tape: &mut Tape<f64>, _: &(), _: Stage<f64>, y: Var) -> Var {
    ///         tape.neg(y)
    ///     }
    /// }
    /// let mut t = Tape::new();
    /// let (y, k) = (t.constant(1, 2, &[1.0, 2.0]), t.constant(1, 2, &[-4.0, 2.0]));
    /// let at = Stage { t: 0.5, step_start: 0.0, step_end: 1.0 };
    /// let f = Decay.rhs_comb(&mut t, &(), at, &[(y, 1.0), (k, 0.5)]);
    /// assert_eq!(t.value(f), &[1.0, -3.0]); // −(y + k/2)
    /// ```
    fn rhs_comb(
        &self,
        tape: &mut Tape<T>,
        p: &Self::Params,
        at: Stage<T>,
        terms: &[(Var, T)],
    ) -> Var {
        let y = tape.lin_comb(terms);
        self.rhs(tape, p, at, y)
    }
}

/// Counters of a solve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SolveStats {
    /// Accepted steps.
    pub steps: usize,
    /// Rejected step attempts.
    pub rejected: usize,
    /// Right-hand-side evaluations (forward problem; for the adjoint, of the backward system
    /// too).
    pub rhs_evals: usize,
    /// Peak number of scalars held on tapes and in checkpoint buffers: the memory a gradient
    /// mode needs.
    pub peak_values: usize,
    /// Number of full states stored as checkpoints.
    pub checkpoints: usize,
}

impl SolveStats {
    /// Accepted plus rejected steps.
    pub fn attempts(&self) -> usize {
        self.steps + self.rejected
    }
}

/// Why a solve stopped early. Never a panic, never a hang.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SolveError {
    /// `max_steps` step attempts were made before reaching the end (stiff or mis-scaled
    /// problem); `t` is where the solver got to.
    MaxSteps {
        /// Time reached.
        t: f64,
    },
    /// The step size fell below the minimum at `t` (a singularity or extreme stiffness).
    StepSizeTooSmall {
        /// Time reached.
        t: f64,
    },
    /// The state or the right-hand side became NaN or infinite at `t`.
    NonFinite {
        /// Time reached.
        t: f64,
    },
    /// The options are inconsistent or out of range.
    Invalid(ConfigError),
}

impl fmt::Display for SolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SolveError::MaxSteps { t } => write!(
                f,
                "the solver reached max_steps at t = {t} (stiff or badly scaled problem? \
                 raise max_steps or loosen rtol/atol)"
            ),
            SolveError::StepSizeTooSmall { t } => {
                write!(f, "the step size fell below the minimum at t = {t}")
            }
            SolveError::NonFinite { t } => {
                write!(f, "the state became NaN or infinite at t = {t}")
            }
            SolveError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SolveError {}

impl From<ConfigError> for SolveError {
    fn from(e: ConfigError) -> Self {
        SolveError::Invalid(e)
    }
}

/// The result of [`solve`].
#[derive(Clone, Debug, PartialEq)]
pub struct Solution<T> {
    /// The save times (`opts.save_at`).
    pub ts: Vec<T>,
    /// The states at the save times, flat (`ts.len() × rows × cols`).
    pub ys: Vec<T>,
    /// The state at `t1`.
    pub y_final: Vec<T>,
    /// Shape of one state.
    pub rows: usize,
    /// Shape of one state.
    pub cols: usize,
    /// Counters.
    pub stats: SolveStats,
}

impl<T: Float> Solution<T> {
    /// The state saved at `ts[j]`.
    pub fn y(&self, j: usize) -> &[T] {
        let n = self.rows * self.cols;
        &self.ys[j * n..(j + 1) * n]
    }
}

/// Integrates `dy/dt = f(t, y)` from `t0` to `t1` (either direction) without gradients, from
/// `y0` (`rows × cols`, row-major), saving at `opts.save_at`.
///
/// # Errors
/// Invalid options, [`SolveError::MaxSteps`], [`SolveError::StepSizeTooSmall`],
/// [`SolveError::NonFinite`].
pub fn solve<T: Float, D: Dynamics<T>>(
    dynamics: &D,
    rows: usize,
    y0: &[T],
    t0: T,
    t1: T,
    opts: &SolveOptions<T>,
) -> Result<Solution<T>, SolveError> {
    backprop::solve_values(dynamics, rows, y0, t0, t1, opts)
}

/// The result of [`solve_with_grad`].
#[derive(Clone, Debug, PartialEq)]
pub struct GradSolution<T> {
    /// The loss `Σ_j ℓ_j(y(t_j))`.
    pub loss: T,
    /// `∂loss/∂y0` (the initial state as returned by `init`).
    pub dy0: Vec<T>,
    /// Counters (for the adjoint: forward and backward solves together).
    pub stats: SolveStats,
}

/// Integrates from `t0` to `t1` and differentiates `loss = Σ_j ℓ_j(y(t_j))` over the save
/// times `opts.save_at` with respect to the parameters (added into `grads`) and the initial
/// state.
///
/// * `init(tape, p)` records the initial state (it may depend on parameters);
/// * `loss(tape, p, j, y_j)` records the `1 × 1` term of save point `j`.
///
/// # Errors
/// As [`solve`].
#[allow(clippy::too_many_arguments)]
pub fn solve_with_grad<T, D, I, L>(
    dynamics: &D,
    init: I,
    loss: L,
    t0: T,
    t1: T,
    opts: &SolveOptions<T>,
    mode: GradMode,
    grads: &mut Grads<T>,
) -> Result<GradSolution<T>, SolveError>
where
    T: Float,
    D: Dynamics<T>,
    I: Fn(&mut Tape<T>, &D::Params) -> Var,
    L: FnMut(&mut Tape<T>, &D::Params, usize, Var) -> Var,
{
    opts.validate(t0, t1)?;
    match mode {
        GradMode::Backprop => backprop::gradient(dynamics, init, loss, t0, t1, opts, grads),
        GradMode::Checkpointed => checkpoint::gradient(dynamics, init, loss, t0, t1, opts, grads),
        GradMode::Adjoint => adjoint::gradient(dynamics, init, loss, t0, t1, opts, grads),
    }
}
