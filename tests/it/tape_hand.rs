//! Hand-derived gradients of every op (closed forms written out in the comments), in f32 and
//! f64, plus the tape's mechanics: clear/mark/rewind, detach, VJPs, and its panics.

use crate::for_each_float;
use neurodyn::Float;
use neurodyn::tape::{Grads, ParamStore, Tape, Var};

fn close<T: Float>(got: &[T], want: &[f64]) {
    let tol = if T::NAME == "f32" { 2e-6 } else { 1e-14 };
    assert_eq!(got.len(), want.len(), "length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let g = g.to_f64();
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "[{}] element {i}: got {g}, want {w}",
            T::NAME
        );
    }
}

fn f<T: Float>(x: f64) -> T {
    T::from_f64(x)
}

#[test]
fn arithmetic_by_hand() {
    for_each_float!(T => {
        let mut t = Tape::<T>::new();
        let a = t.variable(2, 2, &[f(1.0), f(2.0), f(3.0), f(4.0)]);
        let b = t.variable(1, 2, &[f(0.5), f(-2.0)]);
        // L = Σ (a + b) ∘ a  ⇒  dL/da = 2a + b (b broadcast), dL/db_j = Σ_i a_ij
        let s = t.add(a, b);
        let p = t.mul(s, a);
        let l = t.sum(p);
        t.backward(l);
        close(t.grad(a), &[2.5, 2.0, 6.5, 6.0]);
        close(t.grad(b), &[4.0, 6.0]);

        // L = Σ a / c with c a column (2×1): dL/da_ij = 1/c_i, dL/dc_i = −Σ_j a_ij / c_i²
        t.clear();
        let a = t.variable(2, 2, &[f(1.0), f(2.0), f(3.0), f(4.0)]);
        let c = t.variable(2, 1, &[f(2.0), f(4.0)]);
        let q = t.div(a, c);
        let l = t.sum(q);
        t.backward(l);
        close(t.grad(a), &[0.5, 0.5, 0.25, 0.25]);
        close(t.grad(c), &[-0.75, -7.0 / 16.0]);

        // L = Σ (a − s)² with scalar s: dL/da = 2(a − s), dL/ds = −2 Σ (a − s)
        t.clear();
        let a = t.variable(1, 3, &[f(1.0), f(2.0), f(4.0)]);
        let s = t.variable(1, 1, &[f(1.5)]);
        let d = t.sub(a, s);
        let q = t.square(d);
        let l = t.sum(q);
        t.backward(l);
        close(t.grad(a), &[-1.0, 1.0, 5.0]);
        close(t.grad(s), &[-5.0]);

        // L = mean(3a + 1 − 2·b + 0.5·a): d/da = 3.5/n, d/db = −2/n (lin_comb, add_scalar, scale)
        t.clear();
        let a = t.variable(1, 4, &[f(1.0), f(-1.0), f(2.0), f(0.0)]);
        let b = t.variable(1, 4, &[f(3.0); 4]);
        let a3 = t.scale(a, f(3.0));
        let a3 = t.add_scalar(a3, f(1.0));
        let lc = t.lin_comb(&[(a3, f(1.0)), (b, f(-2.0)), (a, f(0.5))]);
        let l = t.mean(lc);
        t.backward(l);
        close(t.grad(a), &[0.875; 4]);
        close(t.grad(b), &[-0.5; 4]);
        // gated: y = a·h + b·σ(z)(f − h) with z = 0 (σ = ½, σ′ = ¼), f = 3, h = 1, a = 1, b = 2:
        // y = 1 + 2·½·2 = 3;  ∂z = b (f − h) σ′ = 1;  ∂f = b σ = 1;  ∂h = a − b σ = 0
        t.clear();
        let z = t.variable(1, 1, &[f(0.0)]);
        let fv = t.variable(1, 1, &[f(3.0)]);
        let hv = t.variable(1, 1, &[f(1.0)]);
        let y = t.gated(z, fv, hv, f(1.0), f(2.0));
        close(t.value(y), &[3.0]);
        t.backward(y);
        close(t.grad(z), &[1.0]);
        close(t.grad(fv), &[1.0]);
        close(t.grad(hv), &[0.0]);
        // mix_rows: two weight rows (R = 2) share one row of x with K = 2 blocks of N = 2:
        // y_0 = 1·(1, 2) + 0·(5, 6) = (1, 2),  y_1 = ¼·(1, 2) + ¾·(5, 6) = (4, 5).
        // L = Σ c ∘ y with c = [[1, 2], [3, 4]]:
        // ∂w_rk = c_r · x_k:  w_0 = (1 + 4, 5 + 12) = (5, 17),  w_1 = (3 + 8, 15 + 24) = (11, 39)
        // ∂x_k = Σ_r w_rk c_r:  x_0 = 1·(1, 2) + ¼·(3, 4) = (1.75, 3),  x_1 = 0 + ¾·(3, 4) = (2.25, 3)
        t.clear();
        let w = t.variable(2, 2, &[f(1.0), f(0.0), f(0.25), f(0.75)]);
        let x = t.variable(1, 4, &[f(1.0), f(2.0), f(5.0), f(6.0)]);
        let y = t.mix_rows(w, x);
        close(t.value(y), &[1.0, 2.0, 4.0, 5.0]);
        let c = t.constant(2, 2, &[f(1.0), f(2.0), f(3.0), f(4.0)]);
        let yc = t.mul(y, c);
        let l = t.sum(yc);
        t.backward(l);
        close(t.grad(w), &[5.0, 17.0, 11.0, 39.0]);
        close(t.grad(x), &[1.75, 3.0, 2.25, 3.0]);
        // add_scaled: y = a + 0.25 b ⇒ dy/da = 1, dy/db = 0.25
        t.clear();
        let a = t.variable(1, 2, &[f(1.0), f(2.0)]);
        let b = t.variable(1, 2, &[f(3.0), f(4.0)]);
        let y = t.add_scaled(a, b, f(0.25));
        close(t.value(y), &[1.75, 3.0]);
        let l = t.sum(y);
        t.backward(l);
        close(t.grad(a), &[1.0, 1.0]);
        close(t.grad(b), &[0.25, 0.25]);
    });
}

#[test]
fn maps_by_hand() {
    for_each_float!(T => {
        let xs = [-1.5_f64, 0.0, 0.7];
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        type Derivative = Box<dyn Fn(f64) -> f64>;
        let cases: Vec<(&str, Derivative)> = vec![
            ("exp", Box::new(|x: f64| x.exp())),                        // (e^x)' = e^x
            ("tanh", Box::new(|x: f64| 1.0 - x.tanh().powi(2))),        // 1 − tanh²
            ("sigmoid", Box::new(move |x| sig(x) * (1.0 - sig(x)))),    // σ(1 − σ)
            ("softplus", Box::new(sig)),                 // σ
            ("silu", Box::new(move |x| sig(x) * (1.0 + x * (1.0 - sig(x))))),
            ("square", Box::new(|x: f64| 2.0 * x)),
            ("ln_1p", Box::new(|x: f64| 1.0 / (1.0 + x))),             // (ln(1+x))' = 1/(1+x)
            ("expm1", Box::new(|x: f64| x.exp())),                      // (e^x − 1)' = e^x
            // (1 − tanh²)' = −2 tanh (1 − tanh²)
            ("tanh_prime", Box::new(|x: f64| -2.0 * x.tanh() * (1.0 - x.tanh().powi(2)))),
            // (σ(1−σ))' = σ(1−σ)(1−2σ)
            ("sigmoid_prime", Box::new(move |x| sig(x) * (1.0 - sig(x)) * (1.0 - 2.0 * sig(x)))),
            // silu″ = σ′ (2 + x (1 − 2σ))
            ("silu_prime", Box::new(move |x| sig(x) * (1.0 - sig(x)) * (2.0 + x * (1.0 - 2.0 * sig(x))))),
        ];
        for (name, d) in &cases {
            let mut t = Tape::<T>::new();
            let x = t.variable(1, 3, &xs.map(f::<T>));
            let y = match *name {
                "exp" => t.exp(x),
                "tanh" => t.tanh(x),
                "sigmoid" => t.sigmoid(x),
                "softplus" => t.softplus(x),
                "silu" => t.silu(x),
                "square" => t.square(x),
                "ln_1p" => t.map(x, neurodyn::dense::Unary::Ln1p),
                "expm1" => t.map(x, neurodyn::dense::Unary::Expm1),
                "tanh_prime" => t.tanh_prime(x),
                "sigmoid_prime" => t.sigmoid_prime(x),
                _ => t.silu_prime(x),
            };
            let l = t.sum(y);
            t.backward(l);
            let want: Vec<f64> = xs.iter().map(|&x| d(x)).collect();
            close(t.grad(x), &want);
        }
        // ln, sqrt, relu on positive/negative inputs: 1/x, 1/(2√x), 1[x>0]
        let mut t = Tape::<T>::new();
        let x = t.variable(1, 2, &[f(0.25), f(4.0)]);
        let (a, b) = (t.ln(x), t.sqrt(x));
        let s = t.add(a, b);
        let l = t.sum(s);
        t.backward(l);
        close(t.grad(x), &[4.0 + 1.0, 0.25 + 0.25]);
        t.clear();
        let x = t.variable(1, 2, &[f(-0.5), f(3.0)]);
        let r = t.relu(x);
        let l = t.sum(r);
        t.backward(l);
        close(t.grad(x), &[0.0, 1.0]);
    });
}

#[test]
fn products_and_reductions_by_hand() {
    for_each_float!(T => {
        // Y = A B with A 1×2, B 2×2: dΣY/dA_k = Σ_j B_kj, dΣY/dB_kj = A_k
        let mut t = Tape::<T>::new();
        let a = t.variable(1, 2, &[f(1.0), f(2.0)]);
        let b = t.variable(2, 2, &[f(1.0), f(2.0), f(3.0), f(4.0)]);
        let y = t.matmul(a, b);
        close(t.value(y), &[7.0, 10.0]);
        let l = t.sum(y);
        t.backward(l);
        close(t.grad(a), &[3.0, 7.0]);
        close(t.grad(b), &[1.0, 1.0, 2.0, 2.0]);
        // Y = A Wᵀ: dΣY/dA_k = Σ_o W_ok, dΣY/dW_ok = Σ_b A_bk
        t.clear();
        let a = t.variable(2, 2, &[f(1.0), f(2.0), f(3.0), f(4.0)]);
        let w = t.variable(3, 2, &[f(1.0), f(0.0), f(0.0), f(1.0), f(1.0), f(1.0)]);
        let y = t.matmul_t(a, w);
        close(t.value(y), &[1.0, 2.0, 3.0, 3.0, 4.0, 7.0]);
        let l = t.sum(y);
        t.backward(l);
        close(t.grad(a), &[2.0, 2.0, 2.0, 2.0]);
        close(t.grad(w), &[4.0, 6.0, 4.0, 6.0, 4.0, 6.0]);
        // row/col sums and means: L = Σ_i i·rowsum_i + Σ_j j·colmean_j
        t.clear();
        let x = t.variable(2, 3, &[f(1.0); 6]);
        let rs = t.row_sums(x);
        let cm = t.col_means(x);
        let wr = t.constant(2, 1, &[f(1.0), f(2.0)]);
        let wc = t.constant(1, 3, &[f(0.0), f(2.0), f(4.0)]);
        let a = t.mul(rs, wr);
        let b = t.mul(cm, wc);
        let (a, b) = (t.sum(a), t.sum(b));
        let l = t.add(a, b);
        t.backward(l);
        close(t.grad(x), &[1.0, 2.0, 3.0, 2.0, 3.0, 4.0]);
        // logsumexp: d/dx_j = softmax_j;   softmax: Σ_j softmax_j = 1 ⇒ zero gradient of its sum
        t.clear();
        let x = t.variable(1, 2, &[f(0.0), f(2.0f64.ln())]);
        let l = t.logsumexp_rows(x);
        close(t.value(l), &[3.0f64.ln()]);
        let l = t.sum(l);
        t.backward(l);
        close(t.grad(x), &[1.0 / 3.0, 2.0 / 3.0]);
        t.clear();
        let x = t.variable(1, 3, &[f(0.1), f(0.2), f(-0.3)]);
        let s = t.softmax_rows(x);
        let l = t.sum(s);
        t.backward(l);
        close(t.grad(x), &[0.0, 0.0, 0.0]);
        // log_softmax: d Σ_j w_j ls_j / dx_k = w_k − softmax_k Σ w
        t.clear();
        let x = t.variable(1, 2, &[f(0.0), f(0.0)]);
        let ls = t.log_softmax_rows(x);
        let w = t.constant(1, 2, &[f(1.0), f(3.0)]);
        let p = t.mul(ls, w);
        let l = t.sum(p);
        t.backward(l);
        close(t.grad(x), &[1.0 - 2.0, 3.0 - 2.0]);
    });
}

#[test]
fn data_movement_by_hand() {
    for_each_float!(T => {
        let mut t = Tape::<T>::new();
        let a = t.variable(2, 1, &[f(1.0), f(2.0)]);
        let b = t.variable(2, 2, &[f(3.0), f(4.0), f(5.0), f(6.0)]);
        let c = t.concat_cols(&[a, b]);
        close(t.value(c), &[1.0, 3.0, 4.0, 2.0, 5.0, 6.0]);
        let s = t.slice_cols(c, 1, 2); // = b
        let tr = t.transpose(s);       // bᵀ
        close(t.value(tr), &[3.0, 5.0, 4.0, 6.0]);
        let w = t.constant(2, 2, &[f(1.0), f(2.0), f(3.0), f(4.0)]);
        let p = t.mul(tr, w);          // Σ bᵀ ∘ w ⇒ d/db = wᵀ
        let l = t.sum(p);
        t.backward(l);
        close(t.grad(b), &[1.0, 3.0, 2.0, 4.0]);
        close(t.grad(a), &[0.0, 0.0]);
        t.clear();
        let h0 = t.variable(1, 2, &[f(1.0), f(-1.0)]);
        let hb = t.broadcast_rows(h0, 3);
        let r = t.concat_rows(&[hb, h0]);
        let r = t.slice_rows(r, 1, 3);  // rows 1, 2 of hb and h0
        let l = t.sum(r);
        t.backward(l);
        close(t.grad(h0), &[3.0, 3.0]);
    });
}

#[test]
fn detach_blocks_gradient_and_vjp_matches_jacobian() {
    let mut t = Tape::<f64>::new();
    let x = t.variable(1, 2, &[1.0, 2.0]);
    let d = t.detach(x);
    let y = t.mul(d, x); // y = stop(x) ∘ x ⇒ dy/dx = stop(x)
    let l = t.sum(y);
    t.backward(l);
    assert_eq!(t.grad(x), &[1.0, 2.0]);
    // VJP of y = W x (1 × 2 → 1 × 3): seed u gives uᵀ W
    t.clear();
    let x = t.variable(1, 2, &[0.3, -0.7]);
    let w = t.constant(3, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let y = t.matmul_t(x, w);
    t.backward_seeded(y, &[1.0, 0.0, -1.0]);
    assert_eq!(t.grad(x), &[1.0 - 5.0, 2.0 - 6.0]);
}

#[test]
fn clear_mark_rewind_and_params() {
    let mut store = ParamStore::<f64>::new();
    let w = store.add("w", 1, 2, &[2.0, 3.0]).unwrap();
    let mut t = Tape::<f64>::new();
    let p = t.param(&store, w);
    let m = t.mark();
    let n_before = t.len();
    // a scratch computation, rewound
    let s = t.square(p);
    let _ = t.sum(s);
    t.rewind(m);
    assert_eq!(t.len(), n_before);
    let y = t.mul(p, p);
    let y2 = t.scale(p, 10.0);
    let s = t.add(y, y2);
    let l = t.sum(s);
    t.backward(l);
    let mut g: Grads<f64> = store.zeros_like();
    t.accumulate_param_grads(&mut g);
    assert_eq!(g.get(&store, w), &[2.0 * 2.0 + 10.0, 2.0 * 3.0 + 10.0]);
    let cap = t.num_values();
    t.clear();
    assert!(t.is_empty() && t.num_values() == 0 && cap > 0);
}

#[test]
#[should_panic(expected = "matmul: shapes 2×3 and 2×3 do not multiply")]
fn shape_mismatch_names_op_and_shapes() {
    let mut t = Tape::<f64>::new();
    let a = t.constant(2, 3, &[0.0; 6]);
    let _ = t.matmul(a, a);
}

#[test]
#[should_panic(expected = "add: shapes 2×3 and 3×2 do not broadcast")]
fn broadcast_mismatch_panics() {
    let mut t = Tape::<f32>::new();
    let a = t.constant(2, 3, &[0.0; 6]);
    let b = t.constant(3, 2, &[0.0; 6]);
    let _ = t.add(a, b);
}

#[test]
#[should_panic(expected = "does not belong to this tape")]
fn foreign_var_panics() {
    let mut t1 = Tape::<f64>::new();
    let mut t2 = Tape::<f64>::new();
    let a = t1.constant(1, 1, &[1.0]);
    let _ = t2.constant(1, 1, &[1.0]);
    let _ = t2.exp(a);
}

#[test]
#[should_panic(expected = "does not belong to this tape")]
fn var_from_before_clear_panics() {
    let mut t = Tape::<f64>::new();
    let a = t.constant(1, 1, &[1.0]);
    t.clear();
    let _ = t.constant(1, 1, &[1.0]);
    let _ = t.exp(a);
}

#[test]
fn param_store_rejects_bad_input() {
    let mut s = ParamStore::<f64>::new();
    s.add("a", 1, 2, &[1.0, 2.0]).unwrap();
    assert!(
        s.add("a", 1, 1, &[0.0])
            .unwrap_err()
            .to_string()
            .contains("already exists")
    );
    assert!(
        s.add("b", 2, 2, &[0.0])
            .unwrap_err()
            .to_string()
            .contains("1 values for a 2×2")
    );
    assert!(
        s.add("c", 1, 1, &[f64::NAN])
            .unwrap_err()
            .to_string()
            .contains("not finite")
    );
}

#[test]
fn a_second_backward_pass_sees_no_stale_gradients() {
    // Gradients are zeroed on a node's first contribution only: a node upstream of the first
    // root but not of the second must read zero after the second pass, and nodes that received
    // nothing must read zero too (intermediate gradients kept, to read them).
    let mut t = Tape::<f64>::new();
    t.set_keep_grads(true);
    let x = t.variable(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let p = t.scale(x, 2.0);
    let s1 = t.sum(p);
    let q = t.scale(x, 3.0);
    let s2 = t.sum(q);
    t.backward(s1);
    assert_eq!(t.grad(p), &[1.0; 6]);
    assert_eq!(t.grad(x), &[2.0; 6]);
    t.backward(s2);
    assert_eq!(t.grad(p), &[0.0; 6], "p is not upstream of s2");
    assert_eq!(t.grad(s1), &[0.0], "s1 is not upstream of s2");
    assert_eq!(t.grad(q), &[1.0; 6]);
    assert_eq!(t.grad(x), &[3.0; 6]);
}

#[test]
fn intermediate_gradients_are_recycled_unless_kept() {
    // y = tanh(x W + b) summed: the same leaf gradients whether or not the intermediate ones
    // are kept; an intermediate one reads only when kept or retained, and is else a clear panic.
    let run = |keep: bool, retain: bool| {
        let mut t = Tape::<f64>::new();
        t.set_keep_grads(keep);
        let x = t.variable(3, 2, &[0.1, -0.4, 0.7, 0.2, -0.3, 0.5]);
        let w = t.variable(2, 4, &[0.3, -0.2, 0.5, 0.1, -0.6, 0.4, 0.2, -0.1]);
        let z = t.matmul(x, w);
        let y = t.tanh(z);
        if retain {
            t.retain_grad(z);
        }
        let l = t.sum(y);
        t.backward(l);
        let zg = (keep || retain).then(|| t.grad(z).to_vec());
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.grad(y).to_vec()));
        (t.grad(x).to_vec(), t.grad(w).to_vec(), zg, read)
    };
    let (gx, gw, _, read) = run(false, false);
    let msg = read.expect_err("an intermediate gradient read without keeping it");
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("set_keep_grads"), "unclear message: {msg}");
    let (kx, kw, kz, ky) = run(true, false);
    let (rx, rw, rz, _) = run(false, true);
    assert_eq!(
        (&gx, &gw),
        (&kx, &kw),
        "keeping gradients changed the leaves'"
    );
    assert_eq!((&gx, &gw), (&rx, &rw), "retaining one changed the leaves'");
    assert_eq!(kz, rz, "the retained gradient differs from the kept one");
    let kz = kz.expect("kept");
    let ky = ky.expect("kept gradients read");
    assert!(ky.iter().all(|&v| v == 1.0), "∂l/∂y = 1, got {ky:?}");
    assert!(
        kz.iter().all(|&v| v > 0.0 && v <= 1.0),
        "∂l/∂z = 1 − tanh², got {kz:?}"
    );
}

/// The fused cell against its two-node form: the same values and gradients to the bit, for
/// shapes around the SIMD widths, an addend per row or broadcast, and with gradients disabled.
#[test]
fn fused_cell_equals_product_then_cell() {
    for_each_float!(T => {
        for (rows, n) in [(2, 1), (3, 7), (5, 16), (4, 33), (32, 24), (32, 128)] {
            for row_addend in [false, true] {
                let cr = if row_addend { 1 } else { rows };
                let vals = |seed: u64, len: usize, s: f64| -> Vec<T> {
                    crate::common::uniform::<f64>(seed, len, -s, s)
                        .into_iter()
                        .map(T::from_f64)
                        .collect()
                };
                let (hv, wv, cv) = (vals(1, rows * n, 2.0), vals(2, 2 * n * n, 0.8), vals(3, cr * 2 * n, 1.5));
                let seed = vals(4, rows * n, 1.0);
                let (a, b) = (T::from_f64(0.25), T::from_f64(1.5));
                let run = |fused: bool, grad: bool| {
                    let mut t = Tape::<T>::new();
                    t.set_grad_enabled(grad);
                    let h = t.variable(rows, n, &hv);
                    let w = t.variable(2 * n, n, &wv);
                    let c = t.variable(cr, 2 * n, &cv);
                    let y = if fused {
                        t.gated_tanh_cell(h, w, c, a, b)
                    } else {
                        let z = t.linear(h, w, Some(c));
                        t.gated_tanh(z, h, a, b)
                    };
                    let value = t.value(y).to_vec();
                    if !grad {
                        return (value, vec![]);
                    }
                    t.backward_seeded(y, &seed);
                    let g = [h, w, c].iter().flat_map(|&v| t.grad(v).to_vec()).collect();
                    (value, g)
                };
                for grad in [true, false] {
                    let (fused, plain) = (run(true, grad), run(false, grad));
                    let what = format!("{} {rows}×{n} row addend {row_addend} grad {grad}", T::NAME);
                    let bits = |v: &[T]| v.iter().map(|x| x.to_f64().to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&fused.0), bits(&plain.0), "values differ: {what}");
                    assert_eq!(bits(&fused.1), bits(&plain.1), "gradients differ: {what}");
                }
            }
        }
    });
}

/// The cell at a combination of states against `lin_comb` then the cell: the same values and
/// gradients to the bit (one term, scaled terms, a term twice; per-row and broadcast addends;
/// with and without gradients), and the combination is not stored. Then RK4-shaped chains
/// (stages at `y + c k`, steps `y + Σ b_i k_i`) sharing one weight, long enough that the
/// deferred weight products (their left operands read from nodes and from the cells'
/// buffers, mixed) are summed in early flushes: the same bits as the two-node chain.
#[test]
fn cell_at_combination_equals_lin_comb_then_cell() {
    for_each_float!(T => {
        let vals = |seed: u64, len: usize, s: f64| -> Vec<T> {
            crate::common::uniform::<f64>(seed, len, -s, s)
                .into_iter()
                .map(T::from_f64)
                .collect()
        };
        let bits = |v: &[T]| v.iter().map(|x| x.to_f64().to_bits()).collect::<Vec<_>>();
        let cs = |c: &[f64]| c.iter().map(|&c| T::from_f64(c)).collect::<Vec<_>>();
        let combos: [&[f64]; 4] = [&[1.0], &[-1.5], &[1.0, 0.37], &[1.0, 0.5, -0.25]];
        for (rows, n) in [(2, 1), (3, 7), (5, 16), (4, 33), (32, 24)] {
            for row_addend in [false, true] {
                for coefs in combos {
                    let cr = if row_addend { 1 } else { rows };
                    let xs: Vec<Vec<T>> = (0..coefs.len()).map(|i| vals(10 + i as u64, rows * n, 2.0)).collect();
                    let (wv, cv) = (vals(2, 2 * n * n, 0.8), vals(3, cr * 2 * n, 1.5));
                    let seed = vals(4, rows * n, 1.0);
                    let (a, b) = (T::from_f64(0.25), T::from_f64(1.5));
                    let run = |fused: bool, grad: bool| {
                        let mut t = Tape::<T>::new();
                        t.set_grad_enabled(grad);
                        let x: Vec<Var> = xs.iter().map(|v| t.variable(rows, n, v)).collect();
                        let w = t.variable(2 * n, n, &wv);
                        let c = t.variable(cr, 2 * n, &cv);
                        // the last term repeats the first (a node used twice in one state)
                        let mut terms: Vec<(Var, T)> = x.iter().copied().zip(cs(coefs)).collect();
                        if terms.len() == 3 {
                            terms[2].0 = x[0];
                        }
                        let before = t.num_values();
                        let y = if fused {
                            t.gated_tanh_cell_comb(&terms, w, c, a, b)
                        } else {
                            let h = t.lin_comb(&terms);
                            t.gated_tanh_cell(h, w, c, a, b)
                        };
                        let stored = t.num_values() - before;
                        let value = t.value(y).to_vec();
                        if !grad {
                            return (value, vec![], stored);
                        }
                        t.backward_seeded(y, &seed);
                        let g = x.iter().chain([&w, &c]).flat_map(|&v| t.grad(v).to_vec()).collect();
                        (value, g, stored)
                    };
                    for grad in [true, false] {
                        let (fused, plain) = (run(true, grad), run(false, grad));
                        let what = format!("{} {rows}×{n} {coefs:?} row addend {row_addend} grad {grad}", T::NAME);
                        assert_eq!(bits(&fused.0), bits(&plain.0), "values differ: {what}");
                        assert_eq!(bits(&fused.1), bits(&plain.1), "gradients differ: {what}");
                        // the combination is not stored
                        assert_eq!(fused.2 + rows * n, plain.2, "stored values: {what}");
                    }
                }
            }
        }
        // RK4-shaped chains sharing W: 64 × 256 gradients per queued product, so queues flush
        // early by bytes; with 6 steps (24 products) also by count.
        let (rows, n) = (64, 128);
        let wv: Vec<T> = crate::common::uniform::<T>(2, 2 * n * n, -0.1, 0.1);
        let (cv, hv) = (vals(3, 2 * n, 1.0), vals(4, rows * n, 1.0));
        let run = |fused: bool| {
            let mut t = Tape::<T>::new();
            let w = t.variable(2 * n, n, &wv);
            let c = t.variable(1, 2 * n, &cv);
            let y0 = t.variable(rows, n, &hv);
            let (mut y, h) = (y0, T::from_f64(0.1));
            let half = h * T::from_f64(0.5);
            for _ in 0..6 {
                let stage = |t: &mut Tape<T>, terms: &[(Var, T)]| {
                    if fused || terms.len() == 1 {
                        t.gated_tanh_cell_comb(terms, w, c, T::ZERO, T::ONE)
                    } else {
                        let s = t.lin_comb(terms);
                        t.gated_tanh_cell(s, w, c, T::ZERO, T::ONE)
                    }
                };
                let k1 = stage(&mut t, &[(y, T::ONE)]);
                let k2 = stage(&mut t, &[(y, T::ONE), (k1, half)]);
                let k3 = stage(&mut t, &[(y, T::ONE), (k2, half)]);
                let k4 = stage(&mut t, &[(y, T::ONE), (k3, h)]);
                let (b1, b2) = (h / T::from_f64(6.0), h / T::from_f64(3.0));
                y = t.lin_comb(&[(y, T::ONE), (k1, b1), (k2, b2), (k3, b2), (k4, b1)]);
            }
            let l = t.sum(y);
            t.backward(l);
            [w, c, y0].iter().flat_map(|&v| bits(t.grad(v))).collect::<Vec<_>>()
        };
        assert_eq!(run(true), run(false), "[{}] RK4 chain: gradients differ", T::NAME);
    });
}

/// A leaf weight used by many large products: its gradient is summed in early flushes (by
/// count, and by the bytes of gradient held: a 64 × 256 product holds 128 KiB in f64) and
/// must equal the plain sum `Σ_u R_uᵀ x_u` of `L = Σ_u ⟨R_u, x_u Wᵀ⟩`; the fused cell, whose
/// queued gradient is `rows × 2n`, must flush when its two-node form does (the same bits).
#[test]
fn weight_gradients_summed_in_early_flushes() {
    for_each_float!(T => {
        let (rows, k, n_out) = (64, 64, 256);
        let vals = |seed: u64, len: usize| crate::common::uniform::<T>(seed, len, -1.0, 1.0);
        for uses in [3, 6, 20] {
            let xs: Vec<Vec<T>> = (0..uses).map(|u| vals(10 + u as u64, rows * k)).collect();
            let rs: Vec<Vec<T>> = (0..uses).map(|u| vals(50 + u as u64, rows * n_out)).collect();
            let wv = vals(1, n_out * k);
            let mut t = Tape::<T>::new();
            let w = t.variable(n_out, k, &wv);
            let mut loss = None;
            for (x, r) in xs.iter().zip(&rs) {
                let xv = t.constant(rows, k, x);
                let rv = t.constant(rows, n_out, r);
                let y = t.matmul_t(xv, w);
                let term = t.mul(y, rv);
                let term = t.sum(term);
                loss = Some(match loss {
                    None => term,
                    Some(l) => t.add(l, term),
                });
            }
            t.backward(loss.unwrap());
            let mut want = vec![0.0f64; n_out * k];
            for (x, r) in xs.iter().zip(&rs) {
                for b in 0..rows {
                    for j in 0..n_out {
                        let rj = r[b * n_out + j].to_f64();
                        for i in 0..k {
                            want[j * k + i] += rj * x[b * k + i].to_f64();
                        }
                    }
                }
            }
            let got = t.grad(w);
            let err: f64 = got.iter().zip(&want).map(|(g, w)| (g.to_f64() - w).powi(2)).sum();
            let norm: f64 = want.iter().map(|w| w * w).sum();
            let tol = if T::NAME == "f32" { 1e-6 } else { 1e-14 };
            assert!(
                (err / norm).sqrt() <= tol,
                "[{}] {uses} uses: relative error {:e}",
                T::NAME,
                (err / norm).sqrt()
            );
        }
        // a chain of cells sharing W (rows × 2n = 64 × 256 per queued gradient)
        let (rows, n) = (64, 128);
        let wv: Vec<T> = crate::common::uniform::<T>(2, 2 * n * n, -0.1, 0.1);
        let cv = vals(3, 2 * n);
        let hv = vals(4, rows * n);
        let run = |fused: bool| {
            let mut t = Tape::<T>::new();
            let w = t.variable(2 * n, n, &wv);
            let c = t.variable(1, 2 * n, &cv);
            let mut h = t.variable(rows, n, &hv);
            for _ in 0..20 {
                h = if fused {
                    t.gated_tanh_cell(h, w, c, T::from_f64(0.5), T::from_f64(0.5))
                } else {
                    let z = t.linear(h, w, Some(c));
                    t.gated_tanh(z, h, T::from_f64(0.5), T::from_f64(0.5))
                };
            }
            let l = t.sum(h);
            t.backward(l);
            t.grad(w).iter().map(|x| x.to_f64().to_bits()).collect::<Vec<_>>()
        };
        assert_eq!(run(true), run(false), "[{}] fused cell chain: gradients differ", T::NAME);
    });
}

/// Nodes recorded with gradients disabled are constants: the gradient stops at them, their
/// values are the same, and the fused cell keeps no local derivatives for them (fewer values).
/// Products with a leaf weight (packed once per recording) give the same values and
/// gradients whether the weight was first packed with or without gradients enabled.
#[test]
fn recording_without_gradients() {
    let record = |t: &mut Tape<f64>, x, w| {
        let z = t.linear(x, w, None); // 3×4 = [z_f | z_g] for n = 2
        let hz = t.slice_cols(x, 0, 2);
        t.gated_tanh(z, hz, 0.5, 1.5)
    };
    let xs = [0.3, -0.2, 0.1, 0.7, 1.1, -0.4, 0.2, 0.0, -0.9];
    let ws: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).sin()).collect();
    let mut t = Tape::<f64>::new();
    let x = t.variable(3, 3, &xs);
    let w = t.variable(4, 3, &ws);
    let before = t.num_values();
    t.set_grad_enabled(false);
    let y_off = record(&mut t, x, w);
    let size_off = t.num_values() - before;
    t.set_grad_enabled(true);
    assert!(!t.needs_grad(y_off));
    let before = t.num_values();
    let y_on = record(&mut t, x, w);
    assert!(t.needs_grad(y_on));
    assert_eq!(
        t.value(y_on),
        t.value(y_off),
        "values differ with gradients disabled"
    );
    // the kept coefficients: 3 rows × 3·2 more values
    assert_eq!(t.num_values() - before, size_off + 18);
    let s_off = t.sum(y_off);
    let s_on = t.sum(y_on);
    let l = t.add(s_off, s_on);
    t.backward(l);
    let (gx, gw) = (t.grad(x).to_vec(), t.grad(w).to_vec());
    // only the recording with gradients contributes: the same as a fresh tape with it alone
    let mut t2 = Tape::<f64>::new();
    let x2 = t2.variable(3, 3, &xs);
    let w2 = t2.variable(4, 3, &ws);
    let y2 = record(&mut t2, x2, w2);
    let s2 = t2.sum(y2);
    t2.backward(s2);
    assert_eq!(gx, t2.grad(x2));
    assert_eq!(gw, t2.grad(w2));
    assert!(gx.iter().chain(&gw).any(|&g| g != 0.0));
}
