//! `cnf` cases (SPEC §7): the flow-matching loss of given pairs and times, or the exact negative
//! log-likelihood of data through a fixed-step backward solve with the divergence.

use super::super::CliError;
use super::json::{NumArray, array, expect_shape, field, only_keys, string};
use super::json_text::Json as Value;
use super::{Case, solver};
use crate::models::Activation;
use crate::models::cnf::{Cnf, CnfConfig, Trace, flow_matching_loss, nll_on_tape};
use crate::solve::SolveOptions;
use crate::tape::{ParamStore, Tape, Var};
use std::collections::HashMap;

/// What a cnf case computes.
enum CnfLoss {
    FlowMatching {
        x0: Vec<f64>,
        x1: Vec<f64>,
        t: Vec<f64>,
    },
    Nll {
        x: Vec<f64>,
        opts: SolveOptions<f64>,
    },
}

/// A parsed cnf case.
pub struct CnfCase {
    cnf: Cnf<f64>,
    shapes: HashMap<String, Vec<usize>>,
    loss: CnfLoss,
}

impl CnfCase {
    /// Parses and validates a case.
    ///
    /// # Errors
    /// One line naming the offending field.
    pub fn parse(v: &Value) -> Result<Self, CliError> {
        let md = field(v, "model", "case")?;
        only_keys(md, &["kind", "dim", "hidden", "activation"], "model")?;
        let dim = super::json::count(field(md, "dim", "model")?, "model.dim")?;
        let hidden = field(md, "hidden", "model")?
            .as_array()
            .ok_or_else(|| CliError::input("model.hidden: must be a list of widths"))?
            .iter()
            .enumerate()
            .map(|(k, w)| super::json::count(w, &format!("model.hidden[{k}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let activation: Activation = string(field(md, "activation", "model")?, "model.activation")?
            .parse()
            .map_err(|e: crate::ConfigError| {
                CliError::input(format!("model.activation: {}", e.reason))
            })?;
        let cfg = CnfConfig {
            dim,
            cond: 0,
            hidden,
            activation,
        };
        cfg.validate()
            .map_err(|e| CliError::input(format!("model.{}: {}", e.field, e.reason)))?;
        let template = Cnf::<f64>::new(cfg.clone(), &mut crate::rng::seeded(0))
            .map_err(|e| CliError::input(e.to_string()))?;
        let params = field(v, "params", "case")?
            .as_object()
            .ok_or_else(|| CliError::input("params: must be an object"))?;
        let mut values = Vec::new();
        let mut shapes = HashMap::new();
        for (name, val) in params {
            let id = template.store().id(name).ok_or_else(|| {
                CliError::input(format!("params.{name}: not a parameter of this cnf model"))
            })?;
            let info = template.store().info(id);
            let a = array(val, &format!("params.{name}"))?;
            let want = if name.ends_with(".b") {
                vec![info.cols]
            } else {
                vec![info.rows, info.cols]
            };
            expect_shape(&a, &want, &format!("params.{name}"))?;
            let (r, c) = a.matrix_shape();
            shapes.insert(name.clone(), a.shape.clone());
            values.push((name.clone(), r, c, a.values));
        }
        let cnf = Cnf::from_params(cfg, &values)
            .map_err(|e| CliError::input(format!("{}: {}", e.field, e.reason)))?;
        let d = field(v, "data", "case")?;
        let rows = |a: &NumArray, path: &str| -> Result<usize, CliError> {
            match a.shape.as_slice() {
                [b, c] if *c == dim && *b > 0 => Ok(*b),
                _ => Err(CliError::input(format!(
                    "{path}: expected shape B×{dim} with B ≥ 1, got {:?}",
                    a.shape
                ))),
            }
        };
        let loss = match string(field(v, "loss", "case")?, "loss")? {
            "flow_matching" => {
                only_keys(d, &["x0", "x1", "t"], "data")?;
                if v.get("solver").is_some() {
                    return Err(CliError::input(
                        "solver: flow matching needs no solver (remove the key)",
                    ));
                }
                let x0 = array(field(d, "x0", "data")?, "data.x0")?;
                let b = rows(&x0, "data.x0")?;
                let x1 = array(field(d, "x1", "data")?, "data.x1")?;
                expect_shape(&x1, &[b, dim], "data.x1")?;
                let t = array(field(d, "t", "data")?, "data.t")?;
                expect_shape(&t, &[b], "data.t")?;
                if let Some(k) = t.values.iter().position(|s| !(0.0..=1.0).contains(s)) {
                    return Err(CliError::input(format!(
                        "data.t[{k}]: times must lie in [0, 1]"
                    )));
                }
                CnfLoss::FlowMatching {
                    x0: x0.values,
                    x1: x1.values,
                    t: t.values,
                }
            }
            "nll" => {
                only_keys(d, &["x"], "data")?;
                let x = array(field(d, "x", "data")?, "data.x")?;
                rows(&x, "data.x")?;
                let opts = solver(field(v, "solver", "case")?)?;
                if opts.dt.is_none() {
                    return Err(CliError::input(
                        "solver: the nll loss needs a fixed-step solver with dt",
                    ));
                }
                opts.validate(1.0, 0.0)
                    .map_err(|e| CliError::input(format!("solver.{}: {}", e.field, e.reason)))?;
                CnfLoss::Nll { x: x.values, opts }
            }
            other => {
                return Err(CliError::input(format!(
                    "loss: unknown loss {other:?} for cnf (expected \"flow_matching\" or \"nll\")"
                )));
            }
        };
        Ok(Self { cnf, shapes, loss })
    }
}

impl Case for CnfCase {
    fn store(&self) -> &ParamStore<f64> {
        self.cnf.store()
    }
    fn shape_of(&self, name: &str) -> Vec<usize> {
        self.shapes.get(name).cloned().unwrap_or_default()
    }
    fn loss(&self, tape: &mut Tape<f64>, store: &ParamStore<f64>) -> Result<Var, String> {
        let vars = self.cnf.record_from(tape, store);
        match &self.loss {
            CnfLoss::FlowMatching { x0, x1, t } => {
                Ok(flow_matching_loss(tape, &self.cnf, &vars, x0, x1, t, &[]))
            }
            CnfLoss::Nll { x, opts } => {
                nll_on_tape(tape, &self.cnf, &vars, x, &[], Trace::Exact, opts)
                    .map_err(|e| e.to_string())
            }
        }
    }
}
