// `format: flexlm` (SPEC §1): the FlexNet Publisher debug log that lmgrd and its vendor daemons
// write, one message per line: `H:MM:SS (daemon) message` (the hour may be space-padded).
//
// Readings where SPEC is silent:
// - License events: `OUT:` -> checkout, `IN:` -> checkin, `DENIED:` -> denied, `UNSUPPORTED:` ->
//   denied with reason `unsupported`, `QUEUED:` -> queued, `DEQUEUED:` -> dequeued. The feature is
//   quoted (`"MATLAB"`) or a bare word (older daemons); then `user@host` (split at the last `@`;
//   `@host` alone or a bare `user` also occur). `(N licenses)` gives `count`. On `IN:`, a
//   parenthesised upper-case word gives `reason` in lower case: `(INACTIVE)` -> `inactive`,
//   `(SHUTDOWN)` -> `shutdown`. Checkout-data strings `[…]`, denial texts and the verbose
//   `^^^ … ^^^` block are not mapped (the verbose block only supplies a user the line lacks).
// - The daemon name in parentheses is not written onto events (no `vendor` field); events carry
//   only the fields SPEC §1 maps: feature, user, host, count, reason, and the source's `server`.
// - Dates: `TIMESTAMP m/d/yyyy` lines and start-up banners (`… started on HOST (…) (m/d/yyyy)`)
//   set the date of their own line. Any line whose time of day is earlier than the previous
//   line's moves the date one day on (midnight passed), whatever its daemon.
// - A start-up banner is a (re)start of the license server: it yields `server_down` then
//   `server_up` at its time, also the first one in a file, so checkouts a crashed server left
//   open are closed (a `server_down` with nothing open changes nothing). So does a vendor
//   daemon's `Server started on …` line when that daemon was seen since the banner (it started,
//   or had license events): it alone restarted. Its first start after the banner is part of
//   lmgrd's start, even after another daemon's license events. A banner whose date is not a
//   date is a dead letter.
// - `UNSUPPORTED: "f" (PORT_AT_HOST_PLUS   ) user@host …`: the group before user@host is
//   skipped. A user name may contain spaces (`John Doe@PC-1`): user@host is split at the last
//   `@` before the first `(` or `[`.
// - A license event before any date is known is a dead letter ("no date yet"), not silently
//   dropped: the operator sees how much of a log tail could not be placed in time.
// - Lines not of the `H:MM:SS (daemon) message` shape are dead letters; well-formed lines that
//   are not license events (banners' neighbours, TIMESTAMP, SLOG, errors) are skipped and counted.
#include "engine/sources/flexlm_format.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <string>
#include <vector>

namespace licflow {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The next white-space delimited word of `s`, removed from it.
std::string_view next_word(std::string_view& s) {
  s = trim(s);
  size_t end = s.find_first_of(" \t");
  std::string_view word = s.substr(0, end);
  s.remove_prefix(word.size());
  return word;
}

enum class Kind { kOut, kIn, kDenied, kUnsupported, kQueued, kDequeued };

struct Keyword {
  std::string_view text;
  Kind kind;
};

constexpr Keyword kKeywords[] = {
    {"OUT:", Kind::kOut},       {"IN:", Kind::kIn},
    {"DENIED:", Kind::kDenied}, {"UNSUPPORTED:", Kind::kUnsupported},
    {"QUEUED:", Kind::kQueued}, {"DEQUEUED:", Kind::kDequeued},
};

struct Body {
  std::string_view feature, user, host, reason;
  int64_t count = 0;  // 0: not given
};

// Parses what follows the keyword. False when the line is unreadable.
bool parse_body(std::string_view s, Body& body, std::string& error) {
  s = trim(s);
  if (!s.empty() && s.front() == '"') {
    size_t close = s.find('"', 1);
    if (close == std::string_view::npos) {
      error = "flexlm: unterminated feature name";
      return false;
    }
    body.feature = s.substr(1, close - 1);
    s.remove_prefix(close + 1);
  } else {
    body.feature = next_word(s);
  }
  if (body.feature.empty()) {
    error = "flexlm: missing feature name";
    return false;
  }
  std::vector<std::string_view> verbose;
  if (size_t v = s.find("^^^"); v != std::string_view::npos) {
    std::string_view block = s.substr(v + 3);
    block = block.substr(0, block.find("^^^"));
    for (std::string_view w = next_word(block); !w.empty(); w = next_word(block)) {
      verbose.push_back(w);
    }
    s = s.substr(0, v);
  }
  s = trim(s);
  // `UNSUPPORTED: "f" (PORT_AT_HOST_PLUS   ) user@host (…)`: a group before user@host names
  // where the license was looked for; it is skipped.
  if (!s.empty() && s.front() == '(') {
    const size_t close = s.find(')');
    std::string_view after = close == std::string_view::npos ? "" : trim(s.substr(close + 1));
    std::string_view who = after.substr(0, after.find_first_of("(["));
    if (who.find('@') != std::string_view::npos) s = after;
  }
  if (!s.empty() && s.front() != '(' && s.front() != '[') {
    // user@host, split at the last `@` before any group; a user name may hold spaces (Windows:
    // `John Doe@PC-1`), a host may not.
    std::string_view who = s.substr(0, s.find_first_of("(["));
    const size_t at = who.rfind('@');
    if (at == std::string_view::npos) {
      body.user = next_word(s);
    } else {
      body.user = trim(who.substr(0, at));
      s.remove_prefix(at + 1);
      body.host = next_word(s);
    }
  }
  if (body.user.empty() && verbose.size() > 1) body.user = verbose[1];
  if (body.user.empty() && body.host.empty()) {  // lmgrd names who: `user@host`, `@host`, `user`
    error = "flexlm: missing user@host";
    return false;
  }
  // Top-level parenthesised groups: `(3 licenses)`, `(INACTIVE)`, `(denial text (-4,342))`.
  for (size_t open = s.find('('); open != std::string_view::npos; open = s.find('(')) {
    int depth = 0;
    size_t close = open;
    for (; close < s.size(); ++close) {
      if (s[close] == '(') ++depth;
      if (s[close] == ')' && --depth == 0) break;
    }
    std::string_view group = s.substr(open + 1, close - open - 1);
    s.remove_prefix(std::min(close + 1, s.size()));
    std::string_view words = group;
    std::string_view first = next_word(words);
    std::string_view second = next_word(words);
    const size_t sign = !first.empty() && (first[0] == '-' || first[0] == '+') ? 1 : 0;
    if ((second == "licenses" || second == "license") && trim(words).empty() &&
        first.size() > sign &&
        first.find_first_not_of("0123456789", sign) == std::string_view::npos) {
      // Any 64-bit count >= 1, as SPEC §1's `count`; `(0 licenses)` or `(-1 licenses)` is
      // unreadable, a dead letter.
      int64_t count = 0;
      const auto [end, ec] =
          std::from_chars(first.data() + sign, first.data() + first.size(), count);
      if (ec != std::errc() || count < 1 || first[0] == '-') {
        error = "flexlm: bad license count `" + std::string(group) + "`";
        return false;
      }
      body.count = count;
    } else if (!group.empty() &&
               group.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == std::string_view::npos) {
      body.reason = group;
    }
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

class FlexlmTranslator final : public LogTranslator {
 public:
  explicit FlexlmTranslator(const SourceFormat& format)
      : server_(format.server), clock_(format) {}

  LineKind translate(std::string_view line, std::string& out, std::string& error) override {
    std::string_view s = trim(line);
    std::string_view time = next_word(s);
    auto tod = parse_time_of_day(time);
    s = trim(s);
    size_t close = s.find(')');
    if (!tod || time.size() < 7 || s.empty() || s.front() != '(' ||
        close == std::string_view::npos) {
      error = "flexlm: not a debug log line (expected `H:MM:SS (daemon) message`)";
      return LineKind::kDeadLetter;
    }
    std::string_view message = trim(s.substr(close + 1));
    std::optional<int64_t> ts = clock_.observe(*tod);

    if (message.substr(0, 10) == "TIMESTAMP ") {
      auto days = parse_month_day_year(trim(message.substr(10)));
      if (!days) {
        error = "flexlm: bad TIMESTAMP date (expected m/d/yyyy)";
        return LineKind::kDeadLetter;
      }
      clock_.set_date(*days, *tod);
      return LineKind::kSkipped;
    }
    const std::string_view daemon = s.substr(1, close - 1);
    if (message.find(" started on ") != std::string_view::npos && message.back() == ')') {
      size_t open = message.rfind('(');
      const std::string_view date = message.substr(open + 1, message.size() - open - 2);
      auto days = parse_month_day_year(date);
      if (days) {
        clock_.set_date(*days, *tod);
        daemons_seen_.clear();
        return restart(*clock_.observe(*tod), out);
      }
      if (date.find('/') != std::string_view::npos) {
        error = "flexlm: bad date in a start-up banner (expected m/d/yyyy)";
        return LineKind::kDeadLetter;
      }
    }
    // A vendor daemon's start: its first since lmgrd's banner is part of that start (also when
    // another daemon's license events came before it); a daemon seen since (started, or in a
    // license event) restarted alone, which closes what was open just as well (SPEC §1).
    if (message.substr(0, 18) == "Server started on ") {
      if (daemons_seen_.insert(std::string(daemon)).second || !ts) return LineKind::kSkipped;
      return restart(*ts, out);
    }
    const Keyword* keyword = nullptr;
    for (const Keyword& k : kKeywords) {
      if (message.substr(0, k.text.size()) == k.text &&
          (message.size() == k.text.size() || message[k.text.size()] == ' ')) {
        keyword = &k;
        break;
      }
    }
    if (keyword == nullptr) return LineKind::kSkipped;
    if (daemons_seen_.find(daemon) == daemons_seen_.end()) daemons_seen_.emplace(daemon);
    Body body;
    if (!parse_body(message.substr(keyword->text.size()), body, error)) {
      error += " in `" + std::string(keyword->text) + "` line";
      return LineKind::kDeadLetter;
    }
    if (!ts) {
      error = "flexlm: no date yet (no TIMESTAMP line or start-up banner before this event)";
      return LineKind::kDeadLetter;
    }
    static constexpr std::string_view kTypes[] = {"checkout", "checkin", "denied",
                                                  "denied",   "queued",  "dequeued"};
    EventWriter event(out, *ts, kTypes[static_cast<int>(keyword->kind)], server_);
    event.field("feature", body.feature).field("user", body.user).field("host", body.host);
    if (body.count > 0) event.field("count", body.count);
    if (keyword->kind == Kind::kIn) event.field("reason", lower(body.reason));
    if (keyword->kind == Kind::kUnsupported) event.field("reason", "unsupported");
    event.end();
    return LineKind::kEvents;
  }

 private:
  LineKind restart(int64_t at, std::string& out) {
    EventWriter(out, at, "server_down", server_).end();
    EventWriter(out, at, "server_up", server_).end();
    return LineKind::kEvents;
  }

  std::string server_;
  LogClock clock_;
  // Vendor daemons started or seen in a license event since lmgrd's last start-up banner.
  std::set<std::string, std::less<>> daemons_seen_;
};

}  // namespace

std::unique_ptr<LogTranslator> make_flexlm_translator(const SourceFormat& format) {
  return std::make_unique<FlexlmTranslator>(format);
}

}  // namespace licflow
