//! Errors of the safe core. The C ABI maps each variant to one status code.

use thiserror::Error;

/// Everything the core can refuse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CellError {
    /// A size argument was zero where at least one is needed.
    #[error("{what} must be at least 1, got 0")]
    ZeroSize {
        /// Which size.
        what: &'static str,
    },
    /// The product of the sizes does not fit in the address space.
    #[error("{what} overflows: {detail}")]
    SizeOverflow {
        /// Which product.
        what: &'static str,
        /// The factors.
        detail: String,
    },
    /// No compartment of this cell has that name.
    #[error("cell '{cell}' ({kind}) has no compartment named '{name}'; it has: {known}")]
    UnknownCompartment {
        /// The cell's name.
        cell: String,
        /// The cell's type.
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// The names it does have, comma-separated.
        known: String,
    },
    /// A slice did not have the compartment's element count.
    #[error("compartment '{name}' holds {expected} elements, but {got} were given")]
    LengthMismatch {
        /// The compartment.
        name: String,
        /// Its current element count.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Library-owned storage could not be allocated.
    #[error("could not allocate {bytes} bytes for compartment '{name}'")]
    Alloc {
        /// The compartment.
        name: String,
        /// Bytes requested.
        bytes: usize,
    },
    /// The compartment slots handed to a kernel do not fit its cell (a bug in the caller of the core).
    #[error("internal error: {0}")]
    Internal(String),
}
