//! Run folders: `config.json`, `metrics.csv`, `log.txt`, checkpoints (`best`, `last`),
//! `result.json` and plots, written atomically so that a crash never leaves a half-written file.

use crate::tape::ParamStore;
use crate::train::{EpochReport, TrainConfig, TrainReport};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An open run folder.
pub struct RunDir {
    root: PathBuf,
    metrics: fs::File,
}

impl RunDir {
    /// Creates (or reuses) the folder and starts `metrics.csv`.
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn create(root: &Path) -> Result<Self, crate::Error> {
        let io = |e| crate::Error::Io {
            path: root.display().to_string(),
            source: e,
        };
        fs::create_dir_all(root).map_err(io)?;
        let mpath = root.join("metrics.csv");
        let mut metrics = fs::File::create(&mpath).map_err(io)?;
        writeln!(
            metrics,
            "epoch,seconds,train_loss,val_loss,val_score,best_score,lr,grad_norm"
        )
        .map_err(io)?;
        Ok(Self {
            root: root.to_path_buf(),
            metrics,
        })
    }

    /// Opens an existing run folder (appending to its `metrics.csv`).
    ///
    /// # Errors
    /// A missing folder or I/O errors, with the path.
    pub fn open(root: &Path) -> Result<Self, crate::Error> {
        let io = |e| crate::Error::Io {
            path: root.display().to_string(),
            source: e,
        };
        if !root.is_dir() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not a run folder",
            )));
        }
        let metrics = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("metrics.csv"))
            .map_err(io)?;
        Ok(Self {
            root: root.to_path_buf(),
            metrics,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// A file inside the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes `bytes` to `name` atomically (temporary file, fsync, rename).
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<(), crate::Error> {
        write_atomic(&self.root.join(name), bytes)
    }

    /// Records the command line's settings.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_config<A: std::fmt::Debug>(
        &self,
        args: &A,
        cfg: &TrainConfig,
    ) -> Result<(), crate::Error> {
        let j = serde_json::json!({
            "neurodyn": env!("CARGO_PKG_VERSION"),
            "args": format!("{args:?}"),
            "train": {
                "epochs": cfg.epochs, "batch_size": cfg.batch_size, "optimizer": format!("{:?}", cfg.optimizer),
                "lr": cfg.lr, "weight_decay": cfg.weight_decay, "schedule": format!("{:?}", cfg.schedule),
                "clip": cfg.clip, "threads": cfg.threads, "seed": cfg.seed,
            }
        });
        self.write_atomic(
            "config.json",
            serde_json::to_string_pretty(&j)
                .unwrap_or_default()
                .as_bytes(),
        )
    }

    /// Appends an epoch to `metrics.csv`.
    ///
    /// # Errors
    /// I/O errors.
    pub fn log_epoch(&mut self, r: &EpochReport, secs: f64) -> Result<(), crate::Error> {
        let (vl, vs) = r.val.map_or((f64::NAN, f64::NAN), |v| (v.loss, v.score()));
        writeln!(
            self.metrics,
            "{},{secs:.3},{},{vl},{vs},{},{},{}",
            r.epoch, r.train_loss, r.best_score, r.lr, r.grad_norm
        )
        .and_then(|_| self.metrics.flush())
        .map_err(|e| crate::Error::Io {
            path: self.file("metrics.csv").display().to_string(),
            source: e,
        })
    }

    /// Saves parameters as `<name>.npz` atomically: one array per parameter (named as in the
    /// model, `rows × cols`), plus `__epoch__`. numpy reads it with `np.load`.
    ///
    /// # Errors
    /// I/O errors.
    pub fn save_checkpoint(
        &self,
        name: &str,
        store: &ParamStore<f32>,
        epoch: usize,
    ) -> Result<(), crate::Error> {
        let arrays = checkpoint_arrays(store, epoch)?;
        let refs: Vec<(&str, &crate::io::Array)> =
            arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
        crate::io::write_npz(self.root.join(format!("{name}.npz")), &refs)?;
        Ok(())
    }

    /// Writes `result.json`.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_result(
        &self,
        r: &TrainReport,
        secs: f64,
        metric: &str,
        test: Option<f64>,
    ) -> Result<(), crate::Error> {
        let j = serde_json::json!({
            "epochs": r.epochs, "best_epoch": r.best_epoch, "metric": metric,
            "best_score": r.best.map(|b| b.score()), "best_loss": r.best.map(|b| b.loss),
            "seconds": secs, "stop": format!("{:?}", r.stop), "test_score": test,
        });
        self.write_atomic(
            "result.json",
            serde_json::to_string_pretty(&j)
                .unwrap_or_default()
                .as_bytes(),
        )
    }
}

/// Writes a file atomically (temporary file in the same folder, fsync, rename).
///
/// # Errors
/// I/O errors, with the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), crate::Error> {
    Ok(crate::io::write_atomic(path, bytes)?)
}

/// The arrays of a checkpoint: each parameter `rows × cols` (f32), and `__epoch__`.
fn checkpoint_arrays(
    store: &ParamStore<f32>,
    epoch: usize,
) -> Result<Vec<(String, crate::io::Array)>, crate::Error> {
    let mut out = Vec::with_capacity(store.infos().len() + 1);
    for info in store.infos() {
        let v = store.as_slice()[info.range()].to_vec();
        let a = crate::io::Array::new(vec![info.rows, info.cols], crate::io::ArrayData::F32(v))?;
        out.push((info.name.clone(), a));
    }
    let e = crate::io::Array::new(vec![], crate::io::ArrayData::I64(vec![epoch as i64]))?;
    out.push(("__epoch__".to_string(), e));
    Ok(out)
}

/// Reads the parameters of a checkpoint written by [`RunDir::save_checkpoint`].
///
/// # Errors
/// A missing or malformed file.
pub fn load_checkpoint(
    path: &Path,
) -> Result<(Vec<crate::models::gnode::NamedParam<f32>>, usize), crate::Error> {
    let npz = crate::io::read_npz(path)?;
    let mut params = Vec::new();
    let mut epoch = 0;
    for (name, a) in &npz.arrays {
        if name == "__epoch__" {
            epoch = a.to_f64_vec().first().copied().unwrap_or(0.0) as usize;
            continue;
        }
        let (r, c) = match a.shape.as_slice() {
            [r, c] => (*r, *c),
            [n] => (1, *n),
            _ => (1, a.len()),
        };
        params.push((name.clone(), r, c, a.to_f32_vec()));
    }
    Ok((params, epoch))
}
