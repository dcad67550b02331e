//! A cell instance: its shapes, its compartments' storage, and the generic
//! operations (advance, evolve, the resets, copies in and out) for any cell type.

use ndarray::{ArrayViewD, IxDyn};

use super::cells::{is_registered, MAX_COMPARTMENTS};
use super::error::{short, CellError};
use super::layout::{check_broadcast, Layout};
use super::metadata::{metadata_json, Described};
use super::platform::{Platform, Portable};
use super::real::Real;
use super::spec::{CellSpec, CellType, Extent, Role, Shapes, Slot};
use super::workspace::Workspace;

/// Where a compartment's values live.
#[derive(Debug)]
enum Store<T> {
    /// In storage this cell owns.
    Owned(Vec<T>),
    /// Somewhere the owner of the cell keeps them (a caller's bound buffer); every
    /// operation that touches the values takes them as an argument.
    External,
}

/// A cell of any type, computing in `T` (`f32` or `f64`) on platform `P`.
///
/// Compartments are identified by index (the order of its [`CellSpec`]) or by
/// ngc-learn name. A compartment may be *external*: its values are lent to
/// each call instead of being held here (this is how the C ABI binds caller
/// buffers without copying). A cell with no external compartment is used with
/// the plain methods ([`advance`](Self::advance), [`reset`](Self::reset), ...).
#[derive(Debug)]
pub struct Cell<T: Real, P: Platform = Portable> {
    name: String,
    kind: Box<dyn CellType<T, P>>,
    spec: &'static CellSpec,
    layout: Layout,
    initial_batch: usize,
    shapes: Shapes,
    store: Vec<Store<T>>,
    /// Per compartment: owned, and holding its rest value in every element
    /// (set by creation and the resets, kept by advance for inputs, lost on
    /// any write). Such inputs are lent as [`Slot::Rest`]: the kernels skip
    /// them (a modulator of ones is not read; a mask of ones is neither read
    /// nor rewritten), with the same results.
    at_rest: Vec<bool>,
    /// What `advance` needs besides the compartments (partial sums, worker threads).
    ws: Workspace<P>,
}

fn alloc_filled<T: Real>(name: &str, len: usize, value: T) -> Result<Vec<T>, CellError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| CellError::Alloc {
        name: name.to_string(),
        bytes: len.saturating_mul(std::mem::size_of::<T>()),
    })?;
    v.resize(len, value);
    Ok(v)
}

fn alloc_copy<T: Real>(name: &str, values: &[T]) -> Result<Vec<T>, CellError> {
    let mut v = Vec::new();
    v.try_reserve_exact(values.len())
        .map_err(|_| CellError::Alloc {
            name: name.to_string(),
            bytes: std::mem::size_of_val(values),
        })?;
    v.extend_from_slice(values);
    Ok(v)
}

/// The values of external compartments, lent to a call that may write them:
/// `external[i]` is compartment `i` (or the slice is empty when none is external).
pub type Lent<'a, 'b, T> = &'b mut [Option<&'a mut [T]>];

/// The values of external compartments, lent to `advance` or `evolve`:
/// read-only for the compartments the dynamics only read.
pub type LentSlots<'a, 'b, T> = &'b mut [Option<Slot<'a, T>>];

impl<T: Real, P: Platform> Cell<T, P> {
    /// Creates a cell of type `kind` with every compartment at its rest value,
    /// in storage it owns.
    ///
    /// Allocation is fallible: a size the machine cannot hold is
    /// [`CellError::Alloc`], not an abort.
    pub fn new(
        name: &str,
        mut kind: Box<dyn CellType<T, P>>,
        layout: Layout,
    ) -> Result<Cell<T, P>, CellError> {
        let spec = kind.spec();
        if !is_registered(spec) || spec.compartments.len() > MAX_COMPARTMENTS {
            return Err(CellError::Internal(format!(
                "cell type {} is not in core::cells::FAMILY",
                spec.type_name
            )));
        }
        let param = kind.param_dims();
        check_broadcast(&param, &layout.dims()).map_err(|detail| CellError::ShapeMismatch {
            name: "parameter".into(),
            detail,
        })?;
        let shapes = Shapes {
            state: layout.dims(),
            param,
        };
        let mut store = Vec::with_capacity(spec.compartments.len());
        for (i, c) in spec.compartments.iter().enumerate() {
            let rest = T::from_f64(kind.rest(i));
            store.push(Store::Owned(alloc_filled(
                c.name,
                shapes.len(c.extent),
                rest,
            )?));
        }
        kind.reshape(&shapes)?;
        let ws = Workspace::new(layout.count())?;
        let at_rest = vec![true; store.len()];
        Ok(Cell {
            name: name.to_string(),
            kind,
            spec,
            initial_batch: layout.batch_size(),
            layout,
            shapes,
            store,
            at_rest,
            ws,
        })
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cell type's description.
    pub fn spec(&self) -> &'static CellSpec {
        self.spec
    }

    /// The current shape.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The current state and parameter shapes.
    pub fn shapes(&self) -> &Shapes {
        &self.shapes
    }

    /// The batch size given at creation, which [`reset`](Self::reset) restores.
    pub fn initial_batch(&self) -> usize {
        self.initial_batch
    }

    /// The number of threads `advance` may use (default 1; at most
    /// [`MAX_THREADS`](super::workspace::MAX_THREADS)).
    pub fn threads(&self) -> usize {
        self.ws.threads()
    }

    /// Allows `advance` to use up to `threads` threads (at least 1; at most
    /// [`MAX_THREADS`](super::workspace::MAX_THREADS)) on large cells.
    /// Results are bit-identical for any value.
    ///
    /// Threads are used from `2 * MIN_ELEMENTS_PER_THREAD` elements on. The
    /// worker threads a cell of this size will use are started here (or by
    /// `batched_reset` when it grows the cell), so `advance` never starts one;
    /// they sleep between calls and are joined when the cell is dropped or no
    /// longer needs them. Fails (changing nothing) when the system will not
    /// start a thread.
    pub fn set_threads(&mut self, threads: usize) -> Result<(), CellError> {
        self.ws.set_threads(threads)
    }

    /// The number of compartments.
    pub fn compartment_count(&self) -> usize {
        self.store.len()
    }

    /// The index of the compartment called `name`.
    pub fn index(&self, name: &str) -> Result<usize, CellError> {
        self.spec
            .index_of(name)
            .ok_or_else(|| CellError::UnknownCompartment {
                cell: short(&self.name),
                kind: self.spec.type_name,
                name: short(name),
                known: self
                    .spec
                    .compartments
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The element count of compartment `idx` at the current shapes.
    pub fn len_of(&self, idx: usize) -> usize {
        self.shapes.len(self.spec.compartments[idx].extent)
    }

    /// The dims of compartment `idx` (empty for a scalar).
    pub fn dims_of(&self, idx: usize) -> Vec<usize> {
        self.shapes.dims(self.spec.compartments[idx].extent)
    }

    /// Whether compartment `idx` is external (its values are lent to each call).
    pub fn is_external(&self, idx: usize) -> bool {
        matches!(self.store[idx], Store::External)
    }

    /// The owned values of compartment `idx`, or `None` when it is external.
    pub fn owned(&self, idx: usize) -> Option<&[T]> {
        match &self.store[idx] {
            Store::Owned(v) => Some(v),
            Store::External => None,
        }
    }

    /// The owned values of compartment `idx`, writable, or `None` when it is
    /// external. (The cell then no longer assumes it holds its rest value.)
    pub fn owned_mut(&mut self, idx: usize) -> Option<&mut [T]> {
        self.at_rest[idx] = false;
        match &mut self.store[idx] {
            Store::Owned(v) => Some(v),
            Store::External => None,
        }
    }

    /// Makes compartment `idx` external and frees its owned storage.
    pub fn detach(&mut self, idx: usize) {
        self.store[idx] = Store::External;
        self.at_rest[idx] = false;
    }

    /// Whether compartment `idx` is owned and holds its rest value in every
    /// element (so the kernels skip it).
    pub fn is_at_rest(&self, idx: usize) -> bool {
        self.at_rest[idx]
    }

    /// Makes compartment `idx` owned again, starting from `current` (its values until now).
    pub fn attach(&mut self, idx: usize, current: &[T]) -> Result<(), CellError> {
        let name = self.spec.compartments[idx].name;
        let len = self.len_of(idx);
        if current.len() != len {
            return Err(CellError::LengthMismatch {
                name: name.to_string(),
                expected: len,
                got: current.len(),
            });
        }
        self.store[idx] = Store::Owned(alloc_copy(name, current)?);
        self.at_rest[idx] = false;
        Ok(())
    }

    /// The values of an owned compartment by name.
    pub fn get(&self, name: &str) -> Result<&[T], CellError> {
        let idx = self.index(name)?;
        self.owned(idx)
            .ok_or_else(|| CellError::Internal(format!("compartment '{name}' is external")))
    }

    /// An owned compartment as an n-dimensional view of its shape (`(batch, n)`,
    /// `(batch, H, W, C)`, 0-d for a scalar, ...).
    pub fn view(&self, name: &str) -> Result<ArrayViewD<'_, T>, CellError> {
        let idx = self.index(name)?;
        let data = self.get(name)?;
        ArrayViewD::from_shape(IxDyn(&self.dims_of(idx)), data)
            .map_err(|e| CellError::Internal(e.to_string()))
    }

    /// Copies `values` into an owned compartment; `values.len()` must be its element count.
    pub fn set(&mut self, name: &str, values: &[T]) -> Result<(), CellError> {
        let idx = self.index(name)?;
        let len = self.len_of(idx);
        if values.len() != len {
            return Err(CellError::LengthMismatch {
                name: name.to_string(),
                expected: len,
                got: values.len(),
            });
        }
        self.owned_mut(idx)
            .ok_or_else(|| CellError::Internal(format!("compartment '{name}' is external")))?
            .copy_from_slice(values);
        Ok(())
    }

    /// The shapes the cell would have if compartment `idx` took the shape
    /// `dims`: refused ([`CellError::ShapeMismatch`]) unless it is a
    /// parameter-shaped compartment and `dims` broadcasts against the state
    /// shape, or `dims` is its current shape.
    pub fn shapes_with(&self, idx: usize, dims: &[usize]) -> Result<Shapes, CellError> {
        let c = &self.spec.compartments[idx];
        if dims.contains(&0) {
            return Err(CellError::ZeroSize { what: "a dim" });
        }
        let mut shapes = self.shapes.clone();
        if c.extent == Extent::Param {
            check_broadcast(dims, &shapes.state).map_err(|detail| CellError::ShapeMismatch {
                name: c.name.to_string(),
                detail,
            })?;
            shapes.param = dims.to_vec();
        } else if dims != self.dims_of(idx).as_slice() {
            return Err(CellError::ShapeMismatch {
                name: c.name.to_string(),
                detail: format!(
                    "its shape is fixed at {:?} by the cell; dims {dims:?} were given",
                    self.dims_of(idx)
                ),
            });
        }
        Ok(shapes)
    }

    /// Gives compartment `idx` the shape `dims` and the values `values` (see
    /// [`shapes_with`](Self::shapes_with)). The other compartments whose
    /// shape follows the parameter (`dSigma`, `L`) take their rest value at
    /// the new shape. External compartments whose length changes (and `idx`
    /// itself when external) are lent in `external` at their new length.
    ///
    /// All or nothing: on error nothing has changed.
    pub fn set_shaped_with(
        &mut self,
        idx: usize,
        values: &[T],
        dims: &[usize],
        external: Lent<'_, '_, T>,
    ) -> Result<(), CellError> {
        let shapes = self.shapes_with(idx, dims)?;
        let name = self.spec.compartments[idx].name;
        if values.len() != shapes.len(self.spec.compartments[idx].extent) {
            return Err(CellError::LengthMismatch {
                name: name.to_string(),
                expected: shapes.len(self.spec.compartments[idx].extent),
                got: values.len(),
            });
        }
        if shapes == self.shapes {
            return self.write(idx, values, external);
        }
        // Every compartment whose shape follows the parameter: its new values.
        let mut fresh: [Option<Vec<T>>; MAX_COMPARTMENTS] = Default::default();
        for (i, c) in self.spec.compartments.iter().enumerate() {
            if !matches!(c.extent, Extent::Param | Extent::ParamSqueezed) {
                continue;
            }
            let len = shapes.len(c.extent);
            match (&self.store[i], external.get(i).and_then(|e| e.as_deref())) {
                (Store::External, Some(s)) if s.len() == len => {}
                (Store::External, _) => {
                    return Err(CellError::Internal(format!(
                        "external compartment '{}' was not lent at its new length {len}",
                        c.name
                    )))
                }
                (Store::Owned(_), _) if i == idx => fresh[i] = Some(alloc_copy(c.name, values)?),
                (Store::Owned(_), _) => {
                    fresh[i] = Some(alloc_filled(c.name, len, T::from_f64(self.kind.rest(i)))?)
                }
            }
        }
        self.kind.reshape(&shapes)?;
        // Commit.
        for (i, c) in self.spec.compartments.iter().enumerate() {
            if !matches!(c.extent, Extent::Param | Extent::ParamSqueezed) {
                continue;
            }
            match &mut self.store[i] {
                Store::Owned(v) => {
                    if let Some(new) = fresh[i].take() {
                        *v = new;
                        self.at_rest[i] = i != idx;
                    }
                }
                Store::External => {
                    if let Some(Some(s)) = external.get_mut(i) {
                        if i == idx {
                            s.copy_from_slice(values);
                        } else {
                            s.fill(T::from_f64(self.kind.rest(i)));
                        }
                    }
                }
            }
        }
        self.shapes = shapes;
        Ok(())
    }

    /// `set_shaped_with` for a cell with no external compartment.
    pub fn set_shaped(
        &mut self,
        name: &str,
        values: &[T],
        dims: &[usize],
    ) -> Result<(), CellError> {
        let idx = self.index(name)?;
        self.set_shaped_with(idx, values, dims, &mut [])
    }

    /// Writes `values` into compartment `idx`, owned or lent.
    fn write(
        &mut self,
        idx: usize,
        values: &[T],
        external: Lent<'_, '_, T>,
    ) -> Result<(), CellError> {
        let name = self.spec.compartments[idx].name;
        self.at_rest[idx] = false;
        let dst = match &mut self.store[idx] {
            Store::Owned(v) => v.as_mut_slice(),
            Store::External => external
                .get_mut(idx)
                .and_then(|e| e.as_deref_mut())
                .ok_or_else(|| {
                    CellError::Internal(format!("external compartment '{name}' was not lent"))
                })?,
        };
        if dst.len() != values.len() {
            return Err(CellError::LengthMismatch {
                name: name.to_string(),
                expected: dst.len(),
                got: values.len(),
            });
        }
        dst.copy_from_slice(values);
        Ok(())
    }

    /// The loss `L` as a double: the value of a one-element compartment `L`.
    /// [`CellError::NotSupported`] for a cell type without one (or whose `L`
    /// has several elements, like a Gaussian cell's with a per-unit `Sigma`).
    pub fn loss_index(&self) -> Result<usize, CellError> {
        match self.spec.index_of("L") {
            Some(i) if self.len_of(i) == 1 => Ok(i),
            Some(i) => Err(CellError::NotSupported(format!(
                "{} '{}' has an L of {} elements (shape {:?}), not one value; read it with ngc_cell_get",
                self.spec.type_name,
                short(&self.name),
                self.len_of(i),
                self.dims_of(i)
            ))),
            None => Err(CellError::NotSupported(format!(
                "{} has no loss compartment L",
                self.spec.type_name
            ))),
        }
    }

    /// The loss `L` of an owned one-element `L` compartment, as a double.
    pub fn loss(&self) -> Result<f64, CellError> {
        let i = self.loss_index()?;
        Ok(self
            .owned(i)
            .ok_or_else(|| CellError::Internal("L is external".into()))?[0]
            .to_f64())
    }

    /// ngc-learn's `advance_state(dt)`.
    pub fn advance(&mut self, dt: f64) -> Result<(), CellError> {
        self.advance_with(dt, &mut [])
    }

    /// `advance`, with the values of external compartments lent in `external`.
    pub fn advance_with(
        &mut self,
        dt: f64,
        external: LentSlots<'_, '_, T>,
    ) -> Result<(), CellError> {
        self.step(dt, external, false)
    }

    /// ngc-learn's `evolve(dt)`; does nothing for a cell type without one.
    pub fn evolve(&mut self, dt: f64) -> Result<(), CellError> {
        self.evolve_with(dt, &mut [])
    }

    /// `evolve`, with the values of external compartments lent in `external`.
    pub fn evolve_with(
        &mut self,
        dt: f64,
        external: LentSlots<'_, '_, T>,
    ) -> Result<(), CellError> {
        self.step(dt, external, true)
    }

    /// Lends every compartment to the cell type's `advance` (or `evolve`).
    fn step(
        &mut self,
        dt: f64,
        external: LentSlots<'_, '_, T>,
        evolve: bool,
    ) -> Result<(), CellError> {
        let specs = self.spec.compartments;
        let n = specs.len();
        let mut slots: [Slot<'_, T>; MAX_COMPARTMENTS] = std::array::from_fn(|_| Slot::Read(&[]));
        for (i, store) in self.store.iter_mut().enumerate() {
            let c = &specs[i];
            let lent = external.get_mut(i).and_then(Option::take);
            let resting = self.at_rest[i] && matches!(c.role, Role::Input | Role::ConsumedInput);
            let slot = match (store, lent) {
                (Store::External, Some(slot)) => slot,
                (Store::Owned(v), None) => {
                    if resting {
                        Slot::Rest(v.as_mut_slice())
                    } else if c.role.is_written() {
                        Slot::Write(v.as_mut_slice())
                    } else {
                        Slot::Read(v.as_slice())
                    }
                }
                (Store::External, None) => {
                    return Err(CellError::Internal(format!(
                        "external compartment '{}' was not lent",
                        c.name
                    )))
                }
                (Store::Owned(_), Some(_)) => {
                    return Err(CellError::Internal(format!(
                        "owned compartment '{}' was lent",
                        c.name
                    )))
                }
            };
            let want = self.shapes.len(c.extent);
            if slot.as_slice().len() != want {
                return Err(CellError::LengthMismatch {
                    name: c.name.to_string(),
                    expected: want,
                    got: slot.as_slice().len(),
                });
            }
            if c.role.is_written() && matches!(slot, Slot::Read(_)) {
                return Err(CellError::Internal(format!(
                    "compartment '{}' is written by the dynamics but was lent read-only",
                    c.name
                )));
            }
            slots[i] = slot;
        }
        let result = if evolve {
            self.kind
                .evolve(&mut slots[..n], &self.shapes, &mut self.ws, dt)
        } else {
            self.kind
                .advance(&mut slots[..n], &self.shapes, &mut self.ws, dt)
        };
        // (The slots' borrows of the storage end here.)
        // What the dynamics wrote is no longer at rest, except a consumed
        // input that was (it stays ones) or that became so: a mask eaten from
        // finite values is ones again, which one pass over it confirms.
        for (i, c) in specs.iter().enumerate() {
            match c.role {
                Role::ConsumedInput if !self.at_rest[i] => {
                    if let Store::Owned(v) = &self.store[i] {
                        let rest = T::from_f64(self.kind.rest(i)).to_f64().to_bits();
                        self.at_rest[i] = v.iter().all(|x| x.to_f64().to_bits() == rest);
                    }
                }
                Role::State | Role::Output => self.at_rest[i] = false,
                _ => {}
            }
        }
        result
    }

    /// ngc-learn's `reset()`: `batched_reset` to the batch size given at creation.
    pub fn reset(&mut self) -> Result<(), CellError> {
        self.reset_with(&mut [])
    }

    /// `reset`, writing rest values into the lent external compartments too.
    pub fn reset_with(&mut self, external: Lent<'_, '_, T>) -> Result<(), CellError> {
        self.batched_reset_with(self.initial_batch, external)
    }

    /// ngc-learn's `batched_reset(b)`: every compartment but the parameters
    /// re-created at its rest value with batch size `b`.
    pub fn batched_reset(&mut self, batch_size: usize) -> Result<(), CellError> {
        self.batched_reset_with(batch_size, &mut [])
    }

    /// The shapes at batch size `batch_size`: refused when the parameter
    /// shape does not broadcast against the new state shape.
    pub fn shapes_at_batch(&self, batch_size: usize) -> Result<(Layout, Shapes), CellError> {
        let layout = self.layout.with_batch(batch_size)?;
        let state = layout.dims();
        check_broadcast(&self.shapes.param, &state).map_err(|detail| {
            let name = self
                .spec
                .compartments
                .iter()
                .find(|c| c.role == Role::Parameter)
                .map_or("parameter", |c| c.name);
            CellError::ShapeMismatch {
                name: name.to_string(),
                detail: format!(
                    "{detail}; the resets keep it, so give it a shape that fits batch size \
                     {batch_size} first (e.g. with a leading 1)"
                ),
            }
        })?;
        Ok((
            layout,
            Shapes {
                state,
                param: self.shapes.param.clone(),
            },
        ))
    }

    /// The element count each compartment would have at batch size `batch_size`.
    pub fn len_at_batch(&self, idx: usize, batch_size: usize) -> Result<usize, CellError> {
        let (_, shapes) = self.shapes_at_batch(batch_size)?;
        Ok(shapes.len(self.spec.compartments[idx].extent))
    }

    /// `batched_reset`, writing rest values into the lent external
    /// compartments, each of which must be exactly its new element count long.
    ///
    /// All or nothing: on any error (zero or overflowing size, a parameter that
    /// does not fit the new batch, a lent slice of the wrong length, an
    /// allocation failure) nothing has changed.
    pub fn batched_reset_with(
        &mut self,
        batch_size: usize,
        external: Lent<'_, '_, T>,
    ) -> Result<(), CellError> {
        let (layout, shapes) = self.shapes_at_batch(batch_size)?;
        let specs = self.spec.compartments;
        // First everything that can fail.
        let mut fresh: [Option<Vec<T>>; MAX_COMPARTMENTS] = Default::default();
        for (i, c) in specs.iter().enumerate() {
            let len = shapes.len(c.extent);
            let rest = T::from_f64(self.kind.rest(i));
            if !c.role.is_reset() {
                // Kept as it is; its shape does not depend on the batch size.
                if matches!(c.extent, Extent::State | Extent::PerSample) {
                    return Err(CellError::Internal(format!(
                        "parameter '{}' would change length in a reset",
                        c.name
                    )));
                }
                continue;
            }
            let lent = external.get(i).and_then(|e| e.as_deref());
            match (&mut self.store[i], lent) {
                (Store::External, Some(slice)) if slice.len() == len => {}
                (Store::External, Some(slice)) => {
                    return Err(CellError::LengthMismatch {
                        name: c.name.to_string(),
                        expected: len,
                        got: slice.len(),
                    })
                }
                (Store::External, None) => {
                    return Err(CellError::Internal(format!(
                        "external compartment '{}' was not lent to reset",
                        c.name
                    )))
                }
                (Store::Owned(v), _) if v.len() == len => {}
                (Store::Owned(_), _) => fresh[i] = Some(alloc_filled(c.name, len, rest)?),
            }
        }
        // Grows the partial sums and scratch space if needed (fallible, and
        // harmless if a later step failed).
        self.ws.resize(layout.count())?;
        self.kind.reshape(&shapes)?;
        // Then commit.
        for (i, c) in specs.iter().enumerate() {
            if !c.role.is_reset() {
                continue;
            }
            let rest = T::from_f64(self.kind.rest(i));
            match &mut self.store[i] {
                Store::Owned(v) => {
                    match fresh[i].take() {
                        Some(new) => *v = new,
                        None => v.fill(rest),
                    }
                    self.at_rest[i] = true;
                }
                Store::External => {
                    if let Some(Some(slice)) = external.get_mut(i) {
                        slice.fill(rest);
                    }
                }
            }
        }
        self.layout = layout;
        self.shapes = shapes;
        Ok(())
    }

    /// The metadata JSON (see [`metadata_json`]).
    pub fn metadata_json(&self) -> String {
        let rests: Vec<f64> = (0..self.spec.compartments.len())
            .map(|i| self.kind.rest(i))
            .collect();
        metadata_json(&Described {
            spec: self.spec,
            hyperparameters: &self.kind.hyperparameters(),
            name: &self.name,
            dtype: T::DTYPE.name(),
            layout: &self.layout,
            shapes: &self.shapes,
            rests: &rests,
        })
    }
}
