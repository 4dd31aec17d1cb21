#include "engine/sources/log_format.h"

#include <date/tz.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "engine/event_parser.h"
#include "engine/json_writer.h"
#include "engine/sources/flexlm_format.h"
#include "engine/sources/rlm_format.h"

namespace licflow {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Digits only, at most 9 of them (no overflow), at least one.
std::optional<int64_t> parse_digits(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') return false;
  }
  return true;
}

}  // namespace

std::optional<int32_t> parse_utc_offset(std::string_view text) {
  if (text == "UTC" || text == "Z") return 0;
  if (text.size() < 3 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  const int sign = text[0] == '-' ? -1 : 1;
  std::string_view rest = text.substr(1);
  std::optional<int64_t> hours, minutes = 0;
  if (rest.size() == 2) {
    hours = parse_digits(rest);
  } else if (rest.size() == 4) {
    hours = parse_digits(rest.substr(0, 2));
    minutes = parse_digits(rest.substr(2));
  } else if (rest.size() == 5 && rest[2] == ':') {
    hours = parse_digits(rest.substr(0, 2));
    minutes = parse_digits(rest.substr(3));
  }
  if (!hours || !minutes || *hours > 14 || *minutes > 59) return std::nullopt;
  return static_cast<int32_t>(sign * (*hours * 60 + *minutes));
}

const date::time_zone* find_time_zone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {  // not in the database, or no database
    return nullptr;
  }
}

std::optional<int64_t> days_from_date(int64_t y, int64_t m, int64_t d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1) return std::nullopt;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = y / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<int64_t> parse_month_day_year(std::string_view text) {
  size_t a = text.find('/');
  size_t b = a == std::string_view::npos ? a : text.find('/', a + 1);
  if (b == std::string_view::npos || text.size() - b - 1 != 4 || a > 2 || b - a - 1 > 2) {
    return std::nullopt;
  }
  auto m = parse_digits(text.substr(0, a));
  auto d = parse_digits(text.substr(a + 1, b - a - 1));
  auto y = parse_digits(text.substr(b + 1));
  if (!m || !d || !y) return std::nullopt;
  return days_from_date(*y, *m, *d);
}

std::optional<int64_t> parse_time_of_day(std::string_view text) {
  size_t c1 = text.find(':');
  if (c1 == std::string_view::npos || c1 == 0 || c1 > 2) return std::nullopt;
  auto h = parse_digits(text.substr(0, c1));
  std::string_view rest = text.substr(c1 + 1);
  if (rest.size() < 2) return std::nullopt;
  auto m = parse_digits(rest.substr(0, 2));
  int64_t s = 0, ms = 0;
  rest.remove_prefix(2);
  if (!rest.empty()) {
    if (rest[0] != ':' || rest.size() < 3) return std::nullopt;
    auto sec = parse_digits(rest.substr(1, 2));
    if (!sec) return std::nullopt;
    s = *sec;
    rest.remove_prefix(3);
    if (!rest.empty()) {
      if (rest[0] != '.' || rest.size() < 2) return std::nullopt;
      std::string_view frac = rest.substr(1);
      for (char c : frac) {
        if (!is_digit(c)) return std::nullopt;
      }
      for (size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < frac.size() ? frac[i] - '0' : 0);
    }
  }
  if (!h || !m || *h > 23 || *m > 59 || s > 59) return std::nullopt;
  return ((*h * 60 + *m) * 60 + s) * 1000 + ms;
}

void LogClock::set_date(int64_t days, int64_t time_of_day_ms) {
  if (has_date_ && days == days_) {
    // The current date again (a periodic timestamp, a dated record): only the hour daylight
    // saving time repeats needs care. Going back by at most an hour into it is its second pass,
    // as in observe(); the clock stays there until past that hour.
    if (time_of_day_ms < last_time_ && last_time_ - time_of_day_ms <= kHourMs &&
        occurs_twice(time_of_day_ms)) {
      second_pass_ = true;
    } else if (!occurs_twice(time_of_day_ms)) {
      second_pass_ = false;
    }
    last_time_ = time_of_day_ms;
    return;
  }
  has_date_ = true;
  days_ = days;
  last_time_ = time_of_day_ms;
  second_pass_ = false;
}

int64_t LogClock::ts(int64_t time_of_day_ms) const {
  const int64_t local = days_ * 86'400'000 + time_of_day_ms;
  if (zone_ == nullptr) return local - offset_ms_;
  const date::local_time<std::chrono::milliseconds> at{std::chrono::milliseconds{local}};
  const auto choose = second_pass_ ? date::choose::latest : date::choose::earliest;
  return zone_->to_sys(at, choose).time_since_epoch().count();
}

bool LogClock::occurs_twice(int64_t time_of_day_ms) const {
  if (zone_ == nullptr) return false;
  const date::local_seconds at{std::chrono::seconds{(days_ * 86'400'000 + time_of_day_ms) / 1000}};
  return zone_->get_info(at).result == date::local_info::ambiguous;
}

std::optional<int64_t> LogClock::observe(int64_t time_of_day_ms) {
  if (has_date_ && time_of_day_ms < last_time_) {
    if (!second_pass_ && last_time_ - time_of_day_ms <= kHourMs &&
        occurs_twice(time_of_day_ms)) {
      second_pass_ = true;  // daylight saving time ended: the same hour again
    } else {
      ++days_;
      second_pass_ = false;
    }
  } else if (second_pass_ && !occurs_twice(time_of_day_ms)) {
    second_pass_ = false;  // past the repeated hour
  }
  last_time_ = time_of_day_ms;
  if (!has_date_) return std::nullopt;
  return ts(time_of_day_ms);
}

std::optional<int64_t> LogClock::at_month_day(int64_t month, int64_t day, int64_t time_of_day_ms) {
  if (!has_date_) return std::nullopt;
  // The year of the current date: days_ -> civil year (inverse of days_from_date, year only).
  const int64_t z = days_ + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t year = yoe + era * 400 + (mp >= 10 ? 1 : 0);
  auto days = days_from_date(year, month, day);
  if (days && *days < days_ - 183) days = days_from_date(year + 1, month, day);
  if (!days) return std::nullopt;
  set_date(*days, time_of_day_ms);
  return ts(time_of_day_ms);
}

EventWriter::EventWriter(std::string& out, int64_t ts, std::string_view type,
                         std::string_view server)
    : out_(out) {
  out_ += "{\"ts\":";
  out_ += std::to_string(ts);
  out_ += ",\"type\":";
  append_json_string(out_, type);
  out_ += ",\"server\":";
  append_json_string(out_, server);
}

EventWriter& EventWriter::field(std::string_view key, std::string_view value) {
  if (value.empty()) return *this;
  out_.push_back(',');
  append_json_string(out_, key);
  out_.push_back(':');
  append_json_string(out_, value);
  return *this;
}

EventWriter& EventWriter::field(std::string_view key, int64_t value) {
  out_.push_back(',');
  append_json_string(out_, key);
  out_.push_back(':');
  out_ += std::to_string(value);
  return *this;
}

ChunkTranslator::ChunkTranslator(std::unique_ptr<LogTranslator> translator, std::string format_name)
    : translator_(std::move(translator)), format_name_(std::move(format_name)) {}

void ChunkTranslator::translate(RawChunk& chunk) {
  std::string out;
  out.reserve(chunk.size * 2 + kParsePadding);
  std::vector<RawDeadLetter> dead;
  std::vector<uint64_t> numbers;  // per event line, its log line
  auto pre = chunk.dead_letters.begin();
  auto keep_pre_until = [&](uint64_t line) {  // the reader's own dead letters, in line order
    for (; pre != chunk.dead_letters.end() && pre->line <= line; ++pre) {
      if (pre->line >= replay_until_) dead.push_back(std::move(*pre));
    }
  };
  std::string error;
  const char* data = chunk.bytes.data();
  uint64_t line = chunk.first_line;
  for (size_t pos = 0; pos < chunk.size; ++line) {
    const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', chunk.size - pos));
    const size_t end = static_cast<size_t>(nl - data);
    std::string_view text(data + pos, end - pos);
    pos = end + 1;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    keep_pre_until(line);
    if (is_blank(text)) continue;
    const bool replaying = line < replay_until_;
    LineKind kind;
    if (!simdjson::validate_utf8(text.data(), text.size())) {
      kind = LineKind::kDeadLetter;
      error = format_name_ + ": invalid UTF-8";
    } else {
      const size_t mark = out.size();
      kind = translator_->translate(text, out, error);
      if (replaying) {
        out.resize(mark);
      } else {
        const auto events = std::count(out.begin() + static_cast<ptrdiff_t>(mark), out.end(), '\n');
        numbers.insert(numbers.end(), static_cast<size_t>(events), line);
      }
    }
    if (replaying) continue;
    switch (kind) {
      case LineKind::kEvents:
        ++event_lines_;
        break;
      case LineKind::kSkipped:
        ++skipped_;
        ++chunk.skipped_lines;
        break;
      case LineKind::kDeadLetter:
        ++dead_letters_;
        dead.push_back({line, error, std::string(text.substr(0, 512))});
        break;
    }
  }
  keep_pre_until(UINT64_MAX);
  chunk.size = out.size();
  out.append(kParsePadding, '\0');
  chunk.bytes = std::move(out);
  chunk.dead_letters = std::move(dead);
  chunk.line_numbers = std::move(numbers);
}

void ChunkTranslator::log_summary(const std::string& source_id) const {
  spdlog::info(
      "source `{}` ({} log): {} lines with events, {} lines skipped (not license events), "
      "{} unreadable",
      source_id, format_name_, event_lines_, skipped_, dead_letters_);
}

std::unique_ptr<ChunkTranslator> make_chunk_translator(const SourceFormat& format) {
  std::unique_ptr<LogTranslator> t;
  if (format.name == "flexlm") {
    t = make_flexlm_translator(format);
  } else if (format.name == "rlm") {
    t = make_rlm_translator(format);
  } else {
    return nullptr;
  }
  return std::make_unique<ChunkTranslator>(std::move(t), format.name);
}

}  // namespace licflow
