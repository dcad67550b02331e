#!/usr/bin/env bash
# The whole benchmark, one command: bench/run.sh [--quick] [--family]
#
# 1. builds the library (release) and the C benchmark program (bench/c/bench.c),
# 2. times ngc_cell_advance through the C ABI (f32/f64, both modes, 1 and 2
#    threads, 1e2..1e7 elements and 128 x 784) and the same math as a plain C
#    loop with the C library's scalar logf/expf,
# 3. times ngc-learn's own process and the same math under jax.jit in the
#    conformance suite's private virtual environment (tests/reference/venv.sh
#    makes it on first use),
# 4. writes bench/out/results.tsv, bench/out/table.md and bench/out/ns_per_element.png.
#
# Two more measurements, each its own script, each interleaving what it compares
# in one run (and taking --before LIBDIR to compare with another build):
#   bench/threads_busy.sh  1 vs 2 threads, idle and with a competing busy process
#   bench/f64_ratio.sh     f64 against f32 at 784 / 1e5 / 1e6 elements
#   bench/family.sh        every cell of the family (Gaussian, Laplacian, Reward,
#                          RateCell, Bernoulli) vs ngc-learn and jax.jit, modulator
#                          and mask at rest vs set, the 16/28-byte memory floors
#                          (bench/run.sh --family runs it after the rest, ~15 min)
#
# About 5 minutes on 2 cores. Numbers taken while other programs run are noisy:
# check `uptime` first. Set NGC_BENCH_PYTHON to use another interpreter with
# ngclearn==3.2.3, ngcsimlib==3.1.1, jax and matplotlib.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$here/out"
mkdir -p "$out"
quick=()
family=0
for arg in "$@"; do
    case "$arg" in
    --quick) quick=(--quick) ;;
    --family) family=1 ;;
    *) echo "usage: $0 [--quick] [--family]" >&2; exit 2 ;;
    esac
done

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== building (release)"
(cd "$root" && cargo build --release --quiet)
cc -O2 -std=c11 -Wall -I"$root/include" "$here/c/bench.c" -o "$out/bench" \
    -L"$root/target/release" -lngc_cells -lm -Wl,-rpath,"$root/target/release"
# The memory floor (the same traffic, no math): a measuring tool for this
# machine, so built for it.
cc -O3 -march=native -std=gnu11 -fopenmp -Wall "$here/c/traffic.c" -o "$out/traffic"

# The conformance generator's private environment (pinned ngc-learn, jax,
# matplotlib), created on first use by tests/reference/venv.sh.
if [ -n "${NGC_BENCH_PYTHON:-}" ]; then
    py="$NGC_BENCH_PYTHON"
else
    py="$(bash "$root/tests/reference/venv.sh")"
fi

echo "== C ABI and C scalar libm"
"$out/bench" "${quick[@]}" | tee "$out/c.tsv"
echo "== memory floor (same traffic, no math)"
"$out/traffic" "${quick[@]}" | tee -a "$out/c.tsv"
echo "== ngc-learn process and jax.jit ($py)"
"$py" "$here/py_bench.py" "${quick[@]}" | tee "$out/py.tsv"
cat "$out/c.tsv" "$out/py.tsv" > "$out/results.tsv"
echo "== table"
"$py" "$here/report.py" "$out/results.tsv" --md "$out/table.md" --png "$out/ns_per_element.png"
echo "== wrote $out/table.md and $out/ns_per_element.png"
if [ "$family" = 1 ]; then
    "$here/family.sh" "${quick[@]}"
fi
