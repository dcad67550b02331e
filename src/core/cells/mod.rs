//! The cell types, one file each, and the registry that lists them.
//!
//! Adding a cell type: its file here (compartment table, `CellSpec`, a
//! `CellType` implementation, its Rust constructor and unit tests), one `mod`
//! line and one [`FAMILY`] line below, and its constructor export in
//! `src/abi/cells.rs`. Nothing else in `src/` names a cell type
//! (docs/architecture.md has the whole recipe).

use super::spec::CellSpec;

pub mod bernoulli;
pub mod gaussian;
pub mod laplacian;
pub mod rate;
pub mod reward;

/// Every cell type, by its spec (for queries, docs and tests).
pub const FAMILY: &[&CellSpec] = &[
    &bernoulli::SPEC,
    &gaussian::SPEC,
    &laplacian::SPEC,
    &reward::SPEC,
    &rate::SPEC,
];

/// The most compartments any cell type of [`FAMILY`] has: fixed-size tables
/// (bindings, the slots lent to `advance`) are this long, so `advance`
/// allocates nothing. Derived from the family, so a new cell type cannot
/// overflow them; a spec missing from the family is refused at creation.
pub const MAX_COMPARTMENTS: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < FAMILY.len() {
        if FAMILY[i].compartments.len() > max {
            max = FAMILY[i].compartments.len();
        }
        i += 1;
    }
    max
};

/// Whether `spec` is one of [`FAMILY`].
pub fn is_registered(spec: &CellSpec) -> bool {
    FAMILY.iter().any(|s| std::ptr::eq(*s, spec))
}
