#!/usr/bin/env python3
"""Writes the conformance fixtures of ngc-cells from the real reference.

Runs ngc-learn 3.2.3's own cells (ngcsimlib 3.1.1, JAX) on the cases of cases.py
(BernoulliErrorCell), cases_error.py (GaussianErrorCell, LaplacianErrorCell,
RewardErrorCell) and cases_rate.py (RateCell), and records, after every op, the value
of every compartment. `tests/conformance/` replays each case through the C ABI and
compares.

    bash tests/reference/generate.sh        # the one command (makes the venv, runs this)
    bash tests/reference/generate.sh --cells gaussian,rate    # a subset

Without --dtype this script runs itself twice, in fresh interpreters, because JAX's
64-bit mode can only be chosen before JAX computes anything:

    --dtype float32   JAX's default              -> fixtures/<cell>_f32.json
    --dtype float64   jax_enable_x64 switched on -> fixtures/<cell>_f64.json

Both sets replay the same case list. The Bernoulli files use format 1 (below); the
others format 2, which family.py describes. The inputs are the same numbers: float32 values,
widened exactly to float64 for the float64 set, except where a case is about a
dtype's own edges (its clip bounds, its denormals, where its sigmoid underflows),
which each dtype gets at its own values.

Fixture format 1 (BernoulliErrorCell; JSON, one file per dtype):
  - numbers are the shortest decimals that round-trip in the file's dtype
    (numpy's repr for float32, Python's for float64), so a reader must parse them
    straight into that type; NaN, +inf and -inf are the strings "NaN", "Infinity",
    "-Infinity"; -0.0 is written as -0.0.
  - an array is a flat row-major list, or {"fill": v} when every element is the same
    bits, or "as_set" when it is bit for bit what the case last set into that
    compartment (the reference did not touch it).
  - a case is a list of ops: {"op": "set", "compartment", "values"}, {"op": "advance"},
    {"op": "reset"}, {"op": "batched_reset", "batch_size"}. Advance and reset ops carry
    "expect": the dims and the value of all seven compartments afterwards, and every
    advance carries "L_abs": sum |x*ln(q) + (1-x)*ln(1-q)| over the elements (float64,
    from the reference's own q), the scale of L's rounding error.
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
COMPARTMENTS = ["p", "target", "modulator", "mask", "L", "dp", "dtarget"]


def _cases(module, fn):
    def build(g):
        import importlib
        return getattr(importlib.import_module(module), fn)(g)
    return build


# The cells and their case lists (bernoulli: cases.py, the others: format 2, family.py).
CELLS = {
    "bernoulli": None,
    "gaussian": _cases("cases_error", "gaussian_cases"),
    "laplacian": _cases("cases_error", "laplacian_cases"),
    "reward": _cases("cases_error", "reward_cases"),
    "rate": _cases("cases_rate", "rate_cases"),
}
NGC_TEST_DP = [-2.8193381, -4976.9263, -2.1224928, -2939.0425, -1233.3916,
               -0.24662945, -708.30042, 0.28213939, 3550.8477, 1.3651246]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dtype", choices=["float32", "float64"])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--cells", default=",".join(CELLS),
                    help="comma-separated subset of: " + ", ".join(CELLS))
    args = ap.parse_args()
    cells = args.cells.split(",")
    assert all(c in CELLS for c in cells), cells
    if args.dtype is None:
        for dt in ("float32", "float64"):
            subprocess.run([sys.executable, os.path.abspath(__file__), "--dtype", dt,
                            "--out", args.out, "--cells", args.cells], check=True)
        return
    if args.dtype == "float64":
        # Must happen before JAX makes any array.
        os.environ["JAX_ENABLE_X64"] = "1"
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    g = Generator(args.dtype)
    if "bernoulli" in cells:
        g.run(args.out)
    for key in cells:
        if key != "bernoulli":
            from family import FamilyGenerator
            FamilyGenerator(g, key).run(args.out, CELLS[key](g))


# ----------------------------------------------------------------------------------------
# encoding

def fmt(v, np, dt):
    """Shortest round-trip decimal of one element of dtype dt, as a JSON token."""
    v = dt(v)
    if np.isnan(v):
        return '"NaN"'
    if np.isinf(v):
        return '"Infinity"' if v > 0 else '"-Infinity"'
    s = repr(float(v)) if dt is np.float64 else str(v)
    # numpy writes float32 like "1e-45", "0.1", "1.0", "-0.0", "3.4028235e+38": all JSON.
    if "e" in s:  # "1e-04" -> "1e-4", "3.4028235e+38" -> "3.4028235e38"
        m, e = s.split("e")
        s = m + "e" + str(int(e))
    back = dt(float(s)) if dt is np.float64 else dt(s)
    assert back.tobytes() == v.tobytes(), (s, v)
    return s


class Raw(str):
    """A pre-encoded JSON fragment."""


def encode(obj, indent=0):
    pad = "  " * indent
    if isinstance(obj, Raw):
        return str(obj)
    if isinstance(obj, dict):
        items = [f'{pad}  {json.dumps(k)}: {encode(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}" if items else "{}"
    if isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj):
            return "[" + ", ".join(encode(x) for x in obj) + "]"
        return "[\n" + ",\n".join(pad + "  " + encode(x, indent + 1) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj)


# ----------------------------------------------------------------------------------------

class Generator:
    def __init__(self, dtype):
        import numpy as np
        import jax
        import jax.numpy as jnp
        if dtype == "float64":
            jax.config.update("jax_enable_x64", True)
        self.np, self.jax, self.jnp = np, jax, jnp
        self.dtype = dtype
        self.dt = np.float32 if dtype == "float32" else np.float64
        self.finfo = np.finfo(self.dt)
        self.n_ctx = 0
        self.jit_max_ulp = 0
        self.jit_compared = 0

    # -- values -------------------------------------------------------------------------
    def same(self, vals):
        """Inputs shared by both dtypes: rounded to float32, widened exactly for float64."""
        a = self.np.asarray(vals, dtype=self.np.float64).astype(self.np.float32)
        return a.astype(self.dt)

    def own(self, vals):
        """Inputs at this dtype's own values (edges of the dtype)."""
        return self.np.asarray(vals, dtype=self.np.float64).astype(self.dt)

    def enc_array(self, a, last_set=None):
        np = self.np
        a = np.asarray(a)
        assert a.dtype == self.dt, (a.dtype, self.dt)
        flat = a.reshape(-1)
        if last_set is not None and last_set.shape == a.shape and \
                last_set.tobytes() == a.tobytes():
            return "as_set"
        if flat.size > 1 and len(set(x.tobytes() for x in flat)) == 1:
            return {"fill": Raw(fmt(flat[0], np, self.dt))}
        return Raw("[" + ", ".join(fmt(x, np, self.dt) for x in flat) + "]")

    # -- the reference --------------------------------------------------------------------
    def make_cell(self, n_units, batch_size, input_logits, shape):
        from ngclearn.components import BernoulliErrorCell
        from ngclearn import Context, MethodProcess
        self.n_ctx += 1
        with Context(f"fx{self.n_ctx}") as ctx:
            cell = BernoulliErrorCell(name="cell", n_units=n_units, batch_size=batch_size,
                                      input_logits=input_logits, shape=shape)
            adv = MethodProcess("advance") >> cell.advance_state
        return cell, adv

    def state(self, cell):
        np = self.np
        out = {}
        for c in COMPARTMENTS:
            v = getattr(cell, c).get()
            if c == "L" and isinstance(v, float):
                v = np.asarray(v, dtype=self.dt)  # reset sets L to the Python float 0.
            v = np.asarray(v)
            assert v.dtype == self.dt, f"{c} is {v.dtype}, not {self.dt}: not computing in {self.dtype}"
            out[c] = v
        return out

    def run_case(self, case):
        np, jnp = self.np, self.jnp
        cell, adv = self.make_cell(case["n_units"], case["batch_size"], case["input_logits"],
                                   case.get("shape"))
        cell.reset()
        prefix = f"fx{self.n_ctx}:cell:"
        last_set = {}
        ops_out = []
        advanced = []
        for op in case["ops"]:
            kind = op[0]
            if kind == "set":
                _, comp, vals = op
                vals = np.asarray(vals, dtype=self.dt)
                cur = np.asarray(getattr(cell, comp).get())
                vals = vals.reshape(cur.shape)
                getattr(cell, comp).set(jnp.asarray(vals))
                back = np.asarray(getattr(cell, comp).get())
                assert back.dtype == self.dt and back.tobytes() == vals.tobytes(), \
                    f"{case['name']}: .set of {comp} did not keep the bits"
                last_set[comp] = vals
                ops_out.append({"op": "set", "compartment": comp,
                                "values": self.enc_array(vals)})
                continue
            before = self.state(cell)
            if kind == "advance":
                jit_state = self.jit_advance(adv)
                adv.run(t=0.0, dt=1.0)
                rec = {"op": "advance"}
            elif kind == "reset":
                cell.reset()
                last_set = {}
                rec = {"op": "reset"}
            elif kind == "batched_reset":
                cell.batched_reset(op[1])
                last_set = {}
                rec = {"op": "batched_reset", "batch_size": op[1]}
            else:
                raise ValueError(kind)
            after = self.state(cell)
            if kind == "advance":
                for c in ("p", "target", "modulator"):
                    assert after[c].tobytes() == before[c].tobytes(), f"advance changed {c}"
                self.compare_jit(prefix, after, jit_state)
                rec["L_abs"] = Raw(fmt(self.l_abs(case["input_logits"], before), np, np.float64))
            rec["expect"] = {"dims": list(after["p"].shape)}
            for c in COMPARTMENTS:
                rec["expect"][c] = self.enc_array(after[c], last_set.get(c))
            ops_out.append(rec)
            if kind == "advance":
                advanced.append(after)
        if case.get("post"):
            case["post"](self, advanced)
        return ops_out

    def jit_advance(self, adv):
        """The same advance, compiled as a whole with jax.jit (as ngc-learn users often run
        it): recorded only to report how far it is from the eager run the fixtures hold."""
        from ngcsimlib._src.global_state.manager import global_state_manager as gsm
        keywords = adv.pack_keywords(dt=1.0)
        final, _ = self.jax.jit(adv.run.compiled)(gsm.state, keywords)
        return final

    def compare_jit(self, prefix, after, jit_state):
        np = self.np
        for key, v in jit_state.items():
            comp = key[len(prefix):]
            if not key.startswith(prefix) or comp not in after:
                continue
            a = np.asarray(after[comp]).reshape(-1)
            b = np.asarray(v).astype(self.dt).reshape(-1)
            both_nan = np.isnan(a) & np.isnan(b)
            ia = a.view(np.int32 if self.dt is np.float32 else np.int64).astype(np.int64)
            ib = b.view(np.int32 if self.dt is np.float32 else np.int64).astype(np.int64)
            # ulp distance on the ordered-integer line
            def ordered(i, bits):
                return np.where(i < 0, -(i & ((1 << (bits - 1)) - 1)), i)
            bits = 32 if self.dt is np.float32 else 64
            d = np.abs(ordered(ia, bits) - ordered(ib, bits))
            d = np.where(both_nan, 0, d)
            self.jit_compared += int(d.size)
            if d.size:
                self.jit_max_ulp = max(self.jit_max_ulp, int(d.max()))

    def l_abs(self, input_logits, st):
        np = self.np
        with np.errstate(all="ignore"):
            p = st["p"].astype(np.float64)
            x = st["target"].astype(np.float64)
            q = 1.0 / (1.0 + np.exp(-p)) if input_logits else p
            lo = float(self.dt(1e-4))
            hi = float(self.dt(1.0 - 1e-4))
            q = np.where(np.isnan(q), q, np.clip(q, lo, hi))
            t = x * np.log(q) + (1.0 - x) * np.log(1.0 - q)
            return float(np.sum(np.abs(t)))

    # -- the clip bounds, measured through the cell --------------------------------------
    def clip_bounds(self):
        np, jnp = self.np, self.jnp
        cell, adv = self.make_cell(2, 1, True, None)
        cell.reset()
        # logits -1000 -> q = lo, target 0: dp = 0 - lo = -lo exactly.
        # logits +1000 -> q = hi, target 1: dp = 1 - hi, exact (Sterbenz).
        cell.p.set(jnp.asarray(np.asarray([[-1000.0, 1000.0]], dtype=self.dt)))
        cell.target.set(jnp.asarray(np.asarray([[0.0, 1.0]], dtype=self.dt)))
        adv.run(t=0.0, dt=1.0)
        dp = np.asarray(cell.dp.get())
        lo = -dp[0, 0]
        hi = self.dt(1.0) - dp[0, 1]
        assert lo == self.dt(1e-4) and hi == self.dt(1.0 - 1e-4), (lo, hi)
        return {"lo": Raw(fmt(lo, np, self.dt)), "hi": Raw(fmt(hi, np, self.dt)),
                "one_minus_hi": Raw(fmt(self.dt(1.0) - hi, np, self.dt))}

    def reference_cell(self):
        """What ngc-learn says about the cell: its compartments' labels and its help()."""
        from ngclearn.components import BernoulliErrorCell
        cell, _ = self.make_cell(3, 1, False, None)
        comps = {c: {"display_name": getattr(cell, c).display_name, "units": getattr(cell, c).units}
                 for c in COMPARTMENTS}
        return {"class": type(cell).__name__, "compartments": comps,
                "help": BernoulliErrorCell.help()}

    def denormals_flushed(self):
        """Does XLA flush denormals here? (It sets FTZ/DAZ on CPU.)"""
        np, jnp = self.np, self.jnp
        tiny = self.finfo.smallest_subnormal
        x = jnp.asarray(np.asarray([tiny * 4], dtype=self.dt))
        return bool(np.asarray(x * self.dt(1.0))[0] == 0.0)

    # -- driver ---------------------------------------------------------------------------
    def run(self, out_dir):
        import importlib.metadata as md
        np = self.np
        from cases import build_cases
        cases = build_cases(self)
        names = [c["name"] for c in cases]
        assert len(names) == len(set(names))
        recs = []
        for c in cases:
            ops = self.run_case(c)
            recs.append({"name": c["name"], "description": c["description"],
                         "input_logits": c["input_logits"], "n_units": c["n_units"],
                         "batch_size": c["batch_size"], "shape": c.get("shape"),
                         "denormal": bool(c.get("denormal", False)), "ops": ops})
        doc = {
            "format": 1,
            "about": "ngc-learn BernoulliErrorCell conformance fixtures; generated by "
                     "tests/reference/generate.py, do not edit",
            "dtype": self.dtype,
            "jax_enable_x64": self.dtype == "float64",
            "versions": {k: md.version(k) for k in
                         ("ngclearn", "ngcsimlib", "jax", "jaxlib", "numpy")}
                        | {"python": platform.python_version(),
                           "machine": platform.machine()},
            "clip_bounds": self.clip_bounds(),
            "xla_flushes_denormals": self.denormals_flushed(),
            "reference_cell": self.reference_cell(),
            "jit_vs_eager": {"elements_compared": self.jit_compared,
                             "max_ulp": self.jit_max_ulp},
            "cases": recs,
        }
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, "bernoulli_f32.json" if self.dtype == "float32"
                            else "bernoulli_f64.json")
        with open(path, "w") as f:
            f.write(encode(doc) + "\n")
        print(f"{path}: {len(recs)} cases, jit vs eager max {self.jit_max_ulp} ulp, "
              f"denormals flushed: {doc['xla_flushes_denormals']}", file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    # family.py and cases.py import from "generate": let them share this module (one
    # Raw class), not load a second copy of it.
    sys.modules["generate"] = sys.modules[__name__]
    main()
