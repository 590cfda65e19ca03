//! `gdm` cases (SPEC §7): the negative ELBO of a Gumbel Dynamical Model for given Gumbel
//! draws, so that the loss is a deterministic function of the parameters.

use super::super::CliError;
use super::Case;
use super::json::{array, count, expect_shape, field, number, only_keys, string};
use super::json_text::Json as Value;
use crate::models::gdm::{Gdm, GdmConfig, Prepared, Sequences};
use crate::tape::{ParamStore, Tape, Var};

/// A parsed gdm case.
pub struct GdmCase {
    model: Gdm<f64>,
    prep: Prepared<f64>,
    gumbel: Vec<f64>,
    samples: usize,
}

impl GdmCase {
    /// Parses and validates a case.
    ///
    /// # Errors
    /// One line naming the offending field.
    pub fn parse(v: &Value) -> Result<Self, CliError> {
        let m = field(v, "model", "case")?;
        only_keys(m, &["kind", "states", "obs", "proj", "tau"], "model")?;
        let cfg = GdmConfig {
            states: count(field(m, "states", "model")?, "model.states")?,
            obs: count(field(m, "obs", "model")?, "model.obs")?,
            proj: count(field(m, "proj", "model")?, "model.proj")?,
            tau: number(field(m, "tau", "model")?, "model.tau")?,
            ..GdmConfig::default()
        };
        cfg.validate()
            .map_err(|e| CliError::input(format!("model.{}: {}", e.field, e.reason)))?;
        let template = Gdm::<f64>::new(cfg.clone(), &mut crate::rng::seeded(0))
            .map_err(|e| CliError::input(e.to_string()))?;
        let params = field(v, "params", "case")?
            .as_object()
            .ok_or_else(|| CliError::input("params: must be an object"))?;
        let mut values = Vec::new();
        for (name, val) in params {
            if template.store().id(name).is_none() {
                return Err(CliError::input(format!(
                    "params.{name}: not a parameter of a gdm model"
                )));
            }
            let a = array(val, &format!("params.{name}"))?;
            expect_shape(&a, &template.spec_shape(name), &format!("params.{name}"))?;
            values.push((name.clone(), a.values));
        }
        let model = Gdm::from_params(cfg.clone(), &values)
            .map_err(|e| CliError::input(format!("{}: {}", e.field, e.reason)))?;
        let d = field(v, "data", "case")?;
        only_keys(d, &["y", "gumbel"], "data")?;
        let y = array(field(d, "y", "data")?, "data.y")?;
        let t = match y.shape.as_slice() {
            [t, n] if *n == cfg.obs && *t > 0 => *t,
            _ => {
                return Err(CliError::input(format!(
                    "data.y: expected shape T×{} with T ≥ 1, got {:?}",
                    cfg.obs, y.shape
                )));
            }
        };
        let g = array(field(d, "gumbel", "data")?, "data.gumbel")?;
        let samples = match g.shape.as_slice() {
            [m, tt, k] if *tt == t && *k == cfg.states && *m > 0 => *m,
            _ => {
                return Err(CliError::input(format!(
                    "data.gumbel: expected shape M×{t}×{} with M ≥ 1, got {:?}",
                    cfg.states, g.shape
                )));
            }
        };
        let loss = string(field(v, "loss", "case")?, "loss")?;
        if loss != "neg_elbo" {
            return Err(CliError::input(format!(
                "loss: unknown loss {loss:?} for gdm (expected \"neg_elbo\")"
            )));
        }
        if v.get("solver").is_some() {
            return Err(CliError::input("case.solver: a gdm case has no solver"));
        }
        let data = Sequences::new(y.values, t, cfg.obs)
            .map_err(|e| CliError::input(format!("data.{}: {}", e.field, e.reason)))?;
        let prep = model
            .prepare(&data)
            .map_err(|e| CliError::input(format!("data.{}: {}", e.field, e.reason)))?;
        Ok(Self {
            model,
            prep,
            gumbel: g.values,
            samples,
        })
    }
}

impl Case for GdmCase {
    fn store(&self) -> &ParamStore<f64> {
        self.model.store()
    }
    fn shape_of(&self, name: &str) -> Vec<usize> {
        self.model.spec_shape(name)
    }
    fn loss(&self, tape: &mut Tape<f64>, store: &ParamStore<f64>) -> Result<Var, String> {
        let v = self.model.record_from(tape, store);
        Ok(self
            .model
            .neg_elbo(tape, &v, &self.prep, &self.gumbel, self.samples)
            .loss)
    }
}
