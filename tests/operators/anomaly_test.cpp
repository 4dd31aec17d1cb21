// SPEC §5 anomaly (ewma and seasonal), with hand-computed expectations, and its SPEC §2 timing.
#include <catch2/catch.hpp>

#include "engine/time_ordered_operator.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

namespace {

using Lines = std::vector<std::string>;

const std::string kHead =
    "name: t\nsources: {e: {type: stdin}}\noperators:\n  a:\n    type: anomaly\n    input: e\n";

struct Harness {
  std::unique_ptr<Plan> plan;
  CollectingEmitter out;

  // `options`: the operator's keys besides type and input, one per line, indented by 4.
  explicit Harness(const std::string& options) { plan = load_plan(kHead + options); }
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
  std::vector<Record>& anomalies() { return out.port(0); }
  std::vector<Record>& late() { return out.port(1); }
};

const Value& get(const Record& r, const char* name) {
  static const Value kMissing("<missing>");
  const Value* v = r.find(intern_field(name));
  return v != nullptr ? *v : kMissing;
}

double num(const Record& r, const char* name) { return get(r, name).as_number(); }
std::string str(const Record& r, const char* name) { return get(r, name).as_string(); }

std::vector<int64_t> times(const std::vector<Record>& rs) {
  std::vector<int64_t> out;
  for (const Record& r : rs) out.push_back(r.ts);
  return out;
}

// One metric event per value, at ts 1, 2, 3, …
std::string series(const std::vector<double>& xs) {
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i) {
    std::ostringstream line;
    line << R"({"ts":)" << i + 1 << R"(,"type":"metric","x":)" << xs[i] << "}\n";
    out += line.str();
  }
  return out;
}

// One metric event per (ts, x).
std::string events(const std::vector<std::pair<int64_t, double>>& points) {
  std::string out;
  for (const auto& [ts, x] : points) {
    std::ostringstream line;
    line << R"({"ts":)" << ts << R"(,"type":"metric","x":)" << x << "}\n";
    out += line.str();
  }
  return out;
}

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kWeek = 7 * 24 * kHour;

}  // namespace

TEST_CASE("ewma: no score before min_samples earlier values; the stddev floor applies",
          "[anomaly][spec-5]") {
  // Defaults: alpha 0.1, min_samples 10, min_stddev 1, threshold 3. Ten values of 100 leave
  // mean 100, var 0 (d = 0 every time), so sigma = max(0, 1) = 1.
  SECTION("the 10th value has only n = 9 earlier values: not scored") {
    Harness h("    value: x\n");
    h.run(series({100, 100, 100, 100, 100, 100, 100, 100, 100, 1000}));
    CHECK(h.anomalies().empty());
  }
  SECTION("the 11th value (n = 10) is scored: (103 - 100) / 1 = 3 reaches the threshold") {
    Harness h("    value: x\n");
    h.run(series({100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 103}));
    REQUIRE(h.anomalies().size() == 1);
    const Record& r = h.anomalies()[0];
    CHECK(r.ts == 11);
    CHECK(get(r, "value") == Value(int64_t{103}));  // the value as read: still an integer
    CHECK(num(r, "expected") == 100.0);
    CHECK(num(r, "stddev") == 1.0);  // sqrt(var) = 0, floored to min_stddev
    CHECK(num(r, "score") == 3.0);
    CHECK(str(r, "direction") == "high");
  }
  SECTION("a larger floor lowers the score: (103 - 100) / 2 = 1.5") {
    Harness h("    value: x\n    min_stddev: 2\n");
    h.run(series({100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 103}));
    CHECK(h.anomalies().empty());
  }
}

TEST_CASE("ewma: exact expected, stddev and score on a short series, by direction",
          "[anomaly][spec-5]") {
  // alpha 0.5, min_samples 1, threshold 3, min_stddev 1. Series 0, 4, 3, -2:
  //   x=0:  first value: mean 0, var 0, n 1.
  //   x=4:  sigma = max(0, 1) = 1, score (4 - 0) / 1 = 4 -> high.
  //         d 4, mean 2, var 0.5 * (0 + 0.5 * 16) = 4.
  //   x=3:  sigma = sqrt(4) = 2, score (3 - 2) / 2 = 0.5 -> nothing.
  //         d 1, mean 2.5, var 0.5 * (4 + 0.5 * 1) = 2.25.
  //   x=-2: sigma = sqrt(2.25) = 1.5, score (-2 - 2.5) / 1.5 = -3 -> low (<= -threshold).
  const std::string options = "    value: x\n    alpha: 0.5\n    min_samples: 1\n";
  const std::string input = series({0, 4, 3, -2});
  SECTION("both (the default)") {
    Harness h(options);
    h.run(input);
    REQUIRE(times(h.anomalies()) == std::vector<int64_t>{2, 4});
    const Record& high = h.anomalies()[0];
    CHECK(num(high, "value") == 4);
    CHECK(num(high, "expected") == 0.0);
    CHECK(num(high, "stddev") == 1.0);
    CHECK(num(high, "score") == 4.0);
    CHECK(str(high, "direction") == "high");
    const Record& low = h.anomalies()[1];
    CHECK(num(low, "value") == -2);
    CHECK(num(low, "expected") == 2.5);
    CHECK(num(low, "stddev") == 1.5);
    CHECK(num(low, "score") == -3.0);
    CHECK(str(low, "direction") == "low");
    // Exactly these fields, in this order (the key is empty).
    std::vector<std::string> names;
    for (const Field& f : low.fields()) names.emplace_back(field_name(f.id));
    CHECK(names == Lines{"value", "expected", "stddev", "score", "direction"});
  }
  SECTION("high") {
    Harness h(options + "    direction: high\n");
    h.run(input);
    CHECK(times(h.anomalies()) == std::vector<int64_t>{2});
  }
  SECTION("low") {
    Harness h(options + "    direction: low\n");
    h.run(input);
    CHECK(times(h.anomalies()) == std::vector<int64_t>{4});
  }
  SECTION("a threshold above both scores") {
    Harness h(options + "    threshold: 4.5\n");
    h.run(input);
    CHECK(h.anomalies().empty());
  }
}

TEST_CASE("ewma: anomalous values update the baseline like any other", "[anomaly][spec-5]") {
  // alpha 0.5, min_samples 1. Series 10, 20, 35:
  //   x=20: sigma 1, score 10 -> high; then d 10, mean 15, var 0.5 * (0 + 0.5 * 100) = 25.
  //   x=35: sigma sqrt(25) = 5, score (35 - 15) / 5 = 4 -> high, against the updated baseline
  //   (without the update it would be (35 - 10) / 1 = 25).
  Harness h("    value: x\n    alpha: 0.5\n    min_samples: 1\n");
  h.run(series({10, 20, 35}));
  REQUIRE(h.anomalies().size() == 2);
  const Record& r = h.anomalies()[1];
  CHECK(num(r, "expected") == 15.0);
  CHECK(num(r, "stddev") == 5.0);
  CHECK(num(r, "score") == 4.0);
}

TEST_CASE("records without a numeric value are skipped and counted", "[anomaly][spec-5]") {
  // Only 0 and 4 count: 4 is the second value (n = 1), scored (4 - 0) / 1 = 4.
  Harness h("    value: x\n    alpha: 0.5\n    min_samples: 1\n");
  h.run(R"({"ts":1,"type":"metric","x":0}
{"ts":2,"type":"metric","x":"100"}
{"ts":3,"type":"metric","x":null}
{"ts":4,"type":"metric","x":true}
{"ts":5,"type":"metric","y":100}
{"ts":6,"type":"metric","x":4.0}
)");
  REQUIRE(h.anomalies().size() == 1);
  CHECK(h.anomalies()[0].ts == 6);
  CHECK(get(h.anomalies()[0], "value") == Value(4.0));
  CHECK(num(h.anomalies()[0], "expected") == 0.0);
  CHECK(h.op().dropped() == 4);
}

TEST_CASE("keys are independent; records lacking a key field are skipped", "[anomaly][spec-5]") {
  // Feature a: 0 then 4 -> score 4. Feature b: 100 then 101 -> score 1. Sharing one baseline,
  // b's 100 would make a's 4 a low anomaly instead.
  Harness h("    key: [server, feature]\n    value: x\n    alpha: 0.5\n    min_samples: 1\n");
  h.run(R"({"ts":1,"type":"metric","feature":"a","x":0}
{"ts":2,"type":"metric","feature":"b","x":100}
{"ts":3,"type":"metric","x":50}
{"ts":4,"type":"metric","feature":"a","x":4}
{"ts":5,"type":"metric","feature":"b","x":101}
)");
  REQUIRE(h.anomalies().size() == 1);
  const Record& r = h.anomalies()[0];
  CHECK(r.ts == 4);
  CHECK(num(r, "expected") == 0.0);
  CHECK(num(r, "score") == 4.0);
  std::vector<std::string> names;
  for (const Field& f : r.fields()) names.emplace_back(field_name(f.id));
  CHECK(names == Lines{"server", "feature", "value", "expected", "stddev", "score", "direction"});
  CHECK(str(r, "server") == "default");
  CHECK(str(r, "feature") == "a");
  CHECK(h.op().dropped() == 1);
}

TEST_CASE("seasonal: slots are (ts floor-mod period) div bucket, periods aligned to the epoch",
          "[anomaly][spec-5]") {
  SECTION("defaults: period 1w, bucket 1h, min_samples 2") {
    // 03:10 of week 0 and 03:05 of week 1 are slot 3; 03:59 of week 2 is scored against them:
    // median 10, MAD 0, sigma max(0, 1) = 1, score (20 - 10) / 1 = 10. 04:00 of week 2 is slot 4,
    // which has no history.
    Harness h("    value: x\n    method: seasonal\n");
    h.run(events({{3 * kHour + 10 * 60000, 10},
                  {kWeek + 3 * kHour + 5 * 60000, 10},
                  {2 * kWeek + 3 * kHour + 59 * 60000, 20},
                  {2 * kWeek + 4 * kHour, 1000}}));
    REQUIRE(times(h.anomalies()) == std::vector<int64_t>{2 * kWeek + 3 * kHour + 59 * 60000});
    CHECK(num(h.anomalies()[0], "expected") == 10.0);
    CHECK(num(h.anomalies()[0], "stddev") == 1.0);
    CHECK(num(h.anomalies()[0], "score") == 10.0);
  }
  SECTION("negative ts: floor mod, so -2500 is slot 1 of period -1 (period 4s, bucket 1s)") {
    // -2500 -> period -1, -2500 - (-4000) = 1500 -> slot 1.  -100 -> period -1, 3900 -> slot 3.
    // 1500 -> period 0, slot 1: history [10], sigma 1, score (20 - 10) / 1 = 10.
    // 2500 -> slot 2: no history.  3999 -> slot 3: history [500], score (503 - 500) / 1 = 3.
    // 4000 -> period 1, slot 0: no history.
    Harness h(
        "    value: x\n    method: seasonal\n    period: 4s\n    bucket: 1s\n"
        "    min_samples: 1\n");
    h.run(events({{-2500, 10}, {-100, 500}, {1500, 20}, {2500, 1000}, {3999, 503}, {4000, 7}}));
    REQUIRE(times(h.anomalies()) == std::vector<int64_t>{1500, 3999});
    CHECK(num(h.anomalies()[0], "expected") == 10.0);
    CHECK(num(h.anomalies()[1], "expected") == 500.0);
    CHECK(num(h.anomalies()[1], "score") == 3.0);
  }
}

TEST_CASE("seasonal: a period need not be a multiple of the bucket; its last slot is shorter",
          "[anomaly][spec-5]") {
  // period 10s, bucket 4s: slots [0,4s), [4s,8s), [8s,10s). 9s of period 0 and 8s of period 1
  // are slot 2; 9.5s of period 2 is scored against them (median 10, score 20 - 10 = 10). 11s is
  // slot 0 of period 1, which has no history.
  Harness h("    value: x\n    method: seasonal\n    period: 10s\n    bucket: 4s\n");
  h.run(events({{9000, 10}, {11000, 500}, {18000, 10}, {29500, 20}}));
  REQUIRE(times(h.anomalies()) == std::vector<int64_t>{29500});
  CHECK(num(h.anomalies()[0], "expected") == 10.0);
  CHECK(num(h.anomalies()[0], "score") == 10.0);
}

TEST_CASE("seasonal: min_samples counts every earlier period, even beyond history",
          "[anomaly][spec-5]") {
  // history 2, min_samples 3 (period 4s, bucket 1s, slot 0): 1000 at period 2 has two earlier
  // values, too few to be scored; 5000 at period 3 has three, and is scored on the last two,
  // 20 and 1000: median 510, MAD 490, sigma 1.4826 * 490, score (5000 - 510) / sigma.
  Harness h("    value: x\n    method: seasonal\n    period: 4s\n    bucket: 1s\n"
            "    history: 2\n    min_samples: 3\n");
  h.run(events({{0, 10}, {4000, 20}, {8000, 1000}, {12000, 5000}}));
  REQUIRE(times(h.anomalies()) == std::vector<int64_t>{12000});
  CHECK(num(h.anomalies()[0], "expected") == 510.0);
  CHECK(num(h.anomalies()[0], "score") == Approx((5000.0 - 510) / (1.4826 * 490)));
}

TEST_CASE("seasonal: median and MAD of the last `history` earlier periods, odd and even counts",
          "[anomaly][spec-5]") {
  // period 4s, bucket 1s, history 4, min_samples 2; one value per period in slot 1
  // (ts = p * 4000 + 1500): p0 10, p1 12, p2 20, p3 0, p4 40, p5 -100.
  //   p0, p1: fewer than 2 earlier values -> not scored.
  //   p2: [10, 12]: median 11; |dev| [1, 1] -> MAD 1; sigma max(1.4826, 1) = 1.4826;
  //       score 9 / 1.4826 = 6.07 -> high.
  //   p3: [10, 12, 20]: median 12; |dev| [2, 0, 8] -> MAD 2; sigma 2.9652;
  //       score -12 / 2.9652 = -4.05 -> low.
  //   p4: [10, 12, 20, 0]: sorted [0, 10, 12, 20], median 11; |dev| [1, 1, 9, 11] -> MAD 5;
  //       sigma 7.413; score 29 / 7.413 = 3.91 -> high.
  //   p5: the window slides: [12, 20, 0, 40] (10 is out): median 16; |dev| [4, 4, 16, 24] ->
  //       MAD 10; sigma 14.826; score -116 / 14.826 = -7.82 -> low. (With 10 still in, the
  //       median would be 12.)
  Harness h("    value: x\n    method: seasonal\n    period: 4s\n    bucket: 1s\n");
  h.run(events({{1500, 10}, {5500, 12}, {9500, 20}, {13500, 0}, {17500, 40}, {21500, -100}}));
  auto& out = h.anomalies();
  REQUIRE(times(out) == std::vector<int64_t>{9500, 13500, 17500, 21500});
  const double expected[] = {11, 12, 11, 16};
  const double mad[] = {1, 2, 5, 10};
  const double x[] = {20, 0, 40, -100};
  const char* direction[] = {"high", "low", "high", "low"};
  for (size_t i = 0; i < 4; ++i) {
    INFO("anomaly " << i);
    CHECK(num(out[i], "value") == x[i]);
    CHECK(num(out[i], "expected") == expected[i]);
    CHECK(num(out[i], "stddev") == Approx(1.4826 * mad[i]).epsilon(1e-12));
    CHECK(num(out[i], "score") == Approx((x[i] - expected[i]) / (1.4826 * mad[i])).epsilon(1e-12));
    CHECK(str(out[i], "direction") == direction[i]);
  }
}

TEST_CASE("seasonal: min_samples earlier periods before scoring (default 2)", "[anomaly][spec-5]") {
  // p0 10, p1 100: at most 1 earlier value -> not scored. p2 1000: [10, 100] -> median 55,
  // MAD 45, sigma 66.717, score 945 / 66.717 = 14.2 -> high.
  Harness h("    value: x\n    method: seasonal\n    period: 4s\n    bucket: 1s\n");
  h.run(events({{1500, 10}, {5500, 100}, {9500, 1000}}));
  REQUIRE(times(h.anomalies()) == std::vector<int64_t>{9500});
  CHECK(num(h.anomalies()[0], "expected") == 55.0);
  CHECK(num(h.anomalies()[0], "stddev") == Approx(1.4826 * 45).epsilon(1e-12));
}

TEST_CASE("seasonal: a period contributes its last value; the current period is not history",
          "[anomaly][spec-5]") {
  // period 4s, bucket 1s, history 1, min_samples 1, min_stddev 1, threshold 3.
  //   1000 (p0, slot 1) 50, 1500 (p0, slot 1) 10: no earlier period -> not scored; p0's last is 10.
  //   2000 (p0, slot 2) 1000: slot 2 has no history.
  //   5000 (p1, slot 1) 11: history [10] (not 50): score (11 - 10) / 1 = 1 -> nothing.
  //   5200 (p1, slot 1) 20: history still [10] — p1's 11 is not history: score 10 -> high,
  //        expected 10. p1's last becomes 20.
  //   9000 (p2, slot 1) 30: history [20] (p1's last, not 11): score 10 -> high, expected 20.
  Harness h(
      "    value: x\n    method: seasonal\n    period: 4s\n    bucket: 1s\n"
      "    history: 1\n    min_samples: 1\n");
  h.run(events({{1000, 50}, {1500, 10}, {2000, 1000}, {5000, 11}, {5200, 20}, {9000, 30}}));
  REQUIRE(times(h.anomalies()) == std::vector<int64_t>{5200, 9000});
  CHECK(num(h.anomalies()[0], "expected") == 10.0);
  CHECK(num(h.anomalies()[0], "score") == 10.0);
  CHECK(num(h.anomalies()[1], "expected") == 20.0);
}

TEST_CASE("anomaly holds records until the watermark and sends late ones to `late`",
          "[anomaly][spec-2]") {
  Harness h("    value: x\n    alpha: 0.5\n    min_samples: 1\n");
  // Out of order below the watermark: processed as 0 (ts 1) then 4 (ts 3) -> one anomaly at 3.
  h.feed(R"({"ts":3,"type":"metric","x":4}
{"ts":1,"type":"metric","x":0}
)",
         3);
  REQUIRE(times(h.anomalies()) == std::vector<int64_t>{3});
  CHECK(num(h.anomalies()[0], "expected") == 0.0);
  // ts 2 < watermark 3: late, unchanged, counted, and not part of the baseline. ts 3 is on time:
  // against mean 2, sigma 2 (after 0, 4) it scores (3 - 2) / 2 = 0.5.
  h.feed(R"({"ts":2,"type":"metric","x":-1000}
{"ts":3,"type":"metric","x":3}
)",
         3);
  h.op().finish(h.out);
  REQUIRE(h.late().size() == 1);
  CHECK(h.late()[0].ts == 2);
  CHECK(num(h.late()[0], "x") == -1000);
  CHECK(dynamic_cast<TimeOrderedOperator&>(h.op()).late_records() == 1);
  CHECK(h.anomalies().size() == 1);
}

TEST_CASE("anomaly config errors point at the offending value", "[anomaly][spec-5][spec-3]") {
  SECTION("missing value") {
    CHECK(pipeline_errors(kHead + "    key: [feature]\n") ==
          Lines{"p.yaml:5:5: error: `a`: missing required key `value`"});
  }
  SECTION("unknown method") {
    CHECK(pipeline_errors(kHead + "    value: x\n    method: zscore\n") ==
          Lines{"p.yaml:8:13: error: `a`: `method` must be `ewma` or `seasonal`, got `zscore`"});
  }
  SECTION("alpha out of (0, 1]") {
    CHECK(pipeline_errors(kHead + "    value: x\n    alpha: 1.5\n") ==
          Lines{"p.yaml:8:12: error: `a`: `alpha` must be in (0, 1], got `1.5`"});
    CHECK(pipeline_errors(kHead + "    value: x\n    alpha: 0\n") ==
          Lines{"p.yaml:8:12: error: `a`: `alpha` must be in (0, 1], got `0`"});
  }
  SECTION("keys of the other method") {
    CHECK(pipeline_errors(kHead + "    value: x\n    method: seasonal\n    alpha: 0.2\n") ==
          Lines{"p.yaml:9:12: error: `a`: `alpha` does not apply to method `seasonal`"});
    CHECK(pipeline_errors(kHead + "    value: x\n    history: 2\n") ==
          Lines{"p.yaml:8:14: error: `a`: `history` does not apply to method `ewma`"});
  }
  SECTION("other bad values") {
    CHECK(pipeline_errors(kHead + "    value: x\n    direction: up\n    threshold: 0\n"
                                  "    min_samples: 0\n") ==
          Lines{"p.yaml:8:16: error: `a`: `direction` must be `both`, `high` or `low`, got `up`",
                "p.yaml:9:16: error: `a`: `threshold` must be a number > 0, got `0`",
                "p.yaml:10:18: error: `a`: `min_samples` must be an integer >= 1, got `0`"});
    CHECK(pipeline_errors(kHead + "    value: x\n    key: [score]\n") ==
          Lines{"p.yaml:8:10: error: `a`: `score` cannot be a key field of an anomaly: the output "
                "has a field of that name (ts, value, expected, stddev, score, direction)"});
  }
  SECTION("valid configurations load") {
    CHECK(pipeline_errors(kHead + "    key: [server, feature]\n    value: peak\n"
                                  "    method: seasonal\n    period: 1d\n    bucket: 15m\n"
                                  "    history: 7\n    min_samples: 3\n    direction: high\n") ==
          Lines{});
    CHECK(pipeline_errors(kHead + "    key: []\n    value: peak\n    alpha: 1\n"
                                  "    threshold: 2.5\n    min_stddev: 0.5\n") == Lines{});
  }
}
