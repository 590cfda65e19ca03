//! [`Array`]: an owned, row-major n-dimensional array, the value `.npy` and `.npz` files hold.
//!
//! Element `(i₀, …, i_{k−1})` of an array with shape `(s₀, …, s_{k−1})` is stored at the
//! row-major (C order) offset
//!
//! ```text
//! off = ((i₀·s₁ + i₁)·s₂ + i₂)·… + i_{k−1}
//! ```
//!
//! Readers convert Fortran-order files to this layout, so every `Array` is row-major.

use super::error::{DataError, DataErrorKind, err};
use crate::Float;

/// The elements of an [`Array`], one variant per stored element type.
///
/// Narrow integer files (`|i1`, `<i2`, `<i4` and their unsigned twins) are widened on read to
/// `I64` (signed) or `U64` (unsigned), so five variants cover every supported dtype.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ArrayData {
    /// `<f4`.
    F32(Vec<f32>),
    /// `<f8`.
    F64(Vec<f64>),
    /// `<i8` (and widened `|i1 <i2 <i4`).
    I64(Vec<i64>),
    /// `<u8` (and widened `|u1 <u2 <u4`).
    U64(Vec<u64>),
    /// `|b1`.
    Bool(Vec<bool>),
}

impl ArrayData {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::I64(v) => v.len(),
            ArrayData::U64(v) => v.len(),
            ArrayData::Bool(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The numpy dtype string the writers use for this variant (`"<f8"`, `"|b1"`, …).
    pub fn descr(&self) -> &'static str {
        match self {
            ArrayData::F32(_) => "<f4",
            ArrayData::F64(_) => "<f8",
            ArrayData::I64(_) => "<i8",
            ArrayData::U64(_) => "<u8",
            ArrayData::Bool(_) => "|b1",
        }
    }
}

/// An owned n-dimensional array in row-major (C) order.
///
/// `shape` may be empty (a 0-d scalar, one element) and may contain zeros (no elements). The
/// fields are public; [`Array::new`] checks that they agree, and the writers check again.
///
/// # Example
/// ```
/// use neurodyn::io::{Array, ArrayData};
///
/// let a = Array::new(vec![2, 3], ArrayData::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))?;
/// let (rows, cols, m) = a.as_matrix::<f64>()?;
/// assert_eq!((rows, cols), (2, 3));
/// assert_eq!(m[1 * cols + 2], 6.0);
/// # Ok::<(), neurodyn::io::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The extent of each axis, outermost first.
    pub shape: Vec<usize>,
    /// The elements, row-major.
    pub data: ArrayData,
}

impl Array {
    /// An array of `shape` holding `data`.
    ///
    /// # Errors
    /// [`DataErrorKind::ShapeMismatch`] if the product of `shape` is not `data.len()`.
    pub fn new(shape: Vec<usize>, data: ArrayData) -> Result<Self, DataError> {
        let a = Self { shape, data };
        a.check()?;
        Ok(a)
    }

    /// A row-major `rows × cols` `f64` matrix.
    ///
    /// # Errors
    /// [`DataErrorKind::ShapeMismatch`] if `data.len() != rows · cols`.
    pub fn from_matrix(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self, DataError> {
        Self::new(vec![rows, cols], ArrayData::F64(data))
    }

    /// The number of elements the shape calls for, or `None` if the product overflows.
    pub fn shape_len(shape: &[usize]) -> Option<usize> {
        shape.iter().try_fold(1usize, |acc, &s| acc.checked_mul(s))
    }

    /// Checks that the shape and the data length agree.
    ///
    /// # Errors
    /// [`DataErrorKind::ShapeMismatch`] naming both.
    pub fn check(&self) -> Result<(), DataError> {
        match Self::shape_len(&self.shape) {
            Some(n) if n == self.data.len() => Ok(()),
            _ => Err(err(
                DataErrorKind::ShapeMismatch,
                format!(
                    "shape {:?} does not match the {} elements of the data",
                    self.shape,
                    self.data.len()
                ),
            )),
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The elements as `f64`: booleans become 0 or 1, integers are rounded to the nearest
    /// `f64` (exact up to 2⁵³ in magnitude).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        self.to_float_vec::<f64>()
    }

    /// The elements as `f32` (rounded to nearest).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match &self.data {
            ArrayData::F32(v) => v.clone(),
            _ => self.to_f64_vec().into_iter().map(|x| x as f32).collect(),
        }
    }

    /// The elements as `T` (`f32` or `f64`), rounded to nearest.
    pub fn to_float_vec<T: Float>(&self) -> Vec<T> {
        match &self.data {
            ArrayData::F32(v) => v.iter().map(|&x| T::from_f64(f64::from(x))).collect(),
            ArrayData::F64(v) => v.iter().map(|&x| T::from_f64(x)).collect(),
            ArrayData::I64(v) => v.iter().map(|&x| T::from_f64(x as f64)).collect(),
            ArrayData::U64(v) => v.iter().map(|&x| T::from_f64(x as f64)).collect(),
            ArrayData::Bool(v) => v
                .iter()
                .map(|&x| T::from_f64(f64::from(u8::from(x))))
                .collect(),
        }
    }

    /// The elements as `i64`, e.g. for class labels.
    ///
    /// # Errors
    /// [`DataErrorKind::BadValue`] naming the first element that is not an integer in `i64`
    /// range (a fractional or non-finite float, or a `u64` above `i64::MAX`).
    pub fn to_i64_vec(&self) -> Result<Vec<i64>, DataError> {
        let bad = |i: usize, v: String| {
            err(
                DataErrorKind::BadValue,
                format!("element {i} is {v}, which is not an integer in i64 range"),
            )
        };
        let from_float = |i: usize, x: f64| {
            // 2^63 is exactly representable; anything at or above it does not fit.
            if x.fract() == 0.0 && x >= -(2f64.powi(63)) && x < 2f64.powi(63) {
                Ok(x as i64)
            } else {
                Err(bad(i, x.to_string()))
            }
        };
        match &self.data {
            ArrayData::I64(v) => Ok(v.clone()),
            ArrayData::U64(v) => v
                .iter()
                .enumerate()
                .map(|(i, &x)| i64::try_from(x).map_err(|_| bad(i, x.to_string())))
                .collect(),
            ArrayData::Bool(v) => Ok(v.iter().map(|&b| i64::from(b)).collect()),
            ArrayData::F32(v) => v
                .iter()
                .enumerate()
                .map(|(i, &x)| from_float(i, f64::from(x)))
                .collect(),
            ArrayData::F64(v) => v
                .iter()
                .enumerate()
                .map(|(i, &x)| from_float(i, x))
                .collect(),
        }
    }

    /// The array as a row-major `rows × cols` matrix of `T`: a 2-d array as it is, a 1-d array
    /// of length `n` as an `n × 1` column (time as rows), a 0-d array as `1 × 1`.
    ///
    /// # Errors
    /// [`DataErrorKind::ShapeMismatch`] for three or more axes, or if `shape` and data
    /// disagree.
    pub fn as_matrix<T: Float>(&self) -> Result<(usize, usize, Vec<T>), DataError> {
        self.check()?;
        let (rows, cols) = match self.shape[..] {
            [] => (1, 1),
            [n] => (n, 1),
            [r, c] => (r, c),
            _ => {
                return Err(err(
                    DataErrorKind::ShapeMismatch,
                    format!(
                        "expected a matrix (at most 2 axes), found shape {:?}; reshape it first",
                        self.shape
                    ),
                ));
            }
        };
        Ok((rows, cols, self.to_float_vec()))
    }
}

/// Reorders Fortran-order (column-major) elements of `shape` into row-major order.
///
/// In Fortran order the offset of `(i₀, …, i_{k−1})` is `i₀ + s₀·(i₁ + s₁·(i₂ + …))`; this walks
/// the row-major indices in order, keeping that offset up to date incrementally.
pub(crate) fn fortran_to_c<T: Copy>(shape: &[usize], src: &[T]) -> Vec<T> {
    if shape.len() < 2 || src.is_empty() {
        return src.to_vec();
    }
    // Fortran stride of each axis.
    let mut stride = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        stride[k] = stride[k - 1] * shape[k - 1];
    }
    let mut idx = vec![0usize; shape.len()];
    let mut off = 0usize;
    let mut out = Vec::with_capacity(src.len());
    for _ in 0..src.len() {
        out.push(src[off]);
        // Increment the row-major index (last axis fastest), adjusting the Fortran offset.
        for k in (0..shape.len()).rev() {
            idx[k] += 1;
            off += stride[k];
            if idx[k] < shape[k] {
                break;
            }
            off -= stride[k] * idx[k];
            idx[k] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_reorder_matches_definition() {
        let shape = [2, 3, 4];
        let n = 24;
        // Fortran element at (i, j, k) holds the row-major offset of (i, j, k).
        let mut src = vec![0usize; n];
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    src[i + 2 * (j + 3 * k)] = (i * 3 + j) * 4 + k;
                }
            }
        }
        assert_eq!(fortran_to_c(&shape, &src), (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn to_i64_rejects_fractions_and_overflow() {
        let a = Array::new(vec![2], ArrayData::F64(vec![1.0, 2.5])).unwrap();
        assert!(
            a.to_i64_vec()
                .unwrap_err()
                .message
                .contains("element 1 is 2.5")
        );
        let b = Array::new(vec![1], ArrayData::F64(vec![9.3e18])).unwrap();
        assert!(b.to_i64_vec().is_err());
        let c = Array::new(vec![1], ArrayData::U64(vec![u64::MAX])).unwrap();
        assert!(c.to_i64_vec().is_err());
    }
}
