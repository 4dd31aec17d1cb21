// The running graph: dead letters (SPEC §1), end-to-end delivery, --threads invariance (SPEC §8),
// backpressure, and the TCP source.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "engine/generator.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;
using Catch::Matchers::Contains;

namespace {

std::string file_pipeline(const TempDir& dir, const std::string& operators,
                          const std::string& sink_input) {
  return "name: t\n"
         "dead_letter: {path: " + dir.file("dead.jsonl") + "}\n"
         "sources:\n  events: {type: file, path: " + dir.file("in.jsonl") + "}\n" +
         operators +
         "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") + ", input: " + sink_input +
         "}\n";
}

RunSummary run_ok(Plan& plan, RunOptions options = {}) {
  auto result = run_plan(plan, options);
  INFO(result.status().message());
  REQUIRE(result.is_ok());
  return result.value();
}

}  // namespace

TEST_CASE("every bad-input kind becomes a dead letter and every good line is delivered",
          "[runtime][dead-letter][spec-1]") {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{\"ts\":1,\"type\":\"checkout\",\"feature\":\"f\"", "invalid JSON"},
      {"not json at all", "invalid JSON"},
      {"[1,2,3]", "not a JSON object"},
      {"{\"ts\":NaN,\"type\":\"metric\"}", "invalid JSON"},
      {"{\"ts\":1,\"type\":\"metric\",\"v\":Infinity}", "invalid JSON"},
      {"{\"ts\":1,\"type\":\"metric\",\"user\":\"\xff\xfe\"}", "invalid JSON"},
      {"{\"type\":\"metric\"}", "missing field `ts`"},
      {"{\"ts\":1}", "missing field `type`"},
      {"{\"ts\":1,\"type\":\"checkot\",\"feature\":\"f\"}", "unknown type"},
      {"{\"ts\":1,\"type\":\"denied\"}", "missing field `feature`"},
      {"{\"ts\":1,\"type\":\"checkout\",\"feature\":\"f\",\"count\":2.0}", "field `count`"},
      {"{\"ts\":1,\"type\":\"checkout\",\"feature\":\"f\",\"count\":\"x\"}", "field `count`"},
      {"{\"ts\":1,\"type\":\"checkout\",\"feature\":\"f\",\"capacity\":-1}", "field `capacity`"},
      {"{\"ts\":\"2026-13-01T00:00:00Z\",\"type\":\"metric\"}", "field `ts`"},
      {"{\"ts\":1.5,\"type\":\"metric\"}", "field `ts`"},
      {"{\"ts\":1,\"type\":\"metric\"} trailing", "invalid JSON"},
  };
  std::string input;
  std::vector<int> good_lines;
  int line = 0;
  for (const auto& [text, reason] : bad) {
    ++line;
    input += "{\"ts\":" + std::to_string(line) + ",\"type\":\"metric\",\"n\":" +
             std::to_string(line) + "}\n";
    good_lines.push_back(line);
    input += text + "\n";
    ++line;
  }
  input += "\n   \n" + std::string("{\"ts\":99,\"type\":\"metric\"}\r\n");
  write_file(dir.file("in.jsonl"), input);
  auto plan = load_plan(file_pipeline(dir, "", "events"));
  RunSummary summary = run_ok(*plan);

  CHECK(summary.dead_letters == bad.size());
  CHECK(summary.events == good_lines.size() + 1);
  auto out = read_lines(dir.file("out.jsonl"));
  CHECK(out.size() == good_lines.size() + 1);
  auto dead = read_lines(dir.file("dead.jsonl"));
  REQUIRE(dead.size() == bad.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    INFO(dead[i]);
    CHECK_THAT(dead[i], Contains("{\"source\":\"events\",\"line\":" + std::to_string(2 * i + 2) +
                                 ",\"error\":\""));
    CHECK_THAT(dead[i], Contains(bad[i].second));
    CHECK_THAT(dead[i], Contains("\"raw\":"));
  }
  // Invalid UTF-8 in `raw` is replaced so the dead-letter file stays valid JSON.
  CHECK_THAT(dead[5], Contains("\xEF\xBF\xBD"));
}

TEST_CASE("a dead letter's raw text is cut to 512 bytes", "[runtime][dead-letter][spec-1]") {
  TempDir dir;
  std::string long_bad = "{\"ts\":1,\"type\":\"nope\",\"pad\":\"" + std::string(2000, 'p') + "\"}";
  write_file(dir.file("in.jsonl"), long_bad + "\n");
  auto plan = load_plan(file_pipeline(dir, "", "events"));
  run_ok(*plan);
  auto dead = read_lines(dir.file("dead.jsonl"));
  REQUIRE(dead.size() == 1);
  CHECK_THAT(dead[0], Contains("\"raw\":\"" + std::string("{\\\"ts\\\":1,")));
  CHECK(dead[0].find(std::string(600, 'p')) == std::string::npos);
  CHECK(dead[0].find(std::string(480, 'p')) != std::string::npos);
}

TEST_CASE("a dead letter's raw text is its first 512 bytes decoded with replacement",
          "[runtime][dead-letter][spec-1]") {
  // As Python's bytes[:512].decode("utf-8", "replace"): each maximal ill-formed subpart is one
  // U+FFFD, so is a character the cut splits, and every byte of the 512 is accounted for.
  const std::string fffd = "\xEF\xBF\xBD";
  const std::string lines = std::string(600, '\xFF') + "\n" +                 // 600 bad bytes
                            "{\"ts\":1,\"type\":\"\xE2\x82\" }\n" +           // a cut-off €
                            std::string(510, 'y') + "\xE2\x82\xAC" + "yy\n";  // € at 511-513
  TempDir dir;
  write_file(dir.file("in.jsonl"), lines);
  auto plan = load_plan(file_pipeline(dir, "", "events"));
  run_ok(*plan);
  auto dead = read_lines(dir.file("dead.jsonl"));
  REQUIRE(dead.size() == 3);
  std::string all_fffd;
  for (int i = 0; i < 512; ++i) all_fffd += fffd;
  CHECK_THAT(dead[0], Contains("\"raw\":\"" + all_fffd + "\"}"));
  CHECK_THAT(dead[1], Contains("\"raw\":\"{\\\"ts\\\":1,\\\"type\\\":\\\"" + fffd + "\\\" }\"}"));
  // The € at bytes 511-513 is cut after two of its bytes: one U+FFFD for them.
  CHECK_THAT(dead[2], Contains("\"raw\":\"" + std::string(510, 'y') + fffd + "\"}"));
}

TEST_CASE("output is the same with --threads 1 and 2", "[runtime][spec-8]") {
  TempDir dir;
  GeneratorOptions gen;
  gen.users = 60;
  gen.days = 2;
  gen.faults = true;
  std::string input;
  generate_events(gen, [&](std::string_view text) { input.append(text); });
  write_file(dir.file("in.jsonl"), input);
  const std::string ops =
      "operators:\n"
      "  lanes:\n    type: route\n    input: events\n    mode: all\n    routes:\n"
      "      denials: type == 'denied'\n      big: count > 1\n"
      "  once: {type: dedup, input: lanes.denials, key: [feature, user], within: 5m}\n"
      "  busy: {type: filter, input: lanes.unmatched, where: \"type == 'checkout'\"}\n";
  std::vector<std::string> outputs[2];
  uint64_t dead[2];
  for (int threads : {1, 2}) {
    auto plan = load_plan(file_pipeline(dir, ops, "[once, lanes.big, busy]"));
    RunOptions options;
    options.threads = threads;
    options.chunk_bytes = 16 * 1024;  // many chunks, so parsing really runs in parallel
    RunSummary s = run_ok(*plan, options);
    outputs[threads - 1] = read_lines(dir.file("out.jsonl"));
    dead[threads - 1] = s.dead_letters;
  }
  CHECK(outputs[0].size() > 1000);
  CHECK(dead[0] > 0);
  CHECK(dead[0] == dead[1]);
  CHECK(sorted(outputs[0]) == sorted(outputs[1]));
}

TEST_CASE("records of one stream reach a sink in input order", "[runtime][spec-2]") {
  TempDir dir;
  std::string input;
  for (int i = 0; i < 20000; ++i) {
    input += "{\"ts\":" + std::to_string(i) + ",\"type\":\"metric\",\"i\":" + std::to_string(i) +
             "}\n";
  }
  write_file(dir.file("in.jsonl"), input);
  auto plan = load_plan(file_pipeline(dir, "", "events"));
  RunOptions options;
  options.chunk_bytes = 4096;
  run_ok(*plan, options);
  auto out = read_lines(dir.file("out.jsonl"));
  REQUIRE(out.size() == 20000);
  for (int i = 0; i < 20000; i += 997) {
    CHECK_THAT(out[static_cast<size_t>(i)], Contains(",\"i\":" + std::to_string(i) + ","));
  }
}

namespace {

// A sink that is slow on purpose.
class SlowSink final : public Sink {
 public:
  SlowSink() : Sink("slow") {}
  Status open() override { return Status::ok(); }
  void format(std::span<const Record> batch, std::string_view, std::string& out) override {
    records += batch.size();
    out = "x";
  }
  Status write(std::string_view) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return Status::ok();
  }
  Status close() override { return Status::ok(); }
  uint64_t records = 0;
};

}  // namespace

TEST_CASE("a slow sink slows the source down instead of growing memory",
          "[runtime][backpressure]") {
  TempDir dir;
  std::string input;
  for (int i = 0; i < 30000; ++i) {
    input += "{\"ts\":" + std::to_string(i) + ",\"type\":\"metric\",\"pad\":\"" +
             std::string(40, 'x') + "\"}\n";
  }
  write_file(dir.file("in.jsonl"), input);  // about 2.3 MB: ~560 chunks of 4 KiB
  auto plan = load_plan(file_pipeline(dir, "", "events"));
  auto slow = std::make_unique<SlowSink>();
  SlowSink* sink = slow.get();
  plan->nodes.back().sink = std::move(slow);
  RunOptions options;
  options.chunk_bytes = 4096;
  options.max_chunks_in_flight = 4;
  RunSummary s = run_ok(*plan, options);
  CHECK(sink->records == 30000);
  // Never more than the credit bound between the reader and the sink.
  CHECK(s.peak_chunks_in_flight <= 4);
  CHECK(s.peak_chunks_in_flight >= 1);
}

TEST_CASE("several sources feed one sink; dead letters name their source", "[runtime][spec-1]") {
  TempDir dir;
  write_file(dir.file("a.jsonl"), "{\"ts\":1,\"type\":\"metric\"}\nbad\n");
  write_file(dir.file("b.jsonl"), "{\"ts\":2,\"type\":\"metric\"}\n{\"ts\":3,\"type\":\"metric\"}\n");
  auto plan = load_plan("name: t\ndead_letter: {path: " + dir.file("dead.jsonl") + "}\n" +
                        "sources:\n  a: {type: file, path: " + dir.file("a.jsonl") + "}\n" +
                        "  b: {type: file, path: " + dir.file("b.jsonl") + "}\n" +
                        "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") +
                        ", input: [a, b]}\n");
  RunSummary s = run_ok(*plan);
  CHECK(s.events == 3);
  auto out = sorted(read_lines(dir.file("out.jsonl")));
  REQUIRE(out.size() == 3);
  CHECK_THAT(out[0], Contains("\"stream\":\"a\""));
  CHECK_THAT(out[1], Contains("\"stream\":\"b\""));
  auto dead = read_lines(dir.file("dead.jsonl"));
  REQUIRE(dead.size() == 1);
  CHECK_THAT(dead[0], Contains("\"source\":\"a\",\"line\":2"));
}

TEST_CASE("a sink that cannot open fails the run", "[runtime]") {
  TempDir dir;
  write_file(dir.file("in.jsonl"), "{\"ts\":1,\"type\":\"metric\"}\n");
  auto plan = load_plan("name: t\nsources:\n  e: {type: file, path: " + dir.file("in.jsonl") +
                        "}\nsinks:\n  out: {type: file, path: /proc/nope/out.jsonl, input: e}\n");
  auto result = run_plan(*plan, {});
  REQUIRE_FALSE(result.is_ok());
  CHECK_THAT(result.status().message(), Contains("sink `out`: cannot open"));
}

TEST_CASE("tcp source: concurrent clients, a client closing mid-line, a last line without newline",
          "[runtime][tcp]") {
  TempDir dir;
  uint16_t port = free_port();
  auto plan = load_plan("name: t\ndead_letter: {path: " + dir.file("dead.jsonl") + "}\n" +
                        "sources:\n  net: {type: tcp, listen: 127.0.0.1:" + std::to_string(port) +
                        "}\nsinks:\n  out: {type: file, path: " + dir.file("out.jsonl") +
                        ", input: net}\n");
  BackgroundRun run(*plan);
  constexpr int kClients = 6, kLinesEach = 2000;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([c, port] {
      int fd = connect_to(port);
      std::string text;
      for (int i = 0; i < kLinesEach; ++i) {
        text += "{\"ts\":" + std::to_string(i) + ",\"type\":\"metric\",\"client\":" +
                std::to_string(c) + "}\n";
      }
      // Split writes at odd places so lines straddle reads.
      for (size_t pos = 0; pos < text.size(); pos += 1237) send_all(fd, text.substr(pos, 1237));
      ::close(fd);
    });
  }
  for (std::thread& t : clients) t.join();
  int cut = connect_to(port);
  send_all(cut, "{\"ts\":5,\"type\":\"metric\",\"client\":99}\n{\"ts\":6,\"type\":\"met");
  ::close(cut);
  // Closed cleanly after a whole last line without '\n': an event, as at the end of a file.
  int unterminated = connect_to(port);
  send_all(unterminated, "{\"ts\":7,\"type\":\"metric\",\"client\":98}");
  ::close(unterminated);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Result<RunSummary> result = run.stop();
  INFO(result.status().message());
  REQUIRE(result.is_ok());
  CHECK(result.value().events == kClients * kLinesEach + 2);
  CHECK(result.value().dead_letters == 1);
  const auto out = read_lines(dir.file("out.jsonl"));
  CHECK(out.size() == kClients * kLinesEach + 2);
  CHECK(std::count_if(out.begin(), out.end(), [](const std::string& line) {
          return line.find("\"client\":98") != std::string::npos;
        }) == 1);
  auto dead = read_lines(dir.file("dead.jsonl"));
  REQUIRE(dead.size() == 1);
  CHECK_THAT(dead[0], Contains("\"line\":2,\"error\":\"invalid JSON"));
  CHECK_THAT(dead[0], Contains("\"raw\":\"{\\\"ts\\\":6,\\\"type\\\":\\\"met\""));
}

TEST_CASE("a source that cannot open fails the run without hanging the others", "[runtime]") {
  TempDir dir;
  std::string big;
  for (int i = 0; i < 50000; ++i) big += "{\"ts\":" + std::to_string(i) + ",\"type\":\"metric\"}\n";
  write_file(dir.file("a.jsonl"), big);
  auto plan = load_plan("name: t\nsources:\n  a: {type: file, path: " + dir.file("a.jsonl") +
                        "}\n  b: {type: file, path: " + dir.file("missing.jsonl") +
                        "}\nsinks:\n  out: {type: file, path: " + dir.file("out.jsonl") +
                        ", input: [a, b]}\n");
  RunOptions options;
  options.chunk_bytes = 1024;  // many chunks: source `a` fills the queue before `b` fails
  options.max_chunks_in_flight = 2;
  auto result = run_plan(*plan, options);
  REQUIRE_FALSE(result.is_ok());
  CHECK_THAT(result.status().message(), Contains("source `b`: cannot open"));
}

TEST_CASE("a pipe's lines go through as soon as it goes quiet, not when a chunk is full",
          "[runtime]") {
  TempDir dir;
  const std::string fifo = dir.file("in.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto plan = load_plan("name: t\nsources:\n  pipe: {type: file, path: " + fifo + "}\n" +
                        "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") +
                        ", input: pipe}\n");
  BackgroundRun run(*plan);
  const int writer = ::open(fifo.c_str(), O_WRONLY);
  REQUIRE(writer >= 0);
  const std::string line = "{\"ts\":1,\"type\":\"metric\"}\n";
  REQUIRE(::write(writer, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
  bool arrived = false;  // while the writer still holds the pipe open
  for (int i = 0; i < 500 && !arrived; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    arrived = read_lines(dir.file("out.jsonl")).size() == 1;
  }
  ::close(writer);
  Result<RunSummary> result = run.stop();
  CHECK(arrived);
  REQUIRE(result.is_ok());
}

TEST_CASE("a clean stop does not wait for a silent pipe to close", "[runtime]") {
  TempDir dir;
  const std::string fifo = dir.file("in.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto plan = load_plan("name: t\ndead_letter: {path: " + dir.file("dead.jsonl") + "}\n" +
                        "sources:\n  pipe: {type: file, path: " + fifo + "}\n" +
                        "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") +
                        ", input: pipe}\n");
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  Result<RunSummary> result = Status::error("not run");
  std::thread runner([&] {
    RunOptions options;
    options.stop = &stop;
    result = run_plan(*plan, options);
    done = true;
  });
  const int writer = ::open(fifo.c_str(), O_WRONLY);  // returns once the source opened it
  REQUIRE(writer >= 0);
  const std::string line = "{\"ts\":1,\"type\":\"metric\"}\n";
  REQUIRE(::write(writer, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (int i = 0; i < 100 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const bool stopped_while_open = done;
  ::close(writer);  // lets a source stuck in read() go, so the test ends either way
  runner.join();
  CHECK(stopped_while_open);
  REQUIRE(result.is_ok());
  CHECK(result.value().stopped);
  CHECK(read_lines(dir.file("out.jsonl")).size() == 1);
}

TEST_CASE("a source feeding only windows parses only their fields, with the same results",
          "[runtime][projection]") {
  TempDir dir;
  std::string input;
  for (int i = 0; i < 3000; ++i) {
    input += "{\"ts\":" + std::to_string(i * 1000) + ",\"type\":\"checkout\",\"server\":\"s" +
             std::to_string(i % 3) + "\",\"feature\":\"f" + std::to_string(i % 7) +
             "\",\"user\":\"u" + std::to_string(i) + "\",\"count\":" + std::to_string(1 + i % 4) +
             ",\"pad\":\"" + std::string(i % 50, 'x') + "\"}\n";
    if (i % 100 == 0) input += "{\"ts\":1,\"type\":\"checkout\",\"server\":\"s0\",\"count\":\"bad\"}\n";
    if (i % 500 == 499) input += "{\"ts\":0,\"type\":\"checkout\",\"server\":\"s1\",\"feature\":\"late\",\"user\":\"lu\"}\n";
  }
  write_file(dir.file("in.jsonl"), input);
  const std::string window =
      "operators:\n  w:\n    type: window\n    input: events\n    key: [server, feature]\n"
      "    size: 10m\n    aggregates: {n: count(), top: max(count), big: count_if(count > 2)}\n";
  auto run_with = [&](const std::string& sinks) {
    auto plan = load_plan("name: t\ndead_letter: {path: " + dir.file("dead.jsonl") + "}\n" +
                          "sources:\n  events: {type: file, path: " + dir.file("in.jsonl") + "}\n" +
                          window + "sinks:\n" + sinks);
    RunSummary s = run_ok(*plan);
    CHECK(s.dead_letters == 30);
    return read_lines(dir.file("out.jsonl"));
  };
  const std::string out_sink = "  out: {type: file, path: " + dir.file("out.jsonl") + ", input: w}\n";
  // Projected: the window is the source's only consumer and `late` is not used.
  auto projected = run_with(out_sink);
  // Whole records: the source also feeds a sink, and `late` is used.
  auto whole = run_with(out_sink + "  raw: {type: file, path: " + dir.file("raw.jsonl") +
                        ", input: events}\n  late: {type: file, path: " + dir.file("late.jsonl") +
                        ", input: w.late}\n");
  REQUIRE(projected.size() > 100);
  CHECK(projected == whole);
  auto late = read_lines(dir.file("late.jsonl"));
  REQUIRE_FALSE(late.empty());
  for (const std::string& line : late) CHECK_THAT(line, Contains("\"user\":\"lu\""));  // whole
}

TEST_CASE("an operator port nobody reads is not built: license_state without `sessions` readers",
          "[runtime]") {
  TempDir dir;
  std::string input;
  for (int i = 0; i < 2000; ++i) {
    input += "{\"ts\":" + std::to_string(i * 1000) + ",\"type\":\"" +
             (i % 2 == 0 ? "checkout" : "checkin") + "\",\"feature\":\"f" +
             std::to_string(i / 2 % 5) + "\",\"handle\":\"h" + std::to_string(i / 2) + "\"}\n";
  }
  write_file(dir.file("in.jsonl"), input);
  auto run_with = [&](const std::string& sinks) {
    auto plan = load_plan("name: t\nsources:\n  events: {type: file, path: " +
                          dir.file("in.jsonl") +
                          "}\noperators:\n  state: {type: license_state, input: events}\n"
                          "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") +
                          ", input: state}\n" + sinks);
    RunSummary s = run_ok(*plan);
    for (const NodeStats& n : s.nodes) {
      if (n.id == "state") return std::make_pair(read_lines(dir.file("out.jsonl")), n.records_out);
    }
    FAIL("no stats for `state`");
    return std::make_pair(std::vector<std::string>{}, uint64_t{0});
  };
  auto [unread_out, unread_records_out] = run_with("");
  auto [read_out, read_records_out] =
      run_with("  sessions: {type: file, path: " + dir.file("s.jsonl") + ", input: state.sessions}\n");
  CHECK(unread_out == read_out);
  CHECK(read_lines(dir.file("s.jsonl")).size() == 1000);  // every checkin closed a session
  CHECK(read_records_out == 3000);
  CHECK(unread_records_out == 2000);  // the sessions were built for nobody before
}

TEST_CASE("projection passes through filter and route: the same results as whole records",
          "[runtime][projection]") {
  TempDir dir;
  std::string input;
  for (int i = 0; i < 3000; ++i) {
    input += "{\"ts\":" + std::to_string(i * 1000) + ",\"type\":\"" +
             (i % 5 == 0 ? "denied" : "checkout") + "\",\"server\":\"s" + std::to_string(i % 3) +
             "\",\"feature\":\"f" + std::to_string(i % 7) + "\",\"user\":\"u" +
             std::to_string(i % 11) + "\",\"host\":\"h" + std::to_string(i % 13) +
             "\",\"count\":" + std::to_string(1 + i % 4) + (i % 4 == 0 ? ",\"vip\":true" : "") +
             "}\n";
    if (i % 100 == 0) input += "{\"ts\":1,\"type\":\"checkout\",\"server\":\"s0\",\"count\":\"bad\"}\n";
  }
  write_file(dir.file("in.jsonl"), input);
  // The filter reads `user` and `vip`, the route `type` and `host`: none of them is read by the
  // windows after them, so a projection that forgot them would change what passes.
  const std::string operators =
      "operators:\n"
      "  picked: {type: filter, input: events, where: \"user != 'u3' and not exists(vip)\"}\n"
      "  lanes:\n    type: route\n    input: picked\n"
      "    routes: {denials: \"type == 'denied'\", far: \"host in ['h1', 'h2', 'h5']\"}\n"
      "    mode: all\n"
      "  per_feature:\n    type: window\n    input: lanes.denials\n    key: [feature]\n"
      "    size: 10m\n    aggregates: {n: count()}\n"
      "  per_server:\n    type: window\n    input: [lanes.far, lanes.unmatched]\n"
      "    key: [server]\n    size: 10m\n    aggregates: {n: count(), top: max(count)}\n";
  auto run_with = [&](const std::string& extra_sinks) {
    auto plan = load_plan("name: t\ndead_letter: {path: " + dir.file("dead.jsonl") + "}\n" +
                          "sources:\n  events: {type: file, path: " + dir.file("in.jsonl") +
                          "}\n" + operators + "sinks:\n  a: {type: file, path: " +
                          dir.file("a.jsonl") + ", input: per_feature}\n  b: {type: file, path: " +
                          dir.file("b.jsonl") + ", input: per_server}\n" + extra_sinks);
    RunSummary s = run_ok(*plan);
    CHECK(s.dead_letters == 30);
    auto lines = read_lines(dir.file("a.jsonl"));
    auto more = read_lines(dir.file("b.jsonl"));
    lines.insert(lines.end(), more.begin(), more.end());
    return lines;
  };
  auto projected = run_with("");
  // Whole records: a sink on a route lane needs every field.
  auto whole = run_with("  raw: {type: file, path: " + dir.file("raw.jsonl") + ", input: lanes.far}\n");
  REQUIRE(projected.size() >= 40);  // 50 minutes: 5 windows per key
  CHECK(projected == whole);
  CHECK_THAT(read_lines(dir.file("raw.jsonl")).at(0), Contains("\"user\":"));
}

TEST_CASE("a record's own `stream` field is replaced by the stream's name, in csv as in jsonl",
          "[runtime][spec-6]") {
  TempDir dir;
  write_file(dir.file("in.jsonl"),
             "{\"ts\":1000,\"type\":\"denied\",\"feature\":\"f\",\"stream\":\"mine\"}\n");
  auto plan = load_plan("name: t\nsources:\n  events: {type: file, path: " + dir.file("in.jsonl") +
                        "}\nsinks:\n  csv: {type: file, format: csv, path: " + dir.file("o.csv") +
                        ", input: events}\n  json: {type: file, path: " + dir.file("o.jsonl") +
                        ", input: events}\n");
  REQUIRE(plan);
  run_ok(*plan);
  CHECK(read_lines(dir.file("o.csv")) ==
        std::vector<std::string>{"stream,ts,type,feature,server,extra",
                                 "events,1970-01-01T00:00:01.000Z,denied,f,default,"});
  CHECK(read_lines(dir.file("o.jsonl")) ==
        std::vector<std::string>{"{\"stream\":\"events\",\"ts\":\"1970-01-01T00:00:01.000Z\","
                                 "\"type\":\"denied\",\"feature\":\"f\",\"server\":\"default\"}"});
}

TEST_CASE("a record's own `extra` field goes into the csv `extra` column, not a second one",
          "[runtime][spec-6]") {
  TempDir dir;
  write_file(dir.file("in.jsonl"), "{\"ts\":1000,\"type\":\"metric\",\"extra\":1,\"x\":2}\n");
  auto plan = load_plan("name: t\nsources:\n  events: {type: file, path: " + dir.file("in.jsonl") +
                        "}\nsinks:\n  csv: {type: file, format: csv, path: " + dir.file("o.csv") +
                        ", input: events}\n");
  REQUIRE(plan);
  run_ok(*plan);
  CHECK(read_lines(dir.file("o.csv")) ==
        std::vector<std::string>{"stream,ts,type,x,server,extra",
                                 "events,1970-01-01T00:00:01.000Z,metric,2,default,\"{\"\"extra\"\":1}\""});
}

TEST_CASE("a csv sink with `columns:` writes its header even when no record comes",
          "[runtime][spec-6]") {
  TempDir dir;
  write_file(dir.file("in.jsonl"), "{\"ts\":1000,\"type\":\"metric\",\"x\":2}\n");
  auto plan = load_plan("name: t\nsources:\n  events: {type: file, path: " + dir.file("in.jsonl") +
                        "}\noperators:\n  none: {type: filter, input: events, where: \"x > 5\"}\n"
                        "sinks:\n  csv: {type: file, format: csv, columns: [ts, x], path: " +
                        dir.file("o.csv") + ", input: none}\n");
  REQUIRE(plan);
  run_ok(*plan);
  CHECK(read_lines(dir.file("o.csv")) == std::vector<std::string>{"ts,x"});
}

TEST_CASE("a resumed file sink refuses an output file shorter than its checkpoint recorded",
          "[runtime][checkpoint][spec-7]") {
  TempDir dir;
  auto plan = load_plan("name: t\nsources: {events: {type: stdin}}\nsinks:\n  out: {type: file, "
                        "path: " + dir.file("o.jsonl") + ", input: events}\n");
  REQUIRE(plan);
  Sink& sink = *plan->nodes.back().sink;
  StateWriter checkpoint;
  checkpoint.u64(100);        // 100 bytes written when the checkpoint was taken
  checkpoint.boolean(false);  // (csv header)
  checkpoint.u64(0);          // (csv columns)
  StateReader restored(checkpoint.bytes());
  sink.load_state(restored);
  REQUIRE_FALSE(restored.failed());
  // Gone (moved away, or the sink's path changed since): an error that says so, not a guess.
  Status gone = sink.open();
  REQUIRE_FALSE(gone.is_ok());
  CHECK_THAT(gone.message(), Contains("is gone") && Contains("--reset-state"));
  // Shorter than recorded: cutting "back" would pad it with zeros.
  write_file(dir.file("o.jsonl"), "{}\n");
  Status shorter = sink.open();
  REQUIRE_FALSE(shorter.is_ok());
  CHECK_THAT(shorter.message(), Contains("holds 3 bytes"));
  // Longer: cut back to the checkpoint, then appended to.
  write_file(dir.file("o.jsonl"), std::string(100, 'x') + "written after the checkpoint\n");
  REQUIRE(sink.open().is_ok());
  REQUIRE(sink.close().is_ok());
  CHECK(read_file(dir.file("o.jsonl")) == std::string(100, 'x'));
}
