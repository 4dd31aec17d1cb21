#!/usr/bin/env bash
# Runs licflow's ingest benchmark and the hand-written baseline (../shared/baseline/roofline) on
# the same input, in the same run, and prints medians and ratios.
# Usage: bench/compare_with_roofline.sh [EVENTS]   (default 2000000; needs a Release build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-2000000}
baseline=../shared/baseline
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

g++ -O3 -march=native -std=c++20 "$baseline/roofline.cpp" -o "$work/roofline" -lsimdjson
python3 "$baseline/mkdata.py" "$events" > "$work/events.jsonl"
ninja -C build ingest_bench >/dev/null

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
roofline_rate() {  # events/s of one roofline run
  "$work/roofline" "$work/events.jsonl" "$1" 2>&1 >/dev/null | sed -E 's/.*rate=([0-9.]+)M.*/\1/' |
    awk '{printf "%.0f\n", $1 * 1e6}'
}

rates0=() rates1=()
LICFLOW_BENCH_INPUT="$work/events.jsonl" build/ingest_bench --benchmark_repetitions=3 \
  --benchmark_filter=ParseFilterFileSink --benchmark_format=csv 2>/dev/null > "$work/bench.csv"
for _ in 1 2 3; do rates0+=("$(roofline_rate 0)"); rates1+=("$(roofline_rate 1)"); done
r0=$(printf '%s\n' "${rates0[@]}" | median)
r1=$(printf '%s\n' "${rates1[@]}" | median)
t1=$(grep 'threads:1/real_time_median' "$work/bench.csv" | cut -d, -f7 | awk '{printf "%.0f", $1}')
t2=$(grep 'threads:2/real_time_median' "$work/bench.csv" | cut -d, -f7 | awk '{printf "%.0f", $1}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
printf 'input: %s events (%s), %s\n' "$events" "$(du -h "$work/events.jsonl" | cut -f1)" "$(date -u +%F)"
printf '%-44s %14s %10s\n' "run (median of 3)" "events/s" "vs mode 0"
printf '%-44s %14.0f %10s\n' "roofline mode 0 (parse only, 1 thread)" "$r0" "1.00"
printf '%-44s %14.0f %10s\n' "roofline mode 1 (parse+state+window, 1 thr)" "$r1" "$(ratio "$r1" "$r0")"
printf '%-44s %14.0f %10s\n' "licflow parse->filter->file, 1 thread" "$t1" "$(ratio "$t1" "$r0")"
printf '%-44s %14.0f %10s\n' "licflow parse->filter->file, 2 threads" "$t2" "$(ratio "$t2" "$r0")"
printf '2 threads / 1 thread: %s\n' "$(ratio "$t2" "$t1")"
