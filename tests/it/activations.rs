//! SIMD activations against the `std`-based scalar references: relative error ≤ 1e-6 (f32) and
//! ≤ 1e-13 (f64) for normal results, exact special values, and absolute ≤ MIN_POSITIVE for
//! subnormal results; at every length 0..=67 (all SIMD tails) and 255–257.

use crate::for_each_float;
use neurodyn::Float;
use neurodyn::dense::{Unary, map, map_inplace, reference};
use proptest::prelude::*;

const ALL: [Unary; 17] = [
    Unary::Exp,
    Unary::Ln,
    Unary::Ln1p,
    Unary::Expm1,
    Unary::Tanh,
    Unary::Sigmoid,
    Unary::Softplus,
    Unary::Silu,
    Unary::Relu,
    Unary::TanhPrime,
    Unary::SigmoidPrime,
    Unary::SiluPrime,
    Unary::TanhSecond,
    Unary::SigmoidSecond,
    Unary::SiluSecond,
    Unary::Square,
    Unary::Sqrt,
];

fn tol<T: Float>() -> f64 {
    if T::NAME == "f32" { 1e-6 } else { 1e-13 }
}

/// The magnitude the error is measured against: |f(x)|, or, for the three derivatives that
/// are sums of terms with a root in between, the size of those terms (their condition).
fn scale<T: Float>(f: Unary, x: T) -> f64 {
    let xf = x.to_f64();
    let r = reference::unary(f, xf).abs();
    let s = reference::sigmoid(xf);
    let sp = reference::unary(Unary::SigmoidPrime, xf);
    match f {
        Unary::SiluPrime => s.abs() + (xf * sp).abs(),
        Unary::SigmoidSecond => sp * (1.0 + 2.0 * s),
        Unary::SiluSecond => sp * (2.0 + xf.abs() * (1.0 + 2.0 * s)),
        _ => r,
    }
}

/// Checks one value; special values must match exactly.
fn check_one<T: Float>(f: Unary, x: T, got: T) {
    let want = reference::unary(f, x);
    let (g, w) = (got.to_f64(), want.to_f64());
    if w.is_nan() {
        assert!(
            g.is_nan(),
            "{f:?}({x:e}) [{}]: got {g:e}, want NaN",
            T::NAME
        );
        return;
    }
    if w.is_infinite() {
        assert_eq!(g, w, "{f:?}({x:e}) [{}]: got {g:e}, want {w:e}", T::NAME);
        return;
    }
    let err = (g - w).abs();
    let ok = err <= tol::<T>() * scale(f, x) || err <= T::MIN_POSITIVE.to_f64();
    assert!(
        ok,
        "{f:?}({x:e}) [{}]: got {g:e}, want {w:e}, rel error {:e}",
        T::NAME,
        err / w.abs()
    );
}

fn specials<T: Float>() -> Vec<T> {
    let mut v: Vec<f64> = vec![
        0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1e-3, -1e-3, 1e-8, -1e-8, 1e-30, -1e-30, 0.3, -0.3, 0.35,
        0.36, -0.35, 2.0, -2.0, 10.0, -10.0, 20.0, -20.0, 30.0, -30.0, 87.0, -87.0, 88.7, 89.0,
        -89.0, -103.0, -104.0, 700.0, -700.0, 709.0, 710.0, -709.0, -740.0, -745.0, -746.0, 1e4,
        -1e4, -1.278, -1.2785, 2.3994, -2.3994,
        // where e^{−|x|} (and e^{−2|x|}) leaves the subnormals: rounds to the least one, to 0
        -103.9, -103.97, -104.2, -104.5, -105.0, -745.1, -745.13, -745.2, -745.6, -745.7, -750.0,
        51.98, 52.1, 52.3, 372.55, 372.57, 372.6, 372.8, 375.0,
    ];
    let tiny = T::MIN_POSITIVE.to_f64();
    v.extend([
        tiny,
        -tiny,
        tiny / 1024.0,
        -tiny / 1024.0,
        tiny * 3.0,
        T::MAX.to_f64(),
        -T::MAX.to_f64(),
    ]);
    v.extend([f64::INFINITY, f64::NEG_INFINITY, f64::NAN]);
    v.into_iter().map(T::from_f64).collect()
}

fn check_slice<T: Float>(f: Unary, xs: &[T]) {
    let mut out = vec![T::ZERO; xs.len()];
    map(&mut out, xs, f);
    for (&x, &y) in xs.iter().zip(&out) {
        check_one(f, x, y);
    }
    let mut inplace = xs.to_vec();
    map_inplace(&mut inplace, f);
    for (a, b) in inplace.iter().zip(&out) {
        assert!(
            a.to_f64() == b.to_f64() || (a.is_nan() && b.is_nan()),
            "{f:?}: in-place differs"
        );
    }
}

#[test]
fn special_values_every_function_and_type() {
    for f in ALL {
        for_each_float!(T => {
            let xs = specials::<T>();
            check_slice::<T>(f, &xs);
            // every value also alone (a pure tail) and at the start of a full vector
            for &x in &xs {
                check_slice::<T>(f, &[x]);
                let mut v = vec![T::from_f64(0.25); 40];
                v[0] = x;
                v[39] = x;
                check_slice::<T>(f, &v);
            }
        });
    }
}

#[test]
fn every_tail_length() {
    for f in ALL {
        for_each_float!(T => {
            for n in (0..=67).chain([255, 256, 257]) {
                let xs: Vec<T> = crate::common::uniform(n as u64, n, -12.0, 12.0);
                let xs: Vec<T> = if matches!(f, Unary::Ln | Unary::Sqrt) {
                    xs.iter().map(|x| x.abs() + T::from_f64(1e-3)).collect()
                } else if f == Unary::Ln1p {
                    xs.iter().map(|x| x.abs() - T::from_f64(0.9)).collect()
                } else {
                    xs
                };
                check_slice::<T>(f, &xs);
            }
        });
    }
}

fn wide_range() -> impl Strategy<Value = f64> {
    // sign · 10^e with e in [−40, 3]: tiny to large, both signs.
    (any::<bool>(), -40.0f64..3.0)
        .prop_map(|(neg, e)| if neg { -(10f64.powf(e)) } else { 10f64.powf(e) })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_values_f64(xs in proptest::collection::vec(wide_range(), 0..70)) {
        for f in ALL {
            let xs: Vec<f64> = if matches!(f, Unary::Ln | Unary::Sqrt) {
                xs.iter().map(|x| x.abs()).collect()
            } else { xs.clone() };
            check_slice::<f64>(f, &xs);
        }
    }

    #[test]
    fn random_values_f32(xs in proptest::collection::vec(wide_range(), 0..70)) {
        for f in ALL {
            let xs: Vec<f32> = xs.iter().map(|&x| {
                let x = if matches!(f, Unary::Ln | Unary::Sqrt) { x.abs() } else { x };
                x as f32
            }).collect();
            check_slice::<f32>(f, &xs);
        }
    }
}
