//! Checkpointed backprop: the forward pass keeps only O(√steps) states; the backward pass
//! re-takes each segment of steps on a fresh tape and backpropagates through it.
//!
//! ```text
//! forward (no tape):  y_0 … y_n, keeping y_c for c ∈ {0, L, 2L, …} and the step list
//!                     (L doubles whenever more than 2L checkpoints are held, so L ≈ √n,
//!                     except that a segment's tape is kept within a cache-sized budget
//!                     while the checkpoints take less memory than one segment)
//! backward:           λ = 0; for segments from last to first:
//!                       replay steps c..c' from y_c on a fresh tape, with the loss terms of the
//!                       saves inside; L_seg = Σ ℓ_j + λ·y_c'; backward; λ = ∂L_seg/∂y_c
//! ```
//! The replay takes exactly the forward steps with the same arithmetic, so the gradients equal
//! backprop's up to the order of summation.

use super::backprop::{differentiable_copy, dot_const, saves_at_start, sum_terms};
use super::engine::{DynRhs, Integrator, Mode, Observer, StepRecord};
use super::mode_choice::recorded_per_step;
use super::{Dynamics, GradSolution, SolveError, SolveOptions, Stage};
use crate::Float;
use crate::tape::{Grads, Tape, Var};

/// Bytes of tape values (and as many of gradients) one replayed segment may take before the
/// segment length is allowed to grow past what balances it against the checkpoints: a
/// segment that stays in cache replays faster and faults in fewer fresh pages.
const SEGMENT_BUDGET_BYTES: usize = 1 << 20;

/// Records steps and keeps a thinning set of checkpoints.
struct Recorder<T> {
    steps: Vec<StepRecord<T>>,
    /// `(step index, state)`: the state after `index` accepted steps.
    checkpoints: Vec<(usize, Vec<T>)>,
    seg_len: usize,
    peak_states: usize,
    /// Tape values one replayed step records (with the local derivatives the backward pass
    /// reads, which the forward pass without gradients does not keep).
    step_values: usize,
}

impl<T: Float> Recorder<T> {
    /// Whether the segment length should double now: more than `2L` checkpoints (L ≈ √n), unless
    /// a doubled segment would leave the cache budget while the checkpoints still take less
    /// memory than a segment's tape (then more checkpoints are the cheaper memory).
    fn should_grow(&self, state_len: usize) -> bool {
        let (c, l) = (self.checkpoints.len(), self.seg_len);
        if c <= 2 * l {
            return false;
        }
        let doubled_bytes = 2 * l * self.step_values * std::mem::size_of::<T>();
        doubled_bytes <= SEGMENT_BUDGET_BYTES || c * state_len > l * self.step_values
    }
}

impl<T: Float> Observer<T> for Recorder<T> {
    fn save(&mut self, _tape: &mut Tape<T>, _j: usize, _y: Var) {}
    fn step(&mut self, tape: &Tape<T>, rec: &StepRecord<T>, y_new: Var) {
        self.steps.push(*rec);
        let i = self.steps.len();
        if i.is_multiple_of(self.seg_len) {
            let state = tape.value(y_new);
            let state_len = state.len();
            self.checkpoints.push((i, state.to_vec()));
            if self.should_grow(state_len) {
                self.seg_len *= 2;
                let l = self.seg_len;
                self.checkpoints.retain(|(k, _)| k.is_multiple_of(l));
            }
            self.peak_states = self.peak_states.max(self.checkpoints.len());
        }
    }
}

/// Collects the saved nodes of a replayed segment with their indices.
struct SegmentSaves {
    saves: Vec<(usize, Var)>,
}

impl<T: Float> Observer<T> for SegmentSaves {
    fn save(&mut self, _tape: &mut Tape<T>, j: usize, y: Var) {
        self.saves.push((j, y));
    }
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
    // Forward: initial state, then a compact solve that records steps and checkpoints.
    // The parameters (and whatever the dynamics precompute from them) are recorded once; every
    // later pass rewinds to just after them and keeps their values and cached transposes.
    let mut tape = Tape::new();
    let p = dynamics.record(&mut tape);
    let after_params = tape.mark();
    let y0 = init(&mut tape, &p);
    let (rows, cols) = tape.shape(y0);
    let y0_vals = tape.value(y0).to_vec();
    tape.rewind(after_params);
    let y0c = tape.constant(rows, cols, &y0_vals);
    // what a replayed step records (any stage: the counts do not depend on its time)
    let at = Stage {
        t: t0,
        step_start: t0,
        step_end: t1,
    };
    let (step_values, _) = recorded_per_step(&mut tape, dynamics, &p, y0c, at, opts.method);
    let mut rec = Recorder {
        steps: Vec::new(),
        checkpoints: vec![(0, y0_vals.clone())],
        seg_len: 1,
        peak_states: 1,
        step_values,
    };
    let mut fwd = Integrator::new(opts, t0, t1);
    // Values only: the replays below record what the backward pass reads.
    tape.set_grad_enabled(false);
    let forward = fwd.run(
        &mut tape,
        &mut DynRhs {
            d: dynamics,
            p: p.clone(),
        },
        &mut rec,
        t0,
        t1,
        y0c,
        Mode::Compact,
    );
    tape.set_grad_enabled(true);
    forward?;
    let mut stats = fwd.stats;
    let n = rec.steps.len();
    let state_len = y0_vals.len();

    // Backward over segments.
    let mut lambda = vec![T::ZERO; state_len];
    let mut total = T::ZERO;
    let mut peak_tape = 0;
    let bounds: Vec<usize> = rec.checkpoints.iter().map(|(k, _)| *k).chain([n]).collect();
    for s in (0..rec.checkpoints.len()).rev() {
        let (c0, c1) = (bounds[s], bounds[s + 1]);
        if c0 == c1 {
            continue;
        }
        tape.rewind(after_params);
        let ys = tape.variable(rows, cols, &rec.checkpoints[s].1);
        let mut seg = SegmentSaves { saves: Vec::new() };
        let mut eng = Integrator::new(opts, t0, t1);
        let mut rhs = DynRhs {
            d: dynamics,
            p: p.clone(),
        };
        let y_end = eng.run(
            &mut tape,
            &mut rhs,
            &mut seg,
            t0,
            t1,
            ys,
            Mode::Replay(&rec.steps[c0..c1]),
        )?;
        stats.rhs_evals += eng.stats.rhs_evals;
        let mut terms: Vec<Var> = Vec::with_capacity(seg.saves.len() + 1);
        for &(j, y) in &seg.saves {
            terms.push(loss(&mut tape, &p, j, y));
        }
        let loss_part = sum_terms(&mut tape, &terms);
        total += tape.scalar(loss_part);
        let seed = dot_const(&mut tape, y_end, &lambda);
        let l = tape.add(loss_part, seed);
        tape.retain_grad(ys);
        tape.backward(l);
        tape.accumulate_param_grads(grads);
        lambda.copy_from_slice(tape.grad(ys));
        peak_tape = peak_tape.max(tape.num_values() + tape.num_grad_values());
    }

    // The initial state: saves at t0 and the map from parameters to y0.
    tape.rewind(after_params);
    let y0 = init(&mut tape, &p);
    let y0 = differentiable_copy(&mut tape, y0);
    let terms: Vec<Var> = (0..saves_at_start(opts, t0))
        .map(|j| loss(&mut tape, &p, j, y0))
        .collect();
    let loss_part = sum_terms(&mut tape, &terms);
    total += tape.scalar(loss_part);
    let seed = dot_const(&mut tape, y0, &lambda);
    let l = tape.add(loss_part, seed);
    tape.retain_grad(y0);
    tape.backward(l);
    tape.accumulate_param_grads(grads);
    let dy0 = tape.grad(y0).to_vec();

    stats.checkpoints = rec.peak_states;
    stats.peak_values = stats.peak_values.max(peak_tape) + rec.peak_states * state_len;
    Ok(GradSolution {
        loss: total,
        dy0,
        stats,
    })
}
