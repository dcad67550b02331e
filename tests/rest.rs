//! Compartments at their rest value cost no memory traffic, and change no bit
//! (issue 16).
//!
//! A cell knows when an owned `modulator` or `mask` holds its rest value (ones)
//! everywhere; its kernels then neither read it nor (for the mask) rewrite it.
//! For every row of the family with a modulator and a mask, this compares that
//! path with the full computation element for element: the same inputs, once
//! with the two compartments at rest, once with ones written into them by
//! `ngc_cell_set` (which makes the cell read them), over several steps and
//! sizes, with NaN, infinities and -0 in the other inputs, both dtypes, 1 and
//! 2 threads. Then the cases where a value is NOT at rest (a NaN or a zero in
//! the mask, a modulator of 2) must give what the full computation gives.

mod common;

use common::family::{Cell, FAMILY};
use ngc_cells::*;

/// Every input of the row from `seed`, with special values sprinkled into
/// the ones that are neither modulator nor mask.
fn set_inputs(c: &Cell, seed: u64) {
    let specials = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        1e-40,
        3e38,
    ];
    for (k, inp) in c.row.inputs.iter().enumerate() {
        if inp.name == "modulator" || inp.name == "mask" {
            continue;
        }
        let n = c.len(inp.name);
        let v: Vec<f64> = (0..n)
            .map(|j| {
                if j % 13 == 5 {
                    specials[(j / 13 + k) % specials.len()]
                } else {
                    inp.draw
                        .at(common::family::uniform(seed, k as u64, j as u64))
                }
            })
            .collect();
        c.set(inp.name, &v);
    }
}

fn rows() -> impl Iterator<Item = &'static common::family::Row> {
    FAMILY.iter().filter(|r| {
        r.inputs.iter().any(|i| i.name == "modulator") && r.inputs.iter().any(|i| i.name == "mask")
    })
}

#[test]
fn at_rest_and_full_paths_give_the_same_bits() {
    let mut checked = 0;
    for row in rows() {
        for dtype in [NGC_DTYPE_F32, NGC_DTYPE_F64] {
            for (n, batch, threads) in [(7, 3, 1), (4096, 1, 1), (50_000, 3, 2)] {
                let rest = row.cell(n, batch, dtype);
                let full = row.cell(n, batch, dtype);
                rest.set_threads(threads);
                full.set_threads(threads);
                for step in 0..3u64 {
                    set_inputs(&rest, step);
                    set_inputs(&full, step);
                    let ones = vec![1.0; full.len("mask")];
                    full.set("modulator", &ones);
                    full.set("mask", &ones);
                    rest.advance(0.0, 1.0);
                    full.advance(0.0, 1.0);
                    assert!(
                        rest.snapshot() == full.snapshot(),
                        "{} dtype {dtype} n {n} batch {batch} threads {threads} step {step}: \
                         the at-rest path differs from the full computation",
                        row.label
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 0,
        "no row of the family has a modulator and a mask"
    );
}

#[test]
fn values_that_are_not_at_rest_are_read() {
    for row in rows() {
        for dtype in [NGC_DTYPE_F32, NGC_DTYPE_F64] {
            let (n, batch) = (9, 2);
            let count = n * batch;
            // A mask with a zero, a NaN and an infinity; a modulator of 2.
            let mut mask = vec![1.0; count];
            mask[1] = 0.0;
            mask[4] = f64::NAN;
            mask[7] = f64::INFINITY;
            let modulator = vec![2.0; count];
            let a = row.cell(n, batch, dtype);
            let b = row.cell(n, batch, dtype);
            set_inputs(&a, 9);
            set_inputs(&b, 9);
            a.set("mask", &mask);
            a.set("modulator", &modulator);
            a.advance(0.0, 1.0);
            // `b` gets the same through bound buffers the library must read.
            b.set("mask", &mask);
            b.set("modulator", &modulator);
            b.advance(0.0, 1.0);
            assert!(a.snapshot() == b.snapshot(), "{}", row.label);
            // The eaten mask: ones, NaN where it was NaN or infinite; the
            // next step reads it (NaN stays), and a reset brings back rest.
            let after = a.bits("mask");
            assert!(f64::from_bits(after[4]).is_nan() || f32::from_bits(after[4] as u32).is_nan());
            set_inputs(&a, 10);
            set_inputs(&b, 10);
            // `b` is given the eaten mask `a` holds (NaN signs included) by `set`.
            let eaten: Vec<f64> = a
                .bits("mask")
                .iter()
                .map(|&x| {
                    if dtype == NGC_DTYPE_F64 {
                        f64::from_bits(x)
                    } else {
                        f64::from(f32::from_bits(x as u32))
                    }
                })
                .collect();
            assert_eq!(eaten.iter().filter(|x| x.is_nan()).count(), 2);
            b.set("mask", &eaten);
            a.advance(0.0, 1.0);
            b.advance(0.0, 1.0);
            let (sa, sb) = (a.snapshot(), b.snapshot());
            for (i, name) in row.compartments.iter().enumerate() {
                assert!(
                    sa[i] == sb[i],
                    "{}: the NaN left in the eaten mask: {name} differs: {:x?} vs {:x?}",
                    row.label,
                    sa[i],
                    sb[i]
                );
            }
            // SAFETY: live handle.
            assert_eq!(unsafe { ngc_cell_reset(a.ptr) }, NGC_OK);
            assert!(a
                .bits("mask")
                .iter()
                .all(|&x| x == 1f64.to_bits() || x == u64::from(1f32.to_bits())));
        }
    }
}

/// The cell's own record of what is at rest, through the safe core.
#[test]
fn the_core_knows_what_is_at_rest() {
    use ngc_cells::core::cells::gaussian::gaussian_error_cell;
    let mut c = gaussian_error_cell::<f32>("e", 4, 2, 1.0, None).unwrap();
    let (m, k) = (c.index("modulator").unwrap(), c.index("mask").unwrap());
    assert!(c.is_at_rest(m) && c.is_at_rest(k), "after creation");
    c.advance(1.0).unwrap();
    assert!(
        c.is_at_rest(m) && c.is_at_rest(k),
        "advance keeps ones as ones"
    );
    c.set("mask", &[1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
        .unwrap();
    assert!(!c.is_at_rest(k), "lost on set");
    c.advance(1.0).unwrap();
    assert!(
        c.is_at_rest(k),
        "a mask eaten from finite values is ones again"
    );
    c.set("mask", &[1.0, f32::NAN, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
        .unwrap();
    c.advance(1.0).unwrap();
    assert!(!c.is_at_rest(k), "a NaN mask is never at rest");
    c.set("modulator", &[1.0; 8]).unwrap();
    assert!(!c.is_at_rest(m), "set loses it even for ones");
    c.reset().unwrap();
    c.set_shaped("mask", &[0.5; 8], &[2, 4]).unwrap();
    assert!(!c.is_at_rest(k), "set_shaped (same shape) loses it");
    c.advance(1.0).unwrap();
    assert_eq!(c.get("dmu").unwrap(), &[0.0; 8]);
    assert!(c.is_at_rest(k), "and the eaten mask is ones again");
    c.reset().unwrap();
    assert!(c.is_at_rest(m) && c.is_at_rest(k), "after reset");
}
