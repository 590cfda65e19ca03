//! Weight initialisation, always from an injected seeded generator.
//!
//! ```text
//! Glorot uniform:  W ~ U(−a, a),  a = √(6 / (fan_in + fan_out))
//! Glorot normal:   W ~ N(0, 2 / (fan_in + fan_out))
//! Kaiming normal:  W ~ N(0, 1 / fan_in)
//! biases:          b ~ 0.001 · N(0, 1)            (the gnODE authors' choice)
//! ```

use crate::Float;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// Glorot-uniform `fan_out × fan_in` weights.
pub fn glorot_uniform<T: Float, R: Rng + ?Sized>(
    rng: &mut R,
    fan_out: usize,
    fan_in: usize,
) -> Vec<T> {
    let a = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
    (0..fan_out * fan_in)
        .map(|_| T::from_f64(a * (2.0 * rng.random::<f64>() - 1.0)))
        .collect()
}

/// Glorot-normal `fan_out × fan_in` values.
pub fn glorot_normal<T: Float, R: Rng + ?Sized>(
    rng: &mut R,
    fan_out: usize,
    fan_in: usize,
) -> Vec<T> {
    let s = (2.0 / (fan_in + fan_out).max(1) as f64).sqrt();
    normal(rng, fan_out * fan_in, s)
}

/// Kaiming-normal `fan_out × fan_in` weights (`std = 1/√fan_in`).
pub fn kaiming_normal<T: Float, R: Rng + ?Sized>(
    rng: &mut R,
    fan_out: usize,
    fan_in: usize,
) -> Vec<T> {
    normal(rng, fan_out * fan_in, 1.0 / (fan_in.max(1) as f64).sqrt())
}

/// `n` draws of `N(0, std²)`.
pub fn normal<T: Float, R: Rng + ?Sized>(rng: &mut R, n: usize, std: f64) -> Vec<T> {
    (0..n)
        .map(|_| {
            let z: f64 = StandardNormal.sample(rng);
            T::from_f64(std * z)
        })
        .collect()
}

/// The authors' small random biases, `0.001 · N(0, 1)`.
pub fn small_bias<T: Float, R: Rng + ?Sized>(rng: &mut R, n: usize) -> Vec<T> {
    normal(rng, n, 1e-3)
}
