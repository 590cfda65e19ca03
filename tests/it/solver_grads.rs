//! Gradients through the solvers: backprop against finite differences, checkpointed against
//! backprop (≤ 1e-12), adjoint against backprop (≤ 1e-6 at rtol 1e-9), for fixed and adaptive
//! methods with jump times; and the memory of the three modes on a 10 000-step solve.

use crate::problems::Toy;
use neurodyn::solve::{
    Controller, Dynamics, GradMode, GradSolution, Method, SolveOptions, solve_on_tape,
    solve_with_grad,
};
use neurodyn::tape::check::{GradCheckOptions, gradcheck};
use neurodyn::tape::{Grads, Tape, Var};

const T1: f64 = 1.0;

fn targets(toy: &Toy, j: usize) -> Vec<f64> {
    crate::common::uniform::<f64>(500 + j as u64, toy.batch * toy.n, -0.5, 0.5)
}

fn opts_for(m: Method, toy: &Toy, tol: f64) -> SolveOptions<f64> {
    let base = if m.is_adaptive() {
        SolveOptions::adaptive(m, tol, tol)
    } else {
        SolveOptions::fixed(m, 0.025)
    };
    SolveOptions {
        save_at: vec![0.25, 0.6, 0.75, T1],
        jump_times: toy.jump_times(),
        ..base
    }
}

fn term(tape: &mut Tape<f64>, toy: &Toy, j: usize, y: Var) -> Var {
    let tgt = tape.constant(toy.batch, toy.n, &targets(toy, j));
    let d = tape.sub(y, tgt);
    let s = tape.square(d);
    tape.mean(s)
}

fn run(toy: &Toy, opts: &SolveOptions<f64>, mode: GradMode) -> (GradSolution<f64>, Grads<f64>) {
    let mut g = toy.store.zeros_like();
    let sol = solve_with_grad(
        toy,
        |t, p| toy.init(t, p),
        |t, _, j, y| term(t, toy, j, y),
        0.0,
        T1,
        opts,
        mode,
        &mut g,
    )
    .unwrap();
    (sol, g)
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt();
    let n: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    d / n.max(1e-300)
}

/// Worst norm-wise relative difference over the parameters of two gradients.
fn rel_by_param(toy: &Toy, a: &Grads<f64>, b: &Grads<f64>) -> f64 {
    toy.store
        .ids()
        .map(|id| rel(a.get(&toy.store, id), b.get(&toy.store, id)))
        .fold(0.0, f64::max)
}

#[test]
fn backprop_equals_finite_differences_for_every_method() {
    let toy = Toy::new(4, 3, 4, 0.25, 1);
    for m in Method::ALL {
        let opts = opts_for(m, &toy, 1e-10);
        let report = gradcheck(
            &toy.store,
            |tape, s| {
                let toy = toy.with_store(s);
                let p = toy.record(tape);
                let y0 = toy.init(tape, &p);
                let (saved, _, _) = solve_on_tape(tape, &toy, p, y0, 0.0, T1, &opts).unwrap();
                let terms: Vec<(Var, f64)> = saved
                    .iter()
                    .enumerate()
                    .map(|(j, &y)| (term(tape, &toy, j, y), 1.0))
                    .collect();
                tape.lin_comb(&terms)
            },
            &GradCheckOptions::default(),
        );
        assert!(report.passed, "{m:?}: {report}");
        // the same gradient through solve_with_grad
        let (sol, g) = run(&toy, &opts, GradMode::Backprop);
        assert!((sol.loss - report.loss).abs() <= 1e-14 * report.loss.abs());
        let mut tape = Tape::new();
        let p = toy.record(&mut tape);
        let y0 = toy.init(&mut tape, &p);
        let (saved, _, _) = solve_on_tape(&mut tape, &toy, p, y0, 0.0, T1, &opts).unwrap();
        let terms: Vec<(Var, f64)> = saved
            .iter()
            .enumerate()
            .map(|(j, &y)| (term(&mut tape, &toy, j, y), 1.0))
            .collect();
        let l = tape.lin_comb(&terms);
        tape.backward(l);
        let mut g2 = toy.store.zeros_like();
        tape.accumulate_param_grads(&mut g2);
        assert!(rel_by_param(&toy, &g, &g2) <= 1e-14, "{m:?}");
        // ∂L/∂y0: the h0 gradient is the column sum over the batch of dy0
        let h0g = g.get(&toy.store, toy.h0);
        for (c, &hg) in h0g.iter().enumerate() {
            let s: f64 = (0..toy.batch).map(|r| sol.dy0[r * toy.n + c]).sum();
            assert!(
                (s - hg).abs() <= 1e-12 * (1.0 + s.abs()),
                "{m:?}: dy0 vs h0 gradient"
            );
        }
    }
}

#[test]
fn checkpointed_equals_backprop() {
    // A longer horizon so that the checkpoint schedule has many segments. Both controllers:
    // their step sequences differ (rejections right after a jump included, whose fresh first
    // stage the replay must evaluate with the new input).
    let toy = Toy::new(4, 3, 12, 0.25, 2);
    let runs = Method::ALL.into_iter().flat_map(|m| {
        [Controller::Integral, Controller::HairerPi]
            .into_iter()
            .filter(move |&c| m.is_adaptive() || c == Controller::Integral)
            .map(move |c| (m, c))
    });
    for (m, controller) in runs {
        let mut opts = opts_for(m, &toy, 1e-9);
        opts.controller = controller;
        opts.save_at = vec![0.3, 1.0, 1.7, 2.5, 3.0];
        if !m.is_adaptive() {
            opts.dt = Some(0.01);
        }
        let mut g1 = toy.store.zeros_like();
        let mut g2 = toy.store.zeros_like();
        let f = |t: &mut Tape<f64>, _: &_, j: usize, y: Var| term(t, &toy, j, y);
        let a = solve_with_grad(
            &toy,
            |t, p| toy.init(t, p),
            f,
            0.0,
            3.0,
            &opts,
            GradMode::Backprop,
            &mut g1,
        )
        .unwrap();
        let b = solve_with_grad(
            &toy,
            |t, p| toy.init(t, p),
            f,
            0.0,
            3.0,
            &opts,
            GradMode::Checkpointed,
            &mut g2,
        )
        .unwrap();
        assert!(
            b.stats.checkpoints > 2,
            "{m:?}: {} checkpoints for {} steps",
            b.stats.checkpoints,
            a.stats.steps
        );
        assert!(
            (a.loss - b.loss).abs() <= 1e-12 * a.loss.abs(),
            "{m:?}: loss {} vs {}",
            a.loss,
            b.loss
        );
        let r = rel_by_param(&toy, &g1, &g2).max(rel(&b.dy0, &a.dy0));
        assert!(
            r <= 1e-12,
            "{m:?} {controller:?}: checkpointed differs from backprop by {r:e}"
        );
    }
}

#[test]
fn adjoint_equals_backprop_to_solver_tolerance() {
    let toy = Toy::new(4, 3, 4, 0.25, 3);
    for m in [Method::Rk4, Method::Bosh3, Method::Dopri5, Method::Tsit5] {
        let mut opts = opts_for(m, &toy, 1e-9);
        if !m.is_adaptive() {
            opts.dt = Some(0.005);
        }
        let (a, g1) = run(&toy, &opts, GradMode::Backprop);
        let (b, g2) = run(&toy, &opts, GradMode::Adjoint);
        assert!(
            (a.loss - b.loss).abs() <= 1e-8 * a.loss.abs(),
            "{m:?}: loss {} vs {}",
            a.loss,
            b.loss
        );
        let r = rel_by_param(&toy, &g1, &g2).max(rel(&b.dy0, &a.dy0));
        assert!(r <= 1e-6, "{m:?}: adjoint differs from backprop by {r:e}");
    }
}

#[test]
fn gradient_modes_memory_on_10000_steps() {
    let toy = Toy::new(8, 4, 10, 1.0, 4);
    let opts = SolveOptions {
        save_at: vec![5.0, 10.0],
        jump_times: toy.jump_times(),
        ..SolveOptions::fixed(Method::Euler, 1e-3)
    };
    let f = |t: &mut Tape<f64>, _: &_, j: usize, y: Var| term(t, &toy, j, y);
    let mut mem = Vec::new();
    let mut grads = Vec::new();
    for mode in [
        GradMode::Backprop,
        GradMode::Checkpointed,
        GradMode::Adjoint,
    ] {
        let mut g = toy.store.zeros_like();
        let s = solve_with_grad(
            &toy,
            |t, p| toy.init(t, p),
            f,
            0.0,
            10.0,
            &opts,
            mode,
            &mut g,
        )
        .unwrap();
        assert_eq!(s.stats.steps, 10_000);
        mem.push(s.stats.peak_values);
        grads.push(g);
    }
    let state = toy.batch * toy.n;
    println!(
        "peak scalars: backprop {} ({} states), checkpointed {} ({} states), adjoint {} ({} states)",
        mem[0],
        mem[0] / state,
        mem[1],
        mem[1] / state,
        mem[2],
        mem[2] / state
    );
    assert!(mem[0] > 10_000 * state, "backprop keeps every step");
    assert!(
        mem[1] * 20 < mem[0],
        "checkpointed must store far fewer: {} vs {}",
        mem[1],
        mem[0]
    );
    assert!(
        mem[2] * 200 < mem[0],
        "adjoint must store far fewer: {} vs {}",
        mem[2],
        mem[0]
    );
    assert!(rel_by_param(&toy, &grads[1], &grads[0]) <= 1e-12);
}

/// `backprop_tape_bytes` from one recorded right-hand side against the memory backprop then
/// reports (`peak_values` scalars × 8 bytes), on the toy problem and on gnODEs (the fused
/// mGRU cell and an MLP flow), for every method at fixed steps (FSAL ones too): at most 2 %
/// above, and at most 5 % below (`peak_values` also counts the gradient buffers, which the
/// estimate leaves out); adaptive steps give no estimate.
/// `fastest_grad_mode` takes backprop only for products wide enough (≥ 32 multiply–adds per
/// stored value: the gnODE of N = 128, not of N = 32 or the toy) and only up to the estimate.
#[test]
fn backprop_memory_estimate_is_close_to_what_backprop_takes() {
    use neurodyn::models::Activation;
    use neurodyn::models::gnode::{Gnode, GnodeConfig, GnodeOde};
    use neurodyn::solve::{backprop_tape_bytes, fastest_grad_mode};

    fn check<D: Dynamics<f64>>(
        what: &str,
        d: &D,
        init: impl Fn(&mut Tape<f64>, &D::Params) -> Var + Copy,
        t1: f64,
        opts: &SolveOptions<f64>,
        mut g: neurodyn::tape::Grads<f64>,
        dense: bool,
    ) {
        let est = backprop_tape_bytes(d, init, 0.0, t1, opts)
            .unwrap()
            .expect("fixed steps give an estimate");
        let sol = solve_with_grad(
            d,
            init,
            |t: &mut Tape<f64>, _: &D::Params, _, y| t.sum(y),
            0.0,
            t1,
            opts,
            GradMode::Backprop,
            &mut g,
        );
        let actual = sol.unwrap().stats.peak_values * 8;
        let ratio = est as f64 / actual as f64;
        println!("{what}: estimate {est} B, backprop {actual} B, ratio {ratio:.3}");
        assert!(
            (0.95..=1.02).contains(&ratio),
            "{what}: {est} against {actual}"
        );
        let within = |max| fastest_grad_mode(d, init, 0.0, t1, opts, max).unwrap();
        let at_est = if dense {
            GradMode::Backprop
        } else {
            GradMode::Checkpointed
        };
        assert_eq!(within(est), at_est, "{what}");
        assert_eq!(within(usize::MAX), at_est, "{what}");
        assert_eq!(within(est - 1), GradMode::Checkpointed, "{what}");
        let adaptive = SolveOptions {
            save_at: opts.save_at.clone(),
            jump_times: opts.jump_times.clone(),
            ..SolveOptions::adaptive(Method::Dopri5, 1e-6, 1e-6)
        };
        assert_eq!(
            backprop_tape_bytes(d, init, 0.0, t1, &adaptive).unwrap(),
            None
        );
        assert_eq!(
            fastest_grad_mode(d, init, 0.0, t1, &adaptive, usize::MAX).unwrap(),
            GradMode::Checkpointed
        );
    }

    // 200 steps, so that the gradient buffers (a few dozen states' worth, counted in
    // `peak_values` but not estimated) are a small part
    let toy = Toy::new(5, 3, 4, 0.25, 7);
    for m in Method::ALL {
        let opts = SolveOptions {
            save_at: vec![0.25, 0.6, 0.75, T1],
            jump_times: toy.jump_times(),
            ..SolveOptions::fixed(m, 0.005)
        };
        let g = toy.store.zeros_like();
        check(
            &format!("toy {m:?}"),
            &toy,
            |t, p| toy.init(t, p),
            T1,
            &opts,
            g,
            false,
        );
    }
    let (b, k, dt) = (8, 6, 0.5);
    let shapes = [
        (32, vec![], true, false),
        (128, vec![], true, true),
        (32, vec![24, 24], true, false),
        (16, vec![16], false, false),
    ];
    for (hidden, flow, gate, dense) in shapes {
        let cfg = GnodeConfig {
            hidden,
            inputs: 2,
            outputs: 1,
            flow: flow.clone(),
            activation: Activation::Tanh,
            gate,
            ..Default::default()
        };
        let model = Gnode::<f64>::new(cfg, &mut neurodyn::rng::seeded(3)).unwrap();
        let x: Vec<f64> = crate::common::uniform(4, k * b * 2, -1.0, 1.0);
        let ode = GnodeOde::new(&model, &x, b, k, dt);
        let init = |t: &mut Tape<f64>, p: &<GnodeOde<f64> as Dynamics<f64>>::Params| {
            model.initial_state(t, &p.vars, None, b)
        };
        // a classic method, and an FSAL one at fixed steps
        for m in [Method::Rk4, Method::Dopri5] {
            let opts = SolveOptions {
                save_at: (1..=k).map(|q| q as f64 * dt).collect(),
                jump_times: ode.jump_times(),
                ..SolveOptions::fixed(m, 0.02)
            };
            let what = format!("gnode N = {hidden} flow {flow:?} gate {gate} {m:?}");
            let g = model.store().zeros_like();
            check(&what, &ode, init, k as f64 * dt, &opts, g, dense);
        }
    }
}

/// A fixed-step solve of a billion steps with `max_steps = 1000`: backprop reserves its tape
/// from the estimate, which counts at most `max_steps` steps, so the solve still ends with
/// `MaxSteps` instead of asking for terabytes up front.
#[test]
fn backprop_of_a_solve_past_max_steps_reserves_only_max_steps() {
    use neurodyn::solve::{SolveError, backprop_tape_bytes};
    let toy = Toy::new(3, 2, 1, 1.0, 11);
    let opts = SolveOptions {
        save_at: vec![T1],
        max_steps: 1000,
        ..SolveOptions::fixed(Method::Rk4, 1e-9)
    };
    let init = |t: &mut Tape<f64>, p: &_| toy.init(t, p);
    let bytes = backprop_tape_bytes(&toy, init, 0.0, T1, &opts)
        .unwrap()
        .unwrap();
    assert!(
        bytes < 1 << 24,
        "{bytes} bytes for 1000 steps of a 2×3 state"
    );
    let mut g = toy.store.zeros_like();
    let r = solve_with_grad(
        &toy,
        init,
        |t, _, j, y| term(t, &toy, j, y),
        0.0,
        T1,
        &opts,
        GradMode::Backprop,
        &mut g,
    );
    assert!(matches!(r, Err(SolveError::MaxSteps { .. })), "{r:?}");
}

/// A dynamics with its `rhs_comb` override hidden: every stage state is recorded.
struct StoredStages<'a, D>(&'a D);

impl<D: Dynamics<f64>> Dynamics<f64> for StoredStages<'_, D> {
    type Params = D::Params;
    fn record(&self, tape: &mut Tape<f64>) -> D::Params {
        self.0.record(tape)
    }
    fn rhs(
        &self,
        tape: &mut Tape<f64>,
        p: &D::Params,
        at: neurodyn::solve::Stage<f64>,
        y: Var,
    ) -> Var {
        self.0.rhs(tape, p, at, y)
    }
}

/// The gnODE's mGRU cell takes its stage states as combinations (`Dynamics::rhs_comb`)
/// without storing them: through the solver the same loss and gradients to the bit as with
/// every stage state recorded, for a classic method and for FSAL ones run at fixed steps, in
/// both tape-based modes; backprop's tape holds exactly `s − 1` states per RK4 step fewer (one
/// per stage past the first) and fewer for the others.
#[test]
fn gnode_stage_states_stay_off_the_tape_with_the_same_bits() {
    use neurodyn::models::gnode::{Gnode, GnodeConfig, GnodeOde};
    let (b, k, dt, hidden) = (8, 4, 0.5, 16);
    let cfg = GnodeConfig {
        hidden,
        inputs: 2,
        outputs: 1,
        flow: vec![],
        activation: neurodyn::models::Activation::Tanh,
        tau: 0.7,
        ..Default::default()
    };
    let model = Gnode::<f64>::new(cfg, &mut neurodyn::rng::seeded(5)).unwrap();
    let x: Vec<f64> = crate::common::uniform(6, k * b * 2, -1.0, 1.0);
    let ode = GnodeOde::new(&model, &x, b, k, dt);
    let init = |t: &mut Tape<f64>, p: &<GnodeOde<f64> as Dynamics<f64>>::Params| {
        model.initial_state(t, &p.vars, None, b)
    };
    let loss = |t: &mut Tape<f64>, _: &_, j: usize, y: Var| {
        let s = t.square(y);
        let m = t.mean(s);
        t.scale(m, 1.0 + j as f64)
    };
    for (method, step) in [
        (Method::Rk4, 0.05),
        (Method::Midpoint, 0.1),
        (Method::Dopri5, 0.1),
        (Method::Tsit5, 0.25),
    ] {
        let opts = SolveOptions {
            save_at: (1..=k).map(|q| q as f64 * dt).collect(),
            jump_times: ode.jump_times(),
            ..SolveOptions::fixed(method, step)
        };
        let t1 = k as f64 * dt;
        for mode in [GradMode::Backprop, GradMode::Checkpointed] {
            let mut g_fused = model.store().zeros_like();
            let fused =
                solve_with_grad(&ode, init, loss, 0.0, t1, &opts, mode, &mut g_fused).unwrap();
            let mut g_stored = model.store().zeros_like();
            let stored = StoredStages(&ode);
            let plain =
                solve_with_grad(&stored, init, loss, 0.0, t1, &opts, mode, &mut g_stored).unwrap();
            let what = format!("{method:?} {mode:?}");
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(fused.loss.to_bits(), plain.loss.to_bits(), "{what}: loss");
            assert_eq!(bits(&fused.dy0), bits(&plain.dy0), "{what}: ∂y0");
            assert_eq!(
                bits(g_fused.as_slice()),
                bits(g_stored.as_slice()),
                "{what}: ∂θ"
            );
            if mode == GradMode::Backprop {
                let (less, more) = (fused.stats.peak_values, plain.stats.peak_values);
                assert!(less < more, "{what}: {less} values against {more}");
                if method == Method::Rk4 {
                    // 3 states per step fewer on the tape; the gradient buffers (also in
                    // `peak_values`) of the queued weight products are a state wider each
                    let fewer = 3 * fused.stats.steps * b * hidden;
                    let saved = more - less;
                    assert!(
                        saved <= fewer && saved * 10 >= fewer * 9,
                        "{what}: {saved} of {fewer}"
                    );
                }
            }
        }
    }
}
