//! Fixed points, limit cycles and ring attractors of latent (mean-field) dynamics
//! `τ dκ/dt = F(κ)`.
//!
//! ```text
//! fixed points:  damped Newton (Levenberg–Marquardt) on F(κ) = 0 from a grid of starts,
//!                deduplicated, classified by the eigenvalues of ∂F/∂κ / τ
//! limit cycles:  RK4 through a transient, then upward crossings of the section κ_0 = c_0
//!                through the orbit's centroid c; the period must repeat
//! rings:         ten or more fixed points with a marginal eigenvalue (|Re λ| ≤ 1e-3 max|λ|)
//! ```

use super::meanfield::{LatentField, jacobian};
use crate::analysis::Stability;

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
    let window = trajectory(
        field,
        &k,
        20.0 * field.tau() * 2.0 * std::f64::consts::PI,
        dt,
        1,
    );
    cycle_of_series(&window, dt, 1e-3)
}

/// The periodic orbit traced by `points` (sampled every `dt`): the centroid `c`, upward
/// crossings of `κ_0 = c_0` (interpolated), and the last period, which must agree with the one
/// before within `rel_tol`. `None` for fewer than three crossings or an unsteady period.
pub fn cycle_of_series(points: &[Vec<f64>], dt: f64, rel_tol: f64) -> Option<Cycle> {
    let r = points.first()?.len();
    if r < 2 {
        return None;
    }
    let c: Vec<f64> = (0..r)
        .map(|q| points.iter().map(|p| p[q]).sum::<f64>() / points.len() as f64)
        .collect();
    let mut crossings = Vec::new();
    for (s, w) in points.windows(2).enumerate() {
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
    if (last - prev).abs() > rel_tol * last {
        return None;
    }
    let s0 = (crossings[crossings.len() - 2] / dt).round() as usize;
    let s1 = ((crossings[crossings.len() - 1] / dt).round() as usize).min(points.len() - 1);
    let one: Vec<Vec<f64>> = points[s0..=s1].to_vec();
    let radius = one
        .iter()
        .map(|p| (0..r).map(|q| (p[q] - c[q]).powi(2)).sum::<f64>().sqrt())
        .sum::<f64>()
        / one.len() as f64;
    Some(Cycle {
        period: last,
        radius,
        center: c,
        points: one,
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
