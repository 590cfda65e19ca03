//! `neurodyn gdm …`: fit a Gumbel Dynamical Model to a time series (`fit`), generate the
//! benchmark data (`simulate`), and run the NASCAR comparison over seeds (`bench`).

mod bench;
mod data;
mod eval;
mod fit;
mod plots;
mod simulate;

use super::CliError;
use crate::models::gdm::{Emission, Gdm, GdmConfig, PosteriorKind, Sequences, Switching};
use crate::train::Control;
use crate::train::gdm::{EarlyStop, GdmFitConfig, GdmFitReport, GdmIter, fit};
use clap::Subcommand;

/// Options of `neurodyn gdm`.
#[derive(clap::Args, Debug)]
pub struct GdmArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: GdmCommand,
}

/// The `gdm` subcommands.
#[derive(Subcommand, Debug)]
pub enum GdmCommand {
    /// Fits a GDM to a time series (.npy, .csv, .npz or UEA .ts) and writes soft states,
    /// metrics and a segmentation plot.
    Fit(Box<fit::FitArgs>),
    /// Generates NASCAR (standard or soft-sticky) or labelled Lorenz data.
    Simulate(simulate::SimulateArgs),
    /// NASCAR over seeds: the GDM, its hard-switching variant and an AR-HMM on the same data,
    /// scored on a test sequence from another seed.
    Bench(bench::BenchArgs),
}

/// Model and training options shared by `fit` and `bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelOpts {
    /// Projection dimension D.
    #[arg(long, default_value_t = 2)]
    pub proj: usize,
    /// Autoregressive lags L.
    #[arg(long, default_value_t = 1)]
    pub lags: usize,
    /// Concrete temperature τ.
    #[arg(long, default_value_t = 0.99)]
    pub tau: f64,
    /// Posterior samples M per iteration.
    #[arg(long, default_value_t = 10)]
    pub samples: usize,
    /// Maximum training iterations.
    #[arg(long, default_value_t = 4000)]
    pub iters: usize,
    /// Base learning rate (held 200 iterations, then linear to a tenth over 400).
    #[arg(long, default_value_t = 1e-2)]
    pub lr: f64,
    /// Observation model: gaussian or poisson.
    #[arg(long, default_value = "gaussian")]
    pub emission: String,
    /// Posterior: step (per-step, the authors') or bigru (bidirectional GRU).
    #[arg(long, default_value = "step")]
    pub posterior: String,
    /// Hidden units per direction of the bigru posterior.
    #[arg(long, default_value_t = 16)]
    pub hidden: usize,
    /// Hard (argmax, straight-through) switching instead of relaxed states.
    #[arg(long)]
    pub hard: bool,
    /// Keep the projection F at its random initialisation (as the authors do).
    #[arg(long)]
    pub freeze_f: bool,
    /// Turn early stopping off (run all iterations).
    #[arg(long)]
    pub no_early_stop: bool,
    /// Posterior samples averaged for the soft states and metrics.
    #[arg(long, default_value_t = 20)]
    pub eval_samples: usize,
    /// Train in f64 instead of f32 (slower; evaluation is always in f64).
    #[arg(long)]
    pub f64: bool,
}

impl ModelOpts {
    /// The model configuration for `states` states and `obs` channels.
    ///
    /// # Errors
    /// Unknown emission or posterior names, or an invalid configuration.
    pub fn config(&self, states: usize, obs: usize) -> Result<GdmConfig, CliError> {
        let emission: Emission = self.emission.parse().map_err(|e: crate::ConfigError| {
            CliError::input(format!("--emission: {}", e.reason))
        })?;
        let posterior = match self.posterior.as_str() {
            "step" => PosteriorKind::PerStep,
            "bigru" => PosteriorKind::BiGru {
                hidden: self.hidden,
            },
            other => {
                return Err(CliError::input(format!(
                    "--posterior: unknown posterior {other:?} (expected step or bigru)"
                )));
            }
        };
        let cfg = GdmConfig {
            states,
            obs,
            proj: self.proj,
            lags: self.lags,
            inputs: 0,
            tau: self.tau,
            emission,
            posterior,
            switching: if self.hard {
                Switching::Hard
            } else {
                Switching::Soft
            },
            train_f: !self.freeze_f,
        };
        cfg.validate().map_err(|e| {
            let flag = match e.field.as_str() {
                "states" => "--states".to_string(),
                "tau" => "--tau".to_string(),
                "posterior.hidden" => "--hidden".to_string(),
                f => format!("--{f}"),
            };
            CliError::input(format!("{flag}: {}", e.reason))
        })?;
        Ok(cfg)
    }

    /// The training settings.
    ///
    /// # Errors
    /// Invalid values, naming the flag.
    pub fn fit_config(&self) -> Result<GdmFitConfig, CliError> {
        let cfg = GdmFitConfig {
            iters: self.iters,
            samples: self.samples,
            lr: self.lr,
            early_stop: if self.no_early_stop {
                None
            } else {
                Some(EarlyStop {
                    window: 100,
                    min_gain: 1e-4,
                })
            },
            ..GdmFitConfig::default()
        };
        cfg.validate().map_err(|e| {
            CliError::input(format!("--{}: {}", e.field.replace('_', "-"), e.reason))
        })?;
        if self.eval_samples == 0 {
            return Err(CliError::input("--eval-samples: must be at least 1"));
        }
        Ok(cfg)
    }
}

/// Fits a new model (initialised from `rng`) in f32, or f64 with `--f64`; returns it in f64.
///
/// # Errors
/// Invalid settings or data.
pub fn fit_model<R: rand::Rng + ?Sized>(
    opts: &ModelOpts,
    cfg: GdmConfig,
    fit_cfg: &GdmFitConfig,
    data: &Sequences<f64>,
    rng: &mut R,
    observer: impl FnMut(&GdmIter) -> Control,
) -> Result<(Gdm<f64>, GdmFitReport), CliError> {
    let e = |e: crate::ConfigError| CliError::input(format!("{}: {}", e.field, e.reason));
    if opts.f64 {
        let mut m = Gdm::<f64>::new(cfg, rng).map_err(e)?;
        let r = fit(&mut m, data, fit_cfg, rng, observer).map_err(e)?;
        Ok((m, r))
    } else {
        let mut m = Gdm::<f32>::new(cfg, rng).map_err(e)?;
        let r = fit(&mut m, &data.cast(), fit_cfg, rng, observer).map_err(e)?;
        Ok((m.cast(), r))
    }
}

/// Runs `neurodyn gdm`.
pub fn run(a: &GdmArgs) -> Result<(), CliError> {
    match &a.command {
        GdmCommand::Fit(f) => fit::run(f),
        GdmCommand::Simulate(s) => simulate::run(s),
        GdmCommand::Bench(b) => bench::run(b),
    }
}
