//! `neurodyn gdm bench nascar|nascar-soft`: the GDM, its hard-switching variant and an AR-HMM
//! on the same NASCAR sequences over several seeds, each scored on a test sequence drawn from
//! a different seed (SPEC §6.2, §6.3).

use super::eval::{K_MAX, mean_sd, score_gdm, state_scores};
use super::{CliError, ModelOpts, fit_model};
use crate::baselines::arhmm::{ArHmm, ArHmmConfig};
use crate::models::gdm::Sequences;
use crate::tasks::nascar::{Variant, train_test};
use crate::train::Control;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

/// Options of `neurodyn gdm bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// nascar (standard) or nascar-soft (soft-sticky), generated anew for every seed; or an
    /// .npz file with train_y, train_labels, test_y, test_labels used for every seed (the
    /// authors' protocol: fixed data, the seed changes the model only).
    pub data: String,
    /// Number of seeds (seed s: training data from seed s, test data from seed 1000 + s,
    /// model initialisation from seed s).
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Number of states K.
    #[arg(long, default_value_t = 4)]
    pub states: usize,
    /// Models to run, comma-separated: gdm, hard, arhmm.
    #[arg(long, value_delimiter = ',', default_value = "gdm,hard,arhmm")]
    pub models: Vec<String>,
    /// AR-HMM restarts (the highest training log-likelihood is kept).
    #[arg(long, default_value_t = 6)]
    pub restarts: usize,
    /// AR-HMM EM iterations per restart.
    #[arg(long, default_value_t = 100)]
    pub em_iters: usize,
    /// Model and training options.
    #[command(flatten)]
    pub model: ModelOpts,
    /// Where to write results.csv and summary.json.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print only the summary.
    #[arg(long)]
    pub quiet: bool,
}

/// One row of results.
struct Row {
    model: String,
    seed: u64,
    knn: f64,
    matched: f64,
    recon: f64,
    forecast: Vec<f64>,
    iters: usize,
    seconds: f64,
}

/// Runs the benchmark.
pub fn run(a: &BenchArgs) -> Result<(), CliError> {
    // generated data (a fresh training and test sequence per seed) or a fixed file
    let fixed = if a.data.to_ascii_lowercase().ends_with(".npz") {
        let l = super::data::load(std::path::Path::new(&a.data), None, None)?;
        let test = l.test.ok_or_else(|| {
            CliError::input(format!("{}: no test_y array for the test sequence", a.data))
        })?;
        if l.train.labels.is_none() || test.labels.is_none() {
            return Err(CliError::input(format!(
                "{}: the benchmark needs train_labels and test_labels",
                a.data
            )));
        }
        if test.obs != l.train.obs {
            return Err(CliError::input(format!(
                "{}: test_y has {} channels, train_y {}",
                a.data, test.obs, l.train.obs
            )));
        }
        Some((l.train, test))
    } else {
        None
    };
    let variant: Option<Variant> = match &fixed {
        Some(_) => None,
        None => Some(a.data.parse().map_err(|e: crate::ConfigError| {
            CliError::input(format!("{} (or an .npz file)", e.reason))
        })?),
    };
    for m in &a.models {
        if !["gdm", "hard", "arhmm"].contains(&m.as_str()) {
            return Err(CliError::input(format!(
                "--models: unknown model {m:?} (expected gdm, hard, arhmm)"
            )));
        }
    }
    if a.seeds == 0 {
        return Err(CliError::input("--seeds: must be at least 1"));
    }
    let fit_cfg = a.model.fit_config()?;
    let mut rows: Vec<Row> = Vec::new();
    for seed in a.first_seed..a.first_seed + a.seeds {
        let (tr_y, tr_l, te_y, te_l, n) = match (&fixed, variant) {
            (Some((tr, te)), _) => (
                tr.y.clone(),
                tr.labels.clone().unwrap_or_default(),
                te.y.clone(),
                te.labels.clone().unwrap_or_default(),
                tr.obs,
            ),
            (None, Some(v)) => {
                let (tr, te) = train_test(v, seed, 1000 + seed, 1000, 10)
                    .map_err(|e| CliError::input(e.to_string()))?;
                (tr.y, tr.labels, te.y, te.labels, tr.obs)
            }
            (None, None) => unreachable!("internal: a variant or a file"),
        };
        let train = Sequences::new(tr_y, tr_l.len(), n)
            .map_err(|e| CliError::input(format!("{}: {}", a.data, e.reason)))?;
        let test = Sequences::new(te_y, te_l.len(), n)
            .map_err(|e| CliError::input(format!("{}: {}", a.data, e.reason)))?;
        for m in &a.models {
            let started = Instant::now();
            let row = if m == "arhmm" {
                let cfg = ArHmmConfig {
                    states: a.states,
                    lags: 1,
                    restarts: a.restarts,
                    iters: a.em_iters,
                    ..ArHmmConfig::default()
                };
                let mut rng = crate::rng::seeded(seed);
                let (model, rep) = ArHmm::fit(&cfg, &train, &mut rng)
                    .map_err(|e| CliError::input(e.to_string()))?;
                let st_tr = model.posterior(&train);
                let st_te = model.posterior(&test);
                let s = state_scores(a.states, &st_tr, Some(&tr_l), Some((&st_te, Some(&te_l))))?;
                let recon = model.reconstruction_r2(&test);
                let forecast = model.forecast_r2(&test, K_MAX);
                Row {
                    model: m.clone(),
                    seed,
                    knn: s.knn.unwrap_or(f64::NAN),
                    matched: s.matched_test.unwrap_or(f64::NAN),
                    recon,
                    forecast,
                    iters: rep.iters,
                    seconds: started.elapsed().as_secs_f64(),
                }
            } else {
                let mut opts = a.model.clone();
                opts.hard = m == "hard";
                let cfg = opts.config(a.states, n)?;
                let mut rng = crate::rng::seeded(seed);
                let (model, rep) = fit_model(&opts, cfg, &fit_cfg, &train, &mut rng, |_| {
                    Control::Continue
                })?;
                let s = score_gdm(
                    &model,
                    &train,
                    Some(&tr_l),
                    Some((&test, Some(&te_l))),
                    a.model.eval_samples,
                    &mut rng,
                )?;
                Row {
                    model: m.clone(),
                    seed,
                    knn: s.states.knn.unwrap_or(f64::NAN),
                    matched: s.states.matched_test.unwrap_or(f64::NAN),
                    recon: s.recon_test.unwrap_or(f64::NAN),
                    forecast: s.forecast,
                    iters: rep.iters,
                    seconds: rep.seconds,
                }
            };
            if !a.quiet {
                eprintln!(
                    "seed {seed} {:<6} knn {:.3}  matched {:.3}  R² {:.4}  R²(k=10) {:.3}  {} iters  {:.1} s",
                    row.model,
                    row.knn,
                    row.matched,
                    row.recon,
                    row.forecast.last().copied().unwrap_or(f64::NAN),
                    row.iters,
                    row.seconds
                );
            }
            rows.push(row);
        }
    }
    let mut summary = serde_json::Map::new();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} over {} seeds (mean ± sd), {}",
        a.data,
        a.seeds,
        if fixed.is_some() {
            "fixed data, the seed changes the model initialisation and noise"
        } else {
            "training data from seed s, test data from seed 1000 + s"
        }
    );
    for m in &a.models {
        let sel: Vec<&Row> = rows.iter().filter(|r| &r.model == m).collect();
        let col = |f: &dyn Fn(&Row) -> f64| mean_sd(&sel.iter().map(|r| f(r)).collect::<Vec<_>>());
        let (knn, matched, recon) = (col(&|r| r.knn), col(&|r| r.matched), col(&|r| r.recon));
        let f1 = col(&|r| r.forecast[0]);
        let f10 = col(&|r| r.forecast[K_MAX - 1]);
        let secs = col(&|r| r.seconds);
        let _ = writeln!(
            text,
            "{m:<6} kNN accuracy {:.3} ± {:.3}   matched {:.3} ± {:.3}   recon R² {:.4} ± {:.4}   \
             forecast R² k=1 {:.3} ± {:.3}, k=10 {:.3} ± {:.3}   {:.1} s/fit",
            knn.0, knn.1, matched.0, matched.1, recon.0, recon.1, f1.0, f1.1, f10.0, f10.1, secs.0
        );
        summary.insert(
            m.clone(),
            serde_json::json!({
                "knn": [knn.0, knn.1], "matched": [matched.0, matched.1], "recon_r2": [recon.0, recon.1],
                "forecast_r2": (1..=K_MAX).map(|k| { let v = col(&|r| r.forecast[k - 1]); [v.0, v.1] }).collect::<Vec<_>>(),
                "seconds": secs.0,
            }),
        );
    }
    outln!("{}", text.trim_end());
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::failure(format!("{}: {e}", dir.display())))?;
        let mut csv = String::from("model,seed,knn,matched,recon_r2");
        for k in 1..=K_MAX {
            let _ = write!(csv, ",forecast_r2_{k}");
        }
        csv.push_str(",iters,seconds\n");
        for r in &rows {
            let _ = write!(
                csv,
                "{},{},{},{},{}",
                r.model, r.seed, r.knn, r.matched, r.recon
            );
            for f in &r.forecast {
                let _ = write!(csv, ",{f}");
            }
            let _ = writeln!(csv, ",{},{:.3}", r.iters, r.seconds);
        }
        let w = |name: &str, bytes: &[u8]| {
            crate::io::write_atomic(dir.join(name), bytes)
                .map_err(|e| CliError::failure(e.to_string()))
        };
        w("results.csv", csv.as_bytes())?;
        w(
            "summary.json",
            serde_json::to_string_pretty(&serde_json::Value::Object(summary))
                .unwrap_or_default()
                .as_bytes(),
        )?;
        w("summary.txt", text.as_bytes())?;
    }
    Ok(())
}
