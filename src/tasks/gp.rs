//! Gaussian-process target trajectories for the expressivity measure (SPEC §3.3).
//!
//! ```text
//! y(t) ~ GP(0, k),  k(t, t') = exp(−(t − t')² / (2 ℓ²)),  t on a uniform grid of [0, T]
//! sample = L z,  L Lᵀ = K + 1e-8 I (Cholesky),  z ~ N(0, I)
//! ```

use crate::Float;
use crate::error::ConfigError;
use crate::train::{Labels, SeqData};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// `outputs` independent GP draws on `steps` points of `[0, t_end]`, as a one-trial data set
/// with zero inputs (an autonomous model must generate it from its initial state).
///
/// # Errors
/// A non-positive length scale or horizon, or zero sizes.
pub fn gp_targets<T: Float, R: Rng + ?Sized>(
    steps: usize,
    outputs: usize,
    t_end: f64,
    length_scale: f64,
    rng: &mut R,
) -> Result<SeqData<T>, ConfigError> {
    if steps == 0 || outputs == 0 {
        return Err(ConfigError::new(
            "gp",
            "steps and outputs must be at least 1",
        ));
    }
    if !(length_scale > 0.0 && length_scale.is_finite()) {
        return Err(ConfigError::new(
            "length_scale",
            format!("must be positive, got {length_scale}"),
        ));
    }
    if !(t_end > 0.0 && t_end.is_finite()) {
        return Err(ConfigError::new(
            "t_end",
            format!("must be positive, got {t_end}"),
        ));
    }
    let dt = t_end / steps as f64;
    let ts: Vec<f64> = (1..=steps).map(|k| k as f64 * dt).collect();
    let k = nalgebra::DMatrix::from_fn(steps, steps, |i, j| {
        let d = ts[i] - ts[j];
        (-d * d / (2.0 * length_scale * length_scale)).exp() + if i == j { 1e-8 } else { 0.0 }
    });
    let l = k
        .cholesky()
        .ok_or_else(|| {
            ConfigError::new("length_scale", "the GP covariance is not positive definite")
        })?
        .l();
    let mut y = vec![T::ZERO; steps * outputs];
    for o in 0..outputs {
        let z = nalgebra::DVector::from_fn(steps, |_, _| StandardNormal.sample(rng));
        let s = &l * z;
        for t in 0..steps {
            y[t * outputs + o] = T::from_f64(s[t]);
        }
    }
    Ok(SeqData {
        n: 1,
        steps,
        inputs: 0,
        dt: T::from_f64(dt),
        x: Vec::new(),
        labels: Labels::Sequence { y, outputs },
        lengths: None,
    })
}
