// Event-time text forms (SPEC §1, §2): RFC 3339 input, RFC 3339 UTC millisecond output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace licflow {

// The instants an RFC 3339 timestamp can name in UTC: years 0000 to 9999. Events outside them
// are dead letters (engine/event_parser.cpp), so an event's time prints as RFC 3339, and, with
// durations bounded as well (config/duration.h), time arithmetic stays far from int64 overflow.
inline constexpr int64_t kEarliestEventTime = -62167219200000;  // 0000-01-01T00:00:00.000Z
inline constexpr int64_t kLatestEventTime = 253402300799999;    // 9999-12-31T23:59:59.999Z

// Parses RFC 3339: `YYYY-MM-DD(T|t| )hh:mm:ss[.frac](Z|z|±hh:mm)`; fraction digits beyond
// milliseconds are truncated. Returns ms since the epoch, or nullopt when malformed.
std::optional<int64_t> parse_rfc3339(std::string_view text);

// Formats ms since the epoch as `2026-11-27T09:15:00.000Z`.
std::string format_rfc3339(int64_t ms);
void append_rfc3339(std::string& out, int64_t ms);
// Room for what write_rfc3339 writes: at most a sign and 9 year digits (a year beyond 0000..9999,
// of a time derived from an event's, keeps every digit; int64 milliseconds span ±292 million
// years), then 20 bytes of `-MM-DDThh:mm:ss.sssZ`.
inline constexpr size_t kMaxRfc3339Bytes = 32;
// Writes at `out`, which has room for kMaxRfc3339Bytes; returns the end of what it wrote.
char* write_rfc3339(char* out, int64_t ms);

}  // namespace licflow
