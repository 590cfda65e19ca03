//! The Concrete distribution: its log-density integrates to 1 over the simplex (K = 2, 3,
//! tanh-sinh quadrature), matches sampling (histogram and moments), stays finite at small
//! temperatures, and its tape forms agree with each other and with the plain one.

use neurodyn::models::gdm::{Concrete, gumbel_noise, straight_through};
use neurodyn::tape::ParamStore;
use neurodyn::tape::Tape;
use neurodyn::tape::check::{GradCheckOptions, gradcheck};

/// Tanh-sinh nodes on (0, 1): `(ln x, ln(1 − x), weight)`, computed in log space so that
/// nodes within 1e-300 of either end keep their precision.
fn tanh_sinh(h: f64, t_max: f64) -> Vec<(f64, f64, f64)> {
    let softplus = |v: f64| if v > 30.0 { v } else { v.exp().ln_1p() };
    let n = (t_max / h) as i64;
    (-n..=n)
        .map(|i| {
            let t = i as f64 * h;
            let u = std::f64::consts::FRAC_PI_2 * t.sinh();
            // x = 1/(1 + e^{−2u}),  1 − x = 1/(1 + e^{2u}),  dx/dt = 2 x (1 − x) (π/2) cosh t
            let (lx, l1x) = (-softplus(-2.0 * u), -softplus(2.0 * u));
            let w = 2.0 * h * std::f64::consts::FRAC_PI_2 * t.cosh() * (lx + l1x).exp();
            (lx, l1x, w)
        })
        .filter(|&(_, _, w)| w > 0.0 && w.is_finite())
        .collect()
}

#[test]
fn density_integrates_to_one_for_two_states() {
    let nodes = tanh_sinh(0.02, 4.5);
    for (tau, logits) in [
        (0.3, [0.4, -0.7]),
        (0.99, [0.0, 0.0]),
        (0.99, [2.0, -1.0]),
        (2.0, [-0.3, 1.1]),
    ] {
        let c = Concrete::new(tau).unwrap();
        let total: f64 = nodes
            .iter()
            .map(|&(lx, l1x, w)| w * c.log_density_log(&logits, &[lx, l1x]).exp())
            .sum();
        assert!(
            (total - 1.0).abs() < 1e-7,
            "K = 2, τ = {tau}, logits {logits:?}: ∫ p = {total}"
        );
    }
}

#[test]
fn density_integrates_to_one_for_three_states() {
    // z = (s, (1 − s) w, (1 − s)(1 − w)),  dz₁dz₂ = (1 − s) ds dw
    let nodes = tanh_sinh(0.04, 4.0);
    for (tau, logits) in [
        (0.5, [0.3, -0.4, 0.9]),
        (0.99, [0.0, 0.0, 0.0]),
        (1.5, [1.0, -1.0, 0.2]),
    ] {
        let c = Concrete::new(tau).unwrap();
        let mut total = 0.0;
        for &(ls, l1s, ws) in &nodes {
            for &(lw, l1w, ww) in &nodes {
                let lz = [ls, l1s + lw, l1s + l1w];
                total += ws * ww * (l1s + c.log_density_log(&logits, &lz)).exp();
            }
        }
        assert!(
            (total - 1.0).abs() < 1e-5,
            "K = 3, τ = {tau}, logits {logits:?}: ∫ p = {total}"
        );
    }
}

#[test]
fn samples_follow_the_density() {
    // K = 2: a histogram of z₁ against bin probabilities from quadrature (4σ per bin)
    let (tau, logits) = (0.7, [0.3, -0.5]);
    let c = Concrete::new(tau).unwrap();
    let mut rng = neurodyn::rng::seeded(11);
    let n = 100_000;
    let bins = 10;
    let mut counts = vec![0usize; bins];
    for _ in 0..n {
        let z = c.sample(&logits, &mut rng);
        counts[((z[0] * bins as f64) as usize).min(bins - 1)] += 1;
    }
    // bin integrals: tanh-sinh on each bin, with x and 1 − x both formed without cancellation
    let nodes = tanh_sinh(0.01, 4.5);
    let p: Vec<f64> = (0..bins)
        .map(|b| {
            let (lo, hi) = (b as f64 / bins as f64, (b + 1) as f64 / bins as f64);
            let wd = hi - lo;
            nodes
                .iter()
                .map(|&(lu, l1u, w)| {
                    let lx = (lo + wd * lu.exp()).ln();
                    let l1x = ((1.0 - hi) + wd * l1u.exp()).ln();
                    w * wd * c.log_density_log(&logits, &[lx, l1x]).exp()
                })
                .sum()
        })
        .collect();
    let sum: f64 = p.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5, "bin probabilities sum to {sum}");
    for b in 0..bins {
        let f = counts[b] as f64 / n as f64;
        let sd = (p[b] * (1.0 - p[b]) / n as f64).sqrt();
        assert!(
            (f - p[b]).abs() < 4.0 * sd + 1e-4,
            "bin {b}: sampled {f:.5}, density {:.5}",
            p[b]
        );
    }
}

#[test]
fn sample_moments_match_quadrature_for_three_states() {
    let (tau, logits) = (0.6, [0.5, -0.2, 0.1]);
    let c = Concrete::new(tau).unwrap();
    let nodes = tanh_sinh(0.04, 4.0);
    let mut mean = [0.0; 3];
    for &(ls, l1s, ws) in &nodes {
        for &(lw, l1w, ww) in &nodes {
            let lz = [ls, l1s + lw, l1s + l1w];
            let d = ws * ww * (l1s + c.log_density_log(&logits, &lz)).exp();
            for k in 0..3 {
                mean[k] += d * lz[k].exp();
            }
        }
    }
    let mut rng = neurodyn::rng::seeded(5);
    let n = 60_000;
    let (mut m, mut m2) = ([0.0; 3], [0.0; 3]);
    for _ in 0..n {
        let z = c.sample(&logits, &mut rng);
        for k in 0..3 {
            m[k] += z[k] / n as f64;
            m2[k] += z[k] * z[k] / n as f64;
        }
    }
    for k in 0..3 {
        let se = ((m2[k] - m[k] * m[k]) / n as f64).sqrt();
        assert!(
            (m[k] - mean[k]).abs() < 4.0 * se,
            "E[z_{k}]: sampled {:.5}, quadrature {:.5} (se {se:.1e})",
            m[k],
            mean[k]
        );
    }
}

#[test]
fn temperatures_must_be_positive_and_finite() {
    for tau in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = Concrete::new(tau).unwrap_err();
        assert_eq!(e.field, "tau", "{tau}");
        assert!(e.reason.contains("positive"), "{e}");
    }
}

/// Relaxed samples, densities on the tape and their gradients, for logits `a` (rows × K).
fn tape_density(tau: f64, a: &[f64], g: &[f64], k: usize) -> (f64, f64, f64, Vec<f64>, Vec<f64>) {
    let c = Concrete::new(tau).unwrap();
    let rows = a.len() / k;
    let mut t = Tape::<f64>::new();
    let av = t.variable(rows, k, a);
    let gv = t.constant(rows, k, g);
    let s = c.relaxed(&mut t, av, gv);
    let by_rows = c.log_density_rows(&mut t, av, s.log_z);
    let by_rows = t.sum(by_rows);
    let summed = c.log_density_sum(&mut t, av, s.log_z);
    let closed = c.log_density_self_sum(&mut t, av, &s, g);
    t.backward(summed);
    let g1 = t.grad(av).to_vec();
    t.backward(closed);
    let g2 = t.grad(av).to_vec();
    (
        t.scalar(by_rows),
        t.scalar(summed),
        t.scalar(closed),
        g1,
        g2,
    )
}

#[test]
fn tape_forms_agree_and_stay_finite_at_small_temperatures() {
    let k = 4;
    let mut rng = neurodyn::rng::seeded(3);
    let mut g = vec![0.0; 6 * k];
    gumbel_noise(&mut rng, &mut g);
    let a: Vec<f64> = (0..6 * k)
        .map(|i| ((i * 7) % 11) as f64 * 0.9 - 4.0)
        .collect();
    for tau in [1e-3, 0.05, 0.5, 0.99, 3.0] {
        let (r, s, c, g1, g2) = tape_density(tau, &a, &g, k);
        assert!(r.is_finite() && s.is_finite() && c.is_finite(), "τ = {tau}");
        assert!(
            (r - s).abs() <= 1e-9 * r.abs().max(1.0),
            "τ = {tau}: rows {r} vs sum {s}"
        );
        assert!(
            (c - s).abs() <= 1e-9 * s.abs().max(1.0),
            "τ = {tau}: closed {c} vs sum {s}"
        );
        for (x, y) in g1.iter().zip(&g2) {
            assert!(
                x.is_finite() && (x - y).abs() <= 1e-8 * x.abs().max(1.0),
                "τ = {tau}: {x} vs {y}"
            );
        }
        // against the plain density, row by row
        let cc = Concrete::new(tau).unwrap();
        let mut t = Tape::<f64>::new();
        let av = t.constant(6, k, &a);
        let gv = t.constant(6, k, &g);
        let smp = cc.relaxed(&mut t, av, gv);
        let lz = t.value(smp.log_z).to_vec();
        let plain: f64 = (0..6)
            .map(|r| cc.log_density_log(&a[r * k..(r + 1) * k], &lz[r * k..(r + 1) * k]))
            .sum();
        assert!(
            (plain - s).abs() <= 1e-9 * s.abs().max(1.0),
            "τ = {tau}: plain {plain} vs {s}"
        );
    }
    // at τ = 1e-3 some coordinates underflow to exactly 0 while ln z stays finite
    let c = Concrete::new(1e-3).unwrap();
    let mut t = Tape::<f64>::new();
    let av = t.constant(6, k, &a);
    let gv = t.constant(6, k, &g);
    let s = c.relaxed(&mut t, av, gv);
    assert!(t.value(s.z).contains(&0.0));
    assert!(t.value(s.log_z).iter().all(|v| v.is_finite()));
}

#[test]
fn density_gradients_match_finite_differences() {
    let k = 3;
    let mut rng = neurodyn::rng::seeded(9);
    let mut g = vec![0.0; 5 * k];
    gumbel_noise(&mut rng, &mut g);
    let mut store = ParamStore::<f64>::new();
    let a = store
        .add(
            "a",
            5,
            k,
            &(0..5 * k)
                .map(|i| (i as f64 * 0.37).sin())
                .collect::<Vec<_>>(),
        )
        .unwrap();
    let b = store
        .add(
            "b",
            5,
            k,
            &(0..5 * k)
                .map(|i| (i as f64 * 0.71).cos())
                .collect::<Vec<_>>(),
        )
        .unwrap();
    for tau in [0.2, 0.99] {
        let c = Concrete::new(tau).unwrap();
        // the posterior's own density and a second family's density at the same sample
        let report = gradcheck(
            &store,
            |t, s| {
                let (av, bv) = (t.param(s, a), t.param(s, b));
                let gv = t.constant(5, k, &g);
                let smp = c.relaxed(t, av, gv);
                let lq = c.log_density_self_sum(t, av, &smp, &g);
                let lp = c.log_density_sum(t, bv, smp.log_z);
                t.sub(lp, lq)
            },
            &GradCheckOptions::default(),
        );
        assert!(report.passed, "τ = {tau}: {report}");
    }
}

#[test]
fn straight_through_is_one_hot_forward_and_soft_backward() {
    let c = Concrete::new(0.5).unwrap();
    let mut t = Tape::<f64>::new();
    let a = t.variable(2, 3, &[0.1, 0.5, -0.2, 1.0, -1.0, 0.3]);
    let g = t.constant(2, 3, &[0.0; 6]);
    let s = c.relaxed(&mut t, a, g);
    let h = straight_through(&mut t, s.z);
    assert_eq!(t.value(h), &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
    let w = t.constant(2, 3, &[1.0, -2.0, 0.5, 0.3, 0.7, -1.0]);
    let hw = t.mul(h, w);
    let l = t.sum(hw);
    t.backward(l);
    let g_st = t.grad(a).to_vec();
    // the same loss on the soft sample
    let zw = t.mul(s.z, w);
    let l2 = t.sum(zw);
    t.backward(l2);
    assert_eq!(g_st, t.grad(a));
    assert!(g_st.iter().any(|v| v.abs() > 1e-3));
}
