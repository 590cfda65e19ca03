//! `neurodyn sweep status DIR`: each run done, running, interrupted, failed or pending, from
//! its run folder, the executor's record of its last attempt and, for SLURM, the queue.

use super::dir::{self, AttemptState, Plan, SweepDir};
use super::slurm::{self, TaskState};
use crate::cli::CliError;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// `result.json` exists.
    Done,
    /// A training process or a SLURM task is on it now.
    Running,
    /// Started, stopped before finishing; a re-run resumes it from `last.npz`.
    Interrupted,
    /// Its last attempt failed (a training error, or a SLURM task that ended without a result).
    Failed,
    /// Not started (or queued in SLURM).
    Pending,
}

impl State {
    /// Lower-case name, as printed.
    pub fn name(self) -> &'static str {
        match self {
            State::Done => "done",
            State::Running => "running",
            State::Interrupted => "interrupted",
            State::Failed => "failed",
            State::Pending => "pending",
        }
    }
    const ALL: [State; 5] = [
        State::Done,
        State::Running,
        State::Interrupted,
        State::Failed,
        State::Pending,
    ];
}

/// One run's status.
#[derive(Debug, Clone)]
pub struct RunStatus {
    /// The run id.
    pub id: String,
    /// Where it is.
    pub state: State,
    /// Epochs logged in its `metrics.csv`.
    pub epochs: usize,
    /// Its `--epochs`, if the spec set it.
    pub of: Option<usize>,
    /// A short explanation (stop reason, process, SLURM task and state, exit code).
    pub detail: String,
    /// Whether SLURM has a task for it in the queue.
    pub queued: bool,
    /// For failures: the log to read, and its last lines.
    pub log: Option<PathBuf>,
    /// The last lines of that log.
    pub tail: Vec<String>,
}

/// The status of every run, and a note about the SLURM jobs (their ids, or why the queue could
/// not be read).
pub fn survey(dir: &SweepDir, plan: &Plan) -> (Vec<RunStatus>, Option<String>) {
    let subs = slurm::submissions(dir);
    let (queue, note) = if subs.is_empty() {
        (HashMap::new(), None)
    } else {
        let jobs: Vec<&str> = subs.iter().map(|s| s.job.as_str()).collect();
        match slurm::query(&subs) {
            Ok(q) => (q, Some(format!("SLURM job {}", jobs.join(", ")))),
            Err(e) => (
                HashMap::new(),
                Some(format!(
                    "SLURM job {} (queue not read: {e})",
                    jobs.join(", ")
                )),
            ),
        }
    };
    let runs = plan
        .runs
        .iter()
        .map(|r| {
            let of = r
                .args
                .iter()
                .find_map(|a| a.strip_prefix("--epochs=")?.parse().ok());
            classify(dir, &r.id, of, queue.get(&r.index))
        })
        .collect();
    (runs, note)
}

fn metrics_rows(dir: &SweepDir, id: &str) -> usize {
    std::fs::read_to_string(dir.run_dir(id).join("metrics.csv"))
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

fn classify(dir: &SweepDir, id: &str, of: Option<usize>, task: Option<&TaskState>) -> RunStatus {
    let rd = dir.run_dir(id);
    let mut st = RunStatus {
        id: id.to_string(),
        state: State::Pending,
        epochs: metrics_rows(dir, id),
        of,
        detail: String::new(),
        queued: task.is_some_and(TaskState::live),
        log: None,
        tail: Vec::new(),
    };
    if dir.finished(id) {
        st.state = State::Done;
        st.detail = done_detail(&rd.join("result.json"));
        return st;
    }
    let slurm_log = |t: &TaskState| dir.path(&format!("logs/{}.out", t.task));
    if let Some(t) = task.filter(|t| t.live()) {
        st.state = if matches!(t.state.as_str(), "PENDING" | "REQUEUED" | "REQUEUE_HOLD") {
            State::Pending
        } else {
            State::Running
        };
        st.detail = format!("SLURM task {} {}", t.task, t.state);
        if !t.detail.is_empty() && t.detail != "None" {
            st.detail.push_str(&format!(" ({})", t.detail));
        }
        return st;
    }
    let attempt = dir.attempt(id);
    if let Some(a) = attempt.as_ref().filter(|a| a.state == AttemptState::Failed) {
        st.state = State::Failed;
        let code = a
            .exit
            .map_or("killed by a signal".into(), |c| format!("exit code {c}"));
        let task = a
            .slurm_task
            .as_deref()
            .map(|t| format!(" (SLURM task {t})"))
            .unwrap_or_default();
        st.detail = format!("training {code} on {}{task}", a.host);
        st.log = Some(dir.log(id));
        st.tail = dir::tail(&dir.log(id), 8);
        return st;
    }
    if let Some(t) = task
        && t.state != "COMPLETED"
    {
        // the task left the queue without a result: killed (time limit, memory, cancelled,
        // node failure) or the script itself failed
        st.state = State::Failed;
        st.detail = format!("SLURM task {} {} ({})", t.task, t.state, t.detail);
        if rd.join("last.npz").is_file() {
            st.detail
                .push_str(&format!("; a re-run resumes after epoch {}", st.epochs));
        }
        st.log = Some(slurm_log(t));
        st.tail = dir::tail(&slurm_log(t), 8);
        return st;
    }
    if let Some(a) = &attempt
        && a.state == AttemptState::Running
    {
        if a.executor == "local"
            && a.host == dir::host()
            && dir::alive(a.pid, &rd.display().to_string())
        {
            st.state = State::Running;
            st.detail = format!("process {} on {}", a.pid, a.host);
        } else {
            st.state = State::Interrupted;
            st.detail = format!(
                "stopped at epoch {} (process {} on {} is gone)",
                st.epochs, a.pid, a.host
            );
        }
        return st;
    }
    if rd.join("last.npz").is_file() {
        st.state = State::Interrupted;
        st.detail = format!("stopped at epoch {}", st.epochs);
    }
    st
}

fn done_detail(result: &std::path::Path) -> String {
    let v: Value = std::fs::read_to_string(result)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let stop = v["stop"].as_str().unwrap_or("?");
    match v["best_score"].as_f64() {
        Some(b) => format!(
            "{stop}; best {} {b:.4} at epoch {}",
            v["metric"].as_str().unwrap_or("score"),
            v["best_epoch"]
        ),
        None => stop.to_string(),
    }
}

/// Counts per state, in the order of [`State`].
pub fn counts(runs: &[RunStatus]) -> Vec<(State, usize)> {
    State::ALL
        .iter()
        .map(|&s| (s, runs.iter().filter(|r| r.state == s).count()))
        .collect()
}

/// Prints the status table (or JSON).
pub fn print(dir: &SweepDir, runs: &[RunStatus], note: Option<&str>, as_json: bool) {
    if as_json {
        let rows: Vec<Value> = runs
            .iter()
            .map(|r| {
                json!({"run": r.id, "state": r.state.name(), "epochs": r.epochs, "of": r.of,
                       "detail": r.detail, "queued": r.queued, "log": r.log, "tail": r.tail})
            })
            .collect();
        let c: serde_json::Map<String, Value> = counts(runs)
            .into_iter()
            .map(|(s, n)| (s.name().to_string(), json!(n)))
            .collect();
        outln!(
            "{}",
            json!({"dir": dir.root(), "runs": rows, "counts": c, "slurm": note})
        );
        return;
    }
    let summary: Vec<String> = counts(runs)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {}", s.name()))
        .collect();
    outln!(
        "sweep {}{}: {} runs: {}",
        dir.root().display(),
        note.map(|n| format!(" ({n})")).unwrap_or_default(),
        runs.len(),
        summary.join(", ")
    );
    let w = runs.iter().map(|r| r.id.len()).max().unwrap_or(3).max(3);
    outln!("{:<w$}  {:<11}  {:>9}  detail", "run", "state", "epochs");
    for r in runs {
        let ep = match r.of {
            Some(n) => format!("{}/{n}", r.epochs),
            None => r.epochs.to_string(),
        };
        outln!(
            "{:<w$}  {:<11}  {ep:>9}  {}",
            r.id,
            r.state.name(),
            r.detail
        );
    }
    for r in runs.iter().filter(|r| r.state == State::Failed) {
        if let Some(log) = &r.log {
            outln!("\n{} failed; {}:", r.id, log.display());
            for l in &r.tail {
                outln!("    | {l}");
            }
        }
    }
}

/// Runs `neurodyn sweep status`.
///
/// # Errors
/// Not a sweep folder.
pub fn run(dir: &SweepDir, as_json: bool, wait: bool) -> Result<(), CliError> {
    let plan = dir.read_plan()?;
    loop {
        let (runs, note) = survey(dir, &plan);
        let active = runs.iter().any(|r| r.state == State::Running || r.queued);
        if !wait || !active {
            print(dir, &runs, note.as_deref(), as_json);
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}
