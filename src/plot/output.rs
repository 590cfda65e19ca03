//! Turning a [`Figure`] into bytes and files: PNG through `resvg` with the embedded font, and
//! atomic saving (temporary file in the same folder, fsync, rename).

use super::error::PlotError;
use super::figure::Figure;
use super::metrics::{FAMILY, FONT};
use resvg::tiny_skia::{Color as SkColor, Pixmap, Transform};
use resvg::usvg::{self, fontdb};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

const MAX_SIDE: u64 = 16_384;
const MAX_PIXELS: u64 = 1 << 26;

/// A font database holding only the embedded font, built once.
fn fonts() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        db.load_font_source(fontdb::Source::Binary(Arc::new(FONT)));
        db.set_sans_serif_family(FAMILY);
        Arc::new(db)
    })
    .clone()
}

impl Figure {
    /// The figure as a PNG image of `width × height` pixels (RGBA, white background).
    ///
    /// # Errors
    /// [`PlotError::Size`] if a side is 0 or above 16384 px or the image exceeds 2²⁶ pixels.
    pub fn to_png(&self) -> Result<Vec<u8>, PlotError> {
        self.to_png_scaled(1.0)
    }

    /// The figure as a PNG `scale` times larger than its nominal size (e.g. 2 for print or
    /// high-density screens); lines and text scale with it.
    ///
    /// # Errors
    /// [`PlotError::Size`] for a non-finite or non-positive `scale`, or a raster outside the
    /// limits of [`to_png`](Figure::to_png).
    ///
    /// # Example
    /// ```
    /// use neurodyn::plot::{Figure, Style};
    /// let mut fig = Figure::new(200, 100);
    /// fig.ax().line(&[0.0, 1.0], &[0.0, 1.0], Style::new());
    /// let png = fig.to_png_scaled(2.0)?;
    /// assert_eq!(&png[16..24], &[0, 0, 1, 144, 0, 0, 0, 200]); // IHDR: 400 × 200
    /// # Ok::<(), neurodyn::plot::PlotError>(())
    /// ```
    pub fn to_png_scaled(&self, scale: f64) -> Result<Vec<u8>, PlotError> {
        let size = |v: u32| (f64::from(v) * scale).round();
        let (w, h) = (size(self.width), size(self.height));
        let bad = PlotError::Size {
            width: if w.is_finite() { w.max(0.0) as u64 } else { 0 },
            height: if h.is_finite() { h.max(0.0) as u64 } else { 0 },
        };
        let ok = |v: f64| v.is_finite() && v >= 1.0 && v <= MAX_SIDE as f64;
        if !(ok(w) && ok(h) && (w as u64) * (h as u64) <= MAX_PIXELS) {
            return Err(bad);
        }
        let opt = usvg::Options {
            font_family: FAMILY.to_string(),
            fontdb: fonts(),
            ..usvg::Options::default()
        };
        let tree = usvg::Tree::from_str(&self.to_svg(), &opt)
            .map_err(|e| PlotError::Render(e.to_string()))?;
        let mut pixmap = Pixmap::new(w as u32, h as u32).ok_or(bad)?;
        pixmap.fill(SkColor::WHITE);
        let k = scale as f32;
        resvg::render(&tree, Transform::from_scale(k, k), &mut pixmap.as_mut());
        pixmap
            .encode_png()
            .map_err(|e| PlotError::Render(e.to_string()))
    }

    /// Writes the figure to `path` as SVG or PNG, chosen by the extension (`.svg` or `.png`,
    /// any case). The file is written atomically: to a temporary file in the same folder,
    /// flushed to disk, then renamed over `path`, so a reader never sees half a figure.
    ///
    /// # Errors
    /// [`PlotError::UnsupportedFormat`] for any other extension, the errors of
    /// [`to_png`](Figure::to_png), and [`PlotError::Io`] if the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let bytes = match ext.as_deref() {
            Some("svg") => self.to_svg().into_bytes(),
            Some("png") => self.to_png()?,
            _ => {
                return Err(PlotError::UnsupportedFormat {
                    path: path.to_path_buf(),
                });
            }
        };
        write_atomic(path, &bytes)
    }
}

/// Writes `bytes` to a temporary sibling of `path`, syncs it, and renames it into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    let io = |p: &Path| {
        let p: PathBuf = p.to_path_buf();
        move |source| PlotError::Io { path: p, source }
    };
    let name = path.file_name().ok_or_else(|| {
        io(path)(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no file name",
        ))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    // Unique per process and call, so concurrent saves never share a temporary file.
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    tmp_name.push(format!(".{}-{seq}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io(path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else if let Ok(d) = std::fs::File::open(&dir) {
        // Persist the rename itself; not every platform can sync a directory.
        let _ = d.sync_all();
    }
    result
}
