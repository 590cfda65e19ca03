//! Exact minibatch optimal transport between two equal-size point sets: the assignment problem
//! solved by the Hungarian algorithm (Kuhn 1955; Munkres 1957) with potentials, O(n³).
//!
//! ```text
//! min_π Σ_i c(i, π(i)),  c(i, j) = ‖a_i − b_j‖²   over permutations π
//! ```

/// The optimal assignment for a square cost matrix (`n × n`, row-major): `perm[i]` is the
/// column given to row `i`.
///
/// # Panics
/// If `cost.len() != n²`.
///
/// # Example
/// ```
/// let cost = [4.0, 1.0, 3.0,
///             2.0, 0.0, 5.0,
///             3.0, 2.0, 2.0];
/// assert_eq!(neurodyn::models::cnf::assignment(&cost, 3), vec![1, 0, 2]);
/// ```
pub fn assignment(cost: &[f64], n: usize) -> Vec<usize> {
    assert_eq!(cost.len(), n * n, "assignment: cost must be n × n");
    // 1-based potentials u (rows), v (columns); p[j] = row matched to column j (0 = none).
    let inf = f64::INFINITY;
    let (mut u, mut v) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    let (mut p, mut way) = (vec![0usize; n + 1], vec![0usize; n + 1]);
    let mut minv = vec![inf; n + 1];
    let mut used = vec![false; n + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        minv.fill(inf);
        used.fill(false);
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0;
            for j in 1..=n {
                if !used[j] {
                    let cur = cost[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
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
            if j1 == 0 {
                // non-finite costs: stop augmenting this row (leave it to the fallback below)
                break;
            }
            for j in 0..=n {
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
    let mut perm = vec![usize::MAX; n];
    for j in 1..=n {
        if p[j] > 0 {
            perm[p[j] - 1] = j - 1;
        }
    }
    // any row left unmatched (only with non-finite costs) takes a free column
    let mut free: Vec<usize> = (0..n).filter(|j| !perm.contains(j)).collect();
    for q in perm.iter_mut().filter(|q| **q == usize::MAX) {
        *q = free
            .pop()
            .expect("internal: as many free columns as free rows");
    }
    perm
}

#[cfg(test)]
mod tests {
    use super::assignment;

    fn brute(cost: &[f64], n: usize) -> f64 {
        fn rec(cost: &[f64], n: usize, i: usize, used: &mut Vec<bool>) -> f64 {
            if i == n {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for j in 0..n {
                if !used[j] {
                    used[j] = true;
                    best = best.min(cost[i * n + j] + rec(cost, n, i + 1, used));
                    used[j] = false;
                }
            }
            best
        }
        rec(cost, n, 0, &mut vec![false; n])
    }

    #[test]
    fn matches_brute_force_on_random_costs() {
        use rand::RngExt;
        let mut rng = crate::rng::seeded(3);
        for n in 1..=6 {
            for _ in 0..20 {
                let cost: Vec<f64> = (0..n * n).map(|_| rng.random::<f64>()).collect();
                let p = assignment(&cost, n);
                let mut seen = p.clone();
                seen.sort();
                assert_eq!(seen, (0..n).collect::<Vec<_>>());
                let got: f64 = (0..n).map(|i| cost[i * n + p[i]]).sum();
                assert!((got - brute(&cost, n)).abs() < 1e-12);
            }
        }
    }
}
