// SPEC §2 across several inputs: the minimum of the inputs' watermarks — for every operator, also
// the stateless ones that forward batches — and idleness (an ended or silent source stops
// holding the others back after time.idle_timeout).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "engine/watermarks.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

TEST_CASE("input watermarks: the minimum of the active inputs, never going back", "[spec-2][idle]") {
  InputWatermarks w(3);
  w.update(0, 100, false);
  CHECK(w.combined() == kMinTime);  // inputs 1 and 2 have said nothing yet
  w.update(1, 50, false);
  w.update(2, 70, false);
  CHECK(w.combined() == 50);
  w.update(1, 40, false);  // an input's own watermark never goes back either
  CHECK(w.combined() == 50);
  w.update(1, 50, true);  // input 1 goes idle: the others decide
  CHECK(w.combined() == 70);
  CHECK_FALSE(w.all_idle());
  w.update(1, 50, false);  // it wakes up behind: the combined watermark stays
  CHECK(w.combined() == 70);
  w.update(0, 100, true);
  w.update(1, 60, true);
  w.update(2, 90, true);
  CHECK(w.all_idle());
  CHECK(w.combined() == 100);  // all idle: the largest counts, whoever went quiet last

  StateWriter out;
  w.save(out);
  InputWatermarks restored(3);
  StateReader in(out.bytes());
  restored.load(in);
  CHECK_FALSE(in.failed());
  CHECK(restored.combined() == 100);
  CHECK(restored.all_idle());
  InputWatermarks other_shape(2);
  StateReader again(out.bytes());
  other_shape.load(again);
  CHECK(again.failed());
}

namespace {

// Two tcp sources a and b; operators and sinks come from the caller, with DIR/ for the temp dir.
struct TwoSources {
  TempDir dir;
  uint16_t port_a = free_port(), port_b = free_port();
  std::atomic<bool> stop{false};
  Result<RunSummary> result = Status::error("not run");
  std::thread runner;

  explicit TwoSources(std::string rest, const std::string& time = "") {
    for (size_t at; (at = rest.find("DIR/")) != std::string::npos;) {
      rest.replace(at, 4, dir.path().string() + "/");
    }
    auto plan = load_plan("name: t\n" + time + "dead_letter: {path: " + dir.file("dead.jsonl") +
                          "}\nsources:\n"
                          "  a: {type: tcp, listen: 127.0.0.1:" + std::to_string(port_a) + "}\n"
                          "  b: {type: tcp, listen: 127.0.0.1:" + std::to_string(port_b) + "}\n" +
                          rest);
    runner = std::thread([this, plan = std::shared_ptr<Plan>(std::move(plan))] {
      RunOptions options;
      options.stop = &stop;
      result = run_plan(*plan, options);
    });
  }
  std::vector<std::string> wait_for_lines(const std::string& file, size_t n) {
    std::vector<std::string> lines;
    for (int i = 0; i < 300 && lines.size() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      lines = read_lines(dir.file(file));
    }
    return lines;
  }
  void finish() {
    stop = true;
    runner.join();
    REQUIRE(result.is_ok());
  }
};

std::string event(int64_t ts) {
  return "{\"ts\":" + std::to_string(ts) + ",\"type\":\"metric\",\"server\":\"s\"}\n";
}

}  // namespace

TEST_CASE("a filter over two sources sends the minimum of their watermarks", "[spec-2][runtime]") {
  TwoSources run(
      "operators:\n"
      "  both: {type: filter, input: [a, b], where: 'true'}\n"
      "  hourly: {type: window, input: both, size: 1h, aggregates: {n: count()}}\n"
      "sinks:\n"
      "  out: {type: file, path: DIR/out.jsonl, input: hourly}\n"
      "  late: {type: file, path: DIR/late.jsonl, input: hourly.late}\n");
  const int a = connect_to(run.port_a), b = connect_to(run.port_b);
  send_all(a, event(10 * 3'600'000));  // a reaches 10:00
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // b is still at 09:30: its record is on time for the window, whose watermark is min(a, b).
  send_all(b, event(9 * 3'600'000 + 1'800'000) + event(11 * 3'600'000));
  auto out = run.wait_for_lines("out.jsonl", 1);
  ::close(a);
  ::close(b);
  run.finish();
  REQUIRE(out.size() >= 1);
  CHECK(out[0].find("\"window_start\":\"1970-01-01T09:00:00.000Z\"") != std::string::npos);
  CHECK(out[0].find("\"n\":1") != std::string::npos);
  CHECK(read_lines(run.dir.file("late.jsonl")).empty());
}

TEST_CASE("an idle source stops holding back the watermark", "[spec-2][idle]") {
  TwoSources run("operators:\n"
                 "  hourly: {type: window, input: [a, b], size: 1h, aggregates: {n: count()}}\n"
                 "sinks:\n"
                 "  out: {type: file, path: DIR/out.jsonl, input: hourly}\n",
                 "time: {idle_timeout: 200ms}\n");
  const int a = connect_to(run.port_a);
  send_all(a, event(0));  // a says one thing at 00:00, then stays silent with its connection open
  const int b = connect_to(run.port_b);
  std::string text;
  for (int h = 0; h < 4; ++h) text += event(h * 3'600'000 + 60'000);
  send_all(b, text);
  // Once a is idle, b alone drives the watermark to 03:01: windows 00:00, 01:00 and 02:00 close
  // while the run goes on.
  auto out = run.wait_for_lines("out.jsonl", 3);
  CHECK(out.size() == 3);
  ::close(a);
  ::close(b);
  run.finish();
  REQUIRE(out.size() == 3);
  CHECK(out[0].find("\"n\":2") != std::string::npos);  // a's and b's first records
  CHECK(out[2].find("\"window_start\":\"1970-01-01T02:00:00.000Z\"") != std::string::npos);
}

TEST_CASE("an ended source holds back the others until idle_timeout, whichever ends first",
          "[spec-2][idle]") {
  // a ends at once at 00:00. b checks out at 00:10 and checks in at 00:05 after 20 000 metric
  // records. With the minimum of a's 00:00 and b's watermark nothing is late: at the end of
  // input the checkin comes first, matches nothing, and the checkout stays open. Were an ended
  // source idle at once, the checkin would be late (b alone at 00:10) and close it, or not,
  // depending on whether a's end came before it.
  TempDir dir;
  write_file(dir.file("a.jsonl"), "{\"ts\":0,\"type\":\"metric\"}\n");
  std::string b = "{\"ts\":600000,\"type\":\"checkout\",\"feature\":\"f\",\"handle\":\"x\"}\n";
  for (int i = 0; i < 20000; ++i) {
    b += "{\"ts\":600000,\"type\":\"metric\",\"i\":" + std::to_string(i) + "}\n";
  }
  b += "{\"ts\":300000,\"type\":\"checkin\",\"feature\":\"f\",\"handle\":\"x\"}\n";
  write_file(dir.file("b.jsonl"), b);
  for (int threads : {1, 2, 4}) {
    for (int rep = 0; rep < 3; ++rep) {
      INFO("threads " << threads << ", run " << rep);
      auto plan = load_plan(
          "name: t\nsources:\n"
          "  a: {type: file, path: " + dir.file("a.jsonl") + "}\n"
          "  b: {type: file, path: " + dir.file("b.jsonl") + "}\n"
          "operators:\n  state: {type: license_state, input: [a, b]}\n"
          "sinks:\n"
          "  out: {type: file, path: " + dir.file("out.jsonl") + ", input: state}\n"
          "  sessions: {type: file, path: " + dir.file("s.jsonl") + ", input: state.sessions}\n");
      RunOptions options;
      options.threads = threads;
      auto result = run_plan(*plan, options);
      REQUIRE(result.is_ok());
      CHECK(read_lines(dir.file("s.jsonl")).empty());
      const auto out = read_lines(dir.file("out.jsonl"));
      REQUIRE(out.size() == 20003);
      CHECK(out[1].find("\"type\":\"checkin\"") != std::string::npos);
      CHECK(out[1].find("\"late\"") == std::string::npos);
      CHECK(out[2].find("\"type\":\"checkout\"") != std::string::npos);
      CHECK(out[2].find("\"in_use\":1") != std::string::npos);  // still open
    }
  }
}
