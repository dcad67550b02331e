"""The conformance cases: name, what it shows, the cell, and the ops to run.

`build_cases(g)` is called once per dtype by generate.py; `g.same(v)` gives inputs that
are the same numbers in both fixture sets (float32 values, widened exactly for float64),
`g.own(v)` inputs at the dtype's own values (for its edges). The case names are also
listed in tests/conformance.rs, which checks that both fixture files hold every one.
"""

import math

import numpy as np

NAN, INF = float("nan"), float("inf")


def S(comp, vals):
    return ("set", comp, vals)


A = ("advance",)
R = ("reset",)


def BR(k):
    return ("batched_reset", k)


def case(name, description, input_logits, n_units, batch_size, ops, shape=None,
         denormal=False, post=None):
    return dict(name=name, description=description, input_logits=input_logits,
                n_units=n_units, batch_size=batch_size, shape=shape, ops=ops,
                denormal=denormal, post=post)


def rng(seed):
    return np.random.default_rng(seed)


def binary(r, shape):
    return r.integers(0, 2, size=shape).astype(np.float64)


def ngclearn_test_inputs():
    r = np.random.RandomState(42)
    return r.randn(1, 10)[0], [(t - 5.0) / 2.0 for t in range(10)]


def check_ngclearn_test(g, states):
    """ngc-learn's own test: its dp numbers (float32, atol 1e-3). In float64 every step
    matches but 3 and 6, where p > 1 puts q on the upper clip bound, 0.9999 instead of
    0.9999f (a relative 1.7e-4)."""
    from generate import NGC_TEST_DP
    dp = [float(s["dp"][0, 0]) for s in states]
    for t, (got, want) in enumerate(zip(dp, NGC_TEST_DP)):
        close = abs(got - want) <= 1e-3
        if g.dtype == "float32" or t not in (3, 6):
            assert close, (t, got, want)
        else:
            assert not close and abs(got - want) / abs(want) < 2e-4, (t, got, want)


def build_cases(g):
    same, own, dt = g.same, g.own, g.dt
    f32 = g.dtype == "float32"
    lo = dt(1e-4)
    hi = dt(1.0 - 1e-4)
    cases = []
    add = cases.append

    # -- ngc-learn's own test -------------------------------------------------------------
    xs, ts = ngclearn_test_inputs()
    for logits in (False, True):
        ops = []
        for p, t in zip(xs, ts):
            ops += [S("p", same([[p]])), S("target", same([[t]])), A]
        add(case("ngclearn_own_test" + ("_logits" if logits else ""),
                 "ngc-learn's test_bernoulliErrorCell: 1 unit, 10 steps, numpy seed 42 randn "
                 "inputs, targets (t-5)/2" + (" (logits mode)" if logits else ""),
                 logits, 1, 1, ops, post=None if logits else check_ngclearn_test))

    # -- at rest ----------------------------------------------------------------------------
    for logits in (False, True):
        add(case("rest" + ("_logits" if logits else "_prob"),
                 "advance straight after creation: p = target = 0, modulator = mask = 1",
                 logits, 3, 2, [A, A]))

    # -- one unit -----------------------------------------------------------------------------
    add(case("unit_prob", "(1,1), probabilities", False, 1, 1,
             [S("p", same([[0.3]])), S("target", same([[1.0]])), A,
              S("p", same([[0.8]])), S("target", same([[0.0]])), A]))
    add(case("unit_logits", "(1,1), logits", True, 1, 1,
             [S("p", same([[-1.2]])), S("target", same([[1.0]])), A,
              S("p", same([[2.5]])), S("target", same([[0.0]])), A]))

    # -- ordinary inputs ------------------------------------------------------------------
    r = rng(1)
    add(case("prob_inside", "(4,25): p uniform in (0.001, 0.999), binary targets", False, 25, 4,
             [S("p", same(r.uniform(0.001, 0.999, (4, 25)))), S("target", same(binary(r, (4, 25)))), A]))
    r = rng(2)
    add(case("logits_inside", "(4,25): logits normal(0, 3), binary targets", True, 25, 4,
             [S("p", same(r.normal(0, 3, (4, 25)))), S("target", same(binary(r, (4, 25)))), A]))
    r = rng(3)
    pg = r.integers(1, 1024, (16, 100)) / 1024.0
    pg[0, :8] = [-3.0, -0.5, 0.0, 1.0, 1.25, 2.0, 7.5, -7.5]
    add(case("prob_16x100", "(16,100): p on a 1/1024 grid in (0,1), a few outside, binary targets",
             False, 100, 16, [S("p", same(pg)), S("target", same(binary(r, (16, 100)))), A]))
    r = rng(4)
    add(case("logits_32x784", "(32,784), the MNIST shape: logits on a 1/64 grid in [-8, 8], "
             "binary targets (L sums 25088 terms)", True, 784, 32,
             [S("p", same(r.integers(-512, 513, (32, 784)) / 64.0)),
              S("target", same(binary(r, (32, 784)))), A]))

    # -- p outside (0,1), exactly 0 and 1, at the clip bounds ----------------------------
    pout = [-50.0, -2.0, -0.5, -1e-3, 1.001, 1.5, 3.0, 50.0]
    add(case("prob_outside_unit_interval",
             "probabilities outside (0,1): q is clipped, d_sigmoid is of the raw p", False, 8, 2,
             [S("p", same([pout, pout])), S("target", same([[0.0] * 8, [1.0] * 8])), A]))
    add(case("prob_exact_0_1", "p exactly 0, -0 and 1 (clipped to the bounds), targets 0 and 1",
             False, 8, 1,
             [S("p", same([[0.0, 0.0, 1.0, 1.0, -0.0, -0.0, 0.5, 0.5]])),
              S("target", same([[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]])), A]))
    edge = [lo, np.nextafter(lo, dt(0)), np.nextafter(lo, dt(1)), hi, np.nextafter(hi, dt(0)),
            np.nextafter(hi, dt(1)), dt(1) - hi, dt(1e-4) * dt(2), dt(0.5)]
    add(case("prob_at_clip_bounds", "p at this dtype's clip bounds (1e-4, 1 - 1e-4 rounded to "
             "it), their neighbours and 1 - hi; targets 0 and 1", False, len(edge), 2,
             [S("p", own([edge, edge])), S("target", own([[0.0] * len(edge), [1.0] * len(edge)])), A]))
    lg = math.log(1e-4 / (1 - 1e-4))
    le = [lg, lg - 1e-3, lg + 1e-3, lg - 1e-5, lg + 1e-5, -lg, -lg - 1e-3, -lg + 1e-3,
          -lg - 1e-5, -lg + 1e-5]
    add(case("logits_at_clip_bounds", "logits around +-ln((1-eps)/eps) = +-9.21, where sigmoid "
             "crosses the clip bounds", True, len(le), 2,
             [S("p", own([le, le])), S("target", own([[0.0] * len(le), [1.0] * len(le)])), A]))
    ls = [-100.0, -89.0, -88.0, -40.0, -37.0, -36.0, -17.0, -15.0, 15.0, 17.0, 36.0, 37.0, 40.0,
          88.0, 89.0, 100.0]
    add(case("logits_saturated_pm100", "logits up to +-100: sigmoid rounds to exactly 0 or 1, "
             "then is clipped", True, len(ls), 2,
             [S("p", same([ls, ls])), S("target", same([[0.0] * len(ls), [1.0] * len(ls)])), A]))
    pr = [-100.0, -88.0, -50.0, -20.0, -10.0, -5.0, -1.0, 1.0, 5.0, 10.0, 15.0, 16.5, 17.0,
          20.0, 50.0, 88.0, 100.0]
    add(case("prob_raw_p_pm100", "probability mode with raw p up to +-100: q is clipped, "
             "d_sigmoid(p) underflows to 0 (targets 0, 1, 0.5); at p = -88 sigmoid(p) is a "
             "float32 subnormal, which XLA flushes", False, len(pr), 3,
             [S("p", same([pr, pr, pr])),
              S("target", same([[0.0] * len(pr), [1.0] * len(pr), [0.5] * len(pr)])), A],
             denormal=f32))
    sd = ([-87.0, -87.3, -87.5, -88.0, -90.0, -95.0, -100.0, -103.0, -104.0, -110.0] if f32 else
          [-700.0, -708.0, -708.5, -709.0, -710.0, -720.0, -740.0, -744.0, -745.0, -746.0])
    add(case("prob_sigmoid_subnormal", "probability mode, raw p where this dtype's sigmoid(p) "
             "is subnormal: XLA flushes it to 0, so dp is 0 where IEEE arithmetic gives a "
             "tiny number", False, len(sd), 1,
             [S("p", own([sd])), S("target", own([[1.0] * len(sd)])), A], denormal=True))

    # -- targets ---------------------------------------------------------------------------
    xt = [-3.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 7.0]
    pn = [[0.2] * 9, [0.9] * 9, [1.7] * 9]
    add(case("nonbinary_targets_prob", "non-binary targets (-3 .. 7) against p 0.2, 0.9, 1.7",
             False, 9, 3, [S("p", same(pn)), S("target", same([xt, xt, xt])), A]))
    pl = [[-2.0] * 9, [0.3] * 9, [12.0] * 9]
    add(case("nonbinary_targets_logits", "non-binary targets (-3 .. 7) against logits -2, 0.3, 12",
             True, 9, 3, [S("p", same(pl)), S("target", same([xt, xt, xt])), A]))
    h = [0.5, float(np.nextafter(np.float32(0.5), np.float32(0))),
         float(np.nextafter(np.float32(0.5), np.float32(1))), 0.4999, 0.50001, 0.499999, 0.5000001]
    add(case("dtarget_near_half_prob", "p at and next to 0.5: dtarget = ln q - ln(1-q) is ~0 "
             "(why the tolerance has an absolute part)", False, len(h), 2,
             [S("p", same([h, h])), S("target", same([[0.0] * len(h), [1.0] * len(h)])), A]))
    z = [0.0, 1e-7, -1e-7, 1e-3, -1e-3, 1e-20, -1e-20]
    add(case("dtarget_near_half_logits", "logits at and next to 0: q ~ 0.5, dtarget ~ 0",
             True, len(z), 2,
             [S("p", same([z, z])), S("target", same([[0.0] * len(z), [0.5] * len(z)])), A]))
    r = rng(5)
    pq = r.uniform(0.01, 0.99, (2, 12))
    add(case("target_equals_p", "target = p: dp = x/q - (1-x)/(1-q) cancels to ~0",
             False, 12, 2, [S("p", same(pq)), S("target", same(pq)), A]))

    # -- masks and modulators --------------------------------------------------------------
    mk = [[1.0, 0.0, 1.0, -0.0, 0.5, 2.0], [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
          [1.0, 1.0, 0.0, 1.0, 0.0, 1.0]]
    r = rng(6)
    add(case("mask_zeros_prob", "masks with zeros (and -0, 0.5, 2): dp, dtarget zeroed there; "
             "the mask is eaten", False, 6, 3,
             [S("p", same(r.uniform(0.05, 0.95, (3, 6)))), S("target", same(binary(r, (3, 6)))),
              S("mask", same(mk)), A]))
    r = rng(7)
    add(case("mask_zeros_logits", "masks with zeros, logits mode", True, 6, 3,
             [S("p", same(r.normal(0, 2, (3, 6)))), S("target", same(binary(r, (3, 6)))),
              S("mask", same(mk)), A]))
    mod = [[0.0, -0.0, -1.0, -2.5, -1e3, 0.0], [1.0, -0.0, -1e-3, 0.0, -7.0, -1.0]]
    r = rng(8)
    add(case("modulator_zero_negative_prob", "modulators 0, -0 and negative", False, 6, 2,
             [S("p", same(r.uniform(0.05, 0.95, (2, 6)))), S("target", same(binary(r, (2, 6)))),
              S("modulator", same(mod)), A]))
    r = rng(9)
    add(case("modulator_zero_negative_logits", "modulators 0, -0 and negative, logits mode",
             True, 6, 2,
             [S("p", same(r.normal(0, 2, (2, 6)))), S("target", same(binary(r, (2, 6)))),
              S("modulator", same(mod)), A]))
    big = [[1e3, 1e6, 1e20, 1e30, 3e38, -3e38], [1e3, 1e6, 1e20, 1e30, 3e38, -3e38]]
    add(case("modulator_large_prob", "large modulators up to 3e38: with |g| up to 1e4 float32 "
             "overflows to +-inf", False, 6, 2,
             [S("p", same([[1e-5, 0.3, 0.999, 2.0, 0.99999, 1e-6], [0.5, 0.7, 0.1, -1.0, 1.5, 0.9]])),
              S("target", same([[1.0, 0.0, 0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]])),
              S("modulator", same(big)), A]))
    add(case("modulator_large_logits", "large modulators up to 3e38, logits mode", True, 6, 2,
             [S("p", same([[-9.0, 0.3, 4.0, -20.0, 20.0, 1.0], [0.0, 2.0, -2.0, 9.0, -9.0, 0.5]])),
              S("target", same([[1.0, 0.0, 0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]])),
              S("modulator", same(big)), A]))

    # -- sequences ---------------------------------------------------------------------------
    for logits in (False, True):
        r = rng(10 + logits)
        gen = (lambda s: r.normal(0, 2, s)) if logits else (lambda s: r.uniform(0.02, 0.98, s))
        m1 = [[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.5, 0.0]]
        ops = [S("p", same(gen((2, 4)))), S("target", same(binary(r, (2, 4)))),
               S("modulator", same([[2.0, -0.5, 3.0, 1.0], [0.25, 1.0, -1.0, 4.0]])),
               S("mask", same(m1)), A,           # masked
               A,                                # same inputs, mask now eaten (ones)
               S("p", same(gen((2, 4)))), A,     # new p, modulator still kept
               S("mask", same([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])), A, A]
        add(case("sequence_mask_eaten" + ("_logits" if logits else "_prob"),
                 "several steps: a mask applies to one advance only (eaten to ones), the "
                 "modulator is kept", logits, 4, 2, ops))
    r = rng(12)
    ops = [S("modulator", same([[0.5, -2.0, 10.0]]))]
    for _ in range(5):
        ops += [S("p", same(r.normal(0, 3, (1, 3)))), S("target", same(binary(r, (1, 3)))), A]
    add(case("sequence_modulator_kept", "a modulator set once applies to five advances with new "
             "p and target each", True, 3, 1, ops))

    # -- resets ------------------------------------------------------------------------------
    r = rng(13)
    add(case("reset_to_rest", "set everything, advance, reset() (all back to rest values, "
             "L = 0), advance at rest, set p, advance", False, 3, 2,
             [S("p", same(r.uniform(0.1, 0.9, (2, 3)))), S("target", same(binary(r, (2, 3)))),
              S("modulator", same(r.uniform(-2, 2, (2, 3)))), S("mask", same([[0.0, 1.0, 0.0]] * 2)),
              A, R, A, S("p", same(r.uniform(0.1, 0.9, (2, 3)))), A]))
    r = rng(14)
    add(case("batched_reset_larger", "batch 2 -> batched_reset(7) -> reset() back to 2, "
             "advancing at each size", True, 5, 2,
             [S("p", same(r.normal(0, 2, (2, 5)))), S("target", same(binary(r, (2, 5)))), A,
              BR(7), A, S("p", same(r.normal(0, 2, (7, 5)))), S("target", same(binary(r, (7, 5)))),
              S("modulator", same(r.uniform(-1, 3, (7, 5)))), A, R,
              S("p", same(r.normal(0, 2, (2, 5)))), A]))
    r = rng(15)
    add(case("batched_reset_smaller", "batch 6 -> batched_reset(1) -> batched_reset(3) -> reset()",
             False, 4, 6,
             [S("p", same(r.uniform(0.1, 0.9, (6, 4)))), S("target", same(binary(r, (6, 4)))), A,
              BR(1), S("p", same(r.uniform(0.1, 0.9, (1, 4)))), S("target", same([[1.0, 0, 1, 0]])),
              S("mask", same([[0.0, 1.0, 1.0, 0.0]])), A, BR(3), A,
              S("p", same(r.uniform(0.1, 0.9, (3, 4)))), A, R, A]))

    # -- (batch, H, W, C) ------------------------------------------------------------------
    r = rng(16)
    add(case("hwc_prob", "(2, 3, 4, 2) compartments (n_units 7 is only recorded), probabilities",
             False, 7, 2,
             [S("p", same(r.uniform(0.01, 0.99, (2, 3, 4, 2)))),
              S("target", same(binary(r, (2, 3, 4, 2)))),
              S("mask", same(binary(r, (2, 3, 4, 2)))), A, A], shape=(3, 4, 2)))
    r = rng(17)
    add(case("hwc_logits_batched_reset", "(3, 5, 5, 3) logits; batched_reset(1), (4), reset()",
             True, 75, 3,
             [S("p", same(r.normal(0, 3, (3, 5, 5, 3)))), S("target", same(binary(r, (3, 5, 5, 3)))),
              S("modulator", same(r.uniform(-1, 2, (3, 5, 5, 3)))), A,
              BR(1), S("p", same(r.normal(0, 3, (1, 5, 5, 3)))), A,
              BR(4), S("target", same(binary(r, (4, 5, 5, 3)))), A, R, A], shape=(5, 5, 3)))

    # -- NaN and infinities -------------------------------------------------------------------
    def nonfinite(vals, logits):
        r = rng(20 + logits)
        p = r.normal(0, 2, (4, 6)) if logits else r.uniform(0.05, 0.95, (4, 6))
        x = binary(r, (4, 6))
        m = np.ones((4, 6))
        k = np.ones((4, 6))
        p[0, :3] = vals
        x[1, :3] = vals
        x[1, 3] = 0.5
        m[2, :3] = vals
        k[3, :3] = vals
        return [S("p", same(p)), S("target", same(x)), S("modulator", same(m)),
                S("mask", same(k)), A, A]

    for logits in (False, True):
        sfx = "_logits" if logits else "_prob"
        add(case("nan_inputs" + sfx, "NaN in p (row 0), target (1), modulator (2), mask (3); "
                 "a NaN mask is not eaten: NaN * 0 + 1 is NaN, so it stays NaN for the next step",
                 logits, 6, 4, nonfinite([NAN, NAN, NAN], logits)))
        add(case("inf_inputs" + sfx, "+inf, -inf, +inf in p (row 0), target (1), modulator (2), "
                 "mask (3); an infinite mask becomes NaN when eaten (inf * 0 + 1)",
                 logits, 6, 4, nonfinite([INF, -INF, INF], logits)))

    # -- denormals -----------------------------------------------------------------------------
    tiny = g.finfo.smallest_subnormal
    smallest_normal = g.finfo.smallest_normal
    dn = [float(tiny), -float(tiny), float(smallest_normal) / 2, -float(smallest_normal) / 3,
          float(smallest_normal) * 0.9, float(tiny) * 1000]
    for logits in (False, True):
        sfx = "_logits" if logits else "_prob"
        r = rng(30 + logits)
        p = r.normal(0, 2, (4, 6)) if logits else r.uniform(0.05, 0.95, (4, 6))
        x = binary(r, (4, 6))
        p[0] = dn
        x[1] = dn
        m = np.ones((4, 6))
        m[2] = dn
        k = np.ones((4, 6))
        k[3] = dn
        add(case("denormal_inputs" + sfx, "subnormal p (row 0), target (1), modulator (2), mask (3) "
                 "of this dtype: XLA treats them as 0 (DAZ) and flushes subnormal results (FTZ), "
                 "IEEE arithmetic keeps them", logits, 6, 4,
                 [S("p", own(p)), S("target", own(x)), S("modulator", own(m)), S("mask", own(k)), A],
                 denormal=True))
    sm = 1e-36 if f32 else 1e-306
    add(case("denormal_outputs", "normal inputs whose dp and dtarget are subnormal (a modulator "
             "of 1e-36 in float32, 1e-306 in float64): flushed to 0 by XLA", True, 6, 1,
             [S("p", own([[0.0, 1e-3, -1e-3, 1e-5, 2.0, -3.0]])),
              S("target", own([[0.5, 0.5, 0.5, 0.5, 1.0, 0.0]])),
              S("modulator", own([[sm] * 6])), A], denormal=True))
    add(case("negative_zero", "-0 in p, target, modulator and mask: signs of zero outputs",
             False, 4, 2,
             [S("p", same([[-0.0, 0.3, 0.3, 0.3], [0.0, 0.7, -0.0, 0.7]])),
              S("target", same([[1.0, -0.0, 1.0, 0.0], [-0.0, -0.0, 0.0, 1.0]])),
              S("modulator", same([[1.0, 1.0, -0.0, 1.0], [-0.0, 1.0, 1.0, -0.0]])),
              S("mask", same([[1.0, 1.0, 1.0, -0.0], [-0.0, -0.0, 1.0, 1.0]])), A]))
    return cases
