//! The engine of the error cells: one element-wise formula per cell type, run
//! over the arrays in fixed-width chunks, with the modulator, the eaten mask
//! and the block sums of the loss handled once for all of them.
//!
//! An error cell compares a prediction with a target, element by element
//! (ngc-learn's Bernoulli, Gaussian and Laplacian error cells):
//!
//! ```text
//! (d, dt, term) = K::element(pred, pre(pred), target, param)
//! d_pred        = (d  * modulator) * mask
//! d_target      = (dt * modulator) * mask
//! mask          = mask * 0 + 1                       ("eaten": it applies to one step)
//! sum           = Σ term   (f64, per SUM_BLOCK block, blocks added in order by the cell)
//! ```
//!
//! A modulator or mask that holds ones everywhere (the cell knows: see
//! `Slot::Rest`) is passed as `None`: it is then neither read, multiplied nor
//! (the mask) rewritten, which saves 12 of a step's 28 bytes per f32 element
//! and changes no bit (`x * 1 == x`, NaN, infinities and -0 included).
//!
//! `param` is the cell's parameter (Gaussian `Sigma`, or its reciprocal) for
//! each element, either one value for all or a full-length array ([`Param`]).
//! `pre` is a first half of the element that is worth computing one chunk
//! ahead ([`ErrorKernel::PIPELINE`]: Bernoulli's sigmoid, whose long
//! dependency chain then overlaps the previous chunk's logs).
//!
//! `early` is the start of the element that is worth running for every lane
//! of a chunk before the rest of any lane ([`ErrorKernel::EARLY`] values per
//! lane, through a small array on the stack): the divisions of Bernoulli's logs and
//! `g`, and what they need. Where the divider is slow beside the multiply-add units
//! (AVX2 on Zen 3: 4.5 cycles per 4-lane `vdivpd`), divisions spread among
//! the long dependent chains of the logs stall them; run back to back in
//! their own short pass they do not (f64 probability mode 20-25% faster there,
//! `docs/benchmarks.md`). The same operations in another order: the same numbers
//! (only the sign of a NaN may differ).
//!
//! The per-block sum adds lane `l` of each chunk into accumulator `l`, then
//! the accumulators in a fixed pairwise order. Blocks never straddle a range,
//! so the sums are bit-identical for any thread count.

use super::kernel::{Kernel, Plain, Sink, LANES};
use super::real::{fma, Real};
use super::workspace::{Blocks, SUM_BLOCK};

/// One error cell's element formula.
pub trait ErrorKernel: Copy + Send + Sync + 'static {
    /// Compute [`pre`](Self::pre) one chunk ahead of the rest of the element.
    const PIPELINE: bool = false;

    /// How many of [`early`](Self::early)'s values the kernel uses (at most
    /// [`EARLY_MAX`]); 0: there is no early pass.
    const EARLY: usize = 0;

    /// The first part of an element, from the prediction alone.
    #[inline(always)]
    fn pre<T: Real, const F: bool>(&self, pred: T) -> T {
        pred
    }

    /// The start of an element that is worth running for every lane of a
    /// chunk before the rest of any lane: its divisions and what they need.
    /// Each lane's values reach [`element`](Self::element) (the first
    /// [`EARLY`](Self::EARLY) of them; the others are zero).
    #[inline(always)]
    fn early<T: Real, const F: bool>(
        &self,
        _pred: T,
        _pre: T,
        _target: T,
        _param: T,
    ) -> [T; EARLY_MAX] {
        [T::ZERO; EARLY_MAX]
    }

    /// `(d, dt, term)` for one element: the derivatives with respect to the
    /// prediction and the target (before modulator and mask), and the
    /// element's term of the summed loss.
    fn element<T: Real, const F: bool>(
        &self,
        pred: T,
        pre: T,
        early: [T; EARLY_MAX],
        target: T,
        param: T,
    ) -> (T, T, T);
}

/// The most values [`ErrorKernel::early`] gives per element.
pub const EARLY_MAX: usize = 8;

/// The parameter of each element.
#[derive(Clone, Copy, Debug)]
pub enum Param<'a, T> {
    /// The same value for every element.
    All(T),
    /// One value per element.
    Each(&'a [T]),
}

/// The arrays one call of an error kernel reads and writes, all of one length
/// (a whole number of [`SUM_BLOCK`] blocks, except at the end of the arrays),
/// and one partial sum per block.
#[derive(Debug)]
pub struct ErrorIo<'a, T> {
    /// The prediction (`p`, `mu`, `shift`).
    pub pred: &'a [T],
    /// `target`.
    pub target: &'a [T],
    /// The parameter.
    pub param: Param<'a, T>,
    /// `modulator`; `None` when it holds its rest value (ones) everywhere:
    /// it is then not read (`x * 1` is `x` exactly, NaN, infinities and -0 included).
    pub modulator: Option<&'a [T]>,
    /// `mask` (read, then reset to ones); `None` when it holds ones
    /// everywhere: it is then neither read nor rewritten.
    pub mask: Option<&'a mut [T]>,
    /// The derivative with respect to the prediction (written).
    pub d_pred: &'a mut [T],
    /// `dtarget` (written).
    pub d_target: &'a mut [T],
    /// The partial sum of the terms of each block (`ceil(len / SUM_BLOCK)` entries).
    pub partials: &'a mut [f64],
}

impl<T: Real> Blocks for ErrorIo<'_, T> {
    fn len(&self) -> usize {
        self.pred.len()
    }

    fn split_at(self, mid: usize) -> (Self, Self) {
        let (p0, p1) = self.pred.split_at(mid);
        let (x0, x1) = self.target.split_at(mid);
        let (s0, s1) = match self.param {
            Param::All(v) => (Param::All(v), Param::All(v)),
            Param::Each(s) => {
                let (a, b) = s.split_at(mid);
                (Param::Each(a), Param::Each(b))
            }
        };
        let (m0, m1) = match self.modulator {
            Some(m) => {
                let (a, b) = m.split_at(mid);
                (Some(a), Some(b))
            }
            None => (None, None),
        };
        let (k0, k1) = match self.mask {
            Some(k) => {
                let (a, b) = k.split_at_mut(mid);
                (Some(a), Some(b))
            }
            None => (None, None),
        };
        let (d0, d1) = self.d_pred.split_at_mut(mid);
        let (t0, t1) = self.d_target.split_at_mut(mid);
        let (q0, q1) = self.partials.split_at_mut(mid / SUM_BLOCK);
        (
            ErrorIo {
                pred: p0,
                target: x0,
                param: s0,
                modulator: m0,
                mask: k0,
                d_pred: d0,
                d_target: t0,
                partials: q0,
            },
            ErrorIo {
                pred: p1,
                target: x1,
                param: s1,
                modulator: m1,
                mask: k1,
                d_pred: d1,
                d_target: t1,
                partials: q1,
            },
        )
    }
}

/// An [`ErrorKernel`] as a [`Kernel`] the platforms compile.
#[derive(Clone, Copy, Debug)]
pub struct Elementwise<K>(pub K);

impl<K: ErrorKernel> Kernel for Elementwise<K> {
    type Io<'a, T: Real> = ErrorIo<'a, T>;

    #[inline(always)]
    fn run<T: Real, const F: bool, S: Sink>(&self, io: ErrorIo<'_, T>) {
        run_range::<K, T, LANES, F, S>(&self.0, io)
    }
}

/// `pre` of one chunk.
#[inline(always)]
fn pre_chunk<K: ErrorKernel, T: Real, const W: usize, const F: bool>(k: &K, p: &[T; W]) -> [T; W] {
    let mut s = [T::ZERO; W];
    for l in 0..W {
        s[l] = k.pre::<T, F>(p[l]);
    }
    s
}

/// The chunk's parameters.
#[inline(always)]
fn param_chunk<T: Real, const W: usize>(param: &Param<'_, T>, at: usize) -> [T; W] {
    match param {
        Param::All(v) => [*v; W],
        Param::Each(s) => s[at..at + W].try_into().unwrap(),
    }
}

/// The slices of one chunk (`W` lanes) of a block.
struct Chunk<'c, T, const W: usize> {
    pred: &'c [T; W],
    pre: &'c [T; W],
    target: &'c [T; W],
    param: &'c [T; W],
    modulator: Option<&'c [T; W]>,
    mask: Option<&'c mut [T; W]>,
    d_pred: &'c mut [T; W],
    d_target: &'c mut [T; W],
}

/// One chunk of `W` lanes, adding each lane's term to `acc` (only the first
/// `live` lanes: the others are padding). `MOD`/`MASK`: the modulator / mask
/// is given (else it holds ones: not read, not multiplied, not rewritten).
#[inline(always)]
fn chunk<
    K: ErrorKernel,
    T: Real,
    const W: usize,
    const F: bool,
    S: Sink,
    const MOD: bool,
    const MASK: bool,
>(
    k: &K,
    c: Chunk<'_, T, W>,
    acc: &mut [f64; W],
    live: usize,
) {
    let m: [T; W] = match (MOD, c.modulator) {
        (true, Some(m)) => *m,
        _ => [T::ONE; W],
    };
    let mask = c.mask;
    let km: [T; W] = match (MASK, mask.as_deref()) {
        (true, Some(k)) => *k,
        _ => [T::ONE; W],
    };
    let mut terms = [T::ZERO; W];
    let (mut dpo, mut dto, mut ko) = ([T::ZERO; W], [T::ZERO; W], [T::ZERO; W]);
    // The early pass: its own loop over the chunk, so that its divisions run
    // back to back instead of between the long dependent chains of the rest.
    let mut early = [[T::ZERO; W]; EARLY_MAX];
    if K::EARLY > 0 {
        for l in 0..W {
            let e = k.early::<T, F>(c.pred[l], c.pre[l], c.target[l], c.param[l]);
            for (slot, v) in early.iter_mut().zip(e).take(K::EARLY) {
                slot[l] = v;
            }
        }
    }
    for l in 0..W {
        let e = std::array::from_fn(|j| early[j][l]);
        let (d, dt, term) = k.element::<T, F>(c.pred[l], c.pre[l], e, c.target[l], c.param[l]);
        let (mut d, mut dt) = (d, dt);
        if MOD {
            d = d * m[l];
            dt = dt * m[l];
        }
        if MASK {
            d = d * km[l];
            dt = dt * km[l];
            ko[l] = fma::<T, F>(km[l], T::ZERO, T::ONE);
        }
        dpo[l] = d;
        dto[l] = dt;
        terms[l] = term;
    }
    S::put(c.d_pred, &dpo);
    S::put(c.d_target, &dto);
    if MASK {
        // `mask` was just read, so its lines are in cache: ordinary stores.
        if let Some(k) = mask {
            *k = ko;
        }
    }
    // A separate loop: mixing f64 into the loop above would make the
    // vectoriser use as few lanes for the f32 math as for the f64 sums.
    // The terms go through memory (`black_box`) for the same reason: where the
    // loop above is short (Gaussian with modulator and mask at rest), LLVM
    // unrolls both loops fully and the SLP vectoriser then builds the f32
    // math in the f64 sums' 2-lane groups, with shuffles (3x slower in cache;
    // the stored and reloaded terms cost one vector store and two loads).
    let terms = std::hint::black_box(terms);
    for l in 0..W {
        // -0.0 is the identity of `+` (0.0 is not, for -0.0).
        acc[l] += if l < live { terms[l].to_f64() } else { -0.0 };
    }
}

/// The sum of one block's lane accumulators, in a fixed (pairwise) order.
#[inline(always)]
fn reduce<const W: usize>(acc: &[f64; W]) -> f64 {
    let mut v = *acc;
    let mut w = W;
    while w > 1 {
        w /= 2;
        for i in 0..w {
            v[i] += v[i + w];
        }
    }
    v[0]
}

/// One block (at most [`SUM_BLOCK`] elements); returns the sum of its terms.
#[inline(always)]
fn block<
    K: ErrorKernel,
    T: Real,
    const W: usize,
    const F: bool,
    S: Sink,
    const MOD: bool,
    const MASK: bool,
>(
    k: &K,
    io: ErrorIo<'_, T>,
) -> f64 {
    let n = io.pred.len();
    let (p, x) = (io.pred, &io.target[..n]);
    let m: &[T] = io.modulator.map_or(&[], |m| &m[..n]);
    let mut no_mask: [T; 0] = [];
    let mask: &mut [T] = match io.mask {
        Some(k) => &mut k[..n],
        None => &mut no_mask,
    };
    let (dp, dt) = (&mut io.d_pred[..n], &mut io.d_target[..n]);
    let param = match io.param {
        Param::All(v) => Param::All(v),
        Param::Each(s) => Param::Each(&s[..n]),
    };
    let mut acc = [0.0f64; W];
    let full = n - n % W;
    if full > 0 {
        // Software-pipelined when K asks for it: the `pre` values of chunk
        // i + 1 are computed in iteration i, independent of its other work.
        let mut s = pre_chunk::<K, T, W, F>(k, p[..W].try_into().unwrap());
        let mut i = 0;
        loop {
            let j = i + W;
            let pc: &[T; W] = p[i..j].try_into().unwrap();
            let next = if !K::PIPELINE {
                [T::ONE; W]
            } else if j < full {
                pre_chunk::<K, T, W, F>(k, p[j..j + W].try_into().unwrap())
            } else {
                [T::ONE; W]
            };
            let pre = if K::PIPELINE {
                s
            } else {
                pre_chunk::<K, T, W, F>(k, pc)
            };
            let pa = param_chunk::<T, W>(&param, i);
            chunk::<K, T, W, F, S, MOD, MASK>(
                k,
                Chunk {
                    pred: pc,
                    pre: &pre,
                    target: x[i..j].try_into().unwrap(),
                    param: &pa,
                    modulator: if MOD {
                        Some(m[i..j].try_into().unwrap())
                    } else {
                        None
                    },
                    mask: if MASK {
                        Some((&mut mask[i..j]).try_into().unwrap())
                    } else {
                        None
                    },
                    d_pred: (&mut dp[i..j]).try_into().unwrap(),
                    d_target: (&mut dt[i..j]).try_into().unwrap(),
                },
                &mut acc,
                W,
            );
            s = next;
            i = j;
            if i >= full {
                break;
            }
        }
    }
    let live = n - full;
    if live > 0 {
        // The tail through the same code, padded with harmless values.
        let mut pp = [T::ZERO; W];
        let mut xx = [T::ZERO; W];
        let mut aa = [T::ONE; W];
        let mut mm = [T::ONE; W];
        let mut kk = [T::ONE; W];
        let mut dd = [T::ZERO; W];
        let mut tt = [T::ZERO; W];
        pp[..live].copy_from_slice(&p[full..]);
        xx[..live].copy_from_slice(&x[full..]);
        match param {
            Param::All(v) => aa = [v; W],
            Param::Each(s) => aa[..live].copy_from_slice(&s[full..]),
        }
        if MOD {
            mm[..live].copy_from_slice(&m[full..]);
        }
        if MASK {
            kk[..live].copy_from_slice(&mask[full..]);
        }
        let ss = pre_chunk::<K, T, W, F>(k, &pp);
        chunk::<K, T, W, F, Plain, MOD, MASK>(
            k,
            Chunk {
                pred: &pp,
                pre: &ss,
                target: &xx,
                param: &aa,
                modulator: if MOD { Some(&mm) } else { None },
                mask: if MASK { Some(&mut kk) } else { None },
                d_pred: &mut dd,
                d_target: &mut tt,
            },
            &mut acc,
            live,
        );
        dp[full..].copy_from_slice(&dd[..live]);
        dt[full..].copy_from_slice(&tt[..live]);
        if MASK {
            mask[full..].copy_from_slice(&kk[..live]);
        }
    }
    reduce(&acc)
}

/// The kernel over a range of whole blocks (the last one may be short).
#[inline(always)]
pub fn run_range<K: ErrorKernel, T: Real, const W: usize, const F: bool, S: Sink>(
    k: &K,
    io: ErrorIo<'_, T>,
) {
    let mut rest = io;
    loop {
        let n = rest.pred.len();
        if n == 0 {
            break;
        }
        let (mut head, tail) = if n > SUM_BLOCK {
            rest.split_at(SUM_BLOCK)
        } else {
            let empty = ErrorIo {
                pred: &[],
                target: &[],
                param: rest.param,
                modulator: None,
                mask: None,
                d_pred: &mut [],
                d_target: &mut [],
                partials: &mut [],
            };
            (rest, empty)
        };
        let partials = std::mem::take(&mut head.partials);
        let sum = match (head.modulator.is_some(), head.mask.is_some()) {
            (true, true) => block::<K, T, W, F, S, true, true>(k, head),
            (true, false) => block::<K, T, W, F, S, true, false>(k, head),
            (false, true) => block::<K, T, W, F, S, false, true>(k, head),
            (false, false) => block::<K, T, W, F, S, false, false>(k, head),
        };
        if let Some(s) = partials.first_mut() {
            *s = sum;
        }
        rest = tail;
    }
    S::finish();
}

/// Runs error kernel `k` over a cell's arrays on the workspace's threads and
/// returns the sum of the terms (in `f64`, blocks added in order). All slices
/// have one length, and `param`'s too when it is [`Param::Each`]. `modulator`
/// and `mask` are `None` when they hold ones everywhere
/// ([`Slot::unless_rest`](super::spec::Slot::unless_rest)): the results are
/// then the same bits, and the arrays are neither read nor written.
#[allow(clippy::too_many_arguments)]
pub fn run<K: ErrorKernel, T: Real, P: super::platform::Platform>(
    k: K,
    ws: &mut super::workspace::Workspace<P>,
    pred: &[T],
    target: &[T],
    param: Param<'_, T>,
    modulator: Option<&[T]>,
    mask: Option<&mut [T]>,
    d_pred: &mut [T],
    d_target: &mut [T],
) -> Result<f64, super::error::CellError> {
    let n = pred.len();
    let (partials, runner) = ws.parts(super::workspace::blocks_for(n))?;
    runner.run(
        &Elementwise(k),
        ErrorIo {
            pred,
            target,
            param,
            modulator,
            mask,
            d_pred,
            d_target,
            partials: &mut partials[..],
        },
    );
    // Block order, whatever the thread count.
    Ok(partials.iter().sum())
}
