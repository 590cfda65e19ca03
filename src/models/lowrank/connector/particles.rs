//! Entropy-regularised particles: mean-field Langevin on `n` given `m` with an augmented
//! Lagrangian for the dynamics constraints and a multiplier for the second moment.
//!
//! ```text
//! energy of particle i:  E(n_i) = ½ Σ_r β_r n_ir² + Φ(m_i) (Λ + μ C)·n_i / K
//! C = (1/P) Σ_i Φ(m_i)ᵀ n_i − g   (K × R),     Φ(m)_k = φ(mᵀκ_k)
//! step:   n_i ← n_i − h ∇E(n_i) + √(2h) ξ_i            (unadjusted Langevin)
//! duals:  Λ ← Λ + μ C / K  every step;   β_r ← β_r exp(η (E[n_r²] / M2_r − 1))
//! ```
//! For fixed multipliers the particles relax to `n | m ~ N(−Φ(m)(Λ + μC)/(K β), 1/β)`: the
//! maximum-entropy family of [`super::gaussian`], reached here by simulation (and so open to
//! other references). Particles start from the fit's own `n` (spurious structure included),
//! which the entropy washes out. The result keeps the last `snapshots` states of the chain,
//! `spacing` steps apart (by default 8 states 100 steps apart, far beyond the chain's
//! relaxation time): draws of the same `q(n | m)`, so the distillation gets several pairs per
//! particle for free.

use super::ConnectorProblem;
use crate::error::ConfigError;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Settings of [`particles`].
#[derive(Clone, Debug, PartialEq)]
pub struct ParticleConfig {
    /// Particles per identified neuron (each copy of `m_i` carries its own `n`).
    pub copies: usize,
    /// Langevin steps.
    pub steps: usize,
    /// Step size h (relative to the reference variance: `h = step · M2`).
    pub step: f64,
    /// Penalty μ (relative to the largest eigenvalue of `G/K`).
    pub penalty: f64,
    /// Rate η of the second-moment multiplier.
    pub moment_rate: f64,
    /// States of the chain kept as samples: the last one and `snapshots − 1` before it,
    /// `spacing` steps apart (at stationarity each is a draw of `q(n | m)`; together they
    /// give the distillation `snapshots` pairs per particle instead of one).
    pub snapshots: usize,
    /// Steps between kept states.
    pub spacing: usize,
}

impl Default for ParticleConfig {
    fn default() -> Self {
        Self {
            copies: 4,
            steps: 4000,
            step: 0.05,
            penalty: 5.0,
            moment_rate: 0.01,
            snapshots: 8,
            spacing: 100,
        }
    }
}

/// The final particles and how the constraints converged.
#[derive(Clone, Debug, PartialEq)]
pub struct Particles {
    /// `m` of every kept particle state (`snapshots · P·copies × R`, snapshot-major).
    pub m: Vec<f64>,
    /// `n` of every kept particle state, the final one last.
    pub n: Vec<f64>,
    /// Relative constraint violation every 100 steps.
    pub violation: Vec<f64>,
}

/// Runs the particle system (see the [module docs](self)).
///
/// # Errors
/// Zero copies, steps, snapshots or spacing, more snapshots than the chain holds, a
/// non-positive step or penalty.
pub fn particles<R: Rng + ?Sized>(
    problem: &ConnectorProblem,
    cfg: &ParticleConfig,
    rng: &mut R,
    mut observer: impl FnMut(usize, f64),
) -> Result<Particles, ConfigError> {
    if cfg.copies == 0 || cfg.steps == 0 {
        return Err(ConfigError::new(
            "particles",
            "copies and steps must be at least 1",
        ));
    }
    if cfg.snapshots == 0 || cfg.spacing == 0 {
        return Err(ConfigError::new(
            "particles",
            "snapshots and spacing must be at least 1",
        ));
    }
    if (cfg.snapshots - 1).saturating_mul(cfg.spacing) >= cfg.steps {
        return Err(ConfigError::new(
            "particles",
            format!(
                "{} snapshots {} steps apart do not fit in {} steps",
                cfg.snapshots, cfg.spacing, cfg.steps
            ),
        ));
    }
    if !(cfg.step > 0.0 && cfg.penalty > 0.0 && cfg.moment_rate >= 0.0) {
        return Err(ConfigError::new(
            "particles",
            "step and penalty must be positive",
        ));
    }
    let (r, k) = (problem.rank, problem.states());
    let p0 = problem.m.len() / r;
    let p = p0 * cfg.copies;
    let m: Vec<f64> = (0..cfg.copies).flat_map(|_| problem.m.clone()).collect();
    let mut n: Vec<f64> = (0..cfg.copies).flat_map(|_| problem.n.clone()).collect();
    let phi = problem.features(&m); // P × K
    let lmax = problem.gram_top_eigenvalue(&phi);
    let m2 = &problem.second_moment;
    let mut beta: Vec<f64> = m2.iter().map(|v| 1.0 / v).collect();
    let h: Vec<f64> = m2.iter().map(|v| cfg.step * v).collect();
    let mu = cfg.penalty / lmax.max(1e-12);
    let mut lam = vec![0.0; k * r];
    let mut violation = Vec::new();
    let mut c = vec![0.0; k * r];
    let mut coef = vec![0.0; k * r];
    let mut kept: Vec<f64> = Vec::with_capacity(cfg.snapshots * p * r);
    for step in 0..cfg.steps {
        // C = (1/P) Φᵀ n − g
        c.fill(0.0);
        for i in 0..p {
            for q in 0..k {
                let f = phi[i * k + q] / p as f64;
                for s in 0..r {
                    c[q * r + s] += f * n[i * r + s];
                }
            }
        }
        for (cv, g) in c.iter_mut().zip(&problem.targets) {
            *cv -= g;
        }
        for j in 0..k * r {
            coef[j] = (lam[j] + mu * c[j]) / k as f64;
        }
        // stability: the penalty's curvature is μ λ_max(G/K) = penalty per unit of the drive
        for i in 0..p {
            for s in 0..r {
                let drive: f64 = (0..k).map(|q| phi[i * k + q] * coef[q * r + s]).sum();
                let hs = h[s] / (1.0 + h[s] * (beta[s] + cfg.penalty));
                let xi: f64 = StandardNormal.sample(rng);
                let x = &mut n[i * r + s];
                *x += -hs * (beta[s] * *x + drive) + (2.0 * hs).sqrt() * xi;
            }
        }
        for j in 0..k * r {
            lam[j] += mu * c[j] * 0.1;
        }
        for s in 0..r {
            let sm = (0..p).map(|i| n[i * r + s].powi(2)).sum::<f64>() / p as f64;
            beta[s] *= (cfg.moment_rate * (sm / m2[s] - 1.0))
                .clamp(-0.5, 0.5)
                .exp();
        }
        let left = cfg.steps - 1 - step;
        if left.is_multiple_of(cfg.spacing) && left / cfg.spacing < cfg.snapshots {
            kept.extend_from_slice(&n);
        }
        if step % 100 == 0 || step + 1 == cfg.steps {
            let viol = problem.violation(&m, &n);
            violation.push(viol);
            observer(step, viol);
        }
    }
    let m = (0..cfg.snapshots).flat_map(|_| m.clone()).collect();
    Ok(Particles {
        m,
        n: kept,
        violation,
    })
}
