//! The `@` header lines of a `.ts` file, collected into [`Meta`].
//!
//! Tags are matched case-insensitively (files in the archive spell them `@problemName`,
//! `@classLabel`, …; some older ones all lower case), as sktime does.

use super::error::{DataError, DataErrorKind, err};

/// What the header lines declare.
#[derive(Clone, Debug, Default)]
pub(crate) struct Meta {
    pub name: Option<String>,
    pub univariate: Option<bool>,
    pub dims: Option<usize>,
    pub equal_length: Option<bool>,
    pub series_length: Option<usize>,
    /// `None` until `@classLabel` is seen; `Some(false)` for `@classLabel false`.
    pub class_label: Option<bool>,
    pub class_names: Vec<String>,
    pub target_label: bool,
}

impl Meta {
    /// Whether each case ends in a label or target field.
    pub fn has_label(&self) -> bool {
        self.class_label == Some(true) || self.target_label
    }

    /// Checks the header as a whole once `@data` is reached.
    pub fn check(&mut self) -> Result<(), DataError> {
        let bad = |m: &str| err(DataErrorKind::BadHeader, m.to_string());
        if self.class_label.is_none() && !self.target_label {
            return Err(bad(
                "@data without @classLabel (or @targetLabel) before it; add '@classLabel false' \
                 if the cases carry no label",
            ));
        }
        if self.class_label == Some(true) && self.target_label {
            return Err(bad(
                "both @classLabel true and @targetLabel true; a case has one label",
            ));
        }
        match (self.univariate, self.dims) {
            (Some(true), None) => self.dims = Some(1),
            (Some(true), Some(d)) if d != 1 => {
                return Err(bad(&format!("@univariate true but @dimensions {d}")));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Applies one header line to `meta`; returns `true` for `@data`.
pub(crate) fn parse_header_line(line: &str, meta: &mut Meta) -> Result<bool, DataError> {
    let bad = |m: String| err(DataErrorKind::BadHeader, m);
    let mut words = line.split_whitespace();
    let tag = words.next().unwrap_or("");
    let args: Vec<&str> = words.collect();
    if !tag.starts_with('@') {
        return Err(bad(format!(
            "expected a header line (starting with '@') or @data before the data, found '{}'",
            line.chars().take(40).collect::<String>().escape_debug()
        )));
    }
    let lower = tag.to_ascii_lowercase();
    let one = |what: &str| -> Result<&str, DataError> {
        match args[..] {
            [a] => Ok(a),
            _ => Err(bad(format!(
                "{tag} takes one {what}, found {} words",
                args.len()
            ))),
        }
    };
    let flag = |v: &str| -> Result<bool, DataError> {
        match v.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad(format!(
                "{tag} must be true or false, found '{}'",
                v.escape_debug()
            ))),
        }
    };
    let count = |v: &str| -> Result<usize, DataError> {
        v.parse::<usize>().ok().filter(|&c| c > 0).ok_or_else(|| {
            bad(format!(
                "{tag} must be a positive integer, found '{}'",
                v.escape_debug()
            ))
        })
    };
    match lower.as_str() {
        "@problemname" => meta.name = Some(args.join(" ")),
        "@timestamps" => {
            if flag(one("true/false")?)? {
                return Err(err(
                    DataErrorKind::Unsupported,
                    "timestamped series (@timeStamps true) are not supported; \
                     resample to a regular grid and drop the timestamps",
                ));
            }
        }
        "@missing" => {
            flag(one("true/false")?)?;
        }
        "@univariate" => meta.univariate = Some(flag(one("true/false")?)?),
        "@dimension" | "@dimensions" => meta.dims = Some(count(one("number")?)?),
        "@equallength" => meta.equal_length = Some(flag(one("true/false")?)?),
        "@serieslength" => meta.series_length = Some(count(one("number")?)?),
        "@targetlabel" => meta.target_label = flag(one("true/false")?)?,
        "@classlabel" => {
            let Some((first, names)) = args.split_first() else {
                return Err(bad(
                    "@classLabel needs true (followed by the labels) or false".into(),
                ));
            };
            let on = flag(first)?;
            if on && names.is_empty() {
                return Err(bad("@classLabel true lists no labels".into()));
            }
            if !on && !names.is_empty() {
                return Err(bad("@classLabel false must not list labels".into()));
            }
            let mut seen = std::collections::HashSet::new();
            if let Some(n) = names.iter().find(|n| !seen.insert(**n)) {
                return Err(bad(format!("@classLabel lists '{n}' twice")));
            }
            meta.class_label = Some(on);
            meta.class_names = names.iter().map(|s| s.to_string()).collect();
        }
        "@data" => {
            if !args.is_empty() {
                return Err(bad(
                    "@data takes no arguments; the data starts on the next line".into(),
                ));
            }
            return Ok(true);
        }
        _ => {
            return Err(bad(format!(
                "unknown header line '{}'; expected @problemName, @timeStamps, @missing, \
                 @univariate, @dimensions, @equalLength, @seriesLength, @classLabel, \
                 @targetLabel or @data",
                tag.escape_debug()
            )));
        }
    }
    Ok(false)
}
