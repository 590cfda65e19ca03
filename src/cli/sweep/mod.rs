//! `neurodyn sweep`: grids and lists of training runs, expanded from a TOML or JSON spec into
//! numbered runs with stable ids, run on this machine (`--local`) or as a SLURM job array
//! (`--slurm`), then followed (`sweep status`) and tabulated (`sweep collect`).
//!
//! Every run's command line is checked by the command's own parser before anything runs or is
//! submitted; a sweep folder records its runs (`sweep.json`), so that re-running the sweep skips
//! finished runs and resumes interrupted ones. See `docs/sweeps.md`.

mod collect;
mod dir;
mod exec;
mod expand;
mod local;
mod node;
mod slurm;
mod spec;
mod status;

use super::CliError;
use dir::{Plan, SweepDir};
use std::path::{Path, PathBuf};

/// Options of `neurodyn sweep`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, after_help = EXAMPLES)]
pub struct SweepArgs {
    /// `status` or `collect` of an existing sweep.
    #[command(subcommand)]
    pub action: Option<Action>,
    /// The sweep spec: TOML, or JSON when its name ends in .json.
    pub spec: Option<PathBuf>,
    /// Run on this machine, several runs at once (the default).
    #[arg(long, conflicts_with = "slurm")]
    pub local: bool,
    /// Submit the runs as a SLURM job array with sbatch.
    #[arg(long)]
    pub slurm: bool,
    /// Runs at once with --local (default: the spec's [local] jobs, else cores / --threads).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// The sweep folder (default: the spec's `out`, else sweeps/<spec file name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Check and expand the spec and print the runs (and, with --slurm, the batch script);
    /// write, run and submit nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print only errors and failed runs.
    #[arg(long)]
    pub quiet: bool,
}

const EXAMPLES: &str = "Examples:
  neurodyn sweep sweeps/ring.toml                  run every run here, resuming interrupted ones
  neurodyn sweep sweeps/ring.toml --slurm          submit a SLURM job array
  neurodyn sweep sweeps/ring.toml --dry-run        list the runs (and the batch script)
  neurodyn sweep status sweeps/ring                done, running, interrupted, failed, pending
  neurodyn sweep collect sweeps/ring               summary.csv, summary.png, the best run";

/// What to do with an existing sweep folder.
#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Shows each run: done, running, interrupted, failed (with its log) or pending.
    Status(StatusArgs),
    /// Writes DIR/summary.csv and DIR/summary.{png,svg} and prints the table and the best run.
    Collect(CollectArgs),
    /// Runs one run of a sweep (what each SLURM array task executes).
    #[command(hide = true)]
    RunTask(RunTaskArgs),
}

/// Options of `neurodyn sweep status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// The sweep folder.
    pub dir: PathBuf,
    /// Wait until no run is running or queued, then print.
    #[arg(long)]
    pub wait: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Options of `neurodyn sweep collect`.
#[derive(clap::Args, Debug)]
pub struct CollectArgs {
    /// The sweep folder.
    pub dir: PathBuf,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Options of the hidden `neurodyn sweep run-task`.
#[derive(clap::Args, Debug)]
pub struct RunTaskArgs {
    /// The sweep folder.
    pub dir: PathBuf,
    /// The run's index (the SLURM array task id).
    pub index: usize,
}

/// Parses a sweep spec (TOML, or JSON if `json`) and expands it, touching no file but the data
/// files it names (for the fuzz harness); returns the number of runs.
///
/// # Errors
/// A malformed spec, as the command's one-line message.
pub fn check_spec(text: &str, json: bool) -> Result<usize, CliError> {
    let file = Path::new(if json { "fuzz.json" } else { "fuzz.toml" });
    let root = if json {
        node::Node::from_json(text)
    } else {
        node::Node::from_toml(text)
    }
    .map_err(|m| spec::SpecError::new(file, "", m))?;
    let spec = spec::Spec::from_node(file, root)?;
    Ok(expand::expand(&spec)?.len())
}

/// Runs `neurodyn sweep`.
///
/// # Errors
/// A malformed spec or bad arguments (exit code 2), failed runs or an unusable scheduler (1).
pub fn run(a: &SweepArgs) -> Result<(), CliError> {
    match &a.action {
        Some(Action::Status(s)) => status::run(&SweepDir::new(&s.dir), s.json, s.wait),
        Some(Action::Collect(c)) => collect::run(&SweepDir::new(&c.dir), c.json),
        Some(Action::RunTask(t)) => run_task(t),
        None => start(a),
    }
}

fn exe() -> Result<PathBuf, CliError> {
    std::env::current_exe()
        .map_err(|e| CliError::failure(format!("cannot find the neurodyn binary: {e}")))
}

/// Reads, checks and expands the spec, then runs or submits it.
fn start(a: &SweepArgs) -> Result<(), CliError> {
    let Some(spec_path) = &a.spec else {
        return Err(CliError::input(
            "give a sweep spec (neurodyn sweep SPEC.toml), or `status DIR` / `collect DIR`",
        ));
    };
    let spec = spec::Spec::read(spec_path)?;
    let runs = expand::expand(&spec)?;
    let out = a
        .out
        .clone()
        .or_else(|| spec.out.clone())
        .unwrap_or_else(|| {
            let stem = spec_path
                .file_stem()
                .map_or("sweep".into(), |s| s.to_string_lossy().into_owned());
            Path::new("sweeps").join(stem)
        });
    let dir = SweepDir::new(&out);
    let workdir = std::env::current_dir()
        .map_err(|e| CliError::failure(format!("no working directory: {e}")))?;
    let mut keys: Vec<String> = Vec::new();
    for r in &runs {
        for (k, _) in &r.params {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let plan = Plan {
        spec: std::path::absolute(spec_path)
            .unwrap_or_else(|_| spec_path.clone())
            .display()
            .to_string(),
        workdir,
        keys,
        runs,
    };
    let exe = exe()?;
    if a.dry_run {
        dry_run(&dir, &plan, &spec, &exe, a);
        return Ok(());
    }
    if a.slurm {
        // before anything is written: is there a scheduler to submit to?
        std::process::Command::new("sbatch")
            .arg("--version")
            .output()
            .map_err(|e| {
                CliError::failure(format!(
                    "cannot run sbatch ({e}): --slurm needs a SLURM login node; use --local to run here"
                ))
            })?;
        dir.prepare(&plan)?;
        slurm::submit(&dir, &plan, &spec.slurm, &exe, a.quiet)
    } else {
        dir.prepare(&plan)?;
        let jobs = a
            .jobs
            .or(spec.local.jobs)
            .map_or_else(|| local::default_jobs(&plan.runs), |j| j as usize);
        local::execute(&dir, &plan, &exe, jobs, a.quiet)
    }
}

fn dry_run(dir: &SweepDir, plan: &Plan, spec: &spec::Spec, exe: &Path, a: &SweepArgs) {
    outln!(
        "sweep {}: {} runs (dry run: nothing written)",
        dir.root().display(),
        plan.runs.len()
    );
    let w = plan.runs.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in &plan.runs {
        let done = if dir.finished(&r.id) {
            "  [finished]"
        } else {
            ""
        };
        outln!("{:<w$}  neurodyn {}{done}", r.id, r.args.join(" "));
    }
    if a.slurm {
        let todo: Vec<usize> = plan
            .runs
            .iter()
            .filter(|r| !dir.finished(&r.id))
            .map(|r| r.index)
            .collect();
        out!("\n{}", slurm::script(dir, plan, &spec.slurm, &todo, exe));
    }
}

/// One array task: the run with this index, skipped if finished, resumed if interrupted.
fn run_task(t: &RunTaskArgs) -> Result<(), CliError> {
    let dir = SweepDir::new(&t.dir);
    let plan = dir.read_plan()?;
    let run = plan.runs.get(t.index).ok_or_else(|| {
        CliError::input(format!(
            "{}: no run {} (the sweep has {})",
            dir.root().display(),
            t.index,
            plan.runs.len()
        ))
    })?;
    let task = match (
        std::env::var("SLURM_ARRAY_JOB_ID"),
        std::env::var("SLURM_ARRAY_TASK_ID"),
    ) {
        (Ok(j), Ok(k)) => format!("{j}_{k}"),
        _ => format!("task-{}", t.index),
    };
    outln!("run {} ({}) as {task} on {}", run.id, t.index, dir::host());
    match exec::run_one(&dir, &plan, run, &exe()?, Some(task))? {
        exec::Outcome::AlreadyDone => outln!("already finished"),
        exec::Outcome::Busy(pid) => outln!("being trained by process {pid}; nothing to do"),
        exec::Outcome::Finished { secs, resumed, .. } => outln!(
            "{} in {secs:.1} s",
            if resumed {
                "resumed and finished"
            } else {
                "finished"
            }
        ),
        exec::Outcome::Failed { exit, log, tail } => {
            eprintln!(
                "run {} failed ({}); log {}:",
                run.id,
                exit.map_or("killed by a signal".into(), |c| format!("exit code {c}")),
                log.display()
            );
            for l in tail {
                eprintln!("    | {l}");
            }
            return Err(CliError::failure(format!("run {} failed", run.id)));
        }
    }
    Ok(())
}
