//! The Gumbel Dynamical Model (Wang, Kim, Shea-Brown & Sümbül 2025; authors' code
//! yiliuw/GDM): switching dynamics whose discrete states are relaxed onto the simplex with
//! Concrete (Gumbel-softmax) noise, trained end to end by reparameterised variational
//! inference. SPEC §6 is the reference; `docs/models/gdm.md` has the results.
//!
//! ```text
//! states:       z_1 ~ Concrete(logits_z1, τ)
//!               z_t ~ Concrete((1 − γ)(R F y_{t−1} + r) + γ z_{t−1}, τ)          t ≥ 2
//! emissions:    μ_{k,1} = mu_init_k,   μ_{k,t} = Σ_l S_{k,l} F y_{t−l} + b_k      t > L
//!               y_t ~ N(Σ_k z_tk μ_{k,t}, diag(exp(log_var)))   or Poisson(softplus(·))
//! posterior:    q(z_t | y) = Concrete(q.W y_t + q.b, τ)   (or a bidirectional GRU's logits)
//! objective:    L = −( (1/M) Σ_m [ln p(z^m) + ln p(y | z^m) − ln q(z^m | y)] + H(ū) )
//! ```
//!
//! * [`Concrete`]: sampling, the exact log-density, straight-through hard samples.
//! * [`Gdm`]: configuration ([`GdmConfig`]), parameters named as SPEC §7, the objective
//!   ([`Gdm::neg_elbo`]), inference ([`Gdm::soft_states`], [`Gdm::reconstruct`],
//!   [`Gdm::forecast`]). Training is `crate::train::gdm::fit`.
//! * [`Sequences`]: trials of different lengths (masks are built from the lengths).
//!
//! # Example: the objective and its gradient for fixed Gumbel draws
//! ```
//! use neurodyn::models::gdm::{Gdm, GdmConfig, Sequences, gumbel_noise};
//! use neurodyn::tape::Tape;
//! let mut rng = neurodyn::rng::seeded(0);
//! let cfg = GdmConfig { states: 3, obs: 4, proj: 2, ..Default::default() };
//! let model = Gdm::<f64>::new(cfg, &mut rng)?;
//! let data = Sequences::new((0..40).map(|i| (i as f64 * 0.3).sin()).collect(), 10, 4)?;
//! let prep = model.prepare(&data)?;
//! let samples = 5;
//! let mut g = vec![0.0; samples * 10 * 3];
//! gumbel_noise(&mut rng, &mut g);
//! let mut tape = Tape::new();
//! let v = model.record(&mut tape);
//! let parts = model.neg_elbo(&mut tape, &v, &prep, &g, samples);
//! tape.backward(parts.loss);
//! let mut grads = model.store().zeros_like();
//! tape.accumulate_param_grads(&mut grads);
//! assert!(tape.scalar(parts.loss).is_finite() && grads.all_finite());
//! # Ok::<(), neurodyn::ConfigError>(())
//! ```

mod concrete;
mod config;
mod data;
mod elbo;
mod forward;
mod infer;
mod params;
mod posterior;

pub use concrete::{
    Concrete, Relaxed, gumbel_noise, ln_gamma, logsumexp, one_hot_argmax, straight_through,
};
pub use config::{Emission, GdmConfig, PosteriorKind, Switching};
pub use data::Sequences;
pub use elbo::{ElboParts, Prepared};
pub use infer::Forecast;
pub use params::{GdmVars, QVars};

use crate::Float;
use crate::error::ConfigError;
use crate::tape::{ParamId, ParamStore, Tape};
use params::Ids;
use rand::Rng;

/// A Gumbel Dynamical Model: configuration and parameters. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Gdm<T> {
    cfg: GdmConfig,
    store: ParamStore<T>,
    ids: Ids,
}

impl<T: Float> Gdm<T> {
    /// A model with the authors' initialisation (the table in `params.rs`: `F = 0.1·N(0,1)`,
    /// `S_k = C A_k` with `C` Gaussian and `A_k` random orthogonal, `log_var = −1 + U(0,1)`,
    /// `q.W = 0.8·N(0,1)`, `γ = 0.1`, zero biases).
    ///
    /// # Errors
    /// An invalid configuration ([`GdmConfig::validate`]).
    pub fn new<R: Rng + ?Sized>(cfg: GdmConfig, rng: &mut R) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let (store, ids) = params::init_store(&cfg, rng);
        Ok(Self { cfg, store, ids })
    }

    /// A model with given parameter values `(name, values)` (row-major in the SPEC shape;
    /// every parameter of the configuration must be given exactly once).
    ///
    /// # Errors
    /// An invalid configuration, an unknown, missing or misshapen parameter, or a non-finite
    /// value, naming the parameter.
    pub fn from_params(cfg: GdmConfig, values: &[(String, Vec<T>)]) -> Result<Self, ConfigError> {
        let mut model = Self::new(cfg, &mut crate::rng::seeded(0))?;
        for (name, v) in values {
            let id = model.store.id(name).ok_or_else(|| {
                ConfigError::new(format!("params.{name}"), "not a parameter of this model")
            })?;
            let info = model.store.info(id).clone();
            if v.len() != info.len() {
                return Err(ConfigError::new(
                    format!("params.{name}"),
                    format!(
                        "{} values; expected shape {:?}",
                        v.len(),
                        model.spec_shape(name)
                    ),
                ));
            }
            if let Some(k) = v.iter().position(|x| !x.is_finite()) {
                return Err(ConfigError::new(
                    format!("params.{name}"),
                    format!("element {k} is not finite"),
                ));
            }
            model.store.get_mut(id).copy_from_slice(v);
        }
        for info in model.store.infos() {
            if !values.iter().any(|(n, _)| n == &info.name) {
                return Err(ConfigError::new(format!("params.{}", info.name), "missing"));
            }
        }
        Ok(model)
    }

    /// The configuration.
    pub fn config(&self) -> &GdmConfig {
        &self.cfg
    }
    /// The parameters.
    pub fn store(&self) -> &ParamStore<T> {
        &self.store
    }
    /// The parameters, mutable (e.g. for an optimiser).
    pub fn store_mut(&mut self) -> &mut ParamStore<T> {
        &mut self.store
    }
    /// The id of the projection `F` (to freeze it).
    pub fn f_id(&self) -> ParamId {
        self.ids.f
    }

    /// The SPEC §6.1/§7 shape of a parameter (`[]` for γ, `[K, N, L·D]` for `S`, `[K, N]`
    /// for `b` and `mu_init`, `[n]` for vectors); empty for an unknown name.
    pub fn spec_shape(&self, name: &str) -> Vec<usize> {
        match self.store.id(name) {
            Some(id) => {
                let i = self.store.info(id);
                params::spec_shape(&self.cfg, name, i.rows, i.cols)
            }
            None => Vec::new(),
        }
    }

    /// Records every parameter on `tape`.
    pub fn record(&self, tape: &mut Tape<T>) -> GdmVars {
        self.ids.record(tape, &self.store)
    }

    /// Records every parameter with the values of another store of the same layout (for
    /// gradient checks).
    pub fn record_from(&self, tape: &mut Tape<T>, store: &ParamStore<T>) -> GdmVars {
        self.ids.record(tape, store)
    }

    /// The same model in another float type.
    pub fn cast<U: Float>(&self) -> Gdm<U> {
        Gdm {
            cfg: self.cfg.clone(),
            store: self.store.cast(),
            ids: self.ids.clone(),
        }
    }
}
