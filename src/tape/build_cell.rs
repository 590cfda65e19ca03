//! The mGRU cell of a gnODE stage as one node: stacked product, drive and activation fused,
//! so that the pre-activations pass through a reused scratch buffer instead of the tape.

use super::op::Op;
use super::{Tape, Var, split_out};
use crate::Float;
use crate::dense::{self, Accum, MatMut, MatRef};

impl<T: Float> Tape<T> {
    /// The mGRU cell with its product: with `[z_f | z_g] = h Wᵀ + c`,
    ///
    /// ```text
    /// y = a h + b σ(z_g) ⊙ (tanh(z_f) − h)
    /// ```
    ///
    /// for a state `h` (`rows × n`), a stacked weight `W = [W_f; W_g]` (`2n × n`) and an addend
    /// `c` (`rows × 2n`, or `1 × 2n` for every row). The same values and gradients as
    /// `gated_tanh(linear(h, W, Some(c)), h, a, b)`, bit for bit, in one node: the
    /// pre-activations go through a scratch buffer that stays in cache and are never stored,
    /// the cell keeps its local derivatives (when a gradient is to come), and the backward
    /// pass writes `∂z` once for `∂h`, `∂c` and the deferred `∂W`. A weight that is not a leaf,
    /// or a single row, takes the two-node route.
    ///
    /// # Panics
    /// If the shapes do not fit.
    ///
    /// # Example
    /// ```
    /// use neurodyn::tape::Tape;
    /// let mut t = Tape::<f64>::new();
    /// let h = t.variable(2, 1, &[0.5, -0.25]);
    /// let w = t.variable(2, 1, &[1.0, 2.0]); // [W_f; W_g], n = 1
    /// let c = t.constant(1, 2, &[0.1, 0.0]);
    /// let y = t.gated_tanh_cell(h, w, c, 0.0, 1.0);
    /// let z = t.linear(h, w, Some(c));
    /// let y2 = t.gated_tanh(z, h, 0.0, 1.0);
    /// assert_eq!(t.value(y), t.value(y2));
    /// ```
    #[track_caller]
    pub fn gated_tanh_cell(&mut self, h: Var, w: Var, c: Var, a: T, b: T) -> Var {
        let name = "gated_tanh_cell";
        let (ih, iw, ic) = (self.id(name, h), self.id(name, w), self.id(name, c));
        let (nh, nw, nc) = (self.nodes[ih], self.nodes[iw], self.nodes[ic]);
        let (rows, n) = (nh.rows as usize, nh.cols as usize);
        assert!(
            n > 0 && nw.rows as usize == 2 * n && nw.cols as usize == n,
            "{name}: the weight is {}×{}; a state of {rows}×{n} needs {}×{n}",
            nw.rows,
            nw.cols,
            2 * n
        );
        assert!(
            nc.cols as usize == 2 * n && (nc.rows as usize == rows || nc.rows == 1),
            "{name}: the addend is {}×{}; expected {rows}×{} or 1×{}",
            nc.rows,
            nc.cols,
            2 * n,
            2 * n
        );
        if rows < 2 || !matches!(nw.op, Op::Leaf | Op::Param { .. }) {
            let z = self.linear(h, w, Some(c));
            return self.gated_tanh(z, h, a, b);
        }
        let needs_grad = self.grad_enabled && (nh.needs_grad || nw.needs_grad || nc.needs_grad);
        let slot = self.packed_weight(iw, needs_grad && nh.needs_grad);
        let coef = needs_grad.then(|| self.push(Op::Leaf, rows, 3 * n, false));
        let op = Op::GatedTanhCell {
            h: ih as u32,
            w: iw as u32,
            c: ic as u32,
            a,
            b,
            coef: coef.map_or(u32::MAX, |k| k as u32),
        };
        let idx = self.push(op, rows, n, needs_grad);
        self.macs += (rows * 2 * n * n) as u64;
        let zc = 2 * n;
        let mut z = std::mem::take(&mut self.cell_scratch);
        if z.len() < rows * zc {
            z.resize(rows * zc, T::ZERO);
        }
        let zs = &mut z[..rows * zc];
        let hm = MatRef::new(&self.val[nh.range()], rows, n);
        let wt = &self.wt_cache[slot].wt;
        dense::gemm_prepacked(
            MatMut::new(zs, rows, zc),
            Accum::Replace,
            T::ONE,
            hm,
            wt,
            self.par,
        );
        let coef_off = coef.map(|k| self.nodes[k].off);
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        // With the stash: [inputs … | coef] below the output.
        let (inputs, mut stash) = match coef_off {
            Some(off) => {
                let (inputs, s) = lo.split_at_mut(off);
                (&*inputs, Some(s))
            }
            None => (&*lo, None),
        };
        let (hv, cv) = (&inputs[nh.range()], &inputs[nc.range()]);
        for r in 0..rows {
            let zr = &mut zs[r * zc..(r + 1) * zc];
            let cr = if nc.rows == 1 {
                cv
            } else {
                &cv[r * zc..(r + 1) * zc]
            };
            // z + c with one rounding, as the product's own addend.
            dense::axpy(zr, T::ONE, cr);
            let (yr, hr) = (&mut out[r * n..(r + 1) * n], &hv[r * n..(r + 1) * n]);
            match stash.as_deref_mut() {
                Some(s) => {
                    let cf = &mut s[r * 3 * n..(r + 1) * 3 * n];
                    dense::gated_tanh_coefs(yr, cf, zr, hr, n, a, b);
                }
                None => dense::gated_tanh(yr, zr, hr, n, a, b),
            }
        }
        self.cell_scratch = z;
        self.var(idx)
    }
}
