#!/usr/bin/env bash
# 1 thread vs 2 threads with a competing busy process, one run:
#   bench/threads_busy.sh [--before LIBDIR] [--advances N] [--rounds R] [--idle-rt]
#                         [-- threads_busy args]
#
# Builds the library (release) and bench/c/threads_busy.c, then for each load
#   idle         nothing else started by this script,
#   busy         one shell busy loop (`while :; do :; done`), not pinned,
#   busy-pinned  the same loop pinned to the last CPU (taskset; skipped without it),
# times a 128x784 and a 1e6-element f32 Bernoulli cell (probability mode by
# default) with 1 and 2 threads: two cells on the same arrays advanced in
# alternating bursts of 10, every advance timed, median of N (default 400).
# With --before LIBDIR (a directory holding another build's libngc_cells.so,
# e.g. main's), each load is measured with that library and with this one, one
# after the other, so before/after come from the same run. --rounds repeats the
# whole sequence. Output (stdout, tab-separated, also in bench/out/threads_busy.tsv):
#   lib load size dtype mode threads advances median_us mean_us p90_us ratio_median
# ratio_median is 2-thread median / 1-thread median (the figure issue 13 bounds
# by 1.15 under load). The machine's other load shows in the header: numbers
# taken while other programs run are noisy, and on a shared machine "idle" is
# rarely idle; --idle-rt runs the idle measurement under `chrt -f 1` (real-time
# priority: other programs' threads then do not take this process's cores, as
# on an idle machine; a second or two per size). The busy loads always run at
# normal priority, competing with the busy loop as any program would.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$here/out"
mkdir -p "$out"
before=""
advances=400
rounds=1
extra=()
idle_rt=0
while [ $# -gt 0 ]; do
    case "$1" in
        --idle-rt) idle_rt=1; shift ;;
        --before) before="$(cd "$2" && pwd)"; shift 2 ;;
        --advances) advances="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "usage: $0 [--before LIBDIR] [--advances N] [--rounds R] [--idle-rt] [-- ARGS]" >&2; exit 2 ;;
    esac
done

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
(cd "$root" && cargo build --release --quiet)
after="$root/target/release"
cc -O2 -std=c11 -Wall -I"$root/include" "$here/c/threads_busy.c" -o "$out/threads_busy" \
    -L"$after" -lngc_cells -Wl,-rpath,"$after"

# The program loads the library by its soname (libngc_cells.so.<major>.<minor>):
# make sure LD_LIBRARY_PATH=$before really picks the other build.
if [ -n "$before" ] && ! grep -qF "$before/" <<<"$(LD_LIBRARY_PATH="$before" ldd "$out/threads_busy")"; then
    echo "$before does not provide $(readelf -d "$out/threads_busy" | grep -o 'libngc_cells[^]]*')" >&2
    exit 2
fi

busy_pid=""
stop_busy() {
    if [ -n "$busy_pid" ]; then
        kill "$busy_pid" 2>/dev/null || true
        wait "$busy_pid" 2>/dev/null || true
        busy_pid=""
    fi
}
trap stop_busy EXIT
start_busy() { # $1: "" or a CPU number to pin to
    if [ -n "$1" ]; then
        taskset -c "$1" bash -c 'while :; do :; done' &
    else
        bash -c 'while :; do :; done' &
    fi
    busy_pid=$!
    sleep 0.2
}

loads=(idle busy)
last_cpu=$(($(nproc) - 1))
if command -v taskset >/dev/null && [ "$last_cpu" -gt 0 ]; then
    loads+=(busy-pinned)
fi
libs=("after=$after")
[ -n "$before" ] && libs=("before=$before" "after=$after")

tsv="$out/threads_busy.tsv"
printf 'lib\tload\tsize\tdtype\tmode\tthreads\tadvances\tmedian_us\tmean_us\tp90_us\tratio_median\n' | tee "$tsv"
for ((r = 0; r < rounds; r++)); do
    for load in "${loads[@]}"; do
        case "$load" in
            busy) start_busy "" ;;
            busy-pinned) start_busy "$last_cpu" ;;
        esac
        for lib in "${libs[@]}"; do
            name="${lib%%=*}"
            dir="${lib#*=}"
            # LD_LIBRARY_PATH takes precedence over the program's RUNPATH.
            rt=()
            if [ "$load" = idle ] && [ "$idle_rt" = 1 ]; then
                rt=(chrt -f 1)
                name_load=idle-rt
            else
                name_load="$load"
            fi
            LD_LIBRARY_PATH="$dir" "${rt[@]}" "$out/threads_busy" "$name_load" --advances "$advances" "${extra[@]}" |
                sed "s/^/$name\t/" | tee -a "$tsv"
        done
        stop_busy
    done
done
