//! Branch-free `ln` and `exp` for the kernel, written on plain `f32`/`f64`
//! values so that a loop over a fixed-width chunk of lanes auto-vectorises
//! (every step is an add, multiply, fused multiply-add, compare/select, an
//! integer operation on the bits, or in `ln_f64` one IEEE division; no table,
//! no branch). A table-driven `ln` would need gathers, which are slower than
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
    const OFF: u32 = 0x3f2a_aaab; // 2/3
    const LN2_HI: f32 = 0.693_138_122_56; // 0x3f317180: e * LN2_HI is exact
    const LN2_LO: f32 = 9.058_000_614_5e-6;
    let ix = x.to_bits();
    let tmp = ix.wrapping_sub(OFF);
    let e = (tmp as i32) >> 23;
    // m = x * 2^-e: a multiplication (exact), so that a NaN x gives a NaN m.
    let m = x * f32::from_bits(0x3f80_0000u32.wrapping_sub(tmp & 0xff80_0000));
    let f = m - 1.0;
    let ef = e as f32;
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
/// `s^2`. The division replaces twelve polynomial terms: on CPUs whose divider
/// runs beside the multiply-add units (it is otherwise idle in logits mode and
/// not the bottleneck in probability mode) that is about 10% of the f64 kernel.
/// The error is lower too: the rounding errors of `s` and of the correction
/// term are multiplied by `f^2`-sized quantities.
#[inline(always)]
pub fn ln_f64<const F: bool>(x: f64) -> f64 {
    const OFF: u64 = 0x3fe6_a09e_667f_3bcd; // sqrt(2)/2
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01; // 32 significant bits
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    const ISHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    let ix = x.to_bits();
    let tmp = ix.wrapping_sub(OFF);
    let e = (tmp as i64) >> 52;
    // m = x * 2^-e: a multiplication (exact), so that a NaN x gives a NaN m.
    let m = x * f64::from_bits(0x3ff0_0000_0000_0000u64.wrapping_sub(tmp & 0xfff0_0000_0000_0000));
    let f = m - 1.0;
    // `e as f64` without a 64-bit integer conversion (which AVX2 lacks).
    let ef = f64::from_bits(ISHIFT.to_bits().wrapping_add(e as u64)) - ISHIFT;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let lg = &LN64_LG;
    // fdlibm's split into even and odd powers of w: two short chains.
    let t1 = w * fma64::<F>(w, fma64::<F>(w, lg[5], lg[3]), lg[1]);
    let t2 = z * fma64::<F>(w, fma64::<F>(w, fma64::<F>(w, lg[6], lg[4]), lg[2]), lg[0]);
    let r = t2 + t1;
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
#[inline(always)]
pub fn tanh_f32<const F: bool>(x: f32) -> f32 {
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
    sel(ax >= 20.0, 1.0f32.copysign(x), r)
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
