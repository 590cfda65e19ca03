//! An autoregressive hidden Markov model (AR-HMM) fitted by exact EM with forward–backward:
//! the classical switching baseline for the GDM (SPEC §6.3).
//!
//! ```text
//! z_1 ~ π,  z_t | z_{t−1} ~ P[z_{t−1}, ·]
//! y_t | z_t = k ~ N(W_k x_t, Σ_k),   x_t = [y_{t−1}, …, y_{t−L}, 1]   (zeros before a trial starts)
//! E-step:  γ_t, Σ_t ξ_t by scaled forward–backward (`hmm.rs`)
//! M-step:  π = mean of γ_1 over trials,  P_ij ∝ Σ_t ξ_t(i, j) + a          (a = 0.1, ours)
//!          W_k = (Σ_t γ_tk y_t x_tᵀ)(Σ_t γ_tk x_t x_tᵀ)⁻¹
//!          Σ_k = (Σ_t γ_tk (y_t − W_k x_t)(y_t − W_k x_t)ᵀ + ψ I) / (Σ_t γ_tk + 1),
//!          ψ = 1e-4 · mean per-channel variance of y          (a floor: no singular Σ_k)
//! stop:    |Δ ln p(y)| ≤ tol · |ln p(y)|, or `iters` iterations
//! ```
//!
//! **Restarts** (ours): each restart is initialised by k-means++ (20 Lloyd iterations) on the
//! features `[y_t, y_t − y_{t−1}]` with its own seed, followed by one M-step from the hard
//! assignment; the restart with the **highest final training log-likelihood** is kept (the
//! only unsupervised criterion; it is not always the best segmentation, see SPEC §6.3).
//! Restarts whose likelihood is not finite are discarded.
//!
//! # Example
//! ```
//! use neurodyn::baselines::arhmm::{ArHmm, ArHmmConfig};
//! use neurodyn::models::gdm::Sequences;
//! // two regimes: slow decay, then fast oscillation
//! let mut y = vec![1.0];
//! for t in 1..400 {
//!     let prev: f64 = y[t - 1];
//!     y.push(if t < 200 { 0.99 * prev + 0.01 } else { -0.9 * prev + 0.05 * ((t % 7) as f64 - 3.0) });
//! }
//! let data = Sequences::new(y, 400, 1)?;
//! let cfg = ArHmmConfig { states: 2, restarts: 2, iters: 30, ..Default::default() };
//! let (model, report) = ArHmm::fit(&cfg, &data, &mut neurodyn::rng::seeded(0))?;
//! let path = model.viterbi(&data);
//! assert_ne!(path[50], path[300]);
//! assert!(report.log_likelihood.is_finite());
//! # Ok::<(), neurodyn::ConfigError>(())
//! ```

use super::hmm::{forward_backward, viterbi};
use super::linalg::{cholesky, log_det, solve_lower, spd_solve};
use crate::error::ConfigError;
use crate::metrics::r2_score;
use crate::models::gdm::Sequences;
use rand::{Rng, RngExt};

/// Settings of [`ArHmm::fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct ArHmmConfig {
    /// States K (≥ 1).
    pub states: usize,
    /// Autoregressive lags L (≥ 1).
    pub lags: usize,
    /// Independent restarts (≥ 1).
    pub restarts: usize,
    /// Maximum EM iterations per restart (≥ 1).
    pub iters: usize,
    /// Relative log-likelihood change that stops EM.
    pub tol: f64,
    /// Dirichlet pseudo-count added to every transition count.
    pub transition_prior: f64,
    /// Covariance floor ψ relative to the mean per-channel variance of the data.
    pub cov_floor: f64,
}

impl Default for ArHmmConfig {
    fn default() -> Self {
        Self {
            states: 4,
            lags: 1,
            restarts: 6,
            iters: 100,
            tol: 1e-7,
            transition_prior: 0.1,
            cov_floor: 1e-4,
        }
    }
}

/// What [`ArHmm::fit`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct ArHmmReport {
    /// EM iterations of the kept restart.
    pub iters: usize,
    /// Its final training log-likelihood.
    pub log_likelihood: f64,
    /// Final log-likelihood of every restart (NaN for a failed one).
    pub restarts: Vec<f64>,
    /// Index of the kept restart.
    pub chosen: usize,
}

/// A fitted AR-HMM.
#[derive(Clone, Debug, PartialEq)]
pub struct ArHmm {
    k: usize,
    n: usize,
    lags: usize,
    pi: Vec<f64>,
    p: Vec<f64>,
    /// `K × N × (N·L + 1)`.
    w: Vec<f64>,
    /// Cholesky factors of Σ_k.
    chol: Vec<Vec<f64>>,
    logdet: Vec<f64>,
}

/// Sufficient statistics of one state.
struct Stats {
    sxx: Vec<f64>,
    syx: Vec<f64>,
    syy: Vec<f64>,
    nk: f64,
}

impl ArHmm {
    /// States K.
    pub fn states(&self) -> usize {
        self.k
    }
    /// The transition matrix (`K × K`).
    pub fn transitions(&self) -> &[f64] {
        &self.p
    }

    fn xdim(&self) -> usize {
        self.n * self.lags + 1
    }

    /// The regressors `x_t` of every row (`rows × (N·L + 1)`).
    fn regressors(data: &Sequences<f64>, lags: usize) -> Vec<f64> {
        let n = data.obs();
        let d = n * lags + 1;
        let steps = data.step_index();
        let y = data.y();
        let mut x = vec![0.0; steps.len() * d];
        for (t, &s) in steps.iter().enumerate() {
            for l in 1..=lags {
                if s >= l {
                    x[t * d + (l - 1) * n..t * d + l * n]
                        .copy_from_slice(&y[(t - l) * n..(t - l + 1) * n]);
                }
            }
            x[t * d + d - 1] = 1.0;
        }
        x
    }

    /// `ln N(y_t; W_k x_t, Σ_k)` for every row and state (`rows × K`).
    fn log_liks(&self, y: &[f64], x: &[f64]) -> Vec<f64> {
        let (n, d, k) = (self.n, self.xdim(), self.k);
        let rows = y.len() / n;
        let c = n as f64 * (2.0 * std::f64::consts::PI).ln();
        let mut out = vec![0.0; rows * k];
        let mut r = vec![0.0; n];
        for t in 0..rows {
            for s in 0..k {
                let w = &self.w[s * n * d..(s + 1) * n * d];
                for i in 0..n {
                    let pred: f64 = (0..d).map(|j| w[i * d + j] * x[t * d + j]).sum();
                    r[i] = y[t * n + i] - pred;
                }
                solve_lower(&self.chol[s], n, &mut r);
                let q: f64 = r.iter().map(|v| v * v).sum();
                out[t * k + s] = -0.5 * (c + self.logdet[s] + q);
            }
        }
        out
    }

    /// Fits by EM with restarts (see the module docs).
    ///
    /// # Errors
    /// Invalid settings, or fewer steps than states.
    pub fn fit<R: Rng + ?Sized>(
        cfg: &ArHmmConfig,
        data: &Sequences<f64>,
        rng: &mut R,
    ) -> Result<(Self, ArHmmReport), ConfigError> {
        if cfg.states == 0 || cfg.lags == 0 || cfg.restarts == 0 || cfg.iters == 0 {
            return Err(ConfigError::new(
                "arhmm",
                "states, lags, restarts and iters must be at least 1",
            ));
        }
        let nonneg = |v: f64| v.is_finite() && v >= 0.0;
        let valid = nonneg(cfg.tol)
            && nonneg(cfg.transition_prior)
            && cfg.cov_floor.is_finite()
            && cfg.cov_floor > 0.0;
        if !valid {
            return Err(ConfigError::new(
                "arhmm",
                "tol and transition_prior must be ≥ 0 and cov_floor positive",
            ));
        }
        if data.total_steps() < cfg.states {
            return Err(ConfigError::new(
                "y",
                format!(
                    "{} steps cannot be split into {} states",
                    data.total_steps(),
                    cfg.states
                ),
            ));
        }
        let x = Self::regressors(data, cfg.lags);
        let feats = features(data);
        let mut best: Option<(Self, usize, f64, usize)> = None;
        let mut lls = Vec::with_capacity(cfg.restarts);
        for r in 0..cfg.restarts {
            let seed: u64 = rng.random();
            let labels = kmeans(
                &feats,
                2 * data.obs(),
                cfg.states,
                &mut crate::rng::seeded(seed),
            );
            let rows = labels.len();
            let mut gamma = vec![0.0; rows * cfg.states];
            for (t, &l) in labels.iter().enumerate() {
                gamma[t * cfg.states + l] = 1.0;
            }
            let xi = transition_counts(&labels, data, cfg.states);
            let mut model = Self::m_step(
                cfg,
                data,
                &x,
                &gamma,
                &xi,
                &first_rows(data, &gamma, cfg.states),
            );
            let mut ll_prev = f64::NEG_INFINITY;
            let mut ll = f64::NAN;
            let mut it = 0;
            while it < cfg.iters {
                it += 1;
                let (g, xs, firsts, l) = model.e_step(data, &x);
                ll = l;
                if !ll.is_finite() {
                    break;
                }
                model = Self::m_step(cfg, data, &x, &g, &xs, &firsts);
                if (ll - ll_prev).abs() <= cfg.tol * ll.abs() {
                    break;
                }
                ll_prev = ll;
            }
            // the likelihood of the final parameters
            if ll.is_finite() {
                ll = model.e_step(data, &x).3;
            }
            lls.push(if ll.is_finite() { ll } else { f64::NAN });
            if ll.is_finite() && best.as_ref().is_none_or(|b| ll > b.2) {
                best = Some((model, it, ll, r));
            }
        }
        let (model, iters, ll, chosen) = best.ok_or_else(|| {
            ConfigError::new("arhmm", "every restart ended with a non-finite likelihood")
        })?;
        Ok((
            model,
            ArHmmReport {
                iters,
                log_likelihood: ll,
                restarts: lls,
                chosen,
            },
        ))
    }

    /// Posteriors, summed transition counts, first-step posteriors and the log-likelihood.
    #[allow(clippy::type_complexity)]
    fn e_step(&self, data: &Sequences<f64>, x: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>, f64) {
        let k = self.k;
        let ll = self.log_liks(data.y(), x);
        let mut gamma = vec![0.0; ll.len()];
        let mut xi = vec![0.0; k * k];
        let mut firsts = vec![0.0; k];
        let mut total = 0.0;
        let starts = data.starts();
        for w in starts.windows(2) {
            let s = forward_backward(&self.pi, &self.p, &ll[w[0] * k..w[1] * k]);
            gamma[w[0] * k..w[1] * k].copy_from_slice(&s.gamma);
            xi.iter_mut().zip(&s.xi_sum).for_each(|(a, b)| *a += b);
            firsts
                .iter_mut()
                .zip(&s.gamma[..k])
                .for_each(|(a, b)| *a += b);
            total += s.log_likelihood;
        }
        (gamma, xi, firsts, total)
    }

    fn m_step(
        cfg: &ArHmmConfig,
        data: &Sequences<f64>,
        x: &[f64],
        gamma: &[f64],
        xi: &[f64],
        firsts: &[f64],
    ) -> Self {
        let (k, n, lags) = (cfg.states, data.obs(), cfg.lags);
        let d = n * lags + 1;
        let y = data.y();
        let rows = data.total_steps();
        let vbar = mean_variance(y, n);
        let psi = cfg.cov_floor * vbar;
        let fs: f64 = firsts.iter().sum();
        let mut pi: Vec<f64> = firsts
            .iter()
            .map(|f| (f / fs.max(1e-300)).max(1e-10))
            .collect();
        let ps: f64 = pi.iter().sum();
        pi.iter_mut().for_each(|v| *v /= ps);
        let mut p = vec![0.0; k * k];
        for i in 0..k {
            let row: f64 = (0..k).map(|j| xi[i * k + j] + cfg.transition_prior).sum();
            for j in 0..k {
                p[i * k + j] = if row > 0.0 {
                    (xi[i * k + j] + cfg.transition_prior) / row
                } else {
                    1.0 / k as f64
                };
            }
        }
        let mut w = vec![0.0; k * n * d];
        let mut chol = Vec::with_capacity(k);
        let mut logdet = Vec::with_capacity(k);
        for s in 0..k {
            let st = stats(y, x, gamma, rows, n, d, k, s);
            // W = Syx Sxx⁻¹:  Sxx Wᵀ = Syxᵀ
            let syx_t: Vec<f64> = (0..d * n).map(|q| st.syx[(q % n) * d + q / n]).collect();
            let wt = spd_solve(&st.sxx, d, &syx_t, n, 1e-9);
            let ws = &mut w[s * n * d..(s + 1) * n * d];
            for i in 0..n {
                for j in 0..d {
                    ws[i * d + j] = wt[j * n + i];
                }
            }
            // residual scatter Syy − W Syxᵀ (symmetrised), floored
            let mut sig = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    let wsyx: f64 = (0..d).map(|q| ws[i * d + q] * st.syx[j * d + q]).sum();
                    sig[i * n + j] = st.syy[i * n + j] - wsyx;
                }
            }
            for i in 0..n {
                for j in 0..i {
                    let m = 0.5 * (sig[i * n + j] + sig[j * n + i]);
                    sig[i * n + j] = m;
                    sig[j * n + i] = m;
                }
                sig[i * n + i] = sig[i * n + i].max(0.0) + psi;
            }
            sig.iter_mut().for_each(|v| *v /= st.nk + 1.0);
            let mut l = cholesky(&sig, n);
            let mut jitter = psi;
            while l.is_none() && jitter.is_finite() {
                (0..n).for_each(|i| sig[i * n + i] += jitter);
                jitter *= 10.0;
                l = cholesky(&sig, n);
            }
            let l = l.unwrap_or_else(|| {
                let mut e = vec![0.0; n * n];
                (0..n).for_each(|i| e[i * n + i] = 1.0);
                e
            });
            logdet.push(log_det(&l, n));
            chol.push(l);
        }
        Self {
            k,
            n,
            lags,
            pi,
            p,
            w,
            chol,
            logdet,
        }
    }

    /// Smoothed state probabilities `p(z_t | y)` (`rows × K`).
    ///
    /// # Panics
    /// If the data has a different number of channels than the model.
    #[track_caller]
    pub fn posterior(&self, data: &Sequences<f64>) -> Vec<f64> {
        assert_eq!(data.obs(), self.n, "ArHmm::posterior: channel count");
        let x = Self::regressors(data, self.lags);
        self.e_step(data, &x).0
    }

    /// `ln p(y)` of data under the model.
    ///
    /// # Panics
    /// If the data has a different number of channels than the model.
    #[track_caller]
    pub fn log_likelihood(&self, data: &Sequences<f64>) -> f64 {
        assert_eq!(data.obs(), self.n, "ArHmm::log_likelihood: channel count");
        let x = Self::regressors(data, self.lags);
        self.e_step(data, &x).3
    }

    /// The most likely state path of each trial, concatenated.
    ///
    /// # Panics
    /// If the data has a different number of channels than the model.
    #[track_caller]
    pub fn viterbi(&self, data: &Sequences<f64>) -> Vec<usize> {
        assert_eq!(data.obs(), self.n, "ArHmm::viterbi: channel count");
        let x = Self::regressors(data, self.lags);
        let ll = self.log_liks(data.y(), &x);
        let k = self.k;
        let mut out = Vec::with_capacity(data.total_steps());
        for w in data.starts().windows(2) {
            out.extend(viterbi(&self.pi, &self.p, &ll[w[0] * k..w[1] * k]));
        }
        out
    }

    /// R² of the posterior-weighted one-step predictions `Σ_k γ_tk W_k x_t` (the AR-HMM's
    /// reconstruction).
    ///
    /// # Panics
    /// If the data has a different number of channels than the model.
    #[track_caller]
    pub fn reconstruction_r2(&self, data: &Sequences<f64>) -> f64 {
        let x = Self::regressors(data, self.lags);
        let g = self.posterior(data);
        let pred = self.predict(&x, &g);
        r2_score(data.y(), &pred, self.n, None).unwrap_or(f64::NAN)
    }

    /// `Σ_k p_tk W_k x_t` for state probabilities `g` (`rows × K`).
    fn predict(&self, x: &[f64], g: &[f64]) -> Vec<f64> {
        let (n, d, k) = (self.n, self.xdim(), self.k);
        let rows = g.len() / k;
        let mut out = vec![0.0; rows * n];
        for t in 0..rows {
            for s in 0..k {
                let gs = g[t * k + s];
                if gs == 0.0 {
                    continue;
                }
                let w = &self.w[s * n * d..(s + 1) * n * d];
                for i in 0..n {
                    let v: f64 = (0..d).map(|j| w[i * d + j] * x[t * d + j]).sum();
                    out[t * n + i] += gs * v;
                }
            }
        }
        out
    }

    /// R² of k-step forecasts for k = 1..=k_max: from the filtered state at each start, the
    /// state distribution is propagated by `P` and the observations by the expected
    /// regression (predictions feed the lags).
    ///
    /// # Panics
    /// If the data has a different number of channels than the model.
    #[track_caller]
    pub fn forecast_r2(&self, data: &Sequences<f64>, k_max: usize) -> Vec<f64> {
        assert_eq!(data.obs(), self.n, "ArHmm::forecast_r2: channel count");
        let (n, d, k, lags) = (self.n, self.xdim(), self.k, self.lags);
        let x = Self::regressors(data, lags);
        let ll = self.log_liks(data.y(), &x);
        let rows = data.total_steps();
        let mut filt = vec![0.0; rows * k];
        let starts = data.starts();
        let mut end = vec![0; rows];
        for w in starts.windows(2) {
            let s = forward_backward(&self.pi, &self.p, &ll[w[0] * k..w[1] * k]);
            filt[w[0] * k..w[1] * k].copy_from_slice(&s.filtered);
            end[w[0]..w[1]].iter_mut().for_each(|e| *e = w[1]);
        }
        let steps = data.step_index();
        let y = data.y();
        let mut probs = filt;
        let mut hist: Vec<Vec<f64>> = Vec::new();
        let mut out = Vec::with_capacity(k_max);
        for j in 1..=k_max {
            // propagate the state distribution
            let mut next = vec![0.0; rows * k];
            for t in 0..rows {
                for b in 0..k {
                    next[t * k + b] = (0..k).map(|a| probs[t * k + a] * self.p[a * k + b]).sum();
                }
            }
            probs = next;
            // regressors: predictions where available, else observations
            let mut xr = vec![0.0; rows * d];
            for s in 0..rows {
                for l in 1..=lags {
                    let dst = &mut xr[s * d + (l - 1) * n..s * d + l * n];
                    if j > l {
                        dst.copy_from_slice(&hist[j - l - 1][s * n..(s + 1) * n]);
                    } else if steps[s] >= l - j {
                        let src = s - (l - j);
                        dst.copy_from_slice(&y[src * n..(src + 1) * n]);
                    }
                }
                xr[s * d + d - 1] = 1.0;
            }
            let pred = self.predict(&xr, &probs);
            let mut target = vec![0.0; rows * n];
            let mut used = vec![false; rows];
            let mut shifted = vec![0.0; rows * n];
            for s in 0..rows {
                let t = s + j;
                if t < end[s] && steps[s] + 1 >= lags {
                    used[t] = true;
                    shifted[t * n..(t + 1) * n].copy_from_slice(&pred[s * n..(s + 1) * n]);
                    target[t * n..(t + 1) * n].copy_from_slice(&y[t * n..(t + 1) * n]);
                }
            }
            out.push(r2_score(y, &shifted, n, Some(&used)).unwrap_or(f64::NAN));
            let _ = target;
            hist.push(pred);
        }
        out
    }
}

/// `Σ γ x xᵀ`, `Σ γ y xᵀ`, `Σ γ y yᵀ`, `Σ γ` of state `s`.
#[allow(clippy::too_many_arguments)]
fn stats(
    y: &[f64],
    x: &[f64],
    gamma: &[f64],
    rows: usize,
    n: usize,
    d: usize,
    k: usize,
    s: usize,
) -> Stats {
    let mut st = Stats {
        sxx: vec![0.0; d * d],
        syx: vec![0.0; n * d],
        syy: vec![0.0; n * n],
        nk: 0.0,
    };
    for t in 0..rows {
        let g = gamma[t * k + s];
        if g == 0.0 {
            continue;
        }
        st.nk += g;
        let xt = &x[t * d..(t + 1) * d];
        let yt = &y[t * n..(t + 1) * n];
        for (i, &xi) in xt.iter().enumerate() {
            crate::dense::axpy(&mut st.sxx[i * d..(i + 1) * d], g * xi, xt);
        }
        for (i, &yi) in yt.iter().enumerate() {
            crate::dense::axpy(&mut st.syx[i * d..(i + 1) * d], g * yi, xt);
            crate::dense::axpy(&mut st.syy[i * n..(i + 1) * n], g * yi, yt);
        }
    }
    st
}

fn mean_variance(y: &[f64], n: usize) -> f64 {
    let rows = y.len() / n;
    let mut v = 0.0;
    for j in 0..n {
        let m = (0..rows).map(|t| y[t * n + j]).sum::<f64>() / rows as f64;
        v += (0..rows).map(|t| (y[t * n + j] - m).powi(2)).sum::<f64>() / rows as f64;
    }
    (v / n as f64).max(1e-12)
}

/// The posterior mass at each trial's first step, summed.
fn first_rows(data: &Sequences<f64>, gamma: &[f64], k: usize) -> Vec<f64> {
    let mut f = vec![0.0; k];
    for &s in &data.starts()[..data.trials()] {
        f.iter_mut()
            .zip(&gamma[s * k..(s + 1) * k])
            .for_each(|(a, b)| *a += b);
    }
    f
}

/// Transition counts of a hard labelling within trials.
fn transition_counts(labels: &[usize], data: &Sequences<f64>, k: usize) -> Vec<f64> {
    let mut c = vec![0.0; k * k];
    for w in data.starts().windows(2) {
        for t in w[0] + 1..w[1] {
            c[labels[t - 1] * k + labels[t]] += 1.0;
        }
    }
    c
}

/// Features `[y_t, y_t − y_{t−1}]` standardised per column.
fn features(data: &Sequences<f64>) -> Vec<f64> {
    let n = data.obs();
    let y = data.y();
    let steps = data.step_index();
    let rows = steps.len();
    let mut f = vec![0.0; rows * 2 * n];
    for t in 0..rows {
        for i in 0..n {
            f[t * 2 * n + i] = y[t * n + i];
            f[t * 2 * n + n + i] = if steps[t] > 0 {
                y[t * n + i] - y[(t - 1) * n + i]
            } else {
                0.0
            };
        }
    }
    let c = 2 * n;
    for j in 0..c {
        let m = (0..rows).map(|t| f[t * c + j]).sum::<f64>() / rows as f64;
        let s = ((0..rows).map(|t| (f[t * c + j] - m).powi(2)).sum::<f64>() / rows as f64)
            .sqrt()
            .max(1e-12);
        (0..rows).for_each(|t| f[t * c + j] = (f[t * c + j] - m) / s);
    }
    f
}

/// k-means++ seeding and 20 Lloyd iterations; returns each row's cluster.
fn kmeans<R: Rng + ?Sized>(f: &[f64], dim: usize, k: usize, rng: &mut R) -> Vec<usize> {
    let rows = f.len() / dim;
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
    let mut centres: Vec<Vec<f64>> = Vec::with_capacity(k);
    centres.push(f[rng.random_range(0..rows) * dim..][..dim].to_vec());
    let mut d2 = vec![f64::INFINITY; rows];
    while centres.len() < k {
        let c = centres.last().expect("internal: one centre");
        for t in 0..rows {
            d2[t] = d2[t].min(dist(&f[t * dim..(t + 1) * dim], c));
        }
        let total: f64 = d2.iter().sum();
        let pick = if total > 0.0 {
            let mut u = rng.random::<f64>() * total;
            let mut idx = rows - 1;
            for (t, &v) in d2.iter().enumerate() {
                if u < v {
                    idx = t;
                    break;
                }
                u -= v;
            }
            idx
        } else {
            rng.random_range(0..rows)
        };
        centres.push(f[pick * dim..(pick + 1) * dim].to_vec());
    }
    let mut labels = vec![0usize; rows];
    for _ in 0..20 {
        for t in 0..rows {
            let row = &f[t * dim..(t + 1) * dim];
            labels[t] = (0..k)
                .map(|c| (dist(row, &centres[c]), c))
                .fold((f64::INFINITY, 0), |b, v| if v.0 < b.0 { v } else { b })
                .1;
        }
        let mut sums = vec![vec![0.0; dim]; k];
        let mut counts = vec![0usize; k];
        for t in 0..rows {
            counts[labels[t]] += 1;
            sums[labels[t]]
                .iter_mut()
                .zip(&f[t * dim..(t + 1) * dim])
                .for_each(|(a, b)| *a += b);
        }
        for c in 0..k {
            if counts[c] > 0 {
                centres[c] = sums[c].iter().map(|v| v / counts[c] as f64).collect();
            }
        }
    }
    labels
}
