#!/usr/bin/env bash
# The family benchmark (issues 11, 12, 16): bench/family.sh [--quick] [--rounds R]
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
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=(--quick); rounds=1 ;;
    --rounds) rounds="$2"; shift ;;
    *) echo "usage: $0 [--quick] [--rounds R]" >&2; exit 2 ;;
    esac
    shift
done
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
run_c() {
    local th="$1" r="$2"
    if [ "$th" = 1 ]; then
        "${nice_cmd[@]}" taskset -c "$cpu" "$out/family" --threads 1 "${quick[@]}"
    else
        "${nice_cmd[@]}" "$out/family" --threads 2 "${quick[@]}"
    fi | tag "$r" | tee -a "$results"
}
run_py() {
    local th="$1" r="$2"
    if [ "$th" = 1 ]; then
        XLA_FLAGS="$one_thread_xla" "${nice_cmd[@]}" taskset -c "$cpu" "$py" "$here/py_family.py" --threads 1 "${quick[@]}"
    else
        "${nice_cmd[@]}" "$py" "$here/py_family.py" --threads 2 "${quick[@]}"
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
