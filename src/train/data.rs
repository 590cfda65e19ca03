//! Sequence data sets: trials of input sequences with per-step targets or class labels, and
//! gathering of minibatches in the time-major layout the models read.

use crate::Float;
use crate::error::ConfigError;
use crate::models::{SeqBatch, Targets};

/// What each trial is labelled with.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels<T> {
    /// Targets at every step, `[n][steps][outputs]`.
    Sequence {
        /// Values.
        y: Vec<T>,
        /// Output dimension.
        outputs: usize,
    },
    /// One class per trial.
    Classes {
        /// Class of each trial (`< n_classes`).
        labels: Vec<usize>,
        /// Number of classes (the output dimension).
        n_classes: usize,
        /// Names of the classes.
        names: Vec<String>,
    },
}

/// A data set of `n` trials of `steps` bins (trial-major `[n][steps][inputs]`).
#[derive(Clone, Debug, PartialEq)]
pub struct SeqData<T> {
    /// Number of trials.
    pub n: usize,
    /// Bins per trial (the longest, with `lengths`).
    pub steps: usize,
    /// Input dimension.
    pub inputs: usize,
    /// Bin width.
    pub dt: T,
    /// Inputs.
    pub x: Vec<T>,
    /// Targets.
    pub labels: Labels<T>,
    /// Per-trial lengths (`None`: all `steps`). Padding bins hold zeros.
    pub lengths: Option<Vec<usize>>,
}

impl<T: Float> SeqData<T> {
    /// Output dimension (targets or classes).
    pub fn outputs(&self) -> usize {
        match &self.labels {
            Labels::Sequence { outputs, .. } => *outputs,
            Labels::Classes { n_classes, .. } => *n_classes,
        }
    }

    /// Checks sizes, lengths, labels and finiteness.
    ///
    /// # Errors
    /// Names the offending part: inconsistent sizes, a length of 0 or above `steps`, a label
    /// out of range, a non-finite input or target (with its trial and step).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.n == 0 {
            return Err(ConfigError::new("data", "no trials"));
        }
        if self.steps == 0 {
            return Err(ConfigError::new("data", "sequences have no time steps"));
        }
        if self.x.len() != self.n * self.steps * self.inputs {
            return Err(ConfigError::new(
                "data.inputs",
                "size does not match trials × steps × inputs",
            ));
        }
        if let Some(i) = self.x.iter().position(|v| !v.is_finite()) {
            let per = self.steps * self.inputs.max(1);
            return Err(ConfigError::new(
                "data.inputs",
                format!(
                    "non-finite value in trial {} at step {}",
                    i / per,
                    (i % per) / self.inputs.max(1)
                ),
            ));
        }
        if let Some(l) = &self.lengths {
            if l.len() != self.n {
                return Err(ConfigError::new(
                    "data.lengths",
                    "one length per trial needed",
                ));
            }
            if let Some(t) = l.iter().position(|&v| v == 0 || v > self.steps) {
                return Err(ConfigError::new(
                    "data.lengths",
                    format!("trial {t} has length {}", l[t]),
                ));
            }
        }
        match &self.labels {
            Labels::Sequence { y, outputs } => {
                if y.len() != self.n * self.steps * outputs {
                    return Err(ConfigError::new(
                        "data.targets",
                        "size does not match trials × steps × outputs",
                    ));
                }
                if let Some(i) = y.iter().position(|v| !v.is_finite()) {
                    let per = self.steps * outputs;
                    return Err(ConfigError::new(
                        "data.targets",
                        format!(
                            "non-finite value in trial {} at step {}",
                            i / per,
                            (i % per) / outputs
                        ),
                    ));
                }
            }
            Labels::Classes {
                labels, n_classes, ..
            } => {
                if labels.len() != self.n {
                    return Err(ConfigError::new(
                        "data.labels",
                        "one label per trial needed",
                    ));
                }
                if *n_classes < 2 {
                    return Err(ConfigError::new(
                        "data.labels",
                        "classification needs at least 2 classes",
                    ));
                }
                if let Some(t) = labels.iter().position(|&c| c >= *n_classes) {
                    return Err(ConfigError::new(
                        "data.labels",
                        format!("trial {t} has class {} of {n_classes}", labels[t]),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The trials at `idx` as a new data set.
    pub fn subset(&self, idx: &[usize]) -> SeqData<T> {
        let per_x = self.steps * self.inputs;
        let x = idx
            .iter()
            .flat_map(|&i| self.x[i * per_x..(i + 1) * per_x].iter().copied())
            .collect();
        let labels = match &self.labels {
            Labels::Sequence { y, outputs } => {
                let per = self.steps * outputs;
                Labels::Sequence {
                    y: idx
                        .iter()
                        .flat_map(|&i| y[i * per..(i + 1) * per].iter().copied())
                        .collect(),
                    outputs: *outputs,
                }
            }
            Labels::Classes {
                labels,
                n_classes,
                names,
            } => Labels::Classes {
                labels: idx.iter().map(|&i| labels[i]).collect(),
                n_classes: *n_classes,
                names: names.clone(),
            },
        };
        SeqData {
            n: idx.len(),
            steps: self.steps,
            inputs: self.inputs,
            dt: self.dt,
            x,
            labels,
            lengths: self
                .lengths
                .as_ref()
                .map(|l| idx.iter().map(|&i| l[i]).collect()),
        }
    }
}

/// Reusable buffers holding one minibatch in time-major layout.
#[derive(Clone, Debug, Default)]
pub struct BatchBuf<T> {
    x: Vec<T>,
    y: Vec<T>,
    classes: Vec<usize>,
    lengths: Vec<usize>,
    batch: usize,
}

impl<T: Float> BatchBuf<T> {
    /// Gathers trials `idx` of `d`.
    pub fn gather(&mut self, d: &SeqData<T>, idx: &[usize]) {
        let (b, k, i) = (idx.len(), d.steps, d.inputs);
        self.batch = b;
        self.x.clear();
        self.x.resize(k * b * i, T::ZERO);
        for (r, &t) in idx.iter().enumerate() {
            for s in 0..k {
                let src = &d.x[(t * k + s) * i..(t * k + s + 1) * i];
                self.x[(s * b + r) * i..(s * b + r + 1) * i].copy_from_slice(src);
            }
        }
        self.lengths.clear();
        if let Some(l) = &d.lengths {
            self.lengths.extend(idx.iter().map(|&t| l[t]));
        }
        match &d.labels {
            Labels::Sequence { y, outputs } => {
                let o = *outputs;
                self.y.clear();
                self.y.resize(k * b * o, T::ZERO);
                for (r, &t) in idx.iter().enumerate() {
                    for s in 0..k {
                        let src = &y[(t * k + s) * o..(t * k + s + 1) * o];
                        self.y[(s * b + r) * o..(s * b + r + 1) * o].copy_from_slice(src);
                    }
                }
            }
            Labels::Classes { labels, .. } => {
                self.classes.clear();
                self.classes.extend(idx.iter().map(|&t| labels[t]));
            }
        }
    }

    /// The batch view.
    pub fn batch<'a>(&'a self, d: &SeqData<T>) -> SeqBatch<'a, T> {
        SeqBatch {
            x: &self.x,
            batch: self.batch,
            steps: d.steps,
            inputs: d.inputs,
            dt: d.dt,
            lengths: if self.lengths.is_empty() {
                None
            } else {
                Some(&self.lengths)
            },
        }
    }

    /// The targets view.
    pub fn targets<'a>(&'a self, d: &SeqData<T>) -> Targets<'a, T> {
        match d.labels {
            Labels::Sequence { .. } => Targets::Sequence(&self.y),
            Labels::Classes { .. } => Targets::Classes(&self.classes),
        }
    }

    /// Number of valid (trial, step) entries, the weight of this batch's mean loss.
    pub fn weight(&self, d: &SeqData<T>) -> usize {
        match d.labels {
            Labels::Sequence { .. } if !self.lengths.is_empty() => self.lengths.iter().sum(),
            _ => self.batch,
        }
    }
}
