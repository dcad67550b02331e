//! The family table (`tests/common/family.rs`) says what the library does: each
//! row's type, compartments in index order, loss, 4-D shape and evolve, for both
//! dtypes. The generic suites trust the table, so it is checked here.

mod common;

use std::ffi::CStr;
use std::ptr;

use common::family::{Cell, DTYPES, FAMILY};
use ngc_cells::*;

fn compartment_names(c: &Cell) -> Vec<String> {
    let mut count = 0;
    // SAFETY: live handle, writable outputs; names are static strings.
    unsafe {
        assert_eq!(ngc_cell_compartment_count(c.ptr, &mut count), NGC_OK);
        (0..count)
            .map(|i| {
                let mut p = ptr::null();
                assert_eq!(ngc_cell_compartment_name(c.ptr, i, &mut p), NGC_OK);
                CStr::from_ptr(p).to_str().unwrap().to_owned()
            })
            .collect()
    }
}

#[test]
fn every_row_matches_the_library() {
    let mut labels: Vec<&str> = FAMILY.iter().map(|r| r.label).collect();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels.len(), FAMILY.len(), "labels must be unique");
    for row in FAMILY {
        for dtype in DTYPES {
            let c = row.cell(5, 3, dtype);
            assert_eq!(c.type_name(), row.type_name, "{}", row.label);
            assert_eq!(compartment_names(&c), row.compartments, "{}", row.label);
            for name in row
                .inputs
                .iter()
                .map(|i| i.name)
                .chain(row.outputs.iter().copied())
            {
                assert!(
                    row.compartments.contains(&name),
                    "{}: {name} is not a compartment",
                    row.label
                );
            }
            let mut loss = f64::NAN;
            // SAFETY: live handle, writable output.
            let st = unsafe { ngc_cell_loss(c.ptr, &mut loss) };
            assert_eq!(
                st == NGC_OK,
                row.has_loss,
                "{}: ngc_cell_loss gave {st}",
                row.label
            );
            // Inputs take values of their size; advance then changes an output.
            let before = c.snapshot();
            c.set_random_inputs(1);
            c.advance(0.0, 1.0);
            let after = c.snapshot();
            let changed: Vec<&str> = row
                .compartments
                .iter()
                .zip(before.iter().zip(&after))
                .filter(|(_, (b, a))| b != a)
                .map(|(n, _)| *n)
                .collect();
            for out in row.outputs.iter().filter(|o| **o != "mask") {
                assert!(
                    changed.contains(out),
                    "{}: advance left output {out} unchanged",
                    row.label
                );
            }
            // evolve changes the state exactly when the row says it has one
            // (with an evolve, after an advance it moves some state).
            c.evolve(1.0, 1.0);
            let evolved = c.snapshot();
            assert_eq!(
                evolved != after,
                row.has_evolve,
                "{}: has_evolve is {} but evolve {} the state",
                row.label,
                row.has_evolve,
                if evolved != after { "changed" } else { "kept" }
            );
            // The 4-D shape is accepted exactly when the row says so.
            let shape = [2usize, 3, 4];
            let mut out = ptr::null_mut();
            if row.takes_shape {
                // SAFETY: valid arguments; the cell is freed below.
                let st =
                    unsafe { (row.new)(c"s".as_ptr(), 24, 2, shape.as_ptr(), dtype, &mut out) };
                assert_eq!(st, NGC_OK, "{}", row.label);
                let first = row.c_names().remove(0);
                let (mut dims, mut ndim) = ([0usize; 4], 0);
                // SAFETY: live handle from the call above, writable outputs.
                unsafe {
                    assert_eq!(
                        ngc_cell_compartment_dims(
                            out,
                            first.as_ptr(),
                            dims.as_mut_ptr(),
                            4,
                            &mut ndim
                        ),
                        NGC_OK
                    );
                    ngc_cell_free(out);
                }
                assert_eq!(&dims[..ndim], &[2, 2, 3, 4], "{}: 4-D dims", row.label);
            }
        }
    }
}
