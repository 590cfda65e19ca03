//! `neurodyn expressivity`: sweep phase-space dimension and F size on Gaussian-process targets.

use super::CliError;
use super::rundir::RunDir;
use crate::expressivity::{ExpressivityConfig, ModelSize, expressivity, sweep};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Options of `neurodyn expressivity`.
#[derive(clap::Args, Debug)]
pub struct ExpressivityArgs {
    /// Phase-space dimensions N to try.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub dims: Vec<usize>,
    /// F architectures to try, as widths joined by 'x' (e.g. 16 or 64x64), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,64x64")]
    pub flows: Vec<String>,
    /// Gating: both, gated or ungated.
    #[arg(long, default_value = "both")]
    pub gate: String,
    /// GP length scales ℓ on [0, 1].
    #[arg(long, value_delimiter = ',', default_value = "0.4,0.2,0.1,0.05")]
    pub lengths: Vec<f64>,
    /// Target draws per (size, ℓ).
    #[arg(long, default_value_t = 2)]
    pub draws: usize,
    /// Learning rates tried per fit (the best fit counts).
    #[arg(long, value_delimiter = ',', default_value = "1e-2,3e-3,1e-3")]
    pub lrs: Vec<f64>,
    /// Adam steps per fit.
    #[arg(long, default_value_t = 400)]
    pub epochs: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder.
    #[arg(long, default_value = "runs/expressivity")]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Print the table as JSON rows.
    #[arg(long)]
    pub json: bool,
}

fn parse_flow(s: &str) -> Result<Vec<usize>, CliError> {
    if s.is_empty() || s == "none" {
        return Ok(vec![]);
    }
    s.split('x')
        .map(|w| match w.parse::<usize>() {
            Ok(v) if v > 0 => Ok(v),
            _ => Err(CliError::input(format!(
                "--flows: {s:?} is not a list of positive widths joined by 'x'"
            ))),
        })
        .collect()
}

/// R² against log₁₀ ℓ: one panel per F, one colour per N, solid gated and dashed ungated.
fn figure(
    rows: &[crate::expressivity::ExpressivityRow],
    flows: &[Vec<usize>],
    dims: &[usize],
) -> crate::plot::Figure {
    use crate::plot::{Color, Figure, LegendPos, LineDash, Marker, Style};
    let mut fig = Figure::grid(480 * flows.len().max(1) as u32, 420, 1, flows.len().max(1));
    fig.suptitle("Expressivity: fit of Gaussian-process targets of length scale ℓ");
    for (p, flow) in flows.iter().enumerate() {
        let ax = fig.panel(0, p);
        for (k, &n) in dims.iter().enumerate() {
            for gate in [true, false] {
                let pts: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.size.hidden == n && &r.size.flow == flow && r.size.gate == gate)
                    .map(|r| (r.length.log10(), r.mean_r2.max(-0.5)))
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                let (x, y): (Vec<f64>, Vec<f64>) = pts.into_iter().unzip();
                let st = Style::new()
                    .color(Color::palette(k))
                    .marker(Marker::Circle)
                    .size(3.0);
                let st = if gate {
                    st.label(format!("N = {n}, gated"))
                } else {
                    st.dash(LineDash::Dashed).label(format!("N = {n}"))
                };
                ax.line(&x, &y, st);
            }
        }
        ax.hline(0.9, Style::new().color(Color::GREY).dash(LineDash::Dotted))
            .xlabel("log₁₀ ℓ")
            .ylabel("R² (mean over draws)")
            .title(format!("F = {flow:?}"))
            .legend(LegendPos::Best);
    }
    fig
}

/// Runs `neurodyn expressivity`.
pub fn run(a: &ExpressivityArgs) -> Result<(), CliError> {
    let gates: Vec<bool> = match a.gate.as_str() {
        "both" => vec![false, true],
        "gated" => vec![true],
        "ungated" => vec![false],
        s => {
            return Err(CliError::input(format!(
                "--gate: {s:?} (expected both, gated or ungated)"
            )));
        }
    };
    if a.dims.contains(&0) {
        return Err(CliError::input("--dims: dimensions must be at least 1"));
    }
    if let Some(l) = a.lengths.iter().find(|l| !(**l > 0.0 && l.is_finite())) {
        return Err(CliError::input(format!(
            "--lengths: {l} is not a positive length scale"
        )));
    }
    let flows = a
        .flows
        .iter()
        .map(|s| parse_flow(s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut sizes = Vec::new();
    for &hidden in &a.dims {
        for flow in &flows {
            for &gate in &gates {
                sizes.push(ModelSize {
                    hidden,
                    flow: flow.clone(),
                    gate,
                });
            }
        }
    }
    let cfg = ExpressivityConfig {
        sizes,
        lengths: a.lengths.clone(),
        draws: a.draws,
        epochs: a.epochs,
        lrs: a.lrs.clone(),
        seed: a.seed,
        ..Default::default()
    };
    let quiet = a.quiet || a.json;
    let rows = sweep(&cfg, |d, t| {
        if !quiet && (d % 10 == 0 || d == t) {
            eprintln!("fit {d}/{t}");
        }
    })
    .map_err(|e| CliError::input(e.to_string()))?;
    let run = RunDir::create(&a.out).map_err(|e| CliError::failure(e.to_string()))?;
    let mut csv = String::from("hidden,flow,gate,length,mean_r2,min_r2\n");
    for r in &rows {
        let f = r
            .size
            .flow
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("x");
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{}",
            r.size.hidden, f, r.size.gate, r.length, r.mean_r2, r.min_r2
        );
    }
    run.write_atomic("expressivity.csv", csv.as_bytes())
        .map_err(|e| CliError::failure(e.to_string()))?;
    let mut table = String::from(
        "| N | F | gate | smallest ℓ with R² ≥ 0.9 | R² at each ℓ |\n|---|---|---|---|---|\n",
    );
    for (size, best) in expressivity(&rows, 0.9) {
        let r2s: Vec<String> = rows
            .iter()
            .filter(|r| r.size == size)
            .map(|r| format!("{}: {:.3}", r.length, r.mean_r2))
            .collect();
        let _ = writeln!(
            table,
            "| {} | {:?} | {} | {} | {} |",
            size.hidden,
            size.flow,
            if size.gate { "yes" } else { "no" },
            best.map_or("none".to_string(), |b| format!("{b}")),
            r2s.join(", ")
        );
    }
    run.write_atomic("expressivity.md", table.as_bytes())
        .map_err(|e| CliError::failure(e.to_string()))?;
    let fig = figure(&rows, &flows, &a.dims);
    super::figures::save_both(&fig, run.dir(), "expressivity")
        .map_err(|e| CliError::failure(e.to_string()))?;
    if a.json {
        let rows_json: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| serde_json::json!({"hidden": r.size.hidden, "flow": r.size.flow, "gate": r.size.gate,
                "length": r.length, "mean_r2": r.mean_r2, "min_r2": r.min_r2}))
            .collect();
        outln!("{}", serde_json::Value::Array(rows_json));
    } else if !a.quiet {
        out!("{table}");
        outln!("written to {}", a.out.display());
    }
    Ok(())
}
