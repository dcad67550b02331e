#!/usr/bin/env bash
# Builds the libFuzzer target fuzz_targets/calls.rs on stable Rust and runs it.
#
#   fuzz/run.sh [seconds]     (default 60)
#
# cargo-fuzz needs nightly only for its -Z sanitizer flags; the coverage
# instrumentation libFuzzer needs is plain -C flags, so this does what
# `cargo fuzz run --sanitizer none` does, on the stable toolchain. The target is
# built for an explicit --target so RUSTFLAGS skip build scripts and proc macros.
# A mismatch with the model panics; libFuzzer then stops and writes the input to
# target/fuzz/artifacts/ (replay: target/fuzz/<host>/release/calls <file>).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
host="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 --cfg fuzzing"
cargo build --release --bin calls --target "$host" --target-dir ../target/fuzz
mkdir -p ../target/fuzz/corpus ../target/fuzz/artifacts
exec "../target/fuzz/$host/release/calls" \
    -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix=../target/fuzz/artifacts/ \
    ../target/fuzz/corpus
