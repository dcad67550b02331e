"""The conformance cases of RateCell (FAMILY.md section 5).

`rate_cases(g)` is called once per dtype by family.py (see cases_error.py for `same`
and `own`). Each case gives ngc-cells' constructor arguments in its own terms: the
integration name is the method ngc-learn 3.2.3 really runs ("rk4" here is what
ngc-learn calls "heun"; family.py translates), priors and thresholds by name.
"""

import numpy as np

from cases_error import A, BR, R, S, case, rng

NAN, INF = float("nan"), float("inf")

STATEFUL_FX = ["identity", "tanh", "sigmoid", "relu", "lrelu", "relu6", "elu", "silu", "gelu",
               "telu", "softplus", "unit_threshold", "heaviside", "sine", "bkwta"]
STATELESS_FX = STATEFUL_FX + ["softmax"]
PRIORS = ["gaussian", "laplacian", "cauchy", "exp"]
INTEGRATIONS = ["euler", "midpoint", "rk4"]


def ctor(n, b, tau=10.0, prior="gaussian", leak=0.0, act="identity", out_scale=1.0,
         thr="none", lam=0.0, integ="euler", resist=1.0, stateful=True, shape=None):
    return {"n_units": n, "batch_size": b, "tau_m": tau, "prior": prior, "prior_leak": leak,
            "act_fx": act, "output_scale": out_scale, "threshold": thr, "threshold_lambda": lam,
            "integration": integ, "resist_scale": resist, "is_stateful": stateful,
            "shape": None if shape is None else list(shape)}


def rate_cases(g):
    same, own = g.same, g.own
    f32 = g.dtype == "float32"
    cases = []
    add = cases.append

    # -- ngc-learn's own test -------------------------------------------------------------
    ops = []
    for _ in range(10):
        ops += [S("j", same([[1.0]])), A(1.0)]
    add(case("ngclearn_own_test", "ngc-learn's test_RateCell: 1 unit, tau 50, identity, euler, "
             "gaussian prior 0, j = 1 for ten steps of dt 1 (z = 0.02, 0.04, ...)",
             ctor(1, 1, tau=50.0), ops))

    # -- every prior with every integrator ngc-learn runs, tanh and identity -----------------
    seed = 300
    for act in ("tanh", "identity"):
        for prior in PRIORS:
            for integ in INTEGRATIONS:
                seed += 1
                r = rng(seed)
                z0 = r.normal(0, 1.5, (2, 5))
                ops = [S("z", same(z0))]
                for _ in range(3):
                    ops += [S("j", same(r.normal(0, 2, (2, 5)))),
                            S("j_td", same(r.normal(0, 1, (2, 5)))), A(0.5)]
                add(case(f"{act}_{prior}_{integ}", f"{act}, {prior} prior (leak 0.3), {integ} "
                         "(ngc-learn: " + {"rk4": "\"heun\", which runs RK4"}.get(integ, f"\"{integ}\"")
                         + "), tau 10, dt 0.5: z set, three steps with new j and j_td",
                         ctor(5, 2, tau=10.0, prior=prior, leak=0.3, act=act, integ=integ), ops))

    # -- every stateful activation -----------------------------------------------------------
    zs = {
        "relu": [-1.0, -0.0, 0.0, 1e-3, 2.0],
        "lrelu": [-3.0, -1e-3, 0.0, 0.5, 4.0],
        "relu6": [-1.0, 0.0, 3.0, 6.0, 7.5],
        # elu: exp(95) overflows float32, and inf * 0 makes fx and dfx NaN there
        "elu": [-5.0, -0.5, 0.0, 1.0, 95.0],
        "unit_threshold": [0.0, 0.999, 1.0, 1.001, 2.0],
        "heaviside": [-1.0, -0.0, 0.0, 1e-3, 1.0],
        "sine": [-0.3, 0.0, 0.05, 1.0, 10.0],
        "telu": [-4.0, -1.0, 0.0, 0.7, 3.0],
        "bkwta": [0.5, -1.0, 2.0, 0.25, 1.5, -0.5, 3.0],
    }
    for act in STATEFUL_FX:
        if act in ("identity", "tanh"):
            continue
        seed += 1
        r = rng(seed)
        row = zs.get(act, [-3.0, -0.7, 0.0, 0.4, 2.5])
        n = len(row)
        z0 = np.array([row, list(r.normal(0, 1.5, n))])
        ops = [S("z", same(z0))]
        for _ in range(2):
            ops += [S("j", same(r.normal(0, 1, (2, n)))), S("j_td", same(r.normal(0, 0.5, (2, n)))),
                    A(1.0)]
        add(case(f"stateful_{act}", f"stateful {act} (euler, gaussian prior 0.1, tau 10): z at "
                 f"{row} and random, two steps", ctor(n, 2, leak=0.1, act=act), ops))

    # -- every stateless activation, softmax included -----------------------------------------
    for act in STATELESS_FX:
        seed += 1
        r = rng(seed)
        row = zs.get(act, [-3.0, -0.7, 0.0, 0.4, 2.5])
        n = len(row)
        j = np.array([row, list(r.normal(0, 2, n))])
        add(case(f"stateless_{act}", f"stateless {act} (is_stateful false): z = j + j_td, "
                 "zF = fx(z) * output_scale 1.5; j is not modulated",
                 ctor(n, 2, act=act, out_scale=1.5, stateful=False),
                 [S("j", same(j)), S("j_td", same(r.normal(0, 0.25, (2, n)))), A(),
                  S("j", same(r.normal(0, 1, (2, n)))), A()]))
    r = rng(399)
    add(case("stateless_tau_zero", "tau_m = 0.0 makes a cell stateless (is_stateful true), tanh",
             ctor(4, 2, tau=0.0, act="tanh"),
             [S("j", same(r.normal(0, 1, (2, 4)))), S("j_td", same(r.normal(0, 1, (2, 4)))), A(), A()]))

    # -- soft threshold, scales, dt --------------------------------------------------------------
    for integ, lam in (("euler", 0.05), ("rk4", 0.2)):
        r = rng(400 + len(integ))
        ops = [S("z", same(r.normal(0, 0.3, (3, 6))))]
        for _ in range(3):
            ops += [S("j", same(r.normal(0, 1, (3, 6)))), A(1.0)]
        add(case(f"soft_threshold_{integ}", f"soft_threshold lambda {lam} after each {integ} step "
                 "(cauchy prior 0.14, identity, tau 20: the sparse-coding setting)",
                 ctor(6, 3, tau=20.0, prior="cauchy", leak=0.14, thr="soft_threshold", lam=lam,
                      integ=integ), ops))
    r = rng(410)
    add(case("resist_and_output_scale", "resist_scale 0.5 (scales the modulated j, written "
             "back) and output_scale 2.5 (scales zF), tanh midpoint",
             ctor(5, 2, act="tanh", leak=0.2, resist=0.5, out_scale=2.5, integ="midpoint"),
             [S("z", same(r.normal(0, 1, (2, 5)))), S("j", same(r.normal(0, 2, (2, 5)))), A(),
              S("j", same(r.normal(0, 2, (2, 5)))), A()]))
    for k, dt in enumerate((0.1, 1.0, 5.0, 25.0)):
        r = rng(420 + k)
        add(case(f"dt_{dt:g}", f"dt {dt} with tau 10 (dt/tau = {dt / 10:g}), tanh, gaussian "
                 "prior 1.0, rk4", ctor(4, 2, act="tanh", leak=1.0, integ="rk4"),
                 [S("z", same(r.normal(0, 1, (2, 4)))), S("j", same(r.normal(0, 1, (2, 4)))), A(dt),
                  S("j", same(r.normal(0, 1, (2, 4)))), A(dt)]))

    # -- 4-D, NaN/inf, compounding, saturation, resets -------------------------------------------
    r = rng(430)
    add(case("hwc_tanh_midpoint", "(2,3,4,2) cell (n_units 24 only recorded), tanh, laplacian "
             "prior 0.1, midpoint; reset keeps it 4-D", ctor(24, 2, act="tanh", prior="laplacian",
                                                           leak=0.1, integ="midpoint", shape=(3, 4, 2)),
             [S("z", same(r.normal(0, 1, (2, 3, 4, 2)))), S("j", same(r.normal(0, 1, (2, 3, 4, 2)))),
              S("j_td", same(r.normal(0, 1, (2, 3, 4, 2)))), A(), A(), R,
              S("j", same(r.normal(0, 1, (2, 3, 4, 2)))), A()]))
    r = rng(431)
    add(case("hwc_stateless_sigmoid", "(1,2,2,3) stateless sigmoid", ctor(12, 1, act="sigmoid",
                                                                         stateful=False, shape=(2, 2, 3)),
             [S("j", same(r.normal(0, 2, (1, 2, 2, 3)))), A()]))
    for label, vals in (("nan", [NAN, NAN, NAN]), ("inf", [INF, -INF, INF])):
        for act in ("identity", "tanh"):
            r = rng(440 + len(label) + len(act))
            z = r.normal(0, 1, (3, 5))
            j = r.normal(0, 1, (3, 5))
            jt = r.normal(0, 1, (3, 5))
            z[0, :3] = vals
            j[1, :3] = vals
            jt[2, :3] = vals
            add(case(f"{label}_inputs_{act}", f"{label} in z (row 0), j (row 1), j_td (row 2), "
                     f"{act}, gaussian prior 0.5, euler: propagates into z, zF and the "
                     "written-back j", ctor(5, 3, act=act, leak=0.5),
                     [S("z", same(z)), S("j", same(j)), S("j_td", same(jt)), A(), A()]))
    r = rng(450)
    add(case("j_compounding_tanh", "j set once, four steps: each step multiplies the "
             "written-back j by tanh'(z) * resist_scale (1.5) again (ngc-learn's write-back)",
             ctor(4, 2, act="tanh", leak=0.1, resist=1.5),
             [S("z", same(r.normal(0, 1, (2, 4)))), S("j", same(r.normal(0, 3, (2, 4)))), A(), A(), A(),
              A()]))
    r = rng(451)
    add(case("j_compounding_sigmoid_rk4", "j set once, three rk4 steps with sigmoid: j shrinks "
             "by sigmoid'(z) each step", ctor(3, 1, act="sigmoid", leak=0.2, integ="rk4"),
             [S("j", same(r.normal(0, 3, (1, 3)))), A(), A(), A()]))
    sat = [[-10.0, -8.0, -5.0, -4.0, 4.0, 5.0, 8.0, 10.0], [-20.0, -9.0, -6.0, 3.0, 6.0, 7.0, 9.0, 20.0]]
    add(case("tanh_saturation", "tanh with z at +-3 .. +-20: tanh'(z) = 1 - tanh^2 loses its "
             "relative precision, j' = j tanh'(z) with j up to 1e3", ctor(8, 2, act="tanh", leak=0.05),
             [S("z", same(sat)), S("j", same(np.full((2, 8), 1e3) * np.sign(np.asarray(sat)))),
              S("j_td", same(np.full((2, 8), 0.5))), A(), S("j", same(np.full((2, 8), -50.0))), A()]))
    r = rng(452)
    add(case("large_drive_rk4", "large j (1e4) and z (1e3), identity, exp prior 2.0, rk4, dt 1",
             ctor(5, 1, act="identity", prior="exp", leak=2.0, integ="rk4"),
             [S("z", same([[1e3, -1e3, 0.5, -0.5, 1.0]])), S("j", same([[1e4, -1e4, 3.0, -3.0, 0.0]])),
              A(), A()]))
    r = rng(453)
    add(case("reset_to_rest", "stateful tanh: advance, reset() (j, j_td, z, zF to zeros), "
             "advance at rest, set j, advance", ctor(3, 2, act="tanh", leak=0.2),
             [S("z", same(r.normal(0, 1, (2, 3)))), S("j", same(r.normal(0, 1, (2, 3)))),
              S("j_td", same(r.normal(0, 1, (2, 3)))), A(), R, A(), S("j", same(r.normal(0, 1, (2, 3)))),
              A()]))
    r = rng(454)
    add(case("batched_reset", "batch 2 -> batched_reset(4) -> reset(), sigmoid midpoint",
             ctor(3, 2, act="sigmoid", leak=0.2, integ="midpoint"),
             [S("j", same(r.normal(0, 1, (2, 3)))), A(), BR(4), S("j", same(r.normal(0, 1, (4, 3)))),
              A(), R, A()]))
    r = rng(455)
    add(case("museum_pc_discrim", "ngc-museum pc_discrim hidden layer: tanh, gaussian prior 0, "
             "euler, tau 10, dt 1, batch 8, 20 units, 5 steps with new j and j_td",
             ctor(20, 8, act="tanh", leak=0.0),
             sum(([S("j", same(r.normal(0, 0.5, (8, 20)))), S("j_td", same(r.normal(0, 0.5, (8, 20)))),
                   A()] for _ in range(5)), [])))
    r = rng(456)
    jfix = r.normal(0, 0.5, (4, 16))
    add(case("museum_sparse_coding", "ngc-museum olshausen_sc: identity, cauchy prior 0.14, "
             "euler, tau 20, 10 steps with j fixed (set each step)",
             ctor(16, 4, tau=20.0, prior="cauchy", leak=0.14),
             sum(([S("j", same(jfix)), A()] for _ in range(10)), [])))
    add(case("tau_int_like", "tau 20.0 given as a float (ngc-learn's int 20 is the same number), "
             "lrelu, exp prior 0.3, midpoint, dt 2", ctor(5, 1, tau=20.0, act="lrelu", prior="exp",
                                                        leak=0.3, integ="midpoint"),
             [S("z", same([[-2.0, -0.5, 0.0, 0.5, 2.0]])), S("j", same([[1.0, -1.0, 2.0, -2.0, 0.5]])),
              A(2.0), A(2.0)]))
    add(case("relu_nonfinite_j", "relu with NaN, +inf, -inf and negative j where z < 0 (relu' = 0) "
             "and where z > 0", ctor(4, 2, act="relu", leak=0.1),
             [S("z", same([[-1.0, -2.0, -0.5, -3.0], [1.0, 2.0, 0.5, 3.0]])),
              S("j", same([[NAN, INF, -INF, -2.0], [NAN, INF, -INF, -2.0]])), A()]))
    tiny = float(g.finfo.smallest_subnormal)
    add(case("denormal_inputs", "subnormal z, j, j_td of this dtype: XLA reads them as 0 (DAZ)",
             ctor(4, 1, act="tanh", leak=0.5),
             [S("z", own([[tiny, -tiny * 8, 0.0, 1.0]])), S("j", own([[tiny * 1000, 1.0, -tiny, 0.0]])),
              S("j_td", own([[0.0, tiny, 0.0, tiny * 3]])), A()], denormal=True))
    if f32:
        for c in cases:
            a = c["constructor"]
            if a["act_fx"] in ("relu", "bkwta") and a["is_stateful"] and a["tau_m"] > 0:
                c["ours_after_advance"] = _select_quirk(a["act_fx"], a["resist_scale"])
    return cases


R_SELECT = ("float32: XLA compiles ngc-learn's j * dfx(z) for {fx} (a float32 cast of a "
            "comparison) as a select, so where the derivative is 0 the written-back j is +0, "
            "even for a negative, infinite or NaN j; ngc-cells multiplies as written: -0 for a "
            "negative j, NaN for an infinite or NaN one (and then z and zF are NaN too)")


def _select_quirk(fx, resist):
    """ngc-cells' j (and z, zF) where XLA's select differs from the product as written."""

    def ours(np_, dt, before, after):
        z, j = before["z"], before["j"]
        with np_.errstate(invalid="ignore"):
            if fx == "relu":
                g = (z >= 0).astype(dt)
            else:
                kth = np_.sort(z, axis=1)[:, -5][:, None]
                g = (z >= kth).astype(dt)
            zero = g == 0
            jp = np_.where(zero, (j * g) * dt(resist), after["j"]).astype(dt)
            nan = np_.isnan(jp) & ~np_.isnan(after["j"])
            out = {"j": jp}
            for c in ("z", "zF"):
                out[c] = np_.where(nan, dt("nan"), after[c]).astype(dt)
        return out, R_SELECT.format(fx=fx)

    return ours
