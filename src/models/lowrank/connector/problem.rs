//! The constraints a Connector must satisfy, taken from a fitted network.

use crate::error::ConfigError;
use rand::{Rng, RngExt};

/// Settings of [`ConnectorProblem::new`].
#[derive(Clone, Debug, PartialEq)]
pub struct ProblemConfig {
    /// Number K of visited states constrained (farthest-point subsample of the visited ones).
    pub states: usize,
    /// Reference second moment `E[n_r²]` per rank; `None`: the fit's variance of each `n_r`
    /// (its spread without its mean).
    pub second_moment: Option<Vec<f64>>,
}

impl Default for ProblemConfig {
    fn default() -> Self {
        Self {
            states: 200,
            second_moment: None,
        }
    }
}

/// Identified loadings, visited states, and the drives there.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectorProblem {
    /// Rank R.
    pub rank: usize,
    /// Identified `m` (`P × R`).
    pub m: Vec<f64>,
    /// The fit's `n` (`P × R`): it defines the targets, nothing else.
    pub n: Vec<f64>,
    /// Constrained latent states `κ_k` (`K × R`).
    pub kappa: Vec<f64>,
    /// Targets `g_k = (1/P) Σ_i n_i φ(m_iᵀκ_k)` (`K × R`).
    pub targets: Vec<f64>,
    /// Reference second moments `M2_r`.
    pub second_moment: Vec<f64>,
}

impl ConnectorProblem {
    /// The problem of a fit `(m, n)` (`P × R`, gauge-fixed) whose latent trajectories visited
    /// the rows of `visited` (`rows × R`).
    ///
    /// # Errors
    /// Mismatched sizes, no visited state, non-finite values, or a non-positive second moment.
    pub fn new<R: Rng + ?Sized>(
        m: &[f64],
        n: &[f64],
        rank: usize,
        visited: &[f64],
        cfg: &ProblemConfig,
        rng: &mut R,
    ) -> Result<Self, ConfigError> {
        if rank == 0 || m.is_empty() || m.len() != n.len() || !m.len().is_multiple_of(rank) {
            return Err(ConfigError::new(
                "loadings",
                format!("m and n must both be P × {rank} with P ≥ 1"),
            ));
        }
        if visited.is_empty() || !visited.len().is_multiple_of(rank) {
            return Err(ConfigError::new(
                "visited",
                format!(
                    "{} values do not form visited states of {rank}",
                    visited.len()
                ),
            ));
        }
        if m.iter().chain(n).chain(visited).any(|v| !v.is_finite()) {
            return Err(ConfigError::new("loadings", "non-finite values"));
        }
        if cfg.states == 0 {
            return Err(ConfigError::new("states", "must be at least 1"));
        }
        let p = m.len() / rank;
        let second_moment = match &cfg.second_moment {
            Some(v) if v.len() == rank && v.iter().all(|x| x.is_finite() && *x > 0.0) => v.clone(),
            Some(v) => {
                return Err(ConfigError::new(
                    "second_moment",
                    format!("needs {rank} positive values, got {v:?}"),
                ));
            }
            None => (0..rank)
                .map(|r| {
                    let col: Vec<f64> = n.iter().skip(r).step_by(rank).copied().collect();
                    let mu = col.iter().sum::<f64>() / p as f64;
                    col.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / p as f64
                })
                .collect(),
        };
        let kappa = farthest_points(visited, rank, cfg.states, rng);
        let mut problem = Self {
            rank,
            m: m.to_vec(),
            n: n.to_vec(),
            kappa,
            targets: Vec::new(),
            second_moment,
        };
        problem.targets = problem.drive(m, n);
        Ok(problem)
    }

    /// Replaces the identified `m` by samples of the Connector's own `q(m)` (`rows × R`), so
    /// that the constraints hold under `q(m)` rather than only on the identified neurons; each
    /// sample takes the fit's `n` of its nearest identified neuron (a starting point for the
    /// particle and Lagrangian routes, spurious structure included). The targets stay the
    /// fit's.
    ///
    /// # Panics
    /// If `m` is not a whole number of rows or is empty.
    pub fn with_m_samples(&self, m: &[f64]) -> Self {
        let r = self.rank;
        assert!(
            !m.is_empty() && m.len().is_multiple_of(r),
            "with_m_samples: m must be rows × {r}"
        );
        let n = m
            .chunks_exact(r)
            .flat_map(|mi| {
                let j = self
                    .m
                    .chunks_exact(r)
                    .enumerate()
                    .map(|(j, mj)| {
                        (
                            j,
                            mi.iter().zip(mj).map(|(a, b)| (a - b).powi(2)).sum::<f64>(),
                        )
                    })
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map_or(0, |(j, _)| j);
                self.n[j * r..(j + 1) * r].to_vec()
            })
            .collect();
        Self {
            m: m.to_vec(),
            n,
            ..self.clone()
        }
    }

    /// Number K of constrained states.
    pub fn states(&self) -> usize {
        self.kappa.len() / self.rank
    }

    /// Features `Φ(m)_k = φ(mᵀκ_k)` of each row of `m` (`rows × K`).
    pub fn features(&self, m: &[f64]) -> Vec<f64> {
        let (r, k) = (self.rank, self.states());
        let mut out = Vec::with_capacity(m.len() / r * k);
        for mi in m.chunks_exact(r) {
            for kap in self.kappa.chunks_exact(r) {
                out.push(mi.iter().zip(kap).map(|(a, b)| a * b).sum::<f64>().tanh());
            }
        }
        out
    }

    /// `E[n φ(mᵀκ_k)]` over the rows of `(m, n)` (`K × R`).
    pub fn drive(&self, m: &[f64], n: &[f64]) -> Vec<f64> {
        let (r, k) = (self.rank, self.states());
        let p = m.len() / r;
        let phi = self.features(m);
        let mut g = vec![0.0; k * r];
        for i in 0..p {
            for q in 0..k {
                for s in 0..r {
                    g[q * r + s] += phi[i * k + q] * n[i * r + s] / p as f64;
                }
            }
        }
        g
    }

    /// The largest eigenvalue of `G / K`, `G = (1/P) Φᵀ Φ`, for features `phi` (`P × K`, from
    /// [`features`](Self::features)): the curvature of the constraints in the direction they
    /// are most sensitive to (power iteration, 50 steps from the all-ones vector).
    pub fn gram_top_eigenvalue(&self, phi: &[f64]) -> f64 {
        let k = self.states();
        let p = phi.len() / k;
        let gk = |v: &[f64]| -> Vec<f64> {
            let mut out = vec![0.0; k];
            for f in phi.chunks_exact(k) {
                let d: f64 = f.iter().zip(v).map(|(a, b)| a * b).sum();
                for (o, a) in out.iter_mut().zip(f) {
                    *o += a * d / (p * k) as f64;
                }
            }
            out
        };
        let mut v = vec![1.0; k];
        let mut lmax = 1.0;
        for _ in 0..50 {
            let w = gk(&v);
            lmax = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            v = w.iter().map(|x| x / lmax.max(1e-300)).collect();
        }
        lmax
    }

    /// Relative constraint violation `‖E[n φ] − g‖ / ‖g‖` of samples `(m, n)`.
    pub fn violation(&self, m: &[f64], n: &[f64]) -> f64 {
        let d = self.drive(m, n);
        let num: f64 = d
            .iter()
            .zip(&self.targets)
            .map(|(a, b)| (a - b).powi(2))
            .sum();
        let den: f64 = self.targets.iter().map(|b| b * b).sum();
        (num / den.max(1e-300)).sqrt()
    }
}

/// `k` rows of `x` (`rows × r`) spread over its extent: farthest-point sampling from a random
/// start (over at most 20 000 random candidates).
fn farthest_points<R: Rng + ?Sized>(x: &[f64], r: usize, k: usize, rng: &mut R) -> Vec<f64> {
    let rows = x.len() / r;
    let cand: Vec<usize> = if rows > 20_000 {
        (0..20_000).map(|_| rng.random_range(0..rows)).collect()
    } else {
        (0..rows).collect()
    };
    let k = k.min(cand.len());
    let dist =
        |a: usize, b: usize| -> f64 { (0..r).map(|q| (x[a * r + q] - x[b * r + q]).powi(2)).sum() };
    let mut chosen = vec![cand[rng.random_range(0..cand.len())]];
    let mut best: Vec<f64> = cand.iter().map(|&c| dist(c, chosen[0])).collect();
    while chosen.len() < k {
        let (j, _) = best
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("internal: candidates are not empty");
        let c = cand[j];
        chosen.push(c);
        for (b, &q) in best.iter_mut().zip(&cand) {
            *b = b.min(dist(q, c));
        }
    }
    chosen
        .iter()
        .flat_map(|&c| x[c * r..(c + 1) * r].to_vec())
        .collect()
}
