//! RateCell, from ngc-learn's formulas (FAMILY.md §5, `docs/cells/rate.md`), in the
//! cell's precision: the standard library's `tanh`, `exp`, `sin`, `cos`, `ln_1p`
//! (with XLA's flush of subnormal results to 0), and fused multiply-adds where
//! ngc-learn's XLA fuses them. Every hyper-parameter is drawn at random too, some
//! invalid (unknown names, `"cauchy_threshold"`, a stateful softmax, `bkwta` on
//! fewer than 5 units or a 4-D cell).

use ngc_cells::*;

use super::{comp, CellModel, CompSpec, Computed, Extent, Kind, NewArgs, Role, State, Tol, R};

const COMPS: &[CompSpec] = &[
    comp(c"j", 0.0, Extent::State, Role::Input),
    comp(c"j_td", 0.0, Extent::State, Role::Input),
    comp(c"z", 0.0, Extent::State, Role::Input),
    comp(c"zF", 0.0, Extent::State, Role::Output),
];
const J: usize = 0;
const J_TD: usize = 1;
const Z: usize = 2;
const ZF: usize = 3;

/// The arithmetic the formulas need, in the cell's precision.
trait Num:
    Copy
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
{
    fn of(v: f64) -> Self;
    fn f(self) -> f64;
    fn fma(self, b: Self, c: Self) -> Self;
    /// `e^x`, subnormal results flushed to 0 (XLA runs with FTZ).
    fn exp(self) -> Self;
    fn tanh(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn ln_1p(self) -> Self;
    fn nan(self) -> bool;
}

macro_rules! num {
    ($t:ty) => {
        impl Num for $t {
            fn of(v: f64) -> Self {
                v as $t
            }
            fn f(self) -> f64 {
                self as f64
            }
            fn fma(self, b: Self, c: Self) -> Self {
                self.mul_add(b, c)
            }
            fn exp(self) -> Self {
                let e = <$t>::exp(self);
                if e < <$t>::MIN_POSITIVE {
                    0.0
                } else {
                    e
                }
            }
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            fn nan(self) -> bool {
                self.is_nan()
            }
        }
    };
}
num!(f32);
num!(f64);

const PRIORS: [&str; 4] = ["gaussian", "laplacian", "cauchy", "exp"];
/// Every activation: the element-wise ones, bkwta and softmax (row-wise).
const ACTS: [&str; 16] = [
    "identity",
    "tanh",
    "sigmoid",
    "relu",
    "lrelu",
    "relu6",
    "elu",
    "silu",
    "gelu",
    "telu",
    "softplus",
    "unit_threshold",
    "heaviside",
    "sine",
    "bkwta",
    "softmax",
];
/// Each name with the method it means.
const INTEGRATIONS: [(&str, &str); 9] = [
    ("euler", "euler"),
    ("rk1", "euler"),
    ("midpoint", "midpoint"),
    ("rk2", "midpoint"),
    ("rk4", "rk4"),
    ("heun", "heun"),
    ("rk2_heun", "heun"),
    ("ralston", "ralston"),
    ("rk2_ralston", "ralston"),
];

/// A name argument: NULL (the default), a valid name, or an invalid one.
#[derive(Clone, Copy, Debug)]
enum Name {
    Null,
    Good(&'static str),
    Bad(&'static str),
}

impl Name {
    fn value(self, default: &'static str) -> &'static str {
        match self {
            Name::Null => default,
            Name::Good(s) | Name::Bad(s) => s,
        }
    }
    fn c(self) -> Option<std::ffi::CString> {
        match self {
            Name::Null => None,
            Name::Good(s) | Name::Bad(s) => Some(std::ffi::CString::new(s).unwrap()),
        }
    }
    fn bad(self) -> bool {
        matches!(self, Name::Bad(_))
    }
}

pub struct Rate {
    tau: f64,
    prior: Name,
    leak: f64,
    act: Name,
    out_scale: f64,
    thr: Name,
    lambda: f64,
    integ: Name,
    resist: f64,
    is_stateful: bool,
}

impl Rate {
    fn stateful(&self) -> bool {
        self.is_stateful && (self.tau > 0.0 || self.tau.is_nan())
    }
    fn act(&self) -> &'static str {
        self.act.value("identity")
    }
    fn method(&self) -> &'static str {
        let n = self.integ.value("euler");
        INTEGRATIONS.iter().find(|(a, _)| *a == n).unwrap().1
    }
}

/// `fx(x)`, ngc-learn's formula.
fn fx<T: Num>(act: &str, x: T) -> T {
    let (zero, one) = (T::of(0.0), T::of(1.0));
    let relu = |v: T| if v > zero || v.nan() { v } else { zero };
    let sig = |v: T| one / (one + (-v).exp());
    let step = |c: bool| if c { one } else { zero };
    match act {
        "identity" => x,
        "tanh" => x.tanh(),
        "sigmoid" => sig(x),
        "relu" => relu(x),
        "lrelu" => {
            if x >= zero {
                x
            } else {
                T::of(0.01) * x
            }
        }
        "relu6" => {
            let r = relu(x);
            if r > T::of(6.0) {
                T::of(6.0)
            } else {
                r
            }
        }
        "elu" => {
            let m = x >= zero;
            (if m { x } else { zero }) + (x.exp() - one) * (one - step(m))
        }
        "silu" => x * sig(x),
        "gelu" => x * sig(x * T::of(1.702)),
        "telu" => x * x.exp().tanh(),
        "softplus" => {
            if x.nan() {
                x
            } else {
                let a = if x < zero { -x } else { x };
                relu(x) + (-a).exp().ln_1p()
            }
        }
        "unit_threshold" => step(x >= one),
        "heaviside" => step(x >= zero),
        "sine" => (T::of(30.0) * x).sin(),
        _ => unreachable!("{act}"),
    }
}

/// `fx'(x)`, ngc-learn's formula.
fn dfx<T: Num>(act: &str, x: T) -> T {
    let (zero, one) = (T::of(0.0), T::of(1.0));
    let sig = |v: T| one / (one + (-v).exp());
    let step = |c: bool| if c { one } else { zero };
    let swish = |b: T| {
        let s = sig(x * b);
        (b * x).fma(s * (one - s), s)
    };
    match act {
        "identity" | "unit_threshold" | "heaviside" => x.fma(zero, one),
        "tanh" => {
            let t = x.tanh();
            (-t).fma(t, one)
        }
        "sigmoid" => sig(x) * (one - sig(x)),
        "relu" => step(x >= zero),
        "lrelu" => {
            let m = step(x >= zero);
            (one - m).fma(T::of(0.01f32 as f64), m)
        }
        "relu6" => step(x >= zero) * step(x <= T::of(6.0)),
        "elu" => {
            let m = step(x >= zero);
            (one - m).fma(x.exp(), m)
        }
        "silu" => swish(one),
        "gelu" => swish(T::of(1.702)),
        "telu" => {
            let ex = x.exp();
            let th = ex.tanh();
            (x * ex).fma((-th).fma(th, one), th)
        }
        "softplus" => sig(x),
        "sine" => T::of(30.0) * (T::of(30.0) * x).cos(),
        _ => unreachable!("{act}"),
    }
}

/// The binary activations: float32 masks in ngc-learn, times a float32 output_scale.
fn is_binary(act: &str) -> bool {
    matches!(act, "unit_threshold" | "heaviside" | "bkwta")
}

/// bkwta's threshold of a row: its 5th largest value, NaN if it holds a NaN
/// (`lax.top_k` ranks NaN first).
fn fifth_largest<T: Num>(row: &[T]) -> T {
    if let Some(&v) = row.iter().find(|v| v.nan()) {
        return v;
    }
    let mut v = row.to_vec();
    v.sort_by(|a, b| b.partial_cmp(a).unwrap());
    v[4]
}

/// bkwta of each row of `n`: 1 where the value is at least the row's 5th
/// largest, else 0; and each value's distance to that threshold.
fn bkwta<T: Num>(z: &[T], n: usize) -> (Vec<T>, Vec<f64>) {
    let (mut m, mut d) = (Vec::with_capacity(z.len()), Vec::with_capacity(z.len()));
    for row in z.chunks_exact(n) {
        let k = fifth_largest(row);
        for &v in row {
            m.push(if v >= k { T::of(1.0) } else { T::of(0.0) });
            d.push((v.f() - k.f()).abs());
        }
    }
    (m, d)
}

impl Rate {
    /// One stateful step of every element; `(j, z, zF)` and their scales.
    #[allow(clippy::type_complexity)]
    fn step<T: Num>(&self, st: &State, dt: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>, [Vec<f64>; 3]) {
        let act = self.act();
        let (zero, one, two) = (T::of(0.0), T::of(1.0), T::of(2.0));
        let r = one / T::of(self.tau);
        let (gamma, rs, lam) = (T::of(self.leak), T::of(self.resist), T::of(self.lambda));
        let h = T::of(dt);
        let half = h * T::of(0.5);
        let prior = self.prior.value("gaussian");
        let leak = |v: T| -> T {
            match prior {
                "gaussian" => v,
                "laplacian" => {
                    if v > zero {
                        one
                    } else if v < zero {
                        -one
                    } else {
                        v
                    }
                }
                "cauchy" => (v * two) / v.fma(v, one),
                _ => ((-(v * v)).exp() * v) * two,
            }
        };
        let relu = |v: T| if v > zero || v.nan() { v } else { zero };
        let os = self.scale_of::<T>(act);
        let n = st.vals[Z].len();
        let (mut jo, mut zo, mut fo) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut sc = [vec![0.0; n], vec![0.0; n], vec![0.0; n]];
        // bkwta: j is masked by bkwta(z) at the old z, and fx' is 1.
        let row = st.unit_len();
        let old_mask: Vec<T> = if act == "bkwta" {
            let z: Vec<T> = st.vals[Z].iter().map(|&v| T::of(v)).collect();
            bkwta(&z, row).0
        } else {
            Vec::new()
        };
        let mut z_new: Vec<T> = Vec::with_capacity(n);
        for i in 0..n {
            let (j, jt, z) = (
                T::of(st.vals[J][i]),
                T::of(st.vals[J_TD][i]),
                T::of(st.vals[Z][i]),
            );
            let jm = if act == "bkwta" {
                ((j * old_mask[i]) * one) * rs
            } else {
                (j * dfx(act, z)) * rs
            };
            let u = jm + jt;
            // f = g * r; where XLA fuses a stage's `* r` into the next sum, so does this.
            let g = |v: T| (-leak(v)).fma(gamma, u);
            let f = |v: T| g(v) * r;
            let k1 = f(z);
            let z1 = match self.method() {
                "euler" => k1.fma(h, z),
                "midpoint" => f(k1.fma(half, z)).fma(h, z),
                "heun" => g(k1.fma(h, z)).fma(r, k1).fma(half, z),
                "ralston" => {
                    let k2 = f(k1.fma(h * T::of(0.75), z));
                    k1.fma(T::of(1.0 / 3.0), k2 * T::of(2.0 / 3.0)).fma(h, z)
                }
                _ => {
                    let k2 = f(k1.fma(half, z));
                    let k3 = f(k2.fma(half, z));
                    let g4 = g(k3.fma(h, z));
                    let s = g4.fma(r, k3.fma(two, k2.fma(two, k1))) * (one / T::of(6.0));
                    s.fma(h, z)
                }
            };
            let z1 = if self.thr.value("none") == "soft_threshold" {
                relu(z1 - lam) - relu(-z1 - lam)
            } else {
                z1
            };
            z_new.push(z1);
            let zf = if act == "bkwta" {
                zero
            } else {
                fx(act, z1) * os
            };
            jo[i] = jm.f();
            zo[i] = z1.f();
            fo[i] = zf.f();
            // Scales: the magnitudes each result is computed from.
            let (ja, za, ta) = (j.f().abs(), z.f().abs(), jt.f().abs());
            sc[0][i] = ja * self.resist.abs() * 2.0;
            let drive = self.leak.abs() * (za + 2.0) + jm.f().abs() + ta;
            sc[1][i] = za + 4.0 * (dt * r.f()).abs() * drive + self.lambda.abs();
            let slope = if act == "bkwta" {
                1.0
            } else {
                dfx(act, z1).f().abs().max(1.0)
            };
            sc[2][i] = self.out_scale.abs() * (zf.f().abs() + slope * sc[1][i]);
            if matches!(act, "unit_threshold" | "heaviside") {
                // A last-bit difference in z may flip the mask where z is at the threshold.
                let thr = if act == "heaviside" { 0.0 } else { 1.0 };
                if (z1.f() - thr).abs() <= 1e-3 * sc[1][i].max(1.0) {
                    sc[2][i] = (self.out_scale.abs() + 1.0) * 1e4;
                }
            }
        }
        if act == "bkwta" {
            let (m, dist) = bkwta(&z_new, row);
            for i in 0..n {
                fo[i] = (m[i] * os).f();
                // A last-bit difference in z may move a value across the row's 5th largest.
                if dist[i] <= 1e-3 * sc[1][i].max(1.0) {
                    sc[2][i] = (self.out_scale.abs() + 1.0) * 1e4;
                }
            }
        }
        (jo, zo, fo, sc)
    }

    /// `output_scale` in the cell's type (float32 first for the binary masks).
    fn scale_of<T: Num>(&self, act: &str) -> T {
        if is_binary(act) {
            T::of(self.out_scale as f32 as f64)
        } else {
            T::of(self.out_scale)
        }
    }

    /// zF of a stateless cell: `fx(j + j_td) * output_scale`; softmax over axis 1.
    fn stateless<T: Num>(&self, st: &State) -> (Vec<f64>, Vec<f64>) {
        let act = self.act();
        let os = self.scale_of::<T>(act);
        let z: Vec<T> = st.vals[J]
            .iter()
            .zip(&st.vals[J_TD])
            .map(|(&a, &b)| T::of(a) + T::of(b))
            .collect();
        let mut f = vec![0.0; z.len()];
        if act == "bkwta" {
            let (m, _) = bkwta(&z, st.unit_len());
            for (o, v) in f.iter_mut().zip(m) {
                *o = (v * os).f();
            }
        } else if act == "softmax" {
            let dims = st.state_dims(st.batch);
            let a = dims[1];
            let inner: usize = dims[2..].iter().product();
            for b in 0..dims[0] {
                for k in 0..inner {
                    let at = |h: usize| b * a * inner + h * inner + k;
                    let mut m = z[at(0)];
                    for h in 1..a {
                        if z[at(h)] > m || z[at(h)].nan() {
                            m = z[at(h)];
                        }
                        if m.nan() {
                            break;
                        }
                    }
                    let e: Vec<T> = (0..a).map(|h| (z[at(h)] - m).exp()).collect();
                    let mut s = T::of(0.0);
                    for &v in &e {
                        s = s + v;
                    }
                    for h in 0..a {
                        f[at(h)] = ((e[h] * (T::of(1.0) / s)) * os).f();
                    }
                }
            }
        } else {
            for (o, &v) in f.iter_mut().zip(&z) {
                *o = (fx(act, v) * os).f();
            }
        }
        (z.iter().map(|v| v.f()).collect(), f)
    }
}

/// A C string argument (NULL for `None`).
fn ptr(s: &Option<std::ffi::CString>) -> *const std::ffi::c_char {
    s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

impl CellModel for Rate {
    fn comps(&self) -> &'static [CompSpec] {
        COMPS
    }
    fn type_name(&self) -> &'static str {
        "RateCell"
    }
    fn describe(&self) -> String {
        format!(
            "tau {} prior {:?} {} act {:?} out {} thr {:?} {} integ {:?} resist {} stateful {}",
            self.tau,
            self.prior,
            self.leak,
            self.act,
            self.out_scale,
            self.thr,
            self.lambda,
            self.integ,
            self.resist,
            self.is_stateful
        )
    }
    fn func(&self) -> &'static str {
        "ngc_rate_cell_new"
    }
    fn shape_err(&self, unit: &[usize]) -> Option<NgcStatus> {
        // bkwta keeps the 5 largest of each row of a 2-D state.
        (self.act() == "bkwta" && (unit.len() != 1 || unit[0] < 5))
            .then_some(NGC_ERR_INVALID_ARGUMENT)
    }
    fn hyper_err(&self) -> Option<NgcStatus> {
        let bad = self.prior.bad() || self.act.bad() || self.thr.bad() || self.integ.bad();
        let stateful_softmax = self.act() == "softmax" && self.stateful();
        (bad || stateful_softmax).then_some(NGC_ERR_INVALID_ARGUMENT)
    }
    unsafe fn call_new(&self, a: &NewArgs) -> NgcStatus {
        let (p, f, t, i) = (self.prior.c(), self.act.c(), self.thr.c(), self.integ.c());
        // SAFETY: forwarded contract; the strings live until the call returns.
        unsafe {
            ngc_rate_cell_new(
                a.name,
                a.n_units,
                a.batch,
                self.tau,
                ptr(&p),
                self.leak,
                ptr(&f),
                self.out_scale,
                ptr(&t),
                self.lambda,
                ptr(&i),
                self.resist,
                self.is_stateful,
                a.shape,
                a.dtype,
                a.out,
            )
        }
    }
    fn loss_index(&self) -> Option<usize> {
        None
    }
    fn advance(&mut self, st: &mut State, _t: f64, dt: f64) -> Computed {
        let mut computed: Computed = vec![None; COMPS.len()];
        if self.stateful() {
            let (j, z, f, sc) = if st.f64 {
                self.step::<f64>(st, dt)
            } else {
                self.step::<f32>(st, dt)
            };
            st.vals[J] = j;
            st.vals[Z] = z;
            st.vals[ZF] = f;
            let [sj, sz, sf] = sc;
            computed[J] = Some(Tol { scale: sj });
            computed[Z] = Some(Tol { scale: sz });
            computed[ZF] = Some(Tol { scale: sf });
        } else {
            // z = j + j_td exactly; j is not touched.
            let (z, f) = if st.f64 {
                self.stateless::<f64>(st)
            } else {
                self.stateless::<f32>(st)
            };
            let scale = z
                .iter()
                .map(|v| v.abs() * self.out_scale.abs() * 30.0)
                .collect();
            st.vals[Z] = z;
            st.vals[ZF] = f;
            computed[ZF] = Some(Tol { scale });
        }
        computed
    }
}

/// The row `rate` of the family table: tau 10, gaussian 0.1, tanh, euler.
fn row() -> Rate {
    Rate {
        tau: 10.0,
        prior: Name::Good("gaussian"),
        leak: 0.1,
        act: Name::Good("tanh"),
        out_scale: 1.0,
        thr: Name::Good("none"),
        lambda: 0.0,
        integ: Name::Good("euler"),
        resist: 1.0,
        is_stateful: true,
    }
}

/// The family rows of this type.
pub fn rows() -> Vec<Kind> {
    vec![Kind {
        label: "rate",
        takes_shape: true,
        new: None,
        gen: |_| Some(Box::new(row())),
    }]
}

/// A name drawn from `good`, NULL now and then, an invalid one rarely.
fn draw(r: &mut R, good: &[&'static str], bad: &[&'static str]) -> Option<Name> {
    Some(match r.below(100)? {
        0..=7 => Name::Null,
        8..=10 => Name::Bad(r.pick(bad)?),
        _ => Name::Good(r.pick(good)?),
    })
}

fn random(r: &mut R) -> Option<Box<dyn CellModel>> {
    let integs: Vec<&'static str> = INTEGRATIONS.iter().map(|(n, _)| *n).collect();
    Some(Box::new(Rate {
        tau: r.pick(&[10.0, 1.0, 0.5, 3.0, 0.0, -1.0])?,
        prior: draw(r, &PRIORS, &["student", "Gaussian"])?,
        leak: r.pick(&[0.0, 0.1, 0.5, 1.0])?,
        act: draw(r, &ACTS, &["relu7", "my_heaviside", "bkwta2"])?,
        out_scale: r.pick(&[1.0, 2.5, -0.5, 0.1])?,
        thr: draw(
            r,
            &["none", "soft_threshold"],
            &["cauchy_threshold", "hard"],
        )?,
        lambda: r.pick(&[0.0, 0.1, 0.5])?,
        integ: draw(r, &integs, &["rk3", "Euler"])?,
        resist: r.pick(&[1.0, 0.5, 2.0])?,
        is_stateful: r.pct(80)?,
    }))
}

/// RateCell with every hyper-parameter drawn.
pub fn randomized() -> Vec<Kind> {
    vec![Kind {
        label: "rate_random",
        takes_shape: true,
        new: None,
        gen: random,
    }]
}
