//! The SLURM executor: one job array whose task `k` runs run `k` of the sweep (through the
//! hidden `neurodyn sweep run-task DIR k`), submitted with `sbatch`; and the queue's view of
//! the tasks from `squeue`, `sacct`, or `scontrol` where accounting is off.

use super::dir::{self, Plan, SweepDir};
use super::spec::SlurmSpec;
use crate::cli::CliError;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// One `sbatch` submission: the job id and the runs it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// The array job id.
    pub job: String,
    /// The run indices (= array task ids).
    pub runs: Vec<usize>,
    /// Unix seconds.
    pub submitted: f64,
}

/// What SLURM says about one array task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskState {
    /// `<job>_<task>`.
    pub task: String,
    /// SLURM's state (`PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `TIMEOUT`, …), or `ENDED`
    /// when the task left the queue and no accounting says how.
    pub state: String,
    /// Why it is pending, or its exit code once ended.
    pub detail: String,
}

impl TaskState {
    /// Still in the queue (pending, running, completing, suspended, …).
    pub fn live(&self) -> bool {
        matches!(
            self.state.as_str(),
            "PENDING"
                | "RUNNING"
                | "CONFIGURING"
                | "COMPLETING"
                | "SUSPENDED"
                | "REQUEUED"
                | "REQUEUE_HOLD"
                | "REQUEUE_FED"
                | "RESIZING"
                | "SIGNALING"
                | "STAGE_OUT"
                | "STOPPED"
        )
    }
}

/// The recorded submissions (`slurm.json`), oldest first.
pub fn submissions(dir: &SweepDir) -> Vec<Submission> {
    let Ok(text) = std::fs::read_to_string(dir.path("slurm.json")) else {
        return Vec::new();
    };
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    v["jobs"]
        .as_array()
        .map(|jobs| {
            jobs.iter()
                .filter_map(|j| {
                    Some(Submission {
                        job: j["job"].as_str()?.to_string(),
                        runs: j["runs"]
                            .as_array()?
                            .iter()
                            .filter_map(|r| r.as_u64().map(|r| r as usize))
                            .collect(),
                        submitted: j["submitted"].as_f64().unwrap_or(0.0),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `0-3,5,7-8`: the array specification of sorted indices.
pub fn array_ranges(indices: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            indices[i].to_string()
        } else {
            format!("{}-{}", indices[i], indices[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// Quotes a string for the shell (single quotes).
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The batch script for the runs `indices` of `plan`.
pub fn script(
    dir: &SweepDir,
    plan: &Plan,
    spec: &SlurmSpec,
    indices: &[usize],
    exe: &Path,
) -> String {
    let name = spec.job_name.clone().unwrap_or_else(|| {
        dir.root().file_name().map_or("neurodyn-sweep".into(), |n| {
            n.to_string_lossy().into_owned()
        })
    });
    let threads = plan.runs.iter().map(|r| r.threads).max().unwrap_or(1);
    let mut array = array_ranges(indices);
    if let Some(p) = spec.array_parallel {
        array.push_str(&format!("%{p}"));
    }
    let command = plan
        .runs
        .first()
        .map(|r| r.args[..2.min(r.args.len())].join(" "));
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!(
        "# neurodyn sweep {}: {} of {} runs of `neurodyn {}`; task k is run k of sweep.json.\n",
        dir.root().display(),
        indices.len(),
        plan.runs.len(),
        command.unwrap_or_default()
    ));
    s.push_str("# Written by `neurodyn sweep --slurm`, which rewrites it at every submission.\n");
    let mut directive = |d: String| s.push_str(&format!("#SBATCH {d}\n"));
    directive(format!("--job-name={}", sh(&name)));
    directive(format!("--array={array}"));
    directive(format!(
        "--output={}",
        sh(&format!("{}/logs/%A_%a.out", dir.root().display()))
    ));
    directive(format!(
        "--chdir={}",
        sh(&plan.workdir.display().to_string())
    ));
    directive("--ntasks=1".into());
    directive(format!(
        "--cpus-per-task={}",
        spec.cpus_per_task.unwrap_or(threads as u64)
    ));
    let opts = [
        ("partition", &spec.partition),
        ("time", &spec.time),
        ("mem", &spec.mem),
        ("account", &spec.account),
        ("qos", &spec.qos),
    ];
    for (k, v) in opts {
        if let Some(v) = v {
            directive(format!("--{k}={}", sh(v)));
        }
    }
    for e in &spec.extra {
        directive(e.clone());
    }
    for line in &spec.setup {
        s.push_str(line);
        s.push('\n');
    }
    let exe = spec
        .executable
        .as_deref()
        .unwrap_or(exe)
        .display()
        .to_string();
    s.push_str(&format!(
        "exec {} sweep run-task {} \"$SLURM_ARRAY_TASK_ID\"\n",
        sh(&exe),
        sh(&dir.root().display().to_string())
    ));
    s
}

/// Runs a SLURM client command; its stdout, or a one-line error.
fn client(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{program} failed: {}",
            err.lines().next().unwrap_or("no message").trim()
        ))
    }
}

/// Submits the unfinished runs that are not already queued; records the job in `slurm.json`.
///
/// # Errors
/// `sbatch` missing or refusing the script (exit code 1).
pub fn submit(
    dir: &SweepDir,
    plan: &Plan,
    spec: &SlurmSpec,
    exe: &Path,
    quiet: bool,
) -> Result<(), CliError> {
    let queued = query(&submissions(dir));
    let queued = queued.map_err(|e| {
        CliError::failure(format!(
            "cannot ask SLURM for the sweep's earlier jobs: {e}"
        ))
    })?;
    let todo: Vec<usize> = plan
        .runs
        .iter()
        .filter(|r| !dir.finished(&r.id))
        .filter(|r| !queued.get(&r.index).is_some_and(TaskState::live))
        .map(|r| r.index)
        .collect();
    let done = plan.runs.iter().filter(|r| dir.finished(&r.id)).count();
    if todo.is_empty() {
        if !quiet {
            outln!(
                "sweep {}: nothing to submit ({done} of {} runs finished, the others queued)",
                dir.root().display(),
                plan.runs.len()
            );
        }
        return Ok(());
    }
    let text = script(dir, plan, spec, &todo, exe);
    let path = dir.path("sweep.sbatch");
    crate::io::write_atomic(&path, text.as_bytes())
        .map_err(|e| CliError::failure(e.to_string()))?;
    let out = client("sbatch", &["--parsable", &path.display().to_string()])
        .map_err(CliError::failure)?;
    let job = out.trim().split(';').next().unwrap_or_default().to_string();
    if job.is_empty() || !job.chars().all(|c| c.is_ascii_digit()) {
        return Err(CliError::failure(format!(
            "sbatch printed no job id: {out:?}"
        )));
    }
    let mut subs = submissions(dir);
    subs.push(Submission {
        job: job.clone(),
        runs: todo.clone(),
        submitted: dir::now(),
    });
    let jobs: Vec<Value> = subs
        .iter()
        .map(|s| json!({"job": s.job, "runs": s.runs, "submitted": s.submitted}))
        .collect();
    dir.write_json("slurm.json", &json!({ "jobs": jobs }))?;
    if !quiet {
        outln!(
            "sweep {}: submitted job {job}, array {} ({} of {} runs; {done} finished before)",
            dir.root().display(),
            array_ranges(&todo),
            todo.len(),
            plan.runs.len()
        );
        outln!(
            "follow it with `neurodyn sweep status {}`; task logs in {}",
            dir.root().display(),
            dir.path("logs").display()
        );
    }
    Ok(())
}

/// The state of every submitted run's latest array task.
///
/// # Errors
/// `squeue` cannot be run or fails for another reason than a job that left the queue.
pub fn query(subs: &[Submission]) -> Result<HashMap<usize, TaskState>, String> {
    let mut out: HashMap<usize, TaskState> = HashMap::new();
    for sub in subs.iter().rev() {
        let wanted: Vec<usize> = sub
            .runs
            .iter()
            .copied()
            .filter(|r| !out.contains_key(r))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let mut found = squeue(&sub.job)?;
        if wanted.iter().any(|r| !found.contains_key(r)) {
            let ended = sacct(&sub.job)
                .or_else(|_| scontrol(&sub.job))
                .unwrap_or_default();
            for (k, v) in ended {
                found.entry(k).or_insert(v);
            }
        }
        for r in wanted {
            let st = found.remove(&r).unwrap_or_else(|| TaskState {
                task: format!("{}_{r}", sub.job),
                state: "ENDED".into(),
                detail: "no longer known to SLURM".into(),
            });
            out.insert(r, st);
        }
    }
    Ok(out)
}

/// Splits `<job>_<task>` into the task index (for tasks of `job`).
fn task_of(job: &str, id: &str) -> Option<usize> {
    id.strip_prefix(job)?.strip_prefix('_')?.parse().ok()
}

/// Live tasks from `squeue` (one line per array task).
fn squeue(job: &str) -> Result<HashMap<usize, TaskState>, String> {
    let text = match client("squeue", &["-h", "-r", "-j", job, "-o", "%i|%T|%r"]) {
        Ok(t) => t,
        Err(e) if e.contains("Invalid job id") => String::new(),
        Err(e) => return Err(e),
    };
    let mut out = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.trim().split('|').collect();
        if let [id, state, reason] = f.as_slice()
            && let Some(k) = task_of(job, id)
        {
            out.insert(
                k,
                TaskState {
                    task: id.to_string(),
                    state: state.to_string(),
                    detail: reason.to_string(),
                },
            );
        }
    }
    Ok(out)
}

/// Ended tasks from accounting (`sacct`), where it is enabled.
fn sacct(job: &str) -> Result<HashMap<usize, TaskState>, String> {
    let text = client(
        "sacct",
        &["-n", "-P", "-X", "-j", job, "-o", "JobID,State,ExitCode"],
    )?;
    let mut out = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.trim().split('|').collect();
        if let [id, state, exit] = f.as_slice()
            && let Some(k) = task_of(job, id)
        {
            let state = state.split_whitespace().next().unwrap_or_default(); // "CANCELLED by 0"
            out.insert(
                k,
                TaskState {
                    task: id.to_string(),
                    state: state.to_string(),
                    detail: format!("exit code {exit}"),
                },
            );
        }
    }
    Ok(out)
}

/// Recently ended tasks from the controller's memory (`scontrol show job`), when accounting is
/// off; SLURM keeps them for `MinJobAge` seconds.
fn scontrol(job: &str) -> Result<HashMap<usize, TaskState>, String> {
    let text = client("scontrol", &["-o", "show", "job", job])?;
    let mut out = HashMap::new();
    for line in text.lines() {
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        };
        let (Some(task), Some(state)) = (field("ArrayTaskId"), field("JobState")) else {
            continue;
        };
        let Ok(k) = task.parse::<usize>() else {
            continue; // a pending range such as 5-7%2: still in squeue
        };
        out.insert(
            k,
            TaskState {
                task: format!("{job}_{k}"),
                state: state.to_string(),
                detail: format!("exit code {}", field("ExitCode").unwrap_or("?")),
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_specifications() {
        assert_eq!(array_ranges(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_ranges(&[1, 3, 4, 5, 9]), "1,3-5,9");
        assert_eq!(array_ranges(&[7]), "7");
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(sh("/a/b-c_1.x"), "/a/b-c_1.x");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("it's"), r"'it'\''s'");
    }
}
