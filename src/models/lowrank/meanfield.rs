//! Latent (mean-field) dynamics of a loading distribution (SPEC §4.2).
//!
//! ```text
//! x = M κ + I v + x_⊥,   τ dv/dt = −v + u,   and as N → ∞
//! τ dκ/dt = −κ + E_p[ n φ(mᵀκ + Iᵀv) ]                       (linear in p)
//! Gaussian p (Stein's lemma, exact):  a = mᵀκ + Iᵀv ~ N(μ_a, Δ)
//!     E[n φ(a)] = μ_n ⟨φ⟩ + Cov(n, a) ⟨φ′⟩,   Cov(n, a) = Σ_nm κ + Σ_nI v
//!     ⟨g⟩ = E[g(μ_a + √Δ ζ)], ζ ~ N(0, 1)
//! samples z_1..z_P (Monte Carlo, or a finite network's own loadings, exactly):
//!     E[n φ(a)] ≈ (1/P) Σ_i n_i φ(m_iᵀκ + I_iᵀv)
//! ```
//! ⟨φ⟩ and ⟨φ′⟩ use 64-node Gauss–Hermite quadrature while `√Δ ≤ 2`; for wider pre-activation
//! distributions φ′ is narrow compared with the Gaussian and the nodes would straddle it, so
//! composite Simpson in `a` (step 0.05 over μ_a ± 9√Δ) takes over (ours).
//!
//! [`super::latent`] finds the fixed points, limit cycles and rings of any [`LatentField`].

use crate::Float;
use crate::tape::{Tape, Var};
use std::sync::OnceLock;

/// A mixture of Gaussians over `z = (m, n, I)` (`d = 2R + S`).
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianMixture {
    /// Rank R.
    pub rank: usize,
    /// Inputs S.
    pub inputs: usize,
    /// Component weights (summing to 1).
    pub weights: Vec<f64>,
    /// Component means (`d` each).
    pub means: Vec<Vec<f64>>,
    /// Component covariances (`d × d` each, row-major).
    pub covs: Vec<Vec<f64>>,
}

/// A latent vector field `τ dκ/dt = F(κ)` at a fixed input latent `v`.
pub trait LatentField {
    /// Rank R (the dimension of κ).
    fn rank(&self) -> usize;
    /// `F(κ) = −κ + E[n φ(mᵀκ + Iᵀv)]` (not divided by τ).
    fn eval(&self, kappa: &[f64]) -> Vec<f64>;
    /// Time constant τ.
    fn tau(&self) -> f64 {
        1.0
    }
}

/// The `n`-node Gauss–Hermite rule for `E[g(ζ)]`, `ζ ~ N(0, 1)`: nodes and weights (summing
/// to 1), by Golub–Welsch (eigenvalues of the probabilists' Hermite Jacobi matrix, off-diagonal
/// `√k`).
///
/// # Example
/// ```
/// use neurodyn::models::lowrank::meanfield::gauss_hermite_rule;
/// let (x, w) = gauss_hermite_rule(5);
/// let second: f64 = x.iter().zip(&w).map(|(x, w)| w * x * x).sum();
/// assert!((second - 1.0).abs() < 1e-12);
/// ```
pub fn gauss_hermite_rule(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut j = nalgebra::DMatrix::<f64>::zeros(n, n);
    for k in 1..n {
        j[(k, k - 1)] = (k as f64).sqrt();
        j[(k - 1, k)] = (k as f64).sqrt();
    }
    let eig = nalgebra::SymmetricEigen::new(j);
    let mut pairs: Vec<(f64, f64)> = (0..n)
        .map(|k| (eig.eigenvalues[k], eig.eigenvectors[(0, k)].powi(2)))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    (
        pairs.iter().map(|p| p.0).collect(),
        pairs.iter().map(|p| p.1 / total).collect(),
    )
}

/// The 64-node rule, computed once.
fn gauss_hermite() -> &'static (Vec<f64>, Vec<f64>) {
    static GH: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    GH.get_or_init(|| gauss_hermite_rule(64))
}

/// `(⟨φ⟩, ⟨φ′⟩)` for `a ~ N(μ, sd²)`, φ = tanh.
///
/// # Example
/// ```
/// use neurodyn::models::lowrank::meanfield::tanh_moments;
/// let (m0, m1) = tanh_moments(0.0, 1.0);
/// assert!(m0.abs() < 1e-15);
/// assert!((m1 - 0.6057).abs() < 1e-4); // E[1 − tanh² ζ], ζ ~ N(0, 1)
/// ```
pub fn tanh_moments(mu: f64, sd: f64) -> (f64, f64) {
    if sd < 1e-12 {
        let t = mu.tanh();
        return (t, 1.0 - t * t);
    }
    if sd <= 2.0 {
        let (x, w) = gauss_hermite();
        let (mut a, mut b) = (0.0, 0.0);
        for (&z, &wk) in x.iter().zip(w) {
            let t = (mu + sd * z).tanh();
            a += wk * t;
            b += wk * (1.0 - t * t);
        }
        return (a, b);
    }
    // composite Simpson in a over μ ± 9 sd
    let (lo, hi) = (mu - 9.0 * sd, mu + 9.0 * sd);
    let mut steps = ((hi - lo) / 0.05).ceil() as usize;
    steps += steps % 2;
    let h = (hi - lo) / steps as f64;
    let norm = 1.0 / (sd * (2.0 * std::f64::consts::PI).sqrt());
    let (mut a, mut b) = (0.0, 0.0);
    for k in 0..=steps {
        let x = lo + h * k as f64;
        let c = if k == 0 || k == steps {
            1.0
        } else if k % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let g = c * norm * (-0.5 * ((x - mu) / sd).powi(2)).exp();
        let t = x.tanh();
        a += g * t;
        b += g * (1.0 - t * t);
    }
    (a * h / 3.0, b * h / 3.0)
}

/// The mean-field of a Gaussian mixture (exact up to quadrature).
#[derive(Clone, Debug, PartialEq)]
pub struct MixtureField {
    /// The distribution.
    pub dist: GaussianMixture,
    /// The input latent `v` (S).
    pub v: Vec<f64>,
    /// Time constant τ.
    pub tau: f64,
}

impl LatentField for MixtureField {
    fn rank(&self) -> usize {
        self.dist.rank
    }
    fn tau(&self) -> f64 {
        self.tau
    }
    fn eval(&self, kappa: &[f64]) -> Vec<f64> {
        let (r, s) = (self.dist.rank, self.dist.inputs);
        let d = 2 * r + s;
        // coefficient vector c over z: a = cᵀ(m, n, I)
        let mut c = vec![0.0; d];
        c[..r].copy_from_slice(kappa);
        c[2 * r..].copy_from_slice(&self.v);
        let mut f: Vec<f64> = kappa.iter().map(|k| -k).collect();
        for ((w, mean), cov) in self
            .dist
            .weights
            .iter()
            .zip(&self.dist.means)
            .zip(&self.dist.covs)
        {
            let mu_a: f64 = c.iter().zip(mean).map(|(a, b)| a * b).sum();
            let cov_c: Vec<f64> = (0..d)
                .map(|i| (0..d).map(|j| cov[i * d + j] * c[j]).sum())
                .collect();
            let var_a: f64 = c.iter().zip(&cov_c).map(|(a, b)| a * b).sum();
            let (p0, p1) = tanh_moments(mu_a, var_a.max(0.0).sqrt());
            for q in 0..r {
                f[q] += w * (mean[r + q] * p0 + cov_c[r + q] * p1);
            }
        }
        f
    }
}

/// The mean-field of samples (Monte Carlo), or exactly the latent dynamics of a finite network
/// with these loadings (after its transients).
#[derive(Clone, Debug, PartialEq)]
pub struct SampleField {
    /// Rank R.
    pub rank: usize,
    /// Inputs S.
    pub inputs: usize,
    /// `z_i = (m_i, n_i, I_i)` rows (`P × (2R + S)`).
    pub z: Vec<f64>,
    /// The input latent `v` (S).
    pub v: Vec<f64>,
    /// Time constant τ.
    pub tau: f64,
}

impl SampleField {
    /// A field from separate `m`, `n` (`P × R`) and `input` (`P × S`) arrays, at `v = 0`.
    pub fn from_loadings(rank: usize, m: &[f64], n: &[f64], input: &[f64], tau: f64) -> Self {
        let p = m.len() / rank.max(1);
        let s = input.len().checked_div(p).unwrap_or(0);
        let mut z = Vec::with_capacity(p * (2 * rank + s));
        for i in 0..p {
            z.extend_from_slice(&m[i * rank..(i + 1) * rank]);
            z.extend_from_slice(&n[i * rank..(i + 1) * rank]);
            z.extend_from_slice(&input[i * s..(i + 1) * s]);
        }
        Self {
            rank,
            inputs: s,
            z,
            v: vec![0.0; s],
            tau,
        }
    }
}

impl LatentField for SampleField {
    fn rank(&self) -> usize {
        self.rank
    }
    fn tau(&self) -> f64 {
        self.tau
    }
    fn eval(&self, kappa: &[f64]) -> Vec<f64> {
        let (r, s) = (self.rank, self.inputs);
        let d = 2 * r + s;
        let p = self.z.len() / d;
        let mut acc = vec![0.0; r];
        for zi in self.z.chunks_exact(d) {
            let a: f64 = (0..r).map(|q| zi[q] * kappa[q]).sum::<f64>()
                + (0..s).map(|q| zi[2 * r + q] * self.v[q]).sum::<f64>();
            let t = a.tanh();
            for q in 0..r {
                acc[q] += zi[r + q] * t;
            }
        }
        (0..r)
            .map(|q| -kappa[q] + acc[q] / p.max(1) as f64)
            .collect()
    }
}

/// `E_samples[n φ(mᵀκ_k + Iᵀv_k)]` for every latent state `k` on the tape (`K × R`), from sample
/// loadings `m` (`P × R`), `n` (`P × R`), `input` (`P × S`) and states `κ` (`K × R`), `v`
/// (`K × S`): differentiable in the loadings (the Connector's dynamics constraints).
pub fn recurrent_drive_on_tape<T: Float>(
    tape: &mut Tape<T>,
    m: Var,
    n: Var,
    input: Option<(Var, Var)>,
    kappa: Var,
) -> Var {
    let p = tape.shape(m).0;
    let mut a = tape.matmul_t(kappa, m);
    if let Some((i, v)) = input {
        let b = tape.matmul_t(v, i);
        a = tape.add(a, b);
    }
    let phi = tape.tanh(a);
    let g = tape.matmul(phi, n);
    tape.scale(g, T::ONE / T::from_usize(p.max(1)))
}

/// `∂F/∂κ` by central differences (step 1e-6), row-major `R × R`.
pub fn jacobian<F: LatentField + ?Sized>(field: &F, kappa: &[f64]) -> Vec<f64> {
    let r = field.rank();
    let mut j = vec![0.0; r * r];
    let mut k = kappa.to_vec();
    for c in 0..r {
        let h = 1e-6 * kappa[c].abs().max(1.0);
        k[c] = kappa[c] + h;
        let fp = field.eval(&k);
        k[c] = kappa[c] - h;
        let fm = field.eval(&k);
        k[c] = kappa[c];
        for q in 0..r {
            j[q * r + c] = (fp[q] - fm[q]) / (2.0 * h);
        }
    }
    j
}
