//! The generative model's pieces on the tape, shared by the ELBO, inference and forecasting.
//!
//! ```text
//! projection:   p_t = F y_t                                          (rows × D)
//! lags:         x_t = [p_{t−1}, …, p_{t−L}]   (0 where t−l is before the trial)
//! emissions:    μ_{k,t} = S_k x_t + b_k + V_k u_t   (t ≥ L),   μ_{k,t} = mu_init_k  (t < L)
//! transitions:  c_t = R p_{t−1} + r + R_u u_t
//!               a_t = (1 − γ) c_t + γ z_{t−1} = c_t + γ (z_{t−1} − c_t)   (t ≥ 2),
//!               a_1 = logits_z1
//! mixture:      m_t = Σ_k z_tk μ_{k,t}
//! ```

use super::Gdm;
use super::elbo::Prepared;
use super::params::GdmVars;
use crate::Float;
use crate::tape::{Tape, Var};

/// The per-time pieces of the model for the `Σ T_i` rows of some data.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimeTerms {
    /// Observations (`rows × N`).
    pub y: Var,
    /// Inputs (`rows × I`), if any.
    pub u: Option<Var>,
    /// `p_{t−1} = F y_{t−1}` (0 at each trial's first step).
    pub p_prev: Var,
    /// `μ_{k,t}` with the `mu_init` rows substituted (`rows × K·N`).
    pub mu: Var,
}

impl<T: Float> Gdm<T> {
    /// Observations, inputs, previous projections and emission means for every time row.
    pub(crate) fn time_terms(
        &self,
        tape: &mut Tape<T>,
        v: &GdmVars,
        prep: &Prepared<T>,
    ) -> TimeTerms {
        let c = &self.cfg;
        let lay = &prep.layout;
        let rt = lay.rows;
        let y = tape.constant(rt, c.obs, prep.data.y());
        let u = (c.inputs > 0).then(|| tape.constant(rt, c.inputs, prep.data.u()));
        let p = self.project(tape, v, y);
        let lagged: Vec<Var> = (1..=c.lags)
            .map(|l| {
                let s = shift_rows(tape, p, l);
                masked(tape, s, &lay.lag_ok[l - 1])
            })
            .collect();
        let x = if lagged.len() == 1 {
            lagged[0]
        } else {
            tape.concat_cols(&lagged)
        };
        let mu_dyn = self.emission_dyn(tape, v, x, u);
        let mu_late = masked(tape, mu_dyn, &lay.late);
        let early = tape.constant(rt, 1, &lay.early);
        let mu_early = tape.matmul(early, v.mu_init);
        let mu = tape.add(mu_late, mu_early);
        TimeTerms {
            y,
            u,
            p_prev: lagged[0],
            mu,
        }
    }

    /// `y Fᵀ` for rows of observations (`rows × N → rows × D`).
    pub fn project(&self, tape: &mut Tape<T>, v: &GdmVars, y: Var) -> Var {
        tape.matmul_t(y, v.f)
    }

    /// The emission means from lagged projections `x` (`rows × L·D`) and optional inputs
    /// (`rows × I`), before the `mu_init` rows are substituted: `rows × K·N`, state `k` in
    /// columns `k·N .. (k+1)·N`.
    pub fn emission_dyn(&self, tape: &mut Tape<T>, v: &GdmVars, x: Var, u: Option<Var>) -> Var {
        let mu = tape.linear(x, v.s, Some(v.b));
        match (u, v.v) {
            (Some(u), Some(vv)) => {
                let c = tape.matmul_t(u, vv);
                tape.add(mu, c)
            }
            _ => mu,
        }
    }

    /// `c_t = R p_{t−1} + r (+ R_u u_t)` from the previous projection (`rows × D → rows × K`).
    pub fn transition_base(
        &self,
        tape: &mut Tape<T>,
        v: &GdmVars,
        p_prev: Var,
        u: Option<Var>,
    ) -> Var {
        let c = tape.linear(p_prev, v.r_mat, Some(v.r_bias));
        match (u, v.r_u) {
            (Some(u), Some(ru)) => {
                let d = tape.matmul_t(u, ru);
                tape.add(c, d)
            }
            _ => c,
        }
    }

    /// `c + γ (z_prev − c)`: the sticky transition logits.
    pub fn sticky(&self, tape: &mut Tape<T>, v: &GdmVars, c: Var, z_prev: Var) -> Var {
        let d = tape.sub(z_prev, c);
        let gd = tape.mul(d, v.gamma);
        tape.add(c, gd)
    }

    /// `Σ_k z_k μ_k` for every row: `z` is `R × K`, `mu` is `Rx × K·N` (state `k` in columns
    /// `k·N .. (k+1)·N`) with `R` a multiple of `Rx` (the samples share the means); `R × N`.
    pub fn mix(&self, tape: &mut Tape<T>, z: Var, mu: Var) -> Var {
        tape.mix_rows(z, mu)
    }
}

/// `x` shifted down by `l` rows (zeros on top): row `t` holds row `t − l`.
pub(crate) fn shift_rows<T: Float>(tape: &mut Tape<T>, x: Var, l: usize) -> Var {
    let (rows, cols) = tape.shape(x);
    if l == 0 {
        return x;
    }
    if l >= rows {
        return tape.filled(rows, cols, T::ZERO);
    }
    let z = tape.filled(l, cols, T::ZERO);
    let s = tape.slice_rows(x, 0, rows - l);
    tape.concat_rows(&[z, s])
}

/// `rows × 1` mask `m` (a constant) times `x` (column broadcast).
pub(crate) fn masked<T: Float>(tape: &mut Tape<T>, x: Var, m: &[T]) -> Var {
    let mv = tape.constant(m.len(), 1, m);
    tape.mul(x, mv)
}

/// `n` copies of `x` stacked (the M samples as row blocks).
pub(crate) fn repeat<T: Float>(tape: &mut Tape<T>, x: Var, n: usize) -> Var {
    if n == 1 {
        return x;
    }
    let parts = vec![x; n];
    tape.concat_rows(&parts)
}
