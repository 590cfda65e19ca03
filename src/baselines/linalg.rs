//! Small dense linear algebra for the baselines (sizes of tens): Cholesky factorisation,
//! triangular solves, log-determinants.

/// The lower Cholesky factor `L` of a symmetric positive-definite `n × n` matrix (`A = L Lᵀ`),
/// or `None` if a pivot is not positive.
pub fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|p| l[i * n + p] * l[j * n + p]).sum();
            if i == j {
                let d = a[i * n + i] - s;
                if !(d > 0.0 && d.is_finite()) {
                    return None;
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves `L x = b` in place (`L` lower triangular).
pub fn solve_lower(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let s: f64 = (0..i).map(|p| l[i * n + p] * b[p]).sum();
        b[i] = (b[i] - s) / l[i * n + i];
    }
}

/// Solves `Lᵀ x = b` in place.
pub fn solve_upper_t(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|p| l[p * n + i] * b[p]).sum();
        b[i] = (b[i] - s) / l[i * n + i];
    }
}

/// `ln det A = 2 Σ ln L_ii`.
pub fn log_det(l: &[f64], n: usize) -> f64 {
    2.0 * (0..n).map(|i| l[i * n + i].ln()).sum::<f64>()
}

/// Solves `A X = B` for symmetric positive-definite `A` (`n × n`) and `B` (`n × m`,
/// row-major), adding `ridge · I` (doubling it until the factorisation succeeds).
pub fn spd_solve(a: &[f64], n: usize, b: &[f64], m: usize, ridge: f64) -> Vec<f64> {
    let scale = (0..n)
        .map(|i| a[i * n + i].abs())
        .fold(0.0, f64::max)
        .max(1e-300);
    let mut r = ridge * scale;
    let mut l = None;
    for _ in 0..40 {
        let mut aa = a.to_vec();
        (0..n).for_each(|i| aa[i * n + i] += r);
        l = cholesky(&aa, n);
        if l.is_some() {
            break;
        }
        r = if r == 0.0 { 1e-12 * scale } else { r * 10.0 };
    }
    // a matrix that no ridge makes positive definite (non-finite entries): the identity
    let l = l.unwrap_or_else(|| {
        let mut e = vec![0.0; n * n];
        (0..n).for_each(|i| e[i * n + i] = 1.0);
        e
    });
    let mut x = vec![0.0; n * m];
    let mut col = vec![0.0; n];
    for j in 0..m {
        (0..n).for_each(|i| col[i] = b[i * m + j]);
        solve_lower(&l, n, &mut col);
        solve_upper_t(&l, n, &mut col);
        (0..n).for_each(|i| x[i * m + j] = col[i]);
    }
    x
}
