// License-server log formats (SPEC §1 `format: flexlm | rlm`): each log line becomes zero or more
// events of SPEC §1, written as JSON Lines into the chunk, so the parallel JSON parsing downstream
// is the same for every format. Translation is stateful (dates come from earlier lines), so it
// runs on the source's I/O thread, one translator per stream, in line order.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/raw_chunk.h"

namespace date {
class time_zone;
}

namespace licflow {

// How a source reads its stream: `format:`, plus `server:` and `timezone:` for the log formats.
struct SourceFormat {
  std::string name = "jsonl";
  std::string server = "default";
  // The wall clock the log's times are written in: a named zone (with its daylight saving
  // time), else a fixed offset.
  const date::time_zone* zone = nullptr;
  int32_t utc_offset_minutes = 0;
};

// `UTC`, `Z`, or a fixed offset `+01:00`, `-0530`, `+02`: minutes east of UTC.
std::optional<int32_t> parse_utc_offset(std::string_view text);
// An IANA time zone such as `Europe/Berlin`, from the system's tz database (Howard Hinnant's
// date/tz, the library std::chrono's time zones come from); null when there is none such.
const date::time_zone* find_time_zone(std::string_view name);

// Calendar helpers shared by the formats. Days are counted from 1970-01-01.
std::optional<int64_t> days_from_date(int64_t year, int64_t month, int64_t day);
// `m/d/yyyy` (FlexNet TIMESTAMP lines, RLM start records).
std::optional<int64_t> parse_month_day_year(std::string_view text);
// `H:MM`, `H:MM:SS` or `H:MM:SS.fraction` (fraction of a second, truncated to ms): ms of the day.
std::optional<int64_t> parse_time_of_day(std::string_view text);

// The date a log is at. Log lines carry a time of day, and the date comes from earlier lines:
// explicit dates set it, and a time of day earlier than the previous line's means midnight passed.
class LogClock {
 public:
  explicit LogClock(const SourceFormat& format)
      : zone_(format.zone), offset_ms_(int64_t{format.utc_offset_minutes} * 60'000) {}
  bool has_date() const { return has_date_; }
  // An explicit date with the time of its line. The current date again keeps (or enters) the
  // second pass of the hour daylight saving time repeats, as observe() does.
  void set_date(int64_t days, int64_t time_of_day_ms);
  // A line's time of day; rolls the date over when the clock went backwards. Call for every line
  // that has a time, events or not. The event time, or nullopt while no date is known. In a
  // named zone, going back by at most an hour into the hour that occurs twice on the current
  // date (daylight saving time ends) is not midnight: it is that hour's second occurrence.
  std::optional<int64_t> observe(int64_t time_of_day_ms);
  // A `mm/dd` date without a year: the year of the current date, or the next one when the date
  // would otherwise lie more than half a year back (the log crossed New Year). Sets the date.
  // nullopt while no date is known, or for an impossible date (02/30).
  std::optional<int64_t> at_month_day(int64_t month, int64_t day, int64_t time_of_day_ms);

 private:
  // Event time of the log's local time `time_of_day_ms` on the current date. In a named zone, a
  // local time that occurs twice (the hour daylight saving time ends) is taken the first time
  // (the second after the clock went back into it), and one that never occurs (the hour skipped
  // when it begins) as the instant of the jump.
  int64_t ts(int64_t time_of_day_ms) const;
  // In a named zone: `time_of_day_ms` occurs twice on the current date.
  bool occurs_twice(int64_t time_of_day_ms) const;

  static constexpr int64_t kHourMs = 3'600'000;

  const date::time_zone* zone_;
  int64_t offset_ms_;
  bool has_date_ = false;
  int64_t days_ = 0;
  int64_t last_time_ = -1;  // time of day of the previous line, ms
  bool second_pass_ = false;  // in the repeated hour, after the clock went back into it
};

// Appends one event as a JSON line: {"ts":…,"type":…,"server":…, fields…}\n. Empty string values
// are left out (a log's empty user is an absent user).
class EventWriter {
 public:
  EventWriter(std::string& out, int64_t ts, std::string_view type, std::string_view server);
  EventWriter& field(std::string_view key, std::string_view value);
  EventWriter& field(std::string_view key, int64_t value);
  void end() { out_ += "}\n"; }

 private:
  std::string& out_;
};

enum class LineKind { kEvents, kSkipped, kDeadLetter };

// Turns the lines of one stream into events. Not thread-safe: one instance per stream.
class LogTranslator {
 public:
  virtual ~LogTranslator() = default;
  // `line` is valid UTF-8, not blank, without its newline and trailing '\r'. kEvents appends one
  // or more event lines to `out`; kDeadLetter sets `error` and appends nothing.
  virtual LineKind translate(std::string_view line, std::string& out, std::string& error) = 0;
};

// Rewrites the chunks of one stream from log lines into event lines (on its I/O thread). Dead
// letters keep the original line numbers; end_offset/next_line still describe the raw stream,
// so checkpoints record positions in the log file itself.
class ChunkTranslator {
 public:
  ChunkTranslator(std::unique_ptr<LogTranslator> translator, std::string format_name);
  // Lines numbered below `line` only rebuild the translator's state and yield nothing: a log file
  // resumed from a checkpoint is re-read from its start, because its dates come from earlier lines.
  void replay_until(uint64_t line) { replay_until_ = line; }
  void translate(RawChunk& chunk);
  // Logs how many lines were translated and skipped (not license events).
  void log_summary(const std::string& source_id) const;
  uint64_t skipped() const { return skipped_; }

 private:
  std::unique_ptr<LogTranslator> translator_;
  std::string format_name_;
  uint64_t replay_until_ = 0;
  uint64_t event_lines_ = 0;
  uint64_t skipped_ = 0;
  uint64_t dead_letters_ = 0;
};

// A translator for `format` (one per stream), or nullptr for `jsonl`.
std::unique_ptr<ChunkTranslator> make_chunk_translator(const SourceFormat& format);

}  // namespace licflow
