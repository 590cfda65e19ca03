//! The variational posterior's logits for every time row.
//!
//! ```text
//! per step (authors'):   ℓ_t = q.W y_t + q.b
//! bidirectional GRU:     g_t = Wx y_t + b   (per direction, [r | z | n] blocks of H)
//!                        r = σ(g_r + Wh_r h),  s = σ(g_z + Wh_z h),  n = tanh(g_n + r ⊙ (Wh_n h))
//!                        h' = n + s ⊙ (h − n),   h_0 = 0, run forwards and backwards per trial
//!                        ℓ_t = q.out.W [h→_t, h←_t] + q.out.b
//! then  q(z_t | y) = Concrete(ℓ_t, τ).
//! ```
//! The GRU costs O(T) small tape ops per direction; the per-step posterior is one product.

use super::Gdm;
use super::data::Sequences;
use super::params::{GdmVars, QVars};
use crate::Float;
use crate::tape::{Tape, Var};

impl<T: Float> Gdm<T> {
    /// Posterior logits for all time rows of `data` (`Σ T_i × K`); `y` is the observations
    /// already on the tape (`Σ T_i × N`).
    pub fn posterior_logits(
        &self,
        tape: &mut Tape<T>,
        v: &GdmVars,
        data: &Sequences<T>,
        y: Var,
    ) -> Var {
        match v.q {
            QVars::PerStep { w, b } => tape.linear(y, w, Some(b)),
            QVars::BiGru {
                fwd,
                bwd,
                out_w,
                out_b,
            } => {
                let hf = gru_pass(tape, fwd, data, y, false);
                let hb = gru_pass(tape, bwd, data, y, true);
                let h = tape.concat_cols(&[hf, hb]);
                tape.linear(h, out_w, Some(out_b))
            }
        }
    }
}

/// One direction of the GRU over every trial; returns the states aligned with the rows.
fn gru_pass<T: Float>(
    tape: &mut Tape<T>,
    p: [Var; 3],
    data: &Sequences<T>,
    y: Var,
    reverse: bool,
) -> Var {
    let [wx, wh, b] = p;
    let h3 = tape.shape(wh).0;
    let hid = h3 / 3;
    let gx = tape.linear(y, wx, Some(b));
    let starts = data.starts();
    let mut states = vec![None; data.total_steps()];
    for w in starts.windows(2) {
        let (s, e) = (w[0], w[1]);
        let mut h = tape.filled(1, hid, T::ZERO);
        for j in 0..e - s {
            let t = if reverse { e - 1 - j } else { s + j };
            let g = tape.slice_rows(gx, t, 1);
            let gh = tape.matmul_t(h, wh);
            let pre_rz = {
                let a = tape.slice_cols(g, 0, 2 * hid);
                let c = tape.slice_cols(gh, 0, 2 * hid);
                tape.add(a, c)
            };
            let rz = tape.sigmoid(pre_rz);
            let r = tape.slice_cols(rz, 0, hid);
            let zg = tape.slice_cols(rz, hid, hid);
            let gn = tape.slice_cols(g, 2 * hid, hid);
            let hn = tape.slice_cols(gh, 2 * hid, hid);
            let rh = tape.mul(r, hn);
            let pre_n = tape.add(gn, rh);
            let n = tape.tanh(pre_n);
            let d = tape.sub(h, n);
            let zd = tape.mul(zg, d);
            h = tape.add(n, zd);
            states[t] = Some(h);
        }
    }
    let parts: Vec<Var> = states
        .into_iter()
        .map(|h| h.expect("internal: every row has a state"))
        .collect();
    tape.concat_rows(&parts)
}
