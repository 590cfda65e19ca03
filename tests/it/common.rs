//! Shared helpers: seeded data, tolerances, and a macro that runs a test body for f32 and f64.

use neurodyn::Float;
use rand::RngExt;

/// Runs `$body` once with `$t = f32` and once with `$t = f64`.
#[macro_export]
macro_rules! for_each_float {
    ($t:ident => $body:block) => {{
        {
            #[allow(dead_code)]
            type $t = f32;
            $body
        }
        {
            #[allow(dead_code)]
            type $t = f64;
            $body
        }
    }};
}

/// `n` values uniform in `[lo, hi)` from a seeded generator.
pub fn uniform<T: Float>(seed: u64, n: usize, lo: f64, hi: f64) -> Vec<T> {
    let mut r = neurodyn::rng::seeded(seed);
    (0..n)
        .map(|_| T::from_f64(lo + (hi - lo) * r.random::<f64>()))
        .collect()
}

/// A tolerance of `k` ulps-ish scaled for the type: `k · ε`.
pub fn eps<T: Float>(k: f64) -> f64 {
    k * T::EPSILON.to_f64()
}

/// Asserts `|got − want| ≤ tol · scale` element by element, naming the first failure.
#[track_caller]
pub fn assert_close_scaled<T: Float>(what: &str, got: &[T], want: &[T], scale: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for i in 0..got.len() {
        let (g, w) = (got[i].to_f64(), want[i].to_f64());
        let err = (g - w).abs();
        assert!(
            err <= tol * scale[i] || (g.is_nan() && w.is_nan()) || g == w,
            "{what}: element {i}: got {g:e}, want {w:e}, error {err:e} > {tol:e} · {:e}",
            scale[i]
        );
    }
}
