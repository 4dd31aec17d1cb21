// Express chunks (engine/raw_chunk.h, engine/ingest_queue.h, engine/runtime.h): a trickle of
// lines on a live stream overtakes saturating bulk work (SPEC §5 route `priority`), and still
// carries its watermark progress downstream (SPEC §2).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/ingest_queue.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;
using Catch::Matchers::Contains;

namespace {

std::unique_ptr<RawChunk> express_chunk(uint32_t source) {
  auto chunk = std::make_unique<RawChunk>();
  chunk->source = source;
  chunk->express = true;
  return chunk;
}

// Waits up to `timeout` for `done` to hold.
template <typename Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A sink whose writes block until release(): holds every bulk credit of the run.
class BlockedSink final : public Sink {
 public:
  BlockedSink() : Sink("bulk_out") {}
  Status open() override { return Status::ok(); }
  void format(std::span<const Record> batch, std::string_view, std::string& out) override {
    out.append(batch.size(), 'x');
  }
  Status write(std::string_view bytes) override {
    std::unique_lock lock(mutex_);
    blocked_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_; });
    records_ += bytes.size();
    return Status::ok();
  }
  Status close() override { return Status::ok(); }
  bool blocked() {
    std::lock_guard lock(mutex_);
    return blocked_;
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  size_t records() {
    std::lock_guard lock(mutex_);
    return records_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool blocked_ = false;
  bool released_ = false;
  size_t records_ = 0;
};

// Puts a BlockedSink in place of sink `id` of the plan.
BlockedSink& block_sink(Plan& plan, const std::string& id) {
  auto blocked = std::make_unique<BlockedSink>();
  BlockedSink& sink = *blocked;
  for (PlanNode& n : plan.nodes) {
    if (n.id == id) n.sink = std::move(blocked);
  }
  return sink;
}

// A pipeline whose one source `net` listens on `port`; `rest` holds its operators and sinks.
std::unique_ptr<Plan> tcp_plan(uint16_t port, const std::string& rest) {
  return load_plan("name: t\nsources:\n  net: {type: tcp, listen: 127.0.0.1:" +
                   std::to_string(port) + "}\n" + rest);
}

}  // namespace

TEST_CASE("an express chunk runs on the pushing thread, then its watermark follows in line",
          "[express][ingest]") {
  IngestQueue queue(/*max_in_flight=*/1, 4096);
  std::vector<std::shared_ptr<void>> held;  // credits of chunks that ran
  std::thread::id ran_on;
  queue.run_express_with([&](std::unique_ptr<RawChunk> chunk) {
    ran_on = std::this_thread::get_id();
    held.push_back(queue.make_credit(*chunk));
    return int64_t{42};
  });
  queue.push(express_chunk(3));
  CHECK(ran_on == std::this_thread::get_id());
  std::unique_ptr<RawChunk> next;
  REQUIRE(queue.pop(next, std::chrono::milliseconds(0)));
  CHECK(next->source == 3);
  CHECK(next->watermark_only);
  CHECK(next->express_max_ts == 42);  // the marker brings the express chunk's largest ts
  CHECK_FALSE(queue.pop(next, std::chrono::milliseconds(0)));
  CHECK(queue.in_flight() == 0);  // express credits are not bulk credits
}

TEST_CASE("express chunks draw on a small pool; beyond it they wait in line like bulk",
          "[express][ingest]") {
  IngestQueue queue(/*max_in_flight=*/4, 4096);
  std::vector<std::shared_ptr<void>> held;
  int ran = 0;
  queue.run_express_with([&](std::unique_ptr<RawChunk> chunk) {
    ++ran;
    held.push_back(queue.make_credit(*chunk));
    return int64_t{0};
  });
  int markers = 0;
  std::unique_ptr<RawChunk> next;
  for (int i = 0; i < 20 && ran == i; ++i) queue.push(express_chunk(0));
  const int pool = ran;
  CHECK(pool >= 1);
  CHECK(pool < 20);
  // The chunk that found the pool empty was queued as an ordinary chunk, behind the markers.
  while (queue.pop(next, std::chrono::milliseconds(0))) {
    if (next->watermark_only) {
      ++markers;
    } else {
      CHECK_FALSE(next->express);
    }
  }
  CHECK(markers == pool);
  CHECK(queue.in_flight() == 1);
  held.clear();  // the express credits go back to their pool
  queue.push(express_chunk(0));
  CHECK(ran == pool + 1);
}

TEST_CASE("a trickle on a priority lane overtakes bulk work that holds every credit",
          "[express][runtime][spec-5]") {
  TempDir dir;
  const uint16_t port = free_port();
  auto plan = tcp_plan(port,
      "operators:\n  lanes:\n    type: route\n    input: net\n"
      "    routes: {urgent: \"type == 'server_down'\", bulk: 'true'}\n    priority: [urgent]\n"
      "sinks:\n  urgent_out: {type: file, path: " + dir.file("urgent.jsonl") +
      ", input: lanes.urgent}\n  bulk_out: {type: file, path: " + dir.file("bulk.jsonl") +
      ", input: lanes.bulk}\n");
  BlockedSink& bulk = block_sink(*plan, "bulk_out");
  RunOptions options;
  options.chunk_bytes = 4096;
  options.max_chunks_in_flight = 2;
  options.metrics_file = dir.file("metrics.prom");
  BackgroundRun run(*plan, options);
  constexpr int kBulkLines = 20000;
  std::thread bulk_client([port] {
    int fd = connect_to(port);
    std::string text;
    for (int i = 0; i < kBulkLines; ++i) {
      text += "{\"ts\":" + std::to_string(i) + ",\"type\":\"metric\",\"n\":" + std::to_string(i) + "}\n";
    }
    send_all(fd, text);
    ::close(fd);
  });
  REQUIRE(eventually([&] { return bulk.blocked(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // every bulk credit is taken

  const int urgent = connect_to(port);
  send_all(urgent, "{\"ts\":7,\"type\":\"server_down\",\"server\":\"lic-1\"}\n");
  const bool overtook = eventually([&] {
    auto lines = read_lines(dir.file("urgent.jsonl"));
    return lines.size() == 1;
  });
  bulk.release();
  bulk_client.join();
  ::close(urgent);
  // A stop finishes only what was read: wait until every bulk line is through (a fixed sleep was
  // too short for a sanitizer build on a busy machine).
  CHECK(eventually([&] { return bulk.records() == kBulkLines; }, std::chrono::seconds(60)));
  Result<RunSummary> result = run.stop();
  CHECK(overtook);
  INFO(result.status().message());
  REQUIRE(result.is_ok());
  CHECK(result.value().events == kBulkLines + 1);
  CHECK(bulk.records() == kBulkLines);
  auto lines = read_lines(dir.file("urgent.jsonl"));
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Contains("\"server\":\"lic-1\""));
  // Counted in /metrics: at least the urgent line's chunk went express.
  uint64_t express = 0;
  for (const std::string& line : read_lines(dir.file("metrics.prom"))) {
    const std::string name = "licflow_source_express_chunks_total{source=\"net\"} ";
    if (line.rfind(name, 0) == 0) express = std::stoull(line.substr(name.size()));
  }
  CHECK(express >= 1);
}

TEST_CASE("a stream of express chunks alone still advances the watermark: windows close live",
          "[express][runtime][spec-2]") {
  TempDir dir;
  const uint16_t port = free_port();
  auto plan = tcp_plan(port,
      "operators:\n  per_minute: {type: window, input: net, key: [], size: 1m,"
      " aggregates: {n: count()}}\n"
      "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") + ", input: per_minute}\n");
  BackgroundRun run(*plan);
  const int fd = connect_to(port);
  // One line at a time, each its own quiet spell: every chunk is an express chunk.
  for (int minute = 0; minute < 4; ++minute) {
    send_all(fd, "{\"ts\":" + std::to_string(minute * 60000 + 1) + ",\"type\":\"metric\"}\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Minutes 0, 1 and 2 are closed by the watermark while the connection is still open.
  const bool closed_live = eventually([&] { return read_lines(dir.file("out.jsonl")).size() == 3; });
  ::close(fd);
  Result<RunSummary> result = run.stop();
  CHECK(closed_live);
  INFO(result.status().message());
  REQUIRE(result.is_ok());
  auto lines = read_lines(dir.file("out.jsonl"));
  REQUIRE(lines.size() == 3);  // a stop is not an end of input: the open minute stays open
  for (const std::string& line : lines) CHECK_THAT(line, Contains("\"n\":1"));
}

TEST_CASE("an express chunk does not advance the watermark of chunks sequenced before it",
          "[express][runtime][spec-2]") {
  // The only worker is held in a blocked sink while one connection's chunks wait, sequenced,
  // for it; then a trickle far ahead in event time runs as express on another connection.
  // Those waiting chunks came first in the source's order: none of their records is late.
  TempDir dir;
  const uint16_t port = free_port();
  auto plan = tcp_plan(port,
      "operators:\n  downs: {type: filter, input: net, where: \"type == 'server_down'\"}\n"
      "  w: {type: window, input: net, key: [], size: 10s, aggregates: {n: count()}}\n"
      "sinks:\n  bulk_out: {type: file, path: " + dir.file("bulk.jsonl") + ", input: downs}\n"
      "  out: {type: file, path: " + dir.file("out.jsonl") + ", input: w}\n"
      "  late: {type: file, path: " + dir.file("late.jsonl") + ", input: w.late}\n");
  BlockedSink& bulk = block_sink(*plan, "bulk_out");
  RunOptions options;
  options.threads = 1;
  options.chunk_bytes = 4096;
  BackgroundRun run(*plan, options);
  auto lines = [](int from, int n, const char* type, size_t pad = 40) {
    std::string text;
    for (int i = 0; i < n; ++i) {
      text += "{\"ts\":" + std::to_string(from + i) + ",\"type\":\"" + type + "\",\"pad\":\"" +
              std::string(pad, 'p') + "\"}\n";
    }
    return text;
  };
  const int bulk_fd = connect_to(port);
  // A first line over 16 KiB: however the reads split it, the connection's first chunk is bulk,
  // and its batch blocks the only worker in the sink.
  send_all(bulk_fd, lines(999, 1, "server_down", 17 * 1024) + lines(1000, 400, "server_down"));
  REQUIRE(eventually([&] { return bulk.blocked(); }));
  send_all(bulk_fd, lines(5000, 300, "metric"));  // several 4 KiB chunks, waiting for the worker
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // handed over: sequenced
  const int trickle_fd = connect_to(port);
  send_all(trickle_fd, lines(100000, 1, "metric"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // it ran, on its reading thread
  bulk.release();
  ::close(bulk_fd);
  ::close(trickle_fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Result<RunSummary> result = run.stop();
  INFO(result.status().message());
  REQUIRE(result.is_ok());
  CHECK(read_lines(dir.file("late.jsonl")).empty());
  auto out = read_lines(dir.file("out.jsonl"));
  REQUIRE(out.size() == 1);  // [0 s, 10 s) closed by the trickle's watermark; [100 s, …) is open
  CHECK_THAT(out[0], Contains("\"n\":701"));
}
