//! The pure-Rust models of the cell types, one module per type, each written from
//! ngc-learn's formulas (`FAMILY.md`, `BERNOULLI.md`) and the library's documented
//! differences, never from the library's kernels.
//!
//! A [`Kind`] is a cell type as the call language sees it: how to draw its
//! hyper-parameters and call its constructor. A [`CellModel`] is one live cell's
//! model: its compartment table, and what `advance`, `evolve`, `reset` and
//! `ngc_cell_set_shaped` do to the values and shapes in a [`State`]. The driver
//! (`tests/calls/driver.rs`) owns the values and caller buffers; a model only sees
//! the values of its own compartments, read before a call and written back after.

use std::ffi::{c_char, CStr};

use ngc_cells::*;

use super::R;

pub mod bernoulli;
pub mod gaussian;
pub mod rate;
pub mod reward;

/// A compartment's shape, relative to the cell's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Extent {
    /// The state shape: `(batch, n_units)` or `(batch, H, W, C)`.
    State,
    /// One element, 0-d.
    Scalar,
    /// One element per sample: `(batch, 1)`.
    PerSample,
    /// The parameter shape: `(1, 1)` at creation, then any shape that broadcasts
    /// against the state shape (`ngc_cell_set_shaped`).
    Param,
    /// The parameter shape without its 1-sized dims (`jnp.squeeze`).
    ParamSqueezed,
}

/// What the resets do to a compartment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Role {
    /// Set by the host (and, for a consumed mask or a state, by advance); the
    /// resets give it its rest value.
    Input,
    /// Written by the dynamics; the resets give it its rest value.
    Output,
    /// Kept through the resets (`Sigma`), shape settable at run time.
    Parameter,
}

/// One row of a cell type's compartment table.
#[derive(Clone, Copy, Debug)]
pub struct CompSpec {
    pub name: &'static CStr,
    /// The value every element takes at creation and at reset (unless the model's
    /// [`CellModel::rest`] says otherwise).
    pub rest: f64,
    pub extent: Extent,
    pub role: Role,
}

/// A compartment spec (for the tables of the model modules).
pub const fn comp(name: &'static CStr, rest: f64, extent: Extent, role: Role) -> CompSpec {
    CompSpec {
        name,
        rest,
        extent,
        role,
    }
}

/// The observable state of one cell: its shapes and the values of its
/// compartments, in the cell's precision (float32 values are exact in `f64`).
#[derive(Clone, Debug)]
pub struct State {
    pub f64: bool,
    /// The per-sample shape: `[n_units]` or `[H, W, C]`.
    pub unit: Vec<usize>,
    pub batch: usize,
    /// The batch size `ngc_cell_reset` returns to.
    pub init_batch: usize,
    /// The parameter shape (for the compartments of extent `Param`).
    pub param: Vec<usize>,
    /// Each compartment's dims, as `ngc_cell_compartment_dims` reports them.
    pub dims: Vec<Vec<usize>>,
    /// Each compartment's values (row-major over `dims`).
    pub vals: Vec<Vec<f64>>,
}

impl State {
    /// The state shape for `batch`.
    pub fn state_dims(&self, batch: usize) -> Vec<usize> {
        let mut d = vec![batch];
        d.extend(&self.unit);
        d
    }
    pub fn unit_len(&self) -> usize {
        self.unit.iter().product()
    }
    /// The dims of a compartment of extent `e` at batch size `batch`.
    pub fn dims_of(&self, e: Extent, batch: usize) -> Vec<usize> {
        match e {
            Extent::State => self.state_dims(batch),
            Extent::Scalar => Vec::new(),
            Extent::PerSample => vec![batch, 1],
            Extent::Param => self.param.clone(),
            Extent::ParamSqueezed => self.param.iter().copied().filter(|&d| d != 1).collect(),
        }
    }
    /// Rounds to the cell's precision.
    pub fn round(&self, v: f64) -> f64 {
        if self.f64 {
            v
        } else {
            v as f32 as f64
        }
    }
}

/// Whether `param` broadcasts against `state` without changing it (numpy's rule,
/// right-aligned): at most as many dims, each 1 or the state's.
pub fn broadcasts(param: &[usize], state: &[usize]) -> bool {
    param.len() <= state.len()
        && param
            .iter()
            .zip(&state[state.len() - param.len()..])
            .all(|(&p, &s)| p == 1 || p == s)
}

/// For each element of an array of shape `state` (row-major), the index of its
/// value in an array of shape `param` that broadcasts against it.
pub fn broadcast_index(param: &[usize], state: &[usize]) -> Vec<usize> {
    let off = state.len() - param.len();
    let mut out = Vec::with_capacity(count(state));
    let mut idx = vec![0usize; state.len()];
    for _ in 0..count(state) {
        let mut j = 0;
        for (a, &p) in param.iter().enumerate() {
            j = j * p + if p == 1 { 0 } else { idx[off + a] };
        }
        out.push(j);
        // Next index, last axis fastest.
        for a in (0..state.len()).rev() {
            idx[a] += 1;
            if idx[a] < state[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    out
}

/// The element count of a shape (1 for 0-d).
pub fn count(dims: &[usize]) -> usize {
    dims.iter().product()
}

/// How a computed compartment may differ from the model after an `advance` or
/// `evolve`: within `rtol` of the larger of `scale[j]`, the model's value and 1.
#[derive(Clone, Debug)]
pub struct Tol {
    pub scale: Vec<f64>,
}

/// What a successful `advance` / `evolve` computed: per compartment, `None` when
/// the model's values must match bit for bit (values only moved), `Some` when they
/// are computed and may differ within the tolerance (and are then adopted).
pub type Computed = Vec<Option<Tol>>;

/// One live cell's model.
pub trait CellModel {
    fn comps(&self) -> &'static [CompSpec];
    /// `ngc_cell_type`.
    fn type_name(&self) -> &'static str;
    /// A one-line description of the hyper-parameters, for the call trace.
    fn describe(&self) -> String;
    /// Relative tolerance of computed values.
    fn rtol(&self, f64: bool) -> f64 {
        if f64 {
            1e-9
        } else {
            1e-3
        }
    }
    /// The compartment `ngc_cell_loss` reads, if the cell has one.
    fn loss_index(&self) -> Option<usize>;
    /// `ngc_cell_advance(cell, t, dt)` on the values in `st`.
    fn advance(&mut self, st: &mut State, t: f64, dt: f64) -> Computed;
    /// `ngc_cell_evolve`: `None` for a cell without evolve (a no-op returning `NGC_OK`).
    fn evolve(&mut self, _st: &mut State, _t: f64, _dt: f64) -> Option<Computed> {
        None
    }
    /// The rest value of compartment `i` (a hyper-parameter for some).
    fn rest(&self, i: usize) -> f64 {
        self.comps()[i].rest
    }
    /// The constructor's C name (the prefix of its error messages).
    fn func(&self) -> &'static str;
    /// The status the hyper-parameters alone give (`None`: valid), checked by the
    /// constructor after the generic pointer and dtype checks.
    fn hyper_err(&self) -> Option<NgcStatus> {
        None
    }
    /// The same, for a hyper-parameter the constructor checks right after the
    /// out-pointer (before the name).
    fn hyper_err_early(&self) -> Option<NgcStatus> {
        None
    }
    /// The status the per-sample shape (`[n_units]` or `[H, W, C]`) gives with
    /// these hyper-parameters, checked after the sizes and the allocation.
    fn shape_err(&self, _unit: &[usize]) -> Option<NgcStatus> {
        None
    }
    /// Calls the constructor with this model's hyper-parameters.
    ///
    /// # Safety
    /// The pointers in `a` are valid, NULL, or refused before use.
    unsafe fn call_new(&self, a: &NewArgs) -> NgcStatus;
}

/// The generic arguments of every constructor.
pub struct NewArgs {
    pub name: *const c_char,
    pub n_units: usize,
    pub batch: usize,
    pub shape: *const usize,
    pub dtype: NgcDtype,
    pub out: *mut *mut NgcCell,
}

/// Makes the model of a new cell.
pub type GenFn = fn(&mut R) -> Option<Box<dyn CellModel>>;

/// A constructor with its hyper-parameters fixed, as a family row has it:
/// `(name, n_units, batch_size, shape, dtype, out)`.
pub type NewFn =
    unsafe fn(*const c_char, usize, usize, *const usize, NgcDtype, *mut *mut NgcCell) -> NgcStatus;

/// A cell configuration as the call language uses it: a row of the family table
/// (`tests/common/family.rs`), or a cell type with hyper-parameters drawn at random.
#[derive(Clone, Copy)]
pub struct Kind {
    /// The row's label, or `<type>_random`.
    pub label: &'static str,
    /// Whether the constructor takes a `shape` (`NULL` or `{H, W, C}`).
    pub takes_shape: bool,
    /// The row's constructor; `None`: the model calls its type's constructor with
    /// the hyper-parameters it drew.
    pub new: Option<NewFn>,
    /// The model of a new cell (drawing its hyper-parameters, some invalid, when
    /// they are not fixed).
    pub gen: GenFn,
}

impl Kind {
    /// The kind of a family row, calling the row's constructor: `None` when no
    /// model has a row of that label (or it disagrees about `takes_shape`).
    pub fn of_row(label: &'static str, takes_shape: bool, new: NewFn) -> Option<Kind> {
        let k = rows().into_iter().find(|k| k.label == label)?;
        (k.takes_shape == takes_shape).then_some(Kind {
            new: Some(new),
            ..k
        })
    }
}

/// The family rows the models know, each calling its type's constructor with
/// the row's hyper-parameters (what the fuzz target runs; `tests/random_calls.rs`
/// checks that they cover the rows of tests/common/family.rs).
pub fn rows() -> Vec<Kind> {
    let mut v = bernoulli::rows();
    v.extend(gaussian::rows());
    v.extend(reward::rows());
    v.extend(rate::rows());
    v
}

/// The kinds whose hyper-parameters are drawn at random (beside the rows' fixed
/// ones): every value a constructor accepts, and some it refuses.
pub fn randomized() -> Vec<Kind> {
    let mut v = Vec::new();
    v.extend(bernoulli::randomized());
    v.extend(gaussian::randomized());
    v.extend(reward::randomized());
    v.extend(rate::randomized());
    v
}
