//! State accuracy (kNN and Hungarian-matched) and R².

use super::hungarian;
use crate::error::ConfigError;

/// The index of each row's largest entry (`rows × k`, first maximum on ties).
pub fn argmax_rows(z: &[f64], k: usize) -> Vec<usize> {
    if k == 0 {
        return Vec::new();
    }
    z.chunks_exact(k)
        .map(|r| (0..k).fold(0, |b, j| if r[j] > r[b] { j } else { b }))
        .collect()
}

fn check_features(
    what: &str,
    feats: &[f64],
    labels_len: usize,
    dim: usize,
) -> Result<(), ConfigError> {
    if dim == 0 {
        return Err(ConfigError::new(
            "dim",
            "features need at least one dimension",
        ));
    }
    if labels_len == 0 {
        return Err(ConfigError::new(what, "empty: no rows"));
    }
    if feats.len() != labels_len * dim {
        return Err(ConfigError::new(
            what,
            format!(
                "{} feature values for {labels_len} labels of dimension {dim}",
                feats.len()
            ),
        ));
    }
    if feats.iter().any(|x| !x.is_finite()) {
        return Err(ConfigError::new(
            what,
            "features contain NaN or infinite values",
        ));
    }
    Ok(())
}

/// Predicts labels for `query` rows by majority vote of the `k` nearest `train` rows
/// (Euclidean; uniform weights; a tie in the vote goes to the smallest label, as
/// scikit-learn's `KNeighborsClassifier`; equal distances keep the earlier training row).
///
/// # Errors
/// Empty inputs, `k = 0`, mismatched lengths, or non-finite features.
pub fn knn_predict(
    train: &[f64],
    train_labels: &[usize],
    query: &[f64],
    dim: usize,
    k: usize,
) -> Result<Vec<usize>, ConfigError> {
    if k == 0 {
        return Err(ConfigError::new("k", "must be at least 1"));
    }
    check_features("train", train, train_labels.len(), dim)?;
    if !query.len().is_multiple_of(dim.max(1)) || query.iter().any(|x| !x.is_finite()) {
        return Err(ConfigError::new(
            "query",
            "features must be finite rows of the training dimension",
        ));
    }
    let n_classes = train_labels.iter().max().map_or(0, |m| m + 1);
    let k = k.min(train_labels.len());
    let mut d: Vec<(f64, usize)> = Vec::with_capacity(train_labels.len());
    let mut votes = vec![0usize; n_classes];
    let out = query
        .chunks_exact(dim)
        .map(|q| {
            d.clear();
            d.extend(train.chunks_exact(dim).enumerate().map(|(i, r)| {
                let s: f64 = r.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum();
                (s, i)
            }));
            d.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            votes.fill(0);
            for &(_, i) in &d[..k] {
                votes[train_labels[i]] += 1;
            }
            (0..n_classes).fold(0, |b, c| if votes[c] > votes[b] { c } else { b })
        })
        .collect();
    Ok(out)
}

/// kNN state accuracy (the GDM authors' metric, k = 10 there): fit on the training
/// sequence's soft states and true labels, score the fraction of test steps whose predicted
/// label equals the true one.
///
/// ```text
/// acc = (1/T_test) Σ_t [ knn(z̄_test,t) = label_test,t ]
/// ```
///
/// # Errors
/// As [`knn_predict`], or a test set whose labels do not match its rows.
///
/// # Example
/// ```
/// use neurodyn::metrics::knn_accuracy;
/// let train = [0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.2, 0.8];
/// let test = [0.7, 0.3, 0.3, 0.7];
/// let acc = knn_accuracy(&train, &[0, 0, 1, 1], &test, &[0, 1], 2, 1)?;
/// assert_eq!(acc, 1.0);
/// # Ok::<(), neurodyn::ConfigError>(())
/// ```
pub fn knn_accuracy(
    train: &[f64],
    train_labels: &[usize],
    test: &[f64],
    test_labels: &[usize],
    dim: usize,
    k: usize,
) -> Result<f64, ConfigError> {
    check_features("test", test, test_labels.len(), dim)?;
    let pred = knn_predict(train, train_labels, test, dim, k)?;
    let hits = pred.iter().zip(test_labels).filter(|(a, b)| a == b).count();
    Ok(hits as f64 / test_labels.len() as f64)
}

/// The `n_pred × n_true` confusion counts of two labellings of the same steps.
///
/// # Panics
/// If the lengths differ.
#[track_caller]
pub fn confusion(pred: &[usize], truth: &[usize]) -> (Vec<usize>, usize, usize) {
    assert_eq!(pred.len(), truth.len(), "confusion: lengths differ");
    let np = pred.iter().max().map_or(0, |m| m + 1);
    let nt = truth.iter().max().map_or(0, |m| m + 1);
    let mut c = vec![0usize; np * nt];
    for (&p, &t) in pred.iter().zip(truth) {
        c[p * nt + t] += 1;
    }
    (c, np, nt)
}

/// Accuracy after matching predicted states to true labels one to one so as to maximise
/// agreement (Hungarian algorithm on the confusion counts); unmatched predicted states count
/// as wrong.
///
/// # Errors
/// Empty or mismatched labellings.
///
/// # Example
/// ```
/// use neurodyn::metrics::matched_accuracy;
/// // the states are the labels renamed (0→2, 1→0, 2→1), one step wrong
/// let acc = matched_accuracy(&[2, 2, 0, 0, 1, 1], &[0, 0, 1, 1, 2, 0])?;
/// assert!((acc - 5.0 / 6.0).abs() < 1e-12);
/// # Ok::<(), neurodyn::ConfigError>(())
/// ```
pub fn matched_accuracy(pred: &[usize], truth: &[usize]) -> Result<f64, ConfigError> {
    if pred.is_empty() {
        return Err(ConfigError::new("labels", "empty: no steps"));
    }
    if pred.len() != truth.len() {
        return Err(ConfigError::new(
            "labels",
            format!("{} predicted and {} true labels", pred.len(), truth.len()),
        ));
    }
    let (c, np, nt) = confusion(pred, truth);
    let cost: Vec<f64> = c.iter().map(|&x| -(x as f64)).collect();
    let assign = hungarian(&cost, np, nt);
    let hits: usize = assign
        .iter()
        .enumerate()
        .filter(|(_, j)| **j != usize::MAX)
        .map(|(i, &j)| c[i * nt + j])
        .sum();
    Ok(hits as f64 / pred.len() as f64)
}

/// R² of predictions, the mean over output units of `1 − SS_res/SS_tot` (the GDM authors'
/// `compute_r2`, with their `1e-8` in the denominator), over the rows where `rows_used` is
/// true (all rows when `None`).
///
/// ```text
/// R²_n = 1 − Σ_t (y_tn − ŷ_tn)² / (Σ_t (y_tn − ȳ_n)² + 1e-8),    R² = mean_n R²_n
/// ```
///
/// # Errors
/// Mismatched lengths, no rows used, `n = 0`, or non-finite predictions.
///
/// # Example
/// ```
/// use neurodyn::metrics::r2_score;
/// let y = [1.0, 2.0, 3.0, 4.0];
/// assert!((r2_score(&y, &y, 1, None)? - 1.0).abs() < 1e-9);
/// assert!(r2_score(&y, &[2.5; 4], 1, None)?.abs() < 1e-8);
/// # Ok::<(), neurodyn::ConfigError>(())
/// ```
pub fn r2_score(
    y: &[f64],
    yhat: &[f64],
    n: usize,
    rows_used: Option<&[bool]>,
) -> Result<f64, ConfigError> {
    if n == 0 || !y.len().is_multiple_of(n) || y.len() != yhat.len() {
        return Err(ConfigError::new(
            "r2",
            format!(
                "{} targets and {} predictions of dimension {n}",
                y.len(),
                yhat.len()
            ),
        ));
    }
    let rows = y.len() / n;
    let use_row = |t: usize| rows_used.is_none_or(|u| u.get(t).copied().unwrap_or(false));
    let used = (0..rows).filter(|&t| use_row(t)).count();
    if used == 0 {
        return Err(ConfigError::new("r2", "no rows to score"));
    }
    if (0..rows).any(|t| use_row(t) && yhat[t * n..(t + 1) * n].iter().any(|v| !v.is_finite())) {
        return Err(ConfigError::new(
            "r2",
            "predictions contain NaN or infinite values",
        ));
    }
    let mut total = 0.0;
    for j in 0..n {
        let mean = (0..rows)
            .filter(|&t| use_row(t))
            .map(|t| y[t * n + j])
            .sum::<f64>()
            / used as f64;
        let (mut ss_res, mut ss_tot) = (0.0, 0.0);
        for t in (0..rows).filter(|&t| use_row(t)) {
            ss_res += (y[t * n + j] - yhat[t * n + j]).powi(2);
            ss_tot += (y[t * n + j] - mean).powi(2);
        }
        total += 1.0 - ss_res / (ss_tot + 1e-8);
    }
    Ok(total / n as f64)
}
