// SPEC §7 "memory stays under state.memory_limit; colder state lives in RocksDB": a license_state
// whose (server, feature) states outgrow its memory budget spills the cold ones to RocksDB and
// gives exactly the output it gives with everything in memory — also across a checkpoint taken
// while states are spilled — and after every batch its estimated memory is within the budget.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>

#include "engine/json_writer.h"
#include "engine/spill_store.h"
#include "engine/time_format.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

namespace {

constexpr int kServers = 40;
constexpr int kFeatures = 50;
constexpr int kEvents = 40000;
constexpr int64_t kDisorderMs = 5000;  // the source's max_out_of_orderness
constexpr uint64_t kBudget = 1 << 20;

// 40 servers × 50 features, events about a random one every 50 ms with up to 5 s of disorder:
// checkouts by handle (some duplicates) or by user and host only, with counts, groups and
// projects; checkins by handle, by user and host (some with a count, some unmatched); denials,
// queueing, capacities carried by events; now and then a server going down, and a few records
// behind the watermark. f0..f2 share seats (dup_group), f0..f9 have an inventory capacity.
std::vector<Record> events() {
  std::mt19937_64 rng(11);
  const int64_t start = *parse_rfc3339("2026-11-27T06:00:00Z");
  std::map<std::pair<int, int>, std::vector<std::string>> open;  // handles, as far as we know
  std::string jsonl;
  for (int i = 0; i < kEvents; ++i) {
    int64_t ts = start + i * 50 + static_cast<int64_t>(rng() % kDisorderMs);
    if (i % 1009 == 0) ts -= 60'000;  // late: applied at once, marked late
    const int server = static_cast<int>(rng() % kServers);
    const int feature = static_cast<int>(rng() % kFeatures);
    std::string line =
        R"({"ts":")" + format_rfc3339(ts) + R"(","server":"s)" + std::to_string(server) + R"(")";
    auto member = [&](const char* name, const std::string& json) {
      line += std::string(",\"") + name + "\":" + json;
    };
    auto user_host = [&] {
      member("user", "\"u" + std::to_string(rng() % 20) + "\"");
      if (rng() % 8 != 0) member("host", "\"h" + std::to_string(rng() % 6) + "\"");
    };
    std::vector<std::string>& handles = open[{server, feature}];
    const auto dice = rng() % 100;
    if (i % 2500 == 1249) {
      member("type", R"("server_down")");
      member("reason", R"("crash")");
      for (int f = 0; f < kFeatures; ++f) open[{server, f}].clear();
    } else if (dice < 42) {
      member("type", R"("checkout")");
      member("feature", "\"f" + std::to_string(feature) + "\"");
      if (rng() % 10 < 7) {
        if (!handles.empty() && rng() % 20 == 0) {
          member("handle", "\"" + handles[rng() % handles.size()] + "\"");  // duplicate
        } else {
          handles.push_back("handle-" + std::to_string(i));
          member("handle", "\"" + handles.back() + "\"");
        }
      }
      user_host();
      if (rng() % 3 == 0) member("count", std::to_string(1 + rng() % 3));
      if (rng() % 4 == 0) member("group", R"("cfd")");
      if (rng() % 5 == 0) member("project", "\"p" + std::to_string(rng() % 9) + "\"");
      if (rng() % 50 == 0) member("capacity", std::to_string(rng() % 12));
    } else if (dice < 72) {
      member("type", R"("checkin")");
      member("feature", "\"f" + std::to_string(feature) + "\"");
      if (!handles.empty() && rng() % 10 < 6) {
        const size_t at = rng() % handles.size();
        member("handle", "\"" + handles[at] + "\"");
        handles.erase(handles.begin() + static_cast<std::ptrdiff_t>(at));
      } else {
        user_host();
        if (rng() % 3 == 0) member("count", std::to_string(1 + rng() % 3));
      }
      if (rng() % 6 == 0) member("reason", R"("inactive")");
    } else {
      member("type", dice < 84 ? R"("denied")" : dice < 93 ? R"("queued")" : R"("dequeued")");
      member("feature", "\"f" + std::to_string(feature) + "\"");
      user_host();
    }
    jsonl += line + "}\n";
  }
  return records_from_jsonl(jsonl);
}

std::string pipeline() {
  std::string yaml = "name: t\n";
  yaml += "time: {max_out_of_orderness: 5s}\n";
  yaml += "features:\n";
  yaml += "  f0: {capacity: 6, dup_group: user_host}\n";
  yaml += "  f1: {capacity: 4, dup_group: user}\n";
  yaml += "  f2: {dup_group: host}\n";
  for (int f = 3; f < 10; ++f) yaml += "  f" + std::to_string(f) + ": {capacity: 5}\n";
  yaml += "sources: {e: {type: stdin}}\n";
  yaml += "operators:\n  op: {type: license_state, input: e}\n";
  return yaml;
}

Operator& op_of(Plan& plan) {
  for (PlanNode& node : plan.nodes) {
    if (node.id == "op") return *node.op;
  }
  FAIL("no operator `op` in the pipeline");
  throw;
}

struct Run {
  std::unique_ptr<Plan> plan = load_plan(pipeline());
  std::unique_ptr<SpillStore> store;
  uint64_t budget = 0;
  int64_t max_ts = kMinTime;
  std::vector<std::string> output;  // "port: record as JSON"

  Operator& op() { return op_of(*plan); }

  void spill(const TempDir& dir, const std::string& name, uint64_t budget_bytes) {
    auto opened = SpillStore::open(dir.file(name), /*temporary=*/false, 64 << 20);
    REQUIRE(opened.is_ok());
    store = std::move(opened.value());
    REQUIRE(op().spill_kind() == std::string("license_state"));
    REQUIRE(op().enable_spill(*store, "op", budget_bytes).is_ok());
    budget = budget_bytes;
  }

  // Feeds records [from, to) in batches of 500, each carrying the watermark of a source with
  // 5 s max_out_of_orderness.
  void feed(const std::vector<Record>& records, size_t from, size_t to) {
    for (size_t i = from; i < to; i += 500) {
      auto batch = std::make_shared<Batch>();
      for (size_t j = i; j < std::min(to, i + 500); ++j) {
        batch->records.push_back(records[j]);
        max_ts = std::max(max_ts, records[j].ts);
      }
      batch->watermark = max_ts - kDisorderMs;
      CollectingEmitter out;
      op().process(0, batch, out);
      collect(out);
      if (budget > 0) {
        const Operator::StateFootprint f = op().state_footprint();
        INFO("after records " << i << "..: " << f.keys << " keys, " << f.hot_keys << " hot");
        REQUIRE(f.memory_bytes <= budget);
      }
    }
  }

  void finish() {
    CollectingEmitter out;
    op().finish(out);
    collect(out);
  }

  void collect(const CollectingEmitter& out) {
    for (size_t port = 0; port < out.ports.size(); ++port) {
      for (const Record& r : out.ports[port]) {
        std::string json = std::to_string(port) + ": ";
        append_record_json(json, r, "");
        output.push_back(std::move(json));
      }
    }
  }
};

size_t count_containing(const std::vector<std::string>& lines, const std::string& text) {
  return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(text) != std::string::npos;
  }));
}

}  // namespace

TEST_CASE("a license_state spilled beyond its memory budget gives exactly the in-memory output",
          "[license_state][spill]") {
  const std::vector<Record> input = events();
  Run in_memory;
  in_memory.feed(input, 0, input.size());
  in_memory.finish();
  const Operator::StateFootprint all = in_memory.op().state_footprint();
  REQUIRE(all.keys == kServers * kFeatures);
  CHECK(all.hot_keys == all.keys);
  // The states take several times the budget in memory; the budget holds their index and a
  // tenth of them.
  INFO("in memory: " << all.memory_bytes << " bytes");
  REQUIRE(all.memory_bytes > 3 * kBudget);
  // The input reaches what the states must carry across a spill: open checkouts closed by
  // handle, by user and host and by server_down, shared seats, exhaustion both ways, duplicates,
  // late records.
  const std::vector<std::string>& out = in_memory.output;
  CHECK(count_containing(out, R"("end_reason":"checkin")") > 1000);
  CHECK(count_containing(out, R"("end_reason":"inactive")") > 100);
  CHECK(count_containing(out, R"("end_reason":"server_down")") > 100);
  CHECK(count_containing(out, R"("type":"license_exhausted")") > 100);
  CHECK(count_containing(out, R"("type":"license_available")") > 100);
  CHECK(count_containing(out, R"("late":true)") > 20);
  CHECK(count_containing(out, R"("feature":"f0","in_use":)") > 20);  // f0's edges

  TempDir dir;
  Run spilled;
  spilled.spill(dir, "spill", kBudget);
  spilled.feed(input, 0, input.size());
  const Operator::StateFootprint f = spilled.op().state_footprint();
  CHECK(f.keys == all.keys);
  CHECK(f.hot_keys < all.keys / 4);
  spilled.finish();
  REQUIRE(spilled.output.size() == in_memory.output.size());
  CHECK(spilled.output == in_memory.output);
  CHECK(in_memory.output.size() > static_cast<size_t>(kEvents));
}

TEST_CASE("a checkpoint of a license_state with spilled states restores them into a new store",
          "[license_state][spill][checkpoint]") {
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
    before.spill(dir, "spill-before", kBudget);
    before.feed(input, 0, cut);
    REQUIRE(before.op().state_footprint().hot_keys < before.op().state_footprint().keys / 4);
    StateWriter writer;
    before.op().save_state(writer);
    state = writer.take();
    output = before.output;
  }
  Run after;
  after.spill(dir, "spill-after", kBudget);
  StateReader reader(state);
  after.op().load_state(reader);
  REQUIRE_FALSE(reader.failed());
  REQUIRE(reader.at_end());
  // Loading spilled the states beyond the budget again rather than holding them all.
  CHECK(after.op().state_footprint().keys == kServers * kFeatures);
  CHECK(after.op().state_footprint().hot_keys < after.op().state_footprint().keys / 4);
  CHECK(after.op().state_footprint().memory_bytes <= after.budget);
  // The source's watermark goes on from where it was.
  for (size_t i = 0; i < cut; ++i) after.max_ts = std::max(after.max_ts, input[i].ts);
  after.feed(input, cut, input.size());
  after.finish();
  output.insert(output.end(), after.output.begin(), after.output.end());
  REQUIRE(output.size() == expected.output.size());
  CHECK(output == expected.output);
}
