//! The velocity MLP and its divergence `tr(∂v/∂x)`, both recorded with tape ops.
//!
//! ```text
//! h_1 = W_0 [x; c; t] + b_0,   a_l = act(h_l),   h_{l+1} = W_l a_l + b_l,   v = W_L a_L + b_L
//! tangent of direction e:  T_1 = act′(h_1) ⊙ (W_0x e),   T_{l+1} = act′(h_{l+1}) ⊙ (W_l T_l),
//!                          J e = W_L T_L                  (W_0x: the first d columns of W_0)
//! exact:       tr J = Σ_j e_jᵀ J e_j                        (d tangents, the unit vectors)
//! one layer:   tr J = Σ_k act′(h_k) · Σ_j W_0[k, j] W_1[j, k] = act′(h_1) · rowsum(W_0x ∘ W_1ᵀ)
//! Hutchinson:  tr J ≈ (1/K) Σ_k ε_kᵀ J ε_k,   E[ε εᵀ] = I   (K random tangents)
//! ```
//! The derivative ops (`tanh_prime`, `silu_prime`, `softplus_prime`, `sigmoid_prime`) carry
//! their own derivative rules, so the divergence can be differentiated with respect to the
//! parameters (maximum likelihood, entropy) while the tape stays first order.

use super::Cnf;
use crate::Float;
use crate::models::Activation;
use crate::tape::{Tape, Var};

/// A CNF's parameters recorded on one tape.
#[derive(Clone, Debug)]
pub struct CnfVars {
    /// `vel.l.W` for every layer.
    pub w: Vec<Var>,
    /// `vel.l.b` for every layer.
    pub b: Vec<Var>,
}

/// How the divergence is computed.
#[derive(Clone, Debug, PartialEq)]
pub enum Trace<T> {
    /// Exactly, with `d` tangents (one hidden layer: the closed form).
    Exact,
    /// Hutchinson's estimator with the given probe vectors, `K × d` row-major (`K` probes, each
    /// applied to every row of the batch; Rademacher or Gaussian entries).
    Hutchinson(Vec<T>),
}

impl<T: Float> Cnf<T> {
    /// Records the parameters on `tape`.
    pub fn record(&self, tape: &mut Tape<T>) -> CnfVars {
        self.record_from(tape, self.store())
    }

    /// Records the parameters taking their values from `s` (a store with this CNF's layout).
    ///
    /// # Panics
    /// If `s` has a different layout.
    pub fn record_from(&self, tape: &mut Tape<T>, s: &crate::tape::ParamStore<T>) -> CnfVars {
        assert_eq!(
            s.infos(),
            self.store().infos(),
            "record_from: the store's layout differs from the CNF's"
        );
        CnfVars {
            w: self.w.iter().map(|&id| tape.param(s, id)).collect(),
            b: self.b.iter().map(|&id| tape.param(s, id)).collect(),
        }
    }

    /// The MLP input `[x; c; t]` for a batch `x` (`B × d`), conditioning `c` (`B × C`) and time
    /// `t` (`B × 1`).
    fn input(&self, tape: &mut Tape<T>, x: Var, cond: Option<Var>, t: Var) -> Var {
        match cond {
            Some(c) => tape.concat_cols(&[x, c, t]),
            None => tape.concat_cols(&[x, t]),
        }
    }

    /// `v(x, t)` (`B × d`) with one time per row (`t` is `B × 1`): what flow matching needs.
    ///
    /// # Panics
    /// On shape mismatches.
    pub fn velocity_at(
        &self,
        tape: &mut Tape<T>,
        v: &CnfVars,
        x: Var,
        cond: Option<Var>,
        t: Var,
    ) -> Var {
        let mut a = self.input(tape, x, cond, t);
        let last = v.w.len() - 1;
        for l in 0..last {
            let h = tape.linear(a, v.w[l], Some(v.b[l]));
            a = self.cfg.activation.apply(tape, h);
        }
        tape.linear(a, v.w[last], Some(v.b[last]))
    }

    /// `v(x, t)` and `tr(∂v/∂x)` (`B × d` and `B × 1`) at one time `t` for the whole batch.
    ///
    /// # Panics
    /// On shape mismatches, or Hutchinson probes whose length is not a multiple of `d`.
    pub fn velocity_div(
        &self,
        tape: &mut Tape<T>,
        v: &CnfVars,
        x: Var,
        cond: Option<Var>,
        t: T,
        trace: &Trace<T>,
    ) -> (Var, Var) {
        let (b, d) = tape.shape(x);
        let tc = tape.filled(b, 1, t);
        let inp = self.input(tape, x, cond, tc);
        let last = v.w.len() - 1;
        // forward values and activation derivatives
        let mut a = inp;
        let mut dacts = Vec::with_capacity(last);
        for l in 0..last {
            let h = tape.linear(a, v.w[l], Some(v.b[l]));
            a = self.cfg.activation.apply(tape, h);
            dacts.push(activation_prime(tape, self.cfg.activation, h));
        }
        let vel = tape.linear(a, v.w[last], Some(v.b[last]));
        let w0x = tape.slice_cols(v.w[0], 0, d);
        let div = match trace {
            Trace::Exact if last == 1 => {
                // Σ_k act′(h_k) rowsum(W_0x ∘ W_1ᵀ)_k
                let w1t = tape.transpose(v.w[1]);
                let prod = tape.mul(w0x, w1t);
                let c = tape.row_sums(prod);
                tape.matmul(dacts[0], c)
            }
            Trace::Exact => {
                let mut e = vec![T::ZERO; d * b * d];
                for j in 0..d {
                    for r in 0..b {
                        e[(j * b + r) * d + j] = T::ONE;
                    }
                }
                tangent_trace(tape, v, &dacts, w0x, &e, b, d, T::ONE)
            }
            Trace::Hutchinson(probes) => {
                assert!(
                    !probes.is_empty() && probes.len().is_multiple_of(d),
                    "velocity_div: {} probe values do not form K × {d} probes",
                    probes.len()
                );
                let k = probes.len() / d;
                let mut e = Vec::with_capacity(k * b * d);
                for p in probes.chunks_exact(d) {
                    for _ in 0..b {
                        e.extend_from_slice(p);
                    }
                }
                tangent_trace(tape, v, &dacts, w0x, &e, b, d, T::ONE / T::from_usize(k))
            }
        };
        (vel, div)
    }
}

/// `Σ_k coef · e_kᵀ J e_k` per row for tangents `e` (`K·B × d`, block k for all B rows).
#[allow(clippy::too_many_arguments)]
fn tangent_trace<T: Float>(
    tape: &mut Tape<T>,
    v: &CnfVars,
    dacts: &[Var],
    w0x: Var,
    e: &[T],
    b: usize,
    d: usize,
    coef: T,
) -> Var {
    let k = e.len() / (b * d);
    let ev = tape.constant(k * b, d, e);
    let repeat = |tape: &mut Tape<T>, x: Var| {
        if k == 1 {
            x
        } else {
            tape.concat_rows(&vec![x; k])
        }
    };
    let pre = tape.matmul_t(ev, w0x);
    let d0 = repeat(tape, dacts[0]);
    let mut tan = tape.mul(d0, pre);
    for (l, &da) in dacts.iter().enumerate().skip(1) {
        let pre = tape.matmul_t(tan, v.w[l]);
        let dl = repeat(tape, da);
        tan = tape.mul(dl, pre);
    }
    let je = tape.matmul_t(tan, v.w[dacts.len()]);
    let q = tape.mul(je, ev);
    let q = tape.row_sums(q);
    let terms: Vec<(Var, T)> = (0..k)
        .map(|j| (tape.slice_rows(q, j * b, b), coef))
        .collect();
    tape.lin_comb(&terms)
}

/// `act′(h)` as a derivative op.
fn activation_prime<T: Float>(tape: &mut Tape<T>, act: Activation, h: Var) -> Var {
    match act {
        Activation::Tanh => tape.tanh_prime(h),
        Activation::Silu => tape.silu_prime(h),
        Activation::Softplus => tape.softplus_prime(h),
        Activation::Sigmoid => tape.sigmoid_prime(h),
        Activation::Relu => unreachable!("internal: CnfConfig::validate rejects relu"),
    }
}
