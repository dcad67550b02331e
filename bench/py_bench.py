"""Times the reference: ngc-learn's BernoulliErrorCell.advance_state through its
own process (MethodProcess.run), and the same math under jax.jit, on the CPU.

Prints tab-separated lines in bench/c/bench.c's format:
  impl dtype mode threads label elements us_per_call ns_per_element faults_per_call
(threads and faults are "-": JAX picks its own threads, and the Python process
cannot tell its page faults from the interpreter's).

Usage: python py_bench.py [--quick] [--only LABEL] [--impl ngclearn|jax]
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

SIZES = [
    ("1e2", 100, 1),
    ("784", 784, 1),
    ("1e3", 1000, 1),
    ("1e4", 10000, 1),
    ("128x784", 784, 128),
    ("1e5", 100000, 1),
    ("1e6", 1000000, 1),
    ("1e7", 10000000, 1),
]


def inputs(n_elems, batch, units, logits, seed=7):
    rng = np.random.default_rng(seed)
    u = rng.random((batch, units))
    p = (u - 0.5) * 8.0 if logits else 0.02 + 0.96 * u
    x = (rng.random((batch, units)) < 0.5).astype(np.float32)
    return jnp.asarray(p, dtype=jnp.float32), jnp.asarray(x, dtype=jnp.float32)


def timeit(call, quick):
    """Median seconds per call over samples of several calls each."""
    for _ in range(3):
        call()
    t0 = time.perf_counter()
    call()
    one = time.perf_counter() - t0
    target = 0.005 if quick else 0.02
    reps = max(1, int(target / max(one, 1e-9)))
    samples = 3 if quick else (5 if one > 0.05 else 9)
    ts = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(reps):
            call()
        ts.append((time.perf_counter() - t0) / reps)
    return statistics.median(ts)


def make_jit(logits):
    eps = 0.0001

    @jax.jit
    def step(p, x, m, k):
        # The same math as ngc-learn's advance_state (bernoulliErrorCell.py).
        _p = 1.0 / (1.0 + jnp.exp(-p)) if logits else p
        _p = jnp.clip(_p, eps, 1.0 - eps)
        one_min_p = 1.0 - _p
        one_min_x = 1.0 - x
        log_p = jnp.log(_p)
        log_one_min_p = jnp.log(one_min_p)
        L = jnp.sum(log_p * x + log_one_min_p * one_min_x)
        if logits:
            g = x - _p
        else:
            s = 1.0 / (1.0 + jnp.exp(-p))
            g = (x / _p - one_min_x / one_min_p) * (s * (1.0 - s))
        dp = g * m * k
        dtarget = (log_p - log_one_min_p) * m * k
        return dp, dtarget, jnp.squeeze(L), k * 0.0 + 1.0

    return step


def bench_jax(label, units, batch, logits, quick):
    n = units * batch
    p, x = inputs(n, batch, units, logits)
    m = jnp.ones_like(p)
    k = jnp.ones_like(p)
    step = make_jit(logits)

    def call():
        jax.block_until_ready(step(p, x, m, k))

    return timeit(call, quick)


_ctx = [0]


def bench_ngclearn(label, units, batch, logits, quick):
    from ngclearn import Context, MethodProcess
    from ngclearn.components import BernoulliErrorCell

    _ctx[0] += 1
    with Context(f"bench_{_ctx[0]}"):
        cell = BernoulliErrorCell(name="a", n_units=units, batch_size=batch, input_logits=logits)
        advance = MethodProcess("advance_proc") >> cell.advance_state
        reset = MethodProcess("reset_proc") >> cell.reset
    reset.run()
    p, x = inputs(units * batch, batch, units, logits)
    cell.p.set(p)
    cell.target.set(x)

    def call():
        advance.run(t=0.0, dt=1.0)
        jax.block_until_ready((cell.dp.get(), cell.dtarget.get(), cell.L.get()))

    return timeit(call, quick)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--impl", choices=["ngclearn", "jax"], action="append")
    args = ap.parse_args()
    impls = args.impl or ["ngclearn", "jax"]
    print(f"# jax {jax.__version__} on {jax.devices()[0].platform}", file=sys.stderr)
    for label, units, batch in SIZES:
        if args.only and label != args.only:
            continue
        n = units * batch
        for logits in (False, True):
            for impl in impls:
                f = bench_ngclearn if impl == "ngclearn" else bench_jax
                t = f(label, units, batch, logits, args.quick)
                mode = "logits" if logits else "prob"
                print(f"{impl}\tf32\t{mode}\t-\t{label}\t{n}\t{t * 1e6:.4f}\t{t * 1e9 / n:.4f}\t-",
                      flush=True)


if __name__ == "__main__":
    main()
