//! Continuous normalizing flows: the divergence built from tape ops against finite differences,
//! Hutchinson's estimator, likelihood gradients against finite differences, entropy against
//! the closed form, flow matching on a Gaussian mixture.

use neurodyn::models::Activation;
use neurodyn::models::cnf::{
    Cnf, CnfConfig, FlowMatchingConfig, Trace, entropy, fit_flow_matching, log_likelihood,
    nll_on_tape, sample,
};
use neurodyn::solve::{Method, SolveOptions};
use neurodyn::tape::Tape;
use neurodyn::tape::check::{GradCheckOptions, gradcheck};
use rand::RngExt;

/// A CNF with random (not zero) weights everywhere.
fn random_cnf(dim: usize, cond: usize, hidden: Vec<usize>, act: Activation, seed: u64) -> Cnf<f64> {
    let mut cnf = Cnf::new(
        CnfConfig {
            dim,
            cond,
            hidden,
            activation: act,
        },
        &mut neurodyn::rng::seeded(seed),
    )
    .unwrap();
    let mut rng = neurodyn::rng::seeded(seed + 100);
    for v in cnf.store_mut().as_mut_slice() {
        *v = rng.random::<f64>() * 1.2 - 0.6;
    }
    cnf
}

/// `v` at one state (1 × d) and time t.
fn velocity(cnf: &Cnf<f64>, x: &[f64], c: &[f64], t: f64) -> Vec<f64> {
    let mut tape = Tape::new();
    let v = cnf.record(&mut tape);
    let xv = tape.constant(1, x.len(), x);
    let cv = (!c.is_empty()).then(|| tape.constant(1, c.len(), c));
    let (vel, _) = cnf.velocity_div(&mut tape, &v, xv, cv, t, &Trace::Exact);
    tape.value(vel).to_vec()
}

#[test]
fn exact_divergence_is_the_trace_of_the_jacobian() {
    for act in [
        Activation::Tanh,
        Activation::Silu,
        Activation::Softplus,
        Activation::Sigmoid,
    ] {
        for hidden in [vec![7], vec![5, 6], vec![4, 3, 5]] {
            for (d, c) in [(1, 0), (3, 0), (2, 2)] {
                let cnf = random_cnf(d, c, hidden.clone(), act, 7);
                let b = 3;
                let mut rng = neurodyn::rng::seeded(1);
                let x: Vec<f64> = (0..b * d)
                    .map(|_| rng.random::<f64>() * 2.0 - 1.0)
                    .collect();
                let cc: Vec<f64> = (0..b * c)
                    .map(|_| rng.random::<f64>() * 2.0 - 1.0)
                    .collect();
                let t = 0.37;
                let mut tape = Tape::new();
                let v = cnf.record(&mut tape);
                let xv = tape.constant(b, d, &x);
                let cv = (c > 0).then(|| tape.constant(b, c, &cc));
                let (_, div) = cnf.velocity_div(&mut tape, &v, xv, cv, t, &Trace::Exact);
                let div = tape.value(div).to_vec();
                for row in 0..b {
                    let xr = &x[row * d..(row + 1) * d];
                    let cr = &cc[row * c..(row + 1) * c];
                    let mut tr = 0.0;
                    for j in 0..d {
                        let h = 1e-5;
                        let (mut xp, mut xm) = (xr.to_vec(), xr.to_vec());
                        xp[j] += h;
                        xm[j] -= h;
                        tr += (velocity(&cnf, &xp, cr, t)[j] - velocity(&cnf, &xm, cr, t)[j])
                            / (2.0 * h);
                    }
                    assert!(
                        (div[row] - tr).abs() < 1e-8 * (1.0 + tr.abs()),
                        "{act:?} {hidden:?} d={d}: {} vs {tr}",
                        div[row]
                    );
                }
            }
        }
    }
}

#[test]
fn hutchinson_with_unit_probes_is_exact_and_unbiased_with_random_ones() {
    let d = 3;
    for hidden in [vec![6], vec![5, 4]] {
        let cnf = random_cnf(d, 0, hidden.clone(), Activation::Tanh, 3);
        let x = [0.3, -0.2, 0.5, 0.1, 0.9, -0.7];
        let div_with = |trace: &Trace<f64>| {
            let mut tape = Tape::new();
            let v = cnf.record(&mut tape);
            let xv = tape.constant(2, d, &x);
            let (_, div) = cnf.velocity_div(&mut tape, &v, xv, None, 0.5, trace);
            tape.value(div).to_vec()
        };
        let exact = div_with(&Trace::Exact);
        // the d unit vectors as probes: (1/d) tr J, through the tangent code path
        let unit: Vec<f64> = (0..d * d)
            .map(|k| if k % (d + 1) == 0 { 1.0 } else { 0.0 })
            .collect();
        let h = div_with(&Trace::Hutchinson(unit));
        for (e, h) in exact.iter().zip(&h) {
            assert!(
                (e - d as f64 * h).abs() < 1e-12,
                "{hidden:?}: {e} vs {}",
                d as f64 * h
            );
        }
        // Rademacher probes: unbiased (4000 probes, 4 standard errors)
        let mut rng = neurodyn::rng::seeded(5);
        let k = 4000;
        let probes: Vec<f64> = (0..k * d)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        let est = div_with(&Trace::Hutchinson(probes));
        for (e, h) in exact.iter().zip(&est) {
            assert!((e - h).abs() < 0.05 * (1.0 + e.abs()), "{e} vs {h}");
        }
    }
}

#[test]
fn nll_gradient_matches_finite_differences() {
    for (hidden, act) in [(vec![6], Activation::Tanh), (vec![5, 4], Activation::Silu)] {
        let cnf = random_cnf(2, 1, hidden, act, 11);
        let x = [0.4, -1.1, 1.3, 0.2, -0.5, 0.7];
        let c = [0.3, -0.8, 1.0];
        let opts = SolveOptions::fixed(Method::Rk4, 0.25);
        let report = gradcheck(
            cnf.store(),
            |tape, s| {
                let v = cnf.record_from(tape, s);
                nll_on_tape(tape, &cnf, &v, &x, &c, Trace::Exact, &opts).unwrap()
            },
            &GradCheckOptions::default(),
        );
        assert!(report.passed, "{report}");
    }
}

#[test]
fn entropy_of_samples_equals_their_negative_log_likelihood() {
    // H from forward trajectories (ℓ(1)) and −log q from backward solves of the same samples
    let cnf = random_cnf(2, 0, vec![8, 8], Activation::Tanh, 2);
    let opts = SolveOptions::fixed(Method::Rk4, 0.01);
    let (xs, logq) = sample(
        &cnf,
        200,
        &[],
        Trace::Exact,
        &opts,
        &mut neurodyn::rng::seeded(4),
    )
    .unwrap();
    let back = log_likelihood(&cnf, &xs, &[], Trace::Exact, &opts).unwrap();
    for (a, b) in logq.iter().zip(&back) {
        assert!((a - b).abs() < 1e-7, "{a} vs {b}");
    }
}

/// Draws from N(μ, L Lᵀ) in 2-D.
fn gaussian_2d(n: usize, seed: u64) -> (Vec<f64>, f64) {
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = neurodyn::rng::seeded(seed);
    let (mu, l) = ([1.0, -0.5], [1.2, 0.0, 0.5, 0.6]);
    let x = (0..n)
        .flat_map(|_| {
            let z: [f64; 2] = [
                StandardNormal.sample(&mut rng),
                StandardNormal.sample(&mut rng),
            ];
            [mu[0] + l[0] * z[0], mu[1] + l[2] * z[0] + l[3] * z[1]]
        })
        .collect();
    // H = log(2πe) + log|det L|
    let h = (2.0 * std::f64::consts::PI * std::f64::consts::E).ln() + (l[0] * l[3]).abs().ln();
    (x, h)
}

#[test]
fn entropy_of_a_flow_matched_gaussian_is_within_one_percent() {
    let (data, h_true) = gaussian_2d(4000, 1);
    let mut rng = neurodyn::rng::seeded(2);
    let mut cnf = Cnf::new(
        CnfConfig {
            dim: 2,
            hidden: vec![32, 32],
            ..Default::default()
        },
        &mut rng,
    )
    .unwrap();
    let cfg = FlowMatchingConfig {
        steps: 1500,
        batch: 256,
        lr: 5e-3,
        ot: true,
        ..Default::default()
    };
    fit_flow_matching(&mut cnf, &data, &[], &cfg, &mut rng, |_, _| {}).unwrap();
    let opts = SolveOptions::fixed(Method::Rk4, 0.05);
    let (h, se) = entropy(&cnf, 4000, &[], Trace::Exact, &opts, &mut rng).unwrap();
    let rel = (h - h_true).abs() / h_true.abs();
    eprintln!("entropy {h:.4} ± {se:.4}, closed form {h_true:.4}, relative error {rel:.2e}");
    assert!(rel < 0.01, "entropy {h} vs {h_true}");
}

/// A mixture of three Gaussians in 2-D: samples and the true log-density.
fn mixture(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    use rand_distr::{Distribution, StandardNormal};
    let comps = [([-1.5, 0.0], 0.5), ([1.5, 0.5], 0.4), ([0.0, -1.5], 0.6)];
    let mut rng = neurodyn::rng::seeded(seed);
    let mut x = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let (mu, s) = comps[rng.random_range(0..3)];
        let z: [f64; 2] = [
            StandardNormal.sample(&mut rng),
            StandardNormal.sample(&mut rng),
        ];
        x.extend_from_slice(&[mu[0] + s * z[0], mu[1] + s * z[1]]);
    }
    let logp = x
        .chunks_exact(2)
        .map(|p| {
            let dens: f64 = comps
                .iter()
                .map(|(mu, s)| {
                    let d2 = (p[0] - mu[0]).powi(2) + (p[1] - mu[1]).powi(2);
                    (-(d2) / (2.0 * s * s)).exp() / (2.0 * std::f64::consts::PI * s * s) / 3.0
                })
                .sum();
            dens.ln()
        })
        .collect();
    (x, logp)
}

/// Flow matching on a 2-D Gaussian mixture reaches a held-out NLL within 0.05 nats of the true
/// density's (a minute of training: run with `--ignored`).
#[test]
#[ignore]
fn flow_matching_on_a_mixture_reaches_the_true_nll() {
    let (train, _) = mixture(20_000, 1);
    let (test, logp) = mixture(4000, 2);
    let mut rng = neurodyn::rng::seeded(3);
    let mut cnf = Cnf::new(
        CnfConfig {
            dim: 2,
            hidden: vec![128, 128, 128],
            ..Default::default()
        },
        &mut rng,
    )
    .unwrap();
    let cfg = FlowMatchingConfig {
        steps: 20_000,
        batch: 256,
        lr: 2e-3,
        ot: true,
        ..Default::default()
    };
    let report = fit_flow_matching(&mut cnf, &train, &[], &cfg, &mut rng, |_, _| {}).unwrap();
    let opts = SolveOptions::adaptive(Method::Dopri5, 1e-6, 1e-8);
    let ll = log_likelihood(&cnf, &test, &[], Trace::Exact, &opts).unwrap();
    let nll = -ll.iter().sum::<f64>() / ll.len() as f64;
    let nll_true = -logp.iter().sum::<f64>() / logp.len() as f64;
    eprintln!(
        "flow matching loss {:.4}; held-out NLL {nll:.4}, true density {nll_true:.4}, gap {:.4} nats",
        report.final_loss(500),
        nll - nll_true
    );
    assert!(nll - nll_true < 0.05, "gap {}", nll - nll_true);
}

/// Flow matching with `average`: the parameters are the mean of the last iterates. With a
/// constant learning rate a 3-step run ends on the 4-step run's third iterate, so averaging
/// the last half of 4 steps gives the mean of the 3- and 4-step results; 0 keeps the last
/// iterate, and a fraction outside [0, 1] is named.
#[test]
fn flow_matching_averages_the_last_iterates() {
    let (data, _) = mixture(200, 3);
    let fresh = Cnf::new(
        CnfConfig {
            dim: 2,
            hidden: vec![8],
            ..Default::default()
        },
        &mut neurodyn::rng::seeded(4),
    )
    .unwrap();
    let run = |steps: usize, average: f64| {
        let mut cnf = fresh.clone();
        let cfg = FlowMatchingConfig {
            steps,
            batch: 16,
            schedule: neurodyn::train::Schedule::Constant,
            average,
            ..Default::default()
        };
        fit_flow_matching(
            &mut cnf,
            &data,
            &[],
            &cfg,
            &mut neurodyn::rng::seeded(5),
            |_, _| {},
        )
        .map(|_| cnf.store().as_slice().to_vec())
    };
    let (p3, p4) = (run(3, 0.0).unwrap(), run(4, 0.0).unwrap());
    let avg = run(4, 0.5).unwrap();
    assert_ne!(p3, p4);
    for ((a, x), y) in avg.iter().zip(&p3).zip(&p4) {
        assert!((a - 0.5 * (x + y)).abs() < 1e-12, "{a} vs {x}, {y}");
    }
    assert_eq!(run(4, 0.1).unwrap(), p4, "0.1 × 4 steps rounds to none");
    assert_eq!(run(4, 0.0).unwrap(), p4);
    let e = run(4, 1.5).unwrap_err();
    assert_eq!(e.field, "average", "{e}");
}
