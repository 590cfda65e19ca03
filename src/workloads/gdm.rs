//! The GDM objective and its gradient (SPEC §6.1): `L = −ELBO − H(ū)` with `M` reparameterised
//! posterior samples, on a NASCAR sequence (standard variant).
//!
//! ```text
//! T = 1000 steps, N = 10 channels, K = 4 states, D = 2, one lag, τ = 0.99, M = 10 samples,
//! per-step Concrete posterior, Gaussian emissions, F trained
//! ```
//!
//! The Gumbel noise is drawn once when the workload is built, so every run computes the same
//! loss (a deterministic function of the parameters), as a training iteration would with that
//! draw.

use super::{RunOutput, Workload, WorkloadError};
use crate::Float;
use crate::models::gdm::{Gdm, GdmConfig, Prepared, Sequences, gumbel_noise};
use crate::tape::{Grads, Tape};
use crate::tasks::nascar::{Variant, generate};

/// Sizes of the GDM workload.
#[derive(Clone, Debug, PartialEq)]
pub struct GdmGradSpec {
    /// Sequence length T.
    pub steps: usize,
    /// Observation channels N.
    pub obs: usize,
    /// States K.
    pub states: usize,
    /// Posterior samples M.
    pub samples: usize,
    /// Seed of the data, parameters and noise.
    pub seed: u64,
}

impl Default for GdmGradSpec {
    fn default() -> Self {
        Self {
            steps: 1000,
            obs: 10,
            states: 4,
            samples: 10,
            seed: 0,
        }
    }
}

impl GdmGradSpec {
    /// The workload's name for scalar type `dtype`: `gdm_elbo_grad/{dtype}/T=…/N=…/K=…/M=…`.
    pub fn name(&self, dtype: &str) -> String {
        format!(
            "gdm_elbo_grad/{dtype}/T={}/N={}/K={}/M={}",
            self.steps, self.obs, self.states, self.samples
        )
    }
}

/// The GDM loss + gradient workload.
pub struct GdmGrad<T: Float> {
    spec: GdmGradSpec,
    model: Gdm<T>,
    prep: Prepared<T>,
    gumbel: Vec<T>,
    tape: Tape<T>,
    grads: Grads<T>,
}

impl<T: Float> GdmGrad<T> {
    /// Generates the sequence and the model from `spec.seed`.
    ///
    /// # Errors
    /// Invalid sizes (fewer than two states, zero steps, channels or samples).
    pub fn new(spec: &GdmGradSpec) -> Result<Self, WorkloadError> {
        if spec.samples == 0 {
            return Err(WorkloadError("samples must be at least 1".into()));
        }
        let err = |e: crate::ConfigError| WorkloadError(e.to_string());
        let mut rng = crate::rng::stream(spec.seed, 3);
        let seq = generate(Variant::Standard, spec.steps, spec.obs, None, &mut rng).map_err(err)?;
        let data = Sequences::new(seq.y, spec.steps, spec.obs)
            .map_err(err)?
            .cast::<T>();
        let cfg = GdmConfig {
            states: spec.states,
            obs: spec.obs,
            ..Default::default()
        };
        let model = Gdm::<T>::new(cfg, &mut rng).map_err(err)?;
        let prep = model.prepare(&data).map_err(err)?;
        let mut gumbel = vec![T::ZERO; spec.samples * prep.rows() * spec.states];
        gumbel_noise(&mut rng, &mut gumbel);
        let grads = model.store().zeros_like();
        Ok(Self {
            spec: spec.clone(),
            model,
            prep,
            gumbel,
            tape: Tape::new(),
            grads,
        })
    }

    /// The gradient of the last run.
    pub fn grads(&self) -> &Grads<T> {
        &self.grads
    }
}

impl<T: Float> Workload for GdmGrad<T> {
    fn name(&self) -> String {
        self.spec.name(T::NAME)
    }

    fn scalar_bytes(&self) -> usize {
        std::mem::size_of::<T>()
    }

    fn run(&mut self) -> Result<RunOutput, WorkloadError> {
        let tape = &mut self.tape;
        tape.clear();
        let v = self.model.record(tape);
        let parts = self
            .model
            .neg_elbo(tape, &v, &self.prep, &self.gumbel, self.spec.samples);
        tape.backward(parts.loss);
        self.grads.zero();
        tape.accumulate_param_grads(&mut self.grads);
        Ok(RunOutput {
            loss: tape.scalar(parts.loss).to_f64(),
            peak_values: tape.num_values() + tape.num_grad_values(),
            ..RunOutput::default()
        })
    }
}
