//! What `advance` needs besides the compartments, and the generic way a kernel
//! runs over a cell's arrays: blocks, groups, threads, deterministic sums.
//!
//! Arrays are cut into blocks of [`SUM_BLOCK`] elements. A kernel that sums
//! (a loss) writes one `f64` partial sum per block, and the cell adds them in
//! block order, so the result is the same bits for any number of threads. With
//! threads, the blocks are dealt in up to [`GROUPS`] contiguous groups
//! ([`Runner::run`]): each thread first takes the groups of its own part of the
//! arrays, so call after call a core finds its part in its own cache, then helps
//! with what is left of the others' parts. A helper that starts late (its core
//! busy) costs little, because the calling thread takes the groups it did not.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::error::CellError;
use super::kernel::Kernel;
use super::platform::{Platform, Workers};
use super::real::Real;

/// Elements per block of a summed output. Part of the results' definition:
/// changing it changes the low bits of every loss.
pub const SUM_BLOCK: usize = 4096;

/// Below this many elements per thread a cell uses fewer threads (one below
/// twice this size). 32768 elements are tens of microseconds of work: a helper
/// that is still spinning from the previous call starts in about a
/// microsecond, but one that went to sleep takes tens of microseconds to wake
/// on a virtual machine.
pub const MIN_ELEMENTS_PER_THREAD: usize = 1 << 15;

/// The most threads one cell's `advance` uses.
pub const MAX_THREADS: usize = 64;

/// How many pieces a multi-threaded call deals its blocks in.
pub const GROUPS: usize = 64;

/// The number of threads a call uses for `count` elements when `threads` are allowed.
pub fn threads_for(count: usize, threads: usize) -> usize {
    threads.clamp(1, (count / MIN_ELEMENTS_PER_THREAD).max(1))
}

/// The number of [`SUM_BLOCK`] blocks of `count` elements.
pub fn blocks_for(count: usize) -> usize {
    count.div_ceil(SUM_BLOCK)
}

/// A kernel's I/O that can be cut into ranges of whole blocks.
pub trait Blocks: Send + Sized {
    /// The number of elements.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The first `mid` elements (a multiple of [`SUM_BLOCK`]) and the rest,
    /// each with its blocks' partial sums.
    fn split_at(self, mid: usize) -> (Self, Self);
}

/// A cell's scratch space: the partial sums (one per block) and the worker
/// threads, both sized with the cell's shape and thread count (by
/// [`resize`](Self::resize) and [`set_threads`](Self::set_threads)), so that
/// `advance` allocates nothing; workers are joined on drop.
#[derive(Debug)]
pub struct Workspace<P: Platform> {
    partials: Vec<f64>,
    count: usize,
    threads: usize,
    pool: Option<Box<dyn Workers>>,
    platform: PhantomData<P>,
}

impl<P: Platform> Workspace<P> {
    /// A workspace for `count` elements, single-threaded.
    pub fn new(count: usize) -> Result<Workspace<P>, CellError> {
        let mut ws = Workspace {
            partials: Vec::new(),
            count: 0,
            threads: 1,
            pool: None,
            platform: PhantomData,
        };
        ws.resize(count)?;
        Ok(ws)
    }

    /// Makes room for `count` elements (partial sums, and as many worker
    /// threads as a call will use for them). Fallible; on error the
    /// workspace still serves the previous count.
    pub fn resize(&mut self, count: usize) -> Result<(), CellError> {
        let blocks = blocks_for(count);
        if blocks > self.partials.len() {
            self.partials
                .try_reserve_exact(blocks - self.partials.len())
                .map_err(|_| CellError::Alloc {
                    name: "L (partial sums)".into(),
                    bytes: blocks.saturating_mul(8),
                })?;
            self.partials.resize(blocks, 0.0);
        }
        self.fit(count, self.threads)?;
        self.count = count;
        Ok(())
    }

    /// The number of threads a call may use: as set, at most [`MAX_THREADS`].
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Allows `threads` threads (at least 1, at most [`MAX_THREADS`] are
    /// kept). Starts the worker threads a call will use at the current size
    /// (none below `2 * MIN_ELEMENTS_PER_THREAD` elements) and stops the
    /// others. On error (the system would not start a thread) nothing changed.
    pub fn set_threads(&mut self, threads: usize) -> Result<(), CellError> {
        let threads = threads.clamp(1, MAX_THREADS);
        self.fit(self.count, threads)?;
        self.threads = threads;
        Ok(())
    }

    /// Sizes the pool for `count` elements and `threads` threads.
    fn fit(&mut self, count: usize, threads: usize) -> Result<(), CellError> {
        let want = threads_for(count, threads);
        if want != self.width() {
            self.pool = if want > 1 {
                Some(P::start_workers(want - 1).map_err(|e| CellError::Threads {
                    count: want - 1,
                    cause: e.to_string(),
                })?)
            } else {
                None
            }; // drops (joins) the old workers
        }
        Ok(())
    }

    /// The number of threads that can run now.
    fn width(&self) -> usize {
        self.pool.as_ref().map_or(1, |p| p.width())
    }

    /// The first `blocks` partial sums, and a runner for kernels.
    pub fn parts(&mut self, blocks: usize) -> Result<(&mut [f64], Runner<'_, P>), CellError> {
        let width = self.width();
        let have = self.partials.len();
        let partials = self.partials.get_mut(..blocks).ok_or_else(|| {
            CellError::Internal(format!("workspace for {have} blocks, {blocks} needed"))
        })?;
        let runner = Runner {
            pool: self.pool.as_deref(),
            width,
            platform: PhantomData,
        };
        Ok((partials, runner))
    }

    /// A runner for kernels that need no partial sums.
    pub fn runner(&self) -> Runner<'_, P> {
        Runner {
            pool: self.pool.as_deref(),
            width: self.width(),
            platform: PhantomData,
        }
    }
}

/// Runs kernels over whole arrays, on the workspace's threads.
#[derive(Debug)]
pub struct Runner<'w, P> {
    pool: Option<&'w dyn Workers>,
    width: usize,
    platform: PhantomData<P>,
}

impl<P: Platform> Runner<'_, P> {
    /// Runs the platform's best copy of `k` over `io`. With threads, `io` is
    /// cut into up to [`GROUPS`] ranges of whole blocks, dealt as [`Deal`]
    /// says; each block covers the same elements whoever computes it, so the
    /// results do not depend on the thread count.
    pub fn run<'a, K: Kernel, T: Real>(&self, k: &K, io: K::Io<'a, T>)
    where
        K::Io<'a, T>: Blocks,
    {
        let n = io.len();
        let f = P::pick::<K, T>(n.saturating_mul(std::mem::size_of::<T>()));
        let t = threads_for(n, self.width);
        match self.pool {
            Some(pool) if t > 1 => {
                let n_blocks = blocks_for(n);
                let per = n_blocks.div_ceil(GROUPS.min(n_blocks)) * SUM_BLOCK;
                let groups: [Mutex<Option<K::Io<'a, T>>>; GROUPS] =
                    std::array::from_fn(|_| Mutex::new(None));
                let mut rest = Some(io);
                let mut count = 0;
                for slot in groups.iter() {
                    let Some(r) = rest.take() else { break };
                    let piece = if r.len() > per {
                        let (a, b) = r.split_at(per);
                        rest = Some(b);
                        a
                    } else {
                        r
                    };
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(piece);
                    count += 1;
                }
                let deal = Deal::new(count, t);
                pool.run(t, &|task| {
                    deal.take_all(task, |g| {
                        let io = groups[g].lock().unwrap_or_else(|e| e.into_inner()).take();
                        if let Some(io) = io {
                            f(k, io);
                        }
                    })
                });
            }
            _ => f(k, io),
        }
    }
}

/// Who computes which group of a multi-threaded call. Each of the `t` tasks
/// has a home segment of the groups (task `i` the `i`-th `1/t` of the
/// arrays), which it takes from the front; a task whose segment is done takes
/// the other segments' groups from their back ends. A helper that never
/// starts leaves its segment to the others, and with the same thread count
/// each thread computes the same part of the arrays call after call while
/// the threads keep pace, so its core's cache keeps that part.
struct Deal {
    /// Per segment, the next group from the front (low 32 bits) and one past
    /// the last group not taken (high 32 bits).
    ends: [AtomicU64; MAX_THREADS],
    tasks: usize,
}

impl Deal {
    fn new(groups: usize, tasks: usize) -> Deal {
        let tasks = tasks.clamp(1, MAX_THREADS);
        let bound = |i: usize| (i * groups / tasks) as u64;
        Deal {
            ends: std::array::from_fn(|i| {
                AtomicU64::new(if i < tasks {
                    bound(i) | (bound(i + 1) << 32)
                } else {
                    0
                })
            }),
            tasks,
        }
    }

    /// Takes a group of segment `seg` from its front (`front`) or back; `None` when it is empty.
    fn take(&self, seg: usize, front: bool) -> Option<usize> {
        let end = &self.ends[seg];
        let mut now = end.load(Ordering::Relaxed);
        loop {
            let (lo, hi) = (now & 0xffff_ffff, now >> 32);
            if lo >= hi {
                return None;
            }
            let (next, g) = if front {
                (now + 1, lo)
            } else {
                (now - (1 << 32), hi - 1)
            };
            match end.compare_exchange_weak(now, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Some(g as usize),
                Err(seen) => now = seen,
            }
        }
    }

    /// Runs `f` on every group task `task` gets: its own segment, then what is
    /// left of the others. Every group goes to exactly one task.
    fn take_all(&self, task: usize, mut f: impl FnMut(usize)) {
        let home = task % self.tasks;
        while let Some(g) = self.take(home, true) {
            f(g);
        }
        for k in 1..self.tasks {
            let seg = (home + k) % self.tasks;
            while let Some(g) = self.take(seg, false) {
                f(g);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every group is taken exactly once however the tasks interleave, each
    /// task starts with its own segment, and one task alone takes them all.
    #[test]
    fn deal_gives_every_group_once() {
        for (groups, tasks) in [(1, 1), (2, 2), (3, 2), (64, 2), (64, 3), (5, 7), (64, 64)] {
            // One task alone (helpers that never start).
            let deal = Deal::new(groups, tasks);
            let mut seen = vec![0; groups];
            deal.take_all(0, |g| seen[g] += 1);
            assert!(
                seen.iter().all(|&c| c == 1),
                "{groups} groups, {tasks} tasks: {seen:?}"
            );
            // The tasks in turn, one group each, until all are done.
            let deal = Deal::new(groups, tasks);
            let mut owner = vec![usize::MAX; groups];
            let mut first = vec![usize::MAX; tasks];
            let mut live = true;
            while live {
                live = false;
                for (task, first) in first.iter_mut().enumerate() {
                    let got = deal
                        .take(task, true)
                        .or_else(|| (1..tasks).find_map(|k| deal.take((task + k) % tasks, false)));
                    if let Some(g) = got {
                        assert_eq!(owner[g], usize::MAX, "group {g} taken twice");
                        owner[g] = task;
                        if *first == usize::MAX {
                            *first = g;
                        }
                        live = true;
                    }
                }
            }
            assert!(owner.iter().all(|&o| o != usize::MAX));
            // With no more tasks than groups (as `Runner::run` deals them),
            // task i starts at the front of the i-th segment.
            if tasks <= groups {
                for (task, &g) in first.iter().enumerate() {
                    assert_eq!(g, task * groups / tasks, "{groups} groups, {tasks} tasks");
                }
            }
        }
    }

    #[test]
    fn threads_are_used_only_on_large_cells() {
        assert_eq!(threads_for(1000, 8), 1);
        assert_eq!(threads_for(2 * MIN_ELEMENTS_PER_THREAD - 1, 8), 1);
        assert_eq!(threads_for(2 * MIN_ELEMENTS_PER_THREAD, 8), 2);
        assert_eq!(threads_for(100 * MIN_ELEMENTS_PER_THREAD, 8), 8);
    }
}
