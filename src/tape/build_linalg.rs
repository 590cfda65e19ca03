//! Recording: products, linear combinations and row-wise log-sum-exp/softmax.

use super::op::{Bcast, Op};
use super::{Node, Tape, Var, WeightPacks, split_out};
use crate::Float;
use crate::dense::simd::Lanes;
use crate::dense::{self, Accum, MatMut, MatRef, Par};

impl<T: Float> Tape<T> {
    /// Matrix product `a · b` (`a` is m×k, `b` is k×n).
    ///
    /// # Panics
    /// If the inner dimensions differ.
    #[track_caller]
    pub fn matmul(&mut self, a: Var, b: Var) -> Var {
        self.product(a, b, false, None)
    }

    /// `a · bᵀ` (`a` is m×k, `b` is n×k): a batch of rows times a weight matrix stored
    /// `[out][in]`, the layer convention of SPEC §1.1.
    ///
    /// # Panics
    /// If the column counts differ.
    #[track_caller]
    pub fn matmul_t(&mut self, a: Var, b: Var) -> Var {
        self.product(a, b, true, None)
    }

    /// An affine layer `x Wᵀ + b` in one node (`x` is batch × in, `W` is out × in, `b` is
    /// `1 × out`, broadcast over the batch, or `batch × out`).
    ///
    /// # Panics
    /// If the shapes do not fit.
    #[track_caller]
    pub fn linear(&mut self, x: Var, w: Var, b: Option<Var>) -> Var {
        self.product(x, w, true, b)
    }

    #[track_caller]
    fn product(&mut self, a: Var, b: Var, tb: bool, c: Option<Var>) -> Var {
        let name = match (tb, c.is_some()) {
            (_, true) => "linear",
            (true, false) => "matmul_t",
            (false, false) => "matmul",
        };
        let (ia, ib) = (self.id(name, a), self.id(name, b));
        let (na, nb) = (self.nodes[ia], self.nodes[ib]);
        let (m, k) = (na.rows as usize, na.cols as usize);
        let (kb, n) = if tb {
            (nb.cols as usize, nb.rows as usize)
        } else {
            (nb.rows as usize, nb.cols as usize)
        };
        assert!(
            k == kb,
            "{name}: shapes {m}×{k} and {}×{} do not multiply{}",
            nb.rows,
            nb.cols,
            if tb {
                " (a·bᵀ needs equal column counts)"
            } else {
                ""
            }
        );
        let (ic, bcast, c_grad) = match c {
            None => (u32::MAX, Bcast::None, false),
            Some(c) => {
                let ic = self.id(name, c);
                let nc = self.nodes[ic];
                let bcast = match (nc.rows as usize, nc.cols as usize) {
                    (r, cc) if r == m && cc == n => Bcast::None,
                    (1, cc) if cc == n => Bcast::Row,
                    (r, cc) => panic!("{name}: the addend is {r}×{cc}; expected {m}×{n} or 1×{n}"),
                };
                (ic as u32, bcast, nc.needs_grad)
            }
        };
        let op = Op::MatMul {
            a: ia as u32,
            b: ib as u32,
            tb,
            c: ic,
            bcast,
        };
        // x·Wᵀ with a leaf W used by many products: pack Wᵀ (and W for the backward pass's
        // g·W, if x will want a gradient) once per recording.
        let cached = if tb && m > 1 && matches!(nb.op, Op::Leaf | Op::Param { .. }) {
            Some(self.packed_weight(ib, self.grad_enabled && na.needs_grad))
        } else {
            None
        };
        let idx = self.push(op, m, n, na.needs_grad || nb.needs_grad || c_grad);
        self.macs += (m * n * k) as u64;
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        let av = MatRef::new(&lo[na.range()], m, k);
        let bv = MatRef::new(&lo[nb.range()], nb.rows as usize, nb.cols as usize);
        let bv = if tb { bv.t() } else { bv };
        let accum = if ic == u32::MAX {
            Accum::Replace
        } else {
            let cv = &lo[self.nodes[ic as usize].range()];
            match bcast {
                Bcast::Row if n > 0 => out.chunks_exact_mut(n).for_each(|r| r.copy_from_slice(cv)),
                _ => out.copy_from_slice(&cv[..out.len()]),
            }
            Accum::Add
        };
        let dst = MatMut::new(out, m, n);
        match cached {
            Some(slot) => {
                let wt = &self.wt_cache[slot].wt;
                dense::gemm_prepacked(dst, accum, T::ONE, av, wt, self.par);
            }
            None => matmul_into(dst, accum, av, bv, self.par),
        }
        self.var(idx)
    }

    /// The cache slot holding leaf node `ib` packed as `Wᵀ` (and as `W` when `with_w`), packed
    /// on first use.
    pub(super) fn packed_weight(&mut self, ib: usize, with_w: bool) -> usize {
        let slot = match self.wt_cache.iter().position(|e| e.node == ib as u32) {
            Some(s) => s,
            None => {
                let s = match self.wt_cache.iter().position(|e| e.node == u32::MAX) {
                    Some(s) => s,
                    None => {
                        self.wt_cache.push(WeightPacks {
                            node: u32::MAX,
                            wt: dense::PackedRhs::new(),
                            w: dense::PackedRhs::new(),
                            has_w: false,
                        });
                        self.wt_cache.len() - 1
                    }
                };
                let nb = self.nodes[ib];
                let w = MatRef::new(&self.val[nb.range()], nb.rows as usize, nb.cols as usize);
                let e = &mut self.wt_cache[s];
                e.wt.pack(w.t());
                e.node = ib as u32;
                e.has_w = false;
                s
            }
        };
        if with_w && !self.wt_cache[slot].has_w {
            let nb = self.nodes[ib];
            let w = MatRef::new(&self.val[nb.range()], nb.rows as usize, nb.cols as usize);
            let e = &mut self.wt_cache[slot];
            e.w.pack(w);
            e.has_w = true;
        }
        slot
    }

    /// `a + s · b` (same shapes), the update of an explicit Runge–Kutta stage.
    #[track_caller]
    pub fn add_scaled(&mut self, a: Var, b: Var, s: T) -> Var {
        let (ia, ib) = (self.id("add_scaled", a), self.id("add_scaled", b));
        let (na, nb) = (self.nodes[ia], self.nodes[ib]);
        assert!(
            na.rows == nb.rows && na.cols == nb.cols,
            "add_scaled: shapes {}×{} and {}×{} differ",
            na.rows,
            na.cols,
            nb.rows,
            nb.cols
        );
        let op = Op::AddScaled {
            a: ia as u32,
            b: ib as u32,
            s,
        };
        let idx = self.push(
            op,
            na.rows as usize,
            na.cols as usize,
            na.needs_grad || nb.needs_grad,
        );
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        dense::add_scaled(out, &lo[na.range()], s, &lo[nb.range()]);
        self.var(idx)
    }

    /// `Σ_i c_i x_i` over equally shaped terms (one node, however many terms).
    ///
    /// # Panics
    /// If `terms` is empty or the shapes differ.
    #[track_caller]
    pub fn lin_comb(&mut self, terms: &[(Var, T)]) -> Var {
        assert!(!terms.is_empty(), "lin_comb: no terms");
        let i0 = self.id("lin_comb", terms[0].0);
        let n0 = self.nodes[i0];
        let start = self.aux.len();
        let mut needs = false;
        for &(v, c) in terms {
            let i = self.id("lin_comb", v);
            let n = self.nodes[i];
            assert!(
                n.rows == n0.rows && n.cols == n0.cols,
                "lin_comb: term shapes {}×{} and {}×{} differ",
                n0.rows,
                n0.cols,
                n.rows,
                n.cols
            );
            needs |= n.needs_grad;
            self.aux.push((i as u32, c));
        }
        let op = Op::LinComb {
            start: start as u32,
            len: terms.len() as u32,
        };
        let idx = self.push(op, n0.rows as usize, n0.cols as usize, needs);
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        lin_comb_values(out, &self.aux[start..], &self.nodes, lo);
        self.var(idx)
    }

    #[track_caller]
    fn rowwise(&mut self, a: Var, which: RowOp) -> Var {
        let name = which.name();
        let ia = self.id(name, a);
        let na = self.nodes[ia];
        let (r, c) = (na.rows as usize, na.cols as usize);
        let (op, oc) = match which {
            RowOp::Lse => (Op::LogSumExpRows(ia as u32), 1),
            RowOp::Softmax => (Op::SoftmaxRows(ia as u32), c),
            RowOp::LogSoftmax => (Op::LogSoftmaxRows(ia as u32), c),
        };
        let idx = self.push(op, r, oc, na.needs_grad);
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        let x = &lo[na.range()];
        match which {
            RowOp::Lse => dense::row_logsumexp(out, x, r, c),
            RowOp::Softmax => dense::row_softmax(out, x, r, c),
            RowOp::LogSoftmax => {
                for (o, xr) in out.chunks_exact_mut(c.max(1)).zip(x.chunks_exact(c.max(1))) {
                    let mut l = [T::ZERO];
                    dense::row_logsumexp(&mut l, xr, 1, c);
                    let lv = T::Lanes::splat(l[0]);
                    dense::map_with(o, xr, |v| v - lv);
                }
            }
        }
        self.var(idx)
    }

    /// The gated update `a·h + b·σ(z) ⊙ (f − h)` in one node (the gnODE vector field with
    /// `a = 0, b = 1/τ`, or its Euler step with `a = 1, b = α`).
    ///
    /// # Panics
    /// If the three shapes differ.
    #[track_caller]
    pub fn gated(&mut self, z: Var, f: Var, h: Var, a: T, b: T) -> Var {
        let (iz, ifl, ih) = (
            self.id("gated", z),
            self.id("gated", f),
            self.id("gated", h),
        );
        let (nz, nf, nh) = (self.nodes[iz], self.nodes[ifl], self.nodes[ih]);
        assert!(
            (nz.rows, nz.cols) == (nf.rows, nf.cols) && (nf.rows, nf.cols) == (nh.rows, nh.cols),
            "gated: shapes {}×{}, {}×{} and {}×{} differ",
            nz.rows,
            nz.cols,
            nf.rows,
            nf.cols,
            nh.rows,
            nh.cols
        );
        let op = Op::Gated {
            z: iz as u32,
            f: ifl as u32,
            h: ih as u32,
            a,
            b,
        };
        let needs = nz.needs_grad || nf.needs_grad || nh.needs_grad;
        let idx = self.push(op, nh.rows as usize, nh.cols as usize, needs);
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        let (av, bv) = (T::Lanes::splat(a), T::Lanes::splat(b));
        // `update3_with` ignores the old value of `out`: no copy first.
        dense::update3_with(
            out,
            &lo[nz.range()],
            &lo[nf.range()],
            &lo[nh.range()],
            |_, z, f, h| {
                let s = crate::dense::math::sigmoid::<T>(z);
                (bv * s).mul_add(f - h, av * h)
            },
        );
        self.var(idx)
    }

    /// The mGRU cell in one node: `a·h + b·σ(z_g) ⊙ (tanh(z_f) − h)`, where `z = [z_f | z_g]`
    /// (`rows × 2n`) holds the flow's and the gate's pre-activations side by side, as one
    /// stacked product `h [W_0; W_z]ᵀ + …` makes them, and `h` is `rows × n`.
    ///
    /// ```text
    /// ∂z_f = g b σ(z_g) tanh′(z_f),   ∂z_g = g b (tanh(z_f) − h) σ′(z_g),   ∂h = g (a − b σ(z_g))
    /// ```
    ///
    /// # Panics
    /// If `z` is not `rows × 2n` for `h` of `rows × n`, or `n = 0`.
    ///
    /// # Example
    /// ```
    /// use neurodyn::tape::Tape;
    /// let mut t = Tape::<f64>::new();
    /// let z = t.constant(1, 2, &[0.5, 0.0]); // z_f = 0.5, z_g = 0: σ = ½
    /// let h = t.constant(1, 1, &[0.25]);
    /// let y = t.gated_tanh(z, h, 0.0, 2.0); // σ(z_g)·2·(tanh z_f − h)
    /// assert!((t.value(y)[0] - (0.5_f64.tanh() - 0.25)).abs() < 1e-15);
    /// ```
    #[track_caller]
    pub fn gated_tanh(&mut self, z: Var, h: Var, a: T, b: T) -> Var {
        let (iz, ih) = (self.id("gated_tanh", z), self.id("gated_tanh", h));
        let (nz, nh) = (self.nodes[iz], self.nodes[ih]);
        assert!(
            nh.cols > 0 && nz.rows == nh.rows && nz.cols == 2 * nh.cols,
            "gated_tanh: pre-activations {}×{} do not fit a state of {}×{} (expected {}×{})",
            nz.rows,
            nz.cols,
            nh.rows,
            nh.cols,
            nh.rows,
            2 * nh.cols
        );
        let (rows, n) = (nh.rows as usize, nh.cols as usize);
        let needs_grad = self.grad_enabled && (nz.needs_grad || nh.needs_grad);
        // With a gradient to come, the forward pass also keeps the local derivatives (in a
        // constant node before the cell's), so that the backward pass takes no exponential.
        let coef = needs_grad.then(|| self.push(Op::Leaf, rows, 3 * n, false));
        let op = Op::GatedTanh {
            z: iz as u32,
            h: ih as u32,
            a,
            b,
            coef: coef.map_or(u32::MAX, |c| c as u32),
        };
        let idx = self.push(op, rows, n, needs_grad);
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        match coef {
            Some(c) => {
                let (before, cv) = lo.split_at_mut(self.nodes[c].off);
                let (zv, hv) = (&before[nz.range()], &before[nh.range()]);
                dense::gated_tanh_coefs(out, &mut cv[..3 * rows * n], zv, hv, n, a, b);
            }
            None => dense::gated_tanh(out, &lo[nz.range()], &lo[nh.range()], n, a, b),
        }
        self.var(idx)
    }

    /// Row-wise mixtures: `out_r = Σ_k w_rk · x_{r mod Rx}[k·N .. (k+1)·N]` (`w` is `R × K`,
    /// `x` is `Rx × K·N` with `R` a multiple of `Rx`; output `R × N`). A mixture of K
    /// per-row means, e.g. the emission mean `Σ_k z_tk μ_{k,t}` of M samples (`R = M·T`)
    /// with the means `μ` computed once per time step (`Rx = T`).
    ///
    /// ```text
    /// ∂w_rk = Σ_n g_rn x_{r mod Rx, kN+n},    ∂x_{r mod Rx, kN+n} += g_rn w_rk
    /// ```
    ///
    /// # Panics
    /// If `x`'s columns are not a multiple of `K` or `R` is not a multiple of `Rx`.
    ///
    /// # Example
    /// ```
    /// use neurodyn::tape::Tape;
    /// let mut t = Tape::<f64>::new();
    /// let w = t.constant(2, 2, &[1.0, 0.0, 0.25, 0.75]); // two samples of one time step
    /// let x = t.constant(1, 4, &[1.0, 2.0, 5.0, 6.0]);  // K = 2 blocks of N = 2
    /// let y = t.mix_rows(w, x);
    /// assert_eq!(t.value(y), &[1.0, 2.0, 4.0, 5.0]);
    /// ```
    #[track_caller]
    pub fn mix_rows(&mut self, w: Var, x: Var) -> Var {
        let (iw, ix) = (self.id("mix_rows", w), self.id("mix_rows", x));
        let (nw, nx) = (self.nodes[iw], self.nodes[ix]);
        let (r, k) = (nw.rows as usize, nw.cols as usize);
        let (rx, kn) = (nx.rows as usize, nx.cols as usize);
        assert!(
            k > 0 && kn % k == 0 && rx > 0 && r % rx == 0,
            "mix_rows: weights {r}×{k} and blocks {rx}×{kn} do not fit (columns of x must be a \
             multiple of K and the rows of w a multiple of the rows of x)"
        );
        let n = kn / k;
        let op = Op::MixRows {
            w: iw as u32,
            x: ix as u32,
        };
        let idx = self.push(op, r, n, nw.needs_grad || nx.needs_grad);
        self.macs += (r * k * n) as u64;
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        let (wv, xv) = (&lo[nw.range()], &lo[nx.range()]);
        if n > 0 {
            for (row, o) in out[..r * n].chunks_exact_mut(n).enumerate() {
                let xr = &xv[(row % rx) * kn..(row % rx + 1) * kn];
                let wr = &wv[row * k..(row + 1) * k];
                o.fill(T::ZERO);
                for (j, &c) in wr.iter().enumerate() {
                    dense::axpy(o, c, &xr[j * n..(j + 1) * n]);
                }
            }
        }
        self.var(idx)
    }

    /// `ln Σ_j exp(a_ij)` for each row (`rows × 1`), max-shifted.
    #[track_caller]
    pub fn logsumexp_rows(&mut self, a: Var) -> Var {
        self.rowwise(a, RowOp::Lse)
    }

    /// Softmax of each row.
    #[track_caller]
    pub fn softmax_rows(&mut self, a: Var) -> Var {
        self.rowwise(a, RowOp::Softmax)
    }

    /// `a_ij − logsumexp_j(a_ij)` for each row.
    #[track_caller]
    pub fn log_softmax_rows(&mut self, a: Var) -> Var {
        self.rowwise(a, RowOp::LogSoftmax)
    }
}

#[derive(Clone, Copy)]
enum RowOp {
    Lse,
    Softmax,
    LogSoftmax,
}

impl RowOp {
    fn name(self) -> &'static str {
        match self {
            RowOp::Lse => "logsumexp_rows",
            RowOp::Softmax => "softmax_rows",
            RowOp::LogSoftmax => "log_softmax_rows",
        }
    }
}

/// `dst (+)= a · b`, with the gemv kernel for single rows and the packed GEMM otherwise.
pub(crate) fn matmul_into<T: Float>(
    dst: MatMut<'_, T>,
    accum: Accum,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    par: Par,
) {
    // A single row against a transposed, row-major weight is a gemv over the weight's rows.
    if dst.rows == 1 && a.cs == 1 && b.rs == 1 && b.cs == b.rows && a.cols == b.rows {
        let (k, n) = (b.rows, b.cols);
        let w = &b.data[..n * k];
        dense::gemv(
            &mut dst.data[..n],
            accum,
            T::ONE,
            w,
            n,
            k,
            &a.data[..k],
            Par::Seq,
        );
        return;
    }
    dense::gemm(dst, accum, T::ONE, a, b, par);
}

/// `out = Σ_j c_j x_j` over `terms` (`(node, c_j)`, values read from `val`): the arithmetic of
/// [`Tape::lin_comb`], shared with the fused cell that takes its state as a combination, so
/// that both give the same bits.
pub(crate) fn lin_comb_values<T: Float>(
    out: &mut [T],
    terms: &[(u32, T)],
    nodes: &[Node<T>],
    val: &[T],
) {
    // Block by block, so the output block stays in L1 while every term is added to it (one
    // pass over memory instead of one per term).
    const BLOCK: usize = 1024;
    for b0 in (0..out.len()).step_by(BLOCK) {
        let b1 = (b0 + BLOCK).min(out.len());
        let ob = &mut out[b0..b1];
        for (j, &(i, c)) in terms.iter().enumerate() {
            let x = &val[nodes[i as usize].range()][b0..b1];
            if j == 0 {
                let cv = T::Lanes::splat(c);
                dense::map_with(ob, x, |x| x * cv);
            } else {
                dense::axpy(ob, c, x);
            }
        }
    }
}
