// Event-time text forms (SPEC §1, §2): RFC 3339 input, RFC 3339 UTC millisecond output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace licflow {

// Parses RFC 3339: `YYYY-MM-DD(T|t| )hh:mm:ss[.frac](Z|z|±hh:mm)`; fraction digits beyond
// milliseconds are truncated. Returns ms since the epoch, or nullopt when malformed.
std::optional<int64_t> parse_rfc3339(std::string_view text);

// Formats ms since the epoch as `2026-11-27T09:15:00.000Z`.
std::string format_rfc3339(int64_t ms);
void append_rfc3339(std::string& out, int64_t ms);

}  // namespace licflow
