//! Many cells advanced on several threads at once give exactly the serial results,
//! and one thread's last-error message is never clobbered by another's.

mod common;

use std::ffi::CString;
use std::ptr;
use std::sync::{Arc, Barrier, Mutex};

use common::{cstr, last_error, RawBuf};
use ngc_cells::*;

/// A cell handle that may move between threads (the ABI allows it: one thread at a time).
struct Handle(*mut NgcCell);
// SAFETY: NgcCell is Send; each handle is used by one thread at a time below.
unsafe impl Send for Handle {}

/// A cell configuration of the test set.
#[derive(Clone, Copy)]
struct Config {
    n: usize,
    batch: usize,
    logits: bool,
    f64: bool,
    threads: usize,
    /// Bind `p` and `dp` to caller buffers instead of copying in and out.
    bound: bool,
}

fn configs() -> Vec<Config> {
    let mut v = Vec::new();
    for i in 0..15 {
        v.push(Config {
            n: 1 + (i * 7) % 23,
            batch: 1 + i % 3,
            logits: i % 2 == 0,
            f64: i % 3 == 0,
            threads: 1,
            bound: i % 4 == 1,
        });
    }
    // Large enough for blocked sums and for the cell's own threads (2 x 70,000 elements).
    v.push(Config {
        n: 70_000,
        batch: 2,
        logits: true,
        f64: false,
        threads: 2,
        bound: true,
    });
    v
}

/// An input value for cell `c`, step `t`, element `j`: varied, some at the clip bounds.
fn input(c: usize, t: usize, j: usize) -> f64 {
    let h = (c as u64 * 0x9E37_79B9 + t as u64 * 0x85EB_CA6B + j as u64 * 0xC2B2_AE35) % 10_007;
    (h as f64 / 10_007.0) * 12.0 - 6.0
}

/// One cell and the buffers it owns, run for `steps` steps; returns the bits of
/// `L`, `dp` and `dtarget` after every step.
struct Run {
    cell: Handle,
    cfg: Config,
    c: usize,
    p: RawBuf<f64>,
    p32: RawBuf<f32>,
    dp: RawBuf<f64>,
    dp32: RawBuf<f32>,
    out: Vec<u64>,
}
// SAFETY: the raw buffers belong to this run alone and move with it.
unsafe impl Send for Run {}

impl Run {
    fn new(c: usize, cfg: Config) -> Run {
        let count = cfg.n * cfg.batch;
        let dtype = if cfg.f64 {
            NGC_DTYPE_F64
        } else {
            NGC_DTYPE_F32
        };
        let mut h = ptr::null_mut();
        // SAFETY: valid arguments.
        let st = unsafe {
            ngc_bernoulli_error_cell_new(
                cstr("c").as_ptr(),
                cfg.n,
                cfg.batch,
                cfg.logits,
                ptr::null(),
                dtype,
                &mut h,
            )
        };
        assert_eq!(st, NGC_OK);
        let run = Run {
            cell: Handle(h),
            cfg,
            c,
            p: RawBuf::new(&vec![0.0; if cfg.f64 { count } else { 1 }]),
            p32: RawBuf::new(&vec![0.0; if cfg.f64 { 1 } else { count }]),
            dp: RawBuf::new(&vec![0.0; if cfg.f64 { count } else { 1 }]),
            dp32: RawBuf::new(&vec![0.0; if cfg.f64 { 1 } else { count }]),
            out: Vec::new(),
        };
        // SAFETY: live handle; the buffers live as long as the run, which frees the cell first.
        unsafe {
            assert_eq!(ngc_cell_set_threads(h, cfg.threads), NGC_OK);
            if cfg.bound {
                if cfg.f64 {
                    assert_eq!(
                        ngc_cell_bind_f64(h, c"p".as_ptr(), run.p.ptr, count),
                        NGC_OK
                    );
                    assert_eq!(
                        ngc_cell_bind_f64(h, c"dp".as_ptr(), run.dp.ptr, count),
                        NGC_OK
                    );
                } else {
                    assert_eq!(
                        ngc_cell_bind_f32(h, c"p".as_ptr(), run.p32.ptr, count),
                        NGC_OK
                    );
                    assert_eq!(
                        ngc_cell_bind_f32(h, c"dp".as_ptr(), run.dp32.ptr, count),
                        NGC_OK
                    );
                }
            }
        }
        run
    }

    /// One step: new inputs, advance, record the outputs; a reset every 7th step.
    fn step(&mut self, t: usize) {
        let h = self.cell.0;
        let count = self.cfg.n * self.cfg.batch;
        let p: Vec<f64> = (0..count).map(|j| input(self.c, t, j)).collect();
        let x: Vec<f64> = (0..count)
            .map(|j| f64::from(input(self.c, t + 1000, j) > 0.0))
            .collect();
        // SAFETY: live handle used by this thread only; buffers hold `count` elements.
        unsafe {
            if t % 7 == 6 {
                assert_eq!(ngc_cell_reset(h), NGC_OK);
            }
            if self.cfg.f64 {
                if self.cfg.bound {
                    for (j, v) in p.iter().enumerate() {
                        self.p.set(j, *v);
                    }
                } else {
                    assert_eq!(
                        ngc_cell_set_f64(h, c"p".as_ptr(), p.as_ptr(), count),
                        NGC_OK
                    );
                }
                assert_eq!(
                    ngc_cell_set_f64(h, c"target".as_ptr(), x.as_ptr(), count),
                    NGC_OK
                );
            } else {
                let p32: Vec<f32> = p.iter().map(|&v| v as f32).collect();
                let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                if self.cfg.bound {
                    for (j, v) in p32.iter().enumerate() {
                        self.p32.set(j, *v);
                    }
                } else {
                    assert_eq!(
                        ngc_cell_set_f32(h, c"p".as_ptr(), p32.as_ptr(), count),
                        NGC_OK
                    );
                }
                assert_eq!(
                    ngc_cell_set_f32(h, c"target".as_ptr(), x32.as_ptr(), count),
                    NGC_OK
                );
            }
            assert_eq!(ngc_cell_advance(h, t as f64, 1.0), NGC_OK);
            let mut l = 0.0;
            assert_eq!(ngc_cell_loss(h, &mut l), NGC_OK);
            self.out.push(l.to_bits());
            for name in [c"dp", c"dtarget"] {
                if self.cfg.f64 {
                    let mut v = vec![0f64; count];
                    assert_eq!(
                        ngc_cell_get_f64(h, name.as_ptr(), v.as_mut_ptr(), count),
                        NGC_OK
                    );
                    self.out.push(fold(v.iter().map(|x| x.to_bits())));
                } else {
                    let mut v = vec![0f32; count];
                    assert_eq!(
                        ngc_cell_get_f32(h, name.as_ptr(), v.as_mut_ptr(), count),
                        NGC_OK
                    );
                    self.out
                        .push(fold(v.iter().map(|x| u64::from(x.to_bits()))));
                }
            }
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // SAFETY: a live handle owned by this run; freed before its buffers.
        unsafe { ngc_cell_free(self.cell.0) };
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
    // Serial: one thread, one cell after another.
    let serial: Vec<Vec<u64>> = cfgs
        .iter()
        .enumerate()
        .map(|(c, cfg)| {
            let mut r = Run::new(c, *cfg);
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
            .map(|(c, cfg)| (Run::new(c, *cfg), 0))
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
        assert_eq!(&r.out, want, "cell {} differs from its serial run", r.c);
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
                let mut h = ptr::null_mut();
                // SAFETY: valid arguments.
                let st = unsafe {
                    ngc_bernoulli_error_cell_new(
                        cstr("t").as_ptr(),
                        2,
                        1,
                        false,
                        ptr::null(),
                        NGC_DTYPE_F32,
                        &mut h,
                    )
                };
                assert_eq!(st, NGC_OK);
                start.wait();
                for i in 0..rounds {
                    let name: CString = cstr(&format!("thread{id}-round{i}"));
                    let mut n = 0usize;
                    // SAFETY: live handle owned by this thread.
                    let st = unsafe { ngc_cell_compartment_len(h, name.as_ptr(), &mut n) };
                    assert_eq!(st, NGC_ERR_UNKNOWN_COMPARTMENT);
                    // Successful calls on this thread keep the message too.
                    // SAFETY: as above.
                    assert_eq!(unsafe { ngc_cell_advance(h, 0.0, 1.0) }, NGC_OK);
                    std::thread::yield_now();
                    let msg = last_error();
                    assert!(
                        msg.contains(&format!("'thread{id}-round{i}'")),
                        "thread {id} round {i} reads another message: {msg}"
                    );
                }
                // SAFETY: live handle owned by this thread.
                unsafe { ngc_cell_free(h) };
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
