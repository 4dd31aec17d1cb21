#!/usr/bin/env bash
# The long variant of tests/e2e/crash_recovery_test.cpp: runs bench/pipelines/crash.yaml over a
# larger generated input once uninterrupted, then again killing it with SIGKILL at random moments
# (checkpoints every 50 ms, so kills land before, between and during them) and resuming each
# time, and compares every output file byte for byte and the history record for record.
# Usage: bench/crash_soak.sh [USERS] [DAYS] [KILLS] [MEMORY_LIMIT]
#   (default 1000 users, 28 days, 30 kills, the pipeline's memory_limit; e.g. 2MiB to run with
#   most keyed state spilled to RocksDB)
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1000}
days=${2:-28}
kills=${3:-30}
memory_limit=${4:-}
root=$(pwd)
licflow=$root/build/licflow
[[ -x $licflow ]] || .ci/setup build >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/reference" "$work/crashed"
"$licflow" generate --users "$users" --days "$days" --faults --out-of-order 15s > "$work/reference/events.jsonl"
cp "$work/reference/events.jsonl" "$work/crashed/events.jsonl"
for d in reference crashed; do
  if [[ -n $memory_limit ]]; then
    sed -e "s/checkpoint_interval: 50ms}/checkpoint_interval: 50ms, memory_limit: $memory_limit}/" \
      bench/pipelines/crash.yaml > "$work/$d/crash.yaml"
  else
    cp bench/pipelines/crash.yaml "$work/$d/crash.yaml"
  fi
done

start=$(date +%s%N)
(cd "$work/reference" && "$licflow" run crash.yaml 2>/dev/null)
full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "uninterrupted: $(wc -l < "$work/reference/events.jsonl") lines in $full_ms ms"

killed=0
for ((attempt = 0; killed < kills && attempt < 4 * kills; attempt++)); do
  (cd "$work/crashed" && exec "$licflow" run crash.yaml 2>/dev/null) &
  pid=$!
  sleep "$(awk -v r=$RANDOM -v f="$full_ms" 'BEGIN {printf "%.3f", (f / 50 + r % (f / 10 + 1)) / 1000}')"
  if kill -KILL "$pid" 2>/dev/null; then
    killed=$((killed + 1))
    wait "$pid" 2>/dev/null || true
  else
    wait "$pid" && break  # it finished before the kill
  fi
done
(cd "$work/crashed" && "$licflow" run crash.yaml 2>/dev/null)
echo "killed $killed times, then it ran to the end"

status=0
for f in "$work"/reference/out/*; do
  name=$(basename "$f")
  if cmp -s "$f" "$work/crashed/out/$name"; then echo "  $name: identical"; else echo "  $name: DIFFERS"; status=1; fi
done
query() { "$licflow" query --state "$1/state" --stream hourly; }
if [[ "$(query "$work/reference")" == "$(query "$work/crashed")" ]]; then
  echo "  history (hourly): identical"
else
  echo "  history (hourly): DIFFERS"
  status=1
fi
exit $status
