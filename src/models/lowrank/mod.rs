//! Low-rank recurrent networks (SPEC §4; Mastrogiuseppe & Ostojic 2018, Beiran et al. 2021,
//! Dubreuil et al. 2022, Valente et al. 2022) and their connectivity distributions.
//!
//! ```text
//! τ dx_i/dt = −x_i + (1/N) Σ_r m_ir Σ_j n_jr φ(x_j) + Σ_s I_is u_s(t),      φ = tanh
//! ```
//!
//! The N × N matrix `J = M Nᵀ / N` is never formed: the recurrent input of a batch of states
//! `X` (`batch × N`) is `((φ(X) N) / N) Mᵀ`, O(N R) per state. Neuron `i` is its loading vector
//! `z_i = (m_i, n_i, I_i) ∈ R^(2R+S)`; a network is N samples of a distribution p(z), whose
//! latent (mean-field) dynamics live in [`meanfield`].
//!
//! Parameters (SPEC §7): `m [N][R]`, `n [N][R]`, `input [N][S]` (when S > 0), and optionally
//! `x0 [K][N]`, K stored initial states (one shared by a batch, or one per trial when fitting).
//!
//! # Example
//! ```
//! use neurodyn::models::lowrank::{LowRank, LowRankConfig};
//! use neurodyn::tape::Tape;
//! let cfg = LowRankConfig { neurons: 50, rank: 2, ..Default::default() };
//! let net = LowRank::<f64>::new(cfg, &mut neurodyn::rng::seeded(0))?;
//! let mut tape = Tape::new();
//! let v = net.record(&mut tape);
//! let x = tape.constant(3, 50, &[0.1; 150]);
//! let f = net.velocity(&mut tape, &v, x, None);
//! assert_eq!(tape.shape(f), (3, 50));
//! # Ok::<(), neurodyn::ConfigError>(())
//! ```

pub mod connector;
pub mod finite;
pub mod fit;
pub mod gauge;
pub mod generators;
pub mod latent;
pub mod meanfield;
pub mod metrics;
mod network;
mod ode;
pub mod recording;
pub mod simulate;

pub use network::LowRankVars;
pub use ode::{LowRankOde, LowRankOdeParams};

use crate::Float;
use crate::error::ConfigError;
use crate::tape::{ParamId, ParamStore};
use rand::Rng;

/// Architecture of a low-rank network.
#[derive(Clone, Debug, PartialEq)]
pub struct LowRankConfig {
    /// Number of neurons N.
    pub neurons: usize,
    /// Rank R of the connectivity.
    pub rank: usize,
    /// Number of input channels S.
    pub inputs: usize,
    /// Time constant τ.
    pub tau: f64,
    /// Stored initial states `x0 [K][N]` (0: none).
    pub initial_states: usize,
}

impl Default for LowRankConfig {
    fn default() -> Self {
        Self {
            neurons: 100,
            rank: 1,
            inputs: 0,
            tau: 1.0,
            initial_states: 0,
        }
    }
}

impl LowRankConfig {
    /// Checks sizes and τ.
    ///
    /// # Errors
    /// No neurons, rank 0, a rank larger than the number of neurons, or a non-positive τ.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.neurons == 0 {
            return Err(ConfigError::new("neurons", "must be at least 1"));
        }
        if self.rank == 0 {
            return Err(ConfigError::new("rank", "must be at least 1"));
        }
        if self.rank > self.neurons {
            return Err(ConfigError::new(
                "rank",
                format!(
                    "rank {} is larger than the number of neurons {}",
                    self.rank, self.neurons
                ),
            ));
        }
        if !(self.tau.is_finite() && self.tau > 0.0) {
            return Err(ConfigError::new(
                "tau",
                format!("must be positive and finite, got {}", self.tau),
            ));
        }
        Ok(())
    }
}

/// Parameter ids of a low-rank network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LowRankIds {
    pub(crate) m: ParamId,
    pub(crate) n: ParamId,
    pub(crate) input: Option<ParamId>,
    pub(crate) x0: Option<ParamId>,
}

/// A low-rank network: configuration and parameters (`m`, `n`, `input`, optional `x0`).
#[derive(Clone, Debug, PartialEq)]
pub struct LowRank<T> {
    cfg: LowRankConfig,
    store: ParamStore<T>,
    pub(crate) ids: LowRankIds,
}

impl<T: Float> LowRank<T> {
    /// A network with standard-normal loadings (`m`, `n`, `input`) and zero initial states.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn new<R: Rng + ?Sized>(cfg: LowRankConfig, rng: &mut R) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let (n, r, s) = (cfg.neurons, cfg.rank, cfg.inputs);
        let m = super::init::normal(rng, n * r, 1.0);
        let nn = super::init::normal(rng, n * r, 1.0);
        let inp = super::init::normal(rng, n * s, 1.0);
        Self::from_loadings(cfg, &m, &nn, &inp)
    }

    /// A network with the given loadings (row-major `m [N][R]`, `n [N][R]`, `input [N][S]`);
    /// stored initial states start at zero.
    ///
    /// # Errors
    /// An invalid configuration, wrong lengths or non-finite values (named).
    pub fn from_loadings(
        cfg: LowRankConfig,
        m: &[T],
        n: &[T],
        input: &[T],
    ) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let (nn, r, s) = (cfg.neurons, cfg.rank, cfg.inputs);
        let check = |name: &str, v: &[T], want: usize, cols: usize| {
            if v.len() != want {
                return Err(ConfigError::new(
                    name,
                    format!("expected {nn}×{cols} = {want} values, got {}", v.len()),
                ));
            }
            if let Some(k) = v.iter().position(|x| !x.is_finite()) {
                return Err(ConfigError::new(name, format!("element {k} is not finite")));
            }
            Ok(())
        };
        check("m", m, nn * r, r)?;
        check("n", n, nn * r, r)?;
        check("input", input, nn * s, s)?;
        let mut store = ParamStore::new();
        let internal = "internal: checked, finite, well-shaped parameter";
        let m = store.add("m", nn, r, m).expect(internal);
        let n = store.add("n", nn, r, n).expect(internal);
        let input = (s > 0).then(|| store.add("input", nn, s, input).expect(internal));
        let k = cfg.initial_states;
        let x0 = (k > 0).then(|| {
            store
                .add("x0", k, nn, &vec![T::ZERO; k * nn])
                .expect(internal)
        });
        Ok(Self {
            cfg,
            store,
            ids: LowRankIds { m, n, input, x0 },
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LowRankConfig {
        &self.cfg
    }

    /// The parameters.
    pub fn store(&self) -> &ParamStore<T> {
        &self.store
    }

    /// The parameters, mutable (optimiser steps).
    pub fn store_mut(&mut self) -> &mut ParamStore<T> {
        &mut self.store
    }

    /// The left loadings `m` (`N × R`, row-major).
    pub fn m(&self) -> &[T] {
        self.store.get(self.ids.m)
    }

    /// The right loadings `n` (`N × R`).
    pub fn n(&self) -> &[T] {
        self.store.get(self.ids.n)
    }

    /// The input loadings (`N × S`; empty without inputs).
    pub fn input(&self) -> &[T] {
        self.ids.input.map_or(&[], |id| self.store.get(id))
    }

    /// The stored initial states (`K × N`; empty when K = 0).
    pub fn x0(&self) -> &[T] {
        self.ids.x0.map_or(&[], |id| self.store.get(id))
    }

    /// The stored initial states, mutable.
    pub fn x0_mut(&mut self) -> &mut [T] {
        match self.ids.x0 {
            Some(id) => self.store.get_mut(id),
            None => &mut [],
        }
    }

    /// Sets `m` and `n` (e.g. after a gauge change).
    ///
    /// # Panics
    /// If the lengths are not `N·R`.
    pub fn set_loadings(&mut self, m: &[T], n: &[T]) {
        self.store.get_mut(self.ids.m).copy_from_slice(m);
        self.store.get_mut(self.ids.n).copy_from_slice(n);
    }

    /// The loadings as `z_i = (m_i, n_i, I_i)` rows (`N × (2R + S)`).
    pub fn loadings(&self) -> Vec<T> {
        let (nn, r, s) = (self.cfg.neurons, self.cfg.rank, self.cfg.inputs);
        let d = 2 * r + s;
        let mut z = Vec::with_capacity(nn * d);
        for i in 0..nn {
            z.extend_from_slice(&self.m()[i * r..(i + 1) * r]);
            z.extend_from_slice(&self.n()[i * r..(i + 1) * r]);
            z.extend_from_slice(&self.input()[i * s..(i + 1) * s]);
        }
        z
    }

    /// A short description.
    pub fn describe(&self) -> String {
        format!(
            "low-rank RNN N={} R={} S={} τ={}",
            self.cfg.neurons, self.cfg.rank, self.cfg.inputs, self.cfg.tau
        )
    }
}
