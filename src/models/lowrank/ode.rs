//! A low-rank network driven by a batch of piecewise-constant input sequences, as a
//! [`Dynamics`].

use super::{LowRank, LowRankVars};
use crate::Float;
use crate::solve::{Dynamics, Stage};
use crate::tape::{Tape, Var};

/// The network on a batch: `u(t) = inputs[k]` on `[kΔ, (k+1)Δ)`, where the step of a stage (not
/// the stage time) decides `k` (SPEC §7). Without inputs the network is autonomous.
pub struct LowRankOde<'a, T: Float> {
    net: &'a LowRank<T>,
    /// Inputs time-major: `[K][batch][S]` (empty when S = 0).
    inputs: &'a [T],
    batch: usize,
    steps: usize,
    input_dt: T,
}

/// Parameters plus the input drive of every bin, recorded once per tape.
#[derive(Clone, Debug)]
pub struct LowRankOdeParams {
    /// The network's parameters.
    pub vars: LowRankVars,
    /// `u_k Iᵀ` for every bin `k` (empty without inputs).
    pub drives: Vec<Var>,
}

impl<'a, T: Float> LowRankOde<'a, T> {
    /// A batch of `batch` sequences of `steps` bins of width `input_dt`, inputs time-major.
    ///
    /// # Panics
    /// If `inputs.len() != steps·batch·S` or `steps == 0`.
    pub fn new(
        net: &'a LowRank<T>,
        inputs: &'a [T],
        batch: usize,
        steps: usize,
        input_dt: T,
    ) -> Self {
        assert!(steps > 0, "LowRankOde: no input bins");
        assert_eq!(
            inputs.len(),
            steps * batch * net.config().inputs,
            "LowRankOde: inputs must be [steps][batch][S]"
        );
        Self {
            net,
            inputs,
            batch,
            steps,
            input_dt,
        }
    }

    /// An autonomous network (no inputs, or inputs held at zero).
    pub fn autonomous(net: &'a LowRank<T>) -> Self {
        Self {
            net,
            inputs: &[],
            batch: 0,
            steps: 1,
            input_dt: T::ONE,
        }
    }

    /// The bin boundaries `kΔ`, `k = 1..K−1`: where the solver must stop.
    pub fn jump_times(&self) -> Vec<T> {
        if self.inputs.is_empty() {
            return Vec::new();
        }
        (1..self.steps)
            .map(|k| T::from_usize(k) * self.input_dt)
            .collect()
    }

    /// The input bin of a stage.
    pub fn bin(&self, at: Stage<T>) -> usize {
        let k = (at.step_mid() / self.input_dt).to_f64().floor();
        (k.max(0.0) as usize).min(self.steps - 1)
    }

    /// The parameters plus the input drives of every bin, from already recorded `vars`.
    pub fn params_with(&self, tape: &mut Tape<T>, vars: LowRankVars) -> LowRankOdeParams {
        let s = self.net.config().inputs;
        if self.inputs.is_empty() || s == 0 {
            return LowRankOdeParams {
                vars,
                drives: Vec::new(),
            };
        }
        let chunk = self.batch * s;
        let drives = (0..self.steps)
            .map(|k| {
                let u = tape.constant(self.batch, s, &self.inputs[k * chunk..(k + 1) * chunk]);
                self.net
                    .drive(tape, &vars, u)
                    .expect("internal: inputs imply input loadings")
            })
            .collect();
        LowRankOdeParams { vars, drives }
    }
}

impl<T: Float> Dynamics<T> for LowRankOde<'_, T> {
    type Params = LowRankOdeParams;

    fn record(&self, tape: &mut Tape<T>) -> LowRankOdeParams {
        let vars = self.net.record(tape);
        self.params_with(tape, vars)
    }

    fn rhs(&self, tape: &mut Tape<T>, p: &LowRankOdeParams, at: Stage<T>, x: Var) -> Var {
        let drive = (!p.drives.is_empty()).then(|| p.drives[self.bin(at)]);
        self.net.velocity(tape, &p.vars, x, drive)
    }
}
