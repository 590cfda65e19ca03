//! Gradient buffers of a backward pass, recycled as soon as a node's rule has run.
//!
//! A node's gradient is needed from its first contribution (the rule of a later node) until
//! its own rule has passed it on; during a solve's backward pass only a few stages' worth are
//! alive at once. Each node therefore borrows a buffer from a pool when it first receives a
//! contribution and returns it after its rule, so that gradients are written into memory that
//! is still in cache instead of into a fresh arena as large as the tape. Leaves and parameters
//! keep theirs (they are what callers read); [`Tape::set_keep_grads`](super::Tape) keeps all.

use crate::Float;

/// Per-node gradient buffers and the pool they come from.
#[derive(Debug, Default)]
pub(crate) struct GradStore<T> {
    /// Buffer of node `i` (empty when it has none); may be longer than the node.
    bufs: Vec<Vec<T>>,
    /// Whether node `i` received a contribution in the current pass.
    ready: Vec<bool>,
    /// Free buffers, taken by best fit ([`GradStore::attach`]).
    pool: Vec<Vec<T>>,
}

impl<T: Float> GradStore<T> {
    /// Starts a pass over `nodes` nodes: every buffer of the previous pass returns to the pool.
    pub(crate) fn reset(&mut self, nodes: usize) {
        for b in self.bufs.drain(..) {
            if !b.is_empty() {
                self.pool.push(b);
            }
        }
        self.bufs.resize_with(nodes, Vec::new);
        self.ready.clear();
        self.ready.resize(nodes, false);
    }

    /// Whether node `i` received a contribution in the last pass.
    #[inline]
    pub(crate) fn is_ready(&self, i: usize) -> bool {
        self.ready.get(i).copied().unwrap_or(false)
    }

    /// Scalars in all buffers, attached or pooled.
    pub(crate) fn footprint(&self) -> usize {
        self.bufs.iter().chain(&self.pool).map(Vec::len).sum()
    }

    /// Nodes covered by the last pass.
    pub(crate) fn len(&self) -> usize {
        self.ready.len()
    }

    /// The gradient of node `i` (`len` elements), if it was kept.
    #[inline]
    pub(crate) fn get(&self, i: usize, len: usize) -> Option<&[T]> {
        self.bufs.get(i).and_then(|b| b.get(..len))
    }

    /// The buffer of node `i` for writing (it must have one).
    #[inline]
    pub(crate) fn slice_mut(&mut self, i: usize, len: usize) -> &mut [T] {
        &mut self.bufs[i][..len]
    }

    /// The buffers of two or three distinct nodes at once, or `None` if they coincide.
    #[inline]
    pub(crate) fn disjoint_mut<const K: usize>(
        &mut self,
        ids: [usize; K],
        lens: [usize; K],
    ) -> Option<[&mut [T]; K]> {
        let bufs = self.bufs.get_disjoint_mut(ids).ok()?;
        let mut lens = lens.into_iter();
        Some(bufs.map(|b| &mut b[..lens.next().unwrap_or(0)]))
    }

    /// Gives node `i` a zeroed buffer of `len` elements on its first contribution.
    #[inline]
    pub(crate) fn make_ready(&mut self, i: usize, len: usize) {
        if !self.ready[i] {
            self.attach(i, len);
            self.bufs[i][..len].fill(T::ZERO);
            self.ready[i] = true;
        }
    }

    /// Marks node `i` as written and says whether this is its first contribution, which must
    /// then overwrite the buffer's stale contents. Debug builds fill a fresh buffer with NaN, so
    /// that a rule that leaves any element unwritten fails the gradient checks.
    #[inline]
    pub(crate) fn claim(&mut self, i: usize, len: usize) -> bool {
        let fresh = !self.ready[i];
        if fresh {
            self.attach(i, len);
            if cfg!(debug_assertions) {
                self.bufs[i][..len].fill(T::NAN);
            }
            self.ready[i] = true;
        }
        fresh
    }

    /// Takes node `i`'s buffer out (to read it while its inputs' buffers are written).
    #[inline]
    pub(crate) fn take(&mut self, i: usize) -> Vec<T> {
        std::mem::take(&mut self.bufs[i])
    }

    /// Puts back a buffer taken with [`GradStore::take`].
    #[inline]
    pub(crate) fn put(&mut self, i: usize, b: Vec<T>) {
        self.bufs[i] = b;
    }

    /// Returns a buffer to the pool.
    #[inline]
    pub(crate) fn recycle(&mut self, b: Vec<T>) {
        if !b.is_empty() {
            self.pool.push(b);
        }
    }

    /// Returns node `i`'s buffer to the pool (its gradient is no longer readable).
    #[inline]
    pub(crate) fn free(&mut self, i: usize) {
        let b = self.take(i);
        self.recycle(b);
    }

    /// A buffer of at least `len` elements for node `i`: the shortest free one that is long
    /// enough (of those, the most recently freed), or a new one. Choosing by length alone makes
    /// a repeated pass take the same buffers, so that once warm it allocates nothing.
    fn attach(&mut self, i: usize, len: usize) {
        let mut pos: Option<usize> = None;
        for (k, b) in self.pool.iter().enumerate() {
            if b.len() >= len && pos.is_none_or(|p| b.len() <= self.pool[p].len()) {
                pos = Some(k);
            }
        }
        self.bufs[i] = match pos {
            Some(p) => self.pool.swap_remove(p),
            None => vec![T::ZERO; len],
        };
    }
}
