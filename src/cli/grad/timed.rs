//! The data of ODE cases driven by piecewise-constant inputs and scored at target times (gnode
//! and lowrank, SPEC §7): `inputs [B][K][I]`, `input_dt`, `targets [B][J][O]`, `target_times
//! [J]`, `loss: "mse"` and a `solver`.

use super::super::CliError;
use super::json::{NumArray, array, expect_shape, field, number, only_keys, string};
use super::json_text::Json as Value;
use super::{Route, solver};
use crate::solve::{Dynamics, GradMode, SolveOptions, fastest_grad_mode, solve_with_grad};
use crate::tape::{Grads, Tape, Var};

/// The most tape memory `--grad-mode auto` lets backprop take before it takes checkpointed
/// backprop instead. A one-shot process gets its tape as fresh pages, which the kernel zeroes
/// at a rate that varies from one run to the next and falls as the block grows (on the gnODE
/// cases, f64: the ≈ 106 MiB tape of N = 128 costs 20–28 ms of kernel time; the 425 MiB tape of
/// N = 512 made the process 3.25 s against checkpointed's 2.96 s, medians of 4, though backprop
/// is faster in a warm process).
pub const AUTO_TAPE_BYTES: usize = 256 << 20;

/// Parsed, validated timed data with solver options ready for a solve over `[0, KΔ]`.
pub struct TimedData {
    /// Inputs time-major `[K][B][I]`.
    pub inputs: Vec<f64>,
    /// Batch size B.
    pub batch: usize,
    /// Input bins K.
    pub steps: usize,
    /// Bin width Δ.
    pub input_dt: f64,
    /// Targets time-major `[J][B][O]` (the order of stacked saved states).
    pub targets: Vec<f64>,
    /// Target times.
    pub target_times: Vec<f64>,
    /// Solver options with saves at the target times and jumps at every bin boundary.
    pub opts: SolveOptions<f64>,
}

impl TimedData {
    /// The loss and gradient (into `grads`) of a solve over the case's time span with its
    /// solver, by the route `route` picks: `init` records the initial state, `term` the loss
    /// term of save `j`. Returns the loss and the mode that computed it.
    ///
    /// # Errors
    /// A solver failure, as a message.
    pub fn gradient<D: Dynamics<f64>>(
        &self,
        ode: &D,
        init: impl Fn(&mut Tape<f64>, &D::Params) -> Var,
        term: impl FnMut(&mut Tape<f64>, &D::Params, usize, Var) -> Var,
        route: Route,
        grads: &mut Grads<f64>,
    ) -> Result<(f64, GradMode), String> {
        let (t_end, opts) = (self.t_end(), &self.opts);
        let mode = match route {
            Route::Auto => fastest_grad_mode(ode, &init, 0.0, t_end, opts, AUTO_TAPE_BYTES)
                .map_err(|e| e.to_string())?,
            Route::Backprop => GradMode::Backprop,
            Route::Checkpointed => GradMode::Checkpointed,
        };
        solve_with_grad(ode, init, term, 0.0, t_end, opts, mode, grads)
            .map(|s| (s.loss, mode))
            .map_err(|e| e.to_string())
    }

    /// The end of the integration, `KΔ`.
    pub fn t_end(&self) -> f64 {
        self.steps as f64 * self.input_dt
    }

    /// Parses `data`, `loss` and `solver` of a case whose model has `i` inputs and `o` outputs
    /// (`kind` names the model in messages).
    ///
    /// # Errors
    /// One line naming the offending field.
    pub fn parse(v: &Value, i: usize, o: usize, kind: &str) -> Result<Self, CliError> {
        let d = field(v, "data", "case")?;
        only_keys(
            d,
            &["inputs", "input_dt", "targets", "target_times"],
            "data",
        )?;
        let xin: NumArray = array(field(d, "inputs", "data")?, "data.inputs")?;
        let (b, k) = match xin.shape.as_slice() {
            [b, k, ii] if *ii == i && *b > 0 && *k > 0 => (*b, *k),
            [b, k] if i == 0 && *b > 0 && *k > 0 => (*b, *k),
            _ => {
                return Err(CliError::input(format!(
                    "data.inputs: expected shape B×K×{i} with B, K ≥ 1, got {:?}",
                    xin.shape
                )));
            }
        };
        let input_dt = number(field(d, "input_dt", "data")?, "data.input_dt")?;
        if input_dt <= 0.0 {
            return Err(CliError::input("data.input_dt: must be positive"));
        }
        let times = array(field(d, "target_times", "data")?, "data.target_times")?;
        let j = match times.shape.as_slice() {
            [j] if *j > 0 => *j,
            _ => {
                return Err(CliError::input(
                    "data.target_times: must be a non-empty list",
                ));
            }
        };
        let t_end = k as f64 * input_dt;
        for (q, &t) in times.values.iter().enumerate() {
            if !(t > 0.0 && t <= t_end * (1.0 + 1e-12)) {
                return Err(CliError::input(format!(
                    "data.target_times[{q}]: {t} is outside (0, K·input_dt] = (0, {t_end}]"
                )));
            }
            if q > 0 && t <= times.values[q - 1] {
                return Err(CliError::input(format!(
                    "data.target_times[{q}]: times must be increasing"
                )));
            }
        }
        let targets = array(field(d, "targets", "data")?, "data.targets")?;
        expect_shape(&targets, &[b, j, o], "data.targets")?;
        let loss = string(field(v, "loss", "case")?, "loss")?;
        if loss != "mse" {
            return Err(CliError::input(format!(
                "loss: unknown loss {loss:?} for {kind} (expected \"mse\")"
            )));
        }
        let mut opts = solver(field(v, "solver", "case")?)?;
        if let Some(dt) = opts.dt {
            let divides =
                |x: f64| ((x / dt) - (x / dt).round()).abs() <= 1e-9 * (x / dt).abs().max(1.0);
            if !divides(input_dt) {
                return Err(CliError::input(format!(
                    "solver.dt: {dt} does not divide data.input_dt = {input_dt}"
                )));
            }
            if let Some(t) = times.values.iter().find(|&&t| !divides(t)) {
                return Err(CliError::input(format!(
                    "solver.dt: {dt} does not divide the target time {t}"
                )));
            }
        }
        let mut jumps: Vec<f64> = (1..k).map(|q| q as f64 * input_dt).collect();
        jumps.extend(times.values.iter().copied());
        opts.jump_times = jumps;
        opts.save_at = times.values.clone();
        opts.validate(0.0, t_end)
            .map_err(|e| CliError::input(format!("solver.{}: {}", e.field, e.reason)))?;
        Ok(Self {
            inputs: swap_01(&xin.values, b, k, i),
            batch: b,
            steps: k,
            input_dt,
            targets: swap_01(&targets.values, b, j, o),
            target_times: times.values,
            opts,
        })
    }
}

/// `[a][b][c]` → `[b][a][c]` (row-major).
fn swap_01(x: &[f64], a: usize, b: usize, c: usize) -> Vec<f64> {
    let mut out = vec![0.0; a * b * c];
    for p in 0..a {
        for q in 0..b {
            out[(q * a + p) * c..(q * a + p + 1) * c]
                .copy_from_slice(&x[(p * b + q) * c..(p * b + q + 1) * c]);
        }
    }
    out
}
