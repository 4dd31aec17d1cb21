// Tests for SPEC §1 RFC 3339 input times and SPEC §2 RFC 3339 UTC millisecond output.
#include "engine/time_format.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

namespace licflow {
namespace {

constexpr int64_t kDay = 86'400'000;

// Reference from the standard library's C++20 calendar, independent of time_format.cpp.
int64_t chrono_ms(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  const sys_days days{year{y} / month{m} / day{d}};
  return static_cast<int64_t>(days.time_since_epoch().count()) * kDay;
}

}  // namespace

TEST_CASE("parse_rfc3339 accepts the separators and zones of SPEC §1", "[time][spec-1]") {
  const int64_t base = chrono_ms(2026, 11, 27) + (9 * 3600 + 15 * 60) * 1000;
  CHECK(parse_rfc3339("2026-11-27T09:15:00Z") == base);
  CHECK(parse_rfc3339("2026-11-27t09:15:00z") == base);
  CHECK(parse_rfc3339("2026-11-27 09:15:00Z") == base);
  CHECK(parse_rfc3339("2026-11-27T11:15:00+02:00") == base);
  CHECK(parse_rfc3339("2026-11-27T03:45:00-05:30") == base);
  CHECK(parse_rfc3339("2026-11-27T09:15:00+00:00") == base);
  CHECK(parse_rfc3339("2026-11-27T09:15:00-00:00") == base);
  CHECK(parse_rfc3339("2026-11-28T09:14:00+23:59") == base);
}

TEST_CASE("parse_rfc3339 truncates fraction digits to milliseconds", "[time][spec-1]") {
  const int64_t base = chrono_ms(2026, 1, 2);
  CHECK(parse_rfc3339("2026-01-02T00:00:00.1Z") == base + 100);
  CHECK(parse_rfc3339("2026-01-02T00:00:00.12Z") == base + 120);
  CHECK(parse_rfc3339("2026-01-02T00:00:00.123Z") == base + 123);
  CHECK(parse_rfc3339("2026-01-02T00:00:00.1239Z") == base + 123);
  CHECK(parse_rfc3339("2026-01-02T00:00:00.999999999Z") == base + 999);
  CHECK(parse_rfc3339("2026-01-02T00:00:00.00099999999999999Z") == base);
  CHECK(parse_rfc3339("2026-01-02T00:00:00.5+01:00") == base - 3'600'000 + 500);
}

TEST_CASE("parse_rfc3339 handles times before 1970", "[time][spec-1]") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("1969-12-31T23:59:59.999Z") == -1);
  CHECK(parse_rfc3339("1969-12-31T23:59:59Z") == -1000);
  CHECK(parse_rfc3339("1900-01-01T00:00:00Z") == chrono_ms(1900, 1, 1));
  CHECK(parse_rfc3339("0000-01-01T00:00:00Z") == chrono_ms(0, 1, 1));
  CHECK(parse_rfc3339("9999-12-31T23:59:59.999Z") == chrono_ms(10000, 1, 1) - 1);
}

TEST_CASE("parse_rfc3339 knows month lengths and leap years", "[time][spec-1]") {
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z") == chrono_ms(2024, 2, 29));
  CHECK(parse_rfc3339("2000-02-29T00:00:00Z") == chrono_ms(2000, 2, 29));
  CHECK_FALSE(parse_rfc3339("2023-02-29T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("1900-02-29T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-02-30T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-04-31T00:00:00Z"));
  CHECK(parse_rfc3339("2026-12-31T00:00:00Z") == chrono_ms(2026, 12, 31));
  CHECK_FALSE(parse_rfc3339("2026-12-32T00:00:00Z"));
}

TEST_CASE("parse_rfc3339 rejects malformed text", "[time][spec-1]") {
  for (const char* bad : {
           "",
           "2026-11-27",
           "2026-11-27T09:15:00",     // zone is mandatory
           "2026-11-27T09:15Z",       // seconds are mandatory
           "2026-13-01T00:00:00Z",    // month 13
           "2026-00-01T00:00:00Z",    // month 0
           "2026-01-00T00:00:00Z",    // day 0
           "2026-01-01T24:00:00Z",    // hour 24
           "2026-01-01T00:60:00Z",    // minute 60
           "2026-12-31T23:59:60Z",    // leap second: rejected, see time_format.cpp
           "2026-01-01T00:00:00.Z",   // fraction needs a digit
           "2026-01-01T00:00:00,5Z",  // comma fraction is ISO 8601, not RFC 3339
           "2026-01-01T00:00:00+02",  // offset needs minutes
           "2026-01-01T00:00:00+0200",
           "2026-01-01T00:00:00+24:00",
           "2026-01-01T00:00:00+02:60",
           "2026-01-01T00:00:00ZZ",
           "2026-01-01T00:00:00Z ",
           " 2026-01-01T00:00:00Z",
           "2026-01-01_00:00:00Z",
           "2026-1-01T00:00:00Z",
           "26-01-01T00:00:00Z",
           "+2026-01-01T00:00:00Z",
           "2026-01-01T00:00:00UTC",
           "2026-01-01T00:00:00.123+02:00x",
       }) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad));
  }
}

TEST_CASE("format_rfc3339 writes UTC with milliseconds", "[time][spec-2]") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(chrono_ms(2026, 11, 27) + (9 * 3600 + 15 * 60) * 1000) ==
        "2026-11-27T09:15:00.000Z");
  CHECK(format_rfc3339(1) == "1970-01-01T00:00:00.001Z");
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(-1000) == "1969-12-31T23:59:59.000Z");
  CHECK(format_rfc3339(-kDay) == "1969-12-31T00:00:00.000Z");
  CHECK(format_rfc3339(chrono_ms(2024, 2, 29) + 86'399'999) == "2024-02-29T23:59:59.999Z");
  CHECK(format_rfc3339(chrono_ms(0, 1, 1)) == "0000-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(chrono_ms(-1, 12, 31)) == "-0001-12-31T00:00:00.000Z");
  CHECK(format_rfc3339(chrono_ms(10000, 1, 1)) == "10000-01-01T00:00:00.000Z");

  std::string s = "x";
  append_rfc3339(s, 123);
  CHECK(s == "x1970-01-01T00:00:00.123Z");
}

TEST_CASE("format_rfc3339 survives the int64 extremes", "[time][spec-2]") {
  // Nonsense years, but no overflow and a well-formed tail.
  const std::string lo = format_rfc3339(std::numeric_limits<int64_t>::min());
  const std::string hi = format_rfc3339(std::numeric_limits<int64_t>::max());
  CHECK(lo.front() == '-');
  CHECK(lo.back() == 'Z');
  CHECK(hi.back() == 'Z');
  CHECK(hi.substr(hi.size() - 5) == ".807Z");
}

TEST_CASE("format then parse round-trips, and agrees with std::chrono", "[time][spec-1][spec-2]") {
  std::mt19937_64 rng(20261127);
  // Years 1653..2286: both signs of the epoch, many leap days.
  std::uniform_int_distribution<int64_t> dist(-10'000'000'000'000, 10'000'000'000'000);
  for (int i = 0; i < 20000; ++i) {
    const int64_t ms = dist(rng);
    const std::string text = format_rfc3339(ms);
    INFO(ms << " " << text);
    REQUIRE(parse_rfc3339(text) == ms);

    using namespace std::chrono;
    const sys_days days = floor<std::chrono::days>(sys_time<milliseconds>(milliseconds(ms)));
    const year_month_day ymd(days);
    char want[16];
    std::snprintf(want, sizeof want, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    REQUIRE(text.substr(0, 10) == want);
  }
}

}  // namespace licflow
