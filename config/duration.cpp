// SPEC §2 durations: `250ms`, `5s`, `15m`, `2h`, `1d`, `1w` and chains such as `1h30m`.
#include "config/duration.h"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace licflow {
namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
};

// Largest first: the order a chain must follow and the order format_duration writes.
constexpr std::array<Unit, 6> kUnits = {{
    {"w", 7 * 24 * 3600 * 1000LL},
    {"d", 24 * 3600 * 1000LL},
    {"h", 3600 * 1000LL},
    {"m", 60 * 1000LL},
    {"s", 1000LL},
    {"ms", 1LL},
}};

constexpr std::string_view kUnitList = "ms, s, m, h, d or w";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::nullopt_t fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return std::nullopt;
}

}  // namespace

// Messages do not repeat the text: callers already print "bad duration `TEXT` for `KEY`: ".
std::optional<int64_t> parse_duration(std::string_view text, std::string* error) {
  const std::string units = " (use " + std::string(kUnitList) + ")";
  if (text.empty()) return fail(error, "empty duration");
  if (text == "0") return 0;  // zero needs no unit (as in Prometheus, Go and Flink)
  int64_t total = 0;
  // Index into kUnits of the last unit used; the next must come strictly after it.
  // SPEC §2 only shows chains largest-first (`1h30m`); rejecting `30m1h` and `1h1h` is our
  // choice, because an out-of-order or repeated unit is far more often a typo than intent.
  int last_unit = -1;
  size_t p = 0;
  while (p < text.size()) {
    if (text[p] == '-') return fail(error, "negative durations are not allowed");
    if (is_space(text[p])) return fail(error, "spaces are not allowed");
    if (!is_digit(text[p])) {
      return fail(error, "expected a number at '" + std::string(text.substr(p)) + "'");
    }
    int64_t amount = 0;
    while (p < text.size() && is_digit(text[p])) {
      int digit = text[p] - '0';
      if (amount > (std::numeric_limits<int64_t>::max() - digit) / 10) {
        return fail(error, "duration too large");
      }
      amount = amount * 10 + digit;
      ++p;
    }
    if (p < text.size() && (text[p] == '.' || text[p] == ',')) {
      return fail(error, "fractions are not allowed (write e.g. 1h30m, not 1.5h)");
    }
    if (p < text.size() && is_space(text[p])) return fail(error, "spaces are not allowed");
    size_t unit_start = p;
    while (p < text.size() && is_letter(text[p])) ++p;
    std::string_view unit = text.substr(unit_start, p - unit_start);
    if (unit.empty()) return fail(error, "missing unit after " + std::to_string(amount) + units);
    int index = -1;
    for (size_t i = 0; i < kUnits.size(); ++i) {
      if (kUnits[i].name == unit) index = static_cast<int>(i);
    }
    if (index < 0) return fail(error, "unknown unit '" + std::string(unit) + "'" + units);
    if (index == last_unit) return fail(error, "unit '" + std::string(unit) + "' repeated");
    if (index < last_unit) {
      return fail(error, "units must go from largest to smallest (w, d, h, m, s, ms)");
    }
    last_unit = index;
    int64_t part = 0;
    if (__builtin_mul_overflow(amount, kUnits[index].ms, &part) ||
        __builtin_add_overflow(total, part, &total)) {
      return fail(error, "duration too large");
    }
  }
  if (total > kMaxDurationMs) return fail(error, "duration too large (at most 10000 years)");
  return total;
}

std::string format_duration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  // Negative values never come from parse_duration; print them readably rather than wrongly.
  uint64_t rest = static_cast<uint64_t>(ms);
  if (ms < 0) {
    out += '-';
    rest = 0 - rest;
  }
  for (const Unit& unit : kUnits) {
    auto size = static_cast<uint64_t>(unit.ms);
    if (rest >= size) {
      out += std::to_string(rest / size);
      out += unit.name;
      rest %= size;
    }
  }
  return out;
}

}  // namespace licflow
