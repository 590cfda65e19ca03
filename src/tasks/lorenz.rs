//! A Lorenz-63 generator whose steps are labelled by lobe: a switching benchmark without
//! discrete ground truth in the dynamics (ours).
//!
//! ```text
//! ẋ = σ (y − x),  ẏ = x (ρ − z) − y,  ż = x y − β z,     σ = 10, ρ = 28, β = 8/3
//! RK4 with `substeps` steps per sample interval dt; the first `burn_in` samples are dropped
//! observations:  o_t = C (s_t − s̄)/10 + noise·N(0, I_N),   C ~ N(0,1)^{N×3},  s̄ = (0, 0, 25)
//! label:         1 when x > 0 (right lobe), else 0
//! ```
//!
//! # Example
//! ```
//! use neurodyn::tasks::lorenz::{generate, LorenzConfig};
//! let d = generate(&LorenzConfig { steps: 500, ..Default::default() }, &mut neurodyn::rng::seeded(0))?;
//! assert_eq!((d.y.len(), d.labels.len()), (500 * 10, 500));
//! assert!(d.labels.iter().any(|&l| l == 0) && d.labels.iter().any(|&l| l == 1));
//! # Ok::<(), neurodyn::ConfigError>(())
//! ```

use crate::error::ConfigError;
use crate::models::init;
use rand::{Rng, RngExt};

/// Settings of the Lorenz generator.
#[derive(Clone, Debug, PartialEq)]
pub struct LorenzConfig {
    /// Samples returned.
    pub steps: usize,
    /// Sample interval.
    pub dt: f64,
    /// RK4 steps per sample.
    pub substeps: usize,
    /// Samples dropped at the start (transient).
    pub burn_in: usize,
    /// Observation channels N.
    pub obs: usize,
    /// Observation noise standard deviation.
    pub noise: f64,
}

impl Default for LorenzConfig {
    fn default() -> Self {
        Self {
            steps: 1000,
            dt: 0.02,
            substeps: 4,
            burn_in: 200,
            obs: 10,
            noise: 0.05,
        }
    }
}

/// A generated Lorenz sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Lorenz {
    /// States `steps × 3`.
    pub x: Vec<f64>,
    /// Observations `steps × obs`.
    pub y: Vec<f64>,
    /// Lobe of each step (0 left, 1 right).
    pub labels: Vec<usize>,
    /// The emission matrix `obs × 3`.
    pub c: Vec<f64>,
    /// Observation channels.
    pub obs: usize,
}

fn rhs(s: [f64; 3]) -> [f64; 3] {
    let (sigma, rho, beta) = (10.0, 28.0, 8.0 / 3.0);
    [
        sigma * (s[1] - s[0]),
        s[0] * (rho - s[2]) - s[1],
        s[0] * s[1] - beta * s[2],
    ]
}

fn rk4(s: [f64; 3], h: f64) -> [f64; 3] {
    let add =
        |a: [f64; 3], b: [f64; 3], c: f64| [a[0] + c * b[0], a[1] + c * b[1], a[2] + c * b[2]];
    let k1 = rhs(s);
    let k2 = rhs(add(s, k1, h / 2.0));
    let k3 = rhs(add(s, k2, h / 2.0));
    let k4 = rhs(add(s, k3, h));
    [0, 1, 2].map(|i| s[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// Generates a labelled Lorenz sequence from a random start near the attractor.
///
/// # Errors
/// Zero steps, channels or substeps, a non-positive `dt` or a negative noise level.
pub fn generate<R: Rng + ?Sized>(cfg: &LorenzConfig, rng: &mut R) -> Result<Lorenz, ConfigError> {
    if cfg.steps == 0 || cfg.obs == 0 || cfg.substeps == 0 {
        return Err(ConfigError::new(
            "lorenz",
            "steps, obs and substeps must be at least 1",
        ));
    }
    if !(cfg.dt.is_finite() && cfg.dt > 0.0) {
        return Err(ConfigError::new(
            "dt",
            format!("must be positive, got {}", cfg.dt),
        ));
    }
    if !(cfg.noise.is_finite() && cfg.noise >= 0.0) {
        return Err(ConfigError::new(
            "noise",
            format!("must be ≥ 0, got {}", cfg.noise),
        ));
    }
    let mut s = [
        rng.random::<f64>() * 2.0 - 1.0,
        rng.random::<f64>() * 2.0 - 1.0,
        20.0 + rng.random::<f64>() * 10.0,
    ];
    let h = cfg.dt / cfg.substeps as f64;
    let mut x = Vec::with_capacity(cfg.steps * 3);
    for i in 0..cfg.burn_in + cfg.steps {
        for _ in 0..cfg.substeps {
            s = rk4(s, h);
        }
        if i >= cfg.burn_in {
            x.extend_from_slice(&s);
        }
    }
    let c: Vec<f64> = init::normal(rng, cfg.obs * 3, 1.0);
    let noise: Vec<f64> = init::normal(rng, cfg.steps * cfg.obs, cfg.noise);
    let centre = [0.0, 0.0, 25.0];
    let mut y = vec![0.0; cfg.steps * cfg.obs];
    for t in 0..cfg.steps {
        for n in 0..cfg.obs {
            let v: f64 = (0..3)
                .map(|j| c[n * 3 + j] * (x[t * 3 + j] - centre[j]) / 10.0)
                .sum();
            y[t * cfg.obs + n] = v + noise[t * cfg.obs + n];
        }
    }
    let labels = (0..cfg.steps)
        .map(|t| usize::from(x[t * 3] > 0.0))
        .collect();
    Ok(Lorenz {
        x,
        y,
        labels,
        c,
        obs: cfg.obs,
    })
}
