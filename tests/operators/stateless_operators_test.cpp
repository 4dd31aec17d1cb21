// SPEC §5 filter, route and dedup, rule by rule, driving the operators directly.
#include <catch2/catch.hpp>

#include "tests/test_util.h"

using namespace licflow;
using licflow::test::batch_of;
using licflow::test::CollectingEmitter;
using licflow::test::load_plan;
using licflow::test::records_from_jsonl;

namespace {

// The plan holding one operator `op` fed by a stdin source.
std::unique_ptr<Plan> plan_with(const std::string& op_yaml, const std::string& extra = "") {
  return load_plan("name: t\n" + extra + "sources: {e: {type: stdin}}\noperators:\n  op:\n" +
                   op_yaml);
}

Operator& op_of(Plan& plan) { return *plan.nodes[1].op; }

std::vector<std::string> users(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& r : records) {
    const Value* u = r.find(field::kUser);
    out.push_back(u && u->is_string() ? u->as_string() : "-");
  }
  return out;
}

const char* kEvents =
    R"({"ts":1000,"type":"denied","feature":"a","user":"u1","response_time_ms":10}
{"ts":2000,"type":"checkout","feature":"a","user":"u2","count":3}
{"ts":3000,"type":"denied","feature":"b","user":"u3"}
{"ts":4000,"type":"metric","user":"u4","response_time_ms":9000}
)";

}  // namespace

TEST_CASE("filter passes exactly the records whose condition is true", "[filter][spec-5]") {
  auto plan = plan_with("    type: filter\n    input: e\n    where: type == 'denied'\n");
  CollectingEmitter out;
  op_of(*plan).process(0, batch_of(records_from_jsonl(kEvents)), out);
  CHECK(users(out.port(0)) == std::vector<std::string>{"u1", "u3"});
}

TEST_CASE("filter treats null and non-boolean results as false", "[filter][spec-4][spec-5]") {
  // response_time_ms is missing on u2 and u3: the comparison is false, not an error.
  auto plan = plan_with("    type: filter\n    input: e\n    where: response_time_ms < 100\n");
  CollectingEmitter out;
  op_of(*plan).process(0, batch_of(records_from_jsonl(kEvents)), out);
  CHECK(users(out.port(0)) == std::vector<std::string>{"u1"});
  // A condition that yields a number, not true, passes nothing.
  auto plan2 = plan_with("    type: filter\n    input: e\n    where: count\n");
  CollectingEmitter out2;
  op_of(*plan2).process(0, batch_of(records_from_jsonl(kEvents)), out2);
  CHECK(out2.port(0).empty());
}

TEST_CASE("filter forwards a batch it keeps whole without copying it", "[filter][spec-5]") {
  auto plan = plan_with("    type: filter\n    input: e\n    where: ts > 0\n");
  struct PointerEmitter final : Emitter {
    using Emitter::emit;
    void emit(size_t, BatchPtr b) override { seen = b; }
    BatchPtr seen;
  } out;
  BatchPtr in = batch_of(records_from_jsonl(kEvents));
  op_of(*plan).process(0, in, out);
  CHECK(out.seen == in);
}

TEST_CASE("filter and dedup leave a batch that another consumer still holds intact",
          "[filter][dedup][spec-5]") {
  // The batch's sole owner gets the kept records moved out of it; a shared batch must be copied.
  for (const char* op : {"    type: filter\n    input: e\n    where: user != 'u2'\n",
                         "    type: dedup\n    input: e\n    key: [feature]\n    within: 1h\n"}) {
    auto plan = plan_with(op);
    CollectingEmitter out;
    BatchPtr batch = batch_of(records_from_jsonl(kEvents));
    const BatchPtr other_consumer = batch;
    op_of(*plan).process(0, batch, out);
    CHECK(out.port(0).size() < other_consumer->records.size());
    CHECK(users(other_consumer->records) == std::vector<std::string>{"u1", "u2", "u3", "u4"});
    CHECK(users(out.port(0)).front() == "u1");
  }
}

TEST_CASE("filter keeps late records: it is stateless in time", "[filter][spec-2][spec-5]") {
  auto plan = plan_with("    type: filter\n    input: e\n    where: \"true\"\n");
  auto batch = std::make_shared<Batch>();
  batch->records = records_from_jsonl(kEvents);
  batch->watermark = 1'000'000;  // every record is behind the watermark
  CollectingEmitter out;
  op_of(*plan).process(0, batch, out);
  CHECK(out.port(0).size() == 4);
}

TEST_CASE("route sends each record to the first matching route, the rest to unmatched",
          "[route][spec-5]") {
  auto plan = plan_with(
      "    type: route\n    input: e\n    routes:\n"
      "      denials: type == 'denied'\n"
      "      user_b: feature == 'b'\n"
      "      slow: response_time_ms > 5000\n");
  CHECK(op_of(*plan).ports() ==
        std::vector<std::string>{"denials", "user_b", "slow", "unmatched"});
  CollectingEmitter out;
  op_of(*plan).process(0, batch_of(records_from_jsonl(kEvents)), out);
  CHECK(users(out.port(0)) == std::vector<std::string>{"u1", "u3"});
  CHECK(out.port(1).empty());  // u3 matched `denials` first
  CHECK(users(out.port(2)) == std::vector<std::string>{"u4"});
  CHECK(users(out.port(3)) == std::vector<std::string>{"u2"});
}

TEST_CASE("route with mode all sends a record to every matching route", "[route][spec-5]") {
  auto plan = plan_with(
      "    type: route\n    input: e\n    mode: all\n    routes:\n"
      "      denials: type == 'denied'\n"
      "      user_b: feature == 'b'\n");
  CollectingEmitter out;
  op_of(*plan).process(0, batch_of(records_from_jsonl(kEvents)), out);
  CHECK(users(out.port(0)) == std::vector<std::string>{"u1", "u3"});
  CHECK(users(out.port(1)) == std::vector<std::string>{"u3"});
  CHECK(users(out.port(2)) == std::vector<std::string>{"u2", "u4"});
}

TEST_CASE("route moves a record into its last lane when it alone holds the batch",
          "[route][spec-5]") {
  for (const std::string mode : {"    mode: all\n", ""}) {
    auto plan = plan_with("    type: route\n    input: e\n" + mode +
                          "    routes:\n      denials: type == 'denied'\n"
                          "      user_b: feature == 'b'\n");
    // Shared: the caller keeps a reference, so every lane gets copies.
    auto kept = std::make_shared<Batch>();
    kept->records = records_from_jsonl(kEvents);
    const BatchPtr kept_ptr = kept;
    CollectingEmitter shared;
    op_of(*plan).process(0, kept_ptr, shared);
    CHECK(kept->records == records_from_jsonl(kEvents));
    // Held by no one else: each record's last lane takes it; the lanes are the same.
    auto b = std::make_shared<Batch>();
    b->records = records_from_jsonl(kEvents);
    const BatchPtr only = std::move(b);
    CollectingEmitter owned;
    op_of(*plan).process(0, only, owned);
    for (const Record& r : only->records) CHECK(r.fields().empty());  // taken, not copied
    REQUIRE(owned.ports.size() == 3);
    for (size_t port = 0; port < 3; ++port) CHECK(owned.port(port) == shared.port(port));
  }
}

TEST_CASE("route reports its priority lanes", "[route][spec-5]") {
  auto plan = plan_with(
      "    type: route\n    input: e\n    routes: {a: 'true', b: 'true'}\n    priority: [b]\n");
  CHECK_FALSE(op_of(*plan).is_priority_port(0));
  CHECK(op_of(*plan).is_priority_port(1));
  CHECK_FALSE(op_of(*plan).is_priority_port(2));
}

namespace {
// Keeps the batches themselves, per port, to see what travels with the records.
struct BatchEmitter final : Emitter {
  using Emitter::emit;
  void emit(size_t port, BatchPtr batch) override {
    if (ports.size() <= port) ports.resize(port + 1);
    ports[port].push_back(std::move(batch));
  }
  std::vector<std::vector<BatchPtr>> ports;
};
}  // namespace

TEST_CASE("route passes its input's watermark and idleness on every lane", "[route][spec-2]") {
  auto plan = plan_with(
      "    type: route\n    input: e\n    routes:\n"
      "      denials: type == 'denied'\n      metrics: type == 'metric'\n");
  auto idle = std::make_shared<Batch>();  // an idle marker: no records
  idle->watermark = 500;
  idle->idle = true;
  auto mixed = std::make_shared<Batch>();
  mixed->records = records_from_jsonl(kEvents);
  mixed->watermark = 4000;
  BatchEmitter out;
  op_of(*plan).process(0, idle, out);
  op_of(*plan).process(0, mixed, out);
  REQUIRE(out.ports.size() == 3);
  for (const auto& lane : out.ports) {
    REQUIRE(lane.size() == 2);
    CHECK(lane[0]->watermark == 500);
    CHECK(lane[0]->idle);
    CHECK(lane[1]->watermark == 4000);
    CHECK_FALSE(lane[1]->idle);
  }
  CHECK(users(out.ports[0][1]->records) == std::vector<std::string>{"u1", "u3"});
  CHECK(users(out.ports[1][1]->records) == std::vector<std::string>{"u4"});
  CHECK(users(out.ports[2][1]->records) == std::vector<std::string>{"u2"});
}

TEST_CASE("route forwards a batch whose records all take one lane without copying it",
          "[route][spec-5]") {
  auto plan = plan_with(
      "    type: route\n    input: e\n    routes:\n"
      "      urgent: type == 'server_down'\n      bulk: 'true'\n");
  BatchPtr in = batch_of(records_from_jsonl(kEvents));
  BatchEmitter out;
  op_of(*plan).process(0, in, out);
  REQUIRE(out.ports.size() == 3);
  REQUIRE(out.ports[1].size() == 1);
  CHECK(out.ports[1][0] == in);  // the very batch: no copy
  CHECK(out.ports[0][0]->records.empty());
  CHECK(out.ports[2][0]->records.empty());
}

TEST_CASE("dedup drops a record when the same key passed less than `within` earlier",
          "[dedup][spec-5]") {
  auto plan = plan_with("    type: dedup\n    input: e\n    key: [feature, user]\n    within: 10s\n");
  CollectingEmitter out;
  op_of(*plan).process(0, batch_of(records_from_jsonl(
      R"({"ts":0,"type":"denied","feature":"a","user":"u1"}
{"ts":9999,"type":"denied","feature":"a","user":"u1"}
{"ts":5000,"type":"denied","feature":"a","user":"u2"}
{"ts":10000,"type":"denied","feature":"a","user":"u1"}
{"ts":10000,"type":"denied","feature":"a","user":"u1"}
{"ts":19999,"type":"denied","feature":"b","user":"u1"}
)")), out);
  // u1@0 passes; u1@9999 is 9.999 s after it: dropped; u2 is another key; u1@10000 is exactly
  // `within` after the last passed one: passes; the identical u1@10000 then is a duplicate.
  std::vector<int64_t> ts;
  for (const Record& r : out.port(0)) ts.push_back(r.ts);
  CHECK(ts == std::vector<int64_t>{0, 5000, 10000, 19999});
}

TEST_CASE("dedup measures from the last record that passed, not the last one dropped",
          "[dedup][spec-5]") {
  auto plan = plan_with("    type: dedup\n    input: e\n    key: [user]\n    within: 10s\n");
  CollectingEmitter out;
  std::string lines;
  for (int t = 0; t <= 30; t += 3) {
    lines += R"({"ts":)" + std::to_string(t * 1000) + R"(,"type":"denied","feature":"a","user":"u"})" "\n";
  }
  op_of(*plan).process(0, batch_of(records_from_jsonl(lines)), out);
  std::vector<int64_t> ts;
  for (const Record& r : out.port(0)) ts.push_back(r.ts);
  CHECK(ts == std::vector<int64_t>{0, 12000, 24000});
}

TEST_CASE("dedup judges an out-of-order record against records passed before it in event time",
          "[dedup][spec-5]") {
  auto plan = plan_with("    type: dedup\n    input: e\n    key: [user]\n    within: 10s\n",
                        "time: {max_out_of_orderness: 1m}\n");
  CollectingEmitter out;
  op_of(*plan).process(0, batch_of(records_from_jsonl(
      R"({"ts":20000,"type":"denied","feature":"a","user":"u"}
{"ts":5000,"type":"denied","feature":"a","user":"u"}
{"ts":14000,"type":"denied","feature":"a","user":"u"}
{"ts":25000,"type":"denied","feature":"a","user":"u"}
)")), out);
  // 20000 passes; 5000 has no passed record at or before it: passes; 14000 is 9 s after 5000:
  // dropped; 25000 is 5 s after 20000: dropped.
  std::vector<int64_t> ts;
  for (const Record& r : out.port(0)) ts.push_back(r.ts);
  CHECK(ts == std::vector<int64_t>{20000, 5000});
}

TEST_CASE("dedup judges a late record against what passed before it, even with no declared "
          "disorder", "[dedup][spec-2][spec-5]") {
  // max_out_of_orderness 0: 5000 is late behind 12000, and 0 passed 5 s before it.
  auto plan = plan_with("    type: dedup\n    input: e\n    key: [user]\n    within: 10s\n");
  CollectingEmitter out;
  op_of(*plan).process(0, batch_of(records_from_jsonl(
      R"({"ts":0,"type":"denied","feature":"a","user":"u"}
{"ts":12000,"type":"denied","feature":"a","user":"u"}
{"ts":5000,"type":"denied","feature":"a","user":"u"}
{"ts":3600000,"type":"denied","feature":"a","user":"u"}
{"ts":1000,"type":"denied","feature":"a","user":"u"}
)")), out);
  std::vector<int64_t> ts;
  for (const Record& r : out.port(0)) ts.push_back(r.ts);
  CHECK(ts == std::vector<int64_t>{0, 12000, 3600000});
}

TEST_CASE("dedup skips and counts records that lack a key field", "[dedup][spec-5]") {
  auto plan = plan_with("    type: dedup\n    input: e\n    key: [user]\n    within: 1s\n");
  CollectingEmitter out;
  op_of(*plan).process(0, batch_of(records_from_jsonl(
      R"({"ts":0,"type":"server_up"}
{"ts":0,"type":"denied","feature":"a","user":"u"}
{"ts":1,"type":"server_down"}
)")), out);
  CHECK(out.port(0).size() == 1);
  CHECK(op_of(*plan).dropped() == 2);
}

TEST_CASE("dedup with an empty key treats all records as one key", "[dedup][spec-5]") {
  auto plan = plan_with("    type: dedup\n    input: e\n    key: []\n    within: 1s\n");
  CollectingEmitter out;
  op_of(*plan).process(0, batch_of(records_from_jsonl(
      R"({"ts":0,"type":"server_up","server":"a"}
{"ts":500,"type":"server_up","server":"b"}
{"ts":1000,"type":"server_up","server":"c"}
)")), out);
  CHECK(out.port(0).size() == 2);
}

TEST_CASE("keys compare numbers by value: 1 and 1.0, 0 and -0.0 are one key", "[dedup][spec-5]") {
  auto plan = plan_with("    type: dedup\n    input: e\n    key: [k]\n    within: 10s\n");
  CollectingEmitter out;
  op_of(*plan).process(0, batch_of(records_from_jsonl(
      R"({"ts":0,"type":"metric","k":1}
{"ts":1,"type":"metric","k":1.0}
{"ts":2,"type":"metric","k":1.5}
{"ts":3,"type":"metric","k":"1"}
{"ts":4,"type":"metric","k":-0.0}
{"ts":5,"type":"metric","k":0}
{"ts":6,"type":"metric","k":9007199254740993}
{"ts":7,"type":"metric","k":9007199254740992.0}
)")), out);
  // 1.0 repeats 1 and 0 repeats -0.0; 1.5 and the string "1" are other keys, and so is the
  // double nearest 2^53 + 1 (it is 2^53), which is not equal to the integer.
  std::vector<int64_t> ts;
  for (const Record& r : out.port(0)) ts.push_back(r.ts);
  CHECK(ts == std::vector<int64_t>{0, 2, 3, 4, 6, 7});
}
