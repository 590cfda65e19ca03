//! Ground-truth loading distributions (SPEC §4.3) and networks sampled from them.
//!
//! ```text
//! population q (weight w_q):  m = μ_m + L u,   n = μ_n + A (m − μ_m) + diag(σ_ξ) ξ
//!                             u: i.i.d. unit-variance N(0, 1) or Student-t (heavy tails), ξ ~ N(0, I)
//! bistable (s):     R = 1,  m ~ N(0, 1),  n = s m + 0.3 ξ          κ* = ±0.484 (s = 1.2)
//! tristable:        R = 1,  Var m = (1.98, 0.02),  n = (c / Var m) m + 0.3 ξ,  c = (−10, 4.5)
//! two fixed points: R = 2,  Σ_nm = diag(1.2, 1.6)                  Var n_r = 4
//! limit cycle:      R = 2,  Σ_nm = [[1.6, −0.8], [0.8, 1.6]]       Var n_r = 4
//! ring:             R = 2,  Σ_nm = 1.6 I  (n = 1.6 m + 1.2 ξ)       Var n_r = 4
//! ```
//! With `exact_moments` (the default of the CLI; ours), each population's draws are centred and
//! whitened and the noise made orthogonal to `m`, so the sample means and covariances equal the
//! target exactly: a finite network then matches the mean-field theory up to higher-moment
//! fluctuations, not the O(1/√N) scatter of its sample covariance.

use super::meanfield::GaussianMixture;
use super::{LowRank, LowRankConfig};
use crate::error::ConfigError;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal, StudentT};

/// One population of neurons (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    /// Fraction of the neurons.
    pub weight: f64,
    /// `μ_m` (R).
    pub mean_m: Vec<f64>,
    /// `L` (R × R, lower triangular): `Cov(m) = L Lᵀ`.
    pub chol_m: Vec<f64>,
    /// `μ_n` (R).
    pub mean_n: Vec<f64>,
    /// `A` (R × R): `E[n | m] = μ_n + A (m − μ_m)`.
    pub a: Vec<f64>,
    /// `σ_ξ` (R): the spread of `n` given `m`.
    pub noise: Vec<f64>,
}

/// The distribution of `u` in `m = μ_m + L u`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tails {
    /// `u ~ N(0, 1)`.
    Gaussian,
    /// `u ~ t_ν` scaled to unit variance (ν > 2).
    StudentT {
        /// Degrees of freedom.
        nu: f64,
    },
}

/// A loading distribution: populations of `(m, n)` with R ranks (no inputs).
#[derive(Clone, Debug, PartialEq)]
pub struct LoadingModel {
    /// Rank R.
    pub rank: usize,
    /// The populations (weights summing to 1).
    pub populations: Vec<Population>,
    /// Tails of `m`.
    pub tails: Tails,
}

/// Sampled loadings: `z_i = (m_i, n_i)` rows and each neuron's population.
#[derive(Clone, Debug, PartialEq)]
pub struct Loadings {
    /// Rank R.
    pub rank: usize,
    /// `m` (`N × R`).
    pub m: Vec<f64>,
    /// `n` (`N × R`).
    pub n: Vec<f64>,
    /// Population of each neuron.
    pub population: Vec<usize>,
}

impl LoadingModel {
    /// The Gaussian mixture over `z = (m, n)` (`None` with heavy tails: use Monte Carlo).
    pub fn gaussian_mixture(&self) -> Option<GaussianMixture> {
        if self.tails != Tails::Gaussian {
            return None;
        }
        let r = self.rank;
        let d = 2 * r;
        let mut gm = GaussianMixture {
            rank: r,
            inputs: 0,
            weights: Vec::new(),
            means: Vec::new(),
            covs: Vec::new(),
        };
        for p in &self.populations {
            let cm = mat_mul_t(&p.chol_m, &p.chol_m, r); // L Lᵀ
            let cnm = mat_mul(&p.a, &cm, r); // A Σ_m
            let cnn_part = mat_mul_t(&cnm, &p.a, r); // A Σ_m Aᵀ
            let mut cov = vec![0.0; d * d];
            for i in 0..r {
                for j in 0..r {
                    cov[i * d + j] = cm[i * r + j];
                    cov[(r + i) * d + j] = cnm[i * r + j];
                    cov[j * d + r + i] = cnm[i * r + j];
                    cov[(r + i) * d + r + j] =
                        cnn_part[i * r + j] + if i == j { p.noise[i].powi(2) } else { 0.0 };
                }
            }
            let mut mean = p.mean_m.clone();
            mean.extend_from_slice(&p.mean_n);
            gm.weights.push(p.weight);
            gm.means.push(mean);
            gm.covs.push(cov);
        }
        Some(gm)
    }

    /// Draws `neurons` loadings. Population sizes are `round(w_q N)` (the last takes the rest).
    /// With `exact_moments`, each population's sample mean and covariance of `(m, n)` equal
    /// the target (needs at least `2R + 1` neurons per population).
    ///
    /// # Errors
    /// No neurons, or too few neurons per population for exact moments.
    pub fn sample<R: Rng + ?Sized>(
        &self,
        neurons: usize,
        exact_moments: bool,
        rng: &mut R,
    ) -> Result<Loadings, ConfigError> {
        if neurons == 0 {
            return Err(ConfigError::new("neurons", "must be at least 1"));
        }
        let r = self.rank;
        let mut sizes: Vec<usize> = self
            .populations
            .iter()
            .map(|p| (p.weight * neurons as f64).round() as usize)
            .collect();
        let used: usize = sizes[..sizes.len() - 1].iter().sum();
        let last = sizes.len() - 1;
        sizes[last] = neurons.saturating_sub(used);
        if exact_moments && sizes.iter().any(|&s| s < 2 * r + 1) {
            return Err(ConfigError::new(
                "neurons",
                format!(
                    "{neurons} neurons leave a population with fewer than {} neurons, too few \
                     for exact moments",
                    2 * r + 1
                ),
            ));
        }
        let t = match self.tails {
            Tails::StudentT { nu } => Some((
                StudentT::new(nu).map_err(|e| ConfigError::new("tails", e.to_string()))?,
                ((nu - 2.0) / nu).sqrt(),
            )),
            Tails::Gaussian => None,
        };
        let mut out = Loadings {
            rank: r,
            m: Vec::with_capacity(neurons * r),
            n: Vec::with_capacity(neurons * r),
            population: Vec::with_capacity(neurons),
        };
        for (q, (p, &size)) in self.populations.iter().zip(&sizes).enumerate() {
            let mut u: Vec<f64> = (0..size * r)
                .map(|_| match &t {
                    Some((dist, scale)) => scale * dist.sample(rng),
                    None => StandardNormal.sample(rng),
                })
                .collect();
            let mut xi: Vec<f64> = (0..size * r).map(|_| StandardNormal.sample(rng)).collect();
            if exact_moments {
                standardize(&mut u, size, r);
                orthogonalize(&mut xi, &u, size, r);
                standardize(&mut xi, size, r);
            }
            for i in 0..size {
                let ui = &u[i * r..(i + 1) * r];
                let dm: Vec<f64> = (0..r)
                    .map(|a| (0..=a).map(|b| p.chol_m[a * r + b] * ui[b]).sum())
                    .collect();
                out.m.extend(p.mean_m.iter().zip(&dm).map(|(mu, d)| mu + d));
                for a in 0..r {
                    let reg: f64 = (0..r).map(|b| p.a[a * r + b] * dm[b]).sum();
                    out.n.push(p.mean_n[a] + reg + p.noise[a] * xi[i * r + a]);
                }
                out.population.push(q);
            }
        }
        Ok(out)
    }
}

/// `A Bᵀ` for R × R matrices.
fn mat_mul_t(a: &[f64], b: &[f64], r: usize) -> Vec<f64> {
    let mut c = vec![0.0; r * r];
    for i in 0..r {
        for j in 0..r {
            c[i * r + j] = (0..r).map(|k| a[i * r + k] * b[j * r + k]).sum();
        }
    }
    c
}

/// `A B` for R × R matrices.
fn mat_mul(a: &[f64], b: &[f64], r: usize) -> Vec<f64> {
    let mut c = vec![0.0; r * r];
    for i in 0..r {
        for j in 0..r {
            c[i * r + j] = (0..r).map(|k| a[i * r + k] * b[k * r + j]).sum();
        }
    }
    c
}

/// Centres the columns of `x` (`n × r`) and whitens them to identity sample covariance.
fn standardize(x: &mut [f64], n: usize, r: usize) {
    for a in 0..r {
        let mean = (0..n).map(|i| x[i * r + a]).sum::<f64>() / n as f64;
        (0..n).for_each(|i| x[i * r + a] -= mean);
    }
    let mut cov = nalgebra::DMatrix::<f64>::zeros(r, r);
    for i in 0..n {
        for a in 0..r {
            for b in 0..r {
                cov[(a, b)] += x[i * r + a] * x[i * r + b] / n as f64;
            }
        }
    }
    let Some(ch) = nalgebra::Cholesky::new(cov) else {
        return;
    };
    // x ← x L^{−T}: solve L y = xᵢ for every row
    let l = ch.l();
    for i in 0..n {
        let row = nalgebra::DVector::from_column_slice(&x[i * r..(i + 1) * r]);
        if let Some(y) = l.solve_lower_triangular(&row) {
            x[i * r..(i + 1) * r].copy_from_slice(y.as_slice());
        }
    }
}

/// Removes from the columns of `x` their least-squares projection on the (centred) columns of
/// `u` (`n × r` each).
fn orthogonalize(x: &mut [f64], u: &[f64], n: usize, r: usize) {
    // u is whitened: the projection coefficient of column b of x on column a of u is ⟨u_a, x_b⟩/n
    for b in 0..r {
        for a in 0..r {
            let c = (0..n).map(|i| u[i * r + a] * x[i * r + b]).sum::<f64>() / n as f64;
            (0..n).for_each(|i| x[i * r + b] -= c * u[i * r + a]);
        }
    }
}

/// The SPEC §4.3 benchmarks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Recipe {
    /// R = 1, `n = s m + 0.3 ξ`: two stable fixed points for s > 1.
    Bistable {
        /// Overlap `s`.
        s: f64,
    },
    /// R = 1, two populations: stable 0 and ±8.34, unstable ±2.86.
    Tristable,
    /// R = 2, `Σ_nm = diag(1.2, 1.6)`: stable ±0.948 e₂, saddles ±0.486 e₁.
    TwoFixedPoints,
    /// R = 2, `Σ_nm = [[1.6, −0.8], [0.8, 1.6]]`: a limit cycle of radius ≈ 0.95, period 4π τ.
    LimitCycle,
    /// R = 2, `Σ_nm = 1.6 I`: a ring attractor of radius ≈ 0.948.
    Ring,
}

/// What SPEC §4.3 expects of a benchmark's mean-field dynamics.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    /// Stable fixed points.
    pub stable: Vec<Vec<f64>>,
    /// Unstable fixed points and saddles (the origin excluded unless it is listed).
    pub unstable: Vec<Vec<f64>>,
    /// Limit cycle: radius and period.
    pub cycle: Option<(f64, f64)>,
    /// Ring attractor radius.
    pub ring_radius: Option<f64>,
}

impl std::str::FromStr for Recipe {
    type Err = ConfigError;
    /// `bistable` (s = 1.2), `bistable:S`, `tristable`, `two-fixed-points`, `limit-cycle`,
    /// `ring`.
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let (name, arg) = match s.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let r =
            match name {
                "bistable" => {
                    let s =
                        match arg {
                            Some(a) => a.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(
                                || {
                                    ConfigError::new(
                                        "recipe",
                                        format!("bistable:{a}: the overlap s must be a number"),
                                    )
                                },
                            )?,
                            None => 1.2,
                        };
                    return Ok(Recipe::Bistable { s });
                }
                "tristable" => Recipe::Tristable,
                "two-fixed-points" => Recipe::TwoFixedPoints,
                "limit-cycle" => Recipe::LimitCycle,
                "ring" => Recipe::Ring,
                _ => {
                    return Err(ConfigError::new(
                        "recipe",
                        format!(
                            "unknown recipe {s:?} (expected bistable, bistable:S, tristable, \
                         two-fixed-points, limit-cycle or ring)"
                        ),
                    ));
                }
            };
        match arg {
            Some(a) => Err(ConfigError::new(
                "recipe",
                format!("{name} takes no parameter (got :{a})"),
            )),
            None => Ok(r),
        }
    }
}

impl Recipe {
    /// All benchmarks (bistable with s = 1.2).
    pub const ALL: [Recipe; 5] = [
        Recipe::Bistable { s: 1.2 },
        Recipe::Tristable,
        Recipe::TwoFixedPoints,
        Recipe::LimitCycle,
        Recipe::Ring,
    ];

    /// Its name on the command line.
    pub fn name(&self) -> String {
        match self {
            Recipe::Bistable { s } if *s == 1.2 => "bistable".into(),
            Recipe::Bistable { s } => format!("bistable:{s}"),
            Recipe::Tristable => "tristable".into(),
            Recipe::TwoFixedPoints => "two-fixed-points".into(),
            Recipe::LimitCycle => "limit-cycle".into(),
            Recipe::Ring => "ring".into(),
        }
    }

    /// Rank R.
    pub fn rank(&self) -> usize {
        match self {
            Recipe::Bistable { .. } | Recipe::Tristable => 1,
            _ => 2,
        }
    }

    /// Radius of the disk (R = 2) or interval (R = 1) the initial latent states `κ0` are drawn
    /// from: wide enough to visit every basin.
    pub fn ic_radius(&self) -> f64 {
        match self {
            Recipe::Tristable => 12.0,
            Recipe::Bistable { s } if *s > 1.5 => 2.5,
            _ => 1.5,
        }
    }

    /// The loading distribution with the given tails.
    pub fn loading_model(&self, tails: Tails) -> LoadingModel {
        let r = self.rank();
        let eye: Vec<f64> = (0..r * r)
            .map(|k| if k % (r + 1) == 0 { 1.0 } else { 0.0 })
            .collect();
        // R = 2: n = Σ m + ξ with Var(n_r) = 4
        let two = |sigma: [f64; 4]| {
            let noise = (0..2)
                .map(|a| (4.0 - sigma[2 * a].powi(2) - sigma[2 * a + 1].powi(2)).sqrt())
                .collect();
            Population {
                weight: 1.0,
                mean_m: vec![0.0; 2],
                chol_m: eye.clone(),
                mean_n: vec![0.0; 2],
                a: sigma.to_vec(),
                noise,
            }
        };
        let populations = match *self {
            Recipe::Bistable { s } => vec![Population {
                weight: 1.0,
                mean_m: vec![0.0],
                chol_m: vec![1.0],
                mean_n: vec![0.0],
                a: vec![s],
                noise: vec![0.3],
            }],
            Recipe::Tristable => [(1.98, -10.0), (0.02, 4.5)]
                .iter()
                .map(|&(var, c): &(f64, f64)| Population {
                    weight: 0.5,
                    mean_m: vec![0.0],
                    chol_m: vec![var.sqrt()],
                    mean_n: vec![0.0],
                    a: vec![c / var],
                    noise: vec![0.3],
                })
                .collect(),
            Recipe::TwoFixedPoints => vec![two([1.2, 0.0, 0.0, 1.6])],
            Recipe::LimitCycle => vec![two([1.6, -0.8, 0.8, 1.6])],
            Recipe::Ring => vec![two([1.6, 0.0, 0.0, 1.6])],
        };
        LoadingModel {
            rank: r,
            populations,
            tails,
        }
    }

    /// A network of `neurons` neurons whose loadings are drawn from this recipe's distribution
    /// with the given tails (see [`LoadingModel::sample`]), τ = 1, no inputs, no stored
    /// initial states; returned with the loadings it was built from.
    ///
    /// # Errors
    /// As [`LoadingModel::sample`] (no neurons, too few for exact moments).
    pub fn network<R: Rng + ?Sized>(
        &self,
        tails: Tails,
        neurons: usize,
        exact_moments: bool,
        rng: &mut R,
    ) -> Result<(LowRank<f64>, Loadings), ConfigError> {
        let load = self
            .loading_model(tails)
            .sample(neurons, exact_moments, rng)?;
        let cfg = LowRankConfig {
            neurons,
            rank: self.rank(),
            ..Default::default()
        };
        let net = LowRank::from_loadings(cfg, &load.m, &load.n, &[])?;
        Ok((net, load))
    }

    /// SPEC §4.3's expected mean-field figures (bistable: s = 1.2, 2.0 and 0.5 only).
    pub fn expected(&self) -> Expected {
        let none = Expected {
            stable: Vec::new(),
            unstable: Vec::new(),
            cycle: None,
            ring_radius: None,
        };
        match *self {
            Recipe::Bistable { s } => {
                let k = if (s - 1.2).abs() < 1e-12 {
                    Some(0.484)
                } else if (s - 2.0).abs() < 1e-12 {
                    Some(1.336)
                } else {
                    None
                };
                match k {
                    Some(k) => Expected {
                        stable: vec![vec![-k], vec![k]],
                        unstable: vec![vec![0.0]],
                        ..none
                    },
                    None if (s - 0.5).abs() < 1e-12 => Expected {
                        stable: vec![vec![0.0]],
                        ..none
                    },
                    None => none,
                }
            }
            Recipe::Tristable => Expected {
                stable: vec![vec![-8.34], vec![0.0], vec![8.34]],
                unstable: vec![vec![-2.86], vec![2.86]],
                ..none
            },
            Recipe::TwoFixedPoints => Expected {
                stable: vec![vec![0.0, -0.948], vec![0.0, 0.948]],
                unstable: vec![vec![-0.486, 0.0], vec![0.0, 0.0], vec![0.486, 0.0]],
                ..none
            },
            Recipe::LimitCycle => Expected {
                unstable: vec![vec![0.0, 0.0]],
                cycle: Some((0.95, 4.0 * std::f64::consts::PI)),
                ..none
            },
            Recipe::Ring => Expected {
                unstable: vec![vec![0.0, 0.0]],
                ring_radius: Some(0.948),
                ..none
            },
        }
    }
}
