//! Error types: one per layer, hand-written `Display`, `#[non_exhaustive]`.
//!
//! Programmer errors (shape mismatches, a `Var` from another tape) panic with a message naming
//! the op and the shapes; everything a user can get wrong through configuration or data returns
//! one of these.

use crate::io::DataError;
use std::fmt;

/// A configuration value that is out of range or inconsistent.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ConfigError {
    /// The offending field, e.g. `"rtol"` or `"model.hidden"`.
    pub field: String,
    /// What is wrong with it and what would be accepted.
    pub reason: String,
}

impl ConfigError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// The crate's top-level error.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Bad configuration.
    Config(ConfigError),
    /// A data file that cannot be read or written (see [`crate::io`]).
    Data(DataError),
    /// An I/O failure, with the path involved.
    Io {
        /// The file or folder.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A figure could not be rendered or written (feature `plot`).
    #[cfg(feature = "plot")]
    Plot(crate::plot::PlotError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::Data(e) => e.fmt(f),
            Error::Io { path, source } => write!(f, "{path}: {source}"),
            #[cfg(feature = "plot")]
            Error::Plot(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(e) => Some(e),
            Error::Data(e) => Some(e),
            Error::Io { source, .. } => Some(source),
            #[cfg(feature = "plot")]
            Error::Plot(e) => Some(e),
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<DataError> for Error {
    fn from(e: DataError) -> Self {
        Error::Data(e)
    }
}

#[cfg(feature = "plot")]
impl From<crate::plot::PlotError> for Error {
    fn from(e: crate::plot::PlotError) -> Self {
        Error::Plot(e)
    }
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
