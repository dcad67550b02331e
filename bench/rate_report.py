"""The RateCell rows of the family benchmark (bench/family.sh --cells rate
[--before LIBDIR]): ns per element of ngc-cells, jax.jit and ngc-learn's own
process, and, with --before, of the other build of the library, 1 and 2 threads.

Every figure is the median over rounds of the per-round medians; every ratio is
the median of the per-round ratios (both sides measured in the same round), with
the range over rounds in brackets; the same for the fastest samples (the least
disturbed by other programs on a shared machine).

Usage: python rate_report.py results.tsv [--md table.md]
"""
from family_report import LABELS, cli

RATE = ["rate_euler_identity", "rate_euler_tanh", "rate_rk4_tanh"]


def render(rep):
    out = []
    rounds = sorted(rep.loads, key=int)
    out.append("Load average (1 min) during the run, per round: " + "; ".join(
        f"round {r}: {min(rep.loads[r]):.1f}–{max(rep.loads[r]):.1f}" for r in rounds) + ".")
    out.append("")
    has_before = any(k[0] == "ngc_cells_before" for k in rep.data)

    def key(impl, cell, th, label):
        return (impl, cell, "-", th, label)

    def ns(r, k):
        t = r.us(k)
        return "–" if t is None else f"{t * 1e3 / r.n_of[k[4]]:.3f}"

    head = ["cell", "size", "threads", "ngc-learn process", "jax.jit"]
    if has_before:
        head.append("ngc-cells before")
    head += ["ngc-cells", "jax.jit / ngc-cells"]
    if has_before:
        head.append("before / after")
    head.append("jax.jit / ngc-cells, fastest samples")
    out.append("ns per element (median samples); ratios: median of the rounds [range].")
    out.append("")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for cell in RATE:
        for label in LABELS:
            for th in ("1", "2"):
                ours = key("ngc_cells", cell, th, label)
                if rep.us(ours) is None:
                    continue
                jx = key("jax", cell, th, label)
                cols = [cell, label, th, ns(rep, key("ngclearn", cell, th, label)), ns(rep, jx)]
                if has_before:
                    cols.append(ns(rep, key("ngc_cells_before", cell, th, label)))
                cols += [ns(rep, ours), rep.fmt_ratio(rep.ratio(jx, ours))]
                if has_before:
                    cols.append(rep.fmt_ratio(rep.ratio(key("ngc_cells_before", cell, th, label), ours)))
                cols.append(rep.fmt_ratio(rep.best.ratio(jx, ours)))
                out.append("| " + " | ".join(cols) + " |")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    cli(render)
