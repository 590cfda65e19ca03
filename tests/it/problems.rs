//! Reference problems (SPEC §2.3) as `Dynamics`, shared by the solver tests.

use neurodyn::solve::{Dynamics, Stage};
use neurodyn::tape::{ParamId, ParamStore, Tape, Var};

/// `y' = A y` for a fixed matrix (rows of the state are independent samples).
pub struct Linear {
    pub a: Vec<f64>,
    pub n: usize,
}

impl Dynamics<f64> for Linear {
    type Params = ();
    fn record(&self, _: &mut Tape<f64>) {}
    fn rhs(&self, tape: &mut Tape<f64>, _: &(), _: Stage<f64>, y: Var) -> Var {
        let a = tape.constant(self.n, self.n, &self.a);
        tape.matmul_t(y, a)
    }
}

impl Linear {
    /// A 3×3 matrix with rotation and decay (eigenvalues −0.3 ± 2i, −0.7).
    pub fn example() -> Self {
        Self {
            a: vec![-0.3, 2.0, 0.0, -2.0, -0.3, 0.1, 0.0, 0.0, -0.7],
            n: 3,
        }
    }
    /// `exp(t A) y0` via nalgebra's matrix exponential.
    pub fn exact(&self, t: f64, y0: &[f64]) -> Vec<f64> {
        let a = nalgebra::DMatrix::from_row_slice(self.n, self.n, &self.a) * t;
        let e = a.exp();
        let y = e * nalgebra::DVector::from_column_slice(y0);
        y.iter().copied().collect()
    }
}

fn col(tape: &mut Tape<f64>, y: Var, j: usize) -> Var {
    tape.slice_cols(y, j, 1)
}

/// Arenstorf orbit (Hairer I, §II.0), state `(y1, y2, y1', y2')`.
pub struct Arenstorf;
pub const ARENSTORF_Y0: [f64; 4] = [0.994, 0.0, 0.0, -2.001_585_106_379_082_5];
pub const ARENSTORF_T: f64 = 17.065_216_560_157_962_558_891_720_624_9;

impl Dynamics<f64> for Arenstorf {
    type Params = ();
    fn record(&self, _: &mut Tape<f64>) {}
    fn rhs(&self, t: &mut Tape<f64>, _: &(), _: Stage<f64>, y: Var) -> Var {
        let mu = 0.012277471;
        let mup = 1.0 - mu;
        let (y1, y2, v1, v2) = (col(t, y, 0), col(t, y, 1), col(t, y, 2), col(t, y, 3));
        let y2s = t.square(y2);
        let a = t.add_scalar(y1, mu);
        let a2 = t.square(a);
        let r1 = t.add(a2, y2s);
        let s1 = t.sqrt(r1);
        let d1 = t.mul(r1, s1);
        let b = t.add_scalar(y1, -mup);
        let b2 = t.square(b);
        let r2 = t.add(b2, y2s);
        let s2 = t.sqrt(r2);
        let d2 = t.mul(r2, s2);
        let q1 = t.div(a, d1);
        let q2 = t.div(b, d2);
        let acc1 = t.lin_comb(&[(y1, 1.0), (v2, 2.0), (q1, -mup), (q2, -mu)]);
        let p1 = t.div(y2, d1);
        let p2 = t.div(y2, d2);
        let acc2 = t.lin_comb(&[(y2, 1.0), (v1, -2.0), (p1, -mup), (p2, -mu)]);
        t.concat_cols(&[v1, v2, acc1, acc2])
    }
}

/// Van der Pol, `x'' = μ (1 − x²) x' − x`, μ = 1.
pub struct VanDerPol;

impl Dynamics<f64> for VanDerPol {
    type Params = ();
    fn record(&self, _: &mut Tape<f64>) {}
    fn rhs(&self, t: &mut Tape<f64>, _: &(), _: Stage<f64>, y: Var) -> Var {
        let (x, v) = (col(t, y, 0), col(t, y, 1));
        let x2 = t.square(x);
        let one_m = t.scale(x2, -1.0);
        let one_m = t.add_scalar(one_m, 1.0);
        let damp = t.mul(one_m, v);
        let acc = t.sub(damp, x);
        t.concat_cols(&[v, acc])
    }
}

/// Lorenz (σ = 10, ρ = 28, β = 8/3).
pub struct Lorenz;

impl Dynamics<f64> for Lorenz {
    type Params = ();
    fn record(&self, _: &mut Tape<f64>) {}
    fn rhs(&self, t: &mut Tape<f64>, _: &(), _: Stage<f64>, y: Var) -> Var {
        let (x, yy, z) = (col(t, y, 0), col(t, y, 1), col(t, y, 2));
        let dx = t.lin_comb(&[(yy, 10.0), (x, -10.0)]);
        let rz = t.add_scalar(z, -28.0);
        let xrz = t.mul(x, rz);
        let dy = t.lin_comb(&[(xrz, -1.0), (yy, -1.0)]);
        let xy = t.mul(x, yy);
        let dz = t.lin_comb(&[(xy, 1.0), (z, -8.0 / 3.0)]);
        t.concat_cols(&[dx, dy, dz])
    }
}

/// A small parametric model with a piecewise-constant input, for gradient tests:
/// `h' = tanh(h Wᵀ + x(t) Uᵀ + b) − h`, `x(t) = inputs[⌊t/Δ⌋]`, h0 a parameter.
pub struct Toy {
    pub store: ParamStore<f64>,
    pub w: ParamId,
    pub u: ParamId,
    pub b: ParamId,
    pub h0: ParamId,
    pub n: usize,
    pub batch: usize,
    /// `[segment][batch][1]`
    pub inputs: Vec<Vec<f64>>,
    pub delta: f64,
}

#[derive(Clone, Copy)]
pub struct ToyParams {
    w: Var,
    u: Var,
    b: Var,
    pub h0: Var,
}

impl Toy {
    pub fn new(n: usize, batch: usize, segments: usize, delta: f64, seed: u64) -> Self {
        let mut store = ParamStore::new();
        let v = |k: u64, m: usize, s: f64| -> Vec<f64> {
            crate::common::uniform::<f64>(seed * 10 + k, m, -s, s)
        };
        let w = store
            .add("W", n, n, &v(1, n * n, 1.2 / (n as f64).sqrt()))
            .unwrap();
        let u = store.add("U", n, 1, &v(2, n, 1.0)).unwrap();
        let b = store.add("b", 1, n, &v(3, n, 0.3)).unwrap();
        let h0 = store.add("h0", 1, n, &v(4, n, 0.5)).unwrap();
        let inputs = (0..segments)
            .map(|s| v(100 + s as u64, batch, 1.0))
            .collect();
        Self {
            store,
            w,
            u,
            b,
            h0,
            n,
            batch,
            inputs,
            delta,
        }
    }

    pub fn jump_times(&self) -> Vec<f64> {
        (1..self.inputs.len())
            .map(|k| k as f64 * self.delta)
            .collect()
    }

    pub fn init(&self, tape: &mut Tape<f64>, p: &ToyParams) -> Var {
        tape.broadcast_rows(p.h0, self.batch)
    }

    pub fn with_store(&self, store: &ParamStore<f64>) -> Toy {
        Toy {
            store: store.clone(),
            inputs: self.inputs.clone(),
            w: self.w,
            u: self.u,
            b: self.b,
            h0: self.h0,
            n: self.n,
            batch: self.batch,
            delta: self.delta,
        }
    }
}

impl Dynamics<f64> for Toy {
    type Params = ToyParams;
    fn record(&self, tape: &mut Tape<f64>) -> ToyParams {
        ToyParams {
            w: tape.param(&self.store, self.w),
            u: tape.param(&self.store, self.u),
            b: tape.param(&self.store, self.b),
            h0: tape.param(&self.store, self.h0),
        }
    }
    fn rhs(&self, t: &mut Tape<f64>, p: &ToyParams, at: Stage<f64>, h: Var) -> Var {
        let k = ((at.step_mid() / self.delta).floor() as usize).min(self.inputs.len() - 1);
        let x = t.constant(self.batch, 1, &self.inputs[k]);
        let a = t.matmul_t(h, p.w);
        let c = t.matmul_t(x, p.u);
        let a = t.add(a, c);
        let a = t.add(a, p.b);
        let f = t.tanh(a);
        t.sub(f, h)
    }
}
