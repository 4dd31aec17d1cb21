// SPEC §2 durations: parse_duration and format_duration.
#include "config/duration.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

namespace licflow {
namespace {

int64_t parse_ok(const std::string& text) {
  std::string error;
  auto ms = parse_duration(text, &error);
  INFO("duration: '" << text << "'  error: " << error);
  REQUIRE(ms.has_value());
  return *ms;
}

std::string parse_fails(const std::string& text) {
  std::string error;
  auto ms = parse_duration(text, &error);
  INFO("duration: '" << text << "'");
  CHECK_FALSE(ms.has_value());
  CHECK_FALSE(error.empty());
  return error;
}

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;

}  // namespace

TEST_CASE("single units", "[duration][spec-2]") {
  CHECK(parse_ok("250ms") == 250);
  CHECK(parse_ok("5s") == 5 * kSecond);
  CHECK(parse_ok("15m") == 15 * kMinute);
  CHECK(parse_ok("2h") == 2 * kHour);
  CHECK(parse_ok("1d") == kDay);
  CHECK(parse_ok("1w") == kWeek);
  CHECK(parse_ok("0s") == 0);
  CHECK(parse_ok("0ms") == 0);
  CHECK(parse_ok("90m") == 90 * kMinute);  // amounts are not limited to the next unit
  CHECK(parse_ok("1000ms") == kSecond);
  CHECK(parse_ok("007s") == 7 * kSecond);
}

TEST_CASE("chains, largest unit first", "[duration][spec-2]") {
  CHECK(parse_ok("1h30m") == kHour + 30 * kMinute);
  CHECK(parse_ok("1m30s500ms") == kMinute + 30 * kSecond + 500);
  CHECK(parse_ok("1w2d3h4m5s6ms") == kWeek + 2 * kDay + 3 * kHour + 4 * kMinute + 5 * kSecond + 6);
  CHECK(parse_ok("1d12h") == kDay + 12 * kHour);
  CHECK(parse_ok("1h0m") == kHour);
  CHECK(parse_ok("1s1ms") == 1001);
  CHECK(parse_ok("0") == 0);  // zero alone needs no unit
}

TEST_CASE("rejected durations", "[duration][spec-2]") {
  CHECK(parse_fails("").find("empty") != std::string::npos);
  CHECK(parse_fails("5").find("missing unit") != std::string::npos);
  CHECK(parse_fails("00").find("missing unit") != std::string::npos);
  CHECK(parse_fails("1h30").find("missing unit") != std::string::npos);
  CHECK(parse_fails("5x").find("unknown unit 'x'") != std::string::npos);
  CHECK(parse_fails("5sec").find("unknown unit 'sec'") != std::string::npos);
  CHECK(parse_fails("5S").find("unknown unit 'S'") != std::string::npos);
  CHECK(parse_fails("5us").find("unknown unit") != std::string::npos);
  CHECK(parse_fails("-5s").find("negative") != std::string::npos);
  CHECK(parse_fails("1.5h").find("fraction") != std::string::npos);
  CHECK(parse_fails("s").find("expected a number") != std::string::npos);
  CHECK(parse_fails("h1").find("expected a number") != std::string::npos);
  CHECK(parse_fails(" 5s").find("spaces") != std::string::npos);
  CHECK(parse_fails("5s ").find("spaces") != std::string::npos);
  CHECK(parse_fails("1h 30m").find("spaces") != std::string::npos);
  CHECK(parse_fails("5 sec").find("spaces") != std::string::npos);
  CHECK(parse_fails("1h-5m").find("negative") != std::string::npos);
  CHECK(parse_fails("1,5h").find("fraction") != std::string::npos);
  CHECK(parse_fails("+5s").find("expected a number") != std::string::npos);
}

TEST_CASE("units out of order or repeated are rejected (our choice)", "[duration][spec-2]") {
  CHECK(parse_fails("30m1h").find("largest to smallest") != std::string::npos);
  CHECK(parse_fails("500ms1s").find("largest to smallest") != std::string::npos);
  CHECK(parse_fails("1h1h").find("repeated") != std::string::npos);
  CHECK(parse_fails("1m30s1m").find("largest to smallest") != std::string::npos);
  CHECK(parse_fails("1s1s").find("repeated") != std::string::npos);
}

TEST_CASE("overflow is rejected", "[duration][spec-2]") {
  // At most the span of event times, 10000 years: event times plus durations cannot overflow.
  CHECK(parse_ok("315569520000000ms") == kMaxDurationMs);
  CHECK(parse_ok("3652425d") == kMaxDurationMs);
  CHECK(parse_fails("315569520000001ms").find("too large") != std::string::npos);
  CHECK(parse_fails("521776w").find("too large") != std::string::npos);
  CHECK(parse_fails("9223372036854775807ms").find("too large") != std::string::npos);
  CHECK(parse_fails("9223372036854775808ms").find("too large") != std::string::npos);
  CHECK(parse_fails("99999999999999999999999s").find("too large") != std::string::npos);
  CHECK(parse_fails("9223372036854776s").find("too large") != std::string::npos);
  CHECK(parse_fails("15250284453w").find("too large") != std::string::npos);
  // Each part fits but the sum does not.
  CHECK(parse_fails("15250w9223372036854775807ms").find("too large") != std::string::npos);
}

TEST_CASE("a null error pointer is allowed", "[duration][spec-2]") {
  CHECK(parse_duration("5s", nullptr) == 5000);
  CHECK_FALSE(parse_duration("5", nullptr).has_value());
}

TEST_CASE("format_duration writes the canonical chain", "[duration][spec-2]") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(5400000) == "1h30m");
  CHECK(format_duration(250) == "250ms");
  CHECK(format_duration(1500) == "1s500ms");
  CHECK(format_duration(kMinute + 30 * kSecond + 500) == "1m30s500ms");
  CHECK(format_duration(kHour) == "1h");
  CHECK(format_duration(kDay) == "1d");
  CHECK(format_duration(kWeek) == "1w");
  CHECK(format_duration(8 * kDay) == "1w1d");
  CHECK(format_duration(kDay + 1) == "1d1ms");
  CHECK(format_duration(-1500) == "-1s500ms");
  CHECK(format_duration(std::numeric_limits<int64_t>::min()).front() == '-');
}

TEST_CASE("format then parse round-trips", "[duration][spec-2]") {
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{1000}, int64_t{61001}, kHour + 1,
                     kWeek * 3 + kDay * 6 + kHour * 23 + kMinute * 59 + 59999,
                     kMaxDurationMs, kMaxDurationMs - 1}) {
    INFO(ms);
    CHECK(parse_ok(format_duration(ms)) == ms);
  }
}

}  // namespace licflow
