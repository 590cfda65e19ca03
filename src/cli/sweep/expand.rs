//! Expands a [`Spec`] into numbered runs with stable ids, and checks every run's command line
//! with the command's own parser (`Cli::try_parse_from`) and option checks before anything runs
//! or is submitted, so that an unknown key or a value of the wrong type is reported with its key.
//!
//! Order: the `[[list]]` entries (or one empty entry), and for each the grid points with the last
//! grid key changing fastest. The id of run `k` is `r<k>-<key>=<value>-…` over the keys that vary
//! between runs (zero-padded to three digits or more; unsafe characters become `_`; an id longer
//! than 80 characters becomes `r<k>-<hash of its values>`). The same spec always gives the same
//! ids.

use super::spec::{Scalar, Setting, Spec, SpecError};
use crate::cli::{Cli, Command as CliCommand};
use clap::CommandFactory;
use clap::error::{ContextKind, ContextValue};
use std::collections::HashMap;

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Its position in the sweep (the SLURM array index).
    pub index: usize,
    /// Its stable id, also its folder name under `runs/`.
    pub id: String,
    /// The values of the keys that vary between runs, as (option name, value).
    pub params: Vec<(String, String)>,
    /// The command line after `neurodyn`, without `--out` and `--quiet` (added when it runs).
    pub args: Vec<String>,
    /// Its `--threads` (gradient shards), for the default concurrency and CPUs per task.
    pub threads: usize,
}

/// Options a spec may not set: the sweep sets them itself.
const RESERVED: [(&str, &str); 6] = [
    (
        "out",
        "each run's folder is set by the sweep (DIR/runs/<id>)",
    ),
    ("resume", "re-running the sweep resumes interrupted runs"),
    (
        "quiet",
        "runs are always quiet (their output goes to DIR/logs)",
    ),
    (
        "json",
        "runs write result.json; use `neurodyn sweep collect --json`",
    ),
    ("help", "not a training option"),
    ("version", "not a training option"),
];

/// The most runs one sweep may have (SLURM's default `MaxArraySize` is 1001).
pub const MAX_RUNS: usize = 10_000;

/// How a key is passed to the command.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    /// A positional argument (e.g. the model), in this position.
    Positional(usize),
    /// A flag without a value (`--continuous`).
    Flag,
    /// An option with a value (`--lr=0.001`).
    Value,
}

/// A key resolved against the command: its option name and how it is passed.
struct Key {
    name: String,
    slot: Slot,
}

/// Expands a spec into its runs.
///
/// # Errors
/// A key that is not an option of the command, a key set in two sections, a value the command
/// rejects, two identical runs: each named by where it is in the spec.
pub fn expand(spec: &Spec) -> Result<Vec<Run>, SpecError> {
    let err = |at: &str, m: String| SpecError::new(&spec.file, at, m);
    if spec.command[0] != "train" {
        return Err(err(
            "command",
            format!(
                "`{}` is not a training command (sweeps run `train`, e.g. command = \"train gnode\")",
                spec.command[0]
            ),
        ));
    }
    let mut root = Cli::command();
    root.build();
    let cmd = root
        .find_subcommand("train")
        .expect("internal: the train subcommand exists");

    // Resolve every key once and refuse keys set in two sections.
    let mut seen: Vec<(String, String)> = Vec::new(); // (name, at) of fixed and grid keys
    let claim = |name: &str, at: &str, seen: &mut Vec<(String, String)>| {
        if let Some((_, first)) = seen.iter().find(|(n, _)| n == name) {
            return Err(err(
                at,
                format!("`{name}` is already set in {first} (a key belongs to one section)"),
            ));
        }
        seen.push((name.to_string(), at.to_string()));
        Ok(())
    };
    let mut fixed = Vec::new();
    for s in &spec.fixed {
        let k = resolve(cmd, &s.key).map_err(|m| err(&s.at, m))?;
        check_slot(&k, &s.value).map_err(|m| err(&s.at, m))?;
        claim(&k.name, &s.at, &mut seen)?;
        fixed.push((k, s.clone()));
    }
    let mut grid = Vec::new();
    for a in &spec.grid {
        let k = resolve(cmd, &a.key).map_err(|m| err(&a.at, m))?;
        for v in &a.values {
            check_slot(&k, v).map_err(|m| err(&a.at, m))?;
        }
        claim(&k.name, &a.at, &mut seen)?;
        grid.push((k, a));
    }
    let mut entries: Vec<Vec<(Key, Setting)>> = Vec::new();
    for entry in &spec.list {
        let mut local = seen.clone();
        let mut resolved = Vec::new();
        for s in entry {
            let k = resolve(cmd, &s.key).map_err(|m| err(&s.at, m))?;
            check_slot(&k, &s.value).map_err(|m| err(&s.at, m))?;
            claim(&k.name, &s.at, &mut local)?;
            resolved.push((k, s.clone()));
        }
        entries.push(resolved);
    }
    if entries.is_empty() {
        entries.push(Vec::new());
    }

    // The keys that vary: grid keys, then list keys in order of first appearance.
    let mut varying: Vec<String> = grid.iter().map(|(k, _)| k.name.clone()).collect();
    for e in &entries {
        for (k, _) in e {
            if !varying.contains(&k.name) {
                varying.push(k.name.clone());
            }
        }
    }

    // Each run's settings: fixed, its list entry, its grid point.
    let total = grid
        .iter()
        .try_fold(entries.len(), |n, (_, a)| n.checked_mul(a.values.len()))
        .filter(|&n| n <= MAX_RUNS)
        .ok_or_else(|| {
            err(
                if spec.grid.is_empty() { "list" } else { "grid" },
                format!("more than {MAX_RUNS} runs; split the sweep"),
            )
        })?;
    let points = total / entries.len();
    let width = (total.saturating_sub(1)).to_string().len().max(3);
    let mut runs = Vec::with_capacity(total);
    let mut seen_args: HashMap<Vec<String>, String> = HashMap::new();
    for (ei, entry) in entries.iter().enumerate() {
        for p in 0..points {
            let mut settings: Vec<(&Key, &Scalar, &str)> = Vec::new();
            for (k, s) in &fixed {
                settings.push((k, &s.value, &s.at));
            }
            for (k, s) in entry {
                settings.push((k, &s.value, &s.at));
            }
            let mut rest = p;
            let mut picks = vec![0; grid.len()];
            for (g, (_, a)) in grid.iter().enumerate().rev() {
                picks[g] = rest % a.values.len();
                rest /= a.values.len();
            }
            for (g, (k, a)) in grid.iter().enumerate() {
                settings.push((k, &a.values[picks[g]], &a.at));
            }
            let index = runs.len();
            let params: Vec<(String, String)> = varying
                .iter()
                .filter_map(|name| {
                    settings
                        .iter()
                        .find(|(k, _, _)| &k.name == name)
                        .map(|(_, v, _)| (name.clone(), v.to_string()))
                })
                .collect();
            let id = run_id(index, width, &params);
            let args = command_line(&spec.command, &settings);
            let threads = validate(spec, &id, &args, &settings)?;
            if let Some(other) = seen_args.get(&args) {
                let at = if spec.list.is_empty() {
                    "grid".to_string()
                } else {
                    format!("list[{ei}]")
                };
                return Err(err(&at, format!("run {id} is the same as run {other}")));
            }
            seen_args.insert(args.clone(), id.clone());
            runs.push(Run {
                index,
                id,
                params,
                args,
                threads,
            });
        }
    }
    Ok(runs)
}

/// Finds the option a key names (`lr` and `weight_decay` → `--lr`, `--weight-decay`; `model` →
/// the positional model).
fn resolve(cmd: &clap::Command, key: &str) -> Result<Key, String> {
    let name = key.replace('_', "-");
    if let Some((_, why)) = RESERVED.iter().find(|(r, _)| *r == name) {
        return Err(format!("`{key}` cannot be set in a sweep: {why}"));
    }
    for (pos, arg) in cmd.get_positionals().enumerate() {
        if arg.get_id().as_str() == name {
            return Ok(Key {
                name,
                slot: Slot::Positional(pos),
            });
        }
    }
    if let Some(arg) = cmd.get_arguments().find(|a| a.get_long() == Some(&name)) {
        let slot = if arg.get_action().takes_values() {
            Slot::Value
        } else {
            Slot::Flag
        };
        return Ok(Key { name, slot });
    }
    let names: Vec<&str> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().or_else(|| Some(a.get_id().as_str())))
        .filter(|n| !RESERVED.iter().any(|(r, _)| r == n))
        .collect();
    let hint = names
        .iter()
        .map(|n| (edit_distance(&name, n), *n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 3))
        .min()
        .map(|(_, n)| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    Err(format!(
        "unknown key `{key}`: not an option of `neurodyn train`{hint}"
    ))
}

/// A flag takes `true`/`false`; an option takes a value.
fn check_slot(k: &Key, v: &Scalar) -> Result<(), String> {
    match (k.slot, v) {
        (Slot::Flag, Scalar::Bool(_)) => Ok(()),
        (Slot::Flag, other) => Err(format!(
            "`{}` is a flag: expected true or false, got {other}",
            k.name
        )),
        (_, Scalar::Bool(b)) => Err(format!("`{}` takes a value, got the boolean {b}", k.name)),
        _ => Ok(()),
    }
}

/// The command words, the positionals in order, then `--key=value` and set flags.
fn command_line(command: &[String], settings: &[(&Key, &Scalar, &str)]) -> Vec<String> {
    let mut args: Vec<String> = command.to_vec();
    let mut positionals: Vec<(usize, String)> = settings
        .iter()
        .filter_map(|(k, v, _)| match k.slot {
            Slot::Positional(p) => Some((p, v.to_string())),
            _ => None,
        })
        .collect();
    positionals.sort_by_key(|(p, _)| *p);
    args.extend(positionals.into_iter().map(|(_, v)| v));
    for (k, v, _) in settings {
        match (k.slot, v) {
            (Slot::Positional(_), _) => {}
            (Slot::Flag, Scalar::Bool(true)) => args.push(format!("--{}", k.name)),
            (Slot::Flag, _) => {}
            (Slot::Value, v) => args.push(format!("--{}={v}", k.name)),
        }
    }
    args
}

/// Parses a run's full command line as `neurodyn` would and checks its named options; returns
/// its `--threads`.
fn validate(
    spec: &Spec,
    id: &str,
    args: &[String],
    settings: &[(&Key, &Scalar, &str)],
) -> Result<usize, SpecError> {
    let blame = |option: &str| -> String {
        settings
            .iter()
            .find(|(k, _, _)| k.name == option)
            .map(|(_, _, at)| at.to_string())
            .unwrap_or_else(|| "command".to_string())
    };
    let argv = std::iter::once("neurodyn".to_string())
        .chain(args.iter().cloned())
        .chain(["--out=sweep-run".to_string(), "--quiet".to_string()]);
    let cli = <Cli as clap::Parser>::try_parse_from(argv).map_err(|e| {
        let at = clap_option(&e)
            .map(|o| blame(&o))
            .or_else(|| {
                // an unexpected positional value: find the key that gave it
                let v = invalid_arg(&e)?;
                settings
                    .iter()
                    .find(|(_, s, _)| s.to_string() == v)
                    .map(|(_, _, at)| at.to_string())
            })
            .unwrap_or_else(|| "command".to_string());
        SpecError::new(&spec.file, at, format!("{} (run {id})", first_line(&e)))
    })?;
    let CliCommand::Train(t) = cli.command else {
        return Err(SpecError::new(
            &spec.file,
            "command",
            "not a training command",
        ));
    };
    crate::cli::train::check_options(&t).map_err(|(option, m)| {
        SpecError::new(&spec.file, blame(option), format!("{m} (run {id})"))
    })?;
    Ok(t.threads)
}

/// The argument clap complains about, as written (`--lr <LR>`, `gru`).
fn invalid_arg(e: &clap::Error) -> Option<String> {
    match e.get(ContextKind::InvalidArg)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        _ => None,
    }
}

/// The long option clap complains about (`lr` for `--lr <LR>`).
fn clap_option(e: &clap::Error) -> Option<String> {
    let s = invalid_arg(e)?;
    let rest = s.strip_prefix("--")?;
    Some(rest.split([' ', '=']).next().unwrap_or(rest).to_string())
}

/// Clap's message without the `error:` prefix, usage and tips.
fn first_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let line = text.lines().next().unwrap_or("invalid arguments");
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// The folder-safe id of a run.
fn run_id(index: usize, width: usize, params: &[(String, String)]) -> String {
    let mut id = format!("r{index:0width$}");
    for (k, v) in params {
        let v: String = v
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        id.push_str(&format!("-{k}={v}"));
    }
    if id.len() <= 80 {
        return id;
    }
    // FNV-1a over the values: short, stable across versions and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in params.iter().flat_map(|(k, v)| {
        k.bytes()
            .chain(std::iter::once(0))
            .chain(v.bytes())
            .chain(std::iter::once(0))
    }) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("r{index:0width$}-{h:016x}")
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::super::node::Node;
    use super::*;
    use std::path::Path;

    fn spec(text: &str) -> Spec {
        Spec::from_node(Path::new("s.toml"), Node::from_toml(text).unwrap()).unwrap()
    }

    #[test]
    fn grid_expands_with_the_last_key_fastest_and_stable_ids() {
        let s = spec(
            "command = \"train gnode\"\n[fixed]\ntask = \"ring\"\nepochs = 2\n[grid]\nlr = [1e-3, 3e-3]\nseed = [0, 1]\n",
        );
        let runs = expand(&s).unwrap();
        let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "r000-lr=0.001-seed=0",
                "r001-lr=0.001-seed=1",
                "r002-lr=0.003-seed=0",
                "r003-lr=0.003-seed=1"
            ]
        );
        assert_eq!(
            runs[3].args,
            [
                "train",
                "gnode",
                "--task=ring",
                "--epochs=2",
                "--lr=0.003",
                "--seed=1"
            ]
        );
        assert_eq!(
            expand(&s).unwrap(),
            runs,
            "the same spec gives the same runs"
        );
    }

    #[test]
    fn list_entries_flags_and_positionals() {
        let s = spec(
            "command = \"train\"\n[fixed]\ntask = \"ring\"\n[[list]]\nmodel = \"gnode\"\ncontinuous = true\n[[list]]\nmodel = \"gru\"\nhidden = 8\n",
        );
        let runs = expand(&s).unwrap();
        assert_eq!(runs[0].id, "r000-model=gnode-continuous=true");
        assert_eq!(
            runs[0].args,
            ["train", "gnode", "--task=ring", "--continuous"]
        );
        assert_eq!(runs[1].args, ["train", "gru", "--task=ring", "--hidden=8"]);
        assert_eq!(runs[0].threads, 2);
    }

    #[test]
    fn bad_keys_and_values_are_named() {
        let base = "command = \"train gnode\"\n[fixed]\ntask = \"ring\"\n";
        let cases = [
            ("[grid]\nlrr = [1]\n", "grid.lrr", "did you mean `lr`"),
            ("[grid]\nlr = [\"fast\"]\n", "grid.lr", "invalid value"),
            ("[grid]\nepochs = [2.5]\n", "grid.epochs", "invalid value"),
            ("[grid]\ncontinuous = [1]\n", "grid.continuous", "flag"),
            ("[grid]\nout = [\"x\"]\n", "grid.out", "cannot be set"),
            (
                "[grid]\ntask = [\"ring\"]\n",
                "grid.task",
                "already set in fixed.task",
            ),
            (
                "[grid]\nactivation = [\"gelu\"]\n",
                "grid.activation",
                "gelu",
            ),
            (
                "[[list]]\nseed = 1\n[[list]]\nseed = 1\n",
                "list[1]",
                "same as run",
            ),
        ];
        for (extra, at, needle) in cases {
            let s = spec(&format!("{base}{extra}"));
            let e = expand(&s).unwrap_err();
            assert_eq!(e.at, at, "{extra}: {e}");
            assert!(e.message.contains(needle), "{extra}: {e}");
        }
    }

    #[test]
    fn too_many_runs_are_refused_before_expanding() {
        let lrs: Vec<String> = (1..=101).map(|k| format!("{}", k as f64 * 1e-4)).collect();
        let seeds: Vec<String> = (0..100).map(|k| k.to_string()).collect();
        let s = spec(&format!(
            "command = \"train gnode\"\n[fixed]\ntask = \"ring\"\n[grid]\nlr = [{}]\nseed = [{}]\n",
            lrs.join(", "),
            seeds.join(", ")
        ));
        let e = expand(&s).unwrap_err();
        assert_eq!(e.at, "grid", "{e}");
        assert!(e.message.contains("more than 10000 runs"), "{e}");
    }

    #[test]
    fn long_ids_become_hashes() {
        let p = vec![("data".to_string(), "x".repeat(100))];
        let id = run_id(7, 3, &p);
        assert!(id.starts_with("r007-") && id.len() == 21, "{id}");
        assert_eq!(id, run_id(7, 3, &p));
    }
}
