//! Progress reporting: a bar with loss, validation and ETA on a terminal; a line every tenth of
//! the run otherwise; nothing with `--quiet`.

use crate::train::EpochReport;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Progress of a training run.
pub struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    total: u64,
}

impl Progress {
    /// A reporter for `total` epochs.
    pub fn new(total: u64, quiet: bool) -> Self {
        if quiet {
            return Self {
                bar: None,
                lines: false,
                total,
            };
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} epoch {pos}/{len} {msg} [{elapsed} < {eta}]",
                )
                .expect("internal: valid template"),
            );
            Self {
                bar: Some(bar),
                lines: false,
                total,
            }
        } else {
            Self {
                bar: None,
                lines: true,
                total,
            }
        }
    }

    /// Reports an epoch.
    pub fn epoch(&self, r: &EpochReport, metric: &str) {
        let val = r
            .val
            .map(|v| format!(" val loss {:.4} {metric} {:.4}", v.loss, v.score()))
            .unwrap_or_default();
        let msg = format!("loss {:.4}{val} best {:.4}", r.train_loss, r.best_score);
        self.update(r.epoch as u64, &msg);
    }

    /// Reports position `pos` (of the total) with a message: the bar, or a line every tenth of
    /// the run.
    pub fn update(&self, pos: u64, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
            b.set_message(msg.to_string());
        } else if self.lines {
            let every = (self.total / 10).max(1);
            if pos.is_multiple_of(every) || pos == 1 {
                eprintln!("epoch {pos}/{} {msg}", self.total);
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
