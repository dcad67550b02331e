//! What a cell type is: its compartments, its hyper-parameters and its dynamics.
//!
//! A cell type is one file in [`cells`](super::cells): a [`CellSpec`] (the
//! compartment table and the texts), and a value implementing [`CellType`]
//! (the hyper-parameters and `advance`, `evolve`). Generic code
//! ([`Cell`](super::Cell), the C ABI, the metadata) only ever sees these two.

use std::ffi::CStr;
use std::fmt::Debug;

use super::error::CellError;
use super::platform::Platform;
use super::real::Real;
use super::workspace::Workspace;

/// How a compartment takes part in the dynamics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Read by `advance`, never written by it.
    Input,
    /// Read by `advance`, then reset to its rest value by it (ngc-learn's "eaten" mask).
    ConsumedInput,
    /// Read and written by the dynamics: the cell's memory between steps (a
    /// host may set it too).
    State,
    /// Written by the dynamics.
    Output,
    /// An input that the resets keep, and whose shape may be set at run time
    /// (`Sigma`): see [`Extent::Param`].
    Parameter,
}

impl Role {
    /// `"input"`, `"state"`, `"output"` or `"parameter"`, as in ngc-learn's `help()`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Input | Role::ConsumedInput => "input",
            Role::State => "state",
            Role::Output => "output",
            Role::Parameter => "parameter",
        }
    }

    /// Whether the dynamics write this compartment.
    pub fn is_written(self) -> bool {
        matches!(self, Role::ConsumedInput | Role::State | Role::Output)
    }

    /// Whether the resets give it its rest value (all but parameters).
    pub fn is_reset(self) -> bool {
        !matches!(self, Role::Parameter)
    }
}

/// The shape of a compartment, relative to the cell's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extent {
    /// The cell's state shape: `(batch, n_units)` or `(batch, H, W, C)`.
    State,
    /// One value, 0-d.
    Scalar,
    /// One value per sample: `(batch, 1)`.
    PerSample,
    /// The cell's parameter shape: chosen at creation (`CellType::param_dims`)
    /// and changeable at run time to any shape that broadcasts against the
    /// state shape (`Cell::set_shaped`).
    Param,
    /// The parameter shape with its 1-sized dims removed (`jnp.squeeze`).
    ParamSqueezed,
}

/// One compartment of a cell type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompartmentSpec {
    /// ngc-learn's name (`"p"`, `"dp"`, ...).
    pub name: &'static str,
    /// The same name, NUL-terminated (what the C ABI hands out).
    pub c_name: &'static CStr,
    /// How the dynamics use it.
    pub role: Role,
    /// Its shape.
    pub extent: Extent,
    /// The value creation and the resets give it (a cell type may override it
    /// with a hyper-parameter: [`CellType::rest`]).
    pub rest: f64,
    /// ngc-learn's `display_name`, when it has one.
    pub display_name: Option<&'static str>,
    /// ngc-learn's `units`, when it has them.
    pub units: Option<&'static str>,
    /// What it holds (ngc-learn's `help()` text, corrected).
    pub description: &'static str,
}

impl CompartmentSpec {
    /// A compartment with no display name and no units.
    pub const fn new(
        name: &'static str,
        c_name: &'static CStr,
        role: Role,
        extent: Extent,
        rest: f64,
        description: &'static str,
    ) -> CompartmentSpec {
        CompartmentSpec {
            name,
            c_name,
            role,
            extent,
            rest,
            display_name: None,
            units: None,
            description,
        }
    }

    /// The same with ngc-learn's display name.
    pub const fn shown(mut self, display_name: &'static str) -> CompartmentSpec {
        self.display_name = Some(display_name);
        self
    }

    /// The same with ngc-learn's units.
    pub const fn units(mut self, units: &'static str) -> CompartmentSpec {
        self.units = Some(units);
        self
    }
}

/// A cell type's fixed description.
#[derive(Debug)]
pub struct CellSpec {
    /// The ngc-learn class name.
    pub type_name: &'static str,
    /// The same, NUL-terminated.
    pub c_type_name: &'static CStr,
    /// What it computes (ngc-learn's `help()`, corrected).
    pub description: &'static str,
    /// The dynamics in one line.
    pub dynamics: &'static str,
    /// Whether the constructor takes ngc-learn's `shape = (H, W, C)`.
    pub takes_shape: bool,
    /// The compartments, in a fixed order (the order of the C ABI's index queries).
    pub compartments: &'static [CompartmentSpec],
}

impl CellSpec {
    /// The index of the compartment called `name`, if there is one.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.compartments.iter().position(|c| c.name == name)
    }
}

/// A hyper-parameter, for the metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Hyper {
    /// ngc-learn's argument name.
    pub name: &'static str,
    /// Its value as JSON.
    pub json: String,
    /// What it does.
    pub description: &'static str,
}

/// The shapes of a cell now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shapes {
    /// The state shape (`[batch, n]` or `[batch, H, W, C]`).
    pub state: Vec<usize>,
    /// The parameter shape ([`Extent::Param`]).
    pub param: Vec<usize>,
}

impl Shapes {
    /// The dims of a compartment of extent `e`.
    pub fn dims(&self, e: Extent) -> Vec<usize> {
        match e {
            Extent::State => self.state.clone(),
            Extent::Scalar => Vec::new(),
            Extent::PerSample => vec![self.state[0], 1],
            Extent::Param => self.param.clone(),
            Extent::ParamSqueezed => self.param.iter().copied().filter(|&d| d != 1).collect(),
        }
    }

    /// The element count of a compartment of extent `e`.
    pub fn len(&self, e: Extent) -> usize {
        match e {
            Extent::State => self.state.iter().product(),
            Extent::Scalar => 1,
            Extent::PerSample => self.state[0],
            Extent::Param | Extent::ParamSqueezed => self.param.iter().product(),
        }
    }
}

/// A borrowed compartment, as the dynamics see it.
#[derive(Debug)]
pub enum Slot<'a, T> {
    /// A compartment `advance` only reads.
    Read(&'a [T]),
    /// A compartment `advance` may write.
    Write(&'a mut [T]),
    /// An input (or consumed input) in the cell's own storage that holds its
    /// rest value in every element: the dynamics may skip reading it
    /// (multiplying by a modulator of ones) and must leave it at its rest value.
    Rest(&'a mut [T]),
}

impl<'a, T> Slot<'a, T> {
    /// The elements, read-only.
    pub fn as_slice(&self) -> &[T] {
        match self {
            Slot::Read(s) => s,
            Slot::Write(s) | Slot::Rest(s) => s,
        }
    }

    /// The elements, or `None` when they all hold the rest value ([`Slot::Rest`]).
    pub fn unless_rest(&self) -> Option<&[T]> {
        match self {
            Slot::Read(s) => Some(s),
            Slot::Write(s) => Some(s),
            Slot::Rest(_) => None,
        }
    }

    /// The elements, writable, or `None` when they all hold the rest value.
    pub fn unless_rest_mut(&mut self) -> Result<Option<&mut [T]>, CellError> {
        match self {
            Slot::Rest(_) => Ok(None),
            other => other.writable().map(Some),
        }
    }
}

/// A cell type: its hyper-parameters and its dynamics, for elements `T` on platform `P`.
///
/// `slots[i]` is compartment `i` of [`spec`](Self::spec): a [`Slot::Write`]
/// for every compartment whose role is written, each of the length its extent
/// gives at `shapes` (checked by [`Cell`](super::Cell) before the call).
pub trait CellType<T: Real, P: Platform>: Debug + Send + Sync {
    /// The compartment table and texts.
    fn spec(&self) -> &'static CellSpec;

    /// The hyper-parameters besides `n_units`, `batch_size` and `shape`, for the metadata.
    fn hyperparameters(&self) -> Vec<Hyper>;

    /// The value creation (and, unless it is a parameter, the resets) give
    /// compartment `idx`.
    fn rest(&self, idx: usize) -> f64 {
        self.spec().compartments[idx].rest
    }

    /// The parameter shape at creation (for [`Extent::Param`] compartments).
    fn param_dims(&self) -> Vec<usize> {
        vec![1, 1]
    }

    /// Called whenever the shapes change (creation, resets, `set_shaped`),
    /// before any `advance` at the new shapes: the place to size scratch
    /// space, so that `advance` allocates nothing. Fallible; on error the
    /// change is abandoned.
    fn reshape(&mut self, _shapes: &Shapes) -> Result<(), CellError> {
        Ok(())
    }

    /// ngc-learn's `advance_state(dt)`.
    fn advance(
        &mut self,
        slots: &mut [Slot<'_, T>],
        shapes: &Shapes,
        ws: &mut Workspace<P>,
        dt: f64,
    ) -> Result<(), CellError>;

    /// ngc-learn's `evolve(dt)`, for cell types that have one. The default
    /// does nothing (most cells have no evolve step).
    fn evolve(
        &mut self,
        _slots: &mut [Slot<'_, T>],
        _shapes: &Shapes,
        _ws: &mut Workspace<P>,
        _dt: f64,
    ) -> Result<(), CellError> {
        Ok(())
    }
}

/// Takes the slots of a cell type's compartments apart, checking that each
/// written one is writable: `let [a, b] = slots(s, "Gaussian")?;`.
pub fn slot_array<'s, 'a, T, const N: usize>(
    slots: &'s mut [Slot<'a, T>],
    cell: &str,
) -> Result<&'s mut [Slot<'a, T>; N], CellError> {
    let n = slots.len();
    slots
        .try_into()
        .map_err(|_| CellError::Internal(format!("{cell} has {N} compartments, {n} slots given")))
}

impl<'a, T> Slot<'a, T> {
    /// The elements, writable (an internal error for a read-only slot: the
    /// cell's role table and the caller disagree).
    pub fn writable(&mut self) -> Result<&mut [T], CellError> {
        match self {
            Slot::Write(s) | Slot::Rest(s) => Ok(s),
            Slot::Read(_) => Err(CellError::Internal(
                "a written compartment was lent read-only".into(),
            )),
        }
    }
}
