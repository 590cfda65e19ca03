//! Quasi-Monte Carlo base draws: a randomly shifted Halton sequence mapped to `N(0, I)`.
//!
//! ```text
//! u_i = frac(h_i + δ),   h_i = (ψ_2(i), ψ_3(i), ψ_5(i), …)   (radical inverses, i = 1, 2, …)
//! z_i = Φ⁻¹(u_i)          δ ~ U[0, 1)^d  (one random shift per set: Cranley–Patterson)
//! ```
//! Each `z_i` is marginally `N(0, I)` (the shift makes every point uniform), so averages over
//! the points are unbiased; for smooth integrands their error falls like `(log N)^d / N`
//! instead of `N^(−1/2)`. Pushed through a CNF, they give low-discrepancy samples of its
//! density: the Connector's constraint and evaluation samples (`d = R` for `q(m)`,
//! `2R` for `(m, n)` jointly: the two halves of one point, never two separate sequences,
//! whose equal indices would correlate `n` with `m`).

use crate::error::ConfigError;
use rand::{Rng, RngExt};

/// The first 16 primes: the Halton bases.
const PRIMES: [u64; 16] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53];

/// The radical inverse of `i` in base `b` (the digits of `i` mirrored about the point).
fn radical_inverse(mut i: u64, b: u64) -> f64 {
    let (mut f, mut out) = (1.0, 0.0);
    let inv = 1.0 / b as f64;
    while i > 0 {
        f *= inv;
        out += f * (i % b) as f64;
        i /= b;
    }
    out
}

/// The standard normal quantile `Φ⁻¹(p)` for `p ∈ (0, 1)` (Acklam's rational approximation,
/// relative error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let p_low = 0.02425;
    if p < p_low {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - p_low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// `count` points (`count × dim`) of a randomly shifted Halton sequence mapped to `N(0, I)`
/// (see the [module docs](self)).
///
/// # Errors
/// `dim` of 0 or above 16.
pub fn halton_normal<R: Rng + ?Sized>(
    count: usize,
    dim: usize,
    rng: &mut R,
) -> Result<Vec<f64>, ConfigError> {
    halton_normal_at(&(0..count).collect::<Vec<_>>(), 0, dim, rng)
}

/// Standard-normal draws (`idx.len() × dim`) from the Halton points of the given indices in
/// dimensions `first_dim .. first_dim + dim` (bases `PRIMES[first_dim..]`), with one fresh
/// random shift: e.g. the `n`-half of the joint points whose `m`-half (dimensions
/// `0 .. first_dim`) a pool of samples was drawn from.
///
/// # Errors
/// `dim` of 0 or dimensions beyond 16.
pub fn halton_normal_at<R: Rng + ?Sized>(
    idx: &[usize],
    first_dim: usize,
    dim: usize,
    rng: &mut R,
) -> Result<Vec<f64>, ConfigError> {
    if dim == 0 || first_dim + dim > PRIMES.len() {
        return Err(ConfigError::new(
            "dim",
            format!("quasi-random draws need 1 to {} dimensions", PRIMES.len()),
        ));
    }
    let shift: Vec<f64> = (0..dim).map(|_| rng.random::<f64>()).collect();
    let mut z = Vec::with_capacity(idx.len() * dim);
    for &i in idx {
        for (d, &b) in PRIMES[first_dim..first_dim + dim].iter().enumerate() {
            let u = (radical_inverse(i as u64 + 1, b) + shift[d]).fract();
            z.push(normal_quantile(u.clamp(1e-15, 1.0 - 1e-15)));
        }
    }
    Ok(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_known_values() {
        for (p, x) in [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.841_344_746_068_542_9, 1.0),
            (1e-6, -4.753_424_308_822_899),
        ] {
            let got = normal_quantile(p);
            assert!(
                (got - x).abs() < 1e-8 * (1.0 + x.abs()),
                "Φ⁻¹({p}) = {got}, want {x}"
            );
            assert!((normal_quantile(1.0 - p) + x).abs() < 1e-8 * (1.0 + x.abs()));
        }
    }

    #[test]
    fn halton_draws_have_standard_moments_and_beat_random_ones() {
        let mut rng = crate::rng::seeded(3);
        let n = 4000;
        let z = halton_normal(n, 4, &mut rng).unwrap();
        // E[tanh(z·a)²] for a fixed direction: the kind of smooth integrand the Connector needs
        let a = [0.9, -0.6, 0.4, 0.7];
        let f = |z: &[f64]| -> f64 {
            let s: f64 = z.iter().zip(&a).map(|(x, w)| x * w).sum();
            s.tanh().powi(2)
        };
        let exact = {
            // a 1-D integral: s ~ N(0, ‖a‖²), by a fine Simpson rule
            let sd = a.iter().map(|w| w * w).sum::<f64>().sqrt();
            let (m, lo, hi) = (4000, -10.0, 10.0);
            let h = (hi - lo) / m as f64;
            (0..=m)
                .map(|j| {
                    let x = lo + j as f64 * h;
                    let w = if j == 0 || j == m {
                        1.0
                    } else if j % 2 == 1 {
                        4.0
                    } else {
                        2.0
                    };
                    w * (sd * x).tanh().powi(2) * (-0.5 * x * x).exp()
                })
                .sum::<f64>()
                * h
                / 3.0
                / (2.0 * std::f64::consts::PI).sqrt()
        };
        let qmc = z.chunks_exact(4).map(f).sum::<f64>() / n as f64;
        for d in 0..4 {
            let col: Vec<f64> = z.iter().skip(d).step_by(4).copied().collect();
            let mean = col.iter().sum::<f64>() / n as f64;
            let var = col.iter().map(|v| v * v).sum::<f64>() / n as f64;
            assert!(
                mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
                "dim {d}: {mean} {var}"
            );
        }
        // plain Monte Carlo with the same count would be off by its standard error
        let vals: Vec<f64> = z.chunks_exact(4).map(f).collect();
        let var = vals.iter().map(|v| (v - qmc).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        assert!(
            (qmc - exact).abs() < se / 3.0,
            "QMC {qmc} vs exact {exact}: error above a third of Monte Carlo's {se}"
        );
        assert!(halton_normal(3, 0, &mut rng).is_err() && halton_normal(3, 17, &mut rng).is_err());
    }
}
