//! Training: minibatch gradient descent with data-parallel gradients over batch shards,
//! gradient clipping, schedules, validation with best-parameter keeping, and a stop with the
//! last good parameters on NaN/Inf.
//!
//! Determinism: the minibatch order comes from the seeded generator; a batch is split into
//! `threads` fixed shards, each shard's gradient is computed on its own tape, and the shard
//! gradients are summed in shard order. The same seed and thread count give bit-identical
//! parameters.

mod data;
pub mod gdm;
pub mod lbfgs;
mod metrics;
mod optim;
mod schedule;

pub use data::{BatchBuf, Labels, SeqData};
pub use metrics::{Eval, evaluate, evaluate_with};
pub use optim::{Optimizer, OptimizerKind, clip_global_norm};
pub use schedule::Schedule;

use crate::Float;
use crate::error::ConfigError;
use crate::models::SequenceModel;
use crate::solve::SolveError;
use crate::tape::{Grads, Tape};
use rand::seq::SliceRandom;

/// Training settings. `Default` is AdamW, lr 1e-3, weight decay 1e-2, batch 50, clip 1.0
/// (the gnODE authors' and the JAX peer's settings).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Trials per minibatch.
    pub batch_size: usize,
    /// Optimiser.
    pub optimizer: OptimizerKind,
    /// Base learning rate.
    pub lr: f64,
    /// Weight decay (decoupled for AdamW, L2 for SGD, unused for Adam).
    pub weight_decay: f64,
    /// Learning-rate schedule over all steps.
    pub schedule: Schedule,
    /// Clip the global gradient norm to this value.
    pub clip: Option<f64>,
    /// Gradient shards per batch (one rayon task each); part of what the result depends on.
    pub threads: usize,
    /// Seed of the minibatch order.
    pub seed: u64,
    /// Evaluate on the validation set every this many epochs.
    pub eval_every: usize,
    /// Stop when the validation score has not improved for this many evaluations.
    pub patience: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 100,
            batch_size: 50,
            optimizer: OptimizerKind::AdamW,
            lr: 1e-3,
            weight_decay: 1e-2,
            schedule: Schedule::Constant,
            clip: Some(1.0),
            threads: 1,
            seed: 0,
            eval_every: 1,
            patience: None,
        }
    }
}

impl TrainConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// Zero epochs/batch/threads, a non-positive or non-finite learning rate or clip.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.epochs == 0 {
            return Err(ConfigError::new("epochs", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(ConfigError::new("batch_size", "must be at least 1"));
        }
        if self.threads == 0 {
            return Err(ConfigError::new("threads", "must be at least 1"));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(ConfigError::new(
                "lr",
                format!("must be positive, got {}", self.lr),
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
        Ok(())
    }
}

/// What happened in one epoch (passed to the observer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Validation metrics, when evaluated this epoch.
    pub val: Option<Eval>,
    /// Best validation score so far.
    pub best_score: f64,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    /// Mean gradient norm before clipping.
    pub grad_norm: f64,
}

/// Why training stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// All epochs ran.
    Completed,
    /// Validation stopped improving.
    EarlyStopped,
    /// The loss or gradient became NaN/Inf; the parameters are the last good ones.
    Diverged {
        /// Epoch of the failure.
        epoch: usize,
        /// What was not finite.
        what: String,
    },
    /// The observer asked to stop.
    Interrupted,
}

/// The outcome of [`run`].
#[derive(Clone, Debug, PartialEq)]
pub struct TrainReport {
    /// Epochs completed.
    pub epochs: usize,
    /// Best validation metrics (the parameters left in the model are these).
    pub best: Option<Eval>,
    /// Epoch of the best validation score.
    pub best_epoch: usize,
    /// Why training stopped.
    pub stop: StopReason,
}

/// Errors that end training before it starts or mid-way.
#[derive(Debug)]
#[non_exhaustive]
pub enum TrainError {
    /// Bad configuration or data.
    Config(ConfigError),
    /// A continuous-time model's solver failed.
    Solve(SolveError),
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::Config(e) => e.fmt(f),
            TrainError::Solve(e) => write!(f, "solver failed during training: {e}"),
        }
    }
}

impl std::error::Error for TrainError {}

impl From<ConfigError> for TrainError {
    fn from(e: ConfigError) -> Self {
        TrainError::Config(e)
    }
}
impl From<SolveError> for TrainError {
    fn from(e: SolveError) -> Self {
        TrainError::Solve(e)
    }
}

/// The observer's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Keep going.
    Continue,
    /// Stop after this epoch.
    Stop,
}

/// One shard's working memory, reused across steps.
struct Shard<T: Float> {
    tape: Tape<T>,
    grads: Grads<T>,
    buf: BatchBuf<T>,
    loss: T,
    weight: usize,
    err: Option<SolveError>,
}

/// The state of a run after an epoch, besides the current parameters (which are in the model):
/// what a checkpoint must hold to continue bit-identically.
#[derive(Clone, Debug, PartialEq)]
pub struct Resume<T> {
    /// Epochs completed.
    pub epoch: usize,
    /// Optimiser state.
    pub optimizer: Optimizer<T>,
    /// Best-validation parameters so far.
    pub best_params: Vec<T>,
    /// Best validation metrics so far.
    pub best: Option<Eval>,
    /// Epoch of the best metrics.
    pub best_epoch: usize,
    /// Evaluations since the best.
    pub since_best: usize,
}

/// What the observer sees after each epoch: the report and the state to checkpoint.
pub struct EpochState<'a, T> {
    /// Epochs completed.
    pub epoch: usize,
    /// Optimiser state.
    pub optimizer: &'a Optimizer<T>,
    /// Best-validation parameters so far.
    pub best_params: &'a [T],
    /// Best validation metrics so far.
    pub best: Option<Eval>,
    /// Epoch of the best metrics.
    pub best_epoch: usize,
    /// Evaluations since the best.
    pub since_best: usize,
}

impl<T: Clone> EpochState<'_, T> {
    /// An owned copy, to continue from later.
    pub fn to_resume(&self) -> Resume<T> {
        Resume {
            epoch: self.epoch,
            optimizer: self.optimizer.clone(),
            best_params: self.best_params.to_vec(),
            best: self.best,
            best_epoch: self.best_epoch,
            since_best: self.since_best,
        }
    }
}

/// Trains `model` on `train`, validating on `val`; the observer sees every epoch (and may stop
/// training). With `resume` (and the model holding that epoch's parameters) training continues
/// exactly as if it had not stopped: the minibatch order is replayed from the seed. On return
/// the model holds the best-validation parameters (the last good ones if training diverged
/// before any validation).
///
/// # Errors
/// Invalid settings or data, or a solver failure.
pub fn run<T: Float, M: SequenceModel<T>>(
    model: &mut M,
    train: &SeqData<T>,
    val: &SeqData<T>,
    cfg: &TrainConfig,
    resume: Option<Resume<T>>,
    mut observer: impl FnMut(&EpochReport, &M, &EpochState<'_, T>) -> Control,
) -> Result<TrainReport, TrainError> {
    cfg.validate()?;
    train.validate()?;
    val.validate()?;
    let n_params = model.store().len();
    let (start, mut opt, resumed_best) = match resume {
        Some(r) => {
            if r.best_params.len() != n_params || r.optimizer.state().1.len() != n_params {
                return Err(ConfigError::new(
                    "resume",
                    "the checkpoint does not match the model's size",
                )
                .into());
            }
            (
                r.epoch,
                r.optimizer,
                Some((r.best_params, r.best, r.best_epoch, r.since_best)),
            )
        }
        None => (
            0,
            Optimizer::new(cfg.optimizer, n_params, cfg.weight_decay)?,
            None,
        ),
    };
    let opt = &mut opt;
    let mut rng = crate::rng::seeded(cfg.seed);
    let batches_per_epoch = train.n.div_ceil(cfg.batch_size);
    let total_steps = batches_per_epoch * cfg.epochs;
    let mut shards: Vec<Shard<T>> = (0..cfg.threads)
        .map(|_| Shard {
            tape: Tape::new(),
            grads: Grads::zeros(n_params),
            buf: BatchBuf::default(),
            loss: T::ZERO,
            weight: 0,
            err: None,
        })
        .collect();
    let mut total = Grads::zeros(n_params);
    let mut last_good = model.store().as_slice().to_vec();
    let (mut best_params, mut best, mut best_epoch, mut since_best) =
        resumed_best.unwrap_or_else(|| (last_good.clone(), None, 0, 0));
    let mut order: Vec<usize> = (0..train.n).collect();
    // Replay the minibatch orders of the epochs already done.
    for _ in 0..start {
        order.shuffle(&mut rng);
    }
    let (mut eval_tape, mut eval_buf) = (Tape::new(), BatchBuf::default());
    let mut stop = StopReason::Completed;
    let mut epochs_done = start;
    'epochs: for epoch in start + 1..=cfg.epochs {
        order.shuffle(&mut rng);
        let (mut loss_sum, mut norm_sum) = (0.0, 0.0);
        let mut lr = cfg.lr;
        for (bi, idx) in order.chunks(cfg.batch_size).enumerate() {
            let step = (epoch - 1) * batches_per_epoch + bi;
            lr = cfg.schedule.lr(cfg.lr, step, total_steps);
            let loss = batch_gradient(&*model, train, idx, &mut shards, &mut total)?;
            let norm = total.norm().to_f64();
            if !loss.is_finite() || !norm.is_finite() {
                model.store_mut().as_mut_slice().copy_from_slice(&last_good);
                let what = if loss.is_finite() { "gradient" } else { "loss" };
                stop = StopReason::Diverged {
                    epoch,
                    what: format!(
                        "the {what} became {}",
                        if loss.is_finite() { norm } else { loss }
                    ),
                };
                break 'epochs;
            }
            if let Some(c) = cfg.clip {
                clip_global_norm(&mut total, c);
            }
            last_good.copy_from_slice(model.store().as_slice());
            opt.step(model.store_mut(), &total, lr);
            loss_sum += loss;
            norm_sum += norm;
        }
        epochs_done = epoch;
        let val_eval = if epoch % cfg.eval_every.max(1) == 0 || epoch == cfg.epochs {
            Some(evaluate_with(
                &*model,
                val,
                100,
                &mut eval_tape,
                &mut eval_buf,
            )?)
        } else {
            None
        };
        if let Some(e) = val_eval {
            // higher score; among equal scores (small validation sets saturate accuracy)
            // the lower validation loss
            let better = e.score().is_finite()
                && best.is_none_or(|b| {
                    e.score() > b.score() || (e.score() == b.score() && e.loss < b.loss)
                });
            if better {
                best = Some(e);
                best_epoch = epoch;
                best_params.copy_from_slice(model.store().as_slice());
                since_best = 0;
            } else {
                since_best += 1;
            }
        }
        let report = EpochReport {
            epoch,
            train_loss: loss_sum / batches_per_epoch as f64,
            val: val_eval,
            best_score: best.map_or(f64::NAN, |b| b.score()),
            lr,
            grad_norm: norm_sum / batches_per_epoch as f64,
        };
        let state = EpochState {
            epoch,
            optimizer: &*opt,
            best_params: &best_params,
            best,
            best_epoch,
            since_best,
        };
        if observer(&report, model, &state) == Control::Stop {
            stop = StopReason::Interrupted;
            break;
        }
        if cfg.patience.is_some_and(|p| since_best >= p) {
            stop = StopReason::EarlyStopped;
            break;
        }
    }
    if best.is_some() {
        model
            .store_mut()
            .as_mut_slice()
            .copy_from_slice(&best_params);
    }
    Ok(TrainReport {
        epochs: epochs_done,
        best,
        best_epoch,
        stop,
    })
}

/// The mean loss of the trials `idx` and its gradient in `total`, computed over `shards` in
/// parallel and summed in shard order.
fn batch_gradient<T: Float, M: SequenceModel<T>>(
    model: &M,
    d: &SeqData<T>,
    idx: &[usize],
    shards: &mut [Shard<T>],
    total: &mut Grads<T>,
) -> Result<f64, SolveError> {
    let per = idx.len().div_ceil(shards.len());
    let work = |s: usize, sh: &mut Shard<T>| {
        sh.grads.zero();
        sh.loss = T::ZERO;
        sh.weight = 0;
        sh.err = None;
        let lo = (s * per).min(idx.len());
        let hi = ((s + 1) * per).min(idx.len());
        if lo == hi {
            return;
        }
        sh.buf.gather(d, &idx[lo..hi]);
        let b = sh.buf.batch(d);
        match model.loss_grad(&mut sh.tape, &b, sh.buf.targets(d), &mut sh.grads) {
            Ok(l) => {
                sh.loss = l;
                sh.weight = sh.buf.weight(d);
            }
            Err(e) => sh.err = Some(e),
        }
    };
    crate::parallel::par_map(shards, work);
    let w_total: usize = shards.iter().map(|s| s.weight).sum();
    total.zero();
    let mut loss = 0.0;
    for sh in shards.iter_mut() {
        if let Some(e) = sh.err.take() {
            return Err(e);
        }
        if sh.weight == 0 {
            continue;
        }
        let w = sh.weight as f64 / w_total as f64;
        loss += w * sh.loss.to_f64();
        crate::dense::axpy(total.as_mut_slice(), T::from_f64(w), sh.grads.as_slice());
    }
    Ok(loss)
}
