//! The data-format layer (`neurodyn::io`): round trips, real files, malformed inputs, numpy
//! interoperability.

mod csv;
mod malformed;
mod npy;
mod npz;
mod numpy_interop;
mod real_data;
mod ts;

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
