//! What a cell type is: its compartments and its dynamics.
//!
//! A [`CellKind`] names one cell type of the error-cell family. Everything the
//! C ABI does with a cell goes through it, so adding a cell type (Gaussian,
//! Laplacian, ...) is one more variant here and a kernel module, with no change
//! to the ABI functions.

use super::bernoulli;
use super::error::CellError;
use super::platform::{Platform, Workers, PORTABLE};
use super::real::Real;

/// The most threads one cell's `advance` uses.
pub const MAX_THREADS: usize = 64;

/// What `advance` needs besides the compartments, kept by the cell so that
/// `advance` allocates nothing: the log-likelihood partial sums (one per
/// `SUM_BLOCK` block) and the worker threads, both sized with the shape and
/// the thread count (by [`resize`](Self::resize) and
/// [`set_threads`](Self::set_threads)), joined on drop.
#[derive(Debug)]
pub struct Workspace {
    partials: Vec<f64>,
    count: usize,
    threads: usize,
    platform: &'static dyn Platform,
    pool: Option<Box<dyn Workers>>,
}

impl Workspace {
    /// A workspace for `count` elements, single-threaded, on the portable platform.
    pub fn new(count: usize) -> Result<Workspace, CellError> {
        Workspace::with_platform(count, &PORTABLE)
    }

    /// A workspace for `count` elements, single-threaded, taking its kernel
    /// copies and worker threads from `platform`.
    pub fn with_platform(
        count: usize,
        platform: &'static dyn Platform,
    ) -> Result<Workspace, CellError> {
        let mut ws = Workspace {
            partials: Vec::new(),
            count: 0,
            threads: 1,
            platform,
            pool: None,
        };
        ws.resize(count)?;
        Ok(ws)
    }

    /// Makes room for `count` elements (partial sums, and as many worker
    /// threads as `advance` will use for them). Fallible; on error the
    /// workspace still serves the previous count.
    pub fn resize(&mut self, count: usize) -> Result<(), CellError> {
        let blocks = bernoulli::blocks_for(count);
        if blocks > self.partials.len() {
            self.partials
                .try_reserve_exact(blocks - self.partials.len())
                .map_err(|_| CellError::Alloc {
                    name: "L (partial sums)".into(),
                    bytes: blocks.saturating_mul(8),
                })?;
            self.partials.resize(blocks, 0.0);
        }
        self.fit(count, self.threads)?;
        self.count = count;
        Ok(())
    }

    /// The number of threads `advance` may use, as set.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Allows `threads` threads (at least 1). Starts the worker threads that
    /// `advance` will use at the current size (none below
    /// `2 * MIN_ELEMENTS_PER_THREAD` elements; at most [`MAX_THREADS`] in all)
    /// and stops the others. On error (the system would not start a thread)
    /// nothing changed.
    pub fn set_threads(&mut self, threads: usize) -> Result<(), CellError> {
        let threads = threads.max(1);
        self.fit(self.count, threads)?;
        self.threads = threads;
        Ok(())
    }

    /// Sizes the pool for `count` elements and `threads` threads.
    fn fit(&mut self, count: usize, threads: usize) -> Result<(), CellError> {
        let want = bernoulli::threads_for(count, threads.min(MAX_THREADS));
        if want != self.width() {
            self.pool = if want > 1 {
                Some(
                    self.platform
                        .start_workers(want - 1)
                        .map_err(|e| CellError::Alloc {
                            name: format!("worker threads ({e})"),
                            bytes: 0,
                        })?,
                )
            } else {
                None
            }; // drops (joins) the old workers
        }
        Ok(())
    }

    /// Where the kernel copies and worker threads come from.
    pub fn platform(&self) -> &'static dyn Platform {
        self.platform
    }

    /// The number of threads that can run now.
    pub(crate) fn width(&self) -> usize {
        self.pool.as_ref().map_or(1, |p| p.width())
    }

    /// The first `blocks` partial sums and the workers.
    pub(crate) fn parts(
        &mut self,
        blocks: usize,
    ) -> Result<(&mut [f64], Option<&dyn Workers>), CellError> {
        let have = self.partials.len();
        let partials = self.partials.get_mut(..blocks).ok_or_else(|| {
            CellError::Internal(format!("workspace for {have} blocks, {blocks} needed"))
        })?;
        Ok((partials, self.pool.as_deref()))
    }
}

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
    /// The same name, NUL-terminated (what the C ABI hands out).
    pub c_name: &'static std::ffi::CStr,
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

    /// [`type_name`](Self::type_name), NUL-terminated (what the C ABI hands out).
    pub fn type_name_c(&self) -> &'static std::ffi::CStr {
        match self {
            CellKind::Bernoulli { .. } => c"BernoulliErrorCell",
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
    /// array slot of the same length. Single-threaded; this entry allocates its
    /// workspace (a [`Cell`](super::Cell) keeps one and allocates nothing).
    pub fn advance<T: Real>(&self, slots: &mut [Slot<'_, T>]) -> Result<(), CellError> {
        let count = slots.first().map_or(0, |s| s.as_slice().len());
        let mut ws = Workspace::new(count)?;
        self.advance_in(slots, &mut ws)
    }

    /// [`advance`](Self::advance) with a workspace sized for the slots; the
    /// results do not depend on its thread count.
    pub fn advance_in<T: Real>(
        &self,
        slots: &mut [Slot<'_, T>],
        ws: &mut Workspace,
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
                bernoulli::advance_slots(input_logits, slots, ws)
            }
        }
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn c_names_are_the_names() {
        let kind = CellKind::Bernoulli {
            input_logits: false,
        };
        assert_eq!(kind.type_name_c().to_str().unwrap(), kind.type_name());
        for c in kind.compartments() {
            assert_eq!(c.c_name.to_str().unwrap(), c.name);
        }
    }
}
