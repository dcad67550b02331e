//! The native platform: what the safe core cannot do in safe code.
//!
//! [`Native`] is the [`Platform`] every cell created through the C ABI runs
//! on: the best compiled copy of each kernel for the running CPU
//! ([`dispatch`]) and persistent pthread workers ([`pool`]). It lives in the
//! ABI layer because it needs `unsafe` (`#[target_feature]` calls, pthreads),
//! not because it is C.

pub mod dispatch;
pub(crate) mod pool;

use crate::core::kernel::{Kernel, RangeFn};
use crate::core::platform::{Platform, Workers};
use crate::core::Real;

pub use dispatch::isa_name;

/// The native platform: the best kernel copy for this CPU
/// ([`dispatch::pick`]) and persistent pthread workers ([`pool::Pool`]).
/// Rust users of the core can create cells on it too
/// (`bernoulli_error_cell_on::<f32, Native>(..)`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Native;

impl Platform for Native {
    fn pick<K: Kernel, T: Real>(bytes: usize) -> RangeFn<K, T> {
        dispatch::pick::<K, T>(bytes)
    }
    fn start_workers(helpers: usize) -> std::io::Result<Box<dyn Workers>> {
        Ok(Box::new(pool::Pool::new(helpers)?))
    }
    fn isa_name() -> &'static str {
        isa_name()
    }
}
