//! A cell's persistent worker threads.
//!
//! Spawning OS threads on every `advance` costs tens of microseconds, so a cell
//! allowed more than one thread keeps `threads - 1` helpers asleep on a
//! condition variable between calls. [`Pool::run`] wakes them, runs task 0 on
//! the calling thread and task `i` on helper `i`, and returns only when every
//! helper is done with the call. Dropping the pool (when the cell is freed or
//! its thread count lowered) stops and joins the helpers.
//!
//! Unloadable library: on Unix the helpers are raw `pthread`s, not
//! `std::thread`s, because `std::thread::spawn` touches a thread-local with a
//! destructor (the spawn hooks) in the *calling* thread, and a pending TLS
//! destructor keeps glibc from unloading the library on `dlclose` (MATLAB
//! `clear mex`). The calling thread only uses a `Mutex` and a `Condvar`
//! (futexes, no thread-local state). The helpers are joined before the cell's
//! memory, and so the library's code they run, can go away.
//!
//! `unsafe` here: the lifetime of the task closure is erased to hand it to the
//! helpers (sound because `run` waits for them, even when a task panics), and
//! the `pthread` calls.
#![allow(unsafe_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a helper (after its task) and the caller (waiting for the helpers)
/// spin before sleeping. Waking a sleeping thread costs tens of microseconds
/// on a virtual machine (the idle vCPU is halted); a host that calls `advance`
/// in a loop keeps its helpers awake with this. Spinning is bounded, so an
/// idle cell costs nothing after it.
const SPIN: Duration = Duration::from_micros(100);

/// Spins until `done()` or `SPIN` has passed; returns `done()`.
fn spin_until(done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    loop {
        for _ in 0..32 {
            if done() {
                return true;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() > SPIN {
            return done();
        }
    }
}

/// A task: called once with each index `0..tasks`, from several threads at once.
pub(crate) use crate::core::platform::Task;

/// A task whose lifetime was erased. Only dereferenced by helpers between the
/// moment `run` publishes it and the moment they report back to that `run`.
#[derive(Clone, Copy)]
struct JobPtr(*const Task<'static>);

// SAFETY: the pointee is `Sync` (may be called from any thread), and `run`
// keeps it alive until every helper has finished with it.
unsafe impl Send for JobPtr {}

/// The job of the current epoch; guarded by `Shared::state`.
struct State {
    job: Option<JobPtr>,
    tasks: usize,
    epoch: u64,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    done: Condvar,
    /// `State::epoch`, readable without the lock (for spinning).
    epoch: AtomicU64,
    /// `State::shutdown`, readable without the lock.
    shutdown: AtomicBool,
    /// Helpers not yet done with the current epoch.
    pending: AtomicUsize,
    /// A task of the current epoch panicked.
    panicked: AtomicBool,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // No user code ever runs under this lock, so poisoning carries no meaning.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Persistent helper threads for one cell.
pub(crate) struct Pool {
    shared: Arc<Shared>,
    helpers: Vec<os::Handle>,
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
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                job: None,
                tasks: 0,
                epoch: 0,
                shutdown: false,
            }),
            wake: Condvar::new(),
            done: Condvar::new(),
            epoch: AtomicU64::new(0),
            shutdown: AtomicBool::new(false),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
        });
        let mut pool = Pool {
            shared,
            helpers: Vec::with_capacity(helpers),
        };
        for i in 1..=helpers {
            // On failure, dropping `pool` joins the helpers already started.
            let h = os::spawn(Arc::clone(&pool.shared), i)?;
            pool.helpers.push(h);
        }
        Ok(pool)
    }

    /// How many tasks can run at once: the helpers and the calling thread.
    pub(crate) fn width(&self) -> usize {
        self.helpers.len() + 1
    }

    /// Calls `f(0)` on this thread and `f(1)`, ..., `f(tasks - 1)` on the
    /// helpers, and returns when all are done. `tasks <= width()`.
    /// A panic in any task is re-raised here, after every task has finished.
    pub(crate) fn run(&self, tasks: usize, f: &Task<'_>) {
        assert!(
            tasks <= self.width(),
            "{tasks} tasks for a pool of {}",
            self.width()
        );
        let erased: *const Task<'_> = f;
        // SAFETY: only the lifetime changes (same fat pointer). The helpers use
        // the pointer only until they decrement `pending`, and this function
        // does not return (nor unwind: see `WaitAll`) before `pending` is 0.
        let erased: *const Task<'static> = unsafe { std::mem::transmute(erased) };
        let sh = &*self.shared;
        {
            let mut st = lock(&sh.state);
            st.job = Some(JobPtr(erased));
            st.tasks = tasks;
            st.epoch = st.epoch.wrapping_add(1);
            sh.panicked.store(false, Ordering::Relaxed);
            sh.pending.store(self.helpers.len(), Ordering::Relaxed);
            // Release: a helper that sees the new epoch sees the job too.
            sh.epoch.store(st.epoch, Ordering::Release);
        }
        sh.wake.notify_all();

        /// Waits for the helpers when dropped, so also when task 0 panics.
        struct WaitAll<'a>(&'a Shared);
        impl Drop for WaitAll<'_> {
            fn drop(&mut self) {
                let sh = self.0;
                if !spin_until(|| sh.pending.load(Ordering::Acquire) == 0) {
                    let mut st = lock(&sh.state);
                    while sh.pending.load(Ordering::Acquire) > 0 {
                        st = sh.done.wait(st).unwrap_or_else(|e| e.into_inner());
                    }
                }
                lock(&sh.state).job = None;
            }
        }
        let wait = WaitAll(sh);
        f(0);
        drop(wait);
        if sh.panicked.load(Ordering::Acquire) {
            panic!("a worker thread of the cell panicked");
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        lock(&self.shared.state).shutdown = true;
        self.shared.shutdown.store(true, Ordering::Release);
        self.shared.wake.notify_all();
        for h in self.helpers.drain(..) {
            os::join(h);
        }
    }
}

/// A helper's life: wait for a new epoch, run its task, report, repeat.
fn helper_loop(shared: &Shared, index: usize) {
    let mut seen = 0u64;
    loop {
        // Spin a little first: the next call usually comes soon.
        spin_until(|| {
            shared.epoch.load(Ordering::Acquire) != seen || shared.shutdown.load(Ordering::Acquire)
        });
        let (job, tasks) = {
            let mut st = lock(&shared.state);
            while st.epoch == seen && !st.shutdown {
                st = shared.wake.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            if st.shutdown {
                return;
            }
            seen = st.epoch;
            (st.job, st.tasks)
        };
        let ok = match job {
            Some(job) if index < tasks => {
                // SAFETY: `run` published this pointer for the current epoch and
                // keeps the closure alive until `pending` reaches 0, which it
                // cannot before this helper decrements it below.
                let f = unsafe { &*job.0 };
                catch_unwind(AssertUnwindSafe(|| f(index))).is_ok()
            }
            _ => true,
        };
        if !ok {
            shared.panicked.store(true, Ordering::Release);
        }
        if shared.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Under the lock, so that a caller about to wait cannot miss it.
            let _st = lock(&shared.state);
            shared.done.notify_all();
        }
    }
}

#[cfg(unix)]
mod os {
    use super::{helper_loop, Shared};
    use std::ffi::c_void;
    use std::mem::MaybeUninit;
    use std::sync::Arc;

    /// Stack of a helper: the kernel needs a few KiB.
    const STACK: usize = 256 * 1024;

    pub(super) struct Handle(libc::pthread_t);

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
        let boxed = unsafe { Box::from_raw(arg.cast::<(Arc<Shared>, usize)>()) };
        // Nothing may unwind out of an `extern "C"` function.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            helper_loop(&boxed.0, boxed.1);
        }));
        std::ptr::null_mut()
    }

    pub(super) fn spawn(shared: Arc<Shared>, index: usize) -> std::io::Result<Handle> {
        let arg = Box::into_raw(Box::new((shared, index)));
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

    pub(super) fn spawn(shared: Arc<Shared>, index: usize) -> std::io::Result<Handle> {
        std::thread::Builder::new()
            .name(format!("ngc-cells-{index}"))
            .stack_size(256 * 1024)
            .spawn(move || helper_loop(&shared, index))
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
    fn every_task_runs_once_per_call() {
        let pool = Pool::new(3).unwrap();
        assert_eq!(pool.width(), 4);
        for tasks in [1, 2, 4, 3] {
            let hits: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
            pool.run(tasks, &|i| {
                hits[i].fetch_add(1, Ordering::SeqCst);
            });
            for (i, h) in hits.iter().enumerate() {
                assert_eq!(h.load(Ordering::SeqCst), usize::from(i < tasks));
            }
        }
    }

    #[test]
    fn a_helper_panic_is_reraised_after_all_tasks_finish() {
        let pool = Pool::new(1).unwrap();
        let done = AtomicUsize::new(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            pool.run(2, &|i| {
                if i == 1 {
                    panic!("boom");
                }
                done.fetch_add(1, Ordering::SeqCst);
            })
        }));
        assert!(r.is_err());
        assert_eq!(done.load(Ordering::SeqCst), 1);
        // The pool still works afterwards.
        pool.run(2, &|_| {
            done.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(done.load(Ordering::SeqCst), 3);
    }
}
