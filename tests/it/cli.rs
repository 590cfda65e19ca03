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
        let known = ["gnode_", "node_", "gdm_", "lowrank_", "cnf_"];
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
        checked >= 6,
        "expected the gnode, node, gdm, lowrank and cnf cases, checked {checked}"
    );
}

#[test]
fn grad_check_flag_passes_on_a_reference_case() {
    let p = cases_dir().join("node_euler_tanh.json");
    let (code, _, err) = run(&["grad", "--check", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("gradcheck passed"), "{err}");
    // gnode and lowrank cases print the solver's gradient (backprop or checkpointed, by
    // --grad-mode; auto takes checkpointed for these narrow products); --check compares it
    // with the one-tape gradient before the finite differences
    for case in ["gnode_rk4_mlp", "lowrank_rk4"] {
        let p = cases_dir().join(format!("{case}.json"));
        for (flag, route) in [
            ("auto", "checkpointed"),
            ("backprop", "backprop"),
            ("checkpointed", "checkpointed"),
        ] {
            let args = ["grad", "--check", "--grad-mode", flag, p.to_str().unwrap()];
            let (code, _, err) = run(&args);
            assert_eq!(code, 0, "{case} {flag}: {err}");
            let line = err
                .lines()
                .find(|l| l.starts_with(&format!("{route} route against one tape")))
                .unwrap_or_else(|| panic!("{case} {flag}: no {route} route line in {err}"));
            let rel: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            assert!(rel <= 1e-12, "{case} {flag}: {line}");
            assert!(err.contains("gradcheck passed"), "{case} {flag}: {err}");
        }
    }
}

#[test]
fn grad_modes_print_the_same_gradient_to_rounding() {
    for case in ["gnode_rk4_mlp", "lowrank_rk4"] {
        let p = cases_dir().join(format!("{case}.json"));
        let out = |mode: &str| -> serde_json::Value {
            let (code, out, err) = run(&["grad", "--grad-mode", mode, p.to_str().unwrap()]);
            assert_eq!(code, 0, "{case} {mode}: {err}");
            serde_json::from_str(&out).unwrap()
        };
        let (bp, cp, auto) = (out("backprop"), out("checkpointed"), out("auto"));
        assert_eq!(
            auto, cp,
            "{case}: auto takes checkpointed for narrow products"
        );
        let (lb, lc) = (bp["loss"].as_f64().unwrap(), cp["loss"].as_f64().unwrap());
        assert!(
            (lb - lc).abs() <= 1e-13 * lb.abs(),
            "{case}: loss {lb} vs {lc}"
        );
        for (k, g) in bp["grad"].as_object().unwrap() {
            let r = rel(&cp["grad"][k], g);
            assert!(r <= 1e-12, "{case}: gradient {k} differs by {r:e}");
        }
    }
    let p = cases_dir().join("gnode_rk4_mlp.json");
    let (code, _, err) = run(&["grad", "--grad-mode", "adjoint", p.to_str().unwrap()]);
    assert_eq!(code, 2, "an unknown route is bad input: {err}");
}

#[test]
fn grad_threads_split_a_large_batch_into_shards_with_the_same_gradient_to_rounding() {
    // The peer problem at N = 32 (batch 32, RK4 200 steps): large enough to shard.
    let dir = std::env::temp_dir().join(format!("neurodyn-cli-shards-{}", std::process::id()));
    let (code, _, err) = run(&[
        "bench",
        "--export-cases",
        dir.to_str().unwrap(),
        "--export-sizes",
        "32",
    ]);
    assert_eq!(code, 0, "{err}");
    let p = dir.join("peer_gnode_n32.json");
    let grad = |threads: &str| -> String {
        let (code, out, err) = run(&["grad", "--threads", threads, p.to_str().unwrap()]);
        assert_eq!(code, 0, "--threads {threads}: {err}");
        out
    };
    let one = grad("1");
    let want: serde_json::Value = serde_json::from_str(&one).unwrap();
    for threads in ["2", "3"] {
        let out = grad(threads);
        // The shard count, not the machine, fixes the summation order: the same bytes again.
        assert_eq!(out, grad(threads), "--threads {threads} twice");
        // Summed in another order than one tape's: the last bits differ (all equal would mean
        // the batch was not split).
        assert_ne!(out, one, "--threads {threads} split nothing");
        let got: serde_json::Value = serde_json::from_str(&out).unwrap();
        let (gl, wl) = (
            got["loss"].as_f64().unwrap(),
            want["loss"].as_f64().unwrap(),
        );
        assert!((gl - wl).abs() <= 1e-14 * wl.abs(), "loss {gl} vs {wl}");
        for (k, g) in want["grad"].as_object().unwrap() {
            let r = rel(&got["grad"][k], g);
            assert!(
                r <= 1e-12,
                "--threads {threads}: gradient {k} differs by {r:e}"
            );
        }
    }
    // A small case stays on one tape: the same bytes whatever --threads says.
    let small = cases_dir().join("gnode_rk4_mlp.json");
    let small = |threads: &str| run(&["grad", "--threads", threads, small.to_str().unwrap()]).1;
    assert_eq!(small("1"), small("4"));
    // So does an adaptive solve (its steps depend on the whole batch).
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    v["solver"] = serde_json::json!({"method": "dopri5", "rtol": 1e-5, "atol": 1e-7});
    let adaptive = dir.join("adaptive.json");
    std::fs::write(&adaptive, v.to_string()).unwrap();
    let adaptive = |threads: &str| run(&["grad", "--threads", threads, adaptive.to_str().unwrap()]);
    let (one, two) = (adaptive("1"), adaptive("2"));
    assert_eq!(one.0, 0, "{}", one.2);
    assert_eq!(one.1, two.1, "an adaptive solve was split");
    let (code, _, err) = run(&["grad", "--threads", "0", p.to_str().unwrap()]);
    assert_eq!(code, 2, "no threads is bad input: {err}");
    assert!(err.contains("--threads"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Writes a mutated copy of the gnode case and expects a one-line error naming `needle`.
fn bad_case(edit: impl Fn(&mut serde_json::Value), needle: &str) {
    bad_case_of("gnode_rk4_mlp", edit, needle);
}

/// Writes a mutated copy of case `name` and expects a one-line error naming `needle`.
fn bad_case_of(name: &str, edit: impl Fn(&mut serde_json::Value), needle: &str) {
    let src = std::fs::read_to_string(cases_dir().join(format!("{name}.json"))).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&src).unwrap();
    edit(&mut v);
    let dir = std::env::temp_dir().join(format!("neurodyn-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!(
        "case-{name}-{}.json",
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
    bad_case(
        |v| v["solver"] = serde_json::json!({"method": "dopri5", "rtol": 1e-6, "atol": 1e-8, "controller": "pid"}),
        "solver.controller",
    );
    bad_case(|v| v["loss"] = "mae".into(), "loss");
}

#[test]
fn invalid_lowrank_and_cnf_cases_name_the_field() {
    let lr = "lowrank_rk4";
    bad_case_of(
        lr,
        |v| v["model"]["rank"] = 13.into(),
        "larger than the number of neurons",
    );
    bad_case_of(lr, |v| v["model"]["phi"] = "relu".into(), "model.phi");
    bad_case_of(
        lr,
        |v| {
            v["params"]["m"].as_array_mut().unwrap().pop();
        },
        "params.m",
    );
    bad_case_of(
        lr,
        |v| v["data"]["targets"][0][0][0] = "nan".into(),
        "data.targets[0][0][0]",
    );
    let nll = "cnf_nll_rk4";
    bad_case_of(
        nll,
        |v| v["model"]["activation"] = "relu".into(),
        "model.activation",
    );
    bad_case_of(
        nll,
        |v| {
            v["params"]["vel.0.W"].as_array_mut().unwrap().pop();
        },
        "params.vel.0.W",
    );
    bad_case_of(
        nll,
        |v| v["data"]["x"][0] = serde_json::json!([1.0]),
        "data.x",
    );
    bad_case_of(
        nll,
        |v| {
            v.as_object_mut().unwrap().remove("solver");
        },
        "case.solver",
    );
    bad_case_of(
        "cnf_flow_matching",
        |v| v["data"]["t"][0] = 1.5.into(),
        "data.t[0]",
    );
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

#[test]
fn bench_runs_the_quick_suite_as_json_and_rejects_bad_options() {
    let (code, out, err) = run(&[
        "bench",
        "quick",
        "--filter",
        "rk4_100/backprop",
        "--min-time",
        "0",
        "--runs",
        "1",
        "--json",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let results = v["results"].as_array().unwrap();
    assert!(results.len() >= 2, "{out}");
    for r in results {
        assert!(r["median_s"].as_f64().unwrap() > 0.0);
        assert!(r["loss"].as_f64().unwrap().is_finite());
    }
    assert!(
        results
            .iter()
            .any(|r| r["name"].as_str().unwrap().starts_with("gnode_grad/")
                && r["steps"].as_u64() == Some(100))
    );
    assert_bad_input(&["bench", "nonsense"], "unknown suite");
    assert_bad_input(&["bench", "quick", "--min-time=-1"], "--min-time");
    assert_bad_input(&["bench", "quick", "--min-time", "NaN"], "--min-time");
    assert_bad_input(&["bench", "quick", "--runs", "0"], "--runs");
}

#[test]
fn exported_peer_cases_compute_the_workloads_loss() {
    use neurodyn::workloads::Workload;
    use neurodyn::workloads::gnode::{GnodeGrad, GnodeGradSpec};
    let dir = std::env::temp_dir().join(format!("nd-export-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let (code, _, err) = run(&[
        "bench",
        "--export-cases",
        d,
        "--export-sizes",
        "1,4,9",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    // N = 1: every matrix is 1 × something and must still be written (and read) as a matrix
    for n in [1, 4, 9] {
        let case = dir.join(format!("peer_gnode_n{n}.json"));
        let (code, out, err) = run(&["grad", case.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let spec = GnodeGradSpec {
            n,
            ..Default::default()
        };
        let mut w = GnodeGrad::<f64>::new(&spec).unwrap();
        let want = w.run().unwrap().loss;
        let got = v["loss"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * want.abs(),
            "N = {n}: case loss {got} vs workload loss {want}"
        );
        // The same problem with dopri5 under either controller: close to RK4, not identical.
        let mut c: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&case).unwrap()).unwrap();
        let mut losses = Vec::new();
        for ctrl in ["integral", "hairer-pi"] {
            c["solver"] = serde_json::json!({"method": "dopri5", "rtol": 1e-7, "atol": 1e-9, "controller": ctrl});
            let p = dir.join(format!("dp-{n}-{ctrl}.json"));
            std::fs::write(&p, c.to_string()).unwrap();
            let (code, out, err) = run(&["grad", p.to_str().unwrap()]);
            assert_eq!(code, 0, "{err}");
            let l = serde_json::from_str::<serde_json::Value>(&out).unwrap()["loss"]
                .as_f64()
                .unwrap();
            assert!((l - want).abs() <= 1e-6 * want, "{ctrl}: {l} vs RK4 {want}");
            losses.push(l);
        }
        assert_ne!(losses[0], losses[1], "the controller was not applied");
    }
    std::fs::remove_dir_all(&dir).ok();
    assert_bad_input(
        &["bench", "--export-cases", d, "--export-sizes", "0"],
        "at least 1",
    );
}

/// Writes a mutated copy of the gdm case and expects a one-line error naming `needle`.
fn bad_gdm_case(edit: impl Fn(&mut serde_json::Value), needle: &str) {
    let src = std::fs::read_to_string(cases_dir().join("gdm_neg_elbo.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&src).unwrap();
    edit(&mut v);
    let dir = std::env::temp_dir().join(format!("neurodyn-cli-gdm-{}", std::process::id()));
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
fn gdm_case_checks_and_invalid_gdm_cases_name_the_field() {
    let p = cases_dir().join("gdm_neg_elbo.json");
    let (code, _, err) = run(&["grad", "--check", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("gradcheck passed"), "{err}");
    bad_gdm_case(|v| v["model"]["states"] = 1.into(), "model.states");
    bad_gdm_case(|v| v["model"]["tau"] = 0.0.into(), "model.tau");
    bad_gdm_case(|v| v["model"]["tau"] = (-1.0).into(), "model.tau");
    bad_gdm_case(|v| v["model"]["lags"] = 2.into(), "model.lags");
    bad_gdm_case(
        |v| {
            v["params"].as_object_mut().unwrap().remove("gamma");
        },
        "params.gamma",
    );
    bad_gdm_case(
        |v| v["params"]["gamma"] = serde_json::json!([0.1]),
        "params.gamma",
    );
    bad_gdm_case(
        |v| v["params"]["S"] = serde_json::json!([[1.0]]),
        "params.S",
    );
    bad_gdm_case(
        |v| v["params"]["q.W"][0][0] = "x".into(),
        "params.q.W[0][0]",
    );
    bad_gdm_case(
        |v| v["params"]["flow.0.W"] = serde_json::json!([[1.0]]),
        "params.flow.0.W",
    );
    bad_gdm_case(
        |v| v["data"]["y"] = serde_json::json!([[1.0, 2.0]]),
        "data.y",
    );
    bad_gdm_case(|v| v["data"]["y"] = serde_json::json!([]), "data.y");
    bad_gdm_case(
        |v| v["data"]["gumbel"] = serde_json::json!([[[0.0]]]),
        "data.gumbel",
    );
    bad_gdm_case(|v| v["data"]["extra"] = 1.into(), "data.extra");
    bad_gdm_case(|v| v["loss"] = "mse".into(), "loss");
    bad_gdm_case(
        |v| v["solver"] = serde_json::json!({"method": "rk4", "dt": 0.1}),
        "case.solver",
    );
}

fn gdm_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("neurodyn-gdm-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn gdm_fit_rejects_bad_input_clearly() {
    let dir = gdm_dir("bad");
    let out = dir.join("run");
    let o = out.to_str().unwrap();
    let csv = dir.join("y.csv");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    std::fs::write(&csv, "a,b\n1,2\n3,4\n5,6\n7,8\n").unwrap();
    // K < 2, τ ≤ 0, unknown options
    assert_bad_input(
        &["gdm", "fit", &s(&csv), "--states", "1", "--out", o],
        "--states",
    );
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&csv),
            "--states",
            "3",
            "--tau",
            "0",
            "--out",
            o,
        ],
        "--tau",
    );
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&csv),
            "--states",
            "3",
            "--tau=-1",
            "--out",
            o,
        ],
        "--tau",
    );
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&csv),
            "--states",
            "3",
            "--emission",
            "gamma",
            "--out",
            o,
        ],
        "--emission",
    );
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&csv),
            "--states",
            "3",
            "--posterior",
            "lstm",
            "--out",
            o,
        ],
        "--posterior",
    );
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&csv),
            "--states",
            "3",
            "--samples",
            "0",
            "--out",
            o,
        ],
        "--samples",
    );
    assert_bad_input(&["gdm", "fit", &s(&csv)], "--states");
    // NaN observations
    let nan = dir.join("nan.csv");
    std::fs::write(&nan, "a,b\n1,2\n3,nan\n5,6\n").unwrap();
    assert_bad_input(
        &["gdm", "fit", &s(&nan), "--states", "2", "--out", o],
        "NaN observation at step 1, channel 1",
    );
    let mut npy = Vec::new();
    npy.extend_from_slice(b"\x93NUMPY\x01\x00");
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1), }";
    let pad = 64 - (10 + header.len() + 1) % 64;
    let h = format!("{header}{}\n", " ".repeat(pad));
    npy.extend_from_slice(&(h.len() as u16).to_le_bytes());
    npy.extend_from_slice(h.as_bytes());
    for v in [1.0f64, f64::NAN, 2.0] {
        npy.extend_from_slice(&v.to_le_bytes());
    }
    let nanpy = dir.join("nan.npy");
    std::fs::write(&nanpy, &npy).unwrap();
    assert_bad_input(
        &["gdm", "fit", &s(&nanpy), "--states", "2", "--out", o],
        "NaN observation at step 1",
    );
    // empty data
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, "a,b\n").unwrap();
    assert_bad_input(
        &["gdm", "fit", &s(&empty), "--states", "2", "--out", o],
        "empty.csv",
    );
    std::fs::write(&empty, "").unwrap();
    assert_bad_input(
        &["gdm", "fit", &s(&empty), "--states", "2", "--out", o],
        "empty.csv",
    );
    // wrong shapes: a test file with other channels, labels that are not labels, a 3-D array
    let other = dir.join("other.csv");
    std::fs::write(&other, "a,b,c\n1,2,3\n4,5,6\n").unwrap();
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&csv),
            "--states",
            "2",
            "--test",
            &s(&other),
            "--out",
            o,
        ],
        "3 channels, but the training data has 2",
    );
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&csv),
            "--states",
            "2",
            "--labels",
            "zzz",
            "--out",
            o,
        ],
        "no column 'zzz'",
    );
    let frac = dir.join("frac.csv");
    std::fs::write(&frac, "a,l\n1,0\n2,0.5\n").unwrap();
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&frac),
            "--states",
            "2",
            "--labels",
            "l",
            "--out",
            o,
        ],
        "non-negative integers",
    );
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&frac),
            "--states",
            "2",
            "--labels",
            "l",
            "--labels",
            "a",
            "--out",
            o,
        ],
        "",
    );
    let mut npy3 = Vec::new();
    npy3.extend_from_slice(b"\x93NUMPY\x01\x00");
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1), }";
    let pad = 64 - (10 + header.len() + 1) % 64;
    let h = format!("{header}{}\n", " ".repeat(pad));
    npy3.extend_from_slice(&(h.len() as u16).to_le_bytes());
    npy3.extend_from_slice(h.as_bytes());
    npy3.extend_from_slice(&1.0f64.to_le_bytes());
    let cube = dir.join("cube.npy");
    std::fs::write(&cube, &npy3).unwrap();
    assert_bad_input(
        &["gdm", "fit", &s(&cube), "--states", "2", "--out", o],
        "T × N",
    );
    assert_bad_input(
        &[
            "gdm",
            "fit",
            "/nonexistent/y.csv",
            "--states",
            "2",
            "--out",
            o,
        ],
        "/nonexistent/y.csv",
    );
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&dir.join("y.mat")),
            "--states",
            "2",
            "--out",
            o,
        ],
        "unknown data format",
    );
    // Poisson needs counts
    assert_bad_input(
        &[
            "gdm",
            "fit",
            &s(&nan.with_file_name("y.csv")),
            "--states",
            "2",
            "--emission",
            "poisson",
            "--standardize",
            "--out",
            o,
        ],
        "counts",
    );
    // simulate and bench
    assert_bad_input(
        &[
            "gdm",
            "simulate",
            "nascar-hard",
            "--out",
            &s(&dir.join("x.npz")),
        ],
        "nascar",
    );
    assert_bad_input(
        &["gdm", "simulate", "nascar", "--out", &s(&dir.join("x.txt"))],
        "unknown format",
    );
    assert_bad_input(
        &[
            "gdm",
            "simulate",
            "nascar",
            "--test-seed",
            "0",
            "--out",
            &s(&dir.join("x.npz")),
        ],
        "different seed",
    );
    assert_bad_input(&["gdm", "bench", "nascar", "--models", "lstm"], "--models");
    assert_bad_input(&["gdm", "bench", "nascar", "--seeds", "0"], "--seeds");
}

#[test]
fn gdm_simulate_and_a_short_fit_write_their_files() {
    let dir = gdm_dir("fit");
    let data = dir.join("nascar.npz");
    let (code, out, err) = run(&[
        "gdm",
        "simulate",
        "nascar",
        "--steps",
        "150",
        "--out",
        data.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("150 steps × 10 channels"), "{out}");
    let csv = dir.join("lorenz.csv");
    let (code, _, err) = run(&[
        "gdm",
        "simulate",
        "lorenz",
        "--steps",
        "80",
        "--obs",
        "3",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let run_dir = dir.join("run");
    let (code, stdout, err) = run(&[
        "gdm",
        "fit",
        data.to_str().unwrap(),
        "--states",
        "4",
        "--iters",
        "30",
        "--samples",
        "2",
        "--eval-samples",
        "3",
        "--out",
        run_dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(j["iters"], 30);
    for key in ["knn_accuracy", "matched_accuracy_test", "recon_r2_test"] {
        assert!(j[key].as_f64().is_some_and(f64::is_finite), "{key}: {j}");
    }
    assert_eq!(j["forecast_r2"].as_array().unwrap().len(), 10);
    for f in [
        "states.csv",
        "states.npy",
        "test_states.csv",
        "test_states.npy",
        "metrics.json",
        "elbo.csv",
        "params.npz",
        "segmentation.svg",
        "segmentation.png",
        "test_segmentation.png",
        "elbo.png",
    ] {
        assert!(run_dir.join(f).is_file(), "missing {f}");
    }
    let states = std::fs::read_to_string(run_dir.join("states.csv")).unwrap();
    assert!(
        states.starts_with("state_0,state_1,state_2,state_3,argmax,label"),
        "{states}"
    );
    assert_eq!(states.lines().count(), 151);
    // CSV with a label column, bigru posterior, two lags, f64 training
    let run2 = dir.join("run2");
    let (code, stdout, err) = run(&[
        "gdm",
        "fit",
        csv.to_str().unwrap(),
        "--states",
        "2",
        "--labels",
        "label",
        "--iters",
        "10",
        "--samples",
        "2",
        "--posterior",
        "bigru",
        "--hidden",
        "4",
        "--lags",
        "2",
        "--f64",
        "--standardize",
        "--eval-samples",
        "2",
        "--out",
        run2.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("state accuracy"), "{stdout}");
    let params = neurodyn::io::read_npz(run2.join("params.npz")).unwrap();
    assert_eq!(params.get("q.fwd.Wx").unwrap().shape, vec![12, 3]);
    assert_eq!(params.get("S").unwrap().shape, vec![2, 3, 4]);
    // the benchmark on a labelled file with a separate test file, the local posterior
    let bench = dir.join("bench");
    let (code, stdout, err) = run(&[
        "gdm",
        "bench",
        csv.to_str().unwrap(),
        "--test",
        csv.to_str().unwrap(),
        "--labels",
        "label",
        "--standardize",
        "--states",
        "2",
        "--seeds",
        "1",
        "--models",
        "gdm,arhmm",
        "--posterior",
        "local",
        "--iters",
        "5",
        "--samples",
        "2",
        "--eval-samples",
        "2",
        "--restarts",
        "1",
        "--em-iters",
        "3",
        "--out",
        bench.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("gdm    kNN accuracy"), "{stdout}");
    assert!(stdout.contains("arhmm  kNN accuracy"), "{stdout}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bench.join("summary.json")).unwrap())
            .unwrap();
    for m in ["gdm", "arhmm"] {
        let knn = j[m]["knn"][0].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&knn), "{m}: {j}");
    }
    // a data file without a test sequence, or none at all
    assert_bad_input(
        &["gdm", "bench", csv.to_str().unwrap(), "--labels", "label"],
        "no test sequence",
    );
    assert_bad_input(&["gdm", "bench", "/nonexistent/y.csv"], "no such file");
    assert_bad_input(
        &["gdm", "bench", "nascar", "--test", csv.to_str().unwrap()],
        "apply to a data file",
    );
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
        "--polish",
        "2",
        "--out",
        run_dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(j["ranks"].as_array().unwrap().len(), 2);
    // 3 Adam epochs + 2 L-BFGS iterations for each rank, numbered on
    assert_eq!(j["epochs"], 5, "{out}");
    let csv = std::fs::read_to_string(run_dir.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 5, "{csv}");
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
        "gaussian,particles,lagrangian",
        "--fm-steps",
        "20",
        "--particle-steps",
        "20",
        "--particle-snapshots",
        "1",
        "--lagrangian-steps",
        "10",
        "--lagrangian-eval-every",
        "5",
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
    assert!(out.contains("| Connector (Lagrangian CNF) |"), "{out}");
    // the Lagrangian route's trace: a header, one row per step, evaluations every 5 steps
    let trace = std::fs::read_to_string(run_dir.join("connector").join("lagrangian.csv")).unwrap();
    let rows: Vec<&str> = trace.lines().collect();
    assert_eq!(rows.len(), 11, "{trace}");
    assert!(rows[0].starts_with("step,entropy,violation"), "{}", rows[0]);
    let evaluated = rows[1..]
        .iter()
        .filter(|r| !r.ends_with(",,,,,,,,"))
        .count();
    assert_eq!(evaluated, 3, "steps 0, 5 and the last: {trace}");
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
    assert_bad_input(&["connector", fit, "--sampling", "sobol"], "--sampling");
    // the default 8 kept states, 100 steps apart, need at least 701 Langevin steps
    assert_bad_input(
        &["connector", fit, "--particle-steps", "700"],
        "--particle-snapshots",
    );
    assert_bad_input(
        &["connector", fit, "--particle-snapshots", "0"],
        "--particle-snapshots",
    );
    assert_bad_input(
        &["connector", fit, "--distill-average", "2"],
        "--distill-average",
    );
}

/// `lowrank theory --json` for a recipe: the row of `source`.
fn theory_row(recipe: &str, source: &str) -> serde_json::Value {
    let (code, out, err) = run(&["lowrank", "theory", "--recipe", recipe, "--json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == source)
        .unwrap_or_else(|| panic!("{recipe}: no row {source}: {out}"))
        .clone()
}

/// The simulated finite network (N = 2000) against SPEC §4.3: bistable κ* within 3 %, the limit
/// cycle's radius and period 4π within 5 %, the ring's radius within 3 %; tristable against the
/// accurate mean field (SPEC's ±8.34 is a quadrature artefact, see `tests/it/lowrank.rs`).
#[test]
fn lowrank_theory_finite_network_matches_the_spec() {
    let sim = "network, simulated";
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    let b = theory_row("bistable", sim);
    assert!(f(&b["stable_error"]) < 0.03, "{b}");
    let lc = theory_row("limit-cycle", sim);
    assert!(f(&lc["cycle_radius_error"]) < 0.05, "{lc}");
    assert!(f(&lc["period_error"]) < 0.05, "{lc}");
    let ring = theory_row("ring", sim);
    assert!(f(&ring["ring_error"]) < 0.03, "{ring}");
    let tri = theory_row("tristable", sim);
    let outer = tri["stable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| f(&p[0]).abs())
        .fold(0.0, f64::max);
    assert!((outer - 6.44).abs() / 6.44 < 0.05, "{tri}");
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

#[test]
fn grad_output_errors_are_reported_and_a_closed_pipe_is_not() {
    use std::process::Stdio;
    let case = cases_dir().join("node_euler_tanh.json");
    // a full disk behind the redirection: status 1 and a message, never a silent success
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let out = bin()
            .args(["grad", case.to_str().unwrap()])
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "stderr: {err}");
        assert!(err.contains("cannot write to standard output"), "{err}");
    }
    // a reader that stops early (`| head -c 1`): status 0 and nothing on stderr
    let mut child = bin()
        .args(["grad", case.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
