//! `neurodyn lowrank …`: simulate the SPEC §4.3 benchmarks, compare mean-field theory with finite
//! networks, and fit low-rank RNNs to recordings.

mod data;
mod fit;
pub(crate) mod plots;
mod simulate;
mod theory;

pub use fit::FitArgs;
pub(crate) use fit::report_json as fit_report_json;
pub use simulate::SimulateArgs;
pub use theory::TheoryArgs;

use super::CliError;
use crate::io::{Array, ArrayData};
use crate::models::lowrank::generators::{Recipe, Tails};
use std::path::Path;

/// Options of `neurodyn lowrank`.
#[derive(clap::Args, Debug)]
pub struct LowrankArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: LowrankCommand,
}

/// The `lowrank` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum LowrankCommand {
    /// Simulates a benchmark network from many initial conditions; writes activity.npy,
    /// truth.npz and meta.json.
    Simulate(SimulateArgs),
    /// Mean-field fixed points, cycles and rings of a benchmark against a finite network
    /// (N = 2000) and SPEC §4.3.
    Theory(TheoryArgs),
    /// Fits a low-rank RNN to a recording (.npy, .npz or CSV), rank chosen by held-out R².
    Fit(Box<FitArgs>),
}

/// Runs `neurodyn lowrank`.
pub fn run(a: &LowrankArgs) -> Result<(), CliError> {
    match &a.command {
        LowrankCommand::Simulate(s) => simulate::run(s),
        LowrankCommand::Theory(t) => theory::run(t),
        LowrankCommand::Fit(f) => fit::run(f),
    }
}

/// Parses `--recipe` and `--heavy-tails`.
pub(crate) fn recipe_and_tails(recipe: &str, nu: Option<f64>) -> Result<(Recipe, Tails), CliError> {
    let r: Recipe = recipe
        .parse()
        .map_err(|e: crate::ConfigError| CliError::input(format!("--recipe: {}", e.reason)))?;
    let tails = match nu {
        None => Tails::Gaussian,
        Some(nu) if nu.is_finite() && nu > 4.0 => Tails::StudentT { nu },
        Some(nu) => {
            return Err(CliError::input(format!(
                "--heavy-tails: ν = {nu} must exceed 4 (a finite kurtosis)"
            )));
        }
    };
    Ok((r, tails))
}

/// An f64 array of the given shape.
pub(crate) fn array_f64(shape: Vec<usize>, v: Vec<f64>) -> Result<Array, CliError> {
    Array::new(shape, ArrayData::F64(v)).map_err(|e| CliError::failure(e.to_string()))
}

/// Writes `name.npz` in `dir` from named arrays.
pub(crate) fn write_npz(dir: &Path, name: &str, arrays: &[(&str, Array)]) -> Result<(), CliError> {
    let refs: Vec<(&str, &Array)> = arrays.iter().map(|(n, a)| (*n, a)).collect();
    crate::io::write_npz(dir.join(name), &refs).map_err(|e| CliError::failure(e.to_string()))
}

/// Writes pretty JSON atomically.
pub(crate) fn write_json(path: &Path, v: &serde_json::Value) -> Result<(), CliError> {
    crate::io::write_atomic(
        path,
        serde_json::to_string_pretty(v)
            .unwrap_or_default()
            .as_bytes(),
    )
    .map_err(|e| CliError::failure(e.to_string()))
}

/// Formats a list of points compactly: `(0.484), (−0.484)` or `(0.000, 0.948)`.
pub(crate) fn fmt_points(p: &[Vec<f64>]) -> String {
    if p.is_empty() {
        return "–".into();
    }
    p.iter()
        .map(|q| {
            format!(
                "({})",
                q.iter()
                    .map(|v| format!("{:.3}", if v.abs() < 5e-4 { 0.0 } else { *v }))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}
