//! The Hungarian algorithm (Kuhn 1955; Munkres 1957) for the linear assignment problem, in
//! the O(n²m) potentials form (Jonker–Volgenant style shortest augmenting paths).

/// Minimum-cost assignment of `rows` to distinct columns of a `rows × cols` cost matrix
/// (`rows ≤ cols` is assigned fully; with more rows than columns, the extra rows get
/// `usize::MAX`). Returns the column of each row. Non-finite costs are treated as very large.
///
/// ```text
/// minimise Σ_i cost[i][σ(i)] over injective σ
/// ```
///
/// # Panics
/// If `cost.len() != rows · cols`.
///
/// # Example
/// ```
/// use neurodyn::metrics::hungarian;
/// // the diagonal is expensive, the anti-diagonal cheap
/// let cost = [5.0, 1.0, 1.0, 5.0];
/// assert_eq!(hungarian(&cost, 2, 2), vec![1, 0]);
/// ```
#[track_caller]
pub fn hungarian(cost: &[f64], rows: usize, cols: usize) -> Vec<usize> {
    assert_eq!(
        cost.len(),
        rows * cols,
        "hungarian: cost is not rows × cols"
    );
    if rows == 0 || cols == 0 {
        return vec![usize::MAX; rows];
    }
    // Work on an n × m matrix with n ≤ m (transpose if needed).
    let transposed = rows > cols;
    let (n, m) = if transposed {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let big = cost
        .iter()
        .filter(|c| c.is_finite())
        .fold(0.0f64, |a, &c| a.max(c.abs()))
        * 4.0
        + 1.0;
    let at = |i: usize, j: usize| -> f64 {
        let c = if transposed {
            cost[j * cols + i]
        } else {
            cost[i * cols + j]
        };
        if c.is_finite() { c } else { big }
    };
    // 1-based potentials u (rows), v (cols); p[j] = row matched to column j (0 = none).
    let inf = f64::INFINITY;
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![inf; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0;
            for j in 1..=m {
                if !used[j] {
                    let cur = at(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out = vec![usize::MAX; rows];
    for (j, &pj) in p.iter().enumerate().skip(1) {
        if pj != 0 {
            let (r, c) = (pj - 1, j - 1);
            if transposed {
                out[c] = r;
            } else {
                out[r] = c;
            }
        }
    }
    out
}
