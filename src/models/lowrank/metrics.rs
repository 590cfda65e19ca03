//! Comparing loading distributions and their dynamics (SPEC §4.5 c).
//!
//! ```text
//! field error:       ‖F_a − F_b‖ / ‖F_b‖ over a grid of the ball |κ| ≤ ρ   (RMS over points)
//! spurious structure: |E[n]| (Euclidean norm of the mean of n), max_rs |corr(n_r, m_s²)|
//! shape:             corr(n_r, m_s);  excess-free kurtosis E[(x − μ)⁴] / Var(x)²
//! distances:         sliced W2 (random unit directions, quantile matching), MMD² with a
//!                    Gaussian kernel (unbiased), W1 between J_ij = m_i · n_j distributions
//! ```
//! Loadings are `P × R` row-major arrays; compare them in a common gauge (see [`super::gauge`]).

use super::meanfield::LatentField;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// Column means (`d`) of `x` (`rows × d`).
pub fn mean(x: &[f64], d: usize) -> Vec<f64> {
    let rows = (x.len() / d.max(1)).max(1);
    (0..d)
        .map(|c| x.iter().skip(c).step_by(d).sum::<f64>() / rows as f64)
        .collect()
}

/// `|E[n]|`: the Euclidean norm of the column means.
pub fn mean_norm(x: &[f64], d: usize) -> f64 {
    mean(x, d).iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Pearson correlation of two equally long series.
pub fn corr(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()).max(1) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt().max(1e-300)
}

/// Column `c` of `x` (`rows × d`).
pub fn column(x: &[f64], d: usize, c: usize) -> Vec<f64> {
    x.iter().skip(c).step_by(d).copied().collect()
}

/// `corr(n_r, m_s)` (`R × R`, row r, column s).
pub fn corr_nm(m: &[f64], n: &[f64], rank: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(rank * rank);
    for r in 0..rank {
        for s in 0..rank {
            out.push(corr(&column(n, rank, r), &column(m, rank, s)));
        }
    }
    out
}

/// `max_rs |corr(n_r, m_s²)|`: dependence of `n` on an even function of `m`, invisible to the
/// dynamics for odd φ and symmetric `p(m)`.
pub fn even_corr(m: &[f64], n: &[f64], rank: usize) -> f64 {
    let mut worst: f64 = 0.0;
    for r in 0..rank {
        for s in 0..rank {
            let sq: Vec<f64> = column(m, rank, s).iter().map(|v| v * v).collect();
            worst = worst.max(corr(&column(n, rank, r), &sq).abs());
        }
    }
    worst
}

/// Kurtosis `E[(x − μ)⁴] / Var(x)²` (3 for a Gaussian).
pub fn kurtosis(x: &[f64]) -> f64 {
    let n = x.len().max(1) as f64;
    let mu = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n;
    let k = x.iter().map(|v| (v - mu).powi(4)).sum::<f64>() / n;
    k / (v * v).max(1e-300)
}

/// Grid points of the ball `|κ| ≤ radius` (`per_axis` points per axis; R ≤ 3).
pub fn ball_grid(rank: usize, radius: f64, per_axis: usize) -> Vec<Vec<f64>> {
    let g = per_axis.max(2);
    let axis: Vec<f64> = (0..g)
        .map(|i| -radius + 2.0 * radius * i as f64 / (g - 1) as f64)
        .collect();
    let total = g.pow(rank.min(3) as u32);
    (0..total)
        .map(|idx| {
            let mut rest = idx;
            (0..rank)
                .map(|_| {
                    let v = axis[rest % g];
                    rest /= g;
                    v
                })
                .collect::<Vec<f64>>()
        })
        .filter(|p| p.iter().map(|v| v * v).sum::<f64>() <= radius * radius * (1.0 + 1e-12))
        .collect()
}

/// Relative vector-field error `‖F_a − F_b‖ / ‖F_b‖` over the grid points (F_b the reference).
pub fn field_error<A: LatentField + ?Sized, B: LatentField + ?Sized>(
    a: &A,
    b: &B,
    points: &[Vec<f64>],
) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for p in points {
        let (fa, fb) = (a.eval(p), b.eval(p));
        num += fa
            .iter()
            .zip(&fb)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>();
        den += fb.iter().map(|y| y * y).sum::<f64>();
    }
    (num / den.max(1e-300)).sqrt()
}

/// Quantiles of a sample at `k` evenly spaced levels (sorted copy, linear interpolation).
fn quantiles(x: &[f64], k: usize) -> Vec<f64> {
    let mut s: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return vec![f64::NAN; k];
    }
    (0..k)
        .map(|q| {
            let p = (q as f64 + 0.5) / k as f64 * (s.len() - 1) as f64;
            let (lo, f) = (p.floor() as usize, p.fract());
            s[lo] + f * (s[(lo + 1).min(s.len() - 1)] - s[lo])
        })
        .collect()
}

/// `W1` between two 1-D samples (quantile matching at 1000 levels).
pub fn w1(a: &[f64], b: &[f64]) -> f64 {
    let (qa, qb) = (quantiles(a, 1000), quantiles(b, 1000));
    qa.iter().zip(&qb).map(|(x, y)| (x - y).abs()).sum::<f64>() / 1000.0
}

/// Sliced Wasserstein-2 distance between samples `x`, `y` (`rows × d`) over `projections`
/// random unit directions.
pub fn sliced_w2<R: Rng + ?Sized>(
    x: &[f64],
    y: &[f64],
    d: usize,
    projections: usize,
    rng: &mut R,
) -> f64 {
    let mut total = 0.0;
    for _ in 0..projections.max(1) {
        let mut u: Vec<f64> = (0..d).map(|_| StandardNormal.sample(rng)).collect();
        let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
        u.iter_mut().for_each(|v| *v /= norm);
        let proj = |z: &[f64]| -> Vec<f64> {
            z.chunks_exact(d)
                .map(|r| r.iter().zip(&u).map(|(a, b)| a * b).sum())
                .collect()
        };
        let (qa, qb) = (quantiles(&proj(x), 500), quantiles(&proj(y), 500));
        total += qa
            .iter()
            .zip(&qb)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / 500.0;
    }
    (total / projections.max(1) as f64).sqrt()
}

/// Unbiased MMD² with a Gaussian kernel of the given bandwidth between samples `x`, `y`
/// (`rows × d`; at most 1500 rows of each are used, drawn with `rng`).
pub fn mmd2<R: Rng + ?Sized>(x: &[f64], y: &[f64], d: usize, bandwidth: f64, rng: &mut R) -> f64 {
    let pick = |z: &[f64], rng: &mut R| -> Vec<Vec<f64>> {
        let rows = z.len() / d;
        let k = rows.min(1500);
        (0..k)
            .map(|_| {
                let i = rng.random_range(0..rows);
                z[i * d..(i + 1) * d].to_vec()
            })
            .collect()
    };
    let (a, b) = (pick(x, rng), pick(y, rng));
    let kern = |p: &[f64], q: &[f64]| {
        let s: f64 = p.iter().zip(q).map(|(u, v)| (u - v).powi(2)).sum();
        (-s / (2.0 * bandwidth * bandwidth)).exp()
    };
    let within = |s: &[Vec<f64>]| {
        let n = s.len();
        let mut t = 0.0;
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    t += kern(&s[i], &s[j]);
                }
            }
        }
        t / (n * (n - 1)).max(1) as f64
    };
    let mut cross = 0.0;
    for p in &a {
        for q in &b {
            cross += kern(p, q);
        }
    }
    within(&a) + within(&b) - 2.0 * cross / (a.len() * b.len()).max(1) as f64
}

/// `count` samples of `J_ij = m_i · n_j` for random `i ≠ j` (gauge-free).
pub fn jij_samples<R: Rng + ?Sized>(
    m: &[f64],
    n: &[f64],
    rank: usize,
    count: usize,
    rng: &mut R,
) -> Vec<f64> {
    let p = m.len() / rank.max(1);
    if p < 2 {
        return Vec::new();
    }
    (0..count)
        .map(|_| {
            let i = rng.random_range(0..p);
            let mut j = rng.random_range(0..p - 1);
            if j >= i {
                j += 1;
            }
            (0..rank).map(|r| m[i * rank + r] * n[j * rank + r]).sum()
        })
        .collect()
}

/// A loadings set against the truth, in the truth's gauge.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadingsReport {
    /// Relative latent vector-field error over the ball `|κ| ≤ ρ`.
    pub field_error: f64,
    /// `|E[n]|`.
    pub mean_n: f64,
    /// `corr(n_r, m_s)` (`R × R`).
    pub corr_nm: Vec<f64>,
    /// `max |corr(n, m) − corr_true(n, m)|`.
    pub corr_error: f64,
    /// `max |corr(n_r, m_s²)|`.
    pub even_corr: f64,
    /// Kurtosis of each `m_r`.
    pub kurtosis_m: Vec<f64>,
    /// Sliced W2 between the `(m, n)` samples and the truth's.
    pub sliced_w2: f64,
    /// MMD² (Gaussian kernel, bandwidth 1) between the `(m, n)` samples and the truth's.
    pub mmd2: f64,
    /// W1 between the `J_ij` distributions.
    pub w1_j: f64,
}

/// `(m, n)` rows (`P × 2R`).
pub fn stack(m: &[f64], n: &[f64], rank: usize) -> Vec<f64> {
    m.chunks_exact(rank)
        .zip(n.chunks_exact(rank))
        .flat_map(|(a, b)| a.iter().chain(b).copied().collect::<Vec<f64>>())
        .collect()
}

/// Compares loadings `(m, n)` with the truth `(tm, tn)` (same rank and gauge); the latent fields
/// are those of the samples themselves (Monte Carlo), on the grid of radius `radius`.
#[allow(clippy::too_many_arguments)]
pub fn report<R: Rng + ?Sized>(
    m: &[f64],
    n: &[f64],
    tm: &[f64],
    tn: &[f64],
    rank: usize,
    radius: f64,
    rng: &mut R,
) -> LoadingsReport {
    use super::meanfield::SampleField;
    let a = SampleField::from_loadings(rank, m, n, &[], 1.0);
    let b = SampleField::from_loadings(rank, tm, tn, &[], 1.0);
    let grid = ball_grid(rank, radius, if rank == 1 { 81 } else { 21 });
    let c = corr_nm(m, n, rank);
    let ct = corr_nm(tm, tn, rank);
    let (x, y) = (stack(m, n, rank), stack(tm, tn, rank));
    let ja = jij_samples(m, n, rank, 20_000, rng);
    let jb = jij_samples(tm, tn, rank, 20_000, rng);
    LoadingsReport {
        field_error: field_error(&a, &b, &grid),
        mean_n: mean_norm(n, rank),
        corr_error: c
            .iter()
            .zip(&ct)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f64::max),
        corr_nm: c,
        even_corr: even_corr(m, n, rank),
        kurtosis_m: (0..rank).map(|r| kurtosis(&column(m, rank, r))).collect(),
        sliced_w2: sliced_w2(&x, &y, 2 * rank, 64, rng),
        mmd2: mmd2(&x, &y, 2 * rank, 1.0, rng),
        w1_j: w1(&ja, &jb),
    }
}
