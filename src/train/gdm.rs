//! Fitting a Gumbel Dynamical Model by stochastic variational inference with the authors'
//! settings (SPEC §6.1; yiliuw/GDM `fit_bbvi_schedule`).
//!
//! ```text
//! each iteration:  fresh Gumbel noise for M samples → L = −ELBO − H(ū) → ∇ on the tape
//!                  → clip ‖∇‖ ≤ 1 → AdamW (lr from the schedule, weight decay 1e-4)
//! schedule:        lr 1e-2 for 200 iterations, linear to 1e-3 over 400, then 1e-3
//! early stop:      after more than `window` iterations, when the mean ELBO gain per
//!                  iteration over the last `window` values, (ELBO_i − ELBO_{i−window+1})/(window−1),
//!                  is below `min_gain` (the authors': window 100, 1e-4)
//! frozen F:        its gradient is zeroed and its value restored after each step (AdamW's
//!                  decoupled decay would otherwise shrink it)
//! ```
//! The parameters left in the model are the last ones (as the authors'); on a non-finite loss
//! or gradient they are the last finite ones.

use super::{Control, Optimizer, OptimizerKind, Schedule, clip_global_norm};
use crate::Float;
use crate::error::ConfigError;
use crate::models::gdm::{Gdm, Sequences, gumbel_noise};
use crate::tape::Tape;
use rand::Rng;
use std::time::Instant;

/// The early-stopping rule on the ELBO history.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStop {
    /// Iterations in the window (≥ 2).
    pub window: usize,
    /// Stop when the mean gain per iteration over the window is below this.
    pub min_gain: f64,
}

/// Settings of [`fit`]. `Default` is the authors' (SPEC §6.1).
#[derive(Clone, Debug, PartialEq)]
pub struct GdmFitConfig {
    /// Maximum iterations (4000).
    pub iters: usize,
    /// Posterior samples M per iteration (10).
    pub samples: usize,
    /// Base learning rate (1e-2).
    pub lr: f64,
    /// AdamW weight decay (1e-4).
    pub weight_decay: f64,
    /// Learning-rate schedule (hold 200, linear to 0.1× over 400).
    pub schedule: Schedule,
    /// Global gradient-norm clip (1.0).
    pub clip: Option<f64>,
    /// Early stopping (window 100, gain 1e-4).
    pub early_stop: Option<EarlyStop>,
}

impl Default for GdmFitConfig {
    fn default() -> Self {
        Self {
            iters: 4000,
            samples: 10,
            lr: 1e-2,
            weight_decay: 1e-4,
            schedule: Schedule::HoldLinear {
                hold: 200,
                decay: 400,
                end: 0.1,
            },
            clip: Some(1.0),
            early_stop: Some(EarlyStop {
                window: 100,
                min_gain: 1e-4,
            }),
        }
    }
}

impl GdmFitConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// Zero iterations or samples, a non-positive learning rate or clip, a negative weight
    /// decay, an early-stopping window below 2.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.iters == 0 {
            return Err(ConfigError::new("iters", "must be at least 1"));
        }
        if self.samples == 0 {
            return Err(ConfigError::new("samples", "must be at least 1"));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(ConfigError::new(
                "lr",
                format!("must be positive, got {}", self.lr),
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(ConfigError::new(
                "weight_decay",
                format!("must be ≥ 0, got {}", self.weight_decay),
            ));
        }
        if let Some(c) = self.clip
            && !(c.is_finite() && c > 0.0)
        {
            return Err(ConfigError::new(
                "clip",
                format!("must be positive, got {c}"),
            ));
        }
        if let Some(e) = self.early_stop
            && (e.window < 2 || !e.min_gain.is_finite())
        {
            return Err(ConfigError::new(
                "early_stop",
                "the window must be at least 2 and the gain finite",
            ));
        }
        Ok(())
    }
}

/// One iteration, as the observer sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GdmIter {
    /// 1-based iteration.
    pub iter: usize,
    /// `−ELBO − H(ū)` (the minimised loss).
    pub loss: f64,
    /// The ELBO estimate (with the entropy bonus, as the authors report it): `−loss`.
    pub elbo: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
}

/// Why fitting stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum GdmStop {
    /// All iterations ran.
    Completed,
    /// The ELBO stopped improving.
    EarlyStopped,
    /// A non-finite loss or gradient; the parameters are the last finite ones.
    Diverged {
        /// The iteration that failed.
        iter: usize,
    },
    /// The observer asked to stop.
    Interrupted,
}

/// The outcome of [`fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct GdmFitReport {
    /// Iterations taken.
    pub iters: usize,
    /// ELBO estimate of every iteration.
    pub elbo: Vec<f64>,
    /// Why it stopped.
    pub stop: GdmStop,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl GdmFitReport {
    /// Seconds per iteration.
    pub fn secs_per_iter(&self) -> f64 {
        self.seconds / self.iters.max(1) as f64
    }
}

/// Fits `model` to `data` (see the module docs); `observer` sees every iteration and may stop
/// the run.
///
/// # Errors
/// Invalid settings or data that does not fit the model.
///
/// # Example
/// ```
/// use neurodyn::models::gdm::{Gdm, GdmConfig, Sequences};
/// use neurodyn::train::Control;
/// use neurodyn::train::gdm::{fit, GdmFitConfig};
/// let mut rng = neurodyn::rng::seeded(0);
/// let y: Vec<f64> = (0..200).map(|i| ((i / 2) as f64 * 0.2).sin()).collect();
/// let data = Sequences::new(y, 100, 2)?;
/// let mut model = Gdm::new(GdmConfig { states: 2, obs: 2, proj: 1, ..Default::default() }, &mut rng)?;
/// let cfg = GdmFitConfig { iters: 30, samples: 2, ..Default::default() };
/// let report = fit(&mut model, &data, &cfg, &mut rng, |_| Control::Continue)?;
/// assert_eq!(report.iters, 30);
/// assert!(report.elbo[29] > report.elbo[0]);
/// # Ok::<(), neurodyn::ConfigError>(())
/// ```
pub fn fit<T: Float, R: Rng + ?Sized>(
    model: &mut Gdm<T>,
    data: &Sequences<T>,
    cfg: &GdmFitConfig,
    rng: &mut R,
    mut observer: impl FnMut(&GdmIter) -> Control,
) -> Result<GdmFitReport, ConfigError> {
    cfg.validate()?;
    let prep = model.prepare(data)?;
    let start = Instant::now();
    let k = model.config().states;
    let m = cfg.samples;
    let mut gumbel = vec![T::ZERO; m * prep.rows() * k];
    let mut opt = Optimizer::new(OptimizerKind::AdamW, model.store().len(), cfg.weight_decay)?;
    let mut tape = Tape::new();
    let mut grads = model.store().zeros_like();
    let f_range = model.store().info(model.f_id()).range();
    let frozen_f: Option<Vec<T>> =
        (!model.config().train_f).then(|| model.store().get(model.f_id()).to_vec());
    let mut last_good = model.store().as_slice().to_vec();
    let mut elbo = Vec::with_capacity(cfg.iters);
    let mut stop = GdmStop::Completed;
    for it in 0..cfg.iters {
        gumbel_noise(rng, &mut gumbel);
        tape.clear();
        let v = model.record(&mut tape);
        let parts = model.neg_elbo(&mut tape, &v, &prep, &gumbel, m);
        let loss = tape.scalar(parts.loss).to_f64();
        tape.backward(parts.loss);
        grads.zero();
        tape.accumulate_param_grads(&mut grads);
        if frozen_f.is_some() {
            grads.as_mut_slice()[f_range.clone()].fill(T::ZERO);
        }
        if !loss.is_finite() || !grads.all_finite() {
            model.store_mut().as_mut_slice().copy_from_slice(&last_good);
            stop = GdmStop::Diverged { iter: it + 1 };
            break;
        }
        last_good.copy_from_slice(model.store().as_slice());
        let gn = match cfg.clip {
            Some(c) => clip_global_norm(&mut grads, c),
            None => grads.norm().to_f64(),
        };
        let lr = cfg.schedule.lr(cfg.lr, it, cfg.iters);
        opt.step(model.store_mut(), &grads, lr);
        if let Some(f) = &frozen_f {
            model.store_mut().as_mut_slice()[f_range.clone()].copy_from_slice(f);
        }
        elbo.push(-loss);
        let report = GdmIter {
            iter: it + 1,
            loss,
            elbo: -loss,
            lr,
            grad_norm: gn,
        };
        if observer(&report) == Control::Stop {
            stop = GdmStop::Interrupted;
            break;
        }
        if let Some(e) = cfg.early_stop
            && elbo.len() > e.window
        {
            let w = &elbo[elbo.len() - e.window..];
            let gain = (w[e.window - 1] - w[0]) / (e.window - 1) as f64;
            if gain < e.min_gain {
                stop = GdmStop::EarlyStopped;
                break;
            }
        }
    }
    Ok(GdmFitReport {
        iters: elbo.len(),
        elbo,
        stop,
        seconds: start.elapsed().as_secs_f64(),
    })
}
