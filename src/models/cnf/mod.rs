//! Continuous normalizing flows trained by flow matching (SPEC §5; Chen et al. 2018, FFJORD,
//! Lipman et al. 2022, Tong et al. 2023).
//!
//! ```text
//! dx/dt = v(x, t),   x(0) ~ N(0, I)  (noise at t = 0, data at t = 1)
//! v(x, t) = W_L a_L + b_L,   a_1 = act(W_0 [x; c; t] + b_0),   a_{l+1} = act(W_l a_l + b_l)
//! log p_1(x(1)) = log N(x(0); 0, I) − ∫_0^1 tr(∂v/∂x)(x(t), t) dt
//! flow matching:  x_t = (1−t) x_0 + t x_1,   L = mean (v(x_t, t) − (x_1 − x_0))²
//! ```
//!
//! The velocity is an MLP on `[x; c; t]`: `x ∈ R^d` the flowing state, `c ∈ R^C` optional
//! conditioning inputs held fixed along the flow (C = 0 gives SPEC §5's `[x; t]`), `t` last.
//! The divergence `tr(∂v/∂x)` is built from tape ops (forward tangents through the layers with
//! the activation's derivative op), so likelihoods and entropies are differentiable
//! (`velocity.rs`, [`Trace`]). Parameters are named as SPEC §7: `vel.0.W [w1][d+C+1]`,
//! `vel.0.b [w1]`, …, `vel.L.W [d][wL]`, `vel.L.b [d]`.
//!
//! # Example
//! ```
//! use neurodyn::models::cnf::{Cnf, CnfConfig, Trace};
//! use neurodyn::tape::Tape;
//! let cnf = Cnf::<f64>::new(CnfConfig { dim: 2, hidden: vec![16], ..Default::default() },
//!                           &mut neurodyn::rng::seeded(0))?;
//! let mut tape = Tape::new();
//! let v = cnf.record(&mut tape);
//! let x = tape.constant(4, 2, &[0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8]);
//! let (vel, div) = cnf.velocity_div(&mut tape, &v, x, None, 0.5, &Trace::Exact);
//! assert_eq!((tape.shape(vel), tape.shape(div)), ((4, 2), (4, 1)));
//! # Ok::<(), neurodyn::ConfigError>(())
//! ```

mod flow_matching;
mod likelihood;
mod ot;
pub mod qmc;
mod velocity;

pub use flow_matching::{
    FlowMatchingConfig, FlowMatchingReport, fit_flow_matching, flow_matching_loss,
};
pub(crate) use likelihood::base_draws;
pub use likelihood::{
    CnfOde, Direction, entropy, log_likelihood, nll_on_tape, push_forward, sample, sample_on_tape,
};
pub use ot::assignment;
pub use velocity::{CnfVars, Trace};

use super::Activation;
use crate::Float;
use crate::error::ConfigError;
use crate::tape::{ParamId, ParamStore};
use rand::Rng;

/// Architecture of a CNF's velocity MLP.
#[derive(Clone, Debug, PartialEq)]
pub struct CnfConfig {
    /// Dimension d of the flowing state.
    pub dim: usize,
    /// Number C of conditioning inputs (held fixed along the flow).
    pub cond: usize,
    /// Hidden widths (at least one layer).
    pub hidden: Vec<usize>,
    /// Hidden activation: tanh, silu, softplus or sigmoid (smooth, so the divergence is
    /// differentiable).
    pub activation: Activation,
}

impl Default for CnfConfig {
    fn default() -> Self {
        Self {
            dim: 2,
            cond: 0,
            hidden: vec![64, 64],
            activation: Activation::Silu,
        }
    }
}

impl CnfConfig {
    /// Checks the sizes and the activation.
    ///
    /// # Errors
    /// `dim = 0`, no hidden layer, a zero width, more than 16 layers, or relu (whose derivative
    /// is not differentiable).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.dim == 0 {
            return Err(ConfigError::new("dim", "must be at least 1"));
        }
        if self.hidden.is_empty() {
            return Err(ConfigError::new(
                "hidden",
                "needs at least one hidden layer",
            ));
        }
        if self.hidden.len() > 16 {
            return Err(ConfigError::new("hidden", "at most 16 hidden layers"));
        }
        if let Some(l) = self.hidden.iter().position(|&w| w == 0) {
            return Err(ConfigError::new(
                format!("hidden[{l}]"),
                "must be at least 1",
            ));
        }
        if self.activation == Activation::Relu {
            return Err(ConfigError::new(
                "activation",
                "relu is not smooth: the exact divergence needs tanh, silu, softplus or sigmoid",
            ));
        }
        Ok(())
    }
}

/// A CNF velocity field: configuration and parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Cnf<T> {
    cfg: CnfConfig,
    store: ParamStore<T>,
    w: Vec<ParamId>,
    b: Vec<ParamId>,
}

impl<T: Float> Cnf<T> {
    /// A fresh velocity MLP: Glorot-uniform weights, zero biases, and a zero output layer (the
    /// flow starts as the identity map, so the initial density is the base Gaussian).
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn new<R: Rng + ?Sized>(cfg: CnfConfig, rng: &mut R) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let mut store = ParamStore::new();
        let (mut w, mut b) = (Vec::new(), Vec::new());
        let mut fan_in = cfg.dim + cfg.cond + 1;
        let last = cfg.hidden.len();
        let widths: Vec<usize> = cfg.hidden.iter().copied().chain([cfg.dim]).collect();
        for (l, &width) in widths.iter().enumerate() {
            let wv: Vec<T> = if l == last {
                vec![T::ZERO; width * fan_in]
            } else {
                super::init::glorot_uniform(rng, width, fan_in)
            };
            let internal = "internal: fresh, finite, well-shaped parameter";
            w.push(
                store
                    .add(&format!("vel.{l}.W"), width, fan_in, &wv)
                    .expect(internal),
            );
            b.push(
                store
                    .add(&format!("vel.{l}.b"), 1, width, &vec![T::ZERO; width])
                    .expect(internal),
            );
            fan_in = width;
        }
        Ok(Self { cfg, store, w, b })
    }

    /// A CNF with the given parameter values, `(name, rows, cols, values)`, named as SPEC §7.
    ///
    /// # Errors
    /// A missing, unknown, misshapen or non-finite parameter (named), or an invalid
    /// configuration.
    pub fn from_params(
        cfg: CnfConfig,
        params: &[(String, usize, usize, Vec<T>)],
    ) -> Result<Self, ConfigError> {
        let mut cnf = Self::new(cfg, &mut crate::rng::seeded(0))?;
        for (name, r, c, v) in params {
            let id = cnf.store.id(name).ok_or_else(|| {
                ConfigError::new(format!("params.{name}"), "not a parameter of this CNF")
            })?;
            let info = cnf.store.info(id).clone();
            if (info.rows, info.cols) != (*r, *c) && !(info.rows == 1 && info.cols == *r * *c) {
                return Err(ConfigError::new(
                    format!("params.{name}"),
                    format!("expected shape {}×{}, got {r}×{c}", info.rows, info.cols),
                ));
            }
            if let Some(k) = v.iter().position(|x| !x.is_finite()) {
                return Err(ConfigError::new(
                    format!("params.{name}"),
                    format!("element {k} is not finite"),
                ));
            }
            cnf.store.get_mut(id).copy_from_slice(v);
        }
        for info in cnf.store.infos() {
            if !params.iter().any(|(n, ..)| n == &info.name) {
                return Err(ConfigError::new(format!("params.{}", info.name), "missing"));
            }
        }
        Ok(cnf)
    }

    /// The configuration.
    pub fn config(&self) -> &CnfConfig {
        &self.cfg
    }

    /// The parameters.
    pub fn store(&self) -> &ParamStore<T> {
        &self.store
    }

    /// The parameters, mutable (optimiser steps, checkpoints).
    pub fn store_mut(&mut self) -> &mut ParamStore<T> {
        &mut self.store
    }

    /// A short description.
    pub fn describe(&self) -> String {
        format!(
            "CNF d={}{} hidden={:?} {}",
            self.cfg.dim,
            if self.cfg.cond > 0 {
                format!(" cond={}", self.cfg.cond)
            } else {
                String::new()
            },
            self.cfg.hidden,
            self.cfg.activation.name()
        )
    }
}
