//! A cell instance: its shape, its compartments' storage, `advance` and the resets.

use ndarray::{ArrayViewD, IxDyn};

use super::error::CellError;
use super::layout::Layout;
use super::metadata::metadata_json;
use super::platform::{Platform, PORTABLE};
use super::real::Real;
use super::spec::{CellKind, Slot, Workspace};

/// The most compartments any cell type has.
pub const MAX_COMPARTMENTS: usize = 8;

/// Where a compartment's values live.
#[derive(Debug)]
enum Store<T> {
    /// In storage this cell owns.
    Owned(Vec<T>),
    /// Somewhere the owner of the cell keeps them (a caller's bound buffer); every
    /// operation that touches the values takes them as an argument.
    External,
}

/// A cell of the error-cell family, computing in `T` (`f32` or `f64`).
///
/// Compartments are identified by index (the order of [`CellKind::compartments`])
/// or by ngc-learn name. A compartment may be *external*: its values are lent to
/// each call instead of being held here (this is how the C ABI binds caller
/// buffers without copying). A cell with no external compartment is used with the
/// plain methods ([`advance`](Self::advance), [`reset`](Self::reset), ...).
#[derive(Debug)]
pub struct Cell<T: Real> {
    name: String,
    kind: CellKind,
    layout: Layout,
    initial_batch: usize,
    store: Vec<Store<T>>,
    /// What `advance` needs besides the compartments (partial sums, worker threads).
    ws: Workspace,
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

impl<T: Real> Cell<T> {
    /// Creates a cell with every compartment at its rest value, in storage it owns.
    ///
    /// Allocation is fallible: a size the machine cannot hold is [`CellError::Alloc`], not an abort.
    /// The kernel is the portable copy and threads are scoped threads spawned per
    /// call ([`PORTABLE`]); see [`with_platform`](Self::with_platform).
    pub fn new(name: &str, kind: CellKind, layout: Layout) -> Result<Cell<T>, CellError> {
        Cell::with_platform(name, kind, layout, &PORTABLE)
    }

    /// As [`new`](Self::new), taking the kernel copies and worker threads from
    /// `platform`.
    pub fn with_platform(
        name: &str,
        kind: CellKind,
        layout: Layout,
        platform: &'static dyn Platform,
    ) -> Result<Cell<T>, CellError> {
        let mut store = Vec::with_capacity(kind.compartments().len());
        for spec in kind.compartments() {
            let len = if spec.scalar { 1 } else { layout.count() };
            store.push(Store::Owned(alloc_filled(
                spec.name,
                len,
                T::from_f64(spec.rest),
            )?));
        }
        let ws = Workspace::with_platform(layout.count(), platform)?;
        Ok(Cell {
            name: name.to_string(),
            kind,
            initial_batch: layout.batch_size(),
            layout,
            store,
            ws,
        })
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cell type and its hyper-parameters.
    pub fn kind(&self) -> CellKind {
        self.kind
    }

    /// The current shape.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The batch size given at creation, which [`reset`](Self::reset) restores.
    pub fn initial_batch(&self) -> usize {
        self.initial_batch
    }

    /// The number of threads `advance` may use (default 1).
    pub fn threads(&self) -> usize {
        self.ws.threads()
    }

    /// Allows `advance` to use up to `threads` threads (at least 1; at most
    /// [`MAX_THREADS`](super::spec::MAX_THREADS) are used) on large cells.
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
        self.kind
            .index_of(name)
            .ok_or_else(|| CellError::UnknownCompartment {
                cell: self.name.clone(),
                kind: self.kind.type_name(),
                name: name.to_string(),
                known: self
                    .kind
                    .compartments()
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The element count of compartment `idx` at the current shape (1 for a scalar).
    pub fn len_of(&self, idx: usize) -> usize {
        self.len_at(idx, &self.layout)
    }

    fn len_at(&self, idx: usize, layout: &Layout) -> usize {
        if self.kind.compartments()[idx].scalar {
            1
        } else {
            layout.count()
        }
    }

    /// The dims of compartment `idx` (empty for a scalar).
    pub fn dims_of(&self, idx: usize) -> Vec<usize> {
        if self.kind.compartments()[idx].scalar {
            Vec::new()
        } else {
            self.layout.dims()
        }
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

    /// The owned values of compartment `idx`, writable, or `None` when it is external.
    pub fn owned_mut(&mut self, idx: usize) -> Option<&mut [T]> {
        match &mut self.store[idx] {
            Store::Owned(v) => Some(v),
            Store::External => None,
        }
    }

    /// Makes compartment `idx` external and frees its owned storage.
    pub fn detach(&mut self, idx: usize) {
        self.store[idx] = Store::External;
    }

    /// Makes compartment `idx` owned again, starting from `current` (its values until now).
    pub fn attach(&mut self, idx: usize, current: &[T]) -> Result<(), CellError> {
        let spec = &self.kind.compartments()[idx];
        let len = self.len_of(idx);
        if current.len() != len {
            return Err(CellError::LengthMismatch {
                name: spec.name.to_string(),
                expected: len,
                got: current.len(),
            });
        }
        let mut v = alloc_filled(spec.name, 0, T::ZERO)?;
        v.try_reserve_exact(len).map_err(|_| CellError::Alloc {
            name: spec.name.to_string(),
            bytes: len.saturating_mul(std::mem::size_of::<T>()),
        })?;
        v.extend_from_slice(current);
        self.store[idx] = Store::Owned(v);
        Ok(())
    }

    /// The values of an owned compartment by name.
    pub fn get(&self, name: &str) -> Result<&[T], CellError> {
        let idx = self.index(name)?;
        self.owned(idx)
            .ok_or_else(|| CellError::Internal(format!("compartment '{name}' is external")))
    }

    /// An owned compartment as an n-dimensional view of its shape (`(batch, n)`,
    /// `(batch, H, W, C)`, or 0-d for `L`).
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

    /// The loss `L` of an owned `L` compartment, as a double.
    pub fn loss(&self) -> Result<f64, CellError> {
        Ok(self.get("L")?[0].to_f64())
    }

    /// ngc-learn's `advance_state(dt)` (`dt` is unused by this cell type).
    pub fn advance(&mut self, dt: f64) -> Result<(), CellError> {
        self.advance_with(dt, &mut [])
    }

    /// `advance`, with the values of external compartments lent in `external`:
    /// `external[i]` is compartment `i` (or the slice is empty when no compartment is external).
    pub fn advance_with(
        &mut self,
        _dt: f64,
        external: &mut [Option<Slot<'_, T>>],
    ) -> Result<(), CellError> {
        let specs = self.kind.compartments();
        let n = specs.len();
        let mut slots: [Slot<'_, T>; MAX_COMPARTMENTS] = std::array::from_fn(|_| Slot::Read(&[]));
        for (i, store) in self.store.iter_mut().enumerate() {
            let lent = external.get_mut(i).and_then(Option::take);
            slots[i] = match (store, lent) {
                (Store::External, Some(slot)) => slot,
                (Store::Owned(v), None) => {
                    if specs[i].role.is_written() {
                        Slot::Write(v.as_mut_slice())
                    } else {
                        Slot::Read(v.as_slice())
                    }
                }
                (Store::External, None) => {
                    return Err(CellError::Internal(format!(
                        "external compartment '{}' was not lent to advance",
                        specs[i].name
                    )))
                }
                (Store::Owned(_), Some(_)) => {
                    return Err(CellError::Internal(format!(
                        "owned compartment '{}' was lent to advance",
                        specs[i].name
                    )))
                }
            };
        }
        self.kind.advance_in(&mut slots[..n], &mut self.ws)
    }

    /// ngc-learn's `reset()`: `batched_reset` to the batch size given at creation.
    pub fn reset(&mut self) -> Result<(), CellError> {
        self.reset_with(&mut [])
    }

    /// `reset`, writing rest values into the lent external compartments too.
    pub fn reset_with(&mut self, external: &mut [Option<&mut [T]>]) -> Result<(), CellError> {
        self.batched_reset_with(self.initial_batch, external)
    }

    /// ngc-learn's `batched_reset(b)`: every compartment re-created at its rest value
    /// with batch size `b`.
    pub fn batched_reset(&mut self, batch_size: usize) -> Result<(), CellError> {
        self.batched_reset_with(batch_size, &mut [])
    }

    /// The element count each compartment would have at batch size `batch_size`.
    pub fn len_at_batch(&self, idx: usize, batch_size: usize) -> Result<usize, CellError> {
        let layout = self.layout.with_batch(batch_size)?;
        Ok(self.len_at(idx, &layout))
    }

    /// `batched_reset`, writing rest values into the lent external compartments,
    /// each of which must be exactly the new element count long.
    ///
    /// All or nothing: on any error (zero or overflowing size, a lent slice of the
    /// wrong length, an allocation failure) nothing has changed.
    pub fn batched_reset_with(
        &mut self,
        batch_size: usize,
        external: &mut [Option<&mut [T]>],
    ) -> Result<(), CellError> {
        let layout = self.layout.with_batch(batch_size)?;
        let specs = self.kind.compartments();
        // First everything that can fail.
        let mut fresh: [Option<Vec<T>>; MAX_COMPARTMENTS] = Default::default();
        for (i, spec) in specs.iter().enumerate() {
            let len = self.len_at(i, &layout);
            let rest = T::from_f64(spec.rest);
            let lent = external.get(i).and_then(|e| e.as_deref());
            match (&mut self.store[i], lent) {
                (Store::External, Some(slice)) if slice.len() == len => {}
                (Store::External, Some(slice)) => {
                    return Err(CellError::LengthMismatch {
                        name: spec.name.to_string(),
                        expected: len,
                        got: slice.len(),
                    })
                }
                (Store::External, None) => {
                    return Err(CellError::Internal(format!(
                        "external compartment '{}' was not lent to reset",
                        spec.name
                    )))
                }
                (Store::Owned(v), _) if v.len() == len => {}
                (Store::Owned(_), _) => fresh[i] = Some(alloc_filled(spec.name, len, rest)?),
            }
        }
        // Grows the partial sums if needed (fallible, and harmless if a later step failed).
        self.ws.resize(layout.count())?;
        // Then commit.
        for (i, spec) in specs.iter().enumerate() {
            let rest = T::from_f64(spec.rest);
            match &mut self.store[i] {
                Store::Owned(v) => match fresh[i].take() {
                    Some(new) => *v = new,
                    None => v.fill(rest),
                },
                Store::External => {
                    if let Some(Some(slice)) = external.get_mut(i) {
                        slice.fill(rest);
                    }
                }
            }
        }
        self.layout = layout;
        Ok(())
    }

    /// The metadata JSON (see [`metadata_json`]).
    pub fn metadata_json(&self) -> String {
        metadata_json(&self.kind, &self.name, T::DTYPE.name(), &self.layout)
    }
}
