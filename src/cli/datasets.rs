//! Labelled sequence data sets from files: UEA `.ts` archives, or `.npz` files with arrays
//! `x` (`n × steps × inputs`), `y` (`n` class indices, or `n × steps × outputs` targets) and an
//! optional `lengths` (`n`). Inputs are standardised per channel with the training set's mean
//! and standard deviation.

use super::CliError;
use crate::io::{self, TsOptions};
use crate::train::{Labels, SeqData};
use std::path::Path;

/// A data set before standardisation: trial-major inputs, lengths, labels.
struct Raw {
    n: usize,
    steps: usize,
    inputs: usize,
    x: Vec<f64>,
    lengths: Vec<usize>,
    labels: RawLabels,
}

enum RawLabels {
    Classes(Vec<usize>, Vec<String>),
    Sequence(Vec<f64>, usize),
}

fn from_ts(path: &Path) -> Result<Raw, CliError> {
    let ds =
        io::read_ts(path, &TsOptions::default()).map_err(|e| CliError::input(e.to_string()))?;
    if ds.is_empty() {
        return Err(CliError::input(format!("{}: no cases", path.display())));
    }
    if ds.class_names.is_empty() {
        return Err(CliError::input(format!(
            "{}: the archive has no class labels (@classLabel false)",
            path.display()
        )));
    }
    let d = ds.dims;
    let lens: Vec<usize> = ds.series.iter().map(|s| s.len() / d.max(1)).collect();
    let steps = lens.iter().copied().max().unwrap_or(0);
    if steps == 0 {
        return Err(CliError::input(format!(
            "{}: every series is empty",
            path.display()
        )));
    }
    let mut x = vec![0.0; ds.series.len() * steps * d];
    for (i, s) in ds.series.iter().enumerate() {
        x[i * steps * d..i * steps * d + s.len()].copy_from_slice(s);
    }
    Ok(Raw {
        n: ds.series.len(),
        steps,
        inputs: d,
        x,
        lengths: lens,
        labels: RawLabels::Classes(ds.labels, ds.class_names),
    })
}

fn from_npz(path: &Path) -> Result<Raw, CliError> {
    let npz = io::read_npz(path).map_err(|e| CliError::input(e.to_string()))?;
    let err = |m: String| CliError::input(format!("{}: {m}", path.display()));
    let x = npz.get("x").map_err(|e| CliError::input(e.to_string()))?;
    let (n, steps, inputs) = match x.shape.as_slice() {
        [n, s, i] if *n > 0 && *s > 0 => (*n, *s, *i),
        [n, s] if *n > 0 && *s > 0 => (*n, *s, 1),
        other => {
            return Err(err(format!(
                "array x must be trials × steps × inputs, got shape {other:?}"
            )));
        }
    };
    let xv = x.to_f64_vec();
    let y = npz.get("y").map_err(|e| CliError::input(e.to_string()))?;
    let labels = match y.shape.as_slice() {
        [m] if *m == n => {
            let v = y
                .to_i64_vec()
                .map_err(|_| err("array y must hold integer class indices".into()))?;
            if let Some(bad) = v.iter().find(|&&c| c < 0) {
                return Err(err(format!("class index {bad} in y is negative")));
            }
            let k = v.iter().copied().max().unwrap_or(0) as usize + 1;
            RawLabels::Classes(
                v.iter().map(|&c| c as usize).collect(),
                (0..k).map(|c| c.to_string()).collect(),
            )
        }
        [m, s, o] if *m == n && *s == steps => RawLabels::Sequence(y.to_f64_vec(), *o),
        other => {
            return Err(err(format!(
                "array y must be {n} class indices or {n} × {steps} × outputs, got {other:?}"
            )));
        }
    };
    let lengths = match npz.get("lengths") {
        Ok(l) => {
            let v = l
                .to_i64_vec()
                .map_err(|_| err("lengths must be integers".into()))?;
            if v.len() != n || v.iter().any(|&x| x < 1 || x as usize > steps) {
                return Err(err(format!("lengths must be {n} values in 1..={steps}")));
            }
            v.iter().map(|&x| x as usize).collect()
        }
        Err(_) => vec![steps; n],
    };
    Ok(Raw {
        n,
        steps,
        inputs,
        x: xv,
        lengths,
        labels,
    })
}

fn load(path: &Path) -> Result<Raw, CliError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("ts") => from_ts(path),
        Some("npz") => from_npz(path),
        _ => Err(CliError::input(format!(
            "{}: unknown data format (expected a UEA .ts archive or an .npz with arrays x and y)",
            path.display()
        ))),
    }
}

/// Per-channel mean and standard deviation over the valid time points.
fn channel_stats(r: &Raw) -> (Vec<f64>, Vec<f64>) {
    let d = r.inputs;
    let (mut s, mut q, mut c) = (vec![0.0; d], vec![0.0; d], 0usize);
    for t in 0..r.n {
        for k in 0..r.lengths[t] {
            for j in 0..d {
                let v = r.x[(t * r.steps + k) * d + j];
                s[j] += v;
                q[j] += v * v;
            }
            c += 1;
        }
    }
    let n = c.max(1) as f64;
    let mean: Vec<f64> = s.iter().map(|v| v / n).collect();
    let std: Vec<f64> = q
        .iter()
        .zip(&mean)
        .map(|(q, m)| (q / n - m * m).max(0.0).sqrt().max(1e-8))
        .collect();
    (mean, std)
}

fn to_seqdata(
    r: &Raw,
    mean: &[f64],
    std: &[f64],
    steps: usize,
    names: Option<&[String]>,
) -> Result<SeqData<f32>, CliError> {
    let d = r.inputs;
    let mut x = vec![0.0f32; r.n * steps * d];
    for t in 0..r.n {
        for k in 0..r.lengths[t].min(steps) {
            for j in 0..d {
                x[(t * steps + k) * d + j] =
                    ((r.x[(t * r.steps + k) * d + j] - mean[j]) / std[j]) as f32;
            }
        }
    }
    let variable = r.lengths.iter().any(|&l| l != steps);
    let labels = match &r.labels {
        RawLabels::Classes(l, own) => {
            let classes: Vec<String> = names.map(|n| n.to_vec()).unwrap_or_else(|| own.clone());
            let mut mapped = Vec::with_capacity(l.len());
            for (t, &c) in l.iter().enumerate() {
                let name = &own[c];
                let k = classes.iter().position(|n| n == name).ok_or_else(|| {
                    CliError::input(format!(
                        "test case {t} has class {name:?}, which the training data does not have"
                    ))
                })?;
                mapped.push(k);
            }
            Labels::Classes {
                labels: mapped,
                n_classes: classes.len(),
                names: classes,
            }
        }
        RawLabels::Sequence(y, o) => {
            let mut v = vec![0.0f32; r.n * steps * o];
            for t in 0..r.n {
                for k in 0..r.steps.min(steps) {
                    for j in 0..*o {
                        v[(t * steps + k) * o + j] = y[(t * r.steps + k) * o + j] as f32;
                    }
                }
            }
            Labels::Sequence { y: v, outputs: *o }
        }
    };
    let data = SeqData {
        n: r.n,
        steps,
        inputs: d,
        dt: 0.01,
        x,
        labels,
        lengths: if variable {
            Some(r.lengths.iter().map(|&l| l.min(steps)).collect())
        } else {
            None
        },
    };
    data.validate()
        .map_err(|e| CliError::input(e.to_string()))?;
    Ok(data)
}

/// Loads a train/test pair, standardising inputs with the training statistics.
///
/// # Errors
/// Unreadable or malformed files, mismatched dimensions or label sets (exit code 2), naming the
/// file and the problem.
pub fn load_pair(
    train: &Path,
    test: &Path,
) -> Result<(SeqData<f32>, SeqData<f32>, String), CliError> {
    let tr = load(train)?;
    let te = load(test)?;
    if tr.inputs != te.inputs {
        return Err(CliError::input(format!(
            "{} has {} input channels but {} has {}",
            train.display(),
            tr.inputs,
            test.display(),
            te.inputs
        )));
    }
    if let Some(bad) = tr.x.iter().chain(&te.x).position(|v| !v.is_finite()) {
        let which = if bad < tr.x.len() { train } else { test };
        return Err(CliError::input(format!(
            "{}: non-finite input value",
            which.display()
        )));
    }
    let (mean, std) = channel_stats(&tr);
    let steps = tr.steps.max(te.steps);
    let names = match &tr.labels {
        RawLabels::Classes(_, n) => Some(n.as_slice()),
        RawLabels::Sequence(..) => None,
    };
    let train_data = to_seqdata(&tr, &mean, &std, steps, names)?;
    let test_data = to_seqdata(&te, &mean, &std, steps, names)?;
    let name = train
        .file_stem()
        .map(|s| s.to_string_lossy().trim_end_matches("_TRAIN").to_string())
        .unwrap_or_else(|| "data".into());
    Ok((train_data, test_data, name))
}
