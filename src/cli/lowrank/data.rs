//! Reading recordings (`.npy`, `.npz`, CSV) and the ground truth written by `lowrank simulate`.
//!
//! ```text
//! .npy   [trials][samples][neurons], or [samples][neurons] (one trial)
//! .npz   an array named activity, rates, spikes or x (as .npy); optional inputs
//!        [trials][samples][S] and sample_dt (a scalar)
//! .csv   samples as rows, neurons as columns (one trial)
//! meta.json beside the file (from `lowrank simulate`): sample_dt, observation, rate_scale;
//! truth.npz beside it: the true loadings m, n
//! ```

use super::super::CliError;
use crate::io::{Array, CsvOptions, read_csv, read_npy, read_npz};
use crate::models::lowrank::recording::{ObsModel, Recording};
use std::path::{Path, PathBuf};

/// What the command line says about a recording (overriding meta.json).
pub struct DataOptions {
    /// Interval between samples.
    pub sample_dt: Option<f64>,
    /// `rates` or `spikes`.
    pub obs: Option<String>,
    /// λ_max for spikes.
    pub rate_scale: Option<f64>,
}

/// The ground truth of a simulated recording.
pub struct Truth {
    /// Where it was read from.
    pub path: PathBuf,
    /// `m` (`N × R`).
    pub m: Vec<f64>,
    /// `n` (`N × R`).
    pub n: Vec<f64>,
    /// Rank.
    pub rank: usize,
    /// The recipe, from meta.json.
    pub recipe: Option<String>,
}

fn bad(path: &Path, msg: impl std::fmt::Display) -> CliError {
    CliError::input(format!("{}: {msg}", path.display()))
}

/// `(trials, samples, neurons, values)` of a 2-D or 3-D array.
fn activity_shape(a: &Array, path: &Path) -> Result<(usize, usize, usize, Vec<f64>), CliError> {
    let v = a.to_f64_vec();
    match a.shape.as_slice() {
        [b, t, n] => Ok((*b, *t, *n, v)),
        [t, n] => Ok((1, *t, *n, v)),
        s => Err(bad(
            path,
            format!(
                "activity must be [trials][samples][neurons] or [samples][neurons], found shape {s:?}"
            ),
        )),
    }
}

/// Reads a recording and, when `lowrank simulate` wrote it, its meta.json and truth.npz.
///
/// # Errors
/// Unreadable or malformed files, wrong shapes, NaN activity (located), inconsistent options
/// (all exit code 2).
pub fn load(path: &Path, o: &DataOptions) -> Result<(Recording, Option<Truth>), CliError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let meta: Option<serde_json::Value> = std::fs::read_to_string(dir.join("meta.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    let (mut file_dt, mut inputs, mut input_dim) = (None, Vec::new(), 0);
    let (trials, samples, neurons, activity) = match ext.as_str() {
        "npy" => activity_shape(
            &read_npy(path).map_err(|e| CliError::input(e.to_string()))?,
            path,
        )?,
        "npz" => {
            let z = read_npz(path).map_err(|e| CliError::input(e.to_string()))?;
            let name = ["activity", "rates", "spikes", "x"]
                .into_iter()
                .find(|n| z.get(n).is_ok())
                .ok_or_else(|| {
                    bad(
                        path,
                        format!(
                            "no array named activity, rates, spikes or x (found: {})",
                            z.names().join(", ")
                        ),
                    )
                })?;
            let got = activity_shape(
                z.get(name).map_err(|e| CliError::input(e.to_string()))?,
                path,
            )?;
            if let Ok(u) = z.get("inputs") {
                match u.shape.as_slice() {
                    [b, t, s] if (*b, *t) == (got.0, got.1) => {
                        input_dim = *s;
                        inputs = u.to_f64_vec();
                    }
                    [t, s] if got.0 == 1 && *t == got.1 => {
                        input_dim = *s;
                        inputs = u.to_f64_vec();
                    }
                    s => {
                        return Err(bad(
                            path,
                            format!(
                                "inputs must be [trials][samples][channels] matching the activity \
                                 ({} × {}), found shape {s:?}",
                                got.0, got.1
                            ),
                        ));
                    }
                }
            }
            for key in ["sample_dt", "dt"] {
                if let Ok(a) = z.get(key) {
                    file_dt = a.to_f64_vec().first().copied();
                }
            }
            got
        }
        "csv" => {
            let t = read_csv(
                path,
                &CsvOptions {
                    allow_non_finite: true,
                    ..Default::default()
                },
            )
            .map_err(|e| CliError::input(e.to_string()))?;
            (1, t.rows, t.cols, t.data)
        }
        other => {
            return Err(bad(
                path,
                format!("unknown data format {other:?} (expected .npy, .npz or .csv)"),
            ));
        }
    };
    let meta_f = |k: &str| {
        meta.as_ref()
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_f64())
    };
    let sample_dt = o
        .sample_dt
        .or(file_dt)
        .or_else(|| meta_f("sample_dt"))
        .ok_or_else(|| {
            bad(
                path,
                "the sample interval is unknown: pass --sample-dt (or add sample_dt to the .npz or meta.json)",
            )
        })?;
    let meta_obs = meta
        .as_ref()
        .and_then(|m| m.get("observation"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let obs = match o.obs.clone().or(meta_obs).as_deref().unwrap_or("rates") {
        "rates" => ObsModel::Rates,
        "spikes" => ObsModel::Spikes {
            rate_scale: o
                .rate_scale
                .or_else(|| meta_f("rate_scale"))
                .unwrap_or(20.0),
        },
        other => {
            return Err(CliError::input(format!(
                "--obs: unknown observation {other:?} (expected rates or spikes)"
            )));
        }
    };
    let rec = Recording {
        trials,
        samples,
        neurons,
        sample_dt,
        activity,
        inputs,
        input_dim,
        obs,
    };
    rec.validate()
        .map_err(|e| bad(path, format!("{}: {}", e.field, e.reason)))?;
    let truth = read_truth(dir, neurons, meta.as_ref())?;
    Ok((rec, truth))
}

/// truth.npz beside a recording, if present and consistent.
fn read_truth(
    dir: &Path,
    neurons: usize,
    meta: Option<&serde_json::Value>,
) -> Result<Option<Truth>, CliError> {
    let p = dir.join("truth.npz");
    if !p.is_file() {
        return Ok(None);
    }
    let z = read_npz(&p).map_err(|e| CliError::input(e.to_string()))?;
    let get = |k: &str| -> Result<(usize, Vec<f64>), CliError> {
        let a = z.get(k).map_err(|e| CliError::input(e.to_string()))?;
        match a.shape.as_slice() {
            [nn, r] if *nn == neurons => Ok((*r, a.to_f64_vec())),
            s => Err(bad(
                &p,
                format!("{k} must be [{neurons}][rank], found shape {s:?}"),
            )),
        }
    };
    let (rank, m) = get("m")?;
    let (_, n) = get("n")?;
    Ok(Some(Truth {
        path: p,
        m,
        n,
        rank,
        recipe: meta
            .and_then(|m| m.get("recipe"))
            .and_then(|v| v.as_str())
            .map(str::to_string),
    }))
}
