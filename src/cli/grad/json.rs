//! Reading the JSON of a case with errors that name the offending field.

use super::super::CliError;
use super::json_text::Json as Value;

/// A numeric array read from JSON: its shape (1 or 2 dims, or 3 for data) and values.
#[derive(Clone, Debug, PartialEq)]
pub struct NumArray {
    /// Shape as given (`[n]`, `[r, c]`, `[a, b, c]`).
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f64>,
}

impl NumArray {
    /// `(rows, cols)` of a 1-D (`1 × n`) or 2-D array.
    pub fn matrix_shape(&self) -> (usize, usize) {
        match self.shape.as_slice() {
            [n] => (1, *n),
            [r, c] => (*r, *c),
            _ => (0, 0),
        }
    }
}

/// A field of an object, or an error naming it.
pub fn field<'a>(obj: &'a Value, key: &str, path: &str) -> Result<&'a Value, CliError> {
    obj.get(key)
        .ok_or_else(|| CliError::input(format!("{path}.{key}: missing")))
}

/// Rejects keys of `obj` that are not in `allowed`.
pub fn only_keys(obj: &Value, allowed: &[&str], path: &str) -> Result<(), CliError> {
    let map = obj
        .as_object()
        .ok_or_else(|| CliError::input(format!("{path}: must be an object")))?;
    for k in map.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(CliError::input(format!(
                "{path}.{k}: unknown key (expected one of {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

/// A finite number.
pub fn number(v: &Value, path: &str) -> Result<f64, CliError> {
    let x = v
        .as_f64()
        .ok_or_else(|| CliError::input(format!("{path}: must be a number")))?;
    if !x.is_finite() {
        return Err(CliError::input(format!("{path}: must be finite")));
    }
    Ok(x)
}

/// A non-negative integer.
pub fn count(v: &Value, path: &str) -> Result<usize, CliError> {
    v.as_u64()
        .map(|x| x as usize)
        .ok_or_else(|| CliError::input(format!("{path}: must be a non-negative integer")))
}

/// A string.
pub fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, CliError> {
    v.as_str()
        .ok_or_else(|| CliError::input(format!("{path}: must be a string")))
}

/// A boolean.
pub fn boolean(v: &Value, path: &str) -> Result<bool, CliError> {
    v.as_bool()
        .ok_or_else(|| CliError::input(format!("{path}: must be true or false")))
}

/// A rectangular nested array of finite numbers (a scalar is shape `[]`).
pub fn array(v: &Value, path: &str) -> Result<NumArray, CliError> {
    if let Value::Nums(a) = v {
        if let Some(i) = a.values.iter().position(|x| !x.is_finite()) {
            return Err(CliError::input(format!(
                "{path}: element {i} must be finite"
            )));
        }
        return Ok(a.clone());
    }
    // The shape along the chain of first elements; `collect` holds every list to it.
    fn first_chain(v: &Value, shape: &mut Vec<usize>) {
        match v {
            Value::Arr(a) => {
                shape.push(a.len());
                if let Some(first) = a.first() {
                    first_chain(first, shape);
                }
            }
            Value::Nums(a) => shape.extend_from_slice(&a.shape),
            _ => {}
        }
    }
    let mut shape = Vec::new();
    first_chain(v, &mut shape);
    let mut values = Vec::with_capacity(shape.iter().product());
    collect(
        v,
        &shape,
        &mut Vec::with_capacity(shape.len()),
        path,
        &mut values,
    )?;
    Ok(NumArray { shape, values })
}

fn collect(
    v: &Value,
    shape: &[usize],
    idx: &mut Vec<usize>,
    path: &str,
    out: &mut Vec<f64>,
) -> Result<(), CliError> {
    // The element's path (`params.W[3][1]`) is only spelled out for an error message.
    let here = |idx: &[usize]| {
        let mut p = path.to_string();
        for i in idx {
            p.push_str(&format!("[{i}]"));
        }
        p
    };
    let depth = idx.len();
    if depth == shape.len() {
        match v.as_f64() {
            Some(x) if x.is_finite() => out.push(x),
            _ => {
                number(v, &here(idx))?;
            }
        }
        return Ok(());
    }
    let a = v.as_array().ok_or_else(|| {
        CliError::input(format!(
            "{}: ragged array (expected a list at depth {depth})",
            here(idx)
        ))
    })?;
    if a.len() != shape[depth] {
        return Err(CliError::input(format!(
            "{}: ragged array (a list of {} where {} were expected at depth {depth})",
            here(idx),
            a.len(),
            shape[depth]
        )));
    }
    for (i, x) in a.iter().enumerate() {
        idx.push(i);
        collect(x, shape, idx, path, out)?;
        idx.pop();
    }
    Ok(())
}

/// Requires an exact shape.
pub fn expect_shape(a: &NumArray, want: &[usize], path: &str) -> Result<(), CliError> {
    if a.shape != want {
        let fmt = |s: &[usize]| {
            s.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("×")
        };
        return Err(CliError::input(format!(
            "{path}: expected shape {}, got {}",
            fmt(want),
            fmt(&a.shape)
        )));
    }
    Ok(())
}

/// Appends values with a given shape as nested JSON lists (a scalar for shape `[]`), each number
/// as `serde_json` writes it (shortest round-trip form; `null` if not finite).
pub fn write_nested(out: &mut Vec<u8>, values: &[f64], shape: &[usize]) {
    match shape {
        [] => write_number(out, values.first().copied().unwrap_or(0.0)),
        [_] => {
            out.push(b'[');
            for (i, &x) in values.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_number(out, x);
            }
            out.push(b']');
        }
        [n, rest @ ..] => {
            let per: usize = rest.iter().product();
            out.push(b'[');
            for i in 0..*n {
                if i > 0 {
                    out.push(b',');
                }
                write_nested(out, &values[i * per..(i + 1) * per], rest);
            }
            out.push(b']');
        }
    }
}

/// Appends one number as `serde_json` writes it.
pub fn write_number(out: &mut Vec<u8>, x: f64) {
    serde_json::to_writer(&mut *out, &x).expect("internal: writing to a Vec cannot fail");
}

/// Appends a string as a JSON string literal.
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("internal: writing to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    /// The value tree `neurodyn grad` used to build for its output: the reference for
    /// [`super::write_nested`].
    fn nest(values: &[f64], shape: &[usize]) -> serde_json::Value {
        match shape {
            [] => serde_json::Value::from(values.first().copied().unwrap_or(0.0)),
            [_] => serde_json::Value::from(values.to_vec()),
            [n, rest @ ..] => {
                let per: usize = rest.iter().product();
                serde_json::Value::Array(
                    (0..*n)
                        .map(|i| nest(&values[i * per..(i + 1) * per], rest))
                        .collect(),
                )
            }
        }
    }

    #[test]
    fn case_numbers_are_read_exactly() {
        // serde_json's default float parsing is best effort: 819 of the 6871 decimals of the
        // peer generator's N = 32 gnode case came out one ulp off (these three among them), which
        // moved gradients by up to 1.5e-11 relative. Cases are now read by `json_text`, whose
        // numbers go through `str::parse::<f64>` (correctly rounded).
        for s in [
            "0.10110509403595881",
            "-0.43833862321526285",
            "-0.09184898024865523",
        ] {
            let v = super::super::json_text::parse(&format!("[{s}]")).unwrap();
            let got = super::array(&v, "x").unwrap().values[0];
            let exact: f64 = s.parse().unwrap();
            assert_eq!(
                got.to_bits(),
                exact.to_bits(),
                "{s}: read {got:e}, exact {exact:e}"
            );
        }
    }

    #[test]
    fn written_output_equals_the_value_tree_serialised() {
        let vals: Vec<f64> = (0..24)
            .map(|i| match i {
                3 => f64::NAN,
                5 => -0.0,
                7 => 1e-300,
                11 => f64::INFINITY,
                _ => (i as f64 - 7.3) * 0.1234567890123,
            })
            .collect();
        for shape in [
            vec![],
            vec![24],
            vec![4, 6],
            vec![2, 3, 4],
            vec![1, 24],
            vec![24, 1],
        ] {
            let mut out = Vec::new();
            super::write_nested(&mut out, &vals, &shape);
            let want = serde_json::to_string(&nest(&vals, &shape)).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "shape {shape:?}");
        }
        let mut out = Vec::new();
        super::write_string(&mut out, "flow.0.W \"quoted\"");
        assert_eq!(String::from_utf8(out).unwrap(), r#""flow.0.W \"quoted\"""#);
    }
}
