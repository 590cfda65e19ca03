//! Recordings a low-rank RNN is fitted to, its predictions of them, and R².
//!
//! ```text
//! activity [trials][samples][neurons] at t_k = kΔ;  inputs [trials][samples][S] held over bins
//! rates:   prediction φ(x(t_k))                     R² = 1 − Σ (pred − obs)² / Σ (obs − mean_i)²
//! spikes:  prediction λ_max softplus(x(t_k)) Δ      (expected counts; R² against the counts)
//! initial state from the first sample:  rates x(0) = atanh(clip(r_0, ±0.995));
//!     spikes x(0) = softplus⁻¹(max(y_0 / (λ_max Δ), 0.05))
//! ```

use super::{LowRank, LowRankOde};
use crate::error::ConfigError;
use crate::solve::{Method, SolveOptions, solve};

/// How a recording relates to the network's states.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ObsModel {
    /// Firing rates `φ(x)` plus noise (fitted by MSE).
    Rates,
    /// Spike counts per bin, Poisson with rate `rate_scale · softplus(x)` (fitted by the
    /// Poisson negative log-likelihood).
    Spikes {
        /// λ_max per unit time.
        rate_scale: f64,
    },
}

/// A recording: trials of simultaneously observed neurons on a regular time grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    /// Trials.
    pub trials: usize,
    /// Samples per trial T (≥ 2).
    pub samples: usize,
    /// Neurons N.
    pub neurons: usize,
    /// Interval Δ between samples.
    pub sample_dt: f64,
    /// Activity `[trials][samples][neurons]`.
    pub activity: Vec<f64>,
    /// Inputs `[trials][samples][S]` (empty without inputs).
    pub inputs: Vec<f64>,
    /// Input channels S.
    pub input_dim: usize,
    /// Observation model.
    pub obs: ObsModel,
}

impl Recording {
    /// Checks shapes and values.
    ///
    /// # Errors
    /// Sizes that do not match, fewer than 2 samples, a non-positive Δ, a non-finite value
    /// (located by trial, sample and neuron), negative or fractional spike counts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.trials == 0 || self.neurons == 0 {
            return Err(ConfigError::new("activity", "no trials or no neurons"));
        }
        if self.samples < 2 {
            return Err(ConfigError::new(
                "activity",
                format!(
                    "{} sample(s) per trial: at least 2 are needed",
                    self.samples
                ),
            ));
        }
        if self.activity.len() != self.trials * self.samples * self.neurons {
            return Err(ConfigError::new(
                "activity",
                format!(
                    "{} values do not form {} trials × {} samples × {} neurons",
                    self.activity.len(),
                    self.trials,
                    self.samples,
                    self.neurons
                ),
            ));
        }
        if self.inputs.len() != self.trials * self.samples * self.input_dim {
            return Err(ConfigError::new(
                "inputs",
                format!(
                    "{} values do not form {} trials × {} samples × {} channels",
                    self.inputs.len(),
                    self.trials,
                    self.samples,
                    self.input_dim
                ),
            ));
        }
        if !(self.sample_dt.is_finite() && self.sample_dt > 0.0) {
            return Err(ConfigError::new(
                "sample_dt",
                format!("must be positive, got {}", self.sample_dt),
            ));
        }
        let locate = |k: usize, per: usize| {
            let (b, rest) = (k / (self.samples * per), k % (self.samples * per));
            (b, rest / per, rest % per)
        };
        if let Some(k) = self.activity.iter().position(|v| !v.is_finite()) {
            let (b, t, i) = locate(k, self.neurons);
            return Err(ConfigError::new(
                "activity",
                format!(
                    "trial {b}, sample {t}, neuron {i} is {} (not finite)",
                    self.activity[k]
                ),
            ));
        }
        if let Some(k) = self.inputs.iter().position(|v| !v.is_finite()) {
            let (b, t, i) = locate(k, self.input_dim);
            return Err(ConfigError::new(
                "inputs",
                format!("trial {b}, sample {t}, channel {i} is not finite"),
            ));
        }
        if let ObsModel::Spikes { rate_scale } = self.obs {
            if !(rate_scale.is_finite() && rate_scale > 0.0) {
                return Err(ConfigError::new(
                    "rate_scale",
                    format!("must be positive, got {rate_scale}"),
                ));
            }
            if let Some(k) = self
                .activity
                .iter()
                .position(|&v| v < 0.0 || v.fract() != 0.0)
            {
                let (b, t, i) = locate(k, self.neurons);
                return Err(ConfigError::new(
                    "activity",
                    format!(
                        "trial {b}, sample {t}, neuron {i} is {}: spike counts must be \
                         non-negative integers",
                        self.activity[k]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Activity of trial `b` at sample `k` (`N` values).
    pub fn frame(&self, b: usize, k: usize) -> &[f64] {
        let n = self.neurons;
        let o = (b * self.samples + k) * n;
        &self.activity[o..o + n]
    }

    /// The network's dynamics on a batch of `trials` trials driven by `inputs` (as
    /// [`Recording::inputs_time_major`] gives them; autonomous when empty), with RK4 options of
    /// `substeps` steps per sample, jumps at the input bins and a save at every sample.
    pub(crate) fn trial_ode<'a>(
        &self,
        net: &'a LowRank<f64>,
        inputs: &'a [f64],
        trials: usize,
        substeps: usize,
    ) -> (LowRankOde<'a, f64>, SolveOptions<f64>) {
        let ode = if inputs.is_empty() {
            LowRankOde::autonomous(net)
        } else {
            LowRankOde::new(net, inputs, trials, self.samples, self.sample_dt)
        };
        let mut opts = SolveOptions::fixed(Method::Rk4, self.sample_dt / substeps.max(1) as f64);
        opts.jump_times = ode.jump_times();
        opts.save_at = (0..self.samples)
            .map(|k| k as f64 * self.sample_dt)
            .collect();
        (ode, opts)
    }

    /// Inputs of the given trials, time-major `[samples][trials][S]` (empty without inputs).
    pub fn inputs_time_major(&self, trials: &[usize]) -> Vec<f64> {
        let s = self.input_dim;
        if s == 0 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(self.samples * trials.len() * s);
        for k in 0..self.samples {
            for &b in trials {
                let o = (b * self.samples + k) * s;
                out.extend_from_slice(&self.inputs[o..o + s]);
            }
        }
        out
    }

    /// The initial state guessed from the first sample of trial `b` (see the module docs).
    pub fn initial_guess(&self, b: usize) -> Vec<f64> {
        let f = self.frame(b, 0);
        match self.obs {
            ObsModel::Rates => f.iter().map(|r| r.clamp(-0.995, 0.995).atanh()).collect(),
            ObsModel::Spikes { rate_scale } => f
                .iter()
                .map(|y| {
                    let s = (y / (rate_scale * self.sample_dt)).max(0.05);
                    if s > 30.0 { s } else { s.exp_m1().ln() }
                })
                .collect(),
        }
    }

    /// The observation predicted from a state value.
    pub fn predict_obs(&self, x: f64) -> f64 {
        match self.obs {
            ObsModel::Rates => x.tanh(),
            ObsModel::Spikes { rate_scale } => {
                let sp = if x > 30.0 { x } else { x.exp().ln_1p() };
                rate_scale * sp * self.sample_dt
            }
        }
    }
}

/// The network's predicted observations of `trials` (`[trials][samples][N]`) from initial states
/// `x0` (`trials × N`), integrated with `substeps` RK4 steps per sample.
///
/// # Errors
/// A solver failure.
pub fn predict(
    net: &LowRank<f64>,
    rec: &Recording,
    trials: &[usize],
    x0: &[f64],
    substeps: usize,
) -> Result<Vec<f64>, crate::solve::SolveError> {
    let (n, t) = (rec.neurons, rec.samples);
    let inputs = rec.inputs_time_major(trials);
    let b = trials.len();
    let (ode, opts) = rec.trial_ode(net, &inputs, b, substeps);
    let sol = solve(&ode, b, x0, 0.0, (t - 1) as f64 * rec.sample_dt, &opts)?;
    let mut out = vec![0.0; b * t * n];
    for k in 0..t {
        let y = sol.y(k);
        for q in 0..b {
            for i in 0..n {
                out[(q * t + k) * n + i] = rec.predict_obs(y[q * n + i]);
            }
        }
    }
    Ok(out)
}

/// R² of predictions (`[trials][samples][N]`, as [`predict`]) of `trials`, over samples
/// `from..T`, against each neuron's mean over those samples and trials.
pub fn r_squared(rec: &Recording, trials: &[usize], pred: &[f64], from: usize) -> f64 {
    let (n, t) = (rec.neurons, rec.samples);
    let mut mean = vec![0.0; n];
    let count = (trials.len() * (t - from.min(t))).max(1) as f64;
    for &b in trials {
        for k in from..t {
            for (m, v) in mean.iter_mut().zip(rec.frame(b, k)) {
                *m += v / count;
            }
        }
    }
    let (mut sse, mut sst) = (0.0, 0.0);
    for (q, &b) in trials.iter().enumerate() {
        for k in from..t {
            let obs = rec.frame(b, k);
            let p = &pred[(q * t + k) * n..(q * t + k + 1) * n];
            for i in 0..n {
                sse += (p[i] - obs[i]).powi(2);
                sst += (obs[i] - mean[i]).powi(2);
            }
        }
    }
    1.0 - sse / sst.max(1e-300)
}
