//! `lowrank` cases (SPEC §7): a low-rank network driven by piecewise-constant inputs from a
//! shared initial state `x0`, MSE of the rates `φ(x(t_j))` against targets.

use super::super::CliError;
use super::json::{array, count, expect_shape, field, number, only_keys, string};
use super::json_text::Json as Value;
use super::timed::TimedData;
use super::{Case, Route};
use crate::models::lowrank::{LowRank, LowRankConfig, LowRankOde};
use crate::solve::{GradMode, solve_on_tape};
use crate::tape::{Grads, ParamStore, Tape, Var};
use std::collections::HashMap;

/// A parsed lowrank case.
pub struct LowRankCase {
    net: LowRank<f64>,
    shapes: HashMap<String, Vec<usize>>,
    data: TimedData,
}

impl LowRankCase {
    /// Parses and validates a case.
    ///
    /// # Errors
    /// One line naming the offending field.
    pub fn parse(v: &Value) -> Result<Self, CliError> {
        let md = field(v, "model", "case")?;
        only_keys(
            md,
            &["kind", "neurons", "rank", "inputs", "phi", "tau"],
            "model",
        )?;
        let neurons = count(field(md, "neurons", "model")?, "model.neurons")?;
        let rank = count(field(md, "rank", "model")?, "model.rank")?;
        let inputs = count(field(md, "inputs", "model")?, "model.inputs")?;
        let phi = string(field(md, "phi", "model")?, "model.phi")?;
        if phi != "tanh" {
            return Err(CliError::input(format!(
                "model.phi: unknown nonlinearity {phi:?} (expected \"tanh\")"
            )));
        }
        let tau = number(field(md, "tau", "model")?, "model.tau")?;
        let cfg = LowRankConfig {
            neurons,
            rank,
            inputs,
            tau,
            initial_states: 1,
        };
        cfg.validate()
            .map_err(|e| CliError::input(format!("model.{}: {}", e.field, e.reason)))?;
        let params = field(v, "params", "case")?
            .as_object()
            .ok_or_else(|| CliError::input("params: must be an object"))?;
        let mut wanted: Vec<(&str, Vec<usize>)> = vec![
            ("m", vec![neurons, rank]),
            ("n", vec![neurons, rank]),
            ("x0", vec![neurons]),
        ];
        if inputs > 0 {
            wanted.push(("input", vec![neurons, inputs]));
        }
        if let Some(k) = params.keys().find(|k| !wanted.iter().any(|(w, _)| w == k)) {
            return Err(CliError::input(format!(
                "params.{k}: not a parameter of a lowrank model (expected m, n, x0{})",
                if inputs > 0 { ", input" } else { "" }
            )));
        }
        let mut values: HashMap<&str, Vec<f64>> = HashMap::new();
        let mut shapes = HashMap::new();
        for (name, shape) in &wanted {
            let path = format!("params.{name}");
            let a = array(
                params
                    .get(name)
                    .ok_or_else(|| CliError::input(format!("{path}: missing")))?,
                &path,
            )?;
            expect_shape(&a, shape, &path)?;
            shapes.insert(name.to_string(), shape.clone());
            values.insert(name, a.values);
        }
        let mut net = LowRank::from_loadings(
            cfg,
            &values["m"],
            &values["n"],
            values.get("input").map_or(&[][..], |v| v.as_slice()),
        )
        .map_err(|e| CliError::input(format!("params.{}: {}", e.field, e.reason)))?;
        net.x0_mut().copy_from_slice(&values["x0"]);
        let data = TimedData::parse(v, inputs, neurons, "lowrank")?;
        Ok(Self { net, shapes, data })
    }

    /// The loss and gradient in `shards` batch shards ([`TimedData::sharded`]).
    fn grad_in_shards(
        &self,
        route: Route,
        shards: usize,
        grads: &mut Grads<f64>,
    ) -> Result<(f64, GradMode), String> {
        let d = &self.data;
        let n = self.net.config().neurons;
        // Normalised by the whole batch, whichever shard a term belongs to.
        let norm = 1.0 / (d.target_times.len() * d.batch * n) as f64;
        d.sharded(shards, grads, |s, budget, g| {
            let ode = LowRankOde::new(&self.net, &s.inputs, s.batch, s.steps, s.input_dt);
            let per = s.batch * n;
            s.gradient(
                &ode,
                |t, p| {
                    let x0 = p.vars.x0.expect("internal: the case network stores x0");
                    t.broadcast_rows(x0, s.batch)
                },
                |t, _, j, x| {
                    let rates = t.tanh(x);
                    let target = t.constant(s.batch, n, &s.targets[j * per..(j + 1) * per]);
                    let diff = t.sub(rates, target);
                    let sq = t.square(diff);
                    let s = t.sum(sq);
                    t.scale(s, norm)
                },
                route,
                budget,
                g,
            )
        })
    }
}

impl Case for LowRankCase {
    fn store(&self) -> &ParamStore<f64> {
        self.net.store()
    }
    fn shape_of(&self, name: &str) -> Vec<usize> {
        self.shapes.get(name).cloned().unwrap_or_default()
    }
    /// The solver's gradient by the route's mode, as for gnode cases.
    fn loss_and_grad(
        &self,
        route: Route,
        threads: usize,
        grads: &mut Grads<f64>,
    ) -> Option<Result<(f64, GradMode), String>> {
        let d = &self.data;
        let shards = d.shard_count(threads, self.net.store().len());
        Some(self.grad_in_shards(route, shards, grads))
    }
    fn loss(&self, tape: &mut Tape<f64>, store: &ParamStore<f64>) -> Result<Var, String> {
        let d = &self.data;
        let ode = LowRankOde::new(&self.net, &d.inputs, d.batch, d.steps, d.input_dt);
        let vars = self.net.record_from(tape, store);
        let p = ode.params_with(tape, vars);
        let x0 = vars.x0.expect("internal: the case network stores x0");
        let x0 = tape.broadcast_rows(x0, d.batch);
        let (saved, _, _) =
            solve_on_tape(tape, &ode, p, x0, 0.0, d.t_end(), &d.opts).map_err(|e| e.to_string())?;
        let stacked = tape.concat_rows(&saved);
        let rates = tape.tanh(stacked);
        let n = self.net.config().neurons;
        let t = tape.constant(d.target_times.len() * d.batch, n, &d.targets);
        let diff = tape.sub(rates, t);
        let s = tape.square(diff);
        Ok(tape.mean(s))
    }
}

#[cfg(test)]
mod tests {
    use super::super::timed::tests::{case_with_rows, shards_agree_with_one_tape};
    use super::*;

    #[test]
    fn gradients_in_shards_equal_the_one_tape_gradient() {
        let case = LowRankCase::parse(&case_with_rows("lowrank_rk4", 5)).unwrap();
        shards_agree_with_one_tape(&case, 5, |route, shards, g| {
            case.grad_in_shards(route, shards, g)
        });
    }
}
