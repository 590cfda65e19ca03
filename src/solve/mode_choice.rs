//! Choosing a gradient mode from the memory that backprop would take.
//!
//! Backprop records every stage of every step: it does the least arithmetic of the three modes
//! (one forward pass, against two for checkpointed backprop) but holds the whole tape. For a
//! fixed-step solve that tape can be estimated before the solve from one recorded right-hand
//! side:
//!
//! ```text
//! values ≈ v_params + v_init + n_steps · (v_rhs + (s − 1) · v_stage + n_state)
//! bytes  ≈ values · size_of::<T>()
//! ```
//!
//! for an `s`-stage method: the first stage records the right-hand side at the step's state
//! (`v_rhs` values), each later one at a combination of states ([`Dynamics::rhs_comb`]:
//! `v_stage` values, the stage state included unless the vector field keeps it off the tape),
//! and the step ends with the new state (FSAL methods: the last stage's state is the new
//! state, and the first stage is the previous step's last). The loss terms at the save points
//! are not counted, nor the gradient buffers: the backward pass recycles them as it goes (a few
//! stages' worth are alive at once), so the values dominate.
//!
//! Which mode is faster depends on the arithmetic behind each stored value. Checkpointed
//! backprop pays a second forward pass (for a dense vector field, a quarter of the gradient's
//! products), but its segments' tapes stay in cache; backprop writes every value to memory
//! that is fresh in a one-shot process (the kernel zeroes each page first) and reads it back
//! from DRAM. So backprop wins when each value carries many multiply–adds: for the gnODE mGRU
//! cell a value carries about `N/2` of them (`2BN²` per stage against about `4BN` values: the
//! cell's output and three local derivatives per state element; the stage state is not
//! stored). Measured on `neurodyn grad` (f64, B = 32, RK4 200 steps, an AMD EPYC of the Zen 4
//! class, one core; `docs/benchmarks.md`): at N = 32 (≈ 15 per value) checkpointed took
//! 24.2 ms and backprop 24.8; at N = 128 (≈ 60) backprop (its tape on huge pages) took
//! 155.5 ms against 186.7 (medians of 30 and 20 alternating runs). [`fastest_grad_mode`] puts
//! the line at [`MIN_MULTIPLY_ADDS_PER_VALUE`] = 32.

use super::engine::{fixed_steps_to, stops};
use super::{Dynamics, GradMode, Method, SolveError, SolveOptions, Stage};
use crate::Float;
use crate::tape::{Tape, Var};

/// The bytes of tape values that [`GradMode::Backprop`] would hold for this
/// solve (see the module's formula), from one right-hand side recorded on a scratch tape;
/// `None` for adaptive steps, whose number is not known before the solve (and for an empty
/// span, `t0 = t1`).
///
/// # Errors
/// Invalid options (as [`super::solve`]).
///
/// # Example
/// ```
/// use neurodyn::solve::{backprop_tape_bytes, Dynamics, Method, SolveOptions, Stage};
/// use neurodyn::tape::{Tape, Var};
///
/// /// dy/dt = −y
/// struct Decay;
/// impl Dynamics<f64> for Decay {
///     type Params = ();
///     fn record(&self, _: &mut Tape<f64>) {}
///     fn rhs(&self, tape: &mut Tape<f64>, _: &(), _: Stage<f64>, y: Var) -> Var {
///         tape.neg(y)
///     }
/// }
/// let init = |t: &mut Tape<f64>, _: &()| t.constant(4, 8, &[1.0; 32]);
/// let rk4 = SolveOptions::fixed(Method::Rk4, 0.01);
/// // 100 steps, each recording −y at 4 stages (32 values each), the states of the 3 later
/// // stages and the new state (32 each)
/// let bytes = backprop_tape_bytes(&Decay, init, 0.0, 1.0, &rk4)?.unwrap();
/// assert!(bytes >= 8 * 100 * 4 * 64);
/// let dopri = SolveOptions::adaptive(Method::Dopri5, 1e-6, 1e-9);
/// assert_eq!(backprop_tape_bytes(&Decay, init, 0.0, 1.0, &dopri)?, None);
/// # Ok::<(), neurodyn::solve::SolveError>(())
/// ```
pub fn backprop_tape_bytes<T, D, I>(
    dynamics: &D,
    init: I,
    t0: T,
    t1: T,
    opts: &SolveOptions<T>,
) -> Result<Option<usize>, SolveError>
where
    T: Float,
    D: Dynamics<T>,
    I: Fn(&mut Tape<T>, &D::Params) -> Var,
{
    Ok(probe(dynamics, init, t0, t1, opts)?.map(|(_, bytes)| bytes))
}

/// The [`StepCost`] of a fixed-step solve and the bytes of its whole backprop tape (the
/// parameters and initial state, then `steps` steps), from a scratch tape; `None` for adaptive
/// steps and an empty span.
fn probe<T, D, I>(
    dynamics: &D,
    init: I,
    t0: T,
    t1: T,
    opts: &SolveOptions<T>,
) -> Result<Option<(StepCost, usize)>, SolveError>
where
    T: Float,
    D: Dynamics<T>,
    I: Fn(&mut Tape<T>, &D::Params) -> Var,
{
    opts.validate(t0, t1)?;
    let mut tape = Tape::new();
    let p = dynamics.record(&mut tape);
    let y0 = init(&mut tape, &p);
    Ok(
        step_cost(&mut tape, dynamics, &p, y0, t0, t1, opts).map(|c| {
            let values = c.steps.saturating_mul(c.values);
            let bytes = values
                .saturating_add(tape.num_values())
                .saturating_mul(std::mem::size_of::<T>());
            (c, bytes)
        }),
    )
}

/// What a fixed-step solve records per step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StepCost {
    /// Steps of the solve (at most `max_steps`, where a longer one stops).
    pub(crate) steps: usize,
    /// Tape values one step records.
    pub(crate) values: usize,
    /// Multiply–adds of the products one step records.
    pub(crate) macs: u64,
}

/// The [`StepCost`] of a fixed-step solve from `y0` recorded on `tape` (see the module's
/// formula), from [`recorded_per_step`]; `None` for adaptive steps and an empty span.
pub(crate) fn step_cost<T: Float, D: Dynamics<T>>(
    tape: &mut Tape<T>,
    dynamics: &D,
    p: &D::Params,
    y0: Var,
    t0: T,
    t1: T,
    opts: &SolveOptions<T>,
) -> Option<StepCost> {
    if !opts.is_fixed() || t0 == t1 {
        return None;
    }
    let stop_list = stops(opts, t0, t1);
    let mut t = t0;
    let mut steps = 0usize;
    for &(stop, _) in &stop_list {
        steps = steps.saturating_add(fixed_steps_to(opts, t, stop));
        t = stop;
    }
    // A solve of more steps stops with `MaxSteps` after recording this many.
    let steps = steps.min(opts.max_steps);
    let at = Stage {
        t: t0,
        step_start: t0,
        step_end: stop_list[0].0,
    };
    let (values, macs) = recorded_per_step(tape, dynamics, p, y0, at, opts.method);
    Some(StepCost {
        steps,
        values,
        macs,
    })
}

/// What one accepted step of `method` records on a tape with gradients on (values, and
/// multiply–adds of products), from one right-hand side at `y0` and one at a combination of
/// states (both at stage `at`), recorded at the end of `tape` and rewound:
/// `v_rhs + (s − 1) · v_stage + n_state` (FSAL: `(s − 2) · v_stage + v_rhs + n_state`).
/// Recorded as for a backward pass: some ops keep more for it when gradients are on. An
/// adaptive step's error estimate is not counted.
pub(crate) fn recorded_per_step<T: Float, D: Dynamics<T>>(
    tape: &mut Tape<T>,
    dynamics: &D,
    p: &D::Params,
    y0: Var,
    at: Stage<T>,
    method: Method,
) -> (usize, u64) {
    let grad_was = tape.grad_enabled;
    tape.set_grad_enabled(true);
    let (mark, values_before, macs_before) = (tape.mark(), tape.num_values(), tape.multiply_adds());
    dynamics.rhs(tape, p, at, y0);
    let v_rhs = tape.num_values() - values_before;
    let macs_rhs = tape.multiply_adds() - macs_before;
    tape.rewind(mark);
    // A later stage: the right-hand side at a combination (which it may keep off the tape).
    let half = T::from_f64(0.5);
    dynamics.rhs_comb(tape, p, at, &[(y0, T::ONE), (y0, half)]);
    let v_comb = tape.num_values() - values_before;
    tape.rewind(mark);
    tape.set_grad_enabled(grad_was);
    let n_state = tape.value(y0).len();
    let tab = method.tableau();
    let s = tab.stages();
    // FSAL: the first stage is the previous step's last, and the last stage's state is the
    // new state; else the step ends with the new state's own combination.
    let (evals, values) = if tab.fsal && s > 1 {
        let v = (s - 2).saturating_mul(v_comb);
        (s - 1, v.saturating_add(n_state + v_rhs))
    } else {
        let v = (s - 1).saturating_mul(v_comb);
        (s, v.saturating_add(v_rhs + n_state))
    };
    (values, macs_rhs.saturating_mul(evals as u64))
}

/// Multiply–adds per recorded tape value below which recomputing a segment (checkpointed
/// backprop) is cheaper than writing the value to fresh memory and reading it back (backprop):
/// see the module docs.
pub const MIN_MULTIPLY_ADDS_PER_VALUE: u64 = 32;

/// The faster of backprop and checkpointed backprop for this solve, within `max_bytes` of
/// tape: [`GradMode::Backprop`] when its tape ([`backprop_tape_bytes`]) fits and each recorded
/// value carries at least [`MIN_MULTIPLY_ADDS_PER_VALUE`] multiply–adds of products;
/// [`GradMode::Checkpointed`] otherwise, and for adaptive steps. Both give the gradient of the
/// same discrete solution (to rounding); the choice depends only on the problem's shapes, never
/// on timings, so the same problem always takes the same mode.
///
/// # Errors
/// Invalid options (as [`super::solve`]).
///
/// # Example
/// ```
/// use neurodyn::solve::{fastest_grad_mode, Dynamics, GradMode, Method, SolveOptions, Stage};
/// use neurodyn::tape::{Tape, Var};
///
/// /// dy/dt = tanh(y Wᵀ)
/// struct Field(usize);
/// impl Dynamics<f64> for Field {
///     type Params = Var;
///     fn record(&self, tape: &mut Tape<f64>) -> Var {
///         tape.constant(self.0, self.0, &vec![0.01; self.0 * self.0])
///     }
///     fn rhs(&self, tape: &mut Tape<f64>, w: &Var, _: Stage<f64>, y: Var) -> Var {
///         let z = tape.matmul_t(y, *w);
///         tape.tanh(z)
///     }
/// }
/// let rk4 = SolveOptions::fixed(Method::Rk4, 0.01);
/// let wide = Field(256);
/// let init = |t: &mut Tape<f64>, _: &Var| t.constant(8, 256, &[1.0; 8 * 256]);
/// // 256 multiply–adds per value: backprop while its tape fits
/// assert_eq!(fastest_grad_mode(&wide, init, 0.0, 1.0, &rk4, 1 << 30)?, GradMode::Backprop);
/// assert_eq!(fastest_grad_mode(&wide, init, 0.0, 1.0, &rk4, 1 << 20)?, GradMode::Checkpointed);
/// // 4 per value: recomputing is cheaper than storing
/// let narrow = Field(4);
/// let init = |t: &mut Tape<f64>, _: &Var| t.constant(8, 4, &[1.0; 32]);
/// assert_eq!(fastest_grad_mode(&narrow, init, 0.0, 1.0, &rk4, 1 << 30)?, GradMode::Checkpointed);
/// # Ok::<(), neurodyn::solve::SolveError>(())
/// ```
pub fn fastest_grad_mode<T, D, I>(
    dynamics: &D,
    init: I,
    t0: T,
    t1: T,
    opts: &SolveOptions<T>,
    max_bytes: usize,
) -> Result<GradMode, SolveError>
where
    T: Float,
    D: Dynamics<T>,
    I: Fn(&mut Tape<T>, &D::Params) -> Var,
{
    Ok(match probe(dynamics, init, t0, t1, opts)? {
        Some((c, bytes))
            if bytes <= max_bytes
                && c.macs >= MIN_MULTIPLY_ADDS_PER_VALUE.saturating_mul(c.values as u64) =>
        {
            GradMode::Backprop
        }
        _ => GradMode::Checkpointed,
    })
}
