//! Flow matching (Lipman et al. 2022) on the linear path, with optional minibatch optimal
//! transport pairing (Tong et al. 2023).
//!
//! ```text
//! x_0 ~ N(0, I),  x_1 ~ data,  t ~ U(0, 1),  x_t = (1 − t) x_0 + t x_1
//! L(θ) = mean over batch and dims of (v_θ(x_t, t) − (x_1 − x_0))²
//! OT:   pair the minibatch's x_0 with its x_1 by the assignment minimising Σ ‖x_0 − x_1‖²
//! ```

use super::Cnf;
use super::likelihood::base_draws;
use super::velocity::CnfVars;
use crate::Float;
use crate::error::ConfigError;
use crate::tape::{Tape, Var};
use crate::train::{Optimizer, OptimizerKind, Schedule, clip_global_norm};
use rand::{Rng, RngExt};

/// Settings of [`fit_flow_matching`]. `Default`: 3000 steps of 256, Adam lr 2e-3 with cosine
/// decay to 5 %, clip 1, no OT.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowMatchingConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Pairs per step.
    pub batch: usize,
    /// Learning rate.
    pub lr: f64,
    /// Learning-rate schedule over the steps.
    pub schedule: Schedule,
    /// Global gradient-norm clip.
    pub clip: Option<f64>,
    /// Pair noise and data by minibatch optimal transport (unconditional flows only).
    pub ot: bool,
    /// Fraction of the run (its end) over which the parameters are averaged (Polyak–Ruppert;
    /// 0: the last iterate). The flow-matching target `x1 − x0` is noisy, so the last iterate
    /// carries the minibatch noise of the final steps; the average does not.
    pub average: f64,
}

impl Default for FlowMatchingConfig {
    fn default() -> Self {
        Self {
            steps: 3000,
            batch: 256,
            lr: 2e-3,
            schedule: Schedule::Cosine { floor: 0.05 },
            clip: Some(1.0),
            ot: false,
            average: 0.0,
        }
    }
}

impl FlowMatchingConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// Zero steps or batch, a non-positive learning rate or clip, an averaged fraction outside
    /// [0, 1].
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.steps == 0 {
            return Err(ConfigError::new("steps", "must be at least 1"));
        }
        if self.batch == 0 {
            return Err(ConfigError::new("batch", "must be at least 1"));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(ConfigError::new(
                "lr",
                format!("must be positive, got {}", self.lr),
            ));
        }
        if !(0.0..=1.0).contains(&self.average) {
            return Err(ConfigError::new(
                "average",
                format!("must be in [0, 1], got {}", self.average),
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

/// What [`fit_flow_matching`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowMatchingReport {
    /// The loss of every step.
    pub losses: Vec<f64>,
}

impl FlowMatchingReport {
    /// Mean loss over the last `k` steps.
    pub fn final_loss(&self, k: usize) -> f64 {
        let k = k.clamp(1, self.losses.len().max(1));
        let tail = &self.losses[self.losses.len().saturating_sub(k)..];
        tail.iter().sum::<f64>() / tail.len().max(1) as f64
    }
}

/// Records the flow-matching loss of pairs `(x0, x1)` (`B × d` each) at times `t` (`B`), with
/// conditioning `cond` (`B × C`, empty when C = 0).
///
/// # Panics
/// If the lengths do not match.
pub fn flow_matching_loss<T: Float>(
    tape: &mut Tape<T>,
    cnf: &Cnf<T>,
    vars: &CnfVars,
    x0: &[T],
    x1: &[T],
    t: &[T],
    cond: &[T],
) -> Var {
    let d = cnf.config().dim;
    let b = t.len();
    assert!(
        x0.len() == b * d && x1.len() == b * d && cond.len() == b * cnf.config().cond,
        "flow_matching_loss: x0, x1 must be B × d and cond B × C for B = t.len()"
    );
    let mut xt = Vec::with_capacity(b * d);
    let mut u = Vec::with_capacity(b * d);
    for i in 0..b {
        for j in 0..d {
            let (a, c) = (x0[i * d + j], x1[i * d + j]);
            xt.push((T::ONE - t[i]) * a + t[i] * c);
            u.push(c - a);
        }
    }
    let xv = tape.constant(b, d, &xt);
    let tv = tape.constant(b, 1, t);
    let cv = (cnf.config().cond > 0).then(|| tape.constant(b, cnf.config().cond, cond));
    let v = cnf.velocity_at(tape, vars, xv, cv, tv);
    let uv = tape.constant(b, d, &u);
    let diff = tape.sub(v, uv);
    let sq = tape.square(diff);
    tape.mean(sq)
}

/// Trains `cnf` by flow matching on the rows of `data` (`n × d`) with conditioning `cond`
/// (`n × C`, empty when C = 0); `observer(step, loss)` sees every step.
///
/// # Errors
/// Invalid settings, no data, mismatched lengths, or OT with conditioning inputs.
pub fn fit_flow_matching<T: Float, R: Rng + ?Sized>(
    cnf: &mut Cnf<T>,
    data: &[T],
    cond: &[T],
    cfg: &FlowMatchingConfig,
    rng: &mut R,
    mut observer: impl FnMut(usize, f64),
) -> Result<FlowMatchingReport, ConfigError> {
    cfg.validate()?;
    let (d, c) = (cnf.config().dim, cnf.config().cond);
    if data.is_empty() || !data.len().is_multiple_of(d) {
        return Err(ConfigError::new(
            "data",
            format!("{} values do not form rows of {d}", data.len()),
        ));
    }
    let n = data.len() / d;
    if cond.len() != n * c {
        return Err(ConfigError::new(
            "cond",
            format!("expected {n}×{c} conditioning values, got {}", cond.len()),
        ));
    }
    if cfg.ot && c > 0 {
        return Err(ConfigError::new(
            "ot",
            "minibatch OT pairs noise with data irrespective of the conditioning; use it for \
             unconditional flows only",
        ));
    }
    if let Some(k) = data.iter().chain(cond).position(|v| !v.is_finite()) {
        return Err(ConfigError::new("data", format!("value {k} is not finite")));
    }
    let mut opt = Optimizer::new(OptimizerKind::Adam, cnf.store().len(), 0.0)?;
    let mut tape = Tape::new();
    let mut grads = cnf.store().zeros_like();
    let b = cfg.batch;
    let (mut x1, mut cb, mut t) = (vec![T::ZERO; b * d], vec![T::ZERO; b * c], vec![T::ZERO; b]);
    let mut losses = Vec::with_capacity(cfg.steps);
    let averaged = ((cfg.average * cfg.steps as f64).round() as usize).min(cfg.steps);
    let avg_from = cfg.steps - averaged;
    let mut avg = vec![T::ZERO; if averaged > 0 { cnf.store().len() } else { 0 }];
    for step in 0..cfg.steps {
        for i in 0..b {
            let k = rng.random_range(0..n);
            x1[i * d..(i + 1) * d].copy_from_slice(&data[k * d..(k + 1) * d]);
            cb[i * c..(i + 1) * c].copy_from_slice(&cond[k * c..(k + 1) * c]);
            t[i] = T::from_f64(rng.random::<f64>());
        }
        let mut x0 = base_draws::<T, R>(rng, b, d);
        if cfg.ot {
            x0 = ot_pair(&x0, &x1, d);
        }
        tape.clear();
        let vars = cnf.record(&mut tape);
        let loss = flow_matching_loss(&mut tape, cnf, &vars, &x0, &x1, &t, &cb);
        let lv = tape.scalar(loss).to_f64();
        tape.backward(loss);
        grads.zero();
        tape.accumulate_param_grads(&mut grads);
        if !lv.is_finite() || !grads.all_finite() {
            losses.push(lv);
            observer(step, lv);
            break;
        }
        if let Some(clip) = cfg.clip {
            clip_global_norm(&mut grads, clip);
        }
        opt.step(
            cnf.store_mut(),
            &grads,
            cfg.schedule.lr(cfg.lr, step, cfg.steps),
        );
        losses.push(lv);
        observer(step, lv);
        if averaged > 0 && step >= avg_from {
            // running mean of the iterates since avg_from
            let w = T::from_f64(1.0 / (step - avg_from + 1) as f64);
            for (a, v) in avg.iter_mut().zip(cnf.store().as_slice()) {
                *a += w * (*v - *a);
            }
        }
    }
    if averaged > 0 && losses.len() == cfg.steps {
        cnf.store_mut().as_mut_slice().copy_from_slice(&avg);
    }
    Ok(FlowMatchingReport { losses })
}

/// Reorders the noise rows so that row `i` is paired with data row `i` optimally.
fn ot_pair<T: Float>(x0: &[T], x1: &[T], d: usize) -> Vec<T> {
    let b = x1.len() / d;
    let mut cost = vec![0.0; b * b];
    for i in 0..b {
        for j in 0..b {
            cost[i * b + j] = (0..d)
                .map(|k| (x1[i * d + k] - x0[j * d + k]).to_f64().powi(2))
                .sum();
        }
    }
    let perm = super::ot::assignment(&cost, b);
    perm.iter()
        .flat_map(|&j| x0[j * d..(j + 1) * d].to_vec())
        .collect()
}
