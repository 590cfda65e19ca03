//! `.npz`: a zip archive of `.npy` members, as `np.savez` (stored) and `np.savez_compressed`
//! (deflate) write them.
//!
//! Array names are the member names without their `.npy` suffix, as `np.load(..)[name]` uses
//! them: member `train_y.npy` is array `train_y`. Every member (other than folder entries) must
//! be an `.npy` file; anything else is an error naming the member.

use super::array::Array;
use super::atomic::write_atomic;
use super::error::{DataError, DataErrorKind, err};
use super::npy::{npy_to_bytes, parse_npy};
use super::zip;
use std::collections::HashSet;
use std::path::Path;

/// The arrays of an `.npz` archive, in archive order.
///
/// # Example
/// ```
/// use neurodyn::io::{npz_to_bytes, parse_npz, Array, ArrayData};
///
/// let x = Array::from_matrix(2, 2, vec![1.0, 2.0, 3.0, 4.0])?;
/// let labels = Array::new(vec![2], ArrayData::I64(vec![0, 1]))?;
/// let bytes = npz_to_bytes(&[("x", &x), ("labels", &labels)])?;
/// let npz = parse_npz(&bytes)?;
/// assert_eq!(npz.names(), ["x", "labels"]);
/// assert_eq!(npz.get("labels")?.to_i64_vec()?, [0, 1]);
/// assert!(npz.get("y").unwrap_err().to_string().contains("no array 'y'"));
/// # Ok::<(), neurodyn::io::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Npz {
    /// `(name, array)` pairs in archive order; names carry no `.npy` suffix.
    pub arrays: Vec<(String, Array)>,
}

impl Npz {
    /// The array names, in archive order.
    pub fn names(&self) -> Vec<&str> {
        self.arrays.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The array called `name`.
    ///
    /// # Errors
    /// [`DataErrorKind::BadValue`] naming `name` and listing the arrays that exist.
    pub fn get(&self, name: &str) -> Result<&Array, DataError> {
        self.arrays
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a)
            .ok_or_else(|| {
                err(
                    DataErrorKind::BadValue,
                    format!(
                        "no array '{name}' in the archive; it has: {}",
                        self.names().join(", ")
                    ),
                )
            })
    }
}

/// Parses an `.npz` archive held in memory.
///
/// # Errors
/// [`DataError`]s from the zip layer ([`DataErrorKind::BadMagic`], [`DataErrorKind::Truncated`],
/// [`DataErrorKind::Corrupt`], [`DataErrorKind::Checksum`], [`DataErrorKind::Unsupported`] for
/// zip64-split, encrypted or non-deflate members) and from [`parse_npy`] for each member, with
/// the location naming the member (`"member train_y.npy, header"`).
pub fn parse_npz(bytes: &[u8]) -> Result<Npz, DataError> {
    let mut arrays: Vec<(String, Array)> = Vec::new();
    let mut seen = HashSet::new();
    for e in zip::entries(bytes)? {
        if e.name.ends_with('/') {
            continue; // a folder entry
        }
        let at = format!("member {}", e.name);
        let data = zip::extract(bytes, &e).map_err(|x| x.within(at.clone()))?;
        let array = parse_npy(&data).map_err(|x| x.within(at.clone()))?;
        let name = e.name.strip_suffix(".npy").unwrap_or(&e.name).to_string();
        if !seen.insert(name.clone()) {
            return Err(err(
                DataErrorKind::Corrupt,
                format!("the archive holds two members named '{}'", e.name),
            )
            .at(at));
        }
        arrays.push((name, array));
    }
    Ok(Npz { arrays })
}

/// Reads an `.npz` file.
///
/// # Errors
/// As [`parse_npz`], with the path set; [`DataErrorKind::Io`] if the file cannot be read.
pub fn read_npz(path: impl AsRef<Path>) -> Result<Npz, DataError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, "read", &e))?;
    parse_npz(&bytes).map_err(|e| e.in_file(path.display().to_string()))
}

/// Encodes arrays as an uncompressed `.npz` archive (what `np.savez` writes), each as member
/// `<name>.npy` (always appended, as numpy does, so that reading gives `name` back).
///
/// # Errors
/// [`DataErrorKind::InvalidInput`] for an empty or duplicate name, or an archive over 4 GiB;
/// [`DataErrorKind::ShapeMismatch`] if an array's shape does not match its data.
pub fn npz_to_bytes(arrays: &[(&str, &Array)]) -> Result<Vec<u8>, DataError> {
    let mut members: Vec<(String, Vec<u8>)> = Vec::with_capacity(arrays.len());
    for (name, array) in arrays {
        if name.is_empty() {
            return Err(err(DataErrorKind::InvalidInput, "an array name is empty"));
        }
        let member = format!("{name}.npy");
        if members.iter().any(|(m, _)| *m == member) {
            return Err(err(
                DataErrorKind::InvalidInput,
                format!("the array name '{name}' is used twice"),
            ));
        }
        let bytes = npy_to_bytes(array).map_err(|e| e.at(format!("array {name}")))?;
        members.push((member, bytes));
    }
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    zip::write_stored(&refs)
}

/// Writes arrays as an uncompressed `.npz` file, atomically.
///
/// # Errors
/// As [`npz_to_bytes`], with the path set; [`DataErrorKind::Io`] if the file cannot be written.
pub fn write_npz(path: impl AsRef<Path>, arrays: &[(&str, &Array)]) -> Result<(), DataError> {
    let path = path.as_ref();
    let bytes = npz_to_bytes(arrays).map_err(|e| e.in_file(path.display().to_string()))?;
    write_atomic(path, &bytes)
}
