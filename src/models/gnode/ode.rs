//! A gnODE driven by a batch of piecewise-constant input sequences, as a [`Dynamics`].

use super::{Drive, Gnode, GnodeVars};
use crate::Float;
use crate::solve::{Dynamics, Stage};
use crate::tape::{Tape, Var};

/// The continuous-time gnODE on a batch: `x(t) = inputs[k]` on `[kΔ, (k+1)Δ)`, where the step
/// of a stage (not the stage time) decides `k` (SPEC §7).
pub struct GnodeOde<'a, T: Float> {
    model: &'a Gnode<T>,
    /// Inputs time-major: `[K][batch][I]`.
    inputs: &'a [T],
    batch: usize,
    steps: usize,
    input_dt: T,
}

/// Parameters plus the input drives of every bin, recorded once per tape.
#[derive(Clone, Debug)]
pub struct GnodeOdeParams {
    /// The model's parameters.
    pub vars: GnodeVars,
    /// `x_k U_0ᵀ + b_0` (and the gate's) for every bin `k`.
    pub drives: Vec<Drive>,
}

impl<'a, T: Float> GnodeOde<'a, T> {
    /// A batch of `batch` sequences of `steps` bins of width `input_dt`, inputs time-major.
    ///
    /// # Panics
    /// If `inputs.len() != steps·batch·I` or `steps == 0`.
    pub fn new(
        model: &'a Gnode<T>,
        inputs: &'a [T],
        batch: usize,
        steps: usize,
        input_dt: T,
    ) -> Self {
        assert!(steps > 0, "GnodeOde: no input bins");
        assert_eq!(
            inputs.len(),
            steps * batch * model.config().inputs,
            "GnodeOde: inputs must be [steps][batch][I]"
        );
        Self {
            model,
            inputs,
            batch,
            steps,
            input_dt,
        }
    }

    /// The bin boundaries `kΔ`, `k = 1..K−1`: where the solver must stop.
    pub fn jump_times(&self) -> Vec<T> {
        (1..self.steps)
            .map(|k| T::from_usize(k) * self.input_dt)
            .collect()
    }

    /// The input bin of a stage.
    pub fn bin(&self, at: Stage<T>) -> usize {
        let k = (at.step_mid() / self.input_dt).to_f64().floor();
        (k.max(0.0) as usize).min(self.steps - 1)
    }
}

impl<T: Float> Dynamics<T> for GnodeOde<'_, T> {
    type Params = GnodeOdeParams;

    fn record(&self, tape: &mut Tape<T>) -> GnodeOdeParams {
        let vars = self.model.record(tape);
        self.params_with(tape, vars)
    }

    fn rhs(&self, tape: &mut Tape<T>, p: &GnodeOdeParams, at: Stage<T>, h: Var) -> Var {
        let k = self.bin(at);
        self.model.velocity(tape, &p.vars, h, &p.drives[k])
    }

    fn rhs_comb(
        &self,
        tape: &mut Tape<T>,
        p: &GnodeOdeParams,
        at: Stage<T>,
        terms: &[(Var, T)],
    ) -> Var {
        let k = self.bin(at);
        self.model.velocity_comb(tape, &p.vars, terms, &p.drives[k])
    }
}

impl<T: Float> GnodeOde<'_, T> {
    /// The parameters plus the input drives of every bin, from already recorded `vars`.
    pub fn params_with(&self, tape: &mut Tape<T>, vars: GnodeVars) -> GnodeOdeParams {
        let i = self.model.config().inputs;
        let chunk = self.batch * i;
        let drives = (0..self.steps)
            .map(|k| {
                let x = tape.constant(self.batch, i, &self.inputs[k * chunk..(k + 1) * chunk]);
                self.model.drive(tape, &vars, x)
            })
            .collect();
        GnodeOdeParams { vars, drives }
    }
}
