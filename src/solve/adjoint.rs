//! The continuous adjoint (Chen et al. 2018; torchdiffeq's `odeint_adjoint`): O(1) memory in the
//! number of steps.
//!
//! ```text
//! forward:   solve y(t) from t0 to t1 without a tape, keeping only the states at save times
//! backward:  z = [y, a, g] with  dy/dt = f(t, y),  da/dt = −aᵀ ∂f/∂y,  dg/dt = −aᵀ ∂f/∂θ
//!            from t1 down to t0, a(t1) = ∂ℓ/∂y(t1), g(t1) = 0; at each save time t_j the
//!            loss gradient is added, a += ∂ℓ_j/∂y(t_j), and y is reset to the stored y(t_j)
//! result:    ∂L/∂y0 = a(t0),  ∂L/∂θ = g(t0) + Σ_j ∂ℓ_j/∂θ
//! ```
//! The vector–Jacobian products come from a scratch tape holding one right-hand side at a time.
//! The backward solve uses the same method, tolerances and jump times as the forward one; its
//! error norm covers the whole augmented state.

use super::backprop::{CopySaves, differentiable_copy, dot_const, saves_at_start, sum_terms};
use super::engine::{DynRhs, Integrator, Mode, Observer, Rhs};
use super::{Dynamics, GradSolution, SolveError, SolveOptions, Stage};
use crate::Float;
use crate::tape::{Grads, Mark, Tape, Var};

/// The augmented right-hand side `[f, −aᵀ∂f/∂y, −aᵀ∂f/∂θ]`, evaluated with a scratch tape.
struct AdjointRhs<'a, T: Float, D: Dynamics<T>> {
    d: &'a D,
    scratch: Tape<T>,
    p: D::Params,
    after_params: Mark,
    rows: usize,
    cols: usize,
    g: Grads<T>,
    out: Vec<T>,
    evals: usize,
}

impl<T: Float, D: Dynamics<T>> Rhs<T> for AdjointRhs<'_, T, D> {
    fn eval(&mut self, tape: &mut Tape<T>, at: Stage<T>, z: Var) -> Var {
        let n = self.rows * self.cols;
        self.scratch.rewind(self.after_params);
        let zv = tape.value(z);
        let y = self.scratch.variable(self.rows, self.cols, &zv[..n]);
        let f = self.d.rhs(&mut self.scratch, &self.p, at, y);
        self.scratch.backward_seeded(f, &zv[n..2 * n]);
        self.g.zero();
        self.scratch.accumulate_param_grads(&mut self.g);
        self.out.clear();
        self.out.extend_from_slice(self.scratch.value(f));
        self.out.extend(self.scratch.grad(y).iter().map(|&v| -v));
        self.out.extend(self.g.as_slice().iter().map(|&v| -v));
        self.evals += 1;
        tape.constant(1, self.out.len(), &self.out)
    }
}

struct NoSaves;
impl<T: Float> Observer<T> for NoSaves {
    fn save(&mut self, _: &mut Tape<T>, _: usize, _: Var) {}
}

pub(crate) fn gradient<T, D, I, L>(
    dynamics: &D,
    init: I,
    mut loss: L,
    t0: T,
    t1: T,
    opts: &SolveOptions<T>,
    grads: &mut Grads<T>,
) -> Result<GradSolution<T>, SolveError>
where
    T: Float,
    D: Dynamics<T>,
    I: Fn(&mut Tape<T>, &D::Params) -> Var,
    L: FnMut(&mut Tape<T>, &D::Params, usize, Var) -> Var,
{
    // Forward, keeping the saved states only.
    let mut tape = Tape::new();
    let p = dynamics.record(&mut tape);
    let y0 = init(&mut tape, &p);
    let (rows, cols) = tape.shape(y0);
    let n = rows * cols;
    let y0_vals = tape.value(y0).to_vec();
    tape.clear();
    let p = dynamics.record(&mut tape);
    let y0c = tape.constant(rows, cols, &y0_vals);
    let n_start = saves_at_start(opts, t0);
    let mut saved = CopySaves { ys: Vec::new() };
    for _ in 0..n_start {
        saved.ys.extend_from_slice(&y0_vals);
    }
    let mut fwd = Integrator::new(opts, t0, t1);
    let y1 = fwd.run(
        &mut tape,
        &mut DynRhs { d: dynamics, p },
        &mut saved,
        t0,
        t1,
        y0c,
        Mode::Compact,
    )?;
    let mut stats = fwd.stats;
    let y1_vals = tape.value(y1).to_vec();
    let n_params = grads.as_slice().len();

    // Loss terms of the saves: ∂ℓ_j/∂y(t_j) and their direct parameter gradients.
    let mut total = T::ZERO;
    let mut loss_grad = |j: usize, y: &[T], grads: &mut Grads<T>, total: &mut T| -> Vec<T> {
        let mut t = Tape::new();
        let p = dynamics.record(&mut t);
        let yv = t.variable(rows, cols, y);
        let l = loss(&mut t, &p, j, yv);
        *total += t.scalar(l);
        t.backward(l);
        t.accumulate_param_grads(grads);
        t.grad(yv).to_vec()
    };

    // Backward: z = [y, a, g] from t1 to t0, stopping at the save times.
    let mut scratch = Tape::new();
    let sp = dynamics.record(&mut scratch);
    let after_params = scratch.mark();
    let mut rhs = AdjointRhs {
        d: dynamics,
        scratch,
        p: sp,
        after_params,
        rows,
        cols,
        g: Grads::zeros(n_params),
        out: Vec::new(),
        evals: 0,
    };
    let mut z = vec![T::ZERO; 2 * n + n_params];
    z[..n].copy_from_slice(&y1_vals);
    let n_saves = opts.save_at.len();
    // Events in reverse: save indices (after those at t0), then t0.
    let mut t = t1;
    let mut j = n_saves;
    let mut back_opts = SolveOptions {
        save_at: Vec::new(),
        ..opts.clone()
    };
    let mut vtape = Tape::new();
    loop {
        // inject the saves at the current time t
        while j > n_start && opts.save_at[j - 1] == t {
            j -= 1;
            let y = &saved.ys[j * n..(j + 1) * n];
            z[..n].copy_from_slice(y);
            let gy = loss_grad(j, y, grads, &mut total);
            for (a, g) in z[n..2 * n].iter_mut().zip(gy) {
                *a += g;
            }
        }
        let target = if j > n_start { opts.save_at[j - 1] } else { t0 };
        if t == target {
            break;
        }
        vtape.clear();
        let zv = vtape.constant(1, z.len(), &z);
        let mut eng = Integrator::new(&back_opts, t, target);
        let zr = eng.run(
            &mut vtape,
            &mut rhs,
            &mut NoSaves,
            t,
            target,
            zv,
            Mode::Compact,
        )?;
        z.copy_from_slice(vtape.value(zr));
        stats.rejected += eng.stats.rejected;
        stats.rhs_evals += eng.stats.rhs_evals;
        stats.peak_values = stats
            .peak_values
            .max(eng.stats.peak_values + rhs.scratch.num_values() + rhs.scratch.num_grad_values());
        if let (false, Some(h)) = (opts.is_fixed(), eng.last_h()) {
            back_opts.h0 = Some(h.abs());
        }
        t = target;
    }
    // Parameter gradient of the dynamics.
    crate::dense::axpy(grads.as_mut_slice(), T::ONE, &z[2 * n..]);

    // The initial state: saves at t0 and the map from parameters to y0.
    tape.clear();
    let p = dynamics.record(&mut tape);
    let y0 = init(&mut tape, &p);
    let y0 = differentiable_copy(&mut tape, y0);
    let terms: Vec<Var> = (0..n_start).map(|j| loss(&mut tape, &p, j, y0)).collect();
    let loss_part = sum_terms(&mut tape, &terms);
    total += tape.scalar(loss_part);
    let seed = dot_const(&mut tape, y0, &z[n..2 * n]);
    let l = tape.add(loss_part, seed);
    tape.retain_grad(y0);
    tape.backward(l);
    tape.accumulate_param_grads(grads);
    let dy0 = tape.grad(y0).to_vec();
    stats.peak_values += saved.ys.len();
    Ok(GradSolution {
        loss: total,
        dy0,
        stats,
    })
}
