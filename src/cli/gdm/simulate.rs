//! `neurodyn gdm simulate nascar|nascar-soft|lorenz`: write benchmark data to a file.

use super::CliError;
use crate::io::{Array, ArrayData, CsvTable, write_csv, write_npy, write_npz};
use crate::tasks::lorenz::{LorenzConfig, generate as lorenz};
use crate::tasks::nascar::{Nascar, Variant, train_test};
use std::path::PathBuf;

/// Options of `neurodyn gdm simulate`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// nascar, nascar-soft or lorenz.
    pub data: String,
    /// Seed of the (training) sequence.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seed of the NASCAR test sequence (default: seed + 1; must differ from --seed).
    #[arg(long)]
    pub test_seed: Option<u64>,
    /// Time steps.
    #[arg(long, default_value_t = 1000)]
    pub steps: usize,
    /// Observation channels N.
    #[arg(long, default_value_t = 10)]
    pub obs: usize,
    /// Output file: .npz (all arrays), .csv (observations and a label column) or .npy
    /// (observations only).
    #[arg(long)]
    pub out: PathBuf,
}

/// Named arrays of an `.npz`.
type Named = Vec<(String, Array)>;

fn arr(rows: usize, cols: usize, v: &[f64]) -> Result<Array, CliError> {
    Array::from_matrix(rows, cols, v.to_vec()).map_err(|e| CliError::failure(e.to_string()))
}

fn labels(l: &[usize]) -> Result<Array, CliError> {
    Array::new(
        vec![l.len()],
        ArrayData::I64(l.iter().map(|&x| x as i64).collect()),
    )
    .map_err(|e| CliError::failure(e.to_string()))
}

/// Runs `neurodyn gdm simulate`.
pub fn run(a: &SimulateArgs) -> Result<(), CliError> {
    let ext = a
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !["npz", "csv", "npy"].contains(&ext.as_str()) {
        return Err(CliError::input(format!(
            "--out: {}: unknown format (use .npz, .csv or .npy)",
            a.out.display()
        )));
    }
    // named arrays for .npz, the observations and labels for CSV/npy
    let (arrays, y, lab, n): (Named, Vec<f64>, Vec<usize>, usize) = if a.data == "lorenz" {
        let cfg = LorenzConfig {
            steps: a.steps,
            obs: a.obs,
            ..LorenzConfig::default()
        };
        let d = lorenz(&cfg, &mut crate::rng::seeded(a.seed))
            .map_err(|e| CliError::input(e.to_string()))?;
        let arrays = vec![
            ("y".to_string(), arr(a.steps, a.obs, &d.y)?),
            ("x".to_string(), arr(a.steps, 3, &d.x)?),
            ("labels".to_string(), labels(&d.labels)?),
            ("C".to_string(), arr(a.obs, 3, &d.c)?),
        ];
        (arrays, d.y, d.labels, a.obs)
    } else {
        let variant: Variant = a.data.parse().map_err(|e: crate::ConfigError| {
            CliError::input(format!("{} (or lorenz)", e.reason))
        })?;
        let test_seed = a.test_seed.unwrap_or(a.seed.wrapping_add(1));
        let (tr, te) = train_test(variant, a.seed, test_seed, a.steps, a.obs)
            .map_err(|e| CliError::input(format!("--test-seed: {}", e.reason)))?;
        let mut arrays = Vec::new();
        for (p, d) in [("train", &tr), ("test", &te)] {
            arrays.extend(nascar_arrays(p, d, a.steps, a.obs)?);
        }
        arrays.push(("C".to_string(), arr(a.obs, 2, &tr.c)?));
        (arrays, tr.y, tr.labels, a.obs)
    };
    let fail = |e: crate::io::DataError| CliError::failure(format!("{}: {e}", a.out.display()));
    match ext.as_str() {
        "npz" => {
            let refs: Vec<(&str, &Array)> = arrays.iter().map(|(k, v)| (k.as_str(), v)).collect();
            write_npz(&a.out, &refs).map_err(fail)?;
        }
        "npy" => write_npy(&a.out, &arr(lab.len(), n, &y)?).map_err(fail)?,
        _ => {
            let mut names: Vec<String> = (0..n).map(|j| format!("y{j}")).collect();
            names.push("label".to_string());
            let mut data = Vec::with_capacity(lab.len() * (n + 1));
            for (t, &l) in lab.iter().enumerate() {
                data.extend_from_slice(&y[t * n..(t + 1) * n]);
                data.push(l as f64);
            }
            let table = CsvTable {
                names: Some(names),
                rows: lab.len(),
                cols: n + 1,
                data,
            };
            write_csv(&a.out, &table).map_err(fail)?;
        }
    }
    let switches = lab.windows(2).filter(|w| w[0] != w[1]).count();
    let mut counts = vec![0usize; lab.iter().max().map_or(0, |m| m + 1)];
    lab.iter().for_each(|&l| counts[l] += 1);
    outln!(
        "{}: {} steps × {n} channels, label counts {counts:?}, {switches} switches → {}",
        a.data,
        lab.len(),
        a.out.display()
    );
    Ok(())
}

fn nascar_arrays(prefix: &str, d: &Nascar, steps: usize, n: usize) -> Result<Named, CliError> {
    Ok(vec![
        (format!("{prefix}_y"), arr(steps, n, &d.y)?),
        (format!("{prefix}_x"), arr(steps, 2, &d.x)?),
        (format!("{prefix}_z"), arr(steps, 4, &d.z)?),
        (format!("{prefix}_labels"), labels(&d.labels)?),
    ])
}
