//! Metrics for segmentations and fits (SPEC §6.3), the same for every model:
//!
//! | metric | function |
//! |---|---|
//! | kNN state accuracy (the GDM authors'): a k-nearest-neighbour classifier from the training sequence's inferred soft states to its true labels, scored on the test sequence | [`knn_accuracy`] |
//! | Hungarian-matched accuracy of argmax states | [`matched_accuracy`], [`hungarian`] |
//! | R² of a reconstruction or forecast, the mean over output units of per-unit R² (the authors' `compute_r2`) | [`r2_score`] |
//!
//! Plain `f64` slices, row-major; this module uses no other layer.

mod hungarian;
mod states;

pub use hungarian::hungarian;
pub use states::{argmax_rows, confusion, knn_accuracy, knn_predict, matched_accuracy, r2_score};
