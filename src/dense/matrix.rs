//! Strided matrix views and the small enums every kernel takes (`Accum`, `Par`).

use crate::Float;

/// Whether a kernel overwrites its destination or adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accum {
    /// `dst = result`.
    Replace,
    /// `dst += result`.
    Add,
}

/// Parallelism a kernel may use.
///
/// `Par::Rayon` only parallelises above a size threshold (small kernels always run on the
/// calling thread), and never changes results: each output element is computed by one thread
/// in a fixed order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Par {
    /// Run on the calling thread.
    #[default]
    Seq,
    /// Split large kernels over the rayon pool (with the `rayon` feature; otherwise `Seq`).
    Rayon,
}

/// A read-only strided matrix view: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    pub(crate) data: &'a [T],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) rs: usize,
    pub(crate) cs: usize,
}

impl<'a, T: Float> MatRef<'a, T> {
    /// A row-major `rows × cols` view of `data`.
    ///
    /// # Panics
    /// If `data.len() != rows * cols`.
    #[track_caller]
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "MatRef::new: {} elements for a {rows}×{cols} matrix",
            data.len()
        );
        Self {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// A view with explicit strides.
    ///
    /// # Panics
    /// If the last element would lie outside `data`.
    #[track_caller]
    pub fn from_strides(data: &'a [T], rows: usize, cols: usize, rs: usize, cs: usize) -> Self {
        if rows > 0 && cols > 0 {
            let last = (rows - 1) * rs + (cols - 1) * cs;
            assert!(
                last < data.len(),
                "MatRef::from_strides: {rows}×{cols} with strides ({rs}, {cs}) needs {} elements, \
                 have {}",
                last + 1,
                data.len()
            );
        }
        Self {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Element `(i, j)`.
    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.rs + j * self.cs]
    }
}

/// A mutable row-major view with unit column stride and row stride `rs ≥ cols`.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    pub(crate) data: &'a mut [T],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) rs: usize,
}

impl<'a, T: Float> MatMut<'a, T> {
    /// A row-major `rows × cols` view of `data`.
    ///
    /// # Panics
    /// If `data.len() != rows * cols`.
    #[track_caller]
    pub fn new(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "MatMut::new: {} elements for a {rows}×{cols} matrix",
            data.len()
        );
        Self {
            data,
            rows,
            cols,
            rs: cols,
        }
    }

    /// A view with row stride `rs` (unit column stride).
    ///
    /// # Panics
    /// If `rs < cols` or the view does not fit in `data`.
    #[track_caller]
    pub fn with_row_stride(data: &'a mut [T], rows: usize, cols: usize, rs: usize) -> Self {
        assert!(
            rs >= cols,
            "MatMut::with_row_stride: row stride {rs} < cols {cols}"
        );
        if rows > 0 {
            assert!(
                (rows - 1) * rs + cols <= data.len(),
                "MatMut::with_row_stride: {rows}×{cols} (stride {rs}) does not fit in {} elements",
                data.len()
            );
        }
        Self {
            data,
            rows,
            cols,
            rs,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` (length `cols`).
    #[inline(always)]
    pub fn row_mut(&mut self, i: usize) -> &mut [T] {
        &mut self.data[i * self.rs..i * self.rs + self.cols]
    }

    /// Reborrows the view.
    pub fn rb(&mut self) -> MatMut<'_, T> {
        MatMut {
            data: self.data,
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
        }
    }

    /// Splits after row `r` (`0 ≤ r ≤ rows`); the parallel products' row halves.
    #[cfg(feature = "rayon")]
    pub(crate) fn split_rows(self, r: usize) -> (MatMut<'a, T>, MatMut<'a, T>) {
        let cut = (r * self.rs).min(self.data.len());
        let (a, b) = self.data.split_at_mut(cut);
        (
            MatMut {
                data: a,
                rows: r,
                cols: self.cols,
                rs: self.rs,
            },
            MatMut {
                data: b,
                rows: self.rows - r,
                cols: self.cols,
                rs: self.rs,
            },
        )
    }
}
