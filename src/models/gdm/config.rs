//! The GDM's configuration: sizes, temperature, observation model, posterior, switching.

use crate::error::ConfigError;

/// The observation model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Emission {
    /// `y_t ~ N(Σ_k z_tk μ_{k,t}, diag(exp(log_var)))`.
    #[default]
    Gaussian,
    /// `y_t ~ Poisson(softplus(Σ_k z_tk μ_{k,t}))` per coordinate (counts).
    Poisson,
}

/// The variational posterior over the relaxed states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PosteriorKind {
    /// `q(z_t | y_t) = Concrete(q.W y_t + q.b, τ)`, independent over time (the authors').
    #[default]
    PerStep,
    /// Logits from a bidirectional GRU over `y_{1:T}` (hidden size each way), then
    /// `q(z_t | y_{1:T}) = Concrete(q.out.W [h→_t, h←_t] + q.out.b, τ)`.
    BiGru {
        /// Hidden units per direction.
        hidden: usize,
    },
}

/// How the states enter the generative model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Switching {
    /// Relaxed states on the simplex, Concrete densities (the GDM).
    #[default]
    Soft,
    /// The hard-switching baseline: one-hot states `argmax` of the relaxed sample (an exact
    /// categorical draw by the Gumbel-max trick), categorical log-probabilities, gradients by
    /// the straight-through estimator.
    Hard,
}

/// Sizes and options of a [`super::Gdm`]. `Default` is the NASCAR setting of the authors
/// (K = 4, N = 10, D = 2, one lag, τ = 0.99, Gaussian, per-step posterior, soft states), with
/// F trained (ours; the authors freeze it).
#[derive(Clone, Debug, PartialEq)]
pub struct GdmConfig {
    /// Number of discrete states K (≥ 2).
    pub states: usize,
    /// Observation dimension N (≥ 1).
    pub obs: usize,
    /// Projection dimension D (≥ 1): `F` is `D × N`.
    pub proj: usize,
    /// Autoregressive lags L (≥ 1): `μ_{k,t} = Σ_l S_{k,l} F y_{t−l} + b_k`.
    pub lags: usize,
    /// Input dimension I (0 for none).
    pub inputs: usize,
    /// Concrete temperature τ (> 0) of prior, transitions and posterior.
    pub tau: f64,
    /// Observation model.
    pub emission: Emission,
    /// Posterior family.
    pub posterior: PosteriorKind,
    /// Soft (GDM) or hard (argmax) switching.
    pub switching: Switching,
    /// Whether training updates the projection `F`.
    pub train_f: bool,
}

impl Default for GdmConfig {
    fn default() -> Self {
        Self {
            states: 4,
            obs: 10,
            proj: 2,
            lags: 1,
            inputs: 0,
            tau: 0.99,
            emission: Emission::Gaussian,
            posterior: PosteriorKind::PerStep,
            switching: Switching::Soft,
            train_f: true,
        }
    }
}

impl GdmConfig {
    /// Checks the sizes and the temperature.
    ///
    /// # Errors
    /// `states < 2`, a zero `obs`, `proj`, `lags` or GRU size, or `tau` not positive.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.states < 2 {
            return Err(ConfigError::new(
                "states",
                format!(
                    "a switching model needs at least 2 states, got {}",
                    self.states
                ),
            ));
        }
        for (name, v) in [("obs", self.obs), ("proj", self.proj), ("lags", self.lags)] {
            if v == 0 {
                return Err(ConfigError::new(name, "must be at least 1"));
            }
        }
        if let PosteriorKind::BiGru { hidden: 0 } = self.posterior {
            return Err(ConfigError::new("posterior.hidden", "must be at least 1"));
        }
        super::Concrete::new(self.tau)?;
        Ok(())
    }
}

impl std::str::FromStr for Emission {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "gaussian" => Ok(Emission::Gaussian),
            "poisson" => Ok(Emission::Poisson),
            _ => Err(ConfigError::new(
                "emission",
                format!("unknown emission {s:?} (expected gaussian or poisson)"),
            )),
        }
    }
}
