//! The parts of the C ABI that only the graded family beyond Bernoulli uses
//! (`ngc_cell_set_shaped`, `ngc_cell_evolve`). Format-2 fixtures (the only ones with
//! these ops) are replayed once their constructors are on main; until then nothing
//! reaches these.

use crate::engine::{Cell, Elem};

pub fn set_shaped<T: Elem>(_cell: &Cell, comp: &str, _v: &[T], _dims: &[usize]) {
    unreachable!("set_shaped of {comp}: only format-2 fixtures have it, and none is replayed yet")
}

pub fn evolve(_cell: &Cell, _dt: f64) {
    unreachable!("evolve: only format-2 fixtures have it, and none is replayed yet")
}
