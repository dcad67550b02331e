//! The safe core: cell math, shapes and compartments. No `unsafe`, no FFI types.
//!
//! Modules in dependency order (each uses only the ones before it):
//! [`error`], [`layout`], [`vmath`] → [`real`] → [`kernel`] → [`platform`] →
//! [`workspace`] → [`spec`] → [`elementwise`] → [`param_error`] → [`cells`] →
//! [`metadata`] → [`cell`]. `docs/architecture.md` walks through them.

pub mod cell;
pub mod cells;
pub mod elementwise;
pub mod error;
pub mod kernel;
pub mod layout;
pub mod metadata;
pub mod param_error;
pub mod platform;
pub mod real;
pub mod spec;
pub mod vmath;
pub mod workspace;

pub use cell::Cell;
pub use cells::bernoulli::{bernoulli_error_cell, bernoulli_error_cell_on};
pub use cells::{FAMILY, MAX_COMPARTMENTS};
pub use elementwise::{Elementwise, ErrorIo, ErrorKernel, Param};
pub use error::CellError;
pub use kernel::{Kernel, RangeFn, Sink};
pub use layout::{Layout, UnitShape};
pub use platform::{Platform, Portable, Workers};
pub use real::{Dtype, Real};
pub use spec::{CellSpec, CellType, CompartmentSpec, Extent, Hyper, Role, Shapes, Slot};
pub use workspace::{Workspace, MAX_THREADS};
