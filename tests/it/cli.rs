//! The command line: reference cases through `neurodyn grad`, and bad input of every kind gets
//! a one-line error naming the problem with exit code 2, never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neurodyn"))
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases")
}

/// Runs the binary; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[track_caller]
fn assert_bad_input(args: &[&str], needle: &str) {
    let (code, _, err) = run(args);
    assert_eq!(code, 2, "{args:?}: exit code {code}, stderr: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert!(
        err.to_lowercase().contains(&needle.to_lowercase()),
        "{args:?}: stderr does not mention {needle:?}: {err}"
    );
}

fn rel(a: &serde_json::Value, b: &serde_json::Value) -> f64 {
    fn flat(v: &serde_json::Value, out: &mut Vec<f64>) {
        match v {
            serde_json::Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
            x => out.push(x.as_f64().unwrap()),
        }
    }
    let (mut x, mut y) = (Vec::new(), Vec::new());
    flat(a, &mut x);
    flat(b, &mut y);
    assert_eq!(x.len(), y.len());
    let d: f64 = x
        .iter()
        .zip(&y)
        .map(|(p, q)| (p - q) * (p - q))
        .sum::<f64>()
        .sqrt();
    let n: f64 = y.iter().map(|q| q * q).sum::<f64>().sqrt();
    d / n.max(1e-300)
}

/// Every reference case of a kind this build knows matches its expected loss and gradients.
#[test]
fn reference_cases_match() {
    let mut checked = 0;
    for e in std::fs::read_dir(cases_dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.ends_with(".expected.json") {
            continue;
        }
        let known = ["gnode_", "node_", "lowrank_", "cnf_"];
        if !known.iter().any(|k| name.starts_with(k)) {
            continue;
        }
        let (code, out, err) = run(&["grad", p.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {err}");
        let got: serde_json::Value = serde_json::from_str(&out).unwrap();
        let exp: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(p.with_extension("expected.json")).unwrap(),
        )
        .unwrap();
        let tol = exp["rel_tol"].as_f64().unwrap_or(1e-9);
        let (gl, el) = (got["loss"].as_f64().unwrap(), exp["loss"].as_f64().unwrap());
        assert!(
            (gl - el).abs() <= tol * el.abs(),
            "{name}: loss {gl} vs {el}"
        );
        for (k, g) in exp["grad"].as_object().unwrap() {
            let r = rel(&got["grad"][k], g);
            assert!(r <= tol, "{name}: gradient {k} differs by {r:e}");
        }
        checked += 1;
    }
    assert!(
        checked >= 5,
        "expected the gnode, node, lowrank and cnf cases, checked {checked}"
    );
}

#[test]
fn grad_check_flag_passes_on_a_reference_case() {
    let p = cases_dir().join("node_euler_tanh.json");
    let (code, _, err) = run(&["grad", "--check", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("gradcheck passed"), "{err}");
}

/// Writes a mutated copy of the gnode case and expects a one-line error naming `needle`.
fn bad_case(edit: impl Fn(&mut serde_json::Value), needle: &str) {
    let src = std::fs::read_to_string(cases_dir().join("gnode_rk4_mlp.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&src).unwrap();
    edit(&mut v);
    let dir = std::env::temp_dir().join(format!("neurodyn-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!(
        "case-{}.json",
        needle.replace(|c: char| !c.is_alphanumeric(), "_")
    ));
    std::fs::write(&p, v.to_string()).unwrap();
    let (code, _, err) = run(&["grad", p.to_str().unwrap()]);
    assert_eq!(code, 2, "{needle}: exit {code}: {err}");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "{needle}: one line expected: {err}"
    );
    assert!(err.contains(needle), "{needle}: {err}");
}

#[test]
fn invalid_cases_name_the_field() {
    bad_case(|v| v["model"]["kind"] = "lstm".into(), "model.kind");
    bad_case(|v| v["extra"] = 1.into(), "case.extra");
    bad_case(|v| v["model"]["color"] = "red".into(), "model.color");
    bad_case(
        |v| v["model"]["activation"] = "gelu".into(),
        "model.activation",
    );
    bad_case(|v| v["model"]["hidden"] = (-3).into(), "model.hidden");
    bad_case(
        |v| {
            v["params"].as_object_mut().unwrap().remove("gate.W");
        },
        "params.gate.W",
    );
    bad_case(
        |v| v["params"]["readout.b"] = serde_json::json!([1.0]),
        "params.readout.b",
    );
    bad_case(|v| v["params"]["h0"][0] = "x".into(), "params.h0[0]");
    bad_case(
        |v| v["params"]["bogus.W"] = serde_json::json!([[1.0]]),
        "params.bogus.W",
    );
    bad_case(
        |v| v["data"]["target_times"][0] = 99.0.into(),
        "data.target_times[0]",
    );
    bad_case(|v| v["data"]["input_dt"] = 0.0.into(), "data.input_dt");
    bad_case(
        |v| v["data"]["targets"] = serde_json::json!([[[0.0]]]),
        "data.targets",
    );
    bad_case(|v| v["solver"]["method"] = "rk45".into(), "solver.method");
    bad_case(|v| v["solver"]["dt"] = 0.03.into(), "solver.dt");
    bad_case(|v| v["loss"] = "mae".into(), "loss");
}

#[test]
fn unreadable_or_malformed_case_files() {
    assert_bad_input(
        &["grad", "/nonexistent/case.json"],
        "/nonexistent/case.json",
    );
    let dir = std::env::temp_dir().join(format!("neurodyn-cli2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("broken.json");
    std::fs::write(&p, "{\"model\": ").unwrap();
    assert_bad_input(&["grad", p.to_str().unwrap()], "not valid JSON");
    std::fs::write(&p, "{\"model\": {\"kind\": \"gnode\"}, \"x\": 1e999}").unwrap();
    assert_bad_input(&["grad", p.to_str().unwrap()], "not valid JSON");
}

#[test]
fn bad_training_options_are_named() {
    let out = std::env::temp_dir().join(format!("neurodyn-cli-run-{}", std::process::id()));
    let o = out.to_str().unwrap();
    assert_bad_input(
        &["train", "gnode", "--task", "circle", "--out", o],
        "unknown task",
    );
    assert_bad_input(&["train", "lstm", "--task", "ring"], "invalid value");
    assert_bad_input(
        &[
            "train",
            "gnode",
            "--task",
            "ring",
            "--activation",
            "gelu",
            "--out",
            o,
        ],
        "activation",
    );
    assert_bad_input(
        &[
            "train",
            "gnode",
            "--task",
            "ring",
            "--continuous",
            "--solver",
            "rk9",
            "--out",
            o,
        ],
        "unknown method",
    );
    assert_bad_input(
        &[
            "train", "gnode", "--task", "ring", "--init", "he", "--out", o,
        ],
        "--init",
    );
    assert_bad_input(
        &[
            "train", "gnode", "--task", "ring", "--h0", "zero", "--out", o,
        ],
        "--h0",
    );
    assert_bad_input(
        &["train", "gnode", "--task", "ring", "--lr=-1", "--out", o],
        "lr",
    );
    assert_bad_input(
        &["train", "gnode", "--task", "ring", "--lr", "0", "--out", o],
        "lr",
    );
    assert_bad_input(
        &[
            "train", "gnode", "--task", "ring", "--batch", "0", "--out", o,
        ],
        "batch_size",
    );
    assert_bad_input(
        &[
            "train", "mgru", "--task", "ring", "--flow", "10", "--out", o,
        ],
        "--flow",
    );
    assert_bad_input(&["train", "gnode"], "--task");
    assert_bad_input(
        &[
            "train",
            "gnode",
            "--task",
            "ring",
            "--grad-mode",
            "magic",
            "--continuous",
            "--out",
            o,
        ],
        "gradient mode",
    );
}

#[test]
fn a_short_training_run_writes_its_run_folder() {
    let out = std::env::temp_dir().join(format!("neurodyn-cli-train-{}", std::process::id()));
    let (code, stdout, err) = run(&[
        "train",
        "gnode",
        "--task",
        "flipflop3",
        "--epochs",
        "2",
        "--trials",
        "60",
        "--flow",
        "16",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(j["epochs"], 2);
    for f in [
        "config.json",
        "metrics.csv",
        "best.npz",
        "last.npz",
        "result.json",
        "model.json",
        "analysis.json",
        "fixed_points.csv",
        "training.png",
        "training.svg",
        "attractor.png",
        "attractor.svg",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 3, "header + 2 epochs");
    // analyze reads the run folder back
    let (code, stdout, err) = run(&["analyze", out.to_str().unwrap(), "--starts", "20"]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("slow points"), "{stdout}");
}

#[test]
fn malformed_data_files_are_named() {
    let dir = std::env::temp_dir().join(format!("neurodyn-cli-ts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/uea/BasicMotions_TEST.ts");
    let bad = dir.join("bad.ts");
    let o = dir.join("run");
    let o = o.to_str().unwrap();
    let cases: Vec<(&str, &str)> = vec![
        (
            "@problemName x\n@classLabel true a b\n@data\n1,2:3,oops:a\n",
            "line 4",
        ),
        (
            "@problemName x\n@classLabel true a b\n@data\n1,2:3,4:a\n1,2,3:b\n",
            "line 5",
        ),
        ("@problemName x\n@classLabel true a b\n", "@data"),
        ("", "empty"),
        (
            "@problemName x\n@classLabel true a b\n@data\n1,2,3:c\n",
            "c",
        ),
    ];
    for (text, needle) in cases {
        std::fs::write(&bad, text).unwrap();
        let (code, _, err) = run(&[
            "train",
            "gnode",
            "--data",
            bad.to_str().unwrap(),
            "--test",
            good.to_str().unwrap(),
            "--out",
            o,
        ]);
        assert_eq!(code, 2, "{text:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            err.contains("bad.ts") && err.contains(needle),
            "{text:?}: {err}"
        );
    }
    assert_bad_input(
        &[
            "train",
            "gnode",
            "--data",
            "/nonexistent.ts",
            "--test",
            good.to_str().unwrap(),
            "--out",
            o,
        ],
        "/nonexistent.ts",
    );
    assert_bad_input(
        &[
            "train",
            "gnode",
            "--data",
            good.to_str().unwrap(),
            "--test",
            "/tmp/x.mat",
            "--out",
            o,
        ],
        "unknown data format",
    );
    // dimension mismatch between train and test
    let jv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/uea/JapaneseVowels_TEST.ts");
    assert_bad_input(
        &[
            "train",
            "gnode",
            "--data",
            good.to_str().unwrap(),
            "--test",
            jv.to_str().unwrap(),
            "--out",
            o,
        ],
        "input channels",
    );
}

/// Regression: a trained BasicMotions model whose Jacobian at some slow point made nalgebra's
/// unbounded Schur iteration loop forever; eigenvalues now have an iteration limit.
#[test]
fn analysis_of_a_model_that_once_hung_terminates() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/regressions/schur_hang");
    let dir = std::env::temp_dir().join(format!("neurodyn-schur-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(src.join("best.npz"), dir.join("best.npz")).unwrap();
    let mut model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("model.json")).unwrap()).unwrap();
    let uea = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/uea");
    model["data"]["train"] = uea.join("BasicMotions_TRAIN.ts").to_str().unwrap().into();
    model["data"]["test"] = uea.join("BasicMotions_TEST.ts").to_str().unwrap().into();
    std::fs::write(dir.join("model.json"), model.to_string()).unwrap();
    let (code, out, err) = run(&["analyze", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("slow points"), "{out}");
}

/// A tiny simulated recording written by `lowrank simulate` (rates, ring).
fn simulated(dir: &Path, extra: &[&str]) {
    let mut args = vec![
        "lowrank",
        "simulate",
        "--recipe",
        "ring",
        "--neurons",
        "40",
        "--trials",
        "6",
        "--duration",
        "2",
        "--out",
        dir.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn lowrank_simulate_fit_and_connector_run_end_to_end() {
    let dir = std::env::temp_dir().join(format!("neurodyn-lr-{}", std::process::id()));
    simulated(&dir.join("data"), &[]);
    for f in ["activity.npy", "truth.npz", "meta.json"] {
        assert!(dir.join("data").join(f).is_file(), "missing {f}");
    }
    let run_dir = dir.join("fit");
    let (code, out, err) = run(&[
        "lowrank",
        "fit",
        dir.join("data/activity.npy").to_str().unwrap(),
        "--ranks",
        "1,2",
        "--epochs",
        "3",
        "--out",
        run_dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(j["ranks"].as_array().unwrap().len(), 2);
    for f in [
        "fit.npz",
        "kappa.npy",
        "loadings.csv",
        "model.json",
        "result.json",
        "metrics.csv",
        "latent.png",
        "loadings.svg",
        "jij.png",
        "training.png",
    ] {
        assert!(run_dir.join(f).is_file(), "missing {f}");
    }
    let (code, out, err) = run(&[
        "connector",
        run_dir.to_str().unwrap(),
        "--routes",
        "gaussian,particles",
        "--fm-steps",
        "20",
        "--particle-steps",
        "20",
        "--samples",
        "300",
        "--constraint-samples",
        "200",
        "--states",
        "10",
        "--hidden",
        "8",
        "--resample-neurons",
        "100",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("| plain fit |"), "{out}");
    for f in [
        "table.md",
        "result.json",
        "samples.npz",
        "q_m.npz",
        "loadings.png",
        "latent.svg",
        "jij.png",
    ] {
        assert!(run_dir.join("connector").join(f).is_file(), "missing {f}");
    }
    let fit = run_dir.to_str().unwrap();
    assert_bad_input(&["connector", fit, "--routes", "magic"], "unknown route");
    assert_bad_input(
        &["connector", fit, "--n-second-moment", "1,2,3"],
        "--n-second-moment",
    );
    assert_bad_input(&["connector", fit, "--n-second-moment=-1"], "second-moment");
}

#[test]
fn lowrank_bad_input_is_named() {
    let dir = std::env::temp_dir().join(format!("neurodyn-lr-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = dir.join("out");
    let o = o.to_str().unwrap();
    // unknown recipe, bad tails, rank larger than the neurons
    assert_bad_input(
        &["lowrank", "simulate", "--recipe", "donut", "--out", o],
        "unknown recipe",
    );
    assert_bad_input(
        &["lowrank", "theory", "--recipe", "ring:3"],
        "takes no parameter",
    );
    assert_bad_input(
        &[
            "lowrank",
            "simulate",
            "--recipe",
            "ring",
            "--heavy-tails",
            "3",
            "--out",
            o,
        ],
        "--heavy-tails",
    );
    assert_bad_input(
        &[
            "lowrank",
            "simulate",
            "--recipe",
            "ring",
            "--neurons",
            "3",
            "--out",
            o,
        ],
        "neurons",
    );
    assert_bad_input(
        &[
            "lowrank", "simulate", "--recipe", "ring", "--obs", "calcium", "--out", o,
        ],
        "--obs",
    );
    assert_bad_input(
        &[
            "lowrank",
            "simulate",
            "--recipe",
            "ring",
            "--sample-dt",
            "0.3",
            "--dt",
            "0.07",
            "--out",
            o,
        ],
        "dt",
    );
    // recordings: wrong shapes, NaN activity, unknown formats, missing sample interval
    let write_npy = |name: &str, shape: Vec<usize>, v: Vec<f64>| {
        let a = neurodyn::io::Array::new(shape, neurodyn::io::ArrayData::F64(v)).unwrap();
        let p = dir.join(name);
        neurodyn::io::write_npy(&p, &a).unwrap();
        p
    };
    let flat = write_npy("flat.npy", vec![12], vec![0.1; 12]);
    assert_bad_input(
        &[
            "lowrank",
            "fit",
            flat.to_str().unwrap(),
            "--sample-dt",
            "0.1",
            "--out",
            o,
        ],
        "[trials][samples][neurons]",
    );
    let mut v = vec![0.1; 2 * 5 * 4];
    v[2 * 4 + 3] = f64::NAN;
    let nan = write_npy("nan.npy", vec![2, 5, 4], v);
    assert_bad_input(
        &[
            "lowrank",
            "fit",
            nan.to_str().unwrap(),
            "--sample-dt",
            "0.1",
            "--out",
            o,
        ],
        "trial 0, sample 2, neuron 3",
    );
    let good = write_npy("good.npy", vec![4, 5, 3], vec![0.1; 60]);
    assert_bad_input(
        &[
            "lowrank",
            "fit",
            good.to_str().unwrap(),
            "--sample-dt",
            "0.1",
            "--rank",
            "4",
            "--out",
            o,
        ],
        "larger than the number of neurons",
    );
    assert_bad_input(
        &["lowrank", "fit", good.to_str().unwrap(), "--out", o],
        "--sample-dt",
    );
    assert_bad_input(
        &[
            "lowrank",
            "fit",
            good.to_str().unwrap(),
            "--sample-dt",
            "0.1",
            "--holdout",
            "1.5",
            "--out",
            o,
        ],
        "holdout",
    );
    assert_bad_input(
        &[
            "lowrank",
            "fit",
            good.to_str().unwrap(),
            "--sample-dt",
            "0.1",
            "--obs",
            "spikes",
            "--out",
            o,
        ],
        "spike counts",
    );
    assert_bad_input(
        &[
            "lowrank",
            "fit",
            good.to_str().unwrap(),
            "--sample-dt",
            "0.1",
            "--grad-mode",
            "magic",
            "--out",
            o,
        ],
        "--grad-mode",
    );
    assert_bad_input(
        &[
            "lowrank",
            "fit",
            "/nonexistent/x.npy",
            "--sample-dt",
            "0.1",
            "--out",
            o,
        ],
        "/nonexistent/x.npy",
    );
    let mat = dir.join("x.mat");
    std::fs::write(&mat, b"MATLAB").unwrap();
    assert_bad_input(
        &["lowrank", "fit", mat.to_str().unwrap(), "--out", o],
        "unknown data format",
    );
    let csv = dir.join("ragged.csv");
    std::fs::write(&csv, "1,2,3\n4,5\n").unwrap();
    assert_bad_input(
        &[
            "lowrank",
            "fit",
            csv.to_str().unwrap(),
            "--sample-dt",
            "0.1",
            "--out",
            o,
        ],
        "ragged.csv",
    );
    let nan_csv = dir.join("nan.csv");
    std::fs::write(&nan_csv, "0.1,0.2\n0.3,nan\n").unwrap();
    assert_bad_input(
        &[
            "lowrank",
            "fit",
            nan_csv.to_str().unwrap(),
            "--sample-dt",
            "0.1",
            "--out",
            o,
        ],
        "neuron 1",
    );
    // connector: not a fit folder, unknown route
    assert_bad_input(&["connector", dir.to_str().unwrap()], "model.json");
    assert_bad_input(&["connector", "/nonexistent/run"], "not a run folder");
}
