//! The benchmark workloads compute what they claim: every gradient mode and shard count gives
//! the same loss and gradient, and the suites build.

use neurodyn::solve::{GradMode, Method};
use neurodyn::workloads::gnode::{GnodeGrad, GnodeGradSpec};
use neurodyn::workloads::{Workload, measure, suite};

fn grad_of(spec: &GnodeGradSpec) -> (f64, Vec<f64>) {
    let mut w = GnodeGrad::<f64>::new(spec).unwrap();
    let o = w.run().unwrap();
    assert!(o.loss.is_finite() && o.peak_values > 0 && o.rhs_evals > 0);
    (o.loss, w.grads().as_slice().to_vec())
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    d / b.iter().map(|y| y * y).sum::<f64>().sqrt()
}

#[test]
fn gradient_modes_and_shards_agree() {
    for method in [Method::Rk4, Method::Dopri5] {
        let base = GnodeGradSpec {
            n: 6,
            batch: 5,
            steps: 100,
            method,
            ..Default::default()
        };
        let (l0, g0) = grad_of(&base);
        assert!(g0.iter().any(|&g| g != 0.0));
        let chk = grad_of(&GnodeGradSpec {
            mode: GradMode::Checkpointed,
            ..base.clone()
        });
        assert!((chk.0 - l0).abs() <= 1e-12 * l0.abs() && rel(&chk.1, &g0) <= 1e-12);
        // The adjoint is exact to the solver's error: tight for RK4's fixed grid, the
        // tolerance's order for dopri5 (rtol 1e-5).
        let adj = grad_of(&GnodeGradSpec {
            mode: GradMode::Adjoint,
            ..base.clone()
        });
        let tol = if method == Method::Rk4 { 1e-6 } else { 1e-3 };
        assert!(rel(&adj.1, &g0) <= tol, "{method:?}: {}", rel(&adj.1, &g0));
        if method == Method::Rk4 {
            // Shards sum to the whole batch's gradient (the adaptive step sequence depends on
            // the shard's rows, so only the fixed grid is exact).
            let sh = grad_of(&GnodeGradSpec {
                threads: 2,
                ..base.clone()
            });
            assert!((sh.0 - l0).abs() <= 1e-12 * l0.abs() && rel(&sh.1, &g0) <= 1e-12);
        }
    }
}

#[test]
fn bad_specs_are_errors() {
    for spec in [
        GnodeGradSpec {
            n: 0,
            ..Default::default()
        },
        GnodeGradSpec {
            threads: 0,
            ..Default::default()
        },
        GnodeGradSpec {
            batch: 2,
            threads: 3,
            ..Default::default()
        },
    ] {
        assert!(GnodeGrad::<f32>::new(&spec).is_err(), "{spec:?}");
    }
    let e = suite("nonsense").unwrap_err();
    assert!(e.0.contains("peer"), "{e}");
}

#[test]
fn suites_build_and_the_quick_suite_runs() {
    for s in ["peer", "scaling", "peak", "models", "all"] {
        let v = suite(s).unwrap();
        assert!(!v.is_empty());
        let mut names: Vec<&str> = v.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "suite {s} has duplicate names");
    }
    for e in suite("quick").unwrap() {
        let mut w = e.build().unwrap();
        assert_eq!(w.name(), e.name);
        let t = measure(w.as_mut(), 0.0, 1).unwrap();
        assert!(t.median > 0.0 && t.output.loss.is_finite(), "{}", e.name);
    }
}

#[test]
fn model_workloads_agree_across_precisions_and_repeat_exactly() {
    use neurodyn::workloads::cnf::{CnfGrad, CnfStep};
    use neurodyn::workloads::gdm::{GdmGrad, GdmGradSpec};
    /// Two f64 runs are identical and the f32 loss is close.
    fn check(name: &str, w32: &mut dyn Workload, w64: &mut dyn Workload) {
        let a = w64.run().unwrap().loss;
        let b = w64.run().unwrap().loss;
        assert_eq!(a, b, "{name}: two runs differ");
        let c = w32.run().unwrap().loss;
        assert!(
            (c - a).abs() <= 1e-4 * a.abs(),
            "{name}: f32 {c} vs f64 {a}"
        );
    }
    for step in [CnfStep::FlowMatching, CnfStep::ExactNll] {
        let mut a = CnfGrad::<f32>::new(step, 16, 1).unwrap();
        let mut b = CnfGrad::<f64>::new(step, 16, 1).unwrap();
        check(&b.name(), &mut a, &mut b);
        let (ga, gb) = (a.grads().as_slice(), b.grads().as_slice());
        let ga: Vec<f64> = ga.iter().map(|&x| f64::from(x)).collect();
        assert!(gb.iter().all(|g| g.is_finite()) && gb.iter().any(|&g| g != 0.0));
        assert!(
            rel(&ga, gb) <= 1e-3,
            "{step:?}: gradients f32 vs f64 {}",
            rel(&ga, gb)
        );
    }
    let spec = GdmGradSpec {
        steps: 60,
        samples: 3,
        ..Default::default()
    };
    let mut a = GdmGrad::<f32>::new(&spec).unwrap();
    let mut b = GdmGrad::<f64>::new(&spec).unwrap();
    check(&b.name(), &mut a, &mut b);
    let ga: Vec<f64> = a.grads().as_slice().iter().map(|&x| f64::from(x)).collect();
    assert!(rel(&ga, b.grads().as_slice()) <= 1e-3);
    assert!(
        GdmGrad::<f64>::new(&GdmGradSpec {
            states: 1,
            ..spec.clone()
        })
        .is_err()
    );
    assert!(GdmGrad::<f64>::new(&GdmGradSpec { samples: 0, ..spec }).is_err());
    assert!(CnfGrad::<f64>::new(CnfStep::FlowMatching, 0, 0).is_err());
}

#[test]
fn checkpointed_segments_stay_within_the_cache_budget() {
    // N = 32, B = 32: one replayed RK4 step records ≈ 17 k scalars (139 KB in f64: per stage
    // the cell's output and its three local derivatives, then the new state). Segments of √n
    // steps would hold 16 of 400 steps (2.9 MB of tape and checkpoints, and as many gradient
    // buffers). The segment budget (1 MiB) stops them at 4 steps until the checkpoints
    // (≈ 70 states of 1024 scalars) take more memory than a segment; then one doubling to 8
    // balances the two (≈ 2.5 MB with the gradient buffers).
    let spec = GnodeGradSpec {
        n: 32,
        batch: 32,
        steps: 400,
        mode: GradMode::Checkpointed,
        ..Default::default()
    };
    let mut w = GnodeGrad::<f64>::new(&spec).unwrap();
    let o = w.run().unwrap();
    println!("checkpointed peak: {} scalars", o.peak_values);
    let bound = 2_800_000;
    assert!(
        o.peak_values * 8 <= bound,
        "tape and checkpoints hold {} scalars ({} bytes, bound {bound})",
        o.peak_values,
        o.peak_values * 8
    );
}
