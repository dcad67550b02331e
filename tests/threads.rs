//! A cell's worker threads (the native pool, `src/abi/pool.rs`):
//! - a call never waits for a helper that has not started on it, and such a
//!   helper never runs the call's task once it is over (helpers delayed with the
//!   test-only hook `__test_pool_helpers_delay`, as a busy machine would);
//! - a call does wait for a helper that joined it;
//! - (that results are bit-identical for any thread count, also when it
//!   changes between steps, is checked for every cell type in
//!   `tests/concurrency.rs`);
//! - after `fork()`, the child's `advance` on a cell with threads neither hangs
//!   nor differs (its helpers do not exist there), and freeing the cell there
//!   returns;
//! - the library still unloads, and a later `fork()` still works (the fork
//!   handler is unregistered with it).
//!
//! The hook and its counters are process-wide, so every test here holds `SERIAL`.

use std::ffi::CString;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod common;

use ngc_cells::core::Platform;
use ngc_cells::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resets the delays when dropped (also when a test fails).
struct NoDelay;
impl Drop for NoDelay {
    fn drop(&mut self) {
        __test_pool_helpers_delay(Duration::ZERO, Duration::ZERO);
    }
}

/// Waits (at most `limit`) for `done()`.
fn wait_for(limit: Duration, done: impl Fn() -> bool) -> bool {
    let t = Instant::now();
    while !done() {
        if t.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

#[test]
fn a_call_does_not_wait_for_helpers_that_have_not_joined_and_they_never_run_it() {
    let _s = serial();
    let _reset = NoDelay;
    let pool = <Native as Platform>::start_workers(1).unwrap();
    assert_eq!(pool.width(), 2);
    static RAN: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
    // Warm: the helper is running (spinning) when the delayed calls start.
    pool.run(2, &|_| {});
    let delay = Duration::from_millis(400);
    __test_pool_helpers_delay(delay, Duration::ZERO);
    for _ in 0..3 {
        let (seen, joins, misses) = __test_pool_counts();
        let t = Instant::now();
        pool.run(2, &|i| {
            RAN[i].fetch_add(1, Ordering::SeqCst);
            if i == 0 {
                // Return only once the helper has seen the call (it then
                // sleeps `delay` before trying to join), bounded.
                wait_for(Duration::from_secs(20), || __test_pool_counts().0 > seen);
            }
        });
        let took = t.elapsed();
        assert!(
            __test_pool_counts().0 > seen,
            "the helper never saw the call"
        );
        assert!(
            took < delay / 2,
            "the call waited {took:?} for a helper delayed by {delay:?}"
        );
        assert_eq!(RAN[0].swap(0, Ordering::SeqCst), 1);
        // The helper wakes up after the call is over: it must find it closed.
        assert!(
            wait_for(Duration::from_secs(20), || __test_pool_counts().2 > misses),
            "the helper never came back"
        );
        assert_eq!(__test_pool_counts().1, joins, "a late helper joined");
        assert_eq!(
            RAN[1].load(Ordering::SeqCst),
            0,
            "a late helper ran the task"
        );
    }
    drop(pool); // joins the helper (which is waiting for a call again)
}

#[test]
fn a_call_waits_for_a_helper_that_joined() {
    let _s = serial();
    let _reset = NoDelay;
    let pool = <Native as Platform>::start_workers(1).unwrap();
    let delay = Duration::from_millis(200);
    __test_pool_helpers_delay(Duration::ZERO, delay);
    let ran = AtomicUsize::new(0);
    let (_, joins, _) = __test_pool_counts();
    let t = Instant::now();
    pool.run(2, &|i| {
        if i == 0 {
            // Stay in the call until the helper has joined (bounded).
            wait_for(Duration::from_secs(20), || __test_pool_counts().1 > joins);
        } else {
            ran.fetch_add(1, Ordering::SeqCst);
        }
    });
    assert_eq!(__test_pool_counts().1, joins + 1, "the helper did not join");
    assert_eq!(
        ran.load(Ordering::SeqCst),
        1,
        "returned before the helper that joined ran its task"
    );
    assert!(t.elapsed() >= delay);
}

/// A hash of (step, element): varied inputs without a generator crate.
fn value(seed: u64, j: usize) -> f64 {
    let h = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
    .wrapping_mul(0x1656_67B1_9E37_79F9);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A float32 Bernoulli cell (probabilities) of `n` elements with its inputs
/// set (owned compartments).
struct Cell {
    ptr: *mut NgcCell,
    n: usize,
}

impl Cell {
    fn new(n: usize, threads: usize) -> Cell {
        let name = CString::new("t").unwrap();
        let mut ptr = ptr::null_mut();
        // SAFETY: valid name, out pointer to a local.
        let s = unsafe {
            ngc_bernoulli_error_cell_new(
                name.as_ptr(),
                n,
                1,
                false,
                ptr::null(),
                NGC_DTYPE_F32,
                &mut ptr,
            )
        };
        assert_eq!(s, NGC_OK);
        let cell = Cell { ptr, n };
        cell.threads(threads);
        for (c, seed) in [("p", 1), ("target", 2), ("modulator", 3)] {
            let v: Vec<f32> = (0..n)
                .map(|j| {
                    let u = value(seed, j);
                    (match c {
                        "p" => u,
                        "target" => (u * 1.2 - 0.1).clamp(0.0, 1.0),
                        _ => u * 4.0 - 2.0,
                    }) as f32
                })
                .collect();
            cell.set(c, &v);
        }
        cell
    }

    fn threads(&self, threads: usize) {
        // SAFETY: a live cell.
        assert_eq!(unsafe { ngc_cell_set_threads(self.ptr, threads) }, NGC_OK);
    }

    fn set(&self, c: &str, v: &[f32]) {
        let name = CString::new(c).unwrap();
        // SAFETY: a live cell, a buffer of `v.len()` floats.
        let s = unsafe { ngc_cell_set_f32(self.ptr, name.as_ptr(), v.as_ptr(), v.len()) };
        assert_eq!(s, NGC_OK);
    }

    /// Advances with a mask of ones, so that every advance is the same.
    fn advance(&self) -> i32 {
        // SAFETY: a live cell.
        unsafe { ngc_cell_advance(self.ptr, 0.0, 1.0) }
    }

    /// `dp`, `dtarget` and `L`, as bits, into `out` (3n + 1 words; no allocation).
    fn outputs_into(&self, out: &mut [u64]) -> i32 {
        let n = self.n;
        for (k, c) in [c"dp", c"dtarget"].iter().enumerate() {
            let dst = &mut out[k * n..(k + 1) * n];
            // SAFETY: a live cell; `dst` has room for `n` doubles, so for `n` floats.
            let s = unsafe { ngc_cell_get(self.ptr, c.as_ptr(), dst.as_mut_ptr().cast(), n) };
            if s != NGC_OK {
                return s;
            }
            // Widen in place, from the end (the floats sit in the first half).
            for j in (0..n).rev() {
                // SAFETY: element j of the n floats written above.
                let f = unsafe { *dst.as_ptr().cast::<f32>().add(j) };
                dst[j] = u64::from(f.to_bits());
            }
        }
        let mut l = 0.0f64;
        // SAFETY: a live cell, a local out pointer.
        let s = unsafe { ngc_cell_loss(self.ptr, &mut l) };
        out[2 * n] = l.to_bits();
        s
    }

    fn outputs(&self) -> Vec<u64> {
        let mut v = vec![0; 2 * self.n + 1];
        assert_eq!(self.outputs_into(&mut v), NGC_OK);
        v
    }
}

impl Drop for Cell {
    fn drop(&mut self) {
        // SAFETY: a live cell, freed once.
        unsafe { ngc_cell_free(self.ptr) }
    }
}

#[test]
fn an_advance_does_not_wait_for_delayed_helpers_and_they_never_write_after_it() {
    let _s = serial();
    let _reset = NoDelay;
    let n = 200_000;
    let one = Cell::new(n, 1);
    assert_eq!(one.advance(), NGC_OK);
    let want = one.outputs();
    let two = Cell::new(n, 2);
    assert_eq!(two.advance(), NGC_OK);
    assert_eq!(two.outputs(), want);
    let delay = Duration::from_millis(1000);
    __test_pool_helpers_delay(delay, Duration::ZERO);
    // An advance that the helper saw start (a helper may also wake up only
    // after a call is over, and then it does not see it at all).
    let mut tries = 0;
    let (joins, misses) = loop {
        let (seen, joins, misses) = __test_pool_counts();
        let t = Instant::now();
        assert_eq!(two.advance(), NGC_OK);
        let took = t.elapsed();
        assert!(
            took < delay / 2,
            "advance waited {took:?} for a delayed helper"
        );
        assert_eq!(two.outputs(), want, "the caller did not do all the work");
        if __test_pool_counts().0 > seen {
            break (joins, misses);
        }
        tries += 1;
        assert!(tries < 1000, "the helper never saw an advance");
    };
    // Mark the outputs; a late helper running the stale call would overwrite them.
    let marks = vec![7.0f32; n];
    two.set("dp", &marks);
    two.set("dtarget", &marks);
    assert!(
        wait_for(Duration::from_secs(20), || __test_pool_counts().2 > misses),
        "the helper never came back"
    );
    assert_eq!(__test_pool_counts().1, joins, "a late helper joined");
    let after = two.outputs();
    let seven = u64::from(7.0f32.to_bits());
    assert!(
        after[..2 * n].iter().all(|&b| b == seven),
        "a late helper wrote"
    );
    // Without the delay the helpers take part again, with the same results.
    __test_pool_helpers_delay(Duration::ZERO, Duration::ZERO);
    for _ in 0..20 {
        assert_eq!(two.advance(), NGC_OK);
        assert_eq!(two.outputs(), want);
    }
}

#[cfg(unix)]
mod fork {
    use super::*;

    /// Waits (at most `limit`) for child `pid`; kills it on timeout. Its exit status.
    fn wait_child(pid: libc::pid_t, limit: Duration) -> Result<i32, String> {
        let t = Instant::now();
        loop {
            let mut status = 0;
            // SAFETY: our own child, a local status.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            assert!(r >= 0, "waitpid failed");
            if r == pid {
                if libc::WIFEXITED(status) {
                    return Ok(libc::WEXITSTATUS(status));
                }
                return Err(format!("the child died abnormally (status {status:#x})"));
            }
            if t.elapsed() > limit {
                // SAFETY: our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                return Err(format!("the child hung (killed after {limit:?})"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Forks; the child runs `child` (which must not allocate) and exits with its code.
    pub(super) fn in_child(child: impl FnOnce() -> i32) -> Result<i32, String> {
        // SAFETY: fork in a test that holds SERIAL (no other test of this
        // binary runs); the child only calls the library (whose advance does
        // not allocate) and `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(99);
            // SAFETY: ends the child without running the parent's atexit handlers.
            unsafe { libc::_exit(code) };
        }
        wait_child(pid, Duration::from_secs(60))
    }

    #[test]
    fn a_pool_made_before_fork_runs_everything_on_the_calling_thread_in_the_child() {
        let _s = serial();
        let pool = <Native as Platform>::start_workers(2).unwrap();
        pool.run(3, &|_| {});
        assert_eq!(pool.width(), 3);
        let code = in_child(move || {
            if pool.width() != 1 {
                return 2;
            }
            let caller = std::thread::current().id();
            let ran = [const { AtomicUsize::new(0) }; 3];
            let elsewhere = AtomicUsize::new(0);
            pool.run(1, &|i| {
                ran[i].fetch_add(1, Ordering::SeqCst);
                if std::thread::current().id() != caller {
                    elsewhere.fetch_add(1, Ordering::SeqCst);
                }
            });
            if ran[0].load(Ordering::SeqCst) != 1 || elsewhere.load(Ordering::SeqCst) != 0 {
                return 3;
            }
            drop(pool); // neither waits for nor joins the parent's helpers
            0
        });
        assert_eq!(code, Ok(0), "in the forked child");
    }

    #[test]
    fn a_forked_child_advances_a_cell_with_threads_single_threaded() {
        let _s = serial();
        let _reset = NoDelay; // also arms the counters
        __test_pool_helpers_delay(Duration::ZERO, Duration::ZERO);
        let n = 200_000;
        let reference = Cell::new(n, 1);
        assert_eq!(reference.advance(), NGC_OK);
        let want = reference.outputs();
        let cell = Cell::new(n, 2);
        // The helpers have run (and are spinning or asleep) when the process forks.
        for _ in 0..3 {
            assert_eq!(cell.advance(), NGC_OK);
        }
        assert_eq!(cell.outputs(), want);
        let mut got = vec![0u64; want.len()];
        let code = in_child(|| {
            // 1. Advance with the parent's (dead) helpers: single-threaded here.
            if cell.advance() != NGC_OK || cell.outputs_into(&mut got) != NGC_OK {
                return 2;
            }
            if got != want {
                return 3;
            }
            // 2. Asking for 2 threads again starts helpers of this process
            //    (the parent's pool counts as one thread here), which then
            //    take part in the advances.
            let (_, joins, _) = __test_pool_counts();
            // SAFETY: a live cell.
            if unsafe { ngc_cell_set_threads(cell.ptr, 2) } != NGC_OK {
                return 7;
            }
            let mut tries = 0;
            while __test_pool_counts().1 == joins {
                if cell.advance() != NGC_OK || cell.outputs_into(&mut got) != NGC_OK {
                    return 8;
                }
                if got != want {
                    return 9;
                }
                tries += 1;
                if tries == 100 {
                    return 10;
                }
            }
            // 3. Dropping a pool here, and starting another, works as usual.
            // SAFETY: a live cell.
            unsafe {
                if ngc_cell_set_threads(cell.ptr, 1) != NGC_OK
                    || ngc_cell_set_threads(cell.ptr, 2) != NGC_OK
                {
                    return 4;
                }
            }
            for _ in 0..3 {
                if cell.advance() != NGC_OK || cell.outputs_into(&mut got) != NGC_OK {
                    return 5;
                }
                if got != want {
                    return 6;
                }
            }
            0
        });
        assert_eq!(code, Ok(0), "in the forked child");
        // Freeing a cell whose pool came from the parent returns, too.
        // (In the parent, the closure and so the cell are dropped unused.)
        let code = in_child(move || {
            drop(cell);
            0
        });
        assert_eq!(code, Ok(0), "freeing in the forked child");
    }
}

/// The fork handler leaves with the library: after `dlclose`, a `fork()` does
/// not call into unmapped code.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn fork_after_the_library_is_unloaded() {
    use std::ffi::{c_char, c_void, CStr};
    type New = unsafe extern "C" fn(
        *const c_char,
        usize,
        usize,
        bool,
        *const usize,
        i32,
        *mut *mut c_void,
    ) -> i32;
    type Threads = unsafe extern "C" fn(*mut c_void, usize) -> i32;
    type Advance = unsafe extern "C" fn(*mut c_void, f64, f64) -> i32;
    type Free = unsafe extern "C" fn(*mut c_void);
    let _s = serial();
    let path = common::deps_dir().join("libngc_cells.so");
    assert!(path.exists(), "{} missing", path.display());
    let cpath = CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: dlopen/dlsym/dlclose on our own library, symbols with the
    // signatures of include/ngc_cells.h, used only while it is loaded.
    unsafe {
        let h = libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        assert!(!h.is_null(), "dlopen failed");
        let sym = |name: &CStr| {
            let s = libc::dlsym(h, name.as_ptr());
            assert!(!s.is_null(), "{name:?} missing");
            s
        };
        let new: New = std::mem::transmute(sym(c"ngc_bernoulli_error_cell_new"));
        let threads: Threads = std::mem::transmute(sym(c"ngc_cell_set_threads"));
        let advance: Advance = std::mem::transmute(sym(c"ngc_cell_advance"));
        let free: Free = std::mem::transmute(sym(c"ngc_cell_free"));
        let mut cell: *mut c_void = ptr::null_mut();
        assert_eq!(
            new(c"u".as_ptr(), 100_000, 1, true, ptr::null(), 1, &mut cell),
            0
        );
        assert_eq!(threads(cell, 2), 0); // registers the fork handler
        assert_eq!(advance(cell, 0.0, 1.0), 0);
        free(cell);
        assert_eq!(libc::dlclose(h), 0);
        let again = libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
        assert!(again.is_null(), "the library is still loaded after dlclose");
    }
    #[cfg(unix)]
    assert_eq!(fork::in_child(|| 0), Ok(0), "fork after dlclose");
}
