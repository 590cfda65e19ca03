//! `neurodyn lowrank fit DATA`: a low-rank RNN fitted to a recording, gauge-fixed, with its
//! latent trajectories, loadings and latent dynamics; compared with the truth when
//! `lowrank simulate` wrote the data.

use super::super::CliError;
use super::super::figures::save_both;
use super::super::progress::Progress;
use super::data::{DataOptions, Truth, load};
use super::{array_f64, fmt_points, plots, write_json, write_npz};
use crate::analysis::Stability;
use crate::models::lowrank::fit::{FitConfig, FitResult, fit, select_rank};
use crate::models::lowrank::gauge::{align, overlap, project_kappa, whiten};
use crate::models::lowrank::latent::{AnalysisOptions, LatentAnalysis, analyze};
use crate::models::lowrank::meanfield::SampleField;
use crate::models::lowrank::metrics::{LoadingsReport, report};
use crate::models::lowrank::recording::Recording;
use crate::models::lowrank::simulate::simulate_states;
use crate::models::lowrank::{LowRank, LowRankConfig};
use crate::solve::GradMode;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `neurodyn lowrank fit`.
#[derive(clap::Args, Debug)]
pub struct FitArgs {
    /// The recording: .npy ([trials][samples][neurons] or [samples][neurons]), .npz (array
    /// activity/rates/spikes/x, optional inputs and sample_dt) or .csv (samples × neurons).
    pub data: PathBuf,
    /// Rank R.
    #[arg(long, default_value_t = 1, conflicts_with = "ranks")]
    pub rank: usize,
    /// Ranks to try, comma-separated: the smallest within 0.005 of the best held-out R² wins.
    #[arg(long, value_delimiter = ',')]
    pub ranks: Option<Vec<usize>>,
    /// Passes over the training trials.
    #[arg(long, default_value_t = 150)]
    pub epochs: usize,
    /// Trials per step.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Adam learning rate (cosine decay).
    #[arg(long, default_value_t = 2e-2)]
    pub lr: f64,
    /// L-BFGS iterations on the whole training set after the Adam epochs (0: none).
    #[arg(long, default_value_t = 0)]
    pub polish: usize,
    /// RK4 steps per sample interval.
    #[arg(long, default_value_t = 1)]
    pub substeps: usize,
    /// Initialise m at random instead of from the principal components of the activity.
    #[arg(long)]
    pub random_init: bool,
    /// Standard deviation of the initial loadings.
    #[arg(long, default_value_t = 1.0)]
    pub init_scale: f64,
    /// Constant added to the initial n (a biased initialisation, as in SPEC §4.4).
    #[arg(long, default_value_t = 0.0)]
    pub n_offset: f64,
    /// Learn each trial's initial state (default: for spikes only; with rates the first sample
    /// pins it).
    #[arg(long)]
    pub learn_x0: Option<bool>,
    /// Fraction of trials held out for R².
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// Interval between samples (default: from the .npz or meta.json).
    #[arg(long)]
    pub sample_dt: Option<f64>,
    /// Observation model: rates or spikes (default: meta.json, else rates).
    #[arg(long)]
    pub obs: Option<String>,
    /// Spikes: λ_max (default: meta.json, else 20).
    #[arg(long)]
    pub rate_scale: Option<f64>,
    /// Gradient mode through the solver: backprop, checkpointed, adjoint.
    #[arg(long, default_value = "checkpointed")]
    pub grad_mode: String,
    /// Random seed (split, initialisation, minibatch order).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run folder (default: runs/lowrank-<data folder>-s<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn failure(e: impl std::fmt::Display) -> CliError {
    CliError::failure(e.to_string())
}

/// The fit's summary of its latent dynamics.
fn describe(a: &LatentAnalysis) -> serde_json::Value {
    let pts = |s: Stability| -> Vec<Vec<f64>> {
        a.fixed_points
            .iter()
            .filter(|p| p.stability == s)
            .map(|p| p.kappa.clone())
            .collect()
    };
    serde_json::json!({
        "stable": pts(Stability::Stable), "saddle": pts(Stability::Saddle),
        "unstable": pts(Stability::Unstable),
        "cycles": a.cycles.iter().map(|c| serde_json::json!({"radius": c.radius, "period": c.period})).collect::<Vec<_>>(),
        "ring_radius": a.ring.as_ref().map(|r| r.0),
    })
}

/// A report as JSON.
pub(crate) fn report_json(r: &LoadingsReport) -> serde_json::Value {
    serde_json::json!({"field_error": r.field_error, "mean_n": r.mean_n, "corr_nm": r.corr_nm,
        "corr_error": r.corr_error, "even_corr": r.even_corr, "kurtosis_m": r.kurtosis_m,
        "sliced_w2": r.sliced_w2, "mmd2": r.mmd2, "w1_j": r.w1_j})
}

/// Runs `neurodyn lowrank fit`.
pub fn run(a: &FitArgs) -> Result<(), CliError> {
    let (rec, truth) = load(
        &a.data,
        &DataOptions {
            sample_dt: a.sample_dt,
            obs: a.obs.clone(),
            rate_scale: a.rate_scale,
        },
    )?;
    let grad_mode: GradMode = a
        .grad_mode
        .parse()
        .map_err(|e: crate::ConfigError| CliError::input(format!("--grad-mode: {}", e.reason)))?;
    let ranks = a.ranks.clone().unwrap_or_else(|| vec![a.rank]);
    let cfg = FitConfig {
        rank: ranks[0],
        epochs: a.epochs,
        batch: a.batch,
        lr: a.lr,
        substeps: a.substeps,
        grad_mode,
        pca_init: !a.random_init,
        init_scale: a.init_scale,
        n_offset: a.n_offset,
        learn_x0: a.learn_x0.unwrap_or(!matches!(
            rec.obs,
            crate::models::lowrank::recording::ObsModel::Rates
        )),
        holdout: a.holdout,
        polish: a.polish,
        ..Default::default()
    };
    for &r in &ranks {
        FitConfig {
            rank: r,
            ..cfg.clone()
        }
        .validate(&rec)
        .map_err(|e| CliError::input(format!("--{}: {}", e.field.replace('_', "-"), e.reason)))?;
    }
    let name = a
        .data
        .parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "data".into());
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("lowrank-{name}-s{}", a.seed)));
    std::fs::create_dir_all(&out).map_err(|e| failure(format!("{}: {e}", out.display())))?;
    let mut metrics = std::fs::File::create(out.join("metrics.csv"))
        .map_err(|e| failure(format!("{}: {e}", out.display())))?;
    let _ = writeln!(metrics, "rank,epoch,seconds,loss,grad_norm,heldout_r2");
    if !a.quiet && !a.json {
        outln!(
            "fitting rank {} to {} ({} trials × {} samples × {} neurons, {}) → {}",
            ranks
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            a.data.display(),
            rec.trials,
            rec.samples,
            rec.neurons,
            match rec.obs {
                crate::models::lowrank::recording::ObsModel::Rates => "rates",
                _ => "spikes",
            },
            out.display()
        );
    }
    let progress = Progress::new(
        ((a.epochs + a.polish) * ranks.len()) as u64,
        a.quiet || a.json,
    );
    let start = Instant::now();
    let mut rng = crate::rng::seeded(a.seed);
    let mut done = 0u64;
    let mut obs = |r: usize, e: &crate::models::lowrank::fit::FitEpoch| {
        done += 1;
        let r2 = e
            .heldout_r2
            .map_or(String::new(), |v| format!(" held-out R² {v:.4}"));
        progress.update(done, &format!("rank {r} loss {:.3e}{r2}", e.loss));
        let _ = writeln!(
            metrics,
            "{r},{},{:.3},{},{},{}",
            e.epoch,
            start.elapsed().as_secs_f64(),
            e.loss,
            e.grad_norm,
            e.heldout_r2.unwrap_or(f64::NAN)
        );
        true
    };
    let (res, scores): (FitResult, Vec<(usize, f64)>) = if ranks.len() == 1 {
        let f = fit(&rec, &cfg, &mut rng, |e, _| obs(ranks[0], e)).map_err(failure)?;
        let s = vec![(ranks[0], f.heldout_r2)];
        (f, s)
    } else {
        select_rank(&rec, &ranks, &cfg, 0.005, &mut rng, |r, e, _| obs(r, e)).map_err(failure)?
    };
    progress.finish();
    let secs = start.elapsed().as_secs_f64();
    write_outputs(a, &rec, truth.as_ref(), &res, &scores, &out, secs, &mut rng)
}

/// Gauge-fixes the fit and writes fit.npz, loadings.csv, kappa.npy, model.json, result.json
/// and the figures.
#[allow(clippy::too_many_arguments)]
fn write_outputs(
    a: &FitArgs,
    rec: &Recording,
    truth: Option<&Truth>,
    res: &FitResult,
    scores: &[(usize, f64)],
    out: &Path,
    secs: f64,
    rng: &mut crate::rng::Rng,
) -> Result<(), CliError> {
    let net = &res.net;
    let (n, r, s) = (rec.neurons, net.config().rank, rec.input_dim);
    let (m, nn, gauge) = whiten(net.m(), net.n(), r)
        .ok_or_else(|| failure("the fitted left loadings are degenerate (MᵀM singular)"))?;
    // latent trajectories of every trial (training: fitted x0; held out: from the data)
    let mut order: Vec<usize> = res.train.clone();
    order.extend_from_slice(&res.heldout);
    let mut x0: Vec<f64> = net.x0().to_vec();
    for &b in &res.heldout {
        x0.extend(rec.initial_guess(b));
    }
    let plain = LowRank::from_loadings(
        LowRankConfig {
            neurons: n,
            rank: r,
            inputs: s,
            tau: net.config().tau,
            initial_states: 0,
        },
        net.m(),
        net.n(),
        net.input(),
    )
    .map_err(failure)?;
    let inputs = rec.inputs_time_major(&order);
    let x = simulate_states(
        &plain,
        &x0,
        order.len(),
        rec.samples,
        rec.sample_dt,
        rec.sample_dt / a.substeps.max(1) as f64,
        &inputs,
    )
    .map_err(failure)?;
    let kap = project_kappa(&m, r, &x).ok_or_else(|| failure("degenerate loadings"))?;
    // back to trial order
    let t = rec.samples;
    let mut kappa = vec![0.0; rec.trials * t * r];
    for (q, &b) in order.iter().enumerate() {
        kappa[b * t * r..(b + 1) * t * r].copy_from_slice(&kap[q * t * r..(q + 1) * t * r]);
    }
    let radius = kappa
        .iter()
        .fold(0.0f64, |acc, v| acc.max(v.abs()))
        .max(0.1)
        * 1.1;
    let field = SampleField::from_loadings(r, &m, &nn, &[], net.config().tau);
    let analysis = analyze(
        &field,
        &AnalysisOptions {
            radius,
            ..Default::default()
        },
    );
    let mut arrays = vec![
        ("m", array_f64(vec![n, r], m.clone())?),
        ("n", array_f64(vec![n, r], nn.clone())?),
        ("gauge", array_f64(vec![r, r], gauge.clone())?),
        (
            "x0",
            array_f64(vec![res.train.len(), n], net.x0().to_vec())?,
        ),
        ("overlap", array_f64(vec![r, r], overlap(&m, &nn, r))?),
        (
            "train_trials",
            array_f64(
                vec![res.train.len()],
                res.train.iter().map(|&b| b as f64).collect(),
            )?,
        ),
        (
            "heldout_trials",
            array_f64(
                vec![res.heldout.len()],
                res.heldout.iter().map(|&b| b as f64).collect(),
            )?,
        ),
    ];
    if s > 0 {
        arrays.push(("input", array_f64(vec![n, s], net.input().to_vec())?));
    }
    // against the truth, in the truth's gauge
    let mut truth_json = serde_json::Value::Null;
    if let Some(tr) = truth.filter(|tr| tr.rank == r) {
        let (ma, na, align_a) =
            align(&m, &nn, &tr.m, r).ok_or_else(|| failure("cannot align with the truth"))?;
        let rep = report(&ma, &na, &tr.m, &tr.n, r, radius, rng);
        let rep_true = report(&tr.m, &tr.n, &tr.m, &tr.n, r, radius, rng);
        truth_json = serde_json::json!({"truth": tr.path.display().to_string(), "recipe": tr.recipe,
            "fit": report_json(&rep), "truth_itself": report_json(&rep_true)});
        arrays.push(("align", array_f64(vec![r, r], align_a)?));
        arrays.push(("m_aligned", array_f64(vec![n, r], ma.clone())?));
        arrays.push(("n_aligned", array_f64(vec![n, r], na.clone())?));
        let fig = plots::loadings(
            &[("truth", &tr.m, &tr.n), ("plain fit", &ma, &na)],
            r,
            "Loadings (truth's gauge)",
        );
        save_both(&fig, out, "loadings").map_err(failure)?;
        let j_t = crate::models::lowrank::metrics::jij_samples(&tr.m, &tr.n, r, 20_000, rng);
        let j_f = crate::models::lowrank::metrics::jij_samples(&ma, &na, r, 20_000, rng);
        save_both(
            &plots::jij(&[("truth", &j_t), ("plain fit", &j_f)], "J_ij"),
            out,
            "jij",
        )
        .map_err(failure)?;
        if !a.quiet && !a.json {
            outln!(
                "against the truth: field error {:.2} %, |E[n]| {:.3} (truth {:.3}), corr(n, m) error {:.3}, W1(J) {:.3}",
                100.0 * rep.field_error,
                rep.mean_n,
                rep_true.mean_n,
                rep.corr_error,
                rep.w1_j
            );
        }
    } else {
        let fig = plots::loadings(&[("plain fit", &m, &nn)], r, "Loadings (whitened gauge)");
        save_both(&fig, out, "loadings").map_err(failure)?;
        let j_f = crate::models::lowrank::metrics::jij_samples(&m, &nn, r, 20_000, rng);
        save_both(&plots::jij(&[("plain fit", &j_f)], "J_ij"), out, "jij").map_err(failure)?;
    }
    write_npz(out, "fit.npz", &arrays)?;
    crate::io::write_npy(
        out.join("kappa.npy"),
        &array_f64(vec![rec.trials, t, r], kappa.clone())?,
    )
    .map_err(failure)?;
    // loadings.csv
    let mut csv = String::from("neuron");
    for q in 0..r {
        csv += &format!(",m{}", q + 1);
    }
    for q in 0..r {
        csv += &format!(",n{}", q + 1);
    }
    for q in 0..s {
        csv += &format!(",I{}", q + 1);
    }
    csv.push('\n');
    for i in 0..n {
        csv += &i.to_string();
        for v in m[i * r..(i + 1) * r]
            .iter()
            .chain(&nn[i * r..(i + 1) * r])
            .chain(&net.input()[i * s..(i + 1) * s])
        {
            csv += &format!(",{v}");
        }
        csv.push('\n');
    }
    crate::io::write_atomic(out.join("loadings.csv"), csv.as_bytes()).map_err(failure)?;
    // figures: training curves, latent flow
    let trajectories: Vec<Vec<Vec<f64>>> = (0..rec.trials.min(24))
        .map(|b| {
            (0..t)
                .map(|k| kappa[(b * t + k) * r..(b * t + k + 1) * r].to_vec())
                .collect()
        })
        .collect();
    let mut fig = crate::plot::Figure::new(620, 560);
    plots::latent_panel(
        fig.ax(),
        &field,
        &analysis,
        &trajectories,
        radius,
        "Latent dynamics of the fit",
    );
    save_both(&fig, out, "latent").map_err(failure)?;
    let hist = &res.history;
    let ep: Vec<f64> = hist.iter().map(|e| e.epoch as f64).collect();
    let loss: Vec<f64> = hist.iter().map(|e| e.loss).collect();
    let (re, rv): (Vec<f64>, Vec<f64>) = hist
        .iter()
        .filter_map(|e| e.heldout_r2.map(|v| (e.epoch as f64, v)))
        .unzip();
    let mut tf = crate::plot::Figure::grid(960, 380, 1, 2);
    tf.panel(0, 0)
        .line(&ep, &loss, crate::plot::Style::new())
        .log_y(true)
        .xlabel("epoch")
        .ylabel("loss")
        .title("Training loss");
    tf.panel(0, 1)
        .line(
            &re,
            &rv,
            crate::plot::Style::new().marker(crate::plot::Marker::Circle),
        )
        .xlabel("epoch")
        .ylabel("R²")
        .title("Held-out R²");
    save_both(&tf, out, "training").map_err(failure)?;
    let model = serde_json::json!({
        "kind": "lowrank", "neurons": n, "rank": r, "inputs": s, "tau": net.config().tau,
        "data": std::fs::canonicalize(&a.data).unwrap_or(a.data.clone()).display().to_string(),
        "sample_dt": rec.sample_dt, "substeps": a.substeps, "seed": a.seed,
        "truth": truth.map(|t| std::fs::canonicalize(&t.path).unwrap_or(t.path.clone()).display().to_string()),
        "recipe": truth.and_then(|t| t.recipe.clone()), "latent_radius": radius,
    });
    write_json(&out.join("model.json"), &model)?;
    let result = serde_json::json!({
        "rank": r, "ranks": scores.iter().map(|(k, v)| serde_json::json!({"rank": k, "heldout_r2": v})).collect::<Vec<_>>(),
        "train_r2": res.train_r2, "heldout_r2": res.heldout_r2, "epochs": res.history.len(), "seconds": secs,
        "overlap": overlap(&m, &nn, r), "latent": describe(&analysis), "against_truth": truth_json,
    });
    write_json(&out.join("result.json"), &result)?;
    if a.json {
        outln!("{}", result);
    } else if !a.quiet {
        if scores.len() > 1 {
            outln!(
                "held-out R² by rank: {}",
                scores
                    .iter()
                    .map(|(k, v)| format!("{k}: {v:.4}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        outln!(
            "rank {r}: training R² {:.4}, held-out R² {:.4} ({secs:.1} s); latent: stable {}, saddles/unstable {}{}{}",
            res.train_r2,
            res.heldout_r2,
            fmt_points(&describe_points(&analysis, Stability::Stable)),
            fmt_points(
                &[
                    describe_points(&analysis, Stability::Saddle),
                    describe_points(&analysis, Stability::Unstable)
                ]
                .concat()
            ),
            analysis.cycles.first().map_or(String::new(), |c| format!(
                ", cycle r {:.3} T {:.3}",
                c.radius, c.period
            )),
            analysis
                .ring
                .as_ref()
                .map_or(String::new(), |g| format!(", ring r {:.3}", g.0)),
        );
        outln!("run folder {}", out.display());
    }
    Ok(())
}

fn describe_points(a: &LatentAnalysis, s: Stability) -> Vec<Vec<f64>> {
    a.fixed_points
        .iter()
        .filter(|p| p.stability == s)
        .map(|p| p.kappa.clone())
        .collect()
}
