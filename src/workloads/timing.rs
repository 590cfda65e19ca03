//! Wall-clock timing of a [`Workload`]: a warm-up run, then repeats until both a minimum count
//! and a minimum time are reached; the median is what to compare (robust to a noisy machine).

use super::{RunOutput, Workload, WorkloadError};
use std::time::Instant;

/// Timings of a workload, in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// Median over the timed runs.
    pub median: f64,
    /// Fastest run.
    pub min: f64,
    /// Number of timed runs.
    pub runs: usize,
    /// What the last run reported.
    pub output: RunOutput,
}

/// Times `w`: one untimed warm-up run, then at least `min_runs` runs and at least `min_seconds`
/// of them.
///
/// # Errors
/// The first error a run returns.
pub fn measure<W: Workload + ?Sized>(
    w: &mut W,
    min_seconds: f64,
    min_runs: usize,
) -> Result<Timing, WorkloadError> {
    let mut output = w.run()?;
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < min_runs.max(1) || start.elapsed().as_secs_f64() < min_seconds {
        let t = Instant::now();
        output = w.run()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let n = times.len();
    let median = if n % 2 == 1 {
        times[n / 2]
    } else {
        0.5 * (times[n / 2 - 1] + times[n / 2])
    };
    Ok(Timing {
        median,
        min: times[0],
        runs: n,
        output,
    })
}
