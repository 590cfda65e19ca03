//! `neurodyn demo`: the numerical core end to end on a built-in problem.

use super::CliError;
use crate::tape::check::{GradCheckOptions, gradcheck};
use crate::tape::{ParamId, ParamStore, Tape, Var};
use rand::RngExt;
use std::time::Instant;

/// Options of `neurodyn demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Gradient steps.
    #[arg(long, default_value_t = 1500)]
    pub steps: usize,
    /// Hidden width of the two tanh layers.
    #[arg(long, default_value_t = 32)]
    pub width: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

fn build(store: &mut ParamStore<f64>, width: usize, seed: u64) -> Vec<ParamId> {
    let mut rng = crate::rng::seeded(seed);
    let mut glorot = |name: &str, rows: usize, cols: usize| {
        let a = (6.0 / (rows + cols) as f64).sqrt();
        let v: Vec<f64> = (0..rows * cols)
            .map(|_| a * (2.0 * rng.random::<f64>() - 1.0))
            .collect();
        store
            .add(name, rows, cols, &v)
            .expect("internal: fresh names")
    };
    let w0 = glorot("W0", width, 1);
    let w1 = glorot("W1", width, width);
    let w2 = glorot("W2", 1, width);
    let b0 = store
        .add("b0", 1, width, &vec![0.0; width])
        .expect("internal");
    let b1 = store
        .add("b1", 1, width, &vec![0.0; width])
        .expect("internal");
    let b2 = store.add("b2", 1, 1, &[0.0]).expect("internal");
    vec![w0, b0, w1, b1, w2, b2]
}

fn loss(
    tape: &mut Tape<f64>,
    store: &ParamStore<f64>,
    ids: &[ParamId],
    x: &[f64],
    y: &[f64],
) -> Var {
    let n = x.len();
    let xv = tape.constant(n, 1, x);
    let yv = tape.constant(n, 1, y);
    let p: Vec<Var> = ids.iter().map(|&id| tape.param(store, id)).collect();
    let h = tape.linear(xv, p[0], Some(p[1]));
    let h = tape.tanh(h);
    let h = tape.linear(h, p[2], Some(p[3]));
    let h = tape.tanh(h);
    let out = tape.linear(h, p[4], Some(p[5]));
    let d = tape.sub(out, yv);
    let s = tape.square(d);
    tape.mean(s)
}

/// Runs the demo.
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    if args.width == 0 || args.width > 4096 {
        return Err(CliError::input(format!(
            "--width must be in 1..=4096, got {}",
            args.width
        )));
    }
    let n = 256;
    let x: Vec<f64> = (0..n)
        .map(|i| -3.0 + 6.0 * i as f64 / (n - 1) as f64)
        .collect();
    let y: Vec<f64> = x.iter().map(|v| (2.0 * v).sin()).collect();
    let mut store = ParamStore::new();
    let ids = build(&mut store, args.width, args.seed);
    outln!(
        "neurodyn demo: fit y = sin(2x) on [-3, 3] with a 1-{w}-{w}-1 tanh MLP ({} parameters)",
        store.len(),
        w = args.width
    );

    let report = gradcheck(
        &store,
        |t, s| loss(t, s, &ids, &x[..16], &y[..16]),
        &GradCheckOptions::default(),
    );
    outln!(
        "gradient check against central differences (f64): worst relative error {:.1e} ({})",
        report.worst(),
        if report.passed { "pass" } else { "FAIL" }
    );
    if !report.passed {
        return Err(CliError::failure(format!(
            "gradient check failed:\n{report}"
        )));
    }

    // Adam on the tape's gradients.
    let (lr, b1, b2, eps) = (3e-3, 0.9, 0.999, 1e-8);
    let mut m = vec![0.0; store.len()];
    let mut v = vec![0.0; store.len()];
    let mut tape = Tape::new();
    let mut grads = store.zeros_like();
    let var_y: f64 = y.iter().map(|t| t * t).sum::<f64>() / n as f64
        - (y.iter().sum::<f64>() / n as f64).powi(2);
    let start = Instant::now();
    let mut last = f64::NAN;
    for step in 1..=args.steps {
        tape.clear();
        let l = loss(&mut tape, &store, &ids, &x, &y);
        last = tape.scalar(l);
        if !last.is_finite() {
            return Err(CliError::failure(format!(
                "loss became {last} at step {step}"
            )));
        }
        tape.backward(l);
        grads.zero();
        tape.accumulate_param_grads(&mut grads);
        let (c1, c2) = (1.0 - b1_pow(b1, step), 1.0 - b1_pow(b2, step));
        for ((p, g), (mi, vi)) in store
            .as_mut_slice()
            .iter_mut()
            .zip(grads.as_slice())
            .zip(m.iter_mut().zip(v.iter_mut()))
        {
            *mi = b1 * *mi + (1.0 - b1) * g;
            *vi = b2 * *vi + (1.0 - b2) * g * g;
            *p -= lr * (*mi / c1) / ((*vi / c2).sqrt() + eps);
        }
        if step == 1 || step % (args.steps / 5).max(1) == 0 {
            outln!(
                "step {step:>6}  mse {last:.3e}  R² {:.4}",
                1.0 - last / var_y
            );
        }
    }
    let secs = start.elapsed().as_secs_f64();
    outln!(
        "trained {} steps in {:.2} s ({:.0} µs per forward+backward); final R² {:.4}",
        args.steps,
        secs,
        1e6 * secs / args.steps.max(1) as f64,
        1.0 - last / var_y
    );
    Ok(())
}

fn b1_pow(b: f64, t: usize) -> f64 {
    b.powi(t.min(i32::MAX as usize) as i32)
}
