//! A small, strict JSON reader for `neurodyn grad` cases (RFC 8259).
//!
//! A case is mostly numbers in nested arrays (a 128-neuron gnODE case holds about 38 000). A
//! general-purpose value tree spends a node, and often an allocation, on each of them, and the
//! case parser then walks the tree again to copy them out. Here a rectangular nested array of
//! numbers is read straight into one flat `Vec<f64>` with its shape ([`Json::Nums`]); any
//! other array (ragged, mixed, empty) is read as a list of values, so that the case parser can
//! name the offending element. Numbers are converted by `str::parse::<f64>`, which rounds
//! correctly.
//!
//! Objects keep their keys sorted (iteration in key order, as a `serde_json` map) and reject a
//! duplicate key. Nesting deeper than [`MAX_DEPTH`] is refused, so no input can exhaust the
//! stack.

use super::json::NumArray;
use std::borrow::Cow;
use std::fmt;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 128;

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// A list that is not a rectangular array of numbers.
    Arr(Vec<Json>),
    /// A non-empty rectangular nested array of numbers, flat and row-major.
    Nums(NumArray),
    /// An object.
    Obj(Object),
}

/// An object's members, sorted by key, keys unique.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    entries: Vec<(String, Json)>,
}

impl Object {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.entries
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// Members in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Json)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> IntoIterator for &'a Object {
    type Item = (&'a String, &'a Json);
    type IntoIter = Box<dyn Iterator<Item = (&'a String, &'a Json)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl Json {
    /// The member `key` of an object (`None` for other values).
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// The members of an object.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Json::Obj(o) => Some(o),
            _ => None,
        }
    }

    /// The elements of a list: borrowed for [`Json::Arr`], made one level deep for
    /// [`Json::Nums`] (numbers, or the rows as smaller arrays).
    pub fn as_array(&self) -> Option<Cow<'_, [Json]>> {
        match self {
            Json::Arr(a) => Some(Cow::Borrowed(a)),
            Json::Nums(a) => {
                let (outer, rest) = a.shape.split_first().expect("internal: Nums has a shape");
                let per: usize = rest.iter().product();
                let items = (0..*outer)
                    .map(|i| {
                        let part = &a.values[i * per..(i + 1) * per];
                        if rest.is_empty() {
                            Json::Num(part[0])
                        } else {
                            Json::Nums(NumArray {
                                shape: rest.to_vec(),
                                values: part.to_vec(),
                            })
                        }
                    })
                    .collect();
                Some(Cow::Owned(items))
            }
            _ => None,
        }
    }

    /// A number's value.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(x) => Some(*x),
            _ => None,
        }
    }

    /// A number that is a non-negative integer below 2⁵³ (`4` or `4.0`), as an integer.
    pub fn as_u64(&self) -> Option<u64> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        match self {
            Json::Num(x) if *x >= 0.0 && x.fract() == 0.0 && *x < EXACT => Some(*x as u64),
            _ => None,
        }
    }

    /// A string's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// Why a text is not JSON, and where (1-based line and column, in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What was wrong.
    pub what: String,
    /// Line of the offending character.
    pub line: usize,
    /// Column of the offending character.
    pub column: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.what, self.line, self.column
        )
    }
}

impl std::error::Error for ParseError {}

/// Reads a JSON text (one value, surrounded by optional whitespace).
///
/// # Errors
/// Anything that is not JSON, a duplicate key, a number too large for `f64`, or nesting deeper
/// than [`MAX_DEPTH`].
pub fn parse(text: &str) -> Result<Json, ParseError> {
    let mut r = Reader {
        b: text.as_bytes(),
        text,
        i: 0,
    };
    let v = r.value(0)?;
    r.ws();
    if r.i < r.b.len() {
        return Err(r.err("trailing characters after the value"));
    }
    Ok(v)
}

struct Reader<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Reader<'_> {
    fn err(&self, what: &str) -> ParseError {
        let mut at = self.i.min(self.b.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &self.text[..at];
        let line = before.bytes().filter(|&c| c == b'\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ParseError {
            what: what.to_string(),
            line,
            column,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), ParseError> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    /// After a list's or an object's element: `Some(false)` past a `,`, `Some(true)` past the
    /// closing `close`, `None` (nothing consumed) for anything else.
    fn separator(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let closed = match self.peek() {
            Some(b',') => false,
            Some(c) if c == close => true,
            _ => return None,
        };
        self.i += 1;
        Some(closed)
    }

    fn value(&mut self, depth: usize) -> Result<Json, ParseError> {
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Num),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(_) => Err(self.err("expected a value")),
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, ParseError> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("expected a value"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.i += 1; // '{'
        // (key, where it starts, value)
        let mut members: Vec<(String, usize, Json)> = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Obj(Object::default()));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a key (a string)"));
            }
            let key_at = self.i;
            let key = self.string()?;
            self.expect(b':', "expected `:`")?;
            let v = self.value(depth)?;
            members.push((key, key_at, v));
            match self.separator(b'}') {
                Some(false) => {}
                Some(true) => break,
                None => return Err(self.err("expected `,` or `}`")),
            }
        }
        // Sorted by key, equal keys in document order: a duplicate is reported where it
        // repeats (O(n log n), so no input with many keys can stall the reader).
        members.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        if let Some(w) = members.windows(2).find(|w| w[0].0 == w[1].0) {
            let (key, at) = (w[1].0.clone(), w[1].1);
            self.i = at;
            return Err(self.err(&format!("duplicate key {key:?}")));
        }
        let entries = members.into_iter().map(|(k, _, v)| (k, v)).collect();
        Ok(Json::Obj(Object { entries }))
    }

    fn array(&mut self, depth: usize) -> Result<Json, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let start = self.i;
        let (mut shape, mut leaf, mut values) = (Vec::new(), None, Vec::new());
        if self.numeric(0, depth, &mut shape, &mut leaf, &mut values) {
            return Ok(Json::Nums(NumArray { shape, values }));
        }
        // Not a rectangular array of numbers (or not valid): read it as a list of values.
        self.i = start + 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Arr(items));
        }
        loop {
            items.push(self.value(depth)?);
            match self.separator(b']') {
                Some(false) => {}
                Some(true) => return Ok(Json::Arr(items)),
                None => return Err(self.err("expected `,` or `]`")),
            }
        }
    }

    /// Reads the array at `self.i`, nested `level` deep in the array being read, as part of a
    /// rectangular nested array of numbers: numbers only at the `leaf` level (set by the first
    /// number met), every list at a level as long as the first (`counts`). False (the position
    /// is then undefined) for anything else.
    fn numeric(
        &mut self,
        level: usize,
        depth: usize,
        counts: &mut Vec<usize>,
        leaf: &mut Option<usize>,
        out: &mut Vec<f64>,
    ) -> bool {
        if depth + level > MAX_DEPTH || self.peek() != Some(b'[') {
            return false;
        }
        self.i += 1;
        self.ws();
        let lists = match self.peek() {
            Some(b'[') => true,
            Some(b'-' | b'0'..=b'9') => false,
            _ => return false,
        };
        match *leaf {
            Some(l) if lists && level >= l => return false,
            Some(l) if !lists && level != l => return false,
            None if !lists => *leaf = Some(level),
            _ => {}
        }
        let mut count = 0;
        loop {
            self.ws();
            if lists {
                if !self.numeric(level + 1, depth, counts, leaf, out) {
                    return false;
                }
            } else {
                match self.number() {
                    Ok(x) => out.push(x),
                    Err(_) => return false,
                }
            }
            count += 1;
            match self.separator(b']') {
                Some(false) => {}
                Some(true) => break,
                None => return false,
            }
        }
        if counts.len() <= level {
            counts.resize(level + 1, usize::MAX);
        }
        if counts[level] == usize::MAX {
            counts[level] = count;
        }
        counts[level] == count
    }

    fn number(&mut self) -> Result<f64, ParseError> {
        let start = self.i;
        let digits = |r: &mut Self| {
            let s = r.i;
            while let Some(b'0'..=b'9') = r.peek() {
                r.i += 1;
            }
            r.i > s
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(self.err("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !digits(self) {
                return Err(self.err("invalid number"));
            }
        }
        let x: f64 = self.text[start..self.i]
            .parse()
            .expect("internal: a JSON number is a valid float literal");
        if x.is_infinite() {
            self.i = start;
            return Err(self.err("number out of range"));
        }
        Ok(x)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1; // '"'
        let mut s = String::new();
        loop {
            let run = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            s.push_str(&self.text[run..self.i]);
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(s);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    match c {
                        b'"' => s.push('"'),
                        b'\\' => s.push('\\'),
                        b'/' => s.push('/'),
                        b'b' => s.push('\u{8}'),
                        b'f' => s.push('\u{c}'),
                        b'n' => s.push('\n'),
                        b'r' => s.push('\r'),
                        b't' => s.push('\t'),
                        b'u' => s.push(self.unicode_escape()?),
                        _ => {
                            self.i -= 1;
                            return Err(self.err("invalid escape"));
                        }
                    }
                }
                Some(_) => return Err(self.err("control character in a string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    /// The character of a `\uXXXX` escape (after the `u`), surrogate pairs joined.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if !self.b[self.i..].starts_with(b"\\u") {
                return Err(self.err("unpaired surrogate in a \\u escape"));
            }
            self.i += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(self.err("unpaired surrogate in a \\u escape"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code).ok_or_else(|| self.err("unpaired surrogate in a \\u escape"))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let h = self
            .b
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .filter(|_| self.b[self.i..self.i + 4].iter().all(u8::is_ascii_hexdigit))
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        self.i += 4;
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nums(shape: &[usize], values: &[f64]) -> Json {
        Json::Nums(NumArray {
            shape: shape.to_vec(),
            values: values.to_vec(),
        })
    }

    #[test]
    fn rectangular_numeric_arrays_are_read_flat() {
        assert_eq!(
            parse("[1, -2.5e1, 0]").unwrap(),
            nums(&[3], &[1.0, -25.0, 0.0])
        );
        assert_eq!(
            parse(" [[1,2,3],[4,5,6]] ").unwrap(),
            nums(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        );
        assert_eq!(
            parse("[[[1],[2]],[[3],[4]]]").unwrap(),
            nums(&[2, 2, 1], &[1.0, 2.0, 3.0, 4.0])
        );
        assert_eq!(parse("[[1]]").unwrap(), nums(&[1, 1], &[1.0]));
    }

    #[test]
    fn anything_else_is_a_list_of_values() {
        let ragged = parse("[[1,2],[3]]").unwrap();
        assert_eq!(
            ragged,
            Json::Arr(vec![nums(&[2], &[1.0, 2.0]), nums(&[1], &[3.0])])
        );
        // leaves at two depths
        assert!(matches!(parse("[[1],2]").unwrap(), Json::Arr(_)));
        assert!(matches!(parse("[1,[2]]").unwrap(), Json::Arr(_)));
        assert!(matches!(parse("[[1,2],[3,4,5]]").unwrap(), Json::Arr(_)));
        assert!(matches!(
            parse("[[[1,2]],[[3],[4]]]").unwrap(),
            Json::Arr(_)
        ));
        assert_eq!(parse("[]").unwrap(), Json::Arr(vec![]));
        assert_eq!(parse("[[]]").unwrap(), Json::Arr(vec![Json::Arr(vec![])]));
        assert_eq!(
            parse(r#"[1, "a", null, true]"#).unwrap(),
            Json::Arr(vec![
                Json::Num(1.0),
                Json::Str("a".into()),
                Json::Null,
                Json::Bool(true)
            ])
        );
    }

    #[test]
    fn the_list_view_of_numeric_arrays() {
        let v = parse("[[1,2],[3,4]]").unwrap();
        let rows = v.as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], nums(&[2], &[3.0, 4.0]));
        let w = parse("[4, 4.0, 2.5, -1]").unwrap();
        let items = w.as_array().unwrap();
        let ints: Vec<Option<u64>> = items.iter().map(Json::as_u64).collect();
        assert_eq!(ints, [Some(4), Some(4), None, None]);
    }

    #[test]
    fn numbers_are_read_exactly() {
        for s in [
            "0.10110509403595881",
            "-0.43833862321526285",
            "-0.09184898024865523",
            "5e-324",
            "1.7976931348623157e308",
            "-0",
            "123456789012345678901234567890",
        ] {
            let want: f64 = s.parse().unwrap();
            for text in [s.to_string(), format!("[{s}]")] {
                let got = match parse(&text).unwrap() {
                    Json::Num(x) => x,
                    Json::Nums(a) => a.values[0],
                    other => panic!("{other:?}"),
                };
                assert_eq!(got.to_bits(), want.to_bits(), "{text}");
            }
        }
    }

    #[test]
    fn objects_are_sorted_and_reject_duplicate_keys() {
        let v = parse(r#"{"b": 1, "a": {"c": [true]}, "A": "x"}"#).unwrap();
        let o = v.as_object().unwrap();
        assert_eq!(o.keys().cloned().collect::<Vec<_>>(), ["A", "a", "b"]);
        assert_eq!(v.get("b"), Some(&Json::Num(1.0)));
        assert_eq!(v.get("zz"), None);
        let e = parse("{\"a\": 1,\n \"a\": 2}").unwrap_err();
        assert_eq!((e.line, e.column), (2, 2), "{e}");
        assert!(e.what.contains("duplicate key \"a\""), "{e}");
    }

    #[test]
    fn many_keys_are_read_and_a_late_duplicate_found() {
        let n = 200_000;
        let mut text: String = (0..n).map(|i| format!("\"k{i}\": {i},")).collect();
        text.insert(0, '{');
        text.push_str("\"k7\": 0}");
        let e = parse(&text).unwrap_err();
        assert!(e.what.contains("duplicate key \"k7\""), "{e}");
        assert_eq!(e.column, text.rfind("\"k7\"").unwrap() + 1);
        text.truncate(text.len() - "\"k7\": 0}".len() - 1);
        text.push('}');
        assert_eq!(parse(&text).unwrap().as_object().unwrap().len(), n);
    }

    #[test]
    fn strings_and_escapes() {
        let v = parse(r#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00 ü""#).unwrap();
        assert_eq!(v.as_str(), Some("a\"b\\c/d\n\té😀 ü"));
    }

    #[test]
    fn invalid_texts_are_refused_with_a_position() {
        for (text, what, line, column) in [
            ("", "unexpected end of input", 1, 1),
            ("[1, 2", "expected `,` or `]`", 1, 6),
            ("[1 2]", "expected `,` or `]`", 1, 4),
            ("{\"a\" 1}", "expected `:`", 1, 6),
            ("{\"a\": 1,}", "expected a key", 1, 9),
            ("[01]", "expected `,` or `]`", 1, 3),
            ("[1.]", "invalid number", 1, 4),
            ("[-]", "invalid number", 1, 3),
            ("[1e]", "invalid number", 1, 4),
            ("[1e999]", "number out of range", 1, 2),
            ("nul", "expected a value", 1, 1),
            ("[NaN]", "expected a value", 1, 2),
            ("\"abc", "unterminated string", 1, 5),
            ("\"a\nb\"", "control character", 1, 3),
            ("\"\\x\"", "invalid escape", 1, 3),
            ("\"\\u12g4\"", "invalid \\u escape", 1, 4),
            ("\"\\ud83d\"", "unpaired surrogate", 1, 8),
            ("{} x", "trailing characters", 1, 4),
            ("[1,\n  2,\n  ]", "expected a value", 3, 3),
        ] {
            let e = parse(text).unwrap_err();
            assert!(
                e.what.contains(what) && (e.line, e.column) == (line, column),
                "{text:?}: got {e}, want {what} at {line}:{column}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        for open in ["[", "{\"a\":"] {
            let deep = open.repeat(100_000);
            let e = parse(&deep).unwrap_err();
            assert!(e.what.contains("nested too deeply"), "{e}");
        }
        let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let too_deep = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(parse(&too_deep).is_err());
    }

    #[test]
    fn agrees_with_serde_json_on_valid_documents() {
        let text = r#"{"model": {"kind": "gnode", "hidden": 3, "flow": [4, 5], "gate": false, "tau": 1e-1},
                        "params": {"W": [[0.1, -2], [3.5e2, 0]], "b": [1, 2]},
                        "data": {"x": [[[1, 2]], [[3, 4]]], "s": "t\u00e9", "n": null, "e": [], "m": [1, [2]]}}"#;
        let ours = parse(text).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        fn same(a: &Json, b: &serde_json::Value) -> bool {
            match (a, b) {
                (Json::Null, serde_json::Value::Null) => true,
                (Json::Bool(x), serde_json::Value::Bool(y)) => x == y,
                (Json::Num(x), serde_json::Value::Number(y)) => Some(*x) == y.as_f64(),
                (Json::Str(x), serde_json::Value::String(y)) => x == y,
                (Json::Arr(_) | Json::Nums(_), serde_json::Value::Array(y)) => {
                    let x = a.as_array().unwrap();
                    x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
                }
                (Json::Obj(x), serde_json::Value::Object(y)) => {
                    x.len() == y.len()
                        && x.iter()
                            .zip(y)
                            .all(|((k1, v1), (k2, v2))| k1 == k2 && same(v1, v2))
                }
                _ => false,
            }
        }
        assert!(same(&ours, &theirs), "{ours:?}\n{theirs:?}");
    }
}
