// SPEC §7 "memory stays under state.memory_limit; colder state lives in RocksDB": a window whose
// keys outgrow its memory budget spills the cold ones to RocksDB and gives exactly the output it
// gives with everything in memory — also across a checkpoint taken while keys are spilled — and
// after every batch its estimated memory is within the budget.
#include <catch2/catch.hpp>

#include <random>

#include "engine/json_writer.h"
#include "engine/spill_store.h"
#include "engine/time_format.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

namespace {

// 3000 keys (users × features) over 6 hours, each key's events scattered through them with up
// to 20 s of disorder, plus a few records behind the watermark that the allowed lateness still
// takes: gauges carried across hours, sliding windows, distinct counts, quantiles, revisions.
std::vector<Record> events() {
  std::mt19937_64 rng(7);
  const int64_t start = *parse_rfc3339("2026-11-27T06:00:00Z");
  std::string jsonl;
  for (int i = 0; i < 30000; ++i) {
    int64_t ts = start + i * 720 + static_cast<int64_t>(rng() % 20000);
    if (i % 997 == 0) ts -= 30 * 60 * 1000;  // late, within allowed_lateness
    const auto user = rng() % 1000;
    const char* feature = std::array{"MATLAB", "ansys", "abaqus"}[rng() % 3];
    jsonl += R"({"ts":")" + format_rfc3339(ts) + R"(","type":"checkout","server":"s1","user":"u)" +
             std::to_string(user) + R"(","feature":")" + feature + R"(","host":"h)" +
             std::to_string(rng() % 5) + R"(","in_use":)" + std::to_string(rng() % 40) +
             R"(,"duration":)" + std::to_string(rng() % 100000) + "}\n";
  }
  return records_from_jsonl(jsonl);
}

const std::string kPipeline = R"(name: t
time: {max_out_of_orderness: 20s, allowed_lateness: 1h}
sources: {e: {type: stdin}}
operators:
  op:
    type: window
    input: e
    key: [user, feature]
    size: 1h
    slide: 30m
    aggregates:
      n: count()
      hosts: count_distinct(host)
      p50: quantile(duration, 0.5)
      last: last(type)
      peak: gauge_max(in_use)
      hours: gauge_integral(in_use, 1h)
)";

Operator& op_of(Plan& plan) {
  for (PlanNode& node : plan.nodes) {
    if (node.id == "op") return *node.op;
  }
  FAIL("no operator `op` in the pipeline");
  throw;
}

struct Run {
  std::unique_ptr<Plan> plan = load_plan(kPipeline);
  std::unique_ptr<SpillStore> store;
  uint64_t budget = 0;
  int64_t max_ts = kMinTime;
  std::vector<std::string> output;

  Operator& op() { return op_of(*plan); }

  void spill(const TempDir& dir, const std::string& name, uint64_t budget_bytes) {
    auto opened = SpillStore::open(dir.file(name), /*temporary=*/false, 64 << 20);
    REQUIRE(opened.is_ok());
    store = std::move(opened.value());
    REQUIRE(op().spill_kind() == std::string("window"));
    REQUIRE(op().enable_spill(*store, "op", budget_bytes).is_ok());
    budget = budget_bytes;
  }

  // Feeds records [from, to) in batches of 500, each carrying the watermark of a source with
  // 20 s max_out_of_orderness.
  void feed(const std::vector<Record>& records, size_t from, size_t to) {
    for (size_t i = from; i < to; i += 500) {
      auto batch = std::make_shared<Batch>();
      for (size_t j = i; j < std::min(to, i + 500); ++j) {
        batch->records.push_back(records[j]);
        max_ts = std::max(max_ts, records[j].ts);
      }
      batch->watermark = max_ts - 20'000;
      CollectingEmitter out;
      op().process(0, batch, out);
      collect(out);
      if (budget > 0) {
        INFO("after records " << i << "..");
        REQUIRE(op().state_footprint().memory_bytes <= budget);
      }
    }
  }

  void finish() {
    CollectingEmitter out;
    op().finish(out);
    collect(out);
  }

  void collect(const CollectingEmitter& out) {
    for (const std::vector<Record>& port : out.ports) {
      for (const Record& r : port) {
        std::string json;
        append_record_json(json, r, "");
        output.push_back(std::move(json));
      }
    }
  }
};

}  // namespace

TEST_CASE("a window spilled beyond its memory budget gives exactly the in-memory output",
          "[window][spill]") {
  const std::vector<Record> input = events();
  Run in_memory;
  in_memory.feed(input, 0, input.size());
  in_memory.finish();
  const auto all_keys = in_memory.op().state_footprint().keys;
  REQUIRE(all_keys == 3000);
  // The keys take several MiB in memory (windows kept for an hour of allowed lateness); 1 MiB
  // holds their index and a few hundred.
  INFO("in memory: " << in_memory.op().state_footprint().memory_bytes << " bytes");
  REQUIRE(in_memory.op().state_footprint().memory_bytes > 4 * (1u << 20));

  TempDir dir;
  Run spilled;
  spilled.spill(dir, "spill", 1 << 20);
  spilled.feed(input, 0, input.size());
  const Operator::StateFootprint f = spilled.op().state_footprint();
  CHECK(f.keys == all_keys);
  CHECK(f.hot_keys < all_keys / 4);
  spilled.finish();
  REQUIRE(spilled.output.size() == in_memory.output.size());
  CHECK(spilled.output == in_memory.output);
  CHECK(in_memory.output.size() > 10000);
}

TEST_CASE("a checkpoint of a window with spilled keys restores them into a new spill store",
          "[window][spill][checkpoint]") {
  const std::vector<Record> input = events();
  Run expected;
  expected.feed(input, 0, input.size());
  expected.finish();

  TempDir dir;
  const size_t cut = input.size() / 2;
  std::string state;
  std::vector<std::string> output;
  {
    Run before;
    before.spill(dir, "spill-before", 1 << 20);
    before.feed(input, 0, cut);
    REQUIRE(before.op().state_footprint().hot_keys < before.op().state_footprint().keys);
    StateWriter writer;
    before.op().save_state(writer);
    state = writer.take();
    output = before.output;
  }
  Run after;
  after.spill(dir, "spill-after", 1 << 20);
  StateReader reader(state);
  after.op().load_state(reader);
  REQUIRE_FALSE(reader.failed());
  REQUIRE(reader.at_end());
  // Loading spilled the keys beyond the budget again rather than holding them all.
  CHECK(after.op().state_footprint().memory_bytes <= after.budget);
  // The source's watermark goes on from where it was.
  for (size_t i = 0; i < cut; ++i) after.max_ts = std::max(after.max_ts, input[i].ts);
  after.feed(input, cut, input.size());
  after.finish();
  output.insert(output.end(), after.output.begin(), after.output.end());
  CHECK(output == expected.output);
}

TEST_CASE("the spill store keeps each operator's keys apart and reads back what was flushed",
          "[spill]") {
  TempDir dir;
  auto store = SpillStore::open(dir.file("s"), /*temporary=*/true, 64 << 20);
  REQUIRE(store.is_ok());
  auto a = store.value()->table("window", "a");
  auto b = store.value()->table("window", "b");
  REQUIRE((a.is_ok() && b.is_ok()));
  a.value()->put(1, "one");
  b.value()->put(1, "uno");
  a.value()->put(2, "two");
  a.value()->put(1, "one again");  // replaces
  a.value()->flush();
  b.value()->flush();
  std::vector<std::string> values;
  const std::vector<uint64_t> ids = {2, 1};
  a.value()->get(ids, values);
  CHECK(values == std::vector<std::string>{"two", "one again"});
  b.value()->get(std::vector<uint64_t>{1}, values);
  CHECK(values == std::vector<std::string>{"uno"});
  // A key never spilled is a broken invariant of the caller: it throws, it does not invent state.
  CHECK_THROWS_AS(b.value()->get(std::vector<uint64_t>{2}, values), std::runtime_error);
  const std::string path = store.value()->dir();
  store.value().reset();
  CHECK_FALSE(std::filesystem::exists(path));  // temporary: removed at close
}

TEST_CASE("a window forgets a key once all its windows are dropped, so state follows live keys",
          "[window][spill]") {
  // 1 h tumbling count per user; batches carry the watermark max_ts - 20 s. Hour 06 has users
  // u0..u99 and u999, hour 08 users u100..u149, u0 again and u998, hour 09 u100.
  std::string jsonl;
  auto line = [&](const std::string& time, int user) {
    jsonl += R"({"ts":"2026-11-27T)" + time +
             R"(Z","type":"checkout","server":"s1","feature":"f","user":"u)" +
             std::to_string(user) + "\"}\n";
  };
  for (int u = 0; u < 100; ++u) line("06:10:00", u);
  line("06:11:00", 999);
  for (int u = 100; u < 150; ++u) line("08:10:00", u);
  line("08:20:00", 0);
  line("08:30:00", 998);
  line("09:30:00", 100);
  const std::vector<Record> input = records_from_jsonl(jsonl);

  Run run;
  run.plan = load_plan(R"(name: t
sources: {e: {type: stdin}}
operators:
  op: {type: window, input: e, key: [user], size: 1h, aggregates: {n: count()}}
)");
  run.feed(input, 0, 101);  // watermark 06:10:40: u0..u99 processed, u999 held
  CHECK(run.op().state_footprint().keys == 100);
  run.feed(input, 101, 153);  // watermark 08:29:40: hour 06 fired and dropped, its keys forgotten
  CHECK(run.op().state_footprint().keys == 51);  // u100..u149 and u0, new again
  run.feed(input, 153, input.size());  // watermark 09:29:40: hour 08 fired and dropped
  CHECK(run.op().state_footprint().keys == 0);
  run.finish();
  REQUIRE(run.output.size() == 101 + 52 + 1);
  // u0 came back as a new key: its hour 08 counts only its own record.
  CHECK(std::count(run.output.begin(), run.output.end(),
                   R"({"ts":"2026-11-27T09:00:00.000Z","window_start":"2026-11-27T08:00:00.000Z",)"
                   R"("window_end":"2026-11-27T09:00:00.000Z","user":"u0","n":1,"revision":0})") == 1);
}
