//! Packed, cache-blocked GEMM (Goto/BLIS style) with a SIMD register-tile micro-kernel.
//!
//! ```text
//! C (m×n) = beta·C + alpha · Σ_s A_s (m×k_s) · B_s (k_s×n)
//!
//! for jc in n by NC:             B block  (KC×NC)  packed in NR-wide panels (L2/L3)
//!   for pc in Σk_s by KC:        K runs across segments s, so many small products share tiles
//!     for ic in m by MC:         A block  (MC×KC)  packed in MR-tall panels (L2)
//!       for jr, ir:              MR×NR tile of C in registers, KC rank-1 updates
//! ```
//! Segments let the tape accumulate a weight gradient `Σ_steps gᵀ x` as one long product.
//! Packing takes any strides, so transposed operands cost nothing extra.

use super::matrix::{Accum, MatMut, MatRef, Par};
use super::simd::Lanes;
use crate::Float;

/// A list of `(A_s, B_s)` operand pairs whose products are summed by [`gemm_segments`].
///
/// Implemented for slices of pairs; the tape implements it over its arenas so that deferred
/// weight gradients need no temporary vector.
pub trait Segments<T>: Sync {
    /// Number of segments.
    fn count(&self) -> usize;
    /// Segment `i` (`0 ≤ i < count()`).
    fn get(&self, i: usize) -> (MatRef<'_, T>, MatRef<'_, T>);
}

impl<T: Float> Segments<T> for [(MatRef<'_, T>, MatRef<'_, T>)] {
    fn count(&self) -> usize {
        self.len()
    }
    fn get(&self, i: usize) -> (MatRef<'_, T>, MatRef<'_, T>) {
        self[i]
    }
}

/// `$go!(R)` for the row count `R` (1..=`MR`) of a register tile, as a literal: the tile
/// functions are monomorphised per `R` so that their accumulators stay in registers.
macro_rules! by_rows {
    ($rows:expr, $go:ident) => {
        match $rows {
            8 => $go!(8),
            7 => $go!(7),
            6 => $go!(6),
            5 => $go!(5),
            4 => $go!(4),
            3 => $go!(3),
            2 => $go!(2),
            _ => $go!(1),
        }
    };
}
pub(super) use by_rows;

#[cfg(target_feature = "avx512f")]
pub(super) const MR: usize = 8;
#[cfg(not(target_feature = "avx512f"))]
pub(super) const MR: usize = 6;
/// Vectors per tile row.
pub(super) const NV: usize = 2;
const KC: usize = 256;
const MC: usize = 96;
const NC: usize = 2048;
/// Up to this depth a row-major `B` is read in place (no packing).
const DIRECT_MAX_K: usize = 512;
/// Up to this many columns of C (and from this depth), a row-major `A` is multiplied by dot
/// products along k: a register tile would leave most of its lanes empty.
const DOTS_MAX_N: usize = 4;
const DOTS_MIN_K: usize = 64;
/// Up to this many rows of C, a single product deeper than `DIRECT_MAX_K` with a row-major `B`
/// is taken by the direct path in depth chunks: packing `B` would cost as much as the FMAs.
const DIRECT_CHUNKED_MAX_M: usize = 64;
/// Below this many multiply-adds the unpacked path is used.
const SMALL: usize = 4096;
/// Above this many multiply-adds `Par::Rayon` splits the rows of C.
#[cfg(feature = "rayon")]
const PAR_MIN: usize = 1 << 21;

/// `C = beta·C + alpha·A·B` for strided `A` (m×k), `B` (k×n) into row-major `C` (m×n);
/// `beta` is 0 for [`Accum::Replace`] (C is then never read) and 1 for [`Accum::Add`].
///
/// # Panics
/// If the shapes do not agree (message names both shapes).
///
/// # Example
/// ```
/// use neurodyn::dense::{gemm, Accum, MatMut, MatRef, Par};
/// let a = [1.0_f64, 2.0, 3.0, 4.0]; // [[1,2],[3,4]]
/// let b = [5.0_f64, 6.0, 7.0, 8.0];
/// let mut c = [0.0_f64; 4];
/// gemm(MatMut::new(&mut c, 2, 2), Accum::Replace, 1.0,
///      MatRef::new(&a, 2, 2), MatRef::new(&b, 2, 2), Par::Seq);
/// assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
/// ```
#[track_caller]
pub fn gemm<T: Float>(
    dst: MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    par: Par,
) {
    gemm_segments(dst, accum, alpha, &[(a, b)][..], par);
}

/// `C = beta·C + alpha·Σ_s A_s·B_s` (all `A_s` are m×k_s, all `B_s` are k_s×n).
///
/// # Panics
/// If any segment's shapes disagree with `C` or with each other.
#[track_caller]
pub fn gemm_segments<T: Float>(
    mut dst: MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    segs: &(impl Segments<T> + ?Sized),
    par: Par,
) {
    let (m, n) = (dst.rows, dst.cols);
    let mut ktot = 0;
    for i in 0..segs.count() {
        let (a, b) = segs.get(i);
        assert!(
            a.rows == m && b.cols == n && a.cols == b.rows,
            "gemm: segment {i}: A is {}×{}, B is {}×{}, C is {m}×{n}",
            a.rows,
            a.cols,
            b.rows,
            b.cols
        );
        ktot += a.cols;
    }
    if m == 0 || n == 0 {
        return;
    }
    if ktot == 0 || alpha == T::ZERO {
        if accum == Accum::Replace {
            for i in 0..m {
                dst.row_mut(i).fill(T::ZERO);
            }
        }
        return;
    }
    over_row_blocks(dst, par, m * n * ktot, &|dst, row0| {
        run_seq(dst, accum, alpha, segs, row0)
    });
}

/// Runs `f(block, row0)` on the rows of `dst`: in one call, or, for `Par::Rayon` with at least
/// `PAR_MIN` multiply–adds (`work`) and two row tiles, on blocks of whole `MR`-row tiles split
/// in halves across the rayon pool. `f` must compute every element of a block as one call over
/// all rows would, so that the parallel split gives the sequential bits.
pub(super) fn over_row_blocks<T: Float>(
    dst: MatMut<'_, T>,
    par: Par,
    work: usize,
    f: &(impl Fn(MatMut<'_, T>, usize) + Sync),
) {
    #[cfg(feature = "rayon")]
    if par == Par::Rayon && work >= PAR_MIN && dst.rows >= 2 * MR {
        let m = dst.rows;
        let chunks = rayon::current_num_threads().max(1).min(m / MR);
        if chunks > 1 {
            let rows_per = m.div_ceil(chunks).div_ceil(MR) * MR;
            halves(dst, rows_per, 0, f);
            return;
        }
    }
    let _ = (par, work);
    f(dst, 0);
}

/// Splits the rows of C in halves (whole blocks of `rows_per`) across the rayon pool.
#[cfg(feature = "rayon")]
fn halves<T: Float>(
    dst: MatMut<'_, T>,
    rows_per: usize,
    row0: usize,
    f: &(impl Fn(MatMut<'_, T>, usize) + Sync),
) {
    if dst.rows <= rows_per {
        f(dst, row0);
        return;
    }
    let half = (dst.rows / rows_per).div_ceil(2) * rows_per;
    let (top, bottom) = dst.split_rows(half);
    rayon::join(
        || halves(top, rows_per, row0, f),
        || halves(bottom, rows_per, row0 + half, f),
    );
}

/// Chooses the sequential algorithm for the row block of C starting at row `row0` of every
/// `A_s`. The choice depends on the whole product's shape only, never on the block, so a
/// parallel split computes every element exactly as the sequential call does.
fn run_seq<T: Float>(
    dst: MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    segs: &(impl Segments<T> + ?Sized),
    row0: usize,
) {
    let (m_full, n) = (segs.get(0).0.rows, dst.cols);
    let ktot: usize = (0..segs.count()).map(|s| segs.get(s).0.cols).sum();
    if m_full * n * ktot < SMALL || m_full < 2 {
        small(dst, accum, alpha, segs, row0);
    } else if segs.count() == 1 && n <= DOTS_MAX_N && ktot >= DOTS_MIN_K && segs.get(0).0.cs == 1 {
        let (a, b) = segs.get(0);
        dots(dst, accum, alpha, a, b, row0);
    } else if segs.count() == 1
        && segs.get(0).1.cs == 1
        && ktot > DIRECT_MAX_K
        && m_full <= DIRECT_CHUNKED_MAX_M
    {
        direct_chunked(dst, accum, alpha, segs.get(0), row0);
    } else if (0..segs.count()).all(|s| segs.get(s).1.cs == 1)
        && ((segs.count() == 1 && ktot <= DIRECT_MAX_K) || m_full * n <= DIRECT_SEGS_MAX_MN)
    {
        direct(dst, accum, alpha, segs, row0);
    } else {
        packed(dst, accum, alpha, segs, row0);
    }
}

/// `A·B` for few rows and a deep row-major `B`: the direct path over depth chunks of
/// `DIRECT_MAX_K`, accumulating into C.
fn direct_chunked<T: Float>(
    mut dst: MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    (a, b): (MatRef<'_, T>, MatRef<'_, T>),
    row0: usize,
) {
    for k0 in (0..a.cols).step_by(DIRECT_MAX_K) {
        let kc = DIRECT_MAX_K.min(a.cols - k0);
        let sub = [(
            MatRef::from_strides(&a.data[k0 * a.cs..], a.rows, kc, a.rs, a.cs),
            MatRef::from_strides(&b.data[k0 * b.rs..], kc, b.cols, b.rs, b.cs),
        )];
        let acc = if k0 == 0 { accum } else { Accum::Add };
        direct(dst.rb(), acc, alpha, &sub[..], row0);
    }
}

/// Unpacked path for tiny products: row-axpy or dot formulations by layout.
fn small<T: Float>(
    mut dst: MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    segs: &(impl Segments<T> + ?Sized),
    row0: usize,
) {
    let (m, n) = (dst.rows, dst.cols);
    for i in 0..m {
        let row = dst.row_mut(i);
        if accum == Accum::Replace {
            row.fill(T::ZERO);
        }
        for s in 0..segs.count() {
            let (a, b) = segs.get(s);
            for kk in 0..a.cols {
                let aik = alpha * a.at(row0 + i, kk);
                if b.cs == 1 {
                    let brow = &b.data[kk * b.rs..kk * b.rs + n];
                    super::blas1::axpy(row, aik, brow);
                } else {
                    for (j, c) in row.iter_mut().enumerate() {
                        *c = aik.mul_add(b.at(kk, j), *c);
                    }
                }
            }
        }
    }
}

/// Few columns, deep rows (`φ(X) N` of a low-rank network: k = neurons, n = rank): every
/// element of C is a SIMD dot product of a row of `A` (read in place) with a column of `B`
/// (copied once into a contiguous row).
fn dots<T: Float>(
    mut dst: MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    row0: usize,
) {
    let (m, n, k) = (dst.rows, dst.cols, a.cols);
    T::with_scratch(|bt, _| {
        if bt.len() < n * k {
            bt.resize(n * k, T::ZERO);
        }
        for (j, col) in bt.chunks_exact_mut(k).take(n).enumerate() {
            for (kk, x) in col.iter_mut().enumerate() {
                *x = b.at(kk, j);
            }
        }
        for i in 0..m {
            let start = (row0 + i) * a.rs;
            let arow = &a.data[start..start + k];
            for (j, c) in dst.row_mut(i).iter_mut().enumerate() {
                let d = alpha * super::blas1::dot(arow, &bt[j * k..(j + 1) * k]);
                *c = if accum == Accum::Replace { d } else { *c + d };
            }
        }
    });
}

/// Packs rows `i0..i0+mc` and the global K range `k0..k0+kc` of the segmented A into MR-tall
/// panels (zero-padded), layout `[panel][k][MR]`.
fn pack_a<T: Float>(
    dst: &mut [T],
    segs: &(impl Segments<T> + ?Sized),
    i0: usize,
    mc: usize,
    k0: usize,
    kc: usize,
    cursor: (usize, usize),
) {
    let panels = mc.div_ceil(MR);
    let (first, mut seg_start) = cursor;
    for s in first..segs.count() {
        if seg_start >= k0 + kc {
            break;
        }
        let (a, _) = segs.get(s);
        let ks = a.cols;
        let lo = k0.max(seg_start);
        let hi = (k0 + kc).min(seg_start + ks);
        if lo < hi {
            for p in 0..panels {
                let rows = MR.min(mc - p * MR);
                let base = p * kc * MR;
                let panel = &mut dst[base + (lo - k0) * MR..base + (hi - k0) * MR];
                if a.cs == 1 && a.rs != 1 {
                    // row-major A: read each row contiguously, write with stride MR
                    for r in 0..rows {
                        let start = (i0 + p * MR + r) * a.rs + (lo - seg_start);
                        let src = &a.data[start..start + (hi - lo)];
                        for (o, &v) in panel.chunks_exact_mut(MR).zip(src) {
                            o[r] = v;
                        }
                    }
                } else if a.rs == 1 {
                    // column-major A (e.g. Gᵀ of a row-major G): each k is one contiguous run
                    let r0 = i0 + p * MR;
                    for (kg, out) in (lo..hi).zip(panel.chunks_exact_mut(MR)) {
                        let at = (kg - seg_start) * a.cs + r0;
                        out[..rows].copy_from_slice(&a.data[at..at + rows]);
                    }
                } else {
                    for (kg, out) in (lo..hi).zip(panel.chunks_exact_mut(MR)) {
                        let col = &a.data[(kg - seg_start) * a.cs..];
                        for (r, o) in out.iter_mut().enumerate().take(rows) {
                            *o = col[(i0 + p * MR + r) * a.rs];
                        }
                    }
                }
                if rows < MR {
                    for out in panel.chunks_exact_mut(MR) {
                        out[rows..].fill(T::ZERO);
                    }
                }
            }
        }
        seg_start += ks;
    }
}

/// Packs the global K range `k0..k0+kc` and columns `j0..j0+nc` of the segmented B into
/// NR-wide panels (zero-padded), layout `[panel][k][NR]`.
fn pack_b<T: Float>(
    dst: &mut [T],
    segs: &(impl Segments<T> + ?Sized),
    k0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    cursor: (usize, usize),
) {
    let nr = NV * T::Lanes::N;
    let panels = nc.div_ceil(nr);
    let (first, mut seg_start) = cursor;
    for s in first..segs.count() {
        if seg_start >= k0 + kc {
            break;
        }
        let (_, b) = segs.get(s);
        let ks = b.rows;
        let lo = k0.max(seg_start);
        let hi = (k0 + kc).min(seg_start + ks);
        if lo < hi {
            for p in 0..panels {
                let cols = nr.min(nc - p * nr);
                let base = p * kc * nr;
                let panel = &mut dst[base + (lo - k0) * nr..base + (hi - k0) * nr];
                if b.cs == 1 {
                    for (kg, out) in (lo..hi).zip(panel.chunks_exact_mut(nr)) {
                        let row0 = (kg - seg_start) * b.rs + j0 + p * nr;
                        out[..cols].copy_from_slice(&b.data[row0..row0 + cols]);
                    }
                } else if b.rs == 1 {
                    // op(B) = Wᵀ of a row-major W: read W's rows contiguously, write with stride NR
                    for c in 0..cols {
                        let start = (j0 + p * nr + c) * b.cs + (lo - seg_start);
                        let src = &b.data[start..start + (hi - lo)];
                        for (o, &v) in panel.chunks_exact_mut(nr).zip(src) {
                            o[c] = v;
                        }
                    }
                } else {
                    for (kg, out) in (lo..hi).zip(panel.chunks_exact_mut(nr)) {
                        let row0 = (kg - seg_start) * b.rs + (j0 + p * nr) * b.cs;
                        for (c, o) in out.iter_mut().enumerate().take(cols) {
                            *o = b.data[row0 + c * b.cs];
                        }
                    }
                }
                if cols < nr {
                    for out in panel.chunks_exact_mut(nr) {
                        out[cols..].fill(T::ZERO);
                    }
                }
            }
        }
        seg_start += ks;
    }
}

/// The register tile: `acc += Σ_k a[k][0..MR] ⊗ b[k][0..NR]` (both packed).
#[inline(always)]
fn micro<T: Float>(kc: usize, a: &[T], b: &[T]) -> [[T::Lanes; NV]; MR] {
    let n = T::Lanes::N;
    let mut acc = [[T::Lanes::splat(T::ZERO); NV]; MR];
    for (ak, bk) in a[..kc * MR]
        .chunks_exact(MR)
        .zip(b[..kc * NV * n].chunks_exact(NV * n))
    {
        let mut bv = [T::Lanes::splat(T::ZERO); NV];
        for (j, v) in bv.iter_mut().enumerate() {
            *v = T::Lanes::load(&bk[j * n..]);
        }
        for i in 0..MR {
            let ai = T::Lanes::splat(ak[i]);
            for j in 0..NV {
                acc[i][j] = ai.mul_add(bv[j], acc[i][j]);
            }
        }
    }
    acc
}

/// The packed path; rows of every `A_s` are offset by `row0` (a row block of C).
fn packed<T: Float>(
    mut dst: MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    segs: &(impl Segments<T> + ?Sized),
    row0: usize,
) {
    let (m, n) = (dst.rows, dst.cols);
    let ktot: usize = (0..segs.count()).map(|s| segs.get(s).0.cols).sum();
    let lanes = T::Lanes::N;
    let nr = NV * lanes;
    T::with_scratch(|apack, bpack| {
        let kc_max = KC.min(ktot);
        let need_a = MC.min(m).div_ceil(MR) * MR * kc_max;
        let need_b = NC.min(n).div_ceil(nr) * nr * kc_max;
        if apack.len() < need_a {
            apack.resize(need_a, T::ZERO);
        }
        if bpack.len() < need_b {
            bpack.resize(need_b, T::ZERO);
        }
        let valpha = T::Lanes::splat(alpha);
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            // (first segment overlapping the block, its global start): advances with pc
            let mut cursor = (0usize, 0usize);
            for pc in (0..ktot).step_by(KC) {
                let kc = KC.min(ktot - pc);
                while cursor.0 < segs.count() && cursor.1 + segs.get(cursor.0).0.cols <= pc {
                    cursor.1 += segs.get(cursor.0).0.cols;
                    cursor.0 += 1;
                }
                pack_b(bpack, segs, pc, kc, jc, nc, cursor);
                let overwrite = accum == Accum::Replace && pc == 0;
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    pack_a(apack, segs, row0 + ic, mc, pc, kc, cursor);
                    for jr in 0..nc.div_ceil(nr) {
                        let bp = &bpack[jr * kc * nr..(jr + 1) * kc * nr];
                        let cols = nr.min(nc - jr * nr);
                        let j0 = jc + jr * nr;
                        for ir in 0..mc.div_ceil(MR) {
                            let ap = &apack[ir * kc * MR..(ir + 1) * kc * MR];
                            let acc = micro::<T>(kc, ap, bp);
                            let rows = MR.min(mc - ir * MR);
                            let i0 = ic + ir * MR;
                            store_tile(&mut dst, &acc, i0, rows, j0, cols, valpha, overwrite);
                        }
                    }
                }
            }
        }
    });
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn store_tile<T: Float, const R: usize, const V: usize>(
    dst: &mut MatMut<'_, T>,
    acc: &[[T::Lanes; V]; R],
    i0: usize,
    rows: usize,
    j0: usize,
    cols: usize,
    valpha: T::Lanes,
    overwrite: bool,
) {
    let n = T::Lanes::N;
    if cols == V * n {
        for (i, acc_row) in acc.iter().enumerate().take(rows) {
            let row = &mut dst.row_mut(i0 + i)[j0..j0 + cols];
            for (j, v) in acc_row.iter().enumerate() {
                let c = &mut row[j * n..(j + 1) * n];
                let out = if overwrite {
                    *v * valpha
                } else {
                    v.mul_add(valpha, T::Lanes::load(c))
                };
                out.store(c);
            }
        }
    } else {
        let mut buf = [T::ZERO; 64];
        for (i, acc_row) in acc.iter().enumerate().take(rows) {
            let row = &mut dst.row_mut(i0 + i)[j0..j0 + cols];
            for (j, v) in acc_row.iter().enumerate() {
                (*v * valpha).store(&mut buf[j * n..]);
            }
            for (c, &x) in row.iter_mut().zip(&buf[..cols]) {
                *c = if overwrite { x } else { *c + x };
            }
        }
    }
}

/// Register tile reading `A` (any strides) and a row-major `B` (unit column stride) in place:
/// `acc[i] += Σ_k A[i0+i][k] · B[k][j0..j0+V·L]` for `R` rows. `A`'s elements are read through
/// slices whose lengths the compiler knows (a row of `A`, or the `R` rows of one column when
/// they are adjacent), so the loop carries no bounds check per element.
// `kk` indexes R rows at once (and B): no single iterator to take its place.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
pub(super) fn micro_direct<T: Float, const R: usize, const V: usize>(
    acc: &mut [[T::Lanes; V]; R],
    a: MatRef<'_, T>,
    i0: usize,
    b: &[T],
    b_rs: usize,
    j0: usize,
) {
    let n = T::Lanes::N;
    let fma_row = |acc: &mut [[T::Lanes; V]; R], ak: [T; R], kk: usize| {
        let brow = &b[kk * b_rs + j0..kk * b_rs + j0 + V * n];
        let bv: [T::Lanes; V] = std::array::from_fn(|j| T::Lanes::load(&brow[j * n..]));
        for i in 0..R {
            let ai = T::Lanes::splat(ak[i]);
            for j in 0..V {
                acc[i][j] = ai.mul_add(bv[j], acc[i][j]);
            }
        }
    };
    if a.rs == 1 {
        // A is a transposed row-major matrix: the R elements of column k are adjacent.
        for kk in 0..a.cols {
            let col: &[T; R] = a.data[i0 + kk * a.cs..i0 + kk * a.cs + R]
                .try_into()
                .expect("internal: R elements");
            fma_row(acc, *col, kk);
        }
    } else if a.cs == 1 {
        let rows: [&[T]; R] =
            std::array::from_fn(|i| &a.data[(i0 + i) * a.rs..(i0 + i) * a.rs + a.cols]);
        for kk in 0..a.cols {
            fma_row(acc, std::array::from_fn(|i| rows[i][kk]), kk);
        }
    } else {
        let base: [usize; R] = std::array::from_fn(|i| (i0 + i) * a.rs);
        for kk in 0..a.cols {
            let ak = kk * a.cs;
            fma_row(acc, std::array::from_fn(|i| a.data[base[i] + ak]), kk);
        }
    }
}

/// Most segments summed in registers per pass over the tiles of C.
const DIRECT_BLOCK_SEGS: usize = 16;
/// Depth of one pass of the direct path (whole segments; a deeper single segment is one pass).
const DIRECT_BLOCK_K: usize = 128;
/// From this many rows of C, the direct path packs each block's `B` (see `direct_v`).
const PACK_B_MIN_ROWS: usize = 64;
/// Up to this many elements of C, a product of many segments takes the direct path.
const DIRECT_SEGS_MAX_MN: usize = 128 * 256;

/// One pass of the direct path: segments `blk` (with the zero-padded last column panel of
/// each `B` stacked in `tail`, or, when `packed`, every column panel of the block stacked there
/// panel by panel) into every `R`-row tile of columns `jr·NR..` of C.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn direct_tiles<T: Float, const R: usize, const V: usize>(
    dst: &mut MatMut<'_, T>,
    blk: &[(MatRef<'_, T>, MatRef<'_, T>)],
    tail: &[T],
    packed: Option<usize>,
    a_row: usize,
    i0: usize,
    jr: usize,
    valpha: T::Lanes,
    overwrite: bool,
) {
    let nr = V * T::Lanes::N;
    let n = dst.cols;
    let full = jr < n / nr;
    let mut acc = [[T::Lanes::splat(T::ZERO); V]; R];
    let mut koff = 0;
    for &(a, b) in blk {
        match packed {
            Some(kb) => {
                let panel = &tail[(jr * kb + koff) * nr..];
                micro_direct::<T, R, V>(&mut acc, a, a_row, panel, nr, 0);
            }
            None if full => micro_direct::<T, R, V>(&mut acc, a, a_row, b.data, b.rs, jr * nr),
            None => micro_direct::<T, R, V>(&mut acc, a, a_row, &tail[koff * nr..], nr, 0),
        }
        koff += a.cols;
    }
    let cols = if full { nr } else { n % nr };
    store_tile(dst, &acc, i0, R, jr * nr, cols, valpha, overwrite);
}

/// Unpacked GEMM for row-major `B`s: `A` is broadcast from its own storage, `B` rows are
/// loaded in place, only the last partial column panel of each `B` is copied. Segments are
/// summed in registers a block at a time, so C is read and written once per block.
fn direct<T: Float>(
    mut dst: MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    segs: &(impl Segments<T> + ?Sized),
    row0: usize,
) {
    // Narrow outputs use one vector per tile row.
    if dst.cols <= T::Lanes::N {
        direct_v::<T, 1>(&mut dst, accum, alpha, segs, row0);
    } else {
        direct_v::<T, NV>(&mut dst, accum, alpha, segs, row0);
    }
}

fn direct_v<T: Float, const V: usize>(
    dst: &mut MatMut<'_, T>,
    accum: Accum,
    alpha: T,
    segs: &(impl Segments<T> + ?Sized),
    row0: usize,
) {
    let (m, n) = (dst.rows, dst.cols);
    let nr = V * T::Lanes::N;
    let (rem, panels) = (n % nr, n.div_ceil(nr));
    let valpha = T::Lanes::splat(alpha);
    let count = segs.count();
    T::with_scratch(|tail, _| {
        let mut s0 = 0;
        while s0 < count {
            // The next block of whole segments.
            let mut blk = [segs.get(s0); DIRECT_BLOCK_SEGS];
            let (mut len, mut kb) = (1, blk[0].0.cols);
            while s0 + len < count && len < DIRECT_BLOCK_SEGS {
                let next = segs.get(s0 + len);
                if kb + next.0.cols > DIRECT_BLOCK_K {
                    break;
                }
                blk[len] = next;
                kb += next.0.cols;
                len += 1;
            }
            let blk = &blk[..len];
            // With many row tiles per column panel, the block's `B` is copied panel by panel
            // into contiguous memory: read in place, a panel's rows lie a row length apart and,
            // for power-of-two lengths, in a few cache sets, so it leaves L1 between row tiles.
            let packed = (m >= PACK_B_MIN_ROWS).then_some(kb);
            if packed.is_some() {
                if tail.len() < panels * kb * nr {
                    tail.resize(panels * kb * nr, T::ZERO);
                }
                for (p, panel) in tail.chunks_exact_mut(kb * nr).take(panels).enumerate() {
                    let j0 = p * nr;
                    let w = nr.min(n - j0);
                    let rows = blk.iter().flat_map(|(_, b)| {
                        (0..b.rows).map(move |kk| &b.data[kk * b.rs + j0..kk * b.rs + j0 + w])
                    });
                    for (out, src) in panel.chunks_exact_mut(nr).zip(rows) {
                        out[..w].copy_from_slice(src);
                        out[w..].fill(T::ZERO);
                    }
                }
            } else if rem != 0 {
                if tail.len() < kb * nr {
                    tail.resize(kb * nr, T::ZERO);
                }
                let j0 = n - rem;
                let rows = blk.iter().flat_map(|(_, b)| {
                    (0..b.rows).map(move |kk| &b.data[kk * b.rs + j0..kk * b.rs + j0 + rem])
                });
                for (out, src) in tail.chunks_exact_mut(nr).zip(rows) {
                    out[..rem].copy_from_slice(src);
                    out[rem..].fill(T::ZERO);
                }
            }
            let overwrite = s0 == 0 && accum == Accum::Replace;
            for jr in 0..panels {
                let mut i0 = 0;
                while i0 < m {
                    let rows = MR.min(m - i0);
                    macro_rules! go {
                        ($r:literal) => {
                            direct_tiles::<T, $r, V>(
                                dst,
                                blk,
                                tail,
                                packed,
                                row0 + i0,
                                i0,
                                jr,
                                valpha,
                                overwrite,
                            )
                        };
                    }
                    by_rows!(rows, go);
                    i0 += rows;
                }
            }
            s0 += len;
        }
    });
}
