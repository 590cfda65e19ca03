//! Gated neural ODEs (Kim, Can & Krishnamurthy, ICML 2023) and their special cases.
//!
//! ```text
//! nODE:   τ dh/dt = −h + F(h, x)
//! gnODE:  τ dh/dt = G(h, x) ⊙ (−h + F(h, x)),     G = σ(W_z h + U_z x + b_z)
//! F:      a_1 = act(W_0 h + U_0 x + b_0),  a_{l+1} = act(W_l a_l + b_l),  F = W_L a_L + b_L
//!         (flow = []:  F = tanh(W_0 h + U_0 x + b_0); with the gate this is the mGRU,
//!          without it the rate RNN)
//! output: y = W_o h + b_o
//! discrete-time form (one Euler step, α = Δt/τ):  h' = (1 − α z) ⊙ h + α z ⊙ F
//! ```
//!
//! Parameter names and shapes follow SPEC §7 (`flow.0.W [w1][N]`, `flow.0.U [w1][I]`,
//! `flow.0.b [w1]`, …, `gate.W [N][N]`, `gate.U [N][I]`, `gate.b [N]`, `readout.W [O][N]`,
//! `readout.b [O]`, `h0 [N]`); vectors are stored as `1 × n` rows.
//!
//! # Example
//! ```
//! use neurodyn::models::gnode::{Gnode, GnodeConfig};
//! use neurodyn::tape::Tape;
//! let cfg = GnodeConfig { hidden: 4, inputs: 2, outputs: 1, flow: vec![16], ..Default::default() };
//! let model = Gnode::<f64>::new(cfg, &mut neurodyn::rng::seeded(0))?;
//! let mut tape = Tape::new();
//! let v = model.record(&mut tape);
//! let x = tape.constant(3, 2, &[0.1; 6]);
//! let h = model.initial_state(&mut tape, &v, Some(x), 3);
//! let d = model.drive(&mut tape, &v, x);
//! let h1 = model.discrete_step(&mut tape, &v, h, &d, 1.0);
//! assert_eq!(tape.shape(h1), (3, 4));
//! # Ok::<(), neurodyn::ConfigError>(())
//! ```

mod critical;
mod forward;
mod ode;

pub(crate) use critical::{eigenvalues, max_real_eigenvalue};
pub use forward::{Drive, GnodeVars};
pub use ode::{GnodeOde, GnodeOdeParams};

use super::activation::Activation;
use super::init;
use crate::Float;
use crate::error::ConfigError;
use crate::tape::{ParamId, ParamStore};
use rand::Rng;

/// A named parameter with its shape and row-major values: `(name, rows, cols, values)`.
pub type NamedParam<T> = (String, usize, usize, Vec<T>);

/// How the initial state is obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InitialState {
    /// A fixed Glorot-normal vector (not trained).
    Fixed,
    /// A trained vector `h0` shared by the batch.
    #[default]
    Learned,
    /// A trained affine map of the first input: `h0 = A x_0 + c` (`h0.A [N][I]`, `h0.c [N]`).
    FirstInput,
}

/// Weight initialisation scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InitScheme {
    /// Glorot-uniform weights, `0.001·N(0,1)` biases (the authors').
    #[default]
    Glorot,
    /// Kaiming-normal weights, then F's weights scaled so that the leading eigenvalue of
    /// `∂F/∂h` at `h0` (mean input) is ≈ 1: the flow starts at the edge of stability.
    Critical,
}

/// Architecture of a gnODE-family model.
#[derive(Clone, Debug, PartialEq)]
pub struct GnodeConfig {
    /// Phase-space dimension N.
    pub hidden: usize,
    /// Input dimension I.
    pub inputs: usize,
    /// Output dimension O.
    pub outputs: usize,
    /// Hidden widths of F (`[]`: a single tanh layer).
    pub flow: Vec<usize>,
    /// Activation of F's hidden layers (ignored when `flow` is empty).
    pub activation: Activation,
    /// Whether the gate G is present (gnODE/mGRU) or not (nODE/RNN).
    pub gate: bool,
    /// Time constant τ (continuous time).
    pub tau: f64,
    /// Initial state.
    pub initial_state: InitialState,
    /// Initialisation.
    pub init: InitScheme,
}

impl Default for GnodeConfig {
    fn default() -> Self {
        Self {
            hidden: 8,
            inputs: 1,
            outputs: 1,
            flow: vec![64, 64],
            activation: Activation::Relu,
            gate: true,
            tau: 1.0,
            initial_state: InitialState::Learned,
            init: InitScheme::Glorot,
        }
    }
}

impl GnodeConfig {
    /// The nODE/gnODE with an MLP flow, or (with `flow = []`) the RNN/mGRU.
    pub fn kind_name(&self) -> &'static str {
        match (self.flow.is_empty(), self.gate) {
            (true, true) => "mGRU",
            (true, false) => "RNN",
            (false, true) => "gnODE",
            (false, false) => "nODE",
        }
    }

    /// Checks sizes and τ.
    ///
    /// # Errors
    /// A zero size, a zero flow width, more than 16 hidden layers, or a non-positive τ.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = |name: &str, v: usize| {
            if v == 0 {
                Err(ConfigError::new(name, "must be at least 1"))
            } else {
                Ok(())
            }
        };
        positive("hidden", self.hidden)?;
        positive("outputs", self.outputs)?;
        for (l, &w) in self.flow.iter().enumerate() {
            positive(&format!("flow[{l}]"), w)?;
        }
        if self.flow.len() > 16 {
            return Err(ConfigError::new("flow", "at most 16 hidden layers"));
        }
        if !(self.tau.is_finite() && self.tau > 0.0) {
            return Err(ConfigError::new(
                "tau",
                format!("must be positive and finite, got {}", self.tau),
            ));
        }
        if self.initial_state == InitialState::FirstInput && self.inputs == 0 {
            return Err(ConfigError::new(
                "initial_state",
                "an affine map of the first input needs inputs ≥ 1",
            ));
        }
        Ok(())
    }
}

/// Parameter ids of a gnODE.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GnodeIds {
    /// `flow.l.W` for l = 0..=L (L = flow.len(); a single layer when flow is empty).
    pub(crate) flow_w: Vec<ParamId>,
    pub(crate) flow_b: Vec<ParamId>,
    pub(crate) flow_u: Option<ParamId>,
    pub(crate) gate: Option<(ParamId, Option<ParamId>, ParamId)>,
    pub(crate) out_w: ParamId,
    pub(crate) out_b: ParamId,
    pub(crate) h0: Option<ParamId>,
    pub(crate) h0_affine: Option<(ParamId, ParamId)>,
}

/// A gnODE-family model: configuration, parameters and (for `InitialState::Fixed`) the fixed
/// initial state.
#[derive(Clone, Debug, PartialEq)]
pub struct Gnode<T> {
    cfg: GnodeConfig,
    store: ParamStore<T>,
    pub(crate) ids: GnodeIds,
    h0_fixed: Option<Vec<T>>,
}

impl<T: Float> Gnode<T> {
    /// A freshly initialised model.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn new<R: Rng + ?Sized>(cfg: GnodeConfig, rng: &mut R) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let (n, i, o) = (cfg.hidden, cfg.inputs, cfg.outputs);
        let critical = cfg.init == InitScheme::Critical;
        let weight = |rng: &mut R, fout: usize, fin: usize| -> Vec<T> {
            if critical {
                init::kaiming_normal(rng, fout, fin)
            } else {
                init::glorot_uniform(rng, fout, fin)
            }
        };
        let mut store = ParamStore::new();
        let add = |store: &mut ParamStore<T>, name: &str, r: usize, c: usize, v: Vec<T>| {
            store
                .add(name, r, c, &v)
                .expect("internal: fresh, finite, well-shaped parameter")
        };
        // Values are drawn in SPEC order (every flow layer, then the gate), whatever the
        // layout below, so that a seed always gives the same model.
        let mut widths = cfg.flow.clone();
        widths.push(n);
        let mut fan_in = n;
        let layers: Vec<_> = widths
            .iter()
            .enumerate()
            .map(|(l, &w)| {
                let wv = weight(rng, w, fan_in);
                let uv = (l == 0 && i > 0).then(|| weight(rng, w, i));
                let bv = init::small_bias(rng, w);
                let fin = std::mem::replace(&mut fan_in, w);
                (w, fin, wv, uv, bv)
            })
            .collect();
        let mut gate_vals = cfg.gate.then(|| {
            let wv = weight(rng, n, n);
            let uv = (i > 0).then(|| weight(rng, n, i));
            (wv, uv, init::small_bias(rng, n))
        });
        // Layout: with a gate, the first flow layer's and the gate's weights, input weights and
        // biases are adjacent pairs, so that one stacked product serves both
        // (`Tape::param_span`).
        let (mut flow_w, mut flow_b) = (Vec::new(), Vec::new());
        let (mut flow_u, mut gate) = (None, None);
        for (l, (w, fin, wv, uv, bv)) in layers.into_iter().enumerate() {
            if let Some((gw, gu, gb)) = gate_vals.take() {
                flow_w.push(add(&mut store, "flow.0.W", w, fin, wv));
                let gw = add(&mut store, "gate.W", n, n, gw);
                let gu = match (uv, gu) {
                    (Some(uv), Some(gu)) => {
                        flow_u = Some(add(&mut store, "flow.0.U", w, i, uv));
                        Some(add(&mut store, "gate.U", n, i, gu))
                    }
                    _ => None,
                };
                flow_b.push(add(&mut store, "flow.0.b", 1, w, bv));
                gate = Some((gw, gu, add(&mut store, "gate.b", 1, n, gb)));
                continue;
            }
            flow_w.push(add(&mut store, &format!("flow.{l}.W"), w, fin, wv));
            if let Some(uv) = uv {
                flow_u = Some(add(&mut store, "flow.0.U", w, i, uv));
            }
            flow_b.push(add(&mut store, &format!("flow.{l}.b"), 1, w, bv));
        }
        let out_w = add(
            &mut store,
            "readout.W",
            o,
            n,
            init::glorot_uniform(rng, o, n),
        );
        let out_b = add(&mut store, "readout.b", 1, o, init::small_bias(rng, o));
        let h0_init: Vec<T> = init::glorot_normal(rng, n, 1);
        let (h0, h0_affine, h0_fixed) = match cfg.initial_state {
            InitialState::Fixed => (None, None, Some(h0_init)),
            InitialState::Learned => (Some(add(&mut store, "h0", 1, n, h0_init)), None, None),
            InitialState::FirstInput => {
                let a = add(&mut store, "h0.A", n, i, init::glorot_uniform(rng, n, i));
                let c = add(&mut store, "h0.c", 1, n, init::small_bias(rng, n));
                (None, Some((a, c)), None)
            }
        };
        let ids = GnodeIds {
            flow_w,
            flow_b,
            flow_u,
            gate,
            out_w,
            out_b,
            h0,
            h0_affine,
        };
        let mut model = Self {
            cfg,
            store,
            ids,
            h0_fixed,
        };
        if critical {
            critical::rescale_flow(&mut model);
        }
        Ok(model)
    }

    /// A model with the given parameter values (names and shapes as SPEC §7).
    ///
    /// # Errors
    /// A missing, extra or misshapen parameter (named), or an invalid configuration.
    pub fn from_params(
        cfg: GnodeConfig,
        params: &[(String, usize, usize, Vec<T>)],
    ) -> Result<Self, ConfigError> {
        let mut model = Self::new(
            GnodeConfig {
                init: InitScheme::Glorot,
                ..cfg
            },
            &mut crate::rng::seeded(0),
        )?;
        model.set_params(params)?;
        Ok(model)
    }

    /// Replaces every parameter's values (names and shapes as SPEC §7; a matrix may also be
    /// given as one row of all its values). All parameters must be given.
    ///
    /// # Errors
    /// A missing, extra, misshapen or non-finite parameter (named). The values are then partly
    /// replaced.
    ///
    /// # Example
    /// ```
    /// use neurodyn::models::gnode::{Gnode, GnodeConfig};
    /// let cfg = GnodeConfig { hidden: 2, inputs: 1, outputs: 1, ..GnodeConfig::default() };
    /// let mut m = Gnode::<f64>::new(cfg, &mut neurodyn::rng::seeded(0)).unwrap();
    /// let params: Vec<_> = m.store().infos().iter()
    ///     .map(|i| (i.name.clone(), i.rows, i.cols, vec![0.5; i.rows * i.cols]))
    ///     .collect();
    /// m.set_params(&params).unwrap();
    /// assert!(m.store().as_slice().iter().all(|&x| x == 0.5));
    /// assert!(m.set_params(&params[1..]).is_err()); // one missing
    /// ```
    pub fn set_params(
        &mut self,
        params: &[(String, usize, usize, Vec<T>)],
    ) -> Result<(), ConfigError> {
        let store = &mut self.store;
        for (name, r, c, v) in params {
            let id = store.id(name).ok_or_else(|| {
                ConfigError::new(format!("params.{name}"), "not a parameter of this model")
            })?;
            let info = store.info(id).clone();
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
            store.get_mut(id).copy_from_slice(v);
        }
        for info in store.infos() {
            if !params.iter().any(|(n, ..)| n == &info.name) {
                return Err(ConfigError::new(format!("params.{}", info.name), "missing"));
            }
        }
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &GnodeConfig {
        &self.cfg
    }

    /// The parameters.
    pub fn store(&self) -> &ParamStore<T> {
        &self.store
    }

    /// The SPEC §7 shape of a parameter: `[len]` for the bias vectors and the initial state
    /// (`flow.l.b`, `gate.b`, `readout.b`, `h0`, `h0.c`), `[rows, cols]` for the matrices,
    /// whatever their sizes (a 1 × n matrix stays a matrix). `None` for a foreign id.
    ///
    /// ```
    /// use neurodyn::models::gnode::{Gnode, GnodeConfig};
    /// let cfg = GnodeConfig {
    ///     hidden: 1, inputs: 2, outputs: 1, flow: vec![], ..GnodeConfig::default()
    /// };
    /// let m = Gnode::<f64>::new(cfg, &mut neurodyn::rng::seeded(0))?;
    /// let s = m.store();
    /// assert_eq!(m.param_shape(s.id("flow.0.W").unwrap()), Some(vec![1, 1]));
    /// assert_eq!(m.param_shape(s.id("flow.0.U").unwrap()), Some(vec![1, 2]));
    /// assert_eq!(m.param_shape(s.id("flow.0.b").unwrap()), Some(vec![1]));
    /// assert_eq!(m.param_shape(s.id("h0").unwrap()), Some(vec![1]));
    /// # Ok::<(), neurodyn::ConfigError>(())
    /// ```
    pub fn param_shape(&self, id: crate::tape::ParamId) -> Option<Vec<usize>> {
        let info = self.store.infos().get(id.index())?;
        let ids = &self.ids;
        let vector = ids.flow_b.contains(&id)
            || ids.gate.is_some_and(|(_, _, b)| b == id)
            || ids.out_b == id
            || ids.h0 == Some(id)
            || ids.h0_affine.is_some_and(|(_, c)| c == id);
        Some(if vector {
            vec![info.cols]
        } else {
            vec![info.rows, info.cols]
        })
    }

    /// The parameters, mutable (optimiser steps, checkpoints).
    pub fn store_mut(&mut self) -> &mut ParamStore<T> {
        &mut self.store
    }

    /// The fixed initial state (`InitialState::Fixed` only).
    pub fn fixed_h0(&self) -> Option<&[T]> {
        self.h0_fixed.as_deref()
    }

    /// The fixed initial state, mutable.
    pub fn fixed_h0_mut(&mut self) -> Option<&mut [T]> {
        self.h0_fixed.as_deref_mut()
    }
}
