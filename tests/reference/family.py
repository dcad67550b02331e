"""Fixtures of the graded family beyond BernoulliErrorCell (format 2).

Called by generate.py, once per dtype, in the interpreter that chose JAX's mode. Runs
ngc-learn 3.2.3's own GaussianErrorCell, LaplacianErrorCell, RewardErrorCell and RateCell
on the cases of cases_error.py / cases_rate.py and writes one file per cell and dtype:
fixtures/<cell>_f32.json and fixtures/<cell>_f64.json.

Format 2 (see generate.py for numbers and arrays: shortest round-trip decimals of the
file's dtype, "NaN"/"Infinity"/"-Infinity", {"fill": v}, "as_set"):
  - top level: "cell" (ngc-learn's class), "compartments" (every compartment the replay
    compares, ngc-learn's names), "constructor_args" (the argument names of ngc-cells'
    constructor, in order), "dtype", "versions", "reference_cell" (labels, help()).
  - a case: "name", "description", "constructor" (ngc-cells' constructor arguments, in
    its own terms), "reference_constructor" (the call ngc-learn was given, as text),
    "denormal" (flush-to-zero differences allowed), "ops".
  - ops: {"op": "new"} (right after construction), {"op": "set", "compartment",
    "values"} (full-length values, the compartment's current shape), {"op":
    "set_shaped", "compartment", "dims", "values"} (Sigma/Scale of another shape),
    {"op": "advance", "dt"}, {"op": "evolve", "dt"}, {"op": "reset"}, {"op":
    "batched_reset", "batch_size"}. Every op but the sets carries "expect": for each
    compartment {"dims": [...], "values": array}.
  - where ngc-cells differs from ngc-learn on purpose, the op carries "differs":
    {compartment or "*": reason} and "reference": {compartment: {"dims", "values"}}
    (what ngc-learn really gave); "expect" then holds ngc-cells' documented result and
    the reference cell is put in that state before the next op, so that every later
    advance is again ngc-learn's own arithmetic.
"""

import math
import os
import platform
import sys

from generate import Raw, encode, fmt

# Why an expectation is not ngc-learn's (each one is a row of the fidelity page).
R_DPARAM = ("ngc-learn resets {dp} to zeros of the constructor's {pl} shape ({cs}); "
            "ngc-cells to zeros of {p}'s current shape")
R_L = ("ngc-learn resets L to the Python float 0. (0-d) whatever {p}'s shape; ngc-cells "
       "to zeros of L's shape ({p}'s shape squeezed), the shape advance gives it")
R_4D = ("ngc-learn's LaplacianErrorCell comes back 2-D (batch, n_units) after a reset (it "
        "never stores its 4-D shape: an upstream bug); ngc-cells keeps (batch, H, W, C)")
R_NOBR = ("ngc-learn's {cls} has no batched_reset; expected here: what its reset() gives "
          "at the new batch size")
R_REWARD = ("ngc-learn's RewardErrorCell does not reset reward (it keeps the last value set); "
            "ngc-cells resets it to 0 like every input")
R_ARRAY = ("ngc-learn was given an array {pl} (its {p} starts with that shape); ngc-cells' "
           "constructor takes a number, and the next op sets {p} with that shape")


class Spec:
    def __init__(self, key, cls, compartments, ctor_args, param=None, dparam=None,
                 has_batched_reset=False, keeps_4d=True):
        self.key, self.cls, self.compartments = key, cls, compartments
        self.ctor_args = ctor_args
        self.param, self.dparam = param, dparam
        self.has_batched_reset = has_batched_reset
        self.keeps_4d = keeps_4d


SPECS = {
    "gaussian": Spec("gaussian", "GaussianErrorCell",
                     ["mu", "target", "Sigma", "modulator", "mask", "dmu", "dtarget", "dSigma", "L"],
                     ["n_units", "batch_size", "sigma", "shape"], "Sigma", "dSigma"),
    "laplacian": Spec("laplacian", "LaplacianErrorCell",
                      ["shift", "target", "Scale", "modulator", "mask", "dshift", "dtarget",
                       "dScale", "L"],
                      ["n_units", "batch_size", "scale", "shape"], "Scale", "dScale",
                      has_batched_reset=True, keeps_4d=False),
    "reward": Spec("reward", "RewardErrorCell",
                   ["reward", "mu", "rpe", "accum_reward", "n_ep_steps"],
                   ["n_units", "batch_size", "alpha", "ema_window_len", "use_online_predictor"]),
    "rate": Spec("rate", "RateCell", ["j", "j_td", "z", "zF"],
                 ["n_units", "batch_size", "tau_m", "prior", "prior_leak", "act_fx",
                  "output_scale", "threshold", "threshold_lambda", "integration",
                  "resist_scale", "is_stateful", "shape"]),
}

# ngc-cells' integration names -> the ngc-learn name that runs that method in 3.2.3
# (its "heun" runs RK4; its "rk4" and "ralston" run Euler).
NGC_INTEGRATION = {"euler": "euler", "midpoint": "midpoint", "rk4": "heun"}


class FamilyGenerator:
    def __init__(self, g, key):
        """g: the Bernoulli Generator of this process (numpy/jax handles, dtype helpers)."""
        self.g = g
        self.np, self.jnp = g.np, g.jnp
        self.dt = g.dt
        self.dtype = g.dtype
        self.spec = SPECS[key]
        self.n_ctx = 0

    # -- the reference ---------------------------------------------------------------------
    def make_cell(self, case):
        import ngclearn.components as C
        from ngclearn import Context, MethodProcess
        s = self.spec
        a = case["constructor"]
        self.n_ctx += 1
        kw = case.get("reference_kwargs") or self.reference_kwargs(a)
        with Context(f"{s.key}{self.n_ctx}"):
            cell = getattr(C, s.cls)(name="cell", **kw)
            procs = {"advance": MethodProcess("advance") >> cell.advance_state}
            if s.key == "reward":
                procs["evolve"] = MethodProcess("evolve") >> cell.evolve
        return cell, procs, kw

    def reference_kwargs(self, a):
        k = self.spec.key
        if k == "gaussian":
            return dict(n_units=a["n_units"], batch_size=a["batch_size"], sigma=float(a["sigma"]),
                        shape=None if a["shape"] is None else tuple(a["shape"]))
        if k == "laplacian":
            return dict(n_units=a["n_units"], batch_size=a["batch_size"], scale=float(a["scale"]),
                        shape=None if a["shape"] is None else tuple(a["shape"]))
        if k == "reward":
            return dict(n_units=a["n_units"], batch_size=a["batch_size"], alpha=a["alpha"],
                        ema_window_len=a["ema_window_len"],
                        use_online_predictor=a["use_online_predictor"])
        if k == "rate":
            kw = dict(n_units=a["n_units"], batch_size=a["batch_size"], tau_m=a["tau_m"],
                      prior=(a["prior"], a["prior_leak"]), act_fx=a["act_fx"],
                      output_scale=a["output_scale"],
                      threshold=(a["threshold"], a["threshold_lambda"]),
                      integration_type=NGC_INTEGRATION[a["integration"]],
                      resist_scale=a["resist_scale"], is_stateful=a["is_stateful"],
                      shape=None if a["shape"] is None else tuple(a["shape"]))
            if a["act_fx"] == "sine":
                kw["omega_0"] = 30.0  # demanded by the constructor, then ignored (FAMILY 5.5)
            return kw
        raise ValueError(k)

    def state(self, cell):
        np = self.np
        out = {}
        for c in self.spec.compartments:
            v = getattr(cell, c).get()
            if isinstance(v, float):
                v = np.asarray(v, dtype=self.dt)  # reset leaves L the Python float 0.
            v = np.asarray(v)
            if v.dtype != self.dt:
                # RateCell's step functions (unit_threshold, heaviside, bkwta) give
                # float32 0/1 even under x64: exact in float64.
                assert self.dtype == "float64" and v.dtype == np.float32, (c, v.dtype)
                w = v.astype(self.dt)
                assert np.array_equal(w.astype(np.float32), v, equal_nan=True)
                v = w
            out[c] = v
        return out

    def enc(self, a, last=None):
        return {"dims": list(a.shape), "values": self.g.enc_array(a, last)}

    # -- what ngc-cells does where it differs ------------------------------------------------
    def ours_after_reset(self, case, before, after, batch):
        """ngc-cells' documented state after reset()/batched_reset(batch) of an error cell
        with a parameter (Gaussian, Laplacian): (state, {comp: reason})."""
        np = self.np
        s = self.spec
        a = case["constructor"]
        tail = (a["n_units"],) if a["shape"] is None else tuple(a["shape"])
        dims = (batch,) + tail
        ours = {}
        for c in s.compartments:
            if c == s.param:
                ours[c] = before[c]
            elif c == s.dparam:
                ours[c] = np.zeros(before[s.param].shape, dtype=self.dt)
            elif c == "L":
                ours[c] = np.zeros(np.squeeze(before[s.param]).shape, dtype=self.dt)
            elif c in ("modulator", "mask"):
                ours[c] = np.ones(dims, dtype=self.dt)
            else:
                ours[c] = np.zeros(dims, dtype=self.dt)
        reasons = {}
        for c in s.compartments:
            if after[c].shape == ours[c].shape and after[c].tobytes() == ours[c].tobytes():
                continue
            if c == s.dparam:
                assert after[c].shape != ours[c].shape
                reasons[c] = R_DPARAM.format(dp=c, p=s.param, pl=s.param.lower(),
                                             cs=tuple(after[c].shape))
            elif c == "L":
                assert after[c].shape == () and ours[c].shape != ()
                reasons[c] = R_L.format(p=s.param)
            else:
                assert not s.keeps_4d and a["shape"] is not None, (case["name"], c)
                assert after[c].shape == (batch, a["n_units"]), after[c].shape
                reasons[c] = R_4D
        return ours, reasons

    def put(self, cell, st):
        for c, v in st.items():
            getattr(cell, c).set(self.jnp.asarray(v))

    # -- one case ----------------------------------------------------------------------------
    def run_case(self, case):
        np, jnp = self.np, self.jnp
        s = self.spec
        cell, procs, kw = self.make_cell(case)
        st = self.state(cell)
        new = {"op": "new", "expect": {c: self.enc(st[c]) for c in s.compartments}}
        if case.get("reference_kwargs") and s.param is not None:
            # ngc-cells' cell as its constructor makes it: a (1,1) parameter.
            v = self.dt(case["constructor"][s.param.lower()])
            ours = {s.param: np.full((1, 1), v, dtype=self.dt),
                    s.dparam: np.zeros((1, 1), dtype=self.dt), "L": np.zeros((), dtype=self.dt)}
            new["differs"], new["reference"] = {}, {}
            for c, v in ours.items():
                if v.shape != st[c].shape or v.tobytes() != st[c].tobytes():
                    new["differs"][c] = R_ARRAY.format(pl=s.param.lower(), p=s.param)
                    new["reference"][c] = self.enc(st[c])
                    new["expect"][c] = self.enc(v)
        ops_out = [new]
        last_set = {}
        for op in case["ops"]:
            kind = op[0]
            if kind in ("set", "set_shaped"):
                comp = op[1]
                if kind == "set":
                    vals = np.asarray(op[2], dtype=self.dt)
                    vals = vals.reshape(np.asarray(getattr(cell, comp).get()).shape)
                else:
                    vals = np.asarray(op[3], dtype=self.dt).reshape(op[2])
                getattr(cell, comp).set(jnp.asarray(vals))
                back = np.asarray(getattr(cell, comp).get())
                assert back.dtype == self.dt and back.tobytes() == vals.tobytes() \
                    and back.shape == vals.shape, f"{case['name']}: .set of {comp}"
                last_set[comp] = vals
                rec = {"op": kind, "compartment": comp}
                if kind == "set_shaped":
                    rec["dims"] = list(vals.shape)
                rec["values"] = self.g.enc_array(vals)
                ops_out.append(rec)
                continue
            before = self.state(cell)
            rec = {"op": kind}
            differs, reference = {}, {}
            if kind in ("advance", "evolve"):
                dt = float(op[1]) if len(op) > 1 else 1.0
                procs[kind].run(t=0.0, dt=dt)
                rec["dt"] = dt
                after = self.state(cell)
            elif kind in ("reset", "batched_reset"):
                batch = case["constructor"]["batch_size"] if kind == "reset" else op[1]
                if kind == "batched_reset":
                    rec["batch_size"] = batch
                if kind == "reset" or s.has_batched_reset:
                    cell.reset() if kind == "reset" else cell.batched_reset(batch)
                else:
                    # Emulated: ngc-learn has none; its reset() at the new batch size.
                    old = cell.batch_size
                    cell.batch_size = batch
                    cell.reset()
                    cell.batch_size = old
                    differs["*"] = R_NOBR.format(cls=s.cls)
                after = self.state(cell)
                if s.key == "reward":
                    zeros = np.zeros((batch, case["constructor"]["n_units"]), dtype=self.dt)
                    if after["reward"].shape != zeros.shape or \
                            after["reward"].tobytes() != zeros.tobytes():
                        differs["reward"] = R_REWARD
                        reference["reward"] = self.enc(after["reward"])
                        self.put(cell, {"reward": zeros})
                        after = self.state(cell)
                if s.param is not None:
                    ours, reasons = self.ours_after_reset(case, before, after, batch)
                    for c, why in reasons.items():
                        differs[c] = why
                        reference[c] = self.enc(after[c])
                    self.put(cell, {c: ours[c] for c in reasons})
                    after = self.state(cell)
                last_set = {c: v for c, v in last_set.items() if c == s.param}
            else:
                raise ValueError(kind)
            if kind == "advance" and case.get("ours_after_advance"):
                # A documented difference the case demonstrates: ngc-cells' own value.
                ours, why = case["ours_after_advance"](np, self.dt, before, after)
                for c, v in ours.items():
                    if v.tobytes() != after[c].tobytes():
                        differs[c] = why
                        reference[c] = self.enc(after[c])
                self.put(cell, ours)
                after = self.state(cell)
            if kind == "advance":
                for c in s.compartments:
                    if c in ("target", s.param, "modulator", "mu", "shift", "reward", "j_td") \
                            and not (s.key == "reward" and c == "mu"):
                        assert after[c].tobytes() == before[c].tobytes(), f"advance changed {c}"
            rec["expect"] = {c: self.enc(after[c], last_set.get(c)) for c in s.compartments}
            if differs:
                rec["differs"] = differs
            if reference:
                rec["reference"] = reference
            ops_out.append(rec)
        if case.get("post"):
            case["post"](self, cell)
        return ops_out, kw

    def reference_cell(self):
        import ngclearn.components as C
        s = self.spec
        a = {"n_units": 3, "batch_size": 1, "sigma": 1.0, "scale": 1.0, "alpha": 0.1,
             "ema_window_len": 10, "use_online_predictor": True, "tau_m": 10.0,
             "prior": "gaussian", "prior_leak": 0.0, "act_fx": "identity", "output_scale": 1.0,
             "threshold": "none", "threshold_lambda": 0.0, "integration": "euler",
             "resist_scale": 1.0, "is_stateful": True, "shape": None}
        cell, _, _ = self.make_cell({"constructor": a})
        comps = {c: {"display_name": getattr(cell, c).display_name,
                     "units": getattr(cell, c).units} for c in s.compartments}
        cls = getattr(C, s.cls)
        try:
            hlp = cls.help()
        except TypeError:  # RateCell.help lacks @classmethod (FAMILY 5.7)
            hlp = cls.help(cls)
        return {"class": s.cls, "compartments": comps, "help": hlp}

    # -- driver ------------------------------------------------------------------------------
    def run(self, out_dir, cases):
        import importlib.metadata as md
        names = [c["name"] for c in cases]
        assert len(names) == len(set(names)), names
        recs = []
        for c in cases:
            ops, kw = self.run_case(c)
            args = c["constructor"]
            rec = {"name": c["name"], "description": c["description"],
                   "constructor": {k: args[k] for k in self.spec.ctor_args},
                   "reference_constructor": f"{self.spec.cls}(name, " + ", ".join(
                       f"{k}={v!r}" for k, v in kw.items()) + ")",
                   "denormal": bool(c.get("denormal", False)), "ops": ops}
            recs.append(rec)
        doc = {
            "format": 2,
            "about": f"ngc-learn {self.spec.cls} conformance fixtures; generated by "
                     "tests/reference/generate.py, do not edit",
            "cell": self.spec.cls,
            "compartments": self.spec.compartments,
            "constructor_args": self.spec.ctor_args,
            "dtype": self.dtype,
            "jax_enable_x64": self.dtype == "float64",
            "versions": {k: md.version(k) for k in
                         ("ngclearn", "ngcsimlib", "jax", "jaxlib", "numpy")}
                        | {"python": platform.python_version(), "machine": platform.machine()},
            "xla_flushes_denormals": self.g.denormals_flushed(),
            "reference_cell": self.reference_cell(),
            "cases": recs,
        }
        os.makedirs(out_dir, exist_ok=True)
        sfx = "f32" if self.dtype == "float32" else "f64"
        path = os.path.join(out_dir, f"{self.spec.key}_{sfx}.json")
        with open(path, "w") as f:
            f.write(encode(doc) + "\n")
        n_diff = sum(1 for r in recs for o in r["ops"] if "differs" in o)
        print(f"{path}: {len(recs)} cases, {n_diff} ops where ngc-cells differs on purpose",
              file=sys.stderr)
