//! The error cell with a broadcasting parameter, written once: ngc-learn's
//! Gaussian and Laplacian error cells are each this template and what is
//! truly their own ([`ParamErrorCell`]: names, labels, the element formula,
//! the hyper-parameter).
//!
//! Nine compartments, in this order (the names are the cell type's):
//!
//! ```text
//! pred, target        inputs, the state's shape, rest 0
//! param               the parameter (`Sigma`, `Scale`): (1, 1) at creation,
//!                     holding the constructor's value; any shape that
//!                     broadcasts against the state (`Cell::set_shaped`); kept by the resets
//! modulator, mask     inputs at ones (the mask eaten by advance)
//! d_pred, d_target    outputs, the state's shape
//! d_param             output: ones of the parameter's shape after advance
//! L                   output: the parameter's shape, squeezed
//! ```
//!
//! and one `advance`:
//!
//! ```text
//! n         = C::element(pred, target)
//! d_pred    = (n / param) * modulator * mask      (n * (1/param) for a broadcast param, as XLA)
//! d_target  = -(n / param) * modulator * mask
//! d_param   = param * 0 + 1
//! L         = squeeze( -sum(C::term(n)) * (LOSS_SCALE / param) )   (over every element)
//! mask      = mask * 0 + 1
//! ```

use std::ffi::CStr;
use std::marker::PhantomData;

use super::elementwise::{self, ErrorKernel, Param, EARLY_MAX};
use super::error::CellError;
use super::layout::for_each_broadcast;
use super::metadata::json_number;
use super::platform::Platform;
use super::real::Real;
use super::spec::{slot_array, CellSpec, CellType, CompartmentSpec, Extent, Hyper, Role};
use super::spec::{Shapes, Slot};
use super::workspace::Workspace;

/// What one error cell type with a broadcasting parameter has of its own.
pub trait ParamErrorCell: std::fmt::Debug + Send + Sync + 'static {
    /// The cell type; its compartments are made by [`compartments`].
    const SPEC: &'static CellSpec;
    /// ngc-learn's constructor argument giving the parameter's initial value.
    const HYPER_NAME: &'static str;
    /// What that argument is, for the metadata.
    const HYPER_DESCRIPTION: &'static str;
    /// `L = (-sum(term)) * (LOSS_SCALE / param)`.
    const LOSS_SCALE: f64;

    /// The element formula before the parameter: `n`, with `d_pred = n / param`.
    fn element<T: Real>(pred: T, target: T) -> T;

    /// The element's term of the loss sum, from its `n`.
    fn term<T: Real>(n: T) -> T;
}

/// Index of the parameter among the [`compartments`].
pub const PARAM: usize = 2;

/// The names and texts of a cell type's compartments (those the template
/// does not fix: `target` and `modulator` are the same for every such type).
#[derive(Clone, Copy, Debug)]
pub struct Labels {
    /// The prediction's name (`mu`) and ngc-learn's display name.
    pub pred: (&'static CStr, &'static str),
    /// `target`'s display name.
    pub target_shown: &'static str,
    /// The parameter's name (`Sigma`), display name and description.
    pub param: (&'static CStr, &'static str, &'static str),
    /// `mask`'s description.
    pub mask: &'static str,
    /// The prediction's derivative: name (`dmu`) and description.
    pub d_pred: (&'static CStr, &'static str),
    /// `dtarget`'s description.
    pub d_target: &'static str,
    /// The parameter's "derivative": name (`dSigma`) and description.
    pub d_param: (&'static CStr, &'static str),
    /// `L`'s display name and description.
    pub loss: (&'static str, &'static str),
}

/// `c` as a `&str` (names are ASCII).
const fn text(c: &'static CStr) -> &'static str {
    match c.to_str() {
        Ok(s) => s,
        Err(_) => panic!("a compartment name is not UTF-8"),
    }
}

/// The compartment table of an error cell type with a broadcasting parameter.
pub const fn compartments(l: Labels) -> [CompartmentSpec; 9] {
    use Extent::{Param as Par, ParamSqueezed, State};
    use Role::{ConsumedInput, Input, Output, Parameter};
    let c = CompartmentSpec::new;
    [
        c(
            text(l.pred.0),
            l.pred.0,
            Input,
            State,
            0.0,
            "External input prediction value(s)",
        )
        .shown(l.pred.1),
        c(
            "target",
            c"target",
            Input,
            State,
            0.0,
            "External input target signal value(s)",
        )
        .shown(l.target_shown),
        c(text(l.param.0), l.param.0, Parameter, Par, 1.0, l.param.2).shown(l.param.1),
        c(
            "modulator",
            c"modulator",
            Input,
            State,
            1.0,
            "External input modulatory/scaling signal(s)",
        ),
        c("mask", c"mask", ConsumedInput, State, 1.0, l.mask),
        c(text(l.d_pred.0), l.d_pred.0, Output, State, 0.0, l.d_pred.1),
        c("dtarget", c"dtarget", Output, State, 0.0, l.d_target),
        c(
            text(l.d_param.0),
            l.d_param.0,
            Output,
            Par,
            0.0,
            l.d_param.1,
        ),
        c("L", c"L", Output, ParamSqueezed, 0.0, l.loss.1)
            .shown(l.loss.0)
            .units("nats"),
    ]
}

/// Cell type `C`'s element formula as an [`ErrorKernel`]; `RECIP`: the
/// parameter holds reciprocals (multiply by it instead of dividing).
#[derive(Debug)]
pub struct ParamKernel<C, const RECIP: bool>(PhantomData<C>);

impl<C, const RECIP: bool> ParamKernel<C, RECIP> {
    /// The kernel.
    pub const fn new() -> Self {
        ParamKernel(PhantomData)
    }
}

impl<C, const RECIP: bool> Default for ParamKernel<C, RECIP> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C, const RECIP: bool> Clone for ParamKernel<C, RECIP> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C, const RECIP: bool> Copy for ParamKernel<C, RECIP> {}

impl<C: ParamErrorCell, const RECIP: bool> ErrorKernel for ParamKernel<C, RECIP> {
    #[inline(always)]
    fn element<T: Real, const F: bool>(
        &self,
        pred: T,
        _pre: T,
        _early: [T; EARLY_MAX],
        target: T,
        param: T,
    ) -> (T, T, T) {
        let n = C::element(pred, target);
        let d = if RECIP { n * param } else { n / param };
        (d, -d, C::term(n))
    }
}

/// An error cell of type `C` with its hyper-parameter, and its scratch space.
#[derive(Debug)]
pub struct ParamError<C, T> {
    /// The constructor's value: the parameter's at creation.
    pub initial: f64,
    broadcast: Broadcast<T>,
    cell: PhantomData<C>,
}

impl<C: ParamErrorCell, T: Real> ParamError<C, T> {
    /// A cell type whose parameter starts at `initial`.
    pub fn new(initial: f64) -> ParamError<C, T> {
        ParamError {
            initial,
            broadcast: Broadcast::default(),
            cell: PhantomData,
        }
    }
}

impl<C: ParamErrorCell, T: Real, P: Platform> CellType<T, P> for ParamError<C, T> {
    fn spec(&self) -> &'static CellSpec {
        C::SPEC
    }

    fn hyperparameters(&self) -> Vec<Hyper> {
        vec![Hyper {
            name: C::HYPER_NAME,
            json: json_number(self.initial),
            description: C::HYPER_DESCRIPTION,
        }]
    }

    fn rest(&self, idx: usize) -> f64 {
        if idx == PARAM {
            self.initial
        } else {
            C::SPEC.compartments[idx].rest
        }
    }

    fn reshape(&mut self, shapes: &Shapes) -> Result<(), CellError> {
        self.broadcast.reshape(shapes)
    }

    /// Runs the kernel dividing by the parameter, or multiplying by its
    /// reciprocal for a broadcast one (as XLA does), then writes
    /// `L_i = (-S) * (LOSS_SCALE / param_i)` with `S` the summed terms, and
    /// ones into the parameter's derivative (ngc-learn computes none).
    fn advance(
        &mut self,
        slots: &mut [Slot<'_, T>],
        shapes: &Shapes,
        ws: &mut Workspace<P>,
        _dt: f64,
    ) -> Result<(), CellError> {
        let [pred, target, param, modulator, mask, d_pred, d_target, d_param, loss] =
            slot_array(slots, C::SPEC.type_name)?;
        let param = param.as_slice();
        let (each, reciprocal) = self.broadcast.view(param, shapes);
        let (pred, target, modulator) =
            (pred.as_slice(), target.as_slice(), modulator.unless_rest());
        let (mask, d_pred, d_target) = (
            mask.unless_rest_mut()?,
            d_pred.writable()?,
            d_target.writable()?,
        );
        let s = if reciprocal {
            let k = ParamKernel::<C, true>::new();
            elementwise::run(k, ws, pred, target, each, modulator, mask, d_pred, d_target)?
        } else {
            let k = ParamKernel::<C, false>::new();
            elementwise::run(k, ws, pred, target, each, modulator, mask, d_pred, d_target)?
        };
        let minus_s = -T::from_f64(s);
        let scale = T::from_f64(C::LOSS_SCALE);
        let outs = loss
            .writable()?
            .iter_mut()
            .zip(d_param.writable()?.iter_mut());
        for ((l, d), &v) in outs.zip(param) {
            *l = minus_s * (scale / v);
            *d = v * T::ZERO + T::ONE;
        }
        Ok(())
    }
}

/// A parameter compartment that broadcasts against the state, as the kernels see it.
///
/// XLA (ngc-learn's compiler) divides by a parameter of the state's full shape
/// or a 0-d one, and multiplies by its reciprocal when it broadcasts one of
/// another shape (`(1, 1)`, `(1, n)`, `(n,)`, ...): [`view`](Self::view) says
/// which, so the kernels do the same operation. A parameter that is neither
/// one value nor full-shaped is expanded to the state's length (its
/// reciprocals) into scratch space sized by [`reshape`](Self::reshape), so
/// `advance` allocates nothing.
#[derive(Debug, Default)]
pub struct Broadcast<T> {
    expanded: Vec<T>,
}

impl<T: Real> Broadcast<T> {
    /// Sizes the scratch space for `shapes` (fallible).
    pub fn reshape(&mut self, shapes: &Shapes) -> Result<(), CellError> {
        let count: usize = shapes.state.iter().product();
        let n: usize = shapes.param.iter().product();
        let need = if n == 1 || shapes.param == shapes.state {
            0
        } else {
            count
        };
        if need > self.expanded.len() {
            self.expanded
                .try_reserve_exact(need - self.expanded.len())
                .map_err(|_| CellError::Alloc {
                    name: "parameter (broadcast)".into(),
                    bytes: need.saturating_mul(std::mem::size_of::<T>()),
                })?;
            self.expanded.resize(need, T::ZERO);
        }
        Ok(())
    }

    /// The parameter of each element, and whether it holds reciprocals
    /// (`true`: multiply by it; `false`: divide by it).
    pub fn view<'a>(&'a mut self, param: &'a [T], shapes: &Shapes) -> (Param<'a, T>, bool) {
        if shapes.param == shapes.state {
            (Param::Each(param), false)
        } else if param.len() == 1 {
            if shapes.param.is_empty() {
                (Param::All(param[0]), false)
            } else {
                (Param::All(T::ONE / param[0]), true)
            }
        } else {
            let count: usize = shapes.state.iter().product();
            let out = &mut self.expanded[..count];
            let mut i = 0;
            for_each_broadcast(&shapes.state, &shapes.param, |j| {
                out[i] = T::ONE / param[j];
                i += 1;
            });
            (Param::Each(&self.expanded[..count]), true)
        }
    }
}
