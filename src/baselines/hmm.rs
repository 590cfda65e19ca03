//! Exact inference in a discrete hidden Markov chain given per-step log-likelihoods:
//! scaled forward–backward and Viterbi.
//!
//! ```text
//! α̂_1 ∝ π ⊙ ℓ_1,   α̂_t ∝ (α̂_{t−1} P) ⊙ ℓ_t,   c_t = the normaliser,  ln p(y) = Σ_t ln c_t
//! β̂_T = 1,          β̂_t = P (ℓ_{t+1} ⊙ β̂_{t+1}) / c_{t+1}
//! γ_t = α̂_t ⊙ β̂_t,  ξ_t(i, j) = α̂_t(i) P_ij ℓ_{t+1}(j) β̂_{t+1}(j) / c_{t+1}
//! ```
//! `ℓ_t = exp(ln p(y_t | state) − max_k)`, the shift added back to `ln c_t`, so that very
//! small likelihoods do not underflow.

/// The result of [`forward_backward`] on one sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Smoothed {
    /// `γ_t(k) = p(z_t = k | y)`, `T × K`.
    pub gamma: Vec<f64>,
    /// `Σ_t ξ_t(i, j)`, `K × K`.
    pub xi_sum: Vec<f64>,
    /// `ln p(y_{1:T})`.
    pub log_likelihood: f64,
    /// Filtered `p(z_t = k | y_{1:t})`, `T × K`.
    pub filtered: Vec<f64>,
}

/// Forward–backward for one sequence with initial distribution `pi` (K), transition matrix
/// `p` (K × K, rows sum to 1) and log-likelihoods `ll` (T × K).
///
/// # Panics
/// If the sizes disagree or `T = 0`.
#[track_caller]
pub fn forward_backward(pi: &[f64], p: &[f64], ll: &[f64]) -> Smoothed {
    let k = pi.len();
    assert!(
        k > 0 && p.len() == k * k && !ll.is_empty() && ll.len().is_multiple_of(k),
        "forward_backward: sizes"
    );
    let t_len = ll.len() / k;
    let mut alpha = vec![0.0; t_len * k];
    let mut lik = vec![0.0; t_len * k];
    let mut c = vec![0.0; t_len];
    let mut log_lik = 0.0;
    for t in 0..t_len {
        let row = &ll[t * k..(t + 1) * k];
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let m = if m.is_finite() { m } else { 0.0 };
        for j in 0..k {
            lik[t * k + j] = (row[j] - m).exp();
        }
        let mut s = 0.0;
        for j in 0..k {
            let prior = if t == 0 {
                pi[j]
            } else {
                (0..k).map(|i| alpha[(t - 1) * k + i] * p[i * k + j]).sum()
            };
            alpha[t * k + j] = prior * lik[t * k + j];
            s += alpha[t * k + j];
        }
        let s = if s > 0.0 && s.is_finite() {
            s
        } else {
            f64::MIN_POSITIVE
        };
        alpha[t * k..(t + 1) * k].iter_mut().for_each(|a| *a /= s);
        c[t] = s;
        log_lik += s.ln() + m;
    }
    let mut beta = vec![1.0; t_len * k];
    let mut gamma = vec![0.0; t_len * k];
    let mut xi_sum = vec![0.0; k * k];
    for t in (0..t_len).rev() {
        if t + 1 < t_len {
            for i in 0..k {
                beta[t * k + i] = (0..k)
                    .map(|j| p[i * k + j] * lik[(t + 1) * k + j] * beta[(t + 1) * k + j])
                    .sum::<f64>()
                    / c[t + 1];
            }
            for i in 0..k {
                for j in 0..k {
                    xi_sum[i * k + j] += alpha[t * k + i]
                        * p[i * k + j]
                        * lik[(t + 1) * k + j]
                        * beta[(t + 1) * k + j]
                        / c[t + 1];
                }
            }
        }
        let mut s = 0.0;
        for j in 0..k {
            gamma[t * k + j] = alpha[t * k + j] * beta[t * k + j];
            s += gamma[t * k + j];
        }
        if s > 0.0 {
            gamma[t * k..(t + 1) * k].iter_mut().for_each(|g| *g /= s);
        }
    }
    Smoothed {
        gamma,
        xi_sum,
        log_likelihood: log_lik,
        filtered: alpha,
    }
}

/// The most likely state path (Viterbi, in log space; ties go to the smaller state).
///
/// # Panics
/// If the sizes disagree or `T = 0`.
#[track_caller]
pub fn viterbi(pi: &[f64], p: &[f64], ll: &[f64]) -> Vec<usize> {
    let k = pi.len();
    assert!(
        k > 0 && p.len() == k * k && !ll.is_empty() && ll.len().is_multiple_of(k),
        "viterbi: sizes"
    );
    let t_len = ll.len() / k;
    let lp: Vec<f64> = p.iter().map(|v| v.ln()).collect();
    let mut delta: Vec<f64> = (0..k).map(|j| pi[j].ln() + ll[j]).collect();
    let mut back = vec![0usize; t_len * k];
    let mut next = vec![0.0; k];
    for t in 1..t_len {
        for j in 0..k {
            let (mut best, mut arg) = (f64::NEG_INFINITY, 0);
            for i in 0..k {
                let v = delta[i] + lp[i * k + j];
                if v > best {
                    best = v;
                    arg = i;
                }
            }
            next[j] = best + ll[t * k + j];
            back[t * k + j] = arg;
        }
        delta.copy_from_slice(&next);
    }
    let mut path = vec![0usize; t_len];
    path[t_len - 1] = (0..k).fold(0, |b, j| if delta[j] > delta[b] { j } else { b });
    for t in (1..t_len).rev() {
        path[t - 1] = back[t * k + path[t]];
    }
    path
}
