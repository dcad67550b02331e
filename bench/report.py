"""Merges the benchmark's tab-separated results into one table (Markdown) and
a plot of ns/element against size.

Usage: python report.py RESULTS.tsv [...] --md OUT.md --png OUT.png
Lines: impl dtype mode threads label elements us_per_call ns_per_element faults_per_call
"""
import argparse
import collections

ORDER = ["1e2", "784", "1e3", "1e4", "128x784", "1e5", "1e6", "1e7"]


def load(paths):
    r = {}
    for path in paths:
        for line in open(path):
            if not line.strip() or line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) != 9:
                continue
            impl, dtype, mode, threads, label, n, us, ns, faults = f
            r[(impl, dtype, mode, threads, label)] = (int(n), float(us), float(ns), faults)
    return r


def cell(r, key):
    v = r.get(key)
    if v is None:
        return "–"
    n, us, ns, _ = v
    return f"{us:,.1f} µs ({ns:.2f})" if us >= 10 else f"{us:.2f} µs ({ns:.2f})"


def ratio(r, a, b):
    va, vb = r.get(a), r.get(b)
    if not va or not vb:
        return "–"
    return f"{va[1] / vb[1]:.1f}×"


def table_f32(r, mode):
    out = []
    out.append(f"| size | ngc-learn process | jax.jit | C scalar libm | ngc-cells 1 thread | ngc-cells 2 threads "
               f"| vs ngc-learn | vs jax.jit | vs C libm |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for label in ORDER:
        ours1 = ("ngc_cells", "f32", mode, "1", label)
        ours2 = ("ngc_cells", "f32", mode, "2", label)
        best = ours1
        if ours2 in r and r[ours2][1] < r[ours1][1]:
            best = ours2
        out.append("| " + " | ".join([
            label,
            cell(r, ("ngclearn", "f32", mode, "-", label)),
            cell(r, ("jax", "f32", mode, "-", label)),
            cell(r, ("c_libm", "f32", mode, "1", label)),
            cell(r, ours1),
            cell(r, ours2),
            ratio(r, ("ngclearn", "f32", mode, "-", label), best),
            ratio(r, ("jax", "f32", mode, "-", label), best),
            ratio(r, ("c_libm", "f32", mode, "1", label), ours1),
        ]) + " |")
    return "\n".join(out)


def table_f64(r):
    out = []
    out.append("| size | mode | C scalar libm f64 | ngc-cells f64 1 thread | ngc-cells f64 2 threads "
               "| f64 / f32 (1 thread) |")
    out.append("|---|---|---|---|---|---|")
    for mode in ("prob", "logits"):
        for label in ORDER:
            k1 = ("ngc_cells", "f64", mode, "1", label)
            if k1 not in r:
                continue
            out.append("| " + " | ".join([
                label, mode,
                cell(r, ("c_libm", "f64", mode, "1", label)),
                cell(r, k1),
                cell(r, ("ngc_cells", "f64", mode, "2", label)),
                ratio(r, k1, ("ngc_cells", "f32", mode, "1", label)),
            ]) + " |")
    return "\n".join(out)


def table_floor(r):
    out = []
    out.append("| size | threads | ngc-cells f32 (prob) | same traffic, no math | same, streaming stores |")
    out.append("|---|---|---|---|---|")
    for label in ("1e5", "1e6", "1e7"):
        for t in ("1", "2"):
            if ("traffic_plain", "f32", "prob", t, label) not in r:
                continue
            out.append("| " + " | ".join([
                label, t,
                cell(r, ("ngc_cells", "f32", "prob", t, label)),
                cell(r, ("traffic_plain", "f32", "prob", t, label)),
                cell(r, ("traffic_stream", "f32", "prob", t, label)),
            ]) + " |")
    return "\n".join(out)


def faults(r):
    worst = collections.defaultdict(float)
    for (impl, dtype, mode, threads, label), (_, _, _, f) in r.items():
        if impl == "ngc_cells" and f != "-":
            worst[(dtype, threads)] = max(worst[(dtype, threads)], float(f))
    return ", ".join(f"{d} {t} thread(s): {v:.3f}" for (d, t), v in sorted(worst.items()))


def plot(r, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    series = [
        ("ngclearn", "f32", "-", "ngc-learn process (f32)", "o-"),
        ("jax", "f32", "-", "jax.jit (f32)", "s-"),
        ("c_libm", "f32", "1", "C scalar libm (f32)", "^-"),
        ("ngc_cells", "f32", "1", "ngc-cells f32, 1 thread", "D-"),
        ("ngc_cells", "f32", "2", "ngc-cells f32, 2 threads", "D--"),
        ("ngc_cells", "f64", "1", "ngc-cells f64, 1 thread", "x-"),
    ]
    for ax, mode in zip(axes, ("prob", "logits")):
        for impl, dtype, threads, name, style in series:
            pts = sorted(
                (v[0], v[2]) for (i, d, m, t, lab), v in r.items()
                if i == impl and d == dtype and m == mode and t == threads and lab != "128x784"
            )
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("elements (batch 1)")
        ax.set_title(f"input_logits={'True' if mode == 'logits' else 'False'}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ns per element (median)")
    axes[1].legend(fontsize=8)
    fig.suptitle("BernoulliErrorCell.advance: time per element")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results", nargs="+")
    ap.add_argument("--md")
    ap.add_argument("--png")
    a = ap.parse_args()
    r = load(a.results)
    parts = [
        "Each cell: median µs per `advance` call (ns per element). Ratios: the reference's time over "
        "ngc-cells' best thread count; the C column over ngc-cells 1 thread.",
        "",
        "### f32, input_logits=False",
        "",
        table_f32(r, "prob"),
        "",
        "### f32, input_logits=True",
        "",
        table_f32(r, "logits"),
        "",
        "### f64",
        "",
        table_f64(r),
        "",
        "### Memory floor (f32): the kernel's traffic (28 bytes per element) with no math",
        "",
        table_floor(r),
        "",
        f"Minor page faults per `advance` (bound buffers, after the first call): {faults(r)}.",
    ]
    text = "\n".join(parts)
    print(text)
    if a.md:
        open(a.md, "w").write(text + "\n")
    if a.png:
        plot(r, a.png)


if __name__ == "__main__":
    main()
