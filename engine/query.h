// `licflow query` (SPEC §8): reads what history sinks stored (engine/history/history_store.h).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/history/history_store.h"
#include "engine/status.h"

namespace licflow {

enum class QueryFormat { kJsonl, kCsv, kTable };

struct QueryOptions {
  std::string state_dir;
  std::string stream;
  // --key f=v: the field's value equals v — a string compared as is, anything else (number,
  // bool, null, object) by its JSON text, so `count=2` matches 2 but not 2.0.
  std::vector<std::pair<std::string, std::string>> keys;
  int64_t from = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t to = std::numeric_limits<int64_t>::max();    // exclusive
  QueryFormat format = QueryFormat::kJsonl;
  std::optional<uint64_t> limit;
  HistoryClock clock = wall_clock_ms;  // "now" of retention
};

// --from / --to: RFC 3339, a date (its midnight UTC) or integer ms since the epoch.
std::optional<int64_t> parse_query_time(std::string_view text);
// `f=v`; nullopt without `=` or with an empty field name.
std::optional<std::pair<std::string, std::string>> parse_query_key(std::string_view text);

// Appends the matching records to `out` in event-time order (ties in key order), formatted.
// Fails (exit code 1) when the state dir has no history, is locked by a writer we cannot read
// beside, or is foreign or corrupt.
Status run_query(const QueryOptions& options, std::string& out);

}  // namespace licflow
