//! A cell's persistent worker threads.
//!
//! Spawning OS threads on every `advance` costs tens of microseconds, so a cell
//! allowed more than one thread keeps `threads - 1` helpers between calls
//! (spinning briefly, then asleep on a condition variable).
//!
//! # The protocol of a call
//!
//! [`Pool::run`] never waits for a helper that has not started on the call, so
//! a call with helpers costs about what it costs without them whatever else the
//! machine runs (a helper whose core is busy with another process simply does
//! not take part):
//! 1. The caller publishes the task and *opens* the call: `gate` gets a new
//!    epoch with the closed bit clear and a join count of 0 (and the caller
//!    wakes sleeping helpers, if any).
//! 2. A helper that sees the open epoch *joins* it with a compare-and-swap that
//!    increments the join count of that exact epoch while it is open. Only a
//!    helper whose swap succeeded reads the task, and it gets the join count
//!    as its task index (1, 2, ...).
//! 3. The caller runs task 0 itself. The tasks share the work dynamically
//!    (each takes the groups of blocks of its own part of the arrays, then
//!    what is left of the others': `core::workspace`), so task 0 alone
//!    finishes whatever no helper took.
//! 4. The caller *closes* the call (sets the closed bit, reading the final join
//!    count in the same atomic operation) and waits only for the helpers that
//!    joined. A helper that arrives later finds the call closed (or a newer
//!    epoch) and never touches that call's data; the epoch in the same word
//!    makes a late swap fail (no ABA short of 2^47 calls while a helper sleeps).
//!
//! No lost wake-ups: each side announces that it is about to sleep (`sleepers`,
//! `waiting`) under the mutex before re-checking its condition, and the other
//! side, after changing the condition, takes the mutex to notify whenever an
//! announcement is visible; all of these accesses are `SeqCst`, so at least one
//! of the two sees the other.
//!
//! # Spinning and its CPU cost
//!
//! Waking a sleeping thread costs tens of microseconds on a virtual machine
//! (the idle vCPU is halted), so both sides spin for at most [`SPIN`] (100 µs)
//! before sleeping: a helper after its task (waiting for the next call), the
//! caller after task 0 (waiting for the helpers that joined). The cost: after
//! each call every helper burns up to 100 µs of CPU, so a host that calls
//! `advance` more often than every 100 µs keeps each helper's core fully busy
//! between calls, and an idle cell costs nothing 100 µs after its last call.
//! While spinning, a thread yields its core (`sched_yield`) every few
//! microseconds, so a spinning helper that shares a core with the caller or
//! another program gives it up instead of delaying it.
//!
//! # fork()
//!
//! After `fork()` only the forking thread exists in the child. A pool made in
//! another process (detected by a `pthread_atfork` child handler that bumps a
//! process-wide generation) reports a width of 1, runs every call on the
//! calling thread alone, and on drop neither notifies nor joins its helpers
//! (it leaks their handles and shared state, which belong to the parent).
//!
//! # Unloadable library
//!
//! On Unix the helpers are raw `pthread`s, not `std::thread`s, because
//! `std::thread::spawn` touches a thread-local with a destructor (the spawn
//! hooks) in the *calling* thread, and a pending TLS destructor keeps glibc
//! from unloading the library on `dlclose` (MATLAB `clear mex`). The calling
//! thread only uses atomics, a `Mutex` and a `Condvar` (futexes, no
//! thread-local state). The helpers are joined before the cell's memory, and
//! so the library's code they run, can go away. The `pthread_atfork` handler is
//! registered through glibc's `pthread_atfork`, which records this library's
//! `__dso_handle` and unregisters the handler when the library is unloaded.
//!
//! `unsafe` here: the lifetime of the task is erased to hand it to the helpers
//! (sound because only helpers that joined read it, and `run` waits for them,
//! even when a task panics), and the `pthread` calls.
#![allow(unsafe_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a helper (after its task) and the caller (waiting for the helpers
/// that joined) spin before sleeping; see the module doc for the CPU cost.
const SPIN: Duration = Duration::from_micros(100);

/// Spins until `done()` or `SPIN` has passed, yielding the core now and then;
/// returns `done()`.
fn spin_until(done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            if done() {
                return true;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() > SPIN {
            return done();
        }
        os::yield_now();
    }
}

/// A task: called with index 0 on the calling thread and with distinct indices
/// `1..tasks` on the helpers that join in time (see [`Pool::run`]).
pub(crate) use crate::core::platform::Task;

/// `gate`: the join count (low bits), the closed bit, the epoch (high bits).
const JOINED: u64 = (1 << 16) - 1;
const CLOSED: u64 = 1 << 16;
const EPOCH: u64 = 1 << 17;

fn epoch_of(gate: u64) -> u64 {
    gate >> 17
}

struct Shared {
    /// The current call: epoch, closed bit, join count (see the module doc).
    gate: AtomicU64,
    /// The current call's task: a thin pointer to the caller's `&Task` (on the
    /// caller's stack). Dereferenced only by helpers that joined the call.
    job: AtomicPtr<&'static Task<'static>>,
    /// The current call's task count.
    tasks: AtomicUsize,
    /// Helpers that joined the current call and are done with it.
    finished: AtomicUsize,
    /// A helper's task of the current call panicked.
    panicked: AtomicBool,
    shutdown: AtomicBool,
    /// Helpers asleep (or about to sleep) on `wake`.
    sleepers: AtomicUsize,
    /// The caller is asleep (or about to sleep) on `done`.
    waiting: AtomicBool,
    /// Helpers that have started (their stacks touched); changed under `lock`.
    started: AtomicUsize,
    /// Guards nothing but the sleeps (no data): held only to wait and notify.
    lock: Mutex<()>,
    wake: Condvar,
    done: Condvar,
}

fn lock(m: &Mutex<()>) -> MutexGuard<'_, ()> {
    // The mutex guards no data, so poisoning carries no meaning.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Persistent helper threads for one cell.
pub(crate) struct Pool {
    shared: Arc<Shared>,
    helpers: Vec<os::Handle>,
    /// [`os::fork_generation`] when the pool was made.
    generation: u64,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("helpers", &self.helpers.len())
            .finish()
    }
}

impl Pool {
    /// Starts `helpers` threads (so `helpers + 1` tasks can run at once).
    pub(crate) fn new(helpers: usize) -> std::io::Result<Pool> {
        assert!(helpers < JOINED as usize, "{helpers} helpers");
        os::watch_forks()?;
        let shared = Arc::new(Shared {
            gate: AtomicU64::new(CLOSED),
            job: AtomicPtr::new(std::ptr::null_mut()),
            tasks: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            waiting: AtomicBool::new(false),
            started: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
            done: Condvar::new(),
        });
        let mut pool = Pool {
            shared,
            helpers: Vec::with_capacity(helpers),
            generation: os::fork_generation(),
        };
        for _ in 0..helpers {
            // On failure, dropping `pool` joins the helpers already started.
            let h = os::spawn(Arc::clone(&pool.shared))?;
            pool.helpers.push(h);
        }
        // Wait until every helper runs: a call does not wait for helpers, so
        // one that started late would fault its stack pages in during the
        // host's first calls instead of here.
        let sh = &*pool.shared;
        let mut g = lock(&sh.lock);
        while sh.started.load(Ordering::SeqCst) < helpers {
            g = sh.done.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        drop(g);
        Ok(pool)
    }

    /// Whether this pool was made in another process (before a `fork()`):
    /// its helpers do not exist here.
    fn forked(&self) -> bool {
        os::fork_generation() != self.generation
    }

    /// How many tasks can run at once: the helpers and the calling thread
    /// (1 in a process forked from the one that made the pool).
    pub(crate) fn width(&self) -> usize {
        if self.forked() {
            1
        } else {
            self.helpers.len() + 1
        }
    }

    /// Calls `f(0)` on this thread and, side by side, `f(1)`, ... on the
    /// helpers that join the call before `f(0)` returns (each index at most
    /// once, fewer than `tasks`; a helper that is not running when the call
    /// starts may well not join). So `f(0)` alone must be able to do all the
    /// work: the tasks share it dynamically. Returns when `f(0)` and every
    /// task that started are done. `tasks <= width()`.
    /// A panic in any task is re-raised here, after every started task has finished.
    pub(crate) fn run(&self, tasks: usize, f: &Task<'_>) {
        assert!(
            tasks <= self.helpers.len() + 1,
            "{tasks} tasks for a pool of {}",
            self.helpers.len() + 1
        );
        if tasks <= 1 || self.forked() {
            f(0);
            return;
        }
        // SAFETY: only the lifetime changes (same fat pointer). Helpers use it
        // only after joining this call (step 2 of the module doc), and this
        // function does not return (nor unwind: see `Close`) before every
        // helper that joined is done with it.
        let erased: &'static Task<'static> =
            unsafe { std::mem::transmute::<&Task<'_>, &'static Task<'static>>(f) };
        let sh = &*self.shared;
        // Step 1: publish, then open. The `SeqCst` store of `gate` releases the
        // stores above to any helper that joins (its swap acquires).
        sh.job
            .store(&erased as *const _ as *mut _, Ordering::Relaxed);
        sh.tasks.store(tasks, Ordering::Relaxed);
        sh.finished.store(0, Ordering::Relaxed);
        sh.panicked.store(false, Ordering::Relaxed);
        let epoch = epoch_of(sh.gate.load(Ordering::Relaxed)).wrapping_add(1);
        sh.gate.store(epoch.wrapping_mul(EPOCH), Ordering::SeqCst);
        if sh.sleepers.load(Ordering::SeqCst) > 0 {
            let _g = lock(&sh.lock);
            sh.wake.notify_all();
        }

        /// Step 4 when dropped, so also when task 0 panics.
        struct Close<'a>(&'a Shared);
        impl Drop for Close<'_> {
            fn drop(&mut self) {
                let sh = self.0;
                let joined = (sh.gate.fetch_or(CLOSED, Ordering::SeqCst) & JOINED) as usize;
                if joined > 0 && !spin_until(|| sh.finished.load(Ordering::Acquire) >= joined) {
                    let mut g = lock(&sh.lock);
                    sh.waiting.store(true, Ordering::SeqCst);
                    while sh.finished.load(Ordering::SeqCst) < joined {
                        g = sh.done.wait(g).unwrap_or_else(|e| e.into_inner());
                    }
                    sh.waiting.store(false, Ordering::Relaxed);
                }
                sh.job.store(std::ptr::null_mut(), Ordering::Relaxed);
            }
        }
        let close = Close(sh);
        // Step 3.
        f(0);
        drop(close);
        if sh.panicked.load(Ordering::Acquire) {
            panic!("a worker thread of the cell panicked");
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if self.forked() {
            // The helpers and whoever held the mutex live in the parent: touch
            // neither. The handles and the shared state are leaked.
            std::mem::forget(std::mem::take(&mut self.helpers));
            return;
        }
        {
            let _g = lock(&self.shared.lock);
            self.shared.shutdown.store(true, Ordering::SeqCst);
            self.shared.wake.notify_all();
        }
        for h in self.helpers.drain(..) {
            os::join(h);
        }
    }
}

/// Waits for a call of an epoch other than `seen` to open; `None` on shutdown.
///
/// Spins first (the next call usually comes soon), then sleeps until the
/// epoch moves, then spins again: a helper woken for a call that closed before
/// it got going (waking a halted vCPU takes tens of microseconds) must not go
/// straight back to sleep, or it would miss every call of a busy host, each
/// one over before the wake-up it sent arrives.
fn next_call(sh: &Shared, seen: u64) -> Option<u64> {
    let ready = |g: u64| g & CLOSED == 0 && epoch_of(g) != seen;
    loop {
        spin_until(|| {
            ready(sh.gate.load(Ordering::Acquire)) || sh.shutdown.load(Ordering::Acquire)
        });
        let gate = sh.gate.load(Ordering::Acquire);
        if sh.shutdown.load(Ordering::Acquire) {
            return None;
        }
        if ready(gate) {
            return Some(gate);
        }
        // Sleep until the next epoch (or shutdown).
        let slept_on = epoch_of(gate);
        let mut g = lock(&sh.lock);
        sh.sleepers.fetch_add(1, Ordering::SeqCst);
        while epoch_of(sh.gate.load(Ordering::SeqCst)) == slept_on
            && !sh.shutdown.load(Ordering::SeqCst)
        {
            g = sh.wake.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        sh.sleepers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Step 2: joins the call of `gate`'s epoch if it is still open; returns the task index.
fn join(sh: &Shared, mut gate: u64) -> Option<usize> {
    let epoch = epoch_of(gate);
    while gate & CLOSED == 0 && epoch_of(gate) == epoch {
        match sh
            .gate
            .compare_exchange_weak(gate, gate + 1, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => return Some((gate & JOINED) as usize + 1),
            Err(now) => gate = now,
        }
    }
    None
}

/// A helper's life: wait for a call, join it if still open, run its task, report, repeat.
fn helper_loop(sh: &Shared) {
    {
        let _g = lock(&sh.lock);
        sh.started.fetch_add(1, Ordering::SeqCst);
        sh.done.notify_all();
    }
    // The epoch the pool starts with (a call made before this thread got
    // going is still joined if it is open).
    let mut seen = 0;
    while let Some(gate) = next_call(sh, seen) {
        seen = epoch_of(gate);
        testing::count(&testing::SEEN);
        testing::before_join();
        let Some(index) = join(sh, gate) else {
            testing::count(&testing::MISSES);
            continue;
        };
        testing::count(&testing::JOINS);
        testing::after_join();
        if index < sh.tasks.load(Ordering::Relaxed) {
            let job = sh.job.load(Ordering::Relaxed);
            // SAFETY: this helper joined the call, so `run` published `job`
            // (a pointer to its `&Task`, on its stack) before opening it, and
            // keeps both alive until `finished` counts this helper, below.
            let f: &Task<'_> = unsafe { *job };
            if catch_unwind(AssertUnwindSafe(|| f(index))).is_err() {
                sh.panicked.store(true, Ordering::Relaxed);
            }
        }
        // Releases this helper's writes to the caller; after it, the call's
        // data may be gone.
        sh.finished.fetch_add(1, Ordering::SeqCst);
        if sh.waiting.load(Ordering::SeqCst) {
            let _g = lock(&sh.lock);
            sh.done.notify_all();
        }
    }
}

/// Test-only hooks (see [`__test_pool_helpers_delay`]): one relaxed load per
/// helper and call when unused.
mod testing {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::Duration;

    pub(super) static ARMED: AtomicBool = AtomicBool::new(false);
    static BEFORE_JOIN_US: AtomicU64 = AtomicU64::new(0);
    static AFTER_JOIN_US: AtomicU64 = AtomicU64::new(0);
    pub(super) static SEEN: AtomicU64 = AtomicU64::new(0);
    pub(super) static JOINS: AtomicU64 = AtomicU64::new(0);
    pub(super) static MISSES: AtomicU64 = AtomicU64::new(0);

    pub(super) fn set(before: Duration, after: Duration) {
        BEFORE_JOIN_US.store(before.as_micros() as u64, Ordering::SeqCst);
        AFTER_JOIN_US.store(after.as_micros() as u64, Ordering::SeqCst);
        ARMED.store(true, Ordering::SeqCst);
    }

    fn pause(us: &AtomicU64) {
        if ARMED.load(Ordering::Relaxed) {
            let us = us.load(Ordering::SeqCst);
            if us > 0 {
                std::thread::sleep(Duration::from_micros(us));
            }
        }
    }

    #[inline(always)]
    pub(super) fn before_join() {
        pause(&BEFORE_JOIN_US);
    }

    #[inline(always)]
    pub(super) fn after_join() {
        pause(&AFTER_JOIN_US);
    }

    #[inline(always)]
    pub(super) fn count(c: &AtomicU64) {
        if ARMED.load(Ordering::Relaxed) {
            c.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Test-only: from now on every worker thread of every cell sleeps `before`
/// after it sees a new call and before it tries to join it, and `after` once
/// it has joined (before its task); zero durations mean no sleep. Once called,
/// [`__test_pool_counts`] counts joins and misses. A plain Rust function, not
/// `extern "C"`: not part of the C ABI (like `__test_force_panic_in_next_call`).
#[doc(hidden)]
pub fn __test_pool_helpers_delay(before: Duration, after: Duration) {
    testing::set(before, after);
}

/// Test-only: `(seen, joined, missed)`: how many times, since the first
/// [`__test_pool_helpers_delay`], a worker thread saw an open call, joined a
/// call, and tried to join a call that had closed meanwhile (and so did not
/// touch it).
#[doc(hidden)]
pub fn __test_pool_counts() -> (u64, u64, u64) {
    (
        testing::SEEN.load(Ordering::SeqCst),
        testing::JOINS.load(Ordering::SeqCst),
        testing::MISSES.load(Ordering::SeqCst),
    )
}

#[cfg(unix)]
mod os {
    use super::{helper_loop, Shared};
    use std::ffi::c_void;
    use std::mem::MaybeUninit;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Once};

    /// Stack of a helper: the kernel needs a few KiB.
    const STACK: usize = 256 * 1024;

    pub(super) struct Handle(libc::pthread_t);

    /// Bumped in the child of every `fork()` (once `watch_forks` ran).
    static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

    extern "C" fn forked_child() {
        FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn fork_generation() -> u64 {
        FORK_GENERATION.load(Ordering::Relaxed)
    }

    /// Registers the `fork()` child handler, once per process.
    pub(super) fn watch_forks() -> std::io::Result<()> {
        static ONCE: Once = Once::new();
        let mut rc = 0;
        // SAFETY: registers a handler that only touches an atomic (async-signal
        // safe, as a fork handler must be). glibc's `pthread_atfork` records
        // this library's `__dso_handle`, so `dlclose` unregisters it.
        ONCE.call_once(|| rc = unsafe { libc::pthread_atfork(None, None, Some(forked_child)) });
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        Ok(())
    }

    pub(super) fn yield_now() {
        // SAFETY: no arguments, no memory; cannot fail on Linux.
        unsafe {
            libc::sched_yield();
        }
    }

    /// Touches the stack the helper will run on, so that its pages fault in
    /// when the helper starts (in `set_threads`), not in a later `advance`.
    #[inline(never)]
    fn touch_stack() {
        let probe = [0u8; 64 * 1024];
        std::hint::black_box(&probe);
    }

    extern "C" fn start(arg: *mut c_void) -> *mut c_void {
        touch_stack();
        // SAFETY: `arg` is the `Box` leaked by `spawn` for this thread only;
        // it is taken back exactly once, here.
        let shared = unsafe { Box::from_raw(arg.cast::<Arc<Shared>>()) };
        // Nothing may unwind out of an `extern "C"` function.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            helper_loop(&shared);
        }));
        std::ptr::null_mut()
    }

    pub(super) fn spawn(shared: Arc<Shared>) -> std::io::Result<Handle> {
        let arg = Box::into_raw(Box::new(shared));
        let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
        let mut thread = MaybeUninit::<libc::pthread_t>::uninit();
        // SAFETY: standard pthread calls on local, properly sized storage;
        // `attr` is initialised before use and destroyed after; `start` has the
        // signature pthread_create expects and owns `arg` if creation succeeds.
        let rc = unsafe {
            let mut rc = libc::pthread_attr_init(attr.as_mut_ptr());
            if rc == 0 {
                let stack = STACK.max(libc::PTHREAD_STACK_MIN);
                let _ = libc::pthread_attr_setstacksize(attr.as_mut_ptr(), stack);
                rc = libc::pthread_create(thread.as_mut_ptr(), attr.as_ptr(), start, arg.cast());
                libc::pthread_attr_destroy(attr.as_mut_ptr());
            }
            rc
        };
        if rc != 0 {
            // SAFETY: the thread was not created, so `arg` is still ours.
            drop(unsafe { Box::from_raw(arg) });
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        // SAFETY: pthread_create succeeded, so it wrote the thread id.
        Ok(Handle(unsafe { thread.assume_init() }))
    }

    pub(super) fn join(h: Handle) {
        // SAFETY: `h` is a joinable thread created by `spawn`, joined once
        // (`Handle` is not `Clone` and is consumed here).
        unsafe {
            libc::pthread_join(h.0, std::ptr::null_mut());
        }
    }
}

#[cfg(not(unix))]
mod os {
    use super::{helper_loop, Shared};
    use std::sync::Arc;

    pub(super) struct Handle(std::thread::JoinHandle<()>);

    /// No `fork()` here.
    pub(super) fn fork_generation() -> u64 {
        0
    }

    pub(super) fn watch_forks() -> std::io::Result<()> {
        Ok(())
    }

    pub(super) fn yield_now() {
        std::thread::yield_now();
    }

    pub(super) fn spawn(shared: Arc<Shared>) -> std::io::Result<Handle> {
        std::thread::Builder::new()
            .name("ngc-cells".into())
            .stack_size(256 * 1024)
            .spawn(move || helper_loop(&shared))
            .map(Handle)
    }

    pub(super) fn join(h: Handle) {
        let _ = h.0.join();
    }
}

impl crate::core::Workers for Pool {
    fn width(&self) -> usize {
        Pool::width(self)
    }
    fn run(&self, tasks: usize, f: &Task<'_>) {
        Pool::run(self, tasks, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn task_zero_runs_on_the_caller_and_no_index_runs_twice() {
        let pool = Pool::new(3).unwrap();
        assert_eq!(pool.width(), 4);
        let caller = std::thread::current().id();
        for tasks in [1, 2, 4, 3, 4, 4] {
            let hits: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
            let on_caller = AtomicBool::new(false);
            pool.run(tasks, &|i| {
                hits[i].fetch_add(1, Ordering::SeqCst);
                if i == 0 {
                    on_caller.store(std::thread::current().id() == caller, Ordering::SeqCst);
                }
            });
            assert!(on_caller.load(Ordering::SeqCst));
            assert_eq!(hits[0].load(Ordering::SeqCst), 1);
            for (i, h) in hits.iter().enumerate().skip(1) {
                assert!(
                    h.load(Ordering::SeqCst) <= usize::from(i < tasks),
                    "task {i}"
                );
            }
        }
    }

    #[test]
    fn shared_work_is_done_once_whoever_joins() {
        let pool = Pool::new(2).unwrap();
        for round in 0..2000 {
            let items: Vec<AtomicUsize> = (0..64).map(|_| AtomicUsize::new(0)).collect();
            let next = AtomicUsize::new(0);
            pool.run(3, &|_| loop {
                let g = next.fetch_add(1, Ordering::Relaxed);
                if g >= items.len() {
                    break;
                }
                items[g].fetch_add(1, Ordering::Relaxed);
            });
            assert!(items.iter().all(|c| c.load(Ordering::Relaxed) == 1));
            if round % 7 == 0 {
                // Past the spin: the helpers go to sleep and must be woken.
                std::thread::sleep(SPIN * 2);
            }
        }
    }

    #[test]
    fn a_helper_panic_is_reraised_after_all_tasks_finish() {
        let pool = Pool::new(1).unwrap();
        let done = AtomicUsize::new(0);
        // Task 0 waits (bounded) for the helper to start, so that it runs.
        let r = catch_unwind(AssertUnwindSafe(|| {
            pool.run(2, &|i| {
                if i == 1 {
                    done.fetch_add(1, Ordering::SeqCst);
                    panic!("boom");
                }
                let t = Instant::now();
                while done.load(Ordering::SeqCst) == 0 && t.elapsed() < Duration::from_secs(10) {
                    std::hint::spin_loop();
                }
            })
        }));
        assert!(r.is_err());
        assert_eq!(done.load(Ordering::SeqCst), 1);
        // The pool still works afterwards.
        pool.run(2, &|i| {
            if i == 0 {
                done.fetch_add(10, Ordering::SeqCst);
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), 11);
    }
}
