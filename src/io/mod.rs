//! Data formats: `.npy`/`.npz` arrays, numeric CSV tables and UEA `.ts` time-series archives.
//!
//! | format | read | write | module |
//! |---|---|---|---|
//! | `.npy` | `<f4 <f8 \|b1 \|i1 \|u1 <i2 <u2 <i4 <u4 <i8 <u8`, versions 1–3, C and Fortran order | f32, f64, i64, u64, bool | [`npy`] |
//! | `.npz` | stored and deflated members (`np.savez`, `np.savez_compressed`) | stored | [`npz`] |
//! | CSV | numbers, optional header, `,` `;` or tab | yes | [`csv`] |
//! | `.ts` | UEA/UCR classification and regression archives | no | [`ts`] |
//!
//! Every reader comes in two forms: `parse_*(&[u8])` for bytes (and fuzzers) and
//! `read_*(path)` for files; every writer as `*_to_bytes`/`csv_to_string` and `write_*(path)`,
//! which writes atomically ([`write_atomic`]). All of them return [`DataError`], which names the
//! problem, where it is (line and column, header, zip member) and the file, and never panic on
//! bad input. No reader allocates more than its input can hold: sizes claimed by headers are
//! checked against the bytes actually present first. See `docs/formats.md`.
//!
//! # Example
//! ```
//! use neurodyn::io::{npz_to_bytes, parse_npz, Array};
//!
//! let y = Array::from_matrix(3, 2, vec![0.5, 1.5, 2.5, 3.5, 4.5, 5.5])?;
//! let npz = parse_npz(&npz_to_bytes(&[("train_y", &y)])?)?;
//! let (rows, cols, data) = npz.get("train_y")?.as_matrix::<f64>()?;
//! assert_eq!((rows, cols, data[5]), (3, 2, 5.5));
//! # Ok::<(), neurodyn::Error>(())
//! ```

mod array;
mod atomic;
mod crc32;
pub mod csv;
mod error;
pub mod npy;
mod npy_header;
pub mod npz;
pub mod ts;
mod ts_header;
mod zip;

pub use array::{Array, ArrayData};
pub use atomic::write_atomic;
pub use csv::{CsvOptions, CsvTable, HeaderMode, csv_to_string, parse_csv, read_csv, write_csv};
pub use error::{DataError, DataErrorKind};
pub use npy::{npy_to_bytes, parse_npy, read_npy, write_npy};
pub use npz::{Npz, npz_to_bytes, parse_npz, read_npz, write_npz};
pub use ts::{TsDataset, TsOptions, parse_ts, read_ts};
