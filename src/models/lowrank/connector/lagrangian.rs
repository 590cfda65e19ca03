//! Maximum entropy through a conditional CNF with an augmented Lagrangian (MEFN/EPI style).
//!
//! ```text
//! n = flow(z; m),  z ~ N(0, I):  simulated on the tape with ℓ = ∫_0^1 tr(∂v/∂n) dt
//! H(q(n | m)) ≈ (R/2) log(2πe) + mean ℓ
//! constraints, scaled to O(1):   c_kr = (E[n_r φ(mᵀκ_k)] − g_kr) / ḡ,   ḡ = ‖g‖ / √(KR)
//!                                s_r  = E[n_r²] / M2_r − 1
//! augmented Lagrangian:  L = −H + (1/KR) Σ (λ + μ c)·c + Σ_r ν_r E[n_r²]
//! primal step (Adam) on   −H_B + (1/KR) Σ (λ + μ c̄)·c_B + Σ_r ν_r E_B[n_r²]
//!                         (c̄: a running mean of the batch constraints, held fixed, so the
//!                         term is linear in the batch and its gradient unbiased)
//! duals, every step:      λ_r ← λ_r + η (R ḡ² / s_r²) (G/K + ε λ_max(G/K) I)⁻¹ c̄_r
//!                         ν_r ← ν_r exp(η_ν s̄_r)      (ν_r > 0; s_r² = 1/(2ν_r))
//! scale of the penalty:   μ = penalty / σ,    σ = λ_max(G/K) · max_r M2_r / (R ḡ²)
//! ```
//! `σ` bounds the curvature of the dual function (a Gaussian `q(n | m)` of variance ≤ M2 tilted
//! by the multipliers moves `c` by `σ` per unit of `λ`), so `penalty` is a dimensionless
//! number: the same default serves every benchmark. The `λ` update is a damped Newton step for
//! a Gaussian `q(n | m)` (whose conditional variance is `s_r² = 1/(2ν_r)`, and whose drives
//! respond to `λ` through `G`): the multipliers' fixed point is still feasibility, the
//! preconditioning only makes every direction converge at the same rate (a gradient step on
//! the dual converges in `≈ σ / σ_j` times as many steps in a direction of curvature `σ_j`).
//! `ν` starts at the reference's `1 / (2 M2)` (maximum entropy is then a KL to `N(0, M2)`).
//! Batches are windows of the pool with quasi-random base draws, and the result is the average
//! of the parameters over the last `average` of the run (Polyak–Ruppert).
//!
//! Why this form (measured on the bistable benchmark, docs/models/lowrank.md): the first
//! version penalised the product of two half-batch constraint estimates with a raw `μ = 20`
//! and updated `ν ← ν + μ s` on the unscaled moment; its constraint gradient was 2–1800× the
//! entropy's (median 96: the entropy was ≈ 1 % of the clipped step), mostly minibatch noise, and
//! `ν` swung between −2.4 and 3.3 around its optimum 0.14 (negative `ν` rewards spread).
//! The entropy estimate itself was exact to 1e-5 (8 RK4 steps against 128).

use super::ConnectorProblem;
use crate::error::ConfigError;
use crate::models::cnf::qmc::halton_normal_at;
use crate::models::cnf::{Cnf, Trace, push_forward, sample_on_tape};
use crate::solve::{Method, SolveOptions};
use crate::tape::Tape;
use crate::train::{Optimizer, OptimizerKind, Schedule, clip_global_norm};
use rand::{Rng, RngExt};

/// Settings of [`lagrangian`].
#[derive(Clone, Debug, PartialEq)]
pub struct LagrangianConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Samples per step.
    pub batch: usize,
    /// Adam learning rate (cosine decay to 10 %).
    pub lr: f64,
    /// Penalty, relative to the dual curvature `σ` (see the module docs).
    pub penalty: f64,
    /// Dual rate η: the fraction of a Newton step on the dual taken per step.
    pub dual_rate: f64,
    /// Ridge ε of the dual preconditioner `G/K + ε λ_max(G/K) I`.
    pub ridge: f64,
    /// Rate `η_ν` of the second-moment multipliers: `ν_r ← ν_r exp(η_ν s̄_r)` per step.
    pub moment_rate: f64,
    /// Weight of the past in the running mean `c̄` (per step).
    pub smoothing: f64,
    /// Fraction of the run (its end) over which the parameters are averaged (Polyak–Ruppert):
    /// the result is the mean of those iterates, which cancels the optimiser's jitter.
    pub average: f64,
    /// RK4 step of the flow.
    pub dt: f64,
    /// Steps between diagnostic evaluations (0: none).
    pub eval_every: usize,
    /// Samples of a diagnostic evaluation (fixed `(m, z)`, common random numbers).
    pub eval_batch: usize,
}

impl Default for LagrangianConfig {
    fn default() -> Self {
        Self {
            steps: 3000,
            batch: 1024,
            lr: 2e-3,
            penalty: 1.0,
            dual_rate: 0.1,
            ridge: 1e-3,
            moment_rate: 0.02,
            smoothing: 0.5,
            average: 0.5,
            dt: 0.125,
            eval_every: 0,
            eval_batch: 4000,
        }
    }
}

impl LagrangianConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// Zero steps or a batch below 2, a non-positive rate or step, smoothing outside [0, 1).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.steps == 0 || self.batch < 2 {
            return Err(ConfigError::new(
                "lagrangian",
                "steps ≥ 1 and batch ≥ 2 are needed",
            ));
        }
        let positive = [self.lr, self.penalty, self.dual_rate, self.ridge, self.dt];
        if !positive.iter().all(|v| v.is_finite() && *v > 0.0) || self.dt > 1.0 {
            return Err(ConfigError::new(
                "lagrangian",
                "lr, penalty, dual_rate, ridge and dt must be positive (dt ≤ 1)",
            ));
        }
        let ranges_ok = self.moment_rate.is_finite()
            && self.moment_rate >= 0.0
            && (0.0..1.0).contains(&self.smoothing)
            && (0.0..=1.0).contains(&self.average);
        if !ranges_ok {
            return Err(ConfigError::new(
                "lagrangian",
                "moment_rate must be ≥ 0, smoothing in [0, 1) and average in [0, 1]",
            ));
        }
        if self.eval_every > 0 && self.eval_batch == 0 {
            return Err(ConfigError::new("lagrangian", "eval_batch must be ≥ 1"));
        }
        Ok(())
    }
}

/// One step, as the observer sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LagrangianStep {
    /// 0-based step.
    pub step: usize,
    /// Entropy estimate of `q(n | m)` on the batch.
    pub entropy: f64,
    /// Relative constraint violation `‖C‖ / ‖g‖` of the batch.
    pub violation: f64,
    /// Relative violation of the running mean `c̄` (what the multipliers see).
    pub violation_smoothed: f64,
    /// `max_r |E[n_r²] / M2_r − 1|` of the batch.
    pub moment_error: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// `‖λ‖` (Frobenius, scaled constraints).
    pub lambda_norm: f64,
    /// Largest second-moment multiplier `ν_r`.
    pub nu: f64,
    /// A diagnostic evaluation, every `eval_every` steps.
    pub eval: Option<LagrangianEval>,
}

/// A diagnostic evaluation on fixed `(m, z)` (no gradient).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LagrangianEval {
    /// Entropy with the training RK4 step.
    pub entropy: f64,
    /// Entropy with a 16× finer RK4 step (the reference).
    pub entropy_fine: f64,
    /// Relative violation of the samples of the training step.
    pub violation: f64,
    /// Relative violation of the samples of the fine step.
    pub violation_fine: f64,
    /// `|E[n]|` (fine step).
    pub mean_norm: f64,
    /// `max_r |E[n_r²] / M2_r − 1|` (fine step).
    pub moment_error: f64,
    /// Norm of the entropy's gradient on this step's batch.
    pub grad_entropy: f64,
    /// Norm of the constraint terms' gradient on this step's batch.
    pub grad_constraints: f64,
}

/// Trains `q_n` (dimension R, conditioning R) to maximise entropy under the constraints
/// (see the [module docs](self)).
///
/// # Errors
/// A wrong CNF shape, invalid settings, or a solver failure (or non-finite values).
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
    cfg.validate()?;
    if 2 * r > 16 {
        return Err(ConfigError::new(
            "q_n",
            "rank above 8: quasi-random batches reach 16 dimensions",
        ));
    }
    let solver_err = |e: crate::solve::SolveError| ConfigError::new("lagrangian", e.to_string());
    let b = cfg.batch;
    let p = problem.m.len() / r;
    let kr = (k * r) as f64;
    let opts = SolveOptions::fixed(Method::Rk4, cfg.dt);
    let mut opt = Optimizer::new(OptimizerKind::Adam, q_n.store().len(), 0.0)?;
    let schedule = Schedule::Cosine { floor: 0.1 };
    let h0 = 0.5 * r as f64 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln();
    let gnorm = problem
        .targets
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        .max(1e-300);
    let gbar = gnorm / kr.sqrt();
    let phi_pool = problem.features(&problem.m); // P × K
    let m2max = problem.second_moment.iter().copied().fold(0.0, f64::max);
    let sigma = problem.gram_top_eigenvalue(&phi_pool) * m2max / (r as f64 * gbar * gbar);
    let mu = cfg.penalty / sigma.max(1e-12);
    let mut lam = vec![0.0; k * r];
    let gram = dual_preconditioner(&phi_pool, k, cfg.ridge)?;
    let mut nu: Vec<f64> = problem.second_moment.iter().map(|v| 0.5 / v).collect();
    let (mut c_bar, mut s_bar) = (vec![0.0; k * r], vec![0.0; r]);
    let (eval_m, eval_z) = eval_set(problem, cfg, rng);
    let fine = SolveOptions::fixed(Method::Rk4, cfg.dt / 16.0);
    let mut tape = Tape::new();
    let mut grads = q_n.store().zeros_like();
    let mut phi = vec![0.0; b * k];
    let mut mb = vec![0.0; b * r];
    let avg_from = cfg.steps - ((cfg.average * cfg.steps as f64).round() as usize).min(cfg.steps);
    let mut avg = vec![0.0; q_n.store().len()];
    for step in 0..cfg.steps {
        // a window of b consecutive pool rows from a random start, and the n-half of the
        // same Halton points (fresh shift): a low-discrepancy batch when the pool is a
        // quasi-random sequence (as the CLI draws it), a random one when its order is random
        let start = rng.random_range(0..p);
        let idx: Vec<usize> = (0..b).map(|i| (start + i) % p).collect();
        for (i, &j) in idx.iter().enumerate() {
            mb[i * r..(i + 1) * r].copy_from_slice(&problem.m[j * r..(j + 1) * r]);
            phi[i * k..(i + 1) * k].copy_from_slice(&phi_pool[j * k..(j + 1) * k]);
        }
        let z = halton_normal_at(&idx, r, r, rng)?;
        tape.clear();
        let vars = q_n.record(&mut tape);
        let (n, ell) = sample_on_tape(&mut tape, q_n, &vars, &z, &mb, Trace::Exact, &opts)
            .map_err(solver_err)?;
        let ent = tape.mean(ell);
        // scaled constraints of the batch: c = (Φᵀ n / B − g) / ḡ,  E[n²] per rank
        let ph = tape.constant(b, k, &phi);
        let pt = tape.transpose(ph);
        let d = tape.matmul(pt, n);
        let d = tape.scale(d, 1.0 / (b as f64 * gbar));
        let g = tape.constant(k, r, &problem.targets);
        let g = tape.scale(g, 1.0 / gbar);
        let c = tape.sub(d, g);
        let sq = tape.square(n);
        let e2 = tape.col_means(sq);
        let first = step == 0;
        let rho = if first { 0.0 } else { cfg.smoothing };
        let (cv, e2v) = (tape.value(c).to_vec(), tape.value(e2).to_vec());
        for (a, v) in c_bar.iter_mut().zip(&cv) {
            *a = rho * *a + (1.0 - rho) * v;
        }
        for ((a, v), m2) in s_bar.iter_mut().zip(&e2v).zip(&problem.second_moment) {
            *a = rho * *a + (1.0 - rho) * (v / m2 - 1.0);
        }
        // the augmented Lagrangian's force, (λ + μ c̄) / KR, held fixed for this step
        let coef: Vec<f64> = lam
            .iter()
            .zip(&c_bar)
            .map(|(l, cb)| (l + mu * cb) / kr)
            .collect();
        let coef = tape.constant(k, r, &coef);
        let lin_c = tape.mul(coef, c);
        let lin_c = tape.sum(lin_c);
        let nu_v = tape.constant(1, r, &nu);
        let lin_s = tape.mul(nu_v, e2);
        let lin_s = tape.sum(lin_s);
        let cons = tape.add(lin_c, lin_s);
        let loss = tape.lin_comb(&[(ent, -1.0), (cons, 1.0)]);
        let entropy = h0 + tape.scalar(ent);
        let do_eval = cfg.eval_every > 0 && (step % cfg.eval_every == 0 || step + 1 == cfg.steps);
        let (mut g_ent, mut g_con) = (f64::NAN, f64::NAN);
        if do_eval {
            for (root, out) in [(ent, &mut g_ent), (cons, &mut g_con)] {
                tape.backward(root);
                grads.zero();
                tape.accumulate_param_grads(&mut grads);
                *out = grads.norm();
            }
        }
        tape.backward(loss);
        grads.zero();
        tape.accumulate_param_grads(&mut grads);
        if !grads.all_finite() || !entropy.is_finite() {
            return Err(ConfigError::new(
                "lagrangian",
                format!("non-finite entropy or gradient at step {step}; lower lr or penalty"),
            ));
        }
        let grad_norm = clip_global_norm(&mut grads, 1.0);
        opt.step(
            q_n.store_mut(),
            &grads,
            schedule.lr(cfg.lr, step, cfg.steps),
        );
        if step >= avg_from {
            let w = 1.0 / (step - avg_from + 1) as f64;
            for (a, v) in avg.iter_mut().zip(q_n.store().as_slice()) {
                *a += w * (v - *a);
            }
            if step + 1 == cfg.steps {
                q_n.store_mut().as_mut_slice().copy_from_slice(&avg);
            }
        }
        // damped Newton step on the dual: λ_r += η (R ḡ² / s_r²) (G/K + εI)⁻¹ c̄_r
        for s in 0..r {
            let col = nalgebra::DVector::from_iterator(k, (0..k).map(|q| c_bar[q * r + s]));
            let step = gram.solve(&col);
            let w = cfg.dual_rate * r as f64 * gbar * gbar * 2.0 * nu[s];
            for q in 0..k {
                lam[q * r + s] += w * step[q];
            }
        }
        // multiplicative: ν stays positive, and moves slowly enough for the mean (an offset
        // included) to shrink first (a Newton step on s² = 1/(2ν) collapsed the spread while
        // the warm start's offset still held E[n²] above M2)
        for (v, s) in nu.iter_mut().zip(&s_bar) {
            *v *= (cfg.moment_rate * s).clamp(-0.5, 0.5).exp();
        }
        let eval = if do_eval {
            Some(evaluate(
                problem, q_n, &eval_m, &eval_z, &opts, &fine, h0, g_ent, g_con,
            )?)
        } else {
            None
        };
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        observer(&LagrangianStep {
            step,
            entropy,
            violation: norm(&cv) * gbar / gnorm,
            violation_smoothed: norm(&c_bar) * gbar / gnorm,
            moment_error: e2v
                .iter()
                .zip(&problem.second_moment)
                .map(|(s, m)| (s / m - 1.0).abs())
                .fold(0.0, f64::max),
            grad_norm,
            lambda_norm: norm(&lam),
            nu: nu.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            eval,
        });
    }
    Ok(())
}

/// The Cholesky factor of `G/K + ε λ_max(G/K) I`, `G = (1/P) Φᵀ Φ` over the pool's features
/// (`P × K`): the dual function's Hessian up to the factor `s_r² / (R ḡ²)`.
fn dual_preconditioner(
    phi: &[f64],
    k: usize,
    ridge: f64,
) -> Result<nalgebra::Cholesky<f64, nalgebra::Dyn>, ConfigError> {
    let p = phi.len() / k;
    let f = nalgebra::DMatrix::from_row_slice(p, k, phi);
    let mut g = f.transpose() * &f / (p * k) as f64;
    let top = g.symmetric_eigenvalues().max();
    for q in 0..k {
        g[(q, q)] += ridge.max(1e-12) * top.max(1e-300);
    }
    nalgebra::Cholesky::new(g)
        .ok_or_else(|| ConfigError::new("ridge", "the Gram matrix is not positive definite"))
}

/// A fixed evaluation set `(m, z)` (empty when there are no evaluations).
fn eval_set<R: Rng + ?Sized>(
    problem: &ConnectorProblem,
    cfg: &LagrangianConfig,
    rng: &mut R,
) -> (Vec<f64>, Vec<f64>) {
    if cfg.eval_every == 0 {
        return (Vec::new(), Vec::new());
    }
    let r = problem.rank;
    let p = problem.m.len() / r;
    let idx: Vec<usize> = (0..cfg.eval_batch).map(|i| i % p).collect();
    let m = idx
        .iter()
        .flat_map(|&i| problem.m[i * r..(i + 1) * r].to_vec())
        .collect();
    let z = halton_normal_at(&idx, r, r, rng).expect("internal: 2R ≤ 16 was checked");
    (m, z)
}

/// Entropy (training and 16× finer step), violation, `|E[n]|` and the moment error on the
/// evaluation set.
#[allow(clippy::too_many_arguments)]
fn evaluate(
    problem: &ConnectorProblem,
    q_n: &Cnf<f64>,
    m: &[f64],
    z: &[f64],
    opts: &SolveOptions<f64>,
    fine: &SolveOptions<f64>,
    h0: f64,
    grad_entropy: f64,
    grad_constraints: f64,
) -> Result<LagrangianEval, ConfigError> {
    let r = problem.rank;
    let run = |o: &SolveOptions<f64>| {
        push_forward(q_n, z, m, Trace::Exact, o)
            .map_err(|e| ConfigError::new("lagrangian", e.to_string()))
    };
    let (n_t, l_t) = run(opts)?;
    let (n_f, l_f) = run(fine)?;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let rows = (n_f.len() / r).max(1) as f64;
    let moment_error = (0..r)
        .map(|s| {
            let e2 = n_f.iter().skip(s).step_by(r).map(|v| v * v).sum::<f64>() / rows;
            (e2 / problem.second_moment[s] - 1.0).abs()
        })
        .fold(0.0, f64::max);
    Ok(LagrangianEval {
        entropy: h0 + mean(&l_t),
        entropy_fine: h0 + mean(&l_f),
        violation: problem.violation(m, &n_t),
        violation_fine: problem.violation(m, &n_f),
        mean_norm: crate::models::lowrank::metrics::mean_norm(&n_f, r),
        moment_error,
        grad_entropy,
        grad_constraints,
    })
}
