//! The data of ODE cases driven by piecewise-constant inputs and scored at target times (gnode
//! and lowrank, SPEC §7): `inputs [B][K][I]`, `input_dt`, `targets [B][J][O]`, `target_times
//! [J]`, `loss: "mse"` and a `solver`.

use super::super::CliError;
use super::json::{NumArray, array, expect_shape, field, number, only_keys, string};
use super::json_text::Json as Value;
use super::{Route, solver};
use crate::parallel::par_map;
use crate::solve::{Dynamics, GradMode, SolveOptions, fastest_grad_mode, solve_with_grad};
use crate::tape::{Grads, Tape, Var};

/// The most tape memory `--grad-mode auto` lets backprop take before it takes checkpointed
/// backprop instead. A one-shot process gets its tape as fresh pages, which the kernel zeroes
/// at a rate that varies from one run to the next and falls as the block grows (on the gnODE
/// cases, f64: the ≈ 106 MiB tape of N = 128 costs 20–28 ms of kernel time; the 425 MiB tape of
/// N = 512 made the process 3.25 s against checkpointed's 2.96 s, medians of 4, though backprop
/// is faster in a warm process).
pub const AUTO_TAPE_BYTES: usize = 256 << 20;

/// Fewest batch rows a shard of [`TimedData::sharded`] keeps (a register tile of the products
/// is 8 rows).
pub const SHARD_MIN_ROWS: usize = 8;

/// Least work per shard, in multiply–adds of the forward pass as [`TimedData::shard_count`]
/// estimates them (parameters × batch rows × right-hand sides): a shard below it would take
/// about a millisecond or less, where handing it to another thread gains too little to be worth
/// summation orders that differ from the single-tape gradient's.
pub const SHARD_MIN_WORK: f64 = 1e7;

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
    /// solver, by the route `route` picks (`auto`: backprop only if its tape fits in
    /// `tape_budget` bytes): `init` records the initial state, `term` the loss term of save `j`.
    /// Returns the loss and the mode that computed it.
    ///
    /// # Errors
    /// A solver failure, as a message.
    pub fn gradient<D: Dynamics<f64>>(
        &self,
        ode: &D,
        init: impl Fn(&mut Tape<f64>, &D::Params) -> Var,
        term: impl FnMut(&mut Tape<f64>, &D::Params, usize, Var) -> Var,
        route: Route,
        tape_budget: usize,
        grads: &mut Grads<f64>,
    ) -> Result<(f64, GradMode), String> {
        let (t_end, opts) = (self.t_end(), &self.opts);
        let mode = match route {
            Route::Auto => fastest_grad_mode(ode, &init, 0.0, t_end, opts, tape_budget)
                .map_err(|e| e.to_string())?,
            Route::Backprop => GradMode::Backprop,
            Route::Checkpointed => GradMode::Checkpointed,
        };
        solve_with_grad(ode, init, term, 0.0, t_end, opts, mode, grads)
            .map(|s| (s.loss, mode))
            .map_err(|e| e.to_string())
    }

    /// How many batch shards `threads` threads get for a model of `params` parameters: one per
    /// thread, as long as each keeps [`SHARD_MIN_ROWS`] rows and [`SHARD_MIN_WORK`]
    /// multiply–adds (parameters × its rows × right-hand sides of the fixed steps). The count
    /// depends on the case and `threads` only, never on the machine.
    ///
    /// Adaptive solves are never split: their step sizes come from an error norm over the
    /// whole batch, so shards would take other steps, and their gradients would differ from
    /// the whole batch's by the solver's tolerance rather than by rounding.
    pub fn shard_count(&self, threads: usize, params: usize) -> usize {
        let Some(dt) = self.opts.dt else {
            return 1;
        };
        let stages = self.opts.method.tableau().stages();
        let steps = (self.t_end() / dt).round().max(1.0);
        let work = params as f64 * self.batch as f64 * steps * stages as f64;
        let by_work = (work / SHARD_MIN_WORK).floor() as usize;
        threads.min(self.batch / SHARD_MIN_ROWS).min(by_work).max(1)
    }

    /// The loss and gradient (into `grads`, overwritten) summed over `shards` batch shards
    /// (consecutive rows, as equal as the batch allows), computed in parallel:
    /// `f(shard, tape_budget, grads)` computes one shard's (by [`Self::gradient`], with the
    /// loss normalised by the whole batch) with the shard's share of [`AUTO_TAPE_BYTES`]. The
    /// shards' losses and gradients are summed in shard order, so the result depends on
    /// `shards` only; one shard is the whole batch on one tape. Returns the loss and the first
    /// shard's gradient mode.
    ///
    /// # Errors
    /// The first shard's failure, in shard order.
    pub fn sharded(
        &self,
        shards: usize,
        grads: &mut Grads<f64>,
        f: impl Fn(&TimedData, usize, &mut Grads<f64>) -> Result<(f64, GradMode), String> + Sync,
    ) -> Result<(f64, GradMode), String> {
        let shards = shards.clamp(1, self.batch);
        grads.zero();
        if shards == 1 {
            return f(self, AUTO_TAPE_BYTES, grads);
        }
        let mut parts: Vec<(TimedData, Grads<f64>)> = Vec::with_capacity(shards);
        let mut lo = 0;
        for s in 0..shards {
            let rows = self.batch / shards + usize::from(s < self.batch % shards);
            parts.push((self.rows(lo, rows), Grads::zeros(grads.as_slice().len())));
            lo += rows;
        }
        let budget = AUTO_TAPE_BYTES / shards;
        let outs = par_map(&mut parts, |_, (d, g)| f(d, budget, g));
        let mut total = 0.0;
        let mut first = None;
        for (out, (_, g)) in outs.into_iter().zip(&parts) {
            let (loss, mode) = out?;
            grads.add_assign(g);
            total += loss;
            first.get_or_insert(mode);
        }
        Ok((total, first.expect("internal: at least one shard")))
    }

    /// Rows `lo..lo + rows` of the batch, with the same times, targets' times and solver.
    fn rows(&self, lo: usize, rows: usize) -> TimedData {
        let b = self.batch;
        let (i, o) = (
            self.inputs.len() / (self.steps * b),
            self.targets.len() / (self.target_times.len() * b),
        );
        // Time-major `[T][B][C]`: rows `lo..lo + rows` of every time.
        let take = |x: &[f64], c: usize| -> Vec<f64> {
            if c == 0 {
                return Vec::new();
            }
            x.chunks_exact(b * c)
                .flat_map(|at| &at[lo * c..(lo + rows) * c])
                .copied()
                .collect()
        };
        TimedData {
            inputs: take(&self.inputs, i),
            batch: rows,
            steps: self.steps,
            input_dt: self.input_dt,
            targets: take(&self.targets, o),
            target_times: self.target_times.clone(),
            opts: self.opts.clone(),
        }
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::cli::grad::{Case, json_text};
    use crate::solve::Method;

    /// A reference case of `tests/data/cases` with its batch grown to `rows` rows: row `r`
    /// copies row `r mod B` with its inputs and targets scaled by `1 + r/10`, so that no two
    /// rows are alike.
    pub(in crate::cli::grad) fn case_with_rows(name: &str, rows: usize) -> json_text::Json {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/cases")
            .join(format!("{name}.json"));
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for key in ["inputs", "targets"] {
            let old = v["data"][key].as_array().unwrap().clone();
            let grown = (0..rows)
                .map(|r| scaled(&old[r % old.len()], 1.0 + r as f64 / 10.0))
                .collect();
            v["data"][key] = serde_json::Value::Array(grown);
        }
        json_text::parse(&serde_json::to_string(&v).unwrap()).unwrap()
    }

    fn scaled(v: &serde_json::Value, s: f64) -> serde_json::Value {
        match v {
            serde_json::Value::Array(a) => a.iter().map(|x| scaled(x, s)).collect(),
            x => serde_json::json!(x.as_f64().unwrap() * s),
        }
    }

    /// Checks that `grad(route, shards, grads)` gives the loss and gradient of the case recorded
    /// on one tape, to rounding, for every shard count from 1 to the batch and both routes.
    pub(in crate::cli::grad) fn shards_agree_with_one_tape(
        case: &dyn Case,
        batch: usize,
        grad: impl Fn(Route, usize, &mut Grads<f64>) -> Result<(f64, GradMode), String>,
    ) {
        let store = case.store();
        let mut tape = Tape::new();
        let l = case.loss(&mut tape, store).unwrap();
        tape.backward(l);
        let mut want = store.zeros_like();
        tape.accumulate_param_grads(&mut want);
        let want_loss = tape.scalar(l);
        for route in [Route::Backprop, Route::Checkpointed] {
            for shards in 1..=batch {
                let mut g = store.zeros_like();
                // Stale values must not leak into the sum.
                g.as_mut_slice().fill(7.0);
                let (loss, _) = grad(route, shards, &mut g).unwrap();
                let what = format!("{route:?}, {shards} shards");
                assert!(
                    (loss - want_loss).abs() <= 1e-14 * want_loss.abs(),
                    "{what}: loss {loss} against {want_loss}"
                );
                let diff = (g.as_slice().iter().zip(want.as_slice()))
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>()
                    .sqrt();
                assert!(
                    diff <= 1e-13 * want.norm(),
                    "{what}: gradient off by {diff:e} (norm {:e})",
                    want.norm()
                );
            }
        }
    }

    fn data(batch: usize, opts: SolveOptions<f64>) -> TimedData {
        let (steps, j) = (4, 3);
        TimedData {
            inputs: (0..steps * batch * 2).map(|q| q as f64).collect(),
            batch,
            steps,
            input_dt: 0.5,
            targets: (0..j * batch).map(|q| -(q as f64)).collect(),
            target_times: vec![0.5, 1.0, 2.0],
            opts,
        }
    }

    #[test]
    fn shards_take_consecutive_rows_of_every_time() {
        let d = data(7, SolveOptions::fixed(Method::Rk4, 0.1));
        for shards in 1..=7 {
            let mut lo = 0;
            let (mut inputs, mut targets) = (vec![Vec::new(); 4], vec![Vec::new(); 3]);
            for s in 0..shards {
                let rows = 7 / shards + usize::from(s < 7 % shards);
                let part = d.rows(lo, rows);
                assert_eq!((part.batch, part.steps), (rows, 4));
                for (k, at) in part.inputs.chunks_exact(rows * 2).enumerate() {
                    inputs[k].extend_from_slice(at);
                }
                for (k, at) in part.targets.chunks_exact(rows).enumerate() {
                    targets[k].extend_from_slice(at);
                }
                lo += rows;
            }
            assert_eq!(lo, 7);
            assert_eq!(inputs.concat(), d.inputs, "{shards} shards");
            assert_eq!(targets.concat(), d.targets, "{shards} shards");
        }
        // A model without inputs (a lowrank case may have none)
        let none = TimedData {
            inputs: Vec::new(),
            ..data(7, SolveOptions::fixed(Method::Rk4, 0.1))
        };
        let part = none.rows(3, 2);
        assert!(part.inputs.is_empty());
        let want: Vec<f64> = (0..3)
            .flat_map(|j| none.targets[j * 7 + 3..j * 7 + 5].to_vec())
            .collect();
        assert_eq!(part.targets, want);
    }

    #[test]
    fn shard_count_needs_rows_and_work_for_every_shard() {
        // 4 bins of 0.5 at dt = 0.01: 200 RK4 steps, 800 right-hand sides
        let rk4 = SolveOptions::fixed(Method::Rk4, 0.01);
        let big = 1_000_000; // parameters: 8 · 10⁸ multiply–adds per row
        assert_eq!(data(32, rk4.clone()).shard_count(2, big), 2);
        assert_eq!(data(32, rk4.clone()).shard_count(1, big), 1);
        assert_eq!(data(32, rk4.clone()).shard_count(8, big), 4, "8 rows each");
        assert_eq!(data(15, rk4.clone()).shard_count(2, big), 1, "7 and 8 rows");
        assert_eq!(data(16, rk4.clone()).shard_count(2, big), 2);
        // 100 parameters × 32 rows × 800 = 2.56e6 multiply–adds: below one shard's worth
        assert_eq!(data(32, rk4.clone()).shard_count(2, 100), 1);
        // 1000 parameters: 2.56e7, two shards' worth
        assert_eq!(data(32, rk4).shard_count(4, 1000), 2);
        // adaptive steps depend on the whole batch: never split
        let dopri = SolveOptions::adaptive(Method::Dopri5, 1e-6, 1e-8);
        assert_eq!(data(32, dopri).shard_count(2, big), 1);
    }
}
