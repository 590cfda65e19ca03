//! Every tape op: an f64 finite-difference gradient check over random shapes (1×1 and sizes
//! that are not multiples of the SIMD width included), relative error ≤ 1e-6.
//!
//! The loss is `Σ w ∘ op(params)` with fixed random weights `w`, so that the output cotangent is
//! not uniform (a seed of all ones would hide transposition and broadcast mistakes).

use crate::common::uniform;
use neurodyn::dense::Unary;
use neurodyn::tape::check::{GradCheckOptions, gradcheck};
use neurodyn::tape::{ParamStore, Tape, Var};
use proptest::prelude::*;

/// Builds params of the given shapes and value ranges, runs gradcheck on `Σ w ∘ build(params)`.
fn check_op(
    name: &str,
    shapes: &[(usize, usize, f64, f64)],
    seed: u64,
    build: impl Fn(&mut Tape<f64>, &[Var]) -> Var,
) {
    let mut store = ParamStore::<f64>::new();
    let ids: Vec<_> = shapes
        .iter()
        .enumerate()
        .map(|(i, &(r, c, lo, hi))| {
            let v: Vec<f64> = uniform(seed * 31 + i as u64, r * c, lo, hi);
            store.add(&format!("p{i}"), r, c, &v).unwrap()
        })
        .collect();
    let report = gradcheck(
        &store,
        |tape, s| {
            let vars: Vec<Var> = ids.iter().map(|&id| tape.param(s, id)).collect();
            let out = build(tape, &vars);
            let (r, c) = tape.shape(out);
            let w = tape.constant(r, c, &uniform::<f64>(seed + 7, r * c, -1.0, 1.0));
            let y = tape.mul(out, w);
            tape.sum(y)
        },
        &GradCheckOptions::default(),
    );
    assert!(report.passed, "{name} with shapes {shapes:?}: {report}");
}

const R: (f64, f64) = (-2.0, 2.0);

fn sh(r: usize, c: usize, range: (f64, f64)) -> (usize, usize, f64, f64) {
    (r, c, range.0, range.1)
}

/// The four broadcast shapes of a right operand against `r × c`.
fn bshapes(r: usize, c: usize) -> [(usize, usize); 4] {
    [(r, c), (1, c), (r, 1), (1, 1)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn binary_ops_all_broadcasts(r in 1usize..20, c in 1usize..20, seed in 0u64..10_000) {
        for (br, bc) in bshapes(r, c) {
            check_op("add", &[sh(r, c, R), sh(br, bc, R)], seed, |t, v| t.add(v[0], v[1]));
            check_op("sub", &[sh(r, c, R), sh(br, bc, R)], seed, |t, v| t.sub(v[0], v[1]));
            check_op("mul", &[sh(r, c, R), sh(br, bc, R)], seed, |t, v| t.mul(v[0], v[1]));
            check_op("div", &[sh(r, c, R), sh(br, bc, (0.5, 2.0))], seed, |t, v| t.div(v[0], v[1]));
        }
        // the same node on both sides
        check_op("mul self", &[sh(r, c, R)], seed, |t, v| t.mul(v[0], v[0]));
        check_op("div self", &[sh(r, c, (0.5, 2.0))], seed, |t, v| { let s = t.sqrt(v[0]); t.div(s, v[0]) });
    }

    #[test]
    fn scalar_ops(r in 1usize..20, c in 1usize..20, seed in 0u64..10_000) {
        check_op("scale", &[sh(r, c, R)], seed, |t, v| t.scale(v[0], 1.7));
        check_op("neg", &[sh(r, c, R)], seed, |t, v| t.neg(v[0]));
        check_op("add_scalar", &[sh(r, c, R)], seed, |t, v| t.add_scalar(v[0], -0.3));
        check_op("add_scaled", &[sh(r, c, R), sh(r, c, R)], seed, |t, v| t.add_scaled(v[0], v[1], 0.37));
        check_op("gated", &[sh(r, c, R), sh(r, c, R), sh(r, c, R)], seed, |t, v| t.gated(v[0], v[1], v[2], 0.3, 1.7));
        check_op("gated (f = h)", &[sh(r, c, R), sh(r, c, R)], seed, |t, v| t.gated(v[0], v[1], v[1], 1.0, 0.5));
        check_op("gated_tanh", &[sh(r, 2 * c, (-3.0, 3.0)), sh(r, c, R)], seed, |t, v| t.gated_tanh(v[0], v[1], 0.3, 1.7));
        // only one operand wants a gradient: the other is a constant copy
        check_op("gated_tanh (h constant)", &[sh(r, 2 * c, (-3.0, 3.0))], seed, |t, v| {
            let h = t.constant(r, c, &uniform::<f64>(seed + 3, r * c, -2.0, 2.0));
            t.gated_tanh(v[0], h, 1.0, 0.5)
        });
        check_op("gated_tanh (z constant)", &[sh(r, c, R)], seed, |t, v| {
            let z = t.constant(r, 2 * c, &uniform::<f64>(seed + 3, r * 2 * c, -3.0, 3.0));
            t.gated_tanh(z, v[0], 1.0, 0.5)
        });
        // The fused cell: h, W and the addend (per row and broadcast) all differentiated, and
        // with a constant weight or addend.
        let hw = [sh(r, c, R), sh(2 * c, c, (-1.0, 1.0))];
        check_op("gated_tanh_cell", &[hw[0], hw[1], sh(r, 2 * c, R)], seed, |t, v| {
            t.gated_tanh_cell(v[0], v[1], v[2], 0.3, 1.7)
        });
        check_op("gated_tanh_cell (row addend)", &[hw[0], hw[1], sh(1, 2 * c, R)], seed, |t, v| {
            t.gated_tanh_cell(v[0], v[1], v[2], 1.0, 0.5)
        });
        check_op("gated_tanh_cell (W, c constant)", &[hw[0]], seed, |t, v| {
            let w = t.constant(2 * c, c, &uniform::<f64>(seed + 5, 2 * c * c, -1.0, 1.0));
            let z = t.constant(r, 2 * c, &uniform::<f64>(seed + 6, r * 2 * c, -1.0, 1.0));
            t.gated_tanh_cell(v[0], w, z, 0.0, 1.0)
        });
        // The cell at a combination of states (an RK stage state it does not store): terms
        // repeated and scaled, a single scaled term, and with W and the addend constant.
        check_op("gated_tanh_cell_comb", &[hw[0], hw[1], sh(r, 2 * c, R), sh(r, c, R)], seed, |t, v| {
            t.gated_tanh_cell_comb(&[(v[0], 1.0), (v[3], 0.37), (v[0], -0.25)], v[1], v[2], 0.3, 1.7)
        });
        check_op("gated_tanh_cell_comb (one scaled term)", &[hw[0], hw[1], sh(1, 2 * c, R)], seed, |t, v| {
            t.gated_tanh_cell_comb(&[(v[0], -1.5)], v[1], v[2], 1.0, 0.5)
        });
        check_op("gated_tanh_cell_comb (W, c constant)", &[hw[0], sh(r, c, R)], seed, |t, v| {
            let w = t.constant(2 * c, c, &uniform::<f64>(seed + 5, 2 * c * c, -1.0, 1.0));
            let z = t.constant(r, 2 * c, &uniform::<f64>(seed + 6, r * 2 * c, -1.0, 1.0));
            t.gated_tanh_cell_comb(&[(v[0], 1.0), (v[1], 0.5)], w, z, 0.0, 1.0)
        });
        check_op("lin_comb", &[sh(r, c, R), sh(r, c, R), sh(r, c, R)], seed, |t, v| {
            t.lin_comb(&[(v[0], 0.5), (v[1], -1.25), (v[2], 2.0), (v[0], 0.125)])
        });
    }

    #[test]
    fn elementwise_maps(r in 1usize..20, c in 1usize..20, seed in 0u64..10_000) {
        let maps: [(Unary, (f64, f64)); 15] = [
            (Unary::Exp, R), (Unary::Ln, (0.2, 3.0)), (Unary::Ln1p, (-0.5, 3.0)),
            (Unary::Expm1, R), (Unary::Tanh, (-3.0, 3.0)), (Unary::Sigmoid, (-4.0, 4.0)),
            (Unary::Relu, (0.05, 2.0)), (Unary::Softplus, (-4.0, 4.0)), (Unary::Silu, (-4.0, 4.0)),
            (Unary::Square, R), (Unary::Sqrt, (0.2, 3.0)), (Unary::TanhPrime, (-3.0, 3.0)),
            (Unary::SigmoidPrime, (-4.0, 4.0)), (Unary::SiluPrime, (-4.0, 4.0)),
            (Unary::Relu, (-2.0, -0.05)),
        ];
        for (f, range) in maps {
            check_op(&format!("{f:?}"), &[sh(r, c, range)], seed, |t, v| t.map(v[0], f));
        }
        check_op("softplus_prime", &[sh(r, c, (-4.0, 4.0))], seed, |t, v| t.softplus_prime(v[0]));
    }

    #[test]
    fn products(m in 1usize..20, k in 1usize..20, n in 1usize..20, seed in 0u64..10_000) {
        // weight as a leaf: its gradient goes through the deferred segmented GEMM
        check_op("matmul", &[sh(m, k, R), sh(k, n, R)], seed, |t, v| t.matmul(v[0], v[1]));
        check_op("matmul_t", &[sh(m, k, R), sh(n, k, R)], seed, |t, v| t.matmul_t(v[0], v[1]));
        // weight as a computed node: the immediate path
        check_op("matmul (computed b)", &[sh(m, k, R), sh(k, n, R)], seed, |t, v| {
            let b = t.scale(v[1], 1.0);
            t.matmul(v[0], b)
        });
        check_op("matmul_t (computed b)", &[sh(m, k, R), sh(n, k, R)], seed, |t, v| {
            let b = t.tanh(v[1]);
            t.matmul_t(v[0], b)
        });
        // one weight used several times (several deferred segments), and as both operands
        check_op("shared weight", &[sh(m, k, R), sh(k, k, R)], seed, |t, v| {
            let h = t.matmul(v[0], v[1]);
            let h = t.tanh(h);
            let h = t.matmul(h, v[1]);
            let h = t.tanh(h);
            t.matmul_t(h, v[1])
        });
        check_op("x xᵀ", &[sh(m, k, R)], seed, |t, v| t.matmul_t(v[0], v[0]));
        check_op("linear", &[sh(m, k, R), sh(n, k, R), sh(1, n, R)], seed, |t, v| t.linear(v[0], v[1], Some(v[2])));
        check_op("linear (full addend)", &[sh(m, k, R), sh(n, k, R), sh(m, n, R)], seed, |t, v| t.linear(v[0], v[1], Some(v[2])));
        check_op("linear (no bias)", &[sh(m, k, R), sh(n, k, R)], seed, |t, v| t.linear(v[0], v[1], None));
        check_op("linear (computed w)", &[sh(m, k, R), sh(n, k, R), sh(1, n, R)], seed, |t, v| {
            let w = t.tanh(v[1]);
            t.linear(v[0], w, Some(v[2]))
        });
    }

    #[test]
    fn mix_rows(rx in 1usize..12, reps in 1usize..4, k in 1usize..6, n in 1usize..11, seed in 0u64..10_000) {
        // R = reps · Rx rows of weights mix the K blocks of the (shared) rows of x
        check_op("mix_rows", &[sh(reps * rx, k, R), sh(rx, k * n, R)], seed, |t, v| t.mix_rows(v[0], v[1]));
        // weights computed from x's own values (both gradients meet in one node)
        check_op("mix_rows (softmax weights)", &[sh(rx, k, R), sh(rx, k * n, R)], seed, |t, v| {
            let w = t.softmax_rows(v[0]);
            let x = t.tanh(v[1]);
            t.mix_rows(w, x)
        });
    }

    #[test]
    fn reductions_and_rowwise(r in 1usize..20, c in 1usize..20, seed in 0u64..10_000) {
        check_op("sum", &[sh(r, c, R)], seed, |t, v| t.sum(v[0]));
        check_op("mean", &[sh(r, c, R)], seed, |t, v| t.mean(v[0]));
        check_op("row_sums", &[sh(r, c, R)], seed, |t, v| t.row_sums(v[0]));
        check_op("row_means", &[sh(r, c, R)], seed, |t, v| t.row_means(v[0]));
        check_op("col_sums", &[sh(r, c, R)], seed, |t, v| t.col_sums(v[0]));
        check_op("col_means", &[sh(r, c, R)], seed, |t, v| t.col_means(v[0]));
        check_op("logsumexp_rows", &[sh(r, c, (-5.0, 5.0))], seed, |t, v| t.logsumexp_rows(v[0]));
        check_op("softmax_rows", &[sh(r, c, (-5.0, 5.0))], seed, |t, v| t.softmax_rows(v[0]));
        check_op("log_softmax_rows", &[sh(r, c, (-5.0, 5.0))], seed, |t, v| t.log_softmax_rows(v[0]));
    }

    #[test]
    fn data_movement(r in 1usize..20, c in 1usize..20, c2 in 1usize..9, seed in 0u64..10_000) {
        check_op("concat_cols", &[sh(r, c, R), sh(r, c2, R), sh(r, 1, R)], seed, |t, v| t.concat_cols(&[v[0], v[1], v[2], v[0]]));
        check_op("concat_rows", &[sh(r, c, R), sh(c2, c, R)], seed, |t, v| t.concat_rows(&[v[0], v[1], v[0]]));
        let (s, l) = (c / 3, c - c / 3);
        check_op("slice_cols", &[sh(r, c, R)], seed, |t, v| t.slice_cols(v[0], s, l));
        let (s, l) = (r / 2, r - r / 2);
        check_op("slice_rows", &[sh(r, c, R)], seed, |t, v| t.slice_rows(v[0], s, l));
        check_op("transpose", &[sh(r, c, R)], seed, |t, v| t.transpose(v[0]));
        check_op("broadcast_rows", &[sh(1, c, R)], seed, |t, v| t.broadcast_rows(v[0], r));
    }
}

#[test]
fn param_span_gradients_reach_every_part() {
    // Two adjacent parameters read as one 3×3 weight, used twice as `x Wᵀ` (the transposed
    // cache and the deferred weight-gradient GEMM), and once elementwise.
    let mut store = ParamStore::<f64>::new();
    let a = store.add("a", 2, 3, &uniform(1, 6, -1.0, 1.0)).unwrap();
    let b = store.add("b", 1, 3, &uniform(2, 3, -1.0, 1.0)).unwrap();
    let x = uniform::<f64>(3, 4 * 3, -1.0, 1.0);
    let report = gradcheck(
        &store,
        |tape, s| {
            let w = tape.param_span(s, &[a, b], 3, 3);
            let xv = tape.constant(4, 3, &x);
            let y1 = tape.linear(xv, w, None);
            let y2 = tape.linear(y1, w, None);
            let y = tape.tanh(y2);
            let wsq = tape.mul(w, w);
            let l1 = tape.sum(y);
            let l2 = tape.sum(wsq);
            tape.add(l1, l2)
        },
        &GradCheckOptions::default(),
    );
    assert!(report.passed, "{report}");
}

#[test]
#[should_panic(expected = "does not follow")]
fn param_span_rejects_parameters_that_are_not_adjacent() {
    let mut store = ParamStore::<f64>::new();
    let a = store.add("a", 1, 2, &[1.0, 2.0]).unwrap();
    let _ = store.add("between", 1, 1, &[0.0]).unwrap();
    let b = store.add("b", 1, 2, &[3.0, 4.0]).unwrap();
    let mut t = Tape::new();
    let _ = t.param_span(&store, &[a, b], 2, 2);
}
