//! The sweep folder and what it records.
//!
//! ```text
//! DIR/sweep.json            the expanded runs (ids, command lines) and the working directory
//! DIR/runs/<id>/            each run's folder (written by `neurodyn train`)
//! DIR/logs/<id>.log         each run's training output, every attempt appended
//! DIR/logs/<job>_<task>.out SLURM array task output
//! DIR/state/<id>.json       the last attempt: running, done or failed, where, exit code
//! DIR/slurm.json            SLURM submissions: job id and the runs of each
//! DIR/sweep.sbatch          the last batch script submitted
//! DIR/summary.{csv,png,svg} the collected table and its figure
//! ```
//!
//! A run is finished iff `runs/<id>/result.json` exists (written last, atomically, by `train`).

use super::expand::Run;
use crate::cli::CliError;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A sweep folder (an absolute path).
#[derive(Debug, Clone)]
pub struct SweepDir {
    root: PathBuf,
}

/// What `sweep.json` records: the runs and where they run from.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The spec file it was expanded from.
    pub spec: String,
    /// The working directory of every run (relative paths in the spec are relative to it).
    pub workdir: PathBuf,
    /// The keys that vary between runs (the table's parameter columns).
    pub keys: Vec<String>,
    /// The runs, in order.
    pub runs: Vec<Run>,
}

/// How an attempt at a run ended, or that it is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    /// Started and not known to have ended.
    Running,
    /// `train` exited 0.
    Done,
    /// `train` exited with an error or a signal.
    Failed,
}

/// The record of the last attempt at a run (`state/<id>.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// Running, done or failed.
    pub state: AttemptState,
    /// `local` or `slurm`.
    pub executor: String,
    /// The host it ran on.
    pub host: String,
    /// The training process.
    pub pid: u32,
    /// Its exit code (none while running or when killed by a signal).
    pub exit: Option<i32>,
    /// Whether it resumed an interrupted run.
    pub resumed: bool,
    /// The SLURM array task (`<job>_<task>`), if any.
    pub slurm_task: Option<String>,
    /// Start, Unix seconds.
    pub started: f64,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::failure(format!("{}: {e}", path.display()))
}

impl SweepDir {
    /// The folder at `root` (made absolute; nothing is created).
    pub fn new(root: &Path) -> Self {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        Self { root }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A file or folder inside it.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The run folder of `id`.
    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.root.join("runs").join(id)
    }

    /// The training log of `id`.
    pub fn log(&self, id: &str) -> PathBuf {
        self.root.join("logs").join(format!("{id}.log"))
    }

    /// Whether run `id` has finished (its `result.json` exists).
    pub fn finished(&self, id: &str) -> bool {
        self.run_dir(id).join("result.json").is_file()
    }

    /// Reads `sweep.json`.
    ///
    /// # Errors
    /// Not a sweep folder (exit code 2), or a damaged `sweep.json`.
    pub fn read_plan(&self) -> Result<Plan, CliError> {
        let p = self.path("sweep.json");
        let text = std::fs::read_to_string(&p).map_err(|e| {
            CliError::input(format!(
                "{}: not a sweep folder (cannot read sweep.json: {e})",
                self.root.display()
            ))
        })?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| CliError::input(format!("{}: not valid JSON: {e}", p.display())))?;
        plan_from_json(&v)
            .ok_or_else(|| CliError::input(format!("{}: not a sweep record", p.display())))
    }

    /// Creates the folder for `plan`, or checks that it already holds the same runs.
    ///
    /// # Errors
    /// The folder holds a different sweep (exit code 2, naming the first difference), or I/O.
    pub fn prepare(&self, plan: &Plan) -> Result<(), CliError> {
        if self.path("sweep.json").exists() {
            let old = self.read_plan()?;
            if let Some(d) = difference(&old, plan) {
                return Err(CliError::input(format!(
                    "{} holds a different sweep ({d}); give another out folder, or delete {} to start over",
                    self.root.display(),
                    self.path("sweep.json").display()
                )));
            }
            return Ok(());
        }
        for sub in ["runs", "logs", "state"] {
            std::fs::create_dir_all(self.path(sub)).map_err(|e| io_err(&self.path(sub), e))?;
        }
        self.write_json("sweep.json", &plan_to_json(plan))
    }

    /// Writes a JSON file atomically.
    ///
    /// # Errors
    /// I/O.
    pub fn write_json(&self, name: &str, v: &Value) -> Result<(), CliError> {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
        }
        let text = serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
        crate::io::write_atomic(&p, text.as_bytes()).map_err(|e| CliError::failure(e.to_string()))
    }

    /// The last attempt at run `id`, if any.
    pub fn attempt(&self, id: &str) -> Option<Attempt> {
        let text = std::fs::read_to_string(self.path(&format!("state/{id}.json"))).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        Some(Attempt {
            state: match v["state"].as_str()? {
                "running" => AttemptState::Running,
                "done" => AttemptState::Done,
                _ => AttemptState::Failed,
            },
            executor: v["executor"].as_str()?.to_string(),
            host: v["host"].as_str()?.to_string(),
            pid: v["pid"].as_u64()? as u32,
            exit: v["exit"].as_i64().map(|c| c as i32),
            resumed: v["resumed"].as_bool().unwrap_or(false),
            slurm_task: v["slurm_task"].as_str().map(String::from),
            started: v["started"].as_f64().unwrap_or(0.0),
        })
    }

    /// Records an attempt at run `id`.
    ///
    /// # Errors
    /// I/O.
    pub fn set_attempt(&self, id: &str, a: &Attempt) -> Result<(), CliError> {
        let state = match a.state {
            AttemptState::Running => "running",
            AttemptState::Done => "done",
            AttemptState::Failed => "failed",
        };
        self.write_json(
            &format!("state/{id}.json"),
            &json!({"state": state, "executor": a.executor, "host": a.host, "pid": a.pid,
                    "exit": a.exit, "resumed": a.resumed, "slurm_task": a.slurm_task,
                    "started": a.started}),
        )
    }
}

/// The first way two plans differ, if any (the spec file and order of keys may change; the runs
/// may not).
fn difference(old: &Plan, new: &Plan) -> Option<String> {
    if old.runs.len() != new.runs.len() {
        return Some(format!(
            "{} runs recorded, the spec now gives {}",
            old.runs.len(),
            new.runs.len()
        ));
    }
    old.runs
        .iter()
        .zip(&new.runs)
        .find(|(a, b)| a.id != b.id || a.args != b.args)
        .map(|(a, b)| {
            if a.id != b.id {
                format!("run {} is now {}", a.id, b.id)
            } else {
                format!("run {} now runs `{}`", a.id, b.args.join(" "))
            }
        })
}

fn plan_to_json(p: &Plan) -> Value {
    json!({
        "neurodyn": env!("CARGO_PKG_VERSION"),
        "spec": p.spec,
        "workdir": p.workdir,
        "keys": p.keys,
        "runs": p.runs.iter().map(|r| json!({
            "index": r.index, "id": r.id,
            "params": r.params.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "args": r.args, "threads": r.threads,
        })).collect::<Vec<_>>(),
    })
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|s| s.as_str().map(String::from))
        .collect()
}

fn plan_from_json(v: &Value) -> Option<Plan> {
    let runs = v["runs"]
        .as_array()?
        .iter()
        .map(|r| {
            let params = r["params"]
                .as_array()?
                .iter()
                .map(|kv| Some((kv[0].as_str()?.to_string(), kv[1].as_str()?.to_string())))
                .collect::<Option<Vec<_>>>()?;
            Some(Run {
                index: r["index"].as_u64()? as usize,
                id: r["id"].as_str()?.to_string(),
                params,
                args: strings(&r["args"])?,
                threads: r["threads"].as_u64().unwrap_or(1) as usize,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Plan {
        spec: v["spec"].as_str().unwrap_or_default().to_string(),
        workdir: PathBuf::from(v["workdir"].as_str()?),
        keys: strings(&v["keys"])?,
        runs,
    })
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// This machine's name (the SLURM node name inside a job).
pub fn host() -> String {
    std::env::var("SLURMD_NODENAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Whether process `pid` on this machine is alive and has `needle` on its command line (so that
/// a recycled pid is not mistaken for the run). Linux only; elsewhere `false`.
pub fn alive(pid: u32, needle: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).contains(needle))
        .unwrap_or(false)
}

/// The last `n` lines of a text file (empty if unreadable).
pub fn tail(path: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(secs: f64) -> String {
    let s = secs.max(0.0) as i64;
    let (days, rem) = (s.div_euclid(86_400), s.rem_euclid(86_400));
    // civil-from-days (proleptic Gregorian), H. Hinnant's algorithm
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000.0), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn plans_round_trip_and_differences_are_named() {
        let run = |i: usize, lr: &str| Run {
            index: i,
            id: format!("r00{i}-lr={lr}"),
            params: vec![("lr".into(), lr.into())],
            args: vec!["train".into(), "gnode".into(), format!("--lr={lr}")],
            threads: 2,
        };
        let p = Plan {
            spec: "s.toml".into(),
            workdir: "/w".into(),
            keys: vec!["lr".into()],
            runs: vec![run(0, "0.1"), run(1, "0.2")],
        };
        assert_eq!(plan_from_json(&plan_to_json(&p)).as_ref(), Some(&p));
        let mut q = p.clone();
        q.runs[1] = run(1, "0.3");
        assert!(difference(&p, &q).unwrap().contains("r001-lr=0.2"));
        q.runs.pop();
        assert!(difference(&p, &q).unwrap().contains("2 runs recorded"));
        assert_eq!(difference(&p, &p), None);
    }
}
