//! Reading the JSON of a case with errors that name the offending field.

use super::super::CliError;
use serde_json::Value;

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
    let mut shape = Vec::new();
    let mut cur = v;
    while let Some(a) = cur.as_array() {
        shape.push(a.len());
        match a.first() {
            Some(first) => cur = first,
            None => break,
        }
    }
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

/// Writes values with a given shape as nested JSON lists.
pub fn nest(values: &[f64], shape: &[usize]) -> Value {
    match shape {
        [] => Value::from(values.first().copied().unwrap_or(0.0)),
        [_] => Value::from(values.to_vec()),
        [n, rest @ ..] => {
            let per: usize = rest.iter().product();
            Value::Array(
                (0..*n)
                    .map(|i| nest(&values[i * per..(i + 1) * per], rest))
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn case_numbers_are_read_exactly() {
        // serde_json's default float parsing is best effort: 819 of the 6871 decimals of the
        // peer generator's N = 32 gnode case came out one ulp off (these three among them), which
        // moved gradients by up to 1.5e-11 relative. Cargo.toml turns on `float_roundtrip`.
        for s in [
            "0.10110509403595881",
            "-0.43833862321526285",
            "-0.09184898024865523",
        ] {
            let v: serde_json::Value = serde_json::from_str(&format!("[{s}]")).unwrap();
            let got = super::array(&v, "x").unwrap().values[0];
            let exact: f64 = s.parse().unwrap();
            assert_eq!(
                got.to_bits(),
                exact.to_bits(),
                "{s}: read {got:e}, exact {exact:e}"
            );
        }
    }
}
