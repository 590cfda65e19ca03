//! Parameters in one flat vector with named ranges, and gradients in the same layout.
//!
//! An optimiser step is then one loop over two slices, and checkpoints are one array.

use crate::Float;
use crate::error::ConfigError;

/// Handle of one parameter (a `rows × cols` block) in a [`ParamStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamId(pub(crate) u32);

impl ParamId {
    /// Position of the parameter in its store (registration order).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Name, offset and shape of one parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    /// Unique name, e.g. `"flow.0.W"`.
    pub name: String,
    /// Offset of the first element in the flat vector.
    pub offset: usize,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

impl ParamInfo {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// True for an empty block.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The element range in the flat vector.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }
}

/// All parameters of a model, flat, with named row-major blocks.
///
/// # Example
/// ```
/// use neurodyn::tape::ParamStore;
/// let mut store = ParamStore::<f64>::new();
/// let w = store.add("W", 2, 3, &[1.0; 6])?;
/// assert_eq!(store.get(w), &[1.0; 6]);
/// assert_eq!(store.id("W"), Some(w));
/// assert_eq!(store.len(), 6);
/// # Ok::<(), neurodyn::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamStore<T> {
    data: Vec<T>,
    infos: Vec<ParamInfo>,
}

impl<T: Float> ParamStore<T> {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            data: Vec::new(),
            infos: Vec::new(),
        }
    }

    /// Registers a parameter with initial values (row-major).
    ///
    /// # Errors
    /// If the name is taken, or `init.len() != rows·cols`, or a value is not finite.
    pub fn add(
        &mut self,
        name: &str,
        rows: usize,
        cols: usize,
        init: &[T],
    ) -> Result<ParamId, ConfigError> {
        if self.id(name).is_some() {
            return Err(ConfigError::new(
                name,
                "a parameter of this name already exists",
            ));
        }
        if init.len() != rows * cols {
            return Err(ConfigError::new(
                name,
                format!("{} values for a {rows}×{cols} parameter", init.len()),
            ));
        }
        if let Some(i) = init.iter().position(|x| !x.is_finite()) {
            return Err(ConfigError::new(name, format!("element {i} is not finite")));
        }
        let id = ParamId(self.infos.len() as u32);
        self.infos.push(ParamInfo {
            name: name.to_string(),
            offset: self.data.len(),
            rows,
            cols,
        });
        self.data.extend_from_slice(init);
        Ok(id)
    }

    /// The id of a parameter by name.
    pub fn id(&self, name: &str) -> Option<ParamId> {
        self.infos
            .iter()
            .position(|p| p.name == name)
            .map(|i| ParamId(i as u32))
    }

    /// Name, offset and shape of a parameter.
    pub fn info(&self, id: ParamId) -> &ParamInfo {
        &self.infos[id.index()]
    }

    /// All parameters in registration order.
    pub fn infos(&self) -> &[ParamInfo] {
        &self.infos
    }

    /// Ids in registration order.
    pub fn ids(&self) -> impl Iterator<Item = ParamId> + '_ {
        (0..self.infos.len()).map(|i| ParamId(i as u32))
    }

    /// The values of one parameter.
    pub fn get(&self, id: ParamId) -> &[T] {
        &self.data[self.infos[id.index()].range()]
    }

    /// The values of one parameter, mutable.
    pub fn get_mut(&mut self, id: ParamId) -> &mut [T] {
        let r = self.infos[id.index()].range();
        &mut self.data[r]
    }

    /// All values, flat.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// All values, flat and mutable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Total number of scalars.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when no parameter holds any scalar.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// A zero gradient with this store's layout.
    pub fn zeros_like(&self) -> Grads<T> {
        Grads {
            data: vec![T::ZERO; self.data.len()],
        }
    }

    /// The same layout with values converted to another float type.
    pub fn cast<U: Float>(&self) -> ParamStore<U> {
        ParamStore {
            data: self.data.iter().map(|x| U::from_f64(x.to_f64())).collect(),
            infos: self.infos.clone(),
        }
    }
}

/// Gradients in the layout of a [`ParamStore`].
#[derive(Clone, Debug, PartialEq)]
pub struct Grads<T> {
    pub(crate) data: Vec<T>,
}

impl<T: Float> Grads<T> {
    /// A zero gradient of `len` scalars (use [`ParamStore::zeros_like`] normally).
    pub fn zeros(len: usize) -> Self {
        Self {
            data: vec![T::ZERO; len],
        }
    }
    /// The gradient of one parameter.
    pub fn get<'a>(&'a self, store: &ParamStore<T>, id: ParamId) -> &'a [T] {
        &self.data[store.info(id).range()]
    }
    /// All gradients, flat.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }
    /// All gradients, flat and mutable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }
    /// Sets every entry to zero (keeps the allocation).
    pub fn zero(&mut self) {
        self.data.fill(T::ZERO);
    }
    /// `self += other`.
    ///
    /// # Panics
    /// If the layouts differ in length.
    pub fn add_assign(&mut self, other: &Grads<T>) {
        assert_eq!(
            self.data.len(),
            other.data.len(),
            "Grads::add_assign: lengths differ"
        );
        crate::dense::axpy(&mut self.data, T::ONE, &other.data);
    }
    /// Euclidean norm of all entries.
    pub fn norm(&self) -> T {
        crate::dense::dot(&self.data, &self.data).sqrt()
    }
    /// True when every entry is finite.
    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }
}
