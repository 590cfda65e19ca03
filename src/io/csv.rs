//! Numeric CSV tables: an optional header row, then rows of numbers.
//!
//! ```text
//! # comment lines and blank lines are skipped
//! data,label          ← header (auto-detected: some cell is not a number)
//! -0.195,0
//! "1.5e-3",1          ← cells may be quoted ("" inside quotes is a literal ")
//! ```
//!
//! The separator is `,` unless given, or detected from the first row (a tab, else `;`, else
//! `,`). Every row must have as many cells as the first; every cell must be a number. NaN,
//! ±infinity and empty cells (read as NaN) are errors unless [`CsvOptions::allow_non_finite`]
//! is set. Errors name the line (1-based, counting every physical line) and the column.

use super::atomic::write_atomic;
use super::error::{DataError, DataErrorKind, err};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

/// Whether the first row is a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HeaderMode {
    /// A header if any of its cells is non-empty and not a number.
    #[default]
    Auto,
    /// Always a header (use this when the column names are themselves numbers).
    Present,
    /// Never a header: the first row is data.
    Absent,
}

/// How to read a CSV table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CsvOptions {
    /// The separator byte, or `None` to detect it from the first row (tab, then `;`, then `,`).
    pub delimiter: Option<u8>,
    /// Whether the first row is a header.
    pub header: HeaderMode,
    /// Accept NaN, ±inf and empty cells (as NaN) instead of reporting them.
    pub allow_non_finite: bool,
}

/// A numeric table: optional column names and a row-major `rows × cols` matrix.
///
/// # Example
/// ```
/// use neurodyn::io::{csv_to_string, parse_csv, CsvOptions, CsvTable};
///
/// let t = parse_csv(b"# an ECG\ndata,label\n-0.195,0\n-0.21,1\n", &CsvOptions::default())?;
/// assert_eq!(t.names.as_deref(), Some(&["data".to_string(), "label".to_string()][..]));
/// assert_eq!((t.rows, t.cols), (2, 2));
/// assert_eq!(t.column(t.column_index("label")?), [0.0, 1.0]);
/// assert_eq!(csv_to_string(&t)?, "data,label\n-0.195,0.0\n-0.21,1.0\n");
///
/// let e = parse_csv(b"x,y\n1,2\n3,oops\n", &CsvOptions::default()).unwrap_err();
/// assert_eq!(e.to_string(), "line 3, column 2: cannot parse 'oops' as a number");
/// # Ok::<(), neurodyn::io::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CsvTable {
    /// The header's column names, if the table has a header.
    pub names: Option<Vec<String>>,
    /// The number of data rows.
    pub rows: usize,
    /// The number of columns.
    pub cols: usize,
    /// The values, row-major: cell `(i, j)` is `data[i * cols + j]`.
    pub data: Vec<f64>,
}

impl CsvTable {
    /// The index of the column called `name`.
    ///
    /// # Errors
    /// [`DataErrorKind::BadValue`] naming `name` and the columns there are.
    pub fn column_index(&self, name: &str) -> Result<usize, DataError> {
        let names = self.names.as_deref().unwrap_or(&[]);
        names.iter().position(|n| n == name).ok_or_else(|| {
            err(
                DataErrorKind::BadValue,
                format!("no column '{name}'; the columns are: {}", names.join(", ")),
            )
        })
    }

    /// Column `j` as a vector.
    ///
    /// # Panics
    /// If `j >= self.cols` or the data is shorter than `rows × cols`.
    #[track_caller]
    pub fn column(&self, j: usize) -> Vec<f64> {
        assert!(
            j < self.cols,
            "column {j} of a table with {} columns",
            self.cols
        );
        (0..self.rows)
            .map(|i| self.data[i * self.cols + j])
            .collect()
    }
}

/// One cell of a split line: trimmed if unquoted, verbatim inside quotes.
struct Cell<'a> {
    text: Cow<'a, str>,
}

/// Parses CSV text.
///
/// # Errors
/// [`DataErrorKind::Truncated`] if there is no row at all; [`DataErrorKind::BadValue`] with
/// `"line L, column C"` for a cell that is not a number (or non-finite or empty when that is
/// not allowed), a ragged row, an unterminated quote or a line that is not UTF-8.
pub fn parse_csv(bytes: &[u8], opts: &CsvOptions) -> Result<CsvTable, DataError> {
    let bad =
        |line: usize, msg: String| err(DataErrorKind::BadValue, msg).at(format!("line {line}"));
    if let Some(d) = opts.delimiter {
        check_delimiter(d)?;
    }
    let mut table = CsvTable::default();
    let mut delim = opts.delimiter;
    let mut first_line = 0;
    for (k, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = k + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = if k == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let line = std::str::from_utf8(raw)
            .map_err(|_| bad(line_no, "the line is not UTF-8 text".into()))?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let d = *delim.get_or_insert_with(|| detect_delimiter(line));
        let cells = split(line, d).map_err(|m| bad(line_no, m))?;
        if first_line == 0 {
            first_line = line_no;
            table.cols = cells.len();
            let is_header = match opts.header {
                HeaderMode::Present => true,
                HeaderMode::Absent => false,
                HeaderMode::Auto => cells.iter().any(|c| {
                    let t = c.text.trim();
                    !t.is_empty() && t.parse::<f64>().is_err()
                }),
            };
            if is_header {
                table.names = Some(cells.iter().map(|c| c.text.to_string()).collect());
                continue;
            }
        } else if cells.len() != table.cols {
            return Err(bad(
                line_no,
                format!(
                    "{} cells, but the first row (line {first_line}) has {}; rows must not be ragged",
                    cells.len(),
                    table.cols
                ),
            ));
        }
        for (j, c) in cells.iter().enumerate() {
            let v = parse_cell(c, d, opts.allow_non_finite).map_err(|m| {
                err(DataErrorKind::BadValue, m).at(format!("line {line_no}, column {}", j + 1))
            })?;
            table.data.push(v);
        }
        table.rows += 1;
    }
    if first_line == 0 {
        return Err(err(
            DataErrorKind::Truncated,
            "no rows: the input is empty or holds only blank lines and comments",
        ));
    }
    Ok(table)
}

/// Reads a CSV file.
///
/// # Errors
/// As [`parse_csv`], with the path set; [`DataErrorKind::Io`] if the file cannot be read.
pub fn read_csv(path: impl AsRef<Path>, opts: &CsvOptions) -> Result<CsvTable, DataError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, "read", &e))?;
    parse_csv(&bytes, opts).map_err(|e| e.in_file(path.display().to_string()))
}

/// Formats a table as CSV: comma separated, the header first if there is one, numbers in
/// Rust's shortest round-trip form (`0.1`, `1e-7`, `NaN`, `inf`), so reading it back gives the
/// same bits.
///
/// Column names are quoted when they contain a comma, a quote or surrounding spaces, or start
/// with `#` or a byte-order mark. Names that are themselves numbers are written as they are; read such a file with
/// [`HeaderMode::Present`].
///
/// # Errors
/// [`DataErrorKind::ShapeMismatch`] if `data.len() != rows · cols` or the names do not number
/// `cols`; [`DataErrorKind::InvalidInput`] for an empty name, a name with a line break, or rows
/// with no columns.
pub fn csv_to_string(table: &CsvTable) -> Result<String, DataError> {
    let invalid = |m: String| err(DataErrorKind::InvalidInput, m);
    if Some(table.data.len()) != table.rows.checked_mul(table.cols) {
        return Err(err(
            DataErrorKind::ShapeMismatch,
            format!(
                "{} values for a {} × {} table",
                table.data.len(),
                table.rows,
                table.cols
            ),
        ));
    }
    if table.cols == 0 && (table.rows > 0 || table.names.is_some()) {
        return Err(invalid("a table with no columns cannot be written".into()));
    }
    let mut out = String::new();
    if let Some(names) = &table.names {
        if names.len() != table.cols {
            return Err(err(
                DataErrorKind::ShapeMismatch,
                format!("{} names for {} columns", names.len(), table.cols),
            ));
        }
        for (j, n) in names.iter().enumerate() {
            if n.is_empty() || n.contains(['\n', '\r']) {
                return Err(invalid(format!(
                    "column name {} is empty or contains a line break",
                    j + 1
                )));
            }
            if j > 0 {
                out.push(',');
            }
            // '#' would make the line a comment, U+FEFF a byte-order mark.
            if n.contains([',', '"', ';', '\t'])
                || n.trim() != n
                || n.starts_with(['#', '\u{feff}'])
            {
                out.push('"');
                out.push_str(&n.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(n);
            }
        }
        out.push('\n');
    }
    for row in table.data.chunks(table.cols.max(1)) {
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            // Writing to a String cannot fail.
            let _ = write!(out, "{v:?}");
        }
        out.push('\n');
    }
    Ok(out)
}

/// Writes a table as a CSV file, atomically.
///
/// # Errors
/// As [`csv_to_string`], with the path set; [`DataErrorKind::Io`] if the file cannot be written.
pub fn write_csv(path: impl AsRef<Path>, table: &CsvTable) -> Result<(), DataError> {
    let path = path.as_ref();
    let text = csv_to_string(table).map_err(|e| e.in_file(path.display().to_string()))?;
    write_atomic(path, text.as_bytes())
}

/// A tab if the line has one, else `;` if it comes before any `,` (as in `1,5;2,5`, whose
/// decimal commas then get a clear error), else `,`.
fn detect_delimiter(line: &str) -> u8 {
    if line.contains('\t') {
        return b'\t';
    }
    match (line.find(';'), line.find(',')) {
        (Some(_), None) => b';',
        (Some(s), Some(c)) if s < c => b';',
        _ => b',',
    }
}

/// Checks a caller-chosen separator: an ASCII byte that cannot be part of a number or a
/// quoted cell.
fn check_delimiter(d: u8) -> Result<(), DataError> {
    if d.is_ascii() && !d.is_ascii_alphanumeric() && !b"\" \r\n.+-#".contains(&d) {
        Ok(())
    } else {
        Err(err(
            DataErrorKind::InvalidInput,
            format!(
                "'{}' cannot separate cells; use an ASCII punctuation character or a tab",
                d.escape_ascii()
            ),
        ))
    }
}

/// The cell text for an error message: escaped, and cut short if long.
fn show(t: &str) -> String {
    let mut s: String = t.chars().take(40).collect();
    if s.len() < t.len() {
        s.push('…');
    }
    s.escape_debug().to_string()
}

/// Splits one line into cells, honouring double quotes.
fn split(line: &str, delim: u8) -> Result<Vec<Cell<'_>>, String> {
    let b = line.as_bytes();
    let mut cells = Vec::new();
    let mut i = 0;
    loop {
        // Skip spaces before a possible opening quote.
        let mut s = i;
        while s < b.len() && b[s] == b' ' {
            s += 1;
        }
        if b.get(s) == Some(&b'"') {
            let mut text = String::new();
            let mut j = s + 1;
            loop {
                match b[j..].iter().position(|&c| c == b'"') {
                    None => return Err(format!("unterminated quote in cell {}", cells.len() + 1)),
                    Some(q) => {
                        text.push_str(&line[j..j + q]);
                        j += q + 1;
                        if b.get(j) == Some(&b'"') {
                            text.push('"');
                            j += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            while j < b.len() && b[j] == b' ' {
                j += 1;
            }
            cells.push(Cell {
                text: Cow::Owned(text),
            });
            match b.get(j) {
                None => return Ok(cells),
                Some(&c) if c == delim => i = j + 1,
                Some(_) => {
                    return Err(format!(
                        "text after the closing quote in cell {}",
                        cells.len()
                    ));
                }
            }
        } else {
            let end = b[i..]
                .iter()
                .position(|&c| c == delim)
                .map_or(b.len(), |p| i + p);
            cells.push(Cell {
                text: Cow::Borrowed(&line[i..end]),
            });
            if end == b.len() {
                return Ok(cells);
            }
            i = end + 1;
        }
    }
}

/// Parses one cell as a number.
fn parse_cell(c: &Cell<'_>, delim: u8, allow_non_finite: bool) -> Result<f64, String> {
    let t = c.text.trim();
    if t.is_empty() {
        return if allow_non_finite {
            Ok(f64::NAN)
        } else {
            Err("empty cell (set allow_non_finite to read empty cells as NaN)".into())
        };
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() || allow_non_finite => Ok(v),
        Ok(_) => Err(format!(
            "non-finite value '{}' (set allow_non_finite to accept NaN and infinities)",
            show(t)
        )),
        Err(_) if delim != b',' && t.contains(',') => Err(format!(
            "cannot parse '{}' as a number (decimal commas are not supported; use '.')",
            show(t)
        )),
        Err(_) => Err(format!("cannot parse '{}' as a number", show(t))),
    }
}
