//! The expressivity measure (SPEC §3.3, ours after the paper's description): how complex a
//! trajectory an autonomous model can generate from its initial state.
//!
//! ```text
//! target:  y(t) ~ GP(0, exp(−(t−t')²/2ℓ²)) on [0, T]          (one draw per fit)
//! model:   autonomous gnODE/nODE (x ≡ 0), learned h0, linear readout, discrete form with a small
//!          α (an Euler discretisation of the ODE, so phase-space geometry constrains it)
//! score:   best R² over training and over a few learning rates (capacity, not trainability at
//!          one step size); expressivity = the smallest ℓ fitted to R² ≥ 0.9
//! ```
//! A 1-D ODE can only move monotonically; more dimensions and a richer F bend trajectories more.

use crate::error::ConfigError;
use crate::models::gnode::{Gnode, GnodeConfig};
use crate::models::{Activation, GnodeSeq, TimeMode};
use crate::tasks::gp::gp_targets;
use crate::train::{self, Control, OptimizerKind, Schedule, TrainConfig};

/// One model size in the sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSize {
    /// Phase-space dimension N.
    pub hidden: usize,
    /// Hidden widths of F.
    pub flow: Vec<usize>,
    /// Gated or not.
    pub gate: bool,
}

/// Settings of the sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpressivityConfig {
    /// Model sizes.
    pub sizes: Vec<ModelSize>,
    /// GP length scales ℓ (on [0, 1]).
    pub lengths: Vec<f64>,
    /// Independent target draws per (size, ℓ).
    pub draws: usize,
    /// Time points of a target.
    pub steps: usize,
    /// Euler step α = Δt/τ of the model.
    pub alpha: f64,
    /// Full-batch Adam steps per fit.
    pub epochs: usize,
    /// Learning rates tried per fit (the best fit counts).
    pub lrs: Vec<f64>,
    /// Seed.
    pub seed: u64,
}

impl Default for ExpressivityConfig {
    fn default() -> Self {
        let mut sizes = Vec::new();
        for hidden in [1, 2, 4] {
            for flow in [vec![16], vec![64, 64]] {
                for gate in [false, true] {
                    sizes.push(ModelSize {
                        hidden,
                        flow: flow.clone(),
                        gate,
                    });
                }
            }
        }
        Self {
            sizes,
            lengths: vec![0.4, 0.2, 0.1, 0.05],
            draws: 2,
            steps: 100,
            alpha: 0.1,
            epochs: 400,
            lrs: vec![1e-2, 3e-3, 1e-3],
            seed: 0,
        }
    }
}

/// One row of the result table.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpressivityRow {
    /// The model size.
    pub size: ModelSize,
    /// Length scale.
    pub length: f64,
    /// Mean over draws of the best R².
    pub mean_r2: f64,
    /// Worst draw's best R².
    pub min_r2: f64,
}

/// Runs the sweep; `progress(done, total)` is called after each fit.
///
/// # Errors
/// Invalid sizes or settings.
pub fn sweep(
    cfg: &ExpressivityConfig,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<ExpressivityRow>, ConfigError> {
    if let Some(lr) = cfg.lrs.iter().find(|l| !(l.is_finite() && **l > 0.0)) {
        return Err(ConfigError::new(
            "lrs",
            format!("learning rates must be positive numbers, not {lr}"),
        ));
    }
    if cfg.draws == 0 || cfg.sizes.is_empty() || cfg.lengths.is_empty() || cfg.lrs.is_empty() {
        return Err(ConfigError::new(
            "expressivity",
            "needs at least one size, length and draw",
        ));
    }
    let total = cfg.sizes.len() * cfg.lengths.len() * cfg.draws;
    let mut done = 0;
    let mut rows = Vec::new();
    for (si, size) in cfg.sizes.iter().enumerate() {
        for (li, &length) in cfg.lengths.iter().enumerate() {
            let mut scores = Vec::new();
            for d in 0..cfg.draws {
                let mut rng = crate::rng::stream(cfg.seed, (li * 1000 + d) as u64);
                let data = gp_targets::<f32, _>(cfg.steps, 1, 1.0, length, &mut rng)?;
                let mcfg = GnodeConfig {
                    hidden: size.hidden,
                    inputs: 0,
                    outputs: 1,
                    flow: size.flow.clone(),
                    activation: Activation::Tanh,
                    gate: size.gate,
                    tau: 1.0,
                    ..Default::default()
                };
                let model = Gnode::new(
                    mcfg,
                    &mut crate::rng::stream(cfg.seed, (si * 1000 + d) as u64 + 7),
                )?;
                let mut best = f64::NEG_INFINITY;
                for &lr in &cfg.lrs {
                    let mut seq = GnodeSeq {
                        model: model.clone(),
                        time: TimeMode::Discrete { alpha: cfg.alpha },
                    };
                    let tc = TrainConfig {
                        epochs: cfg.epochs,
                        batch_size: 1,
                        optimizer: OptimizerKind::Adam,
                        lr,
                        weight_decay: 0.0,
                        schedule: Schedule::Cosine { floor: 0.05 },
                        clip: Some(10.0),
                        threads: 1,
                        seed: cfg.seed,
                        eval_every: 10,
                        patience: None,
                    };
                    // A fit that diverges at this learning rate simply does not count.
                    if let Ok(report) = train::run(&mut seq, &data, &data, &tc, None, |_, _, _| {
                        Control::Continue
                    }) {
                        best = best.max(report.best.map_or(f64::NEG_INFINITY, |b| b.r2));
                    }
                }
                scores.push(best);
                done += 1;
                progress(done, total);
            }
            let mean_r2 = scores.iter().sum::<f64>() / scores.len() as f64;
            let min_r2 = scores.iter().copied().fold(f64::INFINITY, f64::min);
            rows.push(ExpressivityRow {
                size: size.clone(),
                length,
                mean_r2,
                min_r2,
            });
        }
    }
    Ok(rows)
}

/// The expressivity of each size: the smallest ℓ whose mean R² is at least `threshold`
/// (`None` if no ℓ was fitted).
pub fn expressivity(rows: &[ExpressivityRow], threshold: f64) -> Vec<(ModelSize, Option<f64>)> {
    let mut out: Vec<(ModelSize, Option<f64>)> = Vec::new();
    for r in rows {
        let fitted = r.mean_r2 >= threshold;
        match out.iter_mut().find(|(s, _)| *s == r.size) {
            Some((_, best)) => {
                if fitted && best.is_none_or(|b| r.length < b) {
                    *best = Some(r.length);
                }
            }
            None => out.push((r.size.clone(), fitted.then_some(r.length))),
        }
    }
    out
}
