//! The NASCAR switching data (Linderman et al. 2017, as varied by the GDM authors; SPEC §6.2),
//! ported from `reference/nascar.py` to the crate's generator: the same algorithm and
//! statistics, not the same bits.
//!
//! ```text
//! T = 1000, K = 4, D = 2, N = 10,  x_0 = (0, 1),  z_0 = e_3
//! logits_t = (1 − γ)(Rs x_{t−1} + r) + γ z_{t−1}
//!   Rs = 100·scale·[(1,0); (−1,0); (0,1); (0,−1)],   r = 100·scale·(−2, −2, −1, −1)
//! z_t = softmax((logits_t + g_t)/temp),  g = −ln(−ln(u + 1e-8) + 1e-8)   (the authors' guards)
//! x_t = (Σ_k z_tk expm(A_k)) x_{t−1} + Σ_k z_tk b_k
//! y_t = C x_t + 0.01·N(0, I_N),   C ~ N(0,1)^{N×D}
//! standard:     temp 0.01, scale 1, γ 0; states 1, 2 rotate by π/24 per step about (±2, 0)
//!               (b_k = (I − expm(A_k)) c_k); states 3, 4: A = 0, b = (0.1, 0), (−0.25, 0)
//! soft-sticky:  temp 0.99, scale 0.02, γ 0.25, all A = 0,
//!               b = (0, −0.05), (0, 0.05), (0.05, 0), (−0.05, 0)
//! ```
//! The returned arrays hold `t = 1..T`; labels are `argmax z_t`. The test sequence must come
//! from a different seed than the training one, with the training `C` ([`train_test`]).
//!
//! # Example
//! ```
//! use neurodyn::tasks::nascar::{train_test, Variant};
//! let (train, test) = train_test(Variant::Standard, 0, 1, 1000, 10)?;
//! assert_eq!((train.y.len(), test.labels.len()), (1000 * 10, 1000));
//! assert_eq!(train.c, test.c);
//! assert!(train_test(Variant::Standard, 3, 3, 1000, 10).is_err());
//! # Ok::<(), neurodyn::ConfigError>(())
//! ```

use crate::error::ConfigError;
use crate::models::init;
use rand::{Rng, RngExt};

/// Which NASCAR variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Near-hard switching (temp 0.01), rotations about two centres and two drifts.
    Standard,
    /// Soft, sticky states (temp 0.99, γ = 0.25), four drifts.
    SoftSticky,
}

impl std::str::FromStr for Variant {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "nascar" | "standard" => Ok(Variant::Standard),
            "nascar-soft" | "soft-sticky" | "softsticky" => Ok(Variant::SoftSticky),
            _ => Err(ConfigError::new(
                "variant",
                format!("unknown NASCAR variant {s:?} (expected nascar or nascar-soft)"),
            )),
        }
    }
}

/// One generated sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Nascar {
    /// Soft states `T × 4`.
    pub z: Vec<f64>,
    /// Latent positions `T × 2`.
    pub x: Vec<f64>,
    /// Observations `T × N`.
    pub y: Vec<f64>,
    /// `argmax z_t` (0-based).
    pub labels: Vec<usize>,
    /// The emission matrix `N × 2`.
    pub c: Vec<f64>,
    /// Observation dimension N.
    pub obs: usize,
}

const K: usize = 4;
const D: usize = 2;

/// `(expm(A_k) [K][2][2], b_k [K][2], temp, scale, γ)` of a variant.
#[allow(clippy::type_complexity)]
fn dynamics(v: Variant) -> ([[f64; 4]; K], [[f64; 2]; K], f64, f64, f64) {
    let eye = [1.0, 0.0, 0.0, 1.0];
    match v {
        Variant::Standard => {
            let th = std::f64::consts::PI / 24.0;
            // expm([[0, θ], [−θ, 0]]) = [[cos θ, sin θ], [−sin θ, cos θ]]
            let rot = [th.cos(), th.sin(), -th.sin(), th.cos()];
            let b = |c: [f64; 2]| {
                // (I − rot) c
                [
                    c[0] - (rot[0] * c[0] + rot[1] * c[1]),
                    c[1] - (rot[2] * c[0] + rot[3] * c[1]),
                ]
            };
            (
                [rot, rot, eye, eye],
                [b([2.0, 0.0]), b([-2.0, 0.0]), [0.1, 0.0], [-0.25, 0.0]],
                0.01,
                1.0,
                0.0,
            )
        }
        Variant::SoftSticky => (
            [eye; K],
            [[0.0, -0.05], [0.0, 0.05], [0.05, 0.0], [-0.05, 0.0]],
            0.99,
            0.02,
            0.25,
        ),
    }
}

/// Generates one sequence of `steps` with `obs` channels; `c` (`obs × 2`) is drawn when not
/// given.
///
/// # Errors
/// Zero steps or channels, or a `c` of the wrong length.
pub fn generate<R: Rng + ?Sized>(
    variant: Variant,
    steps: usize,
    obs: usize,
    c: Option<&[f64]>,
    rng: &mut R,
) -> Result<Nascar, ConfigError> {
    if steps == 0 {
        return Err(ConfigError::new("steps", "must be at least 1"));
    }
    if obs == 0 {
        return Err(ConfigError::new("obs", "must be at least 1"));
    }
    if let Some(c) = c
        && c.len() != obs * D
    {
        return Err(ConfigError::new(
            "C",
            format!("{} values for an {obs} × 2 matrix", c.len()),
        ));
    }
    let (a, b, temp, scale, gamma) = dynamics(variant);
    let rs = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]];
    let r = [-2.0, -2.0, -1.0, -1.0];
    let mut x_prev = [0.0, 1.0];
    let mut z_prev = [0.0, 0.0, 1.0, 0.0];
    let (mut zs, mut xs) = (Vec::with_capacity(steps * K), Vec::with_capacity(steps * D));
    for _ in 0..steps {
        let mut logit = [0.0; K];
        for k in 0..K {
            let c = 100.0 * scale * (rs[k][0] * x_prev[0] + rs[k][1] * x_prev[1] + r[k]);
            let u: f64 = rng.random();
            let g = -(-(u + 1e-8).ln() + 1e-8).ln();
            logit[k] = ((1.0 - gamma) * c + gamma * z_prev[k] + g) / temp;
        }
        let m = logit.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = logit.iter().map(|l| (l - m).exp()).collect();
        let s: f64 = e.iter().sum();
        let z: Vec<f64> = e.iter().map(|v| v / s).collect();
        let mut x = [0.0; 2];
        for k in 0..K {
            x[0] += z[k] * (a[k][0] * x_prev[0] + a[k][1] * x_prev[1] + b[k][0]);
            x[1] += z[k] * (a[k][2] * x_prev[0] + a[k][3] * x_prev[1] + b[k][1]);
        }
        zs.extend_from_slice(&z);
        xs.extend_from_slice(&x);
        x_prev = x;
        z_prev.copy_from_slice(&z);
    }
    let c: Vec<f64> = match c {
        Some(c) => c.to_vec(),
        None => init::normal(rng, obs * D, 1.0),
    };
    let noise: Vec<f64> = init::normal(rng, steps * obs, 0.01);
    let mut y = vec![0.0; steps * obs];
    for t in 0..steps {
        for n in 0..obs {
            y[t * obs + n] =
                c[n * D] * xs[t * D] + c[n * D + 1] * xs[t * D + 1] + noise[t * obs + n];
        }
    }
    let labels = (0..steps)
        .map(|t| {
            let row = &zs[t * K..(t + 1) * K];
            (0..K).fold(0, |b, k| if row[k] > row[b] { k } else { b })
        })
        .collect();
    Ok(Nascar {
        z: zs,
        x: xs,
        y,
        labels,
        c,
        obs,
    })
}

/// A training sequence from `seed` and a test sequence from `test_seed` with the training
/// `C` (SPEC §6.2: never the same seed).
///
/// # Errors
/// Equal seeds, or as [`generate`].
pub fn train_test(
    variant: Variant,
    seed: u64,
    test_seed: u64,
    steps: usize,
    obs: usize,
) -> Result<(Nascar, Nascar), ConfigError> {
    if seed == test_seed {
        return Err(ConfigError::new(
            "test_seed",
            "the test sequence must use a different seed from the training one",
        ));
    }
    let train = generate(variant, steps, obs, None, &mut crate::rng::seeded(seed))?;
    let test = generate(
        variant,
        steps,
        obs,
        Some(&train.c),
        &mut crate::rng::seeded(test_seed),
    )?;
    Ok((train, test))
}
