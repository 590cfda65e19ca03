//! The gnODE family: gradients against finite differences for random shapes and every solver,
//! the discrete form against the Euler step of the continuous one, the special cases, the
//! critical initialisation, and training end to end on a small task.

use neurodyn::models::gnode::{Gnode, GnodeConfig, GnodeOde, InitScheme, InitialState};
use neurodyn::models::{Activation, GnodeSeq, SeqBatch, SequenceModel, Targets, TimeMode};
use neurodyn::solve::{Dynamics, GradMode, Method, SolveOptions, solve_on_tape};
use neurodyn::tape::Tape;
use neurodyn::tape::check::{GradCheckOptions, gradcheck};
use proptest::prelude::*;

fn config(
    n: usize,
    i: usize,
    o: usize,
    flow: Vec<usize>,
    gate: bool,
    act: Activation,
) -> GnodeConfig {
    GnodeConfig {
        hidden: n,
        inputs: i,
        outputs: o,
        flow,
        activation: act,
        gate,
        tau: 0.7,
        ..Default::default()
    }
}

fn solver(m: Method) -> SolveOptions<f64> {
    // Adaptive: the gradient treats the accepted steps as constants, while finite differences
    // also see the step sequence change with the parameters (a jump of about the tolerance in
    // the loss when a step is accepted or rejected differently, divided by the stencil's step).
    // At 1e-10 that reached 2e-9 on a block whose gradient is 4e-4 (Bosh3, seed 210); 1e-12
    // keeps it below the check's 1e-6.
    if m.is_adaptive() {
        SolveOptions::adaptive(m, 1e-12, 1e-12)
    } else {
        SolveOptions::fixed(m, 0.05)
    }
}

/// MSE of the readout at the bin ends, through the solver, as a gradcheck closure.
fn continuous_loss(
    model: &Gnode<f64>,
    opts: &SolveOptions<f64>,
    x: &[f64],
    b: usize,
    k: usize,
    targets: &[f64],
) -> neurodyn::tape::check::GradCheckReport {
    let dt = 0.2;
    gradcheck(
        model.store(),
        |tape, s| {
            let ode = GnodeOde::new(model, x, b, k, dt);
            let vars = model.record_from(tape, s);
            let p = ode.params_with(tape, vars.clone());
            let h0 = model.initial_state(tape, &vars, None, b);
            let o = SolveOptions {
                save_at: (1..=k).map(|q| q as f64 * dt).collect(),
                jump_times: ode.jump_times(),
                ..opts.clone()
            };
            let (saved, _, _) = solve_on_tape(tape, &ode, p, h0, 0.0, k as f64 * dt, &o).unwrap();
            let st = tape.concat_rows(&saved);
            let y = model.readout(tape, &vars, st);
            let (r, c) = tape.shape(y);
            let t = tape.constant(r, c, &targets[..r * c]);
            let d = tape.sub(y, t);
            let sq = tape.square(d);
            tape.mean(sq)
        },
        // The five-point stencil: its rounding noise (~1e-13) stays below the tolerance on
        // parameter blocks with tiny gradients, where central differences' ~1e-10 does not
        // (seen: gate.W with ‖g‖ = 3.6e-6 at 3.2e-6 relative, Midpoint, seed 792).
        &GradCheckOptions::five_point(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]
    #[test]
    fn gnode_loss_gradient_matches_finite_differences_for_every_solver(
        n in 1usize..5, i in 0usize..3, o in 1usize..3, w in 1usize..7, depth in 0usize..3,
        gate: bool, act_i in 0usize..5, b in 1usize..4, seed in 0u64..1000,
    ) {
        let acts = [Activation::Relu, Activation::Tanh, Activation::Softplus, Activation::Silu, Activation::Sigmoid];
        // relu's kink makes finite differences unreliable; use smooth activations here
        let act = if acts[act_i] == Activation::Relu { Activation::Tanh } else { acts[act_i] };
        let cfg = config(n, i, o, vec![w; depth], gate, act);
        let model = Gnode::<f64>::new(cfg, &mut neurodyn::rng::seeded(seed)).unwrap();
        let k = 3;
        let x: Vec<f64> = crate::common::uniform(seed + 1, k * b * i, -1.0, 1.0);
        let targets: Vec<f64> = crate::common::uniform(seed + 2, k * b * o, -1.0, 1.0);
        for m in Method::ALL {
            let report = continuous_loss(&model, &solver(m), &x, b, k, &targets);
            prop_assert!(report.passed, "{m:?} {:?}: {report}", model.config());
        }
    }

    #[test]
    fn discrete_step_is_the_euler_step_of_the_continuous_model(
        n in 1usize..6, i in 0usize..3, w in 1usize..9, gate: bool, b in 1usize..4, seed in 0u64..1000,
    ) {
        let cfg = GnodeConfig { tau: 0.3, ..config(n, i, 2, vec![w, w], gate, Activation::Tanh) };
        let model = Gnode::<f64>::new(cfg, &mut neurodyn::rng::seeded(seed)).unwrap();
        let (k, dt) = (4, 0.1);
        let x: Vec<f64> = crate::common::uniform(seed + 3, k * b * i, -1.0, 1.0);
        // discrete: α = Δt/τ
        let seq = GnodeSeq { model: model.clone(), time: TimeMode::Discrete { alpha: dt / 0.3 } };
        let batch = SeqBatch { x: &x, batch: b, steps: k, inputs: i, dt, lengths: None };
        let mut t1 = Tape::new();
        let out = seq.states(&mut t1, &batch).unwrap();
        // continuous with one Euler step per bin
        let ode = GnodeOde::new(&model, &x, b, k, dt);
        let mut t2 = Tape::new();
        let p = ode.record(&mut t2);
        let h0 = model.initial_state(&mut t2, &p.vars, None, b);
        let opts = SolveOptions { save_at: (1..=k).map(|q| q as f64 * dt).collect(), jump_times: ode.jump_times(), ..SolveOptions::fixed(Method::Euler, dt) };
        let (saved, _, _) = solve_on_tape(&mut t2, &ode, p, h0, 0.0, k as f64 * dt, &opts).unwrap();
        for (a, c) in out.states.iter().zip(&saved) {
            for (u, v) in t1.value(*a).iter().zip(t2.value(*c)) {
                prop_assert!((u - v).abs() <= 1e-13 * (1.0 + u.abs()), "discrete {u} vs euler {v}");
            }
        }
    }
}

#[test]
fn special_cases_have_the_right_parameters() {
    let names = |cfg: GnodeConfig| -> Vec<String> {
        let m = Gnode::<f32>::new(cfg, &mut neurodyn::rng::seeded(0)).unwrap();
        m.store().infos().iter().map(|i| i.name.clone()).collect()
    };
    let mgru = config(4, 2, 1, vec![], true, Activation::Relu);
    assert_eq!(mgru.kind_name(), "mGRU");
    // With a gate, the first flow layer's and the gate's blocks are adjacent pairs (the stacked
    // product of the mGRU cell records each pair as one node).
    assert_eq!(
        names(mgru),
        [
            "flow.0.W",
            "gate.W",
            "flow.0.U",
            "gate.U",
            "flow.0.b",
            "gate.b",
            "readout.W",
            "readout.b",
            "h0"
        ]
    );
    let rnn = config(4, 2, 1, vec![], false, Activation::Relu);
    assert_eq!(rnn.kind_name(), "RNN");
    assert!(!names(rnn).iter().any(|n| n.starts_with("gate")));
    let node = config(4, 2, 1, vec![8, 8], false, Activation::Relu);
    assert_eq!(node.kind_name(), "nODE");
    assert_eq!(
        names(node)
            .iter()
            .filter(|n| n.starts_with("flow") && n.ends_with(".W"))
            .count(),
        3
    );
    let affine = GnodeConfig {
        initial_state: InitialState::FirstInput,
        ..config(3, 2, 1, vec![4], true, Activation::Relu)
    };
    assert!(names(affine).contains(&"h0.A".to_string()));
}

#[test]
fn critical_initialisation_puts_the_leading_eigenvalue_at_one() {
    for seed in 0..4 {
        for flow in [vec![], vec![64], vec![32, 32]] {
            let base = config(8, 2, 1, flow.clone(), true, Activation::Relu);
            let glorot = Gnode::<f64>::new(base.clone(), &mut neurodyn::rng::seeded(seed)).unwrap();
            let before =
                neurodyn::analysis::max_real_eigenvalue(&glorot.flow_jacobian(&[0.0, 0.0]), 8);
            let cfg = GnodeConfig {
                init: InitScheme::Critical,
                ..base
            };
            let m = Gnode::<f64>::new(cfg, &mut neurodyn::rng::seeded(seed)).unwrap();
            let lam = neurodyn::analysis::max_real_eigenvalue(&m.flow_jacobian(&[0.0, 0.0]), 8);
            // relu F (and tanh F when its leading eigenvalue is positive): λ_max → 1
            assert!(
                (lam - 1.0).abs() < 1e-6 || lam <= 0.0,
                "seed {seed} flow {flow:?}: λ_max {lam} (Glorot: {before})"
            );
        }
    }
}

#[test]
fn gradient_modes_agree_inside_the_sequence_model() {
    let cfg = config(3, 2, 2, vec![5], true, Activation::Tanh);
    let model = Gnode::<f64>::new(cfg, &mut neurodyn::rng::seeded(9)).unwrap();
    let (b, k) = (2, 5);
    let x: Vec<f64> = crate::common::uniform(4, k * b * 2, -1.0, 1.0);
    let y: Vec<f64> = crate::common::uniform(5, k * b * 2, -1.0, 1.0);
    let batch = SeqBatch {
        x: &x,
        batch: b,
        steps: k,
        inputs: 2,
        dt: 0.2,
        lengths: None,
    };
    let mut out = Vec::new();
    for grad in [
        GradMode::Backprop,
        GradMode::Checkpointed,
        GradMode::Adjoint,
    ] {
        let seq = GnodeSeq {
            model: model.clone(),
            time: TimeMode::Continuous {
                opts: SolveOptions::adaptive(Method::Tsit5, 1e-10, 1e-10),
                grad,
            },
        };
        let mut g = seq.store().zeros_like();
        let l = seq
            .loss_grad(&mut Tape::new(), &batch, Targets::Sequence(&y), &mut g)
            .unwrap();
        out.push((l, g));
    }
    for (l, g) in &out[1..] {
        assert!((l - out[0].0).abs() < 1e-8 * out[0].0);
        let d: f64 = g
            .as_slice()
            .iter()
            .zip(out[0].1.as_slice())
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(d < 1e-6 * out[0].1.norm(), "gradient modes differ by {d}");
    }
}

/// Same seed and thread count give bit-identical parameters; a different thread count may not
/// (the shard split changes the summation order), but the same count always does.
#[test]
fn training_is_bit_identical_for_the_same_seed_and_threads() {
    use neurodyn::tasks::MemoryTask;
    use neurodyn::train::{TrainConfig, run};
    let data = MemoryTask::FlipFlop3Var
        .generate::<f32, _>(40, 30, 0.01, &mut neurodyn::rng::seeded(1))
        .unwrap();
    let idx: Vec<usize> = (0..30).collect();
    let (tr, va) = (
        data.subset(&idx),
        data.subset(&(30..40).collect::<Vec<_>>()),
    );
    let train_once = |threads: usize| -> Vec<f32> {
        let cfg = config(4, 3, 3, vec![16, 16], true, Activation::Relu);
        let model = Gnode::<f32>::new(cfg, &mut neurodyn::rng::seeded(5)).unwrap();
        let mut seq = GnodeSeq {
            model,
            time: TimeMode::Discrete { alpha: 1.0 },
        };
        let tc = TrainConfig {
            epochs: 3,
            batch_size: 8,
            threads,
            seed: 11,
            ..Default::default()
        };
        run(&mut seq, &tr, &va, &tc, None, |_, _, _| {
            neurodyn::train::Control::Continue
        })
        .unwrap();
        seq.store().as_slice().to_vec()
    };
    for threads in [1, 2, 3] {
        let (a, b) = (train_once(threads), train_once(threads));
        assert!(a == b, "threads = {threads}: two runs differ");
    }
}
