//! `neurodyn gdm fit DATA --states K`: fit a GDM, write soft states, metrics and figures.

use super::data::{Series, channel_stats, load, standardise};
use super::eval::{K_MAX, KNN_K, score_gdm};
use super::plots::{Segmentation, elbo_curve, segmentation};
use super::{CliError, ModelOpts, fit_model};
use crate::io::{Array, CsvTable, write_csv, write_npy, write_npz};
use crate::metrics::argmax_rows;
use crate::models::gdm::Sequences;
use crate::train::Control;
use crate::train::gdm::GdmIter;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Options of `neurodyn gdm fit`.
#[derive(clap::Args, Debug, Clone)]
pub struct FitArgs {
    /// The time series: .npy (T × N), .csv (columns = channels), .npz (y or train_y, optional
    /// labels; test_y/test_labels become the test sequence) or a UEA .ts archive (recordings
    /// concatenated, labelled by class).
    pub data: PathBuf,
    /// Number of discrete states K (at least 2).
    #[arg(long)]
    pub states: usize,
    /// CSV column holding true labels (a header name or a 0-based index); it is not used as
    /// an observation, only for the metrics and the plot.
    #[arg(long)]
    pub labels: Option<String>,
    /// A test sequence in the same format: states are inferred there with the fitted model
    /// and the kNN state accuracy is scored on it.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Shuffle the recordings of a .ts archive (with this seed) before concatenating them.
    #[arg(long)]
    pub shuffle: Option<u64>,
    /// Standardise every channel with the training mean and standard deviation.
    #[arg(long)]
    pub standardize: bool,
    /// Random seed (initialisation, Gumbel noise).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Model and training options.
    #[command(flatten)]
    pub model: ModelOpts,
    /// Output folder (default: runs/gdm-<file stem>-k<K>-s<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Print the metrics as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn sequences(path: &Path, s: &Series) -> Result<Sequences<f64>, CliError> {
    Sequences::new(s.y.clone(), s.steps, s.obs)
        .map_err(|e| CliError::input(format!("{}: {}", path.display(), e.reason)))
}

/// Runs `neurodyn gdm fit`.
pub fn run(a: &FitArgs) -> Result<(), CliError> {
    let cfg = a.model.config(a.states, 1)?; // validates K, τ, … before reading data
    let fit_cfg = a.model.fit_config()?;
    let loaded = load(&a.data, a.labels.as_deref(), a.shuffle)?;
    let mut train = loaded.train;
    let mut test = match &a.test {
        Some(p) => Some((p.clone(), load(p, a.labels.as_deref(), a.shuffle)?.train)),
        None => loaded.test.map(|t| (a.data.clone(), t)),
    };
    if let Some((p, t)) = &test
        && t.obs != train.obs
    {
        return Err(CliError::input(format!(
            "{}: {} channels, but the training data has {}",
            p.display(),
            t.obs,
            train.obs
        )));
    }
    if a.standardize {
        let (m, s) = channel_stats(&train);
        standardise(&mut train, &m, &s);
        if let Some((_, t)) = &mut test {
            standardise(t, &m, &s);
        }
    }
    let data = sequences(&a.data, &train)?;
    let test_data = match &test {
        Some((p, t)) => Some(sequences(p, t)?),
        None => None,
    };
    let cfg = crate::models::gdm::GdmConfig {
        obs: train.obs,
        ..cfg
    };
    let out = a.out.clone().unwrap_or_else(|| {
        let stem = a
            .data
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("data");
        PathBuf::from(format!("runs/gdm-{stem}-k{}-s{}", a.states, a.seed))
    });
    std::fs::create_dir_all(&out)
        .map_err(|e| CliError::failure(format!("{}: {e}", out.display())))?;
    // fit
    let mut rng = crate::rng::seeded(a.seed);
    let every = (fit_cfg.iters / 10).max(1);
    let quiet = a.quiet || a.json;
    let mut observer = |r: &GdmIter| {
        if !quiet && (r.iter == 1 || r.iter.is_multiple_of(every)) {
            eprintln!(
                "iter {}/{}  ELBO {:.2}  lr {:.1e}  |∇| {:.3e}",
                r.iter, fit_cfg.iters, r.elbo, r.lr, r.grad_norm
            );
        }
        Control::Continue
    };
    let (model, report) = fit_model(&a.model, cfg, &fit_cfg, &data, &mut rng, &mut observer)?;
    if let crate::train::gdm::GdmStop::Diverged { iter } = report.stop
        && report.iters == 0
    {
        return Err(CliError::failure(format!(
            "the ELBO was not finite at iteration {iter}; try --standardize or a smaller --lr"
        )));
    }
    // score
    let scores = score_gdm(
        &model,
        &data,
        train.labels.as_deref(),
        test_data
            .as_ref()
            .map(|d| (d, test.as_ref().and_then(|(_, t)| t.labels.as_deref()))),
        a.model.eval_samples,
        &mut rng,
    )?;
    // write
    let k = a.states;
    write_states(
        &out,
        "states",
        &scores.train_states,
        k,
        train.labels.as_deref(),
    )?;
    if let (Some(st), Some((_, t))) = (&scores.test_states, &test) {
        write_states(&out, "test_states", st, k, t.labels.as_deref())?;
    }
    let mut elbo_csv = String::from("iteration,elbo\n");
    for (i, v) in report.elbo.iter().enumerate() {
        let _ = writeln!(elbo_csv, "{},{v}", i + 1);
    }
    write(&out, "elbo.csv", elbo_csv.as_bytes())?;
    let params: Vec<(String, Array)> = model
        .store()
        .infos()
        .iter()
        .map(|i| {
            let shape = model.spec_shape(&i.name);
            let v = model
                .store()
                .get(model.store().id(&i.name).expect("internal: own name"));
            (
                i.name.clone(),
                Array::new(shape, crate::io::ArrayData::F64(v.to_vec()))
                    .expect("internal: spec shape fits"),
            )
        })
        .collect();
    let refs: Vec<(&str, &Array)> = params.iter().map(|(n, a)| (n.as_str(), a)).collect();
    write_npz(out.join("params.npz"), &refs).map_err(|e| CliError::failure(e.to_string()))?;
    let metrics = serde_json::json!({
        "data": a.data.display().to_string(),
        "test": test.as_ref().map(|(p, _)| p.display().to_string()),
        "states": k, "obs": train.obs, "steps": train.steps,
        "iters": report.iters, "stop": format!("{:?}", report.stop),
        "seconds": report.seconds, "seconds_per_iter": report.secs_per_iter(),
        "elbo_final": report.elbo.last(),
        "gamma": model.store().get(model.store().id("gamma").expect("internal: gamma"))[0],
        "knn_accuracy": scores.states.knn, "knn_k": KNN_K,
        "matched_accuracy_train": scores.states.matched_train,
        "matched_accuracy_test": scores.states.matched_test,
        "recon_r2_train": scores.recon_train, "recon_r2_test": scores.recon_test,
        "forecast_r2": scores.forecast, "forecast_on": if test.is_some() { "test" } else { "train" },
        "state_use": state_use(&scores.train_states, k),
    });
    write(
        &out,
        "metrics.json",
        serde_json::to_string_pretty(&metrics)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    let stem = a
        .data
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("data");
    let fig = segmentation(&Segmentation {
        y: &train.y,
        obs: train.obs,
        states: &scores.train_states,
        k,
        labels: train.labels.as_deref(),
        label_names: &train.label_names,
        title: format!("GDM segmentation of {stem} (K = {k})"),
        max_channels: 4,
    });
    crate::cli::figures::save_both(&fig, &out, "segmentation")
        .map_err(|e| CliError::failure(e.to_string()))?;
    if let (Some(st), Some((p, t))) = (&scores.test_states, &test) {
        let tstem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("test");
        let fig = segmentation(&Segmentation {
            y: &t.y,
            obs: t.obs,
            states: st,
            k,
            labels: t.labels.as_deref(),
            label_names: &t.label_names,
            title: format!("GDM states on the test sequence {tstem} (K = {k})"),
            max_channels: 4,
        });
        crate::cli::figures::save_both(&fig, &out, "test_segmentation")
            .map_err(|e| CliError::failure(e.to_string()))?;
    }
    crate::cli::figures::save_both(&elbo_curve(&report.elbo, "training"), &out, "elbo")
        .map_err(|e| CliError::failure(e.to_string()))?;
    if a.json {
        outln!("{metrics}");
    } else if !a.quiet {
        let opt = |v: Option<f64>| v.map_or("–".to_string(), |x| format!("{x:.4}"));
        outln!(
            "{} iterations ({:?}) in {:.1} s ({:.2} ms/iteration), final ELBO {:.2}",
            report.iters,
            report.stop,
            report.seconds,
            1e3 * report.secs_per_iter(),
            report.elbo.last().copied().unwrap_or(f64::NAN)
        );
        outln!(
            "state accuracy: kNN (k = {KNN_K}) {}   matched train {}   matched test {}",
            opt(scores.states.knn),
            opt(scores.states.matched_train),
            opt(scores.states.matched_test)
        );
        outln!(
            "reconstruction R²: train {:.4}   test {}",
            scores.recon_train,
            opt(scores.recon_test)
        );
        let f: Vec<String> = scores.forecast.iter().map(|v| format!("{v:.3}")).collect();
        outln!("forecast R² k = 1..{K_MAX}: {}", f.join(" "));
        outln!("wrote {}", out.display());
    }
    Ok(())
}

fn state_use(z: &[f64], k: usize) -> Vec<f64> {
    let rows = z.len() / k.max(1);
    (0..k)
        .map(|j| (0..rows).map(|t| z[t * k + j]).sum::<f64>() / rows.max(1) as f64)
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), CliError> {
    crate::io::write_atomic(dir.join(name), bytes).map_err(|e| CliError::failure(e.to_string()))
}

/// `<stem>.csv` (state_0..K−1, argmax, label) and `<stem>.npy` (`T × K`).
fn write_states(
    dir: &Path,
    stem: &str,
    z: &[f64],
    k: usize,
    labels: Option<&[usize]>,
) -> Result<(), CliError> {
    let rows = z.len() / k;
    let hard = argmax_rows(z, k);
    let mut names: Vec<String> = (0..k).map(|j| format!("state_{j}")).collect();
    names.push("argmax".into());
    if labels.is_some() {
        names.push("label".into());
    }
    let cols = names.len();
    let mut data = Vec::with_capacity(rows * cols);
    for t in 0..rows {
        data.extend_from_slice(&z[t * k..(t + 1) * k]);
        data.push(hard[t] as f64);
        if let Some(l) = labels {
            data.push(l[t] as f64);
        }
    }
    let f = |e: crate::io::DataError| CliError::failure(e.to_string());
    write_csv(
        dir.join(format!("{stem}.csv")),
        &CsvTable {
            names: Some(names),
            rows,
            cols,
            data,
        },
    )
    .map_err(f)?;
    write_npy(
        dir.join(format!("{stem}.npy")),
        &Array::from_matrix(rows, k, z.to_vec()).map_err(f)?,
    )
    .map_err(f)
}
