//! The `neurodyn` command line: argument parsing → configs → library calls.
//!
//! Exit codes: 0 success, 1 a failure while running (divergence, I/O), 2 bad input (arguments,
//! files, cases). No panic is reachable from here by bad input.

/// `println!` that exits quietly when stdout is a closed pipe (`neurodyn … | head`) instead of
/// panicking.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::write_out(format_args!($($arg)*), true) };
}
/// `print!` with the same behaviour as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_out(format_args!($($arg)*), false) };
}

/// Writes to stdout; a closed pipe ends the process with status 0, like other command-line
/// tools, and any other write error with status 1 (see [`end_write`]).
pub(crate) fn write_out(args: std::fmt::Arguments<'_>, newline: bool) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let r = o
        .write_fmt(args)
        .and_then(|_| if newline { o.write_all(b"\n") } else { Ok(()) });
    end_write(r.and_then(|_| o.flush()));
}

/// Writes bytes to stdout as they are (no formatting, no UTF-8 check: for large outputs built
/// in a buffer), flushes, and treats a closed pipe as [`write_out`] does.
pub(crate) fn write_bytes(bytes: &[u8]) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    end_write(o.write_all(bytes).and_then(|_| o.flush()));
}

/// A closed pipe ends the process with status 0; any other write error (a full disk behind a
/// redirection) ends it with status 1 and a message, so that a truncated output never passes
/// for a complete one.
fn end_write(r: std::io::Result<()>) {
    match r {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            std::process::exit(1);
        }
    }
}

mod analyze;
mod bench;
mod connector;
mod datasets;
mod demo;
mod expressivity;
mod figures;
mod gdm;
pub(crate) mod grad;
mod lowrank;
mod progress;
mod rundir;
mod sweep;
mod train;

use clap::{Parser, Subcommand};

/// neurodyn: interpretable neural dynamics (gated neural ODEs, low-rank RNNs, Gumbel dynamical
/// models) on a reverse-mode tape with SIMD kernels.
#[derive(Parser, Debug)]
#[command(name = "neurodyn", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "Examples:
  neurodyn train gnode --task ring                      a 2-D gnODE learns a ring attractor (~30 s)
  neurodyn train gnode --task flipflop3-var --epochs 500
  neurodyn train gru --task flipflop3-var --hidden 100
  neurodyn train gnode --data train.ts --test test.ts   classify UEA time series
  neurodyn analyze runs/gnode-ring-s0                   slow points, stability, flow field
  neurodyn grad case.json --check                       loss and gradient of a case, checked
  neurodyn expressivity --dims 1,2,4 --flows 16,64x64   expressivity table (GP targets)
  neurodyn gdm fit y.csv --states 3                     segment a time series into soft states
  neurodyn gdm bench nascar --seeds 10                  GDM vs AR-HMM on NASCAR
  neurodyn sweep ring-lr.toml [--slurm]                 a grid of trainings, here or on SLURM
  neurodyn sweep collect sweeps/ring-lr                 its table and best run
  neurodyn bench peer --filter f32                      time gnODE gradients (compare with JAX)
  neurodyn demo                                         the numerical core end to end";

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Trains a gnODE, nODE, mGRU, RNN or GRU on a memory task or a labelled data set.
    Train(Box<train::TrainArgs>),
    /// Loss and gradient of a JSON case (SPEC §7); --check compares with finite differences.
    Grad(grad::GradArgs),
    /// Finds slow and fixed points of a trained model and writes the flow field.
    Analyze(analyze::AnalyzeArgs),
    /// Sweeps phase-space dimension and F size on Gaussian-process targets (expressivity).
    Expressivity(expressivity::ExpressivityArgs),
    /// Times the benchmark workloads (gnODE gradients in every mode, scaling, FMA peak).
    Bench(bench::BenchArgs),
    /// Gradient-checks and trains a small tanh MLP to fit sin(x): the numerical core end to end.
    Demo(demo::DemoArgs),
    /// Runs a grid or list of trainings from a TOML/JSON spec, here or as a SLURM job array;
    /// `sweep status DIR`, `sweep collect DIR`.
    Sweep(sweep::SweepArgs),
    /// Gumbel Dynamical Model: fit a time series, simulate NASCAR/Lorenz, benchmark on NASCAR.
    Gdm(gdm::GdmArgs),
    /// Low-rank RNNs: simulate benchmarks, compare mean-field theory with finite networks, fit.
    Lowrank(lowrank::LowrankArgs),
    /// The maximum-entropy connectivity distribution of a low-rank fit (Connector).
    Connector(Box<connector::ConnectorArgs>),
}

/// Parses a `neurodyn grad` case from JSON text (for the fuzz harness).
///
/// # Errors
/// Text that is not JSON or an invalid case, as the command's one-line message.
#[doc(hidden)]
pub fn grad_case(text: &str) -> Result<Box<dyn grad::Case>, CliError> {
    let v = grad::json_text::parse(text)
        .map_err(|e| CliError::input(format!("not valid JSON: {e}")))?;
    grad::parse(&v)
}

/// Parses and expands a `neurodyn sweep` spec (TOML, or JSON if `json`) without running it;
/// returns the number of runs (for the fuzz harness).
///
/// # Errors
/// A malformed spec, as the command's one-line message naming the key.
#[doc(hidden)]
pub fn sweep_spec(text: &str, json: bool) -> Result<usize, CliError> {
    sweep::check_spec(text, json)
}

/// Runs the CLI with the process arguments; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Train(a) => train::run(&a),
        Command::Analyze(a) => analyze::run(&a),
        Command::Grad(a) => grad::run(&a),
        Command::Expressivity(a) => expressivity::run(&a),
        Command::Bench(a) => bench::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Sweep(a) => sweep::run(&a),
        Command::Gdm(a) => gdm::run(&a),
        Command::Lowrank(a) => lowrank::run(&a),
        Command::Connector(a) => connector::run(&a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {}", e.message);
            e.code
        }
    }
}

/// A command's failure: a one-line message and the exit code (2 bad input, 1 failure).
#[derive(Debug)]
pub struct CliError {
    /// What went wrong, where, and what to do.
    pub message: String,
    /// Process exit code.
    pub code: i32,
}

impl CliError {
    /// Bad input (exit code 2).
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }
    /// A failure while running (exit code 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }
}
