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
        self.cell("gated_tanh_cell", &[(h, T::ONE)], w, c, a, b)
    }

    /// The mGRU cell of [`Tape::gated_tanh_cell`] at the state `h = Σ_i c_i x_i` (`terms`, as
    /// for [`Tape::lin_comb`]): the same values and gradients as
    /// `gated_tanh_cell(lin_comb(terms), w, c, a, b)`, bit for bit, without storing `h`. A
    /// Runge–Kutta stage evaluates its right-hand side at such a combination of the step's
    /// state and earlier stages; the cell sums it into scratch for its product, and the
    /// backward pass sums it again for the weight's gradient (`∂W = ∂zᵀ h`) instead of reading
    /// it from the tape, which then holds one value fewer per state element and stage.
    ///
    /// # Panics
    /// If `terms` is empty or the shapes do not fit.
    ///
    /// # Example
    /// ```
    /// use neurodyn::tape::Tape;
    /// let mut t = Tape::<f64>::new();
    /// let y = t.variable(2, 1, &[0.5, -0.25]);
    /// let k = t.variable(2, 1, &[1.0, 3.0]);
    /// let w = t.variable(2, 1, &[1.0, 2.0]); // [W_f; W_g], n = 1
    /// let c = t.constant(1, 2, &[0.1, 0.0]);
    /// let before = t.num_values();
    /// let cell = t.gated_tanh_cell_comb(&[(y, 1.0), (k, 0.5)], w, c, 0.0, 1.0);
    /// // the output and the cell's local derivatives; no state
    /// assert_eq!(t.num_values() - before, 2 + 6);
    /// let h = t.lin_comb(&[(y, 1.0), (k, 0.5)]);
    /// let cell2 = t.gated_tanh_cell(h, w, c, 0.0, 1.0);
    /// assert_eq!(t.value(cell), t.value(cell2));
    /// ```
    #[track_caller]
    pub fn gated_tanh_cell_comb(&mut self, terms: &[(Var, T)], w: Var, c: Var, a: T, b: T) -> Var {
        self.cell("gated_tanh_cell_comb", terms, w, c, a, b)
    }

    #[track_caller]
    fn cell(&mut self, name: &str, terms: &[(Var, T)], w: Var, c: Var, a: T, b: T) -> Var {
        assert!(!terms.is_empty(), "{name}: no terms");
        let ih = self.id(name, terms[0].0);
        let (iw, ic) = (self.id(name, w), self.id(name, c));
        let (nh, nw, nc) = (self.nodes[ih], self.nodes[iw], self.nodes[ic]);
        let (rows, n) = (nh.rows as usize, nh.cols as usize);
        let mut h_needs_grad = false;
        for &(v, _) in terms {
            let nv = self.nodes[self.id(name, v)];
            assert!(
                nv.rows == nh.rows && nv.cols == nh.cols,
                "{name}: term shapes {}×{} and {rows}×{n} differ",
                nv.rows,
                nv.cols
            );
            h_needs_grad |= nv.needs_grad;
        }
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
        let in_place = terms.len() == 1 && terms[0].1 == T::ONE;
        if rows < 2 || !matches!(nw.op, Op::Leaf | Op::Param { .. }) {
            let h = if in_place {
                terms[0].0
            } else {
                self.lin_comb(terms)
            };
            let z = self.linear(h, w, Some(c));
            return self.gated_tanh(z, h, a, b);
        }
        let needs_grad = self.grad_enabled && (h_needs_grad || nw.needs_grad || nc.needs_grad);
        let slot = self.packed_weight(iw, needs_grad && h_needs_grad);
        let coef = needs_grad.then(|| self.push(Op::Leaf, rows, 3 * n, false));
        let state = self.aux.len();
        self.aux.extend(terms.iter().map(|&(v, c)| (v.idx, c)));
        let op = Op::GatedTanhCell {
            state: state as u32,
            len: terms.len() as u32,
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
        let need = rows * zc + if in_place { 0 } else { rows * n };
        if z.len() < need {
            z.resize(need, T::ZERO);
        }
        let (zs, hs) = z[..need].split_at_mut(rows * zc);
        let Tape {
            nodes,
            val,
            aux,
            wt_cache,
            par,
            ..
        } = self;
        let coef_off = coef.map(|k| nodes[k].off);
        let (lo, out) = split_out(val, &nodes[idx]);
        // With the stash: [inputs … | coef] below the output.
        let (inputs, mut stash) = match coef_off {
            Some(off) => {
                let (inputs, s) = lo.split_at_mut(off);
                (&*inputs, Some(s))
            }
            None => (&*lo, None),
        };
        let hv = if in_place {
            &inputs[nh.range()]
        } else {
            super::build_linalg::lin_comb_values(hs, &aux[state..], nodes, inputs);
            &*hs
        };
        dense::gemm_prepacked(
            MatMut::new(zs, rows, zc),
            Accum::Replace,
            T::ONE,
            MatRef::new(hv, rows, n),
            &wt_cache[slot].wt,
            *par,
        );
        let cv = &inputs[nc.range()];
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
