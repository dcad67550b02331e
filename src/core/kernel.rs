//! The contract between the safe core and whoever compiles its kernels.
//!
//! A [`Kernel`] is a computation over one range of a cell's arrays, written in
//! safe, portable Rust and generic over the element type, over whether to fuse
//! multiply-adds (`F`) and over how results are stored ([`Sink`]). A
//! [`Platform`](super::platform::Platform) compiles it once per instruction set
//! and hands out the best copy ([`RangeFn`]); the engines
//! ([`elementwise`](super::elementwise)) split a call's arrays into ranges and
//! run the copy on each, on as many threads as the cell allows.
//!
//! Kernels carry their own I/O type, so an element-wise error kernel, an
//! integrator or a matrix product all fit the same dispatch.

use super::real::Real;

/// Lanes per chunk: the kernels work on `[T; LANES]` arrays the compiler keeps
/// in vector registers. Fixed per element type (not per instruction set), so
/// every copy with fused multiply-adds gives the same bits.
pub const LANES: usize = 16;

/// How a chunk of results is written to memory.
pub trait Sink {
    /// Writes `src` to `dst`.
    fn put<T: Real, const W: usize>(dst: &mut [T; W], src: &[T; W]);
    /// Called once after the last `put` of a range (before other threads may read it).
    fn finish() {}
}

/// Ordinary stores.
#[derive(Debug)]
pub struct Plain;

impl Sink for Plain {
    #[inline(always)]
    fn put<T: Real, const W: usize>(dst: &mut [T; W], src: &[T; W]) {
        *dst = *src;
    }
}

/// A computation a platform compiles once per instruction set.
pub trait Kernel: Sync + 'static {
    /// The arrays one call reads and writes (one range of them).
    type Io<'a, T: Real>: Send
    where
        T: 'a;
    /// Runs over `io`, fusing multiply-adds when `F`, storing through `S`.
    fn run<T: Real, const F: bool, S: Sink>(&self, io: Self::Io<'_, T>);
}

/// One compiled copy of kernel `K` for arrays of `T`.
pub type RangeFn<K, T> = for<'a> fn(&K, <K as Kernel>::Io<'a, T>);
