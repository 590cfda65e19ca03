//! The ODE solvers: convergence orders, the SPEC §2.3 reference problems against scipy's RK45,
//! dense output, statistics, and every error variant.

use crate::problems::{ARENSTORF_T, ARENSTORF_Y0, Arenstorf, Linear, Lorenz, VanDerPol};
use neurodyn::solve::{Method, SolveError, SolveOptions, solve};

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Observed order on y' = Ay from errors at n and 2n steps: log2(e_n / e_2n).
#[test]
fn convergence_order_of_every_method() {
    let p = Linear::example();
    let y0 = [1.0, -0.5, 0.25];
    let t1 = 1.0;
    let exact = p.exact(t1, &y0);
    for m in Method::ALL {
        let order = m.tableau().order as f64;
        // step counts where the error is well above rounding and in the asymptotic regime
        let ns: &[usize] = match m {
            Method::Euler => &[200, 400, 800],
            Method::Midpoint => &[100, 200, 400],
            Method::Bosh3 => &[40, 80, 160],
            _ => &[10, 20, 40],
        };
        let errs: Vec<f64> = ns
            .iter()
            .map(|&n| {
                let opts = SolveOptions::fixed(m, t1 / n as f64);
                let sol = solve(&p, 1, &y0, 0.0, t1, &opts).unwrap();
                assert_eq!(sol.stats.steps, n, "{m:?}: step count");
                max_abs_diff(&sol.y_final, &exact)
            })
            .collect();
        for w in errs.windows(2) {
            let observed = (w[0] / w[1]).log2();
            assert!(
                (observed - order).abs() <= 0.3,
                "{m:?}: observed order {observed:.3}, expected {order} (errors {errs:?})"
            );
        }
    }
}

#[test]
fn fixed_step_statistics_are_exact() {
    let p = Linear::example();
    for (m, per_step) in [(Method::Euler, 1), (Method::Midpoint, 2), (Method::Rk4, 4)] {
        let sol = solve(
            &p,
            1,
            &[1.0, 0.0, 0.0],
            0.0,
            1.0,
            &SolveOptions::fixed(m, 0.01),
        )
        .unwrap();
        assert_eq!(sol.stats.steps, 100);
        assert_eq!(sol.stats.rejected, 0);
        assert_eq!(sol.stats.rhs_evals, 100 * per_step, "{m:?}");
    }
    // FSAL: 6 new evaluations per dopri5 step after the first
    let sol = solve(
        &p,
        1,
        &[1.0, 0.0, 0.0],
        0.0,
        1.0,
        &SolveOptions::fixed(Method::Dopri5, 0.1),
    )
    .unwrap();
    assert_eq!(sol.stats.rhs_evals, 1 + 6 * 10);
}

#[test]
fn saves_with_dense_output_are_accurate_everywhere() {
    let p = Linear::example();
    let y0 = [1.0, -0.5, 0.25];
    let save: Vec<f64> = (0..=40).map(|i| i as f64 * 0.05).collect();
    for m in [Method::Bosh3, Method::Dopri5, Method::Tsit5] {
        let tol = if m == Method::Bosh3 { 1e-6 } else { 1e-9 };
        let opts = SolveOptions {
            save_at: save.clone(),
            ..SolveOptions::adaptive(m, tol, tol * 1e-3)
        };
        let sol = solve(&p, 1, &y0, 0.0, 2.0, &opts).unwrap();
        // the saves are interpolated: they do not change the steps taken
        let plain = solve(
            &p,
            1,
            &y0,
            0.0,
            2.0,
            &SolveOptions {
                save_at: vec![],
                ..opts.clone()
            },
        )
        .unwrap();
        assert_eq!(sol.stats, plain.stats, "{m:?}: saving changed the steps");
        assert_eq!(sol.y_final, plain.y_final);
        let mut worst: f64 = 0.0;
        for (j, &t) in save.iter().enumerate() {
            worst = worst.max(max_abs_diff(sol.y(j), &p.exact(t, &y0)));
        }
        let bound = 100.0 * tol;
        assert!(worst < bound, "{m:?}: worst dense-output error {worst:e}");
    }
}

#[test]
fn backward_in_time_and_zero_length() {
    let p = Linear::example();
    let y0 = [1.0, -0.5, 0.25];
    let fwd = solve(
        &p,
        1,
        &y0,
        0.0,
        1.5,
        &SolveOptions::adaptive(Method::Tsit5, 1e-11, 1e-13),
    )
    .unwrap();
    let back = solve(
        &p,
        1,
        &fwd.y_final,
        1.5,
        0.0,
        &SolveOptions::adaptive(Method::Tsit5, 1e-11, 1e-13),
    )
    .unwrap();
    assert!(
        max_abs_diff(&back.y_final, &y0) < 1e-8,
        "{:?}",
        back.y_final
    );
    let same = solve(&p, 1, &y0, 0.7, 0.7, &SolveOptions::default()).unwrap();
    assert_eq!(same.y_final, y0);
    assert_eq!(same.stats.steps, 0);
}

#[test]
fn arenstorf_returns_to_start_after_one_period() {
    let opts = SolveOptions::adaptive(Method::Dopri5, 1e-10, 1e-10);
    let sol = solve(&Arenstorf, 1, &ARENSTORF_Y0, 0.0, ARENSTORF_T, &opts).unwrap();
    let err = max_abs_diff(&sol.y_final, &ARENSTORF_Y0);
    assert!(err < 1e-5, "Arenstorf orbit misses its start by {err:e}");
}

/// scipy 1.17.1 RK45 figures from `tests/data/solvers-scipy.txt`: (problem, tol) → (nfev, err).
fn scipy_rk45() -> Vec<(String, f64, usize, f64)> {
    let text = include_str!("../data/solvers-scipy.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains(" RK45 "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let val = |k: &str| {
                f.iter()
                    .find_map(|s| s.strip_prefix(k))
                    .unwrap()
                    .to_string()
            };
            (
                f[0].to_string(),
                val("tol=").parse().unwrap(),
                val("nfev=").parse().unwrap(),
                val("err=").parse().unwrap(),
            )
        })
        .collect()
}

fn reference_problem(name: &str, tol: f64) -> (neurodyn::solve::Solution<f64>, Vec<f64>) {
    let run = |m: Method, tol: f64| -> neurodyn::solve::Solution<f64> {
        let opts = SolveOptions::adaptive(m, tol, tol);
        match name {
            "arenstorf" => solve(&Arenstorf, 1, &ARENSTORF_Y0, 0.0, ARENSTORF_T, &opts),
            "vanderpol" => solve(&VanDerPol, 1, &[2.0, 0.0], 0.0, 20.0, &opts),
            _ => solve(&Lorenz, 1, &[1.0, 1.0, 1.0], 0.0, 2.0, &opts),
        }
        .unwrap()
    };
    // Truth: tsit5 and dopri5 at 1e-13 must agree with each other first.
    let (a, b) = (run(Method::Tsit5, 1e-13), run(Method::Dopri5, 1e-13));
    let scale = a.y_final.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    assert!(
        max_abs_diff(&a.y_final, &b.y_final) < 1e-9 * scale,
        "{name}: references disagree"
    );
    (run(Method::Dopri5, tol), a.y_final)
}

#[test]
fn dopri5_is_at_least_as_efficient_as_scipy_rk45() {
    let rows = scipy_rk45();
    assert_eq!(rows.len(), 12, "expected 3 problems × 4 tolerances");
    let mut report = String::new();
    for (name, tol, nfev, err) in rows {
        let (sol, truth) = reference_problem(&name, tol);
        let ours_err = max_abs_diff(&sol.y_final, &truth);
        let ours_nfev = sol.stats.rhs_evals;
        report += &format!(
            "{name:<10} tol {tol:.0e}: nfev {ours_nfev} vs scipy {nfev} ({:.2}×), error {ours_err:.2e} vs {err:.2e} ({:.2}×)\n",
            ours_nfev as f64 / nfev as f64,
            ours_err / err
        );
        assert!(
            ours_nfev as f64 <= 1.25 * nfev as f64,
            "{name} tol {tol}: too many evaluations\n{report}"
        );
        assert!(
            ours_err <= 4.0 * err,
            "{name} tol {tol}: error too large\n{report}"
        );
    }
    println!("{report}");
}

#[test]
fn invalid_options_are_typed_errors_naming_the_field() {
    let p = Linear::example();
    let y0 = [1.0, 0.0, 0.0];
    let cases: Vec<(SolveOptions<f64>, f64, f64, &str)> = vec![
        (
            SolveOptions {
                rtol: 0.0,
                ..Default::default()
            },
            0.0,
            1.0,
            "rtol",
        ),
        (
            SolveOptions {
                rtol: f64::NAN,
                ..Default::default()
            },
            0.0,
            1.0,
            "rtol",
        ),
        (
            SolveOptions {
                atol: -1.0,
                ..Default::default()
            },
            0.0,
            1.0,
            "atol",
        ),
        (SolveOptions::default(), f64::NAN, 1.0, "t0"),
        (SolveOptions::default(), 0.0, f64::INFINITY, "t1"),
        (
            SolveOptions {
                method: Method::Rk4,
                ..Default::default()
            },
            0.0,
            1.0,
            "dt",
        ),
        (SolveOptions::fixed(Method::Rk4, -0.1), 0.0, 1.0, "dt"),
        (
            SolveOptions {
                max_steps: 0,
                ..Default::default()
            },
            0.0,
            1.0,
            "max_steps",
        ),
        (
            SolveOptions {
                save_at: vec![0.5, 2.0],
                ..Default::default()
            },
            0.0,
            1.0,
            "save_at[1]",
        ),
        (
            SolveOptions {
                save_at: vec![0.5, 0.2],
                ..Default::default()
            },
            0.0,
            1.0,
            "save_at[1]",
        ),
        (
            SolveOptions {
                save_at: vec![1.5],
                ..Default::default()
            },
            1.0,
            0.0,
            "save_at[0]",
        ),
        (
            SolveOptions {
                save_at: vec![f64::NAN],
                ..Default::default()
            },
            0.0,
            1.0,
            "save_at[0]",
        ),
        (
            SolveOptions {
                jump_times: vec![f64::NAN],
                ..Default::default()
            },
            0.0,
            1.0,
            "jump_times[0]",
        ),
        (
            SolveOptions {
                h0: Some(0.0),
                ..Default::default()
            },
            0.0,
            1.0,
            "h0",
        ),
    ];
    for (opts, t0, t1, field) in cases {
        match solve(&p, 1, &y0, t0, t1, &opts) {
            Err(SolveError::Invalid(e)) => assert_eq!(e.field, field, "{e}"),
            other => panic!("expected an invalid-{field} error, got {other:?}"),
        }
    }
    // a y0 that does not split into rows
    assert!(matches!(
        solve(&p, 2, &y0, 0.0, 1.0, &SolveOptions::default()),
        Err(SolveError::Invalid(_))
    ));
}

/// A stiff problem (y' = −10⁶ (y − cos t)) exhausts max_steps with an explicit method, promptly.
#[test]
fn stiff_problem_hits_max_steps_promptly() {
    use neurodyn::solve::{Dynamics, Stage};
    use neurodyn::tape::{Tape, Var};
    struct Stiff;
    impl Dynamics<f64> for Stiff {
        type Params = ();
        fn record(&self, _: &mut Tape<f64>) {}
        fn rhs(&self, t: &mut Tape<f64>, _: &(), at: Stage<f64>, y: Var) -> Var {
            let d = t.add_scalar(y, -at.t.cos());
            t.scale(d, -1e6)
        }
    }
    let start = std::time::Instant::now();
    let opts = SolveOptions {
        max_steps: 2000,
        ..SolveOptions::adaptive(Method::Dopri5, 1e-8, 1e-8)
    };
    match solve(&Stiff, 1, &[0.0], 0.0, 100.0, &opts) {
        Err(SolveError::MaxSteps { t }) => assert!(t > 0.0 && t < 100.0, "t = {t}"),
        other => panic!("expected MaxSteps, got {other:?}"),
    }
    assert!(
        start.elapsed().as_secs_f64() < 5.0,
        "max_steps must stop the solver promptly"
    );
}

/// y' = y² from y(0) = 1 blows up at t = 1: adaptive steps shrink to nothing, fixed steps
/// overflow, and a NaN right-hand side is reported as such.
#[test]
fn blow_up_and_nan_are_reported() {
    use neurodyn::solve::{Dynamics, Stage};
    use neurodyn::tape::{Tape, Var};
    struct Blow;
    impl Dynamics<f64> for Blow {
        type Params = ();
        fn record(&self, _: &mut Tape<f64>) {}
        fn rhs(&self, t: &mut Tape<f64>, _: &(), _: Stage<f64>, y: Var) -> Var {
            t.square(y)
        }
    }
    let adaptive = solve(
        &Blow,
        1,
        &[1.0],
        0.0,
        2.0,
        &SolveOptions::adaptive(Method::Dopri5, 1e-8, 1e-8),
    );
    match adaptive {
        Err(SolveError::StepSizeTooSmall { t }) | Err(SolveError::NonFinite { t }) => {
            assert!((t - 1.0).abs() < 1e-3, "stopped at {t}")
        }
        other => panic!("expected a step-size or non-finite error near t = 1, got {other:?}"),
    }
    match solve(
        &Blow,
        1,
        &[1.0],
        0.0,
        2.0,
        &SolveOptions::fixed(Method::Rk4, 0.01),
    ) {
        Err(SolveError::NonFinite { t }) => assert!(t > 0.9 && t <= 2.0, "t = {t}"),
        other => panic!("expected NonFinite, got {other:?}"),
    }
    match solve(&Blow, 1, &[f64::NAN], 0.0, 1.0, &SolveOptions::default()) {
        Err(SolveError::NonFinite { t }) => assert_eq!(t, 0.0),
        other => panic!("expected NonFinite at t0, got {other:?}"),
    }
    struct Nan;
    impl Dynamics<f64> for Nan {
        type Params = ();
        fn record(&self, _: &mut Tape<f64>) {}
        fn rhs(&self, t: &mut Tape<f64>, _: &(), at: Stage<f64>, y: Var) -> Var {
            if at.t > 0.5 {
                let s = t.square(y);
                let s = t.add_scalar(s, 1.0);
                let s = t.neg(s);
                t.ln(s) // ln of a negative number: NaN
            } else {
                t.scale(y, -1.0)
            }
        }
    }
    for opts in [
        SolveOptions::adaptive(Method::Tsit5, 1e-6, 1e-9),
        SolveOptions::fixed(Method::Midpoint, 0.1),
    ] {
        match solve(&Nan, 1, &[1.0], 0.0, 1.0, &opts) {
            Err(SolveError::NonFinite { t }) => assert!((0.4..=0.7).contains(&t), "t = {t}"),
            other => panic!("expected NonFinite near t = 0.5, got {other:?}"),
        }
    }
}

/// RK4 with dt = 0.05 over [0, 10], saving every 0.2 and restarting every 0.5, takes exactly 200
/// steps in f32 too (0.2 / 0.05 rounds to 4.0000002 there, which must not add a step).
#[test]
fn fixed_steps_land_on_save_and_jump_times_in_f32_and_f64() {
    use neurodyn::workloads::Workload;
    use neurodyn::workloads::gnode::{GnodeGrad, GnodeGradSpec};
    let spec = GnodeGradSpec {
        n: 4,
        batch: 2,
        ..Default::default()
    };
    let a = GnodeGrad::<f32>::new(&spec).unwrap().run().unwrap();
    let b = GnodeGrad::<f64>::new(&spec).unwrap().run().unwrap();
    for o in [a, b] {
        assert_eq!((o.steps, o.rhs_evals), (200, 800));
    }
}
