//! The backward pass: one reverse loop and ONE match, the derivative table of every op.

use super::grad_store::GradStore;
use super::op::{Axis, Bcast, BinKind, Op};
use super::{Deferred, Node, Tape, Var};
use crate::Float;
use crate::dense::simd::Lanes;
use crate::dense::{self, Accum, MatMut, MatRef, Segments, Unary};

const NONE: u32 = u32::MAX;

/// Queued weight-gradient products summed at once (see the module notes of `tape`): enough
/// for long GEMMs, few enough that their gradients are still in L2 when they are summed.
const FLUSH_SEGS: u32 = 16;
/// From `FLUSH_MIN_SEGS` queued products, a queue is also summed once the gradients it holds
/// reach `FLUSH_BYTES` (half of a 2 MiB L2): large products flush sooner (f64 at N = 128: 8
/// per flush instead of 16, measured 1–3 % faster; N = 32 and N = 512 unchanged within noise).
const FLUSH_BYTES: usize = 512 << 10;
/// See [`FLUSH_BYTES`].
const FLUSH_MIN_SEGS: u32 = 4;

impl<T: Float> Tape<T> {
    /// Reverse pass from a `1 × 1` root with seed 1: afterwards [`Tape::grad`] holds
    /// `∂root/∂node` for every node that needs a gradient.
    ///
    /// # Panics
    /// If `root` is not `1 × 1` or is foreign to this tape.
    #[track_caller]
    pub fn backward(&mut self, root: Var) {
        let (r, c) = self.shape(root);
        assert!(
            r == 1 && c == 1,
            "backward: root is {r}×{c}; use backward_seeded for a VJP"
        );
        self.backward_seeded(root, &[T::ONE]);
    }

    /// Vector–Jacobian product: reverse pass from any node with cotangent `seed` (its shape).
    ///
    /// # Panics
    /// If `seed` has the wrong length.
    #[track_caller]
    pub fn backward_seeded(&mut self, root: Var, seed: &[T]) {
        let r = self.id("backward", root);
        let rn = self.nodes[r];
        assert_eq!(
            seed.len(),
            rn.len(),
            "backward_seeded: seed has {} elements for a {}×{} root",
            seed.len(),
            rn.rows,
            rn.cols
        );
        // Gradient buffers come from a pool on a node's first contribution and go back after
        // its rule (see `grad_store`).
        self.grads.reset(r + 1);
        self.keep.clear();
        self.keep.resize(r + 1, false);
        for &k in &self.retained {
            if let Some(f) = self.keep.get_mut(k as usize) {
                *f = true;
            }
        }
        self.grads.claim(r, rn.len());
        self.grads.slice_mut(r, rn.len()).copy_from_slice(seed);
        self.defer.clear();
        self.defer_head.clear();
        self.defer_head.resize(r + 1, NONE);
        self.defer_len.clear();
        self.defer_len.resize(r + 1, 0);
        self.flush_next = NONE;
        // Only nodes the root depends on get a rule: a tape may hold much that this root does
        // not use (e.g. the input drives of every time bin when one bin is differentiated).
        self.live.clear();
        self.live.resize(r + 1, false);
        self.live[r] = true;
        for i in (0..=r).rev() {
            if self.live[i] && self.nodes[i].needs_grad {
                let Tape {
                    nodes, aux, live, ..
                } = self;
                nodes[i].op.for_each_input(aux, |j| live[j as usize] = true);
            }
        }
        for i in (0..=r).rev() {
            if self.defer_head[i] != NONE {
                self.flush_deferred(i);
            }
            let node = self.nodes[i];
            if node.needs_grad && self.live[i] && self.grads.is_ready(i) {
                // The hot rules claim their inputs' buffers themselves and overwrite them on a
                // first contribution; the others add to buffers zeroed here.
                if !writes_fresh(&node.op) {
                    let Tape {
                        nodes, aux, grads, ..
                    } = self;
                    node.op.for_each_input(aux, |j| {
                        let j = j as usize;
                        if nodes[j].needs_grad {
                            grads.make_ready(j, nodes[j].len());
                        }
                    });
                }
                let g = self.grads.take(i);
                let queued = self.rule(i, node, &g[..node.len()]);
                if queued || self.keeps_grad(i) {
                    self.grads.put(i, g);
                } else {
                    self.grads.recycle(g);
                }
                if self.flush_next != NONE {
                    self.flush_deferred(self.flush_next as usize);
                    self.flush_next = NONE;
                }
            }
        }
        // What received no contribution reads as zero (see `Tape::grad`).
        let unready = (0..=r)
            .filter(|&i| !self.grads.is_ready(i))
            .map(|i| self.nodes[i].len())
            .max()
            .unwrap_or(0);
        if self.zero_grad.len() < unready {
            self.zero_grad.resize(unready, T::ZERO);
        }
    }

    /// Whether node `i`'s gradient stays readable after its rule: leaves and parameters (what
    /// callers read), retained nodes, or every node with [`Tape::set_keep_grads`].
    fn keeps_grad(&self, i: usize) -> bool {
        let n = &self.nodes[i];
        self.keep_grads
            || self.keep[i]
            || (n.needs_grad && matches!(n.op, Op::Leaf | Op::Param { .. }))
    }

    /// Sums the queued weight-gradient products of leaf `i` as one segmented GEMM, then frees
    /// the products' gradients.
    fn flush_deferred(&mut self, i: usize) {
        let w = self.nodes[i];
        let fresh = self.grads.claim(i, w.len());
        let mut dw = self.grads.take(i);
        // Flatten the queue (in recording order) so that segment lookups are O(1).
        self.flush_buf.clear();
        let mut e = self.defer_head[i];
        while e != NONE {
            self.flush_buf.push(self.defer[e as usize]);
            e = self.defer[e as usize].next;
        }
        let segs = DeferredSegs {
            nodes: &self.nodes,
            val: &self.val,
            grads: &self.grads,
            w: &w,
            order: &self.flush_buf,
        };
        let dst = MatMut::new(&mut dw[..w.len()], w.rows as usize, w.cols as usize);
        dense::gemm_segments(dst, accum_for(fresh), T::ONE, &segs, self.par);
        self.grads.put(i, dw);
        for k in 0..self.flush_buf.len() {
            let m = self.flush_buf[k].node as usize;
            if !self.keeps_grad(m) {
                self.grads.free(m);
            }
        }
        self.defer_head[i] = NONE;
        self.defer_len[i] = 0;
    }

    /// Runs the derivative rule of node `i` with its gradient `g`; returns whether a deferred
    /// product still needs `g` (the node's buffer must then be kept until the flush).
    #[inline]
    fn rule(&mut self, i: usize, node: Node<T>, g: &[T]) -> bool {
        let Tape {
            nodes,
            val,
            grads,
            aux,
            defer,
            defer_head,
            defer_len,
            flush_next,
            par,
            wt_cache,
            cell_scratch,
            ..
        } = self;
        let par = *par;
        let mut queued = false;
        let y = &val[node.range()];
        let (rows, cols) = (node.rows as usize, node.cols as usize);
        // The gradient slice of a parent (zeroed before the rule), if it wants one.
        macro_rules! gp {
            ($p:expr) => {{
                let j = $p as usize;
                if nodes[j].needs_grad {
                    Some(grads.slice_mut(j, nodes[j].len()))
                } else {
                    None
                }
            }};
        }
        // The gradient slice of a parent claimed for writing, and whether this is its first
        // contribution (then it holds stale numbers and must be overwritten, not added to);
        // only for the rules `writes_fresh` names.
        macro_rules! gpf {
            ($p:expr) => {{
                let j = $p as usize;
                if nodes[j].needs_grad {
                    let fresh = grads.claim(j, nodes[j].len());
                    Some((grads.slice_mut(j, nodes[j].len()), fresh))
                } else {
                    None
                }
            }};
        }
        // Queues the weight-gradient product of `G` (node's buffer, `$g_len` values) and `A`
        // for leaf `target`, to be summed once `FLUSH_SEGS` are queued or their gradients reach
        // `FLUSH_BYTES` (after this rule), or when the loop reaches `target`.
        macro_rules! queue {
            ($target:expr, $node:expr, $a:expr, $tb:expr, $g_len:expr) => {{
                let t = $target as usize;
                defer.push(Deferred {
                    node: $node,
                    a: $a,
                    tb: $tb,
                    next: defer_head[t],
                });
                defer_head[t] = (defer.len() - 1) as u32;
                defer_len[t] += 1;
                let held = defer_len[t] as usize * $g_len * std::mem::size_of::<T>();
                if defer_len[t] >= FLUSH_SEGS
                    || (defer_len[t] >= FLUSH_MIN_SEGS && held >= FLUSH_BYTES)
                {
                    *flush_next = $target;
                }
            }};
        }
        macro_rules! vp {
            ($p:expr) => {
                &val[nodes[$p as usize].range()]
            };
        }
        match node.op {
            Op::Leaf | Op::Param { .. } | Op::Detach(_) => {}
            Op::Binary { kind, a, b, bcast } => {
                let (av, bv) = (vp!(a), vp!(b));
                match kind {
                    BinKind::Add | BinKind::Sub => {
                        if let Some(ga) = gp!(a) {
                            dense::update_with(ga, g, |d, g| d + g);
                        }
                        let sign = if kind == BinKind::Add {
                            T::ONE
                        } else {
                            -T::ONE
                        };
                        if let Some(gb) = gp!(b) {
                            reduce_into(gb, g, g, cols, bcast, sign, |g, _| g);
                        }
                    }
                    BinKind::Mul => {
                        if let Some(ga) = gp!(a) {
                            bcast_update(ga, g, bv, cols, bcast, |d, g, b| g.mul_add(b, d));
                        }
                        if let Some(gb) = gp!(b) {
                            reduce_into(gb, g, av, cols, bcast, T::ONE, |g, a| g * a);
                        }
                    }
                    BinKind::Div => {
                        if let Some(ga) = gp!(a) {
                            bcast_update(ga, g, bv, cols, bcast, |d, g, b| d + g / b);
                        }
                        if let Some(gb) = gp!(b) {
                            // ∂(a/b)/∂b = −y/b, summed over the broadcast axes.
                            div_rhs_grad(gb, g, y, bv, cols, bcast);
                        }
                    }
                }
            }
            Op::Scale(a, s) => {
                if let Some((ga, fresh)) = gpf!(a) {
                    axpy_or_set(ga, s, g, fresh);
                }
            }
            Op::AddScalar(a, _) => {
                if let Some(ga) = gp!(a) {
                    dense::axpy(ga, T::ONE, g);
                }
            }
            Op::AddScaled { a, b, s } => {
                if let Some((ga, fresh)) = gpf!(a) {
                    axpy_or_set(ga, T::ONE, g, fresh);
                }
                if let Some((gb, fresh)) = gpf!(b) {
                    axpy_or_set(gb, s, g, fresh);
                }
            }
            Op::LinComb { start, len } => {
                for &(p, c) in &aux[start as usize..(start + len) as usize] {
                    if let Some((gx, fresh)) = gpf!(p) {
                        axpy_or_set(gx, c, g, fresh);
                    }
                }
            }
            Op::Map(f, a) => {
                if let Some(ga) = gp!(a) {
                    map_vjp(ga, g, vp!(a), y, f);
                }
            }
            Op::MatMul { a, b, tb, c, bcast } => {
                if c != u32::MAX
                    && let Some((gc, fresh)) = gpf!(c)
                {
                    addend_grad(gc, g, rows, cols, bcast == Bcast::Row, fresh);
                }
                let (na, nb) = (nodes[a as usize], nodes[b as usize]);
                let (m, k) = (na.rows as usize, na.cols as usize);
                let gm = MatRef::new(g, rows, cols);
                let bm = MatRef::new(vp!(b), nb.rows as usize, nb.cols as usize);
                if let Some((ga, fresh)) = gpf!(a) {
                    // Y = A B: dA += G Bᵀ;  Y = A Bᵀ: dA += G B (B packed when a leaf weight).
                    let (dst, accum) = (MatMut::new(ga, m, k), accum_for(fresh));
                    if tb {
                        times_weight(dst, accum, gm, b, bm, wt_cache, par);
                    } else {
                        super::build_linalg::matmul_into(dst, accum, gm, bm.t(), par);
                    }
                }
                if nb.needs_grad {
                    if matches!(nb.op, Op::Leaf | Op::Param { .. }) {
                        queue!(b, i as u32, a, tb, node.len());
                        queued = true;
                    } else if let Some((gb, fresh)) = gpf!(b) {
                        let am = MatRef::new(vp!(a), m, k);
                        let dst = MatMut::new(gb, nb.rows as usize, nb.cols as usize);
                        let (l, r) = if tb { (gm.t(), am) } else { (am.t(), gm) };
                        super::build_linalg::matmul_into(dst, accum_for(fresh), l, r, par);
                    }
                }
            }
            Op::Reduce { x, axis, mean } => {
                if let Some(gx) = gp!(x) {
                    let xn = nodes[x as usize];
                    let (xr, xc) = (xn.rows as usize, xn.cols as usize);
                    let count = match axis {
                        Axis::All => xr * xc,
                        Axis::Rows => xc,
                        Axis::Cols => xr,
                    };
                    let s = if mean {
                        T::ONE / T::from_usize(count.max(1))
                    } else {
                        T::ONE
                    };
                    if xc > 0 {
                        for (r, row) in gx.chunks_exact_mut(xc).enumerate() {
                            match axis {
                                Axis::All => add_const(row, s * g[0]),
                                Axis::Rows => add_const(row, s * g[r]),
                                Axis::Cols => dense::axpy(row, s, g),
                            }
                        }
                    }
                }
            }
            Op::LogSumExpRows(x) => {
                if let Some(gx) = gp!(x) {
                    let xc = nodes[x as usize].cols as usize;
                    let xv = vp!(x);
                    for r in 0..rows {
                        let (gr, xr) = (&mut gx[r * xc..(r + 1) * xc], &xv[r * xc..(r + 1) * xc]);
                        let (l, gs) = (T::Lanes::splat(y[r]), T::Lanes::splat(g[r]));
                        if y[r].is_finite() {
                            dense::update_with(gr, xr, |d, x| {
                                gs.mul_add(crate::dense::math::exp::<T>(x - l), d)
                            });
                        }
                    }
                }
            }
            Op::SoftmaxRows(x) => {
                if let Some(gx) = gp!(x) {
                    for r in 0..rows {
                        let (yr, gr) = (&y[r * cols..(r + 1) * cols], &g[r * cols..(r + 1) * cols]);
                        let s = T::Lanes::splat(dense::dot(gr, yr));
                        dense::update2_with(
                            &mut gx[r * cols..(r + 1) * cols],
                            gr,
                            yr,
                            |d, g, y| y.mul_add(g - s, d),
                        );
                    }
                }
            }
            Op::LogSoftmaxRows(x) => {
                if let Some(gx) = gp!(x) {
                    for r in 0..rows {
                        let (yr, gr) = (&y[r * cols..(r + 1) * cols], &g[r * cols..(r + 1) * cols]);
                        let s = T::Lanes::splat(dense::sum(gr));
                        dense::update2_with(
                            &mut gx[r * cols..(r + 1) * cols],
                            gr,
                            yr,
                            |d, g, y| d + g - s * crate::dense::math::exp::<T>(y),
                        );
                    }
                }
            }
            Op::ConcatCols { start, len } => {
                let mut c0 = 0;
                for &(p, _) in &aux[start as usize..(start + len) as usize] {
                    let pc = nodes[p as usize].cols as usize;
                    if let Some(gx) = gp!(p)
                        && pc > 0
                    {
                        for (r, dst) in gx.chunks_exact_mut(pc).enumerate() {
                            dense::axpy(dst, T::ONE, &g[r * cols + c0..r * cols + c0 + pc]);
                        }
                    }
                    c0 += pc;
                }
            }
            Op::ConcatRows { start, len } => {
                let mut o = 0;
                for &(p, _) in &aux[start as usize..(start + len) as usize] {
                    let pl = nodes[p as usize].len();
                    if let Some(gx) = gp!(p) {
                        dense::axpy(gx, T::ONE, &g[o..o + pl]);
                    }
                    o += pl;
                }
            }
            Op::SliceCols { x, start } => {
                if let Some(gx) = gp!(x) {
                    let xc = nodes[x as usize].cols as usize;
                    let s = start as usize;
                    if cols > 0 {
                        for (r, gr) in g.chunks_exact(cols).enumerate() {
                            dense::axpy(&mut gx[r * xc + s..r * xc + s + cols], T::ONE, gr);
                        }
                    }
                }
            }
            Op::SliceRows { x, start } => {
                if let Some(gx) = gp!(x) {
                    let s = start as usize * cols;
                    dense::axpy(&mut gx[s..s + g.len()], T::ONE, g);
                }
            }
            Op::Transpose(x) => {
                if let Some(gx) = gp!(x) {
                    // x is cols×rows; gx[j][i] += g[i][j]
                    for j in 0..cols {
                        for r in 0..rows {
                            gx[j * rows + r] += g[r * cols + j];
                        }
                    }
                }
            }
            Op::Gated { z, f, h, a, b } => {
                // y = a h + b s (f − h), s = σ(z):
                // ∂z = g b (f − h) σ′(z),  ∂f = g b s,  ∂h = g (a − b s)
                let (zv, fv, hv) = (vp!(z), vp!(f), vp!(h));
                let (nz, nf, nh) = (nodes[z as usize], nodes[f as usize], nodes[h as usize]);
                if nz.needs_grad
                    && nf.needs_grad
                    && nh.needs_grad
                    && let Some([gz, gf, gh]) = grads.disjoint_mut(
                        [z as usize, f as usize, h as usize],
                        [nz.len(), nf.len(), nh.len()],
                    )
                {
                    // All three at once, one exponential per element.
                    dense::gated_vjp(gz, gf, gh, g, zv, fv, hv, a, b);
                    return false;
                }
                let (av, bv) = (T::Lanes::splat(a), T::Lanes::splat(b));
                if let Some(gz) = gp!(z) {
                    dense::update4_with(gz, g, zv, fv, hv, |d, g, z, f, h| {
                        (g * bv * (f - h)).mul_add(crate::dense::math::sigmoid_prime::<T>(z), d)
                    });
                }
                if let Some(gf) = gp!(f) {
                    dense::update3_with(gf, g, zv, g, |d, g, z, _| {
                        (g * bv).mul_add(crate::dense::math::sigmoid::<T>(z), d)
                    });
                }
                if let Some(gh) = gp!(h) {
                    dense::update3_with(gh, g, zv, g, |d, g, z, _| {
                        g.mul_add(av - bv * crate::dense::math::sigmoid::<T>(z), d)
                    });
                }
            }
            Op::GatedTanh { z, h, coef, .. } => {
                let (zi, hi) = (z as usize, h as usize);
                let (nz, nh) = (nodes[zi], nodes[hi]);
                let mut acc = |j: usize, n: &Node<T>| {
                    let fresh = n.needs_grad && grads.claim(j, n.len());
                    accum_for(fresh)
                };
                let (az, ah) = (acc(zi, &nz), acc(hi, &nh));
                let (gz, gh) = match (nz.needs_grad, nh.needs_grad) {
                    (true, true) => match grads.disjoint_mut([zi, hi], [nz.len(), nh.len()]) {
                        Some([gz, gh]) => (Some((gz, az)), Some((gh, ah))),
                        None => unreachable!("internal: gated_tanh operands coincide"),
                    },
                    (true, false) => (Some((grads.slice_mut(zi, nz.len()), az)), None),
                    (false, true) => (None, Some((grads.slice_mut(hi, nh.len()), ah))),
                    (false, false) => (None, None),
                };
                // A cell recorded with a gradient to come kept its derivatives (`coef`), and
                // only such cells reach their rule.
                dense::gated_tanh_vjp_coefs(gz, gh, g, vp!(coef), cols);
            }
            Op::GatedTanhCell {
                state,
                len,
                w,
                c,
                coef,
                ..
            } => {
                // ∂z = [g P | g Q] into the stash's buffer, then ∂h = g S + ∂z W, ∂c = ∂z
                // (summed over rows when broadcast), and ∂W = ∂zᵀ h deferred. A state summed
                // from several terms passes ∂h on to them as `lin_comb` would, and is summed
                // again after ∂z in the same buffer for the deferred product.
                let terms = &aux[state as usize..(state + len) as usize];
                let in_place = len == 1 && terms[0].1 == T::ONE;
                let ci = coef as usize;
                let (nw, nc) = (nodes[w as usize], nodes[c as usize]);
                let zc = 2 * cols;
                let stash = if in_place { zc } else { zc + cols };
                grads.claim(ci, rows * stash);
                let mut gz = grads.take(ci);
                let (gzs, hs) = gz[..rows * stash].split_at_mut(rows * zc);
                let h_needs_grad = terms.iter().any(|&(p, _)| nodes[p as usize].needs_grad);
                // ∂h goes straight to a state read in place, else into scratch for the terms.
                let mut dh = Vec::new();
                if !in_place {
                    dh = std::mem::take(cell_scratch);
                    if dh.len() < rows * cols {
                        dh.resize(rows * cols, T::ZERO);
                    }
                }
                let mut gh = match h_needs_grad {
                    false => None,
                    true if in_place => gpf!(terms[0].0).map(|(s, fresh)| (s, accum_for(fresh))),
                    true => Some((&mut dh[..rows * cols], Accum::Replace)),
                };
                dense::gated_tanh_vjp_coefs(
                    Some((&mut *gzs, Accum::Replace)),
                    gh.as_mut().map(|(s, a)| (&mut **s, *a)),
                    g,
                    vp!(coef),
                    cols,
                );
                if let Some((dst, _)) = gh {
                    let (dst, gm) = (MatMut::new(dst, rows, cols), MatRef::new(&*gzs, rows, zc));
                    let wm = MatRef::new(vp!(w), zc, cols);
                    times_weight(dst, Accum::Add, gm, w, wm, wt_cache, par);
                }
                if let Some((gc, fresh)) = gpf!(c) {
                    addend_grad(gc, gzs, rows, zc, nc.rows as usize != rows, fresh);
                }
                if !in_place {
                    if h_needs_grad {
                        for &(p, cf) in terms {
                            if let Some((gx, fresh)) = gpf!(p) {
                                axpy_or_set(gx, cf, &dh[..rows * cols], fresh);
                            }
                        }
                    }
                    *cell_scratch = dh;
                    if nw.needs_grad {
                        super::build_linalg::lin_comb_values(hs, terms, nodes, val);
                    }
                }
                if nw.needs_grad {
                    // The product's left operand: the state node, or the sum after ∂z.
                    let a = if in_place { terms[0].0 } else { NONE };
                    queue!(w, coef, a, true, rows * zc);
                    grads.put(ci, gz);
                } else {
                    grads.recycle(gz);
                }
            }
            Op::MixRows { w, x } => {
                // ∂w_rk = g_r · x_{r mod Rx, k},   ∂x_{r mod Rx, k} += g_r w_rk
                let (nw, nx) = (nodes[w as usize], nodes[x as usize]);
                let k = nw.cols as usize;
                let (rx, kn) = (nx.rows as usize, nx.cols as usize);
                let n = cols;
                if n > 0 {
                    if nw.needs_grad {
                        let xv = vp!(x);
                        let gw = grads.slice_mut(w as usize, nw.len());
                        for (row, gr) in g.chunks_exact(n).enumerate() {
                            let xr = &xv[(row % rx) * kn..(row % rx + 1) * kn];
                            for j in 0..k {
                                gw[row * k + j] += dense::dot(gr, &xr[j * n..(j + 1) * n]);
                            }
                        }
                    }
                    if nx.needs_grad {
                        let wv = vp!(w);
                        let gx = grads.slice_mut(x as usize, nx.len());
                        for (row, gr) in g.chunks_exact(n).enumerate() {
                            let xr = &mut gx[(row % rx) * kn..(row % rx + 1) * kn];
                            for j in 0..k {
                                dense::axpy(&mut xr[j * n..(j + 1) * n], wv[row * k + j], gr);
                            }
                        }
                    }
                }
            }
            Op::BroadcastRows(x) => {
                if let Some(gx) = gp!(x) {
                    dense::col_sums_acc(gx, g, rows, cols);
                }
            }
        }
        queued
    }
}

/// The queued products of one weight, as GEMM segments over the tape's arenas.
struct DeferredSegs<'a, T: Float> {
    nodes: &'a [Node<T>],
    val: &'a [T],
    grads: &'a GradStore<T>,
    /// The weight the products' gradients sum into.
    w: &'a Node<T>,
    order: &'a [Deferred],
}

impl<T: Float> Segments<T> for DeferredSegs<'_, T> {
    fn count(&self) -> usize {
        self.order.len()
    }
    fn get(&self, i: usize) -> (MatRef<'_, T>, MatRef<'_, T>) {
        let Deferred { node, a, tb, .. } = self.order[i];
        let n = if tb { self.w.rows } else { self.w.cols } as usize;
        // `A` is a node, or (`NONE`: a fused cell's summed state, `x Wᵀ`) stored after `G` in
        // the same buffer.
        let node_a = (a != NONE).then(|| self.nodes[a as usize]);
        let (m, k) = match node_a {
            Some(an) => (an.rows as usize, an.cols as usize),
            None => (
                self.nodes[node as usize].rows as usize,
                self.w.cols as usize,
            ),
        };
        let stored_a = if node_a.is_some() { 0 } else { m * k };
        let buf = self
            .grads
            .get(node as usize, m * n + stored_a)
            .expect("internal: a queued product's gradient was freed");
        let (g, after_g) = buf.split_at(m * n);
        let g = MatRef::new(g, m, n);
        let av = MatRef::new(node_a.map_or(after_g, |an| &self.val[an.range()]), m, k);
        // Y = A Bᵀ: dB += Gᵀ A;   Y = A B: dB += Aᵀ G.
        if tb { (g.t(), av) } else { (av.t(), g) }
    }
}

#[inline(always)]
fn add_const<T: Float>(dst: &mut [T], c: T) {
    for d in dst {
        *d += c;
    }
}

/// `dst += h(g, b)` elementwise where `b` is broadcast like the forward op's right operand.
#[inline(always)]
fn bcast_update<T: Float>(
    dst: &mut [T],
    g: &[T],
    b: &[T],
    cols: usize,
    bcast: Bcast,
    h: impl Fn(T::Lanes, T::Lanes, T::Lanes) -> T::Lanes + Copy,
) {
    if cols == 0 {
        return;
    }
    match bcast {
        Bcast::None => dense::update2_with(dst, g, b, h),
        Bcast::Row => {
            for (d, gr) in dst.chunks_exact_mut(cols).zip(g.chunks_exact(cols)) {
                dense::update2_with(d, gr, b, h);
            }
        }
        Bcast::Col => {
            for ((d, gr), &bs) in dst.chunks_exact_mut(cols).zip(g.chunks_exact(cols)).zip(b) {
                let bv = T::Lanes::splat(bs);
                dense::update_with(d, gr, |d, g| h(d, g, bv));
            }
        }
        Bcast::Scalar => {
            let bv = T::Lanes::splat(b[0]);
            dense::update_with(dst, g, |d, g| h(d, g, bv));
        }
    }
}

/// `gb += sign · Σ_broadcast h(g, x)`: the right operand's gradient, summed over the axes it was
/// broadcast along.
#[inline(always)]
fn reduce_into<T: Float>(
    gb: &mut [T],
    g: &[T],
    x: &[T],
    cols: usize,
    bcast: Bcast,
    sign: T,
    h: impl Fn(T::Lanes, T::Lanes) -> T::Lanes + Copy,
) {
    if cols == 0 {
        return;
    }
    let sv = T::Lanes::splat(sign);
    match bcast {
        Bcast::None => dense::update2_with(gb, g, x, |d, g, x| h(g, x).mul_add(sv, d)),
        Bcast::Row => {
            for (gr, xr) in g.chunks_exact(cols).zip(x.chunks_exact(cols)) {
                dense::update2_with(gb, gr, xr, |d, g, x| h(g, x).mul_add(sv, d));
            }
        }
        Bcast::Col => {
            for ((d, gr), xr) in gb
                .iter_mut()
                .zip(g.chunks_exact(cols))
                .zip(x.chunks_exact(cols))
            {
                *d += sign * lane_sum(gr, xr, h);
            }
        }
        Bcast::Scalar => gb[0] += sign * lane_sum(g, x, h),
    }
}

/// `Σ_i h(a_i, b_i)` with SIMD lanes (padding lanes contribute `h(0, 0)`, which is 0 for the
/// products used here).
#[inline(always)]
fn lane_sum<T: Float>(a: &[T], b: &[T], h: impl Fn(T::Lanes, T::Lanes) -> T::Lanes) -> T {
    let n = T::Lanes::N;
    let mut acc = T::Lanes::splat(T::ZERO);
    let body = a.len() / n * n;
    for (x, y) in a[..body].chunks_exact(n).zip(b[..body].chunks_exact(n)) {
        acc = acc + h(T::Lanes::load(x), T::Lanes::load(y));
    }
    let mut s = acc.reduce_sum();
    for (&x, &y) in a[body..].iter().zip(&b[body..]) {
        let mut bx = [T::ZERO; 16];
        let mut by = [T::ZERO; 16];
        bx[0] = x;
        by[0] = y;
        let mut out = [T::ZERO; 16];
        h(T::Lanes::load(&bx), T::Lanes::load(&by)).store(&mut out);
        s += out[0];
    }
    s
}

/// Gradient of `a / b` with respect to a broadcast `b`: `gb += Σ_broadcast −g·y/b`.
fn div_rhs_grad<T: Float>(gb: &mut [T], g: &[T], y: &[T], b: &[T], cols: usize, bcast: Bcast) {
    if cols == 0 {
        return;
    }
    match bcast {
        Bcast::None => dense::update3_with(gb, g, y, b, |d, g, y, b| d - g * y / b),
        Bcast::Row => {
            for (gr, yr) in g.chunks_exact(cols).zip(y.chunks_exact(cols)) {
                dense::update3_with(gb, gr, yr, b, |d, g, y, b| d - g * y / b);
            }
        }
        Bcast::Col => {
            for (((d, gr), yr), &bs) in gb
                .iter_mut()
                .zip(g.chunks_exact(cols))
                .zip(y.chunks_exact(cols))
                .zip(b)
            {
                *d -= dense::dot(gr, yr) / bs;
            }
        }
        Bcast::Scalar => gb[0] -= dense::dot(g, y) / b[0],
    }
}

/// `ga += g ∘ f′(x)` for an elementwise map `y = f(x)`.
fn map_vjp<T: Float>(ga: &mut [T], g: &[T], x: &[T], y: &[T], f: Unary) {
    use Unary::*;
    let one = T::Lanes::splat(T::ONE);
    let two = T::Lanes::splat(T::from_f64(2.0));
    let zero = T::Lanes::splat(T::ZERO);
    match f {
        Exp => dense::update2_with(ga, g, y, |d, g, y| g.mul_add(y, d)),
        Expm1 => dense::update2_with(ga, g, y, |d, g, y| g.mul_add(y + one, d)),
        Ln => dense::update2_with(ga, g, x, |d, g, x| d + g / x),
        Ln1p => dense::update2_with(ga, g, x, |d, g, x| d + g / (x + one)),
        Sqrt => dense::update2_with(ga, g, y, |d, g, y| d + g / (two * y)),
        Square => dense::update2_with(ga, g, x, |d, g, x| (g * two).mul_add(x, d)),
        Relu => dense::update2_with(ga, g, x, |d, g, x| {
            d + T::Lanes::select(x.gt(zero), g, zero)
        }),
        Tanh => dense::accumulate_vjp(ga, g, x, TanhPrime),
        Sigmoid => dense::accumulate_vjp(ga, g, x, SigmoidPrime),
        Softplus => dense::accumulate_vjp(ga, g, x, Sigmoid),
        Silu => dense::accumulate_vjp(ga, g, x, SiluPrime),
        TanhPrime => dense::accumulate_vjp(ga, g, x, TanhSecond),
        SigmoidPrime => dense::accumulate_vjp(ga, g, x, SigmoidSecond),
        SiluPrime => dense::accumulate_vjp(ga, g, x, SiluSecond),
        TanhSecond | SigmoidSecond | SiluSecond => {
            unreachable!("internal: second-derivative maps are rejected when recorded")
        }
    }
}

/// The rules that claim their inputs' gradient buffers (`GradStore::claim`) and overwrite them on a
/// first contribution (saving a pass that zeroes them): the products, the mGRU cell and the
/// linear combinations of an ODE step, which between them make almost every contribution in a
/// solve.
fn writes_fresh<T>(op: &Op<T>) -> bool {
    matches!(
        op,
        Op::MatMul { .. }
            | Op::GatedTanh { .. }
            | Op::GatedTanhCell { .. }
            | Op::LinComb { .. }
            | Op::Scale(..)
            | Op::AddScaled { .. }
    )
}

#[inline]
fn accum_for(fresh: bool) -> Accum {
    if fresh { Accum::Replace } else { Accum::Add }
}

/// `dst (+)= G · W` for the weight node `w` (values `wm`): from the tape's packing of `W` when
/// it holds one (a leaf weight read as `x Wᵀ` whose input needs a gradient), else in place.
fn times_weight<T: Float>(
    dst: MatMut<'_, T>,
    accum: Accum,
    gm: MatRef<'_, T>,
    w: u32,
    wm: MatRef<'_, T>,
    wt_cache: &[super::WeightPacks<T>],
    par: dense::Par,
) {
    match wt_cache.iter().find(|e| e.node == w && e.has_w) {
        Some(e) => dense::gemm_prepacked(dst, accum, T::ONE, gm, &e.w, par),
        None => super::build_linalg::matmul_into(dst, accum, gm, wm, par),
    }
}

/// The gradient of a product's addend from the product's gradient `g` (`rows × cols`): `g`
/// itself, or its column sums when the addend is one row added to every row (`row_bcast`);
/// overwriting on a first contribution.
fn addend_grad<T: Float>(
    gc: &mut [T],
    g: &[T],
    rows: usize,
    cols: usize,
    row_bcast: bool,
    fresh: bool,
) {
    if row_bcast {
        if fresh {
            gc.fill(T::ZERO);
        }
        dense::col_sums_acc(gc, g, rows, cols);
    } else {
        axpy_or_set(gc, T::ONE, g, fresh);
    }
}

/// `dst = alpha · x` on a first contribution, else `dst += alpha · x`.
#[inline]
fn axpy_or_set<T: Float>(dst: &mut [T], alpha: T, x: &[T], fresh: bool) {
    if fresh {
        let a = T::Lanes::splat(alpha);
        dense::update_with(dst, x, |_, x| x * a);
    } else {
        dense::axpy(dst, alpha, x);
    }
}
