// SPEC §5 threshold (and its SPEC §2 event time), rule by rule, with hand-computed expectations.
#include <catch2/catch.hpp>

#include "config/expression.h"
#include "engine/json_writer.h"
#include "engine/time_format.h"
#include "engine/time_ordered_operator.h"
#include "operators/key.h"
#include "operators/message_template.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

namespace {

// "09:10" or "09:10:30.250" on the test day as RFC 3339.
std::string stamp(const std::string& time) {
  return "2026-11-27T" + time + (time.size() == 5 ? ":00Z" : "Z");
}
int64_t at(const std::string& time) { return *parse_rfc3339(stamp(time)); }

// One metric line of `feature` at `time` with extra JSON members.
std::string ev(const std::string& time, const std::string& feature,
               const std::string& members = "") {
  return R"({"ts":")" + stamp(time) + R"(","type":"metric","feature":")" + feature + "\"" +
         (members.empty() ? "" : "," + members) + "}\n";
}
// A record of `feature` for which `in_use > 2` is true (in_use 3) or false (in_use 0).
std::string high(const std::string& time, const std::string& feature = "a") {
  return ev(time, feature, R"("in_use":3)");
}
std::string low(const std::string& time, const std::string& feature = "a") {
  return ev(time, feature, R"("in_use":0)");
}

const std::string kBusy =
    "    key: [feature]\n"
    "    condition: in_use > 2\n"
    "    for: 10m\n";

struct Harness {
  std::unique_ptr<Plan> plan;
  CollectingEmitter out;

  // `spec` holds the threshold's keys besides type and input, indented by four spaces.
  explicit Harness(const std::string& spec) {
    plan = load_plan(
        "name: t\nsources: {e: {type: stdin}}\n"
        "operators:\n  busy:\n    type: threshold\n    input: e\n" +
        spec);
  }
  Operator& op() { return *plan->nodes[1].op; }
  uint64_t late_count() { return op().late_records(); }

  // Feeds JSON lines as one batch whose watermark is `watermark`.
  void feed(const std::string& jsonl, int64_t watermark) {
    feed_records(records_from_jsonl(jsonl), watermark);
  }
  void feed_records(std::vector<Record> records, int64_t watermark) {
    auto b = std::make_shared<Batch>();
    b->records = std::move(records);
    b->watermark = watermark;
    op().process(0, b, out);
  }
  void run(const std::string& jsonl) {
    feed(jsonl, kMinTime);
    finish();
  }
  void finish() { op().finish(out); }
  std::vector<Record>& alerts() { return out.port(0); }
  std::vector<Record>& late() { return out.port(1); }
};

const Value& get(const Record& r, const char* name) {
  static const Value kMissing("<missing>");
  const Value* v = r.find(intern_field(name));
  return v != nullptr ? *v : kMissing;
}

std::string clock(int64_t ts) { return format_rfc3339(ts).substr(11, 5); }

// Each alert as "STATE@HH:MM since HH:MM key=… record HH:MM", key fields by name.
std::vector<std::string> shown(const std::vector<Record>& alerts,
                               const std::vector<std::string>& keys = {"feature"}) {
  std::vector<std::string> lines;
  for (const Record& r : alerts) {
    std::string line = get(r, "state").as_string() + "@" + clock(r.ts) + " since " +
                       get(r, "since").as_string().substr(11, 5);
    for (const std::string& k : keys) {
      line += " " + k + "=";
      append_json_value(line, get(r, k.c_str()));
    }
    line += " record " + clock(get(r, "record").as_object()->ts);
    lines.push_back(line);
  }
  return lines;
}

std::string json_line(const Record& r) {
  std::string out;
  append_record_json(out, r, "");
  return out;
}

}  // namespace

TEST_CASE("an alert fires when the watermark reaches since + for, with the last record before",
          "[threshold][spec-5]") {
  Harness h(kBusy +
            "    severity: critical\n"
            "    message: \"{feature} at {in_use} ({user}) since {ts}\"\n");
  h.feed(high("09:00") + ev("09:04", "a", R"("in_use":5)") + ev("09:06", "a", R"("in_use":4)"),
         at("09:06"));
  CHECK(h.alerts().empty());
  h.feed("", at("09:09:59.999"));
  CHECK(h.alerts().empty());
  // The watermark alone (no record at all) reaches since + for = 09:10.
  h.feed("", at("09:10"));
  REQUIRE(h.alerts().size() == 1);
  CHECK(json_line(h.alerts()[0]) ==
        R"({"ts":"2026-11-27T09:10:00.000Z","alert":"busy","state":"firing",)"
        R"("severity":"critical","since":"2026-11-27T09:00:00.000Z","feature":"a",)"
        R"("message":"a at 4 (null) since 2026-11-27T09:06:00.000Z",)"
        R"("record":{"ts":"2026-11-27T09:06:00.000Z","type":"metric","feature":"a",)"
        R"("in_use":4,"server":"default"}})");

  // The condition turns false: resolved at that record's ts, with its record and message.
  h.feed(ev("09:12", "a", R"("in_use":1,"user":"ann")"), at("09:12"));
  REQUIRE(h.alerts().size() == 2);
  CHECK(json_line(h.alerts()[1]) ==
        R"({"ts":"2026-11-27T09:12:00.000Z","alert":"busy","state":"resolved",)"
        R"("severity":"critical","since":"2026-11-27T09:00:00.000Z","feature":"a",)"
        R"("message":"a at 1 (ann) since 2026-11-27T09:12:00.000Z",)"
        R"("record":{"ts":"2026-11-27T09:12:00.000Z","type":"metric","feature":"a",)"
        R"("in_use":1,"user":"ann","server":"default"}})");
  h.finish();
  CHECK(h.alerts().size() == 2);
}

TEST_CASE("another key's record moves the watermark and fires the alert",
          "[threshold][spec-5][spec-2]") {
  Harness h(kBusy);
  h.feed(high("09:00", "a"), at("09:00"));
  h.feed(low("09:10", "b"), at("09:10"));
  CHECK(shown(h.alerts()) == std::vector<std::string>{"firing@09:10 since 09:00 feature=\"a\" "
                                                      "record 09:00"});
}

TEST_CASE("the alert fires before a record at exactly since + for is processed",
          "[threshold][spec-5]") {
  SECTION("a false record at since + for resolves the alert that just fired") {
    Harness h(kBusy);
    h.run(high("09:00") + low("09:10"));
    CHECK(shown(h.alerts()) ==
          std::vector<std::string>{"firing@09:10 since 09:00 feature=\"a\" record 09:00",
                                   "resolved@09:10 since 09:00 feature=\"a\" record 09:10"});
  }
  SECTION("a true record at since + for is not the firing's record") {
    Harness h(kBusy);
    h.run(high("09:00") + high("09:09:59.999") + high("09:10"));
    REQUIRE(h.alerts().size() == 1);
    CHECK(get(h.alerts()[0], "record").as_object()->ts == at("09:09:59.999"));
  }
}

TEST_CASE("an alert fires once per episode; a new true after resolving starts a new episode",
          "[threshold][spec-5]") {
  Harness h(kBusy);
  h.run(high("09:00") + high("09:10") + high("09:20") + low("09:30") + high("09:31") +
        high("09:45"));
  // The second episode fires at 09:41, before the 09:45 record; at the end it stays firing.
  CHECK(shown(h.alerts()) ==
        std::vector<std::string>{"firing@09:10 since 09:00 feature=\"a\" record 09:00",
                                 "resolved@09:30 since 09:00 feature=\"a\" record 09:30",
                                 "firing@09:41 since 09:31 feature=\"a\" record 09:31"});
}

TEST_CASE("a condition that turns false before `for` has passed emits nothing",
          "[threshold][spec-5]") {
  Harness h(kBusy);
  // Flapping; a record without in_use makes the condition null, which is not true. The last
  // episode starts at 09:25 and is not due at the end (09:35 > 09:25).
  h.run(high("09:00") + ev("09:09", "a") + high("09:10") + low("09:19:59.999") + high("09:25"));
  CHECK(h.alerts().empty());
}

TEST_CASE("end of input: a pending alert fires if due, a firing alert stays firing",
          "[threshold][spec-5][spec-2]") {
  SECTION("due by the largest ts received") {
    Harness h(kBusy);
    h.feed(high("09:00", "a") + low("09:10", "b"), kMinTime);
    CHECK(h.alerts().empty());
    h.finish();
    CHECK(shown(h.alerts()) == std::vector<std::string>{"firing@09:10 since 09:00 feature=\"a\" "
                                                        "record 09:00"});
  }
  SECTION("not due") {
    Harness h(kBusy);
    h.run(high("09:00", "a") + high("09:05", "a") + low("09:09:59.999", "b"));
    CHECK(h.alerts().empty());
  }
}

TEST_CASE("with for: 0s the alert fires at the record's own ts", "[threshold][spec-5]") {
  Harness h("    key: [feature]\n    condition: in_use > 2\n");
  h.run(high("09:00") + high("09:05") + low("09:07") + high("09:07"));
  CHECK(shown(h.alerts()) ==
        std::vector<std::string>{"firing@09:00 since 09:00 feature=\"a\" record 09:00",
                                 "resolved@09:07 since 09:00 feature=\"a\" record 09:07",
                                 "firing@09:07 since 09:07 feature=\"a\" record 09:07"});
  CHECK(get(h.alerts()[0], "severity").as_string() == "warning");
  CHECK(get(h.alerts()[0], "message").as_string() == "busy: in_use > 2");
  // The firing's record is the one that made the condition true, not the resolving one.
  CHECK(get(*get(h.alerts()[2], "record").as_object(), "in_use").as_int() == 3);
}

TEST_CASE("available == 0 after license_state fires at the checkout that exhausted the feature",
          "[threshold][spec-5]") {
  auto plan = load_plan(
      "name: t\n"
      "features: {cad: {capacity: 2}}\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  state: {type: license_state, input: e}\n"
      "  exhausted:\n"
      "    type: threshold\n"
      "    input: state\n"
      "    key: [server, feature]\n"
      "    condition: available == 0\n"
      "    severity: critical\n"
      "    message: \"{feature} on {server} exhausted ({in_use}/{capacity}) by {user}\"\n");
  Operator& state = *plan->nodes[1].op;
  Operator& alerts = *plan->nodes[2].op;
  CollectingEmitter state_out, alert_out;
  auto b = std::make_shared<Batch>();
  b->records = records_from_jsonl(R"({"ts":")" + stamp("09:00") +
                                  R"(","type":"checkout","feature":"cad","handle":"1","user":"ann"}
{"ts":")" + stamp("09:05") +
                                  R"(","type":"checkout","feature":"cad","handle":"2","user":"bob"}
{"ts":")" + stamp("09:20") + R"(","type":"checkin","feature":"cad","handle":"1","user":"ann"}
)");
  b->watermark = kMinTime;
  state.process(0, b, state_out);
  state.finish(state_out);
  auto annotated = std::make_shared<Batch>();
  annotated->records = state_out.port(0);
  annotated->watermark = kMinTime;
  alerts.process(0, annotated, alert_out);
  alerts.finish(alert_out);

  auto& out = alert_out.port(0);
  CHECK(shown(out, {"server", "feature"}) ==
        std::vector<std::string>{
            "firing@09:05 since 09:05 server=\"default\" feature=\"cad\" record 09:05",
            "resolved@09:20 since 09:05 server=\"default\" feature=\"cad\" record 09:20"});
  REQUIRE(out.size() == 2);
  CHECK(get(out[0], "message").as_string() == "cad on default exhausted (2/2) by bob");
  CHECK(get(*get(out[0], "record").as_object(), "type").as_string() == "checkout");
  CHECK(get(out[1], "message").as_string() == "cad on default exhausted (1/2) by ann");
  CHECK(get(*get(out[1], "record").as_object(), "type").as_string() == "checkin");
}

TEST_CASE("late records go to `late`, are counted and change no alert",
          "[threshold][spec-5][spec-2]") {
  Harness h(kBusy);
  h.feed(high("09:00"), at("09:05"));
  h.feed(low("09:03"), at("09:05"));  // 09:03 < 09:05: late
  // Late and lacking the key field: skipped and counted as dropped, not sent to `late`.
  h.feed(R"({"ts":")" + stamp("09:01") + R"(","type":"metric","in_use":0})" + "\n", at("09:05"));
  REQUIRE(h.late().size() == 1);
  CHECK(h.late()[0].ts == at("09:03"));
  CHECK(h.late_count() == 1);
  CHECK(h.op().dropped() == 1);
  // The episode that started at 09:00 was not ended by the late record: it fires.
  h.feed("", at("09:10"));
  CHECK(shown(h.alerts()) == std::vector<std::string>{"firing@09:10 since 09:00 feature=\"a\" "
                                                      "record 09:00"});
  // ts equal to the watermark is on time.
  h.feed(low("09:10"), at("09:10"));
  CHECK(h.alerts().size() == 2);
  CHECK(h.late().size() == 1);
}

TEST_CASE("keys are independent; records lacking a key field are skipped and counted",
          "[threshold][spec-5]") {
  SECTION("per key") {
    Harness h(kBusy);
    h.run(high("09:00", "b") + high("09:00", "a") + low("09:05", "a") + high("09:06", "a") +
          ev("09:07", "c", R"("in_use":9)") + R"({"ts":")" + stamp("09:08") +
          R"(","type":"metric","in_use":9})" + "\n" + low("09:20", "c") + high("09:30", "b"));
    // Due together: b (since 09:00) and a — a's 09:00 episode ended at 09:05; its new one
    // (09:06) is due at 09:16, and c (09:07) at 09:17.
    CHECK(shown(h.alerts()) ==
          std::vector<std::string>{"firing@09:10 since 09:00 feature=\"b\" record 09:00",
                                   "firing@09:16 since 09:06 feature=\"a\" record 09:06",
                                   "firing@09:17 since 09:07 feature=\"c\" record 09:07",
                                   "resolved@09:20 since 09:07 feature=\"c\" record 09:20"});
    CHECK(h.op().dropped() == 1);
  }
  SECTION("alerts due at the same instant fire in the order their episodes started") {
    Harness h(kBusy);
    h.run(high("09:00", "b") + high("09:00", "a") + low("09:30", "z"));
    CHECK(shown(h.alerts()) ==
          std::vector<std::string>{"firing@09:10 since 09:00 feature=\"b\" record 09:00",
                                   "firing@09:10 since 09:00 feature=\"a\" record 09:00"});
  }
  SECTION("an empty key is one global key") {
    Harness h("    condition: in_use > 2\n    for: 10m\n");
    h.run(high("09:00", "a") + low("09:05", "b") + high("09:06", "b") + high("09:20", "c"));
    CHECK(shown(h.alerts(), {}) ==
          std::vector<std::string>{"firing@09:16 since 09:06 record 09:06"});
    // No key fields: the alert goes straight from `since` to `message`.
    std::vector<std::string> names;
    for (const Field& f : h.alerts()[0].fields()) names.emplace_back(field_name(f.id));
    CHECK(names ==
          std::vector<std::string>{"alert", "state", "severity", "since", "message", "record"});
  }
}

TEST_CASE("message templates render strings bare, numbers as JSON, ts as RFC 3339, null as null",
          "[threshold][spec-5]") {
  MessageTemplate::Error error;
  auto t = MessageTemplate::parse(
      "{s}|{i}|{d}|{r}|{b}|{n}|{missing}|{ts}|{start}|{{x}}|{ in_use / capacity * 100 }|{'}'}",
      &error);
  INFO(error.message);
  REQUIRE(t);
  Record r;
  r.ts = at("09:15:30.250");
  r.set(intern_field("s"), Value("x y"));
  r.set(intern_field("i"), Value(int64_t{-3}));
  r.set(intern_field("d"), Value(0.5));
  r.set(intern_field("r"), Value(2.0));
  r.set(intern_field("b"), Value(true));
  r.set(intern_field("n"), Value());
  r.set(intern_field("start"), Value("2026-11-27T09:00:00.000Z"));
  r.set(intern_field("in_use"), Value(int64_t{3}));
  r.set(intern_field("capacity"), Value(int64_t{4}));
  CHECK(t->render(r) ==
        "x y|-3|0.5|2.0|true|null|null|2026-11-27T09:15:30.250Z|"
        "2026-11-27T09:00:00.000Z|{x}|75.0|}");
  CHECK(MessageTemplate::parse("", &error)->render(r).empty());
  CHECK(MessageTemplate::parse("no placeholders", &error)->render(r) == "no placeholders");
}

TEST_CASE("malformed templates are errors at their offset", "[threshold][spec-5]") {
  struct Case {
    const char* text;
    size_t offset;
    const char* message_start;
  };
  for (const Case& c :
       {Case{"a } b", 2, "unmatched `}`"}, Case{"x {feature", 2, "unclosed `{`"},
        Case{"x {'}", 2, "unclosed `{`"}, Case{"{ }", 0, "empty placeholder"},
        Case{"ok {a +}", 7, "bad placeholder"}, Case{"{a} {b c}", 7, "bad placeholder"}}) {
    INFO(c.text);
    MessageTemplate::Error error;
    CHECK_FALSE(MessageTemplate::parse(c.text, &error));
    CHECK(error.offset == c.offset);
    CHECK(error.message.rfind(c.message_start, 0) == 0);
  }
}

TEST_CASE("threshold config errors point at the offending value", "[threshold][spec-5][spec-3]") {
  const std::string head =
      "name: t\nsources: {e: {type: stdin}}\noperators:\n  busy:\n    type: threshold\n"
      "    input: e\n";
  // Line 7 onwards is the threshold's own keys; columns are 1-based.
  CHECK(
      pipeline_errors(head + "    condition: in_use >> 2\n") ==
      std::vector<std::string>{"p.yaml:7:24: error: `busy`: bad expression: unexpected token '>'"});
  CHECK(pipeline_errors(head + "    condition: in_use > 2\n    for: 10 minutes\n") ==
        std::vector<std::string>{"p.yaml:8:10: error: `busy`: bad duration `10 minutes` for "
                                 "`for`: spaces are not allowed (write e.g. 250ms, 5s, 15m, "
                                 "1h30m)"});
  // The quoted template's text starts at column 15; its second `{` is at 28.
  CHECK(pipeline_errors(head + "    condition: in_use > 2\n"
                               "    message: \"{feature} at {in_use\"\n") ==
        std::vector<std::string>{"p.yaml:8:28: error: `busy`: bad template for `message`: "
                                 "unclosed `{` (write `{{` for a literal brace)"});
  CHECK(pipeline_errors(head + "    condition: in_use > 2\n    message: {feature} is busy\n")
            .size() == 1);  // unquoted, YAML reads a flow map: not a string
  CHECK(pipeline_errors(head + "    condition: in_use > 2\n    message: \"x {a +}\"\n") ==
        std::vector<std::string>{"p.yaml:8:21: error: `busy`: bad template for `message`: "
                                 "bad placeholder: unexpected end of expression"});
  CHECK(pipeline_errors(head + "    for: 5m\n") ==
        std::vector<std::string>{"p.yaml:5:5: error: `busy`: missing required key `condition`"});
  CHECK(pipeline_errors(head + "    condition: in_use > 2\n    key: [feature, state]\n") ==
        std::vector<std::string>{"p.yaml:8:10: error: `busy`: `state` cannot be a key field of a "
                                 "threshold: the alert has a field of that name"});
  CHECK(pipeline_errors(head + "    condition: in_use > 2\n    key: [feature, feature]\n") ==
        std::vector<std::string>{"p.yaml:8:10: error: `busy`: `key` lists `feature` twice"});
  CHECK(pipeline_errors(head + "    condition: in_use > 2\n    severity: [a]\n") ==
        std::vector<std::string>{"p.yaml:8:15: error: `busy`: `severity` must be a string"});
  CHECK(pipeline_errors(head + "    condition: in_use > 2\n    window: 5m\n").size() == 1);
}

TEST_CASE("an object value is equal only to itself and keys by its contents",
          "[threshold][spec-4]") {
  auto inner = std::make_shared<Record>();
  inner->ts = 5;
  inner->set(field::kFeature, Value("cad"));
  Record r;
  r.set(intern_field("record"), Value(std::shared_ptr<const Record>(inner)));
  r.set(intern_field("copy"), Value(std::make_shared<const Record>(*inner)));
  r.set(intern_field("text"), Value("cad"));
  ExpressionError error;
  auto test = [&](const char* text) { return Expression::parse(text, &error).test(r); };
  CHECK(test("record == record"));
  CHECK_FALSE(test("record == copy"));
  CHECK_FALSE(test("record == text"));
  CHECK(test("record != 1"));
  CHECK_FALSE(test("record < record"));
  CHECK_FALSE(test("record >= record"));
  CHECK(Expression::parse("record + 1", &error).evaluate(r).is_null());

  KeyFields by_record({"record"}), by_copy({"copy"});
  std::string a, b;
  REQUIRE(by_record.encode(r, a));
  REQUIRE(by_copy.encode(r, b));
  CHECK(a == b);
}
