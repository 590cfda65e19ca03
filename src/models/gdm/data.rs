//! Observed sequences for the GDM: one or more trials of different lengths, with optional
//! inputs, validated once (finite, non-empty, consistent shapes).
//!
//! Trials are stored back to back (`Σ_i T_i` rows of `N` values). The model never mixes two
//! trials: the masks built here mark each trial's first step (the initial-state prior and
//! `mu_init` apply there) and, for every lag `l`, the rows where `y_{t−l}` lies inside the
//! same trial. A padded batch with a mask is accepted too ([`Sequences::from_padded`]).

use crate::Float;
use crate::error::ConfigError;

/// One or more observed trials (`steps × obs` each, time as rows), optionally with inputs.
///
/// # Example
/// ```
/// use neurodyn::models::gdm::Sequences;
/// // two trials of lengths 3 and 2, N = 2
/// let s = Sequences::<f64>::from_trials(&[&[0.0, 1.0, 0.5, 0.2, 0.1, 0.3], &[1.0, 1.0, 0.0, 2.0]], 2)?;
/// assert_eq!((s.trials(), s.total_steps(), s.lengths()), (2, 5, &[3, 2][..]));
/// assert!(Sequences::<f64>::new(vec![f64::NAN, 0.0], 1, 2).is_err());
/// # Ok::<(), neurodyn::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sequences<T> {
    obs: usize,
    inputs: usize,
    y: Vec<T>,
    u: Vec<T>,
    lengths: Vec<usize>,
}

impl<T: Float> Sequences<T> {
    /// One trial of `steps` rows of `obs` values.
    ///
    /// # Errors
    /// No steps, no observation channel, a length that is not `steps × obs`, or a value that
    /// is NaN or infinite (named by step and channel).
    pub fn new(y: Vec<T>, steps: usize, obs: usize) -> Result<Self, ConfigError> {
        Self::build(y, vec![steps], obs)
    }

    /// Several trials, each a `len_i × obs` row-major slice.
    ///
    /// # Errors
    /// As [`Sequences::new`], for any trial; or no trials at all.
    pub fn from_trials(trials: &[&[T]], obs: usize) -> Result<Self, ConfigError> {
        if obs == 0 {
            return Err(ConfigError::new(
                "y",
                "observations need at least one channel",
            ));
        }
        let mut y = Vec::new();
        let mut lengths = Vec::new();
        for (i, t) in trials.iter().enumerate() {
            if t.len() % obs != 0 {
                return Err(ConfigError::new(
                    format!("y[{i}]"),
                    format!("{} values is not a whole number of rows of {obs}", t.len()),
                ));
            }
            y.extend_from_slice(t);
            lengths.push(t.len() / obs);
        }
        Self::build(y, lengths, obs)
    }

    /// A padded batch `[batch][t_max][obs]` with a mask `[batch][t_max]` (true = observed).
    /// Each trial's observed steps must form a prefix (padding only at the end).
    ///
    /// # Errors
    /// Wrong lengths, a mask that is not a prefix, an empty trial, or non-finite observed
    /// values (padded values are ignored).
    pub fn from_padded(
        y: &[T],
        mask: &[bool],
        batch: usize,
        t_max: usize,
        obs: usize,
    ) -> Result<Self, ConfigError> {
        if y.len() != batch * t_max * obs {
            return Err(ConfigError::new(
                "y",
                format!("{} values for a {batch} × {t_max} × {obs} batch", y.len()),
            ));
        }
        if mask.len() != batch * t_max {
            return Err(ConfigError::new(
                "mask",
                format!("{} entries for a {batch} × {t_max} batch", mask.len()),
            ));
        }
        let mut trials = Vec::with_capacity(batch);
        for b in 0..batch {
            let m = &mask[b * t_max..(b + 1) * t_max];
            let len = m.iter().take_while(|&&x| x).count();
            if m[len..].iter().any(|&x| x) {
                return Err(ConfigError::new(
                    format!("mask[{b}]"),
                    "observed steps must form a prefix (padding only at the end)",
                ));
            }
            trials.push(&y[b * t_max * obs..(b * t_max + len) * obs]);
        }
        Self::from_trials(&trials, obs)
    }

    fn build(y: Vec<T>, lengths: Vec<usize>, obs: usize) -> Result<Self, ConfigError> {
        if obs == 0 {
            return Err(ConfigError::new(
                "y",
                "observations need at least one channel",
            ));
        }
        if lengths.is_empty() {
            return Err(ConfigError::new("y", "no trials: the data is empty"));
        }
        if let Some(i) = lengths.iter().position(|&l| l == 0) {
            return Err(ConfigError::new(
                if lengths.len() == 1 {
                    "y".to_string()
                } else {
                    format!("y[{i}]")
                },
                "empty: a trial needs at least one time step",
            ));
        }
        let total: usize = lengths.iter().sum();
        if y.len() != total * obs {
            return Err(ConfigError::new(
                "y",
                format!("{} values for {total} steps of {obs} channels", y.len()),
            ));
        }
        if let Some(p) = y.iter().position(|v| !v.is_finite()) {
            let (row, ch) = (p / obs, p % obs);
            let (trial, step) = locate(&lengths, row);
            let what = if y[p].is_nan() { "NaN" } else { "infinite" };
            let at = if lengths.len() == 1 {
                format!("step {step}, channel {ch}")
            } else {
                format!("trial {trial}, step {step}, channel {ch}")
            };
            return Err(ConfigError::new("y", format!("{what} observation at {at}")));
        }
        Ok(Self {
            obs,
            inputs: 0,
            y,
            u: Vec::new(),
            lengths,
        })
    }

    /// Adds inputs `u` (`total_steps × inputs`, aligned with the observations).
    ///
    /// # Errors
    /// A wrong length or a non-finite value.
    pub fn with_inputs(mut self, u: Vec<T>, inputs: usize) -> Result<Self, ConfigError> {
        if u.len() != self.total_steps() * inputs {
            return Err(ConfigError::new(
                "u",
                format!(
                    "{} values for {} steps of {inputs} inputs",
                    u.len(),
                    self.total_steps()
                ),
            ));
        }
        if let Some(p) = u.iter().position(|v| !v.is_finite()) {
            return Err(ConfigError::new(
                "u",
                format!(
                    "input at step {}, channel {} is not finite",
                    p / inputs,
                    p % inputs
                ),
            ));
        }
        self.u = u;
        self.inputs = inputs;
        Ok(self)
    }

    /// Observation dimension N.
    pub fn obs(&self) -> usize {
        self.obs
    }
    /// Input dimension (0 without inputs).
    pub fn inputs(&self) -> usize {
        self.inputs
    }
    /// Number of trials.
    pub fn trials(&self) -> usize {
        self.lengths.len()
    }
    /// Length of each trial.
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }
    /// `Σ_i T_i`.
    pub fn total_steps(&self) -> usize {
        self.lengths.iter().sum()
    }
    /// All observations, trials back to back (`total_steps × obs`).
    pub fn y(&self) -> &[T] {
        &self.y
    }
    /// All inputs (`total_steps × inputs`; empty without inputs).
    pub fn u(&self) -> &[T] {
        &self.u
    }
    /// The first row of each trial, and one past the last row.
    pub fn starts(&self) -> Vec<usize> {
        let mut s = Vec::with_capacity(self.lengths.len() + 1);
        let mut acc = 0;
        s.push(0);
        for &l in &self.lengths {
            acc += l;
            s.push(acc);
        }
        s
    }
    /// The step index within its trial of every row.
    pub fn step_index(&self) -> Vec<usize> {
        self.lengths.iter().flat_map(|&l| 0..l).collect()
    }
    /// The same data converted to another float type.
    pub fn cast<U: Float>(&self) -> Sequences<U> {
        Sequences {
            obs: self.obs,
            inputs: self.inputs,
            y: self.y.iter().map(|v| U::from_f64(v.to_f64())).collect(),
            u: self.u.iter().map(|v| U::from_f64(v.to_f64())).collect(),
            lengths: self.lengths.clone(),
        }
    }
}

/// `(trial, step)` of a global row.
fn locate(lengths: &[usize], row: usize) -> (usize, usize) {
    let mut acc = 0;
    for (i, &l) in lengths.iter().enumerate() {
        if row < acc + l {
            return (i, row - acc);
        }
        acc += l;
    }
    (lengths.len(), 0)
}

/// Constants derived from the data for one model: masks over the `Σ T_i` time rows.
#[derive(Clone, Debug)]
pub(crate) struct Layout<T> {
    /// Total time rows.
    pub rows: usize,
    /// 1 at each trial's first step.
    pub first: Vec<T>,
    /// 1 − first.
    pub cont: Vec<T>,
    /// 1 where the step index is below L (emission from `mu_init`).
    pub early: Vec<T>,
    /// 1 − early.
    pub late: Vec<T>,
    /// For lag l = 1..L: 1 where `y_{t−l}` is in the same trial.
    pub lag_ok: Vec<Vec<T>>,
    /// `Σ_t Σ_n ln Γ(y + 1)` (Poisson constant).
    pub lgamma_y: f64,
}

impl<T: Float> Layout<T> {
    pub(crate) fn new(data: &Sequences<T>, lags: usize, poisson: bool) -> Self {
        let steps = data.step_index();
        let rows = steps.len();
        let ind = |c: bool| if c { T::ONE } else { T::ZERO };
        let first: Vec<T> = steps.iter().map(|&s| ind(s == 0)).collect();
        let cont: Vec<T> = steps.iter().map(|&s| ind(s != 0)).collect();
        let early: Vec<T> = steps.iter().map(|&s| ind(s < lags)).collect();
        let late: Vec<T> = steps.iter().map(|&s| ind(s >= lags)).collect();
        let lag_ok = (1..=lags)
            .map(|l| steps.iter().map(|&s| ind(s >= l)).collect())
            .collect();
        let lgamma_y = if poisson {
            data.y()
                .iter()
                .map(|v| super::concrete::ln_gamma(v.to_f64() + 1.0))
                .sum()
        } else {
            0.0
        };
        Self {
            rows,
            first,
            cont,
            early,
            late,
            lag_ok,
            lgamma_y,
        }
    }
}
