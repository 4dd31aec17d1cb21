// SPEC §5 cost: each cost model, month splitting, allocation, budgets and config errors, with
// hand-computed expectations.
#include <catch2/catch.hpp>

#include "engine/time_format.h"
#include "engine/time_ordered_operator.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

namespace {

int64_t at(const std::string& rfc3339) { return *parse_rfc3339(rfc3339); }

// A session record as license_state writes it (SPEC §5), from `start` to `end` (RFC 3339).
Record session(const std::string& start, const std::string& end, const std::string& feature,
               const std::string& group = "", int64_t count = 1, const std::string& server = "s1") {
  Record r;
  r.ts = at(end);
  r.append(field::kType, Value("session"));
  r.append(field::kServer, Value(server));
  r.append(field::kFeature, Value(feature));
  r.append(field::kUser, Value("ann"));
  r.append(field::kHost, Value());
  r.append(field::kGroup, group.empty() ? Value() : Value(group));
  r.append(field::kProject, Value());
  r.append(field::kCount, Value(count));
  r.append(intern_field("start"), Value(start));
  r.append(intern_field("end"), Value(end));
  r.append(intern_field("duration_s"), Value(static_cast<double>(at(end) - at(start)) / 1000));
  r.append(intern_field("end_reason"), Value("checkin"));
  return r;
}

const Value& get(const Record& r, const char* name) {
  static const Value kMissing("<missing>");
  const Value* v = r.find(intern_field(name));
  return v != nullptr ? *v : kMissing;
}

double cost_of(const Record& r) { return get(r, "cost").as_number(); }

const std::string kInventory =
    "features:\n"
    "  matlab:\n"
    "    cost: {model: tiered, tiers: [{up_to_hours: 100, per_hour: 5.0}, {per_hour: 4.5}]}\n"
    "  ansys:\n"
    "    cost: {model: usage, per_hour: 12.0, minimum_hours: 1}\n"
    "  solidworks: {capacity: 20, cost: {model: subscription, per_month: 20832}}\n"
    "  flat: {cost: {model: subscription, per_month: 696}}\n"
    "  peaky:\n"
    "    cost: {model: tiered, tiers: [{up_to_hours: 1, per_hour: 10}, {per_hour: 1}]}\n"
    "  viewer: {capacity: 5}\n";

struct Harness {
  std::unique_ptr<Plan> plan;
  CollectingEmitter out;

  // `spec` holds the cost operator's keys besides type and input, indented by four spaces.
  explicit Harness(const std::string& spec = "") {
    plan = load_plan("name: t\n" + kInventory +
                     "sources: {e: {type: stdin}}\n"
                     "operators:\n  spend:\n    type: cost\n    input: e\n" +
                     spec);
  }
  Operator& op() { return *plan->nodes[1].op; }

  void feed(std::vector<Record> records, int64_t watermark) {
    auto b = std::make_shared<Batch>();
    b->records = std::move(records);
    b->watermark = watermark;
    op().process(0, b, out);
  }
  void run(std::vector<Record> records) {
    feed(std::move(records), kMinTime);
    op().finish(out);
  }
  std::vector<Record>& sessions() { return out.port(0); }
  std::vector<Record>& alerts() { return out.port(1); }
};

}  // namespace

TEST_CASE("usage costs per_hour x count x hours, at least minimum_hours per license",
          "[cost][spec-5]") {
  Harness h;
  h.run({session("2026-01-05T09:00:00Z", "2026-01-05T11:30:00Z", "ansys"),         // 2.5 h
         session("2026-01-05T12:00:00Z", "2026-01-05T12:20:00Z", "ansys"),         // 1/3 h
         session("2026-01-05T13:00:00Z", "2026-01-05T15:00:00Z", "ansys", "", 5),  // 5 x 2 h
         session("2026-01-05T16:00:00Z", "2026-01-05T16:30:00Z", "ansys", "", 2),  // 2 x min
         session("2026-01-05T17:00:00Z", "2026-01-05T17:00:00Z", "ansys")});       // 0 h
  REQUIRE(h.sessions().size() == 5);
  CHECK(cost_of(h.sessions()[0]) == 30.0);   // 12 x 2.5
  CHECK(cost_of(h.sessions()[1]) == 12.0);   // 12 x max(1/3, 1)
  CHECK(cost_of(h.sessions()[2]) == 120.0);  // 12 x 5 x 2
  CHECK(cost_of(h.sessions()[3]) == 24.0);   // 12 x 2 x max(0.5, 1)
  CHECK(cost_of(h.sessions()[4]) == 12.0);
  CHECK(h.alerts().empty());
}

TEST_CASE("tiered rates fall as the feature's license-hours in the month pass each tier",
          "[cost][spec-5]") {
  Harness h;
  // Arrival order B, A, but A ends first: pricing follows event time (the session's end).
  Record b = session("2026-01-10T00:00:00Z", "2026-01-12T02:00:00Z", "matlab", "", 1, "s2");
  Record a = session("2026-01-03T00:00:00Z", "2026-01-04T06:00:00Z", "matlab", "", 2);
  Record c = session("2026-01-20T00:00:00Z", "2026-01-20T10:00:00Z", "matlab");
  Record feb = session("2026-02-02T00:00:00Z", "2026-02-02T10:00:00Z", "matlab");
  h.run({b, a, c, feb});
  REQUIRE(h.sessions().size() == 4);
  CHECK(get(h.sessions()[0], "server").as_string() == "s1");
  // A: 2 licenses x 30 h = 60 license-hours, all in tier 1: 60 x 5.
  CHECK(cost_of(h.sessions()[0]) == 300.0);
  // B (another server, same feature counter): 50 h from 60 crosses 100: 40 x 5 + 10 x 4.5.
  CHECK(cost_of(h.sessions()[1]) == 245.0);
  // C: 10 h, all above 100: 10 x 4.5.
  CHECK(cost_of(h.sessions()[2]) == 45.0);
  // February starts from 0 again: 10 x 5.
  CHECK(cost_of(h.sessions()[3]) == 50.0);
}

TEST_CASE("a tiered session crossing midnight at a month's end counts to each month's tiers",
          "[cost][spec-5]") {
  Harness h;
  h.run({session("2026-01-10T08:00:00Z", "2026-01-10T08:30:00Z", "peaky"),
         session("2026-01-31T23:00:00Z", "2026-02-01T01:00:00Z", "peaky"),
         session("2026-02-03T08:00:00Z", "2026-02-03T09:00:00Z", "peaky"),
         session("2026-02-28T23:00:00Z", "2026-03-01T00:00:00Z", "peaky")});
  REQUIRE(h.sessions().size() == 4);
  CHECK(cost_of(h.sessions()[0]) == 5.0);  // 0.5 h x 10: January's counter at 0.5
  // January 23:00-24:00 takes the counter from 0.5 to 1.5 (0.5 x 10 + 0.5 x 1);
  // February 00:00-01:00 from 0 to 1 (1 x 10).
  CHECK(cost_of(h.sessions()[1]) == 15.5);
  CHECK(cost_of(h.sessions()[2]) == 1.0);  // February's counter already at 1
  // Ending exactly at midnight: all of it is February's (counter 2 -> 3).
  CHECK(cost_of(h.sessions()[3]) == 1.0);
}

TEST_CASE("subscription spreads per_month over each month's own hours", "[cost][spec-5]") {
  Harness h;
  // 20832 = 744 x 28 = 672 x 31 = 720 x 28.933…: January has 744 h, February 2026 672 h.
  h.run({session("2026-01-31T23:00:00Z", "2026-02-01T01:00:00Z", "solidworks"),
         session("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", "solidworks"),
         session("2026-02-10T00:00:00Z", "2026-02-11T00:00:00Z", "flat", "", 3),
         session("2028-02-10T00:00:00Z", "2028-02-11T00:00:00Z", "flat")});
  REQUIRE(h.sessions().size() == 4);
  CHECK(cost_of(h.sessions()[0]) == 59.0);  // 20832/744 x 1 + 20832/672 x 1 = 28 + 31
  CHECK(cost_of(h.sessions()[1]) == 3 * 24.0 * 696 / 672);  // 3 licenses, 24 of 672 h
  CHECK(cost_of(h.sessions()[2]) == 20832.0);               // a whole 30-day month costs per_month
  CHECK(cost_of(h.sessions()[3]) == 24.0);  // leap February 2028: 696 h, 696/696 x 24
}

TEST_CASE("groups allocate cost centers in order; unmatched sessions keep their group",
          "[cost][spec-5]") {
  const std::string groups =
      "    groups:\n"
      "      engineering: [cfd, fea]\n"
      "      research: r_and_d\n"
      "      labs:\n"
      "        where: \"project =~ '^rd-'\"\n";
  auto run = [](const std::string& spec) {
    Harness h(spec);
    Record rd = session("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z", "viewer", "ops");
    rd.set(field::kProject, Value("rd-7"));
    h.run({session("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z", "viewer", "fea"),
           session("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z", "viewer", "r_and_d"), rd,
           session("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z", "viewer", "ops"),
           session("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z", "viewer")});
    std::vector<Value> centers;
    for (const Record& r : h.sessions()) centers.push_back(get(r, "cost_center"));
    return centers;
  };
  CHECK(run(groups) == std::vector<Value>{Value("engineering"), Value("research"), Value("labs"),
                                          Value("ops"), Value()});
  CHECK(run(groups + "    default_cost_center: unallocated\n") ==
        std::vector<Value>{Value("engineering"), Value("research"), Value("labs"),
                           Value("unallocated"), Value("unallocated")});
  CHECK(run("") ==
        std::vector<Value>{Value("fea"), Value("r_and_d"), Value("ops"), Value("ops"), Value()});
}

TEST_CASE("budget alerts fire once per cost center, month and level, in order", "[cost][spec-5]") {
  Harness h(
      "    groups: {engineering: [cfd]}\n"
      "    budget: {per_month: {engineering: 120}}\n");
  auto s = [](const std::string& day, const std::string& from, const std::string& to,
              const std::string& group = "cfd") {
    return session(day + "T" + from + ":00Z", day + "T" + to + ":00Z", "ansys", group);
  };
  // ansys costs 12 per hour: 7.5 h = 90 (75 %), 1.5 h more = 108 (90 %), 1 h more = 120
  // (100 %), then more (no repeat); lab has no budget; February starts from 0, and its one
  // session (9 h = 108) crosses two levels.
  h.run({s("2026-01-05", "08:00", "15:30"), s("2026-01-06", "08:00", "09:30"),
         s("2026-01-07", "08:00", "09:00"), s("2026-01-08", "08:00", "12:00"),
         s("2026-01-08", "08:00", "20:00", "lab"), s("2026-02-02", "08:00", "17:00")});
  REQUIRE(h.sessions().size() == 6);
  CHECK(get(h.sessions()[4], "cost_center") == Value("lab"));
  const auto& a = h.alerts();
  REQUIRE(a.size() == 5);
  struct Want {
    std::string ts, month, severity;
    double level, cost;
  };
  const std::vector<Want> want = {{"2026-01-05T15:30:00Z", "2026-01", "warning", 0.75, 90},
                                  {"2026-01-06T09:30:00Z", "2026-01", "warning", 0.9, 108},
                                  {"2026-01-07T09:00:00Z", "2026-01", "critical", 1.0, 120},
                                  {"2026-02-02T17:00:00Z", "2026-02", "warning", 0.75, 108},
                                  {"2026-02-02T17:00:00Z", "2026-02", "warning", 0.9, 108}};
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("alert " << i);
    CHECK(a[i].ts == at(want[i].ts));
    CHECK(get(a[i], "alert") == Value("spend"));
    CHECK(get(a[i], "state") == Value("firing"));
    CHECK(get(a[i], "cost_center") == Value("engineering"));
    CHECK(get(a[i], "month") == Value(want[i].month));
    CHECK(get(a[i], "severity") == Value(want[i].severity));
    CHECK(get(a[i], "alert_at") == Value(want[i].level));
    CHECK(get(a[i], "cost") == Value(want[i].cost));
    CHECK(get(a[i], "budget") == Value(120.0));
    CHECK(get(a[i], "fraction") == Value(want[i].cost / 120));
  }
  CHECK(get(a[1], "message") ==
        Value("engineering reached 90% of its 2026-01 budget: 108.00 of 120.00"));
}

TEST_CASE("a session's cost counts to the budget of each month it spans", "[cost][spec-5]") {
  Harness h("    budget: {per_month: {cfd: 100}, alert_at: [0.5, 2]}\n");
  // 20832 per month: January's hour costs 28, February's 31 (see the subscription test).
  h.run({session("2026-01-31T22:00:00Z", "2026-02-01T00:30:00Z", "solidworks", "cfd")});
  REQUIRE(h.sessions().size() == 1);
  CHECK(cost_of(h.sessions()[0]) == 56.0 + 15.5);
  REQUIRE(h.alerts().size() == 1);  // January reached 56 of 100; February only 15.5
  CHECK(get(h.alerts()[0], "month") == Value("2026-01"));
  CHECK(h.alerts()[0].ts == at("2026-02-01T00:30:00Z"));
}

TEST_CASE("other records pass unchanged; unpriced sessions get cost null", "[cost][spec-5]") {
  Harness h;
  Record checkout;
  checkout.ts = at("2026-01-05T10:00:00Z");
  checkout.append(field::kType, Value("checkout"));
  checkout.append(field::kFeature, Value("ansys"));
  Record unknown = session("2026-01-05T09:00:00Z", "2026-01-05T11:00:00Z", "viewer", "fea");
  Record no_span = session("2026-01-05T09:00:00Z", "2026-01-05T11:00:00Z", "ansys");
  no_span.erase(intern_field("start"));
  no_span.erase(intern_field("duration_s"));
  Record reversed = session("2026-01-05T12:00:00Z", "2026-01-05T11:00:00Z", "ansys");
  h.run({unknown, checkout, no_span, reversed});
  REQUIRE(h.sessions().size() == 4);
  CHECK(h.sessions()[0] == checkout);  // ts order: 10:00 first
  CHECK(get(h.sessions()[1], "cost").is_null());
  CHECK(get(h.sessions()[1], "cost_center") == Value("fea"));
  CHECK(get(h.sessions()[2], "cost").is_null());
  CHECK(get(h.sessions()[3], "cost").is_null());
  // Without `start`, duration_s gives the span.
  Harness d;
  Record by_duration = session("2026-01-05T09:00:00Z", "2026-01-05T11:00:00Z", "ansys");
  by_duration.erase(intern_field("start"));
  d.run({by_duration});
  CHECK(cost_of(d.sessions()[0]) == 24.0);
}

TEST_CASE("a late session is priced at once and marked late, not dropped", "[cost][spec-2]") {
  Harness h;
  h.feed({session("2026-01-05T09:00:00Z", "2026-01-05T12:00:00Z", "ansys")},
         at("2026-01-05T12:00:00Z"));
  REQUIRE(h.sessions().size() == 1);
  CHECK(h.sessions()[0].find(field::kLate) == nullptr);
  h.feed({session("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z", "ansys")},
         at("2026-01-05T12:00:00Z"));
  REQUIRE(h.sessions().size() == 2);
  CHECK(cost_of(h.sessions()[1]) == 12.0);
  CHECK(get(h.sessions()[1], "late") == Value(true));
  CHECK(h.op().late_records() == 1);
}

TEST_CASE("tier counters and budget spend survive a checkpoint", "[cost][spec-7]") {
  const std::string spec = "    budget: {per_month: {cfd: 1000}, alert_at: [0.5]}\n";
  Harness first(spec);
  first.run({session("2026-01-03T00:00:00Z", "2026-01-04T18:00:00Z", "matlab", "cfd")});  // 42 h
  StateWriter w;
  first.op().save_state(w);
  Harness second(spec);
  StateReader r(w.bytes());
  second.op().load_state(r);
  REQUIRE_FALSE(r.failed());
  CHECK(r.at_end());
  // 60 h from 42 crosses 100: 58 x 5 + 2 x 4.5 = 299; spend 210 + 299 = 509 reaches 50 %.
  second.run({session("2026-01-10T00:00:00Z", "2026-01-12T12:00:00Z", "matlab", "cfd")});
  REQUIRE(second.sessions().size() == 1);
  CHECK(cost_of(second.sessions()[0]) == 299.0);
  REQUIRE(second.alerts().size() == 1);
  CHECK(get(second.alerts()[0], "cost") == Value(509.0));
  // A checkpoint saved with more alert levels than configured is refused.
  Harness third("    budget: {per_month: {cfd: 1000}, alert_at: [0.1, 0.2]}\n");
  third.run({session("2026-01-03T00:00:00Z", "2026-01-04T18:00:00Z", "matlab", "cfd")});
  StateWriter w3;
  third.op().save_state(w3);
  Harness fourth(spec);
  StateReader r3(w3.bytes());
  fourth.op().load_state(r3);
  CHECK(r3.failed());
}

TEST_CASE("cost model and option errors point at the offending value", "[cost][spec-3]") {
  auto errors = [](const std::string& features, const std::string& spec = "") {
    return pipeline_errors("name: t\nfeatures:\n" + features +
                           "sources: {e: {type: stdin}}\n"
                           "operators:\n  spend:\n    type: cost\n    input: e\n" +
                           spec);
  };
  // Feature entries start on line 3.
  CHECK(errors("  a: {cost: {model: usge, per_hour: 1}}\n") ==
        std::vector<std::string>{"p.yaml:3:21: error: `cost` of feature `a`: unknown cost model "
                                 "`usge` (did you mean `usage`?); valid: usage, tiered, "
                                 "subscription"});
  CHECK(errors("  a: {cost: {per_hour: 1}}\n") ==
        std::vector<std::string>{"p.yaml:3:13: error: `cost` of feature `a`: `model` must be one "
                                 "of usage, tiered, subscription"});
  CHECK(errors("  a: {cost: {model: usage, minimum_hours: 1}}\n") ==
        std::vector<std::string>{"p.yaml:3:13: error: `cost` of feature `a`: missing `per_hour`"});
  CHECK(errors("  a: {cost: {model: usage, per_hour: -2}}\n") ==
        std::vector<std::string>{"p.yaml:3:38: error: `cost` of feature `a`: `per_hour` must be "
                                 "a number >= 0, got `-2`"});
  CHECK(errors("  a: {cost: {model: subscription, per_hour: 2}}\n") ==
        std::vector<std::string>{
            "p.yaml:3:13: error: `cost` of feature `a`: missing `per_month`",
            "p.yaml:3:35: error: unknown key `per_hour` in `cost` of feature `a` (model "
            "subscription); valid keys: model, per_month"});
  CHECK(errors("  a: {cost: {model: tiered, tiers: [{up_to_hours: 10, per_hour: 2}, "
               "{up_to_hours: 20, per_hour: 1}]}}\n") ==
        std::vector<std::string>{"p.yaml:3:83: error: `cost` of feature `a`, tier 2: the last "
                                 "tier must be open-ended (no `up_to_hours`), or hours beyond it "
                                 "would have no rate"});
  CHECK(errors("  a: {cost: {model: tiered, tiers: [{up_to_hours: 10, per_hour: 2}, "
               "{up_to_hours: 10, per_hour: 1}, {per_hour: 0.5}]}}\n") ==
        std::vector<std::string>{"p.yaml:3:83: error: `cost` of feature `a`, tier 2: "
                                 "`up_to_hours` must increase from tier to tier"});
  CHECK(errors("  a: {cost: {model: tiered, tiers: [{per_hour: 2}, {per_hour: 1}]}}\n") ==
        std::vector<std::string>{"p.yaml:3:37: error: `cost` of feature `a`, tier 1: missing "
                                 "`up_to_hours`"});
  CHECK(errors("  a: {cost: {model: tiered, tiers: []}}\n").size() == 1);
  CHECK(errors("  a: {cost: {model: tiered}}\n") ==
        std::vector<std::string>{"p.yaml:3:13: error: `cost` of feature `a`: missing `tiers`"});
  // The operator's own keys start on line 9.
  const std::string ok = "  a: {cost: {model: usage, per_hour: 1}}\n";
  CHECK(errors(ok).empty());
  CHECK(errors(ok, "    groups: {x: [cfd], y: [fea, cfd]}\n") ==
        std::vector<std::string>{"p.yaml:9:33: error: `spend`: `groups` of `y`: group `cfd` is "
                                 "already allocated to `x`"});
  CHECK(errors(ok, "    groups:\n      x: {where: \"group ==\"}\n").size() == 1);
  CHECK(errors(ok, "    budget: {per_month: {x: 0}}\n") ==
        std::vector<std::string>{"p.yaml:9:29: error: `spend`: `budget` of `x` must be a number "
                                 "> 0, got `0`"});
  CHECK(errors(ok, "    budget: {per_month: {x: 10}, alert_at: [0.9, 0.75]}\n") ==
        std::vector<std::string>{"p.yaml:9:50: error: `spend`: `budget`: `alert_at` must "
                                 "increase strictly"});
  CHECK(errors(ok, "    budget: {alert_at: [0.5]}\n") ==
        std::vector<std::string>{"p.yaml:9:13: error: `spend`: `budget`: missing `per_month`"});
}
