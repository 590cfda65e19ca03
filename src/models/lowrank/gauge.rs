//! Gauge fixing and gauge-free summaries of low-rank loadings (SPEC §4.4).
//!
//! ```text
//! symmetry:    M → M A,  N → N A^{−T}  (any invertible A) leaves J = M Nᵀ / N unchanged
//! SVD gauge:   M Nᵀ = U S Vᵀ,  m = U √S,  n = V √S
//! whitening:   Σ_m = MᵀM / N,  m = M Σ_m^{−1/2},  n = N Σ_m^{1/2}  (then E[m mᵀ] = I), rotated
//!              so that the symmetric part of the overlap E[n mᵀ] is diagonal (descending), each
//!              column's sign making Σ_i m_ir³ ≥ 0
//! alignment:   A = argmin ‖M A − M_ref‖ (least squares), for comparing with a known truth
//! latents:     κ = (MᵀM)^{−1} Mᵀ x   (the projection of a state on the column space of M)
//! ```
//! All matrices are row-major `N × R`.

use nalgebra::DMatrix;

fn mat(v: &[f64], rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_row_slice(rows, cols, v)
}

fn rows_of(m: &DMatrix<f64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            out.push(m[(i, j)]);
        }
    }
    out
}

/// The overlap `E[n mᵀ] = Nᵀ M / N` (`R × R`, entry `(r, s) = mean_i n_ir m_is`).
pub fn overlap(m: &[f64], n: &[f64], rank: usize) -> Vec<f64> {
    let p = m.len() / rank.max(1);
    let (mm, nn) = (mat(m, p, rank), mat(n, p, rank));
    rows_of(&(nn.transpose() * mm / p.max(1) as f64))
}

/// Applies a gauge `A`: `(M A, N A^{−T})`. `None` if `A` is singular.
pub fn transform(m: &[f64], n: &[f64], rank: usize, a: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    let p = m.len() / rank.max(1);
    let am = mat(a, rank, rank);
    let ainv_t = am.clone().try_inverse()?.transpose();
    Some((
        rows_of(&(mat(m, p, rank) * am)),
        rows_of(&(mat(n, p, rank) * ainv_t)),
    ))
}

/// The SVD gauge: `m = U √S`, `n = V √S` with `M Nᵀ = U S Vᵀ` (computed from R × R factors).
///
/// # Example
/// ```
/// use neurodyn::models::lowrank::gauge::svd_gauge;
/// let (m, n) = ([1.0, 2.0, 3.0], [2.0, 0.0, -1.0]);
/// let (m2, n2) = svd_gauge(&m, &n, 1);
/// for i in 0..3 { for j in 0..3 {
///     assert!((m2[i] * n2[j] - m[i] * n[j]).abs() < 1e-12);
/// } }
/// ```
pub fn svd_gauge(m: &[f64], n: &[f64], rank: usize) -> (Vec<f64>, Vec<f64>) {
    let p = m.len() / rank.max(1);
    let (qm, rm) = mat(m, p, rank).qr().unpack();
    let (qn, rn) = mat(n, p, rank).qr().unpack();
    let core = &rm * rn.transpose();
    let svd = core.svd(true, true);
    let (u, vt) = (
        svd.u.expect("internal: requested U"),
        svd.v_t.expect("internal: requested Vᵀ"),
    );
    let sq = DMatrix::from_diagonal(&svd.singular_values.map(f64::sqrt));
    let mut mo = qm * u * &sq;
    let mut no = qn * vt.transpose() * &sq;
    fix_signs(&mut mo, &mut no);
    (rows_of(&mo), rows_of(&no))
}

/// Flips column pairs so that `Σ_i m_ir³ ≥ 0` (ties: the first nonzero entry positive).
fn fix_signs(m: &mut DMatrix<f64>, n: &mut DMatrix<f64>) {
    for c in 0..m.ncols() {
        let skew: f64 = m.column(c).iter().map(|v| v.powi(3)).sum();
        let first = m
            .column(c)
            .iter()
            .copied()
            .find(|v| v.abs() > 1e-12)
            .unwrap_or(0.0);
        if skew < -1e-12 * m.nrows() as f64
            || (skew.abs() <= 1e-12 * m.nrows() as f64 && first < 0.0)
        {
            m.column_mut(c).neg_mut();
            n.column_mut(c).neg_mut();
        }
    }
}

/// The whitening gauge (see the [module docs](self)): `E[m mᵀ] = I` and a diagonal symmetric
/// overlap. Returns `(m, n, A)` with `m = M A`. `None` if `MᵀM` is singular.
pub fn whiten(m: &[f64], n: &[f64], rank: usize) -> Option<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let p = m.len() / rank.max(1);
    let mm = mat(m, p, rank);
    let cov = mm.transpose() * &mm / p.max(1) as f64;
    let eig = cov.symmetric_eigen();
    if eig.eigenvalues.iter().any(|&l| l.is_nan() || l <= 1e-300) {
        return None;
    }
    let inv_sqrt = &eig.eigenvectors
        * DMatrix::from_diagonal(&eig.eigenvalues.map(|l| 1.0 / l.sqrt()))
        * eig.eigenvectors.transpose();
    let (m1, n1) = transform(m, n, rank, &rows_of(&inv_sqrt))?;
    // rotate: eigenvectors of the symmetric part of the overlap, descending
    let o = mat(&overlap(&m1, &n1, rank), rank, rank);
    let sym = (&o + o.transpose()) * 0.5;
    let e = sym.symmetric_eigen();
    let mut order: Vec<usize> = (0..rank).collect();
    order.sort_by(|&a, &b| e.eigenvalues[b].total_cmp(&e.eigenvalues[a]));
    let q = DMatrix::from_fn(rank, rank, |i, j| e.eigenvectors[(i, order[j])]);
    let mut m2 = mat(&m1, p, rank) * &q;
    let mut n2 = mat(&n1, p, rank) * &q;
    fix_signs(&mut m2, &mut n2);
    let a = (mm.transpose() * &mm).try_inverse()? * mm.transpose() * &m2;
    Some((rows_of(&m2), rows_of(&n2), rows_of(&a)))
}

/// The gauge `A` taking `M` closest to `M_ref` (least squares), applied: `(M A, N A^{−T}, A)`.
/// `None` if `MᵀM` or `A` is singular.
pub fn align(
    m: &[f64],
    n: &[f64],
    m_ref: &[f64],
    rank: usize,
) -> Option<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let p = m.len() / rank.max(1);
    let mm = mat(m, p, rank);
    let a = (mm.transpose() * &mm).try_inverse()? * mm.transpose() * mat(m_ref, p, rank);
    let a = rows_of(&a);
    let (m2, n2) = transform(m, n, rank, &a)?;
    Some((m2, n2, a))
}

/// The latent coordinates `κ = (MᵀM)^{−1} Mᵀ x` of states `x` (`rows × N`): `rows × R`.
/// `None` if `MᵀM` is singular.
pub fn project_kappa(m: &[f64], rank: usize, x: &[f64]) -> Option<Vec<f64>> {
    let p = m.len() / rank.max(1);
    let rows = x.len() / p.max(1);
    let mm = mat(m, p, rank);
    let pinv = (mm.transpose() * &mm).try_inverse()? * mm.transpose(); // R × N
    let xm = mat(x, rows, p);
    Some(rows_of(&(xm * pinv.transpose())))
}
