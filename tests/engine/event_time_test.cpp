// SPEC §2 end to end: "each operator judges a record against the watermark it had received
// before that record". A record behind an earlier record of the same input is late whether or
// not the two arrive in one chunk: small files (one chunk) and one-line chunks give one result.
#include <catch2/catch.hpp>

#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;
using Catch::Matchers::Contains;

namespace {

// Runs `operators` over `input` (a file source) with the sink reading `sink_input`; returns the
// sink's lines. `chunk_bytes`: the size of the source's chunks (1: one line per chunk).
std::vector<std::string> run_lines(const std::string& operators, const std::string& sink_input,
                                   const std::string& input, size_t chunk_bytes = 256 * 1024,
                                   int threads = 2, const std::string& time = "") {
  TempDir dir;
  write_file(dir.file("in.jsonl"), input);
  auto plan = load_plan("name: t\n" + time + "sources:\n  events: {type: file, path: " +
                        dir.file("in.jsonl") + "}\noperators:\n" + operators +
                        "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") +
                        ", input: " + sink_input + "}\n");
  REQUIRE(plan);
  RunOptions options;
  options.chunk_bytes = chunk_bytes;
  options.threads = threads;
  auto result = run_plan(*plan, options);
  INFO(result.status().message());
  REQUIRE(result.is_ok());
  return read_lines(dir.file("out.jsonl"));
}

std::string event(int64_t ts, const std::string& rest) {
  return "{\"ts\":" + std::to_string(ts) + ",\"type\":" + rest + "}\n";
}

const std::string kCountWindow =
    "  w: {type: window, input: events, key: [feature], size: 1m, aggregates: {n: count()}}\n";

}  // namespace

TEST_CASE("a record behind an earlier record of the same chunk is late", "[spec-2][late]") {
  const std::string input = event(0, "\"denied\",\"feature\":\"A\"") +
                            event(70000, "\"denied\",\"feature\":\"A\"") +
                            event(10000, "\"denied\",\"feature\":\"A\"");
  for (size_t chunk : {size_t{256 * 1024}, size_t{1}}) {
    for (int threads : {1, 2}) {
      INFO("chunk bytes " << chunk << ", threads " << threads);
      auto lines = run_lines(kCountWindow, "[w, w.late]", input, chunk, threads);
      REQUIRE(lines.size() == 3);
      CHECK_THAT(lines[0], Contains("\"window_end\":\"1970-01-01T00:01:00.000Z\""));
      CHECK_THAT(lines[0], Contains("\"n\":1,"));
      CHECK_THAT(lines[1], Contains("\"stream\":\"w.late\",\"ts\":\"1970-01-01T00:00:10.000Z\""));
      CHECK_THAT(lines[2], Contains("\"window_end\":\"1970-01-01T00:02:00.000Z\""));
    }
  }
}

TEST_CASE("a late record lacking a key field is skipped, not sent to `late`: keying comes first",
          "[spec-2][spec-5][late]") {
  // ts 10 s and 20 s are behind 70 s: late. The one at 10 s has no feature.
  const std::string input = event(70000, "\"metric\",\"feature\":\"A\",\"x\":1") +
                            event(10000, "\"metric\",\"x\":1") +
                            event(20000, "\"metric\",\"feature\":\"A\",\"x\":1");
  const std::string operators =
      kCountWindow +
      "  t: {type: threshold, input: events, key: [feature], condition: 'x > 0'}\n"
      "  a: {type: anomaly, input: events, key: [feature], value: x}\n";
  for (const char* late_port : {"w.late", "t.late", "a.late"}) {
    INFO(late_port);
    auto lines = run_lines(operators, late_port, input);
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines[0], Contains("\"ts\":\"1970-01-01T00:00:20.000Z\""));
  }
}

TEST_CASE("max_out_of_orderness: within the bound on time, beyond it late, in one chunk",
          "[spec-2][late]") {
  // 5 s windows: once the watermark passes a window's end the window is gone, and a record of
  // it is late.
  const std::string window =
      "  w: {type: window, input: events, key: [feature], size: 5s, aggregates: {n: count()}}\n";
  const std::string input = event(60000, "\"denied\",\"feature\":\"A\"") +
                            event(70000, "\"denied\",\"feature\":\"A\"") +
                            event(65000, "\"denied\",\"feature\":\"A\"") +  // = watermark: on time
                            event(64999, "\"denied\",\"feature\":\"A\"");   // 1 ms behind: late
  auto lines = sorted(run_lines(window, "[w, w.late]", input, 256 * 1024, 2,
                                "time: {max_out_of_orderness: 5s}\n"));
  REQUIRE(lines.size() == 4);
  CHECK_THAT(lines[0], Contains("\"stream\":\"w\",\"ts\":\"1970-01-01T00:01:05.000Z\""));
  CHECK_THAT(lines[1], Contains("\"stream\":\"w\",\"ts\":\"1970-01-01T00:01:10.000Z\""));
  CHECK_THAT(lines[2], Contains("\"stream\":\"w\",\"ts\":\"1970-01-01T00:01:15.000Z\""));
  for (int i = 0; i < 3; ++i) CHECK_THAT(lines[i], Contains("\"n\":1,"));
  CHECK_THAT(lines[3], Contains("\"stream\":\"w.late\",\"ts\":\"1970-01-01T00:01:04.999Z\""));
}

TEST_CASE("records a filter drops still move the watermark", "[spec-2][late]") {
  // The metric at 70 s is dropped, but the source's watermark, carried with the records, passed
  // it: the denial at 10 s behind it is late in the window after the filter.
  const std::string input = event(0, "\"denied\",\"feature\":\"A\"") +
                            event(70000, "\"metric\",\"v\":1") +
                            event(10000, "\"denied\",\"feature\":\"A\"") +
                            event(80000, "\"denied\",\"feature\":\"A\"");
  const std::string ops =
      "  f: {type: filter, input: events, where: \"type != 'metric'\"}\n"
      "  w: {type: window, input: f, key: [feature], size: 1m, aggregates: {n: count()}}\n";
  auto lines = run_lines(ops, "[w, w.late]", input);
  REQUIRE(lines.size() == 3);
  CHECK_THAT(lines[0], Contains("\"window_end\":\"1970-01-01T00:01:00.000Z\""));
  CHECK_THAT(lines[0], Contains("\"n\":1,"));
  CHECK_THAT(lines[1], Contains("\"stream\":\"w.late\",\"ts\":\"1970-01-01T00:00:10.000Z\""));
  CHECK_THAT(lines[2], Contains("\"window_end\":\"1970-01-01T00:02:00.000Z\""));
  CHECK_THAT(lines[2], Contains("\"n\":1,"));
}

TEST_CASE("license_state applies a late checkin at once and marks it; a window after it sees it "
          "late too",
          "[spec-2][late][license-state]") {
  const std::string input =
      event(1000, "\"checkout\",\"feature\":\"F\",\"handle\":\"h1\",\"capacity\":5") +
      event(9000, "\"checkout\",\"feature\":\"F\",\"handle\":\"h2\"") +
      event(2000, "\"checkin\",\"feature\":\"F\",\"handle\":\"h1\"");
  const std::string ops =
      "  s: {type: license_state, input: events}\n"
      "  w: {type: window, input: s, key: [feature], size: 5s, aggregates: {n: count(), peak: "
      "max(in_use)}}\n";
  for (size_t chunk : {size_t{256 * 1024}, size_t{1}}) {
    INFO("chunk bytes " << chunk);
    auto state = run_lines(ops, "s", input, chunk);
    REQUIRE(state.size() == 3);
    CHECK_THAT(state[1], Contains("\"ts\":\"1970-01-01T00:00:09.000Z\""));
    CHECK_THAT(state[1], !Contains("\"late\""));
    CHECK_THAT(state[2], Contains("\"type\":\"checkin\""));
    CHECK_THAT(state[2], Contains("\"in_use\":1,"));
    CHECK_THAT(state[2], Contains("\"late\":true"));
    // Downstream, the late output is behind the watermark license_state sent before it, and
    // its window [0 s, 5 s) is gone by then.
    auto windows = sorted(run_lines(ops, "[w, w.late]", input, chunk));
    REQUIRE(windows.size() == 3);
    CHECK_THAT(windows[0], Contains("\"stream\":\"w\",\"ts\":\"1970-01-01T00:00:05.000Z\""));
    CHECK_THAT(windows[0], Contains("\"n\":1,\"peak\":1,"));
    CHECK_THAT(windows[1], Contains("\"stream\":\"w\",\"ts\":\"1970-01-01T00:00:10.000Z\""));
    CHECK_THAT(windows[1], Contains("\"n\":1,\"peak\":2,"));
    CHECK_THAT(windows[2], Contains("\"stream\":\"w.late\""));
    CHECK_THAT(windows[2], Contains("\"type\":\"checkin\""));
  }
}

TEST_CASE("threshold sends a record behind its watermark to `late`, in one chunk",
          "[spec-2][late][threshold]") {
  const std::string input = event(0, "\"metric\",\"v\":1") + event(10000, "\"metric\",\"v\":1") +
                            event(5000, "\"metric\",\"v\":9");
  const std::string ops = "  th: {type: threshold, input: events, condition: \"v > 5\"}\n";
  auto lines = run_lines(ops, "[th, th.late]", input);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Contains("\"stream\":\"th.late\",\"ts\":\"1970-01-01T00:00:05.000Z\""));
}

TEST_CASE("lateness does not depend on how the input is cut into chunks", "[spec-2][late]") {
  // Bounded disorder with stragglers beyond the bound, through license_state, a window and a
  // threshold: one-line chunks, small chunks and whole-file chunks give the same output.
  std::string input;
  for (int i = 0; i < 600; ++i) {
    int64_t ts = i * 1000;
    if (i % 7 == 3) ts -= 4000;    // within the 5 s bound
    if (i % 50 == 25) ts -= 9000;  // beyond it: late
    const std::string feature = i % 3 == 0 ? "A" : "B";
    const std::string handle = "h" + std::to_string(i / 2);
    input += event(ts, std::string(i % 2 == 0 ? "\"checkout\"" : "\"checkin\"") +
                           ",\"feature\":\"" + feature + "\",\"handle\":\"" + handle +
                           "\",\"capacity\":3");
  }
  const std::string ops =
      "  s: {type: license_state, input: events}\n"
      "  w: {type: window, input: s, key: [feature], size: 1m, aggregates: {n: count(), peak: "
      "gauge_max(in_use)}}\n"
      "  th: {type: threshold, input: s, key: [feature], condition: \"utilization > 0.5\"}\n";
  const std::string time = "time: {max_out_of_orderness: 5s}\n";
  const std::string sinks = "[s, w, w.late, th, th.late]";
  auto whole = run_lines(ops, sinks, input, 256 * 1024, 2, time);
  size_t late = 0;  // every 50th record is 9 s behind: late in license_state
  for (const std::string& line : whole) {
    late += line.find("{\"stream\":\"s\",") == 0 && line.find("\"late\":true") != std::string::npos;
  }
  CHECK(late == 12);
  for (size_t chunk : {size_t{1}, size_t{700}}) {
    INFO("chunk bytes " << chunk);
    CHECK(sorted(run_lines(ops, sinks, input, chunk, 2, time)) == sorted(whole));
  }
}

TEST_CASE("records of one ts keep their arrival order through a partitioned operator",
          "[spec-2][order]") {
  // license_state runs in partitions keyed by server; SPEC §2's (ts, arrival) order still holds
  // across them, which a window keyed otherwise can see through first() and last().
  const std::vector<std::string> servers = {"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"};
  std::string input;
  for (const std::string& s : servers) {
    input += event(1000, "\"denied\",\"feature\":\"F\",\"server\":\"" + s + "\"");
  }
  const std::string ops =
      "  s: {type: license_state, input: events}\n"
      "  w: {type: window, input: s, key: [feature], size: 1m, aggregates: {first_server: "
      "first(server), last_server: last(server)}}\n";
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    auto state = run_lines(ops, "s", input, 256 * 1024, threads);
    REQUIRE(state.size() == servers.size());
    for (size_t i = 0; i < servers.size(); ++i) {
      CHECK_THAT(state[i], Contains("\"server\":\"" + servers[i] + "\""));
    }
    auto windows = run_lines(ops, "w", input, 256 * 1024, threads);
    REQUIRE(windows.size() == 1);
    CHECK_THAT(windows[0], Contains("\"first_server\":\"s1\",\"last_server\":\"s8\""));
  }
}

TEST_CASE("alerts due together fire in the order their episodes started, across partitions",
          "[spec-5][order][threshold]") {
  const std::vector<std::string> servers = {"s3", "s1", "s6", "s2", "s8", "s5", "s4", "s7"};
  std::string input;
  for (const std::string& s : servers) input += event(1000, "\"metric\",\"v\":9,\"server\":\"" + s + "\"");
  input += event(20000, "\"metric\",\"v\":0,\"server\":\"s0\"");
  const std::string ops =
      "  th: {type: threshold, input: events, key: [server], condition: \"v > 5\", for: 10s}\n";
  auto lines = run_lines(ops, "th", input);
  REQUIRE(lines.size() == servers.size());
  for (size_t i = 0; i < servers.size(); ++i) {
    CHECK_THAT(lines[i], Contains("\"ts\":\"1970-01-01T00:00:11.000Z\""));
    CHECK_THAT(lines[i], Contains("\"server\":\"" + servers[i] + "\""));
  }
}

TEST_CASE("a late record in one partition does not reorder the other partitions' outputs",
          "[spec-2][spec-5][order]") {
  // Every partition moves its watermark where any record of the batch is late, as one
  // instance would: windows closing together stay in window_end order, and records around a
  // late one keep their place, whatever the chunks. (Keys A and B are in different partitions.)
  auto denied = [](int64_t ts, const std::string& key) {
    return event(ts, "\"denied\",\"feature\":\"" + key + "\",\"server\":\"" + key + "\"");
  };
  const std::string windows_input = denied(10000, "A") + denied(10000, "B") +
                                    denied(100000, "A") + denied(5000, "B") +
                                    denied(110000, "B") + denied(130000, "A") +
                                    denied(250000, "A");
  auto windows = run_lines(kCountWindow, "w", windows_input);
  std::vector<std::string> shown;
  for (const std::string& line : windows) {
    shown.push_back(line.substr(line.find("\"window_end\"") + 28, 5) + " " +
                    line.substr(line.find("\"feature\"") + 11, 1));
  }
  CHECK(shown == std::vector<std::string>{"01:00 A", "01:00 B", "02:00 A", "02:00 B", "03:00 A",
                                          "05:00 A"});
  CHECK(run_lines(kCountWindow, "w", windows_input, 1) == windows);

  const std::string state_input = denied(10000, "A") + denied(20000, "B") + denied(5000, "A") +
                                  denied(30000, "B") + denied(40000, "B");
  const std::string state = "  s: {type: license_state, input: events}\n";
  auto lines = run_lines(state, "s", state_input);
  REQUIRE(lines.size() == 5);
  CHECK_THAT(lines[2], Contains("\"ts\":\"1970-01-01T00:00:05.000Z\""));
  CHECK_THAT(lines[2], Contains("\"late\":true"));
  CHECK(run_lines(state, "s", state_input, 1) == lines);
}

// SPEC §2: watermarks travel with the records, as in Flink, where route and filter pass each one
// on at once on every port. An operator reading several streams of one source has therefore,
// at every record, received from each of them the watermark the source had before that record.
TEST_CASE("several streams of one source: a record is judged against the source's watermark "
          "before it, whatever the threads and chunks", "[spec-2][late][join]") {
  // After B@20s the source's watermark is 20s on both routes: A@5s is late, and A's episode,
  // true since 0s, has held for 10s by then.
  const std::string input = event(0, "\"metric\",\"k\":\"A\",\"x\":6") +
                            event(20000, "\"metric\",\"k\":\"B\",\"x\":0") +
                            event(5000, "\"metric\",\"k\":\"A\",\"x\":1");
  const std::string route =
      "  r: {type: route, input: events, routes: {a: \"k == 'A'\", b: \"k == 'B'\"}}\n";
  const std::string filters = "  fa: {type: filter, input: events, where: \"k == 'A'\"}\n"
                              "  fb: {type: filter, input: events, where: \"k == 'B'\"}\n";
  const std::string threshold =
      "{type: threshold, key: [k], condition: \"x > 5\", for: 10s, input: ";
  const std::string window =
      "{type: window, size: 10s, aggregates: {n: count()}, input: ";
  for (size_t chunk : {size_t{256 * 1024}, size_t{1}}) {
    for (int threads : {1, 2, 4}) {
      INFO("chunk bytes " << chunk << ", threads " << threads);
      for (const std::string& ops : {route + "  th: " + threshold + "[r.a, r.b]}\n",
                                     filters + "  th: " + threshold + "[fa, fb]}\n"}) {
        auto lines = run_lines(ops, "[th, th.late]", input, chunk, threads);
        REQUIRE(lines.size() == 2);
        CHECK_THAT(lines[0], Contains("\"ts\":\"1970-01-01T00:00:10.000Z\",\"alert\":\"th\","
                                      "\"state\":\"firing\""));
        CHECK_THAT(lines[1], Contains("\"stream\":\"th.late\",\"ts\":\"1970-01-01T00:00:05.000Z\""));
      }
      auto windows = run_lines(route + "  w: " + window + "[r.a, r.b]}\n", "[w, w.late]", input,
                               chunk, threads);
      REQUIRE(windows.size() == 3);
      CHECK_THAT(windows[0], Contains("\"window_end\":\"1970-01-01T00:00:10.000Z\",\"n\":1,"));
      CHECK_THAT(windows[1], Contains("\"stream\":\"w.late\""));
      CHECK_THAT(windows[2], Contains("\"window_end\":\"1970-01-01T00:00:30.000Z\",\"n\":1,"));
    }
  }
}

TEST_CASE("several streams of one source arrive in the source's order, also at one ts",
          "[spec-2][order][join]") {
  // A checkout on one stream and its checkin on the other, at one ts: in the source's order
  // the checkin closes the checkout (in the order of the inputs it would come first, unmatched).
  // A record a route sends to two of the streams comes once per stream, in input order.
  const std::string input =
      event(1000, "\"checkout\",\"feature\":\"F\",\"handle\":\"h\",\"user\":\"u\"") +
      event(1000, "\"checkin\",\"feature\":\"F\",\"handle\":\"h\"") +
      event(2000, "\"denied\",\"feature\":\"F\"");
  const std::string ops =
      "  r: {type: route, input: events, mode: all, routes: {ins: \"type == 'checkin'\", "
      "all: \"true\"}}\n"
      "  fo: {type: filter, input: r.all, where: \"type != 'checkin'\"}\n"
      "  s: {type: license_state, input: [r.ins, fo]}\n";
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    auto lines = run_lines(ops, "s", input, 256 * 1024, threads);
    REQUIRE(lines.size() == 3);
    CHECK_THAT(lines[0], Contains("\"type\":\"checkout\""));
    CHECK_THAT(lines[0], Contains("\"in_use\":1"));
    CHECK_THAT(lines[1], Contains("\"type\":\"checkin\""));
    CHECK_THAT(lines[1], Contains("\"in_use\":0"));
    CHECK_THAT(lines[2], Contains("\"type\":\"denied\""));
    CHECK(run_lines(ops, "s.sessions", input, 256 * 1024, threads).size() == 1);
    // Through a `mode: all` route to both inputs, the checkin comes twice: one is unmatched.
    const std::string both =
        "  r: {type: route, input: events, mode: all, routes: {ins: \"type == 'checkin'\", "
        "all: \"true\"}}\n"
        "  s: {type: license_state, input: [r.ins, r.all]}\n";
    auto twice = run_lines(both, "s", input, 256 * 1024, threads);
    REQUIRE(twice.size() == 4);
    CHECK_THAT(twice[1], Contains("\"type\":\"checkin\""));
    CHECK_THAT(twice[2], Contains("\"type\":\"checkin\""));
    CHECK_THAT(twice[2], Contains("\"in_use\":0"));
  }
}

TEST_CASE("a filter reading several streams of one source passes each record's watermark on",
          "[spec-2][late][join]") {
  // v 99 at 1s is behind the source's watermark (2s): both its copies are late, also the one
  // through f2, a filter over the source and a filter of it, and no alert fires.
  const std::string input = event(2000, "\"metric\",\"v\":1") + event(1000, "\"metric\",\"v\":99");
  const std::string ops =
      "  f0: {type: filter, input: events, where: \"v > 50\"}\n"
      "  f1: {type: filter, input: events, where: \"v > 1000\"}\n"
      "  f2: {type: filter, input: [events, f1], where: \"true\"}\n"
      "  t: {type: threshold, input: [f2, f0], key: [], condition: \"v > 50\"}\n";
  for (int threads : {1, 2, 4}) {
    INFO("threads " << threads);
    auto lines = run_lines(ops, "[t, t.late]", input, 256 * 1024, threads);
    REQUIRE(lines.size() == 2);
    for (const std::string& line : lines) CHECK_THAT(line, Contains("\"stream\":\"t.late\""));
  }
}

TEST_CASE(
    "a node reading two ports of license_state gets each derived record right after its "
    "cause",
    "[spec-2][spec-5][order][join]") {
  // SPEC §5 server_down: the event, then per feature in name order its copy, its sessions and
  // its license_available; a checkin's session follows the checkin (SPEC §2 "records an
  // operator derives from one record follow it directly"), in a sink and through a filter.
  const std::string input =
      event(1000,
            "\"checkout\",\"server\":\"s1\",\"feature\":\"b\",\"handle\":\"h1\","
            "\"capacity\":1") +
      event(2000,
            "\"checkout\",\"server\":\"s1\",\"feature\":\"a\",\"handle\":\"h2\","
            "\"capacity\":2") +
      event(3000, "\"checkin\",\"server\":\"s1\",\"feature\":\"a\",\"handle\":\"h2\"") +
      event(3500, "\"checkout\",\"server\":\"s2\",\"feature\":\"a\",\"handle\":\"h3\"") +
      event(4000, "\"checkout\",\"server\":\"s1\",\"feature\":\"a\",\"handle\":\"h4\"") +
      event(5000, "\"server_down\",\"server\":\"s1\"") +
      event(6000, "\"checkin\",\"server\":\"s2\",\"feature\":\"a\",\"handle\":\"h3\"");
  const std::vector<std::string> expected = {
      "state checkout b",          "state license_exhausted b", "state checkout a",
      "state checkin a",           "state.sessions session a",  "state checkout a",
      "state checkout a",          "state server_down -",       "state server_down a",
      "state.sessions session a",  "state server_down b",       "state.sessions session b",
      "state license_available b", "state checkin a",           "state.sessions session a"};
  const auto summary = [](const std::vector<std::string>& lines, bool by_stream) {
    std::vector<std::string> out;
    for (const std::string& line : lines) {
      auto field = [&](const std::string& name) {
        const size_t at = line.find("\"" + name + "\":\"");
        if (at == std::string::npos) return std::string("-");
        const size_t begin = at + name.size() + 4;
        return line.substr(begin, line.find('"', begin) - begin);
      };
      out.push_back((by_stream ? field("stream") : std::string("state")) + " " + field("type") +
                    " " + field("feature"));
    }
    return out;
  };
  const std::string ops = "  state: {type: license_state, input: events}\n";
  const std::string both = ops +
                           "  f: {type: filter, input: [state, state.sessions], where: "
                           "\"true\"}\n";
  for (int threads : {1, 2}) {
    for (size_t chunk_bytes : {size_t{1}, size_t{256 * 1024}}) {
      INFO("threads " << threads << ", chunks of " << chunk_bytes << " bytes");
      CHECK(summary(run_lines(ops, "[state, state.sessions]", input, chunk_bytes, threads), true) ==
            expected);
      // The filter's records are all of stream `f`: the same order, by type.
      std::vector<std::string> through_filter;
      for (const std::string& e : expected) {
        through_filter.push_back("state" + e.substr(e.find(' ')));
      }
      CHECK(summary(run_lines(both, "f", input, chunk_bytes, threads), false) == through_filter);
    }
  }
}

TEST_CASE("a sink reading a window's `out` and `late` gets them in the order they were emitted",
          "[spec-2][spec-5][order][join]") {
  // The window [0s, 10s) closes at the record of 15 s; the record of 2 s then comes late, before
  // the record of 25 s closes [10s, 20s). Keyed (partitioned) or not.
  const std::string input =
      event(1000, "\"denied\",\"feature\":\"F\"") + event(15000, "\"denied\",\"feature\":\"F\"") +
      event(2000, "\"denied\",\"feature\":\"F\"") + event(25000, "\"denied\",\"feature\":\"F\"");
  for (const std::string key : {"[]", "[feature]"}) {
    const std::string ops = "  w: {type: window, input: events, key: " + key +
                            ", size: 10s, aggregates: {n: count()}}\n";
    for (int threads : {1, 2}) {
      INFO("key " << key << ", threads " << threads);
      const auto lines = run_lines(ops, "[w, w.late]", input, 256 * 1024, threads);
      REQUIRE(lines.size() == 4);
      CHECK_THAT(lines[0], Contains("\"stream\":\"w\"") &&
                               Contains("\"window_end\":\"1970-01-01T00:00:10.000Z\""));
      CHECK_THAT(lines[1], Contains("\"stream\":\"w.late\"") &&
                               Contains("\"ts\":\"1970-01-01T00:00:02.000Z\""));
      CHECK_THAT(lines[2], Contains("\"stream\":\"w\"") &&
                               Contains("\"window_end\":\"1970-01-01T00:00:20.000Z\""));
      CHECK_THAT(lines[3], Contains("\"stream\":\"w\"") &&
                               Contains("\"window_end\":\"1970-01-01T00:00:30.000Z\""));
    }
  }
}

TEST_CASE("a sink reading two streams of one source writes them in the source's order",
          "[spec-2][order][join]") {
  std::string input;
  for (int i = 0; i < 40; ++i) {
    input += event(1000 * i,
                   i % 3 == 0 ? "\"denied\",\"feature\":\"F\"" : "\"queued\",\"feature\":\"F\"");
  }
  const std::string ops =
      "  r: {type: route, input: events, routes: {d: \"type == 'denied'\", q: \"true\"}}\n";
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    const auto lines = run_lines(ops, "[r.d, r.q]", input, 256 * 1024, threads);
    REQUIRE(lines.size() == 40);
    for (int i = 0; i < 40; ++i) {
      INFO("line " << i);
      CHECK_THAT(lines[i], Contains(i % 3 == 0 ? "\"stream\":\"r.d\"" : "\"stream\":\"r.q\""));
    }
  }
}
