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
            "argv": std::env::args().skip(1).collect::<Vec<_>>(),
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

/// Saves the parameters and everything [`crate::train::run`] needs to continue exactly: the
/// optimiser state, the best-validation parameters and metrics, the epoch.
///
/// # Errors
/// I/O errors.
pub fn save_train_state(
    path: &Path,
    store: &ParamStore<f32>,
    st: &crate::train::EpochState<'_, f32>,
) -> Result<(), crate::Error> {
    use crate::io::{Array, ArrayData};
    let mut arrays = checkpoint_arrays(store, st.epoch)?;
    let (t, m, v) = st.optimizer.state();
    let vec32 = |x: &[f32]| Array::new(vec![x.len()], ArrayData::F32(x.to_vec()));
    arrays.push((
        "__opt_t__".into(),
        Array::new(vec![], ArrayData::I64(vec![t as i64]))?,
    ));
    arrays.push(("__opt_m__".into(), vec32(m)?));
    arrays.push(("__opt_v__".into(), vec32(v)?));
    arrays.push(("__best_params__".into(), vec32(st.best_params)?));
    let ints = vec![st.best_epoch as i64, st.since_best as i64];
    arrays.push((
        "__best_epoch_since__".into(),
        Array::new(vec![2], ArrayData::I64(ints))?,
    ));
    if let Some(b) = st.best {
        let e = vec![b.loss, b.r2, b.accuracy];
        arrays.push((
            "__best_eval__".into(),
            Array::new(vec![3], ArrayData::F64(e))?,
        ));
    }
    let refs: Vec<(&str, &Array)> = arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
    crate::io::write_npz(path, &refs)?;
    Ok(())
}

/// Reads what [`save_train_state`] wrote: the parameters and the state to resume from, with
/// the flat optimiser state and best parameters in the layout of `store` (the model that
/// resumes), whatever parameter order the checkpoint was written in.
///
/// # Errors
/// A missing file, one without the training state, or one whose parameters are not `store`'s.
pub fn load_train_state(
    path: &Path,
    kind: crate::train::OptimizerKind,
    weight_decay: f64,
    store: &ParamStore<f32>,
) -> Result<
    (
        Vec<crate::models::gnode::NamedParam<f32>>,
        crate::train::Resume<f32>,
    ),
    crate::Error,
> {
    let npz = crate::io::read_npz(path)?;
    let missing = |what: &str| {
        crate::Error::from(crate::ConfigError::new(
            path.display().to_string(),
            format!("not a resumable checkpoint (no {what})"),
        ))
    };
    let get = |name: &str| npz.get(name).map_err(|_| missing(name));
    let (params, epoch) = load_checkpoint(path)?;
    let params: Vec<_> = params
        .into_iter()
        .filter(|(n, ..)| !n.starts_with("__"))
        .collect();
    // The flat vectors follow the parameters' order in the file (the store's when it was
    // written; gated gnODEs changed layout once): move them into `store`'s order by name.
    let saved: Vec<(String, usize)> = params
        .iter()
        .map(|(n, r, c, _)| (n.clone(), r * c))
        .collect();
    let reorder = |what: &str, flat: Vec<f32>| to_store_order(flat, &saved, store, path, what);
    let m = reorder("__opt_m__", get("__opt_m__")?.to_f32_vec())?;
    let v = reorder("__opt_v__", get("__opt_v__")?.to_f32_vec())?;
    let t = get("__opt_t__")?
        .to_f64_vec()
        .first()
        .copied()
        .unwrap_or(0.0) as u64;
    let mut optimizer = crate::train::Optimizer::new(kind, m.len(), weight_decay)?;
    optimizer.set_state(t, &m, &v)?;
    let best_params = reorder("__best_params__", get("__best_params__")?.to_f32_vec())?;
    let es = get("__best_epoch_since__")?.to_f64_vec();
    let best = npz.get("__best_eval__").ok().map(|a| {
        let e = a.to_f64_vec();
        crate::train::Eval {
            loss: e[0],
            r2: e[1],
            accuracy: e[2],
        }
    });
    let resume = crate::train::Resume {
        epoch,
        optimizer,
        best_params,
        best,
        best_epoch: es.first().copied().unwrap_or(0.0) as usize,
        since_best: es.get(1).copied().unwrap_or(0.0) as usize,
    };
    Ok((params, resume))
}

/// A flat per-parameter vector written in the parameter order `saved` (`(name, length)`),
/// rearranged into `store`'s order by name.
fn to_store_order(
    flat: Vec<f32>,
    saved: &[(String, usize)],
    store: &ParamStore<f32>,
    path: &Path,
    what: &str,
) -> Result<Vec<f32>, crate::Error> {
    let bad = |why: String| {
        crate::Error::from(crate::ConfigError::new(
            format!("{}: {what}", path.display()),
            why,
        ))
    };
    let total: usize = saved.iter().map(|(_, l)| l).sum();
    if flat.len() != total || total != store.len() {
        return Err(bad(format!(
            "{} values for parameters of {total} (the model has {})",
            flat.len(),
            store.len()
        )));
    }
    let mut out = vec![0.0; total];
    let mut off = 0;
    for (name, len) in saved {
        let id = store
            .id(name)
            .ok_or_else(|| bad(format!("the model has no parameter {name}")))?;
        let info = store.info(id);
        if info.len() != *len {
            return Err(bad(format!(
                "{name} has {len} values, the model's {}",
                info.len()
            )));
        }
        out[info.range()].copy_from_slice(&flat[off..off + len]);
        off += len;
    }
    Ok(out)
}

/// Keeps the header and the first `epochs` rows of `metrics.csv` (after resuming).
///
/// # Errors
/// I/O errors.
pub fn truncate_metrics(dir: &Path, epochs: usize) -> Result<(), crate::Error> {
    let p = dir.join("metrics.csv");
    let text = fs::read_to_string(&p).map_err(|e| crate::Error::Io {
        path: p.display().to_string(),
        source: e,
    })?;
    let kept: Vec<&str> = text.lines().take(epochs + 1).collect();
    write_atomic(&p, (kept.join("\n") + "\n").as_bytes())
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
        if name.starts_with("__") {
            continue;
        }
        params.push((name.clone(), r, c, a.to_f32_vec()));
    }
    Ok((params, epoch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{EpochState, Optimizer, OptimizerKind};

    /// A store with `names` in this order, parameter `k` of length `k + 1` holding `base + k`.
    fn store(names: &[&str], base: f32) -> ParamStore<f32> {
        let mut s = ParamStore::new();
        for name in names {
            let k = ["a", "b", "c"].iter().position(|n| n == name).unwrap();
            s.add(name, 1, k + 1, &vec![base + k as f32; k + 1])
                .unwrap();
        }
        s
    }

    #[test]
    fn resume_state_follows_the_resuming_models_layout() {
        // Written by a model with layout a, b, c; read by one with c, a, b (as a gated gnODE's
        // layout changed once): every flat vector must land on its parameter by name.
        let dir = std::env::temp_dir().join(format!("nd-resume-order-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("last.npz");
        let old = store(&["a", "b", "c"], 10.0);
        let mut opt = Optimizer::new(OptimizerKind::Adam, old.len(), 0.0).unwrap();
        let m: Vec<f32> = store(&["a", "b", "c"], 20.0).as_slice().to_vec();
        let v: Vec<f32> = store(&["a", "b", "c"], 30.0).as_slice().to_vec();
        opt.set_state(7, &m, &v).unwrap();
        let best = store(&["a", "b", "c"], 40.0).as_slice().to_vec();
        let st = EpochState {
            epoch: 3,
            optimizer: &opt,
            best_params: &best,
            best: None,
            best_epoch: 2,
            since_best: 1,
        };
        save_train_state(&path, &old, &st).unwrap();
        let new = store(&["c", "a", "b"], 0.0);
        let (_, r) = load_train_state(&path, OptimizerKind::Adam, 0.0, &new).unwrap();
        let (t, m2, v2) = r.optimizer.state();
        assert_eq!(t, 7);
        assert_eq!(m2, store(&["c", "a", "b"], 20.0).as_slice());
        assert_eq!(v2, store(&["c", "a", "b"], 30.0).as_slice());
        assert_eq!(r.best_params, store(&["c", "a", "b"], 40.0).as_slice());
        // a model without one of the parameters: a clear error, not a silent mix-up
        let other = store(&["a", "b"], 0.0);
        let e = load_train_state(&path, OptimizerKind::Adam, 0.0, &other)
            .err()
            .unwrap();
        assert!(e.to_string().contains("__opt_m__"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
