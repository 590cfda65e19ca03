//! [`write_atomic`]: replace a file's contents all at once or not at all.
//!
//! ```text
//! dir/.name.tmp-<pid>-<n>   ← create (exclusive), write, fsync
//! dir/name                  ← rename over (atomic on POSIX within one filesystem)
//! dir                       ← fsync (best effort), so the rename itself is durable
//! ```
//!
//! A reader therefore sees either the old file or the complete new one, never a torn write,
//! even if the process dies half way. Used by every writer in this layer, and meant for
//! checkpoints too.

use super::error::DataError;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary files made by concurrent calls in one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: to a temporary file in the same directory, which is
/// flushed to disk (`fsync`) and then renamed over `path`.
///
/// On failure the temporary file is removed and `path` is left as it was.
///
/// # Errors
/// [`DataErrorKind::Io`](super::DataErrorKind::Io) naming `path` and the step that failed
/// (create, write, sync, rename).
///
/// # Example
/// ```
/// let dir = std::env::temp_dir().join(format!("neurodyn-doc-atomic-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let p = dir.join("out.txt");
/// neurodyn::io::write_atomic(&p, b"first")?;
/// neurodyn::io::write_atomic(&p, b"second")?;
/// assert_eq!(std::fs::read(&p).unwrap(), b"second");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), neurodyn::io::DataError>(())
/// ```
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), DataError> {
    let path = path.as_ref();
    let Some(name) = path.file_name() else {
        return Err(DataError::io(
            path,
            "write (the path names no file)",
            &std::io::Error::from(std::io::ErrorKind::InvalidInput),
        ));
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{n}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = write_synced(&tmp, bytes).and_then(|()| {
        std::fs::rename(&tmp, path).map_err(|e| ("rename the temporary file over it", e))
    });
    if let Err((what, e)) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(DataError::io(path, what, &e));
    }
    // Make the rename durable; not every platform can open a directory, hence best effort.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates `tmp` (failing if it exists), writes `bytes` and flushes them to disk.
fn write_synced(tmp: &Path, bytes: &[u8]) -> Result<(), (&'static str, std::io::Error)> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(|e| ("create a temporary file beside it", e))?;
    f.write_all(bytes).map_err(|e| ("write", e))?;
    f.sync_all().map_err(|e| ("sync", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_directory_is_an_io_error_naming_the_path() {
        let p = std::env::temp_dir().join("neurodyn-no-such-dir-xyz/sub/file.npy");
        let e = write_atomic(&p, b"x").unwrap_err();
        assert!(matches!(e.kind, super::super::DataErrorKind::Io(_)));
        assert!(e.to_string().contains("file.npy"), "{e}");
        assert!(e.message.contains("create a temporary file"), "{e}");
    }
}
