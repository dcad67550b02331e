//! What the safe core gets from outside: compiled copies of the kernel and threads.
//!
//! The core is portable, safe Rust. Two things it cannot do without `unsafe`
//! are supplied by whoever creates a cell, through [`Platform`]:
//! - choosing, at run time, a copy of the kernel compiled for the CPU's widest
//!   vector instructions (calling a `#[target_feature]` function is `unsafe`);
//! - keeping persistent worker threads that run borrowed tasks (the task's
//!   lifetime must be erased to hand it to a long-lived thread).
//!
//! [`PORTABLE`] does both in safe code: the baseline copy of the kernel, and
//! scoped threads spawned per call. The C ABI supplies the native platform
//! (`ngc_cells::abi::native_platform()`): AVX-512/AVX2 copies behind CPU
//! detection and a persistent pool of pthreads that keeps the library unloadable.
//! Results are bit-identical across platforms wherever the kernel copies use
//! fused multiply-adds (every x86-64 with FMA, every aarch64).

use std::fmt::Debug;

use super::kernel::{Io, Plain};
use super::real::Real;

/// One compiled copy of the kernel for arrays of `T`.
pub type RangeFn<T> = fn(Io<'_, T>);

/// A task for [`Workers::run`]: called once with each index `0..tasks`.
pub type Task<'a> = dyn Fn(usize) + Sync + 'a;

/// Threads that run one call's tasks side by side.
pub trait Workers: Send + Sync + Debug {
    /// How many tasks can run at once (the calling thread included).
    fn width(&self) -> usize;
    /// Calls `f(0)` on the calling thread and, side by side, some of `f(1)` ..
    /// `f(tasks - 1)` (`tasks <= width()`), each at most once, and returns when
    /// all that started are done. A helper that is not free when the call
    /// starts may not run its index at all, so `f(0)` alone must be able to do
    /// all the work (the tasks share it dynamically). A panic in a task is
    /// re-raised here after all started tasks have finished.
    fn run(&self, tasks: usize, f: &Task<'_>);
}

/// Kernel copies and worker threads for a cell (see the module doc).
pub trait Platform: Send + Sync + Debug {
    /// The best copy of the f32 kernel for this CPU and arrays of `count` elements.
    fn kernel_f32(&self, input_logits: bool, count: usize) -> RangeFn<f32>;
    /// The best copy of the f64 kernel for this CPU and arrays of `count` elements.
    fn kernel_f64(&self, input_logits: bool, count: usize) -> RangeFn<f64>;
    /// Starts workers able to run `helpers + 1` tasks at once.
    fn start_workers(&self, helpers: usize) -> std::io::Result<Box<dyn Workers>>;
    /// A short name of the kernel copy in use (for reports).
    fn isa_name(&self) -> &'static str;
}

/// The portable copy: fused multiply-adds where the target always has them.
pub fn baseline<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
    const FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));
    T::run_range::<LOGITS, FMA, Plain>(io)
}

/// The portable copy for `input_logits`.
pub fn baseline_for<T: Real>(input_logits: bool) -> RangeFn<T> {
    if input_logits {
        baseline::<T, true>
    } else {
        baseline::<T, false>
    }
}

/// The portable copy with fused multiply-adds whatever the target (slow where
/// `mul_add` is a libm call): the reference the vector copies must equal bit for bit.
pub fn portable_fma<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
    T::run_range::<LOGITS, true, Plain>(io)
}

/// The copy without fused multiply-adds (x86-64 CPUs without FMA): not the same
/// bits as the others, only as close to the reference.
pub fn unfused_kernel<T: Real>(input_logits: bool) -> RangeFn<T> {
    fn unfused<T: Real, const LOGITS: bool>(io: Io<'_, T>) {
        T::run_range::<LOGITS, false, Plain>(io)
    }
    if input_logits {
        unfused::<T, true>
    } else {
        unfused::<T, false>
    }
}

/// Safe workers: `helpers` scoped threads spawned for each call (which costs
/// tens of microseconds and allocates; the native pool does neither).
#[derive(Debug)]
struct ScopedWorkers {
    helpers: usize,
}

impl Workers for ScopedWorkers {
    fn width(&self) -> usize {
        self.helpers + 1
    }

    fn run(&self, tasks: usize, f: &Task<'_>) {
        std::thread::scope(|s| {
            for i in 1..tasks.min(self.width()) {
                s.spawn(move || f(i));
            }
            f(0);
        });
    }
}

/// The portable platform (see the module doc).
#[derive(Debug)]
pub struct Portable;

/// The portable platform: what [`super::Cell::new`] uses.
pub static PORTABLE: Portable = Portable;

impl Platform for Portable {
    fn kernel_f32(&self, input_logits: bool, _count: usize) -> RangeFn<f32> {
        baseline_for(input_logits)
    }
    fn kernel_f64(&self, input_logits: bool, _count: usize) -> RangeFn<f64> {
        baseline_for(input_logits)
    }
    fn start_workers(&self, helpers: usize) -> std::io::Result<Box<dyn Workers>> {
        Ok(Box::new(ScopedWorkers { helpers }))
    }
    fn isa_name(&self) -> &'static str {
        "portable"
    }
}
