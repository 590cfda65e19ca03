//! Exact minibatch optimal transport between two equal-size point sets: the assignment problem
//! solved by the Hungarian algorithm of [`crate::metrics::hungarian`], O(n³).
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
    crate::metrics::hungarian(cost, n, n)
}
