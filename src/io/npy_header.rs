//! The `.npy` header: a Python dict literal such as
//!
//! ```text
//! {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
//! ```
//!
//! parsed by a small recursive-descent reader of Python literals (strings, `True`/`False`,
//! integers, tuples, lists, dicts; nesting depth bounded), then checked into a [`Header`].

use super::error::{DataError, DataErrorKind, err};

/// numpy's own limit on the number of axes (`NPY_MAXDIMS` in numpy 2).
pub(crate) const MAX_NDIM: usize = 64;

/// The element types the reader understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int,
    UInt,
    Float,
}

/// A supported little-endian (or byte-order-free) dtype: its kind and item size in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dtype {
    pub kind: Kind,
    pub size: usize,
}

/// The checked contents of a header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub dtype: Dtype,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
}

fn bad(msg: impl Into<String>) -> DataError {
    err(DataErrorKind::BadHeader, msg).at("header")
}

fn unsupported(msg: impl Into<String>) -> DataError {
    err(DataErrorKind::Unsupported, msg).at("header")
}

/// Parses and checks the header text.
pub(crate) fn parse_header(text: &str) -> Result<Header, DataError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let lit = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(bad(format!(
            "unexpected text after the header dict at byte {}",
            p.i
        )));
    }
    let Lit::Dict(entries) = lit else {
        return Err(bad("the header is not a dict literal"));
    };
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| matches!(k, Lit::Str(s) if s == key))
            .map(|(_, v)| v)
            .ok_or_else(|| bad(format!("the header dict has no '{key}' key")))
    };
    let dtype = match get("descr")? {
        Lit::Str(s) => parse_descr(s)?,
        Lit::List(_) => {
            return Err(unsupported(
                "structured (record) arrays are not supported; save each field as its own array",
            ));
        }
        _ => return Err(bad("'descr' is not a string")),
    };
    let fortran_order = match get("fortran_order")? {
        Lit::Bool(b) => *b,
        _ => return Err(bad("'fortran_order' is not True or False")),
    };
    let shape = match get("shape")? {
        Lit::Tuple(items) | Lit::List(items) => {
            if items.len() > MAX_NDIM {
                return Err(bad(format!(
                    "shape has {} axes; at most {MAX_NDIM} are allowed",
                    items.len()
                )));
            }
            items
                .iter()
                .map(|x| match x {
                    Lit::Int(n) => usize::try_from(*n)
                        .map_err(|_| bad(format!("shape entry {n} is too large"))),
                    _ => Err(bad(
                        "'shape' holds something other than non-negative integers",
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        _ => return Err(bad("'shape' is not a tuple")),
    };
    Ok(Header {
        dtype,
        fortran_order,
        shape,
    })
}

/// Parses a numpy type string such as `<f8`, `|b1` or `=i4`.
pub(crate) fn parse_descr(descr: &str) -> Result<Dtype, DataError> {
    let b = descr.as_bytes();
    let (order, rest) = match b.first() {
        Some(c @ (b'<' | b'>' | b'=' | b'|')) => (*c, &descr[1..]),
        _ => (b'=', descr),
    };
    let mut chars = rest.chars();
    let kind_char = chars.next().unwrap_or(' ');
    let size: Option<usize> = chars.as_str().parse().ok();
    let kind = match kind_char {
        'b' | '?' => Kind::Bool,
        'i' => Kind::Int,
        'u' => Kind::UInt,
        'f' => Kind::Float,
        'O' => {
            return Err(unsupported(format!(
                "object arrays ('{descr}') cannot be read: they hold pickled Python objects; \
                 convert to a numeric dtype, e.g. arr.astype('<f8')"
            )));
        }
        'c' | 'U' | 'S' | 'a' | 'V' | 'M' | 'm' => {
            return Err(unsupported(format!(
                "dtype '{descr}' (complex, string, void or datetime) is not supported; \
                 supported: <f4 <f8 |b1 |i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8"
            )));
        }
        _ => return Err(bad(format!("'{descr}' is not a numpy dtype string"))),
    };
    let size = match (kind, size) {
        (Kind::Bool, Some(1)) => 1,
        (Kind::Int | Kind::UInt, Some(s @ (1 | 2 | 4 | 8))) => s,
        (Kind::Float, Some(s @ (4 | 8))) => s,
        _ => {
            return Err(unsupported(format!(
                "dtype '{descr}' is not supported; \
                 supported: <f4 <f8 |b1 |i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8 (convert with arr.astype('<f8'))"
            )));
        }
    };
    if order == b'>' && size > 1 {
        return Err(unsupported(format!(
            "big-endian arrays are not supported ('{descr}'); convert with arr.astype('<{}{size}')",
            kind_char
        )));
    }
    if order == b'|' && size > 1 {
        return Err(bad(format!(
            "dtype '{descr}': byte order '|' (not applicable) is only valid for 1-byte types"
        )));
    }
    Ok(Dtype { kind, size })
}

/// A Python literal.
#[derive(Debug)]
enum Lit {
    Str(String),
    Bool(bool),
    None,
    Int(u64),
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

/// Nesting deeper than this is certainly not a numpy header.
const MAX_DEPTH: usize = 8;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), DataError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(bad(format!(
                "expected '{}' at byte {} of the header dict",
                c as char, self.i
            )))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Lit, DataError> {
        if depth > MAX_DEPTH {
            return Err(bad("the header dict is nested too deeply"));
        }
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => self.string(q),
            Some(b'{') => self.dict(depth),
            Some(b'(') => Ok(Lit::Tuple(self.seq(b')', depth)?)),
            Some(b'[') => Ok(Lit::List(self.seq(b']', depth)?)),
            Some(c) if c.is_ascii_digit() => self.int(),
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            Some(c) => Err(bad(format!(
                "unexpected character '{}' at byte {} of the header dict",
                c.escape_ascii(),
                self.i
            ))),
            None => Err(bad("the header dict ends early")),
        }
    }

    fn string(&mut self, quote: u8) -> Result<Lit, DataError> {
        self.i += 1;
        let start = self.i;
        while let Some(&c) = self.s.get(self.i) {
            if c == quote {
                let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                return Ok(Lit::Str(text));
            }
            self.i += if c == b'\\' { 2 } else { 1 };
        }
        Err(bad("unterminated string in the header dict"))
    }

    fn int(&mut self) -> Result<Lit, DataError> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        // Python 2 wrote long integers with an `L` suffix.
        if matches!(self.s.get(self.i), Some(b'L' | b'l')) {
            self.i += 1;
        }
        digits
            .parse()
            .map(Lit::Int)
            .map_err(|_| bad(format!("integer {digits} in the header is too large")))
    }

    fn word(&mut self) -> Result<Lit, DataError> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_alphanumeric) {
            self.i += 1;
        }
        match &self.s[start..self.i] {
            b"True" => Ok(Lit::Bool(true)),
            b"False" => Ok(Lit::Bool(false)),
            b"None" => Ok(Lit::None),
            w => Err(bad(format!(
                "unexpected word '{}' in the header dict",
                w.escape_ascii()
            ))),
        }
    }

    /// Items up to `close`, comma separated, trailing comma allowed.
    fn seq(&mut self, close: u8, depth: usize) -> Result<Vec<Lit>, DataError> {
        self.i += 1;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(items);
            }
            items.push(self.value(depth + 1)?);
            if self.peek() == Some(b',') {
                self.i += 1;
            } else {
                self.expect(close)?;
                return Ok(items);
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Lit, DataError> {
        self.i += 1;
        let mut entries = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(Lit::Dict(entries));
            }
            let k = self.value(depth + 1)?;
            self.expect(b':')?;
            let v = self.value(depth + 1)?;
            entries.push((k, v));
            if self.peek() == Some(b',') {
                self.i += 1;
            } else {
                self.expect(b'}')?;
                return Ok(Lit::Dict(entries));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numpy_headers() {
        let h = parse_header("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }  \n")
            .unwrap();
        assert_eq!(h.shape, [3, 4]);
        assert!(!h.fortran_order);
        assert_eq!(
            h.dtype,
            Dtype {
                kind: Kind::Float,
                size: 8
            }
        );
        let h = parse_header("{\"shape\": (5L,), \"fortran_order\": True, \"descr\": \"|u1\"}")
            .unwrap();
        assert_eq!((h.shape, h.fortran_order), (vec![5], true));
        assert_eq!(
            parse_header("{'descr':'<i2','fortran_order':False,'shape':()}")
                .unwrap()
                .shape,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn rejects_bad_descr() {
        for (d, want) in [
            (">f8", "big-endian"),
            ("|O", "object arrays"),
            ("<c16", "complex"),
            ("<f2", "not supported"),
            ("|f8", "only valid for 1-byte"),
            ("xyz", "not a numpy dtype"),
        ] {
            let e = parse_descr(d).unwrap_err();
            assert!(e.message.contains(want), "{d}: {e}");
        }
        assert_eq!(parse_descr(">u1").unwrap().size, 1);
        assert_eq!(parse_descr("=i4").unwrap().kind, Kind::Int);
    }

    #[test]
    fn rejects_deep_nesting_and_junk() {
        assert!(parse_header(&"(".repeat(1000)).is_err());
        assert!(parse_header("{'descr': '<f8'} trailing").is_err());
        assert!(parse_header("{'shape': (99999999999999999999999,)}").is_err());
    }
}
