//! `neurodyn analyze RUN` and the analysis written after training a gnODE: slow and fixed
//! points, their stability, continuous-attractor detection, flow fields of 2-D models.

use super::CliError;
use super::rundir::RunDir;
use super::train::RunData;
use crate::analysis::{
    AttractorSummary, GnodeField, SlowPointOptions, Stability, angle_coverage, find_slow_points,
    flow_grid, gnode_f64, relax, relaxed_slow_points,
};
use crate::models::gnode::{Gnode, GnodeConfig, InitScheme, InitialState};
use crate::models::{GnodeSeq, SequenceModel, TimeMode};
use crate::train::BatchBuf;
use rand::RngExt;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Options of `neurodyn analyze`.
#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// A run folder written by `neurodyn train` (uses its best checkpoint).
    pub run: PathBuf,
    /// Number of starting points for the slow-point search.
    #[arg(long, default_value_t = 400)]
    pub starts: usize,
    /// Random seed for the starting points.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the summary as one JSON object (the contents of analysis.json).
    #[arg(long)]
    pub json: bool,
}

/// Writes `model.json` (enough to rebuild the model for `analyze`).
pub fn write_model_json(
    run: &RunDir,
    m: &GnodeSeq<f32>,
    recipe: serde_json::Value,
) -> Result<(), crate::Error> {
    let c = m.model.config();
    let time = match &m.time {
        TimeMode::Discrete { alpha } => serde_json::json!({"mode": "discrete", "alpha": alpha}),
        TimeMode::Continuous { opts, grad } => {
            serde_json::json!({"mode": "continuous", "method": opts.method.name(), "grad": format!("{grad:?}")})
        }
    };
    let j = serde_json::json!({
        "kind": "gnode", "hidden": c.hidden, "inputs": c.inputs, "outputs": c.outputs, "flow": c.flow,
        "activation": c.activation.name(), "gate": c.gate, "tau": c.tau,
        "initial_state": format!("{:?}", c.initial_state), "time": time,
        "fixed_h0": m.model.fixed_h0(),
        "data": recipe,
    });
    run.write_atomic(
        "model.json",
        serde_json::to_string_pretty(&j)
            .unwrap_or_default()
            .as_bytes(),
    )
}

/// The analysis of a trained gnODE, written into its run folder.
pub fn after_training(
    run: &mut RunDir,
    m: &GnodeSeq<f32>,
    data: &RunData,
    recipe: serde_json::Value,
    quiet: bool,
) -> Result<(), crate::Error> {
    write_model_json(run, m, recipe)?;
    let states = trajectory_states(m, &data.val);
    let summary = analyze_model(run, &m.model, &states, 256, 0)?;
    let metric = if matches!(data.train.labels, crate::train::Labels::Classes { .. }) {
        "accuracy"
    } else {
        "R²"
    };
    super::figures::save_both(
        &super::figures::training(run.dir(), metric)?,
        run.dir(),
        "training",
    )?;
    if !quiet {
        outln!("{}", summary.lines().next().unwrap_or_default());
    }
    Ok(())
}

/// States along (up to 20) trajectories of `d`, as rows of f64.
fn trajectory_states(m: &GnodeSeq<f32>, d: &crate::train::SeqData<f32>) -> Vec<f64> {
    let mut buf = BatchBuf::default();
    let idx: Vec<usize> = (0..d.n.min(20)).collect();
    buf.gather(d, &idx);
    let mut tape = crate::tape::Tape::new();
    match m.states(&mut tape, &buf.batch(d)) {
        Ok(out) => out
            .states
            .iter()
            .flat_map(|&s| tape.value(s).iter().map(|&v| v as f64).collect::<Vec<_>>())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Finds slow points from `states` (rows of trajectory states, `hidden` wide) plus noise and
/// writes `fixed_points.csv`, `analysis.json` and, for N = 2, `flow_field.csv`. Returns a
/// human-readable summary.
pub fn analyze_model(
    run: &RunDir,
    model: &Gnode<f32>,
    states: &[f64],
    starts: usize,
    seed: u64,
) -> Result<String, crate::Error> {
    let m64 = gnode_f64(model);
    let n = m64.config().hidden;
    let field = GnodeField {
        model: &m64,
        input: vec![0.0; m64.config().inputs],
    };
    let mut rng = crate::rng::seeded(seed);
    let rows = states.len() / n.max(1);
    let scale = {
        let mean_sq: f64 = states.iter().map(|v| v * v).sum::<f64>() / states.len().max(1) as f64;
        if states.is_empty() {
            1.0
        } else {
            mean_sq.sqrt().max(1e-3)
        }
    };
    let mut pts = Vec::with_capacity(starts * n);
    for _ in 0..starts {
        if rows > 0 {
            let r = rng.random_range(0..rows);
            for j in 0..n {
                pts.push(states[r * n + j] + 0.05 * scale * (2.0 * rng.random::<f64>() - 1.0));
            }
        } else {
            for _ in 0..n {
                pts.push(2.0 * scale * (2.0 * rng.random::<f64>() - 1.0));
            }
        }
    }
    // The speed scale of the field sets what counts as slow.
    let typical = {
        let (_, fv) = crate::analysis::jacobian(&field, &pts[..n]);
        fv.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-6)
    };
    let opts = SlowPointOptions {
        q_tol: 0.5 * (1e-3 * typical.max(scale)).powi(2),
        dedup: 1e-3 * scale,
        ..Default::default()
    };
    let mut s = find_slow_points(&field, &pts, &opts);
    // The slow manifold: follow the flow from the starts plus larger perturbations; keep the
    // points that barely move (speed below 1 % of the typical off-manifold speed).
    let mut wide = pts.clone();
    for v in wide.iter_mut() {
        *v += 0.5 * scale * (2.0 * rng.random::<f64>() - 1.0);
    }
    let (_, fw) = crate::analysis::jacobians(&field, &wide);
    let mut speeds: Vec<f64> = fw
        .chunks(n)
        .map(|f| f.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    speeds.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let typical_off = speeds
        .get(speeds.len() / 2)
        .copied()
        .unwrap_or(1.0)
        .max(1e-9);
    let rate = typical_off / scale;
    let manifold = relaxed_slow_points(
        &field,
        &pts,
        0.02 / rate,
        200,
        0.05 * typical_off,
        0.02 * scale,
    );
    s.add_slow_points(&field, &manifold, 0.02 * scale, opts.zero_tol);
    write_points(run, &m64, &s)?;
    let mut summary = String::new();
    let count = |st: Stability| {
        s.points
            .iter()
            .filter(|p| p.fixed && p.stability == st)
            .count()
    };
    let _ = write!(
        summary,
        "analysis: {} slow points, {} of them exact fixed points ({} stable, {} saddle, {} unstable, {} marginal){}",
        s.points.len(),
        s.fixed,
        count(Stability::Stable),
        count(Stability::Saddle),
        count(Stability::Unstable),
        count(Stability::Marginal),
        if s.continuous {
            "; a continuous attractor"
        } else {
            ""
        }
    );
    // Readout of the slow points (the memory the task asks for), and its angular coverage.
    let ys: Vec<(f64, f64)> = s.points.iter().map(|p| readout2(&m64, &p.h)).collect();
    let coverage = if m64.config().outputs == 2 {
        angle_coverage(&ys, (0.0, 0.0), 36)
    } else {
        f64::NAN
    };
    if coverage.is_finite() {
        let _ = write!(
            summary,
            "; readout angles covered {:.0} %",
            100.0 * coverage
        );
    }
    let j = serde_json::json!({
        "slow_points": s.points.len(), "fixed_points": s.fixed, "continuous_attractor": s.continuous,
        "stable": count(Stability::Stable), "saddle": count(Stability::Saddle),
        "unstable": count(Stability::Unstable), "marginal": count(Stability::Marginal),
        "readout_angle_coverage": if coverage.is_finite() { Some(coverage) } else { None },
        "summary": summary,
    });
    run.write_atomic(
        "analysis.json",
        serde_json::to_string_pretty(&j)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    let coverage_note = if coverage.is_finite() {
        format!(", angles covered {:.0} %", 100.0 * coverage)
    } else {
        String::new()
    };
    let title = format!(
        "{} N={} F={:?}: {} slow points ({} fixed){}{}",
        m64.config().kind_name(),
        n,
        m64.config().flow,
        s.points.len(),
        s.fixed,
        if s.continuous {
            ", continuous attractor"
        } else {
            ""
        },
        coverage_note
    );
    if n == 2 {
        write_flow_field(run, &field, &s, scale, &ys, title)?;
    } else if n == 3 {
        write_planes(run, &field, &s, scale, title)?;
    } else {
        let traj_states = if states.is_empty() {
            relaxed_states(&field, &pts, n)
        } else {
            states.to_vec()
        };
        let fig = super::figures::projection(&traj_states, n, &s, title);
        super::figures::save_both(&fig, run.dir(), "attractor")?;
    }
    Ok(summary)
}

/// States along short relaxations from the starting points (when no data trajectories exist).
fn relaxed_states(field: &GnodeField<'_>, starts: &[f64], n: usize) -> Vec<f64> {
    let k = (starts.len() / n).min(64);
    let (_, fv) = crate::analysis::jacobian(field, &starts[..n]);
    let speed = fv.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-9);
    let traj = relax(field, &starts[..k * n], 0.01 / speed.max(1.0), 400, 20);
    traj.concat()
}

fn readout2(m: &Gnode<f64>, h: &[f64]) -> (f64, f64) {
    let mut tape = crate::tape::Tape::new();
    let v = m.record(&mut tape);
    let hv = tape.constant(1, h.len(), h);
    let y = m.readout(&mut tape, &v, hv);
    let yv = tape.value(y);
    (yv[0], if yv.len() > 1 { yv[1] } else { 0.0 })
}

fn write_points(run: &RunDir, m: &Gnode<f64>, s: &AttractorSummary) -> Result<(), crate::Error> {
    let n = m.config().hidden;
    let mut csv = String::new();
    let hs: Vec<String> = (0..n).map(|i| format!("h{i}")).collect();
    let _ = writeln!(
        csv,
        "{},speed,fixed,stability,marginal,max_re_eig,y0,y1",
        hs.join(",")
    );
    for p in &s.points {
        let (y0, y1) = readout2(m, &p.h);
        let hs: Vec<String> = p.h.iter().map(|v| format!("{v}")).collect();
        let _ = writeln!(
            csv,
            "{},{},{},{:?},{},{},{y0},{y1}",
            hs.join(","),
            p.speed,
            p.fixed,
            p.stability,
            p.marginal,
            p.eigenvalues.first().map_or(f64::NAN, |e| e.0)
        );
    }
    run.write_atomic("fixed_points.csv", csv.as_bytes())
}

fn write_flow_field(
    run: &RunDir,
    field: &GnodeField<'_>,
    s: &AttractorSummary,
    scale: f64,
    readout: &[(f64, f64)],
    title: String,
) -> Result<(), crate::Error> {
    let lim = s
        .points
        .iter()
        .flat_map(|p| p.h.iter().map(|v| v.abs()))
        .fold(2.0 * scale, f64::max)
        * 1.3;
    let (xs, ys, fx, fy) = flow_grid(field, &[0.0, 0.0], (-lim, lim), (-lim, lim), 81, 81);
    let mut csv = String::from("h0,h1,f0,f1\n");
    for (j, &y) in ys.iter().enumerate() {
        for (i, &x) in xs.iter().enumerate() {
            let _ = writeln!(
                csv,
                "{x},{y},{},{}",
                fx[j * xs.len() + i],
                fy[j * xs.len() + i]
            );
        }
    }
    run.write_atomic("flow_field.csv", csv.as_bytes())?;
    // A few trajectories from a circle of starts.
    let starts: Vec<f64> = (0..12)
        .flat_map(|k| {
            let a = k as f64 * std::f64::consts::TAU / 12.0;
            [0.9 * lim * a.cos(), 0.9 * lim * a.sin()]
        })
        .collect();
    let speed = fx
        .iter()
        .zip(&fy)
        .map(|(a, b)| (a * a + b * b).sqrt())
        .fold(0.0, f64::max)
        .max(1e-9);
    let dt = 0.02 * lim / speed;
    let traj = relax(field, &starts, dt, 2000, 20);
    let mut csv = String::from("trajectory,step,h0,h1\n");
    for (t, snap) in traj.iter().enumerate() {
        for k in 0..12 {
            let _ = writeln!(csv, "{k},{},{},{}", t * 20, snap[2 * k], snap[2 * k + 1]);
        }
    }
    run.write_atomic("trajectories.csv", csv.as_bytes())?;
    let trajectories: Vec<Vec<(f64, f64)>> = (0..12)
        .map(|k| {
            traj.iter()
                .map(|snap| (snap[2 * k], snap[2 * k + 1]))
                .collect()
        })
        .collect();
    let fig = super::figures::portrait(&super::figures::Portrait {
        xs: &xs,
        ys: &ys,
        fx: &fx,
        fy: &fy,
        trajectories: &trajectories,
        points: s,
        readout,
        title,
    });
    super::figures::save_both(&fig, run.dir(), "attractor")
}

/// Flow fields on the three coordinate planes through the slow points' mean (N = 3).
fn write_planes(
    run: &RunDir,
    field: &GnodeField<'_>,
    s: &AttractorSummary,
    scale: f64,
    title: String,
) -> Result<(), crate::Error> {
    let n = 3;
    let k = s.points.len().max(1) as f64;
    let base: Vec<f64> = (0..n)
        .map(|j| s.points.iter().map(|p| p.h[j]).sum::<f64>() / k)
        .collect();
    let lim = s
        .points
        .iter()
        .flat_map(|p| p.h.iter().map(|v| v.abs()))
        .fold(2.0 * scale, f64::max)
        * 1.3;
    let mut planes = Vec::new();
    let mut csv = String::from("plane,x,y,fx,fy\n");
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        let (xs, ys, fx, fy) =
            crate::analysis::flow_plane(field, &base, (i, j), (-lim, lim), (-lim, lim), 61, 61);
        for (b, &y) in ys.iter().enumerate() {
            for (a, &x) in xs.iter().enumerate() {
                let _ = writeln!(
                    csv,
                    "h{i}-h{j},{x},{y},{},{}",
                    fx[b * xs.len() + a],
                    fy[b * xs.len() + a]
                );
            }
        }
        planes.push(((i, j), xs, ys, fx, fy));
    }
    run.write_atomic("flow_field.csv", csv.as_bytes())?;
    let mut rng = crate::rng::seeded(1);
    let starts: Vec<f64> = (0..12 * n)
        .map(|_| lim * 0.9 * (2.0 * rng.random::<f64>() - 1.0))
        .collect();
    let (_, fv) = crate::analysis::jacobians(field, &starts);
    let speed = fv.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-9);
    let traj = relax(field, &starts, 0.02 * lim / speed, 2000, 20);
    let trajectories: Vec<Vec<Vec<f64>>> = (0..12)
        .map(|t| {
            traj.iter()
                .map(|snap| snap[t * n..(t + 1) * n].to_vec())
                .collect()
        })
        .collect();
    let mut tcsv = String::from("trajectory,step,h0,h1,h2\n");
    for (t, tr) in trajectories.iter().enumerate() {
        for (q, h) in tr.iter().enumerate() {
            let _ = writeln!(tcsv, "{t},{},{},{},{}", q * 20, h[0], h[1], h[2]);
        }
    }
    run.write_atomic("trajectories.csv", tcsv.as_bytes())?;
    let fig = super::figures::planes(&super::figures::Planes {
        planes,
        trajectories: &trajectories,
        points: s,
        title,
    });
    super::figures::save_both(&fig, run.dir(), "attractor")
}

/// Runs `neurodyn analyze RUN`.
pub fn run(a: &AnalyzeArgs) -> Result<(), CliError> {
    let model_json = read_json(&a.run.join("model.json"))?;
    let cfg = config_from_json(&model_json)?;
    let (params, _) = super::rundir::load_checkpoint(&a.run.join("best.npz"))
        .map_err(|e| CliError::input(e.to_string()))?;
    let mut model = Gnode::<f32>::from_params(cfg, &params)
        .map_err(|e| CliError::input(format!("{}: {e}", a.run.display())))?;
    if let (Some(h0), Some(dst)) = (
        model_json.get("fixed_h0").and_then(|v| v.as_array()),
        model.fixed_h0_mut(),
    ) {
        for (d, v) in dst.iter_mut().zip(h0) {
            *d = v.as_f64().unwrap_or(0.0) as f32;
        }
    }
    let run = RunDir::open(&a.run).map_err(|e| CliError::failure(e.to_string()))?;
    let alpha = model_json["time"]["alpha"].as_f64().unwrap_or(1.0);
    let seq = GnodeSeq {
        model,
        time: TimeMode::Discrete { alpha },
    };
    let states = match regenerate(&model_json["data"]) {
        Some(d) => trajectory_states(&seq, &d),
        None => Vec::new(),
    };
    let summary = analyze_model(&run, &seq.model, &states, a.starts, a.seed)
        .map_err(|e| CliError::failure(e.to_string()))?;
    let metric = model_json["data"]["metric"]
        .as_str()
        .unwrap_or("score")
        .to_string();
    if let Ok(fig) = super::figures::training(&a.run, &metric) {
        super::figures::save_both(&fig, &a.run, "training")
            .map_err(|e| CliError::failure(e.to_string()))?;
    }
    if a.json {
        let text = std::fs::read_to_string(a.run.join("analysis.json")).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        outln!("{v}");
    } else {
        outln!("{summary}");
        outln!("figures and tables in {}", a.run.display());
    }
    Ok(())
}

/// The validation data of a run, rebuilt from its recipe (a task and seed, or data files).
fn regenerate(recipe: &serde_json::Value) -> Option<crate::train::SeqData<f32>> {
    if let Some(task) = recipe["task"].as_str() {
        let task: crate::tasks::MemoryTask = task.parse().ok()?;
        let seed = recipe["seed"].as_u64()?;
        let trials = recipe["trials"].as_u64()? as usize;
        let mut rng = crate::rng::stream(seed, 1);
        let all: crate::train::SeqData<f32> = task.generate(trials, 100, 0.01, &mut rng).ok()?;
        let n_val = trials / 6;
        let idx: Vec<usize> = (all.n - n_val..all.n).collect();
        return Some(all.subset(&idx));
    }
    let (train, test) = (recipe["train"].as_str()?, recipe["test"].as_str()?);
    super::datasets::load_pair(std::path::Path::new(train), std::path::Path::new(test))
        .ok()
        .map(|d| d.1)
}

fn read_json(p: &std::path::Path) -> Result<serde_json::Value, CliError> {
    let text =
        std::fs::read_to_string(p).map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::input(format!("{}: not valid JSON: {e}", p.display())))
}

fn config_from_json(j: &serde_json::Value) -> Result<GnodeConfig, CliError> {
    let get = |k: &str| {
        j.get(k)
            .ok_or_else(|| CliError::input(format!("model.json: missing {k}")))
    };
    let usize_of = |k: &str| -> Result<usize, CliError> {
        get(k)?
            .as_u64()
            .map(|v| v as usize)
            .ok_or_else(|| CliError::input(format!("model.json: {k} must be a count")))
    };
    let flow = get("flow")?
        .as_array()
        .ok_or_else(|| CliError::input("model.json: flow must be a list"))?
        .iter()
        .map(|v| {
            v.as_u64()
                .map(|x| x as usize)
                .ok_or_else(|| CliError::input("model.json: flow widths must be counts"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let initial_state = match get("initial_state")?.as_str() {
        Some("Fixed") => InitialState::Fixed,
        Some("FirstInput") => InitialState::FirstInput,
        _ => InitialState::Learned,
    };
    Ok(GnodeConfig {
        hidden: usize_of("hidden")?,
        inputs: usize_of("inputs")?,
        outputs: usize_of("outputs")?,
        flow,
        activation: get("activation")?
            .as_str()
            .unwrap_or("relu")
            .parse()
            .map_err(|e: crate::ConfigError| CliError::input(e.to_string()))?,
        gate: get("gate")?.as_bool().unwrap_or(true),
        tau: get("tau")?.as_f64().unwrap_or(1.0),
        initial_state,
        init: InitScheme::Glorot,
    })
}
