//! What a finite network does, read off its simulated latent trajectories: the states it
//! settles in (stable fixed points, or the points of a ring), and its limit cycle.
//!
//! ```text
//! κ(t) = (MᵀM)^{−1} Mᵀ x(t)  per trial;  at the end of each trial:
//!   settled (speed < 1e-3 / τ):  cluster the final κ (distance 0.05 · scale)
//!   still moving:                the last half of the trial as a periodic orbit
//! ring (R = 2): at t_slow (radial relaxation done), the states cover ≥ 8 of 12 angular
//!   sectors at a common radius (sd < 5 % of the mean), and no trial cycles: a slow manifold
//! ```
//! A finite network's ring is only approximately continuous: its states drift slowly along it
//! to a few fixed points that finite-size fluctuations of the loadings leave on it, so the ring
//! is read at `t_slow`, before that drift, while the fixed points are read at the end.

use super::latent::cycle_of_series;

/// A finite network's attractors as seen in simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct Settled {
    /// Distinct final states of settled trials (cluster means), unless they form a ring.
    pub stable: Vec<Vec<f64>>,
    /// A ring (slow manifold) at `t_slow`: mean and standard deviation of |κ| over the trials.
    pub ring: Option<(f64, f64)>,
    /// A limit cycle: mean radius about its centroid and period (median over cycling trials).
    pub cycle: Option<(f64, f64)>,
    /// Trials that had not settled nor cycled by the end.
    pub unsettled: usize,
}

/// Reads attractors off latent trajectories `kappa` (`trials × T × R`) sampled every `dt`
/// with time constant `tau`; a ring is looked for at sample `slow` (see the module docs).
pub fn settled(
    kappa: &[f64],
    trials: usize,
    rank: usize,
    dt: f64,
    tau: f64,
    slow: usize,
) -> Settled {
    let samples = kappa.len() / (trials.max(1) * rank.max(1));
    let point = |b: usize, k: usize| -> Vec<f64> {
        kappa[(b * samples + k) * rank..(b * samples + k + 1) * rank].to_vec()
    };
    let mut finals: Vec<Vec<f64>> = Vec::new();
    let mut cycles: Vec<(f64, f64)> = Vec::new();
    let mut unsettled = 0;
    let scale = (0..trials)
        .map(|b| {
            point(b, samples - 1)
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt()
        })
        .fold(0.0, f64::max)
        .max(1e-9);
    for b in 0..trials {
        let (a, z) = (point(b, samples - 2), point(b, samples - 1));
        let speed = a
            .iter()
            .zip(&z)
            .map(|(p, q)| (q - p).powi(2))
            .sum::<f64>()
            .sqrt()
            / dt;
        if speed < 1e-3 * scale / tau {
            finals.push(z);
            continue;
        }
        let half: Vec<Vec<f64>> = (samples / 2..samples).map(|k| point(b, k)).collect();
        match cycle_of_series(&half, dt, 0.02) {
            Some(c) => cycles.push((c.radius, c.period)),
            None => unsettled += 1,
        }
    }
    // cluster the settled states
    let tol = 0.05 * scale;
    let mut clusters: Vec<(Vec<f64>, usize)> = Vec::new();
    for f in &finals {
        match clusters.iter_mut().find(|(c, _)| {
            c.iter()
                .zip(f)
                .map(|(p, q)| (p - q).powi(2))
                .sum::<f64>()
                .sqrt()
                < tol
        }) {
            Some((c, n)) => {
                for (ci, fi) in c.iter_mut().zip(f) {
                    *ci = (*ci * *n as f64 + fi) / (*n + 1) as f64;
                }
                *n += 1;
            }
            None => clusters.push((f.clone(), 1)),
        }
    }
    let ring = if rank == 2 && cycles.is_empty() {
        let at: Vec<Vec<f64>> = (0..trials)
            .map(|b| point(b, slow.min(samples - 1)))
            .collect();
        let radii: Vec<f64> = at.iter().map(|p| p[0].hypot(p[1])).collect();
        let mean = radii.iter().sum::<f64>() / radii.len() as f64;
        let sd =
            (radii.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / radii.len() as f64).sqrt();
        let mut sectors = [false; 12];
        for p in &at {
            let a = p[1].atan2(p[0]).rem_euclid(std::f64::consts::TAU);
            sectors[((a / std::f64::consts::TAU * 12.0) as usize).min(11)] = true;
        }
        let covered = sectors.iter().filter(|&&s| s).count();
        (covered >= 8 && sd < 0.05 * mean && mean > 1e-6).then_some((mean, sd))
    } else {
        None
    };
    let mut stable: Vec<Vec<f64>> = clusters.into_iter().map(|c| c.0).collect();
    stable.sort_by(|a, b| {
        a[0].total_cmp(&b[0])
            .then(a[a.len() - 1].total_cmp(&b[b.len() - 1]))
    });
    let cycle = (!cycles.is_empty()).then(|| {
        let med = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        (
            med(cycles.iter().map(|c| c.0).collect()),
            med(cycles.iter().map(|c| c.1).collect()),
        )
    });
    Settled {
        stable,
        ring,
        cycle,
        unsettled,
    }
}
