// `format: rlm` (SPEC §1): the report log of a Reprise License Manager ISV server, in any of its
// three layouts (`std`, `detailed`, `small`; RLM License Administration Manual, "Reportlog File
// Format"). Records are words separated by spaces; a "quoted" word may hold spaces.
//
// Readings where SPEC is silent:
// - `OUT` -> checkout, `IN` -> checkin, `DENY` -> denied, `QUE` -> queued, `DEQUE` -> dequeued,
//   with the product as `feature`, `user`, `host`, `count`, and the server handle as `handle`
//   (so a checkin closes exactly its checkout); an OUT's `project` (std and detailed layouts)
//   as `project`. A `""` user, host or project is absent.
// - A checkin's `why` code gives `reason`: 1 (normal checkin) none, 2 `exited`, 3 `removed`,
//   4 `inactive` (timed out, as FlexNet's INACTIVE), 5 `hold_expired`, 6 `dequeued`,
//   7 `hostid_removed`, 8 `failover`, 9 `transfer_lost`, 10 `meter_empty`, 11 `heartbeat`,
//   12 `expired`, 13 `returned`; other codes `why_N`.
// - Dates: records carry `mm/dd` without a year. The year comes from the `START host mm/dd/yyyy
//   hh:mm` record, periodic `mm/dd/yyyy hh:mm` (or `TIMESTAMP mm/dd/yyyy hh:mm`) timestamps and
//   `END` records, and moves on when a date would otherwise lie more than half a year back.
//   `small` records carry only `hh:mm`: their date is the current one (the last START, timestamp
//   or dated record), moved a day on when the clock goes backwards. Times in `detailed`
//   records have a fraction of a second, truncated to ms. The zone is the source's `timezone:`.
// - `START` is a server (re)start: `server_down` then `server_up` (as FlexNet's banner);
//   `SHUTDOWN` is `server_down`.
// - `small` IN / DEQUE records name no product: the product, user and host come from the OUT / QUE
//   record with the same handle; an unknown handle makes the record a dead letter.
// - `INUSE` (licenses held when a log file starts, listed again when it ends) is a checkout when
//   its handle is not open yet, so that a license held across a log switch or before the log
//   began is counted and its IN closes it; an INUSE of an open handle is skipped.
// - A license record before any date is known is a dead letter ("no date yet"). Other record
//   types (header, PRODUCT, AUTH, …) are skipped and counted.
#include "engine/sources/rlm_format.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <unordered_map>
#include <vector>

namespace licflow {
namespace {

// Splits a record into words; a word that starts with `"` runs to the next `"` (quotes removed).
std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (true) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i == s.size()) break;
    if (s[i] == '"') {
      size_t close = s.find('"', i + 1);
      if (close == std::string_view::npos) close = s.size();
      words.push_back(s.substr(i + 1, close - i - 1));
      i = std::min(close + 1, s.size());
    } else {
      size_t end = s.find_first_of(" \t", i);
      if (end == std::string_view::npos) end = s.size();
      words.push_back(s.substr(i, end - i));
      i = end;
    }
  }
  return words;
}

std::optional<int64_t> parse_count(std::string_view s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  int64_t v = std::stoll(std::string(s));
  if (v < 1) return std::nullopt;
  return v;
}

std::string why_reason(std::string_view why) {
  static constexpr std::string_view kReasons[] = {"",
                                                  "",
                                                  "exited",
                                                  "removed",
                                                  "inactive",
                                                  "hold_expired",
                                                  "dequeued",
                                                  "hostid_removed",
                                                  "failover",
                                                  "transfer_lost",
                                                  "meter_empty",
                                                  "heartbeat",
                                                  "expired",
                                                  "returned"};
  if (why.size() <= 2 && !why.empty() &&
      why.find_first_not_of("0123456789") == std::string_view::npos) {
    size_t code = std::stoul(std::string(why));
    if (code < std::size(kReasons)) return std::string(kReasons[code]);
  }
  return "why_" + std::string(why);
}

struct Holder {
  std::string feature, user, host;
};

class RlmTranslator final : public LogTranslator {
 public:
  explicit RlmTranslator(const SourceFormat& format)
      : server_(format.server), clock_(format) {}

  LineKind translate(std::string_view line, std::string& out, std::string& error) override {
    const std::vector<std::string_view> w = split_words(line);
    const std::string_view record = w[0];
    error.clear();
    if (record == "START") return start(w, out, error);
    if (record == "END" && w.size() >= 3) return set_date(w[1], w[2], error);
    if (record.empty()) return LineKind::kSkipped;
    if (record[0] >= '0' && record[0] <= '9' && record.find('/') != std::string_view::npos) {
      return set_date(w[0], w.size() > 1 ? w[1] : "", error);  // a periodic timestamp
    }
    // The same, as some servers and tools write it.
    if (record == "TIMESTAMP" && w.size() >= 3) return set_date(w[1], w[2], error);
    if (record == "SHUTDOWN") return shutdown(w, out, error);
    if (record == "OUT") return checkout(w, out, error);
    if (record == "IN") return checkin(w, out, error);
    if (record == "DENY") return denied(w, out, error);
    if (record == "QUE") return queued(w, out, error);
    if (record == "DEQUE") return dequeued(w, out, error);
    if (record == "INUSE") return in_use(w, out, error);
    return LineKind::kSkipped;
  }

 private:
  LineKind unreadable(std::string_view record, std::string& error) {
    error = "rlm: unreadable " + std::string(record) + " record";
    return LineKind::kDeadLetter;
  }

  // `mm/dd` `time` (std, detailed) or, when `date` is empty, `time` alone (small).
  std::optional<int64_t> event_time(std::string_view date, std::string_view time,
                                    std::string_view record, std::string& error) {
    if (!clock_.has_date()) {
      error = "rlm: no date yet (no START record or timestamp before this record)";
      return std::nullopt;
    }
    auto tod = parse_time_of_day(time);
    std::optional<int64_t> ts;
    if (tod && date.empty()) {
      ts = clock_.observe(*tod);
    } else if (tod) {
      size_t slash = date.find('/');
      auto month = parse_count(date.substr(0, slash));
      auto day =
          slash == std::string_view::npos ? std::nullopt : parse_count(date.substr(slash + 1));
      if (month && day) ts = clock_.at_month_day(*month, *day, *tod);
    }
    if (!ts) error = "rlm: bad date or time in " + std::string(record) + " record";
    return ts;
  }

  LineKind set_date(std::string_view date, std::string_view time, std::string& error) {
    auto days = parse_month_day_year(date);
    auto tod = parse_time_of_day(time);
    if (!days || !tod) {
      error = "rlm: bad timestamp (expected mm/dd/yyyy hh:mm)";
      return LineKind::kDeadLetter;
    }
    clock_.set_date(*days, *tod);
    return LineKind::kSkipped;
  }

  LineKind start(const std::vector<std::string_view>& w, std::string& out, std::string& error) {
    if (w.size() < 4 || set_date(w[2], w[3], error) != LineKind::kSkipped) {
      return unreadable("START", error);
    }
    int64_t ts = *clock_.observe(*parse_time_of_day(w[3]));
    open_.clear();
    queued_.clear();
    EventWriter(out, ts, "server_down", server_).end();
    EventWriter(out, ts, "server_up", server_).end();
    return LineKind::kEvents;
  }

  LineKind shutdown(const std::vector<std::string_view>& w, std::string& out, std::string& error) {
    if (w.size() < 5) return unreadable("SHUTDOWN", error);
    auto ts = event_time(w[3], w[4], "SHUTDOWN", error);
    if (!ts) return LineKind::kDeadLetter;
    open_.clear();
    queued_.clear();
    EventWriter(out, *ts, "server_down", server_).end();
    return LineKind::kEvents;
  }

  // OUT product version pool# user host "isv_def" count cur_use cur_resuse server_handle
  //     share_handle process_id "project" "requested product" "requested version" mm/dd hh:mm:ss …
  // OUT product version user host "isv_def" count server_handle share_handle hh:mm   (small)
  LineKind checkout(const std::vector<std::string_view>& w, std::string& out, std::string& error) {
    const bool small = w.size() == 10;
    if (!small && w.size() < 18) return unreadable("OUT", error);
    const size_t user = small ? 3 : 4;
    auto count = parse_count(w[small ? 6 : 7]);
    std::string_view handle = w[small ? 7 : 10];
    if (!count || w[1].empty()) return unreadable("OUT", error);
    auto ts = small ? event_time("", w[9], "OUT", error) : event_time(w[16], w[17], "OUT", error);
    if (!ts) return LineKind::kDeadLetter;
    open_[std::string(handle)] = {std::string(w[1]), std::string(w[user]),
                                  std::string(w[user + 1])};
    EventWriter(out, *ts, "checkout", server_)
        .field("feature", w[1])
        .field("user", w[user])
        .field("host", w[user + 1])
        .field("count", *count)
        .field("handle", handle)
        .field("project", small ? std::string_view() : w[13])
        .end();
    return LineKind::kEvents;
  }

  // INUSE product version pool# user host "isv_def" count server_handle [share_handle]
  //       process_id mm/dd hh:mm:ss   (every layout; share_handle since reportlog v12.2)
  LineKind in_use(const std::vector<std::string_view>& w, std::string& out, std::string& error) {
    if (w.size() < 12) return unreadable("INUSE", error);
    auto count = parse_count(w[7]);
    if (!count || w[1].empty()) return unreadable("INUSE", error);
    const std::string handle(w[8]);
    auto ts = event_time(w[w.size() - 2], w[w.size() - 1], "INUSE", error);
    if (!ts) return LineKind::kDeadLetter;
    if (open_.count(handle) > 0) return LineKind::kSkipped;
    open_[handle] = {std::string(w[1]), std::string(w[4]), std::string(w[5])};
    EventWriter(out, *ts, "checkout", server_)
        .field("feature", w[1])
        .field("user", w[4])
        .field("host", w[5])
        .field("count", *count)
        .field("handle", handle)
        .end();
    return LineKind::kEvents;
  }

  // IN why product version user host "isv_def" count cur_use cur_resuse server_handle mm/dd time
  // IN why count server_handle hh:mm   (small)
  LineKind checkin(const std::vector<std::string_view>& w, std::string& out, std::string& error) {
    const bool small = w.size() == 5;
    if (!small && w.size() < 13) return unreadable("IN", error);
    auto count = parse_count(w[small ? 2 : 7]);
    std::string_view handle = w[small ? 3 : 10];
    if (!count) return unreadable("IN", error);
    Holder holder;
    if (small) {
      auto it = open_.find(std::string(handle));
      if (it == open_.end()) {
        error = "rlm: small IN record of unknown handle " + std::string(handle);
        return LineKind::kDeadLetter;
      }
      holder = it->second;
    } else {
      holder = {std::string(w[2]), std::string(w[4]), std::string(w[5])};
    }
    auto ts = small ? event_time("", w[4], "IN", error) : event_time(w[11], w[12], "IN", error);
    if (!ts) return LineKind::kDeadLetter;
    open_.erase(std::string(handle));
    EventWriter(out, *ts, "checkin", server_)
        .field("feature", holder.feature)
        .field("user", holder.user)
        .field("host", holder.host)
        .field("count", *count)
        .field("handle", handle)
        .field("reason", why_reason(w[1]))
        .end();
    return LineKind::kEvents;
  }

  // DENY product version user host "isv_def" count why last_attempt mm/dd hh:mm
  LineKind denied(const std::vector<std::string_view>& w, std::string& out, std::string& error) {
    if (w.size() < 11) return unreadable("DENY", error);
    auto count = parse_count(w[6]);
    if (!count || w[1].empty()) return unreadable("DENY", error);
    auto ts = event_time(w[9], w[10], "DENY", error);
    if (!ts) return LineKind::kDeadLetter;
    EventWriter(out, *ts, "denied", server_)
        .field("feature", w[1])
        .field("user", w[3])
        .field("host", w[4])
        .field("count", *count)
        .end();
    return LineKind::kEvents;
  }

  // QUE product version user host "isv_def" count server_handle "project" "req product"
  //     "req version" mm/dd hh:mm:ss
  // QUE product version user host "isv_def" count server_handle hh:mm   (small)
  LineKind queued(const std::vector<std::string_view>& w, std::string& out, std::string& error) {
    const bool small = w.size() == 9;
    if (!small && w.size() < 13) return unreadable("QUE", error);
    auto count = parse_count(w[6]);
    if (!count || w[1].empty()) return unreadable("QUE", error);
    auto ts = small ? event_time("", w[8], "QUE", error) : event_time(w[11], w[12], "QUE", error);
    if (!ts) return LineKind::kDeadLetter;
    queued_[std::string(w[7])] = {std::string(w[1]), std::string(w[3]), std::string(w[4])};
    EventWriter(out, *ts, "queued", server_)
        .field("feature", w[1])
        .field("user", w[3])
        .field("host", w[4])
        .field("count", *count)
        .field("handle", w[7])
        .end();
    return LineKind::kEvents;
  }

  // DEQUE why product version user host "isv_def" count server_handle mm/dd hh:mm:ss
  // DEQUE why count server_handle hh:mm   (small)
  LineKind dequeued(const std::vector<std::string_view>& w, std::string& out, std::string& error) {
    const bool small = w.size() == 5;
    if (!small && w.size() < 11) return unreadable("DEQUE", error);
    std::string_view handle = w[small ? 3 : 8];
    Holder holder;
    if (small) {
      auto it = queued_.find(std::string(handle));
      if (it == queued_.end()) {
        error = "rlm: small DEQUE record of unknown handle " + std::string(handle);
        return LineKind::kDeadLetter;
      }
      holder = it->second;
    } else {
      holder = {std::string(w[2]), std::string(w[4]), std::string(w[5])};
    }
    auto ts =
        small ? event_time("", w[4], "DEQUE", error) : event_time(w[9], w[10], "DEQUE", error);
    if (!ts) return LineKind::kDeadLetter;
    queued_.erase(std::string(handle));
    EventWriter(out, *ts, "dequeued", server_)
        .field("feature", holder.feature)
        .field("user", holder.user)
        .field("host", holder.host)
        .field("handle", handle)
        .end();
    return LineKind::kEvents;
  }

  std::string server_;
  LogClock clock_;
  // Who holds each open checkout and queue entry, by server handle: `small` IN and DEQUE records
  // name only the handle. Cleared when the server (re)starts, which frees handles.
  std::unordered_map<std::string, Holder> open_;
  std::unordered_map<std::string, Holder> queued_;
};

}  // namespace

std::unique_ptr<LogTranslator> make_rlm_translator(const SourceFormat& format) {
  return std::make_unique<RlmTranslator>(format);
}

}  // namespace licflow
