//! `neurodyn lowrank simulate --recipe NAME`: a benchmark network, simulated and observed.

use super::super::CliError;
use super::{array_f64, recipe_and_tails, write_json, write_npz};
use crate::io::{Array, ArrayData};
use crate::models::lowrank::simulate::{Observation, SimulationConfig, simulate};
use std::path::PathBuf;

/// Options of `neurodyn lowrank simulate`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Benchmark: bistable, bistable:S, tristable, two-fixed-points, limit-cycle, ring.
    #[arg(long)]
    pub recipe: String,
    /// Neurons N.
    #[arg(long, default_value_t = 1000)]
    pub neurons: usize,
    /// Trials (initial conditions).
    #[arg(long, default_value_t = 64)]
    pub trials: usize,
    /// Duration of a trial (in units of τ = 1).
    #[arg(long, default_value_t = 20.0)]
    pub duration: f64,
    /// Interval between observations.
    #[arg(long, default_value_t = 0.2)]
    pub sample_dt: f64,
    /// RK4 step.
    #[arg(long, default_value_t = 0.05)]
    pub dt: f64,
    /// Observations: rates (φ(x) + noise) or spikes (Poisson counts).
    #[arg(long, default_value = "rates")]
    pub obs: String,
    /// Standard deviation of the rate noise.
    #[arg(long, default_value_t = 0.02)]
    pub noise: f64,
    /// Spikes: rate λ_max (per τ) at softplus(x) = 1.
    #[arg(long, default_value_t = 20.0)]
    pub rate_scale: f64,
    /// Heavy-tailed m: Student-t with ν degrees of freedom (scaled to unit variance).
    #[arg(long)]
    pub heavy_tails: Option<f64>,
    /// Draw loadings i.i.d. instead of matching their sample moments to the target exactly.
    #[arg(long)]
    pub iid: bool,
    /// Radius of the initial latent states (default: the recipe's).
    #[arg(long)]
    pub ic_radius: Option<f64>,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder (default: data/<recipe>-s<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `neurodyn lowrank simulate`.
pub fn run(a: &SimulateArgs) -> Result<(), CliError> {
    let (recipe, tails) = recipe_and_tails(&a.recipe, a.heavy_tails)?;
    let observation = match a.obs.as_str() {
        "rates" => Observation::Rates { noise: a.noise },
        "spikes" => Observation::Spikes {
            rate_scale: a.rate_scale,
        },
        o => {
            return Err(CliError::input(format!(
                "--obs: unknown observation {o:?} (expected rates or spikes)"
            )));
        }
    };
    let cfg = SimulationConfig {
        trials: a.trials,
        duration: a.duration,
        sample_dt: a.sample_dt,
        dt: a.dt,
        ic_radius: a.ic_radius.unwrap_or(recipe.ic_radius()),
        ic_noise: 0.5,
        observation,
    };
    cfg.validate()
        .map_err(|e| CliError::input(format!("--{}: {}", e.field.replace('_', "-"), e.reason)))?;
    let mut rng = crate::rng::seeded(a.seed);
    let (net, load) = recipe
        .network(tails, a.neurons, !a.iid, &mut rng)
        .map_err(|e| CliError::input(format!("--{}: {}", e.field, e.reason)))?;
    let r = recipe.rank();
    let sim = simulate(&net, &cfg, &mut rng).map_err(|e| CliError::failure(e.to_string()))?;
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("data").join(format!("{}-s{}", recipe.name().replace(':', "-"), a.seed))
    });
    std::fs::create_dir_all(&out)
        .map_err(|e| CliError::failure(format!("{}: {e}", out.display())))?;
    let t = sim.times.len();
    let activity = Array::new(
        vec![a.trials, t, a.neurons],
        ArrayData::F32(sim.activity.iter().map(|&v| v as f32).collect()),
    )
    .map_err(|e| CliError::failure(e.to_string()))?;
    crate::io::write_npy(out.join("activity.npy"), &activity)
        .map_err(|e| CliError::failure(e.to_string()))?;
    write_npz(
        &out,
        "truth.npz",
        &[
            ("m", array_f64(vec![a.neurons, r], load.m.clone())?),
            ("n", array_f64(vec![a.neurons, r], load.n.clone())?),
            (
                "population",
                Array::new(
                    vec![a.neurons],
                    ArrayData::I64(load.population.iter().map(|&p| p as i64).collect()),
                )
                .map_err(|e| CliError::failure(e.to_string()))?,
            ),
            ("kappa0", array_f64(vec![a.trials, r], sim.kappa0.clone())?),
            ("kappa", array_f64(vec![a.trials, t, r], sim.kappa.clone())?),
            ("times", array_f64(vec![t], sim.times.clone())?),
        ],
    )?;
    let (obs_name, noise, rate_scale) = match observation {
        Observation::Rates { noise } => ("rates", Some(noise), None),
        Observation::Spikes { rate_scale } => ("spikes", None, Some(rate_scale)),
    };
    write_json(
        &out.join("meta.json"),
        &serde_json::json!({
            "recipe": recipe.name(), "rank": r, "neurons": a.neurons, "trials": a.trials,
            "samples": t, "sample_dt": a.sample_dt, "tau": 1.0, "observation": obs_name,
            "noise": noise, "rate_scale": rate_scale,
            "heavy_tails": a.heavy_tails, "exact_moments": !a.iid, "seed": a.seed,
            "activity": "activity.npy [trials][samples][neurons]",
            "truth": "truth.npz: m, n [neurons][rank], population, kappa0, kappa [trials][samples][rank], times",
        }),
    )?;
    if !a.quiet {
        outln!(
            "{}: {} neurons, rank {r}, {} trials × {t} samples ({} every {}) → {}",
            recipe.name(),
            a.neurons,
            a.trials,
            obs_name,
            a.sample_dt,
            out.display()
        );
    }
    Ok(())
}
