//! Branch-free `ln`, `exp` and XLA's `tanh`/`exp` for the kernels, written on
//! plain `f32`/`f64` values so that a loop over a fixed-width chunk of lanes
//! auto-vectorises (every step is an add, multiply, fused multiply-add,
//! compare/select, an integer operation on the bits, or in `ln_f64`, `tanh_*`
//! and `exp_xla_f64` one IEEE division; no table, no branch). A table-driven `ln` would need gathers, which are slower than
//! the polynomial they save on the CPUs measured (AVX-512 `vgatherqpd`: the f64
//! kernel took twice as long), or per-instruction-set permutes.
//!
//! `F` chooses fused multiply-adds (`true`: `mul_add`, one rounding) or a plain
//! multiply then add (`false`, for x86-64 CPUs without FMA, where `mul_add`
//! would be a slow libm call). With `F = true` the result is the same bits on
//! every CPU and every SIMD width.
//!
//! Accuracy, measured by `examples/ulp.rs` (see `docs/benchmarks.md`) on exactly the
//! inputs the Bernoulli kernel feeds these functions; f32 against the f64 C
//! library, f64 against an exact reference (`bench/ulp_f64.py`) where it differs
//! from glibc (itself within 0.52 ulp):
//!
//! | function | inputs | max error, F = true (false) |
//! |---|---|---|
//! | [`ln_f32`] | every f32 in `[1e-4, 0.9999]` (the clipped `q` and `1 - q`) | 0.898 (0.936) ulp |
//! | [`exp_f32`] | every f32 in `[-86.6, 88.72]` (`-p`; outside, see the function) | 0.688 (0.700) ulp |
//! | [`ln_f64`] | 2^26 doubles spread over `[1e-4, 0.9999]` | 0.851 ulp |
//! | [`exp_f64`] | 2^26 doubles spread over `[-707, 709.78]` | 0.744 ulp |
//!
//! XLA's own `tanh` and `exp` (RateCell's activations: bit for bit what
//! ngc-learn's `jnp.tanh`/`jnp.exp` give on CPU, with `F = true`), same sources:
//!
//! | function | inputs | max error, F = true |
//! |---|---|---|
//! | [`tanh_f32`] | every f32 in `[0, 20]` (odd) | 4.896 ulp (at 5.126) |
//! | [`exp_xla_f32`] | every f32 in `[-87.33, 88.72]` | 1.013 ulp |
//! | [`tanh_f64`] | 2^25 doubles uniform in `[-20, 20]` | 8 ulp from glibc |
//! | [`exp_xla_f64`] | 2^25 doubles uniform in `[-708.39, 709.78]` | 2 ulp from glibc |

// The coefficients are written as fitted (more digits than the type holds);
// the compiler rounds each to the nearest float, which is what was measured.
#![allow(clippy::excessive_precision)]

/// `if c { a } else { b }` on values: becomes a compare-and-blend in vector code.
#[inline(always)]
fn sel<T>(c: bool, a: T, b: T) -> T {
    if c {
        a
    } else {
        b
    }
}

#[inline(always)]
fn fma32<const F: bool>(a: f32, b: f32, c: f32) -> f32 {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[inline(always)]
fn fma64<const F: bool>(a: f64, b: f64, c: f64) -> f64 {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `Q(f) ~ (ln(1+f) - f) / f^2` on `[-1/3, 1/3]`, degree 8 (weighted minimax, 2^-27.7 relative on `ln(1+f)`).
const LN32_Q: [f32; 9] = [
    -0.500_000_012_072_788_4,
    0.333_332_084_145_315_7,
    -0.249_997_175_217_559_9,
    0.200_107_477_077_868_5,
    -0.166_823_033_607_583_6,
    0.140_011_589_395_105,
    -0.121_671_849_125_591_99,
    0.140_047_648_983_877_1,
    -0.129_488_352_988_494_5,
];
/// `E(r) ~ (e^r - 1 - r) / r^2` on `[-ln2/2, ln2/2]`, degree 4 (2^-28.3 relative on `e^r`).
const EXP32_E: [f32; 5] = [
    0.499_999_934_514_335_1,
    0.166_665_206_869_819_53,
    0.041_668_387_415_387_48,
    0.008_368_710_105_860_344,
    0.001_381_461_085_488_450_4,
];
/// `R(z) ~ (2 atanh(s) - 2s) / s` with `z = s^2`, `|s| <= 0.1716`, degree 7 in `z`
/// (fdlibm's `__ieee754_log` coefficients, Sun Microsystems 1993; 2^-58.45 on `R`).
const LN64_LG: [f64; 7] = [
    6.666_666_666_666_735_130e-01,
    3.999_999_999_940_941_908e-01,
    2.857_142_874_366_239_149e-01,
    2.222_219_843_214_978_396e-01,
    1.818_357_216_161_805_012e-01,
    1.531_383_769_920_937_332e-01,
    1.479_819_860_511_658_591e-01,
];
/// `E(r)` for f64, degree 9 (2^-57.9 relative on `e^r`).
const EXP64_E: [f64; 10] = [
    0.500_000_000_000_001_061_845_989_2,
    0.166_666_666_666_664_127_554_981_4,
    0.041_666_666_666_530_252_000_797_44,
    0.008_333_333_333_494_336_451_099_894,
    0.001_388_888_894_360_119_792_883_678,
    0.000_198_412_695_067_855_378_399_457_6,
    0.000_024_801_493_132_734_535_477_374_55,
    0.000_002_755_758_625_283_303_076_447_353,
    0.000_000_276_302_350_952_136_825_272_559_4,
    0.000_000_025_000_078_544_674_481_131_489_56,
];

/// Natural log for positive normal `x`, NaN for NaN. Meant for the kernel's
/// clipped probabilities `[1e-4, 0.9999]` (measured there only); meaningless
/// for 0, negatives, subnormals and infinity, which the kernel never feeds it
/// (`clip` comes first).
///
/// `x = 2^e * m` with `m` in `[2/3, 4/3)`, `f = m - 1` (exact), then
/// `ln x = e*ln2_hi + (f + (e*ln2_lo + f^2 Q(f)))`, the last step one fused multiply-add.
#[inline(always)]
pub fn ln_f32<const F: bool>(x: f32) -> f32 {
    ln_f32_finish::<F>(ln_f32_start(x))
}

/// The reduction of [`ln_f32`]: `[f, e as f32, 0]` (the last slot is unused;
/// it makes the parts the same shape as [`ln_f64_start`]'s).
#[inline(always)]
pub fn ln_f32_start(x: f32) -> [f32; 3] {
    const OFF: u32 = 0x3f2a_aaab; // 2/3
    let ix = x.to_bits();
    let tmp = ix.wrapping_sub(OFF);
    let e = (tmp as i32) >> 23;
    // m = x * 2^-e: a multiplication (exact), so that a NaN x gives a NaN m.
    let m = x * f32::from_bits(0x3f80_0000u32.wrapping_sub(tmp & 0xff80_0000));
    [m - 1.0, e as f32, 0.0]
}

/// The rest of [`ln_f32`], from [`ln_f32_start`]'s parts.
#[inline(always)]
pub fn ln_f32_finish<const F: bool>([f, ef, _]: [f32; 3]) -> f32 {
    const LN2_HI: f32 = 0.693_138_122_56; // 0x3f317180: e * LN2_HI is exact
    const LN2_LO: f32 = 9.058_000_614_5e-6;
    let q = &LN32_Q;
    let mut poly = q[8];
    for &c in q[..8].iter().rev() {
        poly = fma32::<F>(poly, f, c);
    }
    let f2 = f * f;
    let lo = fma32::<F>(f2, poly, ef * LN2_LO);
    fma32::<F>(ef, LN2_HI, f + lo)
}

/// `e^x` as the kernel's sigmoid needs it: within 1 ulp for `x` in
/// `[-86.6, 88.72]`, `+inf` above `ln(f32::MAX)` (overflowing by itself),
/// NaN for NaN, and for `x < -86.6` the value at -86.6 (about 2.4e-38) instead of
/// a smaller one: any value below 2^-25 gives the same `1 / (1 + e^x)`, which is 1.
#[inline(always)]
pub fn exp_f32<const F: bool>(x: f32) -> f32 {
    const LO: f32 = -86.6; // keeps n >= -125, so that 2^(n-1) is a normal float
    const HI: f32 = 89.0;
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const SHIFT: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    const LN2_HI: f32 = 0.693_145_751_953_125; // 0x3f317200: n * LN2_HI is exact
    const LN2_LO: f32 = 1.428_606_820_309_417_2e-6;
    // NaN-propagating clamp (a NaN compares false and is kept).
    let xc = sel(x < LO, LO, sel(x > HI, HI, x));
    let z = fma32::<F>(xc, LOG2E, SHIFT);
    let n = z - SHIFT;
    // r = x - n ln2 = r1 + c, r1 exact; e^r = 1 + r1 + (c + r^2 E(r)), with
    // 1 + r1 split error-free (Fast2Sum) so that only the last addition rounds much.
    let r1 = fma32::<F>(-n, LN2_HI, xc);
    let c = -n * LN2_LO;
    let r = r1 + c;
    let ec = &EXP32_E;
    let mut poly = ec[4];
    for &k in ec[..4].iter().rev() {
        poly = fma32::<F>(poly, r, k);
    }
    let s = 1.0 + r1;
    let t = (1.0 - s) + r1;
    let y = s + (t + fma32::<F>(r * r, poly, c));
    // e^x = y * 2^(n-1) * 2: multiplications, so that overflow gives +inf and
    // NaN stays NaN by themselves. z = SHIFT + n exactly, so
    // bits(2^(n-1)) = (n + 126) << 23 = (bits(z) + 126 - bits(SHIFT)) << 23.
    let k = 126u32.wrapping_sub(SHIFT.to_bits());
    let scale = f32::from_bits(z.to_bits().wrapping_add(k) << 23);
    (y * scale) * 2.0
}

/// Natural log for f64, with the same domain as [`ln_f32`], by fdlibm's method
/// rather than a longer polynomial: `x = 2^e * m` with `m` in `[sqrt(2)/2,
/// sqrt(2))`, `f = m - 1` (exact), `s = f / (2 + f)` (one division),
/// `ln(1 + f) = 2 atanh(s) = f - (f^2/2 - s (f^2/2 + R(s^2)))`, `R` of degree 7 in
/// `s^2`, evaluated by Estrin's scheme (pairs of terms, then the powers `s^4`
/// and `s^8`: a chain 7 cycles shorter than fdlibm's two Horner halves, 3.5%
/// of the f64 Bernoulli kernel on Zen 3; the error bound is unchanged, 0.851
/// ulp). The division replaces twelve polynomial terms: on CPUs whose divider
/// runs beside the multiply-add units that is about 10% of the f64 kernel.
/// The error is lower too: the rounding errors of `s` and of the correction
/// term are multiplied by `f^2`-sized quantities.
///
/// [`ln_f64_start`] and [`ln_f64_finish`] are its two halves: the reduction
/// with the division, then the polynomial; a kernel that runs the first for a
/// whole chunk before the second keeps its divisions out of the polynomials'
/// dependency chains ([`ErrorKernel::early`](super::elementwise::ErrorKernel::early)).
#[inline(always)]
pub fn ln_f64<const F: bool>(x: f64) -> f64 {
    ln_f64_finish::<F>(ln_f64_start(x))
}

/// The start of [`ln_f64`]: `[f, s, e as f64]`, the reduction and its division.
#[inline(always)]
pub fn ln_f64_start(x: f64) -> [f64; 3] {
    const OFF: u64 = 0x3fe6_a09e_667f_3bcd; // sqrt(2)/2
    const ISHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    let ix = x.to_bits();
    let tmp = ix.wrapping_sub(OFF);
    let e = (tmp as i64) >> 52;
    // m = x * 2^-e: a multiplication (exact), so that a NaN x gives a NaN m.
    let m = x * f64::from_bits(0x3ff0_0000_0000_0000u64.wrapping_sub(tmp & 0xfff0_0000_0000_0000));
    let f = m - 1.0;
    // `e as f64` without a 64-bit integer conversion (which AVX2 lacks).
    let ef = f64::from_bits(ISHIFT.to_bits().wrapping_add(e as u64)) - ISHIFT;
    [f, f / (2.0 + f), ef]
}

/// The rest of [`ln_f64`], from [`ln_f64_start`]'s parts.
#[inline(always)]
pub fn ln_f64_finish<const F: bool>([f, s, ef]: [f64; 3]) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01; // 32 significant bits
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    let z = s * s;
    let w = z * z;
    let lg = &LN64_LG;
    // R = z P(z), P by Estrin's scheme: pairs, then powers w and w^2.
    let a = fma64::<F>(lg[1], z, lg[0]);
    let b = fma64::<F>(lg[3], z, lg[2]);
    let c = fma64::<F>(lg[6], w, fma64::<F>(lg[5], z, lg[4]));
    let r = z * fma64::<F>(w * w, c, fma64::<F>(w, b, a));
    let hfsq = 0.5 * f * f;
    fma64::<F>(
        ef,
        LN2_HI,
        -((hfsq - fma64::<F>(s, hfsq + r, ef * LN2_LO)) - f),
    )
}

/// [`exp_f32`] for f64: within 1 ulp for `x` in `[-707, 709.78]`, `+inf`
/// above, NaN for NaN, the value at -707 (about 9.3e-308) below.
#[inline(always)]
pub fn exp_f64<const F: bool>(x: f64) -> f64 {
    const LO: f64 = -707.0; // keeps n >= -1020, so that 2^(n-1) is a normal double
    const HI: f64 = 710.0;
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    let xc = sel(x < LO, LO, sel(x > HI, HI, x));
    let z = fma64::<F>(xc, LOG2E, SHIFT);
    let n = z - SHIFT;
    let r1 = fma64::<F>(-n, LN2_HI, xc);
    let c = -n * LN2_LO;
    let r = r1 + c;
    let ec = &EXP64_E;
    let r2 = r * r;
    let r4 = r2 * r2;
    let mut a = ec[4];
    for &c in ec[..4].iter().rev() {
        a = fma64::<F>(a, r, c);
    }
    let mut b = ec[9];
    for &c in ec[5..9].iter().rev() {
        b = fma64::<F>(b, r, c);
    }
    let poly = fma64::<F>(r4 * r, b, a);
    let s = 1.0 + r1;
    let t = (1.0 - s) + r1;
    let y = s + (t + fma64::<F>(r2, poly, c));
    let k = 1022u64.wrapping_sub(SHIFT.to_bits());
    let scale = f64::from_bits(z.to_bits().wrapping_add(k) << 52);
    (y * scale) * 2.0
}

/// XLA's `tanh` for f32 (what ngc-learn's `jnp.tanh` runs on CPU), bit for bit
/// with `F = true`: a [13/6] odd/even rational function of `x` clamped to
/// `±7.998811722` (where it is exactly ±1), `x` itself for `|x| < 0.0004`, and
/// `±1` for `|x| >= 20`; NaN for NaN. Branch-free (compares, selects, one division).
///
/// With `F = true` XLA's `|x| >= 20` select changes nothing: every such `x`
/// (and `±inf`) is clamped first, and the rational function with fused
/// multiply-adds is exactly `±1` at the clamp (NaN passes both unchanged). So
/// it is left out there, three operations of the twenty or so (RateCell's step
/// kernel evaluates `tanh` twice per element); without fused multiply-adds the
/// clamp gives 0.9999998 and the select is kept. Checked on every f32.
#[inline(always)]
pub fn tanh_f32<const F: bool>(x: f32) -> f32 {
    tanh_f32_with::<F>(x, !F)
}

/// [`tanh_f32`] with XLA's `|x| >= 20` select applied or not.
#[inline(always)]
fn tanh_f32_with<const F: bool>(x: f32, select_20: bool) -> f32 {
    const CLAMP: f32 = 7.99881172180175781;
    const NUM: [f32; 7] = [
        -2.76076847742355e-16,
        2.00018790482477e-13,
        -8.60467152213735e-11,
        5.12229709037114e-08,
        1.48572235717979e-05,
        6.37261928875436e-04,
        4.89352455891786e-03,
    ];
    const DEN: [f32; 4] = [
        1.19825839466702e-06,
        1.18534705686654e-04,
        2.26843463243900e-03,
        4.89352518554385e-03,
    ];
    let ax = x.abs();
    let xc = sel(x < -CLAMP, -CLAMP, sel(x > CLAMP, CLAMP, x));
    let x2 = xc * xc;
    let mut n = NUM[0];
    for &c in &NUM[1..] {
        n = fma32::<F>(x2, n, c);
    }
    let n = xc * n;
    let mut d = DEN[0];
    for &c in &DEN[1..] {
        d = fma32::<F>(x2, d, c);
    }
    let r = sel(ax < 0.0004, x, n / d);
    if select_20 {
        sel(ax >= 20.0, 1.0f32.copysign(x), r)
    } else {
        r
    }
}

/// XLA's `tanh` for f64 (Eigen's `ptanh_double`), bit for bit with `F = true`:
/// a [19/18] odd/even rational function of `x` clamped to `±17.714196154`,
/// `±1` for `|x| >= 20`; NaN for NaN.
#[inline(always)]
pub fn tanh_f64<const F: bool>(x: f64) -> f64 {
    const CLAMP: f64 = 17.714196154005176;
    const NUM: [f64; 10] = [
        2.6158007860482230e-23,
        7.6534862268749319e-19,
        3.1309488231386680e-15,
        4.2303918148209176e-12,
        2.4618379131293676e-09,
        6.8644367682497074e-07,
        9.3839087674268880e-05,
        5.9809711724441161e-03,
        1.5184719640284322e-01,
        1.0,
    ];
    const DEN: [f64; 10] = [
        6.463747022670968018e-21,
        5.782506856739003571e-17,
        1.293019623712687916e-13,
        1.123643448069621992e-10,
        4.492975677839633985e-08,
        8.785185266237658698e-06,
        8.295161192716231542e-04,
        3.437448108450402717e-02,
        4.851805297361760360e-01,
        1.0,
    ];
    let xc = sel(x < -CLAMP, -CLAMP, sel(x > CLAMP, CLAMP, x));
    let x2 = xc * xc;
    let mut n = NUM[0];
    for &c in &NUM[1..] {
        n = fma64::<F>(x2, n, c);
    }
    let n = xc * n;
    let mut d = DEN[0];
    for &c in &DEN[1..] {
        d = fma64::<F>(x2, d, c);
    }
    sel(x.abs() >= 20.0, 1.0f64.copysign(x), n / d)
}

/// XLA's `exp` for f32 (what `jnp.exp` runs on CPU: Cephes' polynomial), bit for
/// bit with `F = true`, including XLA's flush of results below `2^-126` to 0;
/// `+inf` above about 88.72, NaN for NaN. Branch-free.
#[inline(always)]
pub fn exp_xla_f32<const F: bool>(x: f32) -> f32 {
    const SHIFT: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    const LN2_HI: f32 = 0.693145751953125;
    const LN2_LO: f32 = 1.4286067653301877e-6;
    const P: [f32; 6] = [
        1.9875691500E-4,
        1.3981999507E-3,
        8.3334519073E-3,
        4.1665795894E-2,
        1.6666665459E-1,
        5.0000001201E-1,
    ];
    let xc = sel(x < -87.8, -87.8, sel(x > 88.8, 88.8, x));
    // n = floor(x log2(e) + 1/2), clamped to [-127, 128].
    let y = fma32::<F>(xc, std::f32::consts::LOG2_E, 0.5);
    let r = (y + SHIFT) - SHIFT;
    let n = sel(r > y, r - 1.0, r);
    let n = sel(n < -127.0, -127.0, sel(n > 128.0, 128.0, n));
    let a = fma32::<F>(-n, LN2_HI, xc);
    let a = fma32::<F>(-n, LN2_LO, a);
    let mut z = fma32::<F>(a, P[0], P[1]);
    for &c in &P[2..] {
        z = fma32::<F>(z, a, c);
    }
    let z = 1.0 + fma32::<F>(z, a * a, a);
    // z * 2^n: 2^min(n, 127) as bits (0 for n = -127), and one more power of two
    // added to z's exponent for n = 128.
    // n as an integer without a float-to-int conversion (which would not vectorise
    // with Rust's saturating `as`): n + 1.5 * 2^23 holds n in its low bits.
    let ni = (n + SHIFT).to_bits().wrapping_sub(SHIFT.to_bits());
    let biased = ni.wrapping_add(127) << 23;
    let p2 = biased.min(0x7f00_0000);
    let zs = f32::from_bits(z.to_bits().wrapping_add(biased - p2));
    let res = zs * f32::from_bits(p2);
    sel(x.is_nan(), x, sel(res < f32::MIN_POSITIVE, 0.0, res))
}

/// XLA's `exp` for f64 (Eigen's rational Pade form), bit for bit with `F = true`:
/// 0 below -708.396 (XLA's cut), `+inf` above 709.78, NaN for NaN.
#[inline(always)]
pub fn exp_xla_f64<const F: bool>(x: f64) -> f64 {
    const HI: f64 = 709.782712893384;
    const LO: f64 = -708.3964185322641;
    const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    const C1: f64 = 0.693145751953125;
    const C2: f64 = 1.42860682030941723212e-6;
    const P: [f64; 3] = [
        1.26177193074810590878e-4,
        3.02994407707441961300e-2,
        9.99999999999999999910e-1,
    ];
    const Q: [f64; 4] = [
        3.00198505138664455042e-6,
        2.52448340349684104192e-3,
        2.27265548208155028766e-1,
        2.00000000000000000009e0,
    ];
    let xc = sel(x > HI, HI, sel(x < LO, LO, x));
    let y = fma64::<F>(xc, std::f64::consts::LOG2_E, 0.5);
    let r = (y + SHIFT) - SHIFT;
    let n = sel(r > y, r - 1.0, r);
    let g = fma64::<F>(-n, C1, xc);
    let g = fma64::<F>(-n, C2, g);
    let g2 = g * g;
    let p = fma64::<F>(fma64::<F>(P[0], g2, P[1]), g2, P[2]) * g;
    let q = fma64::<F>(fma64::<F>(fma64::<F>(Q[0], g2, Q[1]), g2, Q[2]), g2, Q[3]);
    let e = fma64::<F>(p / (q - p), 2.0, 1.0);
    // ldexp(e, n), n in [-1022, 1024]: 2^min(n, 1023), then 2 once more for n = 1024.
    let ni = (n + SHIFT).to_bits().wrapping_sub(SHIFT.to_bits()) as i64;
    let k = ni.min(1023);
    let pk = f64::from_bits((k.wrapping_add(1023) as u64) << 52);
    let extra = f64::from_bits((ni.wrapping_sub(k).wrapping_add(1023) as u64) << 52);
    let res = (e * pk) * extra;
    sel(x < LO, 0.0, sel(x > HI, f64::INFINITY, res))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulp32(approx: f32, exact: f64) -> f64 {
        let e = exact as f32;
        let ulp = if e == 0.0 {
            f32::from_bits(1) as f64
        } else {
            let b = e.abs().to_bits();
            (f32::from_bits(b + 1) - f32::from_bits(b)) as f64
        };
        ((approx as f64) - exact).abs() / ulp
    }

    /// Strided sweep (every 61st float) of the kernel's log inputs; the full
    /// sweep is `examples/ulp.rs`.
    #[test]
    fn ln_f32_is_within_one_ulp_on_the_clipped_range() {
        for fma in [true, false] {
            let mut worst = 0.0f64;
            let (a, b) = (1e-4f32.to_bits(), 0.9999f32.to_bits());
            let mut i = a;
            while i <= b {
                let x = f32::from_bits(i);
                let y = if fma {
                    ln_f32::<true>(x)
                } else {
                    ln_f32::<false>(x)
                };
                worst = worst.max(ulp32(y, (x as f64).ln()));
                i += 61;
            }
            let bound = if fma { 1.0 } else { 1.5 };
            assert!(worst < bound, "fma={fma}: {worst} ulp");
        }
    }

    #[test]
    fn exp_f32_is_within_one_ulp_and_handles_the_edges() {
        let mut worst = 0.0f64;
        for i in (0..=u32::MAX).step_by(977) {
            let x = f32::from_bits(i);
            if !(-86.6f32..=88.72).contains(&x) {
                continue;
            }
            worst = worst.max(ulp32(exp_f32::<true>(x), (x as f64).exp()));
        }
        assert!(worst < 1.0, "{worst} ulp");
        assert!(exp_f32::<true>(f32::NAN).is_nan());
        assert_eq!(exp_f32::<true>(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32::<true>(89.0), f32::INFINITY);
        assert_eq!(exp_f32::<true>(88.73), f32::INFINITY);
        assert!(exp_f32::<true>(88.72).is_finite());
        assert!(exp_f32::<true>(f32::NEG_INFINITY) < 3e-38);
        assert!(exp_f32::<true>(-86.6) > 0.0);
        assert_eq!(exp_f32::<true>(0.0), 1.0);
        assert!(exp_f64::<true>(f64::NAN).is_nan());
        assert_eq!(exp_f64::<true>(710.0), f64::INFINITY);
        assert_eq!(exp_f64::<true>(f64::INFINITY), f64::INFINITY);
        assert!(exp_f64::<true>(f64::NEG_INFINITY) < 1e-307);
        assert!(exp_f64::<true>(-707.0) > 0.0);
        assert!(ln_f32::<true>(f32::NAN).is_nan());
        assert!(ln_f64::<true>(f64::NAN).is_nan());
    }

    /// Pairs (input bits, XLA's result bits) from `jax.jit(jnp.tanh)` /
    /// `jax.jit(jnp.exp)` on CPU (jax 0.12, x86-64), where glibc's result differs.
    const XLA_TANH_F32: [(u32, u32); 3] = [
        (0xc07e46e5, 0xbf7fd19c),
        (0x3f517c86, 0x3f2c94e7),
        (0x40032445, 0x3f77a35b),
    ];
    const XLA_TANH_F64: [(u64, u64); 2] = [
        (0x3fde81a0f211b048, 0x3fdc6363c29a7b51),
        (0xc01a19034fd7b000, 0xbfeffff6f8b67afe),
    ];
    const XLA_EXP_F32: [(u32, u32); 3] = [
        (0x40cec828, 0x4420130c),
        (0xc0f20212, 0x3a082b42),
        (0xc0764899, 0x3caea418),
    ];
    const XLA_EXP_F64: [(u64, u64); 3] = [
        (0x3fd33ef6c3c6472f, 0x3ff59cfe35f41a22),
        (0x40175292ffb1e260, 0x407549381a94daae),
        (0xbfdc89aaa6286cd8, 0x3fe47ce594c20c02),
    ];

    /// XLA's `|x| >= 20` select is redundant in f32 with fused multiply-adds
    /// (which is why `tanh_f32::<true>` leaves it out), not without them.
    #[test]
    fn tanh_f32_needs_the_select_only_without_fma() {
        for s in [1.0f32, -1.0] {
            assert_eq!(tanh_f32_with::<true>(s * 7.998_811_7, false), s);
            assert_eq!(tanh_f32_with::<true>(s * 20.0, false), s);
        }
        assert_eq!(tanh_f32::<false>(7.998_811_7), 0.999_999_8);
        assert_eq!(tanh_f32::<false>(20.0), 1.0);
        let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        let special = [
            0.0f32,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            1e-45,
        ];
        // Every 1021st bit pattern (4.2 million values, all exponents), and the
        // specials; all 2^32 were checked once outside the suite.
        for x in (0..=u32::MAX)
            .step_by(1021)
            .map(f32::from_bits)
            .chain(special)
        {
            let (without, with) = (
                tanh_f32_with::<true>(x, false),
                tanh_f32_with::<true>(x, true),
            );
            assert!(
                same(without, with),
                "tanh({x:e}): {without:e} without the select, {with:e} with"
            );
        }
    }

    #[test]
    fn xla_tanh_and_exp_give_xlas_bits() {
        for (x, y) in XLA_TANH_F32 {
            assert_eq!(
                tanh_f32::<true>(f32::from_bits(x)).to_bits(),
                y,
                "tanh {x:#x}"
            );
        }
        for (x, y) in XLA_TANH_F64 {
            assert_eq!(
                tanh_f64::<true>(f64::from_bits(x)).to_bits(),
                y,
                "tanh {x:#x}"
            );
        }
        for (x, y) in XLA_EXP_F32 {
            assert_eq!(
                exp_xla_f32::<true>(f32::from_bits(x)).to_bits(),
                y,
                "exp {x:#x}"
            );
        }
        for (x, y) in XLA_EXP_F64 {
            assert_eq!(
                exp_xla_f64::<true>(f64::from_bits(x)).to_bits(),
                y,
                "exp {x:#x}"
            );
        }
        // Edges, as jnp on CPU: NaN, infinities, overflow, flush of tiny results.
        let (nan, inf) = (f32::NAN, f32::INFINITY);
        assert!(tanh_f32::<true>(nan).is_nan() && tanh_f64::<true>(f64::NAN).is_nan());
        assert_eq!(tanh_f32::<true>(inf), 1.0);
        assert_eq!(tanh_f32::<true>(-inf), -1.0);
        assert_eq!(tanh_f32::<true>(1e-40), 1e-40);
        assert_eq!(tanh_f64::<true>(-25.0), -1.0);
        assert!(exp_xla_f32::<true>(nan).is_nan() && exp_xla_f64::<true>(f64::NAN).is_nan());
        assert_eq!(exp_xla_f32::<true>(inf), inf);
        assert_eq!(exp_xla_f32::<true>(-inf), 0.0);
        assert_eq!(exp_xla_f32::<true>(88.72), 3.393_180_6e38);
        assert_eq!(exp_xla_f32::<true>(88.73), inf);
        assert_eq!(exp_xla_f32::<true>(-87.4), 0.0);
        assert!(exp_xla_f64::<true>(709.78) > 1.79e308);
        assert_eq!(exp_xla_f64::<true>(709.79), f64::INFINITY);
        assert_eq!(exp_xla_f64::<true>(-708.4), 0.0);
        assert!(exp_xla_f64::<true>(-708.39) > 2.2e-308);
    }

    /// Strided sweeps (the full ones are `examples/ulp.rs`): XLA's tanh and exp stay
    /// within a few ulp of the exact value (tanh: 4.2 ulp at worst here).
    #[test]
    fn xla_tanh_and_exp_are_within_a_few_ulp() {
        let (mut t, mut e) = (0.0f64, 0.0f64);
        for i in (0..0x4180_0000u32).step_by(101) {
            let x = f32::from_bits(i); // [0, 16)
            t = t.max(ulp32(tanh_f32::<true>(x), (x as f64).tanh()));
            t = t.max(ulp32(tanh_f32::<true>(-x), -(x as f64).tanh()));
        }
        for i in (0..=u32::MAX).step_by(977) {
            let x = f32::from_bits(i);
            if (-87.3f32..=88.7).contains(&x) {
                e = e.max(ulp32(exp_xla_f32::<true>(x), (x as f64).exp()));
            }
        }
        assert!(t < 5.0, "tanh {t} ulp");
        assert!(e < 2.0, "exp {e} ulp");
    }

    #[test]
    fn f64_functions_agree_with_libm_to_an_ulp() {
        let mut worst_ln = 0.0f64;
        let mut worst_exp = 0.0f64;
        let mut s = 0x1234_5678_9abc_def1u64;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            let x = 1e-4 + u * (0.9999 - 1e-4);
            let d = (ln_f64::<true>(x) - x.ln()).abs();
            let ulp = f64::from_bits(x.ln().abs().to_bits() + 1) - x.ln().abs();
            worst_ln = worst_ln.max(d / ulp);
            let y = -707.0 + u * 1416.0;
            let d = (exp_f64::<true>(y) - y.exp()).abs();
            let ulp = f64::from_bits(y.exp().to_bits() + 1) - y.exp();
            worst_exp = worst_exp.max(d / ulp);
        }
        assert!(worst_ln <= 1.0, "ln {worst_ln}");
        assert!(worst_exp <= 1.0, "exp {worst_exp}");
    }
}
