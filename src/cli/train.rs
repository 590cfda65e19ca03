//! `neurodyn train <model> --task <task>` and `--data TRAIN --test TEST`.

use super::CliError;
use super::progress::Progress;
use super::rundir::RunDir;
use crate::models::gnode::{Gnode, GnodeConfig, InitScheme, InitialState};
use crate::models::gru::{Gru, GruConfig};
use crate::models::{Activation, GnodeSeq, SequenceModel, TimeMode};
use crate::solve::{GradMode, Method, SolveOptions};
use crate::tasks::MemoryTask;
use crate::train::{
    self, Control, EpochReport, OptimizerKind, Schedule, SeqData, StopReason, TrainConfig,
};
use std::path::PathBuf;
use std::time::Instant;

/// The model families on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelKind {
    /// Gated neural ODE: τ dh/dt = G ⊙ (−h + F(h, x)), F an MLP.
    Gnode,
    /// Neural ODE: τ dh/dt = −h + F(h, x).
    Node,
    /// Minimal gated RNN: a gnODE whose F is one tanh layer.
    Mgru,
    /// Rate RNN: a nODE whose F is one tanh layer.
    Rnn,
    /// Standard GRU cell (discrete time).
    Gru,
}

/// Options of `neurodyn train`.
#[derive(clap::Args, Debug, Clone)]
pub struct TrainArgs {
    /// Model family (not needed with --resume).
    #[arg(value_enum, required_unless_present = "resume")]
    pub model: Option<ModelKind>,
    /// A built-in continuous-memory task: flipflop3, flipflop3-var, flipflop2, square,
    /// rectangle, ring, annulus.
    #[arg(long, conflicts_with = "data")]
    pub task: Option<String>,
    /// Training data (UEA .ts, or .npz with arrays `x` [n][steps][inputs] and `y` labels).
    #[arg(long, requires = "test")]
    pub data: Option<PathBuf>,
    /// Test data in the same format as --data.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Phase-space dimension N (default: 6 for gnode/node, 100 for mgru/rnn/gru; 2 for the 2-D tasks).
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Hidden widths of F, comma-separated (e.g. 100,100,100); empty for none.
    #[arg(long, value_delimiter = ',')]
    pub flow: Option<Vec<usize>>,
    /// Activation of F's hidden layers.
    #[arg(long, default_value = "relu")]
    pub activation: String,
    /// Discrete-time step size α = Δt/τ (ignored with --continuous).
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    /// Train the continuous-time model with an ODE solver instead of the discrete form.
    #[arg(long)]
    pub continuous: bool,
    /// Solver for --continuous: euler, midpoint, rk4, bosh3, dopri5, tsit5.
    #[arg(long, default_value = "rk4")]
    pub solver: String,
    /// Fixed step for --continuous fixed-step solvers (default: the bin width).
    #[arg(long)]
    pub dt: Option<f64>,
    /// Tolerances for adaptive solvers.
    #[arg(long, default_value_t = 1e-5)]
    pub rtol: f64,
    /// Absolute tolerance for adaptive solvers.
    #[arg(long, default_value_t = 1e-7)]
    pub atol: f64,
    /// Gradient mode through the solver: backprop, checkpointed, adjoint.
    #[arg(long, default_value = "backprop")]
    pub grad_mode: String,
    /// Time constant τ of the continuous model (the bin width is Δt = 0.01).
    #[arg(long)]
    pub tau: Option<f64>,
    /// Initialisation: glorot or critical.
    #[arg(long, default_value = "glorot")]
    pub init: String,
    /// Initial state: learned, fixed or first-input.
    #[arg(long, default_value = "learned")]
    pub h0: String,
    /// Epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Minibatch size.
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Weight decay.
    #[arg(long, default_value_t = 1e-2)]
    pub weight_decay: f64,
    /// Optimizer: adamw, adam, sgd.
    #[arg(long, default_value = "adamw")]
    pub optimizer: String,
    /// Learning-rate schedule: constant or cosine.
    #[arg(long, default_value = "constant")]
    pub schedule: String,
    /// Global gradient-norm clip (0 disables).
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,
    /// Gradient shards computed in parallel (the result depends on it, not on the machine).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Random seed (data, initialisation, minibatch order).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Trials generated for a task (the last sixth are the validation set).
    #[arg(long, default_value_t = 600)]
    pub trials: usize,
    /// With --data: the fraction of each class of the training data held out for validation
    /// (model selection); the test data is used once, at the end.
    #[arg(long, default_value_t = 0.15)]
    pub val_fraction: f64,
    /// Stop after this many evaluations without improvement.
    #[arg(long)]
    pub patience: Option<usize>,
    /// Run folder (default: runs/<model>-<task or data>-s<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Print the final result as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Continue the run in this folder from its last checkpoint (its original options are
    /// read from the folder); the result is bit-identical to an uninterrupted run.
    #[arg(long)]
    pub resume: Option<PathBuf>,
}

impl TrainArgs {
    /// The model family (present after parsing: clap requires it unless `--resume`, and a
    /// resumed run takes it from the run folder).
    fn kind(&self) -> ModelKind {
        self.model.unwrap_or(ModelKind::Gnode)
    }
}

/// Checks the options that name things (task, activation, solver, gradient mode, optimiser,
/// schedule, initialisation, initial state) and the data files, without generating data or
/// building a model: what `neurodyn sweep` checks for every run before any of them starts.
///
/// # Errors
/// The option's long name (`"task"`) and the reason.
pub(crate) fn check_options(a: &TrainArgs) -> Result<(), (&'static str, String)> {
    fn named<T: std::str::FromStr<Err = crate::ConfigError>>(
        option: &'static str,
        s: &str,
    ) -> Result<(), (&'static str, String)> {
        s.parse::<T>().map(|_| ()).map_err(|e| (option, e.reason))
    }
    fn one_of(
        option: &'static str,
        s: &str,
        allowed: &[&str],
    ) -> Result<(), (&'static str, String)> {
        if allowed.contains(&s) {
            Ok(())
        } else {
            Err((
                option,
                format!("unknown value {s:?} (expected {})", allowed.join(", ")),
            ))
        }
    }
    if let Some(t) = &a.task {
        named::<MemoryTask>("task", t)?;
        if a.trials < 12 {
            return Err(("trials", format!("must be at least 12, got {}", a.trials)));
        }
    }
    for (option, path) in [("data", &a.data), ("test", &a.test)] {
        if let Some(p) = path
            && !p.is_file()
        {
            return Err((option, format!("{}: no such file", p.display())));
        }
    }
    if !(a.alpha > 0.0 && a.alpha.is_finite()) {
        return Err(("alpha", format!("must be positive, got {}", a.alpha)));
    }
    if !(0.0..0.9).contains(&a.val_fraction) {
        return Err((
            "val-fraction",
            format!("must be in [0, 0.9), got {}", a.val_fraction),
        ));
    }
    named::<Activation>("activation", &a.activation)?;
    named::<Method>("solver", &a.solver)?;
    named::<GradMode>("grad-mode", &a.grad_mode)?;
    named::<OptimizerKind>("optimizer", &a.optimizer)?;
    named::<Schedule>("schedule", &a.schedule)?;
    one_of("init", &a.init, &["glorot", "critical"])?;
    one_of("h0", &a.h0, &["learned", "fixed", "first-input"])
}

/// Reads a run folder's original options for `--resume`.
fn resumed_args(dir: &std::path::Path) -> Result<TrainArgs, CliError> {
    let p = dir.join("config.json");
    let text = std::fs::read_to_string(&p)
        .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
    let j: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::input(format!("{}: not valid JSON: {e}", p.display())))?;
    let argv: Vec<String> = j["argv"]
        .as_array()
        .ok_or_else(|| {
            CliError::input(format!("{}: no recorded command line (argv)", p.display()))
        })?
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    let cli = <super::Cli as clap::Parser>::try_parse_from(
        std::iter::once("neurodyn".to_string()).chain(argv),
    )
    .map_err(|e| {
        CliError::input(format!(
            "{}: the recorded command line no longer parses: {e}",
            p.display()
        ))
    })?;
    match cli.command {
        super::Command::Train(mut t) if t.resume.is_none() => {
            t.out = Some(dir.to_path_buf());
            Ok(*t)
        }
        _ => Err(CliError::input(format!(
            "{}: not a training run",
            p.display()
        ))),
    }
}

/// The model being trained (the CLI picks the family).
pub enum AnyModel {
    /// A gnODE-family model.
    Gnode(Box<GnodeSeq<f32>>),
    /// A GRU.
    Gru(Gru<f32>),
}

fn parse<T: std::str::FromStr<Err = crate::ConfigError>>(s: &str) -> Result<T, CliError> {
    s.parse()
        .map_err(|e: crate::ConfigError| CliError::input(e.to_string()))
}

/// Data for a run: training, validation (model selection) and optional test set, and a name.
pub struct RunData {
    /// Training set.
    pub train: SeqData<f32>,
    /// Validation set (the best parameters are chosen on it).
    pub val: SeqData<f32>,
    /// Held-out test set, evaluated once at the end with the chosen parameters.
    pub test: Option<SeqData<f32>>,
    /// What it is called in the run folder.
    pub name: String,
}

/// Splits off a validation set (a fraction of each class for classification, the last
/// trials otherwise), reproducibly from the seed.
pub fn split_validation(
    d: &SeqData<f32>,
    fraction: f64,
    seed: u64,
) -> (SeqData<f32>, SeqData<f32>) {
    use rand::seq::SliceRandom;
    let mut rng = crate::rng::stream(seed, 3);
    let mut val = Vec::new();
    match &d.labels {
        train::Labels::Classes {
            labels, n_classes, ..
        } => {
            for c in 0..*n_classes {
                let mut idx: Vec<usize> = (0..d.n).filter(|&t| labels[t] == c).collect();
                idx.shuffle(&mut rng);
                let k = ((idx.len() as f64 * fraction).round() as usize)
                    .min(idx.len().saturating_sub(1));
                val.extend_from_slice(&idx[..k]);
            }
        }
        train::Labels::Sequence { .. } => {
            let k =
                ((d.n as f64 * fraction).round() as usize).clamp(1, d.n.saturating_sub(1).max(1));
            val.extend(d.n - k..d.n);
        }
    }
    val.sort_unstable();
    let tr: Vec<usize> = (0..d.n).filter(|t| val.binary_search(t).is_err()).collect();
    (d.subset(&tr), d.subset(&val))
}

fn load_data(a: &TrainArgs) -> Result<RunData, CliError> {
    match (&a.task, &a.data) {
        (Some(task), None) => {
            let task: MemoryTask = parse(task)?;
            if a.trials < 12 {
                return Err(CliError::input(format!(
                    "--trials must be at least 12, got {}",
                    a.trials
                )));
            }
            let mut rng = crate::rng::stream(a.seed, 1);
            let all: SeqData<f32> = task
                .generate(a.trials, 100, 0.01, &mut rng)
                .map_err(|e| CliError::input(e.to_string()))?;
            let n_val = a.trials / 6;
            let idx: Vec<usize> = (0..all.n).collect();
            let (tr, va) = idx.split_at(all.n - n_val);
            Ok(RunData {
                train: all.subset(tr),
                val: all.subset(va),
                test: None,
                name: task.name().to_string(),
            })
        }
        (None, Some(path)) => {
            let test = a
                .test
                .as_ref()
                .ok_or_else(|| CliError::input("--data needs --test"))?;
            let (train, test, name) = super::datasets::load_pair(path, test)?;
            if !(0.0..0.9).contains(&a.val_fraction) {
                return Err(CliError::input(format!(
                    "--val-fraction must be in [0, 0.9), got {}",
                    a.val_fraction
                )));
            }
            let (train, val) = split_validation(&train, a.val_fraction, a.seed);
            if train.n == 0 || val.n == 0 {
                return Err(CliError::input(
                    "the training data is too small to split off a validation set",
                ));
            }
            Ok(RunData {
                train,
                val,
                test: Some(test),
                name,
            })
        }
        (None, None) => Err(CliError::input(
            "give a task (--task ring) or data (--data TRAIN --test TEST)",
        )),
        (Some(_), Some(_)) => Err(CliError::input("--task and --data exclude each other")),
    }
}

/// Builds the model for the data's dimensions.
pub fn build_model(
    a: &TrainArgs,
    inputs: usize,
    outputs: usize,
    dt: f64,
) -> Result<AnyModel, CliError> {
    let mut rng = crate::rng::stream(a.seed, 2);
    let two_d = outputs == 2 && a.task.is_some();
    let hidden = a.hidden.unwrap_or(match a.kind() {
        ModelKind::Gnode | ModelKind::Node => {
            if two_d {
                2
            } else {
                6
            }
        }
        _ => 100,
    });
    if a.kind() == ModelKind::Gru {
        let cfg = GruConfig {
            hidden,
            inputs,
            outputs,
        };
        return Gru::new(cfg, &mut rng)
            .map(AnyModel::Gru)
            .map_err(|e| CliError::input(e.to_string()));
    }
    let flow = match a.kind() {
        ModelKind::Mgru | ModelKind::Rnn => {
            if a.flow.as_ref().is_some_and(|f| !f.is_empty()) {
                return Err(CliError::input(
                    "--flow is for gnode/node; mgru and rnn have a single tanh layer",
                ));
            }
            vec![]
        }
        _ => a.flow.clone().unwrap_or_else(|| {
            if two_d {
                vec![128, 128]
            } else {
                vec![100, 100, 100]
            }
        }),
    };
    let init = match a.init.as_str() {
        "glorot" => InitScheme::Glorot,
        "critical" => InitScheme::Critical,
        s => {
            return Err(CliError::input(format!(
                "--init: unknown scheme {s:?} (expected glorot or critical)"
            )));
        }
    };
    let initial_state = match a.h0.as_str() {
        "learned" => InitialState::Learned,
        "fixed" => InitialState::Fixed,
        "first-input" => InitialState::FirstInput,
        s => {
            return Err(CliError::input(format!(
                "--h0: unknown initial state {s:?} (expected learned, fixed or first-input)"
            )));
        }
    };
    let tau = a.tau.unwrap_or(dt / a.alpha.max(1e-12));
    let cfg = GnodeConfig {
        hidden,
        inputs,
        outputs,
        flow,
        activation: parse::<Activation>(&a.activation)?,
        gate: matches!(a.kind(), ModelKind::Gnode | ModelKind::Mgru),
        tau,
        initial_state,
        init,
    };
    let model = Gnode::new(cfg, &mut rng).map_err(|e| CliError::input(e.to_string()))?;
    let time = if a.continuous {
        let method: Method = parse(&a.solver)?;
        let grad: GradMode = parse(&a.grad_mode)?;
        let opts = if method.is_adaptive() {
            SolveOptions::adaptive(method, a.rtol as f32, a.atol as f32)
        } else {
            SolveOptions::fixed(method, a.dt.unwrap_or(dt) as f32)
        };
        opts.validate(0.0, 1.0)
            .map_err(|e| CliError::input(format!("solver: {e}")))?;
        TimeMode::Continuous { opts, grad }
    } else {
        if !(a.alpha > 0.0 && a.alpha.is_finite()) {
            return Err(CliError::input(format!(
                "--alpha must be positive, got {}",
                a.alpha
            )));
        }
        TimeMode::Discrete { alpha: a.alpha }
    };
    Ok(AnyModel::Gnode(Box::new(GnodeSeq { model, time })))
}

/// Copies checkpoint values into a model's store (names and sizes must match).
fn load_params(
    store: &mut crate::tape::ParamStore<f32>,
    params: &[crate::models::gnode::NamedParam<f32>],
) -> Result<(), CliError> {
    for (name, _, _, v) in params {
        let id = store
            .id(name)
            .ok_or_else(|| CliError::input(format!("checkpoint: unknown parameter {name}")))?;
        let dst = store.get_mut(id);
        if dst.len() != v.len() {
            return Err(CliError::input(format!(
                "checkpoint: {name} has {} values, the model {}",
                v.len(),
                dst.len()
            )));
        }
        dst.copy_from_slice(v);
    }
    Ok(())
}

fn train_config(a: &TrainArgs, epochs: usize) -> Result<TrainConfig, CliError> {
    let cfg = TrainConfig {
        epochs,
        batch_size: a.batch,
        optimizer: parse::<OptimizerKind>(&a.optimizer)?,
        lr: a.lr,
        weight_decay: a.weight_decay,
        schedule: parse::<Schedule>(&a.schedule)?,
        clip: if a.clip > 0.0 { Some(a.clip) } else { None },
        threads: a.threads,
        seed: a.seed,
        eval_every: 1,
        patience: a.patience,
    };
    cfg.validate().map_err(|e| CliError::input(e.to_string()))?;
    Ok(cfg)
}

/// Runs `neurodyn train`.
pub fn run(args: &TrainArgs) -> Result<(), CliError> {
    let resumed;
    let a = match &args.resume {
        Some(dir) => {
            resumed = resumed_args(dir)?;
            &resumed
        }
        None => args,
    };
    let data = load_data(a)?;
    let (inputs, outputs) = (data.train.inputs, data.train.outputs());
    let mut model = build_model(a, inputs, outputs, data.train.dt as f64)?;
    let epochs = a
        .epochs
        .unwrap_or(if data.test.is_some() { 200 } else { 300 });
    let cfg = train_config(a, epochs)?;
    let model_name = format!("{:?}", a.kind()).to_lowercase();
    let default_out = PathBuf::from("runs").join(format!("{model_name}-{}-s{}", data.name, a.seed));
    let out = a.out.clone().unwrap_or(default_out);
    let mut resume = None;
    let mut run = if args.resume.is_some() {
        let store = match &mut model {
            AnyModel::Gnode(m) => m.store_mut(),
            AnyModel::Gru(m) => m.store_mut(),
        };
        let last = out.join("last.npz");
        let (params, r) =
            super::rundir::load_train_state(&last, cfg.optimizer, cfg.weight_decay, store)
                .map_err(|e| CliError::input(e.to_string()))?;
        load_params(store, &params)?;
        super::rundir::truncate_metrics(&out, r.epoch)
            .map_err(|e| CliError::failure(e.to_string()))?;
        resume = Some(r);
        RunDir::open(&out).map_err(|e| CliError::failure(e.to_string()))?
    } else {
        let run = RunDir::create(&out).map_err(|e| CliError::failure(e.to_string()))?;
        run.write_config(a, &cfg)
            .map_err(|e| CliError::failure(e.to_string()))?;
        run
    };
    let describe = match &model {
        AnyModel::Gnode(m) => m.describe(),
        AnyModel::Gru(m) => m.describe(),
    };
    if !a.quiet && !a.json {
        outln!(
            "training {describe} on {} ({} train / {} validation{} trials), {} parameters, {} epochs → {}",
            data.name,
            data.train.n,
            data.val.n,
            data.test
                .as_ref()
                .map(|t| format!(" / {} test", t.n))
                .unwrap_or_default(),
            match &model {
                AnyModel::Gnode(m) => m.store().len(),
                AnyModel::Gru(m) => m.store().len(),
            },
            epochs,
            out.display()
        );
    }
    let start = Instant::now();
    let progress = Progress::new(epochs as u64, a.quiet || a.json);
    let metric = if matches!(data.train.labels, train::Labels::Classes { .. }) {
        "acc"
    } else {
        "R²"
    };
    let mut log_err: Option<String> = None;
    let mut observer =
        |r: &EpochReport, store: &crate::tape::ParamStore<f32>, st: &train::EpochState<'_, f32>| {
            progress.epoch(r, metric);
            if let Err(e) = run.log_epoch(r, start.elapsed().as_secs_f64()) {
                log_err = Some(e.to_string());
                return Control::Stop;
            }
            if let Err(e) = super::rundir::save_train_state(&run.file("last.npz"), store, st) {
                log_err = Some(e.to_string());
                return Control::Stop;
            }
            Control::Continue
        };
    let report = match &mut model {
        AnyModel::Gnode(m) => train::run(
            m.as_mut(),
            &data.train,
            &data.val,
            &cfg,
            resume,
            |r, m, st| observer(r, m.store(), st),
        ),
        AnyModel::Gru(m) => train::run(m, &data.train, &data.val, &cfg, resume, |r, m, st| {
            observer(r, m.store(), st)
        }),
    }
    .map_err(|e| CliError::failure(e.to_string()))?;
    progress.finish();
    if let Some(e) = log_err {
        return Err(CliError::failure(format!(
            "could not write the run folder: {e}"
        )));
    }
    let store = match &model {
        AnyModel::Gnode(m) => m.store(),
        AnyModel::Gru(m) => m.store(),
    };
    run.save_checkpoint("best", store, report.best_epoch)
        .map_err(|e| CliError::failure(e.to_string()))?;
    let secs = start.elapsed().as_secs_f64();
    let best = report.best.map(|b| b.score()).unwrap_or(f64::NAN);
    let what = format!("validation {metric}");
    let test_eval = match &data.test {
        Some(t) => {
            let e = match &model {
                AnyModel::Gnode(m) => train::evaluate(m.as_ref(), t, 100),
                AnyModel::Gru(m) => train::evaluate(m, t, 100),
            }
            .map_err(|e| CliError::failure(e.to_string()))?;
            Some(e)
        }
        None => None,
    };
    run.write_result(&report, secs, &what, test_eval.map(|e| e.score()))
        .map_err(|e| CliError::failure(e.to_string()))?;
    if let AnyModel::Gnode(m) = &model {
        let recipe = match (&a.task, &a.data, &a.test) {
            (Some(t), _, _) => {
                serde_json::json!({"task": t, "seed": a.seed, "trials": a.trials, "metric": metric})
            }
            (_, Some(tr), Some(te)) => {
                serde_json::json!({"train": tr, "test": te, "metric": metric})
            }
            _ => serde_json::Value::Null,
        };
        super::analyze::after_training(&mut run, m, &data, recipe, a.quiet || a.json)
            .map_err(|e| CliError::failure(e.to_string()))?;
    } else {
        let fig = super::figures::training(run.dir(), metric)
            .map_err(|e| CliError::failure(e.to_string()))?;
        super::figures::save_both(&fig, run.dir(), "training")
            .map_err(|e| CliError::failure(e.to_string()))?;
    }
    if a.json {
        outln!(
            "{}",
            serde_json::json!({"model": describe, "data": data.name, "epochs": report.epochs, "best_epoch": report.best_epoch,
                "metric": what, "best": best, "test": test_eval.map(|e| e.score()), "seconds": secs, "run": out.display().to_string(),
                "stop": format!("{:?}", report.stop)})
        );
    } else if !a.quiet {
        outln!(
            "best {what} {best:.4} at epoch {} ({} epochs in {secs:.1} s); run folder {}",
            report.best_epoch,
            report.epochs,
            out.display()
        );
        if let Some(t) = test_eval {
            let name = if metric == "acc" { "accuracy" } else { "R²" };
            outln!(
                "test {name} {:.4} (loss {:.4}) with the best-validation parameters",
                t.score(),
                t.loss
            );
        }
    }
    if let StopReason::Diverged { epoch, what } = &report.stop {
        return Err(CliError::failure(format!(
            "training diverged at epoch {epoch}: {what}; the last good parameters are in {}",
            out.join("best.npz").display()
        )));
    }
    Ok(())
}
