//! Autonomous vector fields on the tape, their Jacobians, grids and relaxations.

use crate::Float;
use crate::models::gnode::{Drive, Gnode, GnodeVars};
use crate::tape::{Tape, Var};

/// An autonomous vector field `dh/dt = f(h)` on `dim`-dimensional states (a batch as rows).
pub trait Field {
    /// State dimension.
    fn dim(&self) -> usize;
    /// Records what `f` needs on a fresh tape (parameters, constant drives).
    fn prepare(&self, tape: &mut Tape<f64>) -> FieldVars;
    /// Records `f(h)` for `h` (`batch × dim`).
    fn eval(&self, tape: &mut Tape<f64>, p: &FieldVars, h: Var) -> Var;
}

/// Opaque recorded parameters of a field.
#[derive(Clone, Debug)]
pub struct FieldVars {
    vars: Option<GnodeVars>,
    x: Option<Var>,
}

/// A trained gnODE at a constant input `x̄` (default 0): `f(h) = G ⊙ (F − h)/τ`.
pub struct GnodeField<'a> {
    /// The model (cast to f64 for analysis).
    pub model: &'a Gnode<f64>,
    /// The constant input.
    pub input: Vec<f64>,
}

impl Field for GnodeField<'_> {
    fn dim(&self) -> usize {
        self.model.config().hidden
    }
    fn prepare(&self, tape: &mut Tape<f64>) -> FieldVars {
        let vars = self.model.record(tape);
        let x = tape.constant(1, self.input.len(), &self.input);
        FieldVars {
            vars: Some(vars),
            x: Some(x),
        }
    }
    fn eval(&self, tape: &mut Tape<f64>, p: &FieldVars, h: Var) -> Var {
        let v = p.vars.as_ref().expect("internal: prepared");
        let b = tape.shape(h).0;
        let x = p.x.expect("internal: prepared");
        let xb = tape.broadcast_rows(x, b);
        let d: Drive = self.model.drive(tape, v, xb);
        self.model.velocity(tape, v, h, &d)
    }
}

/// The Jacobian `∂f/∂h` at `h` (row-major `dim × dim`) and `f(h)`.
pub fn jacobian<F: Field>(field: &F, h: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = field.dim();
    let mut tape = Tape::new();
    let p = field.prepare(&mut tape);
    let hv = tape.variable(1, n, h);
    let f = field.eval(&mut tape, &p, hv);
    let fv = tape.value(f).to_vec();
    let mut jac = vec![0.0; n * n];
    let mut seed = vec![0.0; n];
    for r in 0..n {
        seed.fill(0.0);
        seed[r] = 1.0;
        tape.backward_seeded(f, &seed);
        jac[r * n..(r + 1) * n].copy_from_slice(tape.grad(hv));
    }
    (jac, fv)
}

/// Jacobians and values at many points at once (`pts` is `m × dim`): one forward pass and
/// `dim` backward passes, since the rows are independent. Returns `(jacs, fs)` with `jacs` of
/// length `m · dim · dim` (point-major, each row-major) and `fs` of length `m · dim`.
pub fn jacobians<F: Field>(field: &F, pts: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = field.dim();
    let m = pts.len() / n.max(1);
    let mut tape = Tape::new();
    let p = field.prepare(&mut tape);
    let hv = tape.variable(m, n, pts);
    let f = field.eval(&mut tape, &p, hv);
    let fs = tape.value(f).to_vec();
    let mut jacs = vec![0.0; m * n * n];
    let mut seed = vec![0.0; m * n];
    for r in 0..n {
        seed.fill(0.0);
        for i in 0..m {
            seed[i * n + r] = 1.0;
        }
        tape.backward_seeded(f, &seed);
        let g = tape.grad(hv);
        for i in 0..m {
            jacs[i * n * n + r * n..i * n * n + (r + 1) * n]
                .copy_from_slice(&g[i * n..(i + 1) * n]);
        }
    }
    (jacs, fs)
}

/// `f` on a regular 2-D grid of the plane spanned by coordinates 0 and 1 (other coordinates at
/// `base`): returns `(xs, ys, fx, fy)` with `fx[j * nx + i]` at `(xs[i], ys[j])`.
pub fn flow_grid<F: Field>(
    field: &F,
    base: &[f64],
    x_range: (f64, f64),
    y_range: (f64, f64),
    nx: usize,
    ny: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    flow_plane(field, base, (0, 1), x_range, y_range, nx, ny)
}

/// As [`flow_grid`] on the plane of coordinates `(i, j)` through `base`: returns the grid and
/// the in-plane components `(f_i, f_j)`.
#[allow(clippy::too_many_arguments)]
pub fn flow_plane<F: Field>(
    field: &F,
    base: &[f64],
    (ci, cj): (usize, usize),
    x_range: (f64, f64),
    y_range: (f64, f64),
    nx: usize,
    ny: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = field.dim();
    let lin = |(a, b): (f64, f64), k: usize| -> Vec<f64> {
        (0..k)
            .map(|i| a + (b - a) * i as f64 / (k.max(2) - 1) as f64)
            .collect()
    };
    let (xs, ys) = (lin(x_range, nx), lin(y_range, ny));
    let mut h = Vec::with_capacity(nx * ny * n);
    for &y in &ys {
        for &x in &xs {
            let mut p = base.to_vec();
            p[ci] = x;
            if n > 1 {
                p[cj] = y;
            }
            h.extend_from_slice(&p);
        }
    }
    let mut tape = Tape::new();
    let p = field.prepare(&mut tape);
    let hv = tape.constant(nx * ny, n, &h);
    let f = field.eval(&mut tape, &p, hv);
    let fv = tape.value(f);
    let fx = (0..nx * ny).map(|k| fv[k * n]).collect();
    let fy = (0..nx * ny)
        .map(|k| if n > 1 { fv[k * n + 1] } else { 0.0 })
        .collect();
    (xs, ys, fx, fy)
}

/// Follows the flow from each row of `h0` (`batch × dim`) with explicit Euler steps of `dt`
/// for `steps` steps; returns every `every`-th state (the trajectories, time-major).
pub fn relax<F: Field>(
    field: &F,
    h0: &[f64],
    dt: f64,
    steps: usize,
    every: usize,
) -> Vec<Vec<f64>> {
    let n = field.dim();
    let b = h0.len() / n.max(1);
    let mut tape = Tape::new();
    let p = field.prepare(&mut tape);
    let base = tape.mark();
    let mut h = h0.to_vec();
    let mut out = vec![h.clone()];
    for s in 1..=steps {
        tape.rewind(base);
        let hv = tape.constant(b, n, &h);
        let f = field.eval(&mut tape, &p, hv);
        for (x, &d) in h.iter_mut().zip(tape.value(f)) {
            *x += dt * d;
        }
        if s % every.max(1) == 0 {
            out.push(h.clone());
        }
    }
    out
}

/// A gnODE cast to f64 (analysis runs in f64 whatever the training precision).
pub fn gnode_f64<T: Float>(m: &Gnode<T>) -> Gnode<f64> {
    let params: Vec<crate::models::gnode::NamedParam<f64>> = m
        .store()
        .infos()
        .iter()
        .map(|i| {
            (
                i.name.clone(),
                i.rows,
                i.cols,
                m.store().as_slice()[i.range()]
                    .iter()
                    .map(|x| x.to_f64())
                    .collect(),
            )
        })
        .collect();
    let mut g = Gnode::from_params(m.config().clone(), &params).expect("internal: same layout");
    if let (Some(src), Some(dst)) = (m.fixed_h0(), g.fixed_h0_mut()) {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = s.to_f64();
        }
    }
    g
}
