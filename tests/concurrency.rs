//! Threads, for every row of the family table (`tests/common/family.rs`), through
//! the C ABI (the native platform):
//! - a cell gives the bits of its one-thread run for any thread count (1, 2, 3,
//!   7, 64, SIZE_MAX) at sizes around the sum block (4096) and the thread
//!   thresholds (65536 elements, 32768 per thread, 64 threads), made with that
//!   count or changed to it between steps (the pool started, grown, shrunk,
//!   stopped), with the mask set and at rest;
//! - many cells advanced on several threads at once give exactly their serial,
//!   one-thread results;
//! - one thread's last-error message is never clobbered by another's.

mod common;

use std::sync::{Arc, Barrier, Mutex};

use common::family::{Cell, Row, DTYPES, FAMILY};
use common::{cstr, last_error, RawBuf};
use ngc_cells::*;

/// Elements per block of the loss's partial sums, and per thread (the header:
/// threads from 65536 elements on, 32768 each, at most 64).
const BLOCK: usize = 4096;
const PER_THREAD: usize = 32768;
const MAX_THREADS: usize = 64;

/// The threads a cell of `count` elements uses when asked for `threads`, as the
/// header documents it. Only used to skip runs that would repeat another's
/// split; the comparison itself assumes nothing.
fn split(count: usize, threads: usize) -> usize {
    threads.min(MAX_THREADS).min((count / PER_THREAD).max(1))
}

/// `(batch, n_units)` of `count` elements, batched when it divides.
fn dims(count: usize) -> (usize, usize) {
    let batch = [4, 3, 2]
        .into_iter()
        .find(|&b| count.is_multiple_of(b))
        .unwrap_or(1);
    (batch, count / batch)
}

/// A cell of `count` elements run for `schedule.len()` steps (advance, evolve)
/// with `schedule[i]` threads in step `i`: every compartment's bits after each
/// step. Inputs are set before the first step only: in the later ones an
/// error cell's mask, eaten by the first, is at rest (neither read nor
/// written) while the modulator is set, and a cell with state runs on from it.
fn run(row: &'static Row, count: usize, dtype: NgcDtype, schedule: &[usize]) -> Vec<Vec<Vec<u64>>> {
    let (batch, n) = dims(count);
    let c = row.cell(n, batch, dtype);
    c.set_random_inputs(count as u64);
    let mut steps = Vec::new();
    for (i, &threads) in schedule.iter().enumerate() {
        c.set_threads(threads);
        c.advance(1.0 + i as f64, 0.5);
        c.evolve(1.0 + i as f64, 0.5);
        steps.push(c.snapshot());
    }
    steps
}

fn first_difference(a: &[Vec<u64>], b: &[Vec<u64>], row: &Row) -> String {
    for ((name, x), y) in row.compartments.iter().zip(a).zip(b) {
        if let Some(j) = (0..x.len().max(y.len())).find(|&j| x.get(j) != y.get(j)) {
            return format!(
                "{name}[{j}]: {:?} vs {:?} (of {} elements)",
                x.get(j),
                y.get(j),
                x.len()
            );
        }
    }
    "none".into()
}

/// The requests among `threads` that split `count` elements as no earlier one
/// did (a later one would repeat its schedule; so list the largest first).
fn distinct_splits(count: usize, threads: &[usize]) -> Vec<usize> {
    let mut seen = Vec::new();
    let mut asked = Vec::new();
    for &t in threads {
        if !seen.contains(&split(count, t)) {
            seen.push(split(count, t));
            asked.push(t);
        }
    }
    asked
}

/// The thread counts of one cell between its steps, for the requests `asked`:
/// its pool started on a cell that already ran, then grown, shrunk, grown
/// again and stopped (1, the smallest request, the largest, the next
/// smallest, ..., 1).
fn live_schedule(asked: &[usize]) -> Vec<usize> {
    let mut sorted = asked.to_vec();
    sorted.sort_unstable();
    let mut schedule = vec![1];
    while !sorted.is_empty() {
        schedule.push(sorted.remove(0));
        if let Some(t) = sorted.pop() {
            schedule.push(t);
        }
    }
    schedule.push(1);
    schedule
}

/// One cell whose thread count a host changes before every step
/// (`schedule`), against the same steps on one thread (`one`, computed when
/// `None`).
fn compare_live_cell(
    row: &'static Row,
    dtype: NgcDtype,
    count: usize,
    schedule: &[usize],
    one: Option<&[Vec<Vec<u64>>]>,
) {
    let computed;
    let one = match one {
        Some(one) => one,
        None => {
            computed = run(row, count, dtype, &vec![1; schedule.len()]);
            &computed
        }
    };
    assert_eq!(
        one.len(),
        schedule.len(),
        "one-thread steps for {schedule:?}"
    );
    let got = run(row, count, dtype, schedule);
    for (i, (g, w)) in got.iter().zip(one).enumerate() {
        assert!(
            g == w,
            "{} dtype {dtype}, {count} elements, threads {schedule:?} on one cell: step {i} is \
             not the one-thread bits; first difference: {}",
            row.label,
            first_difference(g, w, row)
        );
    }
}

/// Asks for each thread count at `count` elements, on a fresh cell each, and
/// compares its first step with one thread's; then the same counts on one
/// cell, changed between its steps ([`compare_live_cell`]).
fn compare_thread_counts(row: &'static Row, dtype: NgcDtype, count: usize, threads: &[usize]) {
    let asked = distinct_splits(count, threads);
    let schedule = live_schedule(&asked);
    // One thread, as many steps as the live cell takes.
    let one = run(row, count, dtype, &vec![1; schedule.len()]);
    for &t in &asked {
        let got = run(row, count, dtype, &[t]);
        assert!(
            got[0] == one[0],
            "{} dtype {dtype}, {count} elements, {t} threads: not the one-thread bits; first \
             difference: {}",
            row.label,
            first_difference(&got[0], &one[0], row)
        );
    }
    compare_live_cell(row, dtype, count, &schedule, Some(&one));
}

#[test]
fn every_thread_count_gives_the_bits_of_one_thread() {
    let t0 = std::time::Instant::now();
    let threads = [usize::MAX, 64, 7, 3, 2];
    // Around the block and the thread thresholds: one block either side (threads
    // asked for, not used), 2 threads (one short, exact, one over, a block less
    // one over), 3 threads, 7 threads with a partial last block.
    let sizes = [
        BLOCK - 1,
        BLOCK + 1,
        2 * PER_THREAD - 1,
        2 * PER_THREAD,
        2 * PER_THREAD + 1,
        2 * PER_THREAD + BLOCK - 1,
        3 * PER_THREAD + 1,
        7 * PER_THREAD + BLOCK + 1,
    ];
    let mut types_at_64 = Vec::new();
    for row in FAMILY {
        for dtype in DTYPES {
            for &count in &sizes {
                compare_thread_counts(row, dtype, count, &threads);
            }
        }
        // 64 threads need 2,097,152 elements, the only size here where each of
        // the (at most 64) groups of blocks that the threads take in turn holds
        // several blocks; each step takes a while in a test build: once per
        // cell type (the split is the engine's; the rows of one type share a
        // kernel), float32, with a partial last block, on one cell made with
        // 64 threads, then 2, 7 and 3 (the mask at rest from the second step).
        if !types_at_64.contains(&row.type_name) {
            types_at_64.push(row.type_name);
            let count = MAX_THREADS * PER_THREAD + BLOCK + 1;
            compare_live_cell(row, NGC_DTYPE_F32, count, &[64, 2, 7, 3], None);
        }
    }
    eprintln!(
        "thread counts: {} rows, {:.1} s",
        FAMILY.len(),
        t0.elapsed().as_secs_f64()
    );
}

/// A cell configuration of the many-cells test.
#[derive(Clone, Copy)]
struct Config {
    row: &'static Row,
    n: usize,
    batch: usize,
    dtype: NgcDtype,
    /// Threads of the cell in the concurrent run (the serial run uses 1).
    threads: usize,
    /// Bind the first input and output to caller buffers instead of copying.
    bound: bool,
}

fn configs() -> Vec<Config> {
    let mut v = Vec::new();
    for row in FAMILY {
        for i in 0..8 {
            v.push(Config {
                row,
                n: 1 + (i * 7) % 23,
                batch: 1 + i % 3,
                dtype: DTYPES[i % 2],
                threads: 1 + i % 2,
                bound: i % 4 == 1,
            });
        }
        // Large enough for the cell's own threads (2 x 33,000 elements).
        v.push(Config {
            row,
            n: 33_000,
            batch: 2,
            dtype: NGC_DTYPE_F32,
            threads: 2,
            bound: true,
        });
    }
    v
}

/// One cell, its bound buffers, and the fingerprints of its state after every step.
struct Run {
    cell: Cell,
    c: usize,
    /// Bound caller buffers (f64 storage, used as f32 for an f32 cell).
    _bufs: Vec<RawBuf<f64>>,
    out: Vec<u64>,
}
// SAFETY: the cell and its raw buffers belong to this run alone and move with it.
unsafe impl Send for Run {}

impl Run {
    fn new(c: usize, cfg: Config, threads: usize) -> Run {
        let cell = cfg.row.cell(cfg.n, cfg.batch, cfg.dtype);
        cell.set_threads(threads);
        let mut bufs = Vec::new();
        if cfg.bound {
            let output = cfg.row.outputs.iter().find(|o| **o != "mask");
            for name in [cfg.row.inputs[0].name].into_iter().chain(output.copied()) {
                let len = cell.len(name);
                let buf = RawBuf::new(&vec![0.0f64; len]);
                // SAFETY: live handle; the buffer holds `len` f64 (room for `len`
                // f32), lives as long as the run, and the cell is freed first.
                let st =
                    unsafe { ngc_cell_bind(cell.ptr, cstr(name).as_ptr(), buf.ptr.cast(), len) };
                assert_eq!(
                    st,
                    NGC_OK,
                    "{}: bind {name}: {}",
                    cfg.row.label,
                    last_error()
                );
                bufs.push(buf);
            }
        }
        Run {
            cell,
            c,
            _bufs: bufs,
            out: Vec::new(),
        }
    }

    /// One step: new inputs, advance, record the state; a reset every 7th step.
    fn step(&mut self, t: usize) {
        if t % 7 == 6 {
            // SAFETY: live handle used by this thread only.
            assert_eq!(unsafe { ngc_cell_reset(self.cell.ptr) }, NGC_OK);
        }
        self.cell.set_random_inputs((self.c * 1000 + t) as u64);
        self.cell.advance(t as f64, 1.0);
        if t % 3 == 2 {
            self.cell.evolve(t as f64, 1.0);
        }
        for bits in self.cell.snapshot() {
            self.out.push(fold(bits.into_iter()));
        }
    }
}

/// An order-sensitive fingerprint of a sequence of bit patterns.
fn fold(bits: impl Iterator<Item = u64>) -> u64 {
    bits.fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ b).wrapping_mul(0x0000_0100_0000_01B3).rotate_left(7)
    })
}

const STEPS: usize = 12;

#[test]
fn many_cells_on_several_threads_give_exactly_the_serial_results() {
    let cfgs = configs();
    // Serial: this thread, one cell after another, each with one thread.
    let serial: Vec<Vec<u64>> = cfgs
        .iter()
        .enumerate()
        .map(|(c, cfg)| {
            let mut r = Run::new(c, *cfg, 1);
            for t in 0..STEPS {
                r.step(t);
            }
            std::mem::take(&mut r.out)
        })
        .collect();

    // Concurrent: 4 threads take cells from a shared queue step by step, so every
    // cell is advanced at the same time as others and moves between threads.
    let threads = 4;
    let queue: Arc<Mutex<Vec<(Run, usize)>>> = Arc::new(Mutex::new(
        cfgs.iter()
            .enumerate()
            .map(|(c, cfg)| (Run::new(c, *cfg, cfg.threads), 0))
            .collect(),
    ));
    let done: Arc<Mutex<Vec<Run>>> = Arc::new(Mutex::new(Vec::new()));
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (queue, done, start) = (queue.clone(), done.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                loop {
                    let job = queue.lock().unwrap().pop();
                    let Some((mut run, t)) = job else { break };
                    run.step(t);
                    if t + 1 == STEPS {
                        done.lock().unwrap().push(run);
                    } else {
                        queue.lock().unwrap().insert(0, (run, t + 1));
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut done = std::mem::take(&mut *done.lock().unwrap());
    done.sort_by_key(|r| r.c);
    assert_eq!(done.len(), cfgs.len());
    for (r, want) in done.iter().zip(&serial) {
        assert_eq!(
            &r.out, want,
            "cell {} ({}) differs from its serial run",
            r.c, cfgs[r.c].row.label
        );
    }
}

#[test]
fn one_threads_last_error_is_not_clobbered_by_another() {
    let threads = 6;
    let rounds = 2_000;
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|id| {
            let start = start.clone();
            std::thread::spawn(move || {
                // Each thread a cell of another row, in turn.
                let row = &FAMILY[id % FAMILY.len()];
                let c = row.cell(2, 1, DTYPES[id % 2]);
                start.wait();
                for i in 0..rounds {
                    let name = cstr(&format!("thread{id}-round{i}"));
                    let mut n = 0usize;
                    // SAFETY: live handle owned by this thread.
                    let st = unsafe { ngc_cell_compartment_len(c.ptr, name.as_ptr(), &mut n) };
                    assert_eq!(st, NGC_ERR_UNKNOWN_COMPARTMENT);
                    // Successful calls on this thread keep the message too.
                    c.advance(0.0, 1.0);
                    std::thread::yield_now();
                    let msg = last_error();
                    assert!(
                        msg.contains(&format!("'thread{id}-round{i}'")),
                        "thread {id} ({}) round {i} reads another message: {msg}",
                        row.label
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
