// SPEC §3: pipeline files, validated into a plan; every problem as FILE:LINE:COL: error: MESSAGE.
#include <catch2/catch.hpp>

#include "tests/test_util.h"

using namespace licflow;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using licflow::test::load_plan;
using licflow::test::pipeline_errors;

namespace {

const char* kValid = R"(name: ok
time: {max_out_of_orderness: 5s, allowed_lateness: 1m}
state: {dir: ./d, checkpoint_interval: 10s, memory_limit: 64MiB}
features:
  matlab: {capacity: 50, dup_group: user_host}
sources:
  events: {type: file, path: in.jsonl}
operators:
  lanes:
    type: route
    input: events
    routes:
      urgent: type == 'server_down'
      denials: type == 'denied'
    priority: [urgent]
  after_urgent: {type: filter, input: lanes.urgent, where: "true"}
  quiet: {type: filter, input: [lanes.denials, lanes.unmatched], where: "server != 'x'"}
sinks:
  out: {type: file, path: out.jsonl, input: [after_urgent, quiet]}
)";

}  // namespace

TEST_CASE("a valid pipeline loads into a topologically ordered plan", "[config][spec-3]") {
  auto plan = load_plan(kValid);
  CHECK(plan->name == "ok");
  CHECK(plan->settings.time.max_out_of_orderness_ms == 5000);
  CHECK(plan->settings.time.allowed_lateness_ms == 60000);
  CHECK(plan->state.dir == "./d");
  CHECK(plan->state.memory_limit_bytes == 64ull << 20);
  CHECK(plan->dead_letter_path == "./d/dead_letter.jsonl");
  CHECK(plan->settings.features.at("matlab").capacity == 50);
  CHECK(plan->settings.features.at("matlab").dup_group == "user_host");
  REQUIRE(plan->nodes.size() == 5);
  std::vector<std::string> ids;
  for (const PlanNode& n : plan->nodes) ids.push_back(n.id);
  CHECK(ids == std::vector<std::string>{"events", "lanes", "after_urgent", "quiet", "out"});
  // A route has no `out` port: its ports are its routes, then `unmatched`.
  CHECK(plan->nodes[1].ports() == std::vector<std::string>{"urgent", "denials", "unmatched"});
  CHECK(plan->stream_name(plan->nodes[3].inputs[1]) == "lanes.unmatched");
  CHECK(plan->stream_name(plan->nodes[4].inputs[0]) == "after_urgent");
}

TEST_CASE("priority lanes mark everything downstream of them", "[config][route][spec-5]") {
  auto plan = load_plan(kValid);
  CHECK_FALSE(plan->nodes[1].priority);  // the route itself is fed by bulk work
  CHECK(plan->nodes[2].priority);        // after_urgent <- lanes.urgent
  CHECK_FALSE(plan->nodes[3].priority);  // quiet <- denials, unmatched
  CHECK(plan->nodes[4].priority);        // the sink is fed by after_urgent
}

TEST_CASE("dead letters default into the state dir; dead_letter.path overrides",
          "[config][spec-3]") {
  auto plan = load_plan("name: x\nsources: {e: {type: stdin}}\n");
  CHECK(plan->dead_letter_path == "./licflow-data/dead_letter.jsonl");
  plan = load_plan("name: x\ndead_letter: {path: /tmp/dl.jsonl}\nsources: {e: {type: stdin}}\n");
  CHECK(plan->dead_letter_path == "/tmp/dl.jsonl");
}

TEST_CASE("invalid YAML is reported with its position", "[config][spec-3]") {
  auto errors = pipeline_errors("name: x\nsources: {e: {type: stdin}\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], StartsWith("p.yaml:"));
  CHECK_THAT(errors[0], Contains(": error: invalid YAML:"));
}

TEST_CASE("unknown keys are reported at the key with the nearest valid one", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sorces: {}\n"
      "sources:\n"
      "  e: {type: file, path: a, fromat: jsonl}\n");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], StartsWith("p.yaml:2:1: error: unknown key `sorces` in the pipeline "
                                   "(did you mean `sources`?)"));
  CHECK_THAT(errors[1], StartsWith("p.yaml:4:28: error: unknown key `fromat` in source `e` "
                                   "(did you mean `format`?)"));
}

TEST_CASE("YAML merge keys bring an anchored mapping's keys; the mapping's own win",
          "[config][spec-3]") {
  const std::string head =
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  hot: &th {type: threshold, input: e, key: [k], condition: \"x > 5\"%s}\n"
      "  cold:\n"
      "    <<: *th\n"
      "    condition: \"x < 0\"\n"
      "  warm: {<<: [*th], for: 1m}\n"
      "sinks: {o: {type: stdout, input: [hot, cold, warm]}}\n";
  auto with = [&](const std::string& extra) {
    std::string text = head;
    text.replace(text.find("%s"), 2, extra);
    return text;
  };
  auto plan = load_plan(with(""));
  REQUIRE(plan);
  REQUIRE(plan->nodes.size() == 5);
  for (size_t i = 1; i <= 3; ++i) {
    CHECK(plan->nodes[i].type == "threshold");
    REQUIRE(plan->nodes[i].inputs.size() == 1);
    CHECK(plan->nodes[i].inputs[0].node == 0);
  }
  // A key the merge brings is reported where its value is written.
  auto errors = pipeline_errors(with(", bogus: 1"));
  REQUIRE(errors.size() == 3);
  for (const std::string& e : errors) CHECK_THAT(e, StartsWith("p.yaml:4:"));
}

TEST_CASE("unknown operator types list the valid ones", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  f: {type: filtr, input: e, where: 'true'}\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], StartsWith("p.yaml:4:13: error: unknown operator type `filtr` (did you "
                                   "mean `filter`?); valid: filter, route, dedup, license_state"));
}

TEST_CASE("unknown inputs suggest the nearest id", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {events: {type: stdin}}\n"
      "operators:\n"
      "  f: {type: filter, input: evnts, where: 'true'}\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "p.yaml:4:28: error: unknown input `evnts` of `f` (did you mean `events`?)");

  // However far the nearest is; a part of an id points at that id.
  errors = pipeline_errors(
      "name: x\n"
      "sources: {events: {type: stdin}}\n"
      "operators:\n"
      "  usage_hourly: {type: filter, input: events, where: 'true'}\n"
      "sinks:\n"
      "  o: {type: stdout, input: [usage, event_stream, q]}\n");
  REQUIRE(errors.size() == 3);
  CHECK_THAT(errors[0], EndsWith("unknown input `usage` of `o` (did you mean `usage_hourly`?)"));
  CHECK_THAT(errors[1], EndsWith("unknown input `event_stream` of `o` (did you mean `events`?)"));
  CHECK_THAT(errors[2], EndsWith("unknown input `q` of `o` (did you mean `events`?)"));
}

TEST_CASE("unknown ports and a route's missing out port are reported", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  r: {type: route, input: e, routes: {a: 'true'}}\n"
      "sinks:\n"
      "  s1: {type: stdout, input: r}\n"
      "  s2: {type: stdout, input: r.b}\n");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], StartsWith("p.yaml:6:29: error: input `r` of `s1`: `r` has no `out` port"));
  CHECK_THAT(errors[1], StartsWith("p.yaml:7:29: error: input `r.b` of `s2`: unknown port `b` of "
                                   "`r`"));
}

TEST_CASE("cycles are named", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  a: {type: filter, input: [e, c], where: 'true'}\n"
      "  b: {type: filter, input: a, where: 'true'}\n"
      "  c: {type: filter, input: b, where: 'true'}\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], StartsWith("p.yaml:4:3: error: cycle: a -> b -> c -> a"));
}

TEST_CASE("bad durations are reported at the value", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "time: {max_out_of_orderness: 5 sec}\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  d: {type: dedup, input: e, key: [user], within: ten}\n");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], StartsWith("p.yaml:2:30: error: bad duration `5 sec`"));
  CHECK_THAT(errors[1], StartsWith("p.yaml:5:51: error: `d`: bad duration `ten` for `within`"));
}

TEST_CASE("intervals that must pass time refuse 0s", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "time: {idle_timeout: 0s}\n"
      "state: {checkpoint_interval: 0s}\n"
      "sources: {e: {type: stdin}}\n");
  CHECK(errors == std::vector<std::string>{
                      "p.yaml:2:22: error: `time.idle_timeout` must be longer than 0s",
                      "p.yaml:3:30: error: `state.checkpoint_interval` must be longer than 0s"});
}

TEST_CASE("expression errors point at the column inside the expression", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  f:\n"
      "    type: filter\n"
      "    input: e\n"
      "    where: count > > 3\n"
      "  g: {type: filter, input: e, where: \"user == 'a' and (x\"}\n");
  REQUIRE(errors.size() == 2);
  // `count > > 3`: the second `>` starts at offset 8 of the scalar, which starts at column 12.
  CHECK_THAT(errors[0], StartsWith("p.yaml:7:20: error: `f`: bad expression:"));
  // The quote is at column 37, so the text starts at 38; the problem is at its end, offset 19.
  CHECK_THAT(errors[1], StartsWith("p.yaml:8:57: error: `g`: bad expression: expected ')'"));
}

TEST_CASE("expression errors point at the column in block scalars and through quote escapes",
          "[config][spec-3]") {
  // SPEC §3 tells users to write expressions with commas or quotes in block style or quoted.
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  f:\n"
      "    type: filter\n"
      "    input: e\n"
      "    where: >-\n"
      "      type == 'denied' and = 1\n"
      "  g:\n"
      "    type: filter\n"
      "    input: e\n"
      "    where: |\n"
      "      type == 'denied'\n"
      "        and = 1\n"
      "  h: {type: filter, input: e, where: 'a == ''x'' and = 1'}\n"
      "  i: {type: filter, input: e, where: \"a == \\\"x\\\" and = 1\"}\n");
  REQUIRE(errors.size() == 4);
  CHECK_THAT(errors[0], StartsWith("p.yaml:8:28: error: `f`: bad expression:"));
  CHECK_THAT(errors[1], StartsWith("p.yaml:14:13: error: `g`: bad expression:"));
  CHECK_THAT(errors[2], StartsWith("p.yaml:15:54: error: `h`: bad expression:"));
  CHECK_THAT(errors[3], StartsWith("p.yaml:16:54: error: `i`: bad expression:"));
}

TEST_CASE("every problem is reported, not just the first", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "sources: {e: {type: socket}}\n"
      "operators:\n"
      "  f: {type: filter, input: nope, where: 'a =='}\n"
      "sinks:\n"
      "  s: {type: stdout}\n");
  CHECK(errors.size() == 5);  // name, type, input, expression, sink input
}

TEST_CASE("duplicate keys and ids are rejected", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  e: {type: filter, input: e, where: 'true'}\n"
      "  f: {type: filter, input: e, where: 'true', where: 'false'}\n");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], Contains("duplicate id `e`"));
  CHECK_THAT(errors[1], Contains("duplicate key `where`"));

  // An id twice in one section is one problem, one line.
  errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  f: {type: filter, input: e, where: 'true'}\n"
      "  f: {type: filter, input: e, where: 'false'}\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "p.yaml:5:3: error: duplicate key `f` (first at line 4)");
}

TEST_CASE("route rejects an unknown priority lane and a bad mode", "[config][route][spec-5]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  r: {type: route, input: e, routes: {urgent: 'true'}, priority: [urgnt], mode: any}\n");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], Contains("priority lane `urgnt` is not a route (did you mean `urgent`?)"));
  CHECK_THAT(errors[1], Contains("`mode` must be `first` or `all`"));
}

TEST_CASE("sources validate their keys and formats", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources:\n"
      "  a: {type: file}\n"
      "  b: {type: tcp, listen: nowhere}\n"
      "  c: {type: stdin, format: xml}\n");
  REQUIRE(errors.size() == 3);
  CHECK_THAT(errors[0], Contains("`a`: missing required key `path`"));
  CHECK_THAT(errors[1], Contains("`listen` must be HOST:PORT"));
  CHECK_THAT(errors[2], Contains("unknown format `xml`"));
}

TEST_CASE("graph renderings name every node and edge", "[config][spec-8]") {
  auto plan = load_plan(kValid);
  std::string dot = render_dot(*plan);
  CHECK_THAT(dot, Contains("\"lanes\" -> \"after_urgent\" [label=\"urgent\"];"));
  CHECK_THAT(dot, Contains("\"quiet\" -> \"out\";"));
  std::string mermaid = render_mermaid(*plan);
  CHECK_THAT(mermaid, StartsWith("flowchart LR\n"));
  CHECK_THAT(mermaid, Contains("n1 -->|\"unmatched\"| n3"));
}

TEST_CASE("a feature's bad `cost` is rejected even without a cost operator", "[config][spec-3]") {
  const std::string tail =
      "sources: {e: {type: stdin}}\n"
      "sinks: {o: {type: stdout, input: e}}\n";
  auto errors = pipeline_errors(
      "name: x\n"
      "features:\n"
      "  matlab: {capacity: 50, cost: {model: usage, per_hour: 5, bogus: 1}}\n"
      "  ansys: {cost: {model: usag}}\n" + tail);
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], StartsWith("p.yaml:3:60: error: unknown key `bogus`"));
  CHECK_THAT(errors[1], StartsWith("p.yaml:4:25: error: `cost` of feature `ansys`: unknown cost model `usag`"));
  // A valid one passes.
  CHECK(pipeline_errors("name: x\nfeatures:\n  m: {cost: {model: usage, per_hour: 5}}\n" + tail)
            .empty());
}

TEST_CASE("a cycle through an operator with a bad key is still reported", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  c: {type: filter, input: [e, d], where: \"true\"}\n"
      "  d: {type: filter, input: c, where: \"true\", bogus: 1}\n"
      "sinks: {o: {type: stdout, input: d}}\n");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], Contains("cycle"));
  CHECK_THAT(errors[1], StartsWith("p.yaml:5:46: error: unknown key `bogus`"));
}

TEST_CASE("a pipeline without sources is invalid, not a run that reads nothing",
          "[config][spec-3]") {
  auto errors = pipeline_errors("name: x\nsources: {}\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], StartsWith("p.yaml:2:10: error: a pipeline needs at least one source"));
}

TEST_CASE("paths must be non-empty strings: state.dir, dead_letter.path, file paths",
          "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "state: {dir: [x]}\n"
      "dead_letter: {path: ''}\n"
      "sources:\n"
      "  e: {type: file, path: ''}\n"
      "sinks:\n"
      "  o: {type: file, path: '', input: e}\n");
  REQUIRE(errors.size() == 4);
  CHECK_THAT(errors[0], StartsWith("p.yaml:2:14: error: `state.dir` must be a path"));
  CHECK_THAT(errors[1], StartsWith("p.yaml:3:21: error: `dead_letter.path` must be a path"));
  CHECK_THAT(errors[2], StartsWith("p.yaml:5:25: error: `e`: `path` must not be empty"));
  CHECK_THAT(errors[3], StartsWith("p.yaml:7:25: error: `o`: `path` must not be empty"));
}

TEST_CASE("a reference to a node whose own problem is reported is not an unknown input besides",
          "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  f: {input: e, where: 'true'}\n"
      "  g: {type: filter, input: [f, gg], where: 'true'}\n");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], StartsWith("p.yaml:4:3: error: operator `f` needs a `type`"));
  // The nearest id to `gg` is `g` itself, which would be a cycle: not suggested.
  CHECK_THAT(errors[1], StartsWith("p.yaml:5:32: error: unknown input `gg` of `g`"));
  CHECK_THAT(errors[1], !Contains("did you mean `g`"));
}

TEST_CASE("an unknown key does not hide a node's other problems", "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources:\n"
      "  t: {type: tcp, listen: nohost, bogus: 1}\n"
      "operators:\n"
      "  st: {type: license_state, input: t, extra: 1}\n"
      "sinks:\n"
      "  o: {type: stdout, input: [st.nope]}\n");
  REQUIRE(errors.size() == 4);
  CHECK_THAT(errors[0], StartsWith("p.yaml:3:26: error: `t`: `listen` must be HOST:PORT"));
  CHECK_THAT(errors[1], StartsWith("p.yaml:3:34: error: unknown key `bogus` in source `t`"));
  CHECK_THAT(errors[2], StartsWith("p.yaml:5:39: error: unknown key `extra` in operator `st`"));
  CHECK_THAT(errors[3], StartsWith("p.yaml:7:29: error: input `st.nope` of `o`: unknown port"));
}

TEST_CASE("a key without a value is reported at the key, not at the next line",
          "[config][spec-3]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources:\n"
      "  ev: {type: stdin}\n"
      "  ev2:\n"
      "operators:\n"
      "  w:\n"
      "    type: window\n"
      "    input: ev\n"
      "    size: 1h\n"
      "    aggregates:\n"
      "      n:\n"
      "      m: count()\n");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], StartsWith("p.yaml:4:3: error: source `ev2` must be a mapping"));
  CHECK_THAT(errors[1], StartsWith("p.yaml:11:7: error: `w`: aggregate `n` must be a function"));
}

TEST_CASE("a bad expression is pointed at through YAML's folding, escapes and indentation",
          "[config][spec-3]") {
  // Each `where` has its bad `)` at the line and column given; YAML builds the value from the
  // lines in a different way for each style (config/yaml_scalar.h).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"    where: user == 'a' and\n             ) x\n", "6:14"},           // plain, two lines
      {"    where: \"user == 'a' and\n      ) x\"\n", "6:7"},               // double-quoted
      {"    where: 'user == ''a''\n\n      and ) x'\n", "7:11"},            // single, empty line
      {"    where: \"a == 1 and\\\n      \\ ) x\"\n", "6:9"},              // escaped break
      {"    where: \"a == '\\u00e9' and ) x\"\n", "5:31"},                  // \u: 2 bytes
      {"    where: |2\n\n        user == 1 )\n", "7:19"},                 // indentation indicator
      {"    where: >-\n      user == 1\n\n      and ) \n", "8:11"},        // folded, empty line
      {"    where: >\n      user == 1\n        and ) \n", "7:13"},         // more indented
      {"    where: |\n      user == 'a'\n        and ) x\n", "7:13"},      // literal
  };
  for (const auto& [where, at] : cases) {
    INFO(where);
    auto errors = pipeline_errors("name: x\nsources: {ev: {type: stdin}}\noperators:\n  f:\n" +
                                  where + "    type: filter\n    input: ev\n");
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0], StartsWith("p.yaml:" + at + ": error: `f`: bad expression"));
  }
}

TEST_CASE("a quoted string never closed is invalid YAML, not a value running to the end",
          "[config][spec-3]") {
  auto name = pipeline_errors("name: \"a\nsources: {e: {type: stdin}}\n");
  REQUIRE(name.size() == 1);
  CHECK_THAT(name[0], StartsWith("p.yaml:1:7: error: invalid YAML: a quoted string is not closed"));
  auto input = pipeline_errors(
      "name: x\nsources: {e: {type: stdin}}\nsinks:\n  o:\n    type: stdout\n    input: 'e\n");
  REQUIRE(input.size() == 1);
  CHECK_THAT(input[0], StartsWith("p.yaml:6:12: error: invalid YAML"));
  // Escaped and doubled quotes do not close them.
  CHECK(pipeline_errors("name: \"a\\\"b\"\nsources: {'it''s': {type: stdin}}\n").empty());
  // A UTF-8 byte-order mark shifts nothing.
  CHECK(pipeline_errors("\xEF\xBB\xBFname: x\nsources: {e: {type: stdin}}\nsinks: {o: "
                        "{type: stdout, input: [\"e\", e]}}\n")
            .empty());
  auto bom = pipeline_errors("\xEF\xBB\xBFname: x\nsources: {e: {type: stdin}}\noperators:\n"
                             "  f: {type: filter, input: e, where: \"a == 1 )\"}\n");
  REQUIRE(bom.size() == 1);
  CHECK_THAT(bom[0], StartsWith("p.yaml:4:46: error: `f`: bad expression"));
}

TEST_CASE("a route cannot be named out or unmatched (SPEC §5: a route has no out port)",
          "[config][route][spec-5]") {
  auto errors = pipeline_errors(
      "name: x\n"
      "sources: {e: {type: stdin}}\n"
      "operators:\n"
      "  lanes: {type: route, input: e, routes: {out: 'true', unmatched: 'true', a.b: 'true'}}\n");
  REQUIRE(errors.size() == 3);
  CHECK_THAT(errors[0], Contains("route name `out` is reserved"));
  CHECK_THAT(errors[1], Contains("route name `unmatched` is reserved"));
  CHECK_THAT(errors[2], Contains("route name `a.b` is reserved or contains '.'"));
}
