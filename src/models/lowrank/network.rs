//! Recording a low-rank network on the tape: parameters, input drives and the vector field.

use super::LowRank;
use crate::Float;
use crate::tape::{ParamStore, Tape, Var};

/// A low-rank network's parameters recorded on one tape.
#[derive(Clone, Copy, Debug)]
pub struct LowRankVars {
    /// `m` (`N × R`).
    pub m: Var,
    /// `n` (`N × R`).
    pub n: Var,
    /// `input` (`N × S`), when S > 0.
    pub input: Option<Var>,
    /// Stored initial states (`K × N`), when K > 0.
    pub x0: Option<Var>,
}

impl<T: Float> LowRank<T> {
    /// Records the parameters on `tape`.
    pub fn record(&self, tape: &mut Tape<T>) -> LowRankVars {
        self.record_from(tape, self.store())
    }

    /// Records the parameters taking their values from `s`, a store with this network's layout
    /// (finite-difference checks perturb a copy).
    ///
    /// # Panics
    /// If `s` has a different layout.
    pub fn record_from(&self, tape: &mut Tape<T>, s: &ParamStore<T>) -> LowRankVars {
        assert_eq!(
            s.infos(),
            self.store().infos(),
            "record_from: the store's layout differs from the network's"
        );
        LowRankVars {
            m: tape.param(s, self.ids.m),
            n: tape.param(s, self.ids.n),
            input: self.ids.input.map(|id| tape.param(s, id)),
            x0: self.ids.x0.map(|id| tape.param(s, id)),
        }
    }

    /// The input drive `u Iᵀ` (`batch × N`) of inputs `u` (`batch × S`); `None` without inputs.
    pub fn drive(&self, tape: &mut Tape<T>, v: &LowRankVars, u: Var) -> Option<Var> {
        v.input.map(|i| tape.matmul_t(u, i))
    }

    /// The latent recurrent input `κ̃ = φ(X) N / N` (`batch × R`) of states `X` (`batch × N`):
    /// what the network's `R` right loadings read out.
    pub fn recurrent_latent(&self, tape: &mut Tape<T>, v: &LowRankVars, x: Var) -> Var {
        let phi = tape.tanh(x);
        let k = tape.matmul(phi, v.n);
        tape.scale(k, T::ONE / T::from_usize(self.config().neurons))
    }

    /// The vector field `f(X) = (−X + κ̃ Mᵀ + drive)/τ` for states `X` (`batch × N`), where
    /// `κ̃ = φ(X) N / N` and `drive = u Iᵀ` (or nothing).
    ///
    /// ```text
    /// cost: two N × R products per state; the N × N matrix is never formed
    /// ```
    pub fn velocity(&self, tape: &mut Tape<T>, v: &LowRankVars, x: Var, drive: Option<Var>) -> Var {
        let k = self.recurrent_latent(tape, v, x);
        let rec = tape.linear(k, v.m, drive);
        let inv_tau = T::from_f64(1.0 / self.config().tau);
        tape.lin_comb(&[(rec, inv_tau), (x, -inv_tau)])
    }

    /// The stored initial states `k` (a list of row indices into `x0`) as a `batch × N` node.
    ///
    /// # Panics
    /// Without stored initial states, or an index out of range.
    pub fn initial_states(&self, tape: &mut Tape<T>, v: &LowRankVars, rows: &[usize]) -> Var {
        let x0 =
            v.x0.expect("initial_states: the network stores no initial states");
        let parts: Vec<Var> = rows.iter().map(|&k| tape.slice_rows(x0, k, 1)).collect();
        if parts.len() == 1 {
            parts[0]
        } else {
            tape.concat_rows(&parts)
        }
    }
}
