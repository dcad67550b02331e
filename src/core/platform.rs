//! What the safe core gets from outside: compiled copies of its kernels, and threads.
//!
//! The core is portable, safe Rust. Two things it cannot do without `unsafe`
//! are supplied through [`Platform`], a type parameter of every cell:
//! - choosing, at run time, a copy of a [`Kernel`] compiled for the CPU's widest
//!   vector instructions (calling a `#[target_feature]` function is `unsafe`);
//! - keeping persistent worker threads that run borrowed tasks (the task's
//!   lifetime must be erased to hand it to a long-lived thread).
//!
//! [`Portable`] does both in safe code: the baseline copy of each kernel, and
//! scoped threads spawned per call. The C ABI supplies `ngc_cells::abi::Native`:
//! AVX-512/AVX2 copies behind CPU detection and a persistent pool of pthreads
//! that keeps the library unloadable. `pick` is generic over the kernel, so a
//! new cell type adds no line to any platform.
//! Results are bit-identical across platforms wherever the copies use fused
//! multiply-adds (every x86-64 with FMA, every aarch64).

use std::fmt::Debug;

use super::kernel::{Kernel, Plain, RangeFn};
use super::real::Real;

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
pub trait Platform: Copy + Default + Send + Sync + Debug + 'static {
    /// The best copy of `K` for this CPU and arrays of `bytes` bytes each.
    fn pick<K: Kernel, T: Real>(bytes: usize) -> RangeFn<K, T>;
    /// Starts workers able to run `helpers + 1` tasks at once.
    fn start_workers(helpers: usize) -> std::io::Result<Box<dyn Workers>>;
    /// A short name of the kernel copies in use (for reports).
    fn isa_name() -> &'static str;
}

/// The portable copy: fused multiply-adds where the target always has them.
pub fn baseline<K: Kernel, T: Real>(k: &K, io: K::Io<'_, T>) {
    const FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));
    k.run::<T, FMA, Plain>(io)
}

/// The portable copy with fused multiply-adds whatever the target (slow where
/// `mul_add` is a libm call): the reference the vector copies must equal bit for bit.
pub fn portable_fma<K: Kernel, T: Real>(k: &K, io: K::Io<'_, T>) {
    k.run::<T, true, Plain>(io)
}

/// The copy without fused multiply-adds (x86-64 CPUs without FMA): not the same
/// bits as the others, only as close to the reference.
pub fn unfused<K: Kernel, T: Real>(k: &K, io: K::Io<'_, T>) {
    k.run::<T, false, Plain>(io)
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

/// The portable platform (see the module doc): the default of [`Cell`](super::Cell).
#[derive(Clone, Copy, Debug, Default)]
pub struct Portable;

impl Platform for Portable {
    fn pick<K: Kernel, T: Real>(_bytes: usize) -> RangeFn<K, T> {
        baseline::<K, T>
    }
    fn start_workers(helpers: usize) -> std::io::Result<Box<dyn Workers>> {
        Ok(Box::new(ScopedWorkers { helpers }))
    }
    fn isa_name() -> &'static str {
        "portable"
    }
}
