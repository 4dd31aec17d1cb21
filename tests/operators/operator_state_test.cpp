// SPEC §7: an operator restored from a checkpoint continues exactly as one that never stopped.
// For each stateful operator, the same batched, out-of-order input is run once straight through
// (output A) and once cut after every batch k: save_state, destroy, rebuild from the same YAML,
// load_state, continue, finish (output B). A == B, record by record as JSON text, per port.
// Saved states are also loaded truncated at every length and with every byte corrupted: a
// truncated state must be refused, a corrupted one must never crash (run under ASan/UBSan).
#include <catch2/catch.hpp>

#include "engine/json_writer.h"
#include "engine/time_format.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

namespace {

// "09:10" or "09:10:30" on the test day as RFC 3339.
std::string stamp(const std::string& time) {
  return "2026-11-27T" + time + (time.size() == 5 ? ":00Z" : "Z");
}
int64_t at(const std::string& time) { return *parse_rfc3339(stamp(time)); }

// One event line: `type` at `time` on server s1 with extra JSON members.
std::string ev(const std::string& time, const std::string& type, const std::string& members) {
  return R"({"ts":")" + stamp(time) + R"(","type":")" + type + R"(","server":"s1")" +
         (members.empty() ? "" : "," + members) + "}\n";
}

// One input batch and the watermark it carries.
struct Step {
  std::vector<Record> records;
  int64_t watermark;
};

// Splits the events into batches of `per_batch`; each batch carries the watermark of a source
// with max_out_of_orderness `lag`: the largest ts read so far minus `lag`.
std::vector<Step> batches(const std::string& jsonl, size_t per_batch, int64_t lag) {
  std::vector<Record> all = records_from_jsonl(jsonl);
  std::vector<Step> steps;
  int64_t max_ts = kMinTime;
  for (size_t i = 0; i < all.size(); i += per_batch) {
    Step step;
    for (size_t j = i; j < std::min(all.size(), i + per_batch); ++j) {
      max_ts = std::max(max_ts, all[j].ts);
      step.records.push_back(all[j]);
    }
    step.watermark = max_ts - lag;
    steps.push_back(std::move(step));
  }
  return steps;
}

using Output = std::vector<std::vector<std::string>>;  // per port, records as JSON

Operator& op_of(Plan& plan) {
  for (PlanNode& node : plan.nodes) {
    if (node.id == "op") return *node.op;
  }
  FAIL("no operator `op` in the pipeline");
  throw;
}

void feed(Operator& op, const Step& step, CollectingEmitter& out) {
  auto b = std::make_shared<Batch>();
  b->records = step.records;
  b->watermark = step.watermark;
  op.process(0, b, out);
}

void append(Output& output, const CollectingEmitter& out) {
  if (output.size() < out.ports.size()) output.resize(out.ports.size());
  for (size_t p = 0; p < out.ports.size(); ++p) {
    for (const Record& r : out.ports[p]) {
      std::string json;
      append_record_json(json, r, "");
      output[p].push_back(std::move(json));
    }
  }
}

Output run_through(const std::string& yaml, const std::vector<Step>& steps) {
  auto plan = load_plan(yaml);
  CollectingEmitter out;
  for (const Step& step : steps) feed(op_of(*plan), step, out);
  op_of(*plan).finish(out);
  Output output;
  append(output, out);
  return output;
}

// Runs with a checkpoint and restart after `cut` batches; returns the output and the state.
std::pair<Output, std::string> run_with_restart(const std::string& yaml,
                                                const std::vector<Step>& steps, size_t cut) {
  Output output;
  StateWriter writer;
  {
    auto before = load_plan(yaml);
    CollectingEmitter out;
    for (size_t i = 0; i < cut; ++i) feed(op_of(*before), steps[i], out);
    REQUIRE(op_of(*before).has_state());
    op_of(*before).save_state(writer);
    append(output, out);
  }  // the first instance is gone: nothing can leak from it but the bytes
  const std::string state = writer.take();
  auto after = load_plan(yaml);
  StateReader reader(state);
  op_of(*after).load_state(reader);
  REQUIRE_FALSE(reader.failed());
  REQUIRE(reader.at_end());
  CollectingEmitter out;
  for (size_t i = cut; i < steps.size(); ++i) feed(op_of(*after), steps[i], out);
  op_of(*after).finish(out);
  Output rest;
  append(rest, out);
  if (output.size() < rest.size()) output.resize(rest.size());
  for (size_t p = 0; p < rest.size(); ++p) {
    output[p].insert(output[p].end(), rest[p].begin(), rest[p].end());
  }
  return {output, state};
}

// Every truncation of `state` is refused; every single corrupted byte loads without crashing.
void check_damaged_states(const std::string& yaml, const std::string& state) {
  auto plan = load_plan(yaml);
  Operator& op = op_of(*plan);
  for (size_t length = 0; length < state.size(); ++length) {
    StateReader reader(std::string_view(state).substr(0, length));
    op.load_state(reader);
    INFO("truncated to " << length << " of " << state.size() << " bytes");
    REQUIRE(reader.failed());
  }
  std::string corrupt = state;
  for (size_t i = 0; i < corrupt.size(); ++i) {
    corrupt[i] ^= '\xff';
    StateReader reader(corrupt);
    op.load_state(reader);  // may or may not fail; must not crash or allocate without bound
    corrupt[i] ^= '\xff';
  }
}

// A == B for a cut after every batch; then the damaged-state checks on the largest state.
// Returns the uninterrupted output, for the caller to check that the input covered its case.
Output check_restarts(const std::string& yaml, const std::vector<Step>& steps) {
  const Output expected = run_through(yaml, steps);
  std::string largest;
  for (size_t cut = 0; cut <= steps.size(); ++cut) {
    auto [output, state] = run_with_restart(yaml, steps, cut);
    INFO("checkpoint after batch " << cut << " of " << steps.size());
    REQUIRE(output == expected);
    if (state.size() > largest.size()) largest = state;
  }
  check_damaged_states(yaml, largest);
  return expected;
}

size_t count_containing(const std::vector<std::string>& lines, const std::string& text) {
  return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(text) != std::string::npos;
  }));
}

const std::string kHeader = "name: t\nsources: {e: {type: stdin}}\n";

}  // namespace

TEST_CASE("license_state resumes open checkouts, holders, queues and exhaustion from a checkpoint",
          "[checkpoint][operator-state][license_state]") {
  const std::string yaml = kHeader +
                           "features:\n"
                           "  MATLAB: {capacity: 2, dup_group: user_host}\n"
                           "  ansys: {capacity: 3}\n"
                           "operators:\n  op: {type: license_state, input: e}\n";
  const std::string f_ansys = R"("feature":"ansys")";
  const std::string f_matlab = R"("feature":"MATLAB")";
  const std::string events =
      ev("09:00", "checkout", f_ansys + R"(,"user":"u1","host":"h1","handle":"h-1","count":2)") +
      ev("09:01", "checkout", f_ansys + R"(,"user":"u2","host":"h2","group":"cfd")") +
      ev("09:00:30", "queued", f_ansys + R"(,"user":"u9")") +
      ev("09:02", "checkout", f_ansys + R"(,"user":"u3","handle":"h-3")") +
      ev("09:02:30", "checkout", f_ansys + R"(,"user":"u3","handle":"h-3")") +  // duplicate
      ev("09:03", "checkout", f_matlab + R"(,"user":"u1","host":"hA","count":1)") +
      ev("09:03:10", "checkout", f_matlab + R"(,"user":"u1","host":"hA","count":2)") +
      ev("09:04", "checkout", f_matlab + R"(,"user":"u2","host":"hB","project":"p7")") +
      ev("09:05", "denied", f_ansys + R"(,"user":"u4")") +
      ev("09:06", "checkin", f_ansys + R"(,"user":"u2","host":"h2")") +
      ev("09:05:30", "dequeued", f_ansys + R"(,"user":"u9")") +
      ev("09:07", "checkin", f_ansys + R"(,"handle":"h-1","reason":"inactive")") +
      ev("09:08", "checkout", R"("feature":"solidworks","user":"u5","capacity":1)") +
      ev("09:09", "checkin", f_matlab + R"(,"user":"u1","host":"hA","count":1)") +
      ev("09:10", "metric", R"("cpu":0.5)") + ev("09:11", "server_down", "") +
      ev("09:12", "checkout", f_ansys + R"(,"user":"u6","handle":"h-6")") +
      ev("09:13", "checkin", f_ansys + R"(,"handle":"nope")") +
      ev("08:50", "checkin", f_ansys + R"(,"user":"u7")") +  // late: applied at once
      ev("09:20", "checkout", f_matlab + R"(,"user":"u7","host":"hC")") +
      ev("09:21", "checkout", f_ansys + R"(,"user":"u8","host":"h8","count":2)") +
      ev("09:22", "checkout", f_ansys + R"(,"user":"u8","host":"h8","count":1)") +
      ev("09:19", "queued", f_ansys + R"(,"user":"u10")") +
      ev("09:25", "checkin", f_ansys + R"(,"user":"u8","host":"h8","count":1)") +
      ev("09:26", "checkout", f_ansys + R"(,"user":"u11","count":3)") +
      ev("09:30", "checkin", f_matlab + R"(,"user":"u7","host":"hC")");
  const Output out = check_restarts(yaml, batches(events, 2, at("00:05") - at("00:00")));
  REQUIRE(out.size() == 2);
  // The input reaches the states worth restoring: exhaustion edges both ways, a late record,
  // sessions closed by checkins and by server_down.
  CHECK(count_containing(out[0], "license_exhausted") == 4);
  CHECK(count_containing(out[0], "license_available") == 3);
  CHECK(count_containing(out[0], R"("late":true)") == 1);
  CHECK(count_containing(out[1], R"("end_reason":"server_down")") == 4);
  CHECK(out[1].size() == 9);
}

TEST_CASE("license_state resumes an in_use beyond the 64-bit limit exactly",
          "[checkpoint][operator-state][license_state]") {
  const std::string yaml = kHeader + "operators:\n  op: {type: license_state, input: e}\n";
  const std::string big = R"("feature":"tok","count":9223372036854775807)";
  const std::string events = ev("09:00", "checkout", big + R"(,"handle":"a")") +
                             ev("09:01", "checkout", big + R"(,"handle":"b")") +
                             ev("09:02", "checkout", R"("feature":"tok","handle":"c","count":2)") +
                             ev("09:03", "checkin", R"("feature":"tok","handle":"a")") +
                             ev("09:04", "checkin", R"("feature":"tok","handle":"b")");
  const Output out = check_restarts(yaml, batches(events, 1, at("00:01") - at("00:00")));
  REQUIRE(out[0].size() == 5);
  CHECK(out[0][3].find("\"in_use\":9223372036854775807") != std::string::npos);
  CHECK(out[0][4].find("\"in_use\":2") != std::string::npos);
}

TEST_CASE("window resumes tumbling windows, gauges, revisions and exact sets from a checkpoint",
          "[checkpoint][operator-state][window]") {
  const std::string yaml = kHeader +
                           "time: {allowed_lateness: 10m}\n"
                           "operators:\n  op:\n    type: window\n    input: e\n"
                           "    key: [feature]\n    size: 10m\n"
                           "    aggregates:\n"
                           "      n: count()\n"
                           "      big: count_if(v > 5)\n"
                           "      users: count_distinct(user)\n"
                           "      p90: quantile(v, 0.9)\n"
                           "      total: sum(v)\n"
                           "      low: min(v)\n"
                           "      mean: avg(v)\n"
                           "      first_user: first(user)\n"
                           "      last_user: last(user)\n"
                           "      peak: gauge_max(in_use)\n"
                           "      hours: gauge_integral(in_use, 1h)\n"
                           "      level: gauge_avg(in_use)\n";
  auto m = [](const std::string& time, const std::string& feature, const std::string& user,
              const std::string& v, const std::string& in_use) {
    return ev(time, "metric",
              R"("feature":")" + feature + R"(","user":")" + user + R"(","v":)" + v +
                  (in_use.empty() ? "" : R"(,"in_use":)" + in_use));
  };
  const std::string events =
      m("09:00", "a", "u1", "3", "2") + m("09:02", "b", "u2", "7.5", "") +
      m("09:01", "a", "u2", "9", "") + m("09:04", "a", "u1", "1", "4") +
      m("09:12", "b", "u3", "\"x\"", "1") + m("09:11", "a", "u3", "6", "0") +
      m("09:15", "a", "u1", "2", "3") + m("09:33", "b", "u1", "4", "") +
      m("09:27", "a", "u4", "8", "5") +    // watermark 09:28 after this batch
      m("09:24", "b", "u2", "1", "2") +    // late, its window not emitted yet: added
      m("09:05", "a", "u9", "100", "9") +  // late beyond allowed lateness: port late
      m("09:41", "a", "u2", "5", "0") +    // watermark 09:36: windows to 09:30 emitted
      m("09:25", "a", "u5", "7", "") +     // late, window kept: revision 1
      m("09:29", "b", "u5", "-3", "") +    // late, window kept: revision 1
      m("09:38", "b", "u5", "2.25", "0") + m("09:52", "c", "u6", "1", "1") +
      m("09:44", "a", "u2", "5", "1") + m("09:58", "c", "u6", "3", "");
  const Output out = check_restarts(yaml, batches(events, 3, at("00:05") - at("00:00")));
  REQUIRE(out.size() == 2);
  CHECK(count_containing(out[0], R"("revision":1)") == 2);
  CHECK(out[1].size() == 1);  // the 09:05 record, its window dropped at 09:20
  // Carried-only windows of a: [09:30, 09:40) (in_use 5 from 09:27), [09:50, 10:00) (1 from 09:44).
  CHECK(count_containing(out[0], R"("feature":"a","n":0,)") == 2);
}

TEST_CASE("window resumes sliding windows from a checkpoint",
          "[checkpoint][operator-state][window]") {
  const std::string yaml = kHeader +
                           "operators:\n  op:\n    type: window\n    input: e\n"
                           "    key: [feature]\n    size: 20m\n    slide: 5m\n"
                           "    aggregates:\n"
                           "      n: count()\n"
                           "      level: gauge_avg(in_use)\n"
                           "      p50: quantile(in_use, 0.5)\n";
  std::string events;
  // Three features in a fixed, shuffled arrival order; some records behind the watermark.
  // 09:02 arrives after watermark 09:37: every window of it has ended, so it goes to `late`.
  const int minutes[] = {0, 3, 1, 7, 12, 9, 15, 14, 22, 30, 26, 41, 2, 38, 47, 55};
  for (int i = 0; i < 16; ++i) {
    const std::string feature(1, static_cast<char>('a' + i % 3));
    char time[6];
    std::snprintf(time, sizeof time, "09:%02d", minutes[i]);
    events += ev(time, "metric",
                 R"("feature":")" + feature + R"(","in_use":)" + std::to_string((i * 7) % 5));
  }
  const Output out = check_restarts(yaml, batches(events, 2, at("00:04") - at("00:00")));
  REQUIRE(out.size() == 2);
  CHECK_FALSE(out[0].empty());
  CHECK(out[1].size() == 1);
}

TEST_CASE("threshold resumes pending and firing alerts from a checkpoint",
          "[checkpoint][operator-state][threshold]") {
  const std::string yaml = kHeader +
                           "operators:\n  op:\n    type: threshold\n    input: e\n"
                           "    key: [feature]\n    condition: in_use > 2\n    for: 10m\n"
                           "    message: \"{feature} at {in_use}\"\n";
  auto m = [](const std::string& time, const std::string& feature, int in_use) {
    return ev(time, "metric",
              R"("feature":")" + feature + R"(","in_use":)" + std::to_string(in_use));
  };
  const std::string events = m("09:00", "a", 3) + m("09:01", "b", 5) + m("09:00:30", "c", 4) +
                             m("09:04", "a", 4) + m("09:06", "c", 0) +  // c flaps: never fires
                             m("09:08", "b", 6) +
                             m("09:11", "a", 5) +  // a fires at 09:10, b at 09:11
                             m("09:09", "c", 3) + m("09:02", "a", 0) +  // late
                             m("09:15", "b", 1) +                       // b resolves
                             m("09:19", "c", 9) + m("09:20", "d", 3) + m("09:21", "b", 3) +
                             m("09:25", "a", 0) + m("09:27", "e", 4) + m("09:29", "d", 4);
  const Output out = check_restarts(yaml, batches(events, 2, at("00:03") - at("00:00")));
  REQUIRE(out.size() == 2);
  // a fires at 09:10 and b at 09:11 (a's episode started first), c at 09:19 (its first episode
  // flapped at 09:06); b resolves at 09:15, a at 09:25; d, the new b and e are still pending.
  CHECK(count_containing(out[0], R"("state":"firing")") == 3);
  CHECK(count_containing(out[0], R"("state":"resolved")") == 2);
  CHECK(out[1].size() == 1);  // a at 09:02, behind watermark 09:08
}

TEST_CASE("anomaly resumes ewma and seasonal baselines from a checkpoint",
          "[checkpoint][operator-state][anomaly]") {
  std::string events;
  // Two keys, values with a daily-looking pattern and spikes, pairs swapped out of order.
  for (int i = 0; i < 48; ++i) {
    const int j = i % 2 == 0 ? i + 1 : i - 1;
    char time[9];
    std::snprintf(time, sizeof time, "%02d:%02d:00", 9 + j * 5 / 60, j * 5 % 60);
    const int value = 10 + (j % 6) * 3 + (j % 17 == 0 ? 40 : 0) - (j % 23 == 0 ? 30 : 0);
    events += ev(time, "metric",
                 R"("feature":")" + std::string(j % 3 == 0 ? "a" : "b") + R"(","v":)" +
                     std::to_string(value));
  }
  const std::vector<Step> steps = batches(events, 4, at("00:06") - at("00:00"));
  const std::string ewma = kHeader +
                           "operators:\n  op:\n    type: anomaly\n    input: e\n"
                           "    key: [feature]\n    value: v\n    threshold: 2\n"
                           "    min_samples: 3\n";
  const std::string seasonal = kHeader +
                               "operators:\n  op:\n    type: anomaly\n    input: e\n"
                               "    key: [feature]\n    value: v\n    method: seasonal\n"
                               "    period: 30m\n    bucket: 5m\n    history: 3\n"
                               "    threshold: 1\n";
  const Output by_ewma = check_restarts(ewma, steps);
  const Output by_season = check_restarts(seasonal, steps);
  CHECK(by_ewma.at(0).size() >= 3);
  CHECK(by_season.at(0).size() >= 3);
}

TEST_CASE("dedup resumes its remembered keys from a checkpoint",
          "[checkpoint][operator-state][dedup]") {
  const std::string yaml = kHeader +
                           "time: {max_out_of_orderness: 2m}\n"
                           "operators:\n  op: {type: dedup, input: e, key: [user, feature], "
                           "within: 5m}\n";
  auto d = [](const std::string& time, const std::string& user) {
    return ev(time, "denied", R"("feature":"f","user":")" + user + "\"");
  };
  const std::string events = d("09:00", "u1") + d("09:01", "u2") + d("09:03", "u1") +
                             d("09:02", "u2") + d("09:05", "u1") + d("09:04:59", "u2") +
                             d("09:06", "u2") + d("09:09", "u1") + d("09:10", "u3") +
                             d("09:08", "u1") + d("09:14", "u1") + d("09:12", "u3");
  const Output out = check_restarts(yaml, batches(events, 2, 0));
  // Passed: u1 09:00, u2 09:01, u1 09:05, u2 09:06, u3 09:10, u1 09:14 (09:09 and 09:08 are
  // within 5m of 09:05).
  REQUIRE(out.size() == 1);
  CHECK(out[0].size() == 6);
}

TEST_CASE("a checkpoint does not load into an operator with a different number of inputs",
          "[checkpoint][operator-state]") {
  const std::string window =
      "    type: window\n    key: [feature]\n    size: 10m\n"
      "    aggregates: {n: count()}\n";
  auto saved = load_plan(kHeader + "operators:\n  op:\n    input: e\n" + window);
  const std::vector<Step> steps = batches(ev("09:00", "metric", R"("feature":"a")"), 1, 0);
  CollectingEmitter out;
  feed(op_of(*saved), steps[0], out);
  StateWriter writer;
  op_of(*saved).save_state(writer);

  auto two_inputs = load_plan(
      "name: t\nsources: {e: {type: stdin}, f: {type: stdin}}\n"
      "operators:\n  op:\n    input: [e, f]\n" +
      window);
  StateReader reader(writer.bytes());
  op_of(*two_inputs).load_state(reader);
  CHECK(reader.failed());

  // The same bytes load into the same pipeline.
  auto same = load_plan(kHeader + "operators:\n  op:\n    input: e\n" + window);
  StateReader again(writer.bytes());
  op_of(*same).load_state(again);
  CHECK_FALSE(again.failed());
}

TEST_CASE("a window checkpoint does not load into a window with other aggregates",
          "[checkpoint][operator-state][window]") {
  auto yaml = [](const std::string& aggregates) {
    return kHeader +
           "operators:\n  op:\n    type: window\n    input: e\n    key: [feature]\n"
           "    size: 10m\n    aggregates: " +
           aggregates + "\n";
  };
  auto saved = load_plan(yaml("{n: count(), s: sum(v)}"));
  CollectingEmitter out;
  feed(op_of(*saved), batches(ev("09:00", "metric", R"("feature":"a","v":1)"), 1, 0)[0], out);
  StateWriter writer;
  op_of(*saved).save_state(writer);
  for (const char* other : {"{n: count()}", "{n: count(), s: max(v)}"}) {
    auto plan = load_plan(yaml(other));
    StateReader reader(writer.bytes());
    op_of(*plan).load_state(reader);
    INFO(other);
    CHECK(reader.failed());
  }
}
