"""Times the reference for the family benchmark (bench/c/family.c's rows):
ngc-learn's own cells through their own process (MethodProcess >> advance_state,
.run(t, dt)) and ngc-learn's own advance math under jax.jit, for
GaussianErrorCell, LaplacianErrorCell, BernoulliErrorCell (probability mode),
RewardErrorCell and RateCell (euler identity, euler tanh, RK4 tanh), at 784
units and 1e5, 1e6, 1e7 elements, f32 (batch 1).

The configurations of one size take turns sample by sample; each figure is a
median over samples of back-to-back calls (each blocking on every output).
JAX always reads and writes modulator and mask (it cannot know they hold
ones), so its rows have no rest/set distinction (mode "-").

"rk4" here is the method (our name). ngc-learn 3.2.3 runs RK4 for the name
"heun" (and Euler for "rk4"), so its process is built with "heun"; the jax.jit
row calls ngc-learn's own _run_cell with integType=2 (its RK4 step).

Thread count: this script does not choose it; bench/family.sh runs it under
`taskset -c CPU` with XLA_FLAGS limiting XLA to one thread for the 1-thread
rows, unrestricted on both CPUs for the 2-thread rows, and passes --threads N
so the rows are labelled.

Output (bench/c/family.c's format):
  impl cell mode threads label elements us_per_call ns_per_element allocs faults min_us
(allocs and faults are "-"; min_us is the fastest sample).

Usage: python py_family.py [--threads N] [--quick] [--only LABEL] [--cells PREFIX] [--impl ngclearn|jax]
(--cells rate: only the cells whose name starts with PREFIX)
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

SIZES = [("784", 784), ("1e5", 100_000), ("1e6", 1_000_000), ("1e7", 10_000_000)]
CELLS = [
    "gaussian",
    "laplacian",
    "bernoulli",
    "reward",
    "rate_euler_identity",
    "rate_euler_tanh",
    "rate_rk4_tanh",
]
# RateCell: (act_fx, ngc-learn's integration_type name that runs the method, _run_cell's integType)
RATE = {
    "rate_euler_identity": ("identity", "euler", 0),
    "rate_euler_tanh": ("tanh", "euler", 0),
    "rate_rk4_tanh": ("tanh", "heun", 2),
}
TAU_M, LEAK, ALPHA, WINDOW = 10.0, 0.1, 0.1, 10


def data(n, cell, seed=7):
    """The inputs, as (1, n) float32 arrays."""
    rng = np.random.default_rng(seed)

    def u(lo, hi):
        return jnp.asarray(lo + (hi - lo) * rng.random((1, n)), dtype=jnp.float32)

    if cell == "bernoulli":
        return {"p": u(0.02, 0.98), "target": jnp.asarray(rng.random((1, n)) < 0.5, dtype=jnp.float32)}
    if cell == "reward":
        return {"reward": u(-1, 1)}
    if cell.startswith("rate"):
        return {"j": u(-1, 1), "j_td": u(-1, 1), "z": u(-1, 1)}
    return {"pred": u(-1, 1), "target": u(-1, 1)}


# ---- ngc-learn's own advance math, verbatim, under jax.jit ----------------

@jax.jit
def gaussian_step(mu, target, Sigma, modulator, mask):
    _dmu = (target - mu)
    dmu = _dmu / Sigma
    dtarget = -dmu
    dSigma = Sigma * 0 + 1.
    L = -jnp.sum(jnp.square(_dmu)) * (0.5 / Sigma)
    dmu = dmu * modulator * mask
    dtarget = dtarget * modulator * mask
    mask = mask * 0. + 1.
    return dmu, dtarget, dSigma, jnp.squeeze(L), mask


@jax.jit
def laplacian_step(shift, target, Scale, modulator, mask):
    _dshift = jnp.sign(target - shift)
    dshift = _dshift / Scale
    dtarget = -dshift
    dScale = Scale * 0 + 1.
    L = -jnp.sum(jnp.abs(_dshift)) * (1. / Scale)
    dshift = dshift * modulator * mask
    dtarget = dtarget * modulator * mask
    mask = mask * 0. + 1.
    return dshift, dtarget, dScale, jnp.squeeze(L), mask


@jax.jit
def bernoulli_step(p, target, modulator, mask):
    eps = 0.0001
    _p = jnp.clip(p, eps, 1. - eps)
    one_min_p = 1. - _p
    one_min_x = 1. - target
    log_p = jnp.log(_p)
    log_one_min_p = jnp.log(one_min_p)
    L = jnp.sum(log_p * target + log_one_min_p * one_min_x)
    s = 1. / (1. + jnp.exp(-p))
    dp = (target / _p - one_min_x / one_min_p) * (s * (1. - s))
    dtarget = (log_p - log_one_min_p)
    dp = dp * modulator * mask
    dtarget = dtarget * modulator * mask
    mask = mask * 0. + 1.
    return dp, dtarget, jnp.squeeze(L), mask


def reward_step_fn(alpha):
    @jax.jit
    def step(mu, reward, accum_reward, n_ep_steps):
        accum_reward = accum_reward + reward
        rpe = reward - mu
        mu = mu * (1. - alpha) + reward * alpha
        n_ep_steps = n_ep_steps + 1
        return mu, rpe, accum_reward, n_ep_steps

    return step


def rate_step_fn(act_fx, integ):
    # ngc-learn's own helpers (rateCell.py, model_utils), stateful advance.
    from ngclearn.components.neurons.graded.rateCell import _modulate, _run_cell
    from ngclearn.utils.model_utils import create_function

    fx, dfx = create_function(fun_name=act_fx)

    @jax.jit
    def step(j, j_td, z, dt):
        dfx_val = dfx(z)
        j = _modulate(j, dfx_val)
        j = j * 1.0  # resist_scale
        j_lat = jnp.zeros_like(z)
        z = _run_cell(dt, j=(j + j_lat), j_td=j_td, z=z, tau_m=TAU_M, leak_gamma=LEAK,
                      integType=integ, priorType=0)
        zF = fx(z) * 1.0  # output_scale
        return j, z, zF

    return step


def make_jax(cell, n):
    d = data(n, cell)
    ones = jnp.ones((1, n), dtype=jnp.float32)
    if cell in ("gaussian", "laplacian"):
        f = gaussian_step if cell == "gaussian" else laplacian_step
        param = jnp.ones((1, 1), dtype=jnp.float32)
        args = (d["pred"], d["target"], param, ones, ones)
    elif cell == "bernoulli":
        f = bernoulli_step
        args = (d["p"], d["target"], ones, ones)
    elif cell == "reward":
        f = reward_step_fn(ALPHA)
        zeros = jnp.zeros((1, n), dtype=jnp.float32)
        args = (zeros, d["reward"], zeros, jnp.zeros((1, 1), dtype=jnp.float32))
    else:
        act, _, integ = RATE[cell]
        f = rate_step_fn(act, integ)
        args = (d["j"], d["j_td"], d["z"], 1.0)

    def call():
        jax.block_until_ready(f(*args))

    return call


_ctx = [0]


def make_ngclearn(cell, n):
    from ngclearn import Context, MethodProcess
    from ngclearn.components import (BernoulliErrorCell, GaussianErrorCell, LaplacianErrorCell,
                                     RateCell, RewardErrorCell)

    _ctx[0] += 1
    d = data(n, cell)
    with Context(f"family_{_ctx[0]}"):
        if cell == "gaussian":
            c = GaussianErrorCell(name="c", n_units=n, batch_size=1, sigma=1.0)
        elif cell == "laplacian":
            c = LaplacianErrorCell(name="c", n_units=n, batch_size=1, scale=1.0)
        elif cell == "bernoulli":
            c = BernoulliErrorCell(name="c", n_units=n, batch_size=1, input_logits=False)
        elif cell == "reward":
            c = RewardErrorCell(name="c", n_units=n, alpha=ALPHA, ema_window_len=WINDOW,
                                use_online_predictor=True, batch_size=1)
        else:
            act, integ_name, _ = RATE[cell]
            c = RateCell(name="c", n_units=n, tau_m=TAU_M, prior=("gaussian", LEAK), act_fx=act,
                         integration_type=integ_name, batch_size=1)
        advance = MethodProcess("advance_proc") >> c.advance_state
        reset = MethodProcess("reset_proc") >> c.reset
    reset.run()
    if cell in ("gaussian", "bernoulli"):
        (c.mu if cell == "gaussian" else c.p).set(d["pred"] if cell == "gaussian" else d["p"])
        c.target.set(d["target"])
        outs = [c.dmu, c.dtarget, c.L, c.mask] if cell == "gaussian" else [c.dp, c.dtarget, c.L, c.mask]
    elif cell == "laplacian":
        c.shift.set(d["pred"])
        c.target.set(d["target"])
        outs = [c.dshift, c.dtarget, c.L, c.mask]
    elif cell == "reward":
        c.reward.set(d["reward"])
        outs = [c.mu, c.rpe, c.accum_reward, c.n_ep_steps]
    else:
        c.j.set(d["j"])
        c.j_td.set(d["j_td"])
        c.z.set(d["z"])
        outs = [c.j, c.z, c.zF]

    def call():
        advance.run(t=0.0, dt=1.0)
        jax.block_until_ready([o.get() for o in outs])

    return call


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="-")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--cells", default="")
    ap.add_argument("--samples", type=int)
    ap.add_argument("--impl", choices=["ngclearn", "jax"], action="append")
    args = ap.parse_args()
    impls = args.impl or ["ngclearn", "jax"]
    print(f"# jax {jax.__version__} on {jax.devices()[0].platform}, "
          f"affinity {sorted(os.sched_getaffinity(0))}, XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}",
          file=sys.stderr)
    samples = args.samples or (3 if args.quick else 9)
    target = 0.005 if args.quick else 0.02
    for label, n in SIZES:
        if args.only and label != args.only:
            continue
        configs = []
        for cell in CELLS:
            if not cell.startswith(args.cells):
                continue
            for impl in impls:
                call = (make_ngclearn if impl == "ngclearn" else make_jax)(cell, n)
                for _ in range(3):
                    call()  # compile, warm up
                t0 = time.perf_counter()
                call()
                one = time.perf_counter() - t0
                configs.append({"impl": impl, "cell": cell, "call": call,
                                "reps": max(1, int(target / max(one, 1e-9))), "t": []})
        for _ in range(samples):
            for c in configs:
                c["call"]()  # untimed, as family.c
                t0 = time.perf_counter()
                for _ in range(c["reps"]):
                    c["call"]()
                c["t"].append((time.perf_counter() - t0) / c["reps"])
        for c in configs:
            t = statistics.median(c["t"])
            print(f"{c['impl']}\t{c['cell']}\t-\t{args.threads}\t{label}\t{n}\t{t * 1e6:.4f}\t"
                  f"{t * 1e9 / n:.4f}\t-\t-\t{min(c['t']) * 1e6:.4f}", flush=True)
        del configs


if __name__ == "__main__":
    main()
