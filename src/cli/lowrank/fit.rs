//! `neurodyn lowrank fit DATA` (in progress).

use super::super::CliError;

/// Options of `neurodyn lowrank fit`.
#[derive(clap::Args, Debug)]
pub struct FitArgs {
    /// The recording.
    pub data: std::path::PathBuf,
}

/// Runs `neurodyn lowrank fit`.
pub fn run(_a: &FitArgs) -> Result<(), CliError> {
    Err(CliError::failure("not yet"))
}
