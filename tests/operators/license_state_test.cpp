// SPEC §5 license_state, rule by rule, with hand-computed expectations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

namespace {

struct Harness {
  std::unique_ptr<Plan> plan;
  CollectingEmitter out;

  explicit Harness(const std::string& features = "") {
    plan = load_plan("name: t\n" + features +
                     "sources: {e: {type: stdin}}\n"
                     "operators:\n  state: {type: license_state, input: e}\n");
  }
  Operator& op() { return *plan->nodes[1].op; }

  // Feeds JSON lines as one batch whose watermark is `watermark`.
  void feed(const std::string& jsonl, int64_t watermark) {
    auto b = std::make_shared<Batch>();
    b->records = records_from_jsonl(jsonl);
    b->watermark = watermark;
    op().process(0, b, out);
  }
  void run(const std::string& jsonl) {
    feed(jsonl, kMinTime);
    op().finish(out);
  }
  std::vector<Record>& records() { return out.port(0); }
  std::vector<Record>& sessions() { return out.port(1); }
};

const Value& get(const Record& r, const char* name) {
  static const Value kMissing("<missing>");
  const Value* v = r.find(intern_field(name));
  return v != nullptr ? *v : kMissing;
}

std::string type_of(const Record& r) { return get(r, "type").as_string(); }

std::vector<std::string> types(const std::vector<Record>& rs) {
  std::vector<std::string> out;
  for (const Record& r : rs) out.push_back(type_of(r));
  return out;
}

std::vector<int64_t> in_use(const std::vector<Record>& rs) {
  std::vector<int64_t> out;
  for (const Record& r : rs) out.push_back(get(r, "in_use").as_int());
  return out;
}

// A license_state reading two filters of one source, `a` (where `a_where`) and `b` (the rest).
std::unique_ptr<Plan> two_input_state(const std::string& a_where) {
  return load_plan("name: t\nsources: {e: {type: stdin}}\noperators:\n"
                   "  a: {type: filter, input: e, where: \"" + a_where + "\"}\n"
                   "  b: {type: filter, input: e, where: \"not (" + a_where + ")\"}\n"
                   "  state: {type: license_state, input: [a, b]}\n");
}

Operator& state_of(Plan& plan) {
  Operator* state = nullptr;
  for (PlanNode& n : plan.nodes) {
    if (n.id == "state") state = n.op.get();
  }
  REQUIRE(state != nullptr);
  return *state;
}

}  // namespace

TEST_CASE("checkouts and checkins by handle keep in_use, available and utilization",
          "[license_state][spec-5]") {
  Harness h("features: {cad: {capacity: 4}}\n");
  h.run(R"({"ts":1,"type":"checkout","feature":"cad","handle":"a","count":3,"user":"u1"}
{"ts":2,"type":"checkout","feature":"cad","handle":"b"}
{"ts":3,"type":"checkin","feature":"cad","handle":"a"}
{"ts":4,"type":"denied","feature":"cad","user":"u2"}
)");
  auto& out = h.records();
  REQUIRE(types(out) == std::vector<std::string>{"checkout", "checkout", "license_exhausted",
                                                 "checkin", "license_available", "denied"});
  CHECK(in_use(out) == std::vector<int64_t>{3, 4, 4, 1, 1, 1});
  CHECK(get(out[0], "capacity").as_int() == 4);
  CHECK(get(out[0], "available").as_int() == 1);
  CHECK(get(out[0], "utilization").as_double() == 0.75);
  CHECK(get(out[0], "queued").as_int() == 0);
  CHECK(get(out[2], "available").as_int() == 0);
  CHECK(out[2].ts == 2);  // a derived record carries the ts of the record that caused it
  CHECK(out[4].ts == 3);
  // Derived records carry exactly these fields.
  std::vector<std::string> names;
  for (const Field& f : out[2].fields()) names.emplace_back(field_name(f.id));
  CHECK(names == std::vector<std::string>{"type", "server", "feature", "in_use", "capacity",
                                          "available", "utilization", "queued"});
  CHECK_FALSE(out[0].find(field::kLate));
}

TEST_CASE("a batch held only by license_state is annotated in place; a shared one is left as it is",
          "[license_state]") {
  const std::string jsonl =
      R"({"ts":1000,"type":"checkout","feature":"f","user":"u","handle":"h","capacity":2})"
      "\n"
      R"({"ts":3000,"type":"metric","server":"s","cpu":0.5})"
      "\n"
      R"({"ts":2000,"type":"checkin","feature":"f","user":"u","handle":"h"})"
      "\n";
  // Shared: the caller keeps a reference, so the operator copies what it passes on.
  Harness shared;
  auto kept = std::make_shared<Batch>();
  kept->records = records_from_jsonl(jsonl);
  const BatchPtr kept_ptr = kept;
  shared.op().process(0, kept_ptr, shared.out);
  shared.op().finish(shared.out);
  CHECK(kept->records == records_from_jsonl(jsonl));

  // Held by no one else: the records are moved out, and the output is the same.
  Harness owned;
  auto b = std::make_shared<Batch>();
  b->records = records_from_jsonl(jsonl);
  const BatchPtr only = std::move(b);
  REQUIRE(only.use_count() == 1);
  owned.op().process(0, only, owned.out);
  owned.op().finish(owned.out);
  CHECK(only->records[0].fields().empty());  // taken, not copied
  REQUIRE(shared.records().size() == 3);
  CHECK(owned.records() == shared.records());
  CHECK(owned.sessions() == shared.sessions());
  CHECK(types(owned.records()) == std::vector<std::string>{"checkout", "checkin", "metric"});
  CHECK(in_use({owned.records()[0], owned.records()[1]}) == std::vector<int64_t>{1, 0});
}

TEST_CASE("capacity is null until known; an event's capacity wins over the inventory",
          "[license_state][spec-5]") {
  Harness h("features: {b: {capacity: 10}}\n");
  h.run(R"({"ts":1,"type":"checkout","feature":"a"}
{"ts":2,"type":"checkout","feature":"a","capacity":1}
{"ts":3,"type":"checkout","feature":"b"}
{"ts":4,"type":"checkout","feature":"b","capacity":0}
)");
  auto& out = h.records();
  REQUIRE(types(out) == std::vector<std::string>{"checkout", "checkout", "license_exhausted",
                                                 "checkout", "checkout", "license_exhausted"});
  CHECK(get(out[0], "capacity").is_null());
  CHECK(get(out[0], "available").is_null());
  CHECK(get(out[0], "utilization").is_null());
  // The first record that makes capacity known can exhaust: available = 1 - 2 = -1, not clamped.
  CHECK(get(out[1], "available").as_int() == -1);
  CHECK(get(out[1], "utilization").as_double() == 2.0);
  CHECK(get(out[3], "capacity").as_int() == 10);
  CHECK(get(out[4], "utilization").is_null());  // capacity 0
}

TEST_CASE("a checkout with an open handle is a duplicate: emitted, otherwise ignored",
          "[license_state][spec-5]") {
  Harness h;
  h.run(R"({"ts":1,"type":"checkout","feature":"f","handle":"h","count":2}
{"ts":2,"type":"checkout","feature":"f","handle":"h","count":5}
{"ts":3,"type":"checkin","feature":"f","handle":"h"}
{"ts":4,"type":"checkout","feature":"f","handle":"h"}
)");
  CHECK(in_use(h.records()) == std::vector<int64_t>{2, 2, 0, 1});
  REQUIRE(h.sessions().size() == 1);
  CHECK(get(h.sessions()[0], "count").as_int() == 2);
  CHECK(h.op().dropped() == 1);  // counted: the run summary's "skipped"
}

TEST_CASE("a checkin without handle closes the oldest checkout of the same user and host",
          "[license_state][spec-5]") {
  Harness h;
  h.run(R"({"ts":1,"type":"checkout","feature":"f","user":"u","host":"x","count":60,"handle":"a"}
{"ts":2,"type":"checkout","feature":"f","user":"u","host":"x","count":13}
{"ts":3,"type":"checkout","feature":"f","user":"u","count":7}
{"ts":4,"type":"checkin","feature":"f","user":"u","host":"x","count":13}
{"ts":5,"type":"checkin","feature":"f","user":"u"}
{"ts":6,"type":"checkin","feature":"f","user":"u","host":"x"}
{"ts":7,"type":"checkin","feature":"f","user":"u","host":"x"}
)");
  // 60 (+handle), 13, 7 (no host). The checkin with count 13 takes the 13 although 60 is older;
  // the host-less checkin matches the host-less checkout; the last checkin matches nothing.
  CHECK(in_use(h.records()) == std::vector<int64_t>{60, 73, 80, 67, 60, 0, 0});
  CHECK(h.op().dropped() == 1);  // the unmatched checkin, counted
  REQUIRE(h.sessions().size() == 3);
  CHECK(get(h.sessions()[0], "count").as_int() == 13);
  CHECK(get(h.sessions()[1], "count").as_int() == 7);
  CHECK(get(h.sessions()[1], "host").is_null());
  CHECK(get(h.sessions()[2], "count").as_int() == 60);
}

TEST_CASE("a checkin with an unknown handle is unmatched even if the user holds a handle-less "
          "checkout", "[license_state][spec-5]") {
  Harness h;
  h.run(R"({"ts":1,"type":"checkout","feature":"f","user":"u"}
{"ts":2,"type":"checkin","feature":"f","user":"u","handle":"zz"}
)");
  CHECK(in_use(h.records()) == std::vector<int64_t>{1, 1});
  CHECK(h.sessions().empty());
  CHECK(h.op().dropped() == 1);
}

TEST_CASE("a checkin without count and no count match closes the oldest", "[license_state]") {
  Harness h;
  h.run(R"({"ts":5,"type":"checkout","feature":"f","user":"u","count":2}
{"ts":1,"type":"checkout","feature":"f","user":"u","count":3}
{"ts":9,"type":"checkin","feature":"f","user":"u","count":4}
)");
  // Processed in ts order: count 3 at ts 1 is the oldest; no checkout has count 4.
  CHECK(in_use(h.records()) == std::vector<int64_t>{3, 5, 2});
  REQUIRE(h.sessions().size() == 1);
  CHECK(get(h.sessions()[0], "count").as_int() == 3);
}

TEST_CASE("dup_group counts each holder once with its largest count", "[license_state][spec-5]") {
  SECTION("user_host") {
    Harness h("features: {MATLAB: {capacity: 85, dup_group: user_host}}\n");
    h.run(R"({"ts":1,"type":"checkout","feature":"MATLAB","user":"u","host":"a","handle":"1"}
{"ts":2,"type":"checkout","feature":"MATLAB","user":"u","host":"a","handle":"2"}
{"ts":3,"type":"checkout","feature":"MATLAB","user":"u","host":"a","handle":"3","count":2}
{"ts":4,"type":"checkout","feature":"MATLAB","user":"u","host":"b","handle":"4"}
{"ts":5,"type":"checkin","feature":"MATLAB","handle":"3"}
{"ts":6,"type":"checkin","feature":"MATLAB","handle":"1"}
{"ts":7,"type":"checkin","feature":"MATLAB","handle":"2"}
)");
    CHECK(in_use(h.records()) == std::vector<int64_t>{1, 1, 2, 3, 2, 2, 1});
  }
  SECTION("user") {
    Harness h("features: {M: {dup_group: user}}\n");
    h.run(R"({"ts":1,"type":"checkout","feature":"M","user":"u","host":"a"}
{"ts":2,"type":"checkout","feature":"M","user":"u","host":"b"}
{"ts":3,"type":"checkout","feature":"M","user":"v","host":"b"}
)");
    CHECK(in_use(h.records()) == std::vector<int64_t>{1, 1, 2});
  }
  SECTION("host") {
    Harness h("features: {M: {dup_group: host}}\n");
    h.run(R"({"ts":1,"type":"checkout","feature":"M","user":"u","host":"a"}
{"ts":2,"type":"checkout","feature":"M","user":"v","host":"a"}
{"ts":3,"type":"checkout","feature":"M","user":"v","host":"b"}
)");
    CHECK(in_use(h.records()) == std::vector<int64_t>{1, 1, 2});
  }
}

TEST_CASE("64-bit counts", "[license_state][spec-1][spec-5]") {
  Harness h;
  h.run(R"({"ts":1,"type":"checkout","feature":"tok","count":5000000000,"handle":"a"}
{"ts":2,"type":"checkout","feature":"tok","count":5000000000,"handle":"b"}
)");
  CHECK(in_use(h.records()) == std::vector<int64_t>{5'000'000'000, 10'000'000'000});
}

TEST_CASE("server_down closes everything on its server, feature by feature",
          "[license_state][spec-5]") {
  Harness h("features: {b: {capacity: 1}}\n");
  h.run(R"({"ts":1,"type":"checkout","feature":"c","user":"u1","handle":"1"}
{"ts":2,"type":"checkout","feature":"b","user":"u2","handle":"2","group":"cfd"}
{"ts":3,"type":"checkout","feature":"a","server":"other","handle":"3"}
{"ts":4,"type":"queued","feature":"b","user":"u3"}
{"ts":10,"type":"server_down","reason":"crash"}
)");
  auto& out = h.records();
  REQUIRE(types(out) == std::vector<std::string>{"checkout", "checkout", "license_exhausted",
                                                 "checkout", "queued", "server_down",
                                                 "server_down", "license_available",
                                                 "server_down"});
  // The event itself, unannotated.
  CHECK_FALSE(out[5].find(intern_field("in_use")));
  // Then per feature in name order (b before c): the copy with the state after the close.
  CHECK(get(out[6], "feature").as_string() == "b");
  CHECK(get(out[6], "in_use").as_int() == 0);
  CHECK(get(out[6], "queued").as_int() == 1);  // server_down leaves the queue
  CHECK(get(out[7], "feature").as_string() == "b");
  CHECK(get(out[8], "feature").as_string() == "c");
  CHECK(out[8].ts == 10);
  REQUIRE(h.sessions().size() == 2);
  const Record& s = h.sessions()[0];
  CHECK(get(s, "type").as_string() == "session");
  CHECK(get(s, "feature").as_string() == "b");
  CHECK(get(s, "end_reason").as_string() == "server_down");
  CHECK(get(s, "group").as_string() == "cfd");
  CHECK(get(s, "project").is_null());
  CHECK(get(s, "start").as_string() == "1970-01-01T00:00:00.002Z");
  CHECK(get(s, "end").as_string() == "1970-01-01T00:00:00.010Z");
  CHECK(get(s, "duration_s").as_double() == 0.008);
  CHECK(s.ts == 10);
  // The other server's checkout survives.
  h.feed(R"({"ts":11,"type":"checkin","feature":"a","server":"other","handle":"3"})", kMinTime);
  h.op().finish(h.out);
  CHECK(get(h.records().back(), "in_use").as_int() == 0);
  CHECK(h.sessions().size() == 3);
}

TEST_CASE("sessions carry the checkout's fields and the checkin's reason",
          "[license_state][spec-5]") {
  Harness h;
  h.run(R"({"ts":1000,"type":"checkout","feature":"f","user":"u","host":"h","group":"g","project":"p","count":2,"handle":"x"}
{"ts":3601500,"type":"checkin","feature":"f","handle":"x","reason":"inactive","user":"other"}
{"ts":3700000,"type":"checkout","feature":"f","user":"u"}
{"ts":3700001,"type":"checkin","feature":"f","user":"u"}
)");
  REQUIRE(h.sessions().size() == 2);
  const Record& s = h.sessions()[0];
  std::vector<std::string> names;
  for (const Field& f : s.fields()) names.emplace_back(field_name(f.id));
  CHECK(names == std::vector<std::string>{"type", "server", "feature", "user", "host", "group",
                                          "project", "count", "start", "end", "duration_s",
                                          "end_reason"});
  CHECK(get(s, "user").as_string() == "u");
  CHECK(get(s, "server").as_string() == "default");
  CHECK(get(s, "duration_s").as_double() == 3600.5);
  CHECK(get(s, "end_reason").as_string() == "inactive");
  CHECK(get(h.sessions()[1], "end_reason").as_string() == "checkin");
  CHECK(get(h.sessions()[1], "count").as_int() == 1);
}

TEST_CASE("queued and dequeued move the queue, never below zero", "[license_state][spec-5]") {
  Harness h;
  h.run(R"({"ts":1,"type":"queued","feature":"f"}
{"ts":2,"type":"queued","feature":"f"}
{"ts":3,"type":"dequeued","feature":"f"}
{"ts":4,"type":"dequeued","feature":"f"}
{"ts":5,"type":"dequeued","feature":"f"}
)");
  std::vector<int64_t> q;
  for (const Record& r : h.records()) q.push_back(get(r, "queued").as_int());
  CHECK(q == std::vector<int64_t>{1, 2, 1, 0, 0});
}

TEST_CASE("records are processed in event-time order once the watermark passes them",
          "[license_state][spec-2]") {
  Harness h;
  h.feed(R"({"ts":20,"type":"checkout","feature":"f","handle":"b"}
{"ts":10,"type":"checkout","feature":"f","handle":"a"}
)", 5);
  CHECK(h.records().empty());  // both held: the watermark (5) has not reached them
  h.feed(R"({"ts":15,"type":"checkin","feature":"f","handle":"a"})", 15);
  REQUIRE(h.records().size() == 2);  // ts 10 and 15 released, 20 still held
  CHECK(h.records()[0].ts == 10);
  CHECK(h.records()[1].ts == 15);
  h.op().finish(h.out);
  REQUIRE(h.records().size() == 3);
  CHECK(h.records()[2].ts == 20);
  CHECK(in_use(h.records()) == std::vector<int64_t>{1, 0, 1});
}

TEST_CASE("a late record is applied at once and everything it causes is marked late",
          "[license_state][spec-2]") {
  Harness h("features: {f: {capacity: 1}}\n");
  h.feed(R"({"ts":100,"type":"checkout","feature":"f","handle":"a"})", 100);
  // ts 50 < watermark 100: late. The checkin must not be lost.
  h.feed(R"({"ts":50,"type":"checkin","feature":"f","handle":"a"}
{"ts":100,"type":"denied","feature":"f"})", 100);
  auto& out = h.records();
  REQUIRE(types(out) == std::vector<std::string>{"checkout", "license_exhausted", "checkin",
                                                 "license_available", "denied"});
  CHECK_FALSE(out[0].find(field::kLate));
  CHECK(out[2].find(field::kLate)->is_true());
  CHECK(out[3].find(field::kLate)->is_true());
  REQUIRE(h.sessions().size() == 1);
  CHECK(h.sessions()[0].find(field::kLate)->is_true());
  // ts == watermark is on time.
  CHECK_FALSE(out[4].find(field::kLate));
}

TEST_CASE("records not about a feature pass unannotated", "[license_state][spec-5]") {
  Harness h;
  h.run(R"({"ts":1,"type":"metric","response_time_ms":40}
{"ts":2,"type":"server_up"}
)");
  REQUIRE(h.records().size() == 2);
  CHECK_FALSE(h.records()[0].find(intern_field("in_use")));
  CHECK_FALSE(h.records()[1].find(intern_field("in_use")));
}

TEST_CASE("with nothing reading `sessions`, no session is built and `out` is unchanged",
          "[license_state][spec-5]") {
  const std::string events = R"({"ts":1,"type":"checkout","feature":"f","handle":"a","count":2}
{"ts":2,"type":"checkout","feature":"f","user":"u","host":"x"}
{"ts":3,"type":"checkin","feature":"f","handle":"a"}
{"ts":4,"type":"checkout","feature":"g","handle":"b"}
{"ts":5,"type":"server_down"}
{"ts":6,"type":"checkout","feature":"f","handle":"a"}
)";
  Harness read;
  read.run(events);
  Harness unread;
  unread.op().set_consumed_ports({true, false});
  unread.run(events);
  REQUIRE(read.sessions().size() == 3);  // a by checkin; the other f and g by server_down
  CHECK(unread.sessions().empty());
  CHECK(unread.records() == read.records());
  CHECK(types(unread.records()) ==
        std::vector<std::string>{"checkout", "checkout", "checkin", "checkout", "server_down",
                                 "server_down", "server_down", "checkout"});
  CHECK(get(unread.records()[5], "in_use").as_int() == 0);
  CHECK(get(unread.records()[7], "in_use").as_int() == 1);
}

TEST_CASE("license_state with several inputs holds records until every input's watermark passes",
          "[license_state][spec-2][spec-5]") {
  // SPEC §2: an operator with several inputs uses the minimum of their watermarks. Input `a` is
  // far ahead (50000); the checkin on input `b` at 2000 is on time and comes before the metric.
  auto plan = two_input_state("type != 'checkin'");
  Operator* state = &state_of(*plan);
  CollectingEmitter out;
  auto from_a = std::make_shared<Batch>();
  from_a->records = records_from_jsonl(
      "{\"ts\":1000,\"type\":\"checkout\",\"feature\":\"f\",\"handle\":\"x\"}\n"
      "{\"ts\":50000,\"type\":\"metric\"}\n");
  from_a->watermarks = {kMinTime, 2000};
  from_a->watermark = 50000;
  state->process(0, from_a, out);
  CHECK(out.port(0).empty());  // input b has sent no watermark yet: everything is held

  auto from_b = std::make_shared<Batch>();
  from_b->records =
      records_from_jsonl("{\"ts\":2000,\"type\":\"checkin\",\"feature\":\"f\",\"handle\":\"x\"}\n");
  from_b->watermarks = {1000};
  from_b->watermark = 50000;
  state->process(1, from_b, out);
  state->finish(out);

  CHECK(types(out.port(0)) == std::vector<std::string>{"checkout", "checkin", "metric"});
  CHECK(get(out.port(0)[1], "in_use").as_int() == 0);
  CHECK(get(out.port(0)[1], "late").is_string());  // "<missing>": not late
  CHECK(state->late_records() == 0);
}

TEST_CASE("in_use shows at most the 64-bit limit, and the sum beneath stays exact",
          "[license_state][spec-5]") {
  SECTION("every checkout counts") {
    Harness h;
    h.run(R"({"ts":1,"type":"checkout","feature":"f","handle":"a","count":9223372036854775807}
{"ts":2,"type":"checkout","feature":"f","handle":"b","count":1}
{"ts":3,"type":"checkin","feature":"f","handle":"b"}
{"ts":4,"type":"checkout","feature":"f","handle":"c","count":1}
{"ts":5,"type":"checkin","feature":"f","handle":"a"}
)");
    // Past the limit the records show the limit, and a's checkin leaves exactly c's 1.
    CHECK(in_use(h.records()) == std::vector<int64_t>{INT64_MAX, INT64_MAX, INT64_MAX,
                                                      INT64_MAX, 1});
  }
  SECTION("dup_group") {
    Harness h("features: {f: {dup_group: user}}\n");
    h.run(R"({"ts":1,"type":"checkout","feature":"f","user":"u","handle":"a","count":9223372036854775807}
{"ts":2,"type":"checkout","feature":"f","user":"v","handle":"b","count":4611686018427387904}
{"ts":3,"type":"checkin","feature":"f","handle":"a"}
)");
    CHECK(in_use(h.records()) == std::vector<int64_t>{INT64_MAX, INT64_MAX, 4611686018427387904});
  }
}

TEST_CASE("checkins without a handle match the same checkouts before and after the user/host "
          "index is built", "[license_state][spec-5]") {
  // A FlexNet-like stream, no handles: the first checkins walk the open checkouts, and once the
  // walks cost enough the index takes over. A reference model of the SPEC §5 rule (the oldest
  // open checkout of the same user and host, preferring the checkin's count) predicts every
  // in_use, and the count each checkin closes.
  std::mt19937 rng(7);
  struct Open {
    int64_t ts;
    int user, host;
    int64_t count;
  };
  std::vector<Open> open;  // oldest first, like the operator's (ts, arrival) order
  std::string input;
  std::vector<int64_t> want_in_use;
  int64_t total = 0;
  for (int64_t ts = 1; ts <= 6000; ++ts) {
    const int user = static_cast<int>(rng() % 40), host = static_cast<int>(rng() % 3);
    const int64_t count = 1 + static_cast<int64_t>(rng() % 3);
    const bool checkout = open.size() < 150 && (open.size() < 50 || rng() % 2 == 0);
    std::string who = "\"user\":\"u" + std::to_string(user) + "\",\"host\":\"h" +
                      std::to_string(host) + "\"";
    if (checkout) {
      input += "{\"ts\":" + std::to_string(ts) + ",\"type\":\"checkout\",\"feature\":\"f\"," + who +
               ",\"count\":" + std::to_string(count) + "}\n";
      open.push_back({ts, user, host, count});
      total += count;
    } else {
      const bool with_count = rng() % 2 == 0;
      input += "{\"ts\":" + std::to_string(ts) + ",\"type\":\"checkin\",\"feature\":\"f\"," + who +
               (with_count ? ",\"count\":" + std::to_string(count) : std::string()) + "}\n";
      auto same = [&](const Open& o) { return o.user == user && o.host == host; };
      auto it = std::find_if(open.begin(), open.end(), [&](const Open& o) {
        return same(o) && (!with_count || o.count == count);
      });
      if (it == open.end()) it = std::find_if(open.begin(), open.end(), same);
      if (it != open.end()) {
        total -= it->count;
        open.erase(it);
      }
    }
    want_in_use.push_back(total);
  }
  Harness h;
  h.run(input);
  CHECK(in_use(h.records()) == want_in_use);
}

TEST_CASE("records of one ts from several inputs go in input order, whichever batch comes first",
          "[license_state][spec-2][spec-8]") {
  // SPEC §8: output does not depend on --threads, i.e. on which input's batch the scheduler
  // delivers first. A checkout on input `a` and the checkin of it on `b`, both at ts 1000.
  auto run = [](bool b_first) {
    auto plan = two_input_state("type == 'checkout'");
    Operator* state = &state_of(*plan);
    auto from_a = std::make_shared<Batch>();
    from_a->records = records_from_jsonl(
        "{\"ts\":1000,\"type\":\"checkout\",\"feature\":\"f\",\"handle\":\"x\"}\n");
    auto from_b = std::make_shared<Batch>();
    from_b->records = records_from_jsonl(
        "{\"ts\":1000,\"type\":\"checkin\",\"feature\":\"f\",\"handle\":\"x\"}\n");
    CollectingEmitter out;
    if (b_first) state->process(1, from_b, out);
    state->process(0, from_a, out);
    if (!b_first) state->process(1, from_b, out);
    state->finish(out);
    return std::make_pair(types(out.port(0)), in_use(out.port(0)));
  };
  const auto a_first = run(false);
  CHECK(a_first.first == std::vector<std::string>{"checkout", "checkin"});
  CHECK(a_first.second == std::vector<int64_t>{1, 0});
  CHECK(run(true) == a_first);
}
