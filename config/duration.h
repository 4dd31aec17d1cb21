// Durations as written in pipeline files (SPEC §2): `250ms`, `5s`, `15m`, `2h`, `1d`, `1w` and
// chains such as `1h30m`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace licflow {

// The longest duration: the span of the event times (years 0000 to 9999, engine/time_format.h),
// so that event times plus a few durations stay far from int64 overflow.
inline constexpr int64_t kMaxDurationMs = 315569520000000;  // 10000 years of 365.2425 days

// Returns the duration in milliseconds, or nullopt with a message in `*error` (when non-null).
// Amounts are non-negative decimal integers; each unit may appear once, largest first; the
// total is at most kMaxDurationMs.
std::optional<int64_t> parse_duration(std::string_view text, std::string* error);

// The canonical chained form, largest unit first with zero parts omitted: 5400000 -> "1h30m",
// 1500 -> "1s500ms", 0 -> "0s". parse_duration(format_duration(x)) == x for every x in
// [0, kMaxDurationMs].
std::string format_duration(int64_t ms);

}  // namespace licflow
