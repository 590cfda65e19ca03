//! Fitting a low-rank RNN to a recording by gradient descent through the solver (SPEC §4.5 a).
//!
//! ```text
//! θ = (m, n, I) and optionally x0 of every training trial (from the first sample otherwise; see
//!     Recording)
//! rates:   L = mean over trials, samples, neurons of (φ(x_i(t_k)) − r_i(t_k))²
//! spikes:  L = mean of (λ_ik Δ − y_ik log(λ_ik Δ)),  λ = λ_max softplus(x)
//! Adam, cosine learning rate, global-norm clipping; minibatches of trials
//! held-out trials: x0 from their first sample, R² over the later samples (model selection)
//! initialisation: m from the top R principal components of the inverted activity (φ⁻¹ of the
//!     rates, softplus⁻¹ of smoothed counts), scaled to E[m_r²] = 1 (ours; or m ~ N(0, s²));
//!     n ~ N(0, s²) plus a constant offset (the "biased initialisation": the dynamics cannot
//!     see it for odd φ and symmetric p(m), so plain fitting keeps it)
//! ```

use super::recording::{ObsModel, Recording, predict, r_squared};
use super::{LowRank, LowRankConfig};
use crate::error::ConfigError;
use crate::solve::{GradMode, solve_with_grad};
use crate::tape::Tape;
use crate::train::{Optimizer, OptimizerKind, Schedule, clip_global_norm};
use rand::Rng;
use rand::seq::SliceRandom;

/// Settings of [`fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct FitConfig {
    /// Rank R.
    pub rank: usize,
    /// Time constant τ of the fitted network.
    pub tau: f64,
    /// Passes over the training trials.
    pub epochs: usize,
    /// Trials per step.
    pub batch: usize,
    /// Adam learning rate (cosine decay to 5 %).
    pub lr: f64,
    /// Global gradient-norm clip.
    pub clip: Option<f64>,
    /// RK4 steps per sample interval.
    pub substeps: usize,
    /// Gradient mode through the solver.
    pub grad_mode: GradMode,
    /// Initialise `m` from the principal components of the activity (else at random).
    pub pca_init: bool,
    /// Standard deviation of the initial loadings.
    pub init_scale: f64,
    /// Constant added to every initial `n_ir` (the biased initialisation).
    pub n_offset: f64,
    /// Learn each training trial's initial state (else keep it at the value inferred from the
    /// first sample: with rates this pins κ(0), which a free x0 could trade against the
    /// dynamics near the origin).
    pub learn_x0: bool,
    /// Fraction of trials held out for R² (at least one trial when positive).
    pub holdout: f64,
    /// Evaluate the held-out R² every this many epochs (and at the end).
    pub eval_every: usize,
    /// L-BFGS iterations on the whole training set after the Adam epochs (0: none). Adam's
    /// noisy minibatch steps cross the narrow valley in which the overlap `E[n mᵀ]` trades
    /// against higher-order dependence of `n` on `m` only slowly; deterministic quasi-Newton
    /// steps follow it.
    pub polish: usize,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            rank: 1,
            tau: 1.0,
            epochs: 200,
            batch: 16,
            lr: 1e-2,
            clip: Some(1.0),
            substeps: 1,
            grad_mode: GradMode::Checkpointed,
            pca_init: true,
            init_scale: 1.0,
            n_offset: 0.0,
            learn_x0: false,
            holdout: 0.2,
            eval_every: 10,
            polish: 0,
        }
    }
}

impl FitConfig {
    /// Checks the settings against a recording.
    ///
    /// # Errors
    /// Rank 0 or larger than the neurons, zero epochs/batch/substeps, non-positive rates,
    /// a hold-out fraction outside [0, 1), too few trials to train on.
    pub fn validate(&self, rec: &Recording) -> Result<(), ConfigError> {
        LowRankConfig {
            neurons: rec.neurons,
            rank: self.rank,
            inputs: rec.input_dim,
            tau: self.tau,
            initial_states: 0,
        }
        .validate()?;
        for (name, v) in [
            ("epochs", self.epochs),
            ("batch", self.batch),
            ("substeps", self.substeps),
        ] {
            if v == 0 {
                return Err(ConfigError::new(name, "must be at least 1"));
            }
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(ConfigError::new(
                "lr",
                format!("must be positive, got {}", self.lr),
            ));
        }
        if !(self.init_scale.is_finite() && self.init_scale > 0.0) {
            return Err(ConfigError::new("init_scale", "must be positive"));
        }
        if !self.n_offset.is_finite() {
            return Err(ConfigError::new("n_offset", "must be finite"));
        }
        if !(0.0..1.0).contains(&self.holdout) {
            return Err(ConfigError::new(
                "holdout",
                format!("must lie in [0, 1), got {}", self.holdout),
            ));
        }
        if self.split(rec.trials).0 == 0 {
            return Err(ConfigError::new(
                "holdout",
                format!("leaves no training trials out of {}", rec.trials),
            ));
        }
        Ok(())
    }

    /// `(training, held-out)` trial counts.
    fn split(&self, trials: usize) -> (usize, usize) {
        let h = if self.holdout > 0.0 {
            ((self.holdout * trials as f64).round() as usize).max(1)
        } else {
            0
        };
        (trials.saturating_sub(h), h.min(trials))
    }
}

/// One epoch, as the observer sees it (L-BFGS iterations continue the numbering after the
/// last epoch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitEpoch {
    /// 1-based epoch (or `epochs` + the L-BFGS iteration).
    pub epoch: usize,
    /// Mean training loss over the epoch's steps.
    pub loss: f64,
    /// Mean gradient norm before clipping.
    pub grad_norm: f64,
    /// Held-out R², when evaluated.
    pub heldout_r2: Option<f64>,
}

/// A fitted network and how it was obtained.
#[derive(Clone, Debug, PartialEq)]
pub struct FitResult {
    /// The network (`x0` holds the training trials' initial states, in `train` order).
    pub net: LowRank<f64>,
    /// Training trials.
    pub train: Vec<usize>,
    /// Held-out trials.
    pub heldout: Vec<usize>,
    /// R² on the training trials (from their fitted initial states, samples 1..T).
    pub train_r2: f64,
    /// R² on the held-out trials (samples 1..T); NaN without held-out trials.
    pub heldout_r2: f64,
    /// Every epoch.
    pub history: Vec<FitEpoch>,
}

/// Held-out R² of a network (initial states from the first samples).
///
/// # Errors
/// A solver failure.
pub fn heldout_r2(
    net: &LowRank<f64>,
    rec: &Recording,
    trials: &[usize],
    substeps: usize,
) -> Result<f64, crate::Error> {
    if trials.is_empty() {
        return Ok(f64::NAN);
    }
    let x0: Vec<f64> = trials.iter().flat_map(|&b| rec.initial_guess(b)).collect();
    let pred = predict(net, rec, trials, &x0, substeps)
        .map_err(|e| ConfigError::new("fit", e.to_string()))?;
    Ok(r_squared(rec, trials, &pred, 1))
}

/// Fits a rank-`cfg.rank` network to `rec`; `observer` sees every epoch and may stop the fit
/// by returning `false`.
///
/// # Errors
/// An invalid recording or settings, or a solver failure.
pub fn fit<R: Rng + ?Sized>(
    rec: &Recording,
    cfg: &FitConfig,
    rng: &mut R,
    mut observer: impl FnMut(&FitEpoch, &LowRank<f64>) -> bool,
) -> Result<FitResult, crate::Error> {
    rec.validate()?;
    cfg.validate(rec)?;
    let (n, r, s, t) = (rec.neurons, cfg.rank, rec.input_dim, rec.samples);
    let mut order: Vec<usize> = (0..rec.trials).collect();
    order.shuffle(rng);
    let (n_train, _) = cfg.split(rec.trials);
    let (train, heldout) = (order[..n_train].to_vec(), order[n_train..].to_vec());
    let mut m = crate::models::init::normal::<f64, R>(rng, n * r, cfg.init_scale);
    let mut nn = crate::models::init::normal::<f64, R>(rng, n * r, cfg.init_scale);
    nn.iter_mut().for_each(|v| *v += cfg.n_offset);
    let inp = crate::models::init::normal::<f64, R>(rng, n * s, cfg.init_scale);
    if cfg.pca_init {
        m = pca_loadings(rec, r, rng);
    }
    let mut net = LowRank::from_loadings(
        LowRankConfig {
            neurons: n,
            rank: r,
            inputs: s,
            tau: cfg.tau,
            initial_states: n_train,
        },
        &m,
        &nn,
        &inp,
    )?;
    let x0: Vec<f64> = train.iter().flat_map(|&b| rec.initial_guess(b)).collect();
    net.x0_mut().copy_from_slice(&x0);
    let mut opt = Optimizer::new(OptimizerKind::Adam, net.store().len(), 0.0)?;
    let steps_per_epoch = n_train.div_ceil(cfg.batch);
    let total = cfg.epochs * steps_per_epoch;
    let schedule = Schedule::Cosine { floor: 0.05 };
    let mut history = Vec::with_capacity(cfg.epochs);
    let mut rows: Vec<usize> = (0..n_train).collect();
    let mut step = 0;
    let scale = 1.0 / (t * n) as f64;
    for epoch in 1..=cfg.epochs {
        rows.shuffle(rng);
        let (mut loss_sum, mut norm_sum) = (0.0, 0.0);
        for chunk in rows.chunks(cfg.batch) {
            let trials: Vec<usize> = chunk.iter().map(|&q| train[q]).collect();
            let mut grads = net.store().zeros_like();
            let loss = batch_loss(
                &net,
                rec,
                cfg,
                &trials,
                chunk,
                scale / trials.len() as f64,
                &mut grads,
            )?;
            if !loss.is_finite() || !grads.all_finite() {
                return Err(ConfigError::new(
                    "fit",
                    format!(
                        "the loss or its gradient became non-finite at epoch {epoch}; lower lr"
                    ),
                )
                .into());
            }
            if !cfg.learn_x0
                && let Some(id) = net.ids.x0
            {
                let range = net.store().info(id).range();
                grads.as_mut_slice()[range].fill(0.0);
            }
            let norm = match cfg.clip {
                Some(c) => clip_global_norm(&mut grads, c),
                None => grads.norm(),
            };
            opt.step(net.store_mut(), &grads, schedule.lr(cfg.lr, step, total));
            step += 1;
            loss_sum += loss;
            norm_sum += norm;
        }
        let evaluate = epoch % cfg.eval_every.max(1) == 0 || epoch == cfg.epochs;
        let heldout_r2 = if evaluate && !heldout.is_empty() {
            Some(self::heldout_r2(&net, rec, &heldout, cfg.substeps)?)
        } else {
            None
        };
        let e = FitEpoch {
            epoch,
            loss: loss_sum / steps_per_epoch as f64,
            grad_norm: norm_sum / steps_per_epoch as f64,
            heldout_r2,
        };
        history.push(e);
        if !observer(&e, &net) {
            break;
        }
    }
    if cfg.polish > 0 && history.len() == cfg.epochs {
        polish(
            &mut net,
            rec,
            cfg,
            &train,
            &heldout,
            &mut history,
            &mut observer,
        )?;
    }
    let pred = predict(&net, rec, &train, net.x0(), cfg.substeps)
        .map_err(|e| ConfigError::new("fit", e.to_string()))?;
    let train_r2 = r_squared(rec, &train, &pred, 1);
    let heldout_r2 = history
        .iter()
        .rev()
        .find_map(|e| e.heldout_r2)
        .unwrap_or(f64::NAN);
    Ok(FitResult {
        net,
        train,
        heldout,
        train_r2,
        heldout_r2,
        history,
    })
}

/// Adds the gradient of `weight ·` (summed loss of `trials`, whose stored initial states are
/// the rows `rows` of the network's `x0`) into `grads` and returns that weighted loss.
///
/// # Errors
/// A solver failure.
fn batch_loss(
    net: &LowRank<f64>,
    rec: &Recording,
    cfg: &FitConfig,
    trials: &[usize],
    rows: &[usize],
    weight: f64,
    grads: &mut crate::tape::Grads<f64>,
) -> Result<f64, crate::Error> {
    let (n, t) = (rec.neurons, rec.samples);
    let inputs = rec.inputs_time_major(trials);
    let b = trials.len();
    let (ode, opts) = rec.trial_ode(net, &inputs, b, cfg.substeps);
    let mut frame = vec![0.0; b * n];
    let sol = solve_with_grad(
        &ode,
        |tape: &mut Tape<f64>, p| net.initial_states(tape, &p.vars, rows),
        |tape: &mut Tape<f64>, _, k, y| {
            for (q, &tr) in trials.iter().enumerate() {
                frame[q * n..(q + 1) * n].copy_from_slice(rec.frame(tr, k));
            }
            let obs = tape.constant(b, n, &frame);
            let term = match rec.obs {
                ObsModel::Rates => {
                    let phi = tape.tanh(y);
                    let d = tape.sub(phi, obs);
                    tape.square(d)
                }
                ObsModel::Spikes { rate_scale } => {
                    // λΔ − y log(λΔ), λΔ = c softplus(x), c = λ_max Δ
                    let c = rate_scale * rec.sample_dt;
                    let sp = tape.softplus(y);
                    let lam = tape.scale(sp, c);
                    let lg = tape.add_scalar(lam, 1e-9);
                    let lg = tape.ln(lg);
                    let yl = tape.mul(obs, lg);
                    tape.sub(lam, yl)
                }
            };
            let sum = tape.sum(term);
            tape.scale(sum, weight)
        },
        0.0,
        (t - 1) as f64 * rec.sample_dt,
        &opts,
        cfg.grad_mode,
        grads,
    )
    .map_err(|e| ConfigError::new("fit", e.to_string()))?;
    Ok(sol.loss)
}

/// L-BFGS on the whole training set (in chunks of `cfg.batch` trials, gradients summed),
/// `cfg.polish` iterations; the observer sees each as an epoch numbered after the last one.
fn polish(
    net: &mut LowRank<f64>,
    rec: &Recording,
    cfg: &FitConfig,
    train: &[usize],
    heldout: &[usize],
    history: &mut Vec<FitEpoch>,
    observer: &mut impl FnMut(&FitEpoch, &LowRank<f64>) -> bool,
) -> Result<(), crate::Error> {
    use crate::train::lbfgs::{LbfgsConfig, lbfgs};
    let first_epoch = history.len();
    let weight = 1.0 / (rec.samples * rec.neurons * train.len()) as f64;
    let rows: Vec<usize> = (0..train.len()).collect();
    let x0_range = net
        .ids
        .x0
        .filter(|_| !cfg.learn_x0)
        .map(|id| net.store().info(id).range());
    let mut theta = net.store().as_slice().to_vec();
    let mut work = net.clone();
    let mut evaluate = |theta: &[f64]| -> Result<(f64, Vec<f64>), crate::Error> {
        work.store_mut().as_mut_slice().copy_from_slice(theta);
        let mut grads = work.store().zeros_like();
        let mut loss = 0.0;
        for chunk in rows.chunks(cfg.batch) {
            let trials: Vec<usize> = chunk.iter().map(|&q| train[q]).collect();
            // a trial step whose states blow up is rejected by the line search
            match batch_loss(&work, rec, cfg, &trials, chunk, weight, &mut grads) {
                Ok(l) => loss += l,
                Err(_) => return Ok((f64::NAN, grads.as_slice().to_vec())),
            }
        }
        if let Some(r) = x0_range.clone() {
            grads.as_mut_slice()[r].fill(0.0);
        }
        Ok((loss, grads.as_slice().to_vec()))
    };
    let mut failed: Option<crate::Error> = None;
    let lcfg = LbfgsConfig {
        iters: cfg.polish,
        ..Default::default()
    };
    let mut step_net = net.clone();
    let mut report = |step: &crate::train::lbfgs::LbfgsStep, theta: &[f64]| -> bool {
        let epoch = first_epoch + step.iter;
        let eval = step.iter.is_multiple_of(cfg.eval_every.max(1)) || step.iter == cfg.polish;
        step_net.store_mut().as_mut_slice().copy_from_slice(theta);
        let heldout_r2 = if eval && !heldout.is_empty() {
            match heldout_r2(&step_net, rec, heldout, cfg.substeps) {
                Ok(v) => Some(v),
                Err(e) => {
                    failed = Some(e);
                    return false;
                }
            }
        } else {
            None
        };
        let e = FitEpoch {
            epoch,
            loss: step.loss,
            grad_norm: step.grad_norm,
            heldout_r2,
        };
        history.push(e);
        observer(&e, &step_net)
    };
    lbfgs(
        &mut theta,
        &lcfg,
        &mut evaluate,
        || ConfigError::new("fit", "non-finite loss before the L-BFGS polish").into(),
        &mut report,
    )?;
    if let Some(e) = failed {
        return Err(e);
    }
    net.store_mut().as_mut_slice().copy_from_slice(&theta);
    // a polish that stopped early (no progress) still reports the final network's R²
    if let Some(last) = history.last_mut()
        && last.heldout_r2.is_none()
        && !heldout.is_empty()
    {
        last.heldout_r2 = Some(heldout_r2(net, rec, heldout, cfg.substeps)?);
    }
    Ok(())
}

/// Fits every rank of `ranks` and picks the smallest whose held-out R² is within `tolerance`
/// of the best (parsimony). Returns the chosen fit and `(rank, held-out R²)` for each.
///
/// # Errors
/// As [`fit`]; an empty rank list.
pub fn select_rank<R: Rng + ?Sized>(
    rec: &Recording,
    ranks: &[usize],
    cfg: &FitConfig,
    tolerance: f64,
    rng: &mut R,
    mut observer: impl FnMut(usize, &FitEpoch, &LowRank<f64>) -> bool,
) -> Result<(FitResult, Vec<(usize, f64)>), crate::Error> {
    if ranks.is_empty() {
        return Err(ConfigError::new("ranks", "no rank to try").into());
    }
    let mut fits = Vec::with_capacity(ranks.len());
    for &r in ranks {
        let c = FitConfig {
            rank: r,
            ..cfg.clone()
        };
        fits.push(fit(rec, &c, rng, |e, net| observer(r, e, net))?);
    }
    let scores: Vec<(usize, f64)> = ranks
        .iter()
        .zip(&fits)
        .map(|(&r, f)| (r, f.heldout_r2))
        .collect();
    let best = scores
        .iter()
        .map(|s| s.1)
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let pick = scores
        .iter()
        .enumerate()
        .filter(|(_, s)| s.1 >= best - tolerance)
        .min_by_key(|(_, s)| s.0)
        .map_or(0, |(i, _)| i);
    Ok((fits.swap_remove(pick), scores))
}

/// `m` (`N × R`) from the top R principal components of the inverted activity of every trial
/// and sample (subspace iteration on the centred data), scaled to `E[m_r²] = 1`.
pub fn pca_loadings<R: Rng + ?Sized>(rec: &Recording, rank: usize, rng: &mut R) -> Vec<f64> {
    let n = rec.neurons;
    let rows = rec.trials * rec.samples;
    let mut x = Vec::with_capacity(rows * n);
    for b in 0..rec.trials {
        for k in 0..rec.samples {
            let f = rec.frame(b, k);
            match rec.obs {
                ObsModel::Rates => x.extend(f.iter().map(|r| r.clamp(-0.995, 0.995).atanh())),
                ObsModel::Spikes { rate_scale } => x.extend(f.iter().map(|y| {
                    let s = (y / (rate_scale * rec.sample_dt)).max(0.05);
                    if s > 30.0 { s } else { s.exp_m1().ln() }
                })),
            }
        }
    }
    for i in 0..n {
        let mu = (0..rows).map(|q| x[q * n + i]).sum::<f64>() / rows as f64;
        (0..rows).for_each(|q| x[q * n + i] -= mu);
    }
    let xm = nalgebra::DMatrix::from_row_slice(rows, n, &x);
    let mut v = nalgebra::DMatrix::<f64>::from_fn(n, rank, |_, _| {
        rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, rng)
    });
    for _ in 0..60 {
        let y = &xm * &v;
        v = xm.transpose() * y;
        v = v.qr().q();
    }
    let scale = (n as f64).sqrt();
    let mut out = vec![0.0; n * rank];
    for i in 0..n {
        for q in 0..rank {
            out[i * rank + q] = scale * v[(i, q)];
        }
    }
    out
}
