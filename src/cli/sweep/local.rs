//! The local executor: the unfinished runs of a sweep on this machine, at most `jobs` at once,
//! each a child `neurodyn train` process in its own run folder.

use super::dir::{Plan, SweepDir};
use super::exec::{self, Outcome};
use super::expand::Run;
use crate::cli::CliError;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// The default number of runs at once: the cores divided by the runs' `--threads`.
pub fn default_jobs(runs: &[Run]) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = runs.iter().map(|r| r.threads).max().unwrap_or(1).max(1);
    (cores / threads).max(1)
}

/// The runs of this sweep that SLURM holds now (pending or running), which must not be started
/// here as well; a queue that cannot be read is reported and taken as empty.
fn queued_in_slurm(dir: &SweepDir) -> Vec<usize> {
    let subs = super::slurm::submissions(dir);
    if subs.is_empty() {
        return Vec::new();
    }
    match super::slurm::query(&subs) {
        Ok(q) => q
            .into_iter()
            .filter(|(_, t)| t.live())
            .map(|(k, _)| k)
            .collect(),
        Err(e) => {
            eprintln!(
                "warning: cannot read the SLURM queue ({e}); running every unfinished run here"
            );
            Vec::new()
        }
    }
}

/// Runs every unfinished run of `plan` (resuming interrupted ones) with the binary `exe`.
///
/// # Errors
/// Any run failed (exit code 1, after all others have run), each reported on stderr with the
/// end of its log.
pub fn execute(
    dir: &SweepDir,
    plan: &Plan,
    exe: &Path,
    jobs: usize,
    quiet: bool,
) -> Result<(), CliError> {
    let queued = queued_in_slurm(dir);
    let todo: Vec<&Run> = plan
        .runs
        .iter()
        .filter(|r| !dir.finished(&r.id) && !queued.contains(&r.index))
        .collect();
    let done_before = plan.runs.iter().filter(|r| dir.finished(&r.id)).count();
    if !queued.is_empty() && !quiet {
        outln!(
            "{} runs are queued or running in SLURM and are left to it",
            queued.len()
        );
    }
    let jobs = jobs.clamp(1, todo.len().max(1));
    if !quiet {
        outln!(
            "sweep {}: {} runs, {done_before} finished before, {} to run ({jobs} at a time)",
            dir.root().display(),
            plan.runs.len(),
            todo.len()
        );
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(&Run, Result<Outcome, CliError>)>();
    let mut failed: Vec<(&Run, String)> = Vec::new();
    let (mut finished, mut busy) = (0usize, 0usize);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, todo) = (&next, &todo);
            s.spawn(move || {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(run) = todo.get(k) else { break };
                    let r = exec::run_one(dir, plan, run, exe, None);
                    if tx.send((run, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (k, (run, r)) in rx.iter().enumerate() {
            let line = match r {
                Ok(Outcome::Finished {
                    secs,
                    resumed,
                    exit,
                }) => {
                    finished += 1;
                    let how = if resumed {
                        "resumed, finished"
                    } else {
                        "finished"
                    };
                    let note = if exit == 0 {
                        ""
                    } else {
                        " (stopped early: see result.json)"
                    };
                    format!("{how} in {secs:.1} s{note}")
                }
                Ok(Outcome::AlreadyDone) => {
                    finished += 1;
                    "already finished".to_string()
                }
                Ok(Outcome::Busy(pid)) => {
                    busy += 1;
                    format!("skipped: being trained by process {pid}")
                }
                Ok(Outcome::Failed { exit, log, tail }) => {
                    let code = exit.map_or("a signal".to_string(), |c| format!("exit code {c}"));
                    let mut msg = format!("failed ({code}); log {}", log.display());
                    for l in tail {
                        msg.push_str(&format!("\n    | {l}"));
                    }
                    failed.push((run, msg.clone()));
                    format!("FAILED ({code})")
                }
                Err(e) => {
                    failed.push((run, e.message.clone()));
                    format!("FAILED: {}", e.message)
                }
            };
            if !quiet {
                outln!("[{}/{}] {}: {line}", k + 1, todo.len(), run.id);
            }
        }
    });
    if !quiet {
        outln!(
            "{} of {} runs finished{}{}",
            done_before + finished,
            plan.runs.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(", {} failed", failed.len())
            },
            if busy > 0 {
                format!(", {busy} still running elsewhere")
            } else {
                String::new()
            }
        );
    }
    if failed.is_empty() {
        return Ok(());
    }
    for (run, msg) in &failed {
        eprintln!("run {}: {msg}", run.id);
    }
    Err(CliError::failure(format!(
        "{} of {} runs failed (re-run the sweep to retry them; `neurodyn sweep status {}` shows them)",
        failed.len(),
        plan.runs.len(),
        dir.root().display()
    )))
}
