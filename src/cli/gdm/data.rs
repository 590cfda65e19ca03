//! Time series for `neurodyn gdm fit`: `.npy` (`T × N` or `T`), CSV (numeric columns, one of
//! them optionally the labels), `.npz` (`y` or `train_y`, optional `labels`/`train_labels`,
//! and `test_y`/`test_labels` used as the test sequence), UEA `.ts` (the recordings
//! concatenated into one sequence, labelled by class).

use super::CliError;
use crate::io::{self, CsvOptions, TsOptions};
use rand::seq::SliceRandom;
use std::path::Path;

/// One labelled (or unlabelled) sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Observations `steps × obs`.
    pub y: Vec<f64>,
    /// Time steps.
    pub steps: usize,
    /// Channels.
    pub obs: usize,
    /// True labels, if known.
    pub labels: Option<Vec<usize>>,
    /// Names of the labels (class names of a `.ts`), if known.
    pub label_names: Vec<String>,
}

/// A training series and, when the file holds one, a test series.
pub struct Loaded {
    /// The sequence to fit.
    pub train: Series,
    /// A test sequence found in the same file (`.npz` with `test_y`).
    pub test: Option<Series>,
}

fn bad(path: &Path, msg: impl std::fmt::Display) -> CliError {
    CliError::input(format!("{}: {msg}", path.display()))
}

fn to_labels(path: &Path, v: &[f64]) -> Result<Vec<usize>, CliError> {
    v.iter()
        .enumerate()
        .map(|(t, &x)| {
            if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 1e9 {
                Ok(x as usize)
            } else {
                Err(bad(
                    path,
                    format!("label at step {t} is {x}; labels must be non-negative integers"),
                ))
            }
        })
        .collect()
}

/// Reads a file by its extension. `label` names the CSV label column (a header name or a
/// 0-based index); `shuffle` reorders the recordings of a `.ts` before concatenating them.
///
/// # Errors
/// Unreadable or malformed files, unknown formats, missing label columns, empty data.
pub fn load(path: &Path, label: Option<&str>, shuffle: Option<u64>) -> Result<Loaded, CliError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let loaded = match ext.as_str() {
        "npy" => {
            let a = io::read_npy(path).map_err(|e| bad(path, e))?;
            let (steps, obs) = match a.shape.as_slice() {
                [t] => (*t, 1),
                [t, n] => (*t, *n),
                s => {
                    return Err(bad(
                        path,
                        format!("expected a T × N array, got shape {s:?}"),
                    ));
                }
            };
            Loaded {
                train: Series {
                    y: a.to_f64_vec(),
                    steps,
                    obs,
                    labels: None,
                    label_names: Vec::new(),
                },
                test: None,
            }
        }
        "csv" | "txt" | "tsv" => {
            let t = io::read_csv(
                path,
                &CsvOptions {
                    allow_non_finite: true,
                    ..CsvOptions::default()
                },
            )
            .map_err(|e| bad(path, e))?;
            let lc = match label {
                None => None,
                Some(name) => Some(match t.column_index(name) {
                    Ok(j) => j,
                    Err(e) => match name.parse::<usize>() {
                        Ok(j) if j < t.cols => j,
                        _ => return Err(bad(path, format!("--labels: {e}"))),
                    },
                }),
            };
            let obs = t.cols - usize::from(lc.is_some());
            if obs == 0 {
                return Err(bad(path, "no observation columns besides the labels"));
            }
            let mut y = Vec::with_capacity(t.rows * obs);
            for i in 0..t.rows {
                for j in (0..t.cols).filter(|&j| Some(j) != lc) {
                    y.push(t.data[i * t.cols + j]);
                }
            }
            let labels = lc.map(|j| to_labels(path, &t.column(j))).transpose()?;
            Loaded {
                train: Series {
                    y,
                    steps: t.rows,
                    obs,
                    labels,
                    label_names: Vec::new(),
                },
                test: None,
            }
        }
        "npz" => {
            let z = io::read_npz(path).map_err(|e| bad(path, e))?;
            let names = z.names().iter().map(|s| s.to_string()).collect::<Vec<_>>();
            let get = |keys: &[&'static str]| -> Option<&'static str> {
                keys.iter().find(|k| names.iter().any(|n| n == *k)).copied()
            };
            let series = |yk: &str, lk: Option<&str>| -> Result<Series, CliError> {
                let a = z.get(yk).map_err(|e| bad(path, e))?;
                let (steps, obs) = match a.shape.as_slice() {
                    [t] => (*t, 1),
                    [t, n] => (*t, *n),
                    s => {
                        return Err(bad(
                            path,
                            format!("{yk}: expected a T × N array, got shape {s:?}"),
                        ));
                    }
                };
                let labels = match lk {
                    Some(k) => Some(to_labels(
                        path,
                        &z.get(k).map_err(|e| bad(path, e))?.to_f64_vec(),
                    )?),
                    None => None,
                };
                Ok(Series {
                    y: a.to_f64_vec(),
                    steps,
                    obs,
                    labels,
                    label_names: Vec::new(),
                })
            };
            let yk = get(&["y", "train_y"]).ok_or_else(|| {
                bad(
                    path,
                    format!("no array y or train_y (arrays: {})", names.join(", ")),
                )
            })?;
            let lk = if yk == "y" {
                get(&["labels"])
            } else {
                get(&["train_labels"])
            };
            let train = series(yk, lk)?;
            let test = match get(&["test_y"]) {
                Some(tk) => Some(series(tk, get(&["test_labels"]))?),
                None => None,
            };
            Loaded { train, test }
        }
        "ts" => {
            let ds = io::read_ts(path, &TsOptions::default()).map_err(|e| bad(path, e))?;
            if ds.is_empty() {
                return Err(bad(path, "no recordings"));
            }
            let mut order: Vec<usize> = (0..ds.len()).collect();
            if let Some(seed) = shuffle {
                order.shuffle(&mut crate::rng::seeded(seed));
            }
            let obs = ds.dims;
            let mut y = Vec::new();
            let mut labels = Vec::new();
            for &i in &order {
                y.extend_from_slice(&ds.series[i]);
                let len = ds.series_len(i);
                if !ds.labels.is_empty() {
                    labels.extend(std::iter::repeat_n(ds.labels[i], len));
                }
            }
            let steps = y.len() / obs.max(1);
            Loaded {
                train: Series {
                    y,
                    steps,
                    obs,
                    labels: (!ds.labels.is_empty()).then_some(labels),
                    label_names: ds.class_names.clone(),
                },
                test: None,
            }
        }
        _ => {
            return Err(bad(
                path,
                "unknown data format (use .npy, .csv, .npz or .ts)",
            ));
        }
    };
    for s in std::iter::once(&loaded.train).chain(loaded.test.as_ref()) {
        if s.steps == 0 || s.obs == 0 {
            return Err(bad(path, "empty: no time steps"));
        }
        if let Some(l) = &s.labels
            && l.len() != s.steps
        {
            return Err(bad(
                path,
                format!("{} labels for {} time steps", l.len(), s.steps),
            ));
        }
    }
    Ok(loaded)
}

/// Per-channel mean and standard deviation (at least 1e-12).
pub fn channel_stats(s: &Series) -> (Vec<f64>, Vec<f64>) {
    let (t, n) = (s.steps, s.obs);
    let mut mean = vec![0.0; n];
    let mut sd = vec![0.0; n];
    for j in 0..n {
        mean[j] = (0..t).map(|i| s.y[i * n + j]).sum::<f64>() / t as f64;
        sd[j] = ((0..t)
            .map(|i| (s.y[i * n + j] - mean[j]).powi(2))
            .sum::<f64>()
            / t as f64)
            .sqrt()
            .max(1e-12);
    }
    (mean, sd)
}

/// `(y − mean)/sd` per channel, in place.
pub fn standardise(s: &mut Series, mean: &[f64], sd: &[f64]) {
    let n = s.obs;
    for (i, v) in s.y.iter_mut().enumerate() {
        *v = (*v - mean[i % n]) / sd[i % n];
    }
}
