//! `neurodyn grad CASE.json`: the loss and gradient of a fully specified case (SPEC §7), and
//! with `--check` a finite-difference check of that gradient.

mod cnf;
mod gdm;
mod gnode;
pub mod json;
pub mod json_text;
mod lowrank;
mod timed;

use super::CliError;
use crate::solve::{Controller, GradMode, Method, SolveOptions};
use crate::tape::check::{GradCheckOptions, gradcheck};
use crate::tape::{Grads, ParamStore, Tape, Var};
use json::{field, number, only_keys, string};
use json_text::Json as Value;
use std::path::PathBuf;

/// Options of `neurodyn grad`.
#[derive(clap::Args, Debug)]
pub struct GradArgs {
    /// The case file.
    pub case: PathBuf,
    /// Also compare with central finite differences; exit 1 if any parameter's relative error
    /// exceeds 1e-6.
    #[arg(long)]
    pub check: bool,
    /// How the gradient of an ODE case (gnode, lowrank) is computed: `auto` takes backprop
    /// when its tape fits in 256 MiB (fixed steps) and its products are wide enough to make
    /// recomputing dearer than storing (`neurodyn::solve::fastest_grad_mode`), checkpointed
    /// backprop otherwise; `backprop` and `checkpointed` force one. Both give the gradient of
    /// the same discrete solution, to rounding.
    #[arg(long, value_enum, default_value_t = Route::Auto)]
    pub grad_mode: Route,
    /// Batch shards of a fixed-step ODE case's gradient (gnode, lowrank) computed in parallel,
    /// each on its own tape, when every shard keeps at least 8 batch rows and the solve is
    /// large enough to gain from it (small cases and adaptive steps stay on one tape). The
    /// shards' gradients are summed in order, so the result depends on this number, not on the
    /// machine; 1 computes the whole batch on one tape.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: u16,
}

/// The gradient route of `neurodyn grad` for ODE cases (`--grad-mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Route {
    /// Backprop when its tape fits in 256 MiB and its products are wide, else checkpointed.
    Auto,
    /// Backprop through the solver (every stage on one tape).
    Backprop,
    /// Checkpointed backprop (O(√steps) states; a second forward pass).
    Checkpointed,
}

/// A parsed case: parameters (with their shapes as written) and a loss on the tape.
pub trait Case {
    /// The parameters.
    fn store(&self) -> &ParamStore<f64>;
    /// Shape of each parameter as written in the case.
    fn shape_of(&self, name: &str) -> Vec<usize>;
    /// Records the loss with the parameter values of `store`.
    ///
    /// # Errors
    /// A solver failure, as a message.
    fn loss(&self, tape: &mut Tape<f64>, store: &ParamStore<f64>) -> Result<Var, String>;
    /// The loss at the case's own parameters and its gradient (into `grads`, zeroed) by the
    /// solver's gradient modes, where the case is a solve (`route` picks backprop or
    /// checkpointed backprop, equal up to rounding; up to `threads` batch shards in parallel),
    /// with the mode it took.
    ///
    /// # Errors
    /// A solver failure, as a message.
    fn loss_and_grad(
        &self,
        _route: Route,
        _threads: usize,
        _grads: &mut Grads<f64>,
    ) -> Option<Result<(f64, GradMode), String>> {
        None
    }
}

/// Parses a case's `solver` object.
pub fn solver(v: &Value) -> Result<SolveOptions<f64>, CliError> {
    only_keys(v, &["method", "dt", "rtol", "atol", "controller"], "solver")?;
    let method: Method = string(field(v, "method", "solver")?, "solver.method")?
        .parse()
        .map_err(|e: crate::ConfigError| CliError::input(format!("solver.method: {}", e.reason)))?;
    if method.is_adaptive() && v.get("dt").is_none() {
        let rtol = number(field(v, "rtol", "solver")?, "solver.rtol")?;
        let atol = number(field(v, "atol", "solver")?, "solver.atol")?;
        let controller = match v.get("controller") {
            None => Controller::default(),
            Some(c) => match string(c, "solver.controller")? {
                "integral" => Controller::Integral,
                "hairer-pi" => Controller::HairerPi,
                other => {
                    return Err(CliError::input(format!(
                        "solver.controller: unknown controller {other:?} (expected \"integral\" or \"hairer-pi\")"
                    )));
                }
            },
        };
        Ok(SolveOptions {
            controller,
            ..SolveOptions::adaptive(method, rtol, atol)
        })
    } else {
        let dt = number(field(v, "dt", "solver")?, "solver.dt")?;
        Ok(SolveOptions::fixed(method, dt))
    }
}

/// Reads and parses a case file.
///
/// # Errors
/// Unreadable file, invalid JSON, or an invalid case (one line naming the field).
pub fn load(path: &std::path::Path) -> Result<Box<dyn Case>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    let v = json_text::parse(&text)
        .map_err(|e| CliError::input(format!("{}: not valid JSON: {e}", path.display())))?;
    parse(&v)
}

/// Parses a case from JSON.
///
/// # Errors
/// An invalid case.
pub fn parse(v: &Value) -> Result<Box<dyn Case>, CliError> {
    only_keys(v, &["model", "params", "data", "loss", "solver"], "case")?;
    let model = field(v, "model", "case")?;
    let kind = string(field(model, "kind", "model")?, "model.kind")?;
    match kind {
        "gnode" => Ok(Box::new(gnode::GnodeCase::parse(v)?)),
        "gdm" => Ok(Box::new(gdm::GdmCase::parse(v)?)),
        "lowrank" => Ok(Box::new(lowrank::LowRankCase::parse(v)?)),
        "cnf" => Ok(Box::new(cnf::CnfCase::parse(v)?)),
        other => Err(CliError::input(format!(
            "model.kind: unknown kind {other:?} (this build knows gnode, gdm, lowrank, cnf)"
        ))),
    }
}

/// Runs `neurodyn grad`.
pub fn run(a: &GradArgs) -> Result<(), CliError> {
    let case = load(&a.case)?;
    let store = case.store();
    let one_tape = |g: &mut Grads<f64>| -> Result<f64, CliError> {
        let mut tape = Tape::new();
        let l = case.loss(&mut tape, store).map_err(CliError::failure)?;
        tape.backward(l);
        tape.accumulate_param_grads(g);
        Ok(tape.scalar(l))
    };
    let mut g = store.zeros_like();
    let (loss, routed) = match case.loss_and_grad(a.grad_mode, usize::from(a.threads), &mut g) {
        Some(r) => {
            let (loss, mode) = r.map_err(CliError::failure)?;
            (loss, Some(mode))
        }
        None => (one_tape(&mut g)?, None),
    };
    // {"grad": {name: nested list, …}, "loss": x}, keys in sorted order (as a serde_json map
    // writes them), written into one buffer and out in one piece.
    let mut infos: Vec<_> = store.infos().iter().collect();
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    let mut text = Vec::with_capacity(24 * g.as_slice().len() + 64);
    text.extend_from_slice(b"{\"grad\":{");
    for (i, info) in infos.iter().enumerate() {
        if i > 0 {
            text.push(b',');
        }
        json::write_string(&mut text, &info.name);
        text.push(b':');
        let shape = case.shape_of(&info.name);
        json::write_nested(&mut text, &g.as_slice()[info.range()], &shape);
    }
    text.extend_from_slice(b"},\"loss\":");
    json::write_number(&mut text, loss);
    text.extend_from_slice(b"}\n");
    // The buffer is ASCII JSON: written as it is, ending in the newline (so that the line-
    // buffered stdout finds it at once instead of scanning the whole buffer for one).
    super::write_bytes(&text);
    if a.check {
        if let Some(mode) = routed {
            // The printed gradient came by the solver's gradient mode: it must equal the
            // one-tape gradient that the finite differences below check.
            let mut gt = store.zeros_like();
            one_tape(&mut gt)?;
            let diff = (g.as_slice().iter().zip(gt.as_slice()))
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt();
            let rel = diff / gt.norm().max(f64::MIN_POSITIVE);
            let name = mode.name();
            eprintln!("{name} route against one tape: relative difference {rel:.2e}");
            if rel.is_nan() || rel > 1e-10 {
                return Err(CliError::failure(format!(
                    "gradient check failed: the {name} gradient differs from the one-tape \
                     gradient by {rel:.2e} (relative) > 1e-10"
                )));
            }
        }
        let report = gradcheck(
            store,
            |t, s| case.loss(t, s).unwrap_or_else(|_| t.filled(1, 1, f64::NAN)),
            &GradCheckOptions::default(),
        );
        eprint!("{report}");
        if !report.passed {
            return Err(CliError::failure(format!(
                "gradient check failed: worst relative error {:.2e} > {:.0e}",
                report.worst(),
                report.tol
            )));
        }
    }
    Ok(())
}
