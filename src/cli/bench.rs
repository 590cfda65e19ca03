//! `neurodyn bench`: the benchmark workloads (`neurodyn::workloads`) from the command line, as a
//! table or JSON, so that machines (and neurodyn against JAX) can be compared.

use super::CliError;
use crate::workloads::{Entry, SUITES, Timing, measure, suite};

/// Options of `neurodyn bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Suites to run: peer, scaling, quick, peak, or all.
    #[arg(default_value = "peer")]
    pub suites: Vec<String>,
    /// Only workloads whose name contains this text (e.g. f32/rk4_200, N=128, adjoint).
    #[arg(long)]
    pub filter: Option<String>,
    /// Keep repeating each workload for at least this many seconds.
    #[arg(long, default_value_t = 1.0)]
    pub min_time: f64,
    /// Time at least this many runs of each workload (after one warm-up run).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// List the workloads and exit.
    #[arg(long)]
    pub list: bool,
    /// Print one JSON object (machine, build, results) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but the results (no progress lines on stderr).
    #[arg(long)]
    pub quiet: bool,
    /// Instead of timing, write the peer problem (the gnODE workload's parameters and data, f64)
    /// as `neurodyn grad` cases `peer_gnode_n{N}.json` into this folder, for JAX or another
    /// implementation to time on exactly the same problem (`benches/peers/`).
    #[arg(long, value_name = "DIR")]
    pub export_cases: Option<std::path::PathBuf>,
    /// Hidden sizes N of the exported cases.
    #[arg(long, value_delimiter = ',', default_value = "32,128,512")]
    pub export_sizes: Vec<usize>,
}

/// One measured workload.
struct Row {
    name: String,
    timing: Timing,
    flops: Option<f64>,
    bytes: usize,
}

impl Row {
    fn gflops(&self) -> Option<f64> {
        self.flops.map(|f| f / self.timing.median / 1e9)
    }
    fn dtype(&self) -> Option<&str> {
        self.name.split('/').nth(1)
    }
}

/// Runs `neurodyn bench`.
///
/// # Errors
/// Bad options or suite names (exit 2); a workload that fails (exit 1).
pub fn run(a: &BenchArgs) -> Result<(), CliError> {
    if !(a.min_time.is_finite() && a.min_time >= 0.0) {
        return Err(CliError::input(format!(
            "--min-time must be a non-negative number of seconds, not {}",
            a.min_time
        )));
    }
    if a.runs == 0 {
        return Err(CliError::input("--runs must be at least 1"));
    }
    if let Some(dir) = &a.export_cases {
        return export_cases(dir, &a.export_sizes, a.quiet);
    }
    let mut entries: Vec<Entry> = Vec::new();
    for s in &a.suites {
        entries.extend(suite(s).map_err(|e| CliError::input(e.to_string()))?);
    }
    if let Some(f) = &a.filter {
        entries.retain(|e| e.name.contains(f.as_str()) || e.name.starts_with("fma_peak"));
    }
    if a.list {
        for (s, what) in SUITES {
            if a.suites.iter().any(|x| x == s || x == "all") {
                outln!("# {s}: {what}");
            }
        }
        for e in &entries {
            outln!("{}", e.name);
        }
        return Ok(());
    }
    let mut rows: Vec<Row> = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        if !a.quiet {
            eprintln!("[{}/{}] {}", i + 1, entries.len(), e.name);
        }
        let mut w = e
            .build()
            .map_err(|err| CliError::input(format!("{}: {err}", e.name)))?;
        let timing = measure(w.as_mut(), a.min_time, a.runs)
            .map_err(|err| CliError::failure(format!("{}: {err}", e.name)))?;
        rows.push(Row {
            name: w.name(),
            flops: w.flops(),
            bytes: w.scalar_bytes(),
            timing,
        });
    }
    if a.json {
        outln!("{}", json(&rows));
    } else {
        print_table(&rows);
    }
    Ok(())
}

/// The FMA peak measured in this run for the row's scalar type, in GFLOP/s.
fn peak_for(rows: &[Row], dtype: Option<&str>) -> Option<f64> {
    rows.iter()
        .find(|r| r.name.starts_with("fma_peak") && r.dtype() == dtype)
        .and_then(Row::gflops)
}

fn fmt_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.2} µs", s * 1e6)
    }
}

fn fmt_bytes(b: f64) -> String {
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", b / (1024.0 * 1024.0 * 1024.0))
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", b / 1024.0)
    }
}

fn print_table(rows: &[Row]) {
    outln!("{}", machine_line());
    outln!(
        "| workload | median | min | runs | GFLOP/s | % of peak | memory | steps | RHS evals | loss |"
    );
    outln!("|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let g = r.gflops();
        let pct = match (g, peak_for(rows, r.dtype())) {
            (Some(g), Some(p)) if !r.name.starts_with("fma_peak") => {
                format!("{:.0} %", 100.0 * g / p)
            }
            _ => String::new(),
        };
        let o = &r.timing.output;
        let mem = if o.peak_values > 0 {
            fmt_bytes((o.peak_values * r.bytes) as f64)
        } else {
            String::new()
        };
        let count = |v: usize| if v > 0 { v.to_string() } else { String::new() };
        outln!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.6e} |",
            r.name,
            fmt_time(r.timing.median),
            fmt_time(r.timing.min),
            r.timing.runs,
            g.map(|g| format!("{g:.1}")).unwrap_or_default(),
            pct,
            mem,
            count(o.steps),
            count(o.rhs_evals),
            o.loss
        );
    }
}

/// One line on the machine and build (CPU model, cores, vector width).
fn machine_line() -> String {
    let m = machine();
    format!(
        "machine: {}, {} logical cores; build: {} lanes f32, {} lanes f64; neurodyn {}",
        m.0,
        m.1,
        <<f32 as crate::Float>::Lanes as crate::dense::simd::Lanes<_>>::N,
        <<f64 as crate::Float>::Lanes as crate::dense::simd::Lanes<_>>::N,
        env!("CARGO_PKG_VERSION")
    )
}

fn machine() -> (String, usize) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cpu, cores)
}

fn json(rows: &[Row]) -> String {
    use serde_json::json;
    let (cpu, cores) = machine();
    let results: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let o = &r.timing.output;
            json!({
                "name": r.name,
                "median_s": r.timing.median,
                "min_s": r.timing.min,
                "runs": r.timing.runs,
                "flops": r.flops,
                "gflops": r.gflops(),
                "peak_bytes": (o.peak_values * r.bytes),
                "steps": o.steps,
                "rhs_evals": o.rhs_evals,
                "loss": o.loss,
            })
        })
        .collect();
    json!({
        "machine": {"cpu": cpu, "cores": cores},
        "build": {
            "version": env!("CARGO_PKG_VERSION"),
            "lanes_f32": <<f32 as crate::Float>::Lanes as crate::dense::simd::Lanes<_>>::N,
            "lanes_f64": <<f64 as crate::Float>::Lanes as crate::dense::simd::Lanes<_>>::N,
        },
        "results": results,
    })
    .to_string()
}

/// Writes the peer problem for each `N` as a SPEC §7 gnode case (RK4, dt 0.05).
fn export_cases(dir: &std::path::Path, sizes: &[usize], quiet: bool) -> Result<(), CliError> {
    use crate::workloads::gnode::{GnodeGrad, GnodeGradSpec, SAVES, SEGMENTS, T_END};
    use serde_json::{Value, json};
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::failure(format!("{}: {e}", dir.display())))?;
    for &n in sizes {
        let spec = GnodeGradSpec {
            n,
            ..Default::default()
        };
        let w = GnodeGrad::<f64>::new(&spec).map_err(|e| CliError::input(e.to_string()))?;
        let b = spec.batch;
        let store = w.model().store();
        let mut params = serde_json::Map::new();
        for info in store.infos() {
            let id = store.id(&info.name).expect("own name");
            let v = store.get(id);
            let value: Value = match w.model().param_shape(id).expect("own id").len() {
                1 => json!(v),
                _ => Value::Array(v.chunks(info.cols).map(|r| json!(r)).collect()),
            };
            params.insert(info.name.clone(), value);
        }
        let (x, y) = w.data();
        // time-major [k][b][c] → [b][k][c]
        let batch_major = |a: &[f64], k: usize| -> Value {
            Value::Array(
                (0..b)
                    .map(|r| {
                        Value::Array(
                            (0..k)
                                .map(|t| json!(&a[(t * b + r) * 2..(t * b + r + 1) * 2]))
                                .collect(),
                        )
                    })
                    .collect(),
            )
        };
        let times: Vec<f64> = (1..=SAVES)
            .map(|j| T_END * j as f64 / SAVES as f64)
            .collect();
        let case = json!({
            "model": {"kind": "gnode", "hidden": n, "inputs": 2, "outputs": 2, "flow": [],
                      "activation": "tanh", "gate": true, "tau": 1.0},
            "params": params,
            "data": {"inputs": batch_major(&x, SEGMENTS), "input_dt": T_END / SEGMENTS as f64,
                     "targets": batch_major(&y, SAVES), "target_times": times},
            "solver": {"method": "rk4", "dt": T_END / spec.steps as f64},
            "loss": "mse",
        });
        let path = dir.join(format!("peer_gnode_n{n}.json"));
        crate::io::write_atomic(&path, case.to_string().as_bytes())
            .map_err(|e| CliError::failure(e.to_string()))?;
        if !quiet {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
