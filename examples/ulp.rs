//! Measures the maximum error, in ulp, of the kernel's `ln`/`exp` on the inputs
//! the Bernoulli kernel feeds them, and of XLA's `tanh`/`exp` (RateCell's; see
//! `src/core/vmath.rs` and `docs/benchmarks.md`).
//!
//! `cargo run --release --example ulp` (tens of minutes: the XLA tanh/exp sweeps are long): every f32 in the ranges;
//! f64 on 2^26 points per function, against glibc's `log`/`exp`/`tanh`.
use ngc_cells::core::vmath::{
    exp_f32, exp_f64, exp_xla_f32, exp_xla_f64, ln_f32, ln_f64, tanh_f32, tanh_f64,
};

fn ulp32(approx: f32, exact: f64) -> f64 {
    let e = (exact as f32).abs();
    let ulp = (f32::from_bits(e.to_bits() + 1) - e) as f64;
    ((approx as f64) - exact).abs() / ulp
}

fn ulp64(approx: f64, reference: f64) -> f64 {
    let e = reference.abs();
    (approx - reference).abs() / (f64::from_bits(e.to_bits() + 1) - e)
}

fn sweep32(name: &str, lo: f32, hi: f32, f: impl Fn(f32) -> f32, exact: impl Fn(f64) -> f64) {
    let mut worst = (0.0f64, 0.0f32);
    let mut count = 0u64;
    // Every float in [lo, hi], in both signs' order.
    let mut visit = |x: f32| {
        let u = ulp32(f(x), exact(x as f64));
        if u > worst.0 {
            worst = (u, x);
        }
        count += 1;
    };
    if lo >= 0.0 {
        for b in lo.to_bits()..=hi.to_bits() {
            visit(f32::from_bits(b));
        }
    } else {
        for b in 0..=lo.to_bits() {
            visit(f32::from_bits(b));
        }
        for b in 0..=hi.to_bits() {
            visit(f32::from_bits(b));
        }
    }
    println!(
        "{name:<28} {count:>11} inputs in [{lo:e}, {hi:e}]: max {:.3} ulp (at {:e})",
        worst.0, worst.1
    );
}

fn sweep64(
    name: &str,
    lo: f64,
    hi: f64,
    f: impl Fn(f64) -> f64,
    reference: impl Fn(f64) -> f64,
    dump: &mut Option<std::fs::File>,
) {
    let n = 1u64 << 26;
    let mut worst = (0.0f64, 0.0f64);
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..n {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        // Half uniform over the range, half log-uniform-ish over its bit patterns.
        let x = if i % 2 == 0 {
            lo + ((s >> 11) as f64 / (1u64 << 53) as f64) * (hi - lo)
        } else if lo > 0.0 {
            f64::from_bits(lo.to_bits() + s % (hi.to_bits() - lo.to_bits()))
        } else {
            let m = if s & 1 == 0 { hi } else { -lo };
            let v = f64::from_bits((s >> 1) % m.to_bits());
            if s & 1 == 0 {
                v
            } else {
                -v
            }
        };
        let u = ulp64(f(x), reference(x));
        if u > worst.0 {
            worst = (u, x);
        }
        if u >= 0.5 {
            if let Some(out) = dump.as_mut() {
                use std::io::Write;
                let _ = writeln!(out, "{name}\t{:e}\t{:e}\t{:e}", x, f(x), reference(x));
            }
        }
    }
    println!(
        "{name:<28} {n:>11} inputs in [{lo:e}, {hi:e}]: max {:.3} ulp from glibc (at {:e})",
        worst.0, worst.1
    );
}

/// With `--dump FILE`, the f64 inputs where this library and glibc differ are
/// written to FILE (name, x, ours, glibc), for checking against an exact
/// reference (`bench/ulp_f64.py`, mpmath): glibc is itself up to ~0.5 ulp off.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut dump = args
        .iter()
        .position(|a| a == "--dump")
        .and_then(|i| args.get(i + 1))
        .map(|p| std::fs::File::create(p).expect("cannot create the dump file"));
    sweep32("ln_f32 (fma)", 1e-4, 0.9999, ln_f32::<true>, f64::ln);
    sweep32("ln_f32 (no fma)", 1e-4, 0.9999, ln_f32::<false>, f64::ln);
    sweep32("exp_f32 (fma)", -86.6, 88.72, exp_f32::<true>, f64::exp);
    sweep32("exp_f32 (no fma)", -86.6, 88.72, exp_f32::<false>, f64::exp);
    // XLA's own (RateCell's activations): tanh is odd, so [0, 20] covers it.
    sweep32(
        "tanh_f32 [XLA] (fma)",
        0.0,
        20.0,
        tanh_f32::<true>,
        f64::tanh,
    );
    sweep32(
        "exp_xla_f32 [XLA] (fma)",
        -87.33,
        88.72,
        exp_xla_f32::<true>,
        f64::exp,
    );
    sweep64(
        "ln_f64 (fma)",
        1e-4,
        0.9999,
        ln_f64::<true>,
        f64::ln,
        &mut dump,
    );
    let none = &mut None;
    sweep64(
        "ln_f64 (no fma)",
        1e-4,
        0.9999,
        ln_f64::<false>,
        f64::ln,
        none,
    );
    sweep64(
        "exp_f64 (fma)",
        -707.0,
        709.78,
        exp_f64::<true>,
        f64::exp,
        &mut dump,
    );
    sweep64(
        "exp_f64 (no fma)",
        -707.0,
        709.78,
        exp_f64::<false>,
        f64::exp,
        none,
    );
    sweep64(
        "tanh_f64 [XLA] (fma)",
        -20.0,
        20.0,
        tanh_f64::<true>,
        f64::tanh,
        none,
    );
    sweep64(
        "exp_xla_f64 [XLA] (fma)",
        -708.39,
        709.78,
        exp_xla_f64::<true>,
        f64::exp,
        none,
    );
}
