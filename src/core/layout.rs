//! Shapes: how many elements each array compartment of a cell holds.

use super::error::CellError;

/// The largest element size of any dtype (f64). Counts are checked so that
/// `count * MAX_ELEM_SIZE` fits in `isize`, the limit Rust and C put on one object.
const MAX_ELEM_SIZE: usize = 8;

/// The shape of one sample: `(n_units,)` or ngc-learn's `(H, W, C)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitShape {
    /// A vector of `n_units` values: compartments are `(batch, n_units)`.
    Flat(usize),
    /// An image: compartments are `(batch, H, W, C)`; `n_units` is only recorded.
    Image([usize; 3]),
}

/// The shape of a cell: its batch size and the shape of one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    n_units: usize,
    batch_size: usize,
    unit: UnitShape,
    count: usize,
}

fn checked_count(what: &'static str, factors: &[usize]) -> Result<usize, CellError> {
    let overflow = || CellError::SizeOverflow {
        what,
        detail: factors
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(" x "),
    };
    let mut n: usize = 1;
    for &f in factors {
        n = n.checked_mul(f).ok_or_else(overflow)?;
    }
    match n.checked_mul(MAX_ELEM_SIZE) {
        Some(bytes) if bytes <= isize::MAX as usize => Ok(n),
        _ => Err(overflow()),
    }
}

impl Layout {
    /// A layout of `batch_size` samples of `n_units` values, or of `shape = (H, W, C)` when given.
    ///
    /// Every size must be at least 1 and `batch_size * n_units` (or `batch_size * H * W * C`)
    /// must fit in memory arithmetic (times 8 bytes, in `isize`).
    pub fn new(
        n_units: usize,
        batch_size: usize,
        shape: Option<[usize; 3]>,
    ) -> Result<Layout, CellError> {
        if n_units == 0 {
            return Err(CellError::ZeroSize { what: "n_units" });
        }
        let unit = match shape {
            None => UnitShape::Flat(n_units),
            Some(s) => {
                for (i, &d) in s.iter().enumerate() {
                    if d == 0 {
                        return Err(CellError::ZeroSize {
                            what: ["shape[0] (H)", "shape[1] (W)", "shape[2] (C)"][i],
                        });
                    }
                }
                UnitShape::Image(s)
            }
        };
        Layout::with_unit(n_units, batch_size, unit)
    }

    fn with_unit(n_units: usize, batch_size: usize, unit: UnitShape) -> Result<Layout, CellError> {
        if batch_size == 0 {
            return Err(CellError::ZeroSize { what: "batch_size" });
        }
        let count = match unit {
            UnitShape::Flat(n) => checked_count("batch_size x n_units", &[batch_size, n])?,
            UnitShape::Image([h, w, c]) => {
                checked_count("batch_size x H x W x C", &[batch_size, h, w, c])?
            }
        };
        Ok(Layout {
            n_units,
            batch_size,
            unit,
            count,
        })
    }

    /// The same sample shape with another batch size.
    pub fn with_batch(&self, batch_size: usize) -> Result<Layout, CellError> {
        Layout::with_unit(self.n_units, batch_size, self.unit)
    }

    /// The `n_units` the cell was made with.
    pub fn n_units(&self) -> usize {
        self.n_units
    }

    /// The current batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The shape of one sample.
    pub fn unit(&self) -> UnitShape {
        self.unit
    }

    /// Elements in one array compartment: `batch_size * prod(sample shape)`.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The dims of an array compartment: `[batch, n]` or `[batch, H, W, C]`.
    pub fn dims(&self) -> Vec<usize> {
        match self.unit {
            UnitShape::Flat(n) => vec![self.batch_size, n],
            UnitShape::Image([h, w, c]) => vec![self.batch_size, h, w, c],
        }
    }
}

/// Whether `param` (numpy-style, right-aligned) broadcasts against `state`
/// without changing it: at most as many dims, each equal to the state's or 1.
/// `Err` says why not.
pub fn check_broadcast(param: &[usize], state: &[usize]) -> Result<(), String> {
    if param.len() > state.len() {
        return Err(format!(
            "dims {param:?} have more axes than the state shape {state:?}"
        ));
    }
    let off = state.len() - param.len();
    for (a, &d) in param.iter().enumerate() {
        if d != 1 && d != state[off + a] {
            return Err(format!(
                "dims {param:?} do not broadcast against the state shape {state:?} \
                 (axis {a}: {d} is neither 1 nor {})",
                state[off + a]
            ));
        }
    }
    Ok(())
}

/// Calls `f(j)` for each element of an array of shape `state`, in row-major
/// order, with `j` the index of its value in an array of shape `param` that
/// broadcasts against `state` ([`check_broadcast`]).
pub fn for_each_broadcast(state: &[usize], param: &[usize], mut f: impl FnMut(usize)) {
    let off = state.len() - param.len();
    // Per state axis: the param stride (0 where the param dim is 1 or missing).
    let mut stride = vec![0usize; state.len()];
    let mut s = 1;
    for a in (0..param.len()).rev() {
        if param[a] != 1 {
            stride[off + a] = s;
        }
        s *= param[a];
    }
    let mut coord = vec![0usize; state.len()];
    let n: usize = state.iter().product();
    let mut j = 0;
    for _ in 0..n {
        f(j);
        // Odometer over the state's axes, last fastest.
        for a in (0..state.len()).rev() {
            coord[a] += 1;
            j += stride[a];
            if coord[a] < state[a] {
                break;
            }
            j -= stride[a] * coord[a];
            coord[a] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting() {
        assert!(check_broadcast(&[1, 1], &[2, 3]).is_ok());
        assert!(check_broadcast(&[], &[2, 3]).is_ok());
        assert!(check_broadcast(&[3], &[2, 3]).is_ok());
        assert!(check_broadcast(&[2, 1], &[2, 3]).is_ok());
        assert!(check_broadcast(&[2, 3], &[2, 3]).is_ok());
        assert!(check_broadcast(&[2], &[2, 3]).is_err());
        assert!(check_broadcast(&[1, 2, 3], &[2, 3]).is_err());
        let mut v = vec![];
        for_each_broadcast(&[2, 3], &[3], |j| v.push(j));
        assert_eq!(v, [0, 1, 2, 0, 1, 2]);
        v.clear();
        for_each_broadcast(&[2, 3], &[2, 1], |j| v.push(j));
        assert_eq!(v, [0, 0, 0, 1, 1, 1]);
        v.clear();
        for_each_broadcast(&[2, 2, 1, 2], &[2, 1, 2], |j| v.push(j));
        assert_eq!(v, [0, 1, 2, 3, 0, 1, 2, 3]);
        v.clear();
        for_each_broadcast(&[2, 3], &[], |j| v.push(j));
        assert_eq!(v, [0; 6]);
    }

    #[test]
    fn flat_and_image_counts() {
        let l = Layout::new(784, 32, None).unwrap();
        assert_eq!(l.count(), 25_088);
        assert_eq!(l.dims(), vec![32, 784]);
        let l = Layout::new(9, 2, Some([3, 4, 5])).unwrap();
        assert_eq!(l.count(), 120);
        assert_eq!(l.dims(), vec![2, 3, 4, 5]);
        assert_eq!(l.n_units(), 9);
        assert_eq!(l.with_batch(5).unwrap().count(), 300);
    }

    #[test]
    fn zero_and_overflow_are_refused() {
        assert_eq!(
            Layout::new(0, 1, None),
            Err(CellError::ZeroSize { what: "n_units" })
        );
        assert_eq!(
            Layout::new(1, 0, None),
            Err(CellError::ZeroSize { what: "batch_size" })
        );
        assert!(matches!(
            Layout::new(1, 1, Some([1, 0, 1])),
            Err(CellError::ZeroSize { .. })
        ));
        assert!(matches!(
            Layout::new(usize::MAX, 2, None),
            Err(CellError::SizeOverflow { .. })
        ));
        // Fits in usize but not in isize bytes once multiplied by 8.
        assert!(matches!(
            Layout::new(usize::MAX / 8, 1, None),
            Err(CellError::SizeOverflow { .. })
        ));
        assert!(matches!(
            Layout::new(1, 1 << 20, Some([1 << 20, 1 << 20, 1 << 20])),
            Err(CellError::SizeOverflow { .. })
        ));
    }
}
