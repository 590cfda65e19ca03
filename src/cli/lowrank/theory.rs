//! `neurodyn lowrank theory --recipe NAME`: the mean-field attractors of a benchmark, a finite
//! network's (simulated, and by its exact latent reduction), and SPEC §4.3's figures, side by
//! side with the relative differences.

use super::super::CliError;
use super::{fmt_points, recipe_and_tails};
use crate::analysis::Stability;
use crate::models::lowrank::finite::settled;
use crate::models::lowrank::generators::Expected;
use crate::models::lowrank::latent::{AnalysisOptions, LatentAnalysis, analyze};
use crate::models::lowrank::meanfield::{LatentField, MixtureField, SampleField};
use crate::models::lowrank::simulate::{initial_states, simulate_kappa};

/// Options of `neurodyn lowrank theory`.
#[derive(clap::Args, Debug)]
pub struct TheoryArgs {
    /// Benchmark: bistable, bistable:S, tristable, two-fixed-points, limit-cycle, ring.
    #[arg(long)]
    pub recipe: String,
    /// Neurons of the finite network.
    #[arg(long, default_value_t = 2000)]
    pub neurons: usize,
    /// Trials simulated (initial conditions).
    #[arg(long, default_value_t = 32)]
    pub trials: usize,
    /// Duration of each trial (τ = 1).
    #[arg(long, default_value_t = 100.0)]
    pub duration: f64,
    /// Heavy-tailed m: Student-t with ν degrees of freedom (the mean field is then Monte Carlo
    /// over 200 000 samples).
    #[arg(long)]
    pub heavy_tails: Option<f64>,
    /// Draw loadings i.i.d. instead of matching their sample moments exactly.
    #[arg(long)]
    pub iid: bool,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Stable points, unstable points, cycle (radius, period), ring radius.
type Summary = (
    Vec<Vec<f64>>,
    Vec<Vec<f64>>,
    Option<(f64, f64)>,
    Option<f64>,
);

/// The [`Summary`] of an analysis.
fn summary(a: &LatentAnalysis) -> Summary {
    let pick = |f: &dyn Fn(Stability) -> bool| {
        let mut v: Vec<Vec<f64>> = a
            .fixed_points
            .iter()
            .filter(|p| f(p.stability))
            .map(|p| p.kappa.clone())
            .collect();
        v.sort_by(|x, y| {
            x[0].total_cmp(&y[0])
                .then(x[x.len() - 1].total_cmp(&y[y.len() - 1]))
        });
        v
    };
    (
        pick(&|s| s == Stability::Stable),
        pick(&|s| matches!(s, Stability::Unstable | Stability::Saddle)),
        a.cycles.first().map(|c| (c.radius, c.period)),
        a.ring.as_ref().map(|r| r.0),
    )
}

/// Worst relative difference between expected points and the nearest found ones (absolute for
/// points at the origin); `None` when counts differ.
fn point_error(want: &[Vec<f64>], got: &[Vec<f64>]) -> Option<f64> {
    if want.len() != got.len() {
        return None;
    }
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    Some(want.iter().fold(0.0, |acc: f64, w| {
        let d = got
            .iter()
            .map(|g| norm(&g.iter().zip(w).map(|(a, b)| a - b).collect::<Vec<_>>()))
            .fold(f64::INFINITY, f64::min);
        acc.max(d / norm(w).max(1.0))
    }))
}

fn rel(got: Option<f64>, want: Option<f64>) -> Option<f64> {
    Some((got? - want?).abs() / want?.abs())
}

/// Runs `neurodyn lowrank theory`.
pub fn run(a: &TheoryArgs) -> Result<(), CliError> {
    let (recipe, tails) = recipe_and_tails(&a.recipe, a.heavy_tails)?;
    if a.trials == 0 {
        return Err(CliError::input("--trials: must be at least 1"));
    }
    if !(a.duration.is_finite() && a.duration >= 2.0) {
        return Err(CliError::input("--duration: must be at least 2"));
    }
    let model = recipe.loading_model(tails);
    let opts = AnalysisOptions {
        radius: recipe.ic_radius(),
        ..Default::default()
    };
    let r = recipe.rank();
    let mut rng = crate::rng::seeded(a.seed);
    // mean field: Gaussian mixture, or Monte Carlo for heavy tails
    let (mf_name, mf): (&str, Box<dyn LatentField>) = match model.gaussian_mixture() {
        Some(dist) => (
            "mean field (quadrature)",
            Box::new(MixtureField {
                dist,
                v: vec![],
                tau: 1.0,
            }),
        ),
        None => {
            let big = model
                .sample(200_000, true, &mut crate::rng::seeded(a.seed ^ 0x5eed))
                .map_err(|e| CliError::input(e.to_string()))?;
            (
                "mean field (Monte Carlo, 2e5)",
                Box::new(SampleField::from_loadings(r, &big.m, &big.n, &[], 1.0)),
            )
        }
    };
    let mean_field = summary(&analyze(mf.as_ref(), &opts));
    // the finite network
    let (net, load) = recipe
        .network(tails, a.neurons, !a.iid, &mut rng)
        .map_err(|e| CliError::input(format!("--{}: {}", e.field, e.reason)))?;
    let reduction = summary(&analyze(
        &SampleField::from_loadings(r, &load.m, &load.n, &[], 1.0),
        &opts,
    ));
    let (x0, _) = initial_states(&net, a.trials, recipe.ic_radius(), 0.5, &mut rng);
    let dt = 0.1;
    let samples = (a.duration / dt).round() as usize + 1;
    let kappa = simulate_kappa(&net, &x0, a.trials, samples, dt, 0.05)
        .map_err(|e| CliError::failure(e.to_string()))?;
    // the ring is read at t = 30 τ, after radial relaxation, before the slow drift along it
    let sim = settled(&kappa, a.trials, r, dt, 1.0, (30.0 / dt) as usize);
    let exp: Expected = recipe.expected();
    let rows = [
        (mf_name, mean_field.clone()),
        ("network, latent reduction", reduction.clone()),
        (
            "network, simulated",
            (
                sim.stable.clone(),
                Vec::new(),
                sim.cycle,
                sim.ring.map(|r| r.0),
            ),
        ),
    ];
    if a.json {
        let j: Vec<serde_json::Value> = rows
            .iter()
            .map(|(name, (s, u, c, ring))| {
                serde_json::json!({"source": name, "stable": s, "unstable": u,
                    "cycle": c.map(|c| serde_json::json!({"radius": c.0, "period": c.1})), "ring_radius": ring,
                    "stable_error": point_error(&exp.stable, s),
                    "cycle_radius_error": rel(c.map(|c| c.0), exp.cycle.map(|c| c.0)),
                    "period_error": rel(c.map(|c| c.1), exp.cycle.map(|c| c.1)),
                    "ring_error": rel(*ring, exp.ring_radius)})
            })
            .collect();
        outln!(
            "{}",
            serde_json::json!({"recipe": recipe.name(), "neurons": a.neurons, "seed": a.seed,
                "spec": {"stable": exp.stable, "unstable": exp.unstable,
                    "cycle": exp.cycle.map(|c| serde_json::json!({"radius": c.0, "period": c.1})), "ring_radius": exp.ring_radius},
                "rows": j, "ring_sd": sim.ring.map(|r| r.1), "unsettled_trials": sim.unsettled})
        );
        return Ok(());
    }
    outln!(
        "{} (R = {r}{}), network N = {} ({}), {} trials of {} τ, seed {}",
        recipe.name(),
        match tails {
            crate::models::lowrank::generators::Tails::StudentT { nu } => format!(", m ~ t{nu}"),
            _ => String::new(),
        },
        a.neurons,
        if a.iid {
            "i.i.d. loadings"
        } else {
            "exact moments"
        },
        a.trials,
        a.duration,
        a.seed
    );
    let fmt_cycle = |c: Option<(f64, f64)>| {
        c.map_or("–".to_string(), |c| format!("r {:.4}, T {:.4}", c.0, c.1))
    };
    outln!(
        "  {:<30} stable: {}; unstable/saddle: {}; cycle: {}; ring: {}",
        "SPEC §4.3",
        fmt_points(&exp.stable),
        fmt_points(&exp.unstable),
        fmt_cycle(exp.cycle),
        exp.ring_radius.map_or("–".into(), |r| format!("{r:.4}"))
    );
    for (name, (s, u, c, ring)) in &rows {
        let mut errs = Vec::new();
        if let Some(e) = point_error(&exp.stable, s).filter(|_| !exp.stable.is_empty()) {
            errs.push(format!("stable {:.2} %", 100.0 * e));
        }
        if let Some(e) = rel(c.map(|c| c.0), exp.cycle.map(|c| c.0)) {
            errs.push(format!("radius {:.2} %", 100.0 * e));
        }
        if let Some(e) = rel(c.map(|c| c.1), exp.cycle.map(|c| c.1)) {
            errs.push(format!("period {:.2} %", 100.0 * e));
        }
        if let Some(e) = rel(*ring, exp.ring_radius) {
            errs.push(format!("ring {:.2} %", 100.0 * e));
        }
        outln!(
            "  {:<30} stable: {}; unstable/saddle: {}; cycle: {}; ring: {}{}",
            name,
            fmt_points(s),
            if name.contains("simulated") {
                "(not seen)".to_string()
            } else {
                fmt_points(u)
            },
            fmt_cycle(*c),
            ring.map_or("–".into(), |r| format!("{r:.4}")),
            if errs.is_empty() {
                String::new()
            } else {
                format!("   [vs SPEC: {}]", errs.join(", "))
            }
        );
    }
    if let Some((_, sd)) = sim.ring {
        outln!(
            "  (simulated ring read at t = 30 τ: |κ| spread {sd:.2e} over the trials; the stable \
             points are where the trials drifted along it by t = {})",
            a.duration
        );
    }
    if sim.unsettled > 0 {
        outln!(
            "  ({} trial(s) neither settled nor cycled by t = {})",
            sim.unsettled,
            a.duration
        );
    }
    Ok(())
}
