//! Step-size control (the PI family of Söderlind, with safety 0.9 and factor clamp [0.2, 10])
//! and Hairer's initial step.
//!
//! ```text
//! accepted (err ≤ 1):  h_new = h / clamp(err^α / err_prev^β / 0.9, 1/10, 1/0.2)
//!                      (no increase right after a rejection)
//! rejected (err > 1):  h_new = h / min(1/0.2, err^α / 0.9)
//! integral (default):  α = 1/(q+1), β = 0            (scipy's RK45; diffrax's default PID gains)
//! Hairer's PI:         α = 1/(q+1) − 0.75 β,  β = 0.2/(q+1)   (DOPRI5's β = 0.04 for q = 4)
//! q = order of the error estimator
//! ```
//! The controller reads values only: it is not differentiated (as in diffrax).

use crate::Float;

/// Safety factor.
const SAFETY: f64 = 0.9;
/// Smallest step factor.
const FAC_MIN: f64 = 0.2;
/// Largest step factor.
const FAC_MAX: f64 = 10.0;

/// Which member of the PI family controls the step size of adaptive methods.
///
/// The integral controller reacts to the current error only; Hairer's PI also to the previous
/// one, which smooths the step sequence but grows steps more slowly. On the gnODE benchmark
/// (19 input jumps, dopri5 at rtol 1e-5, atol 1e-7) the integral controller takes 41 steps, as
/// diffrax's Dopri5 does, and Hairer's PI 44–46; on the SPEC §2.3 problems both are within
/// 0.9–1.1× scipy's RK45 evaluations (`docs/solvers.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Controller {
    /// `α = 1/(q+1)`, `β = 0`: scipy's RK45 and diffrax's default.
    #[default]
    Integral,
    /// Hairer's DOPRI5 PI controller: `β = 0.2/(q+1)`, `α = 1/(q+1) − 0.75 β`.
    HairerPi,
}

/// PI step-size controller state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pi<T> {
    alpha: T,
    beta: T,
    err_prev: T,
    rejected_last: bool,
}

impl<T: Float> Pi<T> {
    /// A controller of kind `kind` for an error estimator of order `q`.
    pub(crate) fn new(q: u32, kind: Controller) -> Self {
        let beta = match kind {
            Controller::Integral => 0.0,
            Controller::HairerPi => 0.2 / (q as f64 + 1.0),
        };
        let alpha = 1.0 / (q as f64 + 1.0) - 0.75 * beta;
        Self {
            alpha: T::from_f64(alpha),
            beta: T::from_f64(beta),
            err_prev: T::from_f64(1e-4),
            rejected_last: false,
        }
    }

    /// The next step after accepting a step `h` with error norm `err ≤ 1`.
    pub(crate) fn accept(&mut self, h: T, err: T) -> T {
        let fac11 = err.powf(self.alpha);
        let fac = fac11 / self.err_prev.powf(self.beta);
        let fac = (fac / T::from_f64(SAFETY))
            .min(T::from_f64(1.0 / FAC_MIN))
            .max(T::from_f64(1.0 / FAC_MAX));
        let mut h_new = h / fac;
        self.err_prev = err.max(T::from_f64(1e-4));
        if self.rejected_last && h_new.abs() > h.abs() {
            h_new = h;
        }
        self.rejected_last = false;
        h_new
    }

    /// The next attempt after rejecting `h` with error norm `err > 1` (or a non-finite error).
    pub(crate) fn reject(&mut self, h: T, err: T) -> T {
        self.rejected_last = true;
        if !err.is_finite() {
            return h * T::from_f64(FAC_MIN);
        }
        let fac11 = err.powf(self.alpha);
        h / (fac11 / T::from_f64(SAFETY)).min(T::from_f64(1.0 / FAC_MIN))
    }
}

/// RMS norm of `v / (atol + rtol |y|)`.
pub(crate) fn scaled_rms<T: Float>(v: &[T], y: &[T], rtol: T, atol: T) -> T {
    if v.is_empty() {
        return T::ZERO;
    }
    let mut s = T::ZERO;
    for (&a, &b) in v.iter().zip(y) {
        let r = a / (atol + rtol * b.abs());
        s += r * r;
    }
    (s / T::from_usize(v.len())).sqrt()
}

/// Hairer's initial step (Solving ODEs I, §II.4), with RMS norms: `f0 = f(t0, y0)`,
/// `f1 = f(t0 + h, y0 + h f0)` from the closure, method order `p`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn initial_step<T: Float>(
    y0: &[T],
    f0: &[T],
    p: u32,
    rtol: T,
    atol: T,
    dir: T,
    h_max: T,
    mut f_at: impl FnMut(T) -> Vec<T>,
) -> T {
    let d0 = scaled_rms(y0, y0, rtol, atol);
    let d1 = scaled_rms(f0, y0, rtol, atol);
    let small = T::from_f64(1e-5);
    let mut h = if d0 < small || d1 < small {
        T::from_f64(1e-6)
    } else {
        T::from_f64(0.01) * d0 / d1
    };
    h = h.min(h_max);
    let f1 = f_at(dir * h);
    let diff: Vec<T> = f1.iter().zip(f0).map(|(&a, &b)| a - b).collect();
    let d2 = scaled_rms(&diff, y0, rtol, atol) / h;
    let dmax = d1.max(d2);
    let h1 = if dmax <= T::from_f64(1e-15) {
        (h * T::from_f64(1e-3)).max(T::from_f64(1e-6))
    } else {
        (T::from_f64(0.01) / dmax).powf(T::ONE / T::from_f64(p as f64 + 1.0))
    };
    dir * (T::from_f64(100.0) * h).min(h1).min(h_max)
}
