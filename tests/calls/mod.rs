//! A call language over the C ABI, an executor that checks every call against a
//! model, and one pure-Rust model per cell type.
//!
//! A [`Driver`] (`driver.rs`) draws calls from an [`Entropy`] source (a seeded
//! generator in `tests/random_calls.rs`, the fuzzer's bytes in `fuzz/`): create
//! (good and bad arguments, any cell type it was given), free, bind (good and bad
//! arguments, overlapping ranges, buffers shared between cells of any types),
//! unbind, set, get, advance, reset, batched_reset, set_threads and queries, on
//! live cells, NULL, misaligned handles and memory that is not a cell. Before each
//! call the model predicts the status; after it the driver checks the status, the
//! last-error message (it names the function on failure and is left alone on
//! success), every compartment of the cell (length, dims, bound or not, values)
//! against the model, and every caller buffer byte for byte against its shadow
//! copy (so a write past a compartment's count, or into the wrong buffer, is
//! caught).
//!
//! The models (`model/<type>.rs`) are written from ngc-learn's formulas, not from
//! the library's kernels: values a call only moves (set, bind, reset, mask) must
//! match bit for bit; values it computes must match to a relative 1e-3 (float32)
//! or 1e-9 (float64) unless the model says otherwise, so a faster kernel that
//! rounds differently still passes, and are then taken from the library so
//! rounding never accumulates. `inexact` counts the values that were not
//! bit-identical. Under valgrind, whose emulation gets some compares with a NaN
//! operand wrong ([`nan_compares_misjudged`]), computed values the model says are
//! NaN are adopted without comparison (`nan_unchecked` counts them); on hardware
//! every value is compared.
#![allow(dead_code)]

use std::collections::BTreeMap;

use ngc_cells::NgcStatus;

mod driver;
pub mod model;

pub use driver::Driver;
pub use model::Kind;

/// Where the driver's choices come from. `None`: exhausted (the run stops).
pub trait Entropy {
    fn next_u64(&mut self) -> Option<u64>;
}

/// SplitMix64: a seeded, reproducible stream.
pub struct SplitMix(pub u64);

impl Entropy for SplitMix {
    fn next_u64(&mut self) -> Option<u64> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Some(z ^ (z >> 31))
    }
}

/// A fuzzer's input, one byte per choice.
pub struct Bytes<'a>(pub &'a [u8]);

impl Entropy for Bytes<'_> {
    fn next_u64(&mut self) -> Option<u64> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(u64::from(b))
    }
}

/// Choices drawn from an [`Entropy`]; every draw is `None` once it is exhausted.
pub struct R<'a> {
    e: &'a mut dyn Entropy,
}

impl R<'_> {
    pub fn below(&mut self, n: u64) -> Option<u64> {
        Some(self.e.next_u64()? % n.max(1))
    }
    pub fn upto(&mut self, n: usize) -> Option<usize> {
        Some(self.below(n as u64 + 1)? as usize)
    }
    pub fn pct(&mut self, p: u64) -> Option<bool> {
        Some(self.below(100)? < p)
    }
    /// One of `xs`.
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> Option<T> {
        Some(xs[self.below(xs.len() as u64)? as usize])
    }
}

/// What one cell type did in a run.
#[derive(Default, Debug, Clone)]
pub struct KindStats {
    pub created: u64,
    /// Successful advances (each checked against the model).
    pub advances: u64,
    /// Successful evolves.
    pub evolves: u64,
}

/// What a run did, for the report.
#[derive(Default, Debug)]
pub struct Stats {
    /// Random calls made (the count the tests report).
    pub calls: u64,
    /// Extra calls made to check the state after them.
    pub check_calls: u64,
    /// How often each status was predicted and returned.
    pub statuses: BTreeMap<NgcStatus, u64>,
    /// How often each function was called.
    pub functions: BTreeMap<&'static str, u64>,
    /// Computed values that matched the model within tolerance but not bit for bit.
    pub inexact: u64,
    /// Largest relative deviation of such a value.
    pub max_rel_dev: f64,
    /// Computed values the model says are NaN that were not compared, because
    /// this CPU misjudges compares with a NaN operand ([`nan_compares_misjudged`]:
    /// under valgrind; always 0 on hardware).
    pub nan_unchecked: u64,
    pub cells_created: u64,
    /// Per cell type (by its label).
    pub kinds: BTreeMap<&'static str, KindStats>,
}

impl Stats {
    pub fn add(&mut self, o: Stats) {
        self.calls += o.calls;
        self.check_calls += o.check_calls;
        for (k, n) in o.statuses {
            *self.statuses.entry(k).or_default() += n;
        }
        for (k, n) in o.functions {
            *self.functions.entry(k).or_default() += n;
        }
        self.inexact += o.inexact;
        self.max_rel_dev = self.max_rel_dev.max(o.max_rel_dev);
        self.nan_unchecked += o.nan_unchecked;
        self.cells_created += o.cells_created;
        for (k, s) in o.kinds {
            let e = self.kinds.entry(k).or_default();
            e.created += s.created;
            e.advances += s.advances;
            e.evolves += s.evolves;
        }
    }
}

/// Whether the CPU running this process gets an AVX compare wrong when an
/// operand is NaN: `EQ_UQ`/`EQ_US` must be true and `NEQ_OQ`/`NEQ_OS` false for
/// an unordered pair. Real x86-64 hardware gets them right (see
/// `hardware_orders_nan_compares_right` in `tests/random_calls.rs`); valgrind's
/// emulation (memcheck 3.19 tested) evaluates them as their ordered/unordered
/// twins, so `EQ_UQ(NaN, 0)` is false there. The compiler uses `vcmpeq_uqpd`
/// in the AVX2 copy of LaplacianErrorCell's `sign`: under valgrind `sign(NaN)`
/// comes out as -1 instead of NaN (`docs/hardening.md`, "Sanitizers and valgrind").
/// Probed once per process.
pub fn nan_compares_misjudged() -> bool {
    static MISJUDGED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MISJUDGED.get_or_init(probe_nan_compares)
}

#[cfg(target_arch = "x86_64")]
fn probe_nan_compares() -> bool {
    #[target_feature(enable = "avx")]
    fn probe() -> bool {
        use std::arch::x86_64::*;
        let nan = std::hint::black_box(f64::NAN);
        let (x, z) = (_mm256_set1_pd(nan), _mm256_setzero_pd());
        let (xs, zs) = (_mm256_set1_ps(nan as f32), _mm256_setzero_ps());
        // Every lane true: 0b1111 (pd) / 0xff (ps); every lane false: 0.
        let right = [
            _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_EQ_UQ>(x, z)) == 0b1111,
            _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_EQ_US>(x, z)) == 0b1111,
            _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_NEQ_OQ>(x, z)) == 0,
            _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_NEQ_OS>(x, z)) == 0,
            _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_EQ_UQ>(xs, zs)) == 0xff,
            _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_OQ>(xs, zs)) == 0,
        ];
        right.contains(&false)
    }
    if !std::arch::is_x86_feature_detected!("avx") {
        return false;
    }
    // SAFETY: AVX was detected just above, all `probe` requires.
    unsafe { probe() }
}

#[cfg(not(target_arch = "x86_64"))]
fn probe_nan_compares() -> bool {
    false
}

/// Runs `calls` random calls from `seed` over cells of the given kinds; returns the stats.
///
/// The run does not trace its calls (formatting them would cost more than
/// making them); on a failure it replays the same seed with the trace on, so the
/// failure is reported with the last 40 calls before it.
pub fn run_seeded(kinds: &[Kind], seed: u64, calls: u64) -> Stats {
    let run = |tracing: bool| {
        let mut d = Driver::new(&format!("seed {seed:#x}"), kinds);
        d.set_tracing(tracing);
        let mut e = SplitMix(seed);
        while d.stats.calls < calls {
            d.step(&mut e);
        }
        std::mem::take(&mut d.stats)
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(false))) {
        Ok(stats) => stats,
        Err(first) => {
            let first = first
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| first.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            eprintln!("{first}\nreplaying seed {seed:#x} with the calls traced");
            run(true);
            panic!("{first}\nthe replay of seed {seed:#x} with the calls traced did not fail");
        }
    }
}
