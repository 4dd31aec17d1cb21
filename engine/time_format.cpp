// Event-time text forms: SPEC §1 RFC 3339 `ts` input and SPEC §2 RFC 3339 UTC millisecond output.
#include "engine/time_format.h"

#include <charconv>

namespace licflow {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

// Howard Hinnant's days_from_civil: proleptic Gregorian date -> days since 1970-01-01. Pure
// integer arithmetic, so it is locale- and time-zone-free and works before 1970.
constexpr int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year;
  int month;
  int day;
};

// Inverse of days_from_civil (also Hinnant's).
constexpr Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (m <= 2), static_cast<int>(m), static_cast<int>(d)};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(-1).year == 1969 && civil_from_days(-1).day == 31);

constexpr bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int days_in_month(int64_t y, int m) {
  constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` ASCII digits at `p`; false if any is not a digit.
inline bool read_digits(const char* p, int n, int& out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!is_digit(p[i])) return false;
    v = v * 10 + (p[i] - '0');
  }
  out = v;
  return true;
}

inline void put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

constexpr int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

std::optional<int64_t> parse_rfc3339(std::string_view text) {
  // Fixed part: "YYYY-MM-DDThh:mm:ss" is 19 bytes; the shortest zone ("Z") makes 20.
  if (text.size() < 20) return std::nullopt;
  const char* p = text.data();
  int year, month, day, hour, minute, second;
  if (!read_digits(p, 4, year) || p[4] != '-' || !read_digits(p + 5, 2, month) || p[7] != '-' ||
      !read_digits(p + 8, 2, day)) {
    return std::nullopt;
  }
  if (p[10] != 'T' && p[10] != 't' && p[10] != ' ') return std::nullopt;
  if (!read_digits(p + 11, 2, hour) || p[13] != ':' || !read_digits(p + 14, 2, minute) ||
      p[16] != ':' || !read_digits(p + 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  // RFC 3339 allows second 60 for a leap second, but epoch milliseconds cannot represent one and
  // most readers (Python, Java, chrono) reject it, so it is invalid here rather than silently
  // shifted onto the next second.
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;

  size_t i = 19;
  const size_t n = text.size();
  int64_t frac_ms = 0;
  if (p[i] == '.') {
    ++i;
    const size_t first = i;
    while (i < n && is_digit(p[i])) {
      // Truncate (not round) beyond milliseconds, as SPEC §1 says.
      if (i - first < 3) frac_ms = frac_ms * 10 + (p[i] - '0');
      ++i;
    }
    const size_t digits = i - first;
    if (digits == 0) return std::nullopt;
    for (size_t k = digits; k < 3; ++k) frac_ms *= 10;
  }

  if (i >= n) return std::nullopt;  // the zone is mandatory
  int64_t offset_ms = 0;
  if (p[i] == 'Z' || p[i] == 'z') {
    ++i;
  } else if (p[i] == '+' || p[i] == '-') {
    int oh, om;
    if (n - i != 6 || !read_digits(p + i + 1, 2, oh) || p[i + 3] != ':' ||
        !read_digits(p + i + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_ms = (oh * kMsPerHour + om * kMsPerMinute) * (p[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != n) return std::nullopt;

  const int64_t days = days_from_civil(year, month, day);
  // Local time minus its offset is UTC (`+02:00` is two hours ahead of UTC).
  return days * kMsPerDay + hour * kMsPerHour + minute * kMsPerMinute + second * kMsPerSecond +
         frac_ms - offset_ms;
}

char* write_rfc3339(char* w, int64_t ms) {
  const int64_t days = floor_div(ms, kMsPerDay);
  // ms - days * kMsPerDay could overflow for extreme inputs; the remainder form cannot.
  int64_t ms_of_day = ms % kMsPerDay;
  if (ms_of_day < 0) ms_of_day += kMsPerDay;
  const Civil c = civil_from_days(days);

  // Years outside 0000..9999 (event times cannot be, but a time derived from one can: the end
  // of a window closing after 9999-12-31) keep all their digits and a sign, ISO 8601
  // "expanded" style, rather than wrapping.
  if (c.year >= 0 && c.year <= 9999) {
    const int y = static_cast<int>(c.year);
    put2(w, y / 100);
    put2(w + 2, y % 100);
    w += 4;
  } else {
    uint64_t mag = c.year < 0 ? 0 - static_cast<uint64_t>(c.year) : static_cast<uint64_t>(c.year);
    if (c.year < 0) *w++ = '-';
    char digits[24];
    auto r = std::to_chars(digits, digits + sizeof digits, mag);
    for (ptrdiff_t k = r.ptr - digits; k < 4; ++k) *w++ = '0';
    for (const char* d = digits; d < r.ptr; ++d) *w++ = *d;
  }
  const int msd = static_cast<int>(ms_of_day);
  const int millis = msd % 1000;
  const int secs = msd / 1000;
  w[0] = '-';
  put2(w + 1, c.month);
  w[3] = '-';
  put2(w + 4, c.day);
  w[6] = 'T';
  put2(w + 7, secs / 3600);
  w[9] = ':';
  put2(w + 10, secs / 60 % 60);
  w[12] = ':';
  put2(w + 13, secs % 60);
  w[15] = '.';
  w[16] = static_cast<char>('0' + millis / 100);
  put2(w + 17, millis % 100);
  w[19] = 'Z';
  return w + 20;
}

void append_rfc3339(std::string& out, int64_t ms) {
  char buf[kMaxRfc3339Bytes];
  out.append(buf, static_cast<size_t>(write_rfc3339(buf, ms) - buf));
}

std::string format_rfc3339(int64_t ms) {
  std::string out;
  out.reserve(24);
  append_rfc3339(out, ms);
  return out;
}

}  // namespace licflow
