"""Tables and the "Done when" checks of the family benchmark (bench/family.sh).

Reads bench/out/family/results.tsv (one line per configuration per round) and
prints Markdown: every figure is the median over rounds of the per-round
medians; every ratio is the median of the per-round ratios (both sides measured
in the same round), with the range over rounds in brackets.

Usage: python family_report.py results.tsv [--md table.md]
"""
import argparse
import collections
import csv
import statistics

CELLS = ["gaussian", "laplacian", "bernoulli", "reward",
         "rate_euler_identity", "rate_euler_tanh", "rate_rk4_tanh"]
ERROR_CELLS = ["gaussian", "laplacian", "bernoulli"]
LABELS = ["784", "1e5", "1e6", "1e7"]
STREAM_MIN_BYTES = 16 << 20  # src/abi/native/dispatch.rs: the library streams dmu/dtarget from here


def load(path, field):
    data = collections.defaultdict(dict)  # key -> {round: us}
    loads = collections.defaultdict(list)
    extra = collections.defaultdict(list)  # key -> [(allocs, faults)]
    n_of = {}
    with open(path) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            key = (row["impl"], row["cell"], row["mode"], row["threads"], row["label"])
            data[key][row["round"]] = float(row[field])
            loads[row["round"]].append(float(row["load1"]))
            n_of[row["label"]] = int(row["elements"])
            if row["allocs_per_call"] != "-":
                extra[key].append((float(row["allocs_per_call"]), float(row["faults_per_call"])))
    return data, loads, extra, n_of


class Report:
    def __init__(self, path, field="us_per_call"):
        self.data, self.loads, self.extra, self.n_of = load(path, field)
        self.best = None if field == "min_us" else Report(path, "min_us")

    def us(self, key):
        v = self.data.get(key)
        return statistics.median(v.values()) if v else None

    def ratio(self, num, den):
        a, b = self.data.get(num), self.data.get(den)
        if not a or not b:
            return None
        r = [a[k] / b[k] for k in a if k in b]
        return (statistics.median(r), min(r), max(r)) if r else None

    def ratio_min(self, nums, den):
        """The faster of several configurations (per round) over den."""
        b = self.data.get(den)
        rows = [self.data.get(k) for k in nums]
        if not b or not all(rows):
            return None
        r = [min(x[k] for x in rows) / b[k] for k in b if all(k in x for x in rows)]
        return (statistics.median(r), min(r), max(r)) if r else None

    def cell(self, key):
        t = self.us(key)
        if t is None:
            return "–"
        n = self.n_of[key[4]]
        us = f"{t:,.0f}" if t >= 100 else (f"{t:.1f}" if t >= 10 else f"{t:.2f}")
        return f"{us} µs ({t * 1e3 / n:.2f})"

    @staticmethod
    def fmt_ratio(r, unit="×"):
        if r is None:
            return "–"
        m, lo, hi = r
        if abs(hi - lo) < 0.005:
            return f"{m:.2f}{unit}"
        return f"{m:.2f}{unit} [{lo:.2f}–{hi:.2f}]"

    def ours(self, cell, th, label, mode=None):
        if mode is None:
            mode = "rest" if cell in ERROR_CELLS else "-"
        return ("ngc_cells", cell, mode, th, label)

    def floor(self, width, th, label, kind=None):
        if kind is None:
            kind = "stream" if self.n_of[label] * 4 >= STREAM_MIN_BYTES else "plain"
        return (f"floor{width}_{kind}", "-", "rest" if width == 16 else "set", th, label)

    def ref(self, impl, cell, th, label):
        return (impl, cell, "-", th, label)

    def render(self):
        out = []
        rounds = sorted(self.loads, key=int)
        out.append("Load average (1 min) during the run, per round: " + "; ".join(
            f"round {r}: {min(self.loads[r]):.1f}–{max(self.loads[r]):.1f}" for r in rounds) + ".")
        out.append("")
        out.append("### Every cell: the C ABI against ngc-learn and jax.jit")
        out.append("")
        out.append("µs per `advance` (ns per element). The error cells with modulator and mask at rest "
                   "(never set); `set` rows in the next table. Speed-ups: the reference over "
                   "ngc-cells with the same thread count, median of the rounds' ratios [range].")
        out.append("")
        out.append("| cell | size | ngc-learn process 1 / 2 threads | jax.jit 1 / 2 threads | "
                   "ngc-cells 1 / 2 threads | vs ngc-learn 1 / 2 | vs jax.jit 1 / 2 |")
        out.append("|---|---|---|---|---|---|---|")
        for cell in CELLS:
            for label in LABELS:
                if self.us(self.ours(cell, "1", label)) is None:
                    continue
                cols = [cell, label]
                for impl in ("ngclearn", "jax"):
                    cols.append(" / ".join(self.cell(self.ref(impl, cell, th, label)) for th in ("1", "2")))
                cols.append(" / ".join(self.cell(self.ours(cell, th, label)) for th in ("1", "2")))
                for impl in ("ngclearn", "jax"):
                    cols.append(" / ".join(self.fmt_ratio(self.ratio(self.ref(impl, cell, th, label),
                                                                     self.ours(cell, th, label)))
                                           for th in ("1", "2")))
                out.append("| " + " | ".join(cols) + " |")
        out.append("")
        out.append("### Modulator and mask at rest vs set, the memory floors, jax.jit (issue 16)")
        out.append("")
        out.append("ns per element. `rest`: never set (owned, ones: not read, mask not rewritten). "
                   "`set`: modulator written with `ngc_cell_set`, mask bound (read and rewritten every "
                   "step). Floors: the same arrays streamed with no math, 16 bytes per element (read "
                   "mu, target; write dmu, dtarget) and 28 (also read modulator, mask; rewrite mask), "
                   "with ordinary stores (plain) and non-temporal stores for dmu/dtarget (stream). "
                   "The library streams from 16 MiB per array on (the 1e7 rows), so the same-traffic "
                   "floor is `plain` at 1e5/1e6 and `stream` at 1e7. Ratios: median of the rounds [range].")
        out.append("")
        out.append("| cell | size | threads | rest | set | floor16 plain / stream | floor28 plain / stream | "
                   "rest / floor16 | set / floor28 | jax.jit | jax.jit / rest | jax.jit / set |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")

        def ns(key):
            t = self.us(key)
            return "–" if t is None else f"{t * 1e3 / self.n_of[key[4]]:.3f}"

        for cell in ERROR_CELLS:
            for label in LABELS[1:]:
                for th in ("1", "2"):
                    rest, st = self.ours(cell, th, label, "rest"), self.ours(cell, th, label, "set")
                    if self.us(rest) is None:
                        continue
                    jx = self.ref("jax", cell, th, label)
                    out.append("| " + " | ".join([
                        cell, label, th, ns(rest), ns(st),
                        f"{ns(self.floor(16, th, label, 'plain'))} / {ns(self.floor(16, th, label, 'stream'))}",
                        f"{ns(self.floor(28, th, label, 'plain'))} / {ns(self.floor(28, th, label, 'stream'))}",
                        self.fmt_ratio(self.ratio(rest, self.floor(16, th, label))),
                        self.fmt_ratio(self.ratio(st, self.floor(28, th, label))),
                        ns(jx),
                        self.fmt_ratio(self.ratio(jx, rest)),
                        self.fmt_ratio(self.ratio(jx, st)),
                    ]) + " |")
        out.append("")
        out.append("### The \"Done when\" checks")
        out.append("")
        out.append("Ratios of the median samples, and of the fastest samples (the least "
                   "disturbed by other programs), each the median over rounds [range].")
        out.append("")
        out.append("| check | median samples | fastest samples | met? |")
        out.append("|---|---|---|---|")

        def check(name, f, limit, above=False):
            r, b = f(self), f(self.best)
            if r is None:
                out.append(f"| {name} | – | – | not measured |")
                return
            ok = [(x[0] >= limit if above else x[0] <= limit) for x in (r, b) if x]
            verdict = "yes" if all(ok) else ("no" if not any(ok) else "median no, fastest yes"
                                              if ok[-1] else "median yes, fastest no")
            out.append(f"| {name} | {self.fmt_ratio(r)} | {self.fmt_ratio(b)} | {verdict} |")

        for cell in ("gaussian", "laplacian"):
            for label in ("1e5", "1e6"):
                check(f"#11 {cell} {label} 1 thread, set / 28-byte floor ≤ 1.15",
                      lambda R: R.ratio(R.ours(cell, "1", label, "set"), R.floor(28, "1", label)), 1.15)
                check(f"#11 {cell} {label} 1 thread, rest / 16-byte floor ≤ 1.15",
                      lambda R: R.ratio(R.ours(cell, "1", label, "rest"), R.floor(16, "1", label)), 1.15)
        for label in ("1e6", "1e7"):
            for th in ("1", "2"):
                check(f"#16 gaussian {label} {th} thread(s), rest / 16-byte floor ≤ 1.15",
                      lambda R: R.ratio(R.ours("gaussian", th, label, "rest"), R.floor(16, th, label)), 1.15)
                check(f"#16 gaussian {label} {th} thread(s), jax.jit / rest ≥ 1.5",
                      lambda R: R.ratio(R.ref("jax", "gaussian", th, label),
                                        R.ours("gaussian", th, label, "rest")), 1.5, above=True)
                check(f"#16 gaussian {label} {th} thread(s), jax.jit's faster setting / rest ≥ 1.5",
                      lambda R: R.ratio_min([R.ref("jax", "gaussian", t, label) for t in ("1", "2")],
                                            R.ours("gaussian", th, label, "rest")), 1.5, above=True)
        out.append("")
        allocs = [a for k, v in self.extra.items() if k[0] == "ngc_cells" for a, _ in v]
        faults = [f for k, v in self.extra.items() if k[0] == "ngc_cells" for _, f in v]
        if allocs:
            out.append(f"Allocations per `advance` over the timed calls of every ngc-cells row "
                       f"(malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign interposed): "
                       f"max {max(allocs):.3f} over {len(allocs)} rows. Minor page faults per `advance`: "
                       f"max {max(faults):.3f}.")
        out.append("")
        return "\n".join(out)


def cli(render):
    """The report scripts' command line, `results.tsv [--md FILE]`: prints
    render(Report(results.tsv)), and writes it to FILE too with --md."""
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--md")
    args = ap.parse_args()
    text = render(Report(args.results))
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    cli(Report.render)
