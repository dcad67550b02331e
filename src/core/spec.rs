//! What a cell type is: its compartments and its dynamics.
//!
//! A [`CellKind`] names one cell type of the error-cell family. Everything the
//! C ABI does with a cell goes through it, so adding a cell type (Gaussian,
//! Laplacian, ...) is one more variant here and a kernel module, with no change
//! to the ABI functions.

use super::bernoulli;
use super::error::CellError;
use super::real::Real;

/// How a compartment takes part in `advance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Read by `advance`, never written by it.
    Input,
    /// Read by `advance`, then reset to its rest value by it (ngc-learn's "eaten" mask).
    ConsumedInput,
    /// Written by `advance`.
    Output,
}

impl Role {
    /// `"input"` or `"output"`, as in ngc-learn's `help()`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Input | Role::ConsumedInput => "input",
            Role::Output => "output",
        }
    }

    /// Whether `advance` writes this compartment.
    pub fn is_written(self) -> bool {
        !matches!(self, Role::Input)
    }
}

/// One compartment of a cell type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompartmentSpec {
    /// ngc-learn's name (`"p"`, `"dp"`, ...).
    pub name: &'static str,
    /// Input or output.
    pub role: Role,
    /// A scalar (`L`) instead of an array of the cell's shape.
    pub scalar: bool,
    /// The value `reset` and `batched_reset` give it.
    pub rest: f64,
    /// ngc-learn's `display_name`, when it has one.
    pub display_name: Option<&'static str>,
    /// ngc-learn's `units`, when it has them.
    pub units: Option<&'static str>,
    /// What it holds (ngc-learn's `help()` text, corrected).
    pub description: &'static str,
}

/// A borrowed compartment, as a kernel sees it.
#[derive(Debug)]
pub enum Slot<'a, T> {
    /// An input the kernel only reads.
    Read(&'a [T]),
    /// A compartment the kernel writes (outputs and consumed inputs).
    Write(&'a mut [T]),
}

impl<'a, T> Slot<'a, T> {
    /// The elements, read-only.
    pub fn as_slice(&self) -> &[T] {
        match self {
            Slot::Read(s) => s,
            Slot::Write(s) => s,
        }
    }
}

/// A cell type of the error-cell family, with its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    /// ngc-learn's `BernoulliErrorCell`.
    Bernoulli {
        /// `p` holds logits; the cell applies `sigmoid` first.
        input_logits: bool,
    },
}

impl CellKind {
    /// The ngc-learn class name.
    pub fn type_name(&self) -> &'static str {
        match self {
            CellKind::Bernoulli { .. } => "BernoulliErrorCell",
        }
    }

    /// The compartments, in a fixed order (the order of the C ABI's index queries).
    pub fn compartments(&self) -> &'static [CompartmentSpec] {
        match self {
            CellKind::Bernoulli { .. } => &bernoulli::COMPARTMENTS,
        }
    }

    /// The index of the compartment called `name`, if there is one.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.compartments().iter().position(|c| c.name == name)
    }

    /// Advances one step: reads the input slots, writes the output slots.
    ///
    /// `slots[i]` is compartment `i` of [`compartments`](Self::compartments): a
    /// [`Slot::Write`] for every compartment whose role is written, and every
    /// array slot of the same length. `threads` (at least 1) is a hint; the
    /// results do not depend on it.
    pub fn advance<T: Real>(
        &self,
        slots: &mut [Slot<'_, T>],
        threads: usize,
    ) -> Result<(), CellError> {
        let specs = self.compartments();
        if slots.len() != specs.len() {
            return Err(CellError::Internal(format!(
                "{} slots for {} compartments",
                slots.len(),
                specs.len()
            )));
        }
        let mut count = None;
        for (spec, slot) in specs.iter().zip(slots.iter()) {
            if spec.role.is_written() && matches!(slot, Slot::Read(_)) {
                return Err(CellError::Internal(format!(
                    "compartment '{}' is written by advance but was lent read-only",
                    spec.name
                )));
            }
            let len = slot.as_slice().len();
            let want = if spec.scalar { Some(1) } else { count };
            match want {
                Some(w) if w != len => {
                    return Err(CellError::LengthMismatch {
                        name: spec.name.to_string(),
                        expected: w,
                        got: len,
                    })
                }
                None => count = Some(len),
                _ => {}
            }
        }
        match *self {
            CellKind::Bernoulli { input_logits } => {
                bernoulli::advance_slots(input_logits, slots, threads)
            }
        }
    }
}
