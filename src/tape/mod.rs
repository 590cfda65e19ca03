//! Reverse-mode automatic differentiation on an arena Wengert list.
//!
//! A [`Tape`] records ops on dense row-major arrays (rank ≤ 2, batch as rows) in execution
//! order. Values and gradients live in two flat arenas that share offsets, so the backward pass
//! is one reverse `for` loop over node indices (no sorting, recursion or hashing) that reads
//! forward values in place. [`Tape::clear`] keeps every allocation, so a warm training step
//! allocates nothing; [`Tape::mark`]/[`Tape::rewind`] drop a suffix (rejected solver steps,
//! scratch evaluations).
//!
//! ```text
//! forward:  node k = op(parents < k)            val[off_k .. off_k + rows·cols]
//! backward: for k = root … 0:  grad[parents] += VJP_op(grad[k], val[…])
//! ```
//!
//! Weight gradients of products `y = x Wᵀ` with a leaf `W` are deferred: every use queues
//! `(gᵀ, x)` and they are summed as segmented GEMMs of up to `FLUSH_SEGS` products, as soon as
//! that many are queued or (from `FLUSH_MIN_SEGS`) their gradients hold `FLUSH_BYTES`, while
//! they are still in cache, and when the backward pass reaches `W` (a few long products instead
//! of one small product per solver stage).
//!
//! # Example
//! ```
//! use neurodyn::tape::Tape;
//! let mut tape = Tape::<f64>::new();
//! let x = tape.variable(1, 2, &[1.0, 2.0]);
//! let y = tape.tanh(x);
//! let loss = tape.sum(y);
//! tape.backward(loss);
//! let g = tape.grad(x);
//! assert!((g[0] - (1.0 - 1.0_f64.tanh().powi(2))).abs() < 1e-15);
//! ```

mod backward;
mod build;
mod build_cell;
mod build_linalg;
mod build_shape;
pub mod check;
mod grad_store;
pub mod op;
pub mod params;

use crate::Float;
use op::Op;
pub use params::{Grads, ParamId, ParamInfo, ParamStore};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT_TAG: AtomicU32 = AtomicU32::new(1);

fn fresh_tag() -> u32 {
    NEXT_TAG.fetch_add(1, Ordering::Relaxed)
}

/// A handle to a node of a [`Tape`] (an index plus the tape's identity, checked on use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Var {
    pub(crate) idx: u32,
    pub(crate) tag: u32,
}

impl Var {
    /// The node index on its tape.
    pub fn index(self) -> usize {
        self.idx as usize
    }
}

/// A position on a tape to [`Tape::rewind`] to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    nodes: usize,
    vals: usize,
    aux: usize,
    tag: u32,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Node<T> {
    pub(crate) op: Op<T>,
    pub(crate) off: usize,
    pub(crate) rows: u32,
    pub(crate) cols: u32,
    pub(crate) needs_grad: bool,
}

impl<T> Node<T> {
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.rows as usize * self.cols as usize
    }
    #[inline(always)]
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        self.off..self.off + self.len()
    }
}

/// The values recorded before node `n` and `n`'s own storage (its output, to be written).
#[inline(always)]
pub(crate) fn split_out<'a, T>(val: &'a mut [T], n: &Node<T>) -> (&'a mut [T], &'a mut [T]) {
    let (lo, hi) = val.split_at_mut(n.off);
    (lo, &mut hi[..n.len()])
}

/// One queued weight-gradient product, flushed when the backward pass reaches its target.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deferred {
    /// The node whose gradient buffer holds the product's `G` (a matmul, or a fused cell's
    /// stash).
    pub(crate) node: u32,
    /// The product's left operand `A`, or `u32::MAX` when `A` is stored in `node`'s gradient
    /// buffer after `G` (a fused cell whose state is a sum it does not store).
    pub(crate) a: u32,
    /// Whether the product was `A Wᵀ` (`dW += Gᵀ A`) rather than `A W` (`dW += Aᵀ G`).
    pub(crate) tb: bool,
    /// Next entry for the same target (`u32::MAX` ends the list).
    pub(crate) next: u32,
}

/// A leaf weight `W` (`out × in`) that products `x Wᵀ` read, packed for
/// [`dense::gemm_prepacked`](crate::dense::gemm_prepacked): `Wᵀ` for the forward products and,
/// once a product needs the gradient of `x`, `W` for the backward ones (`∂x += g W`).
#[derive(Debug)]
pub(crate) struct WeightPacks<T> {
    /// The leaf node (`u32::MAX`: a free entry).
    pub(crate) node: u32,
    pub(crate) wt: crate::dense::PackedRhs<T>,
    pub(crate) w: crate::dense::PackedRhs<T>,
    /// Whether `w` holds this node's weight.
    pub(crate) has_w: bool,
}

/// The autodiff tape. See the [module docs](self).
///
/// A `Tape` is not `Sync`: use one per thread (e.g. one per rayon worker over batch shards) and
/// sum the [`Grads`].
#[derive(Debug)]
pub struct Tape<T: Float> {
    pub(crate) nodes: Vec<Node<T>>,
    /// The value arena; `val[..used]` holds the recorded nodes. What lies beyond is memory of
    /// earlier, rewound recordings, kept so that re-recording writes it without zero-filling it
    /// first: every op overwrites its whole output (debug builds fill new nodes with NaN to
    /// prove it).
    pub(crate) val: Vec<T>,
    pub(crate) used: usize,
    /// Multiply–adds of the products recorded so far ([`Tape::multiply_adds`]).
    pub(crate) macs: u64,
    /// Pre-activations of a fused cell between its product and its activation.
    pub(crate) cell_scratch: Vec<T>,
    /// Gradient buffers of the last backward pass; nodes that received no contribution read
    /// as zero.
    pub(crate) grads: grad_store::GradStore<T>,
    /// Whether every node's gradient stays readable after a backward pass.
    pub(crate) keep_grads: bool,
    /// Nodes whose gradients stay readable ([`Tape::retain_grad`]).
    pub(crate) retained: Vec<u32>,
    /// `retained` as flags over the nodes of the current backward pass.
    pub(crate) keep: Vec<bool>,
    /// Zeros as long as the largest node that received no gradient.
    pub(crate) zero_grad: Vec<T>,
    pub(crate) aux: Vec<(u32, T)>,
    pub(crate) defer: Vec<Deferred>,
    pub(crate) defer_head: Vec<u32>,
    /// Number of queued products per target.
    pub(crate) defer_len: Vec<u32>,
    /// A target whose queue is full, to be summed after the current rule (`u32::MAX`: none).
    pub(crate) flush_next: u32,
    pub(crate) flush_buf: Vec<Deferred>,
    /// Nodes the backward root depends on (only their rules run).
    pub(crate) live: Vec<bool>,
    /// Leaf weights used as `x Wᵀ`, packed for the tape's current recording (free entries
    /// keep their memory for the next).
    pub(crate) wt_cache: Vec<WeightPacks<T>>,
    pub(crate) par: crate::dense::Par,
    /// Whether nodes recorded now may carry gradients ([`Tape::set_grad_enabled`]).
    pub(crate) grad_enabled: bool,
    pub(crate) tag: u32,
    _not_sync: std::marker::PhantomData<std::cell::Cell<()>>,
}

impl<T: Float> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> Tape<T> {
    /// An empty tape.
    pub fn new() -> Self {
        Self::with_capacity(0, 0)
    }

    /// An empty tape with room for `nodes` nodes and `values` scalars.
    pub fn with_capacity(nodes: usize, values: usize) -> Self {
        Self {
            nodes: Vec::with_capacity(nodes),
            val: Vec::with_capacity(values),
            used: 0,
            macs: 0,
            cell_scratch: Vec::new(),
            grads: grad_store::GradStore::default(),
            keep_grads: false,
            retained: Vec::new(),
            keep: Vec::new(),
            zero_grad: Vec::new(),
            aux: Vec::new(),
            defer: Vec::new(),
            defer_head: Vec::new(),
            defer_len: Vec::new(),
            flush_next: u32::MAX,
            flush_buf: Vec::new(),
            live: Vec::new(),
            wt_cache: Vec::new(),
            par: crate::dense::Par::Seq,
            grad_enabled: true,
            tag: fresh_tag(),
            _not_sync: std::marker::PhantomData,
        }
    }

    /// Removes every node but keeps all allocations. Vars from before are invalidated (using
    /// one panics).
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.used = 0;
        self.aux.clear();
        self.grads.reset(0);
        self.retained.clear();
        self.wt_cache.iter_mut().for_each(|e| e.node = u32::MAX);
        self.tag = fresh_tag();
    }

    /// Lets large products on this tape use the rayon pool (`Par::Rayon`), or not (`Par::Seq`,
    /// the default: training parallelises over batch shards instead, one tape per shard).
    pub fn set_par(&mut self, par: crate::dense::Par) {
        self.par = par;
    }

    /// The current end of the tape.
    pub fn mark(&self) -> Mark {
        Mark {
            nodes: self.nodes.len(),
            vals: self.used,
            aux: self.aux.len(),
            tag: self.tag,
        }
    }

    /// Drops every node recorded after `m` (keeps the allocations). Vars created after the mark
    /// must not be used again.
    ///
    /// # Panics
    /// If `m` comes from another tape, from before a `clear`, or lies beyond the end.
    #[track_caller]
    pub fn rewind(&mut self, m: Mark) {
        assert!(
            m.tag == self.tag && m.nodes <= self.nodes.len(),
            "rewind: mark from another tape, from before clear(), or past the end"
        );
        self.nodes.truncate(m.nodes);
        self.retained.retain(|&i| (i as usize) < m.nodes);
        self.used = m.vals;
        self.aux.truncate(m.aux);
        let end = m.nodes as u32;
        self.wt_cache
            .iter_mut()
            .filter(|e| e.node != u32::MAX && e.node >= end)
            .for_each(|e| e.node = u32::MAX);
    }

    /// Number of recorded nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Number of scalars stored in the value arena.
    pub fn num_values(&self) -> usize {
        self.used
    }

    /// Multiply–adds of the matrix products recorded on this tape since it was made (the
    /// forward products only; rewinding does not subtract): with [`Tape::num_values`], how much
    /// arithmetic a recording carries per value it stores.
    ///
    /// ```
    /// use neurodyn::tape::Tape;
    /// let mut t = Tape::<f64>::new();
    /// let a = t.constant(2, 3, &[1.0; 6]);
    /// let b = t.constant(3, 4, &[1.0; 12]);
    /// t.matmul(a, b);
    /// assert_eq!(t.multiply_adds(), 2 * 3 * 4);
    /// ```
    pub fn multiply_adds(&self) -> u64 {
        self.macs
    }

    /// Makes room for `additional` more values beyond those in use, in one allocation: a
    /// caller that knows how much it will record (a backprop solve) saves the arena's growth
    /// by doubling, its copies and its over-allocation. The new arena is allocated zeroed
    /// (`calloc`: large blocks come from the system already zero, so nothing is written until
    /// the ops write their outputs) and the values in use are copied over.
    ///
    /// ```
    /// use neurodyn::tape::Tape;
    /// let mut t = Tape::<f64>::new();
    /// let x = t.constant(1, 2, &[1.0, 2.0]);
    /// t.reserve_values(1000);
    /// let y = t.scale(x, 2.0);
    /// assert_eq!(t.value(x), &[1.0, 2.0]); // the values in use moved with the arena
    /// assert_eq!(t.value(y), &[2.0, 4.0]);
    /// assert_eq!(t.num_values(), 4);
    /// ```
    pub fn reserve_values(&mut self, additional: usize) {
        let want = self.used.saturating_add(additional);
        if want > self.val.len() {
            let mut fresh = vec![T::ZERO; want];
            fresh[..self.used].copy_from_slice(&self.val[..self.used]);
            self.val = fresh;
        }
    }

    /// Number of scalars held in gradient buffers (in use or pooled for the next backward
    /// pass): with [`Tape::num_values`], the tape's working memory.
    pub fn num_grad_values(&self) -> usize {
        self.grads.footprint()
    }

    /// Checks that `v` belongs to this tape and returns its node index.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn id(&self, op: &str, v: Var) -> usize {
        let i = v.idx as usize;
        if v.tag != self.tag || i >= self.nodes.len() {
            self.foreign(op, v);
        }
        i
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn foreign(&self, op: &str, v: Var) -> ! {
        panic!(
            "{op}: Var #{} does not belong to this tape (another tape, or recorded before \
             clear()/rewind())",
            v.idx
        )
    }

    /// `(rows, cols)` of a node.
    #[track_caller]
    pub fn shape(&self, v: Var) -> (usize, usize) {
        let n = &self.nodes[self.id("shape", v)];
        (n.rows as usize, n.cols as usize)
    }

    /// The values of a node (row-major).
    #[track_caller]
    pub fn value(&self, v: Var) -> &[T] {
        let i = self.id("value", v);
        &self.val[self.nodes[i].range()]
    }

    /// The single value of a `1 × 1` node.
    ///
    /// # Panics
    /// If the node is not `1 × 1`.
    #[track_caller]
    pub fn scalar(&self, v: Var) -> T {
        let (r, c) = self.shape(v);
        assert!(r == 1 && c == 1, "scalar: node is {r}×{c}, not 1×1");
        self.value(v)[0]
    }

    /// The gradient of the last backward pass with respect to a node: a leaf (variable,
    /// constant, parameter), or any node when [`Tape::set_keep_grads`] was on.
    ///
    /// # Panics
    /// If no backward pass has run over this node, or it is an intermediate result whose
    /// gradient was recycled.
    #[track_caller]
    pub fn grad(&self, v: Var) -> &[T] {
        let i = self.id("grad", v);
        let len = self.nodes[i].len();
        assert!(
            i < self.grads.len(),
            "grad: no backward pass has reached node #{i}"
        );
        if !self.grads.is_ready(i) {
            return &self.zero_grad[..len];
        }
        match self.grads.get(i, len) {
            Some(g) => g,
            None => panic!(
                "grad: node #{i} is an intermediate result whose gradient was recycled during \
                 the backward pass; call Tape::retain_grad on it, or Tape::set_keep_grads(true), \
                 before the pass to read one"
            ),
        }
    }

    /// Keeps the gradient of node `v` readable with [`Tape::grad`] after the backward passes
    /// of this recording, even if it is an intermediate result (see [`Tape::set_keep_grads`]).
    /// Leaves and parameters are always kept.
    ///
    /// # Example
    /// ```
    /// use neurodyn::tape::Tape;
    /// let mut t = Tape::<f64>::new();
    /// let x = t.variable(1, 1, &[3.0]);
    /// let y = t.square(x);
    /// t.retain_grad(y);
    /// let z = t.scale(y, 2.0);
    /// t.backward(z);
    /// assert_eq!(t.grad(y), &[2.0]);
    /// ```
    #[track_caller]
    pub fn retain_grad(&mut self, v: Var) {
        let i = self.id("retain_grad", v) as u32;
        if !self.retained.contains(&i) {
            self.retained.push(i);
        }
    }

    /// Whether backward passes keep every node's gradient readable with [`Tape::grad`] (`on`),
    /// or only those of leaves and parameters (the default). Intermediate gradients are
    /// otherwise recycled as soon as their node's rule has run, which keeps the backward pass's
    /// working memory small and in cache.
    ///
    /// # Example
    /// ```
    /// use neurodyn::tape::Tape;
    /// let mut t = Tape::<f64>::new();
    /// t.set_keep_grads(true);
    /// let x = t.variable(1, 1, &[3.0]);
    /// let y = t.square(x);
    /// let z = t.scale(y, 2.0);
    /// t.backward(z);
    /// assert_eq!(t.grad(y), &[2.0]); // an intermediate gradient, kept
    /// assert_eq!(t.grad(x), &[12.0]);
    /// ```
    pub fn set_keep_grads(&mut self, on: bool) {
        self.keep_grads = on;
    }

    /// Whether gradients flow to this node.
    #[track_caller]
    pub fn needs_grad(&self, v: Var) -> bool {
        self.nodes[self.id("needs_grad", v)].needs_grad
    }

    /// With `on = false`, every node recorded from now on is a constant: no gradient flows
    /// through it, and ops skip what only a backward pass would read (e.g. the fused cell's
    /// local derivatives). For forward passes whose values alone are wanted, such as a
    /// checkpointed solve's first pass. Nodes recorded before keep their gradients.
    ///
    /// # Example
    /// ```
    /// use neurodyn::tape::Tape;
    /// let mut t = Tape::<f64>::new();
    /// let x = t.variable(1, 1, &[2.0]);
    /// t.set_grad_enabled(false);
    /// let y = t.square(x);
    /// t.set_grad_enabled(true);
    /// assert!(t.needs_grad(x) && !t.needs_grad(y));
    /// assert_eq!(t.value(y), &[4.0]);
    /// ```
    pub fn set_grad_enabled(&mut self, on: bool) {
        self.grad_enabled = on;
    }

    /// Appends a node and returns its index. Its storage holds stale values (zeros, or NaN in
    /// debug builds): the op must write all of it.
    #[inline(always)]
    pub(crate) fn push(&mut self, op: Op<T>, rows: usize, cols: usize, needs_grad: bool) -> usize {
        let off = self.used;
        assert!(
            rows <= u32::MAX as usize && cols <= u32::MAX as usize,
            "{}: shape {rows}×{cols} too large",
            op.name()
        );
        self.used = off + rows * cols;
        if self.val.len() < self.used {
            self.val.resize(self.used, T::ZERO);
        }
        if cfg!(debug_assertions) {
            self.val[off..self.used].fill(T::NAN);
        }
        self.nodes.push(Node {
            op,
            off,
            rows: rows as u32,
            cols: cols as u32,
            needs_grad: needs_grad && self.grad_enabled,
        });
        self.nodes.len() - 1
    }

    #[inline(always)]
    pub(crate) fn var(&self, idx: usize) -> Var {
        Var {
            idx: idx as u32,
            tag: self.tag,
        }
    }

    /// Copies the gradient of every `Param` node into `grads` (adding).
    pub fn accumulate_param_grads(&self, grads: &mut Grads<T>) {
        for (i, n) in self.nodes.iter().enumerate() {
            if let Op::Param { store_off, .. } = n.op {
                if !self.grads.is_ready(i) {
                    continue;
                }
                let Some(g) = self.grads.get(i, n.len()) else {
                    continue;
                };
                crate::dense::axpy(&mut grads.data[store_off..store_off + g.len()], T::ONE, g);
            }
        }
    }

    /// A human-readable listing of the nodes (op, shape, parents), for debugging.
    pub fn dump(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let _ = writeln!(
                s,
                "#{i:<5} {:<16} {}×{} {:?}{}",
                n.op.name(),
                n.rows,
                n.cols,
                n.op,
                if n.needs_grad { "" } else { "  (no grad)" }
            );
        }
        s
    }
}
