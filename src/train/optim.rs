//! Optimisers: one loop over the flat parameter and gradient vectors.
//!
//! ```text
//! Adam:   m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²,  θ ← θ − lr · m̂ / (√v̂ + ε)
//! AdamW:  the same, then θ ← θ − lr · λ θ  (decoupled weight decay, Loshchilov & Hutter 2019)
//! SGD:    u ← μ u + g,  θ ← θ − lr · u
//! ```

use crate::Float;
use crate::error::ConfigError;
use crate::tape::{Grads, ParamStore};

/// Which optimiser.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerKind {
    /// Adam (L2-free).
    Adam,
    /// Adam with decoupled weight decay.
    AdamW,
    /// SGD with momentum.
    Sgd {
        /// Momentum μ ∈ [0, 1).
        momentum: f64,
    },
}

impl std::str::FromStr for OptimizerKind {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "adam" => Ok(OptimizerKind::Adam),
            "adamw" => Ok(OptimizerKind::AdamW),
            "sgd" => Ok(OptimizerKind::Sgd { momentum: 0.9 }),
            _ => Err(ConfigError::new(
                "optimizer",
                format!("unknown optimizer {s:?} (expected adamw, adam or sgd)"),
            )),
        }
    }
}

/// Optimiser state over a parameter vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer<T> {
    kind: OptimizerKind,
    weight_decay: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    t: u64,
    m: Vec<T>,
    v: Vec<T>,
}

impl<T: Float> Optimizer<T> {
    /// A fresh optimiser for `n` parameters (β1 = 0.9, β2 = 0.999, ε = 1e-8).
    ///
    /// # Errors
    /// A negative or non-finite weight decay, or a momentum outside [0, 1).
    pub fn new(kind: OptimizerKind, n: usize, weight_decay: f64) -> Result<Self, ConfigError> {
        if !(weight_decay.is_finite() && weight_decay >= 0.0) {
            return Err(ConfigError::new(
                "weight_decay",
                format!("must be ≥ 0, got {weight_decay}"),
            ));
        }
        if let OptimizerKind::Sgd { momentum } = kind
            && !(0.0..1.0).contains(&momentum)
        {
            return Err(ConfigError::new(
                "momentum",
                format!("must be in [0, 1), got {momentum}"),
            ));
        }
        let second = matches!(kind, OptimizerKind::Adam | OptimizerKind::AdamW);
        Ok(Self {
            kind,
            weight_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
            m: vec![T::ZERO; n],
            v: if second { vec![T::ZERO; n] } else { Vec::new() },
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// The state as flat vectors (for checkpoints): `(t, m, v)`.
    pub fn state(&self) -> (u64, &[T], &[T]) {
        (self.t, &self.m, &self.v)
    }

    /// Restores a state saved by [`Optimizer::state`].
    ///
    /// # Errors
    /// If the lengths do not match this optimiser.
    pub fn set_state(&mut self, t: u64, m: &[T], v: &[T]) -> Result<(), ConfigError> {
        if m.len() != self.m.len() || v.len() != self.v.len() {
            return Err(ConfigError::new(
                "optimizer state",
                "sizes do not match the model",
            ));
        }
        self.t = t;
        self.m.copy_from_slice(m);
        self.v.copy_from_slice(v);
        Ok(())
    }

    /// One update of `store` with gradient `g` and learning rate `lr`.
    ///
    /// # Panics
    /// If the sizes differ from the optimiser's.
    pub fn step(&mut self, store: &mut ParamStore<T>, g: &Grads<T>, lr: f64) {
        let p = store.as_mut_slice();
        let g = g.as_slice();
        assert!(
            p.len() == self.m.len() && g.len() == p.len(),
            "Optimizer::step: size mismatch"
        );
        self.t += 1;
        match self.kind {
            OptimizerKind::Adam | OptimizerKind::AdamW => {
                let (b1, b2) = (self.beta1, self.beta2);
                let c1 = 1.0 - b1.powi(self.t.min(i32::MAX as u64) as i32);
                let c2 = 1.0 - b2.powi(self.t.min(i32::MAX as u64) as i32);
                let (tb1, tb2) = (T::from_f64(b1), T::from_f64(b2));
                let (ob1, ob2) = (T::from_f64(1.0 - b1), T::from_f64(1.0 - b2));
                let step = T::from_f64(lr / c1);
                let inv_c2 = T::from_f64(1.0 / c2);
                let eps = T::from_f64(self.eps);
                let decay = if self.kind == OptimizerKind::AdamW {
                    T::from_f64(lr * self.weight_decay)
                } else {
                    T::ZERO
                };
                for (((p, &g), m), v) in p
                    .iter_mut()
                    .zip(g)
                    .zip(self.m.iter_mut())
                    .zip(self.v.iter_mut())
                {
                    *m = tb1 * *m + ob1 * g;
                    *v = tb2 * *v + ob2 * g * g;
                    *p -= step * *m / ((*v * inv_c2).sqrt() + eps) + decay * *p;
                }
            }
            OptimizerKind::Sgd { momentum } => {
                let mu = T::from_f64(momentum);
                let lr = T::from_f64(lr);
                let wd = T::from_f64(self.weight_decay);
                for ((p, &g), u) in p.iter_mut().zip(g).zip(self.m.iter_mut()) {
                    *u = mu * *u + g + wd * *p;
                    *p -= lr * *u;
                }
            }
        }
    }
}

/// Scales `g` so that its Euclidean norm is at most `max_norm`; returns the norm before.
pub fn clip_global_norm<T: Float>(g: &mut Grads<T>, max_norm: f64) -> f64 {
    let n = g.norm().to_f64();
    if n > max_norm && n.is_finite() {
        crate::dense::scal(g.as_mut_slice(), T::from_f64(max_norm / n));
    }
    n
}
