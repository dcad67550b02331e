//! # ngc-cells
//!
//! ngc-learn's neuron cells as a native library, reproduced number for number
//! (ngc-learn 3.2.3): `BernoulliErrorCell` and the rest of the graded family.
//!
//! Two layers:
//! - [`core`]: the safe Rust core (cell math, shapes, compartments; one file
//!   per cell type in [`core::cells`]). Rust users can use it directly:
//!   [`core::bernoulli_error_cell`].
//! - [`abi`]: the C ABI (`ngc_*` functions, declared in `include/ngc_cells.h`),
//!   a thin layer of pointer checks, status codes and a panic barrier over the core.
//!   All `unsafe` code of the crate lives there.
//!
//! ```
//! use ngc_cells::core::bernoulli_error_cell;
//!
//! // ngc-learn: BernoulliErrorCell("z0", n_units=2, batch_size=1, input_logits=True)
//! let mut cell = bernoulli_error_cell::<f32>("z0", 2, 1, true, None).unwrap();
//! cell.set("p", &[0.0, 2.0]).unwrap();
//! cell.set("target", &[1.0, 0.0]).unwrap();
//! cell.advance(1.0).unwrap();
//! let dp = cell.get("dp").unwrap(); // x - sigmoid(p), times modulator and mask
//! assert_eq!(dp[0], 0.5);
//! assert!((dp[1] + 0.880_797).abs() < 1e-6);
//! assert!((cell.loss().unwrap() - (0.5f64.ln() + (1.0 - 0.880_797f64).ln())).abs() < 1e-5);
//! assert_eq!(cell.get("mask").unwrap(), &[1.0, 1.0]); // the mask is eaten: back to ones
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
/// cbindgen:ignore
pub mod core;

pub use crate::abi::*;
