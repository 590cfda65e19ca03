//! The closed-form Gaussian Connector.
//!
//! ```text
//! max H(q(n | m))  s.t.  E[n Φ(m)_k] = g_k,  E[n_r²] = M2_r,   Φ(m)_k = φ(mᵀκ_k)
//!   ⇒  n | m ~ N(Φ(m) Λ, diag(s²)),   (G + εI) Λ = g,   G = E_m[Φᵀ Φ]   (K × K)
//!       s_r² = M2_r − E_m[(Φ(m) Λ)_r²]          ε = ridge · tr(G) / K
//! ```
//! `Φ Λ` is the minimum-norm conditional mean that meets the constraints: nothing in it that
//! the dynamics do not require (no offset, no even function of m).

use super::ConnectorProblem;
use crate::error::ConfigError;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The closed-form Connector `n | m ~ N(Φ(m) Λ, diag(s²))`.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianConnector {
    problem: ConnectorProblem,
    /// `Λ` (`K × R`).
    pub lambda: Vec<f64>,
    /// `s_r` (R).
    pub noise: Vec<f64>,
    /// `M2_r − E[(ΦΛ)_r²]` before flooring: negative when the reference second moment is too
    /// small to hold the required drive.
    pub slack: Vec<f64>,
}

impl GaussianConnector {
    /// Solves the Gram system.
    ///
    /// # Errors
    /// A Gram matrix that is not positive definite even with the ridge.
    pub fn solve(problem: &ConnectorProblem, ridge: f64) -> Result<Self, ConfigError> {
        let (r, k) = (problem.rank, problem.states());
        let p = problem.m.len() / r;
        let phi = problem.features(&problem.m);
        let fm = nalgebra::DMatrix::from_row_slice(p, k, &phi);
        let mut g = fm.transpose() * &fm / p as f64;
        let eps = ridge.max(0.0) * g.trace() / k as f64 + 1e-300;
        for q in 0..k {
            g[(q, q)] += eps;
        }
        let chol = nalgebra::Cholesky::new(g)
            .ok_or_else(|| ConfigError::new("ridge", "the Gram matrix is not positive definite"))?;
        let rhs = nalgebra::DMatrix::from_row_slice(k, r, &problem.targets);
        let lam = chol.solve(&rhs);
        let mut lambda = Vec::with_capacity(k * r);
        for q in 0..k {
            for s in 0..r {
                lambda.push(lam[(q, s)]);
            }
        }
        let mean = fm * lam;
        let slack: Vec<f64> = (0..r)
            .map(|s| {
                problem.second_moment[s]
                    - (0..p).map(|i| mean[(i, s)].powi(2)).sum::<f64>() / p as f64
            })
            .collect();
        let noise = slack
            .iter()
            .zip(&problem.second_moment)
            .map(|(&sl, &m2)| sl.max(1e-6 * m2).sqrt())
            .collect();
        Ok(Self {
            problem: problem.clone(),
            lambda,
            noise,
            slack,
        })
    }

    /// The conditional mean `Φ(m) Λ` of each row of `m` (`rows × R`).
    pub fn mean(&self, m: &[f64]) -> Vec<f64> {
        let (r, k) = (self.problem.rank, self.problem.states());
        let phi = self.problem.features(m);
        phi.chunks_exact(k)
            .flat_map(|f| {
                (0..r)
                    .map(|s| (0..k).map(|q| f[q] * self.lambda[q * r + s]).sum::<f64>())
                    .collect::<Vec<f64>>()
            })
            .collect()
    }

    /// The principal axes of the conditional mean: the orthogonal `Q` (`R × R`, row-major)
    /// whose columns are the eigenvectors of `C = E[μ μᵀ]`, `μ = Φ(m) Λ`, over the rows of `m`
    /// (descending eigenvalues, each column's largest entry positive).
    ///
    /// ```text
    /// in the gauge (m Q, n Q, κ Q):  C is diagonal, so E[n nᵀ] = C + diag(s²) = diag(M2)
    /// ```
    /// With the same reference `M2` for every rank the whole second moment is then `M2 I`,
    /// which every orthogonal change of gauge leaves alone; in any other gauge the per-rank
    /// constraint leaves `E[n_r n_s] = C_rs ≠ 0`, and rotating back mixes it into the diagonal.
    pub fn mean_axes(&self, m: &[f64]) -> Vec<f64> {
        let r = self.problem.rank;
        let mu = self.mean(m);
        let rows = (mu.len() / r).max(1);
        let mut c = nalgebra::DMatrix::<f64>::zeros(r, r);
        for row in mu.chunks_exact(r) {
            for a in 0..r {
                for b in 0..r {
                    c[(a, b)] += row[a] * row[b] / rows as f64;
                }
            }
        }
        let eig = nalgebra::SymmetricEigen::new(c);
        let mut order: Vec<usize> = (0..r).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let mut q = vec![0.0; r * r];
        for (col, &j) in order.iter().enumerate() {
            let v = eig.eigenvectors.column(j);
            let big = (0..r)
                .max_by(|&a, &b| v[a].abs().total_cmp(&v[b].abs()))
                .unwrap_or(0);
            let sign = if v[big] < 0.0 { -1.0 } else { 1.0 };
            for row in 0..r {
                q[row * r + col] = sign * v[row];
            }
        }
        q
    }

    /// `n = Φ(m) Λ + s ⊙ ξ` for each row of `m`, from given standard-normal draws `ξ` (same
    /// shape as `m`; e.g. quasi-random ones).
    ///
    /// # Panics
    /// If `xi` and `m` differ in length.
    pub fn sample_n_from(&self, m: &[f64], xi: &[f64]) -> Vec<f64> {
        assert_eq!(
            m.len(),
            xi.len(),
            "sample_n_from: m and ξ must both be rows × R"
        );
        let r = self.problem.rank;
        let mut n = self.mean(m);
        for (j, (v, z)) in n.iter_mut().zip(xi).enumerate() {
            *v += self.noise[j % r] * z;
        }
        n
    }

    /// `n ~ q(n | m)` for each row of `m`.
    pub fn sample_n<R: Rng + ?Sized>(&self, m: &[f64], rng: &mut R) -> Vec<f64> {
        let r = self.problem.rank;
        let mut n = self.mean(m);
        for (j, v) in n.iter_mut().enumerate() {
            let z: f64 = StandardNormal.sample(rng);
            *v += self.noise[j % r] * z;
        }
        n
    }
}
