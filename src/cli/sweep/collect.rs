//! `neurodyn sweep collect DIR`: one row per run (its parameters, final and best metrics),
//! written to `DIR/summary.csv` with a figure (`summary.{png,svg}`: validation curves and the
//! best score of each run), printed as a table with the best run named.
//!
//! The best run has the highest best validation score (R² for tasks, accuracy for
//! classification); ties go to the lower validation loss at that epoch, then the lower index.

use super::dir::{Plan, SweepDir};
use super::status::{self, State};
use crate::cli::CliError;
use crate::plot::{Color, Figure, LegendPos, Style};
use serde_json::{Value, json};

/// One row of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    /// Run id.
    pub id: String,
    /// Values of the varying keys, in the plan's key order (empty where a run lacks one).
    pub params: Vec<String>,
    /// Done, running, …
    pub state: State,
    /// Epochs logged.
    pub epochs: usize,
    /// Training loss of the last epoch.
    pub train_loss: Option<f64>,
    /// Validation loss of the last epoch.
    pub val_loss: Option<f64>,
    /// Best validation score.
    pub best_score: Option<f64>,
    /// Its epoch.
    pub best_epoch: Option<u64>,
    /// Validation loss at the best epoch.
    pub best_loss: Option<f64>,
    /// Test score (data sets with a test file).
    pub test_score: Option<f64>,
    /// Training seconds.
    pub seconds: Option<f64>,
    /// Why training stopped.
    pub stop: String,
    /// The score's name (`validation R²`, `validation acc`).
    pub metric: String,
    /// Validation score per epoch, for the figure.
    pub curve: Curve,
}

/// The metric columns of `summary.csv`, after `run`, the parameters and `state`.
pub const COLUMNS: [&str; 8] = [
    "epochs",
    "final_train_loss",
    "final_val_loss",
    "best_val_score",
    "best_epoch",
    "test_score",
    "seconds",
    "stop",
];

fn num(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

/// Epochs and validation scores of a run, for the figure.
type Curve = (Vec<f64>, Vec<f64>);

/// Reads a run's `metrics.csv`: the last row's training and validation losses, and the
/// validation curve.
fn metrics(path: &std::path::Path) -> (Option<f64>, Option<f64>, Curve) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return (None, None, (vec![], vec![]));
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (ep, tl, vl, vs) = (
        col("epoch"),
        col("train_loss"),
        col("val_loss"),
        col("val_score"),
    );
    let mut last: Vec<&str> = Vec::new();
    let mut curve = (Vec::new(), Vec::new());
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let get = |c: Option<usize>| c.and_then(|c| f.get(c)?.trim().parse::<f64>().ok());
        if let (Some(e), Some(s)) = (get(ep), get(vs)) {
            curve.0.push(e);
            curve.1.push(s);
        }
        last = f;
    }
    let get = |c: Option<usize>| {
        c.and_then(|c| last.get(c)?.trim().parse::<f64>().ok())
            .filter(|x| x.is_finite())
    };
    (get(tl), get(vl), curve)
}

/// The rows of every run of `plan`.
pub fn rows(dir: &SweepDir, plan: &Plan) -> Vec<Row> {
    let (states, _) = status::survey(dir, plan);
    plan.runs
        .iter()
        .zip(states)
        .map(|(run, st)| {
            let rd = dir.run_dir(&run.id);
            let res: Value = std::fs::read_to_string(rd.join("result.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null);
            let (train_loss, val_loss, curve) = metrics(&rd.join("metrics.csv"));
            let params = plan
                .keys
                .iter()
                .map(|k| {
                    run.params
                        .iter()
                        .find(|(pk, _)| pk == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect();
            Row {
                id: run.id.clone(),
                params,
                state: st.state,
                epochs: st.epochs,
                train_loss,
                val_loss,
                best_score: num(&res["best_score"]),
                best_epoch: res["best_epoch"].as_u64(),
                best_loss: num(&res["best_loss"]),
                test_score: num(&res["test_score"]),
                seconds: num(&res["seconds"]),
                stop: res["stop"].as_str().unwrap_or_default().to_string(),
                metric: res["metric"].as_str().unwrap_or_default().to_string(),
                curve,
            }
        })
        .collect()
}

/// The index of the best finished run.
pub fn best(rows: &[Row]) -> Option<usize> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| r.state == State::Done && r.best_score.is_some())
        .min_by(|(_, a), (_, b)| {
            let (sa, sb) = (
                a.best_score.unwrap_or(f64::NAN),
                b.best_score.unwrap_or(f64::NAN),
            );
            sb.total_cmp(&sa).then(
                a.best_loss
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.best_loss.unwrap_or(f64::INFINITY)),
            )
        })
        .map(|(i, _)| i)
}

fn fmt(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The summary as CSV text.
pub fn csv(plan: &Plan, rows: &[Row]) -> String {
    let mut head: Vec<String> = vec!["run".into()];
    head.extend(plan.keys.iter().cloned());
    head.push("state".into());
    head.extend(COLUMNS.iter().map(|c| c.to_string()));
    let mut out = head
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in rows {
        let mut f: Vec<String> = vec![r.id.clone()];
        f.extend(r.params.iter().cloned());
        f.push(r.state.name().into());
        f.push(r.epochs.to_string());
        f.extend([
            fmt(r.train_loss),
            fmt(r.val_loss),
            fmt(r.best_score),
            r.best_epoch.map(|e| e.to_string()).unwrap_or_default(),
            fmt(r.test_score),
            r.seconds.map(|s| format!("{s:.3}")).unwrap_or_default(),
            r.stop.clone(),
        ]);
        out.push_str(&f.iter().map(|s| csv_field(s)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// Validation curves of every run and the best score of each, the best run highlighted.
pub fn figure(rows: &[Row], best: Option<usize>) -> Figure {
    let metric = rows
        .iter()
        .find(|r| !r.metric.is_empty())
        .map_or("validation score".to_string(), |r| r.metric.clone());
    let mut fig = Figure::grid(1100, 420, 1, 2);
    let left = fig.panel(0, 0);
    for (i, r) in rows.iter().enumerate() {
        let short = r.id.split('-').next().unwrap_or(&r.id).to_string();
        let mut style = Style::new().color(Color::palette(i));
        if rows.len() <= 8 {
            style = style.label(short);
        }
        if Some(i) == best {
            style = style.width(2.5);
        }
        left.line(&r.curve.0, &r.curve.1, style);
    }
    left.xlabel("epoch")
        .ylabel(metric.clone())
        .title(format!("{} per epoch", capitalise(&metric)));
    if rows.len() <= 8 {
        left.legend(LegendPos::Best);
    }
    let xs: Vec<f64> = (0..rows.len()).map(|i| i as f64).collect();
    let hs: Vec<f64> = rows
        .iter()
        .map(|r| r.best_score.unwrap_or(f64::NAN))
        .collect();
    let right = fig.panel(0, 1);
    right.bar(&xs, &hs, 0.7, Style::new().color(Color::palette(0)));
    if let Some(b) = best {
        right.bar(
            &[b as f64],
            &[hs[b]],
            0.7,
            Style::new()
                .color(Color::palette(1))
                .label(format!("best: {}", rows[b].id)),
        );
        right.legend(LegendPos::Best);
    }
    let labels: Vec<String> = rows
        .iter()
        .map(|r| r.id.split('-').next().unwrap_or(&r.id).to_string())
        .collect();
    if rows.len() <= 24 {
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        right.xticks(&xs, &refs);
    }
    right
        .xlabel("run")
        .ylabel(format!("best {metric}"))
        .title(format!("Best {metric} per run"));
    fig
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Runs `neurodyn sweep collect`.
///
/// # Errors
/// Not a sweep folder (2), or the summary cannot be written (1).
pub fn run(dir: &SweepDir, as_json: bool) -> Result<(), CliError> {
    let plan = dir.read_plan()?;
    let rows = rows(dir, &plan);
    let best = best(&rows);
    let path = dir.path("summary.csv");
    crate::io::write_atomic(&path, csv(&plan, &rows).as_bytes())
        .map_err(|e| CliError::failure(e.to_string()))?;
    let fig = figure(&rows, best);
    crate::cli::figures::save_both(&fig, dir.root(), "summary")
        .map_err(|e| CliError::failure(e.to_string()))?;
    let done = rows.iter().filter(|r| r.state == State::Done).count();
    if as_json {
        let runs: Vec<Value> = rows
            .iter()
            .map(|r| {
                let params: serde_json::Map<String, Value> = plan
                    .keys
                    .iter()
                    .zip(&r.params)
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                json!({"run": r.id, "params": params, "state": r.state.name(), "epochs": r.epochs,
                       "final_train_loss": r.train_loss, "final_val_loss": r.val_loss,
                       "best_val_score": r.best_score, "best_epoch": r.best_epoch,
                       "test_score": r.test_score, "seconds": r.seconds, "stop": r.stop})
            })
            .collect();
        outln!(
            "{}",
            json!({"dir": dir.root(), "runs": runs, "best": best.map(|b| &rows[b].id),
                   "metric": rows.iter().find(|r| !r.metric.is_empty()).map(|r| &r.metric),
                   "csv": path, "finished": done})
        );
        return Ok(());
    }
    print_table(&plan, &rows, best);
    match best {
        Some(b) => outln!(
            "best: {} ({} {:.4} at epoch {}); {} of {} runs finished; table {}",
            rows[b].id,
            rows[b].metric,
            rows[b].best_score.unwrap_or(f64::NAN),
            rows[b].best_epoch.unwrap_or(0),
            done,
            rows.len(),
            path.display()
        ),
        None => outln!(
            "no run has finished yet ({} runs); table {}",
            rows.len(),
            path.display()
        ),
    }
    Ok(())
}

fn print_table(plan: &Plan, rows: &[Row], best: Option<usize>) {
    let short = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["run".to_string()];
    head.extend(plan.keys.iter().cloned());
    head.extend(
        [
            "state",
            "epochs",
            "train loss",
            "val loss",
            "best val",
            "at",
            "test",
            "s",
        ]
        .map(String::from),
    );
    table.push(head);
    for (i, r) in rows.iter().enumerate() {
        let mark = if Some(i) == best { " *" } else { "" };
        let mut f = vec![format!("{}{mark}", r.id)];
        f.extend(r.params.iter().cloned());
        f.extend([
            r.state.name().to_string(),
            r.epochs.to_string(),
            short(r.train_loss),
            short(r.val_loss),
            short(r.best_score),
            r.best_epoch.map_or("-".into(), |e| e.to_string()),
            short(r.test_score),
            r.seconds.map_or("-".into(), |s| format!("{s:.1}")),
        ]);
        table.push(f);
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (s, &w))| {
                if c == 0 {
                    format!("{s:<w$}")
                } else {
                    format!("{s:>w$}")
                }
            })
            .collect();
        outln!("{}", line.join("  ").trim_end());
    }
}
