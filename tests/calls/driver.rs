//! The executor of the call language: draws a call, predicts its status and
//! effects from the cell's model, makes it, and checks everything observable.

use std::collections::VecDeque;
use std::ffi::{c_char, c_void, CStr, CString};
use std::fmt::Write as _;
use std::ptr;

use ngc_cells::*;

use super::model::{broadcasts, count, CellModel, Computed, Extent, Kind, NewArgs, Role, State};
use super::{Entropy, Stats, R};

const ARENA_LEN: usize = 64;
const MAX_CELLS: usize = 5;

/// One caller buffer: real memory the library sees, and the model's copy.
struct Arena {
    f64: bool,
    mem: *mut u8,
    shadow: Vec<f64>,
    /// The real bytes when the buffer last matched its shadow; while the shadow is
    /// unchanged since (`dirty` false), one comparison with it checks every byte.
    image: Vec<u8>,
    dirty: bool,
}

impl Arena {
    fn new(f64: bool, seed: usize) -> Arena {
        let init: Vec<f64> = (0..ARENA_LEN)
            .map(|i| ((i * 37 + seed * 11) % 17) as f64 * 0.125 - 1.0)
            .collect();
        let mem = if f64 {
            Box::into_raw(init.clone().into_boxed_slice()).cast::<u8>()
        } else {
            let v: Vec<f32> = init.iter().map(|&x| x as f32).collect();
            Box::into_raw(v.into_boxed_slice()).cast::<u8>()
        };
        let mut a = Arena {
            f64,
            mem,
            shadow: init,
            image: Vec::new(),
            dirty: false,
        };
        a.image = a.bytes().to_vec();
        a
    }
    /// The real memory, as bytes.
    fn bytes(&self) -> &[u8] {
        // SAFETY: ARENA_LEN elements of `elem` bytes, live; the library is not running.
        unsafe { std::slice::from_raw_parts(self.mem, ARENA_LEN * self.elem()) }
    }
    /// The model's copy, changed by `f`.
    fn shadow_mut(&mut self) -> &mut [f64] {
        self.dirty = true;
        &mut self.shadow
    }
    fn elem(&self) -> usize {
        if self.f64 {
            8
        } else {
            4
        }
    }
    fn at(&self, i: usize) -> *mut u8 {
        self.mem.wrapping_add(i * self.elem())
    }
    fn real(&self, i: usize) -> f64 {
        assert!(i < ARENA_LEN);
        // SAFETY: in bounds; the library is not running.
        unsafe {
            if self.f64 {
                self.mem.cast::<f64>().add(i).read()
            } else {
                f64::from(self.mem.cast::<f32>().add(i).read())
            }
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: made by Box::into_raw of a boxed slice of ARENA_LEN elements.
        unsafe {
            if self.f64 {
                drop(Box::from_raw(ptr::slice_from_raw_parts_mut(
                    self.mem.cast::<f64>(),
                    ARENA_LEN,
                )));
            } else {
                drop(Box::from_raw(ptr::slice_from_raw_parts_mut(
                    self.mem.cast::<f32>(),
                    ARENA_LEN,
                )));
            }
        }
    }
}

/// Where a compartment's values live.
#[derive(Clone, Debug)]
enum Comp {
    Owned(Vec<f64>),
    Bound {
        arena: usize,
        off: usize,
        cap: usize,
    },
}

/// The model of one live cell: its handle, its type's model, its shapes, and
/// where each compartment's values are.
struct MCell {
    h: *mut NgcCell,
    label: &'static str,
    model: Box<dyn CellModel>,
    /// Shapes; `st.vals` is filled only while a model hook runs.
    st: State,
    comps: Vec<Comp>,
    threads: usize,
}

impl MCell {
    fn count(&self, i: usize) -> usize {
        count(&self.st.dims[i])
    }
    fn n(&self) -> usize {
        self.comps.len()
    }
    fn name(&self, i: usize) -> &'static CStr {
        self.model.comps()[i].name
    }
    fn read(&self, arenas: &[Arena], i: usize) -> Vec<f64> {
        match &self.comps[i] {
            Comp::Owned(v) => v.clone(),
            Comp::Bound { arena, off, .. } => {
                arenas[*arena].shadow[*off..*off + self.count(i)].to_vec()
            }
        }
    }
    fn write(&mut self, arenas: &mut [Arena], i: usize, vals: &[f64]) {
        assert_eq!(vals.len(), self.count(i));
        match &mut self.comps[i] {
            Comp::Owned(v) => *v = vals.to_vec(),
            Comp::Bound { arena, off, .. } => {
                arenas[*arena].shadow_mut()[*off..*off + vals.len()].copy_from_slice(vals)
            }
        }
    }
    /// Fills `st.vals` for a model hook.
    fn load(&mut self, arenas: &[Arena]) {
        self.st.vals = (0..self.n()).map(|i| self.read(arenas, i)).collect();
    }
    /// Writes `st.vals` back (after a hook changed values and maybe dims).
    fn store(&mut self, arenas: &mut [Arena]) {
        let vals = std::mem::take(&mut self.st.vals);
        for (i, v) in vals.iter().enumerate() {
            self.write(arenas, i, v);
        }
    }
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[derive(Clone, Copy, Debug)]
enum H {
    Live(usize),
    Null,
    NotACell,
    Misaligned(usize),
}

#[derive(Clone, Copy, Debug)]
enum N {
    /// Compartment `i` of the cell (of the first live cell, or of kind 0, when the
    /// handle is not live).
    Good(usize),
    Unknown,
    /// A real name with its letters' case swapped.
    WrongCase(usize),
    NonUtf8,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Variant {
    Untyped,
    F32,
    F64,
}

/// Where a pointer argument points.
#[derive(Clone, Copy, Debug)]
enum Mem {
    Null,
    Misaligned,
    Arena { arena: usize, off: usize },
    Fresh,
}

pub struct Driver {
    label: String,
    kinds: Vec<Kind>,
    cells: Vec<MCell>,
    arenas: Vec<Arena>,
    not_a_cell: *mut u64,
    trace: VecDeque<String>,
    /// Whether calls are recorded in `trace` (printed on a failure).
    tracing: bool,
    /// [`super::nan_compares_misjudged`]: a computed value the model says is
    /// NaN is then not compared (see `check_cell`).
    nan_misjudged: bool,
    pub stats: Stats,
}

impl Drop for Driver {
    fn drop(&mut self) {
        for c in self.cells.drain(..) {
            // SAFETY: a live handle the driver owns.
            unsafe { ngc_cell_free(c.h) };
        }
        // SAFETY: made by Box::into_raw of a boxed [u64; 64].
        drop(unsafe { Box::from_raw(self.not_a_cell.cast::<[u64; 64]>()) });
        // Arenas drop after the cells that may have bound them.
    }
}

fn status_name(st: NgcStatus) -> String {
    // SAFETY: static string.
    unsafe { CStr::from_ptr(ngc_status_str(st)) }
        .to_string_lossy()
        .into_owned()
}

fn last_error() -> String {
    let mut buf = [0 as c_char; 1100];
    // SAFETY: buf is writable for its length.
    unsafe { ngc_last_error_message(buf.as_mut_ptr(), buf.len()) };
    // SAFETY: NUL-terminated by the call.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// The thread's last-error message, as bytes (read without allocating: every
/// call reads it twice).
struct Msg {
    buf: [u8; 1100],
    len: usize,
}

impl Msg {
    fn now() -> Msg {
        let mut m = Msg {
            buf: [0; 1100],
            len: 0,
        };
        // SAFETY: buf is writable for its length.
        let n = unsafe { ngc_last_error_message(m.buf.as_mut_ptr().cast(), m.buf.len()) };
        m.len = n.min(m.buf.len() - 1);
        m
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }
}

/// Records a call in the trace when tracing is on (formatting costs more than the
/// call: a seeded run traces only when it replays a failure).
macro_rules! log {
    ($d:expr, $($arg:tt)*) => {
        if $d.tracing {
            let line = format!($($arg)*);
            $d.log(line);
        }
    };
}

/// An impossible allocation (far past any machine) that still passes the size checks.
const HUGE_BYTES: usize = 1 << 50;

/// Whether `count` elements of 8 bytes fit the address space (the size check
/// every constructor, bind and reset makes).
fn too_big(count: Option<usize>) -> bool {
    count.is_none_or(|c| c.checked_mul(8).is_none_or(|b| b > isize::MAX as usize))
}

impl Driver {
    pub fn new(label: &str, kinds: &[Kind]) -> Driver {
        assert!(!kinds.is_empty());
        Driver {
            label: label.to_string(),
            kinds: kinds.to_vec(),
            cells: Vec::new(),
            arenas: (0..4).map(|i| Arena::new(i >= 2, i)).collect(),
            not_a_cell: Box::into_raw(Box::new([0u64; 64])).cast::<u64>(),
            trace: VecDeque::new(),
            tracing: true,
            nan_misjudged: super::nan_compares_misjudged(),
            stats: Stats::default(),
        }
    }

    /// Turns the trace of the last 40 calls off (a failure then says so) or on.
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    fn fail(&self, what: &str) -> ! {
        let mut t = String::new();
        for line in &self.trace {
            let _ = writeln!(t, "  {line}");
        }
        if !self.tracing {
            t.push_str("  (not traced)\n");
        }
        panic!(
            "{}: call #{}: {what}\nlast calls (newest last):\n{t}",
            self.label, self.stats.calls
        );
    }

    fn log(&mut self, s: String) {
        if self.trace.len() == 40 {
            self.trace.pop_front();
        }
        self.trace.push_back(s);
    }

    /// Makes one random call and checks it. `false`: the entropy ran out.
    pub fn step(&mut self, e: &mut dyn Entropy) -> bool {
        let mut r = R { e };
        self.step_inner(&mut r).is_some()
    }

    fn step_inner(&mut self, r: &mut R) -> Option<()> {
        let k = r.below(100)?;
        if self.cells.is_empty() && k >= 8 {
            return self.op_create(r);
        }
        match k {
            0..=7 => {
                if self.cells.len() >= MAX_CELLS {
                    self.op_free(r)
                } else {
                    self.op_create(r)
                }
            }
            8..=11 => self.op_free(r),
            12..=31 => self.op_bind(r),
            32..=38 => self.op_unbind(r),
            39..=51 => self.op_set(r),
            52..=60 => self.op_get(r),
            61..=74 => self.op_advance(r),
            75..=77 => self.op_evolve(r),
            78..=82 => self.op_set_shaped(r),
            83..=85 => self.op_reset(r, false),
            86..=91 => self.op_reset(r, true),
            92..=93 => self.op_threads(r),
            _ => self.op_query(r),
        }
    }

    // ---- argument generators ------------------------------------------------------

    fn gen_handle(&self, r: &mut R) -> Option<H> {
        let slot = r.below(self.cells.len() as u64)? as usize;
        Some(match r.below(100)? {
            0..=1 => H::Null,
            2..=3 => H::NotACell,
            4 if !self.cells.is_empty() => H::Misaligned(slot),
            _ if self.cells.is_empty() => H::Null,
            _ => H::Live(slot),
        })
    }

    fn handle_ptr(&self, h: H) -> *mut NgcCell {
        match h {
            H::Live(s) => self.cells[s].h,
            H::Null => ptr::null_mut(),
            H::NotACell => self.not_a_cell.cast(),
            H::Misaligned(s) => self.cells[s].h.cast::<u8>().wrapping_add(1).cast(),
        }
    }

    fn handle_err(h: H) -> Option<NgcStatus> {
        match h {
            H::Live(_) => None,
            H::Null => Some(NGC_ERR_NULL_POINTER),
            H::NotACell => Some(NGC_ERR_INVALID_HANDLE),
            H::Misaligned(_) => Some(NGC_ERR_MISALIGNED_POINTER),
        }
    }

    /// The compartment table names are drawn from for handle `h`.
    fn names_for(&self, h: H) -> Vec<&'static CStr> {
        match h {
            H::Live(s) | H::Misaligned(s) => {
                self.cells[s].model.comps().iter().map(|c| c.name).collect()
            }
            _ if !self.cells.is_empty() => {
                self.cells[0].model.comps().iter().map(|c| c.name).collect()
            }
            _ => vec![c"p"],
        }
    }

    fn gen_name(&self, r: &mut R, h: H) -> Option<N> {
        let n = self.names_for(h).len() as u64;
        Some(match r.below(100)? {
            0..=2 => N::Unknown,
            3..=4 => N::WrongCase(r.below(n)? as usize),
            5..=6 => N::NonUtf8,
            7..=8 => N::Null,
            _ => N::Good(r.below(n)? as usize),
        })
    }

    /// The name's bytes (`None`: NULL). The pointer passed is into this string.
    fn name_str(&self, h: H, n: N) -> Option<CString> {
        let names = self.names_for(h);
        match n {
            N::Good(i) => Some(names[i].into()),
            N::Unknown => Some(c"nu".into()),
            N::WrongCase(i) => {
                let swapped: Vec<u8> = names[i]
                    .to_bytes()
                    .iter()
                    .map(|b| {
                        if b.is_ascii_lowercase() {
                            b.to_ascii_uppercase()
                        } else {
                            b.to_ascii_lowercase()
                        }
                    })
                    .collect();
                Some(CString::new(swapped).unwrap())
            }
            N::NonUtf8 => Some(c"\xff\xfe".into()),
            N::Null => None,
        }
    }

    fn name_ptr(s: &Option<CString>) -> *const c_char {
        s.as_ref().map_or(ptr::null(), |c| c.as_ptr())
    }

    fn name_err(&self, h: H, n: N) -> Option<NgcStatus> {
        match n {
            N::Good(_) => None,
            N::Unknown => Some(NGC_ERR_UNKNOWN_COMPARTMENT),
            N::WrongCase(i) => {
                let names = self.names_for(h);
                let w = self.name_str(h, n).unwrap();
                // A name whose case swap is another real name would be found.
                assert!(!names.contains(&w.as_c_str()), "{:?}", names[i]);
                Some(NGC_ERR_UNKNOWN_COMPARTMENT)
            }
            N::NonUtf8 => Some(NGC_ERR_INVALID_ARGUMENT),
            N::Null => Some(NGC_ERR_NULL_POINTER),
        }
    }

    /// A typed or untyped variant; mostly one the cell accepts.
    fn gen_variant(&self, r: &mut R, h: H) -> Option<Variant> {
        let cell_f64 = match h {
            H::Live(s) => self.cells[s].st.f64,
            _ => r.pct(50)?,
        };
        Some(match r.below(100)? {
            0..=39 => Variant::Untyped,
            40..=89 => {
                if cell_f64 {
                    Variant::F64
                } else {
                    Variant::F32
                }
            }
            _ => {
                if cell_f64 {
                    Variant::F32
                } else {
                    Variant::F64
                }
            }
        })
    }

    /// Whether the data behind a pointer argument is f64: the variant's type, or the
    /// cell's for an untyped call.
    fn data_f64(&self, h: H, v: Variant) -> bool {
        match v {
            Variant::F32 => false,
            Variant::F64 => true,
            Variant::Untyped => match h {
                H::Live(s) | H::Misaligned(s) => self.cells[s].st.f64,
                _ => false,
            },
        }
    }

    /// Common prefix of every compartment call: handle, name, dtype. `Err(status)`
    /// when one of them is refused; `Ok((slot, idx))` otherwise.
    fn prefix_err(&self, h: H, n: N, v: Variant) -> Result<(usize, usize), NgcStatus> {
        if let Some(st) = Self::handle_err(h) {
            return Err(st);
        }
        if let Some(st) = self.name_err(h, n) {
            return Err(st);
        }
        let (H::Live(s), N::Good(i)) = (h, n) else {
            unreachable!()
        };
        let f64 = self.cells[s].st.f64;
        match v {
            Variant::F32 if f64 => Err(NGC_ERR_DTYPE_MISMATCH),
            Variant::F64 if !f64 => Err(NGC_ERR_DTYPE_MISMATCH),
            _ => Ok((s, i)),
        }
    }

    /// The element count of compartment `n` of cell `h`, or 4 when it has none.
    fn count_of(&self, h: H, n: N) -> usize {
        match (h, n) {
            (H::Live(s), N::Good(i)) => self.cells[s].count(i),
            _ => 4,
        }
    }

    fn gen_mem(r: &mut R, len: usize, arena_pct: u64, f64: bool) -> Option<Mem> {
        let k = r.below(100)?;
        Some(if k < 3 {
            Mem::Null
        } else if k < 6 {
            Mem::Misaligned
        } else if k < 6 + arena_pct && len <= ARENA_LEN {
            let arena = r.below(2)? as usize + if f64 { 2 } else { 0 };
            let off = r.upto(ARENA_LEN - len)?;
            Mem::Arena { arena, off }
        } else {
            Mem::Fresh
        })
    }

    fn gen_value(r: &mut R) -> Option<f64> {
        Some(match r.below(100)? {
            0..=54 => r.below(1 << 20)? as f64 / (1u64 << 20) as f64 * 16.0 - 8.0,
            55..=69 => r.below(1 << 20)? as f64 / (1u64 << 20) as f64,
            70..=79 => r.below(2)? as f64,
            80 => -0.0,
            81 => 0.9999,
            82 => 1e-4,
            83 => 0.99995,
            84 => 1e-5,
            85 => f64::NAN,
            86 => f64::INFINITY,
            87 => f64::NEG_INFINITY,
            88..=91 => 1e3,
            92..=95 => -1e3,
            _ => 100.0,
        })
    }

    /// A misaligned pointer into a caller buffer of the given element type.
    fn misaligned_ptr(&self, f64: bool, by: usize) -> *mut u8 {
        self.arenas[if f64 { 2 } else { 0 }].mem.wrapping_add(by)
    }

    // ---- checks -------------------------------------------------------------------

    /// Checks a returned status against the prediction and the last-error message.
    fn check_status(&mut self, func: &'static str, want: NgcStatus, got: NgcStatus, before: &Msg) {
        self.stats.calls += 1;
        *self.stats.statuses.entry(got).or_default() += 1;
        *self.stats.functions.entry(func).or_default() += 1;
        if got != want {
            self.fail(&format!(
                "{func}: the model predicts {} but the library returned {} ({})",
                status_name(want),
                status_name(got),
                last_error()
            ));
        }
        self.check_message(func, got != NGC_OK, before);
    }

    fn check_message(&self, func: &str, failed: bool, before: &Msg) {
        let msg = Msg::now();
        let b = msg.bytes();
        if failed {
            let named = b.starts_with(func.as_bytes()) && b[func.len()..].starts_with(b": ");
            if !named || b.len() <= func.len() + 2 {
                self.fail(&format!("{func} failed with the message {:?}", msg.text()));
            }
        } else if b != before.bytes() {
            self.fail(&format!(
                "{func} succeeded but changed the message from {:?} to {:?}",
                before.text(),
                msg.text()
            ));
        }
    }

    /// Every caller buffer equals its shadow, bit for bit.
    fn check_arenas(&mut self) {
        for a in 0..self.arenas.len() {
            let arena = &self.arenas[a];
            if !arena.dirty && arena.bytes() == &arena.image[..] {
                continue;
            }
            for i in 0..ARENA_LEN {
                let (real, model) = (arena.real(i), arena.shadow[i]);
                if !same(real, model) {
                    self.fail(&format!(
                        "caller buffer {a} element {i} is {real:e}, the model says {model:e}"
                    ));
                }
            }
            let arena = &mut self.arenas[a];
            arena.image = arena.bytes().to_vec();
            arena.dirty = false;
        }
    }

    /// Compares the library's view of cell `s` with the model: batch size, threads,
    /// every compartment's values, and with `meta` every compartment's length, dims
    /// and whether it is bound (after the calls that may change them, and for every
    /// cell every 97 calls). With `computed`, the compartments it marks may differ
    /// within tolerance and are then adopted; where the model says NaN and this CPU
    /// misjudges compares with a NaN operand ([`super::nan_compares_misjudged`],
    /// valgrind's emulation), they are adopted without comparison and counted.
    fn check_cell(&mut self, s: usize, computed: Option<&Computed>, meta: bool) {
        let h = self.cells[s].h;
        let (mut b, mut t) = (0usize, 0usize);
        // SAFETY: live handle, valid out pointers.
        unsafe {
            assert_eq!(ngc_cell_batch_size(h, &mut b), NGC_OK);
            assert_eq!(ngc_cell_threads(h, &mut t), NGC_OK);
        }
        self.stats.check_calls += 2;
        if b != self.cells[s].st.batch || t != self.cells[s].threads {
            self.fail(&format!(
                "cell {s}: batch {b} threads {t}, the model says {} and {}",
                self.cells[s].st.batch, self.cells[s].threads
            ));
        }
        let rtol = self.cells[s].model.rtol(self.cells[s].st.f64);
        for i in 0..self.cells[s].n() {
            let name = self.cells[s].name(i);
            let n = self.cells[s].count(i);
            let actual: Vec<f64>;
            // SAFETY: live handle; out pointers valid; `get` writes `n` elements.
            unsafe {
                if self.cells[s].st.f64 {
                    let mut v = vec![0f64; n];
                    let st = ngc_cell_get_f64(h, name.as_ptr(), v.as_mut_ptr(), n);
                    assert_eq!(st, NGC_OK, "{}", last_error());
                    actual = v;
                } else {
                    let mut v = vec![0f32; n];
                    let st = ngc_cell_get_f32(h, name.as_ptr(), v.as_mut_ptr(), n);
                    assert_eq!(st, NGC_OK, "{}", last_error());
                    actual = v.into_iter().map(f64::from).collect();
                }
            }
            self.stats.check_calls += 1;
            if meta {
                self.check_meta(s, i);
            }
            let expected = self.cells[s].read(&self.arenas, i);
            let tol = computed.and_then(|c| c[i].as_ref());
            let mut adopt = false;
            for (j, (&e, &a)) in expected.iter().zip(&actual).enumerate() {
                if same(e, a) {
                    continue;
                }
                if let Some(tol) = tol {
                    let scale = tol.scale[j].max(e.abs()).max(1.0);
                    let dev = (e - a).abs() / scale;
                    if e.is_finite() && a.is_finite() && dev <= rtol {
                        self.stats.inexact += 1;
                        self.stats.max_rel_dev = self.stats.max_rel_dev.max(dev);
                        adopt = true;
                        continue;
                    }
                    if self.nan_misjudged && e.is_nan() {
                        // A value computed from a NaN, on a CPU (valgrind's
                        // emulation) that gets some compares with a NaN operand
                        // wrong: what the kernel gives here is the emulator's
                        // answer, not the library's. Every other value is still
                        // compared; on hardware this never applies.
                        self.stats.nan_unchecked += 1;
                        adopt = true;
                        continue;
                    }
                }
                self.fail(&format!(
                    "cell {s} ({}) {name:?}[{j}] is {a:e}, the model says {e:e}",
                    self.cells[s].model.describe()
                ));
            }
            if adopt {
                let cell = &mut self.cells[s];
                cell.write(&mut self.arenas, i, &actual);
            }
        }
    }

    /// Compartment `i` of cell `s`: its length, dims and whether it is bound.
    fn check_meta(&mut self, s: usize, i: usize) {
        let h = self.cells[s].h;
        let name = self.cells[s].name(i);
        let n = self.cells[s].count(i);
        let (mut len, mut bound, mut ndim) = (0usize, false, 0usize);
        let mut dims = [usize::MAX; 8];
        // SAFETY: live handle; out pointers valid; dims holds 8.
        unsafe {
            assert_eq!(ngc_cell_compartment_len(h, name.as_ptr(), &mut len), NGC_OK);
            assert_eq!(ngc_cell_is_bound(h, name.as_ptr(), &mut bound), NGC_OK);
            assert_eq!(
                ngc_cell_compartment_dims(h, name.as_ptr(), dims.as_mut_ptr(), 8, &mut ndim),
                NGC_OK
            );
        }
        self.stats.check_calls += 3;
        let model_bound = matches!(self.cells[s].comps[i], Comp::Bound { .. });
        let model_dims = &self.cells[s].st.dims[i];
        if len != n || bound != model_bound || dims[..ndim.min(8)] != model_dims[..] {
            self.fail(&format!(
                "cell {s} {name:?}: len {len} bound {bound} dims {:?}, the model says {n}, \
                 {model_bound} and {model_dims:?}",
                &dims[..ndim.min(8)]
            ));
        }
    }

    /// The checks after a call on cell `slot` (if live): see [`Driver::check_cell`].
    fn after(&mut self, slot: Option<usize>, computed: Option<&Computed>, meta: bool) {
        if let Some(s) = slot {
            self.check_cell(s, computed, meta);
        }
        self.check_arenas();
        if self.stats.calls.is_multiple_of(97) {
            for s in 0..self.cells.len() {
                self.check_cell(s, None, true);
            }
        }
    }

    fn slot(h: H) -> Option<usize> {
        if let H::Live(s) = h {
            Some(s)
        } else {
            None
        }
    }

    // ---- operations ---------------------------------------------------------------

    fn op_create(&mut self, r: &mut R) -> Option<()> {
        let k = r.below(self.kinds.len() as u64)? as usize;
        let kind = self.kinds[k];
        let model = (kind.gen)(r)?;
        let name = match r.below(100)? {
            0..=1 => N::Null,
            2..=3 => N::NonUtf8,
            _ => N::Good(0),
        };
        let name_ptr = match name {
            N::Null => ptr::null(),
            N::NonUtf8 => c"\xc3\x28".as_ptr(),
            _ => c"rnd".as_ptr(),
        };
        let size = |r: &mut R, hi: u64| -> Option<usize> {
            Some(match r.below(100)? {
                0..=1 => 0,
                2 => usize::MAX,
                3 => 1 << 59,
                4 => usize::MAX / 8,
                _ => r.below(hi)? as usize + 1,
            })
        };
        // Up to 8 units: 5 or more reach what needs them (RateCell's bkwta keeps 5 per row).
        let n_units = size(r, 8)?;
        let batch = size(r, 3)?;
        let shape: Option<[usize; 3]> = if kind.takes_shape && r.pct(20)? {
            Some([size(r, 2)?, size(r, 2)?, size(r, 2)?])
        } else {
            None
        };
        let shape_misaligned = shape.is_some() && r.pct(3)?;
        let dtype = match r.below(100)? {
            0 => 0,
            1 => 3,
            2 => -1,
            k if k < 51 => NGC_DTYPE_F32,
            _ => NGC_DTYPE_F64,
        };
        let out_kind = r.below(100)?; // 0: NULL, 1: misaligned, else valid

        // Predict, in the library's order.
        let elem = if dtype == NGC_DTYPE_F64 { 8 } else { 4 };
        let unit: Vec<usize> = match shape {
            None => vec![n_units],
            Some(s) => s.to_vec(),
        };
        let total = unit.iter().try_fold(batch, |acc, &d| acc.checked_mul(d));
        let want = if out_kind == 0 {
            NGC_ERR_NULL_POINTER
        } else if out_kind == 1 {
            NGC_ERR_MISALIGNED_POINTER
        } else if let Some(st) = model.hyper_err_early() {
            st
        } else if matches!(name, N::Null) {
            NGC_ERR_NULL_POINTER
        } else if matches!(name, N::NonUtf8) {
            NGC_ERR_INVALID_ARGUMENT
        } else if shape_misaligned {
            NGC_ERR_MISALIGNED_POINTER
        } else if dtype != NGC_DTYPE_F32 && dtype != NGC_DTYPE_F64 {
            NGC_ERR_INVALID_DTYPE
        } else if let Some(st) = model.hyper_err() {
            st
        } else if n_units == 0 || unit.contains(&0) || batch == 0 {
            NGC_ERR_ZERO_SIZE
        } else if too_big(total) {
            NGC_ERR_SIZE_OVERFLOW
        } else if total.unwrap() * elem >= HUGE_BYTES {
            NGC_ERR_ALLOCATION
        } else if let Some(st) = model.shape_err(&unit) {
            st
        } else {
            NGC_OK
        };
        if want == NGC_OK && total.unwrap() > ARENA_LEN {
            // Valid but larger than the caller buffers: keep cells small.
            return Some(());
        }

        let shape_buf: [usize; 4] = match shape {
            Some([a, b, c]) => [a, b, c, 0],
            None => [0; 4],
        };
        let shape_ptr: *const usize = match shape {
            None => ptr::null(),
            Some(_) if shape_misaligned => shape_buf.as_ptr().cast::<u8>().wrapping_add(4).cast(),
            Some(_) => shape_buf.as_ptr(),
        };
        let mut out_store = [0usize; 2];
        let out: *mut *mut NgcCell = match out_kind {
            0 => ptr::null_mut(),
            1 => out_store.as_mut_ptr().cast::<u8>().wrapping_add(4).cast(),
            _ => out_store.as_mut_ptr().cast(),
        };
        let args = NewArgs {
            name: name_ptr,
            n_units,
            batch,
            shape: shape_ptr,
            dtype,
            out,
        };
        let before = Msg::now();
        // SAFETY: name NULL or NUL-terminated; shape NULL, or 3 readable sizes (a
        // misaligned one is refused unread); out NULL, misaligned (refused) or valid.
        let st = unsafe {
            match kind.new {
                Some(new) => new(name_ptr, n_units, batch, shape_ptr, dtype, out),
                None => model.call_new(&args),
            }
        };
        log!(self,
            "{}({name:?}, n {n_units}, batch {batch}, {}, shape {shape:?}{}, dtype {dtype}, out {out_kind}) -> {}",
            model.func(),
            model.describe(),
            if shape_misaligned { " misaligned" } else { "" },
            status_name(st)
        );
        self.check_status(model.func(), want, st, &before);
        if st != NGC_OK {
            if out_store != [0, 0] {
                self.fail("a failed constructor wrote its output");
            }
            return Some(());
        }
        self.stats.cells_created += 1;
        self.stats.kinds.entry(kind.label).or_default().created += 1;
        let h = out_store[0] as *mut NgcCell;
        let f64 = dtype == NGC_DTYPE_F64;
        let mut state = State {
            f64,
            unit,
            batch,
            init_batch: batch,
            param: vec![1, 1],
            dims: Vec::new(),
            vals: Vec::new(),
        };
        let specs = model.comps();
        state.dims = specs
            .iter()
            .map(|c| state.dims_of(c.extent, batch))
            .collect();
        // Rest values in the cell's precision (sigma 0.1 is not a float32).
        let comps = (0..specs.len())
            .map(|i| Comp::Owned(vec![state.round(model.rest(i)); count(&state.dims[i])]))
            .collect();
        self.cells.push(MCell {
            h,
            label: kind.label,
            model,
            st: state,
            comps,
            threads: 1,
        });
        let s = self.cells.len() - 1;
        // The type the library reports is the model's.
        let mut ty: *const c_char = ptr::null();
        // SAFETY: live handle, valid out pointer; the name is static.
        unsafe {
            assert_eq!(ngc_cell_type(h, &mut ty), NGC_OK);
            let ty = CStr::from_ptr(ty).to_str().unwrap();
            if ty != self.cells[s].model.type_name() {
                self.fail(&format!("a new cell says it is a {ty}"));
            }
        }
        self.after(Some(s), None, true);
        Some(())
    }

    fn op_free(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let p = self.handle_ptr(h);
        let before = Msg::now();
        // SAFETY: a live handle (removed from the model below), NULL, or refused.
        unsafe { ngc_cell_free(p) };
        log!(self, "free({h:?})");
        self.stats.calls += 1;
        *self.stats.functions.entry("ngc_cell_free").or_default() += 1;
        match h {
            H::Live(s) => {
                self.check_message("ngc_cell_free", false, &before);
                self.cells.remove(s);
            }
            H::Null => self.check_message("ngc_cell_free", false, &before),
            H::NotACell | H::Misaligned(_) => self.check_message("ngc_cell_free", true, &before),
        }
        self.after(None, None, false);
        Some(())
    }

    fn op_bind(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = self.gen_name(r, h)?;
        let v = self.gen_variant(r, h)?;
        let f64 = self.data_f64(h, v);
        let count = self.count_of(h, n);
        let mem = Self::gen_mem(r, 1, 94, f64)?;
        let mem = if matches!(mem, Mem::Fresh) {
            Mem::Null
        } else {
            mem
        };
        let room = match mem {
            Mem::Arena { off, .. } => ARENA_LEN - off,
            _ => ARENA_LEN,
        };
        let cap = match r.below(100)? {
            0..=2 => [usize::MAX, usize::MAX / 2, usize::MAX / 4 + 1][r.below(3)? as usize],
            3..=12 => r.upto(count.saturating_sub(1))?,
            _ => (count + r.upto(count * 2)?).min(room),
        };
        let want = match self.prefix_err(h, n, v) {
            Err(st) => st,
            Ok((s, i)) => match mem {
                Mem::Null => NGC_ERR_NULL_POINTER,
                Mem::Misaligned => NGC_ERR_MISALIGNED_POINTER,
                Mem::Fresh => unreachable!(),
                Mem::Arena { arena, off } => {
                    let elem = if f64 { 8 } else { 4 };
                    if cap
                        .checked_mul(elem)
                        .is_none_or(|b| b > isize::MAX as usize)
                    {
                        NGC_ERR_SIZE_OVERFLOW
                    } else if cap < self.cells[s].count(i) {
                        NGC_ERR_CAPACITY_TOO_SMALL
                    } else if self.cells[s].comps.iter().enumerate().any(|(j, c)| {
                        j != i
                            && matches!(c, Comp::Bound { arena: a, off: o, cap: k }
                                if *a == arena && *o < off + cap && off < o + k)
                    }) {
                        NGC_ERR_OVERLAP
                    } else {
                        NGC_OK
                    }
                }
            },
        };
        let data: *mut c_void = match mem {
            Mem::Null | Mem::Fresh => ptr::null_mut(),
            Mem::Misaligned => self.misaligned_ptr(f64, if f64 { 4 } else { 1 }).cast(),
            Mem::Arena { arena, off } => self.arenas[arena].at(off).cast(),
        };
        let cell = self.handle_ptr(h);
        let name_s = self.name_str(h, n);
        let name = Self::name_ptr(&name_s);
        let before = Msg::now();
        // SAFETY: arena memory is valid for `cap` elements of its type from `data`
        // (cap <= room) whenever the library may keep it; huge capacities, NULL and
        // misaligned pointers are refused before use. Arenas outlive every cell.
        let (st, func) = unsafe {
            match v {
                Variant::Untyped => (ngc_cell_bind(cell, name, data, cap), "ngc_cell_bind"),
                Variant::F32 => (
                    ngc_cell_bind_f32(cell, name, data.cast(), cap),
                    "ngc_cell_bind_f32",
                ),
                Variant::F64 => (
                    ngc_cell_bind_f64(cell, name, data.cast(), cap),
                    "ngc_cell_bind_f64",
                ),
            }
        };
        log!(
            self,
            "{func}({h:?}, {name_s:?}, {mem:?}, cap {cap}) -> {}",
            status_name(st)
        );
        self.check_status(func, want, st, &before);
        if st == NGC_OK {
            let (H::Live(s), N::Good(i), Mem::Arena { arena, off }) = (h, n, mem) else {
                unreachable!()
            };
            self.cells[s].comps[i] = Comp::Bound { arena, off, cap };
        }
        self.after(Self::slot(h), None, true);
        Some(())
    }

    fn op_unbind(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = self.gen_name(r, h)?;
        let want = match self.prefix_err(h, n, Variant::Untyped) {
            Err(st) => st,
            Ok((s, i)) => match self.cells[s].comps[i] {
                Comp::Bound { .. } => NGC_OK,
                Comp::Owned(_) => NGC_ERR_NOT_BOUND,
            },
        };
        let name_s = self.name_str(h, n);
        let before = Msg::now();
        // SAFETY: live, NULL, misaligned or not-a-cell handle; NUL-terminated or NULL name.
        let st = unsafe { ngc_cell_unbind(self.handle_ptr(h), Self::name_ptr(&name_s)) };
        log!(self, "unbind({h:?}, {name_s:?}) -> {}", status_name(st));
        self.check_status("ngc_cell_unbind", want, st, &before);
        if st == NGC_OK {
            let (H::Live(s), N::Good(i)) = (h, n) else {
                unreachable!()
            };
            let vals = self.cells[s].read(&self.arenas, i);
            self.cells[s].comps[i] = Comp::Owned(vals);
        }
        self.after(Self::slot(h), None, true);
        Some(())
    }

    /// A length: mostly the compartment's count, sometimes not.
    fn gen_len(r: &mut R, count: usize) -> Option<usize> {
        Some(match r.below(100)? {
            0..=84 => count,
            85..=88 => 0,
            89..=92 => count + 1,
            93..=96 => count.saturating_sub(1),
            _ => count * 2 + 1,
        })
    }

    fn op_set(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = self.gen_name(r, h)?;
        let v = self.gen_variant(r, h)?;
        let f64 = self.data_f64(h, v);
        let count = self.count_of(h, n);
        let len = Self::gen_len(r, count)?;
        let mem = Self::gen_mem(r, len, 20, f64)?;
        let mut fresh: Vec<f64> = Vec::with_capacity(len);
        for _ in 0..len {
            let x = Self::gen_value(r)?;
            fresh.push(if f64 { x } else { x as f32 as f64 });
        }
        let want = match self.prefix_err(h, n, v) {
            Err(st) => st,
            Ok((s, i)) => match mem {
                Mem::Null => NGC_ERR_NULL_POINTER,
                Mem::Misaligned => NGC_ERR_MISALIGNED_POINTER,
                _ if len != self.cells[s].count(i) => NGC_ERR_LENGTH_MISMATCH,
                _ => NGC_OK,
            },
        };
        // The source values, read before the call (the model's view of memmove).
        let src_vals: Vec<f64> = match mem {
            Mem::Arena { arena, off } => self.arenas[arena].shadow[off..off + len].to_vec(),
            _ => fresh.clone(),
        };
        let fresh32: Vec<f32> = fresh.iter().map(|&x| x as f32).collect();
        let src: *const c_void = match mem {
            Mem::Null => ptr::null(),
            Mem::Misaligned => self.misaligned_ptr(f64, if f64 { 4 } else { 2 }).cast(),
            Mem::Arena { arena, off } => self.arenas[arena].at(off).cast(),
            Mem::Fresh if f64 => fresh.as_ptr().cast(),
            Mem::Fresh => fresh32.as_ptr().cast(),
        };
        let cell = self.handle_ptr(h);
        let name_s = self.name_str(h, n);
        let name = Self::name_ptr(&name_s);
        let before = Msg::now();
        // SAFETY: `src` is NULL, misaligned (refused), or valid for `len` elements
        // of its type (an arena range that fits, or `fresh`).
        let (st, func) = unsafe {
            match v {
                Variant::Untyped => (ngc_cell_set(cell, name, src, len), "ngc_cell_set"),
                Variant::F32 => (
                    ngc_cell_set_f32(cell, name, src.cast(), len),
                    "ngc_cell_set_f32",
                ),
                Variant::F64 => (
                    ngc_cell_set_f64(cell, name, src.cast(), len),
                    "ngc_cell_set_f64",
                ),
            }
        };
        log!(
            self,
            "{func}({h:?}, {name_s:?}, {mem:?}, len {len}) -> {}",
            status_name(st)
        );
        self.check_status(func, want, st, &before);
        if st == NGC_OK {
            let (H::Live(s), N::Good(i)) = (h, n) else {
                unreachable!()
            };
            let cell = &mut self.cells[s];
            cell.write(&mut self.arenas, i, &src_vals);
        }
        self.after(Self::slot(h), None, false);
        Some(())
    }

    fn op_get(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = self.gen_name(r, h)?;
        let v = self.gen_variant(r, h)?;
        let f64 = self.data_f64(h, v);
        let count = self.count_of(h, n);
        let len = Self::gen_len(r, count)?;
        let mem = Self::gen_mem(r, len, 25, f64)?;
        let want = match self.prefix_err(h, n, v) {
            Err(st) => st,
            Ok((s, i)) => match mem {
                Mem::Null => NGC_ERR_NULL_POINTER,
                Mem::Misaligned => NGC_ERR_MISALIGNED_POINTER,
                _ if len != self.cells[s].count(i) => NGC_ERR_LENGTH_MISMATCH,
                _ => NGC_OK,
            },
        };
        // A fresh destination has one guard element past `len`.
        const GUARD: f64 = 12345.0;
        let mut fresh64 = vec![GUARD; len + 1];
        let mut fresh32 = vec![GUARD as f32; len + 1];
        let dst: *mut c_void = match mem {
            Mem::Null => ptr::null_mut(),
            Mem::Misaligned => self.misaligned_ptr(f64, if f64 { 4 } else { 2 }).cast(),
            Mem::Arena { arena, off } => self.arenas[arena].at(off).cast(),
            Mem::Fresh if f64 => fresh64.as_mut_ptr().cast(),
            Mem::Fresh => fresh32.as_mut_ptr().cast(),
        };
        let cell = self.handle_ptr(h);
        let name_s = self.name_str(h, n);
        let name = Self::name_ptr(&name_s);
        let before = Msg::now();
        // SAFETY: `dst` is NULL, misaligned (refused), or valid for `len` writes.
        let (st, func) = unsafe {
            match v {
                Variant::Untyped => (ngc_cell_get(cell, name, dst, len), "ngc_cell_get"),
                Variant::F32 => (
                    ngc_cell_get_f32(cell, name, dst.cast(), len),
                    "ngc_cell_get_f32",
                ),
                Variant::F64 => (
                    ngc_cell_get_f64(cell, name, dst.cast(), len),
                    "ngc_cell_get_f64",
                ),
            }
        };
        log!(
            self,
            "{func}({h:?}, {name_s:?}, {mem:?}, len {len}) -> {}",
            status_name(st)
        );
        self.check_status(func, want, st, &before);
        let fresh: Vec<f64> = if f64 {
            fresh64.clone()
        } else {
            fresh32.iter().map(|&x| f64::from(x)).collect()
        };
        if !same(fresh[len], GUARD) {
            self.fail("ngc_cell_get wrote past len");
        }
        if st == NGC_OK {
            let (H::Live(s), N::Good(i)) = (h, n) else {
                unreachable!()
            };
            let expected = self.cells[s].read(&self.arenas, i);
            match mem {
                Mem::Fresh => {
                    for (j, (&e, &a)) in expected.iter().zip(&fresh).enumerate() {
                        if !same(e, a) {
                            self.fail(&format!(
                                "{func} {name_s:?}[{j}] gave {a:e}, the model says {e:e}"
                            ));
                        }
                    }
                }
                Mem::Arena { arena, off } => {
                    self.arenas[arena].shadow_mut()[off..off + len].copy_from_slice(&expected)
                }
                _ => unreachable!(),
            }
        } else if matches!(mem, Mem::Fresh) && fresh.iter().any(|&x| !same(x, GUARD)) {
            self.fail(&format!("a refused {func} wrote its destination"));
        }
        self.after(Self::slot(h), None, false);
        Some(())
    }

    /// `t` and `dt` for advance and evolve.
    fn gen_time(r: &mut R) -> Option<(f64, f64)> {
        let t = r.below(100)? as f64;
        let dt = r.pick(&[1.0, 1.0, 0.5, 0.1, 0.25, 2.0])?;
        Some((t, dt))
    }

    fn op_advance(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let (t, dt) = Self::gen_time(r)?;
        let want = Self::handle_err(h).unwrap_or(NGC_OK);
        let before = Msg::now();
        // SAFETY: live (bound arenas alive), NULL, misaligned or not-a-cell handle.
        let st = unsafe { ngc_cell_advance(self.handle_ptr(h), t, dt) };
        log!(self, "advance({h:?}, {t}, {dt}) -> {}", status_name(st));
        self.check_status("ngc_cell_advance", want, st, &before);
        let H::Live(s) = h else {
            self.after(None, None, true);
            return Some(());
        };
        let cell = &mut self.cells[s];
        cell.load(&self.arenas);
        let computed = cell.model.advance(&mut cell.st, t, dt);
        cell.store(&mut self.arenas);
        self.stats.kinds.entry(cell.label).or_default().advances += 1;
        // Shapes and bindings do not change in advance (checked every 97 calls).
        self.after(Some(s), Some(&computed), false);
        Some(())
    }

    fn op_evolve(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let (t, dt) = Self::gen_time(r)?;
        let want = Self::handle_err(h).unwrap_or(NGC_OK);
        let before = Msg::now();
        // SAFETY: live (bound arenas alive), NULL, misaligned or not-a-cell handle.
        let st = unsafe { ngc_cell_evolve(self.handle_ptr(h), t, dt) };
        log!(self, "evolve({h:?}, {t}, {dt}) -> {}", status_name(st));
        self.check_status("ngc_cell_evolve", want, st, &before);
        let H::Live(s) = h else {
            self.after(None, None, false);
            return Some(());
        };
        let cell = &mut self.cells[s];
        cell.load(&self.arenas);
        let computed = cell.model.evolve(&mut cell.st, t, dt);
        cell.store(&mut self.arenas);
        if computed.is_some() {
            self.stats.kinds.entry(cell.label).or_default().evolves += 1;
        }
        // A cell without evolve: nothing changes (checked bit for bit).
        self.after(Some(s), computed.as_ref(), false);
        Some(())
    }

    /// Dims for `ngc_cell_set_shaped` on compartment `n` of cell `h`: mostly a
    /// shape that broadcasts against the state (or, for a fixed compartment, its
    /// own), sometimes one that does not, a zero, or too many axes.
    fn gen_dims(&self, r: &mut R, h: H, n: N) -> Option<Vec<usize>> {
        let (state, own) = match (h, n) {
            (H::Live(s), N::Good(i)) => {
                let c = &self.cells[s];
                (c.st.state_dims(c.st.batch), c.st.dims[i].clone())
            }
            _ => (vec![2, 3], vec![2, 3]),
        };
        Some(match r.below(100)? {
            0..=29 => own,
            30..=79 => {
                // Broadcasting: a suffix of the state's axes, each its size or 1.
                let rank = r.upto(state.len())?;
                let mut d = Vec::with_capacity(rank);
                for &x in &state[state.len() - rank..] {
                    d.push(if r.pct(50)? { x } else { 1 });
                }
                d
            }
            80..=89 => {
                let rank = r.upto(4)?;
                let mut d = Vec::with_capacity(rank);
                for _ in 0..rank {
                    d.push(r.below(4)? as usize + 1);
                }
                d
            }
            90..=93 => {
                let mut d = own;
                if d.is_empty() {
                    d.push(0);
                } else {
                    let k = r.below(d.len() as u64)? as usize;
                    d[k] = 0;
                }
                d
            }
            94..=96 => vec![1; 5],
            _ => vec![1; r.upto(3)? + 5],
        })
    }

    fn op_set_shaped(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = self.gen_name(r, h)?;
        let dims = self.gen_dims(r, h, n)?;
        let rank = dims.len();
        // 0: NULL, 1: misaligned, else valid.
        let dims_kind = r.below(100)?;
        let f64 = self.data_f64(h, Variant::Untyped);
        let len = count(&dims);
        let mem = Self::gen_mem(r, len, 20, f64)?;
        let mut fresh: Vec<f64> = Vec::with_capacity(len.min(ARENA_LEN + 1));
        if len <= ARENA_LEN {
            for _ in 0..len {
                let x = Self::gen_value(r)?;
                fresh.push(if f64 { x } else { x as f32 as f64 });
            }
        }
        // In the library's order: handle, name, rank, dims pointer, src pointer,
        // zero dims, shape, bound capacities.
        let mut shapes_change = false;
        let want = match self.prefix_err(h, n, Variant::Untyped) {
            Err(st) => st,
            Ok((s, i)) => {
                let c = &self.cells[s];
                let spec = c.model.comps()[i];
                if rank > 4 {
                    NGC_ERR_INVALID_ARGUMENT
                } else if rank > 0 && dims_kind == 0 {
                    NGC_ERR_NULL_POINTER
                } else if rank > 0 && dims_kind == 1 {
                    NGC_ERR_MISALIGNED_POINTER
                } else if matches!(mem, Mem::Null) {
                    NGC_ERR_NULL_POINTER
                } else if matches!(mem, Mem::Misaligned) {
                    NGC_ERR_MISALIGNED_POINTER
                } else if dims.contains(&0) {
                    NGC_ERR_ZERO_SIZE
                } else if spec.extent == Extent::Param {
                    if !broadcasts(&dims, &c.st.state_dims(c.st.batch)) {
                        NGC_ERR_SHAPE_MISMATCH
                    } else {
                        shapes_change = dims != c.st.param;
                        let mut st = c.st.clone();
                        st.param = dims.clone();
                        let specs = c.model.comps();
                        if c.comps.iter().enumerate().any(|(j, b)| {
                            matches!(b, Comp::Bound { cap, .. }
                                if *cap < count(&st.dims_of(specs[j].extent, st.batch)))
                        }) {
                            NGC_ERR_CAPACITY_TOO_SMALL
                        } else {
                            NGC_OK
                        }
                    }
                } else if dims != c.st.dims[i] {
                    NGC_ERR_SHAPE_MISMATCH
                } else {
                    NGC_OK
                }
            }
        };
        // A call that would read more than the caller buffers hold is not made.
        if want == NGC_OK && len > ARENA_LEN {
            return Some(());
        }
        let src_vals: Vec<f64> = match mem {
            Mem::Arena { arena, off } if len <= ARENA_LEN - off => {
                self.arenas[arena].shadow[off..off + len].to_vec()
            }
            _ => fresh.clone(),
        };
        let fresh32: Vec<f32> = fresh.iter().map(|&x| x as f32).collect();
        let src: *const c_void = match mem {
            Mem::Null => ptr::null(),
            Mem::Misaligned => self.misaligned_ptr(f64, if f64 { 4 } else { 2 }).cast(),
            Mem::Arena { arena, off } => self.arenas[arena].at(off).cast(),
            Mem::Fresh if f64 => fresh.as_ptr().cast(),
            Mem::Fresh => fresh32.as_ptr().cast(),
        };
        let mut dims_store = [0usize; 9];
        dims_store[1..=rank.min(8)].copy_from_slice(&dims[..rank.min(8)]);
        let dims_ptr: *const usize = match dims_kind {
            0 => ptr::null(),
            1 => dims_store.as_ptr().cast::<u8>().wrapping_add(4).cast(),
            _ => dims_store[1..].as_ptr(),
        };
        let cell = self.handle_ptr(h);
        let name_s = self.name_str(h, n);
        let before = Msg::now();
        // SAFETY: `dims` NULL, misaligned (refused) or valid for `rank` reads; `src`
        // NULL, misaligned (refused), or valid for `prod(dims)` elements whenever
        // the library reads them (the model predicts every refusal before a read;
        // a valid call reading more than ARENA_LEN elements is not made).
        let st = unsafe { ngc_cell_set_shaped(cell, Self::name_ptr(&name_s), src, dims_ptr, rank) };
        log!(
            self,
            "set_shaped({h:?}, {name_s:?}, {mem:?}, dims {dims:?} ({dims_kind})) -> {}",
            status_name(st)
        );
        self.check_status("ngc_cell_set_shaped", want, st, &before);
        if st == NGC_OK {
            let (H::Live(s), N::Good(i)) = (h, n) else {
                unreachable!()
            };
            let cell = &mut self.cells[s];
            cell.load(&self.arenas);
            let specs = cell.model.comps();
            if shapes_change {
                cell.st.param = dims.clone();
                for (j, spec) in specs.iter().enumerate() {
                    if matches!(spec.extent, Extent::Param | Extent::ParamSqueezed) {
                        let d = cell.st.dims_of(spec.extent, cell.st.batch);
                        cell.st.vals[j] = vec![cell.st.round(cell.model.rest(j)); count(&d)];
                        cell.st.dims[j] = d;
                    }
                }
            }
            cell.st.vals[i] = src_vals;
            cell.store(&mut self.arenas);
        }
        self.after(Self::slot(h), None, true);
        Some(())
    }

    fn op_reset(&mut self, r: &mut R, batched: bool) -> Option<()> {
        let h = self.gen_handle(r)?;
        let b = match r.below(100)? {
            0..=4 => 0,
            5..=7 => usize::MAX,
            8..=10 => usize::MAX / 3,
            11..=13 => 1 << 58,
            _ => r.below(4)? as usize + 1,
        };
        let want = match Self::handle_err(h) {
            Some(st) => st,
            None => {
                let H::Live(s) = h else { unreachable!() };
                let cell = &self.cells[s];
                let b = if batched { b } else { cell.st.init_batch };
                let total = b.checked_mul(cell.st.unit_len());
                let specs = cell.model.comps();
                if b == 0 {
                    NGC_ERR_ZERO_SIZE
                } else if too_big(total) {
                    NGC_ERR_SIZE_OVERFLOW
                } else if !broadcasts(&cell.st.param, &cell.st.state_dims(b))
                    && specs.iter().any(|c| c.extent == Extent::Param)
                {
                    // The resets keep the parameter: it must fit the new batch.
                    NGC_ERR_SHAPE_MISMATCH
                } else if cell.comps.iter().enumerate().any(|(i, c)| {
                    matches!(c, Comp::Bound { cap, .. }
                        if *cap < count(&cell.st.dims_of(specs[i].extent, b)))
                }) {
                    NGC_ERR_CAPACITY_TOO_SMALL
                } else if total.unwrap() * if cell.st.f64 { 8 } else { 4 } >= HUGE_BYTES {
                    NGC_ERR_ALLOCATION
                } else {
                    NGC_OK
                }
            }
        };
        let before = Msg::now();
        let p = self.handle_ptr(h);
        // SAFETY: live (bound arenas alive), NULL, misaligned or not-a-cell handle.
        let (st, func) = unsafe {
            if batched {
                (ngc_cell_batched_reset(p, b), "ngc_cell_batched_reset")
            } else {
                (ngc_cell_reset(p), "ngc_cell_reset")
            }
        };
        log!(self, "{func}({h:?}, {b}) -> {}", status_name(st));
        self.check_status(func, want, st, &before);
        if st == NGC_OK {
            let cell = &mut self.cells[Self::slot(h).unwrap()];
            let b = if batched { b } else { cell.st.init_batch };
            cell.load(&self.arenas);
            let specs = cell.model.comps();
            for (i, spec) in specs.iter().enumerate() {
                let dims = cell.st.dims_of(spec.extent, b);
                if spec.role != Role::Parameter {
                    cell.st.vals[i] = vec![cell.st.round(cell.model.rest(i)); count(&dims)];
                }
                assert_eq!(cell.st.vals[i].len(), count(&dims));
                cell.st.dims[i] = dims;
            }
            cell.st.batch = b;
            cell.store(&mut self.arenas);
        }
        self.after(Self::slot(h), None, true);
        Some(())
    }

    fn op_threads(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let t = [0usize, 1, 2, 3, 1000][r.below(5)? as usize];
        let want = Self::handle_err(h).unwrap_or(if t == 0 {
            NGC_ERR_INVALID_ARGUMENT
        } else {
            NGC_OK
        });
        let before = Msg::now();
        // SAFETY: live, NULL, misaligned or not-a-cell handle.
        let st = unsafe { ngc_cell_set_threads(self.handle_ptr(h), t) };
        log!(self, "set_threads({h:?}, {t}) -> {}", status_name(st));
        self.check_status("ngc_cell_set_threads", want, st, &before);
        if st == NGC_OK {
            self.cells[Self::slot(h).unwrap()].threads = t.min(64); // ngc_cell_threads reports at most 64
        }
        self.after(Self::slot(h), None, false);
        Some(())
    }

    fn op_query(&mut self, r: &mut R) -> Option<()> {
        let h = self.gen_handle(r)?;
        let n = self.gen_name(r, h)?;
        let out_null = r.pct(4)?;
        let p = self.handle_ptr(h);
        let name_s = self.name_str(h, n);
        let name = Self::name_ptr(&name_s);
        let before = Msg::now();
        let slot = Self::slot(h);
        let good = match (slot, n) {
            (Some(s), N::Good(i)) => Some((s, i)),
            _ => None,
        };
        // Each query: (function, status, value as numbers, the model's value).
        let which = r.below(5)?;
        let mut too_small = false;
        let (func, st, got, model): (&'static str, NgcStatus, Vec<f64>, Option<Vec<f64>>) =
            match which {
                0 => {
                    let mut v = usize::MAX;
                    let out = if out_null { ptr::null_mut() } else { &mut v };
                    // SAFETY: out NULL (refused) or valid.
                    let st = unsafe { ngc_cell_batch_size(p, out) };
                    let m = slot.map(|s| vec![self.cells[s].st.batch as f64]);
                    ("ngc_cell_batch_size", st, vec![v as f64], m)
                }
                1 => {
                    let mut v = f64::NAN;
                    let out = if out_null { ptr::null_mut() } else { &mut v };
                    // SAFETY: out NULL (refused) or valid.
                    let st = unsafe { ngc_cell_loss(p, out) };
                    let m = slot.and_then(|s| {
                        let c = &self.cells[s];
                        let l = c.model.loss_index().filter(|&l| c.count(l) == 1)?;
                        Some(c.read(&self.arenas, l))
                    });
                    ("ngc_cell_loss", st, vec![v], m)
                }
                2 => {
                    let mut v = usize::MAX;
                    let out = if out_null { ptr::null_mut() } else { &mut v };
                    // SAFETY: out NULL (refused) or valid; name NULL or NUL-terminated.
                    let st = unsafe { ngc_cell_compartment_len(p, name, out) };
                    let m = good.map(|(s, i)| vec![self.cells[s].count(i) as f64]);
                    ("ngc_cell_compartment_len", st, vec![v as f64], m)
                }
                3 => {
                    let mut v = false;
                    let out = if out_null { ptr::null_mut() } else { &mut v };
                    // SAFETY: out NULL (refused) or valid; name NULL or NUL-terminated.
                    let st = unsafe { ngc_cell_is_bound(p, name, out) };
                    let m = good.map(|(s, i)| {
                        vec![f64::from(u8::from(matches!(
                            self.cells[s].comps[i],
                            Comp::Bound { .. }
                        )))]
                    });
                    ("ngc_cell_is_bound", st, vec![f64::from(u8::from(v))], m)
                }
                _ => {
                    // dims_cap 0 (the size query, dims NULL), 1 (too small for a
                    // 2-d compartment), or room for any rank.
                    let cap = r.pick(&[0usize, 1, 6, 6])?;
                    let mut dims = [usize::MAX; 6];
                    let mut ndim = usize::MAX;
                    let out = if out_null { ptr::null_mut() } else { &mut ndim };
                    let dp = if cap == 0 {
                        ptr::null_mut()
                    } else {
                        dims.as_mut_ptr()
                    };
                    // SAFETY: out NULL (refused) or valid; dims NULL (cap 0) or valid
                    // for 6; name NULL or NUL-terminated.
                    let st = unsafe { ngc_cell_compartment_dims(p, name, dp, cap, out) };
                    let m = good.and_then(|(s, i)| {
                        let d = &self.cells[s].st.dims[i];
                        if cap > 0 && cap < d.len() {
                            return None;
                        }
                        let mut v = vec![d.len() as f64];
                        v.extend(d.iter().take(cap).map(|&x| x as f64));
                        v.extend(std::iter::repeat_n(usize::MAX as f64, 6 - d.len().min(cap)));
                        Some(v)
                    });
                    let mut got = vec![ndim as f64];
                    got.extend(dims.iter().map(|&x| x as f64));
                    too_small = good.is_some_and(|(s, i)| {
                        let n = self.cells[s].st.dims[i].len();
                        cap > 0 && cap < n
                    });
                    ("ngc_cell_compartment_dims", st, got, m)
                }
            };
        // The library checks the out-pointer first, then the handle, then the name.
        let uses_name = which >= 2;
        let want = if out_null {
            NGC_ERR_NULL_POINTER
        } else if let Some(e) = Self::handle_err(h) {
            e
        } else if let (true, Some(e)) = (uses_name, self.name_err(h, n)) {
            e
        } else if which == 1 && model.is_none() {
            // ngc_cell_loss on a cell without a one-element L.
            NGC_ERR_NOT_SUPPORTED
        } else if too_small {
            NGC_ERR_BUFFER_TOO_SMALL
        } else {
            NGC_OK
        };
        log!(
            self,
            "{func}({h:?}, {name_s:?}, out_null {out_null}) -> {}",
            status_name(st)
        );
        self.check_status(func, want, st, &before);
        if st == NGC_OK {
            let m = model.unwrap();
            if got.len() != m.len() || got.iter().zip(&m).any(|(a, b)| !same(*a, *b)) {
                self.fail(&format!("{func} gave {got:?}, the model says {m:?}"));
            }
        } else if got
            .iter()
            .any(|&x| x != usize::MAX as f64 && !(which == 1 && x.is_nan()))
            && which != 3
        {
            // Outputs are written only on success.
            self.fail(&format!("a refused {func} wrote {got:?}"));
        }
        self.after(slot, None, false);
        Some(())
    }
}
