// The history sink and `licflow query` (SPEC §6, §7, §8): records written through the sink,
// read back by run_query with hand-computed expectations.
#include <catch2/catch.hpp>

#include "engine/history/history_store.h"
#include "engine/query.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;
using Catch::Matchers::Contains;

namespace {

constexpr int64_t kHour = 3'600'000;

// A pipeline whose only sink is `store: {type: history, …OPTIONS}`, bound to `dir`.
std::unique_ptr<Plan> history_plan(const TempDir& dir, const std::string& options = "") {
  auto plan = load_plan("name: h\nstate: {dir: " + dir.path().string() +
                        "}\nsources: {events: {type: stdin}}\nsinks:\n"
                        "  store: {type: history, input: events" + options + "}\n");
  REQUIRE(plan);
  plan->nodes.back().sink->attach_state_dir(dir.path().string());
  return plan;
}

Sink& sink_of(Plan& plan) { return *plan.nodes.back().sink; }

void write(Sink& sink, std::string_view stream, const std::string& jsonl) {
  std::string bytes;
  sink.format(records_from_jsonl(jsonl), stream, bytes);
  REQUIRE(sink.write(bytes).is_ok());
}

std::string query(const TempDir& dir, const std::string& stream,
                  const std::function<void(QueryOptions&)>& tweak = nullptr) {
  QueryOptions options;
  options.state_dir = dir.path().string();
  options.stream = stream;
  if (tweak) tweak(options);
  std::string out;
  Status status = run_query(options, out);
  INFO(status.message());
  REQUIRE(status.is_ok());
  return out;
}

// Three checkouts on two features, written out of event-time order.
const std::string kEvents =
    "{\"ts\": 3000, \"type\": \"checkout\", \"feature\": \"b\", \"user\": \"ann\", \"count\": 2}\n"
    "{\"ts\": 1000, \"type\": \"checkout\", \"feature\": \"b\", \"user\": \"bob\"}\n"
    "{\"ts\": 2000, \"type\": \"checkout\", \"feature\": \"a\", \"user\": \"carl, jr\"}\n";

const std::string kAnn =
    "{\"stream\":\"events\",\"ts\":\"1970-01-01T00:00:03.000Z\",\"type\":\"checkout\","
    "\"feature\":\"b\",\"user\":\"ann\",\"count\":2,\"server\":\"default\"}\n";
const std::string kBob =
    "{\"stream\":\"events\",\"ts\":\"1970-01-01T00:00:01.000Z\",\"type\":\"checkout\","
    "\"feature\":\"b\",\"user\":\"bob\",\"server\":\"default\"}\n";
const std::string kCarl =
    "{\"stream\":\"events\",\"ts\":\"1970-01-01T00:00:02.000Z\",\"type\":\"checkout\","
    "\"feature\":\"a\",\"user\":\"carl, jr\",\"server\":\"default\"}\n";

}  // namespace

TEST_CASE("query returns a stream's records in event-time order across keys",
          "[history][spec-6][spec-8]") {
  TempDir dir;
  auto plan = history_plan(dir, ", key: [feature]");
  REQUIRE(sink_of(*plan).open().is_ok());
  write(sink_of(*plan), "events", kEvents);
  write(sink_of(*plan), "other", "{\"ts\": 1500, \"type\": \"denied\", \"feature\": \"a\"}\n");
  REQUIRE(sink_of(*plan).close().is_ok());

  // Stored in key order (a before b), returned in ts order.
  CHECK(query(dir, "events") == kBob + kCarl + kAnn);
  CHECK(query(dir, "events", [](QueryOptions& o) { o.limit = 2; }) == kBob + kCarl);
  CHECK(query(dir, "nothing-here").empty());
  CHECK_THAT(query(dir, "other"), Contains("\"stream\":\"other\",\"ts\":\"1970-01-01T00:00:01.500Z\""));
}

TEST_CASE("query filters by key fields and a half-open time range", "[history][spec-8]") {
  TempDir dir;
  auto plan = history_plan(dir, ", key: [feature]");
  REQUIRE(sink_of(*plan).open().is_ok());
  write(sink_of(*plan), "events", kEvents);
  REQUIRE(sink_of(*plan).close().is_ok());

  using Keys = std::vector<std::pair<std::string, std::string>>;
  CHECK(query(dir, "events", [](QueryOptions& o) { o.keys = Keys{{"feature", "b"}}; }) ==
        kBob + kAnn);
  CHECK(query(dir, "events", [](QueryOptions& o) {
          o.keys = Keys{{"feature", "b"}, {"user", "ann"}};
        }) == kAnn);
  // Numbers compare by value, as SPEC §4's `==`; a missing field is null.
  CHECK(query(dir, "events", [](QueryOptions& o) { o.keys = Keys{{"count", "2"}}; }) == kAnn);
  CHECK(query(dir, "events", [](QueryOptions& o) { o.keys = Keys{{"count", "2.0"}}; }) == kAnn);
  CHECK(query(dir, "events", [](QueryOptions& o) { o.keys = Keys{{"count", "2e0"}}; }) == kAnn);
  CHECK(query(dir, "events", [](QueryOptions& o) { o.keys = Keys{{"count", "3"}}; }).empty());
  CHECK(query(dir, "events", [](QueryOptions& o) { o.keys = Keys{{"count", "x2"}}; }).empty());
  CHECK(query(dir, "events", [](QueryOptions& o) { o.keys = Keys{{"count", "2.5"}}; }).empty());
  CHECK(query(dir, "events", [](QueryOptions& o) { o.keys = Keys{{"count", "nan"}}; }).empty());
  CHECK(query(dir, "events", [](QueryOptions& o) { o.keys = Keys{{"count", "null"}}; }) ==
        kBob + kCarl);
  // [from, to): 2000 is in, 3000 is out.
  CHECK(query(dir, "events", [](QueryOptions& o) {
          o.from = 2000;
          o.to = 3000;
        }) == kCarl);
  CHECK(query(dir, "events", [](QueryOptions& o) { o.from = 2001; }) == kAnn);
}

TEST_CASE("query writes csv with the union of fields and an aligned table",
          "[history][spec-8]") {
  TempDir dir;
  auto plan = history_plan(dir);
  REQUIRE(sink_of(*plan).open().is_ok());
  write(sink_of(*plan), "events", kEvents);
  REQUIRE(sink_of(*plan).close().is_ok());

  CHECK(query(dir, "events", [](QueryOptions& o) { o.format = QueryFormat::kCsv; }) ==
        "stream,ts,type,feature,user,server,count\n"
        "events,1970-01-01T00:00:01.000Z,checkout,b,bob,default,\n"
        "events,1970-01-01T00:00:02.000Z,checkout,a,\"carl, jr\",default,\n"
        "events,1970-01-01T00:00:03.000Z,checkout,b,ann,default,2\n");
  CHECK(query(dir, "events", [](QueryOptions& o) { o.format = QueryFormat::kTable; }) ==
        "stream  ts                        type      feature  user      server   count\n"
        "events  1970-01-01T00:00:01.000Z  checkout  b        bob       default\n"
        "events  1970-01-01T00:00:02.000Z  checkout  a        carl, jr  default\n"
        "events  1970-01-01T00:00:03.000Z  checkout  b        ann       default  2\n");
  CHECK(query(dir, "events", [](QueryOptions& o) {
          o.format = QueryFormat::kCsv;
          o.from = 5000;
        }).empty());
}

TEST_CASE("writing the same records again, as a replay after a crash does, stores one copy",
          "[history][spec-7]") {
  TempDir dir;
  StateWriter checkpoint;
  {
    auto plan = history_plan(dir, ", key: [feature]");
    REQUIRE(sink_of(*plan).open().is_ok());
    REQUIRE(sink_of(*plan).save_state(checkpoint).is_ok());
    write(sink_of(*plan), "events", kEvents);
    REQUIRE(sink_of(*plan).close().is_ok());  // then the process dies
  }
  auto plan = history_plan(dir, ", key: [feature]");  // a new process resuming
  StateReader restored(checkpoint.bytes());
  sink_of(*plan).load_state(restored);
  REQUIRE_FALSE(restored.failed());
  REQUIRE(sink_of(*plan).open().is_ok());
  write(sink_of(*plan), "events", kEvents);  // the replay of what followed the checkpoint
  write(sink_of(*plan), "events",
        "{\"ts\": 3000, \"type\": \"checkout\", \"feature\": \"b\", \"user\": \"dan\"}\n");
  REQUIRE(sink_of(*plan).close().is_ok());
  const std::string out = query(dir, "events");
  CHECK(std::count(out.begin(), out.end(), '\n') == 4);  // bob, carl, ann and the new dan
  CHECK(out.substr(0, kBob.size() + kCarl.size()) == kBob + kCarl);
}

TEST_CASE("identical records stay distinct, in one batch or several, and a replay still stores "
          "one copy of each",
          "[history][spec-6][spec-7]") {
  TempDir dir;
  const std::string ann = kEvents.substr(0, kEvents.find('\n') + 1);
  StateWriter checkpoint;
  {
    auto plan = history_plan(dir);
    REQUIRE(sink_of(*plan).open().is_ok());
    write(sink_of(*plan), "events", ann);  // before the checkpoint
    REQUIRE(sink_of(*plan).save_state(checkpoint).is_ok());
    write(sink_of(*plan), "events", kEvents + ann);  // ann twice more: in one batch, then
    write(sink_of(*plan), "events", ann);            // in the next
    REQUIRE(sink_of(*plan).close().is_ok());
  }
  CHECK(query(dir, "events") == kBob + kCarl + kAnn + kAnn + kAnn + kAnn);
  auto plan = history_plan(dir);  // resumed from the checkpoint: the same batches again
  StateReader restored(checkpoint.bytes());
  sink_of(*plan).load_state(restored);
  REQUIRE(sink_of(*plan).open().is_ok());
  write(sink_of(*plan), "events", kEvents + ann);
  write(sink_of(*plan), "events", ann);
  REQUIRE(sink_of(*plan).close().is_ok());
  CHECK(query(dir, "events") == kBob + kCarl + kAnn + kAnn + kAnn + kAnn);
}

TEST_CASE("identical records far apart are both kept, and a replay between them doubles neither",
          "[history][spec-6][spec-7]") {
  TempDir dir;
  const std::string ann = kEvents.substr(0, kEvents.find('\n') + 1);
  std::string between;  // more records than any window of recent ones would hold
  for (int i = 0; i < 10'000; ++i) {
    between += "{\"ts\": " + std::to_string(5000 + i) + ", \"type\": \"metric\"}\n";
  }
  StateWriter checkpoint;
  {
    auto plan = history_plan(dir);
    REQUIRE(sink_of(*plan).open().is_ok());
    write(sink_of(*plan), "events", ann);
    write(sink_of(*plan), "events", between);
    REQUIRE(sink_of(*plan).save_state(checkpoint).is_ok());
    write(sink_of(*plan), "events", ann);
    REQUIRE(sink_of(*plan).close().is_ok());
  }
  auto plan = history_plan(dir);  // resumed from the checkpoint: the last batch again
  StateReader restored(checkpoint.bytes());
  sink_of(*plan).load_state(restored);
  REQUIRE_FALSE(restored.failed());
  REQUIRE(sink_of(*plan).open().is_ok());
  write(sink_of(*plan), "events", ann);
  REQUIRE(sink_of(*plan).close().is_ok());
  const std::string out = query(dir, "events");
  CHECK(std::count(out.begin(), out.end(), '\n') == 10'002);
  CHECK(out.substr(0, 2 * kAnn.size()) == kAnn + kAnn);
}

TEST_CASE("query returns records of one ts in the order the sink received them, across batches",
          "[history][spec-8]") {
  TempDir dir;
  const std::vector<std::string> users = {"z", "b", "q", "a", "m", "c"};
  {
    auto plan = history_plan(dir);
    REQUIRE(sink_of(*plan).open().is_ok());
    for (size_t half = 0; half < 2; ++half) {
      std::string batch;
      for (size_t i = half * 3; i < half * 3 + 3; ++i) {
        batch += "{\"ts\": 1000, \"type\": \"denied\", \"feature\": \"f\", \"user\": \"" +
                 users[i] + "\"}\n";
      }
      write(sink_of(*plan), "events", batch);
    }
    REQUIRE(sink_of(*plan).close().is_ok());
  }
  const std::string out = query(dir, "events");
  std::vector<std::string> order;
  for (size_t at = out.find("\"user\":\""); at != std::string::npos;
       at = out.find("\"user\":\"", at + 1)) {
    order.push_back(out.substr(at + 8, 1));
  }
  CHECK(order == users);
}

TEST_CASE("a time range reads each key's records in it, whatever the key layout",
          "[history][spec-8]") {
  // Keys with many records inside and outside the range (skipped by seeks), keys with none in
  // it, negative times, and a stream whose key fields changed between two runs, so that one
  // key's bytes extend another's.
  TempDir dir;
  std::vector<std::pair<int64_t, std::string>> written;  // (ts, user)
  uint64_t seed = 7;
  auto next = [&seed] { return seed = seed * 6364136223846793005ull + 1442695040888963407ull; };
  const std::vector<std::string> layouts = {", key: [feature]", ", key: [feature, user]", ""};
  for (const std::string& layout : layouts) {
    auto plan = history_plan(dir, layout);
    REQUIRE(sink_of(*plan).open().is_ok());
    std::string batch;
    for (int i = 0; i < 300; ++i) {
      const int64_t ts = static_cast<int64_t>(next() % 20'000) - 5'000;
      const std::string user = "u" + std::to_string(next() % 7);
      written.emplace_back(ts, user);
      batch += "{\"ts\": " + std::to_string(ts) + ", \"type\": \"denied\", \"feature\": \"f" +
               std::to_string(next() % 5) + "\", \"user\": \"" + user + "\"}\n";
    }
    write(sink_of(*plan), "events", batch);
    REQUIRE(sink_of(*plan).close().is_ok());
  }
  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {-5'000, 15'000}, {0, 1}, {-100, 100}, {3'000, 3'500}, {14'990, 20'000}, {-9'000, -4'990}};
  for (auto [from, to] : ranges) {
    INFO("[" << from << ", " << to << ")");
    const size_t expected = static_cast<size_t>(
        std::count_if(written.begin(), written.end(),
                      [&](const auto& w) { return w.first >= from && w.first < to; }));
    const std::string out = query(dir, "events", [&](QueryOptions& o) {
      o.from = from;
      o.to = to;
    });
    CHECK(static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) == expected);
  }
}

TEST_CASE("records past retention vanish from queries and, after compaction, from disk",
          "[history][spec-6]") {
  TempDir dir;
  auto plan = history_plan(dir, ", retention: 1h");
  REQUIRE(sink_of(*plan).open().is_ok());
  write(sink_of(*plan), "events",
        "{\"ts\": 32400000, \"type\": \"denied\", \"feature\": \"old\"}\n"     // 09:00
        "{\"ts\": 37800000, \"type\": \"denied\", \"feature\": \"recent\"}\n"  // 10:30
        "{\"ts\": 39600000, \"type\": \"denied\", \"feature\": \"now\"}\n");   // 11:00
  REQUIRE(sink_of(*plan).close().is_ok());
  plan.reset();

  const int64_t now = 11 * kHour + kHour / 4;  // 11:15: everything before 10:15 has expired
  auto at = [](int64_t t) { return [t](QueryOptions& o) { o.clock = [t] { return t; }; }; };
  auto features = [&](const std::string& out) {
    std::vector<std::string> found;
    for (const char* f : {"old", "recent", "now"}) {
      if (out.find(std::string("\"feature\":\"") + f + "\"") != std::string::npos) found.push_back(f);
    }
    return found;
  };
  using V = std::vector<std::string>;
  CHECK(features(query(dir, "events", at(now))) == V{"recent", "now"});
  CHECK(features(query(dir, "events", at(0))) == V{"old", "recent", "now"});  // still on disk

  {
    auto store = HistoryStore::open(dir.path().string(), HistoryStore::Mode::kWrite,
                                    [now] { return now; });
    REQUIRE(store.is_ok());
    REQUIRE(store.value()->compact().is_ok());
  }
  CHECK(features(query(dir, "events", at(0))) == V{"recent", "now"});  // physically gone
}

TEST_CASE("a state dir can have one writer: the second open says it is in use",
          "[history][spec-7]") {
  TempDir dir;
  auto first = HistoryStore::open(dir.path().string(), HistoryStore::Mode::kWrite);
  REQUIRE(first.is_ok());
  auto second = HistoryStore::open(dir.path().string(), HistoryStore::Mode::kWrite);
  REQUIRE_FALSE(second.is_ok());
  CHECK_THAT(second.status().message(),
             Contains("state dir " + dir.path().string() + " is in use by another licflow process"));
  // A query reads beside the writer.
  CHECK(query(dir, "events").empty());
}

TEST_CASE("a directory that is not licflow history is refused and left untouched",
          "[history][spec-7]") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "history");
  write_file(dir.file("history/notes.txt"), "mine");
  for (auto mode : {HistoryStore::Mode::kWrite, HistoryStore::Mode::kRead}) {
    auto store = HistoryStore::open(dir.path().string(), mode);
    REQUIRE_FALSE(store.is_ok());
    CHECK_THAT(store.status().message(), Contains("is not a licflow history store"));
  }
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path() / "history"),
                      std::filesystem::directory_iterator()) == 1);
  CHECK(read_file(dir.file("history/notes.txt")) == "mine");
}

TEST_CASE("a corrupt store is refused with RocksDB's reason", "[history][spec-7]") {
  TempDir dir;
  {
    auto plan = history_plan(dir);
    REQUIRE(sink_of(*plan).open().is_ok());
    write(sink_of(*plan), "events", kEvents);
    REQUIRE(sink_of(*plan).close().is_ok());
  }
  write_file(dir.file("history/CURRENT"), "garbage");
  for (auto mode : {HistoryStore::Mode::kWrite, HistoryStore::Mode::kRead}) {
    auto store = HistoryStore::open(dir.path().string(), mode);
    REQUIRE_FALSE(store.is_ok());
    CHECK_THAT(store.status().message(), Contains("cannot open the history store"));
    CHECK_THAT(store.status().message(), Contains("Corruption"));
  }
}

TEST_CASE("query of a state dir without history fails", "[history][spec-8]") {
  TempDir dir;
  QueryOptions options;
  options.state_dir = dir.file("missing");
  options.stream = "events";
  std::string out;
  Status status = run_query(options, out);
  REQUIRE_FALSE(status.is_ok());
  CHECK_THAT(status.message(), Contains("no history in state dir"));
}

TEST_CASE("query --key compares integers beyond 2^53 exactly", "[history][spec-8][spec-4]") {
  TempDir dir;
  auto plan = history_plan(dir, "");
  REQUIRE(sink_of(*plan).open().is_ok());
  write(sink_of(*plan), "big", "{\"ts\": 1, \"type\": \"metric\", \"n\": 9007199254740993}\n");
  REQUIRE(sink_of(*plan).close().is_ok());
  using Keys = std::vector<std::pair<std::string, std::string>>;
  CHECK(query(dir, "big", [](QueryOptions& o) { o.keys = Keys{{"n", "9007199254740992"}}; }).empty());
  CHECK(query(dir, "big", [](QueryOptions& o) { o.keys = Keys{{"n", "9007199254740992.0"}}; }).empty());
  CHECK_FALSE(query(dir, "big", [](QueryOptions& o) { o.keys = Keys{{"n", "9007199254740993"}}; }).empty());
}

TEST_CASE("query times and keys parse from the command line", "[history][spec-8]") {
  CHECK(parse_query_time("1500") == 1500);
  CHECK(parse_query_time("1970-01-01T00:00:01.5Z") == 1500);
  CHECK(parse_query_time("1970-01-02") == 86'400'000);
  CHECK(parse_query_time("1970-01-32") == std::nullopt);
  CHECK(parse_query_time("yesterday") == std::nullopt);
  CHECK(parse_query_key("user=a=b") == std::pair<std::string, std::string>{"user", "a=b"});
  CHECK(parse_query_key("=x") == std::nullopt);
  CHECK(parse_query_key("user") == std::nullopt);
}

TEST_CASE("history sink options are validated", "[history][spec-3]") {
  auto errors = pipeline_errors(
      "name: h\nsources: {events: {type: stdin}}\nsinks:\n"
      "  store: {type: history, input: events, retention: 0s}\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Contains("retention must be positive"));
}
