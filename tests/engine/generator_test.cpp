// Tests for `licflow generate` (SPEC §8) through generate_events: determinism, SPEC §1 validity,
// time order and its disorder bound, session pairing, capacity, daily and weekly cycles, outages
// and the dead-letter mix of --faults. Lines are checked by a small JSON reader written here, so
// that these tests do not share a bug with the engine's event parser.
#include "engine/generator.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/time_format.h"

namespace licflow {
namespace {

// Per-line checks: Catch2 sees them only when they fail, which keeps 10^5-line loops fast.
#define CHECK_QUIET(...)                    \
  do {                                      \
    if (!(__VA_ARGS__)) CHECK(__VA_ARGS__); \
  } while (false)
#define REQUIRE_QUIET(...)                    \
  do {                                        \
    if (!(__VA_ARGS__)) REQUIRE(__VA_ARGS__); \
  } while (false)

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

// ---------------------------------------------------------------------------------------------
// A strict, minimal JSON reader: enough to judge one line by the rules of SPEC §1.

enum class Kind { kString, kInt, kFloat, kBool, kNull, kComposite };

struct Field {
  Kind kind = Kind::kNull;
  std::string text;  // strings: the unescaped value (ASCII escapes only, which is all we need)
  int64_t integer = 0;
};

// An object's members, in order; a later duplicate name wins, as with a map. A flat vector:
// judging every line of a run must stay cheap under sanitizers.
class Fields {
 public:
  const Field* find(std::string_view name) const {
    for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
      if (it->first == name) return &it->second;
    }
    return nullptr;
  }
  size_t count(std::string_view name) const { return find(name) ? 1 : 0; }
  const Field& at(std::string_view name) const { return *find(name); }  // REQUIRES: count(name)
  void add(std::string name, Field value) {
    members_.emplace_back(std::move(name), std::move(value));
  }

 private:
  std::vector<std::pair<std::string, Field>> members_;
};

// Well-formed sequences only (overlong 3- and 4-byte forms and surrogates are not checked).
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    if (c < 0x80) {
      n = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

class MiniJson {
 public:
  explicit MiniJson(std::string_view s) : s_(s) {}

  // Parses one complete JSON text. Sets `error` to "nan" for NaN/Infinity, else "json".
  bool parse(bool& is_object, Fields& fields, std::string& error) {
    ws();
    is_object = i_ < s_.size() && s_[i_] == '{';
    Field top;
    const bool ok = value(top, 0, is_object ? &fields : nullptr);
    ws();
    if (!ok || i_ != s_.size()) {
      error = nan_ ? "nan" : "json";
      return false;
    }
    return true;
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  bool value(Field& f, int depth, Fields* fields) {
    if (depth > 64 || i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      f.kind = Kind::kComposite;
      ws();
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      while (true) {
        ws();
        std::string key;
        if (!string(key)) return false;
        ws();
        if (!lit(":")) return false;
        ws();
        Field v;
        if (!value(v, depth + 1, nullptr)) return false;
        if (fields) fields->add(std::move(key), std::move(v));
        ws();
        if (lit("}")) return true;
        if (!lit(",")) return false;
      }
    }
    if (c == '[') {
      ++i_;
      f.kind = Kind::kComposite;
      ws();
      if (lit("]")) return true;
      while (true) {
        ws();
        Field v;
        if (!value(v, depth + 1, nullptr)) return false;
        ws();
        if (lit("]")) return true;
        if (!lit(",")) return false;
      }
    }
    if (c == '"') {
      f.kind = Kind::kString;
      return string(f.text);
    }
    if (lit("true") || lit("false")) return f.kind = Kind::kBool, true;
    if (lit("null")) return f.kind = Kind::kNull, true;
    if (c == 'N' || c == 'I' || s_.substr(i_, 2) == "-I") {
      nan_ = true;
      return false;
    }
    return number(f);
  }

  bool string(std::string& out) {
    if (!lit("\"")) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        if (i_ >= s_.size()) return false;
        const char e = s_[i_++];
        if (e == 'u') {
          if (i_ + 4 > s_.size()) return false;
          i_ += 4;
          out += '?';
        } else if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) {
          out += e;
        } else {
          return false;
        }
      } else {
        out += c;
      }
    }
    return false;
  }

  bool number(Field& f) {
    const size_t start = i_;
    auto digits = [&] {
      const size_t b = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ - b;
    };
    lit("-");
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (digits() == 0) {
      return false;
    }
    bool is_float = false;
    if (lit(".")) {
      is_float = true;
      if (digits() == 0) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      is_float = true;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (digits() == 0) return false;
    }
    f.text = std::string(s_.substr(start, i_ - start));
    f.kind = is_float ? Kind::kFloat : Kind::kInt;
    if (!is_float) f.integer = std::stoll(f.text);
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  bool nan_ = false;
};

// One line as the tests see it: its SPEC §1 verdict and, when valid, its fields.
struct Line {
  std::string verdict;  // "" valid, "blank", or the dead-letter kind
  Fields fields;
  int64_t ts = 0;

  std::string str(const std::string& name) const {
    const Field* f = fields.find(name);
    return f ? f->text : std::string();
  }
  bool has(const std::string& name) const { return fields.count(name) != 0; }
  int64_t integer(const std::string& name, int64_t otherwise) const {
    const Field* f = fields.find(name);
    return f && f->kind == Kind::kInt ? f->integer : otherwise;
  }
};

const std::set<std::string> kTypes = {"checkout", "checkin",   "denied",      "queued",
                                      "dequeued", "server_up", "server_down", "metric"};
const std::set<std::string> kLicenseTypes = {"checkout", "checkin", "denied", "queued", "dequeued"};

Line judge(std::string_view raw) {
  Line line;
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  if (raw.find_first_not_of(" \t\r") == std::string_view::npos) {
    line.verdict = "blank";
    return line;
  }
  if (!valid_utf8(raw)) {
    line.verdict = "invalid_utf8";
    return line;
  }
  bool is_object = false;
  std::string error;
  if (!MiniJson(raw).parse(is_object, line.fields, error)) {
    line.verdict = error;
    return line;
  }
  if (!is_object) {
    line.verdict = "not_object";
    return line;
  }
  const Fields& f = line.fields;
  if (!f.count("ts")) return line.verdict = "missing_ts", line;
  if (!f.count("type")) return line.verdict = "missing_type", line;
  if (f.at("type").kind != Kind::kString || !kTypes.count(f.at("type").text)) {
    return line.verdict = "unknown_type", line;
  }
  if (f.at("ts").kind == Kind::kInt) {
    line.ts = f.at("ts").integer;
  } else if (f.at("ts").kind == Kind::kString) {
    const auto ts = parse_rfc3339(f.at("ts").text);
    if (!ts) return line.verdict = "bad_ts", line;
    line.ts = *ts;
  } else {
    return line.verdict = "bad_ts", line;
  }
  if (kLicenseTypes.count(f.at("type").text) &&
      (!f.count("feature") || f.at("feature").kind != Kind::kString)) {
    return line.verdict = "missing_feature", line;
  }
  if (f.count("count")) {
    const Field& c = f.at("count");
    if (c.kind == Kind::kFloat) return line.verdict = "count_float", line;
    if (c.kind == Kind::kString) return line.verdict = "count_string", line;
    if (c.kind != Kind::kInt || c.integer < 1) return line.verdict = "bad_count", line;
  }
  if (f.count("capacity") &&
      (f.at("capacity").kind != Kind::kInt || f.at("capacity").integer < 0)) {
    return line.verdict = "bad_capacity", line;
  }
  for (const char* name : {"server", "feature", "user", "host", "group", "project", "vendor",
                           "version", "handle", "reason"}) {
    if (f.count(name) && f.at(name).kind != Kind::kString) return line.verdict = "bad_field", line;
  }
  return line;
}

struct Output {
  std::string text;
  uint64_t returned = 0;
  size_t chunks = 0;
  bool chunks_end_in_newline = true;
  size_t largest_chunk = 0;
};

Output generate(const GeneratorOptions& options) {
  Output o;
  o.returned = generate_events(options, [&](std::string_view chunk) {
    ++o.chunks;
    o.largest_chunk = std::max(o.largest_chunk, chunk.size());
    if (chunk.empty() || chunk.back() != '\n') o.chunks_end_in_newline = false;
    o.text.append(chunk);
  });
  return o;
}

std::vector<std::string_view> split_lines(const std::string& text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    const size_t end = nl == std::string::npos ? text.size() : nl;
    lines.emplace_back(text.data() + start, end - start);
    start = end + 1;
  }
  return lines;
}

std::vector<Line> judge_all(const std::string& text) {
  std::vector<Line> out;
  for (std::string_view l : split_lines(text)) out.push_back(judge(l));
  return out;
}

GeneratorOptions small_options(uint64_t seed = 7) {
  GeneratorOptions o;
  o.seed = seed;
  o.users = 40;
  o.features = 12;
  o.servers = 2;
  o.days = 3;
  return o;
}

int weekday(int64_t ms) {  // Monday 0
  const int64_t day = ms >= 0 ? ms / kDay : (ms - kDay + 1) / kDay;
  return static_cast<int>(((day + 3) % 7 + 7) % 7);
}

int hour_of_day(int64_t ms) { return static_cast<int>(((ms % kDay + kDay) % kDay) / kHour); }

}  // namespace

TEST_CASE("generate is deterministic for a seed and differs across seeds", "[generator][spec-8]") {
  const Output a = generate(small_options(7));
  const Output b = generate(small_options(7));
  const Output c = generate(small_options(8));
  CHECK(a.returned > 1000);
  CHECK(a.text == b.text);
  CHECK(a.text != c.text);

  GeneratorOptions faulty = small_options(7);
  faulty.faults = true;
  faulty.out_of_order_ms = 30'000;
  CHECK(generate(faulty).text == generate(faulty).text);
}

TEST_CASE("generate writes valid SPEC §1 events in ts order, in whole-line chunks",
          "[generator][spec-1][spec-8]") {
  GeneratorOptions o = small_options(3);
  o.users = 120;  // enough output for a few 1 MiB chunks
  const Output out = generate(o);
  const std::vector<Line> lines = judge_all(out.text);
  REQUIRE(out.returned == lines.size());
  CHECK(std::count(out.text.begin(), out.text.end(), '\n') == static_cast<long>(lines.size()));
  CHECK(out.chunks >= 2);
  CHECK(out.chunks_end_in_newline);
  CHECK(out.largest_chunk < (size_t{1} << 20) + 4096);

  std::map<std::string, size_t> by_type;
  size_t string_ts = 0;
  int64_t prev = INT64_MIN;
  const int64_t end = o.start_ms + o.days * kDay;
  for (const Line& l : lines) {
    REQUIRE_QUIET(l.verdict == "");
    REQUIRE_QUIET(l.ts >= prev);
    prev = l.ts;
    CHECK_QUIET(l.ts >= o.start_ms);
    CHECK_QUIET(l.ts < end);
    const std::string type = l.str("type");
    ++by_type[type];
    CHECK_QUIET(l.has("server"));
    if (l.fields.at("ts").kind == Kind::kString) ++string_ts;
    if (kLicenseTypes.count(type)) {
      for (const char* f : {"feature", "user", "host", "group", "project", "vendor"}) {
        if (!l.has(f)) FAIL_CHECK("a " << type << " without " << f);
      }
    }
    if (type == "checkout") CHECK_QUIET(l.integer("capacity", -1) >= 1);
    if (type == "metric") CHECK_QUIET(l.integer("response_time_ms", -1) >= 1);
  }
  for (const std::string& t : kLicenseTypes) {  // outages are rarer: see their own test
    INFO(t);
    CHECK(by_type[t] > 0);
  }
  CHECK(by_type["metric"] > 0);
  CHECK(by_type["checkout"] > by_type["denied"]);
  // About 1% of events spell ts as an RFC 3339 string.
  CHECK(string_ts > lines.size() / 300);
  CHECK(string_ts < lines.size() / 30);
}

TEST_CASE("generate keeps disorder within out_of_order_ms and writes the same events",
          "[generator][spec-2][spec-8]") {
  const GeneratorOptions ordered = small_options(11);
  const std::string base = generate(ordered).text;
  for (int64_t bound : {int64_t{5'000}, int64_t{2 * kMinute}}) {
    INFO(bound);
    GeneratorOptions o = ordered;
    o.out_of_order_ms = bound;
    const std::string text = generate(o).text;
    int64_t max_seen = INT64_MIN, worst = 0;
    size_t behind = 0;
    for (const Line& l : judge_all(text)) {
      REQUIRE_QUIET(l.verdict == "");
      if (l.ts < max_seen) {
        ++behind;
        worst = std::max(worst, max_seen - l.ts);
      }
      max_seen = std::max(max_seen, l.ts);
    }
    CHECK(worst <= bound);
    CHECK(worst > bound / 2);
    CHECK(behind > 100);
    auto a = split_lines(base), b = split_lines(text);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    CHECK(a == b);
  }
}

TEST_CASE("generate pairs checkins with checkouts and never exceeds capacity",
          "[generator][spec-5][spec-8]") {
  GeneratorOptions o = small_options(5);
  o.days = 7;
  const std::vector<Line> lines = judge_all(generate(o).text);

  struct Open {
    std::string server, feature, user, host;
    int64_t count;
  };
  std::map<std::string, Open> by_handle;
  std::set<std::string> handles_seen;
  std::multimap<std::string, Open> handleless;      // key: server|feature|user|host
  std::map<std::string, int64_t> in_use, capacity;  // key: server|feature
  std::map<std::string, int> queued;                // key: server|feature|user
  std::set<std::string> down;
  size_t checkins = 0, handleless_checkins = 0, dequeued = 0, downs = 0;

  for (const Line& l : lines) {
    REQUIRE_QUIET(l.verdict == "");
    const std::string type = l.str("type"), server = l.str("server");
    const std::string sf = server + "|" + l.str("feature");
    const std::string who = sf + "|" + l.str("user") + "|" + l.str("host");
    if (kLicenseTypes.count(type)) CHECK_QUIET(down.count(server) == 0);
    if (type == "checkout") {
      const int64_t count = l.integer("count", 1);
      capacity[sf] = l.integer("capacity", -1);
      in_use[sf] += count;
      CHECK_QUIET(in_use[sf] <= capacity[sf]);
      const Open open{server, l.str("feature"), l.str("user"), l.str("host"), count};
      if (l.has("handle")) {
        const bool unique = handles_seen.insert(l.str("handle")).second;
        CHECK_QUIET(unique);
        by_handle[l.str("handle")] = open;
      } else {
        // One seat per user and feature, so a handle-less checkin is never ambiguous.
        CHECK_QUIET(handleless.count(who) == 0);
        handleless.emplace(who, open);
      }
    } else if (type == "checkin") {
      ++checkins;
      Open open;
      if (l.has("handle")) {
        auto it = by_handle.find(l.str("handle"));
        REQUIRE_QUIET(it != by_handle.end());
        open = it->second;
        by_handle.erase(it);
      } else {
        ++handleless_checkins;
        auto it = handleless.find(who);
        REQUIRE_QUIET(it != handleless.end());
        open = it->second;
        handleless.erase(it);
      }
      CHECK_QUIET(open.server == server);
      CHECK_QUIET(open.feature == l.str("feature"));
      CHECK_QUIET(open.user == l.str("user"));
      CHECK_QUIET(open.host == l.str("host"));
      CHECK_QUIET(open.count == l.integer("count", 1));
      in_use[sf] -= open.count;
    } else if (type == "denied") {
      CHECK_QUIET(l.integer("capacity", -1) >= 0);
    } else if (type == "queued") {
      ++queued[sf + "|" + l.str("user")];
    } else if (type == "dequeued") {
      ++dequeued;
      const int waiting = queued[sf + "|" + l.str("user")]--;
      REQUIRE_QUIET(waiting > 0);
    } else if (type == "server_down") {
      ++downs;
      down.insert(server);
      // SPEC §5: server_down closes every open checkout on the server.
      for (auto it = by_handle.begin(); it != by_handle.end();) {
        it = it->second.server == server ? by_handle.erase(it) : std::next(it);
      }
      for (auto it = handleless.begin(); it != handleless.end();) {
        it = it->second.server == server ? handleless.erase(it) : std::next(it);
      }
      for (auto& [key, n] : in_use) {
        if (key.rfind(server + "|", 0) == 0) n = 0;
      }
      // Queues were emptied (with `dequeued`) just before.
      for (auto& [key, n] : queued) {
        if (key.rfind(server + "|", 0) == 0) CHECK_QUIET(n == 0);
      }
    } else if (type == "server_up") {
      const size_t erased = down.erase(server);
      CHECK_QUIET(erased == 1);
    }
  }
  CHECK(checkins > 1000);
  CHECK(handleless_checkins > 0);
  CHECK(dequeued > 0);
  CHECK(downs > 0);
}

TEST_CASE("generate follows working hours and the week", "[generator][spec-8]") {
  const GeneratorOptions o;  // defaults: 200 users, 7 days from a Monday
  std::map<int, size_t> by_hour, by_weekday;
  size_t lines = 0;
  const std::string text = generate(o).text;
  for (std::string_view raw : split_lines(text)) {
    ++lines;
    if (raw.find("\"type\":\"checkout\"") == std::string_view::npos) continue;
    const Line l = judge(raw);
    ++by_weekday[weekday(l.ts)];
    if (weekday(l.ts) < 5) ++by_hour[hour_of_day(l.ts)];
  }
  // A realistic week for 200 users: 10^5 .. 10^6 lines.
  CHECK(lines > 50'000);
  CHECK(lines < 1'000'000);
  size_t day = 0, night = 0;
  for (int h = 9; h < 17; ++h) day += by_hour[h];
  for (int h = 0; h < 6; ++h) night += by_hour[h];
  CHECK(day / 8 > 8 * (night / 6));  // per hour, working hours are far busier than nights
  const size_t weekdays =
      by_weekday[0] + by_weekday[1] + by_weekday[2] + by_weekday[3] + by_weekday[4];
  CHECK(by_weekday[5] * 3 < weekdays / 5);
  CHECK(by_weekday[6] * 3 < weekdays / 5);
}

TEST_CASE("generate scales with users and days", "[generator][spec-8]") {
  auto checkouts = [](int users, int days) {
    GeneratorOptions o = small_options(21);
    o.users = users;
    o.days = days;
    const std::string text = generate(o).text;
    size_t n = 0;
    for (size_t at = 0; (at = text.find("\"type\":\"checkout\"", at)) != std::string::npos; ++at)
      ++n;
    return static_cast<double>(n);
  };
  const double base = checkouts(60, 7);  // whole weeks, so both spans hold the same weekdays
  CHECK(checkouts(120, 7) / base == Approx(2.0).epsilon(0.2));
  CHECK(checkouts(60, 14) / base == Approx(2.0).epsilon(0.2));
}

TEST_CASE("generate simulates outages: slow responses, then down, then up", "[generator][spec-8]") {
  GeneratorOptions o = small_options(2);
  o.days = 15;  // two Sundays: maintenance windows
  o.users = 10;
  o.servers = 4;
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> metrics;  // server -> (ts, rt)
  std::vector<std::pair<std::string, int64_t>> crashes;
  std::map<std::string, int64_t> down_since;
  size_t maintenance = 0;
  for (const Line& l : judge_all(generate(o).text)) {
    const std::string type = l.str("type"), server = l.str("server");
    if (type == "metric") {
      CHECK_QUIET(down_since.count(server) == 0);  // a down server reports nothing
      metrics[server].emplace_back(l.ts, l.integer("response_time_ms", 0));
    } else if (type == "server_down") {
      CHECK(down_since.count(server) == 0);
      down_since[server] = l.ts;
      if (l.str("reason") == "crash") crashes.emplace_back(server, l.ts);
      maintenance += l.str("reason") == "maintenance";
    } else if (type == "server_up") {
      REQUIRE(down_since.count(server) == 1);
      const int64_t length = l.ts - down_since[server];
      CHECK(length >= kMinute);
      CHECK(length <= kHour);
      down_since.erase(server);
    }
  }
  REQUIRE(!crashes.empty());
  CHECK(maintenance > 0);
  for (const auto& [server, at] : crashes) {
    std::vector<int64_t> all, before;
    for (const auto& [ts, rt] : metrics[server]) {
      all.push_back(rt);
      if (ts < at && ts >= at - 5 * kMinute) before.push_back(rt);
    }
    REQUIRE(!before.empty());
    std::nth_element(all.begin(), all.begin() + all.size() / 2, all.end());
    // Response times climb before a crash.
    CHECK(*std::max_element(before.begin(), before.end()) > 3 * all[all.size() / 2]);
  }
}

TEST_CASE("generate --faults mixes in every dead-letter kind of SPEC §1",
          "[generator][spec-1][spec-8]") {
  GeneratorOptions clean = small_options(13);
  clean.users = 120;
  GeneratorOptions faulty = clean;
  faulty.faults = true;

  const Output clean_out = generate(clean);
  for (const Line& l : judge_all(clean_out.text)) REQUIRE_QUIET(l.verdict == "");
  CHECK(clean_out.text.find('\r') == std::string::npos);

  const Output out = generate(faulty);
  const std::vector<std::string_view> raw = split_lines(out.text);
  REQUIRE(out.returned == raw.size());
  std::map<std::string, size_t> kinds;
  size_t bad = 0, crlf = 0;
  std::vector<std::string_view> valid;
  for (std::string_view r : raw) {
    const Line l = judge(r);
    ++kinds[l.verdict];
    if (l.verdict.empty()) {
      if (!r.empty() && r.back() == '\r') {
        ++crlf;
        r.remove_suffix(1);
      }
      valid.push_back(r);
    } else if (l.verdict != "blank") {
      ++bad;
    }
  }
  for (const char* kind : {"json", "nan", "not_object", "missing_ts", "missing_type",
                           "unknown_type", "missing_feature", "count_float", "count_string",
                           "bad_capacity", "bad_ts", "invalid_utf8", "blank"}) {
    INFO(kind);
    CHECK(kinds[kind] > 0);
  }
  CHECK(kinds["bad_field"] == 0);
  CHECK(kinds["bad_count"] == 0);
  const double rate = static_cast<double>(bad) / static_cast<double>(raw.size());
  CHECK(rate > 0.003);
  CHECK(rate < 0.008);
  CHECK(crlf > 0);
  // The faults are extra lines: the valid ones are exactly the clean run's.
  CHECK(valid == split_lines(clean_out.text));
}

TEST_CASE("generate treats tiny and odd options sanely", "[generator][spec-8]") {
  GeneratorOptions o;
  o.users = 1;
  o.features = 1;
  o.servers = 1;
  o.days = 1;
  o.start_ms = *parse_rfc3339("2026-11-04T13:37:00.250Z");
  const Output one = generate(o);
  for (const Line& l : judge_all(one.text)) {
    REQUIRE_QUIET(l.verdict == "");
    CHECK_QUIET(l.ts >= o.start_ms);
    CHECK_QUIET(l.ts < o.start_ms + kDay);
  }

  o.users = 30;
  o.features = 70;  // past the name list: suffixed names
  o.servers = 5;
  std::set<std::string> features, servers;
  for (const Line& l : judge_all(generate(o).text)) {
    REQUIRE_QUIET(l.verdict == "");
    if (l.has("feature")) features.insert(l.str("feature"));
    servers.insert(l.str("server"));
  }
  CHECK(servers == std::set<std::string>{"lic-1", "lic-2", "lic-3", "lic-4", "lic-5"});
  CHECK(std::any_of(features.begin(), features.end(), [](const std::string& f) {
    return f.size() > 2 && f.substr(f.size() - 2) == "_2";
  }));

  o.users = 0;  // treated as 1
  o.days = 0;
  CHECK(generate(o).returned > 0);
}

}  // namespace licflow
