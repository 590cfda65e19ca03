//! Solves without gradients, and backprop through the solver (discretise-then-optimise).

use super::engine::{DynRhs, Integrator, Mode, Observer};
use super::mode_choice::step_cost;
use super::{Dynamics, GradSolution, Solution, SolveError, SolveOptions, SolveStats};
use crate::Float;
use crate::tape::{Grads, Tape, Var};

/// Copies saved states out of the tape.
pub(crate) struct CopySaves<T> {
    pub(crate) ys: Vec<T>,
}

impl<T: Float> Observer<T> for CopySaves<T> {
    fn save(&mut self, tape: &mut Tape<T>, _j: usize, y: Var) {
        self.ys.extend_from_slice(tape.value(y));
    }
}

/// Collects saved states as tape nodes.
struct KeepSaves {
    vars: Vec<Var>,
}

impl<T: Float> Observer<T> for KeepSaves {
    fn save(&mut self, _tape: &mut Tape<T>, _j: usize, y: Var) {
        self.vars.push(y);
    }
}

/// Saves at exactly `t0` (the engine handles `(t0, t1]`).
pub(crate) fn saves_at_start<T: Float>(opts: &SolveOptions<T>, t0: T) -> usize {
    opts.save_at.iter().take_while(|&&s| s == t0).count()
}

pub(crate) fn solve_values<T: Float, D: Dynamics<T>>(
    dynamics: &D,
    rows: usize,
    y0: &[T],
    t0: T,
    t1: T,
    opts: &SolveOptions<T>,
) -> Result<Solution<T>, SolveError> {
    opts.validate(t0, t1)?;
    if rows == 0 || !y0.len().is_multiple_of(rows) {
        return Err(crate::ConfigError::new(
            "y0",
            format!("{} values do not form {rows} rows", y0.len()),
        )
        .into());
    }
    let cols = y0.len() / rows;
    let mut tape = Tape::new();
    let p = dynamics.record(&mut tape);
    let y0v = tape.constant(rows, cols, y0);
    let mut obs = CopySaves {
        ys: Vec::with_capacity(opts.save_at.len() * y0.len()),
    };
    for _ in 0..saves_at_start(opts, t0) {
        obs.ys.extend_from_slice(y0);
    }
    let mut eng = Integrator::new(opts, t0, t1);
    let mut rhs = DynRhs { d: dynamics, p };
    let y = eng.run(&mut tape, &mut rhs, &mut obs, t0, t1, y0v, Mode::Compact)?;
    Ok(Solution {
        ts: opts.save_at.clone(),
        ys: obs.ys,
        y_final: tape.value(y).to_vec(),
        rows,
        cols,
        stats: eng.stats,
    })
}

/// Records a whole solve on `tape` (backprop mode): returns the saved states (one node per
/// `opts.save_at` entry), the final state and the counters. Build a loss from the saved nodes
/// and call `tape.backward`; rejected steps leave nothing on the tape.
///
/// # Errors
/// As [`super::solve`].
pub fn solve_on_tape<T: Float, D: Dynamics<T>>(
    tape: &mut Tape<T>,
    dynamics: &D,
    p: D::Params,
    y0: Var,
    t0: T,
    t1: T,
    opts: &SolveOptions<T>,
) -> Result<(Vec<Var>, Var, SolveStats), SolveError> {
    opts.validate(t0, t1)?;
    let mut obs = KeepSaves {
        vars: vec![y0; saves_at_start(opts, t0)],
    };
    let mut eng = Integrator::new(opts, t0, t1);
    let mut rhs = DynRhs { d: dynamics, p };
    let y = eng.run(tape, &mut rhs, &mut obs, t0, t1, y0, Mode::Keep)?;
    Ok((obs.vars, y, eng.stats))
}

pub(crate) fn gradient<T, D, I, L>(
    dynamics: &D,
    init: I,
    mut loss: L,
    t0: T,
    t1: T,
    opts: &SolveOptions<T>,
    grads: &mut Grads<T>,
) -> Result<GradSolution<T>, SolveError>
where
    T: Float,
    D: Dynamics<T>,
    I: Fn(&mut Tape<T>, &D::Params) -> Var,
    L: FnMut(&mut Tape<T>, &D::Params, usize, Var) -> Var,
{
    let mut tape = Tape::new();
    let p = dynamics.record(&mut tape);
    let y0 = init(&mut tape, &p);
    let y0 = differentiable_copy(&mut tape, y0);
    // A fixed-step solve's tape is known before it is recorded: one allocation for it, with
    // an eighth to spare for the estimate's error and the loss terms (pages never written
    // cost nothing).
    if let Some(c) = step_cost(&mut tape, dynamics, &p, y0, t0, t1, opts) {
        let values = c.steps.saturating_mul(c.values);
        tape.reserve_values(values.saturating_add(values / 8));
    }
    let (saved, _, stats) = solve_on_tape(&mut tape, dynamics, p.clone(), y0, t0, t1, opts)?;
    let terms: Vec<Var> = saved
        .iter()
        .enumerate()
        .map(|(j, &y)| loss(&mut tape, &p, j, y))
        .collect();
    let total = sum_terms(&mut tape, &terms);
    tape.retain_grad(y0);
    tape.backward(total);
    tape.accumulate_param_grads(grads);
    let mut stats = stats;
    stats.peak_values = stats
        .peak_values
        .max(tape.num_values() + tape.num_grad_values());
    Ok(GradSolution {
        loss: tape.scalar(total),
        dy0: tape.grad(y0).to_vec(),
        stats,
    })
}

/// `Σ terms` as one node (a zero constant for no terms).
pub(crate) fn sum_terms<T: Float>(tape: &mut Tape<T>, terms: &[Var]) -> Var {
    if terms.is_empty() {
        return tape.filled(1, 1, T::ZERO);
    }
    let w: Vec<(Var, T)> = terms.iter().map(|&v| (v, T::ONE)).collect();
    tape.lin_comb(&w)
}

/// `y + 0` with a zero *variable*: a node whose gradient is `∂L/∂y` whatever `y` is (a
/// constant, a parameter or a computed node), and through which gradients still reach `y`.
pub(crate) fn differentiable_copy<T: Float>(tape: &mut Tape<T>, y: Var) -> Var {
    let (r, c) = tape.shape(y);
    let z = tape.filled(r, c, T::ZERO);
    let zv = tape.variable(r, c, tape.value(z).to_vec().as_slice());
    tape.add(y, zv)
}

/// `Σ λ ∘ y` as a node (the adjoint seed of a segment end).
pub(crate) fn dot_const<T: Float>(tape: &mut Tape<T>, y: Var, lambda: &[T]) -> Var {
    let (r, c) = tape.shape(y);
    let l = tape.constant(r, c, lambda);
    let m = tape.mul(y, l);
    tape.sum(m)
}
