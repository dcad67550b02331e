//! # ngc-cells
//!
//! ngc-learn's error cells as a native library. The first cell is
//! `BernoulliErrorCell` (ngc-learn 3.2.3), reproduced number for number.
//!
//! Two layers:
//! - [`core`]: the safe Rust core (cell math, shapes, compartments). Rust users can
//!   use it directly: [`core::bernoulli_error_cell`].
//! - [`abi`]: the C ABI (`ngc_*` functions, declared in `include/ngc_cells.h`),
//!   a thin layer of pointer checks, status codes and a panic barrier over the core.
//!   All `unsafe` code of the crate lives there.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
/// cbindgen:ignore
pub mod core;

pub use crate::abi::*;
