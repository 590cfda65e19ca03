//! Scoring a fitted model the same way for every model: kNN (k = 10) and Hungarian-matched
//! state accuracy, reconstruction R² and k-step forecast R².

use super::CliError;
use crate::metrics::{argmax_rows, knn_accuracy, matched_accuracy, r2_score};
use crate::models::gdm::{Gdm, Sequences};
use rand::Rng;

/// kNN neighbours (the authors').
pub const KNN_K: usize = 10;
/// Forecast horizons scored.
pub const K_MAX: usize = 10;

/// State accuracies from soft states (`rows × k`) of a training and an optional test
/// sequence.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateScores {
    /// kNN from training states/labels to test labels.
    pub knn: Option<f64>,
    /// Hungarian-matched argmax accuracy on the training sequence.
    pub matched_train: Option<f64>,
    /// Hungarian-matched argmax accuracy on the test sequence.
    pub matched_test: Option<f64>,
}

/// Scores soft states against labels.
///
/// # Errors
/// Mismatched sizes.
pub fn state_scores(
    k: usize,
    train: &[f64],
    train_labels: Option<&[usize]>,
    test: Option<(&[f64], Option<&[usize]>)>,
) -> Result<StateScores, CliError> {
    let e = |e: crate::ConfigError| CliError::failure(format!("scoring: {e}"));
    let mut s = StateScores::default();
    if let Some(tl) = train_labels {
        s.matched_train = Some(matched_accuracy(&argmax_rows(train, k), tl).map_err(e)?);
        if let Some((test, Some(sl))) = test {
            s.knn = Some(knn_accuracy(train, tl, test, sl, k, KNN_K).map_err(e)?);
        }
    }
    if let Some((test, Some(sl))) = test {
        s.matched_test = Some(matched_accuracy(&argmax_rows(test, k), sl).map_err(e)?);
    }
    Ok(s)
}

/// Everything measured for one fitted GDM.
#[derive(Clone, Debug, PartialEq)]
pub struct GdmScores {
    /// Soft states of the training sequence.
    pub train_states: Vec<f64>,
    /// Soft states of the test sequence.
    pub test_states: Option<Vec<f64>>,
    /// State accuracies.
    pub states: StateScores,
    /// Reconstruction R² on the training sequence.
    pub recon_train: f64,
    /// Reconstruction R² on the test sequence.
    pub recon_test: Option<f64>,
    /// k-step forecast R² for k = 1..=K_MAX (on the test sequence when there is one).
    pub forecast: Vec<f64>,
}

/// Soft states, reconstructions and forecasts of a fitted model, scored.
///
/// # Errors
/// Data that does not fit the model.
pub fn score_gdm<R: Rng + ?Sized>(
    model: &Gdm<f64>,
    train: &Sequences<f64>,
    train_labels: Option<&[usize]>,
    test: Option<(&Sequences<f64>, Option<&[usize]>)>,
    samples: usize,
    rng: &mut R,
) -> Result<GdmScores, CliError> {
    let e = |e: crate::ConfigError| CliError::input(format!("{}: {}", e.field, e.reason));
    let (k, n) = (model.config().states, model.config().obs);
    let train_states = model.soft_states(train, samples, rng).map_err(e)?;
    let recon = model.reconstruct(train, samples, rng).map_err(e)?;
    let r2 =
        |y: &[f64], yh: &[f64], used: Option<&[bool]>| r2_score(y, yh, n, used).unwrap_or(f64::NAN);
    let recon_train = r2(train.y(), &recon, None);
    let (test_states, recon_test) = match test {
        Some((d, _)) => {
            let st = model.soft_states(d, samples, rng).map_err(e)?;
            let rc = model.reconstruct(d, samples, rng).map_err(e)?;
            (Some(st), Some(r2(d.y(), &rc, None)))
        }
        None => (None, None),
    };
    let fdata = test.map_or(train, |(d, _)| d);
    let fc = model.forecast(fdata, K_MAX, samples, rng).map_err(e)?;
    let forecast = (1..=K_MAX)
        .map(|h| {
            let (p, ok) = fc.horizon(h);
            r2(fdata.y(), p, Some(ok))
        })
        .collect();
    let states = state_scores(
        k,
        &train_states,
        train_labels,
        test.map(|(_, l)| (test_states.as_deref().unwrap_or(&[]), l)),
    )?;
    Ok(GdmScores {
        train_states,
        test_states,
        states,
        recon_train,
        recon_test,
        forecast,
    })
}

/// `mean ± sd` (sample standard deviation) of finite values.
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    let x: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if x.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let sd = if x.len() > 1 {
        (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    (m, sd)
}
