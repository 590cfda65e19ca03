//! Sampling, log-likelihood and entropy of a CNF through the solvers, with the divergence
//! integrated alongside the state.
//!
//! ```text
//! augmented state [x, ℓ]:   dx/dt = v(x, t),   dℓ/dt = tr(∂v/∂x)(x, t)
//! log-likelihood (t = 1 → 0, ℓ(1) = 0):   log p_1(x) = log N(x(0); 0, I) + ℓ(0)
//! sampling (t = 0 → 1, ℓ(0) = 0):         log q(x(1)) = log N(x(0); 0, I) − ℓ(1)
//! entropy:                                H = (d/2) log(2πe) + E[ℓ(1)]
//! ```

use super::Cnf;
use super::velocity::{CnfVars, Trace};
use crate::Float;
use crate::solve::{Dynamics, SolveError, SolveOptions, Stage, solve, solve_on_tape};
use crate::tape::{Tape, Var};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Which way a CNF is integrated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Noise to data (`t = 0 → 1`): sampling.
    Forward,
    /// Data to noise (`t = 1 → 0`): likelihood.
    Backward,
}

/// A CNF with its divergence as a [`Dynamics`] on the augmented state `[x, ℓ]` (`B × (d+1)`),
/// for a batch with fixed conditioning inputs.
pub struct CnfOde<'a, T: Float> {
    cnf: &'a Cnf<T>,
    /// Conditioning inputs `B × C` (empty when C = 0).
    cond: &'a [T],
    batch: usize,
    trace: Trace<T>,
}

impl<'a, T: Float> CnfOde<'a, T> {
    /// The augmented flow of `cnf` for a batch of `batch` rows with conditioning `cond`
    /// (`batch × C`, empty when C = 0).
    ///
    /// # Panics
    /// If `cond` does not hold `batch × C` values.
    pub fn new(cnf: &'a Cnf<T>, cond: &'a [T], batch: usize, trace: Trace<T>) -> Self {
        assert_eq!(
            cond.len(),
            batch * cnf.config().cond,
            "CnfOde: conditioning must be batch × C"
        );
        Self {
            cnf,
            cond,
            batch,
            trace,
        }
    }

    /// The parameters recorded elsewhere, plus the conditioning constant.
    pub fn params_with(&self, tape: &mut Tape<T>, vars: CnfVars) -> (CnfVars, Option<Var>) {
        let c = self.cnf.config().cond;
        let cond = (c > 0).then(|| tape.constant(self.batch, c, self.cond));
        (vars, cond)
    }
}

impl<T: Float> Dynamics<T> for CnfOde<'_, T> {
    type Params = (CnfVars, Option<Var>);

    fn record(&self, tape: &mut Tape<T>) -> Self::Params {
        let vars = self.cnf.record(tape);
        self.params_with(tape, vars)
    }

    fn rhs(&self, tape: &mut Tape<T>, p: &Self::Params, at: Stage<T>, y: Var) -> Var {
        let d = self.cnf.config().dim;
        let x = tape.slice_cols(y, 0, d);
        let (vel, div) = self.cnf.velocity_div(tape, &p.0, x, p.1, at.t, &self.trace);
        tape.concat_cols(&[vel, div])
    }
}

/// `log N(x; 0, I)` of every row of `x` (`rows × d`).
pub(crate) fn log_normal<T: Float>(x: &[T], d: usize) -> Vec<f64> {
    let c = -0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln();
    x.chunks_exact(d)
        .map(|r| c - 0.5 * r.iter().map(|v| v.to_f64().powi(2)).sum::<f64>())
        .collect()
}

/// `[x, 0]` rows.
fn augment<T: Float>(x: &[T], d: usize) -> Vec<T> {
    let mut y = Vec::with_capacity(x.len() / d * (d + 1));
    for r in x.chunks_exact(d) {
        y.extend_from_slice(r);
        y.push(T::ZERO);
    }
    y
}

/// `log p_1(x)` of every row of `x` (`rows × d`, conditioning `cond`: `rows × C`), by the
/// backward solve from `t = 1` to `0` with the options' method and steps.
///
/// # Errors
/// A solver failure or invalid options.
///
/// # Panics
/// If `x` is not a whole number of rows or `cond` does not match.
pub fn log_likelihood<T: Float>(
    cnf: &Cnf<T>,
    x: &[T],
    cond: &[T],
    trace: Trace<T>,
    opts: &SolveOptions<T>,
) -> Result<Vec<f64>, SolveError> {
    let d = cnf.config().dim;
    assert!(
        x.len().is_multiple_of(d),
        "log_likelihood: x is not rows × {d}"
    );
    let b = x.len() / d;
    if b == 0 {
        return Ok(Vec::new());
    }
    let ode = CnfOde::new(cnf, cond, b, trace);
    let sol = solve(&ode, b, &augment(x, d), T::ONE, T::ZERO, opts)?;
    let y = &sol.y_final;
    let x0: Vec<T> = y
        .chunks_exact(d + 1)
        .flat_map(|r| r[..d].to_vec())
        .collect();
    Ok(log_normal(&x0, d)
        .into_iter()
        .zip(y.chunks_exact(d + 1))
        .map(|(l, r)| l + r[d].to_f64())
        .collect())
}

/// The mean negative log-likelihood of the rows of `x` recorded on `tape` with the given
/// parameter nodes (differentiable).
///
/// # Errors
/// A solver failure or invalid options.
pub fn nll_on_tape<T: Float>(
    tape: &mut Tape<T>,
    cnf: &Cnf<T>,
    vars: &CnfVars,
    x: &[T],
    cond: &[T],
    trace: Trace<T>,
    opts: &SolveOptions<T>,
) -> Result<Var, SolveError> {
    let d = cnf.config().dim;
    let b = x.len() / d;
    let ode = CnfOde::new(cnf, cond, b, trace);
    let p = ode.params_with(tape, vars.clone());
    let y1 = tape.constant(b, d + 1, &augment(x, d));
    let (_, y0, _) = solve_on_tape(tape, &ode, p, y1, T::ONE, T::ZERO, opts)?;
    // −log p = ½‖x(0)‖² + (d/2) log 2π − ℓ(0)
    let x0 = tape.slice_cols(y0, 0, d);
    let l0 = tape.slice_cols(y0, d, 1);
    let sq = tape.square(x0);
    let half = tape.scale(sq, T::from_f64(0.5));
    let e = tape.row_sums(half);
    let nl = tape.sub(e, l0);
    let m = tape.mean(nl);
    let c = T::from_f64(0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln());
    Ok(tape.add_scalar(m, c))
}

/// Standard-normal base draws (`n × d`).
pub(crate) fn base_draws<T: Float, R: Rng + ?Sized>(rng: &mut R, n: usize, d: usize) -> Vec<T> {
    (0..n * d)
        .map(|_| {
            let z: f64 = StandardNormal.sample(rng);
            T::from_f64(z)
        })
        .collect()
}

/// `n` samples (`n × d`) and their log-densities `log q(x)`, pushing base draws forward from
/// `t = 0` to `1` (conditioning `cond`: `n × C`).
///
/// # Errors
/// A solver failure or invalid options.
pub fn sample<T: Float, R: Rng + ?Sized>(
    cnf: &Cnf<T>,
    n: usize,
    cond: &[T],
    trace: Trace<T>,
    opts: &SolveOptions<T>,
    rng: &mut R,
) -> Result<(Vec<T>, Vec<f64>), SolveError> {
    let d = cnf.config().dim;
    if n == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let z = base_draws::<T, R>(rng, n, d);
    let (xs, ell) = push_forward(cnf, &z, cond, trace, opts)?;
    let mut logq = log_normal(&z, d);
    for (lq, l) in logq.iter_mut().zip(ell) {
        *lq -= l;
    }
    Ok((xs, logq))
}

/// Pushes base draws `z` (`B × d`) forward on `tape` (differentiable): returns the samples
/// `x(1)` (`B × d`) and `ℓ(1) = ∫_0^1 div dt` (`B × 1`).
///
/// # Errors
/// A solver failure or invalid options.
pub fn sample_on_tape<T: Float>(
    tape: &mut Tape<T>,
    cnf: &Cnf<T>,
    vars: &CnfVars,
    z: &[T],
    cond: &[T],
    trace: Trace<T>,
    opts: &SolveOptions<T>,
) -> Result<(Var, Var), SolveError> {
    let d = cnf.config().dim;
    let b = z.len() / d;
    let ode = CnfOde::new(cnf, cond, b, trace);
    let p = ode.params_with(tape, vars.clone());
    let y0 = tape.constant(b, d + 1, &augment(z, d));
    let (_, y1, _) = solve_on_tape(tape, &ode, p, y0, T::ZERO, T::ONE, opts)?;
    Ok((tape.slice_cols(y1, 0, d), tape.slice_cols(y1, d, 1)))
}

/// Pushes given base draws `z` (`B × d`) forward from `t = 0` to `1` without recording:
/// the samples `x(1)` (`B × d`) and `ℓ(1) = ∫_0^1 div dt` of each row (conditioning `cond`:
/// `B × C`). The same map as [`sample_on_tape`], for evaluations with common random numbers.
///
/// # Errors
/// A solver failure or invalid options.
///
/// # Panics
/// If `z` is not a whole number of rows or `cond` does not match.
pub fn push_forward<T: Float>(
    cnf: &Cnf<T>,
    z: &[T],
    cond: &[T],
    trace: Trace<T>,
    opts: &SolveOptions<T>,
) -> Result<(Vec<T>, Vec<f64>), SolveError> {
    let d = cnf.config().dim;
    assert!(
        z.len().is_multiple_of(d),
        "push_forward: z is not rows × {d}"
    );
    let b = z.len() / d;
    if b == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let ode = CnfOde::new(cnf, cond, b, trace);
    let sol = solve(&ode, b, &augment(z, d), T::ZERO, T::ONE, opts)?;
    let mut xs = Vec::with_capacity(b * d);
    let mut ell = Vec::with_capacity(b);
    for r in sol.y_final.chunks_exact(d + 1) {
        xs.extend_from_slice(&r[..d]);
        ell.push(r[d].to_f64());
    }
    Ok((xs, ell))
}

/// The differential entropy `H = (d/2) log(2πe) + E[ℓ(1)]` estimated from `n` forward
/// trajectories (with its standard error).
///
/// # Errors
/// A solver failure or invalid options.
pub fn entropy<T: Float, R: Rng + ?Sized>(
    cnf: &Cnf<T>,
    n: usize,
    cond: &[T],
    trace: Trace<T>,
    opts: &SolveOptions<T>,
    rng: &mut R,
) -> Result<(f64, f64), SolveError> {
    let d = cnf.config().dim;
    let z = base_draws::<T, R>(rng, n, d);
    let ode = CnfOde::new(cnf, cond, n, trace);
    let sol = solve(&ode, n, &augment(&z, d), T::ZERO, T::ONE, opts)?;
    let ell: Vec<f64> = sol
        .y_final
        .chunks_exact(d + 1)
        .map(|r| r[d].to_f64())
        .collect();
    let mean = ell.iter().sum::<f64>() / n.max(1) as f64;
    let var = ell.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64;
    let h0 = 0.5 * d as f64 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln();
    Ok((h0 + mean, (var / n.max(1) as f64).sqrt()))
}
