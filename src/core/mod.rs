//! The safe core: cell math, shapes and compartments. No `unsafe`, no FFI types.

pub mod bernoulli;
pub mod cell;
pub mod error;
pub mod kernel;
pub mod layout;
pub mod metadata;
pub mod platform;
pub mod real;
pub mod spec;
pub mod vmath;

pub use cell::{Cell, MAX_COMPARTMENTS};
pub use error::CellError;
pub use layout::{Layout, UnitShape};
pub use platform::{Platform, Workers, PORTABLE};
pub use real::{Dtype, Real};
pub use spec::{CellKind, CompartmentSpec, Role, Slot, Workspace};

/// Creates ngc-learn's `BernoulliErrorCell(name, n_units, batch_size, input_logits, shape)`.
pub fn bernoulli_error_cell<T: Real>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    input_logits: bool,
    shape: Option<[usize; 3]>,
) -> Result<Cell<T>, CellError> {
    bernoulli_error_cell_on(name, n_units, batch_size, input_logits, shape, &PORTABLE)
}

/// [`bernoulli_error_cell`] taking its kernel copies and threads from `platform`
/// (the C ABI passes `ngc_cells::abi::native_platform()`).
pub fn bernoulli_error_cell_on<T: Real>(
    name: &str,
    n_units: usize,
    batch_size: usize,
    input_logits: bool,
    shape: Option<[usize; 3]>,
    platform: &'static dyn Platform,
) -> Result<Cell<T>, CellError> {
    let layout = Layout::new(n_units, batch_size, shape)?;
    Cell::with_platform(name, CellKind::Bernoulli { input_logits }, layout, platform)
}
