//! What an `NgcCell*` points to, and the typed operations behind the exports.
//!
//! A cell's compartments are either in storage the core cell owns, or in a
//! caller's buffer bound with `ngc_cell_bind`. This module keeps the table of
//! bindings and turns bound buffers into slices for the core, under these
//! invariants, which every function here maintains:
//!
//! 1. A binding's `capacity` (in elements) is at least the compartment's element
//!    count at the cell's current shape.
//! 2. The byte ranges `[ptr, ptr + capacity * size_of::<T>())` of the bindings of
//!    one cell do not overlap one another, and fit in the address space.
//! 3. A compartment is bound exactly when the core cell holds it as external.
//!
//! Together with the caller's promise (documented on `ngc_cell_bind`) that a
//! bound buffer stays valid, and is not accessed by anyone else during a call on
//! the cell, these make the slices built here valid and the mutable ones unique.

use std::ffi::c_char;
use std::mem::{align_of, size_of};
use std::ptr::NonNull;

use super::args::{check_out, check_ptr, str_arg};
use super::native::Native;
use super::status::*;
use crate::core::{Cell, Dtype, Extent, Real, Slot, MAX_COMPARTMENTS};

/// The element type of a cell: `NGC_DTYPE_F32` or `NGC_DTYPE_F64`.
pub type NgcDtype = i32;
/// 32-bit IEEE-754 elements (`float`, Julia `Float32`, MATLAB `single`).
/// ngc-learn's default (JAX computes in float32 unless 64-bit mode is on).
pub const NGC_DTYPE_F32: NgcDtype = 1;
/// 64-bit IEEE-754 elements (`double`, Julia `Float64`, MATLAB `double`).
/// Matches ngc-learn run with `jax_enable_x64`.
pub const NGC_DTYPE_F64: NgcDtype = 2;

/// `"ngc_cell"`, in every live handle's first field.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"ngc_cell");

/// An opaque handle to one cell of any type (`ngc_cell_type` says which).
///
/// Created by a `ngc_*_cell_new` function, destroyed by `ngc_cell_free`; every
/// other function takes any cell type.
/// Thread rules: a cell may be moved between threads, but must be used by one
/// thread at a time (calls on one cell are not synchronised). Different cells
/// may be used on different threads at the same time, provided no buffer is
/// written by one while another reads or writes it.
pub struct NgcCell {
    pub(crate) magic: u64,
    pub(crate) cell: AnyCell,
    pub(crate) bound: [Option<Binding>; MAX_COMPARTMENTS],
}

// SAFETY: an NgcCell owns its core cell (plain Rust data, Send) and holds raw
// pointers to caller-owned buffers, which have no thread affinity; the caller's
// contract (one thread at a time per cell) is what keeps their use race-free.
unsafe impl Send for NgcCell {}

/// The core cell, in the dtype it was created with.
pub(crate) enum AnyCell {
    F32(Cell<f32, Native>),
    F64(Cell<f64, Native>),
}

/// A caller's buffer bound to a compartment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Binding {
    pub ptr: NonNull<u8>,
    /// In elements of the cell's dtype.
    pub capacity: usize,
    /// In bytes; `ptr + bytes` does not overflow.
    pub bytes: usize,
}

impl Binding {
    fn overlaps(&self, addr: usize, bytes: usize) -> bool {
        let a = self.ptr.as_ptr() as usize;
        a < addr + bytes && addr < a + self.bytes
    }
}

/// Runs `$e` with `$c` bound to the typed core cell, whatever its dtype.
macro_rules! with_cell {
    ($any:expr, $c:ident => $e:expr) => {
        match $any {
            $crate::abi::handle::AnyCell::F32($c) => $e,
            $crate::abi::handle::AnyCell::F64($c) => $e,
        }
    };
}
pub(crate) use with_cell;

impl AnyCell {
    pub(crate) fn dtype(&self) -> Dtype {
        match self {
            AnyCell::F32(_) => Dtype::F32,
            AnyCell::F64(_) => Dtype::F64,
        }
    }

    pub(crate) fn index(&self, name: &str) -> Result<usize, FfiError> {
        Ok(with_cell!(self, c => c.index(name))?)
    }
}

impl NgcCell {
    pub(crate) fn new(cell: AnyCell) -> NgcCell {
        NgcCell {
            magic: MAGIC,
            cell,
            bound: [None; MAX_COMPARTMENTS],
        }
    }

    /// Binds `ptr` (non-NULL, aligned for the dtype: checked by the caller) to compartment `idx`.
    pub(crate) fn bind(
        &mut self,
        name: &str,
        idx: usize,
        ptr: NonNull<u8>,
        capacity: usize,
    ) -> Result<(), FfiError> {
        let elem = self.cell.dtype().size();
        let addr = ptr.as_ptr() as usize;
        let bytes = capacity
            .checked_mul(elem)
            .filter(|b| *b <= isize::MAX as usize && addr.checked_add(*b).is_some())
            .ok_or_else(|| {
                FfiError::new(
                    NGC_ERR_SIZE_OVERFLOW,
                    format!(
                        "capacity {capacity} elements of {elem} bytes from address {addr:#x} \
                         does not fit in the address space"
                    ),
                )
            })?;
        let need = with_cell!(&self.cell, c => c.len_of(idx));
        if capacity < need {
            return Err(FfiError::new(
                NGC_ERR_CAPACITY_TOO_SMALL,
                format!(
                    "compartment '{name}' holds {need} elements, but the buffer's capacity is {capacity}"
                ),
            ));
        }
        let specs = with_cell!(&self.cell, c => c.spec().compartments);
        for (j, b) in self.bound.iter().enumerate() {
            if let Some(b) = b {
                if j != idx && b.overlaps(addr, bytes) {
                    return Err(FfiError::new(
                        NGC_ERR_OVERLAP,
                        format!(
                            "the buffer for '{name}' ({addr:#x}, {bytes} bytes) overlaps the buffer \
                             bound to '{}' ({:#x}, {} bytes) of the same cell",
                            specs[j].name,
                            b.ptr.as_ptr() as usize,
                            b.bytes
                        ),
                    ));
                }
            }
        }
        with_cell!(&mut self.cell, c => c.detach(idx));
        self.bound[idx] = Some(Binding {
            ptr,
            capacity,
            bytes,
        });
        Ok(())
    }

    pub(crate) fn unbind(&mut self, name: &str, idx: usize) -> Result<(), FfiError> {
        let Some(b) = self.bound[idx] else {
            return Err(FfiError::new(
                NGC_ERR_NOT_BOUND,
                format!("compartment '{name}' is not bound to a buffer"),
            ));
        };
        with_cell!(&mut self.cell, c => attach_from(c, idx, b))?;
        self.bound[idx] = None;
        Ok(())
    }

    /// Copies `len` elements from `src` into compartment `idx`.
    ///
    /// # Safety
    /// `src` is non-NULL, aligned for the cell's dtype, and valid for reading
    /// `len` elements of it.
    pub(crate) unsafe fn set(
        &mut self,
        name: &str,
        idx: usize,
        src: *const u8,
        len: usize,
    ) -> Result<(), FfiError> {
        let b = self.bound[idx];
        // SAFETY: forwarded from this function's contract.
        with_cell!(&mut self.cell, c => unsafe { set_typed(c, name, idx, b, src.cast(), len) })
    }

    /// Copies compartment `idx` (`len` elements) into `dst`.
    ///
    /// # Safety
    /// `dst` is non-NULL, aligned for the cell's dtype, and valid for writing
    /// `len` elements of it.
    pub(crate) unsafe fn get(
        &self,
        name: &str,
        idx: usize,
        dst: *mut u8,
        len: usize,
    ) -> Result<(), FfiError> {
        let b = self.bound[idx];
        // SAFETY: forwarded from this function's contract.
        with_cell!(&self.cell, c => unsafe { get_typed(c, name, idx, b, dst.cast(), len) })
    }

    /// The first element of compartment `idx`, widened to a double.
    pub(crate) fn first_value(&self, idx: usize) -> f64 {
        let b = self.bound[idx];
        with_cell!(&self.cell, c => values(c, idx, b)[0].to_f64())
    }

    /// `advance(dt)`, or `evolve(dt)` when `evolve`.
    pub(crate) fn step(&mut self, dt: f64, evolve: bool) -> Result<(), FfiError> {
        let bound = self.bound;
        with_cell!(&mut self.cell, c => step_typed(c, &bound, dt, evolve))
    }

    /// Gives compartment `idx` the shape `dims` and the values at `src`
    /// (`prod(dims)` elements).
    ///
    /// # Safety
    /// `src` is non-NULL, aligned for the cell's dtype, and valid for reading
    /// `prod(dims)` elements of it.
    pub(crate) unsafe fn set_shaped(
        &mut self,
        idx: usize,
        src: *const u8,
        dims: &[usize],
    ) -> Result<(), FfiError> {
        let bound = self.bound;
        // SAFETY: forwarded from this function's contract.
        with_cell!(&mut self.cell, c => unsafe { set_shaped_typed(c, &bound, idx, src.cast(), dims) })
    }

    /// `batched_reset(batch)`; `reset()` when `batch` is `None`.
    pub(crate) fn batched_reset(&mut self, batch: Option<usize>) -> Result<(), FfiError> {
        let bound = self.bound;
        with_cell!(&mut self.cell, c => batched_reset_typed(c, &bound, batch))
    }
}

/// The current values of compartment `idx`, wherever they live.
fn values<T: Real>(c: &Cell<T, Native>, idx: usize, b: Option<Binding>) -> &[T] {
    match b {
        // SAFETY: by invariants 1 and 3, a bound compartment's buffer is valid for
        // reading `len_of(idx) <= capacity` elements of T (aligned at bind), and
        // the caller does not write it during this call.
        Some(b) => unsafe { std::slice::from_raw_parts(b.ptr.as_ptr().cast::<T>(), c.len_of(idx)) },
        None => c.owned(idx).unwrap_or(&[]),
    }
}

fn attach_from<T: Real>(c: &mut Cell<T, Native>, idx: usize, b: Binding) -> Result<(), FfiError> {
    let current = values(c, idx, Some(b)).to_vec();
    Ok(c.attach(idx, &current)?)
}

fn length_check<T: Real>(
    c: &Cell<T, Native>,
    name: &str,
    idx: usize,
    len: usize,
) -> Result<(), FfiError> {
    let want = c.len_of(idx);
    if len != want {
        return Err(FfiError::new(
            NGC_ERR_LENGTH_MISMATCH,
            format!("compartment '{name}' holds {want} elements, but len is {len}"),
        ));
    }
    Ok(())
}

/// # Safety
/// `src` is aligned and valid for reading `len` elements of `T`.
unsafe fn set_typed<T: Real>(
    c: &mut Cell<T, Native>,
    name: &str,
    idx: usize,
    b: Option<Binding>,
    src: *const T,
    len: usize,
) -> Result<(), FfiError> {
    length_check(c, name, idx, len)?;
    match b {
        // SAFETY: `src` is valid for `len` reads (contract); the bound buffer is
        // valid for `len <= capacity` writes (invariant 1). `copy` is memmove, so
        // a caller passing the bound buffer itself (or part of it) is fine.
        Some(b) => unsafe { std::ptr::copy(src, b.ptr.as_ptr().cast::<T>(), len) },
        None => {
            let dst = c.owned_mut(idx).unwrap_or(&mut []);
            // SAFETY: `src` is valid for `len` reads (contract) and cannot alias
            // storage the cell owns, whose address is never given out.
            let src = unsafe { std::slice::from_raw_parts(src, len) };
            dst.copy_from_slice(src);
        }
    }
    Ok(())
}

/// # Safety
/// `dst` is aligned and valid for writing `len` elements of `T`.
unsafe fn get_typed<T: Real>(
    c: &Cell<T, Native>,
    name: &str,
    idx: usize,
    b: Option<Binding>,
    dst: *mut T,
    len: usize,
) -> Result<(), FfiError> {
    length_check(c, name, idx, len)?;
    let src: *const T = match b {
        Some(b) => b.ptr.as_ptr().cast::<T>(),
        None => c.owned(idx).unwrap_or(&[]).as_ptr(),
    };
    // SAFETY: `src` is valid for `len` reads (owned storage of exactly `len`
    // elements, or a bound buffer by invariant 1); `dst` for `len` writes
    // (contract). `copy` tolerates `dst` overlapping a bound source.
    unsafe { std::ptr::copy(src, dst, len) };
    Ok(())
}

fn step_typed<T: Real>(
    c: &mut Cell<T, Native>,
    bound: &[Option<Binding>; MAX_COMPARTMENTS],
    dt: f64,
    evolve: bool,
) -> Result<(), FfiError> {
    let specs = c.spec().compartments;
    let mut lent: [Option<Slot<'_, T>>; MAX_COMPARTMENTS] = Default::default();
    for (i, spec) in specs.iter().enumerate() {
        if let Some(b) = bound[i] {
            let len = c.len_of(i);
            let p = b.ptr.as_ptr().cast::<T>();
            lent[i] = Some(if spec.role.is_written() {
                // SAFETY: the buffer is valid for `len <= capacity` elements
                // (invariant 1), aligned (checked at bind), and overlaps no other
                // buffer of this cell (invariant 2) nor the cell's own storage, so
                // this is the only reference to it during the call.
                Slot::Write(unsafe { std::slice::from_raw_parts_mut(p, len) })
            } else {
                // SAFETY: as above; read-only (another cell may read the same
                // buffer at the same time), and no written slot overlaps it.
                Slot::Read(unsafe { std::slice::from_raw_parts(p, len) })
            });
        }
    }
    let n = specs.len();
    if evolve {
        Ok(c.evolve_with(dt, &mut lent[..n])?)
    } else {
        Ok(c.advance_with(dt, &mut lent[..n])?)
    }
}

/// # Safety
/// `src` is aligned and valid for reading `prod(dims)` elements of `T`.
unsafe fn set_shaped_typed<T: Real>(
    c: &mut Cell<T, Native>,
    bound: &[Option<Binding>; MAX_COMPARTMENTS],
    idx: usize,
    src: *const T,
    dims: &[usize],
) -> Result<(), FfiError> {
    let shapes = c.shapes_with(idx, dims)?;
    let specs = c.spec().compartments;
    // Every check before any write: a refused call changes nothing.
    let mut need = [0usize; MAX_COMPARTMENTS];
    for (i, spec) in specs.iter().enumerate() {
        need[i] = shapes.len(spec.extent);
        if let Some(b) = bound[i] {
            if need[i] > b.capacity {
                return Err(FfiError::new(
                    NGC_ERR_CAPACITY_TOO_SMALL,
                    format!(
                        "dims {dims:?} give compartment '{}' {} elements, but its bound buffer \
                         holds {}; nothing was changed (unbind it or bind a larger buffer first)",
                        spec.name, need[i], b.capacity
                    ),
                ));
            }
        }
    }
    // A copy of the values: `src` may be (part of) a bound buffer that the
    // call then writes.
    let count = need[idx];
    let mut values: Vec<T> = Vec::new();
    values.try_reserve_exact(count).map_err(|_| {
        FfiError::from(crate::core::CellError::Alloc {
            name: specs[idx].name.to_string(),
            bytes: count.saturating_mul(size_of::<T>()),
        })
    })?;
    // SAFETY: `src` is valid for reading `count = prod(dims)` elements
    // (contract); `values` has room for them and is a distinct allocation.
    unsafe {
        std::ptr::copy_nonoverlapping(src, values.as_mut_ptr(), count);
        values.set_len(count);
    }
    let mut lent: [Option<&mut [T]>; MAX_COMPARTMENTS] = Default::default();
    for (i, spec) in specs.iter().enumerate() {
        let follows = matches!(spec.extent, Extent::Param | Extent::ParamSqueezed);
        if let (Some(b), true) = (bound[i], i == idx || follows) {
            // SAFETY: `need[i] <= capacity` (checked above), aligned (checked at
            // bind), disjoint from every other buffer and the cell's own storage
            // (invariant 2), so this is the only reference to it during the
            // call: the call writes it (values or rest values).
            lent[i] = Some(unsafe {
                std::slice::from_raw_parts_mut(b.ptr.as_ptr().cast::<T>(), need[i])
            });
        }
    }
    Ok(c.set_shaped_with(idx, &values, dims, &mut lent[..specs.len()])?)
}

fn batched_reset_typed<T: Real>(
    c: &mut Cell<T, Native>,
    bound: &[Option<Binding>; MAX_COMPARTMENTS],
    batch: Option<usize>,
) -> Result<(), FfiError> {
    let b = batch.unwrap_or(c.initial_batch());
    let specs = c.spec().compartments;
    // Every check before any write: a refused reset changes nothing.
    let mut need = [0usize; MAX_COMPARTMENTS];
    for (i, spec) in specs.iter().enumerate() {
        need[i] = c.len_at_batch(i, b)?;
        if let Some(bd) = bound[i] {
            if need[i] > bd.capacity {
                let what = match batch {
                    Some(b) => format!("batched_reset to batch size {b}"),
                    None => format!("reset to the initial batch size {b}"),
                };
                return Err(FfiError::new(
                    NGC_ERR_CAPACITY_TOO_SMALL,
                    format!(
                        "{what} needs {} elements in compartment '{}', but its bound buffer holds {}; \
                         nothing was changed (unbind it or bind a larger buffer first)",
                        need[i], spec.name, bd.capacity
                    ),
                ));
            }
        }
    }
    let mut lent: [Option<&mut [T]>; MAX_COMPARTMENTS] = Default::default();
    for (i, spec) in specs.iter().enumerate() {
        if let (Some(bd), true) = (bound[i], spec.role.is_reset()) {
            // SAFETY: `need[i] <= capacity` (checked above), aligned (checked at
            // bind), disjoint from every other buffer and the cell's own storage
            // (invariant 2), so this is the only reference to it during the call.
            lent[i] = Some(unsafe {
                std::slice::from_raw_parts_mut(bd.ptr.as_ptr().cast::<T>(), need[i])
            });
        }
    }
    Ok(c.batched_reset_with(b, &mut lent[..specs.len()])?)
}

/// The alignment a data pointer needs for `dtype`.
pub(crate) fn dtype_align(dtype: Dtype) -> usize {
    match dtype {
        Dtype::F32 => align_of::<f32>(),
        Dtype::F64 => align_of::<f64>(),
    }
}

/// Checks that `p` is a live cell handle and borrows it.
///
/// # Safety
/// `p`, when non-NULL and aligned, points to memory readable for
/// `size_of::<NgcCell>()` bytes (a handle from `ngc_*_new` not yet freed), not
/// used by another thread during `'a`.
pub(crate) unsafe fn cell_ref<'a>(p: *const NgcCell) -> Result<&'a NgcCell, FfiError> {
    check_ptr(p, "cell", align_of::<NgcCell>())?;
    // SAFETY: non-NULL and aligned (checked); readable (contract). The tag is read
    // through a raw pointer before any reference to the cell is formed.
    let magic = unsafe { std::ptr::addr_of!((*p).magic).read() };
    if magic != MAGIC {
        return Err(FfiError::new(
            NGC_ERR_INVALID_HANDLE,
            format!("cell ({p:p}) is not a live NgcCell (freed, or a pointer of another type)"),
        ));
    }
    // SAFETY: a live NgcCell (tag checked); not used elsewhere meanwhile (contract).
    Ok(unsafe { &*p })
}

/// As [`cell_ref`], mutably.
///
/// # Safety
/// As [`cell_ref`], and no other reference to the cell exists during `'a`.
pub(crate) unsafe fn cell_mut<'a>(p: *mut NgcCell) -> Result<&'a mut NgcCell, FfiError> {
    // SAFETY: forwarded contract.
    unsafe { cell_ref(p)? };
    // SAFETY: checked live above; exclusive by contract (one thread at a time).
    Ok(unsafe { &mut *p })
}

/// Resolves a compartment name argument to its index.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn lookup<'a>(
    cell: &NgcCell,
    name: *const c_char,
) -> Result<(&'a str, usize), FfiError> {
    // SAFETY: forwarded contract.
    let name = unsafe { str_arg(name, "compartment")? };
    Ok((name, cell.cell.index(name)?))
}

pub(crate) fn dtype_check(cell: &NgcCell, want: Dtype) -> Result<(), FfiError> {
    let have = cell.cell.dtype();
    if have != want {
        return Err(FfiError::new(
            NGC_ERR_DTYPE_MISMATCH,
            format!(
                "the cell computes in {}, but {} data was given",
                have.name(),
                want.name()
            ),
        ));
    }
    Ok(())
}

/// Checks the handle and the output pointer, computes the value, writes it.
///
/// # Safety
/// `cell` a live handle (see [`cell_ref`]); `out` valid for one write.
pub(crate) unsafe fn query<T>(
    cell: *const NgcCell,
    out: *mut T,
    value: impl FnOnce(&NgcCell) -> Result<T, FfiError>,
) -> Result<(), FfiError> {
    check_out(out, "output pointer")?;
    // SAFETY: forwarded contract.
    let c = unsafe { cell_ref(cell)? };
    let v = value(c)?;
    // SAFETY: checked non-NULL and aligned; writable (contract).
    unsafe { out.write(v) };
    Ok(())
}

/// The dtype constant of `dtype`.
pub(crate) fn dtype_code(dtype: Dtype) -> NgcDtype {
    match dtype {
        Dtype::F32 => NGC_DTYPE_F32,
        Dtype::F64 => NGC_DTYPE_F64,
    }
}

const _: () = assert!(size_of::<f32>() == 4 && size_of::<f64>() == 8);
