//! Simulating low-rank networks from many initial conditions and observing them as noisy rates
//! or Poisson spikes (SPEC §4.3).
//!
//! ```text
//! κ_0 uniform in a disk (R = 2; an interval for R = 1, a ball otherwise) of radius ρ
//! x(0) = M κ_0 + σ_0 ξ,  ξ ~ N(0, I_N)                    (transients carry identifiability)
//! rates:   r_i(t_k) = φ(x_i(t_k)) + σ_r ε,  ε ~ N(0, 1)
//! spikes:  y_i(t_k) ~ Poisson(λ_max softplus(x_i(t_k)) Δ)   (counts per sample bin Δ)
//! ```

use super::{LowRank, LowRankOde};
use crate::error::ConfigError;
use crate::solve::{Method, SolveError, SolveOptions, solve};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Poisson, StandardNormal};

/// How activity is observed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observation {
    /// `φ(x) + noise · N(0, 1)`.
    Rates {
        /// Standard deviation of the additive noise.
        noise: f64,
    },
    /// Poisson counts per bin with rate `rate_scale · softplus(x)`.
    Spikes {
        /// λ_max: the rate at `softplus(x) = 1`, per unit time.
        rate_scale: f64,
    },
}

impl Observation {
    /// Its name in files and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Observation::Rates { .. } => "rates",
            Observation::Spikes { .. } => "spikes",
        }
    }
}

/// Settings of [`simulate`]. `Default`: 64 trials of 20 τ sampled every 0.2 τ, RK4 steps of
/// 0.05 τ, κ_0 in a disk of radius 1.5, σ_0 = 0.5, rates with noise 0.02.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulationConfig {
    /// Trials (initial conditions).
    pub trials: usize,
    /// Duration of each trial.
    pub duration: f64,
    /// Interval between observations Δ (it must divide the duration).
    pub sample_dt: f64,
    /// Solver step (it must divide `sample_dt`).
    pub dt: f64,
    /// Radius ρ of the initial latent states.
    pub ic_radius: f64,
    /// σ_0: the off-manifold part of the initial states.
    pub ic_noise: f64,
    /// Observation model.
    pub observation: Observation,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        Self {
            trials: 64,
            duration: 20.0,
            sample_dt: 0.2,
            dt: 0.05,
            ic_radius: 1.5,
            ic_noise: 0.5,
            observation: Observation::Rates { noise: 0.02 },
        }
    }
}

impl SimulationConfig {
    /// Number of observations per trial (the initial state included).
    pub fn samples(&self) -> usize {
        (self.duration / self.sample_dt).round() as usize + 1
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// Zero trials, non-positive or non-finite times, steps that do not divide, negative noise
    /// or radius, a non-positive rate scale.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.trials == 0 {
            return Err(ConfigError::new("trials", "must be at least 1"));
        }
        for (name, v) in [
            ("duration", self.duration),
            ("sample_dt", self.sample_dt),
            ("dt", self.dt),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(ConfigError::new(name, format!("must be positive, got {v}")));
            }
        }
        let divides = |a: f64, b: f64| ((a / b) - (a / b).round()).abs() < 1e-9 * (a / b).max(1.0);
        if !divides(self.duration, self.sample_dt) {
            return Err(ConfigError::new(
                "sample_dt",
                format!(
                    "{} does not divide the duration {}",
                    self.sample_dt, self.duration
                ),
            ));
        }
        if !divides(self.sample_dt, self.dt) {
            return Err(ConfigError::new(
                "dt",
                format!("{} does not divide sample_dt {}", self.dt, self.sample_dt),
            ));
        }
        for (name, v) in [("ic_radius", self.ic_radius), ("ic_noise", self.ic_noise)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(ConfigError::new(name, format!("must be ≥ 0, got {v}")));
            }
        }
        match self.observation {
            Observation::Rates { noise } if !(noise.is_finite() && noise >= 0.0) => Err(
                ConfigError::new("noise", format!("must be ≥ 0, got {noise}")),
            ),
            Observation::Spikes { rate_scale } if !(rate_scale.is_finite() && rate_scale > 0.0) => {
                Err(ConfigError::new(
                    "rate_scale",
                    format!("must be positive, got {rate_scale}"),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A simulated data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulation {
    /// Observation times `kΔ`, k = 0..T−1.
    pub times: Vec<f64>,
    /// Trials.
    pub trials: usize,
    /// Neurons N.
    pub neurons: usize,
    /// Rank R.
    pub rank: usize,
    /// Initial latent states κ_0 (`trials × R`).
    pub kappa0: Vec<f64>,
    /// Latent trajectories `κ(t) = (MᵀM)^{−1} Mᵀ x(t)` (`trials × T × R`).
    pub kappa: Vec<f64>,
    /// Observations (`trials × T × N`): rates or counts.
    pub activity: Vec<f64>,
}

/// Draws `trials` initial states `x(0) = M κ_0 + σ_0 ξ` (`trials × N`) and their `κ_0`
/// (`trials × R`).
pub fn initial_states<R: Rng + ?Sized>(
    net: &LowRank<f64>,
    trials: usize,
    radius: f64,
    noise: f64,
    rng: &mut R,
) -> (Vec<f64>, Vec<f64>) {
    let (n, r) = (net.config().neurons, net.config().rank);
    let m = net.m();
    let mut x0 = Vec::with_capacity(trials * n);
    let mut k0 = Vec::with_capacity(trials * r);
    for _ in 0..trials {
        // uniform in the ball: Gaussian direction, radius ρ U^{1/R}
        let dir: Vec<f64> = (0..r).map(|_| StandardNormal.sample(rng)).collect();
        let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
        let rad = radius * rng.random::<f64>().powf(1.0 / r as f64);
        let k: Vec<f64> = dir.iter().map(|v| v / norm * rad).collect();
        for i in 0..n {
            let mk: f64 = (0..r).map(|q| m[i * r + q] * k[q]).sum();
            let xi: f64 = StandardNormal.sample(rng);
            x0.push(mk + noise * xi);
        }
        k0.extend_from_slice(&k);
    }
    (x0, k0)
}

/// The network's states at the times `kΔ`, k = 0..T−1 (`trials × T × N`), from `x0`
/// (`trials × N`), with inputs time-major `[T][trials][S]` held over each sample bin (empty for
/// none), by RK4 with step `dt`.
///
/// # Errors
/// A solver failure (non-finite states).
pub fn simulate_states(
    net: &LowRank<f64>,
    x0: &[f64],
    trials: usize,
    samples: usize,
    sample_dt: f64,
    dt: f64,
    inputs: &[f64],
) -> Result<Vec<f64>, SolveError> {
    let n = net.config().neurons;
    let times: Vec<f64> = (0..samples).map(|k| k as f64 * sample_dt).collect();
    let ode = if inputs.is_empty() {
        LowRankOde::autonomous(net)
    } else {
        LowRankOde::new(net, inputs, trials, samples, sample_dt)
    };
    let mut opts = SolveOptions::fixed(Method::Rk4, dt);
    opts.jump_times = ode.jump_times();
    opts.save_at = times.clone();
    let t1 = times.last().copied().unwrap_or(0.0);
    let mut out = vec![0.0; trials * samples * n];
    if samples == 1 || t1 == 0.0 {
        for b in 0..trials {
            out[b * samples * n..b * samples * n + n].copy_from_slice(&x0[b * n..(b + 1) * n]);
        }
        return Ok(out);
    }
    let sol = solve(&ode, trials, x0, 0.0, t1, &opts)?;
    for k in 0..samples {
        let y = sol.y(k);
        for b in 0..trials {
            out[(b * samples + k) * n..(b * samples + k + 1) * n]
                .copy_from_slice(&y[b * n..(b + 1) * n]);
        }
    }
    Ok(out)
}

/// The latent trajectories `κ(t_k) = (MᵀM)^{−1} Mᵀ x(t_k)` (`trials × T × R`) of an autonomous
/// network from `x0`, keeping only the current state (memory O(trials · N), whatever T).
///
/// # Errors
/// A solver failure, or linearly dependent left loadings.
pub fn simulate_kappa(
    net: &LowRank<f64>,
    x0: &[f64],
    trials: usize,
    samples: usize,
    sample_dt: f64,
    dt: f64,
) -> Result<Vec<f64>, crate::Error> {
    let (n, r) = (net.config().neurons, net.config().rank);
    let ode = LowRankOde::autonomous(net);
    let project = |x: &[f64]| {
        super::gauge::project_kappa(net.m(), r, x)
            .ok_or_else(|| ConfigError::new("m", "the left loadings are linearly dependent"))
    };
    let mut kappa = vec![0.0; trials * samples * r];
    let mut put = |k: usize, kap: &[f64]| {
        for b in 0..trials {
            kappa[(b * samples + k) * r..(b * samples + k + 1) * r]
                .copy_from_slice(&kap[b * r..(b + 1) * r]);
        }
    };
    put(0, &project(x0)?);
    let mut x = x0.to_vec();
    let window = 50;
    let mut k = 1;
    while k < samples {
        let end = (k + window).min(samples);
        let t0 = (k - 1) as f64 * sample_dt;
        let mut opts = SolveOptions::fixed(Method::Rk4, dt);
        opts.save_at = (k..end).map(|q| q as f64 * sample_dt).collect();
        let t1 = (end - 1) as f64 * sample_dt;
        let sol = solve(&ode, trials, &x, t0, t1, &opts)
            .map_err(|e| ConfigError::new("simulation", e.to_string()))?;
        for (j, q) in (k..end).enumerate() {
            put(q, &project(sol.y(j))?);
        }
        x = sol.y_final;
        debug_assert_eq!(x.len(), trials * n);
        k = end;
    }
    Ok(kappa)
}

/// Observations of states `x` (any layout): rates with noise, or Poisson counts per bin `Δ`.
pub fn observe<R: Rng + ?Sized>(
    x: &[f64],
    obs: Observation,
    sample_dt: f64,
    rng: &mut R,
) -> Vec<f64> {
    match obs {
        Observation::Rates { noise } => x
            .iter()
            .map(|&v| {
                let e: f64 = StandardNormal.sample(rng);
                v.tanh() + noise * e
            })
            .collect(),
        Observation::Spikes { rate_scale } => x
            .iter()
            .map(|&v| {
                let sp = if v > 30.0 { v } else { v.exp().ln_1p() };
                let lam = rate_scale * sp * sample_dt;
                if lam <= 0.0 {
                    0.0
                } else {
                    Poisson::new(lam).map_or(0.0, |p| p.sample(rng))
                }
            })
            .collect(),
    }
}

/// Simulates `cfg.trials` trials of an autonomous network from random initial conditions and
/// observes them.
///
/// # Errors
/// Invalid settings or a solver failure (as text).
pub fn simulate<R: Rng + ?Sized>(
    net: &LowRank<f64>,
    cfg: &SimulationConfig,
    rng: &mut R,
) -> Result<Simulation, crate::Error> {
    cfg.validate()?;
    let (n, r) = (net.config().neurons, net.config().rank);
    let samples = cfg.samples();
    let (x0, kappa0) = initial_states(net, cfg.trials, cfg.ic_radius, cfg.ic_noise, rng);
    let x = simulate_states(net, &x0, cfg.trials, samples, cfg.sample_dt, cfg.dt, &[])
        .map_err(|e| ConfigError::new("simulation", e.to_string()))?;
    let kappa = super::gauge::project_kappa(net.m(), r, &x)
        .ok_or_else(|| ConfigError::new("m", "the left loadings are linearly dependent"))?;
    let activity = observe(&x, cfg.observation, cfg.sample_dt, rng);
    Ok(Simulation {
        times: (0..samples).map(|k| k as f64 * cfg.sample_dt).collect(),
        trials: cfg.trials,
        neurons: n,
        rank: r,
        kappa0,
        kappa,
        activity,
    })
}
