//! Recording: data movement (concatenation, slicing, transposition, broadcasting, detach).

use super::op::Op;
use super::{Tape, Var, split_out};
use crate::Float;

impl<T: Float> Tape<T> {
    /// Concatenates equally tall nodes side by side (`[a | b | …]`).
    ///
    /// # Panics
    /// If `parts` is empty or the row counts differ.
    #[track_caller]
    pub fn concat_cols(&mut self, parts: &[Var]) -> Var {
        let (start, rows, cols, needs) = self.collect_parts("concat_cols", parts, true);
        let idx = self.push(
            Op::ConcatCols {
                start,
                len: parts.len() as u32,
            },
            rows,
            cols,
            needs,
        );
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        let mut c0 = 0;
        for &(i, _) in &self.aux[start as usize..] {
            let n = self.nodes[i as usize];
            let pc = n.cols as usize;
            if pc > 0 {
                for (r, src) in lo[n.range()].chunks_exact(pc).enumerate() {
                    out[r * cols + c0..r * cols + c0 + pc].copy_from_slice(src);
                }
            }
            c0 += pc;
        }
        self.var(idx)
    }

    /// Stacks equally wide nodes vertically.
    ///
    /// # Panics
    /// If `parts` is empty or the column counts differ.
    #[track_caller]
    pub fn concat_rows(&mut self, parts: &[Var]) -> Var {
        let (start, rows, cols, needs) = self.collect_parts("concat_rows", parts, false);
        let idx = self.push(
            Op::ConcatRows {
                start,
                len: parts.len() as u32,
            },
            rows,
            cols,
            needs,
        );
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        let mut o = 0;
        for &(i, _) in &self.aux[start as usize..] {
            let n = self.nodes[i as usize];
            out[o..o + n.len()].copy_from_slice(&lo[n.range()]);
            o += n.len();
        }
        self.var(idx)
    }

    #[track_caller]
    fn collect_parts(
        &mut self,
        name: &str,
        parts: &[Var],
        by_cols: bool,
    ) -> (u32, usize, usize, bool) {
        assert!(!parts.is_empty(), "{name}: no parts");
        let start = self.aux.len() as u32;
        let first = self.nodes[self.id(name, parts[0])];
        let (mut rows, mut cols, mut needs) = (0usize, 0usize, false);
        for &v in parts {
            let i = self.id(name, v);
            let n = self.nodes[i];
            if by_cols {
                assert_eq!(
                    n.rows, first.rows,
                    "{name}: parts have {} and {} rows",
                    first.rows, n.rows
                );
                rows = n.rows as usize;
                cols += n.cols as usize;
            } else {
                assert_eq!(
                    n.cols, first.cols,
                    "{name}: parts have {} and {} columns",
                    first.cols, n.cols
                );
                cols = n.cols as usize;
                rows += n.rows as usize;
            }
            needs |= n.needs_grad;
            self.aux.push((i as u32, T::ZERO));
        }
        (start, rows, cols, needs)
    }

    /// Columns `start..start + len` of `a`.
    ///
    /// # Panics
    /// If the range exceeds the columns of `a`.
    #[track_caller]
    pub fn slice_cols(&mut self, a: Var, start: usize, len: usize) -> Var {
        let ia = self.id("slice_cols", a);
        let na = self.nodes[ia];
        let (r, c) = (na.rows as usize, na.cols as usize);
        assert!(
            start + len <= c,
            "slice_cols: columns {start}..{} of a {r}×{c} node",
            start + len
        );
        let idx = self.push(
            Op::SliceCols {
                x: ia as u32,
                start: start as u32,
            },
            r,
            len,
            na.needs_grad,
        );
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        if len > 0 {
            for (o, src) in out
                .chunks_exact_mut(len)
                .zip(lo[na.range()].chunks_exact(c))
            {
                o.copy_from_slice(&src[start..start + len]);
            }
        }
        self.var(idx)
    }

    /// Rows `start..start + len` of `a`.
    ///
    /// # Panics
    /// If the range exceeds the rows of `a`.
    #[track_caller]
    pub fn slice_rows(&mut self, a: Var, start: usize, len: usize) -> Var {
        let ia = self.id("slice_rows", a);
        let na = self.nodes[ia];
        let (r, c) = (na.rows as usize, na.cols as usize);
        assert!(
            start + len <= r,
            "slice_rows: rows {start}..{} of a {r}×{c} node",
            start + len
        );
        let idx = self.push(
            Op::SliceRows {
                x: ia as u32,
                start: start as u32,
            },
            len,
            c,
            na.needs_grad,
        );
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        out.copy_from_slice(&lo[na.off + start * c..na.off + (start + len) * c]);
        self.var(idx)
    }

    /// `aᵀ`.
    #[track_caller]
    pub fn transpose(&mut self, a: Var) -> Var {
        let ia = self.id("transpose", a);
        let na = self.nodes[ia];
        let (r, c) = (na.rows as usize, na.cols as usize);
        let idx = self.push(Op::Transpose(ia as u32), c, r, na.needs_grad);
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        transpose_into(out, &lo[na.range()], r, c);
        self.var(idx)
    }

    /// Repeats a `1 × cols` row `rows` times (a shared initial state over a batch).
    ///
    /// # Panics
    /// If `a` has more than one row.
    #[track_caller]
    pub fn broadcast_rows(&mut self, a: Var, rows: usize) -> Var {
        let ia = self.id("broadcast_rows", a);
        let na = self.nodes[ia];
        assert_eq!(
            na.rows, 1,
            "broadcast_rows: node is {}×{}, not a single row",
            na.rows, na.cols
        );
        let c = na.cols as usize;
        let idx = self.push(Op::BroadcastRows(ia as u32), rows, c, na.needs_grad);
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        if c > 0 {
            for o in out.chunks_exact_mut(c) {
                o.copy_from_slice(&lo[na.range()]);
            }
        }
        self.var(idx)
    }

    /// A copy of `a` that blocks gradients (straight-through estimators, stop-gradient).
    #[track_caller]
    pub fn detach(&mut self, a: Var) -> Var {
        let ia = self.id("detach", a);
        let na = self.nodes[ia];
        let idx = self.push(
            Op::Detach(ia as u32),
            na.rows as usize,
            na.cols as usize,
            false,
        );
        let (lo, out) = split_out(&mut self.val, &self.nodes[idx]);
        out.copy_from_slice(&lo[na.range()]);
        self.var(idx)
    }
}

/// `dst (c×r) = srcᵀ` for a row-major `src` (r×c), in 8×8 blocks.
pub(crate) fn transpose_into<T: Float>(dst: &mut [T], src: &[T], r: usize, c: usize) {
    const B: usize = 8;
    for i0 in (0..r).step_by(B) {
        for j0 in (0..c).step_by(B) {
            for i in i0..(i0 + B).min(r) {
                for j in j0..(j0 + B).min(c) {
                    dst[j * r + i] = src[i * c + j];
                }
            }
        }
    }
}
