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

    /// Saves parameters as `<name>.json` (name → values, plus the epoch) atomically.
    ///
    /// # Errors
    /// I/O errors.
    pub fn save_checkpoint(
        &self,
        name: &str,
        store: &ParamStore<f32>,
        epoch: usize,
    ) -> Result<(), crate::Error> {
        let mut m = serde_json::Map::new();
        for info in store.infos() {
            let v: Vec<f64> = store.as_slice()[info.range()]
                .iter()
                .map(|&x| x as f64)
                .collect();
            m.insert(
                info.name.clone(),
                serde_json::json!({"rows": info.rows, "cols": info.cols, "values": v}),
            );
        }
        let j = serde_json::json!({"epoch": epoch, "params": m});
        self.write_atomic(&format!("{name}.json"), j.to_string().as_bytes())
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
    ) -> Result<(), crate::Error> {
        let j = serde_json::json!({
            "epochs": r.epochs, "best_epoch": r.best_epoch, "metric": metric,
            "best_score": r.best.map(|b| b.score()), "best_loss": r.best.map(|b| b.loss),
            "seconds": secs, "stop": format!("{:?}", r.stop),
        });
        self.write_atomic(
            "result.json",
            serde_json::to_string_pretty(&j)
                .unwrap_or_default()
                .as_bytes(),
        )
    }
}

/// Writes a file atomically: a temporary file in the same folder, fsync, rename.
///
/// # Errors
/// I/O errors, with the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), crate::Error> {
    let io = |e| crate::Error::Io {
        path: path.display().to_string(),
        source: e,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    {
        let mut f = fs::File::create(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    fs::rename(&tmp, path).map_err(io)
}
