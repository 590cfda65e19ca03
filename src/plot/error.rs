//! [`PlotError`]: what can go wrong when a figure is rasterised or written.

use std::fmt;
use std::path::PathBuf;

/// Why a figure could not be rendered to PNG or saved.
///
/// Building a figure and writing it as SVG text never fails; only rasterising (size limits) and
/// writing files do.
#[derive(Debug)]
#[non_exhaustive]
pub enum PlotError {
    /// The file name's extension is neither `.svg` nor `.png` (case-insensitive).
    UnsupportedFormat {
        /// The path that was asked for.
        path: PathBuf,
    },
    /// The raster would be empty or too large (each side must lie in `1..=16384` pixels, and
    /// the whole image hold at most 2²⁶ pixels).
    Size {
        /// Requested width in pixels.
        width: u64,
        /// Requested height in pixels.
        height: u64,
    },
    /// The rasteriser rejected the figure's SVG. This indicates a bug in the SVG writer.
    Render(String),
    /// Writing the file failed.
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::UnsupportedFormat { path } => write!(
                f,
                "{}: unsupported figure format (use a .svg or .png file name)",
                path.display()
            ),
            PlotError::Size { width, height } => write!(
                f,
                "cannot rasterise a {width}×{height} px figure: each side must be 1..=16384 px \
                 and the image at most 67108864 px"
            ),
            PlotError::Render(msg) => write!(f, "internal: the figure's SVG was rejected: {msg}"),
            PlotError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for PlotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PlotError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        let e = PlotError::UnsupportedFormat {
            path: "fig.jpg".into(),
        };
        assert!(e.to_string().contains("fig.jpg"));
        assert!(e.to_string().contains(".png"));
        let e = PlotError::Size {
            width: 0,
            height: 10,
        };
        assert!(e.to_string().contains("0×10"));
    }
}
