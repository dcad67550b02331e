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
        /// The cell's name (shortened, see [`short`]).
        cell: String,
        /// The cell's type.
        kind: &'static str,
        /// The name asked for (shortened).
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
    /// The system would not start the worker threads.
    #[error("could not start {count} worker thread(s): {cause}")]
    Threads {
        /// How many were asked for.
        count: usize,
        /// The system's reason.
        cause: String,
    },
    /// A shape that does not fit: dims that do not broadcast against the
    /// cell's state shape, or a new shape for a compartment whose shape is fixed.
    #[error("compartment '{name}': {detail}")]
    ShapeMismatch {
        /// The compartment.
        name: String,
        /// What does not fit.
        detail: String,
    },
    /// The operation does not apply to this cell type.
    #[error("{0}")]
    NotSupported(String),
    /// An argument is out of its domain (an unknown option name, a value the
    /// cell cannot use).
    #[error("{0}")]
    InvalidArgument(String),
    /// The compartment slots handed to a kernel do not fit its cell (a bug in the caller of the core).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Longest user-supplied text quoted whole in a message, in characters.
pub const SHORT_CHARS: usize = 64;

/// `s`, or its first [`SHORT_CHARS`] characters and `"..."`: names quoted in
/// messages stay readable (a message is at most 1024 bytes in the C ABI).
pub fn short(s: &str) -> String {
    match s.char_indices().nth(SHORT_CHARS) {
        None => s.to_string(),
        Some((at, _)) => format!("{}...", &s[..at]),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_names_are_shortened_at_a_character() {
        assert_eq!(super::short("abc"), "abc");
        let s = "é".repeat(100);
        let t = super::short(&s);
        assert_eq!(t.chars().count(), super::SHORT_CHARS + 3);
        assert!(t.ends_with("é..."));
    }
}
