//! The sweep specification, read from TOML or JSON into a [`Spec`]: the training command, the
//! fixed settings, the grid and the explicit list of runs, and the executors' settings.
//!
//! ```toml
//! command = "train gnode"              # the training command (any of its options may follow)
//! out = "sweeps/ring-lr"               # the sweep folder (default sweeps/<spec file name>)
//! [fixed]                              # the same in every run
//! task = "ring"
//! epochs = 20
//! [grid]                               # the cartesian product of these lists
//! lr = [1e-3, 3e-3]
//! seed = [0, 1]
//! [[list]]                             # or explicit runs (each combined with the grid)
//! hidden = 4
//! [slurm]                              # resources of each array task
//! time = "00:10:00"
//! [local]
//! jobs = 2
//! ```
//!
//! This file checks the shape of the file only (sections, value types, empty or repeated
//! values); whether a key is an option of the command, and whether its value parses, is checked
//! against the command's own parser in [`super::expand`].

use super::node::Node;
use std::fmt;
use std::path::{Path, PathBuf};

/// A malformed spec: the file, where in it (`grid.lr`, `list[2].seed`, `slurm.time`) and what
/// is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    /// The spec file.
    pub file: String,
    /// The key, as a path from the top of the file (empty for the whole file).
    pub at: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl SpecError {
    /// An error at `at` in `file`.
    pub fn new(file: &Path, at: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.display().to_string(),
            at: at.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.at, self.message)
        }
    }
}

impl std::error::Error for SpecError {}

impl From<SpecError> for crate::cli::CliError {
    fn from(e: SpecError) -> Self {
        crate::cli::CliError::input(e.to_string())
    }
}

/// One value of a key: what is passed to the command as `--key=value` (`true` alone for a
/// flag).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `true` gives the flag `--key`, `false` leaves it out.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number.
    Float(f64),
    /// Text, passed unchanged.
    Str(String),
}

impl fmt::Display for Scalar {
    /// The value as written on the command line: integers and strings unchanged, numbers in
    /// their shortest exact form (`0.001`, `1e-10`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => {
                let (plain, short) = (format!("{x}"), format!("{x:?}"));
                f.write_str(if short.len() < plain.len() {
                    &short
                } else {
                    &plain
                })
            }
            Scalar::Str(s) => f.write_str(s),
        }
    }
}

/// A key set to one value (in `[fixed]` or a `[[list]]` entry).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The key as written (`lr`, `weight_decay`).
    pub key: String,
    /// Where it is, for messages (`fixed.lr`, `list[1].seed`).
    pub at: String,
    /// Its value.
    pub value: Scalar,
}

/// A grid key and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The key as written.
    pub key: String,
    /// Where it is (`grid.lr`).
    pub at: String,
    /// Its values, at least one, all different.
    pub values: Vec<Scalar>,
}

/// Resources and script lines for the SLURM executor (`[slurm]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlurmSpec {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (e.g. `01:00:00`).
    pub time: Option<String>,
    /// `--cpus-per-task` (default: the largest `--threads` of the runs).
    pub cpus_per_task: Option<u64>,
    /// `--mem` (e.g. `2G`).
    pub mem: Option<String>,
    /// At most this many array tasks at once (`--array=…%N`).
    pub array_parallel: Option<u64>,
    /// `--account`.
    pub account: Option<String>,
    /// `--qos`.
    pub qos: Option<String>,
    /// `--job-name` (default: the sweep folder's name).
    pub job_name: Option<String>,
    /// More `#SBATCH` lines, e.g. `["--constraint=avx2"]`.
    pub extra: Vec<String>,
    /// Shell lines run before the task, e.g. `["module load gcc"]`.
    pub setup: Vec<String>,
    /// The neurodyn binary on the compute nodes (default: the one submitting).
    pub executable: Option<PathBuf>,
}

/// Settings of the local executor (`[local]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalSpec {
    /// Runs at once (default: the cores divided by the runs' `--threads`).
    pub jobs: Option<u64>,
}

/// A parsed sweep spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The file it was read from.
    pub file: PathBuf,
    /// The training command and its fixed words, e.g. `["train", "gnode"]`.
    pub command: Vec<String>,
    /// The sweep folder, if given.
    pub out: Option<PathBuf>,
    /// Settings shared by every run.
    pub fixed: Vec<Setting>,
    /// Grid keys (their cartesian product).
    pub grid: Vec<Axis>,
    /// Explicit runs; each is combined with every grid point.
    pub list: Vec<Vec<Setting>>,
    /// SLURM settings.
    pub slurm: SlurmSpec,
    /// Local settings.
    pub local: LocalSpec,
}

const SECTIONS: &str = "command, out, fixed, grid, list, slurm, local";

impl Spec {
    /// Reads and checks a spec file (`.json` is JSON, anything else TOML).
    ///
    /// # Errors
    /// An unreadable file, a syntax error (with its line), or a malformed section or value,
    /// named by its key.
    pub fn read(file: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| SpecError::new(file, "", format!("cannot read the spec: {e}")))?;
        let json = file.extension().is_some_and(|e| e == "json");
        let root = if json {
            Node::from_json(&text)
        } else {
            Node::from_toml(&text)
        }
        .map_err(|m| SpecError::new(file, "", m))?;
        Self::from_node(file, root)
    }

    /// Builds a spec from a parsed document.
    ///
    /// # Errors
    /// As [`Spec::read`].
    pub fn from_node(file: &Path, root: Node) -> Result<Self, SpecError> {
        let err = |at: &str, m: String| SpecError::new(file, at, m);
        let Node::Map(entries) = root else {
            return Err(err("", "expected a table of sections".into()));
        };
        let mut spec = Spec {
            file: file.to_path_buf(),
            command: Vec::new(),
            out: None,
            fixed: Vec::new(),
            grid: Vec::new(),
            list: Vec::new(),
            slurm: SlurmSpec::default(),
            local: LocalSpec::default(),
        };
        for (name, node) in entries {
            match name.as_str() {
                "command" => spec.command = command(node).map_err(|m| err("command", m))?,
                "out" => spec.out = Some(PathBuf::from(string(node).map_err(|m| err("out", m))?)),
                "fixed" => spec.fixed = settings(file, "fixed", node)?,
                "grid" => spec.grid = axes(file, node)?,
                "list" => spec.list = list(file, node)?,
                "slurm" => spec.slurm = slurm(file, node)?,
                "local" => spec.local = local(file, node)?,
                _ => {
                    return Err(err(&name, format!("unknown section (expected {SECTIONS})")));
                }
            }
        }
        if spec.command.is_empty() {
            return Err(err(
                "command",
                "missing: name the training command, e.g. command = \"train gnode\"".into(),
            ));
        }
        Ok(spec)
    }
}

/// `command = "train gnode"` or `["train", "gnode"]`.
fn command(node: Node) -> Result<Vec<String>, String> {
    let words: Vec<String> = match node {
        Node::Str(s) => s.split_whitespace().map(String::from).collect(),
        Node::List(items) => items.into_iter().map(string).collect::<Result<_, _>>()?,
        other => return Err(format!("expected a string, got {}", other.kind())),
    };
    if words.is_empty() {
        return Err("empty: name the training command, e.g. \"train gnode\"".into());
    }
    Ok(words)
}

fn string(node: Node) -> Result<String, String> {
    match node {
        Node::Str(s) => Ok(s),
        other => Err(format!("expected a string, got {}", other.kind())),
    }
}

fn scalar(node: Node) -> Result<Scalar, String> {
    match node {
        Node::Bool(b) => Ok(Scalar::Bool(b)),
        Node::Int(i) => Ok(Scalar::Int(i)),
        Node::Float(x) if x.is_finite() => Ok(Scalar::Float(x)),
        Node::Float(x) => Err(format!("{x} is not a finite number")),
        Node::Str(s) => Ok(Scalar::Str(s)),
        other => Err(format!(
            "expected a number, string or boolean, got {} (write a list option as one string, e.g. flow = \"64,64\")",
            other.kind()
        )),
    }
}

fn table(file: &Path, at: &str, node: Node) -> Result<Vec<(String, Node)>, SpecError> {
    match node {
        Node::Map(m) => Ok(m),
        other => Err(SpecError::new(
            file,
            at,
            format!("expected a table, got {}", other.kind()),
        )),
    }
}

/// `[fixed]` or one `[[list]]` entry: key = scalar.
fn settings(file: &Path, at: &str, node: Node) -> Result<Vec<Setting>, SpecError> {
    table(file, at, node)?
        .into_iter()
        .map(|(key, v)| {
            let here = format!("{at}.{key}");
            let value = scalar(v).map_err(|m| SpecError::new(file, &here, m))?;
            Ok(Setting {
                key,
                at: here,
                value,
            })
        })
        .collect()
}

/// `[grid]`: key = non-empty list of distinct scalars.
fn axes(file: &Path, node: Node) -> Result<Vec<Axis>, SpecError> {
    let mut out = Vec::new();
    for (key, v) in table(file, "grid", node)? {
        let at = format!("grid.{key}");
        let err = |m: String| SpecError::new(file, &at, m);
        let Node::List(items) = v else {
            return Err(err(format!(
                "expected a list of values, e.g. {key} = [1, 2], got {}",
                v.kind()
            )));
        };
        if items.is_empty() {
            return Err(err("empty grid: give at least one value".into()));
        }
        let mut values: Vec<Scalar> = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let s = scalar(item).map_err(|m| err(format!("value {}: {m}", i + 1)))?;
            if values.iter().any(|v| v.to_string() == s.to_string()) {
                return Err(err(format!("the value {s} appears twice")));
            }
            values.push(s);
        }
        out.push(Axis { key, at, values });
    }
    Ok(out)
}

/// `[[list]]`: an array of tables of settings.
fn list(file: &Path, node: Node) -> Result<Vec<Vec<Setting>>, SpecError> {
    let Node::List(items) = node else {
        return Err(SpecError::new(
            file,
            "list",
            format!("expected a list of tables ([[list]]), got {}", node.kind()),
        ));
    };
    if items.is_empty() {
        return Err(SpecError::new(
            file,
            "list",
            "empty list: give at least one run",
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, n)| settings(file, &format!("list[{i}]"), n))
        .collect()
}

fn positive(file: &Path, at: &str, node: Node) -> Result<u64, SpecError> {
    match node {
        Node::Int(i) if i > 0 => Ok(i as u64),
        other => Err(SpecError::new(
            file,
            at,
            format!("expected a positive integer, got {}", other.describe()),
        )),
    }
}

fn strings(file: &Path, at: &str, node: Node) -> Result<Vec<String>, SpecError> {
    let err = |m: String| SpecError::new(file, at, m);
    match node {
        Node::Str(s) => Ok(vec![s]),
        Node::List(items) => items.into_iter().map(|n| string(n).map_err(err)).collect(),
        other => Err(err(format!(
            "expected a list of strings, got {}",
            other.kind()
        ))),
    }
}

/// Text that goes into the batch script: one line, no NUL.
fn script_text(file: &Path, at: &str, node: Node) -> Result<String, SpecError> {
    let s = string(node).map_err(|m| SpecError::new(file, at, m))?;
    if s.is_empty() || s.contains(['\n', '\r', '\0']) {
        return Err(SpecError::new(
            file,
            at,
            "expected one non-empty line of text",
        ));
    }
    Ok(s)
}

fn slurm(file: &Path, node: Node) -> Result<SlurmSpec, SpecError> {
    let mut s = SlurmSpec::default();
    for (key, v) in table(file, "slurm", node)? {
        let at = format!("slurm.{key}");
        match key.as_str() {
            "partition" => s.partition = Some(script_text(file, &at, v)?),
            "time" => s.time = Some(script_text(file, &at, v)?),
            "mem" => s.mem = Some(script_text(file, &at, v)?),
            "account" => s.account = Some(script_text(file, &at, v)?),
            "qos" => s.qos = Some(script_text(file, &at, v)?),
            "job_name" => s.job_name = Some(script_text(file, &at, v)?),
            "cpus_per_task" => s.cpus_per_task = Some(positive(file, &at, v)?),
            "array_parallel" => s.array_parallel = Some(positive(file, &at, v)?),
            "executable" => s.executable = Some(PathBuf::from(script_text(file, &at, v)?)),
            "extra" | "setup" => {
                let lines = strings(file, &at, v)?;
                if lines.iter().any(|l| l.contains(['\n', '\r', '\0'])) {
                    return Err(SpecError::new(file, &at, "one line per entry"));
                }
                if key == "extra" {
                    s.extra = lines;
                } else {
                    s.setup = lines;
                }
            }
            _ => {
                return Err(SpecError::new(
                    file,
                    &at,
                    "unknown key (expected partition, time, cpus_per_task, mem, array_parallel, \
                     account, qos, job_name, extra, setup, executable)",
                ));
            }
        }
    }
    Ok(s)
}

fn local(file: &Path, node: Node) -> Result<LocalSpec, SpecError> {
    let mut s = LocalSpec::default();
    for (key, v) in table(file, "local", node)? {
        let at = format!("local.{key}");
        match key.as_str() {
            "jobs" => s.jobs = Some(positive(file, &at, v)?),
            _ => {
                return Err(SpecError::new(file, &at, "unknown key (expected jobs)"));
            }
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Spec, SpecError> {
        let root = Node::from_toml(text).map_err(|m| SpecError::new(Path::new("s.toml"), "", m))?;
        Spec::from_node(Path::new("s.toml"), root)
    }

    #[test]
    fn sections_are_read_in_order() {
        let s = parse(
            "command = \"train gnode\"\n[fixed]\ntask = \"ring\"\n[grid]\nseed = [1, 0]\nlr = [1e-3, 0.5]\n[[list]]\nhidden = 3\n[[list]]\nhidden = 4\n[slurm]\ntime = \"00:05:00\"\nextra = [\"--exclusive\"]\n[local]\njobs = 2\n",
        )
        .unwrap();
        assert_eq!(s.command, ["train", "gnode"]);
        assert_eq!(s.grid[0].key, "seed");
        assert_eq!(s.grid[1].values[0].to_string(), "0.001");
        assert_eq!(s.list.len(), 2);
        assert_eq!(s.list[1][0].at, "list[1].hidden");
        assert_eq!(s.slurm.time.as_deref(), Some("00:05:00"));
        assert_eq!(s.local.jobs, Some(2));
    }

    #[test]
    fn malformed_values_name_their_key() {
        let cases = [
            ("command = \"train gnode\"\n[grid]\nlr = []\n", "grid.lr"),
            ("command = \"train gnode\"\n[grid]\nlr = 0.1\n", "grid.lr"),
            ("command = \"train gnode\"\n[grid]\nlr = [[1]]\n", "grid.lr"),
            (
                "command = \"train gnode\"\n[grid]\nseed = [1, 1]\n",
                "grid.seed",
            ),
            (
                "command = \"train gnode\"\n[fixed]\nflow = [1, 2]\n",
                "fixed.flow",
            ),
            ("command = \"train gnode\"\n[grdi]\nlr = [1]\n", "grdi"),
            (
                "command = \"train gnode\"\n[slurm]\ncpus_per_task = 0\n",
                "slurm.cpus_per_task",
            ),
            (
                "command = \"train gnode\"\n[slurm]\nmemory = \"1G\"\n",
                "slurm.memory",
            ),
            ("command = \"train gnode\"\nlist = []\n", "list"),
            ("[fixed]\nlr = 1\n", "command"),
        ];
        for (text, at) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.at, at, "{text}: {e}");
        }
    }

    #[test]
    fn numbers_print_short() {
        assert_eq!(Scalar::Float(1e-10).to_string(), "1e-10");
        assert_eq!(Scalar::Float(0.003).to_string(), "0.003");
        assert_eq!(Scalar::Float(2.0).to_string(), "2");
        assert_eq!(Scalar::Int(-3).to_string(), "-3");
    }
}
