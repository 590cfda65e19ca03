//! A standard GRU cell (Cho et al. 2014), a discrete-time baseline for the gnODE family.
//!
//! ```text
//! r = σ(W_r h + U_r x + b_r),   z = σ(W_z h + U_z x + b_z)
//! n = tanh(U_n x + b_n + r ⊙ (W_n h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h,     y = W_o h + b_o
//! ```

use super::init;
use crate::Float;
use crate::error::ConfigError;
use crate::tape::{ParamId, ParamStore, Tape, Var};
use rand::Rng;

/// Sizes of a GRU.
#[derive(Clone, Debug, PartialEq)]
pub struct GruConfig {
    /// Hidden size N.
    pub hidden: usize,
    /// Input dimension I.
    pub inputs: usize,
    /// Output dimension O.
    pub outputs: usize,
}

/// A GRU with a linear readout and a learned initial state.
#[derive(Clone, Debug, PartialEq)]
pub struct Gru<T> {
    cfg: GruConfig,
    store: ParamStore<T>,
    ids: [ParamId; 13],
}

/// A GRU's parameters on one tape.
#[derive(Clone, Copy, Debug)]
pub struct GruVars([Var; 13]);

const NAMES: [&str; 13] = [
    "gru.W_r",
    "gru.W_z",
    "gru.W_n",
    "gru.U_r",
    "gru.U_z",
    "gru.U_n",
    "gru.b_r",
    "gru.b_z",
    "gru.b_n",
    "gru.b_hn",
    "readout.W",
    "readout.b",
    "h0",
];

impl<T: Float> Gru<T> {
    /// A Glorot-initialised GRU.
    ///
    /// # Errors
    /// A zero hidden or output size.
    pub fn new<R: Rng + ?Sized>(cfg: GruConfig, rng: &mut R) -> Result<Self, ConfigError> {
        if cfg.hidden == 0 {
            return Err(ConfigError::new("hidden", "must be at least 1"));
        }
        if cfg.outputs == 0 {
            return Err(ConfigError::new("outputs", "must be at least 1"));
        }
        let (n, i, o) = (cfg.hidden, cfg.inputs, cfg.outputs);
        let shapes = [
            (n, n),
            (n, n),
            (n, n),
            (n, i),
            (n, i),
            (n, i),
            (1, n),
            (1, n),
            (1, n),
            (1, n),
            (o, n),
            (1, o),
            (1, n),
        ];
        let mut store = ParamStore::new();
        let mut ids = Vec::new();
        for (k, (&name, &(r, c))) in NAMES.iter().zip(&shapes).enumerate() {
            let v: Vec<T> = match k {
                6..=9 | 11 => init::small_bias(rng, c),
                12 => init::glorot_normal(rng, n, 1),
                _ => init::glorot_uniform(rng, r, c),
            };
            ids.push(
                store
                    .add(name, r, c, &v)
                    .expect("internal: fresh parameter"),
            );
        }
        Ok(Self {
            cfg,
            store,
            ids: ids.try_into().expect("internal: 13 ids"),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GruConfig {
        &self.cfg
    }
    /// The parameters.
    pub fn store(&self) -> &ParamStore<T> {
        &self.store
    }
    /// The parameters, mutable.
    pub fn store_mut(&mut self) -> &mut ParamStore<T> {
        &mut self.store
    }

    /// Records the parameters.
    pub fn record(&self, tape: &mut Tape<T>) -> GruVars {
        GruVars(self.ids.map(|id| tape.param(&self.store, id)))
    }

    /// The initial state for a batch.
    pub fn initial_state(&self, tape: &mut Tape<T>, v: &GruVars, batch: usize) -> Var {
        tape.broadcast_rows(v.0[12], batch)
    }

    /// One GRU step with inputs `x` (`batch × I`).
    pub fn step(&self, tape: &mut Tape<T>, v: &GruVars, h: Var, x: Var) -> Var {
        let p = &v.0;
        let gate = |tape: &mut Tape<T>, w: Var, u: Var, b: Var| {
            let a = tape.matmul_t(h, w);
            let c = tape.linear(x, u, Some(b));
            let s = tape.add(a, c);
            tape.sigmoid(s)
        };
        let r = gate(tape, p[0], p[3], p[6]);
        let z = gate(tape, p[1], p[4], p[7]);
        let hn = tape.linear(h, p[2], Some(p[9]));
        let rhn = tape.mul(r, hn);
        let xn = tape.linear(x, p[5], Some(p[8]));
        let pre = tape.add(xn, rhn);
        let nn = tape.tanh(pre);
        let d = tape.sub(h, nn);
        let zd = tape.mul(z, d);
        tape.add(nn, zd)
    }

    /// The readout `h W_oᵀ + b_o`.
    pub fn readout(&self, tape: &mut Tape<T>, v: &GruVars, h: Var) -> Var {
        tape.linear(h, v.0[10], Some(v.0[11]))
    }
}
