//! Limited-memory BFGS with a backtracking line search, for deterministic (full-batch) losses
//! whose minimum lies along a narrow, curved valley that first-order steps cross slowly
//! (Nocedal & Wright 2006, Algorithms 7.4–7.5 and 3.1).
//!
//! ```text
//! d = −H g     two-loop recursion over the last `history` pairs s = Δθ, y = Δg, H₀ = (sᵀy / yᵀy) I
//! θ ← θ + α d, α = 1, ½, ¼, …  until f(θ + α d) ≤ f(θ) + c₁ α gᵀd   (Armijo; non-finite f rejected)
//! first step (and after a reset): d = −g, scaled to length `first_step`
//! pairs with sᵀy ≤ 1e-10 ‖s‖ ‖y‖ are skipped, so H stays positive definite
//! ```

/// Settings of [`lbfgs`].
#[derive(Clone, Debug, PartialEq)]
pub struct LbfgsConfig {
    /// Iterations (accepted steps).
    pub iters: usize,
    /// Pairs `(s, y)` kept.
    pub history: usize,
    /// Armijo constant c₁.
    pub c1: f64,
    /// Halvings of the step before the direction is given up.
    pub max_backtracks: usize,
    /// Length of the first (steepest-descent) step.
    pub first_step: f64,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        Self {
            iters: 100,
            history: 10,
            c1: 1e-4,
            max_backtracks: 30,
            first_step: 1e-2,
        }
    }
}

/// One accepted iteration, as the observer sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbfgsStep {
    /// 1-based iteration.
    pub iter: usize,
    /// Loss after the step.
    pub loss: f64,
    /// Gradient norm after the step.
    pub grad_norm: f64,
    /// Loss evaluations so far (line search included).
    pub evals: usize,
}

/// Why [`lbfgs`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbfgsStop {
    /// `iters` steps were taken.
    MaxIters,
    /// Neither the quasi-Newton nor the steepest-descent direction decreased the loss.
    NoProgress,
    /// The observer asked to stop.
    Observer,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `f` from `x` (updated in place) and returns the final loss and why it stopped.
/// `f(θ)` returns the loss and its gradient; a non-finite loss rejects a trial step.
/// `observer` sees every accepted step and the parameters after it, and may stop by
/// returning `false`.
///
/// # Errors
/// An error of `f`, or a non-finite loss or gradient at the starting point (as
/// `on_bad_start()`).
pub fn lbfgs<E>(
    x: &mut [f64],
    cfg: &LbfgsConfig,
    mut f: impl FnMut(&[f64]) -> Result<(f64, Vec<f64>), E>,
    on_bad_start: impl FnOnce() -> E,
    mut observer: impl FnMut(&LbfgsStep, &[f64]) -> bool,
) -> Result<(f64, LbfgsStop), E> {
    let (mut fx, mut g) = f(x)?;
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Err(on_bad_start());
    }
    let mut evals = 1;
    let mut hist: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> =
        std::collections::VecDeque::with_capacity(cfg.history);
    let mut trial = vec![0.0; x.len()];
    for iter in 1..=cfg.iters {
        let mut accepted = None;
        // quasi-Newton direction first; on failure reset to steepest descent once
        for attempt in 0..2 {
            if attempt == 1 {
                if hist.is_empty() {
                    break;
                }
                hist.clear();
            }
            let d = direction(&g, &hist, cfg.first_step);
            let slope = dot(&g, &d);
            if slope.is_nan() || slope >= 0.0 {
                continue;
            }
            let mut alpha = 1.0;
            for _ in 0..=cfg.max_backtracks {
                for ((t, xi), di) in trial.iter_mut().zip(x.iter()).zip(&d) {
                    *t = xi + alpha * di;
                }
                let (ft, gt) = f(&trial)?;
                evals += 1;
                if ft.is_finite()
                    && gt.iter().all(|v| v.is_finite())
                    && ft <= fx + cfg.c1 * alpha * slope
                {
                    accepted = Some((ft, gt, alpha, d));
                    break;
                }
                alpha *= 0.5;
            }
            if accepted.is_some() {
                break;
            }
        }
        let Some((ft, gt, alpha, d)) = accepted else {
            return Ok((fx, LbfgsStop::NoProgress));
        };
        let s: Vec<f64> = d.iter().map(|v| alpha * v).collect();
        let y: Vec<f64> = gt.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-10 * dot(&s, &s).sqrt() * dot(&y, &y).sqrt() {
            if hist.len() == cfg.history.max(1) {
                hist.pop_front();
            }
            hist.push_back((s, y, 1.0 / sy));
        }
        x.copy_from_slice(&trial);
        fx = ft;
        g = gt;
        let step = LbfgsStep {
            iter,
            loss: fx,
            grad_norm: dot(&g, &g).sqrt(),
            evals,
        };
        if !observer(&step, x) {
            return Ok((fx, LbfgsStop::Observer));
        }
    }
    Ok((fx, LbfgsStop::MaxIters))
}

/// `−H g` by the two-loop recursion; steepest descent of length `first_step` without history.
fn direction(
    g: &[f64],
    hist: &std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)>,
    first_step: f64,
) -> Vec<f64> {
    let Some((s_last, y_last, _)) = hist.back() else {
        let norm = dot(g, g).sqrt().max(1e-300);
        return g.iter().map(|v| -first_step * v / norm).collect();
    };
    let mut q = g.to_vec();
    let mut alphas = Vec::with_capacity(hist.len());
    for (s, y, rho) in hist.iter().rev() {
        let a = rho * dot(s, &q);
        q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
        alphas.push(a);
    }
    let gamma = dot(s_last, y_last) / dot(y_last, y_last).max(1e-300);
    q.iter_mut().for_each(|v| *v *= gamma);
    for ((s, y, rho), a) in hist.iter().zip(alphas.iter().rev()) {
        let b = rho * dot(y, &q);
        q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
    }
    q.iter_mut().for_each(|v| *v = -*v);
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64]) -> (f64, Vec<f64>) {
        let mut f = 0.0;
        let mut g = vec![0.0; x.len()];
        for i in 0..x.len() - 1 {
            let (a, b) = (1.0 - x[i], x[i + 1] - x[i] * x[i]);
            f += a * a + 100.0 * b * b;
            g[i] += -2.0 * a - 400.0 * x[i] * b;
            g[i + 1] += 200.0 * b;
        }
        (f, g)
    }

    #[test]
    fn minimises_rosenbrock() {
        let mut x = vec![-1.2, 1.0, -1.2, 1.0];
        let cfg = LbfgsConfig {
            iters: 500,
            first_step: 0.1,
            ..Default::default()
        };
        let (f, _) = lbfgs(
            &mut x,
            &cfg,
            |x| Ok::<_, ()>(rosenbrock(x)),
            || (),
            |_, _| true,
        )
        .unwrap();
        assert!(f < 1e-12, "f = {f}");
        assert!(x.iter().all(|v| (v - 1.0).abs() < 1e-5), "{x:?}");
    }

    #[test]
    fn beats_a_thousand_condition_number_in_few_steps() {
        // f = ½ Σ c_i x_i², c_i from 1 to 1000, from f ≈ 3800 to 1e-3: gradient descent with
        // the best fixed step needs about (κ/2) ln(f₀/f) ≈ 7500 steps
        let c: Vec<f64> = (0..50).map(|i| 1000f64.powf(i as f64 / 49.0)).collect();
        let mut x = vec![1.0; 50];
        let mut steps = 0;
        let (f, stop) = lbfgs(
            &mut x,
            &LbfgsConfig {
                iters: 200,
                ..Default::default()
            },
            |x| {
                let f = 0.5 * x.iter().zip(&c).map(|(v, k)| k * v * v).sum::<f64>();
                Ok::<_, ()>((f, x.iter().zip(&c).map(|(v, k)| k * v).collect()))
            },
            || (),
            |s, _| {
                steps = s.iter;
                s.loss > 1e-3
            },
        )
        .unwrap();
        assert_eq!(stop, LbfgsStop::Observer);
        assert!(f <= 1e-3 && steps < 150, "f = {f} after {steps} steps");
    }

    #[test]
    fn rejects_non_finite_trials_and_a_bad_start() {
        // f = x² for |x| ≤ 3, NaN beyond: the first long step must be cut back
        let mut x = vec![2.0];
        let (f, _) = lbfgs(
            &mut x,
            &LbfgsConfig {
                first_step: 10.0,
                iters: 50,
                ..Default::default()
            },
            |x| {
                let v = if x[0].abs() <= 3.0 {
                    x[0] * x[0]
                } else {
                    f64::NAN
                };
                Ok::<_, ()>((v, vec![2.0 * x[0]]))
            },
            || (),
            |_, _| true,
        )
        .unwrap();
        assert!(f < 1e-12, "f = {f}");
        let bad = lbfgs(
            &mut [0.0],
            &LbfgsConfig::default(),
            |_| Ok((f64::NAN, vec![0.0])),
            || "bad start",
            |_, _| true,
        );
        assert_eq!(bad, Err("bad start"));
    }
}
