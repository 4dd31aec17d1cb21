// Synthetic license telemetry for `licflow generate` (SPEC §8): a seeded discrete-event simulation
// of users, license servers and features, written as JSON Lines events (SPEC §1).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace licflow {

struct GeneratorOptions {
  uint64_t seed = 1;
  int users = 200;
  int features = 24;
  int servers = 3;
  int days = 7;
  int64_t start_ms = 1793577600000;  // 2026-11-02T00:00:00Z, a Monday
  // Largest event-time disorder in the output: every line's ts is at most this far behind the
  // largest ts written before it. 0 writes lines in ts order.
  int64_t out_of_order_ms = 0;
  // Mixes in ~0.5% dead-letter lines of every kind SPEC §1 names (except lines over 1 MiB), plus
  // blank and CRLF-terminated lines. The valid lines are exactly those written without faults.
  bool faults = false;
};

// Writes the events to `out` in chunks of about 1 MiB (each chunk ends with a newline) and
// returns the number of lines written, bad and blank lines included. The output depends only on
// `options`. Counts below 1 (users, features, servers, days) are treated as 1.
uint64_t generate_events(const GeneratorOptions& options,
                         const std::function<void(std::string_view)>& out);

}  // namespace licflow
