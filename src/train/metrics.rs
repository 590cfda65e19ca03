//! Evaluation: loss, R² of sequence outputs, accuracy of classes, over a whole data set.

use super::data::{BatchBuf, Labels, SeqData};
use crate::Float;
use crate::models::SequenceModel;
use crate::solve::SolveError;
use crate::tape::Tape;

/// Metrics of a model on a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eval {
    /// Mean loss (MSE or cross-entropy).
    pub loss: f64,
    /// `1 − SSE/SST` over valid entries (sequence targets; NaN for classes).
    pub r2: f64,
    /// Fraction of trials classified correctly (classes; NaN for sequences).
    pub accuracy: f64,
}

impl Eval {
    /// The headline metric: R² or accuracy.
    pub fn score(&self) -> f64 {
        if self.r2.is_nan() {
            self.accuracy
        } else {
            self.r2
        }
    }
}

/// Evaluates `model` on `d` in chunks of `chunk` trials.
///
/// # Errors
/// A solver failure of a continuous-time model.
pub fn evaluate<T: Float, M: SequenceModel<T> + ?Sized>(
    model: &M,
    d: &SeqData<T>,
    chunk: usize,
) -> Result<Eval, SolveError> {
    evaluate_with(model, d, chunk, &mut Tape::new(), &mut BatchBuf::default())
}

/// [`evaluate`] with a tape and a batch buffer kept by the caller (no allocation once warm).
///
/// # Errors
/// A solver failure of a continuous-time model.
pub fn evaluate_with<T: Float, M: SequenceModel<T> + ?Sized>(
    model: &M,
    d: &SeqData<T>,
    chunk: usize,
    tape: &mut Tape<T>,
    buf: &mut BatchBuf<T>,
) -> Result<Eval, SolveError> {
    let (mut loss_sum, mut weight) = (0.0, 0usize);
    let (mut sse, mut correct) = (0.0, 0usize);
    let o = d.outputs();
    // per-output means for SST
    let mut mean = vec![0.0; o];
    let mut sq = vec![0.0; o];
    let mut count = 0usize;
    let idx: Vec<usize> = (0..d.n).collect();
    for part in idx.chunks(chunk.max(1)) {
        buf.gather(d, part);
        let b = buf.batch(d);
        tape.clear();
        let every = matches!(d.labels, Labels::Sequence { .. });
        let y = model.forward(tape, &b, every)?;
        let l = match buf.targets(d) {
            crate::models::Targets::Sequence(t) => {
                crate::models::sequence::masked_mse(tape, &b, y, t, model.outputs())
            }
            crate::models::Targets::Classes(c) => {
                crate::models::sequence::cross_entropy(tape, y, c)
            }
        };
        let w = buf.weight(d);
        loss_sum += tape.scalar(l).to_f64() * w as f64;
        weight += w;
        let yv = tape.value(y);
        match buf.targets(d) {
            crate::models::Targets::Sequence(t) => {
                for s in 0..b.steps {
                    for r in 0..b.batch {
                        if s >= b.len_of(r) {
                            continue;
                        }
                        count += 1;
                        for j in 0..o {
                            let k = (s * b.batch + r) * o + j;
                            let (p, q) = (yv[k].to_f64(), t[k].to_f64());
                            sse += (p - q) * (p - q);
                            mean[j] += q;
                            sq[j] += q * q;
                        }
                    }
                }
            }
            crate::models::Targets::Classes(c) => {
                for (r, &cl) in c.iter().enumerate() {
                    let row = &yv[r * o..(r + 1) * o];
                    let best = (0..o).fold(0, |bi, j| if row[j] > row[bi] { j } else { bi });
                    correct += usize::from(best == cl);
                }
            }
        }
    }
    let loss = loss_sum / weight.max(1) as f64;
    Ok(match d.labels {
        Labels::Sequence { .. } => {
            let n = count.max(1) as f64;
            let sst: f64 = (0..o).map(|j| sq[j] - mean[j] * mean[j] / n).sum();
            Eval {
                loss,
                r2: 1.0 - sse / sst.max(1e-300),
                accuracy: f64::NAN,
            }
        }
        Labels::Classes { .. } => Eval {
            loss,
            r2: f64::NAN,
            accuracy: correct as f64 / d.n as f64,
        },
    })
}
