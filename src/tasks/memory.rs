//! The continuous-memory tasks of the gnODE paper (SPEC §3.2), with the authors' generator:
//! Poisson-many pulses at uniform onsets, each 3 bins wide; the target on each channel is the
//! value of the last pulse, held until the next.

use crate::Float;
use crate::error::ConfigError;
use crate::train::{Labels, SeqData};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Poisson};

/// One of the seven memory tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryTask {
    /// 3 channels, ±1 on one random channel, initial target +1.
    FlipFlop3,
    /// 3 channels, U[−1, 1] on one random channel, initial target 0.
    FlipFlop3Var,
    /// 2 channels, ±1 on one random channel, initial target +1.
    FlipFlop2,
    /// 2 channels, U[−1, 1] on one random channel, initial 0.
    Square,
    /// 2 channels, channel 1 U[−2, 2], channel 2 U[−1, 1], one channel, initial 0.
    Rectangle,
    /// Both channels `2(cos θ, sin θ)`, θ ~ U[0, 2π), initial (2, 0).
    Ring,
    /// Both channels uniform on the annulus 1 < ‖v‖ < 2, Poisson(6) pulses, initial (1.5, 0).
    Annulus,
}

impl MemoryTask {
    /// All tasks.
    pub const ALL: [MemoryTask; 7] = [
        MemoryTask::FlipFlop3,
        MemoryTask::FlipFlop3Var,
        MemoryTask::FlipFlop2,
        MemoryTask::Square,
        MemoryTask::Rectangle,
        MemoryTask::Ring,
        MemoryTask::Annulus,
    ];

    /// The task's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            MemoryTask::FlipFlop3 => "flipflop3",
            MemoryTask::FlipFlop3Var => "flipflop3-var",
            MemoryTask::FlipFlop2 => "flipflop2",
            MemoryTask::Square => "square",
            MemoryTask::Rectangle => "rectangle",
            MemoryTask::Ring => "ring",
            MemoryTask::Annulus => "annulus",
        }
    }

    /// Number of channels (inputs = outputs).
    pub fn dims(self) -> usize {
        match self {
            MemoryTask::FlipFlop3 | MemoryTask::FlipFlop3Var => 3,
            _ => 2,
        }
    }

    fn rate(self) -> f64 {
        if self == MemoryTask::Annulus {
            6.0
        } else {
            12.0
        }
    }

    fn initial(self) -> Vec<f64> {
        match self {
            MemoryTask::FlipFlop3 => vec![1.0; 3],
            MemoryTask::FlipFlop2 => vec![1.0; 2],
            MemoryTask::Ring => vec![2.0, 0.0],
            MemoryTask::Annulus => vec![1.5, 0.0],
            _ => vec![0.0; self.dims()],
        }
    }

    /// Draws one pulse: the new target vector given the current one, and the pulsed channel
    /// (`None`: all channels).
    fn pulse<R: Rng + ?Sized>(self, rng: &mut R, cur: &[f64]) -> (Vec<f64>, Option<usize>) {
        let mut v = cur.to_vec();
        let mut channel = None;
        let mut one_channel =
            |rng: &mut R, v: &mut Vec<f64>, value: &dyn Fn(&mut R, usize) -> f64| {
                let c = rng.random_range(0..v.len());
                v[c] = value(rng, c);
                channel = Some(c);
            };
        match self {
            MemoryTask::FlipFlop3 | MemoryTask::FlipFlop2 => one_channel(rng, &mut v, &|r, _| {
                if r.random::<bool>() { 1.0 } else { -1.0 }
            }),
            MemoryTask::FlipFlop3Var | MemoryTask::Square => {
                one_channel(rng, &mut v, &|r, _| 2.0 * r.random::<f64>() - 1.0)
            }
            MemoryTask::Rectangle => one_channel(rng, &mut v, &|r, c| {
                let a = if c == 0 { 2.0 } else { 1.0 };
                a * (2.0 * r.random::<f64>() - 1.0)
            }),
            MemoryTask::Ring => {
                let th = 2.0 * std::f64::consts::PI * rng.random::<f64>();
                v = vec![2.0 * th.cos(), 2.0 * th.sin()];
            }
            MemoryTask::Annulus => {
                // uniform in area: r² ~ U(1, 4)
                let r = (1.0 + 3.0 * rng.random::<f64>()).sqrt();
                let th = 2.0 * std::f64::consts::PI * rng.random::<f64>();
                v = vec![r * th.cos(), r * th.sin()];
            }
        }
        (v, channel)
    }

    /// Generates `trials` trials of `steps` bins of width `dt` (the paper: 600 × 100, 0.01).
    /// Inputs are the pulses (3 bins wide; pulses starting in the last 2 bins are dropped);
    /// targets hold the last pulse's value from its onset on.
    ///
    /// # Errors
    /// Zero trials or fewer than 4 steps.
    pub fn generate<T: Float, R: Rng + ?Sized>(
        self,
        trials: usize,
        steps: usize,
        dt: f64,
        rng: &mut R,
    ) -> Result<SeqData<T>, ConfigError> {
        if trials == 0 {
            return Err(ConfigError::new("trials", "must be at least 1"));
        }
        if steps < 4 {
            return Err(ConfigError::new("steps", "must be at least 4"));
        }
        const WIDTH: usize = 3;
        let d = self.dims();
        let poisson = Poisson::new(self.rate()).expect("internal: positive rate");
        let mut x = vec![T::ZERO; trials * steps * d];
        let mut y = vec![T::ZERO; trials * steps * d];
        for n in 0..trials {
            let k = poisson.sample(rng) as usize;
            let mut onsets: Vec<usize> = (0..k).map(|_| rng.random_range(0..steps)).collect();
            onsets.sort_unstable();
            onsets.retain(|&o| o <= steps - WIDTH);
            let mut cur = self.initial();
            let mut last = 0;
            let base = n * steps * d;
            for o in onsets {
                for s in last..o {
                    for (c, &v) in cur.iter().enumerate() {
                        y[base + s * d + c] = T::from_f64(v);
                    }
                }
                let (new, channel) = self.pulse(rng, &cur);
                for s in o..o + WIDTH {
                    for (c, &v) in new.iter().enumerate() {
                        if channel.is_none_or(|ch| ch == c) {
                            x[base + s * d + c] = T::from_f64(v);
                        }
                    }
                }
                cur = new;
                last = o;
            }
            for s in last..steps {
                for (c, &v) in cur.iter().enumerate() {
                    y[base + s * d + c] = T::from_f64(v);
                }
            }
        }
        Ok(SeqData {
            n: trials,
            steps,
            inputs: d,
            dt: T::from_f64(dt),
            x,
            labels: Labels::Sequence { y, outputs: d },
            lengths: None,
        })
    }
}

impl std::str::FromStr for MemoryTask {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        MemoryTask::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                ConfigError::new(
                    "task",
                    format!(
                        "unknown task {s:?} (expected one of {})",
                        MemoryTask::ALL.map(|t| t.name()).join(", ")
                    ),
                )
            })
    }
}
