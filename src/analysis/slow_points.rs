//! Fixed and slow points (Sussillo & Barak 2013): minimise the speed `q(h) = ½‖f(h)‖²` from many
//! starts, refine with Newton, deduplicate, and classify by the Jacobian's eigenvalues.
//!
//! ```text
//! q(h) = ½ ‖f(h)‖²,  ∇q = Jᵀ f       (Adam on all starts at once: the rows are independent)
//! Newton:  J δ = −f,  h ← h + δ      (fixed points, when it converges)
//! stable: all Re λ < −ε;  unstable: all Re λ > ε;  saddle: both signs;
//! marginal directions: |Re λ| ≤ ε  (ε relative to the largest |λ|)
//! ```
//! A continuous attractor shows up as many distinct slow points, each with a marginal direction
//! along the manifold.

use super::field::{Field, jacobians};
use crate::tape::Tape;

/// Options of [`find_slow_points`].
#[derive(Clone, Debug, PartialEq)]
pub struct SlowPointOptions {
    /// Adam iterations on `q`.
    pub iterations: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// A point is slow when `q(h) ≤ q_tol`.
    pub q_tol: f64,
    /// Try Newton refinement to an exact fixed point.
    pub newton: bool,
    /// Points closer than this are merged (the slower one is kept).
    pub dedup: f64,
    /// Eigenvalues with `|Re λ| ≤ zero_tol · max|λ|` count as marginal.
    pub zero_tol: f64,
}

impl Default for SlowPointOptions {
    fn default() -> Self {
        Self {
            iterations: 1500,
            lr: 0.01,
            q_tol: 1e-6,
            newton: true,
            dedup: 1e-3,
            zero_tol: 0.05,
        }
    }
}

/// Stability of a fixed or slow point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stability {
    /// All eigenvalues have negative real parts (beyond the marginal band).
    Stable,
    /// All positive.
    Unstable,
    /// Both signs.
    Saddle,
    /// Some eigenvalues are marginal, the rest negative (a point of a continuous attractor).
    Marginal,
    /// The eigenvalues could not be computed (a non-finite Jacobian, or no convergence).
    Unknown,
}

/// A slow or fixed point.
#[derive(Clone, Debug, PartialEq)]
pub struct FixedPoint {
    /// Location.
    pub h: Vec<f64>,
    /// `‖f(h)‖`.
    pub speed: f64,
    /// Eigenvalues of `∂f/∂h` as `(re, im)`, by decreasing real part.
    pub eigenvalues: Vec<(f64, f64)>,
    /// Classification.
    pub stability: Stability,
    /// Number of marginal eigenvalues.
    pub marginal: usize,
    /// Whether Newton converged to an exact fixed point.
    pub fixed: bool,
}

/// All points found and what they say about the attractor.
#[derive(Clone, Debug, PartialEq)]
pub struct AttractorSummary {
    /// The distinct slow points.
    pub points: Vec<FixedPoint>,
    /// How many converged to exact fixed points.
    pub fixed: usize,
    /// Whether the points look like a continuous attractor: at least 10 distinct slow points with
    /// a marginal direction.
    pub continuous: bool,
}

/// Finds slow points of `field` starting from each row of `starts` (`m × dim`).
pub fn find_slow_points<F: Field>(
    field: &F,
    starts: &[f64],
    opts: &SlowPointOptions,
) -> AttractorSummary {
    let n = field.dim();
    let m = starts.len() / n.max(1);
    let mut h = starts.to_vec();
    // Adam on q over all starts at once.
    let (mut mo, mut ve) = (vec![0.0; h.len()], vec![0.0; h.len()]);
    let mut tape = Tape::new();
    let p = field.prepare(&mut tape);
    let base = tape.mark();
    for t in 1..=opts.iterations {
        tape.rewind(base);
        let hv = tape.variable(m, n, &h);
        let f = field.eval(&mut tape, &p, hv);
        let sq = tape.square(f);
        let q = tape.sum(sq);
        let q = tape.scale(q, 0.5);
        tape.backward(q);
        let g = tape.grad(hv);
        let (c1, c2) = (1.0 - 0.9f64.powi(t as i32), 1.0 - 0.999f64.powi(t as i32));
        for i in 0..h.len() {
            mo[i] = 0.9 * mo[i] + 0.1 * g[i];
            ve[i] = 0.999 * ve[i] + 0.001 * g[i] * g[i];
            h[i] -= opts.lr * (mo[i] / c1) / ((ve[i] / c2).sqrt() + 1e-12);
        }
    }
    // Keep finite points; Newton on all of them at once (batched Jacobians).
    let mut x: Vec<f64> = Vec::with_capacity(h.len());
    for r in 0..m {
        let row = &h[r * n..(r + 1) * n];
        if row.iter().all(|v| v.is_finite()) {
            x.extend_from_slice(row);
        }
    }
    let m = x.len() / n.max(1);
    let mut fixed = vec![false; m];
    let (mut jac, mut f) = jacobians(field, &x);
    if opts.newton && m > 0 {
        let mut y = x.clone();
        let mut alive = vec![true; m];
        for _ in 0..20 {
            let (jy, fy) = jacobians(field, &y);
            let mut any = false;
            for i in 0..m {
                if !alive[i] || fixed[i] {
                    continue;
                }
                let fi = &fy[i * n..(i + 1) * n];
                if norm(fi) < 1e-10 {
                    if dist(&y[i * n..(i + 1) * n], &x[i * n..(i + 1) * n])
                        < 10.0 * opts.dedup.max(1e-6)
                    {
                        fixed[i] = true;
                        x[i * n..(i + 1) * n].copy_from_slice(&y[i * n..(i + 1) * n]);
                        jac[i * n * n..(i + 1) * n * n]
                            .copy_from_slice(&jy[i * n * n..(i + 1) * n * n]);
                        f[i * n..(i + 1) * n].copy_from_slice(fi);
                    } else {
                        alive[i] = false;
                    }
                    continue;
                }
                let a = nalgebra::DMatrix::from_row_slice(n, n, &jy[i * n * n..(i + 1) * n * n]);
                let rhs = nalgebra::DVector::from_iterator(n, fi.iter().map(|v| -v));
                match a.lu().solve(&rhs) {
                    Some(d) if d.iter().all(|v| v.is_finite()) => {
                        y[i * n..(i + 1) * n]
                            .iter_mut()
                            .zip(d.iter())
                            .for_each(|(v, dv)| *v += dv);
                        any = true;
                    }
                    _ => alive[i] = false,
                }
            }
            if !any {
                break;
            }
        }
    }
    let mut pts: Vec<FixedPoint> = Vec::new();
    for i in 0..m {
        let speed = norm(&f[i * n..(i + 1) * n]);
        if 0.5 * speed * speed > opts.q_tol && !fixed[i] {
            continue;
        }
        let (eig, stability, marginal) =
            classify(&jac[i * n * n..(i + 1) * n * n], n, opts.zero_tol);
        pts.push(FixedPoint {
            h: x[i * n..(i + 1) * n].to_vec(),
            speed,
            eigenvalues: eig,
            stability,
            marginal,
            fixed: fixed[i],
        });
    }
    // Deduplicate, slowest first.
    pts.sort_by(|a, b| {
        a.speed
            .partial_cmp(&b.speed)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut kept: Vec<FixedPoint> = Vec::new();
    for p in pts {
        if kept.iter().all(|k| dist(&k.h, &p.h) > opts.dedup) {
            kept.push(p);
        }
    }
    let fixed = kept.iter().filter(|p| p.fixed).count();
    let continuous = looks_continuous(&kept);
    AttractorSummary {
        points: kept,
        fixed,
        continuous,
    }
}

/// A continuous attractor leaves many distinct slow points with a marginal direction (the
/// direction along the manifold); isolated attractors leave few, or none.
fn looks_continuous(points: &[FixedPoint]) -> bool {
    points.iter().filter(|p| p.marginal > 0).count() >= 10
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Eigenvalues (by decreasing real part), the classification and the marginal count.
fn classify(jac: &[f64], n: usize, zero_tol: f64) -> (Vec<(f64, f64)>, Stability, usize) {
    let mut eig: Vec<(f64, f64)> =
        crate::models::gnode::eigenvalues(jac, n).unwrap_or_else(|| vec![(f64::NAN, f64::NAN); n]);
    if eig.iter().any(|(r, i)| !r.is_finite() || !i.is_finite()) {
        return (eig, Stability::Unknown, 0);
    }
    eig.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap_or(std::cmp::Ordering::Equal));
    let scale = eig
        .iter()
        .map(|(r, i)| (r * r + i * i).sqrt())
        .fold(0.0, f64::max)
        .max(1e-12);
    let eps = zero_tol * scale;
    let marginal = eig.iter().filter(|(r, _)| r.abs() <= eps).count();
    let pos = eig.iter().filter(|(r, _)| *r > eps).count();
    let neg = eig.iter().filter(|(r, _)| *r < -eps).count();
    let st = match (pos, neg, marginal) {
        (0, _, m) if m > 0 => Stability::Marginal,
        (0, _, _) => Stability::Stable,
        (_, 0, _) => Stability::Unstable,
        _ => Stability::Saddle,
    };
    (eig, st, marginal)
}

/// Fraction of `bins` equal angular sectors around `center` hit by the 2-D points.
pub fn angle_coverage(points: &[(f64, f64)], center: (f64, f64), bins: usize) -> f64 {
    let mut hit = vec![false; bins.max(1)];
    for &(x, y) in points {
        let a = (y - center.1).atan2(x - center.0);
        let k = (((a + std::f64::consts::PI) / (2.0 * std::f64::consts::PI)) * bins as f64).floor()
            as usize;
        hit[k.min(bins - 1)] = true;
    }
    hit.iter().filter(|&&b| b).count() as f64 / bins.max(1) as f64
}

/// Points of the slow manifold, sampled by following the flow: each start relaxes for `steps`
/// Euler steps of `dt`; the points whose speed is then below `speed_tol` are kept (deduplicated
/// at distance `dedup`). On a continuous attractor they spread along the manifold, where
/// fixed-point search would only find the isolated zeros that an approximate attractor has.
pub fn relaxed_slow_points<F: Field>(
    field: &F,
    starts: &[f64],
    dt: f64,
    steps: usize,
    speed_tol: f64,
    dedup: f64,
) -> Vec<(Vec<f64>, f64)> {
    let n = field.dim();
    let traj = super::field::relax(field, starts, dt, steps, steps.max(1));
    let last = traj.last().cloned().unwrap_or_default();
    let (_, fs) = jacobians(field, &last);
    let mut out: Vec<(Vec<f64>, f64)> = Vec::new();
    for i in 0..last.len() / n.max(1) {
        let h = &last[i * n..(i + 1) * n];
        let speed = norm(&fs[i * n..(i + 1) * n]);
        if speed.is_nan() || speed > speed_tol || !h.iter().all(|v| v.is_finite()) {
            continue;
        }
        if out.iter().all(|(k, _)| dist(k, h) > dedup) {
            out.push((h.to_vec(), speed));
        }
    }
    out
}

impl AttractorSummary {
    /// Adds slow points found by other means (e.g. [`relaxed_slow_points`]), classified by their
    /// Jacobians, skipping points within `dedup` of a known one; updates `continuous`.
    pub fn add_slow_points<F: Field>(
        &mut self,
        field: &F,
        pts: &[(Vec<f64>, f64)],
        dedup: f64,
        zero_tol: f64,
    ) {
        let n = field.dim();
        let flat: Vec<f64> = pts.iter().flat_map(|(h, _)| h.iter().copied()).collect();
        if flat.is_empty() {
            return;
        }
        let (jac, fs) = jacobians(field, &flat);
        for (i, (h, _)) in pts.iter().enumerate() {
            if self.points.iter().any(|p| dist(&p.h, h) <= dedup) {
                continue;
            }
            let (eig, stability, marginal) =
                classify(&jac[i * n * n..(i + 1) * n * n], n, zero_tol);
            let speed = norm(&fs[i * n..(i + 1) * n]);
            self.points.push(FixedPoint {
                h: h.clone(),
                speed,
                eigenvalues: eig,
                stability,
                marginal,
                fixed: false,
            });
        }
        self.continuous = looks_continuous(&self.points);
    }
}
