//! The "critical" initialisation: scale F's weights so that the flow starts at the edge of
//! stability.
//!
//! ```text
//! J = ∂F/∂h at (h0, x̄),  η_max = max Re λ(−I + J) = max Re λ(J) − 1
//! W_l ← W_l · (1/(η_max + 1))^(1/L)   for the L affine layers of F
//! ```
//! For piecewise-linear F the leading eigenvalue of `∂F/∂h` then becomes 1.

use super::Gnode;
use crate::Float;
use crate::tape::Tape;

/// The Jacobian `∂F/∂h` (N × N, row-major f64) at the initial state and input `x_bar`.
pub(crate) fn flow_jacobian<T: Float>(model: &Gnode<T>, x_bar: &[T]) -> Vec<f64> {
    let n = model.config().hidden;
    let i = model.config().inputs;
    let mut tape = Tape::new();
    let v = model.record(&mut tape);
    let x = tape.constant(1, i, x_bar);
    let h0 = model.initial_state(&mut tape, &v, Some(x), 1);
    let h0_vals = tape.value(h0).to_vec();
    let h = tape.variable(1, n, &h0_vals);
    let d = model.drive(&mut tape, &v, x);
    let f = model.flow(&mut tape, &v, h, &d);
    let mut jac = vec![0.0; n * n];
    let mut seed = vec![T::ZERO; n];
    for r in 0..n {
        seed.iter_mut().for_each(|s| *s = T::ZERO);
        seed[r] = T::ONE;
        tape.backward_seeded(f, &seed);
        for (c, g) in tape.grad(h).iter().enumerate() {
            jac[r * n + c] = g.to_f64();
        }
    }
    jac
}

/// Eigenvalues `(re, im)` of a real square matrix (row-major), or `None` when the matrix is
/// not finite or the Schur iteration does not converge within 1000 sweeps (never a hang).
pub(crate) fn eigenvalues(m: &[f64], n: usize) -> Option<Vec<(f64, f64)>> {
    if !m.iter().all(|v| v.is_finite()) {
        return None;
    }
    let a = nalgebra::DMatrix::from_row_slice(n, n, m);
    let schur = nalgebra::Schur::try_new(a, f64::EPSILON, 1000)?;
    Some(
        schur
            .complex_eigenvalues()
            .iter()
            .map(|z| (z.re, z.im))
            .collect(),
    )
}

/// Largest real part of the eigenvalues of a real square matrix (NaN if they cannot be
/// computed).
pub(crate) fn max_real_eigenvalue(m: &[f64], n: usize) -> f64 {
    eigenvalues(m, n).map_or(f64::NAN, |e| {
        e.iter().map(|z| z.0).fold(f64::NEG_INFINITY, f64::max)
    })
}

/// Rescales F's weight matrices in place (zero mean input). Leaves them unchanged when the
/// leading real part of `∂F/∂h` is not positive (the rule is undefined there).
pub(crate) fn rescale_flow<T: Float>(model: &mut Gnode<T>) {
    let x_bar = vec![T::ZERO; model.config().inputs];
    rescale_flow_at(model, &x_bar);
}

/// As [`rescale_flow`] at a given mean input. For a piecewise-linear F one scaling suffices;
/// otherwise the scaling moves the operating point, so it is repeated (up to 20 times) until the
/// leading real part is 1 to 1e-9, and each factor is limited to [1/4, 4] so that a leading
/// eigenvalue near 0 cannot blow the weights up into saturation.
pub(crate) fn rescale_flow_at<T: Float>(model: &mut Gnode<T>, x_bar: &[T]) {
    let n = model.config().hidden;
    let layers = model.ids.flow_w.len() as f64;
    let ids = model.ids.flow_w.clone();
    for _ in 0..20 {
        let lam = max_real_eigenvalue(&flow_jacobian(model, x_bar), n);
        if !(lam.is_finite() && lam > 0.0) || (lam - 1.0).abs() < 1e-9 {
            return;
        }
        let s = T::from_f64((1.0 / lam).powf(1.0 / layers).clamp(0.25, 4.0));
        for &id in &ids {
            crate::dense::scal(model.store_mut().get_mut(id), s);
        }
    }
}

impl<T: Float> Gnode<T> {
    /// Applies the critical rescaling at the mean input `x_bar` (SPEC §3.1); returns the leading
    /// real eigenvalue of `∂F/∂h` after rescaling.
    ///
    /// # Panics
    /// If `x_bar.len()` differs from the input dimension.
    pub fn rescale_critical(&mut self, x_bar: &[T]) -> f64 {
        assert_eq!(
            x_bar.len(),
            self.config().inputs,
            "rescale_critical: x_bar length"
        );
        rescale_flow_at(self, x_bar);
        max_real_eigenvalue(&flow_jacobian(self, x_bar), self.config().hidden)
    }

    /// The Jacobian `∂F/∂h` at the initial state and input `x_bar` (row-major, f64).
    pub fn flow_jacobian(&self, x_bar: &[T]) -> Vec<f64> {
        flow_jacobian(self, x_bar)
    }
}
