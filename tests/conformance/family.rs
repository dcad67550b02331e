//! The parts of the C ABI that only the graded family beyond Bernoulli uses:
//! `ngc_cell_set_shaped` (Sigma/Scale of another shape) and `ngc_cell_evolve`.

use ngc_cells::{ngc_cell_evolve, ngc_cell_set_shaped};

use crate::engine::{cstr, ok, Cell, Elem};

pub fn set_shaped<T: Elem>(cell: &Cell, comp: &str, v: &[T], dims: &[usize]) {
    let c = cstr(comp);
    // SAFETY: live handle, valid name, v holds the product of dims elements of the
    // cell's dtype (the caller made it so), dims holds rank sizes.
    ok(
        unsafe {
            ngc_cell_set_shaped(
                cell.0,
                c.as_ptr(),
                v.as_ptr().cast(),
                dims.as_ptr(),
                dims.len(),
            )
        },
        &format!("set_shaped {comp} {dims:?}"),
    );
}

pub fn evolve(cell: &Cell, dt: f64) {
    // SAFETY: live handle.
    ok(unsafe { ngc_cell_evolve(cell.0, 0.0, dt) }, "evolve");
}
