//! The data-format layer (`neurodyn::io`): round trips, real files, malformed inputs, numpy
//! interoperability.

mod csv;
mod malformed_binary;
mod malformed_text;
mod npy;
mod npz;
mod numpy_interop;
mod real_data;
mod ts;

use neurodyn::io::{DataError, DataErrorKind};
use std::path::PathBuf;

/// A file under `tests/data/`.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// A fresh, empty scratch folder for one test (under the target folder's tmp).
pub fn scratch(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("io-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Asserts that `r` failed with `kind` at `at`, and that the message contains `text`.
#[track_caller]
fn expect(
    r: Result<impl std::fmt::Debug, DataError>,
    kind: DataErrorKind,
    at: Option<&str>,
    text: &str,
) {
    let e = r.expect_err("malformed input must be an error");
    assert_eq!(e.kind, kind, "{e}");
    assert_eq!(e.location.as_deref(), at, "{e}");
    assert!(
        e.to_string().contains(text),
        "'{e}' should contain '{text}'"
    );
}
