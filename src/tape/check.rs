//! Gradient checking against finite differences (SPEC §1.3), as a public API.
//!
//! ```text
//! central:    g_fd = (L(θ + h e_i) − L(θ − h e_i)) / 2h,              h = 1e-6 · max(1, |θ_i|)
//! five-point: g_fd = (−L(θ+2h) + 8L(θ+h) − 8L(θ−h) + L(θ−2h)) / 12h,  h = 1e-3 · max(1, |θ_i|)
//! pass:       ‖g − g_fd‖₂ / max(‖g‖₂, 1e-12) ≤ tol  (1e-6) for every parameter
//! reported:   worst entry-wise |g − g_fd| / max(1e-8, |g| + |g_fd|)
//! ```
//!
//! # Example: checking your own loss
//! ```
//! use neurodyn::tape::{ParamStore, Tape};
//! use neurodyn::tape::check::{gradcheck, GradCheckOptions};
//! let mut store = ParamStore::<f64>::new();
//! let w = store.add("w", 2, 3, &[0.1, -0.2, 0.3, 0.4, -0.5, 0.6])?;
//! let report = gradcheck(&store, |tape, store| {
//!     let x = tape.constant(4, 3, &[0.5; 12]);
//!     let w = tape.param(store, w);
//!     let y = tape.matmul_t(x, w);
//!     let y = tape.tanh(y);
//!     tape.mean(y)
//! }, &GradCheckOptions::default());
//! assert!(report.passed, "{report}");
//! # Ok::<(), neurodyn::ConfigError>(())
//! ```

use super::params::ParamStore;
use super::{Tape, Var};
use std::fmt;

/// The difference stencil.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stencil {
    /// `(L(θ+h) − L(θ−h)) / 2h`, error O(h²).
    Central,
    /// Five points, error O(h⁴); use with a larger step.
    FivePoint,
}

/// Options of [`gradcheck`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheckOptions {
    /// The stencil.
    pub stencil: Stencil,
    /// Relative step: `h = rel_step · max(1, |θ_i|)`.
    pub rel_step: f64,
    /// Pass threshold on the norm-wise relative error of each parameter.
    pub tol: f64,
}

impl Default for GradCheckOptions {
    fn default() -> Self {
        Self {
            stencil: Stencil::Central,
            rel_step: 1e-6,
            tol: 1e-6,
        }
    }
}

impl GradCheckOptions {
    /// The five-point stencil with its usual step `1e-3`.
    pub fn five_point() -> Self {
        Self {
            stencil: Stencil::FivePoint,
            rel_step: 1e-3,
            tol: 1e-6,
        }
    }
}

/// The comparison for one parameter (or one flat vector).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamReport {
    /// Parameter name.
    pub name: String,
    /// `‖g − g_fd‖₂ / max(‖g‖₂, 1e-12)`: the pass criterion.
    pub rel_error: f64,
    /// Worst entry-wise `|g − g_fd| / max(1e-8, |g| + |g_fd|)` (noisy for tiny entries).
    pub worst_entry: f64,
    /// Index of that entry.
    pub worst_index: usize,
    /// `‖g‖₂` of the analytic gradient.
    pub grad_norm: f64,
}

/// The result of [`gradcheck`].
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheckReport {
    /// Loss at the unperturbed parameters.
    pub loss: f64,
    /// One entry per parameter, in store order.
    pub params: Vec<ParamReport>,
    /// The tolerance used.
    pub tol: f64,
    /// Whether every parameter passed.
    pub passed: bool,
}

impl GradCheckReport {
    /// The largest norm-wise relative error over the parameters.
    pub fn worst(&self) -> f64 {
        self.params.iter().map(|p| p.rel_error).fold(0.0, f64::max)
    }
}

impl fmt::Display for GradCheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "gradcheck {} (loss {:.6e}, tol {:.0e})",
            if self.passed { "passed" } else { "FAILED" },
            self.loss,
            self.tol
        )?;
        for p in &self.params {
            writeln!(
                f,
                "  {:<16} rel {:.2e}  worst entry {:.2e} at {}  |g| {:.3e}{}",
                p.name,
                p.rel_error,
                p.worst_entry,
                p.worst_index,
                p.grad_norm,
                if p.rel_error <= self.tol {
                    ""
                } else {
                    "  <-- FAIL"
                }
            )?;
        }
        Ok(())
    }
}

/// Finite-difference gradient of `f` at `x`.
pub fn finite_difference(
    mut f: impl FnMut(&[f64]) -> f64,
    x: &[f64],
    opts: &GradCheckOptions,
) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = opts.rel_step * x[i].abs().max(1.0);
            let mut at = |d: f64, xp: &mut Vec<f64>| {
                xp[i] = x[i] + d;
                let v = f(xp);
                xp[i] = x[i];
                v
            };
            match opts.stencil {
                Stencil::Central => (at(h, &mut xp) - at(-h, &mut xp)) / (2.0 * h),
                Stencil::FivePoint => {
                    (-at(2.0 * h, &mut xp) + 8.0 * at(h, &mut xp) - 8.0 * at(-h, &mut xp)
                        + at(-2.0 * h, &mut xp))
                        / (12.0 * h)
                }
            }
        })
        .collect()
}

/// Compares an analytic gradient with a finite-difference one (SPEC §1.3 metrics).
pub fn compare(name: &str, g: &[f64], g_fd: &[f64]) -> ParamReport {
    assert_eq!(g.len(), g_fd.len(), "compare: gradient lengths differ");
    let diff: f64 = g
        .iter()
        .zip(g_fd)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    let norm: f64 = g.iter().map(|a| a * a).sum::<f64>().sqrt();
    let (mut worst, mut at) = (0.0, 0);
    for (i, (a, b)) in g.iter().zip(g_fd).enumerate() {
        let e = (a - b).abs() / (a.abs() + b.abs()).max(1e-8);
        if e > worst || e.is_nan() {
            worst = e;
            at = i;
        }
    }
    let rel = diff / norm.max(1e-12);
    ParamReport {
        name: name.to_string(),
        rel_error: if rel.is_nan() { f64::INFINITY } else { rel },
        worst_entry: worst,
        worst_index: at,
        grad_norm: norm,
    }
}

/// Checks the tape gradient of a scalar loss against finite differences, parameter by
/// parameter.
///
/// `loss` records the loss of the given parameters on the given tape and returns its `1 × 1`
/// node; it is called once with gradients and then twice (or four times) per scalar.
pub fn gradcheck<F>(
    store: &ParamStore<f64>,
    mut loss: F,
    opts: &GradCheckOptions,
) -> GradCheckReport
where
    F: FnMut(&mut Tape<f64>, &ParamStore<f64>) -> Var,
{
    let mut tape = Tape::new();
    let root = loss(&mut tape, store);
    let l0 = tape.scalar(root);
    tape.backward(root);
    let mut grads = store.zeros_like();
    tape.accumulate_param_grads(&mut grads);
    let mut work = store.clone();
    let mut params = Vec::new();
    for info in store.infos() {
        let range = info.range();
        let x0: Vec<f64> = store.as_slice()[range.clone()].to_vec();
        let fd = finite_difference(
            |x| {
                work.as_mut_slice()[range.clone()].copy_from_slice(x);
                tape.clear();
                let r = loss(&mut tape, &work);
                tape.scalar(r)
            },
            &x0,
            opts,
        );
        work.as_mut_slice()[range.clone()].copy_from_slice(&x0);
        params.push(compare(&info.name, &grads.as_slice()[range], &fd));
    }
    let passed = params.iter().all(|p| p.rel_error <= opts.tol);
    GradCheckReport {
        loss: l0,
        params,
        tol: opts.tol,
        passed,
    }
}
