//! `gnode` cases (SPEC §7): a gnODE driven by piecewise-constant inputs, MSE of the readout at
//! target times.

use super::super::CliError;
use super::json::{
    NumArray, array, boolean, count, expect_shape, field, number, only_keys, string,
};
use super::{Case, solver};
use crate::models::Activation;
use crate::models::gnode::{Gnode, GnodeConfig, GnodeOde, InitScheme, InitialState};
use crate::solve::{SolveOptions, solve_on_tape};
use crate::tape::{ParamStore, Tape, Var};
use serde_json::Value;
use std::collections::HashMap;

/// A parsed gnode case.
pub struct GnodeCase {
    model: Gnode<f64>,
    shapes: HashMap<String, Vec<usize>>,
    /// Inputs time-major `[K][B][I]`.
    inputs: Vec<f64>,
    batch: usize,
    steps: usize,
    input_dt: f64,
    /// Targets `[B][J][O]`.
    targets: Vec<f64>,
    target_times: Vec<f64>,
    opts: SolveOptions<f64>,
}

impl GnodeCase {
    /// Parses and validates a case.
    ///
    /// # Errors
    /// One line naming the offending field.
    pub fn parse(v: &Value) -> Result<Self, CliError> {
        let m = field(v, "model", "case")?;
        only_keys(
            m,
            &[
                "kind",
                "hidden",
                "inputs",
                "outputs",
                "flow",
                "activation",
                "gate",
                "tau",
            ],
            "model",
        )?;
        let n = count(field(m, "hidden", "model")?, "model.hidden")?;
        let i = count(field(m, "inputs", "model")?, "model.inputs")?;
        let o = count(field(m, "outputs", "model")?, "model.outputs")?;
        let flow = field(m, "flow", "model")?
            .as_array()
            .ok_or_else(|| CliError::input("model.flow: must be a list of widths"))?
            .iter()
            .enumerate()
            .map(|(k, w)| count(w, &format!("model.flow[{k}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let activation: Activation = string(field(m, "activation", "model")?, "model.activation")?
            .parse()
            .map_err(|e: crate::ConfigError| {
                CliError::input(format!("model.activation: {}", e.reason))
            })?;
        let gate = boolean(field(m, "gate", "model")?, "model.gate")?;
        let tau = number(field(m, "tau", "model")?, "model.tau")?;
        let cfg = GnodeConfig {
            hidden: n,
            inputs: i,
            outputs: o,
            flow,
            activation,
            gate,
            tau,
            initial_state: InitialState::Learned,
            init: InitScheme::Glorot,
        };
        cfg.validate()
            .map_err(|e| CliError::input(format!("model.{}: {}", e.field, e.reason)))?;
        // Parameters: every name of the model, with its shape.
        let params = field(v, "params", "case")?
            .as_object()
            .ok_or_else(|| CliError::input("params: must be an object"))?;
        let template = Gnode::<f64>::new(cfg.clone(), &mut crate::rng::seeded(0))
            .map_err(|e| CliError::input(e.to_string()))?;
        let mut values = Vec::new();
        let mut shapes = HashMap::new();
        for (name, val) in params {
            let id = template.store().id(name).ok_or_else(|| {
                CliError::input(format!(
                    "params.{name}: not a parameter of this {} model",
                    cfg.kind_name()
                ))
            })?;
            let info = template.store().info(id);
            let a = array(val, &format!("params.{name}"))?;
            let want: Vec<usize> = if info.rows == 1 && (name.ends_with(".b") || name == "h0") {
                vec![info.cols]
            } else {
                vec![info.rows, info.cols]
            };
            expect_shape(&a, &want, &format!("params.{name}"))?;
            let (r, c) = a.matrix_shape();
            shapes.insert(name.clone(), a.shape.clone());
            values.push((name.clone(), r, c, a.values));
        }
        let model = Gnode::from_params(cfg, &values)
            .map_err(|e| CliError::input(format!("{}: {}", e.field, e.reason)))?;
        // Data.
        let d = field(v, "data", "case")?;
        only_keys(
            d,
            &["inputs", "input_dt", "targets", "target_times"],
            "data",
        )?;
        let xin: NumArray = array(field(d, "inputs", "data")?, "data.inputs")?;
        let (b, k) = match xin.shape.as_slice() {
            [b, k, ii] if *ii == i && *b > 0 && *k > 0 => (*b, *k),
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
        // Loss and solver.
        let loss = string(field(v, "loss", "case")?, "loss")?;
        if loss != "mse" {
            return Err(CliError::input(format!(
                "loss: unknown loss {loss:?} for gnode (expected \"mse\")"
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
        // Inputs to time-major.
        let mut inputs = vec![0.0; k * b * i];
        for bb in 0..b {
            for kk in 0..k {
                for ii in 0..i {
                    inputs[(kk * b + bb) * i + ii] = xin.values[(bb * k + kk) * i + ii];
                }
            }
        }
        Ok(Self {
            model,
            shapes,
            inputs,
            batch: b,
            steps: k,
            input_dt,
            targets: targets.values,
            target_times: times.values,
            opts,
        })
    }
}

impl Case for GnodeCase {
    fn store(&self) -> &ParamStore<f64> {
        self.model.store()
    }
    fn shape_of(&self, name: &str) -> Vec<usize> {
        self.shapes.get(name).cloned().unwrap_or_default()
    }
    fn loss(&self, tape: &mut Tape<f64>, store: &ParamStore<f64>) -> Result<Var, String> {
        let ode = GnodeOde::new(
            &self.model,
            &self.inputs,
            self.batch,
            self.steps,
            self.input_dt,
        );
        let vars = self.model.record_from(tape, store);
        let p = ode.params_with(tape, vars.clone());
        let h0 = self.model.initial_state(tape, &vars, None, self.batch);
        let t_end = self.steps as f64 * self.input_dt;
        let (saved, _, _) =
            solve_on_tape(tape, &ode, p, h0, 0.0, t_end, &self.opts).map_err(|e| e.to_string())?;
        // readout of every saved state, arranged [J][B][O] to compare with targets [B][J][O]
        let o = self.model.config().outputs;
        let j = self.target_times.len();
        let stacked = tape.concat_rows(&saved);
        let y = self.model.readout(tape, &vars, stacked);
        let mut tgt = vec![0.0; j * self.batch * o];
        for bb in 0..self.batch {
            for jj in 0..j {
                for oo in 0..o {
                    tgt[(jj * self.batch + bb) * o + oo] = self.targets[(bb * j + jj) * o + oo];
                }
            }
        }
        let t = tape.constant(j * self.batch, o, &tgt);
        let d = tape.sub(y, t);
        let s = tape.square(d);
        Ok(tape.mean(s))
    }
}
