#!/usr/bin/env bash
# The load benchmarks of issue 6, end to end through the real `licflow run`, side by side with
# the hand-written baseline (../shared/baseline/roofline) on the same input in the same run.
# Writes bench/RESULTS.md (machine, date, medians, ratios) and prints it.
#
#   P1  parse -> filter -> file sink                      (vs roofline mode 0)
#   P2  license_state -> hourly gauge window -> threshold (vs roofline mode 1)
#   P3  pipelines/olicense-monitoring.yaml, all of it
#   P4  priority latency: bulk over TCP at saturation + a trickle of server_down in a priority lane
#   P5  high cardinality: a daily window per (user, host) over USERS × 300 keys in random order,
#       memory_limit 256 MiB (and, as P5mem, the same with the limit out of reach)
#   P6  parse -> keyed 1 h window, count and max per (server, feature) -> file (vs mode 0)
#   TCP P1 fed over 4 TCP connections by bench/tcp_load, a separate process
#
# Usage: bench/run_all.sh [USERS] [DAYS] [REPETITIONS]   (default 3000 users, 21 days, 3)
# Small scale for CI: LICFLOW_BENCH_RESULTS=build/bench-smoke.md bench/run_all.sh 60 1 1
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-3000}
days=${2:-21}
reps=${3:-3}
root=$(pwd)
results=${LICFLOW_BENCH_RESULTS:-bench/RESULTS.md}
baseline=$root/../shared/baseline
.ci/setup build -DLICFLOW_BUILD_BENCH=ON >&2
ninja -C build tcp_load >/dev/null
licflow=$root/build/licflow
work=$(mktemp -d)
trap 'jobs -p | xargs -r kill 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

g++ -O3 -march=native -std=c++20 "$baseline/roofline.cpp" -o roofline -lsimdjson
"$licflow" generate --users "$users" --days "$days" --out-of-order 5s > events.jsonl
events=$(wc -l < events.jsonl)
size=$(du -h events.jsonl | cut -f1)
# P5's input: USERS × 300 distinct (user, host) keys, each checked out twice, in an order that
# scatters every key's two events across one UTC day.
hc_keys=$((users * 300))
awk -v keys="$hc_keys" 'BEGIN {
  t0 = 1795046400000; n = 2 * keys
  for (i = 0; i < n; i++) {
    k = (i * 7919) % keys
    printf "{\"ts\":%.0f,\"type\":\"checkout\",\"server\":\"lic-%d\",\"feature\":\"f%d\",\"user\":\"u%d\",\"host\":\"ws-%d\",\"count\":%d}\n",
      t0 + int(i * 86000000 / n), k % 3, k % 40, k, k % 5000, 1 + k % 4
  }
}' > high_cardinality.jsonl

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

roofline_rate() {  # events/s of one roofline run in mode $1
  ./roofline events.jsonl "$1" 2>&1 >/dev/null | sed -E 's/.*rate=([0-9.]+)M.*/\1/' |
    awk '{printf "%.0f\n", $1 * 1e6}'
}

# Prometheus histogram_quantile over `sink`'s latency histogram in metrics file $1, in ms.
latency_ms() {
  awk -v sink="$2" -v q="$3" '
    $1 ~ "^licflow_sink_latency_seconds_bucket\\{sink=\"" sink "\"" {
      match($1, /le="[^"]*"/); le = substr($1, RSTART + 4, RLENGTH - 5)
      n++; bound[n] = (le == "+Inf" ? -1 : le + 0); cum[n] = $2 + 0
    }
    END {
      total = cum[n]; if (total == 0) { print "-"; exit }
      rank = q * total; lower = 0; below = 0
      for (i = 1; i <= n; i++) {
        if (cum[i] >= rank) {
          if (bound[i] < 0) { printf ">%.0f\n", lower * 1000; exit }
          frac = (cum[i] == below) ? 1 : (rank - below) / (cum[i] - below)
          printf "%.2f\n", 1000 * (lower + (bound[i] - lower) * frac); exit
        }
        lower = bound[i]; below = cum[i]
      }
    }' "$1"
}

# One licflow run: prints "events_per_s peak_rss_mib" and leaves metrics.prom.
run_licflow() {  # pipeline threads [input]
  rm -rf bench-out licflow-data
  mkdir -p bench-out
  "$licflow" run "$1" --input "${3:-events.jsonl}" --threads "$2" --metrics-file metrics.prom \
    2> run.err
  local rate rss
  rate=$(sed -nE 's/.*\(([0-9]+) events\/s\).*/\1/p' run.err)
  rss=$(sed -nE 's/.*peak memory \(RSS\) ([0-9.]+) MiB.*/\1/p' run.err)
  echo "$rate $rss"
}

declare -A rate rss p50 p99 p999
measure() {  # name pipeline sink threads [input]
  local rates=() rsses=()
  for _ in $(seq "$reps"); do
    read -r r m < <(run_licflow "$2" "$4" "${5:-events.jsonl}")
    rates+=("$r")
    rsses+=("$m")
  done
  rate[$1/$4]=$(printf '%s\n' "${rates[@]}" | median)
  rss[$1/$4]=$(printf '%s\n' "${rsses[@]}" | sort -g | tail -1)
  p50[$1/$4]=$(latency_ms metrics.prom "$3" 0.5)
  p99[$1/$4]=$(latency_ms metrics.prom "$3" 0.99)
  p999[$1/$4]=$(latency_ms metrics.prom "$3" 0.999)
}

r0s=() r1s=()
for _ in $(seq "$reps"); do r0s+=("$(roofline_rate 0)"); r1s+=("$(roofline_rate 1)"); done
r0=$(printf '%s\n' "${r0s[@]}" | median)
r1=$(printf '%s\n' "${r1s[@]}" | median)

bp=$root/bench/pipelines
sed -e 's/memory_limit: 256MiB/memory_limit: 64GiB/' "$bp/p5_high_cardinality.yaml" > p5_in_memory.yaml
declare -A spilled
for t in 1 2; do
  measure P1 "$bp/p1_filter.yaml" out "$t"
  measure P2 "$bp/p2_state_window_threshold.yaml" windows "$t"
  measure P3 "$root/pipelines/olicense-monitoring.yaml" alerts_file "$t"
  measure P5 "$bp/p5_high_cardinality.yaml" out "$t" high_cardinality.jsonl
  spilled[$t]=$(sed -nE 's/^licflow_operator_state_keys\{operator="per_user",location="rocksdb"\} ([0-9]+)/\1/p' metrics.prom)
  measure P5mem p5_in_memory.yaml out "$t" high_cardinality.jsonl
  measure P6 "$bp/p6_keyed_window.yaml" out "$t"
done

# P4 and TCP ingest: licflow listens, tcp_load (another process) sends, then SIGTERM.
printf '{"ts":%s,"type":"server_down","server":"lic-9"}\n' "$(head -1 events.jsonl |
  sed -E 's/.*"ts":([0-9]+).*/\1/')" > priority.jsonl
# P4's bulk input leaves out the generator's own server_down events: inside a 256 KiB bulk chunk
# they travel at bulk speed until `route` picks them out, and the urgent sink's latency histogram
# is to measure the trickle alone.
grep -v '"type":"server_down"' events.jsonl > bulk.jsonl
tcp_run() {  # name pipeline threads port input [priority line every ms]
  rm -rf bench-out
  mkdir -p bench-out
  "$licflow" run "$2" --threads "$3" --metrics-file metrics.prom 2> run.err &
  local pid=$!
  if [[ $# -ge 6 ]]; then
    "$root/build/tcp_load" "127.0.0.1:$4" "$5" 4 priority.jsonl "$6" > load.out
  else
    "$root/build/tcp_load" "127.0.0.1:$4" "$5" 4 > load.out
  fi
  sleep 1
  kill -TERM "$pid"
  wait "$pid" || true
  rate[$1/$3]=$(sed -nE 's/.* ([0-9]+) lines\/s.*/\1/p' load.out)
  rss[$1/$3]=$(sed -nE 's/.*peak memory \(RSS\) ([0-9.]+) MiB.*/\1/p' run.err)
}
sed -e 's/type: stdin/type: tcp, listen: "127.0.0.1:7880"/' "$bp/p1_filter.yaml" > p1_tcp.yaml
for t in 1 2; do
  tcp_run TCP p1_tcp.yaml "$t" 7880 events.jsonl
  p50[TCP/$t]=$(latency_ms metrics.prom out 0.5)
  p99[TCP/$t]=$(latency_ms metrics.prom out 0.99)
  p999[TCP/$t]=$(latency_ms metrics.prom out 0.999)
  tcp_run P4 "$bp/p4_priority.yaml" "$t" 7879 bulk.jsonl 5
  p50[P4/$t]=$(latency_ms metrics.prom urgent_out 0.5)
  p99[P4/$t]=$(latency_ms metrics.prom urgent_out 0.99)
  p999[P4/$t]=$(latency_ms metrics.prom urgent_out 0.999)
  p50[P4bulk/$t]=$(latency_ms metrics.prom bulk_out 0.5)
  p99[P4bulk/$t]=$(latency_ms metrics.prom bulk_out 0.99)
  p999[P4bulk/$t]=$(latency_ms metrics.prom bulk_out 0.999)
done

cd "$root"
{
  echo "# licflow load benchmarks"
  echo
  echo "Produced by \`bench/run_all.sh $users $days $reps\` on $(date -u '+%F %H:%M UTC'), $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB)."
  echo "Input: \`licflow generate --users $users --days $days --out-of-order 5s\`: $events events, $size."
  echo "Rates are medians of $reps runs, end to end through \`licflow run\` (process start to exit,"
  echo "output written); latency percentiles come from the sinks' latency histograms (ingest to"
  echo "write, interpolated within buckets, last run); RSS is the largest peak of the runs."
  echo
  echo "| baseline (1 thread, same file, same run) | events/s |"
  echo "|---|---:|"
  echo "| roofline mode 0 (parse only) | $r0 |"
  echo "| roofline mode 1 (parse + state + window + threshold) | $r1 |"
  echo
  echo "| workload | threads | events/s | vs mode 0 | vs mode 1 | p50 ms | p99 ms | p99.9 ms | peak RSS MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for w in P1 P2 P3 P5 P5mem P6 TCP P4; do
    for t in 1 2; do
      echo "| $w | $t | ${rate[$w/$t]} | $(ratio "${rate[$w/$t]}" "$r0") | $(ratio "${rate[$w/$t]}" "$r1") | ${p50[$w/$t]} | ${p99[$w/$t]} | ${p999[$w/$t]} | ${rss[$w/$t]} |"
    done
  done
  for t in 1 2; do
    echo "| P4 bulk records | $t | | | | ${p50[P4bulk/$t]} | ${p99[P4bulk/$t]} | ${p999[P4bulk/$t]} | |"
  done
  echo
  echo "P5 runs on its own input: $hc_keys (user, host) keys, $((2 * hc_keys)) events in random key"
  echo "order over one day, with memory_limit 256 MiB; at the end of the 2-thread run ${spilled[2]:-0}"
  echo "keys were in RocksDB. P5mem is the same run with the limit out of reach (everything in memory)."
  echo
  echo "P4's rows: the priority lane's server_down records (sent every 5 ms on their own connection"
  echo "while 4 connections saturate the node with the input minus its server_down events) and,"
  echo "below, the bulk records of the same run. TCP and P4 rates are tcp_load's send rates (a"
  echo "separate process), the rest licflow's own."
  echo
  echo "| target (issue 6) | measured | met |"
  echo "|---|---:|---|"
  target() { awk -v a="$2" -v b="$3" -v name="$1" 'BEGIN {printf "| %s | %.2f | %s |\n", name, a, (a >= b ? "yes" : "no")}'; }
  target "P1, 2 threads ≥ 1.3× roofline mode 0" "$(ratio "${rate[P1/2]}" "$r0")" 1.3
  target "P2, 2 threads ≥ 2× roofline mode 1" "$(ratio "${rate[P2/2]}" "$r1")" 2
  target "P6, 2 threads ≥ 0.8× roofline mode 0" "$(ratio "${rate[P6/2]}" "$r0")" 0.8
  target "P1, 2 threads ≥ 1.7× 1 thread" "$(ratio "${rate[P1/2]}" "${rate[P1/1]}")" 1.7
  target "TCP ingest ≥ 1 M events/s (2 threads, M events/s)" "$(ratio "${rate[TCP/2]}" 1000000)" 1
  echo "| P4 priority p99 < 1 ms while bulk saturates (2 threads, ms) | ${p99[P4/2]} | $(awk -v p="${p99[P4/2]}" 'BEGIN {print (p != "" && p + 0 < 1 ? "yes" : "no")}') |"
  echo "| P5 RSS within 1.5× memory_limit (384 MiB) at $hc_keys keys (2 threads, MiB) | ${rss[P5/2]} | $(awk -v r="${rss[P5/2]}" 'BEGIN {print (r != "" && r + 0 <= 384 ? "yes" : "no")}') |"
  cat <<'LIMITERS'

What limits the throughput targets when they are missed (`perf record` of 2 threads on the
1.35 M events, 2026-11-30 07:14 UTC; README "Performance" has the details):
- P1: parsing (26 % of its CPU with simdjson's stage 1), formatting every record back to JSON
  (15 %), and copying the input and output through the kernel (13 %, and 8 % zeroing fresh
  pages). SPEC §1 makes licflow visit and check every field of every line, with one simdjson
  `iterate` per line for exact dead letters, where the roofline's mode 0 reads two fields of a
  document stream, writes nothing, and has read its file before its clock starts.
- P2 (and P3): `license_state` (about 24 %: apply and close, the handle index, annotations,
  tree nodes and strings per open checkout), parsing 14 %, key hashing for the partitions, the
  window and the threshold 6 %, holding and ordering records 4 %. In the monitoring pipeline,
  `license_state` is busy for half the run and more (1.6–1.9 s of 3.3–3.5 s), three times any
  other stage. Its partitions are keyed by server, and the input has 3.
- P6, when it falls below 0.8×: parsing (33 % with stage 1), reading the file (kernel copy
  7 %, the chunker's copy and line count 6 %, on a third thread that competes with the two
  workers), the window 10 %, allocation 7 %.
- TCP ingest: P1's pipeline, with the load generator on the same cores.
- P1 scaling: noise of the shared machine around 1.7× (1.66×–2.70× across runs), and the reader
  thread, which has a core to itself at 1 thread and shares both at 2.
LIMITERS
} > "$results"
cat "$results"
