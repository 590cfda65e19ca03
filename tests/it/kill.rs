//! Killing a training run with SIGKILL at random moments always leaves a loadable last
//! checkpoint, and `--resume` reaches exactly the parameters of an uninterrupted run.

use rand::RngExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const ARGS: [&str; 12] = [
    "train",
    "gnode",
    "--task",
    "flipflop3",
    "--trials",
    "120",
    "--flow",
    "96,96",
    "--epochs",
    "40",
    "--quiet",
    "--threads",
];

fn train(out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_neurodyn"));
    c.args(ARGS)
        .arg("2")
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Every array of a checkpoint as bit patterns (NaN-safe equality).
fn arrays(p: &Path) -> Vec<(String, Vec<u64>)> {
    let npz = neurodyn::io::read_npz(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    npz.arrays
        .iter()
        .map(|(n, a)| {
            (
                n.clone(),
                a.to_f64_vec().iter().map(|v| v.to_bits()).collect(),
            )
        })
        .collect()
}

#[test]
fn sigkill_at_random_moments_then_resume_matches_an_uninterrupted_run() {
    let root = std::env::temp_dir().join(format!("neurodyn-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    // The uninterrupted reference, timed to pick kill moments inside it.
    let reference = root.join("reference");
    let t0 = Instant::now();
    assert!(train(&reference).status().unwrap().success());
    let full = t0.elapsed();
    let mut rng = neurodyn::rng::seeded(42);
    let mut resumed_mid_run = 0;
    for k in 0..3 {
        let out = root.join(format!("killed{k}"));
        let mut child = train(&out).spawn().unwrap();
        if k > 0 {
            // Wait for the first checkpoint (a loaded machine can take a while to start), so
            // that most kills land mid-run; the first kill may land anywhere.
            let deadline = Instant::now() + full.mul_f64(4.0);
            while !out.join("last.npz").exists() && Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        let at = full.mul_f64(if k == 0 {
            0.15 + 0.6 * rng.random::<f64>()
        } else {
            0.5 * rng.random::<f64>()
        });
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let last = out.join("last.npz");
        if last.exists() {
            // whatever moment the kill hit, the checkpoint is complete and loadable
            let epoch = neurodyn::io::read_npz(&last)
                .unwrap()
                .get("__epoch__")
                .unwrap()
                .to_f64_vec()[0];
            if epoch < 40.0 {
                resumed_mid_run += 1;
            }
        }
        // no stray temporary files are taken for checkpoints
        for e in std::fs::read_dir(&out).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !name.ends_with(".npz") || name == "last.npz" || name == "best.npz",
                "{name}"
            );
        }
        if !last.exists() {
            continue; // killed before the first epoch ended: nothing to resume
        }
        let status = Command::new(env!("CARGO_BIN_EXE_neurodyn"))
            .args(["train", "--resume"])
            .arg(&out)
            .args(["--quiet"])
            .status()
            .unwrap();
        assert!(status.success(), "resume failed");
        for f in ["best.npz", "last.npz"] {
            let (a, b) = (arrays(&reference.join(f)), arrays(&out.join(f)));
            assert_eq!(a.len(), b.len(), "kill {k}: {f} has other arrays");
            for ((na, va), (nb, vb)) in a.iter().zip(&b) {
                assert!(
                    na == nb && va == vb,
                    "kill {k}: {f} array {na} differs from the uninterrupted run"
                );
            }
        }
        let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
        assert_eq!(
            metrics.lines().count(),
            41,
            "header + 40 epochs after resuming"
        );
    }
    assert!(
        resumed_mid_run >= 1,
        "no kill landed mid-run (machine too fast or too slow?)"
    );
}
