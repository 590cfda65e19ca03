//! The op enum: data only. Forward code is in `build*.rs`, derivative rules in `backward.rs`.
//!
//! Operands are node indices (`u32`) into the same tape; an op's output shape is stored on its
//! node. Variable-length operand lists (linear combinations, concatenations) live in the
//! tape's `aux` arena as `(node, coefficient)` pairs.

use super::params::ParamId;
use crate::dense::Unary;

/// Elementwise binary operator of [`Op::Binary`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinKind {
    /// `a + b`
    Add,
    /// `a − b`
    Sub,
    /// `a ∘ b`
    Mul,
    /// `a / b`
    Div,
}

/// How the second operand of a binary op is broadcast against the first (rows × cols).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bcast {
    /// Same shape.
    None,
    /// `b` is `1 × cols`, repeated over rows (a bias over a batch).
    Row,
    /// `b` is `rows × 1`, repeated over columns.
    Col,
    /// `b` is `1 × 1`.
    Scalar,
}

/// Reduction axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// Everything → `1 × 1`.
    All,
    /// Each row reduced → `rows × 1`.
    Rows,
    /// Each column reduced → `1 × cols`.
    Cols,
}

/// One recorded operation (its output is the node that holds it).
#[derive(Clone, Copy, Debug)]
pub enum Op<T> {
    /// Input data or a free variable (no parents).
    Leaf,
    /// A copy of a parameter (or of consecutive parameters, [`Tape::param_span`](super::Tape::param_span));
    /// `store_off` is its offset in the `ParamStore`.
    Param {
        /// Which parameter (the first of a span).
        id: ParamId,
        /// Its offset in the store (and in `Grads`).
        store_off: usize,
    },
    /// `a ⊙ b` with `b` broadcast.
    Binary {
        /// Operator.
        kind: BinKind,
        /// Left operand (output shape).
        a: u32,
        /// Right operand.
        b: u32,
        /// Broadcast pattern of `b`.
        bcast: Bcast,
    },
    /// `s · a`
    Scale(u32, T),
    /// `a + s`
    AddScalar(u32, T),
    /// `a + s · b` (same shapes): the RK stage update.
    AddScaled {
        /// Base.
        a: u32,
        /// Increment.
        b: u32,
        /// Its coefficient.
        s: T,
    },
    /// `Σ_i c_i x_i` over `aux[start..start + len]`.
    LinComb {
        /// First aux entry.
        start: u32,
        /// Number of terms.
        len: u32,
    },
    /// `f(x)` elementwise.
    Map(Unary, u32),
    /// `a · b` (`tb = false`) or `a · bᵀ` (`tb = true`), plus an optional addend `c` (same
    /// shape as the output, or a `1 × cols` row broadcast over the rows): the affine layer in
    /// one node.
    MatMul {
        /// Left operand (rows of the output).
        a: u32,
        /// Right operand.
        b: u32,
        /// Whether `b` is used transposed.
        tb: bool,
        /// The addend (`u32::MAX`: none).
        c: u32,
        /// How the addend is broadcast (`None` or `Row`).
        bcast: Bcast,
    },
    /// Sum over an axis (`mean` scales by `1/count`).
    Reduce {
        /// Operand.
        x: u32,
        /// Axis.
        axis: Axis,
        /// Divide by the number of reduced elements.
        mean: bool,
    },
    /// `ln Σ_j exp(x_ij)` per row.
    LogSumExpRows(u32),
    /// Softmax of each row.
    SoftmaxRows(u32),
    /// `x − logsumexp(x)` per row.
    LogSoftmaxRows(u32),
    /// Column-wise concatenation of `aux[start..start + len]` (same rows).
    ConcatCols {
        /// First aux entry.
        start: u32,
        /// Number of parts.
        len: u32,
    },
    /// Row-wise concatenation of `aux[start..start + len]` (same cols).
    ConcatRows {
        /// First aux entry.
        start: u32,
        /// Number of parts.
        len: u32,
    },
    /// Columns `start..start + cols` of `x`.
    SliceCols {
        /// Operand.
        x: u32,
        /// First column.
        start: u32,
    },
    /// Rows `start..start + rows` of `x`.
    SliceRows {
        /// Operand.
        x: u32,
        /// First row.
        start: u32,
    },
    /// `xᵀ`
    Transpose(u32),
    /// A `1 × cols` row repeated `rows` times.
    BroadcastRows(u32),
    /// A copy of `x` through which no gradient flows.
    Detach(u32),
    /// The mGRU cell with its product fused in: `a·h + b·σ(z_g) ⊙ (tanh(z_f) − h)` with
    /// `[z_f | z_g] = h Wᵀ + c`; the pre-activations are never stored, nor is `h` when it is a
    /// combination of several nodes.
    GatedTanhCell {
        /// First aux entry of the state `h = Σ c_i x_i` (`rows × n`), the product's left
        /// operand: one term of coefficient 1 is a node read in place; more terms (a
        /// Runge–Kutta stage state) are summed into scratch and never stored.
        state: u32,
        /// Number of terms of the state.
        len: u32,
        /// Stacked weight `[W_f; W_g]` (`2n × n`, a leaf).
        w: u32,
        /// Addend of the pre-activations (`rows × 2n`, or `1 × 2n` added to every row).
        c: u32,
        /// Coefficient of `h`.
        a: T,
        /// Coefficient of the gated difference.
        b: T,
        /// As in [`Op::GatedTanh`]; its gradient buffer holds `∂z` for the weight's deferred
        /// product.
        coef: u32,
    },
    /// The mGRU cell `a·h + b·σ(z_g) ⊙ (tanh(z_f) − h)` with `z = [z_f | z_g]` (`rows × 2n`,
    /// from one stacked product), `h` and the output `rows × n`.
    GatedTanh {
        /// Stacked pre-activations `[z_f | z_g]`.
        z: u32,
        /// State.
        h: u32,
        /// Coefficient of `h`.
        a: T,
        /// Coefficient of the gated difference.
        b: T,
        /// A constant `rows × 3n` node with the cell's local derivatives `[P | Q | S]`
        /// ([`crate::dense::gated_tanh_coefs`]), written when the cell needs a gradient
        /// (`u32::MAX` otherwise).
        coef: u32,
    },
    /// `out_r = Σ_k w_rk · x_{r mod Rx}[k·N .. (k+1)·N]`: each row of `w` (`R × K`) mixes the
    /// K blocks of a row of `x` (`Rx × K·N`, `R` a multiple of `Rx`, so `x` is shared by
    /// `R / Rx` row blocks without being copied); output `R × N`.
    MixRows {
        /// Weights (`R × K`).
        w: u32,
        /// Blocks (`Rx × K·N`).
        x: u32,
    },
    /// The gated update `a·h + b·σ(z) ⊙ (f − h)` (same shapes): a gnODE's vector field
    /// (`a = 0`, `b = 1/τ`) or its discrete step (`a = 1`, `b = α`) in one node.
    Gated {
        /// Gate pre-activation.
        z: u32,
        /// Flow value `F`.
        f: u32,
        /// State.
        h: u32,
        /// Coefficient of `h`.
        a: T,
        /// Coefficient of the gated difference.
        b: T,
    },
}

impl<T: Copy> Op<T> {
    /// Calls `f` with every operand (variable-length lists are read from `aux`).
    pub(crate) fn for_each_input(&self, aux: &[(u32, T)], mut f: impl FnMut(u32)) {
        match *self {
            Op::Leaf | Op::Param { .. } | Op::Detach(_) => {}
            Op::Binary { a, b, .. } | Op::AddScaled { a, b, .. } => {
                f(a);
                f(b);
            }
            Op::MixRows { w, x } => {
                f(w);
                f(x);
            }
            Op::GatedTanh { z, h, .. } => {
                f(z);
                f(h);
            }
            Op::GatedTanhCell {
                state, len, w, c, ..
            } => {
                for &(p, _) in &aux[state as usize..(state + len) as usize] {
                    f(p);
                }
                f(w);
                f(c);
            }
            Op::MatMul { a, b, c, .. } => {
                f(a);
                f(b);
                if c != u32::MAX {
                    f(c);
                }
            }
            Op::Gated { z, f: fl, h, .. } => {
                f(z);
                f(fl);
                f(h);
            }
            Op::Scale(x, _)
            | Op::AddScalar(x, _)
            | Op::Map(_, x)
            | Op::Reduce { x, .. }
            | Op::LogSumExpRows(x)
            | Op::SoftmaxRows(x)
            | Op::LogSoftmaxRows(x)
            | Op::SliceCols { x, .. }
            | Op::SliceRows { x, .. }
            | Op::Transpose(x)
            | Op::BroadcastRows(x) => f(x),
            Op::LinComb { start, len }
            | Op::ConcatCols { start, len }
            | Op::ConcatRows { start, len } => {
                for &(p, _) in &aux[start as usize..(start + len) as usize] {
                    f(p);
                }
            }
        }
    }
}

impl<T> Op<T> {
    /// Short lowercase name for messages and printing.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Leaf => "leaf",
            Op::Param { .. } => "param",
            Op::Binary { kind, .. } => match kind {
                BinKind::Add => "add",
                BinKind::Sub => "sub",
                BinKind::Mul => "mul",
                BinKind::Div => "div",
            },
            Op::Scale(..) => "scale",
            Op::AddScalar(..) => "add_scalar",
            Op::AddScaled { .. } => "add_scaled",
            Op::LinComb { .. } => "lin_comb",
            Op::Map(..) => "map",
            Op::MatMul {
                tb: false,
                c: u32::MAX,
                ..
            } => "matmul",
            Op::MatMul {
                tb: true,
                c: u32::MAX,
                ..
            } => "matmul_t",
            Op::MatMul { .. } => "linear",
            Op::Reduce { .. } => "reduce",
            Op::LogSumExpRows(_) => "logsumexp_rows",
            Op::SoftmaxRows(_) => "softmax_rows",
            Op::LogSoftmaxRows(_) => "log_softmax_rows",
            Op::ConcatCols { .. } => "concat_cols",
            Op::ConcatRows { .. } => "concat_rows",
            Op::SliceCols { .. } => "slice_cols",
            Op::SliceRows { .. } => "slice_rows",
            Op::Transpose(_) => "transpose",
            Op::BroadcastRows(_) => "broadcast_rows",
            Op::Detach(_) => "detach",
            Op::Gated { .. } => "gated",
            Op::GatedTanh { .. } => "gated_tanh",
            Op::GatedTanhCell { .. } => "gated_tanh_cell",
            Op::MixRows { .. } => "mix_rows",
        }
    }
}
