//! Recording: leaves, elementwise ops and reductions (forward compute + push).

use super::op::{Axis, Bcast, BinKind, Op};
use super::params::{ParamId, ParamStore};
use super::{Tape, Var, split_out};
use crate::Float;
use crate::dense::simd::Lanes;
use crate::dense::{self, Unary};

impl<T: Float> Tape<T> {
    /// A constant input (no gradient flows to it).
    ///
    /// # Panics
    /// If `data.len() != rows·cols`.
    #[track_caller]
    pub fn constant(&mut self, rows: usize, cols: usize, data: &[T]) -> Var {
        self.leaf(rows, cols, data, false)
    }

    /// A `rows × cols` constant filled with `value`.
    pub fn filled(&mut self, rows: usize, cols: usize, value: T) -> Var {
        let i = self.push(Op::Leaf, rows, cols, false);
        let r = self.nodes[i].range();
        self.val[r].fill(value);
        self.var(i)
    }

    /// A free variable: a leaf whose gradient [`Tape::grad`] reports after `backward`.
    ///
    /// # Panics
    /// If `data.len() != rows·cols`.
    #[track_caller]
    pub fn variable(&mut self, rows: usize, cols: usize, data: &[T]) -> Var {
        self.leaf(rows, cols, data, true)
    }

    #[track_caller]
    fn leaf(&mut self, rows: usize, cols: usize, data: &[T], needs_grad: bool) -> Var {
        assert_eq!(
            data.len(),
            rows * cols,
            "leaf: {} values for a {rows}×{cols} node",
            data.len()
        );
        let i = self.push(Op::Leaf, rows, cols, needs_grad);
        let r = self.nodes[i].range();
        self.val[r].copy_from_slice(data);
        self.var(i)
    }

    /// Records a parameter (copies its current values); after `backward`,
    /// [`Tape::accumulate_param_grads`] adds its gradient into a `Grads`.
    pub fn param(&mut self, store: &ParamStore<T>, id: ParamId) -> Var {
        let info = store.info(id);
        self.param_span(store, &[id], info.rows, info.cols)
    }

    /// Records consecutive parameters as one node: their values, in store order, read as one
    /// `rows × cols` matrix. Weights that multiply the same input (`[W_0; W_z]`, each
    /// `n_i × k`) stack into `(Σ n_i) × k`; bias rows (`1 × n_i`) join into `1 × Σ n_i`. Its
    /// gradient flows back to every part, and as a parameter node its weight gradient is
    /// summed over all uses by one deferred GEMM, like [`Tape::param`]'s.
    ///
    /// # Panics
    /// If `ids` is empty, the parameters are not adjacent in the store in this order, or
    /// `rows × cols` differs from their total length.
    ///
    /// # Example
    /// ```
    /// use neurodyn::tape::{ParamStore, Tape};
    /// let mut s = ParamStore::<f64>::new();
    /// let a = s.add("a", 1, 2, &[1.0, 2.0])?;
    /// let b = s.add("b", 1, 1, &[3.0])?;
    /// let mut t = Tape::new();
    /// let ab = t.param_span(&s, &[a, b], 1, 3);
    /// assert_eq!(t.value(ab), &[1.0, 2.0, 3.0]);
    /// # Ok::<(), neurodyn::ConfigError>(())
    /// ```
    #[track_caller]
    pub fn param_span(
        &mut self,
        store: &ParamStore<T>,
        ids: &[ParamId],
        rows: usize,
        cols: usize,
    ) -> Var {
        let first = store.info(*ids.first().expect("param_span: no parameters"));
        let mut end = first.offset;
        for &id in ids {
            let info = store.info(id);
            assert!(
                info.offset == end,
                "param_span: `{}` does not follow the previous parameter in the store",
                info.name
            );
            end += info.len();
        }
        let off = first.offset;
        assert_eq!(
            rows * cols,
            end - off,
            "param_span: {rows}×{cols} for {} values",
            end - off
        );
        let i = self.push(
            Op::Param {
                id: ids[0],
                store_off: off,
            },
            rows,
            cols,
            true,
        );
        let r = self.nodes[i].range();
        self.val[r].copy_from_slice(&store.as_slice()[off..end]);
        self.var(i)
    }

    #[track_caller]
    fn binary(&mut self, kind: BinKind, a: Var, b: Var) -> Var {
        let name = Op::<T>::Binary {
            kind,
            a: 0,
            b: 0,
            bcast: Bcast::None,
        }
        .name();
        let (ia, ib) = (self.id(name, a), self.id(name, b));
        let (na, nb) = (self.nodes[ia], self.nodes[ib]);
        let (ra, ca, rb, cb) = (na.rows, na.cols, nb.rows, nb.cols);
        let bcast = if (ra, ca) == (rb, cb) {
            Bcast::None
        } else if rb == 1 && cb == ca {
            Bcast::Row
        } else if rb == ra && cb == 1 {
            Bcast::Col
        } else if rb == 1 && cb == 1 {
            Bcast::Scalar
        } else {
            panic!(
                "{name}: shapes {ra}×{ca} and {rb}×{cb} do not broadcast (the right operand \
                 may be 1×{ca}, {ra}×1 or 1×1)"
            );
        };
        let op = Op::Binary {
            kind,
            a: ia as u32,
            b: ib as u32,
            bcast,
        };
        let idx = self.push(op, ra as usize, ca as usize, na.needs_grad || nb.needs_grad);
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        let (av, bv) = (&lo[na.range()], &lo[nb.range()]);
        match kind {
            BinKind::Add => bin_fwd(out, av, bv, ca as usize, bcast, |x, y| x + y),
            BinKind::Sub => bin_fwd(out, av, bv, ca as usize, bcast, |x, y| x - y),
            BinKind::Mul => bin_fwd(out, av, bv, ca as usize, bcast, |x, y| x * y),
            BinKind::Div => bin_fwd(out, av, bv, ca as usize, bcast, |x, y| x / y),
        }
        self.var(idx)
    }

    /// `a + b`; `b` may be `1×cols` (bias over a batch), `rows×1` or `1×1`.
    ///
    /// # Panics
    /// If the shapes do not broadcast, or a `Var` is foreign.
    #[track_caller]
    pub fn add(&mut self, a: Var, b: Var) -> Var {
        self.binary(BinKind::Add, a, b)
    }

    /// `a − b` (broadcast as [`Tape::add`]).
    #[track_caller]
    pub fn sub(&mut self, a: Var, b: Var) -> Var {
        self.binary(BinKind::Sub, a, b)
    }

    /// `a ∘ b` elementwise (broadcast as [`Tape::add`]).
    #[track_caller]
    pub fn mul(&mut self, a: Var, b: Var) -> Var {
        self.binary(BinKind::Mul, a, b)
    }

    /// `a / b` elementwise (broadcast as [`Tape::add`]).
    #[track_caller]
    pub fn div(&mut self, a: Var, b: Var) -> Var {
        self.binary(BinKind::Div, a, b)
    }

    /// `s · a`.
    #[track_caller]
    pub fn scale(&mut self, a: Var, s: T) -> Var {
        let ia = self.id("scale", a);
        let na = self.nodes[ia];
        let idx = self.push(
            Op::Scale(ia as u32, s),
            na.rows as usize,
            na.cols as usize,
            na.needs_grad,
        );
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        let sv = T::Lanes::splat(s);
        dense::map_with(out, &lo[na.range()], |x| x * sv);
        self.var(idx)
    }

    /// `−a`.
    #[track_caller]
    pub fn neg(&mut self, a: Var) -> Var {
        self.scale(a, -T::ONE)
    }

    /// `a + s` elementwise.
    #[track_caller]
    pub fn add_scalar(&mut self, a: Var, s: T) -> Var {
        let ia = self.id("add_scalar", a);
        let na = self.nodes[ia];
        let op = Op::AddScalar(ia as u32, s);
        let idx = self.push(op, na.rows as usize, na.cols as usize, na.needs_grad);
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        let sv = T::Lanes::splat(s);
        dense::map_with(out, &lo[na.range()], |x| x + sv);
        self.var(idx)
    }

    /// `f(a)` elementwise for any [`Unary`] function.
    #[track_caller]
    ///
    /// # Panics
    /// For the second-derivative maps (`TanhSecond`, `SigmoidSecond`, `SiluSecond`): they exist
    /// for the VJPs of the first-derivative ops, and the tape is first order.
    pub fn map(&mut self, a: Var, f: Unary) -> Var {
        assert!(
            !matches!(
                f,
                Unary::TanhSecond | Unary::SigmoidSecond | Unary::SiluSecond
            ),
            "map: {f:?} is a VJP helper and cannot be recorded (the tape is first order)"
        );
        let ia = self.id("map", a);
        let na = self.nodes[ia];
        let idx = self.push(
            Op::Map(f, ia as u32),
            na.rows as usize,
            na.cols as usize,
            na.needs_grad,
        );
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        dense::map(out, &lo[na.range()], f);
        self.var(idx)
    }

    /// `e^a`.
    #[track_caller]
    pub fn exp(&mut self, a: Var) -> Var {
        self.map(a, Unary::Exp)
    }
    /// `ln a`.
    #[track_caller]
    pub fn ln(&mut self, a: Var) -> Var {
        self.map(a, Unary::Ln)
    }
    /// `tanh a`.
    #[track_caller]
    pub fn tanh(&mut self, a: Var) -> Var {
        self.map(a, Unary::Tanh)
    }
    /// `σ(a) = 1/(1 + e^{−a})`.
    #[track_caller]
    pub fn sigmoid(&mut self, a: Var) -> Var {
        self.map(a, Unary::Sigmoid)
    }
    /// `max(a, 0)`.
    #[track_caller]
    pub fn relu(&mut self, a: Var) -> Var {
        self.map(a, Unary::Relu)
    }
    /// `ln(1 + e^a)`.
    #[track_caller]
    pub fn softplus(&mut self, a: Var) -> Var {
        self.map(a, Unary::Softplus)
    }
    /// `a σ(a)`.
    #[track_caller]
    pub fn silu(&mut self, a: Var) -> Var {
        self.map(a, Unary::Silu)
    }
    /// `a²`.
    #[track_caller]
    pub fn square(&mut self, a: Var) -> Var {
        self.map(a, Unary::Square)
    }
    /// `√a`.
    #[track_caller]
    pub fn sqrt(&mut self, a: Var) -> Var {
        self.map(a, Unary::Sqrt)
    }
    /// `tanh′(a) = 1 − tanh² a`, an op of its own (its VJP uses `tanh″`).
    #[track_caller]
    pub fn tanh_prime(&mut self, a: Var) -> Var {
        self.map(a, Unary::TanhPrime)
    }
    /// `σ′(a) = σ(a)(1 − σ(a))`, an op of its own.
    #[track_caller]
    pub fn sigmoid_prime(&mut self, a: Var) -> Var {
        self.map(a, Unary::SigmoidPrime)
    }
    /// `softplus′(a) = σ(a)`.
    #[track_caller]
    pub fn softplus_prime(&mut self, a: Var) -> Var {
        self.map(a, Unary::Sigmoid)
    }
    /// `silu′(a) = σ(a) + a σ′(a)`, an op of its own.
    #[track_caller]
    pub fn silu_prime(&mut self, a: Var) -> Var {
        self.map(a, Unary::SiluPrime)
    }

    #[track_caller]
    fn reduce(&mut self, a: Var, axis: Axis, mean: bool) -> Var {
        let ia = self.id("reduce", a);
        let na = self.nodes[ia];
        let (r, c) = (na.rows as usize, na.cols as usize);
        let (ro, co, count) = match axis {
            Axis::All => (1, 1, r * c),
            Axis::Rows => (r, 1, c),
            Axis::Cols => (1, c, r),
        };
        let idx = self.push(
            Op::Reduce {
                x: ia as u32,
                axis,
                mean,
            },
            ro,
            co,
            na.needs_grad,
        );
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        let x = &lo[na.range()];
        match axis {
            Axis::All => out[0] = dense::sum(x),
            Axis::Rows => dense::row_sums(out, x, r, c),
            Axis::Cols => {
                out.fill(T::ZERO);
                dense::col_sums_acc(out, x, r, c)
            }
        }
        if mean {
            let inv = if count == 0 {
                T::NAN
            } else {
                T::ONE / T::from_usize(count)
            };
            dense::scal(out, inv);
        }
        self.var(idx)
    }

    /// Sum of all elements (`1 × 1`).
    #[track_caller]
    pub fn sum(&mut self, a: Var) -> Var {
        self.reduce(a, Axis::All, false)
    }
    /// Mean of all elements (`1 × 1`).
    #[track_caller]
    pub fn mean(&mut self, a: Var) -> Var {
        self.reduce(a, Axis::All, true)
    }
    /// Sum of each row (`rows × 1`).
    #[track_caller]
    pub fn row_sums(&mut self, a: Var) -> Var {
        self.reduce(a, Axis::Rows, false)
    }
    /// Mean of each row (`rows × 1`).
    #[track_caller]
    pub fn row_means(&mut self, a: Var) -> Var {
        self.reduce(a, Axis::Rows, true)
    }
    /// Sum of each column (`1 × cols`).
    #[track_caller]
    pub fn col_sums(&mut self, a: Var) -> Var {
        self.reduce(a, Axis::Cols, false)
    }
    /// Mean of each column (`1 × cols`).
    #[track_caller]
    pub fn col_means(&mut self, a: Var) -> Var {
        self.reduce(a, Axis::Cols, true)
    }
}

/// Forward of a broadcasting binary op.
#[inline(always)]
pub(crate) fn bin_fwd<T: Float>(
    out: &mut [T],
    a: &[T],
    b: &[T],
    cols: usize,
    bcast: Bcast,
    f: impl Fn(T::Lanes, T::Lanes) -> T::Lanes + Copy,
) {
    let out = &mut out[..a.len()];
    if cols == 0 {
        return;
    }
    match bcast {
        Bcast::None => dense::zip_with(out, a, b, f),
        Bcast::Row => {
            for (o, x) in out.chunks_exact_mut(cols).zip(a.chunks_exact(cols)) {
                dense::zip_with(o, x, b, f);
            }
        }
        Bcast::Col => {
            for ((o, x), &s) in out.chunks_exact_mut(cols).zip(a.chunks_exact(cols)).zip(b) {
                let sv = T::Lanes::splat(s);
                dense::map_with(o, x, |x| f(x, sv));
            }
        }
        Bcast::Scalar => {
            let sv = T::Lanes::splat(b[0]);
            dense::map_with(out, a, |x| f(x, sv));
        }
    }
}
