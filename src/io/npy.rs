//! `.npy`: numpy's single-array file format.
//!
//! ```text
//! offset 0   \x93NUMPY               magic (6 bytes)
//!        6   major, minor            version 1.0, 2.0 or 3.0
//!        8   header length           u16 LE (1.0) or u32 LE (2.0, 3.0)
//!   10 | 12  header                  Python dict literal, space padded, ends in '\n'
//!            data                    shape-product × item-size bytes, C or Fortran order
//! ```
//!
//! Reading accepts `<f4 <f8 |b1 |i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8` (with `=` or `|` byte-order
//! marks where they are valid) in either order; writing produces version 1.0 (2.0 only for a
//! header over 64 KiB), C order, padded so that the data starts at a multiple of 64 bytes, as
//! numpy does. The claimed size is checked against the bytes actually present before anything
//! is allocated.

use super::array::{Array, ArrayData, fortran_to_c};
use super::atomic::write_atomic;
use super::error::{DataError, DataErrorKind, err};
use super::npy_header::{Dtype, Kind, parse_header};
use std::path::Path;

/// The first six bytes of every `.npy` file.
pub const NPY_MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Parses a whole `.npy` file held in memory.
///
/// # Errors
/// A [`DataError`] whose location is `"header"` or `"data"`: [`DataErrorKind::BadMagic`],
/// [`DataErrorKind::Truncated`] (including an empty input), [`DataErrorKind::BadHeader`],
/// [`DataErrorKind::Unsupported`] (big-endian, object, structured or other dtypes, unknown
/// versions) or [`DataErrorKind::ShapeMismatch`] (more data than the shape calls for).
///
/// # Example
/// ```
/// use neurodyn::io::{npy_to_bytes, parse_npy, Array, ArrayData};
///
/// let a = Array::new(vec![2, 2], ArrayData::I64(vec![1, 2, 3, 4]))?;
/// let bytes = npy_to_bytes(&a)?;
/// assert_eq!(parse_npy(&bytes)?, a);
/// # Ok::<(), neurodyn::io::DataError>(())
/// ```
pub fn parse_npy(bytes: &[u8]) -> Result<Array, DataError> {
    let (header, body) = split_header(bytes)?;
    let h = parse_header(header)?;
    let count = Array::shape_len(&h.shape).ok_or_else(|| {
        err(
            DataErrorKind::BadHeader,
            format!(
                "shape {:?} has more elements than can be addressed",
                h.shape
            ),
        )
        .at("header")
    })?;
    let need = count.checked_mul(h.dtype.size);
    match need {
        Some(n) if n == body.len() => {}
        Some(n) if n < body.len() => {
            return Err(err(
                DataErrorKind::ShapeMismatch,
                format!(
                    "shape {:?} of {} needs {n} bytes of data but {} follow",
                    h.shape,
                    descr_name(h.dtype),
                    body.len()
                ),
            )
            .at("data"));
        }
        _ => {
            return Err(err(
                DataErrorKind::Truncated,
                format!(
                    "the header claims shape {:?} of {} ({} bytes) but only {} bytes of data follow",
                    h.shape,
                    descr_name(h.dtype),
                    need.map_or("more than 2^64".to_string(), |n| n.to_string()),
                    body.len()
                ),
            )
            .at("data"));
        }
    }
    let mut data = decode(h.dtype, body);
    if h.fortran_order {
        data = match data {
            ArrayData::F32(v) => ArrayData::F32(fortran_to_c(&h.shape, &v)),
            ArrayData::F64(v) => ArrayData::F64(fortran_to_c(&h.shape, &v)),
            ArrayData::I64(v) => ArrayData::I64(fortran_to_c(&h.shape, &v)),
            ArrayData::U64(v) => ArrayData::U64(fortran_to_c(&h.shape, &v)),
            ArrayData::Bool(v) => ArrayData::Bool(fortran_to_c(&h.shape, &v)),
        };
    }
    Ok(Array {
        shape: h.shape,
        data,
    })
}

/// Reads a `.npy` file.
///
/// # Errors
/// As [`parse_npy`], with the path set; [`DataErrorKind::Io`] if the file cannot be read.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Array, DataError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, "read", &e))?;
    parse_npy(&bytes).map_err(|e| e.in_file(path.display().to_string()))
}

/// Encodes an array as a version 1.0 `.npy` file (C order; version 2.0 if the header would
/// exceed 64 KiB).
///
/// # Errors
/// [`DataErrorKind::ShapeMismatch`] if `array.shape` does not match its data.
pub fn npy_to_bytes(array: &Array) -> Result<Vec<u8>, DataError> {
    array.check()?;
    let shape = match array.shape.as_slice() {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        array.data.descr()
    );
    // Pad with spaces and a final '\n' so that the data starts at a multiple of 64.
    let (version, prefix) = if dict.len() + 1 + 10 <= usize::from(u16::MAX) {
        (1u8, 10)
    } else {
        (2u8, 12)
    };
    let total = (prefix + dict.len() + 1).div_ceil(64) * 64;
    let header_len = total - prefix;
    let itemsize = match array.data {
        ArrayData::Bool(_) => 1,
        ArrayData::F32(_) => 4,
        _ => 8,
    };
    let mut out = Vec::with_capacity(total + array.len() * itemsize);
    out.extend_from_slice(NPY_MAGIC);
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        // Fits: checked above.
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        let len = u32::try_from(header_len).map_err(|_| {
            err(
                DataErrorKind::InvalidInput,
                "the array header exceeds 4 GiB",
            )
        })?;
        out.extend_from_slice(&len.to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    match &array.data {
        ArrayData::F32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        ArrayData::F64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        ArrayData::I64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        ArrayData::U64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        ArrayData::Bool(v) => out.extend(v.iter().map(|&b| u8::from(b))),
    }
    Ok(out)
}

/// Writes an array as a `.npy` file, atomically (see [`write_atomic`]).
///
/// # Errors
/// As [`npy_to_bytes`]; [`DataErrorKind::Io`] if the file cannot be written.
pub fn write_npy(path: impl AsRef<Path>, array: &Array) -> Result<(), DataError> {
    let path = path.as_ref();
    let bytes = npy_to_bytes(array).map_err(|e| e.in_file(path.display().to_string()))?;
    write_atomic(path, &bytes)
}

/// Checks the magic and version, and returns the header text and the bytes after it.
fn split_header(bytes: &[u8]) -> Result<(&str, &[u8]), DataError> {
    let at = |e: DataError| e.at("header");
    if bytes.is_empty() {
        return Err(at(err(DataErrorKind::Truncated, "the input is empty")));
    }
    if !NPY_MAGIC.starts_with(&bytes[..bytes.len().min(6)]) {
        return Err(at(err(
            DataErrorKind::BadMagic,
            "not an .npy file (it does not start with \\x93NUMPY)",
        )));
    }
    let Some(&[major, minor]) = bytes.get(6..8) else {
        return Err(at(err(
            DataErrorKind::Truncated,
            "the file ends inside the magic/version",
        )));
    };
    let (len_bytes, utf8) = match (major, minor) {
        (1, 0) => (2, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        _ => {
            return Err(at(err(
                DataErrorKind::Unsupported,
                format!("unknown .npy format version {major}.{minor}; supported: 1.0, 2.0, 3.0"),
            )));
        }
    };
    let start = 8 + len_bytes;
    let Some(raw_len) = bytes.get(8..start) else {
        return Err(at(err(
            DataErrorKind::Truncated,
            "the file ends inside the header length",
        )));
    };
    let len = raw_len
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let Some(header) = start.checked_add(len).and_then(|end| bytes.get(start..end)) else {
        return Err(at(err(
            DataErrorKind::Truncated,
            format!(
                "the header claims {len} bytes but the file has only {} after the length field",
                bytes.len() - start
            ),
        )));
    };
    let text = if utf8 {
        std::str::from_utf8(header).ok()
    } else {
        header
            .is_ascii()
            .then(|| std::str::from_utf8(header).ok())
            .flatten()
    };
    let Some(text) = text else {
        return Err(at(err(
            DataErrorKind::BadHeader,
            format!(
                "the header is not {} text",
                if utf8 { "UTF-8" } else { "ASCII" }
            ),
        )));
    };
    Ok((text, &bytes[start + len..]))
}

/// The numpy name of a supported dtype (little-endian form).
fn descr_name(d: Dtype) -> String {
    let k = match d.kind {
        Kind::Bool => 'b',
        Kind::Int => 'i',
        Kind::UInt => 'u',
        Kind::Float => 'f',
    };
    format!("{}{k}{}", if d.size == 1 { '|' } else { '<' }, d.size)
}

/// Decodes little-endian elements; `body.len()` is a multiple of `d.size` (checked by caller).
fn decode(d: Dtype, body: &[u8]) -> ArrayData {
    fn le<const N: usize, T>(body: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
        body.chunks_exact(N)
            .map(|c| f(c.try_into().expect("internal: chunk of N bytes")))
            .collect()
    }
    match (d.kind, d.size) {
        (Kind::Bool, _) => ArrayData::Bool(body.iter().map(|&b| b != 0).collect()),
        (Kind::Float, 4) => ArrayData::F32(le(body, f32::from_le_bytes)),
        (Kind::Float, _) => ArrayData::F64(le(body, f64::from_le_bytes)),
        (Kind::Int, 1) => ArrayData::I64(body.iter().map(|&b| i64::from(b as i8)).collect()),
        (Kind::Int, 2) => ArrayData::I64(le(body, |b| i64::from(i16::from_le_bytes(b)))),
        (Kind::Int, 4) => ArrayData::I64(le(body, |b| i64::from(i32::from_le_bytes(b)))),
        (Kind::Int, _) => ArrayData::I64(le(body, i64::from_le_bytes)),
        (Kind::UInt, 1) => ArrayData::U64(body.iter().map(|&b| u64::from(b)).collect()),
        (Kind::UInt, 2) => ArrayData::U64(le(body, |b| u64::from(u16::from_le_bytes(b)))),
        (Kind::UInt, 4) => ArrayData::U64(le(body, |b| u64::from(u32::from_le_bytes(b)))),
        (Kind::UInt, _) => ArrayData::U64(le(body, u64::from_le_bytes)),
    }
}
