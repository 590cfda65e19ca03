//! Sequence models: input sequences in, outputs at every step (regression) or from the final
//! state (classification) out. Implemented by the gnODE family (discrete or continuous time)
//! and the GRU.

use super::gnode::{Gnode, GnodeOde};
use super::gru::Gru;
use crate::Float;
use crate::solve::{GradMode, SolveError, SolveOptions, solve_on_tape, solve_with_grad};
use crate::tape::{Grads, ParamStore, Tape, Var};

/// A batch of input sequences, time-major: `x[k][b][i]` (`steps × batch × inputs`).
#[derive(Clone, Copy, Debug)]
pub struct SeqBatch<'a, T> {
    /// Inputs, `steps · batch · inputs` values.
    pub x: &'a [T],
    /// Sequences in the batch.
    pub batch: usize,
    /// Time bins.
    pub steps: usize,
    /// Input dimension.
    pub inputs: usize,
    /// Bin width Δ (continuous-time models).
    pub dt: T,
    /// Length of each sequence (`≤ steps`); `None` when all have `steps` bins.
    pub lengths: Option<&'a [usize]>,
}

impl<T: Float> SeqBatch<'_, T> {
    /// Inputs of bin `k` (`batch × inputs`, row-major).
    pub fn bin(&self, k: usize) -> &[T] {
        let c = self.batch * self.inputs;
        &self.x[k * c..(k + 1) * c]
    }
    /// Length of sequence `b`.
    pub fn len_of(&self, b: usize) -> usize {
        self.lengths.map_or(self.steps, |l| l[b])
    }
}

/// What a loss compares the outputs with.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, T> {
    /// Targets at every step, time-major `[steps][batch][outputs]` (MSE over the valid steps).
    Sequence(&'a [T]),
    /// One class per sequence (cross-entropy of the final-state readout).
    Classes(&'a [usize]),
}

/// A trainable model of sequences.
pub trait SequenceModel<T: Float>: Sync {
    /// A short description (`"gnODE N=6 F=[100,100,100]"`).
    fn describe(&self) -> String;
    /// The parameters.
    fn store(&self) -> &ParamStore<T>;
    /// The parameters, mutable.
    fn store_mut(&mut self) -> &mut ParamStore<T>;
    /// Output dimension.
    fn outputs(&self) -> usize;
    /// Records the hidden states after every bin (`batch × hidden` each).
    ///
    /// # Errors
    /// A solver failure (continuous-time models).
    fn states(&self, tape: &mut Tape<T>, b: &SeqBatch<'_, T>) -> Result<StatesOut, SolveError>;
    /// Records the readout of a stack of states.
    fn readout_of(&self, tape: &mut Tape<T>, out: &StatesOut, h: Var) -> Var;

    /// The outputs: every step stacked time-major (`(steps·batch) × O`), or the final state's
    /// (`batch × O`, at each sequence's own length).
    ///
    /// # Errors
    /// A solver failure.
    fn forward(
        &self,
        tape: &mut Tape<T>,
        b: &SeqBatch<'_, T>,
        every_step: bool,
    ) -> Result<Var, SolveError> {
        let out = self.states(tape, b)?;
        let h = if every_step {
            tape.concat_rows(&out.states)
        } else {
            final_state(tape, b, &out.states)
        };
        Ok(self.readout_of(tape, &out, h))
    }

    /// Loss and its gradient (added into `grads`): MSE over valid steps, or mean cross-entropy.
    ///
    /// # Errors
    /// A solver failure.
    fn loss_grad(
        &self,
        tape: &mut Tape<T>,
        b: &SeqBatch<'_, T>,
        targets: Targets<'_, T>,
        grads: &mut Grads<T>,
    ) -> Result<T, SolveError> {
        tape.clear();
        let l = self.loss(tape, b, targets)?;
        tape.backward(l);
        tape.accumulate_param_grads(grads);
        Ok(tape.scalar(l))
    }

    /// Records the loss.
    ///
    /// # Errors
    /// A solver failure.
    fn loss(
        &self,
        tape: &mut Tape<T>,
        b: &SeqBatch<'_, T>,
        targets: Targets<'_, T>,
    ) -> Result<Var, SolveError> {
        let every = matches!(targets, Targets::Sequence(_));
        let y = self.forward(tape, b, every)?;
        Ok(match targets {
            Targets::Sequence(t) => masked_mse(tape, b, y, t, self.outputs()),
            Targets::Classes(c) => cross_entropy(tape, y, c),
        })
    }
}

/// Recorded states plus whatever the readout needs.
pub struct StatesOut {
    /// One `batch × hidden` node per bin.
    pub states: Vec<Var>,
    /// Model-specific handle (the recorded parameters' index into `vars` kept by the model).
    pub(crate) vars: VarsHandle,
}

/// The recorded parameter set of a model, kept for the readout.
pub(crate) enum VarsHandle {
    Gnode(super::gnode::GnodeVars),
    Gru(super::gru::GruVars),
}

/// `Σ_k mask_k ⊙ h_k`: each row's state at its own last bin.
pub fn final_state<T: Float>(tape: &mut Tape<T>, b: &SeqBatch<'_, T>, states: &[Var]) -> Var {
    if b.lengths.is_none() {
        return states[states.len() - 1];
    }
    let mut acc: Option<Var> = None;
    let mut mask = vec![T::ZERO; b.batch];
    for (k, &h) in states.iter().enumerate() {
        let mut any = false;
        for (r, m) in mask.iter_mut().enumerate() {
            let ends = b.len_of(r) == k + 1;
            *m = if ends { T::ONE } else { T::ZERO };
            any |= ends;
        }
        if !any {
            continue;
        }
        let mv = tape.constant(b.batch, 1, &mask);
        let term = tape.mul(h, mv);
        acc = Some(match acc {
            Some(a) => tape.add(a, term),
            None => term,
        });
    }
    acc.expect("final_state: every sequence needs at least one bin")
}

/// Mean over valid (step, row, output) of `(y − t)²`; `y`, `t` time-major stacks.
pub fn masked_mse<T: Float>(
    tape: &mut Tape<T>,
    b: &SeqBatch<'_, T>,
    y: Var,
    t: &[T],
    outputs: usize,
) -> Var {
    let (rows, cols) = tape.shape(y);
    let tv = tape.constant(rows, cols, t);
    let d = tape.sub(y, tv);
    let sq = tape.square(d);
    match b.lengths {
        None => tape.mean(sq),
        Some(_) => {
            let mut w = vec![T::ZERO; rows];
            let mut valid = 0usize;
            for k in 0..b.steps {
                for r in 0..b.batch {
                    if k < b.len_of(r) {
                        w[k * b.batch + r] = T::ONE;
                        valid += 1;
                    }
                }
            }
            let wv = tape.constant(rows, 1, &w);
            let m = tape.mul(sq, wv);
            let s = tape.sum(m);
            tape.scale(s, T::ONE / T::from_usize((valid * outputs).max(1)))
        }
    }
}

/// Mean cross-entropy of logits `y` (`batch × classes`) against class indices.
pub fn cross_entropy<T: Float>(tape: &mut Tape<T>, y: Var, classes: &[usize]) -> Var {
    let (rows, cols) = tape.shape(y);
    let mut onehot = vec![T::ZERO; rows * cols];
    for (r, &c) in classes.iter().enumerate() {
        onehot[r * cols + c.min(cols - 1)] = T::ONE;
    }
    let ls = tape.log_softmax_rows(y);
    let oh = tape.constant(rows, cols, &onehot);
    let p = tape.mul(ls, oh);
    let s = tape.sum(p);
    tape.scale(s, -T::ONE / T::from_usize(rows.max(1)))
}

/// How a gnODE is run in time.
#[derive(Clone, Debug, PartialEq)]
pub enum TimeMode<T> {
    /// One discrete step per bin, `h' = h + α G ⊙ (F − h)`.
    Discrete {
        /// `α = Δt/τ`.
        alpha: f64,
    },
    /// The ODE solved between bin boundaries (outputs at the bin ends).
    Continuous {
        /// Solver options (`save_at`/`jump_times` are set per batch).
        opts: SolveOptions<T>,
        /// How gradients flow through the solver.
        grad: GradMode,
    },
}

/// A gnODE with its time mode: the trainable sequence model.
#[derive(Clone, Debug, PartialEq)]
pub struct GnodeSeq<T> {
    /// The model.
    pub model: Gnode<T>,
    /// Discrete or continuous time.
    pub time: TimeMode<T>,
}

impl<T: Float> GnodeSeq<T> {
    fn ode_opts(&self, b: &SeqBatch<'_, T>, opts: &SolveOptions<T>) -> SolveOptions<T> {
        SolveOptions {
            save_at: (1..=b.steps).map(|k| T::from_usize(k) * b.dt).collect(),
            jump_times: (1..b.steps).map(|k| T::from_usize(k) * b.dt).collect(),
            ..opts.clone()
        }
    }

    fn x0<'t>(&self, tape: &mut Tape<T>, b: &SeqBatch<'t, T>) -> Var {
        tape.constant(b.batch, b.inputs, b.bin(0))
    }
}

impl<T: Float> SequenceModel<T> for GnodeSeq<T> {
    fn describe(&self) -> String {
        let c = self.model.config();
        let time = match &self.time {
            TimeMode::Discrete { alpha } => format!("discrete α={alpha}"),
            TimeMode::Continuous { opts, grad } => format!("{} {:?}", opts.method.name(), grad),
        };
        format!("{} N={} F={:?} ({time})", c.kind_name(), c.hidden, c.flow)
    }
    fn store(&self) -> &ParamStore<T> {
        self.model.store()
    }
    fn store_mut(&mut self) -> &mut ParamStore<T> {
        self.model.store_mut()
    }
    fn outputs(&self) -> usize {
        self.model.config().outputs
    }

    fn states(&self, tape: &mut Tape<T>, b: &SeqBatch<'_, T>) -> Result<StatesOut, SolveError> {
        let m = &self.model;
        match &self.time {
            TimeMode::Discrete { alpha } => {
                let v = m.record(tape);
                let x0 = self.x0(tape, b);
                let mut h = m.initial_state(tape, &v, Some(x0), b.batch);
                let mut states = Vec::with_capacity(b.steps);
                for k in 0..b.steps {
                    let x = if k == 0 {
                        x0
                    } else {
                        tape.constant(b.batch, b.inputs, b.bin(k))
                    };
                    let d = m.drive(tape, &v, x);
                    h = m.discrete_step(tape, &v, h, &d, *alpha);
                    states.push(h);
                }
                Ok(StatesOut {
                    states,
                    vars: VarsHandle::Gnode(v),
                })
            }
            TimeMode::Continuous { opts, .. } => {
                let ode = GnodeOde::new(m, b.x, b.batch, b.steps, b.dt);
                let p = crate::solve::Dynamics::record(&ode, tape);
                let x0 = self.x0(tape, b);
                let h0 = m.initial_state(tape, &p.vars, Some(x0), b.batch);
                let o = self.ode_opts(b, opts);
                let (states, _, _) = solve_on_tape(
                    tape,
                    &ode,
                    p.clone(),
                    h0,
                    T::ZERO,
                    T::from_usize(b.steps) * b.dt,
                    &o,
                )?;
                Ok(StatesOut {
                    states,
                    vars: VarsHandle::Gnode(p.vars),
                })
            }
        }
    }

    fn readout_of(&self, tape: &mut Tape<T>, out: &StatesOut, h: Var) -> Var {
        match &out.vars {
            VarsHandle::Gnode(v) => self.model.readout(tape, v, h),
            VarsHandle::Gru(_) => unreachable!("internal: gnODE states carry gnODE vars"),
        }
    }

    fn loss_grad(
        &self,
        tape: &mut Tape<T>,
        b: &SeqBatch<'_, T>,
        targets: Targets<'_, T>,
        grads: &mut Grads<T>,
    ) -> Result<T, SolveError> {
        let TimeMode::Continuous { opts, grad } = &self.time else {
            return default_loss_grad(self, tape, b, targets, grads);
        };
        if *grad == GradMode::Backprop {
            return default_loss_grad(self, tape, b, targets, grads);
        }
        // Checkpointed / adjoint: the loss is a sum of per-save terms.
        let m = &self.model;
        let ode = GnodeOde::new(m, b.x, b.batch, b.steps, b.dt);
        let o = self.ode_opts(b, opts);
        let n_out = self.outputs();
        let valid: usize = (0..b.batch).map(|r| b.len_of(r)).sum();
        let norm = T::ONE / T::from_usize((valid * n_out).max(1));
        let loss = |t: &mut Tape<T>, p: &super::gnode::GnodeOdeParams, k: usize, h: Var| -> Var {
            let y = m.readout(t, &p.vars, h);
            match targets {
                Targets::Sequence(tg) => {
                    let c = b.batch * n_out;
                    let tv = t.constant(b.batch, n_out, &tg[k * c..(k + 1) * c]);
                    let d = t.sub(y, tv);
                    let sq = t.square(d);
                    let sq = match b.lengths {
                        None => sq,
                        Some(_) => {
                            let w: Vec<T> = (0..b.batch)
                                .map(|r| if k < b.len_of(r) { T::ONE } else { T::ZERO })
                                .collect();
                            let wv = t.constant(b.batch, 1, &w);
                            t.mul(sq, wv)
                        }
                    };
                    let s = t.sum(sq);
                    t.scale(s, norm)
                }
                Targets::Classes(c) => {
                    let rows: Vec<usize> = (0..b.batch).filter(|&r| b.len_of(r) == k + 1).collect();
                    let (_, cols) = t.shape(y);
                    let mut onehot = vec![T::ZERO; b.batch * cols];
                    for &r in &rows {
                        onehot[r * cols + c[r].min(cols - 1)] = T::ONE;
                    }
                    let ls = t.log_softmax_rows(y);
                    let oh = t.constant(b.batch, cols, &onehot);
                    let pr = t.mul(ls, oh);
                    let s = t.sum(pr);
                    t.scale(s, -T::ONE / T::from_usize(b.batch))
                }
            }
        };
        let init = |t: &mut Tape<T>, p: &super::gnode::GnodeOdeParams| {
            let x0 = t.constant(b.batch, b.inputs, b.bin(0));
            m.initial_state(t, &p.vars, Some(x0), b.batch)
        };
        let sol = solve_with_grad(
            &ode,
            init,
            loss,
            T::ZERO,
            T::from_usize(b.steps) * b.dt,
            &o,
            *grad,
            grads,
        )?;
        Ok(sol.loss)
    }
}

/// The default loss + gradient by backprop on the tape.
fn default_loss_grad<T: Float, M: SequenceModel<T> + ?Sized>(
    m: &M,
    tape: &mut Tape<T>,
    b: &SeqBatch<'_, T>,
    targets: Targets<'_, T>,
    grads: &mut Grads<T>,
) -> Result<T, SolveError> {
    tape.clear();
    let l = m.loss(tape, b, targets)?;
    tape.backward(l);
    tape.accumulate_param_grads(grads);
    Ok(tape.scalar(l))
}

impl<T: Float> SequenceModel<T> for Gru<T> {
    fn describe(&self) -> String {
        format!("GRU N={}", self.config().hidden)
    }
    fn store(&self) -> &ParamStore<T> {
        Gru::store(self)
    }
    fn store_mut(&mut self) -> &mut ParamStore<T> {
        Gru::store_mut(self)
    }
    fn outputs(&self) -> usize {
        self.config().outputs
    }
    fn states(&self, tape: &mut Tape<T>, b: &SeqBatch<'_, T>) -> Result<StatesOut, SolveError> {
        let v = self.record(tape);
        let mut h = self.initial_state(tape, &v, b.batch);
        let mut states = Vec::with_capacity(b.steps);
        for k in 0..b.steps {
            let x = tape.constant(b.batch, b.inputs, b.bin(k));
            h = self.step(tape, &v, h, x);
            states.push(h);
        }
        Ok(StatesOut {
            states,
            vars: VarsHandle::Gru(v),
        })
    }
    fn readout_of(&self, tape: &mut Tape<T>, out: &StatesOut, h: Var) -> Var {
        match &out.vars {
            VarsHandle::Gru(v) => self.readout(tape, v, h),
            VarsHandle::Gnode(_) => unreachable!("internal: GRU states carry GRU vars"),
        }
    }
}
