//! [`DataError`]: the one error type of the data-format layer.
//!
//! Every error says *what* is wrong (`message`), *where* (`location`: `"header"`,
//! `"line 12, column 3"`, `"member train_y.npy, header"`) and *in which file* (`path`, when the
//! input came from a path), and, where there is one, what to do about it. Its
//! [`kind`](DataError::kind) lets code react to a class of problem without parsing the text.

use std::fmt;

/// The class of a [`DataError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataErrorKind {
    /// The operating system refused a read or write (missing file, permissions, disk full).
    Io(std::io::ErrorKind),
    /// The input ends before the format says it should (this includes an empty input).
    Truncated,
    /// The input does not start like this format at all (wrong magic bytes).
    BadMagic,
    /// A header is present but cannot be parsed or is inconsistent.
    BadHeader,
    /// Valid in the format, but not supported here (big-endian data, object arrays, an
    /// unknown compression method, timestamped series, …). The message says what to do.
    Unsupported,
    /// The shape the header declares does not match the data that follows.
    ShapeMismatch,
    /// A value that does not parse, or is not allowed (NaN where NaN is an error, an unknown
    /// class label, a ragged row).
    BadValue,
    /// A stored checksum (CRC-32) does not match the data.
    Checksum,
    /// The container's structure is broken (offsets out of range, a bad deflate stream).
    Corrupt,
    /// An argument to a writer that cannot be written as asked (e.g. duplicate member names).
    InvalidInput,
}

/// A problem reading or writing a data file.
///
/// Displayed as `path: location: message`, leaving out the parts that are absent:
///
/// ```
/// use neurodyn::io::{parse_npy, DataErrorKind};
///
/// let err = parse_npy(b"not an npy file").unwrap_err();
/// assert_eq!(err.kind, DataErrorKind::BadMagic);
/// assert!(err.to_string().starts_with("header: not an .npy file"), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataError {
    /// The class of problem.
    pub kind: DataErrorKind,
    /// The file involved, when the input came from (or was going to) a path.
    pub path: Option<String>,
    /// Where in the input: `"header"`, `"line 12, column 3"`, `"member C.npy, data"`, ….
    pub location: Option<String>,
    /// What is wrong and, where possible, what to do about it.
    pub message: String,
}

impl DataError {
    /// A new error with no path and no location.
    pub fn new(kind: DataErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            path: None,
            location: None,
            message: message.into(),
        }
    }

    /// An I/O failure on `path`.
    pub fn io(path: &std::path::Path, what: &str, err: &std::io::Error) -> Self {
        Self::new(
            DataErrorKind::Io(err.kind()),
            format!("cannot {what}: {err}"),
        )
        .in_file(path.display().to_string())
    }

    /// Sets the location (replacing any previous one).
    #[must_use]
    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// Prefixes the location with an outer one: an error at `"header"` inside member `x.npy`
    /// becomes `"member x.npy, header"`.
    #[must_use]
    pub fn within(mut self, outer: impl Into<String>) -> Self {
        let outer = outer.into();
        self.location = Some(match self.location.take() {
            Some(inner) => format!("{outer}, {inner}"),
            None => outer,
        });
        self
    }

    /// Sets the file path, unless one is already set.
    #[must_use]
    pub fn in_file(mut self, path: impl Into<String>) -> Self {
        if self.path.is_none() {
            self.path = Some(path.into());
        }
        self
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.path {
            write!(f, "{p}: ")?;
        }
        if let Some(l) = &self.location {
            write!(f, "{l}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for DataError {}

/// Shorthand used throughout the layer.
pub(crate) fn err(kind: DataErrorKind, message: impl Into<String>) -> DataError {
    DataError::new(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_joins_path_location_message() {
        let e = err(DataErrorKind::BadHeader, "no 'shape' key")
            .at("header")
            .within("member x.npy")
            .in_file("a.npz");
        assert_eq!(e.to_string(), "a.npz: member x.npy, header: no 'shape' key");
        assert_eq!(err(DataErrorKind::Truncated, "empty").to_string(), "empty");
    }
}
