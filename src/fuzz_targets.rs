//! Fuzz harness bodies, shared by the cargo-fuzz targets in `fuzz/` and by the stable replay test
//! (`tests/it/fuzz_replay.rs`) that runs every corpus file and past crash on each `cargo test`.
//!
//! The data-format harnesses (`npy_bytes`, `npz_bytes`, `csv_bytes`, `ts_bytes`) feed arbitrary
//! bytes to the parsers: each must return `Ok` or `Err`, never panic, and never allocate more
//! than the input can hold; what parses must also survive a write/read round trip.
//!
//! Not part of the supported API.

use crate::tape::Tape;

/// Interprets bytes as a shape-valid tape program on bounded values, then checks that the
/// forward values and every gradient are finite.
///
/// Each op maps its operands back into `[-1, 1]` (through `tanh`) so that a finite program can
/// never overflow; any non-finite value is therefore a bug.
pub fn tape_program(data: &[u8]) {
    let mut it = data.iter().copied();
    let mut next = move || it.next();
    let Some(r) = next() else { return };
    let Some(c) = next() else { return };
    let (rows, cols) = (1 + r as usize % 7, 1 + c as usize % 19);
    let mut tape = Tape::<f64>::new();
    let mut vals = Vec::with_capacity(rows * cols);
    for i in 0..rows * cols {
        let b = next().unwrap_or(i as u8);
        vals.push((b as f64 - 127.5) / 64.0);
    }
    let x0 = tape.variable(rows, cols, &vals);
    let w = tape.variable(cols, cols, &vec![0.1; cols * cols]);
    let mut stack = vec![x0];
    let mut steps = 0;
    while let Some(op) = next() {
        steps += 1;
        if steps > 64 {
            break;
        }
        let a = stack[stack.len() - 1];
        let b = stack[(op as usize / 32) % stack.len()];
        let y = match op % 16 {
            0 => tape.add(a, b),
            1 => tape.sub(a, b),
            2 => tape.mul(a, b),
            3 => {
                let t = tape.tanh(b);
                let d = tape.add_scalar(t, 1.5);
                tape.div(a, d)
            }
            4 => tape.matmul(a, w),
            5 => tape.sigmoid(a),
            6 => tape.softplus(a),
            7 => tape.silu(a),
            8 => tape.square(a),
            9 => tape.exp(a),
            10 => {
                let s = tape.sigmoid(a);
                let s = tape.add_scalar(s, 0.5);
                tape.ln(s)
            }
            11 => {
                let l = tape.logsumexp_rows(a);
                tape.sub(a, l)
            }
            12 => tape.softmax_rows(a),
            13 => {
                let t = tape.transpose(a);
                tape.transpose(t)
            }
            14 => {
                let k = 1 + (op as usize / 16) % cols;
                let s = tape.slice_cols(a, 0, k);
                let rest = tape.slice_cols(a, k, cols - k);
                tape.concat_cols(&[s, rest])
            }
            _ => {
                let p = tape.tanh_prime(a);
                tape.mul(p, b)
            }
        };
        let y = tape.tanh(y);
        stack.push(y);
    }
    let top = stack[stack.len() - 1];
    let loss = tape.mean(top);
    assert!(
        tape.scalar(loss).is_finite(),
        "non-finite loss from finite bounded inputs"
    );
    tape.backward(loss);
    for v in [x0, w] {
        assert!(
            tape.grad(v).iter().all(|g| g.is_finite()),
            "non-finite gradient from a finite program:\n{}",
            tape.dump()
        );
    }
}

/// Parses bytes as an `.npy` file: `Ok` or `Err`, never a panic. A parsed array must
/// re-encode, parse back, and re-encode to the same bytes.
pub fn npy_bytes(data: &[u8]) {
    use crate::io::{npy_to_bytes, parse_npy};
    let Ok(a) = parse_npy(data) else { return };
    let bytes = npy_to_bytes(&a).expect("a parsed array re-encodes");
    let b = parse_npy(&bytes).expect("a re-encoded array parses");
    assert_eq!(
        npy_to_bytes(&b).expect("re-encodes"),
        bytes,
        "npy round trip changed the array"
    );
}

/// Parses bytes as an `.npz` archive; a parsed archive must survive write → read → write.
pub fn npz_bytes(data: &[u8]) {
    use crate::io::{npz_to_bytes, parse_npz};
    let Ok(npz) = parse_npz(data) else { return };
    let pairs: Vec<(&str, &crate::io::Array)> =
        npz.arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
    // Names that cannot be written (empty) are the writer's to refuse, with an error.
    let Ok(bytes) = npz_to_bytes(&pairs) else {
        return;
    };
    let again = parse_npz(&bytes).expect("a written archive parses");
    assert_eq!(again.names(), npz.names());
    let pairs: Vec<(&str, &crate::io::Array)> =
        again.arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
    assert_eq!(
        npz_to_bytes(&pairs).expect("re-encodes"),
        bytes,
        "npz round trip changed it"
    );
}

/// Parses bytes as CSV under several options; a table read with NaN allowed must survive
/// write → read (values compared bit for bit, NaN as NaN).
pub fn csv_bytes(data: &[u8]) {
    use crate::io::{CsvOptions, HeaderMode, csv_to_string, parse_csv};
    let _ = parse_csv(data, &CsvOptions::default());
    let _ = parse_csv(
        data,
        &CsvOptions {
            delimiter: Some(b';'),
            header: HeaderMode::Absent,
            allow_non_finite: false,
        },
    );
    let lax = CsvOptions {
        allow_non_finite: true,
        ..CsvOptions::default()
    };
    let Ok(t) = parse_csv(data, &lax) else { return };
    assert_eq!(t.data.len(), t.rows * t.cols);
    // Column names with line breaks or empty names are the writer's to refuse.
    let Ok(text) = csv_to_string(&t) else { return };
    let header = if t.names.is_some() {
        HeaderMode::Present
    } else {
        HeaderMode::Absent
    };
    let opts = CsvOptions {
        delimiter: Some(b','),
        header,
        allow_non_finite: true,
    };
    let back = parse_csv(text.as_bytes(), &opts).expect("a written table parses");
    assert_eq!(
        (&back.names, back.rows, back.cols),
        (&t.names, t.rows, t.cols)
    );
    for (x, y) in t.data.iter().zip(&back.data) {
        assert!(
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            "{x} became {y}"
        );
    }
}

/// Parses bytes as a UEA `.ts` archive with and without missing values allowed, and checks
/// the dataset's invariants when it parses.
pub fn ts_bytes(data: &[u8]) {
    use crate::io::{TsOptions, parse_ts};
    for allow_missing in [false, true] {
        let Ok(ds) = parse_ts(data, &TsOptions { allow_missing }) else {
            continue;
        };
        assert!(ds.dims > 0 && !ds.is_empty());
        for s in &ds.series {
            assert!(!s.is_empty() && s.len() % ds.dims == 0);
        }
        assert!(ds.labels.is_empty() || ds.labels.len() == ds.len());
        assert!(ds.targets.is_empty() || ds.targets.len() == ds.len());
        assert!(ds.labels.iter().all(|&l| l < ds.class_names.len()));
    }
}

/// Parses arbitrary bytes as a `neurodyn grad` case; a case that parses is evaluated (loss and
/// gradient) when small. Must return, never panic or hang.
#[cfg(feature = "cli")]
pub fn case_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(case) = crate::cli::grad_case(text) else {
        return;
    };
    if case.store().len() > 10_000 {
        return;
    }
    let mut tape = crate::tape::Tape::new();
    if let Ok(l) = case.loss(&mut tape, case.store()) {
        let v = tape.scalar(l);
        if v.is_finite() {
            tape.backward(l);
        }
    }
}

/// Parses arbitrary bytes as a `neurodyn sweep` spec, as TOML and as JSON, and expands it (every
/// run's command line checked by the `train` parser). Must return, never panic or hang (a spec
/// is refused beyond 10 000 runs).
#[cfg(feature = "cli")]
pub fn sweep_spec(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::cli::sweep_spec(text, false);
    let _ = crate::cli::sweep_spec(text, true);
}
