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
//! [`analyze`] finds the latent system's fixed points (damped Newton from a grid of starts),
//! limit cycles (long integration and a Poincaré section) and ring attractors (ten or more
//! fixed points with a marginal direction).

use crate::Float;
use crate::analysis::Stability;
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
        let s = if p > 0 { input.len() / p } else { 0 };
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

/// A fixed point of the latent dynamics.
#[derive(Clone, Debug, PartialEq)]
pub struct LatentPoint {
    /// Location κ*.
    pub kappa: Vec<f64>,
    /// Eigenvalues of `∂F/∂κ` (divided by τ) as `(re, im)`, by decreasing real part.
    pub eigenvalues: Vec<(f64, f64)>,
    /// Classification (marginal: an eigenvalue within 1e-3 of zero, relative).
    pub stability: Stability,
}

/// A limit cycle of the latent dynamics.
#[derive(Clone, Debug, PartialEq)]
pub struct Cycle {
    /// Period.
    pub period: f64,
    /// Mean distance from the cycle's centroid over one period.
    pub radius: f64,
    /// Centroid.
    pub center: Vec<f64>,
    /// Points along one period.
    pub points: Vec<Vec<f64>>,
}

/// Everything [`analyze`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct LatentAnalysis {
    /// Isolated fixed points (those of a ring excluded).
    pub fixed_points: Vec<LatentPoint>,
    /// Limit cycles.
    pub cycles: Vec<Cycle>,
    /// A ring attractor: its radius (mean |κ| of its points) and points.
    pub ring: Option<(f64, Vec<Vec<f64>>)>,
}

/// Options of [`analyze`].
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisOptions {
    /// Half-width of the region searched (a box of this radius around the origin).
    pub radius: f64,
    /// Starts per dimension of the Newton grid.
    pub grid: usize,
    /// Integration time before looking for cycles (in units of τ).
    pub transient: f64,
    /// Integration step for cycles (in units of τ).
    pub dt: f64,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            radius: 1.5,
            grid: 15,
            transient: 150.0,
            dt: 0.01,
        }
    }
}

/// Damped Newton (Levenberg–Marquardt) on `F(κ) = 0`; `None` if it does not converge.
pub fn newton<F: LatentField + ?Sized>(field: &F, start: &[f64]) -> Option<Vec<f64>> {
    let r = field.rank();
    let mut k = start.to_vec();
    let mut f = field.eval(&k);
    let norm = |f: &[f64]| f.iter().map(|v| v * v).sum::<f64>();
    let mut lambda = 1e-3;
    for _ in 0..200 {
        if norm(&f).sqrt() < 1e-11 * (1.0 + norm(&k).sqrt()) {
            return Some(k);
        }
        let j = jacobian(field, &k);
        let jm = nalgebra::DMatrix::from_row_slice(r, r, &j);
        let fv = nalgebra::DVector::from_column_slice(&f);
        let jtj = jm.transpose() * &jm;
        let g = jm.transpose() * &fv;
        let mut improved = false;
        for _ in 0..30 {
            let a =
                &jtj + nalgebra::DMatrix::identity(r, r) * lambda * (1.0 + jtj.diagonal().amax());
            let Some(step) = a.lu().solve(&(-&g)) else {
                lambda *= 10.0;
                continue;
            };
            let kn: Vec<f64> = k.iter().zip(step.iter()).map(|(a, b)| a + b).collect();
            let fnew = field.eval(&kn);
            if fnew.iter().all(|v| v.is_finite()) && norm(&fnew) < norm(&f) {
                k = kn;
                f = fnew;
                lambda = (lambda * 0.1).max(1e-12);
                improved = true;
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    (norm(&f).sqrt() < 1e-8 * (1.0 + norm(&k).sqrt())).then_some(k)
}

/// Classifies a fixed point by the eigenvalues of `∂F/∂κ / τ`.
pub fn classify<F: LatentField + ?Sized>(field: &F, kappa: &[f64]) -> LatentPoint {
    let r = field.rank();
    let j: Vec<f64> = jacobian(field, kappa)
        .iter()
        .map(|v| v / field.tau())
        .collect();
    let mut eig = crate::models::gnode::eigenvalues(&j, r).unwrap_or_default();
    eig.sort_by(|a, b| b.0.total_cmp(&a.0));
    let scale = eig
        .iter()
        .map(|e| e.0.hypot(e.1))
        .fold(0.0, f64::max)
        .max(1e-12);
    let tol = 1e-3 * scale;
    let stability = if eig.len() != r {
        Stability::Unknown
    } else if eig.iter().any(|e| e.0.abs() <= tol) {
        if eig.iter().all(|e| e.0 <= tol) {
            Stability::Marginal
        } else {
            Stability::Saddle
        }
    } else if eig.iter().all(|e| e.0 < 0.0) {
        Stability::Stable
    } else if eig.iter().all(|e| e.0 > 0.0) {
        Stability::Unstable
    } else {
        Stability::Saddle
    };
    LatentPoint {
        kappa: kappa.to_vec(),
        eigenvalues: eig,
        stability,
    }
}

/// One RK4 step of `dκ/dt = F(κ)/τ`.
pub fn rk4_step<F: LatentField + ?Sized>(field: &F, k: &[f64], h: f64) -> Vec<f64> {
    let tau = field.tau();
    let add = |a: &[f64], b: &[f64], s: f64| -> Vec<f64> {
        a.iter().zip(b).map(|(x, y)| x + s * y / tau).collect()
    };
    let k1 = field.eval(k);
    let k2 = field.eval(&add(k, &k1, h / 2.0));
    let k3 = field.eval(&add(k, &k2, h / 2.0));
    let k4 = field.eval(&add(k, &k3, h));
    (0..k.len())
        .map(|q| k[q] + h / (6.0 * tau) * (k1[q] + 2.0 * k2[q] + 2.0 * k3[q] + k4[q]))
        .collect()
}

/// Integrates `dκ/dt = F(κ)/τ` from `start` for `duration` with RK4 steps `dt`, returning the
/// states every `every` steps (the start included).
pub fn trajectory<F: LatentField + ?Sized>(
    field: &F,
    start: &[f64],
    duration: f64,
    dt: f64,
    every: usize,
) -> Vec<Vec<f64>> {
    let steps = (duration / dt).round().max(0.0) as usize;
    let mut k = start.to_vec();
    let mut out = vec![k.clone()];
    for s in 1..=steps {
        k = rk4_step(field, &k, dt);
        if !k.iter().all(|v| v.is_finite()) {
            break;
        }
        if s % every.max(1) == 0 {
            out.push(k.clone());
        }
    }
    out
}

/// Looks for a limit cycle reached from `start`: after the transient, the section
/// `κ_0 = c_0` (c the centroid of the orbit) crossed upwards (once per turn of a simple closed
/// orbit) must recur with a stable period.
pub fn find_cycle<F: LatentField + ?Sized>(
    field: &F,
    start: &[f64],
    opts: &AnalysisOptions,
) -> Option<Cycle> {
    let r = field.rank();
    if r < 2 {
        return None;
    }
    let dt = opts.dt;
    let mut k = start.to_vec();
    for _ in 0..(opts.transient / dt) as usize {
        k = rk4_step(field, &k, dt);
    }
    if !k.iter().all(|v| v.is_finite()) || field.eval(&k).iter().map(|v| v * v).sum::<f64>() < 1e-12
    {
        return None; // at a fixed point
    }
    // centroid over a long window, then upward crossings of κ_0 = c_0
    let window = trajectory(
        field,
        &k,
        20.0 * field.tau() * 2.0 * std::f64::consts::PI,
        dt,
        1,
    );
    let c: Vec<f64> = (0..r)
        .map(|q| window.iter().map(|p| p[q]).sum::<f64>() / window.len() as f64)
        .collect();
    let mut crossings = Vec::new();
    for (s, w) in window.windows(2).enumerate() {
        let (a, b) = (w[0][0] - c[0], w[1][0] - c[0]);
        if a < 0.0 && b >= 0.0 {
            crossings.push((s as f64 + a / (a - b)) * dt);
        }
    }
    if crossings.len() < 3 {
        return None;
    }
    let periods: Vec<f64> = crossings.windows(2).map(|w| w[1] - w[0]).collect();
    let last = periods[periods.len() - 1];
    let prev = periods[periods.len() - 2];
    if (last - prev).abs() > 1e-3 * last {
        return None;
    }
    let s0 = (crossings[crossings.len() - 2] / dt).round() as usize;
    let s1 = (crossings[crossings.len() - 1] / dt).round() as usize;
    let points: Vec<Vec<f64>> = window[s0..=s1.min(window.len() - 1)].to_vec();
    let radius = points
        .iter()
        .map(|p| (0..r).map(|q| (p[q] - c[q]).powi(2)).sum::<f64>().sqrt())
        .sum::<f64>()
        / points.len() as f64;
    Some(Cycle {
        period: last,
        radius,
        center: c,
        points,
    })
}

/// Fixed points, cycles and rings of a latent field in the box `|κ_q| ≤ radius`.
pub fn analyze<F: LatentField + ?Sized>(field: &F, opts: &AnalysisOptions) -> LatentAnalysis {
    let r = field.rank();
    let g = opts.grid.max(2);
    let axis: Vec<f64> = (0..g)
        .map(|i| -opts.radius + 2.0 * opts.radius * i as f64 / (g - 1) as f64)
        .collect();
    let mut starts: Vec<Vec<f64>> = vec![vec![0.0; r]];
    let total = g.pow(r.min(3) as u32);
    for idx in 0..total {
        let mut p = Vec::with_capacity(r);
        let mut rest = idx;
        for _ in 0..r {
            p.push(axis[rest % g]);
            rest /= g;
        }
        starts.push(p);
    }
    let mut found: Vec<Vec<f64>> = Vec::new();
    let tol = 1e-4 * opts.radius.max(1.0);
    for s in &starts {
        if let Some(k) = newton(field, s) {
            let dist = |a: &[f64]| {
                a.iter()
                    .zip(&k)
                    .map(|(x, y)| (x - y).powi(2))
                    .sum::<f64>()
                    .sqrt()
            };
            if k.iter().all(|v| v.abs() <= 4.0 * opts.radius)
                && !found.iter().any(|f| dist(f) < tol)
            {
                found.push(k);
            }
        }
    }
    let points: Vec<LatentPoint> = found.iter().map(|k| classify(field, k)).collect();
    let marginal: Vec<&LatentPoint> = points
        .iter()
        .filter(|p| p.stability == Stability::Marginal)
        .collect();
    let (ring, fixed_points) = if marginal.len() >= 10 {
        let pts: Vec<Vec<f64>> = marginal.iter().map(|p| p.kappa.clone()).collect();
        let radius = pts
            .iter()
            .map(|p| p.iter().map(|v| v * v).sum::<f64>().sqrt())
            .sum::<f64>()
            / pts.len() as f64;
        (
            Some((radius, pts)),
            points
                .into_iter()
                .filter(|p| p.stability != Stability::Marginal)
                .collect(),
        )
    } else {
        (None, points)
    };
    let mut cycles: Vec<Cycle> = Vec::new();
    if r >= 2 {
        for q in 0..4 {
            let ang = std::f64::consts::FRAC_PI_2 * q as f64 + 0.3;
            let mut s = vec![0.0; r];
            s[0] = 0.5 * opts.radius * ang.cos();
            s[1] = 0.5 * opts.radius * ang.sin();
            if let Some(c) = find_cycle(field, &s, opts)
                && !cycles
                    .iter()
                    .any(|o| (o.radius - c.radius).abs() < 1e-3 * c.radius.max(1e-9))
            {
                cycles.push(c);
            }
        }
    }
    LatentAnalysis {
        fixed_points,
        cycles,
        ring,
    }
}
