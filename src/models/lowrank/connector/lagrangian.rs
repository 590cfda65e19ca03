//! Maximum entropy through a conditional CNF with an augmented Lagrangian (MEFN/EPI style).
//!
//! ```text
//! n = flow(z; m),  z ~ N(0, I):  simulated on the tape with ℓ = ∫_0^1 tr(∂v/∂n) dt
//! H(q(n | m)) ≈ (R/2) log(2πe) + mean ℓ
//! C_k = (1/B) Σ_b n_b φ(m_bᵀκ_k) − g_k,   S_r = (1/B) Σ_b n_br² − M2_r
//! L(θ) = −H + (1/K) Σ_k Λ_k·C_k + (μ/2K) Σ_k C_k^A·C_k^B + Σ_r ν_r S_r + (μ/2) Σ_r S_r^A S_r^B
//! duals (every `dual_every` steps):  Λ ← Λ + μ C̄,  ν ← ν + μ S̄   (C̄, S̄: means since the last)
//! ```
//! `A`, `B` are the two halves of the batch: the product of independent halves is an unbiased
//! estimate of the squared constraint, so the penalty does not reward low-variance `n`.

use super::ConnectorProblem;
use crate::error::ConfigError;
use crate::models::cnf::{Cnf, Trace, sample_on_tape};
use crate::solve::{Method, SolveOptions};
use crate::tape::Tape;
use crate::train::{Optimizer, OptimizerKind, Schedule, clip_global_norm};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// Settings of [`lagrangian`].
#[derive(Clone, Debug, PartialEq)]
pub struct LagrangianConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Samples per step (even).
    pub batch: usize,
    /// Adam learning rate (cosine decay to 10 %).
    pub lr: f64,
    /// Penalty μ.
    pub penalty: f64,
    /// Steps between dual updates.
    pub dual_every: usize,
    /// RK4 step of the flow.
    pub dt: f64,
}

impl Default for LagrangianConfig {
    fn default() -> Self {
        Self {
            steps: 1500,
            batch: 1024,
            lr: 2e-3,
            penalty: 20.0,
            dual_every: 25,
            dt: 0.125,
        }
    }
}

/// One step, as the observer sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LagrangianStep {
    /// 0-based step.
    pub step: usize,
    /// Entropy estimate of `q(n | m)`.
    pub entropy: f64,
    /// Relative constraint violation `‖C‖ / ‖g‖` of the batch.
    pub violation: f64,
    /// `max_r |E[n_r²] / M2_r − 1|` of the batch.
    pub moment_error: f64,
}

/// Trains `q_n` (dimension R, conditioning R) to maximise entropy under the constraints.
///
/// # Errors
/// A wrong CNF shape, invalid settings, or a solver failure.
pub fn lagrangian<R: Rng + ?Sized>(
    problem: &ConnectorProblem,
    q_n: &mut Cnf<f64>,
    cfg: &LagrangianConfig,
    rng: &mut R,
    mut observer: impl FnMut(&LagrangianStep),
) -> Result<(), ConfigError> {
    let (r, k) = (problem.rank, problem.states());
    if q_n.config().dim != r || q_n.config().cond != r {
        return Err(ConfigError::new(
            "q_n",
            format!("needs dimension {r} and conditioning {r}"),
        ));
    }
    if cfg.steps == 0 || cfg.batch < 2 || cfg.dual_every == 0 {
        return Err(ConfigError::new(
            "lagrangian",
            "steps, dual_every ≥ 1 and batch ≥ 2",
        ));
    }
    if !(cfg.lr > 0.0 && cfg.penalty > 0.0 && cfg.dt > 0.0 && cfg.dt <= 1.0) {
        return Err(ConfigError::new(
            "lagrangian",
            "lr, penalty and dt must be positive (dt ≤ 1)",
        ));
    }
    let b = cfg.batch / 2 * 2;
    let half = b / 2;
    let p = problem.m.len() / r;
    let opts = SolveOptions::fixed(Method::Rk4, cfg.dt);
    let mut opt = Optimizer::new(OptimizerKind::Adam, q_n.store().len(), 0.0)?;
    let schedule = Schedule::Cosine { floor: 0.1 };
    let (mut lam, mut nu) = (vec![0.0; k * r], vec![0.0; r]);
    let (mut c_acc, mut s_acc, mut acc_n) = (vec![0.0; k * r], vec![0.0; r], 0usize);
    let h0 = 0.5 * r as f64 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln();
    let gnorm = problem
        .targets
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        .max(1e-300);
    let mut tape = Tape::new();
    let mut grads = q_n.store().zeros_like();
    let mu = cfg.penalty;
    for step in 0..cfg.steps {
        let mut mb = Vec::with_capacity(b * r);
        for _ in 0..b {
            let i = rng.random_range(0..p);
            mb.extend_from_slice(&problem.m[i * r..(i + 1) * r]);
        }
        let z: Vec<f64> = (0..b * r).map(|_| StandardNormal.sample(rng)).collect();
        let phi = problem.features(&mb); // B × K
        tape.clear();
        let vars = q_n.record(&mut tape);
        let (n, ell) = sample_on_tape(&mut tape, q_n, &vars, &z, &mb, Trace::Exact, &opts)
            .map_err(|e| ConfigError::new("lagrangian", e.to_string()))?;
        let ent = tape.mean(ell);
        // constraints on each half: C = Φᵀ n / half − g
        let g = tape.constant(k, r, &problem.targets);
        let m2 = tape.constant(1, r, &problem.second_moment);
        let mut cs = Vec::new();
        let mut ss = Vec::new();
        for hh in 0..2 {
            let ph = tape.constant(half, k, &phi[hh * half * k..(hh + 1) * half * k]);
            let nh = tape.slice_rows(n, hh * half, half);
            let pt = tape.transpose(ph);
            let d = tape.matmul(pt, nh);
            let d = tape.scale(d, 1.0 / half as f64);
            cs.push(tape.sub(d, g));
            let sq = tape.square(nh);
            let sm = tape.col_means(sq);
            ss.push(tape.sub(sm, m2));
        }
        let c_full = tape.lin_comb(&[(cs[0], 0.5), (cs[1], 0.5)]);
        let s_full = tape.lin_comb(&[(ss[0], 0.5), (ss[1], 0.5)]);
        let lam_v = tape.constant(k, r, &lam);
        let nu_v = tape.constant(1, r, &nu);
        let lin_c = tape.mul(lam_v, c_full);
        let lin_c = tape.sum(lin_c);
        let lin_s = tape.mul(nu_v, s_full);
        let lin_s = tape.sum(lin_s);
        let pen_c = tape.mul(cs[0], cs[1]);
        let pen_c = tape.sum(pen_c);
        let pen_s = tape.mul(ss[0], ss[1]);
        let pen_s = tape.sum(pen_s);
        let loss = tape.lin_comb(&[
            (ent, -1.0),
            (lin_c, 1.0 / k as f64),
            (pen_c, 0.5 * mu / k as f64),
            (lin_s, 1.0),
            (pen_s, 0.5 * mu),
        ]);
        let (cv, sv) = (tape.value(c_full).to_vec(), tape.value(s_full).to_vec());
        let entropy = h0 + tape.scalar(ent);
        tape.backward(loss);
        grads.zero();
        tape.accumulate_param_grads(&mut grads);
        if !grads.all_finite() || !entropy.is_finite() {
            return Err(ConfigError::new(
                "lagrangian",
                format!("non-finite entropy or gradient at step {step}; lower lr or penalty"),
            ));
        }
        clip_global_norm(&mut grads, 1.0);
        opt.step(
            q_n.store_mut(),
            &grads,
            schedule.lr(cfg.lr, step, cfg.steps),
        );
        for (a, v) in c_acc.iter_mut().zip(&cv) {
            *a += v;
        }
        for (a, v) in s_acc.iter_mut().zip(&sv) {
            *a += v;
        }
        acc_n += 1;
        if (step + 1) % cfg.dual_every == 0 {
            for (l, a) in lam.iter_mut().zip(&c_acc) {
                *l += mu * a / acc_n as f64;
            }
            for (l, a) in nu.iter_mut().zip(&s_acc) {
                *l += mu * a / acc_n as f64;
            }
            c_acc.fill(0.0);
            s_acc.fill(0.0);
            acc_n = 0;
        }
        observer(&LagrangianStep {
            step,
            entropy,
            violation: cv.iter().map(|v| v * v).sum::<f64>().sqrt() / gnorm,
            moment_error: sv
                .iter()
                .zip(&problem.second_moment)
                .map(|(s, m)| (s / m).abs())
                .fold(0.0, f64::max),
        });
    }
    Ok(())
}
