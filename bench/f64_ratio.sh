#!/usr/bin/env bash
# f64 against f32, interleaved in one run (issue 13: at most 2.5x):
#   bench/f64_ratio.sh [--before LIBDIR] [--advances N] [--rounds R] [-- f64_ratio args]
#
# Builds the library (release) and bench/c/f64_ratio.c, then times an f32 and an
# f64 Bernoulli cell with the same inputs, one thread, 784 / 1e5 / 1e6 elements,
# both modes, advanced in alternating bursts of 10, every advance timed (median
# of N, default 1000; the 10th percentile too, which other programs disturb less).
# With --before LIBDIR (another build's libngc_cells.so and its soname link),
# each round runs that library, then this one. Output (stdout, tab-separated,
# also in bench/out/f64_ratio.tsv):
#   lib size mode advances f32_median_us f64_median_us ratio f32_p10_us f64_p10_us ratio_p10
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$here/out"
mkdir -p "$out"
before=""
advances=1000
rounds=1
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --before) before="$(cd "$2" && pwd)"; shift 2 ;;
        --advances) advances="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "usage: $0 [--before LIBDIR] [--advances N] [--rounds R] [-- ARGS]" >&2; exit 2 ;;
    esac
done

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
(cd "$root" && cargo build --release --quiet)
after="$root/target/release"
cc -O2 -std=c11 -Wall -I"$root/include" "$here/c/f64_ratio.c" -o "$out/f64_ratio" \
    -L"$after" -lngc_cells -Wl,-rpath,"$after"
# (ldd's output captured first: `ldd | grep -q` fails under pipefail when grep
# exits before ldd has written everything.)
if [ -n "$before" ] && ! grep -qF "$before/" <<<"$(LD_LIBRARY_PATH="$before" ldd "$out/f64_ratio")"; then
    echo "$before does not provide $(readelf -d "$out/f64_ratio" | grep -o 'libngc_cells[^]]*')" >&2
    exit 2
fi
libs=("after=$after")
[ -n "$before" ] && libs=("before=$before" "after=$after")

tsv="$out/f64_ratio.tsv"
printf 'lib\tsize\tmode\tadvances\tf32_median_us\tf64_median_us\tratio\tf32_p10_us\tf64_p10_us\tratio_p10\n' | tee "$tsv"
for ((r = 0; r < rounds; r++)); do
    for lib in "${libs[@]}"; do
        name="${lib%%=*}"
        dir="${lib#*=}"
        LD_LIBRARY_PATH="$dir" "$out/f64_ratio" --advances "$advances" "${extra[@]}" |
            sed "s/^/$name\t/" | tee -a "$tsv"
    done
done
