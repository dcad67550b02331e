"""The conformance cases of GaussianErrorCell, LaplacianErrorCell and RewardErrorCell.

`gaussian_cases(g)`, `laplacian_cases(g)`, `reward_cases(g)` are called once per dtype
by family.py; `g.same(v)` gives inputs that are the same numbers in both fixture sets
(float32 values, widened exactly for float64), `g.own(v)` inputs at the dtype's own
values (for its edges). Each case gives ngc-cells' constructor arguments; family.py
turns them into ngc-learn's call. What each case covers is checked on the data by
tests/conformance (the coverage tests), not on the names.
"""

import numpy as np

NAN, INF = float("nan"), float("inf")


def S(comp, vals):
    return ("set", comp, vals)


def SS(comp, dims, vals):
    """set_shaped: the compartment gets shape `dims` (Sigma/Scale)."""
    return ("set_shaped", comp, tuple(dims), vals)


def A(dt=1.0):
    return ("advance", dt)


def E(dt=1.0):
    return ("evolve", dt)


R = ("reset",)


def BR(k):
    return ("batched_reset", k)


def rng(seed):
    return np.random.default_rng(seed)


def case(name, description, constructor, ops, denormal=False, post=None,
         reference_kwargs=None):
    return dict(name=name, description=description, constructor=constructor, ops=ops,
                denormal=denormal, post=post, reference_kwargs=reference_kwargs)


def ngclearn_test_inputs():
    """The inputs of ngc-learn's own tests of the Gaussian and Laplacian cells."""
    np.random.seed(42)
    mu = np.random.randn(1, 10)[0]
    return mu, [(t - 5.0) / 2.0 for t in range(10)]


# ------------------------------------------------------------------------------------------
# GaussianErrorCell and LaplacianErrorCell share most cases: the same template, with
# (mu, Sigma, dmu) called (shift, Scale, dshift) in the Laplacian cell.

def _error_cases(g, kind):
    same, own, dt = g.same, g.own, g.dt
    f32 = g.dtype == "float32"
    gauss = kind == "gaussian"
    P = "mu" if gauss else "shift"
    PAR = "Sigma" if gauss else "Scale"
    par = "sigma" if gauss else "scale"
    cases = []
    add = cases.append

    def ctor(n, b, v=1.0, shape=None):
        return {"n_units": n, "batch_size": b, par: v, "shape": None if shape is None else list(shape)}

    # -- ngc-learn's own test and lesson --------------------------------------------------
    mus, ts = ngclearn_test_inputs()
    ops = []
    for m, t in zip(mus, ts):
        if not gauss:
            ops.append(S("modulator", same([[1.0]])))
        ops += [S(P, same([[m]])), S("target", same([[t]])), A()]

    add(case("ngclearn_own_test",
             f"ngc-learn's test_{kind}ErrorCell: 1 unit, {par}=1, 10 steps, numpy seed 42 randn "
             f"{P}, targets (t-5)/2" + ("" if gauss else ", modulator set to 1 each step"),
             ctor(1, 1), ops))
    if gauss:
        add(case("ngclearn_lesson", "ngc-learn's error-cell lesson: mu=[-1,1,1], target=[1,-1,1] "
                 "-> dmu=[2,-2,0], dtarget=[-2,2,-0], L=-4", ctor(3, 1),
                 [S("mu", same([[-1.0, 1.0, 1.0]])), S("target", same([[1.0, -1.0, 1.0]])), A()]))
    else:
        add(case("ngclearn_lesson", "shift=[-1,1,1,0.5], target=[1,-1,1,2]: L is minus the COUNT "
                 "of unequal elements (3), not the L1 distance", ctor(4, 1),
                 [S("shift", same([[-1.0, 1.0, 1.0, 0.5]])), S("target", same([[1.0, -1.0, 1.0, 2.0]])),
                  A()]))

    # -- rest and ordinary inputs --------------------------------------------------------------
    add(case("rest", "advance straight after creation: all zeros, modulator = mask = 1",
             ctor(3, 2), [A(), A()]))
    r = rng(101)
    add(case("ordinary_4x25", f"(4,25): {P} and target normal(0,1), {par}=1", ctor(25, 4),
             [S(P, same(r.normal(0, 1, (4, 25)))), S("target", same(r.normal(0, 1, (4, 25)))), A()]))
    r = rng(102)
    add(case(f"{par}_constructor_0p37", f"(3,7), {par}=0.37 from the constructor (Sigma/Scale is "
             "(1,1), rounded once to the dtype)", ctor(7, 3, 0.37),
             [S(P, same(r.normal(0, 2, (3, 7)))), S("target", same(r.normal(0, 2, (3, 7)))), A()]))
    if gauss:
        # (Not for the Laplacian cell: its L is a count, exact in any order.)
        r = rng(103)
        t = r.normal(0, 1, (32, 784))
        m = t + r.normal(0, 0.3, (32, 784))
        add(case("large_32x784", "(32,784), the MNIST shape: L sums 25088 terms", ctor(784, 32, 0.5),
                 [S(P, same(m)), S("target", same(t)), A()]))
        r = rng(120)
        t = np.round(r.normal(0, 1, (32, 784)) * 64) / 64
        t.reshape(-1)[:64] = 4096.0 * np.sign(r.normal(0, 1, 64))
        add(case("L_outliers_32x784", "(32,784): 64 outlier errors of +-4096 (e^2 = 2^24) first, "
                 "then 25024 errors on a 1/64 grid: every e^2 is exact in float32, the sum is not "
                 "(a float32 accumulator loses the small terms once it holds an outlier)",
                 ctor(784, 32, 1.0), [S("target", same(t)), A()]))

    # -- Sigma/Scale forms and shapes ---------------------------------------------------------
    B, N = 3, 5
    r = rng(104)
    pv = r.normal(0, 2, (B, N))
    tv = r.normal(0, 2, (B, N))
    tv[0, 0] = pv[0, 0]  # a tie
    base = [S(P, same(pv)), S("target", same(tv))]
    forms = [
        ("0d", (), [2.5]),
        ("1x1_set", (1, 1), [0.75]),
        ("row_1xn", (1, N), [0.5, 1.0, 2.0, 4.0, 0.25]),
        ("vector_n", (N,), [3.0, 0.125, 1.5, 0.5, 7.0]),
        ("column_Bx1", (B, 1), [0.5, 2.0, 10.0]),
        ("full_BxN", (B, N), list(r.uniform(0.2, 3.0, B * N))),
    ]
    for label, dims, vals in forms:
        add(case(f"{PAR}_{label}", f"{PAR} set with shape {dims} (broadcast against (3,5)); "
                 f"d{PAR} and L take its shape (L squeezed)", ctor(N, B),
                 [SS(PAR, dims, same(vals))] + base + [A()]))
    add(case(f"{PAR}_reshaped_between_steps", f"{PAR} (1,5) -> (3,1) -> () -> (1,1) between advances: "
             f"d{PAR} and L follow each shape", ctor(N, B),
             base + [SS(PAR, (1, N), same([1.0, 2.0, 3.0, 4.0, 5.0])), A(),
                     SS(PAR, (B, 1), same([0.5, 1.0, 2.0])), A(),
                     SS(PAR, (), same([4.0])), A(), SS(PAR, (1, 1), same([1.0])), A()]))
    r = rng(105)
    add(case(f"{PAR}_full_survives_reset", f"{PAR} (3,5) survives reset(); d{PAR} comes back as "
             f"zeros of {PAR}'s shape and L as zeros of its squeezed shape (ngc-learn: (1,1) and "
             "a 0-d 0.)", ctor(N, B),
             [SS(PAR, (B, N), same(r.uniform(0.5, 2.0, B * N)))] + base + [A(), R, A(),
              S(P, same(r.normal(0, 1, (B, N)))), A()]))
    r = rng(106)
    rk = {"n_units": N, "batch_size": B, par: np.full((1, N), 0.5, dtype=np.float32).astype(g.dt),
          "shape": None}
    add(case(f"{PAR}_array_constructor", f"ngc-learn given an array {par} of shape (1,5) (ngc-cells: "
             f"the constructor's scalar, then {PAR} set with that shape): after reset both give "
             f"d{PAR} of shape (1,5)", ctor(N, B, 0.5),
             [SS(PAR, (1, N), same([0.5] * N))] + base + [A(), R, S("target", same(r.normal(0, 1, (B, N)))),
                                                          A()],
             reference_kwargs=rk))

    # -- zero, negative, huge, tiny ---------------------------------------------------------------
    z = [[0.0, 1.0, -2.0, 0.5, 0.0, -0.0], [3.0, 0.0, -0.0, -1.0, 2.0, 0.0]]
    zt = [[0.0, 0.0, 1.0, 0.5, -0.0, 1.0], [3.0, 4.0, -0.0, 2.0, -2.0, 0.0]]
    add(case(f"{par}_zero", f"{par} = 0: +-inf where target != {P}, NaN where equal; L = -inf",
             ctor(6, 2, 0.0), [S(P, same(z)), S("target", same(zt)), A()]))
    add(case(f"{par}_negative", f"{par} = -2: every sign flips, L > 0", ctor(6, 2, -2.0),
             [S(P, same(z)), S("target", same(zt)), A()]))
    r = rng(107)
    add(case(f"{par}_huge_3e38", f"{par} = 3e38: in float32 1/{par} is subnormal, which XLA "
             f"flushes (d{P} = +-0, L = -0); in float64 an ordinary number", ctor(6, 2, 3e38),
             [S(P, same(r.normal(0, 5, (2, 6)))), S("target", same(r.normal(0, 5, (2, 6)))), A()],
             denormal=f32))
    big = 1e38 if f32 else 1e308
    add(case(f"{par}_huge_own", f"{par} near this dtype's largest number ({big:g}) with "
             f"differences of 2e18: XLA turns the division into a product with 1/{par}, which is "
             f"subnormal and flushed, so ngc-learn's d{P} and L are 0 where the quotients are not",
             ctor(4, 1, big),
             [S(P, own([[1e18, -1e18, 0.0, 3.0]])), S("target", own([[-1e18, 1e18, 0.0, -3.0]])), A()],
             denormal=True))
    r = rng(108)
    d = r.normal(0, 1, (2, 6)) * np.array([1.0, 10.0, 1e3, 1e5, 1e10, 1e15])
    add(case(f"{par}_tiny_1e-30", f"{par} = 1e-30 with differences up to 1e15: d{P} huge, "
             "overflowing to +-inf in float32, L = -inf in float32", ctor(6, 2, 1e-30),
             [S(P, same(np.zeros((2, 6)))), S("target", same(d)), A()]))
    add(case(f"{PAR}_row_special_values", f"{PAR} (1,8) holding 0, -0, negative, 3e38, 1e-30, NaN, "
             "+inf, -inf: per-unit L and derivatives", ctor(8, 2),
             [SS(PAR, (1, 8), same([0.0, -0.0, -1.5, 3e38, 1e-30, NAN, INF, -INF])),
              S(P, same([[0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0], [1.0, 0.0, -1.0, 0.0, 2.0, 0.0, 0.0, 5.0]])),
              S("target", same([[1.0, 1.0, 0.0, 0.0, 1.0, -1.0, 2.0, 1.0], [1.0, 2.0, -1.0, 1.0, 2.0, 1.0, 3.0, 5.0]])),
              A()], denormal=f32))

    # -- modulator and mask --------------------------------------------------------------------
    r = rng(109)
    mod = [[0.0, -0.0, -1.0, -2.5, -1e3, 1e20], [1.0, -0.0, -1e-3, 3e38, -7.0, -3e38]]
    add(case("modulator_zero_negative_large", "modulators 0, -0, negative and up to +-3e38 "
             "(overflow to +-inf in float32); the modulator persists across advances", ctor(6, 2),
             [S(P, same(r.normal(0, 2, (2, 6)))), S("target", same(r.normal(0, 2, (2, 6)))),
              S("modulator", same(mod)), A(), S("target", same(r.normal(0, 2, (2, 6)))), A()]))
    r = rng(110)
    mk = [[1.0, 0.0, 1.0, -0.0, 0.5, 2.0], [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
          [1.0, 1.0, 0.0, 1.0, 0.0, 1.0]]
    add(case("mask_eaten", "a mask with zeros (and -0, 0.5, 2) applies to one advance, then is "
             "eaten (ones); a new mask, two more advances", ctor(6, 3),
             [S(P, same(r.normal(0, 1, (3, 6)))), S("target", same(r.normal(0, 1, (3, 6)))),
              S("mask", same(mk)), A(), A(), S(P, same(r.normal(0, 1, (3, 6)))),
              S("mask", same(np.flip(np.asarray(mk), 1))), A(), A()]))

    # -- NaN and infinities ----------------------------------------------------------------------
    def nonfinite(vals, seed):
        r = rng(seed)
        p = r.normal(0, 2, (4, 6))
        x = r.normal(0, 2, (4, 6))
        m = np.ones((4, 6))
        k = np.ones((4, 6))
        p[0, :3] = vals
        x[1, :3] = vals
        m[2, :3] = vals
        k[3, :3] = vals
        return [S(P, same(p)), S("target", same(x)), S("modulator", same(m)), S("mask", same(k)),
                A(), A()]

    add(case("nan_inputs", f"NaN in {P} (row 0), target (1), modulator (2), mask (3); a NaN mask "
             "is not eaten (NaN*0+1 = NaN), so it stays for the next advance; L is NaN",
             ctor(6, 4), nonfinite([NAN, NAN, NAN], 111)))
    add(case("inf_inputs", f"+inf, -inf, +inf in {P} (row 0), target (1), modulator (2), mask (3); "
             "an infinite mask becomes NaN when eaten", ctor(6, 4), nonfinite([INF, -INF, INF], 112)))
    if gauss:
        add(case("square_overflow", "differences of 1e20 and 1e30: e^2 overflows in float32 "
                 "(L = -inf), not in float64", ctor(4, 1, 2.0),
                 [S("mu", same([[0.0, 0.0, 0.0, 0.0]])), S("target", same([[1e20, -1e20, 1e30, 1.0]])),
                  A()]))

    # -- (batch, H, W, C) ----------------------------------------------------------------------------
    H, W, Cc = 3, 4, 2
    r = rng(113)
    hp = r.normal(0, 1, (2, H, W, Cc))
    ht = r.normal(0, 1, (2, H, W, Cc))
    hb = [S(P, same(hp)), S("target", same(ht))]
    hforms = [
        ("default", None, None),
        ("0d", (), [1.5]),
        ("C", (Cc,), [0.5, 2.0]),
        ("WC", (W, Cc), list(r.uniform(0.25, 4.0, W * Cc))),
        ("HWC", (H, W, Cc), list(r.uniform(0.25, 4.0, H * W * Cc))),
    ]
    for label, dims, vals in hforms:
        ops = ([] if dims is None else [SS(PAR, dims, same(vals))]) + hb
        ops += [S("mask", same(r.integers(0, 2, (2, H, W, Cc)).astype(float))), A(), A()]
        if label in ("default", "HWC"):
            ops += [R, A(), S(P, same(r.normal(0, 1, (2, H, W, Cc)))), A()]
        add(case(f"hwc_{label}", f"(2,{H},{W},{Cc}) compartments (n_units 7 only recorded), {PAR} "
                 + ("(1,1)" if dims is None else f"of shape {dims}")
                 + ("; reset(), advance at rest, set, advance" if label in ("default", "HWC") else ""),
                 ctor(7, 2, 1.0, (H, W, Cc)), ops))

    # -- sequences, resets ---------------------------------------------------------------------------
    r = rng(114)
    ops = [S("modulator", same([[0.5, -2.0, 10.0]]))]
    for _ in range(5):
        ops += [S(P, same(r.normal(0, 3, (1, 3)))), S("target", same(r.normal(0, 3, (1, 3)))), A()]
    add(case("multi_step_modulator_kept", "a modulator set once applies to five advances with new "
             f"{P} and target each", ctor(3, 1, 0.8), ops))
    r = rng(115)
    add(case("reset_to_rest", "set everything, advance, reset() (all back to rest values, "
             f"{PAR} kept), advance at rest, set {P}, advance", ctor(3, 2, 1.7),
             [S(P, same(r.normal(0, 1, (2, 3)))), S("target", same(r.normal(0, 1, (2, 3)))),
              S("modulator", same(r.uniform(-2, 2, (2, 3)))), S("mask", same([[0.0, 1.0, 0.0]] * 2)),
              A(), R, A(), S(P, same(r.normal(0, 1, (2, 3)))), A()]))
    r = rng(116)
    add(case("batched_reset", "batch 2 -> batched_reset(5) -> batched_reset(1) -> reset() back to "
             f"2, with a (1,4) {PAR}, advancing at each size", ctor(4, 2),
             [SS(PAR, (1, 4), same([0.5, 1.0, 2.0, 4.0])),
              S(P, same(r.normal(0, 1, (2, 4)))), S("target", same(r.normal(0, 1, (2, 4)))), A(),
              BR(5), S(P, same(r.normal(0, 1, (5, 4)))), S("target", same(r.normal(0, 1, (5, 4)))),
              S("modulator", same(r.uniform(-1, 3, (5, 4)))), A(), BR(1), A(),
              S("target", same(r.normal(0, 1, (1, 4)))), A(), R, S(P, same(r.normal(0, 1, (2, 4)))),
              A()]))
    if not gauss:
        r = rng(117)
        add(case("hwc_batched_reset", "(3,2,2,3) with Scale (3,) -> batched_reset(2): ngc-learn "
                 "turns it 2-D (an upstream bug), ngc-cells keeps it 4-D; advance", ctor(12, 3, 1.0, (2, 2, 3)),
                 [SS("Scale", (3,), same([0.5, 1.0, 2.0])),
                  S("shift", same(r.normal(0, 1, (3, 2, 2, 3)))), A(), BR(2),
                  S("target", same(r.normal(0, 1, (2, 2, 2, 3)))), A()]))
        tie = [[0.0, -0.0, 1.0, 2.5, -3.0, 0.0], [0.0, 0.0, -0.0, 1e-3, 7.0, 5.0]]
        add(case("ties_and_signed_zero", "target = shift exactly (sign 0, count 0), +0 - -0 and "
                 "-0 - +0 (sign of zero), tiny differences", ctor(6, 2, 0.5),
                 [S("shift", same(tie)),
                  S("target", same([[0.0, 0.0, 1.0, 2.5, -3.0, -0.0], [-0.0, 0.0, 0.0, 0.0, 7.0 + 1e-6, 5.0]])),
                  A()]))
        add(case("scale_zero_ties", "scale 0 with ties: dshift NaN where target = shift (0/0), "
                 "+-inf elsewhere; L = -inf", ctor(4, 1, 0.0),
                 [S("shift", same([[1.0, 2.0, 0.0, -1.0]])), S("target", same([[1.0, 3.0, 0.0, -2.0]])), A()]))
    r = rng(118)
    t = r.normal(0, 1, (2, 4))
    add(case("negative_zero", f"-0 in {P}, target, modulator and mask: signs of zero outputs",
             ctor(4, 2),
             [S(P, same([[-0.0, 0.3, 0.3, 0.3], [0.0, 0.7, -0.0, 0.7]])),
              S("target", same([[0.5, -0.0, 1.0, 0.0], [-0.0, -0.0, 0.0, 1.0]])),
              S("modulator", same([[1.0, 1.0, -0.0, 1.0], [-0.0, 1.0, 1.0, -0.0]])),
              S("mask", same([[1.0, 1.0, 1.0, -0.0], [-0.0, -0.0, 1.0, 1.0]])), A()]))

    # -- denormals -------------------------------------------------------------------------------------
    tiny = float(g.finfo.smallest_subnormal)
    sn = float(g.finfo.smallest_normal)
    dn = [tiny, -tiny, sn / 2, -sn / 3, sn * 0.9, tiny * 1000]
    r = rng(119)
    p = r.normal(0, 2, (3, 6))
    x = r.normal(0, 2, (3, 6))
    p[0] = dn
    x[0] = 0.0
    x[1] = dn
    p[1] = 0.0
    m = np.ones((3, 6))
    m[2] = dn
    add(case("denormal_inputs", f"subnormal {P} (row 0, target 0), target (row 1, {P} 0) and "
             "modulator (row 2) of this dtype: XLA reads them as 0 (DAZ) and flushes subnormal "
             "results (FTZ), IEEE arithmetic keeps them", ctor(6, 3),
             [S(P, own(p)), S("target", own(x)), S("modulator", own(m)), A()], denormal=True))
    return cases


def gaussian_cases(g):
    cases = _error_cases(g, "gaussian")

    def check_lesson(fg, cell):
        np = fg.np
        assert np.asarray(cell.dmu.get()).tolist() == [[2.0, -2.0, 0.0]]
        dt_ = np.asarray(cell.dtarget.get())
        assert dt_.tolist() == [[-2.0, 2.0, 0.0]] and np.signbit(dt_[0, 2])
        assert float(cell.L.get()) == -4.0

    for c in cases:
        if c["name"] == "ngclearn_lesson":
            c["post"] = check_lesson
    return cases


def laplacian_cases(g):
    return _error_cases(g, "laplacian")


# ------------------------------------------------------------------------------------------
# RewardErrorCell

def reward_cases(g):
    same = g.same
    cases = []
    add = cases.append

    def ctor(n, b, alpha, w=10, online=True):
        return {"n_units": n, "batch_size": b, "alpha": alpha, "ema_window_len": w,
                "use_online_predictor": online}

    rs = [1.0, 0.5, 0.0, 2.0, 1.5, 0.0, 1.0, 0.5, 0.0, 1.0]
    ops = []
    for v in rs:
        ops += [S("reward", same([[v]])), A()]
    ops.append(E())

    def check_own(fg, cell):
        np = fg.np
        mu = 0.0
        acc = 0.0
        for v in rs:
            acc += v
            mu = mu * 0.9 + v * 0.1
        want = 0.9 * mu + 0.1 * (acc / 10)
        assert abs(float(np.asarray(cell.mu.get())[0, 0]) - want) < 1e-5

    add(case("ngclearn_own_test", "ngc-learn's test_rewardErrorCell: 1 unit, alpha 0.1, window "
             "10, ten rewards, then evolve", ctor(1, 1, 0.1), ops, post=check_own))
    r = rng(201)
    ops = []
    for k in range(6):
        ops += [S("reward", same(r.normal(0, 1, (3, 4)))), A()]
        if k in (2, 5):
            ops.append(E(0.5))
    add(case("batch_3x4_advance_evolve", "(3,4), alpha 0.3, window 7: six advances with new "
             "rewards, evolve after the 3rd and 6th; n_ep_steps is (3,1)", ctor(4, 3, 0.3, 7), ops))
    r = rng(202)
    add(case("evolve_before_advance", "evolve before any advance: accum_reward/n_ep_steps = 0/0, "
             "mu = NaN, and NaN stays through advances until reset", ctor(2, 2, 0.2),
             [S("reward", same(r.normal(0, 1, (2, 2)))), E(), A(), A(), R, A(), E()]))
    r = rng(203)
    add(case("no_online_predictor", "use_online_predictor false: mu never moves (advance or "
             "evolve), rpe = reward - mu", ctor(3, 2, 0.5, 4, False),
             [S("reward", same(r.normal(0, 1, (2, 3)))), A(), S("mu", same(r.normal(0, 1, (2, 3)))),
              A(), E(), S("reward", same(r.normal(0, 1, (2, 3)))), A(), E()]))
    r = rng(204)
    add(case("alpha_one_window_1", "alpha 1 (mu = the last reward) and window 1 (evolve "
             "sets mu to the mean reward)", ctor(4, 1, 1.0, 1),
             [S("reward", same(r.normal(0, 1, (1, 4)))), A(), A(), E(),
              S("reward", same(r.normal(0, 1, (1, 4)))), A(), E()]))
    r = rng(205)
    add(case("alpha_zero", "alpha 0: mu stays where it was set", ctor(4, 1, 0.0, 3),
             [S("mu", same(r.normal(0, 1, (1, 4)))), S("reward", same(r.normal(0, 1, (1, 4)))), A(),
              A(), E()]))
    r = rng(206)
    ops = [S("mu", same(r.normal(0, 1, (2, 5))))]
    for _ in range(4):
        ops += [S("reward", same(r.uniform(-5, 5, (2, 5)))), A()]
    ops += [E(), R, A(), S("reward", same(r.uniform(-5, 5, (2, 5)))), A(), E()]
    add(case("reset_keeps_reward", "set mu, four advances, evolve, reset() (mu, rpe, "
             "accum_reward, n_ep_steps to zeros; reward is not reset), advance, new reward, "
             "advance, evolve", ctor(5, 2, 0.999, 5), ops))
    r = rng(208)
    add(case("batched_reset", "batch 2 -> batched_reset(3) (every compartment zeros at the new "
             "batch, n_ep_steps (3,1)) -> advances -> reset() back to 2", ctor(2, 2, 0.4, 3),
             [S("reward", same(r.normal(0, 1, (2, 2)))), A(), BR(3),
              S("reward", same(r.normal(0, 1, (3, 2)))), A(), A(), E(), R,
              S("reward", same(r.normal(0, 1, (2, 2)))), A()]))
    add(case("nonfinite_rewards", "NaN, +inf, -inf rewards: they propagate into mu, rpe and "
             "accum_reward (inf - inf = NaN)", ctor(4, 1, 0.25, 2),
             [S("reward", same([[NAN, INF, -INF, 1.0]])), A(),
              S("reward", same([[1.0, -INF, -INF, INF]])), A(), E()]))
    big = [[3e38, -3e38, 1e38, 1.0]]
    add(case("large_rewards", "rewards near float32's largest: accum_reward overflows to +-inf "
             "in float32 over two advances", ctor(4, 1, 0.25, 2),
             [S("reward", same(big)), A(), A(), E()]))

    def alpha_half(np_, dt, before, after):
        # ngc-cells: mu*(1-alpha) + reward*alpha, each product rounded, as written.
        a = dt(0.5)
        mu = before["mu"] * dt(1.0 - 0.5) + before["reward"] * a
        return {"mu": mu.astype(dt)}, (
            "with alpha = 0.5, 1 - alpha equals alpha and XLA factors ngc-learn's "
            "mu*(1-alpha) + reward*alpha into (mu + reward)*alpha, which overflows to inf "
            "where the written formula does not (float32 rewards near 3e38); ngc-cells "
            "computes the formula as written")

    c = case("alpha_half_overflow", "alpha 0.5 with rewards near float32's largest: XLA's "
             "(mu + reward)*0.5 overflows where mu*0.5 + reward*0.5 does not",
             ctor(2, 1, 0.5, 2), [S("reward", same([[2.5e38, -2.5e38]])), A(), A()])
    if g.dtype == "float32":
        c["ours_after_advance"] = alpha_half
    add(c)
    return cases
