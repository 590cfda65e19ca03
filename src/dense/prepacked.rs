//! A right-hand side packed once for many products: the weight matrix of a layer that every
//! stage of a solve multiplies.
//!
//! ```text
//! B (k×n)  →  panels of NR = NV·L columns, each k×NR contiguous; the rest of the columns in
//!             one last panel as few vectors wide as they fit (zero-padded)
//! C (m×n) (+)= alpha · A (m×k) · B:  for each panel, every MR-row tile of C in registers
//! ```
//!
//! A row-major `B` read in place is a column panel strided by the row length: for power-of-two
//! widths its rows fall into a few cache sets, so the panel does not stay in L1 between row
//! tiles and its lines come from L2 at a large stride. A packed panel is contiguous (one
//! prefetchable stream) and stays in L1 while the row tiles of C pass over it.

use super::gemm::{MR, NV, by_rows, micro_direct, over_row_blocks, store_tile};
use super::matrix::{Accum, MatMut, MatRef, Par};
use super::simd::Lanes;
use crate::Float;

/// `B` (`k × n`) packed in column panels for [`gemm_prepacked`]; pack once, multiply often.
///
/// # Example
/// ```
/// use neurodyn::dense::{gemm_prepacked, Accum, MatMut, MatRef, Par, PackedRhs};
/// let w = [1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0]; // W: 2×3, used as x·Wᵀ
/// let mut wt = PackedRhs::new();
/// wt.pack(MatRef::new(&w, 2, 3).t()); // Wᵀ: 3×2
/// let x = [1.0, 0.0, -1.0, 2.0, 1.0, 0.0]; // 2×3
/// let mut y = [0.0; 4];
/// gemm_prepacked(MatMut::new(&mut y, 2, 2), Accum::Replace, 1.0, MatRef::new(&x, 2, 3), &wt, Par::Seq);
/// assert_eq!(y, [-2.0, -2.0, 4.0, 13.0]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct PackedRhs<T> {
    data: Vec<T>,
    k: usize,
    n: usize,
}

impl<T: Float> PackedRhs<T> {
    /// An empty packing (0 × 0); [`PackedRhs::pack`] fills it.
    pub fn new() -> Self {
        Self {
            data: Vec::new(),
            k: 0,
            n: 0,
        }
    }

    /// Packs `b` (any strides), reusing this packing's memory.
    pub fn pack(&mut self, b: MatRef<'_, T>) {
        let (k, n) = (b.rows(), b.cols());
        let (full, tail) = widths::<T>(n);
        let nr = NV * T::Lanes::N;
        self.data.clear();
        self.data.resize(k * (full * nr + tail), T::ZERO);
        self.k = k;
        self.n = n;
        if k == 0 {
            return;
        }
        let (body, last) = self.data.split_at_mut(full * k * nr);
        let panels = body
            .chunks_exact_mut(k * nr)
            .map(|p| (p, nr))
            .chain((tail > 0).then_some((last, tail)));
        for (p, (panel, w)) in panels.enumerate() {
            let j0 = p * nr;
            let used = w.min(n - j0);
            for (kk, row) in panel.chunks_exact_mut(w).enumerate() {
                for (j, x) in row[..used].iter_mut().enumerate() {
                    *x = b.at(kk, j0 + j);
                }
            }
        }
    }

    /// Rows of the packed matrix (the depth of a product).
    pub fn rows(&self) -> usize {
        self.k
    }

    /// Columns of the packed matrix.
    pub fn cols(&self) -> usize {
        self.n
    }
}

/// The number of full panels of `NV` vectors and the width of the last panel (whole vectors,
/// 0 when `n` fills the full panels) for `n` columns.
fn widths<T: Float>(n: usize) -> (usize, usize) {
    let (l, nr) = (T::Lanes::N, NV * T::Lanes::N);
    (n / nr, (n % nr).div_ceil(l) * l)
}

/// `C = beta·C + alpha·A·B` with `B` packed by [`PackedRhs::pack`] (`beta` is 0 for
/// [`Accum::Replace`], C then never read, and 1 for [`Accum::Add`]). `Par::Rayon` splits the
/// rows of C for products of at least 2²¹ multiply–adds; every element is computed as
/// sequentially.
///
/// # Panics
/// If the shapes do not agree (message names all three).
#[track_caller]
pub fn gemm_prepacked<T: Float>(
    dst: MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    a: MatRef<'_, T>,
    b: &PackedRhs<T>,
    par: Par,
) {
    let (m, n) = (dst.rows(), dst.cols());
    assert!(
        a.rows() == m && a.cols() == b.k && b.n == n,
        "gemm_prepacked: A is {}×{}, B is {}×{}, C is {m}×{n}",
        a.rows(),
        a.cols(),
        b.k,
        b.n
    );
    if m == 0 || n == 0 {
        return;
    }
    over_row_blocks(dst, par, m * n * b.k, &|dst, row0| {
        run(dst, accum, alpha, a, b, row0)
    });
}

/// The rows `row0..row0 + dst.rows()` of `A` times the packed `B`.
fn run<T: Float>(
    mut dst: MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    a: MatRef<'_, T>,
    b: &PackedRhs<T>,
    row0: usize,
) {
    let (m, n, k) = (dst.rows(), dst.cols(), b.k);
    let valpha = T::Lanes::splat(alpha);
    let overwrite = accum == Accum::Replace;
    if k == 0 {
        if overwrite {
            for i in 0..m {
                dst.row_mut(i).fill(T::ZERO);
            }
        }
        return;
    }
    // Tiles of `MR × NV` vectors, as the direct path's (three vectors, 24 accumulators with
    // AVX-512's 32 registers, were measured slower: the tile's broadcasts then spill).
    let (l, nr) = (T::Lanes::N, NV * T::Lanes::N);
    let (full, tail) = widths::<T>(n);
    let (body, last) = b.data.split_at(full * k * nr);
    for (jr, panel) in body.chunks_exact(k * nr).enumerate() {
        panel_tiles::<T, NV>(&mut dst, a, panel, row0, jr * nr, nr, valpha, overwrite);
    }
    let j0 = full * nr;
    match tail / l {
        0 => {}
        1 => panel_tiles::<T, 1>(&mut dst, a, last, row0, j0, n - j0, valpha, overwrite),
        _ => panel_tiles::<T, NV>(&mut dst, a, last, row0, j0, n - j0, valpha, overwrite),
    }
}

/// Every `MR`-row tile of C against one packed panel of `V` vectors (`cols` of them real),
/// stored at column `j0`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn panel_tiles<T: Float, const V: usize>(
    dst: &mut MatMut<'_, T>,
    a: MatRef<'_, T>,
    panel: &[T],
    row0: usize,
    j0: usize,
    cols: usize,
    valpha: T::Lanes,
    overwrite: bool,
) {
    let (m, w) = (dst.rows(), V * T::Lanes::N);
    let mut i0 = 0;
    while i0 < m {
        let rows = MR.min(m - i0);
        macro_rules! go {
            ($r:literal) => {{
                let mut acc = [[T::Lanes::splat(T::ZERO); V]; $r];
                micro_direct::<T, $r, V>(&mut acc, a, row0 + i0, panel, w, 0);
                store_tile(dst, &acc, i0, $r, j0, cols, valpha, overwrite);
            }};
        }
        by_rows!(rows, go);
        i0 += rows;
    }
}
