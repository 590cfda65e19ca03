//! `gnode` cases (SPEC §7): a gnODE driven by piecewise-constant inputs, MSE of the readout at
//! target times.

use super::super::CliError;
use super::json::{array, boolean, count, expect_shape, field, number, only_keys, string};
use super::json_text::Json as Value;
use super::timed::TimedData;
use super::{Case, Route};
use crate::models::Activation;
use crate::models::gnode::{Gnode, GnodeConfig, GnodeOde, InitScheme, InitialState};
use crate::solve::{GradMode, solve_on_tape};
use crate::tape::{Grads, ParamStore, Tape, Var};
use crate::workloads::gnode::save_term;
use std::collections::HashMap;

/// A parsed gnode case.
pub struct GnodeCase {
    model: Gnode<f64>,
    shapes: HashMap<String, Vec<usize>>,
    data: TimedData,
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
        // The model with placeholder values: its parameter names and shapes check the case's,
        // then the case's values replace them.
        let mut model = Gnode::<f64>::new(cfg.clone(), &mut crate::rng::seeded(0))
            .map_err(|e| CliError::input(e.to_string()))?;
        let mut values = Vec::new();
        let mut shapes = HashMap::new();
        for (name, val) in params {
            let id = model.store().id(name).ok_or_else(|| {
                CliError::input(format!(
                    "params.{name}: not a parameter of this {} model",
                    cfg.kind_name()
                ))
            })?;
            let a = array(val, &format!("params.{name}"))?;
            let want = model.param_shape(id).expect("internal: the model's own id");
            expect_shape(&a, &want, &format!("params.{name}"))?;
            let (r, c) = a.matrix_shape();
            shapes.insert(name.clone(), a.shape.clone());
            values.push((name.clone(), r, c, a.values));
        }
        model
            .set_params(&values)
            .map_err(|e| CliError::input(format!("{}: {}", e.field, e.reason)))?;
        let data = TimedData::parse(v, i, o, "gnode")?;
        Ok(Self {
            model,
            shapes,
            data,
        })
    }

    /// The loss and gradient in `shards` batch shards ([`TimedData::sharded`]).
    fn grad_in_shards(
        &self,
        route: Route,
        shards: usize,
        grads: &mut Grads<f64>,
    ) -> Result<(f64, GradMode), String> {
        let d = &self.data;
        let o = self.model.config().outputs;
        // Normalised by the whole batch, whichever shard a term belongs to.
        let norm = 1.0 / (d.target_times.len() * d.batch * o) as f64;
        d.sharded(shards, grads, |s, budget, g| {
            let ode = GnodeOde::new(&self.model, &s.inputs, s.batch, s.steps, s.input_dt);
            let per = s.batch * o;
            s.gradient(
                &ode,
                |t, p| self.model.initial_state(t, &p.vars, None, s.batch),
                |t, p, j, h| {
                    save_term(
                        t,
                        &self.model,
                        p,
                        h,
                        &s.targets[j * per..(j + 1) * per],
                        norm,
                    )
                },
                route,
                budget,
                g,
            )
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
    /// The solver's gradient by the route's mode (backprop or checkpointed backprop: the same
    /// loss and gradient to rounding), with the loss terms at the saves (no stacked readout),
    /// summed over batch shards computed in parallel (`threads`, see
    /// [`TimedData::shard_count`]).
    fn loss_and_grad(
        &self,
        route: Route,
        threads: usize,
        grads: &mut Grads<f64>,
    ) -> Option<Result<(f64, GradMode), String>> {
        let d = &self.data;
        let shards = d.shard_count(threads, self.model.store().len());
        Some(self.grad_in_shards(route, shards, grads))
    }

    fn loss(&self, tape: &mut Tape<f64>, store: &ParamStore<f64>) -> Result<Var, String> {
        let d = &self.data;
        let ode = GnodeOde::new(&self.model, &d.inputs, d.batch, d.steps, d.input_dt);
        let vars = self.model.record_from(tape, store);
        let p = ode.params_with(tape, vars.clone());
        let h0 = self.model.initial_state(tape, &vars, None, d.batch);
        let (saved, _, _) =
            solve_on_tape(tape, &ode, p, h0, 0.0, d.t_end(), &d.opts).map_err(|e| e.to_string())?;
        // readout of every saved state, stacked [J][B][O] like the targets
        let stacked = tape.concat_rows(&saved);
        let y = self.model.readout(tape, &vars, stacked);
        let o = self.model.config().outputs;
        let t = tape.constant(d.target_times.len() * d.batch, o, &d.targets);
        let diff = tape.sub(y, t);
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
        let case = GnodeCase::parse(&case_with_rows("gnode_rk4_mlp", 5)).unwrap();
        shards_agree_with_one_tape(&case, 5, |route, shards, g| {
            case.grad_in_shards(route, shards, g)
        });
    }
}
