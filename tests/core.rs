//! The safe Rust core against hand-derived values (docs/cells/bernoulli.md, worked by hand).

use ngc_cells::core::{bernoulli_error_cell, Cell, CellError, Real};

fn cell<T: Real>(n: usize, batch: usize, logits: bool) -> Cell<T> {
    bernoulli_error_cell::<T>("z", n, batch, logits, None).unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-30)
}

fn sig(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[test]
fn rest_values_and_shapes() {
    let c = cell::<f32>(3, 2, false);
    for (name, rest) in [
        ("p", 0.0),
        ("target", 0.0),
        ("modulator", 1.0),
        ("mask", 1.0),
        ("dp", 0.0),
        ("dtarget", 0.0),
    ] {
        assert_eq!(c.get(name).unwrap(), &[rest; 6], "{name}");
        assert_eq!(c.view(name).unwrap().shape(), &[2, 3]);
    }
    assert_eq!(c.get("L").unwrap(), &[0.0]);
    assert_eq!(c.view("L").unwrap().ndim(), 0);
    assert!(matches!(
        c.get("mu"),
        Err(CellError::UnknownCompartment { .. })
    ));
}

#[test]
fn probability_mode_clips_at_both_ends_f32() {
    // p = 0 -> q = 1e-4f; p = 1 -> q = 0.9999f (so 1 - q = 1.00016594e-4, not 1e-4).
    let mut c = cell::<f32>(2, 1, false);
    c.set("p", &[0.0, 1.0]).unwrap();
    c.set("target", &[1.0, 0.0]).unwrap();
    c.advance(1.0).unwrap();
    let lo = f64::from(1.0e-4_f32);
    let hi = f64::from(0.9999_f32);
    let one_min_hi = f64::from(1.0_f32 - 0.9999_f32);
    assert!(close(one_min_hi, 1.000_165_9e-4, 1e-6));
    let dp = c.get("dp").unwrap();
    // x = 1, q = lo: (1/lo - 0) * d_sigmoid(0) = 0.25 / lo = 2500.
    assert!(close(f64::from(dp[0]), 0.25 / lo, 1e-6), "{}", dp[0]);
    // x = 0, q = hi: (0 - 1/(1-hi)) * d_sigmoid(1), d_sigmoid of the RAW p = 1.
    let ds1 = sig(1.0) * (1.0 - sig(1.0));
    assert!(
        close(f64::from(dp[1]), -ds1 / one_min_hi, 1e-6),
        "{}",
        dp[1]
    );
    let dt = c.get("dtarget").unwrap();
    assert!(close(f64::from(dt[0]), lo.ln() - (1.0 - lo).ln(), 1e-6));
    assert!(close(f64::from(dt[1]), hi.ln() - one_min_hi.ln(), 1e-6));
    // L = ln(lo) * 1 + ln(1 - hi) * 1.
    let l = c.loss().unwrap();
    assert!(close(l, lo.ln() + one_min_hi.ln(), 1e-6), "{l}");
}

#[test]
fn probability_mode_clips_symmetrically_f64() {
    let mut c = cell::<f64>(2, 1, false);
    c.set("p", &[-3.0, 7.0]).unwrap();
    c.set("target", &[1.0, 0.0]).unwrap();
    c.advance(1.0).unwrap();
    let dp = c.get("dp").unwrap();
    assert!(close(
        dp[0],
        1.0 / 1e-4 * sig(-3.0) * (1.0 - sig(-3.0)),
        1e-12
    ));
    assert!(close(
        dp[1],
        -1.0 / (1.0 - 0.9999) * sig(7.0) * (1.0 - sig(7.0)),
        1e-12
    ));
    assert!(close(
        c.loss().unwrap(),
        1e-4_f64.ln() + (1.0 - 0.9999_f64).ln(),
        1e-12
    ));
}

#[test]
fn logit_mode_at_plus_and_minus_100() {
    let mut c = cell::<f32>(4, 1, true);
    c.set("p", &[100.0, -100.0, 0.0, 2.0]).unwrap();
    c.set("target", &[1.0, 1.0, 0.5, 0.0]).unwrap();
    c.advance(1.0).unwrap();
    let dp = c.get("dp").unwrap();
    // sigmoid(100) = 1 -> 0.9999f; dp = x - q, with no d_sigmoid in logit mode.
    assert_eq!(dp[0], 1.0 - 0.9999_f32);
    // sigmoid(-100) underflows to 0 in f32 -> 1e-4f.
    assert_eq!(dp[1], 1.0 - 1.0e-4_f32);
    assert_eq!(dp[2], 0.0);
    assert!(close(f64::from(dp[3]), -sig(2.0), 1e-6));
    let dt = c.get("dtarget").unwrap();
    assert!(close(
        f64::from(dt[0]),
        f64::from(0.9999_f32).ln() - f64::from(1.0 - 0.9999_f32).ln(),
        1e-6
    ));
    assert_eq!(dt[2], 0.0);
    assert!(close(f64::from(dt[3]), 2.0, 1e-5));
    let l = c.loss().unwrap();
    let want = f64::from(0.9999_f32).ln()
        + f64::from(1.0e-4_f32).ln()
        + 0.5f64.ln()
        + (1.0 - sig(2.0)).ln();
    assert!(close(l, want, 1e-6), "{l} vs {want}");
}

#[test]
fn mask_is_eaten_and_modulator_kept() {
    let mut c = cell::<f64>(2, 1, true);
    c.set("p", &[0.5, 0.5]).unwrap();
    c.set("target", &[1.0, 1.0]).unwrap();
    c.set("mask", &[0.0, 1.0]).unwrap();
    c.set("modulator", &[2.0, -3.0]).unwrap();
    c.advance(1.0).unwrap();
    let g = 1.0 - sig(0.5);
    assert_eq!(c.get("dp").unwrap(), &[0.0, -3.0 * g]);
    assert_eq!(c.get("mask").unwrap(), &[1.0, 1.0]);
    assert_eq!(c.get("modulator").unwrap(), &[2.0, -3.0]);
    c.advance(1.0).unwrap();
    assert_eq!(c.get("dp").unwrap(), &[2.0 * g, -3.0 * g]);
    // Inputs are not clipped in place.
    assert_eq!(c.get("p").unwrap(), &[0.5, 0.5]);
}

#[test]
fn nan_and_inf_propagate_like_the_reference() {
    let mut c = cell::<f32>(3, 1, false);
    c.set("p", &[f32::NAN, 0.5, 0.5]).unwrap();
    c.set("target", &[1.0, 1.0, 1.0]).unwrap();
    c.set("mask", &[1.0, f32::INFINITY, f32::NAN]).unwrap();
    c.advance(1.0).unwrap();
    let dp = c.get("dp").unwrap();
    assert!(dp[0].is_nan());
    assert_eq!(dp[1], f32::INFINITY);
    assert!(dp[2].is_nan());
    assert!(c.loss().unwrap().is_nan());
    // ngc-learn computes mask * 0 + 1: inf and NaN entries become NaN.
    let m = c.get("mask").unwrap();
    assert_eq!(m[0], 1.0);
    assert!(m[1].is_nan() && m[2].is_nan());
}

#[test]
fn image_shape_is_four_dimensional_and_elementwise() {
    let mut img = bernoulli_error_cell::<f32>("img", 9, 2, true, Some([2, 3, 4])).unwrap();
    let mut flat = cell::<f32>(24, 2, true);
    assert_eq!(img.view("dp").unwrap().shape(), &[2, 2, 3, 4]);
    assert_eq!(img.layout().count(), 48);
    assert_eq!(img.layout().n_units(), 9);
    let p: Vec<f32> = (0..48).map(|i| (i as f32 - 24.0) / 5.0).collect();
    let x: Vec<f32> = (0..48).map(|i| (i % 2) as f32).collect();
    for c in [&mut img, &mut flat] {
        c.set("p", &p).unwrap();
        c.set("target", &x).unwrap();
        c.advance(1.0).unwrap();
    }
    assert_eq!(img.get("dp").unwrap(), flat.get("dp").unwrap());
    assert_eq!(img.loss().unwrap(), flat.loss().unwrap());
}

#[test]
fn reset_restores_the_constructor_batch_and_batched_reset_changes_it() {
    let mut c = cell::<f32>(3, 2, false);
    c.set("p", &[0.3; 6]).unwrap();
    c.set("modulator", &[5.0; 6]).unwrap();
    c.advance(1.0).unwrap();
    c.batched_reset(5).unwrap();
    assert_eq!(c.layout().batch_size(), 5);
    assert_eq!(c.get("p").unwrap(), &[0.0; 15]);
    assert_eq!(c.get("modulator").unwrap(), &[1.0; 15]);
    assert_eq!(c.get("mask").unwrap(), &[1.0; 15]);
    assert_eq!(c.view("dp").unwrap().shape(), &[5, 3]);
    assert_eq!(c.loss().unwrap(), 0.0);
    c.reset().unwrap();
    assert_eq!(c.layout().batch_size(), 2);
    assert_eq!(c.get("dtarget").unwrap(), &[0.0; 6]);
    assert!(matches!(
        c.batched_reset(0),
        Err(CellError::ZeroSize { what: "batch_size" })
    ));
    assert_eq!(c.layout().batch_size(), 2);
}

#[test]
fn loss_is_bit_identical_across_runs_and_thread_counts() {
    let n = 300_001; // many sum blocks, one partial
    let p: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
        .collect();
    let x: Vec<f32> = (0..n).map(|i| ((i * 104_729) % 3) as f32 / 2.0).collect();
    let run = |threads: usize| {
        let mut c = cell::<f32>(n, 1, false);
        c.set_threads(threads).unwrap();
        c.set("p", &p).unwrap();
        c.set("target", &x).unwrap();
        c.advance(1.0).unwrap();
        (c.loss().unwrap().to_bits(), c.get("dp").unwrap().to_vec())
    };
    let one = run(1);
    assert_eq!(one, run(1));
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

#[test]
fn length_mismatch_is_refused() {
    let mut c = cell::<f64>(2, 2, false);
    assert_eq!(
        c.set("p", &[1.0; 3]),
        Err(CellError::LengthMismatch {
            name: "p".into(),
            expected: 4,
            got: 3
        })
    );
}
