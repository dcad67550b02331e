//! The C ABI: every `ngc_*` function of `include/ngc_cells.h`.
//!
//! A thin layer over [`crate::core`]: each export checks its pointers (NULL,
//! alignment, handle tag), its sizes (overflow) and its strings (UTF-8), runs its
//! body inside one panic barrier ([`guard`]) and returns an [`NgcStatus`].
//! On failure the thread's last-error message says what went wrong, and no
//! output argument is written.
//!
//! One file per C concept. The order of the `mod` lines below is the order of
//! the header's chapters (cbindgen emits each module's functions in turn).
#![allow(unsafe_code)]

// Plumbing: no exports.
mod args;
mod guard;
mod handle;
/// cbindgen:ignore
pub mod native;

// The header's chapters, in order (one group each, so rustfmt keeps the order).
/// Library version.
mod version;

/// Status codes and their names.
pub mod status;

/// The last error message.
mod last_error;

/// Creating and destroying cells.
mod cells;

/// Binding caller buffers (zero copy).
mod binding;

/// Copying values in and out.
mod data;

/// Dynamics: advance, evolve, resets.
mod dynamics;

/// Threads.
mod threads;

/// Queries.
mod queries;

pub use binding::*;
pub use cells::*;
pub use data::*;
pub use dynamics::*;
pub use guard::__test_force_panic_in_next_call;
pub use handle::{NgcCell, NgcDtype, NGC_DTYPE_F32, NGC_DTYPE_F64};
pub use last_error::*;
#[doc(hidden)]
pub use native::pool::{__test_pool_counts, __test_pool_helpers_delay};
pub use native::Native;
pub use queries::*;
pub use status::*;
pub use threads::*;
pub use version::*;

/// The platform the C ABI creates its cells on (a value of [`Native`]).
pub fn native_platform() -> Native {
    Native
}
