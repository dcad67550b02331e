//! `cargo bench`: the core's `Cell::advance` (no C ABI, owned storage), f32 and
//! f64, both modes, 1 and 2 threads, 1e2..1e7 elements. Prints the median
//! µs per call and ns per element. Std only (no benchmark framework), so that
//! `cargo test` builds nothing more. The full comparison with ngc-learn, jax.jit
//! and a C libm loop is `bench/run.sh`.
//!
//! `cargo bench -- 1e5` runs only the sizes whose label contains `1e5`.
use std::time::Instant;

use ngc_cells::abi::Native;
use ngc_cells::core::{bernoulli_error_cell_on, Cell, Real};

fn time<T: Real>(c: &mut Cell<T, Native>) -> f64 {
    for _ in 0..2 {
        c.advance(1.0).unwrap();
    }
    let t0 = Instant::now();
    c.advance(1.0).unwrap();
    let one = t0.elapsed().as_secs_f64();
    let reps = ((4e-3 / one.max(1e-9)) as usize).max(1);
    let mut samples: Vec<f64> = (0..11)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..reps {
                c.advance(1.0).unwrap();
            }
            t0.elapsed().as_secs_f64() / reps as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn run<T: Real>(label: &str, n: usize, logits: bool, threads: usize) {
    let mut c = bernoulli_error_cell_on::<T, Native>("bench", n, 1, logits, None).unwrap();
    let p: Vec<T> = (0..n)
        .map(|i| {
            let u =
                ((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) as f64 / (1u64 << 53) as f64;
            T::from_f64(if logits {
                (u - 0.5) * 8.0
            } else {
                0.02 + 0.96 * u
            })
        })
        .collect();
    let x: Vec<T> = (0..n).map(|i| T::from_f64((i % 2) as f64)).collect();
    c.set("p", &p).unwrap();
    c.set("target", &x).unwrap();
    c.set_threads(threads).unwrap();
    let t = time(&mut c);
    println!(
        "{:<4} {:<6} {:>1} thread(s) {:>8}: {:>12.3} µs/call {:>7.3} ns/element",
        format!("{:?}", T::DTYPE).to_lowercase(),
        if logits { "logits" } else { "prob" },
        threads,
        label,
        t * 1e6,
        t * 1e9 / n as f64
    );
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    println!("kernel copy: {}", ngc_cells::abi::native::isa_name());
    let sizes = [
        ("1e2", 100),
        ("784", 784),
        ("1e3", 1000),
        ("1e4", 10_000),
        ("1e5", 100_000),
        ("1e6", 1_000_000),
        ("1e7", 10_000_000),
    ];
    for (label, n) in sizes {
        if filter.as_deref().is_some_and(|f| !label.contains(f)) {
            continue;
        }
        for logits in [false, true] {
            for threads in [1, 2] {
                run::<f32>(label, n, logits, threads);
            }
            for threads in [1, 2] {
                run::<f64>(label, n, logits, threads);
            }
        }
    }
}
