//! One run, as both executors start it: skip it if finished, resume it if interrupted, start it
//! otherwise, in a child `neurodyn train` process whose output goes to `logs/<id>.log`, and
//! record the attempt in `state/<id>.json`.

use super::dir::{self, Attempt, AttemptState, Plan, SweepDir};
use super::expand::Run;
use crate::cli::CliError;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// How a run went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It had finished before.
    AlreadyDone,
    /// Another process on this machine is training it now.
    Busy(u32),
    /// It finished now.
    Finished {
        /// Wall-clock seconds of this attempt.
        secs: f64,
        /// Whether it resumed an interrupted run.
        resumed: bool,
        /// The training exit code (1 when it stopped on divergence, with a result).
        exit: i32,
    },
    /// The training process failed before finishing.
    Failed {
        /// Its exit code, or none if a signal ended it.
        exit: Option<i32>,
        /// Where its output is.
        log: PathBuf,
        /// The last lines of that output.
        tail: Vec<String>,
    },
}

/// The command line of an attempt: the run's own, or `train --resume` when its folder holds a
/// checkpoint (`last.npz` and the `config.json` that recorded the command line).
pub fn attempt_args(dir: &SweepDir, run: &Run) -> (Vec<String>, bool) {
    let rd = dir.run_dir(&run.id);
    let rd_s = rd.display().to_string();
    if rd.join("last.npz").is_file() && rd.join("config.json").is_file() {
        let args = vec!["train".into(), "--resume".into(), rd_s, "--quiet".into()];
        return (args, true);
    }
    let mut args = run.args.clone();
    args.extend(["--out".into(), rd_s, "--quiet".into()]);
    (args, false)
}

/// Runs `run` to the end (or skips it), with the `neurodyn` binary `exe`; `slurm_task` names
/// the array task when inside one.
///
/// # Errors
/// The binary cannot be started, or the sweep folder cannot be written.
pub fn run_one(
    dir: &SweepDir,
    plan: &Plan,
    run: &Run,
    exe: &Path,
    slurm_task: Option<String>,
) -> Result<Outcome, CliError> {
    if dir.finished(&run.id) {
        return Ok(Outcome::AlreadyDone);
    }
    let host = dir::host();
    let rd = dir.run_dir(&run.id);
    if let Some(a) = dir.attempt(&run.id)
        && a.state == AttemptState::Running
        && a.host == host
        && dir::alive(a.pid, &rd.display().to_string())
    {
        return Ok(Outcome::Busy(a.pid));
    }
    let (args, resumed) = attempt_args(dir, run);
    let log_path = dir.log(&run.id);
    let fail = |e: std::io::Error| CliError::failure(format!("{}: {e}", log_path.display()));
    if let Some(p) = log_path.parent() {
        std::fs::create_dir_all(p).map_err(fail)?;
    }
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(fail)?;
    let started = dir::now();
    writeln!(
        log,
        "== {} on {host}{}: neurodyn {}",
        dir::utc(started),
        slurm_task
            .as_deref()
            .map(|t| format!(" (SLURM task {t})"))
            .unwrap_or_default(),
        args.join(" ")
    )
    .map_err(fail)?;
    let err_log = log.try_clone().map_err(fail)?;
    let t0 = Instant::now();
    let mut child = Command::new(exe)
        .args(&args)
        .current_dir(&plan.workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(err_log))
        .spawn()
        .map_err(|e| CliError::failure(format!("cannot start {}: {e}", exe.display())))?;
    let mut attempt = Attempt {
        state: AttemptState::Running,
        executor: if slurm_task.is_some() {
            "slurm"
        } else {
            "local"
        }
        .to_string(),
        host,
        pid: child.id(),
        exit: None,
        resumed,
        slurm_task,
        started,
    };
    dir.set_attempt(&run.id, &attempt)?;
    let status = child
        .wait()
        .map_err(|e| CliError::failure(format!("waiting for run {}: {e}", run.id)))?;
    let secs = t0.elapsed().as_secs_f64();
    attempt.exit = status.code();
    let finished = dir.finished(&run.id);
    // a run that stopped on divergence has its result and exits 1: finished, not failed
    attempt.state = if finished {
        AttemptState::Done
    } else {
        AttemptState::Failed
    };
    dir.set_attempt(&run.id, &attempt)?;
    if finished {
        Ok(Outcome::Finished {
            secs,
            resumed,
            exit: status.code().unwrap_or(0),
        })
    } else {
        if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&log_path) {
            let _ = writeln!(
                f,
                "== exit {} after {secs:.1} s without a result",
                status
                    .code()
                    .map_or_else(|| "by a signal".to_string(), |c| format!("code {c}"))
            );
        }
        Ok(Outcome::Failed {
            exit: status.code(),
            tail: dir::tail(&log_path, 12),
            log: log_path,
        })
    }
}
