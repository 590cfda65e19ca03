//! Learning-rate schedules over training steps.

use crate::error::ConfigError;

/// A learning-rate schedule, evaluated at step `s` of `total`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// `lr` throughout.
    Constant,
    /// Cosine decay from `lr` to `lr · floor` over the run.
    Cosine {
        /// Final fraction of `lr`.
        floor: f64,
    },
    /// Multiply by `gamma` every `every` steps.
    Step {
        /// Interval in steps.
        every: usize,
        /// Factor.
        gamma: f64,
    },
    /// Constant for `hold` steps, then linear to `lr · end` over `decay` steps (the GDM
    /// authors' schedule), then constant.
    HoldLinear {
        /// Steps at full `lr`.
        hold: usize,
        /// Steps of linear decay.
        decay: usize,
        /// Final fraction of `lr`.
        end: f64,
    },
}

impl Schedule {
    /// The learning rate at step `s` (0-based) of `total`.
    pub fn lr(&self, base: f64, s: usize, total: usize) -> f64 {
        match *self {
            Schedule::Constant => base,
            Schedule::Cosine { floor } => {
                let x = (s as f64 / total.max(1) as f64).min(1.0);
                base * (floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * x).cos()))
            }
            Schedule::Step { every, gamma } => base * gamma.powi((s / every.max(1)) as i32),
            Schedule::HoldLinear { hold, decay, end } => {
                if s < hold {
                    base
                } else {
                    let x = ((s - hold) as f64 / decay.max(1) as f64).min(1.0);
                    base * (1.0 + (end - 1.0) * x)
                }
            }
        }
    }
}

impl std::str::FromStr for Schedule {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "constant" => Ok(Schedule::Constant),
            "cosine" => Ok(Schedule::Cosine { floor: 0.05 }),
            _ => Err(ConfigError::new(
                "schedule",
                format!("unknown schedule {s:?} (expected constant or cosine)"),
            )),
        }
    }
}
