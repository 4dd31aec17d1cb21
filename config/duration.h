// Durations as written in pipeline files (SPEC §2): `250ms`, `5s`, `15m`, `2h`, `1d`, `1w` and
// chains such as `1h30m`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace licflow {

// Returns the duration in milliseconds, or nullopt with a message in `*error` (when non-null).
// Amounts are non-negative decimal integers; each unit may appear once, largest first.
std::optional<int64_t> parse_duration(std::string_view text, std::string* error);

// The canonical chained form, largest unit first with zero parts omitted: 5400000 -> "1h30m",
// 1500 -> "1s500ms", 0 -> "0s". parse_duration(format_duration(x)) == x for every x >= 0.
std::string format_duration(int64_t ms);

}  // namespace licflow
