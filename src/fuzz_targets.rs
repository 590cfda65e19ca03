//! Fuzz harness bodies, shared by the cargo-fuzz targets in `fuzz/` and by the stable replay test
//! (`tests/it/fuzz_replay.rs`) that runs every corpus file and past crash on each `cargo test`.
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
