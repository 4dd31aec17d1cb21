#!/usr/bin/env bash
# The license administrator's report, from the tables pipelines/olicense-monitoring.yaml writes:
# top features by license-hours and peak, exhaustion, alerts fired and resolved, anomalies, the
# heaviest users and cost per department.
# Usage: pipelines/report.sh [DIR]   (default: ./licflow-data)
set -euo pipefail
# Tops are cut with awk, not head: head exits early, and under pipefail the writer's SIGPIPE
# would fail the script whenever its output outgrows the pipe's buffer.
dir=${1:-licflow-data}

section() { printf '\n== %s\n' "$1"; }

section "Top features by license-hours (daily.csv)"
awk -F, 'NR > 1 {
    key = $2 "," $3
    if (!(key in cap)) days[key] = 0
    days[key]++; hours[key] += $6; denied[key] += $7
    if ($4 + 0 > peak[key]) peak[key] = $4 + 0
    if ($5 != "") cap[key] = $5 + 0
  }
  END {
    for (k in hours) {
      split(k, sf, ",")
      c = cap[k]
      printf "%-7s %-20s %9.1f %6d %8s %7s %7s %8d\n", sf[1], sf[2], hours[k], peak[k],
             (c > 0 ? c : "?"), (c > 0 ? sprintf("%.0f%%", 100 * peak[k] / c) : "-"),
             (c > 0 ? sprintf("%.1f%%", 100 * hours[k] / (c * 24 * days[k])) : "-"), denied[k]
    }
  }' "$dir/daily.csv" | sort -k3,3nr | awk 'NR <= 12' |
  awk 'BEGIN { printf "%-7s %-20s %9s %6s %8s %7s %7s %8s\n", "server", "feature", "lic-hours",
               "peak", "capacity", "peak%", "avg%", "denials" } { print }'

section "Features that ran out (no_licenses alerts in alerts.csv)"
awk -F, 'NR > 1 && $2 == "no_licenses" {
    key = $5 " " $6
    if ($3 == "firing") times[key]++
    if ($3 == "resolved") out_ms[key] += ms($1) - ms($7)
  }
  function ms(t,   y, m, d, era, yoe, doy, doe, days) {  # RFC 3339 UTC -> ms since the epoch
    y = substr(t, 1, 4) + 0; m = substr(t, 6, 2) + 0; d = substr(t, 9, 2) + 0
    y -= (m <= 2); era = int(y / 400); yoe = y - era * 400  # days_from_civil (H. Hinnant)
    doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
    doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
    days = era * 146097 + doe - 719468
    return ((days * 24 + substr(t, 12, 2)) * 3600 + substr(t, 15, 2) * 60 + substr(t, 18, 6)) * 1000
  }
  END { for (k in times) printf "%-28s %8d %10.1f\n", k, times[k], out_ms[k] / 3600000 }' \
  "$dir/alerts.csv" | sort -k4,4nr | awk 'NR <= 8' |
  awk 'BEGIN { printf "%-28s %8s %10s\n", "server feature", "times", "hours out" } { print }'

section "Alerts (alerts.csv)"
awk -F, 'NR > 1 { n[$2 "," $4 "," $3]++; names[$2 "," $4] = 1 }
  END {
    for (a in names) {
      split(a, p, ",")
      printf "%-14s %-9s %7d %9d %14d\n", p[1], p[2], n[a ",firing"], n[a ",resolved"],
             n[a ",firing"] - n[a ",resolved"]
    }
  }' "$dir/alerts.csv" | sort |
  awk 'BEGIN { printf "%-14s %-9s %7s %9s %14s\n", "alert", "severity", "fired", "resolved",
               "still firing" } { print }'
echo "  server outages and slow servers:"
awk -F, 'NR > 1 && ($2 == "server_down" || $2 == "slow_server") && $3 == "firing" {
    printf "    %s  %-12s %s\n", $1, $2, $5 }' "$dir/alerts.csv" | awk 'NR <= 12'

section "Anomalous hourly peaks (anomalies.csv, highest scores)"
sort -t, -k7,7gr <(tail -n +2 "$dir/anomalies.csv") | awk 'NR <= 8' |
  awk -F, 'BEGIN { printf "%-24s %-7s %-20s %7s %9s %6s\n", "hour", "server", "feature",
                          "peak%", "expected%", "score" }
           { printf "%-24s %-7s %-20s %6.0f%% %8.0f%% %6.1f\n", $1, $2, $3, 100 * $4, 100 * $5, $7 }'

section "Cost per department and month (daily_cost.csv; budget alerts from alerts.jsonl)"
{ grep '"stream":"cost.budget"' "$dir/alerts.jsonl" || true; } |  # none: no department near budget
  sed -E 's/.*"cost_center":"([^"]*)","month":"([^"]*)","alert_at":([0-9.]+).*/\2 \1 \3/' |
  awk '{ if ($3 > reached[$1 " " $2]) reached[$1 " " $2] = $3 }
       END { for (k in reached) print k, reached[k] }' > "$dir/.budget_reached"
awk -F, 'NR == FNR { reached[$1 " " $2] = $3; next }
  FNR > 1 { key = substr($1, 1, 7) " " $2; cost[key] += $4; sessions[key] += $5 }
  END {
    for (k in cost) {
      split(k, p, " ")
      r = (k in reached) ? sprintf("%.0f%%", 100 * reached[k]) : "-"
      printf "%-8s %-12s %12.0f %9d %14s\n", p[1], p[2], cost[k], sessions[k], r
    }
  }' FS=' ' "$dir/.budget_reached" FS=, "$dir/daily_cost.csv" | sort |
  awk 'BEGIN { printf "%-8s %-12s %12s %9s %14s\n", "month", "cost center", "cost", "sessions",
               "budget alert" } { print }'
rm -f "$dir/.budget_reached"

section "Users holding licenses longest (user_days.csv)"
awk -F, 'NR > 1 { key = $2 " " $3; held[key] += $5; sessions[key] += $4 }
  END { for (u in held) printf "%-22s %9.1f %9d\n", u, held[u] / 3600, sessions[u] }' \
  "$dir/user_days.csv" | sort -k3,3nr | awk 'NR <= 8' |
  awk 'BEGIN { printf "%-22s %9s %9s\n", "user group", "hours", "sessions" } { print }'

section "Outputs in $dir"
wc -l "$dir"/*.jsonl "$dir"/*.csv 2>/dev/null | sed 's/^/  /'
