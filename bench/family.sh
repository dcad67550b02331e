#!/usr/bin/env bash
# The family benchmark (issues 11, 12, 16): bench/family.sh [--quick] [--rounds R] [--cells PREFIX] [--before LIBDIR]
#
# Every cell of the family through the C ABI (bench/c/family.c: Gaussian,
# Laplacian, Bernoulli with modulator/mask at rest and set, Reward, RateCell
# euler identity / euler tanh / rk4 tanh, and the 16- and 28-byte memory
# floors, all interleaved sample by sample in one process) against ngc-learn's
# own process and ngc-learn's math under jax.jit (bench/py_family.py), at 784
# units and 1e5, 1e6, 1e7 elements, f32, 1 and 2 threads.
#
# Thread counts: the 1-thread rows (C and Python alike) run under
# `taskset -c $NGC_BENCH_CPU` (default 0), and JAX there also gets
# XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1";
# the 2-thread rows run on both CPUs (the library with ngc_cell_set_threads(2),
# JAX with its defaults: on this 2-CPU machine it may use both).
#
# The machine is shared: each round runs C then Python for 1 thread, then for
# 2 threads (Python first in even rounds), and the report takes, for every
# figure, the median over rounds, and for every ratio the median of the
# per-round ratios (with their range). The load average is recorded per step.
#
# --cells PREFIX runs only the cells whose name starts with PREFIX (--cells rate:
# the three RateCell rows; the floors are then left out). --before LIBDIR also
# runs the C program on another build of the library (a directory holding its
# libngc_cells.so.*, e.g. target/release of an older checkout), through
# LD_LIBRARY_PATH, right after the current one in every round; its rows are
# named ngc_cells_before (a before/after in the same run). With either, the
# RateCell rows are also written as bench/out/family/rate_table.md
# (bench/rate_report.py).
#
# NGC_BENCH_NICE=-10 runs the measuring programs at that niceness (root only):
# on a machine shared with builds it keeps the figures from drifting as much.
#
# Writes bench/out/family/results.tsv and bench/out/family/table.md. About
# 4 minutes per round on 2 idle cores. NGC_BENCH_PYTHON: another interpreter
# with ngclearn==3.2.3 and jax (default: tests/reference/venv.sh's).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$here/out/family"
mkdir -p "$out"
quick=()
rounds=3
cells=()
before=""
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=(--quick); rounds=1 ;;
    --rounds) rounds="$2"; shift ;;
    --cells) cells=(--cells "$2"); shift ;;
    --before) before="$(cd "$2" && pwd)"; shift ;;
    *) echo "usage: $0 [--quick] [--rounds R] [--cells PREFIX] [--before LIBDIR]" >&2; exit 2 ;;
    esac
    shift
done
if [ -n "$before" ] && ! ls "$before"/libngc_cells.so.* >/dev/null 2>&1; then
    echo "$0: --before $before holds no libngc_cells.so.*" >&2
    exit 2
fi
cpu="${NGC_BENCH_CPU:-0}"
nice_cmd=()
[ -n "${NGC_BENCH_NICE:-}" ] && nice_cmd=(nice -n "$NGC_BENCH_NICE")
one_thread_xla="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== building (release)"
(cd "$root" && cargo build --release --quiet)
cc -O3 -march=native -std=gnu11 -Wall -pthread -I"$root/include" "$here/c/family.c" -o "$out/family" \
    -L"$root/target/release" -lngc_cells -lm -Wl,-rpath,"$root/target/release"
if [ -n "${NGC_BENCH_PYTHON:-}" ]; then
    py="$NGC_BENCH_PYTHON"
else
    py="$(bash "$root/tests/reference/venv.sh")"
fi

results="$out/results.tsv"
printf 'round\tload1\timpl\tcell\tmode\tthreads\tlabel\telements\tus_per_call\tns_per_element\tallocs_per_call\tfaults_per_call\tmin_us\n' >"$results"
tag() { # prefix each line with the round and the current 1-minute load
    local r="$1"
    while IFS= read -r line; do
        printf '%s\t%s\t%s\n' "$r" "$(cut -d' ' -f1 /proc/loadavg)" "$line"
    done
}
run_c1() { # threads round [env...]: one run of the C program
    local th="$1" r="$2"
    shift 2
    if [ "$th" = 1 ]; then
        env "$@" "${nice_cmd[@]}" taskset -c "$cpu" "$out/family" --threads 1 "${quick[@]}" "${cells[@]}" "${impl[@]}"
    else
        env "$@" "${nice_cmd[@]}" "$out/family" --threads 2 "${quick[@]}" "${cells[@]}" "${impl[@]}"
    fi | tag "$r" | tee -a "$results"
}
run_c() {
    local impl=()
    run_c1 "$@"
    if [ -n "$before" ]; then
        impl=(--impl ngc_cells_before)
        run_c1 "$@" "LD_LIBRARY_PATH=$before"
    fi
}
run_py() {
    local th="$1" r="$2"
    if [ "$th" = 1 ]; then
        XLA_FLAGS="$one_thread_xla" "${nice_cmd[@]}" taskset -c "$cpu" "$py" "$here/py_family.py" --threads 1 "${quick[@]}" "${cells[@]}"
    else
        "${nice_cmd[@]}" "$py" "$here/py_family.py" --threads 2 "${quick[@]}" "${cells[@]}"
    fi | tag "$r" | tee -a "$results"
}
for r in $(seq 1 "$rounds"); do
    for th in 1 2; do
        echo "== round $r/$rounds, $th thread(s); load $(cut -d' ' -f1-3 /proc/loadavg)"
        if [ $((r % 2)) = 1 ]; then
            run_c "$th" "$r"
            run_py "$th" "$r"
        else
            run_py "$th" "$r"
            run_c "$th" "$r"
        fi
    done
done
echo "== table"
"$py" "$here/family_report.py" "$results" --md "$out/table.md"
echo "== wrote $out/table.md"
if [ ${#cells[@]} -gt 0 ] || [ -n "$before" ]; then
    "$py" "$here/rate_report.py" "$results" --md "$out/rate_table.md"
    echo "== wrote $out/rate_table.md"
fi
