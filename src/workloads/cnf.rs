//! CNF workloads (SPEC §5): a flow-matching step and an exact negative log-likelihood step,
//! each a loss and its gradient with respect to every velocity parameter.
//!
//! ```text
//! v(x, t) = MLP([x; t]),  widths [128, 128], silu,  d = 6
//! flow matching:  L = mean over B = 4096 rows and d of (v((1−t)x0 + t x1, t) − (x1 − x0))²
//! exact NLL:      L = mean over B = 256 rows of −log N(x(0); 0, I) + ∫_0^1 tr ∂v/∂x dt,
//!                 the augmented state [x, ∫div] solved from t = 1 to 0 by RK4 (20 steps),
//!                 the trace from d forward tangents (all on the tape)
//! ```
//!
//! The velocity field is a fresh Glorot-initialised MLP whose output layer is also random
//! (scale 0.5, so the flow is not the identity); the data are a fixed draw of a skewed Gaussian.
//!
//! FLOP count of the flow-matching step (stated for the FLOP rate): a dense layer `a × b` over
//! `B` rows costs `2Bab` forward and `4Bab` backward (input and weight gradients):
//! `6 B Σ_l a_l b_l` with `(a, b)` = (7, 128), (128, 128), (128, 6). Elementwise work is not
//! counted. The NLL step's count depends on the tangents and is not stated.

use super::{RunOutput, Workload, WorkloadError};
use crate::Float;
use crate::models::Activation;
use crate::models::cnf::{Cnf, CnfConfig, Trace, base_draws, flow_matching_loss, nll_on_tape};
use crate::solve::{Method, SolveOptions};
use crate::tape::{Grads, Tape};
use rand::RngExt;

/// Dimension of the flowing state (a rank-2 network's loadings and two inputs).
pub const DIM: usize = 6;
/// Hidden widths of the velocity MLP.
pub const WIDTHS: [usize; 2] = [128, 128];
/// RK4 steps of the likelihood solve.
pub const NLL_STEPS: usize = 20;

/// Which CNF step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CnfStep {
    /// Flow-matching loss and gradient.
    FlowMatching,
    /// Exact negative log-likelihood (through the solver) and gradient.
    ExactNll,
}

/// A CNF loss + gradient workload.
pub struct CnfGrad<T: Float> {
    step: CnfStep,
    batch: usize,
    cnf: Cnf<T>,
    x0: Vec<T>,
    x1: Vec<T>,
    t: Vec<T>,
    opts: SolveOptions<T>,
    tape: Tape<T>,
    grads: Grads<T>,
}

impl<T: Float> CnfGrad<T> {
    /// Builds the velocity field and the data from `seed`.
    ///
    /// # Errors
    /// A zero batch.
    pub fn new(step: CnfStep, batch: usize, seed: u64) -> Result<Self, WorkloadError> {
        if batch == 0 {
            return Err(WorkloadError("batch must be at least 1".into()));
        }
        let mut rng = crate::rng::stream(seed, 2);
        let cfg = CnfConfig {
            dim: DIM,
            cond: 0,
            hidden: WIDTHS.to_vec(),
            activation: Activation::Silu,
        };
        let mut cnf = Cnf::<T>::new(cfg, &mut rng).map_err(|e| WorkloadError(e.to_string()))?;
        let last = cnf
            .store()
            .id(&format!("vel.{}.W", WIDTHS.len()))
            .ok_or_else(|| WorkloadError("internal: no output layer".into()))?;
        let fan_in = WIDTHS[WIDTHS.len() - 1] as f64;
        for w in cnf.store_mut().get_mut(last) {
            *w = T::from_f64((rng.random::<f64>() * 2.0 - 1.0) * 0.5 * (3.0 / fan_in).sqrt());
        }
        // data: a skewed Gaussian x1 = A z + z², a fixed draw
        let z = base_draws::<T, _>(&mut rng, batch, DIM);
        let x1: Vec<T> = z
            .iter()
            .enumerate()
            .map(|(k, &v)| v + T::from_f64(0.3) * v * v + T::from_f64((k % DIM) as f64 * 0.1))
            .collect();
        let x0 = base_draws::<T, _>(&mut rng, batch, DIM);
        let t = (0..batch)
            .map(|_| T::from_f64(rng.random::<f64>()))
            .collect();
        let grads = cnf.store().zeros_like();
        Ok(Self {
            step,
            batch,
            cnf,
            x0,
            x1,
            t,
            opts: SolveOptions::fixed(Method::Rk4, T::from_f64(1.0 / NLL_STEPS as f64)),
            tape: Tape::new(),
            grads,
        })
    }

    /// The gradient of the last run.
    pub fn grads(&self) -> &Grads<T> {
        &self.grads
    }
}

/// The name of the workload: `cnf_grad/{dtype}/{step}/d=6/w=128x128/B={batch}`.
pub fn name_of(step: CnfStep, batch: usize, dtype: &str) -> String {
    let what = match step {
        CnfStep::FlowMatching => "flow_matching".to_string(),
        CnfStep::ExactNll => format!("exact_nll_rk4_{NLL_STEPS}"),
    };
    format!(
        "cnf_grad/{dtype}/{what}/d={DIM}/w={}x{}/B={batch}",
        WIDTHS[0], WIDTHS[1]
    )
}

impl<T: Float> Workload for CnfGrad<T> {
    fn name(&self) -> String {
        name_of(self.step, self.batch, T::NAME)
    }

    fn flops(&self) -> Option<f64> {
        if self.step != CnfStep::FlowMatching {
            return None;
        }
        let mut fan_in = DIM + 1;
        let mut sum = 0.0;
        for w in WIDTHS.into_iter().chain([DIM]) {
            sum += (fan_in * w) as f64;
            fan_in = w;
        }
        Some(6.0 * self.batch as f64 * sum)
    }

    fn scalar_bytes(&self) -> usize {
        std::mem::size_of::<T>()
    }

    fn run(&mut self) -> Result<RunOutput, WorkloadError> {
        let tape = &mut self.tape;
        tape.clear();
        let vars = self.cnf.record(tape);
        let (loss, steps, evals) = match self.step {
            CnfStep::FlowMatching => (
                flow_matching_loss(tape, &self.cnf, &vars, &self.x0, &self.x1, &self.t, &[]),
                0,
                0,
            ),
            CnfStep::ExactNll => (
                nll_on_tape(
                    tape,
                    &self.cnf,
                    &vars,
                    &self.x1,
                    &[],
                    Trace::Exact,
                    &self.opts,
                )?,
                NLL_STEPS,
                4 * NLL_STEPS,
            ),
        };
        tape.backward(loss);
        self.grads.zero();
        tape.accumulate_param_grads(&mut self.grads);
        Ok(RunOutput {
            loss: tape.scalar(loss).to_f64(),
            steps,
            rhs_evals: evals,
            peak_values: tape.num_values() + tape.num_grad_values(),
        })
    }
}
