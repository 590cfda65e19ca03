//! UEA/UCR `.ts` time-series classification archives.
//!
//! ```text
//! # comments
//! @problemName BasicMotions
//! @timeStamps false            (true is not supported)
//! @missing false
//! @univariate false
//! @dimensions 6                (or @dimension)
//! @equalLength true
//! @seriesLength 100
//! @classLabel true Standing Running Walking Badminton     (or: @classLabel false)
//! @data
//! 0.1,0.2,…:0.5,0.4,…:…:Walking    ← one case: dimensions split by ':', values by ',', label last
//! ```
//!
//! Regression archives declare `@targetLabel true` instead: the last field is then a number.
//! Series may differ in length between cases (JapaneseVowels: 7–29), but within one case every
//! dimension must have the same length. A case becomes a `len × dims` row-major matrix with
//! time as rows: value `t` of dimension `d` is `series[t · dims + d]`.

use super::error::{DataError, DataErrorKind, err};
use super::ts_header::{Meta, parse_header_line};
use std::path::Path;

/// How to read a `.ts` file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TsOptions {
    /// Read missing values (`?`, `NaN`) as NaN instead of reporting them.
    pub allow_missing: bool,
}

/// A parsed `.ts` archive.
///
/// # Example
/// ```
/// use neurodyn::io::{parse_ts, TsOptions};
///
/// let text = "@problemName Toy\n@univariate false\n@dimensions 2\n@equalLength false\n\
///             @classLabel true up down\n@data\n1,2,3:4,5,6:up\n7:8:down\n";
/// let ds = parse_ts(text.as_bytes(), &TsOptions::default())?;
/// assert_eq!((ds.name.as_str(), ds.dims, ds.len()), ("Toy", 2, 2));
/// assert_eq!(ds.series[0], [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]); // time as rows
/// assert_eq!(ds.series_len(1), 1);
/// assert_eq!((ds.labels.as_slice(), ds.class_names[1].as_str()), (&[0, 1][..], "down"));
///
/// let e = parse_ts(b"@classLabel true a b\n@data\n1,2:c\n", &TsOptions::default()).unwrap_err();
/// assert_eq!(e.to_string(), "line 3: unknown class label 'c'; @classLabel declares: a b");
/// # Ok::<(), neurodyn::io::DataError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TsDataset {
    /// `@problemName` (empty if absent).
    pub name: String,
    /// The number of dimensions (channels) of every series.
    pub dims: usize,
    /// One `len × dims` row-major matrix per case (time as rows).
    pub series: Vec<Vec<f64>>,
    /// Each case's class, an index into `class_names` (empty without class labels).
    pub labels: Vec<usize>,
    /// The labels `@classLabel` declares, in declaration order.
    pub class_names: Vec<String>,
    /// Each case's numeric target (only for `@targetLabel true` archives).
    pub targets: Vec<f64>,
}

impl TsDataset {
    /// The number of cases.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether there are no cases.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The length (number of time points) of case `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    #[track_caller]
    pub fn series_len(&self, i: usize) -> usize {
        self.series[i].len() / self.dims.max(1)
    }

    /// The shortest and longest series length, or `None` if there are no cases.
    pub fn length_range(&self) -> Option<(usize, usize)> {
        let lens = (0..self.len()).map(|i| self.series_len(i));
        Some((lens.clone().min()?, lens.max()?))
    }
}

/// Parses a `.ts` archive held in memory.
///
/// # Errors
/// A [`DataError`] at `"line N"` (or `"line N, dimension D, value K"`):
/// [`DataErrorKind::Truncated`] for an empty input or no `@data` line;
/// [`DataErrorKind::BadHeader`] for a malformed or unknown `@` line;
/// [`DataErrorKind::Unsupported`] for timestamped series;
/// [`DataErrorKind::BadValue`] for a non-numeric or missing value, an unknown class label, a
/// dimension count that differs from `@dimensions` or from earlier cases, dimensions of
/// different lengths within a case, or a length that contradicts `@seriesLength`.
pub fn parse_ts(bytes: &[u8], opts: &TsOptions) -> Result<TsDataset, DataError> {
    if bytes.is_empty() {
        return Err(err(DataErrorKind::Truncated, "the input is empty"));
    }
    let mut meta = Meta::default();
    let mut ds = TsDataset::default();
    let mut data_line = None;
    let mut dims_from = String::new();
    for (k, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let n = k + 1;
        let at = |e: DataError| e.at(format!("line {n}"));
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = if k == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let line = std::str::from_utf8(raw)
            .map_err(|_| at(err(DataErrorKind::BadValue, "the line is not UTF-8 text")))?
            .trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if data_line.is_none() {
            if parse_header_line(line, &mut meta).map_err(at)? {
                meta.check().map_err(at)?;
                data_line = Some(n);
                ds.name = meta.name.clone().unwrap_or_default();
                ds.class_names = meta.class_names.clone();
                if let Some(d) = meta.dims {
                    dims_from = "@dimensions says".into();
                    ds.dims = d;
                }
            }
            continue;
        }
        if line.starts_with('@') {
            return Err(at(err(
                DataErrorKind::BadHeader,
                "header line after @data; every @ line must come before it",
            )));
        }
        parse_case(line, n, &meta, opts, &mut ds, &mut dims_from)?;
    }
    if data_line.is_none() {
        return Err(err(
            DataErrorKind::Truncated,
            "no @data line: the header is incomplete or this is not a .ts file",
        ));
    }
    if ds.is_empty() {
        return Err(err(DataErrorKind::Truncated, "no cases after @data"));
    }
    Ok(ds)
}

/// Reads a `.ts` file.
///
/// # Errors
/// As [`parse_ts`], with the path set; [`DataErrorKind::Io`] if the file cannot be read.
pub fn read_ts(path: impl AsRef<Path>, opts: &TsOptions) -> Result<TsDataset, DataError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, "read", &e))?;
    parse_ts(&bytes, opts).map_err(|e| e.in_file(path.display().to_string()))
}

/// Parses one data line (case) into `ds`.
fn parse_case(
    line: &str,
    n: usize,
    meta: &Meta,
    opts: &TsOptions,
    ds: &mut TsDataset,
    dims_from: &mut String,
) -> Result<(), DataError> {
    let bad = |at: String, msg: String| err(DataErrorKind::BadValue, msg).at(at);
    let line_at = format!("line {n}");
    let mut parts: Vec<&str> = line.split(':').collect();
    let label = if meta.has_label() {
        let last = parts.pop().unwrap_or("").trim();
        if parts.is_empty() {
            return Err(bad(
                line_at,
                "a case needs values and a label, separated by ':'".into(),
            ));
        }
        Some(last)
    } else {
        None
    };
    if dims_from.is_empty() {
        ds.dims = parts.len();
        *dims_from = format!("the first case (line {n}) has");
    } else if parts.len() != ds.dims {
        return Err(bad(
            line_at,
            format!("{} dimensions, but {} {}", parts.len(), dims_from, ds.dims),
        ));
    }
    let mut len = None;
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(parts.len());
    for (d, part) in parts.iter().enumerate() {
        let mut col = Vec::new();
        for (v, text) in part.split(',').enumerate() {
            let where_ = || format!("line {n}, dimension {}, value {}", d + 1, v + 1);
            col.push(parse_value(text.trim(), opts).map_err(|m| bad(where_(), m))?);
        }
        match len {
            None => len = Some(col.len()),
            Some(l) if l != col.len() => {
                return Err(bad(
                    line_at,
                    format!(
                        "dimension {} has {} values but dimension 1 has {l}; \
                         the dimensions of one case must have the same length",
                        d + 1,
                        col.len()
                    ),
                ));
            }
            Some(_) => {}
        }
        cols.push(col);
    }
    let len = len.unwrap_or(0);
    if let (Some(true), Some(want)) = (meta.equal_length, meta.series_length)
        && len != want
    {
        return Err(bad(
            line_at,
            format!("series of length {len}, but @seriesLength says {want}"),
        ));
    }
    let mut series = Vec::with_capacity(len * cols.len());
    for t in 0..len {
        series.extend(cols.iter().map(|c| c[t]));
    }
    ds.series.push(series);
    match label {
        Some(l) if meta.target_label => {
            let y = l
                .parse::<f64>()
                .ok()
                .filter(|y| y.is_finite())
                .ok_or_else(|| {
                    bad(
                        line_at.clone(),
                        format!("target '{}' is not a finite number", l.escape_debug()),
                    )
                })?;
            ds.targets.push(y);
        }
        Some(l) => {
            let idx = ds.class_names.iter().position(|c| c == l).ok_or_else(|| {
                bad(
                    line_at.clone(),
                    format!(
                        "unknown class label '{}'; @classLabel declares: {}",
                        l.escape_debug(),
                        ds.class_names.join(" ")
                    ),
                )
            })?;
            ds.labels.push(idx);
        }
        None => {}
    }
    Ok(())
}

/// Parses one value: a finite number, or a missing value (`?`, `NaN`) if allowed.
fn parse_value(text: &str, opts: &TsOptions) -> Result<f64, String> {
    if text.is_empty() {
        return Err("empty value (two commas in a row, or a trailing comma?)".into());
    }
    let missing = text == "?" || text.eq_ignore_ascii_case("nan");
    if missing {
        return if opts.allow_missing {
            Ok(f64::NAN)
        } else {
            Err(format!(
                "missing value '{text}' (set allow_missing to read missing values as NaN)"
            ))
        };
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("infinite value '{text}'")),
        Err(_) => {
            let shown: String = text.chars().take(40).collect();
            Err(format!(
                "cannot parse '{}' as a number",
                shown.escape_debug()
            ))
        }
    }
}
