// SPEC §7: killing licflow with SIGKILL at any moment and running it again with the same pipeline
// and state gives file outputs byte-for-byte, and history record-for-record, equal to an
// uninterrupted run's. Checkpoints every 50 ms make kills land before, between and during
// checkpoints. Run twice: with the state in memory, and with a memory_limit so small that most
// keyed state lives in the spill store, where checkpoints stream it from — and the outputs of
// the two must be the same too.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "tests/test_util.h"

using namespace licflow::test;
using Catch::Matchers::Contains;

namespace {

const std::string kLicflow = LICFLOW_BINARY;

// bench/pipelines/crash.yaml: every kind of operator state, one sink per stream and one sink
// reading two ports of one operator.
const std::string kPipeline = std::string(LICFLOW_SOURCE_DIR) + "/bench/pipelines/crash.yaml";

// Starts `licflow run PIPELINE` in `dir`, stderr to /dev/null; returns its pid.
pid_t start_licflow(const std::string& dir, const char* pipeline) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(120);
    std::FILE* null = std::freopen("/dev/null", "w", stderr);
    (void)null;
    ::execl(kLicflow.c_str(), kLicflow.c_str(), "run", pipeline, static_cast<char*>(nullptr));
    ::_exit(121);
  }
  return pid;
}

// Starts `licflow run crash.yaml` in `dir`; returns its pid.
pid_t start_run(const std::string& dir) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(120);
    std::FILE* null = std::freopen("/dev/null", "w", stderr);
    (void)null;
    ::execl(kLicflow.c_str(), kLicflow.c_str(), "run", "crash.yaml", "--threads", "2",
            "--metrics-file", "metrics.prom", static_cast<char*>(nullptr));
    ::_exit(121);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

// The keys the run that wrote `metrics` (Prometheus text) left in the spill store.
uint64_t spilled_keys(const std::string& metrics) {
  uint64_t total = 0;
  const std::string marker = "location=\"rocksdb\"} ";
  for (size_t at = metrics.find(marker); at != std::string::npos; at = metrics.find(marker, at + 1)) {
    total += std::stoull(metrics.substr(at + marker.size()));
  }
  return total;
}

TEST_CASE("killed with SIGKILL at random points, a resumed run writes exactly the uninterrupted "
          "output", "[e2e][checkpoint][crash]") {
  static std::string in_memory_live;  // the in-memory variant's live.jsonl
  const std::string memory_limit = GENERATE(as<std::string>(), "512MiB", "1MiB");
  INFO("memory_limit " << memory_limit);
  TempDir reference, crashed;
  auto gen = run_command(kLicflow + " generate --users 150 --days 10 --faults --out-of-order 15s > " +
                         reference.file("events.jsonl"));
  REQUIRE(gen.exit_code == 0);
  std::filesystem::copy_file(reference.file("events.jsonl"), crashed.file("events.jsonl"));
  std::string pipeline = read_file(kPipeline);
  const std::string state_line = "checkpoint_interval: 50ms}";
  REQUIRE(pipeline.find(state_line) != std::string::npos);
  pipeline.replace(pipeline.find(state_line), state_line.size(),
                   "checkpoint_interval: 50ms, memory_limit: " + memory_limit + "}");
  write_file(reference.file("crash.yaml"), pipeline);
  write_file(crashed.file("crash.yaml"), pipeline);

  // The uninterrupted run, and how long it takes here (sanitizer builds are slower).
  const auto begin = std::chrono::steady_clock::now();
  REQUIRE(wait_exit(start_run(reference.path().string())) == 0);
  const uint64_t spilled = spilled_keys(read_file(reference.file("metrics.prom")));
  if (memory_limit == "1MiB") {
    CHECK(spilled > 100);
    CHECK(read_file(reference.file("out/live.jsonl")) == in_memory_live);
  } else {
    CHECK(spilled == 0);
    in_memory_live = read_file(reference.file("out/live.jsonl"));
  }
  const auto full_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - begin).count();

  std::mt19937 rng(20261128);
  int kills = 0;
  for (int attempt = 0; attempt < 12; ++attempt) {
    const pid_t pid = start_run(crashed.path().string());
    const int kill_after_ms = static_cast<int>(
        std::uniform_int_distribution<int64_t>(full_ms / 20 + 10, full_ms / 4 + 20)(rng));
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms));
    ::kill(pid, SIGKILL);
    const int code = wait_exit(pid);
    if (code == 128 + SIGKILL) {
      ++kills;
      continue;
    }
    REQUIRE(code == 0);  // finished before the kill
  }
  REQUIRE(wait_exit(start_run(crashed.path().string())) == 0);
  CHECK(kills >= 3);

  for (const char* file :
       {"live.jsonl", "sessions.jsonl", "both.jsonl", "hourly.csv", "sliding.jsonl", "busy.jsonl",
        "spikes.jsonl", "once.jsonl", "per_user.jsonl", "dead.jsonl"}) {
    INFO(file);
    const std::string expected = read_file(reference.file(std::string("out/") + file));
    CHECK_FALSE(expected.empty());
    CHECK(read_file(crashed.file(std::string("out/") + file)) == expected);
  }
  auto history = [](const TempDir& dir) {
    return run_command(kLicflow + " query --state " + dir.file("state") + " --stream hourly");
  };
  const CommandResult expected = history(reference), got = history(crashed);
  REQUIRE(expected.exit_code == 0);
  CHECK(std::count(expected.out.begin(), expected.out.end(), '\n') > 100);
  CHECK(got.out == expected.out);
}

TEST_CASE("resuming is refused when a stateful operator changed; --reset-state starts over",
          "[e2e][checkpoint]") {
  TempDir dir;
  write_file(dir.file("events.jsonl"),
             "{\"ts\":1000,\"type\":\"denied\",\"feature\":\"f\",\"user\":\"u\"}\n");
  const std::string pipeline =
      "name: p\nstate: {dir: ./state}\nsources:\n  events: {type: file, path: events.jsonl}\n"
      "operators:\n  once: {type: dedup, input: events, key: [user], within: WITHIN}\n"
      "sinks:\n  out: {type: file, path: out.jsonl, input: once}\n";
  auto with = [&](const std::string& within) {
    std::string p = pipeline;
    p.replace(p.find("WITHIN"), 6, within);
    write_file(dir.file("p.yaml"), p);
  };
  const std::string run = "cd " + dir.path().string() + " && " + kLicflow + " run p.yaml";
  with("10m");
  REQUIRE(run_command(run).exit_code == 0);
  // Same pipeline again: the state says the input was finished.
  auto again = run_command(run);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("nothing to do") != std::string::npos);
  // A changed dedup cannot reuse its state.
  with("20m");
  auto changed = run_command(run);
  CHECK(changed.exit_code == 1);
  CHECK(changed.err.find("operator `once` changed since the checkpoint") != std::string::npos);
  auto reset = run_command(run + " --reset-state");
  CHECK(reset.exit_code == 0);
  CHECK(read_lines(dir.file("out.jsonl")).size() == 1);
  // A file sink with another format: the checkpointed end of its output no longer fits either.
  std::string csv = pipeline;
  csv.replace(csv.find("WITHIN"), 6, "20m");
  csv.replace(csv.find("input: once}"), 12, "input: once, format: csv}");
  write_file(dir.file("p.yaml"), csv);
  auto other_format = run_command(run);
  CHECK(other_format.exit_code == 1);
  CHECK_THAT(other_format.err, Contains("sink `out` writes to another file or in another format"));
}

TEST_CASE("resuming says so when an operator's inputs became joined or stopped being joined",
          "[e2e][checkpoint][join]") {
  TempDir dir;
  write_file(dir.file("a.jsonl"), "{\"ts\":1000,\"type\":\"denied\",\"feature\":\"f\"}\n");
  write_file(dir.file("b.jsonl"), "{\"ts\":1000,\"type\":\"denied\",\"feature\":\"g\"}\n");
  // `w` reads two filters: of one source (joined: one input in its state), or of two.
  auto pipeline = [&](const std::string& second_source) {
    write_file(dir.file("p.yaml"),
               "name: p\nstate: {dir: ./state}\nsources:\n"
               "  a: {type: file, path: a.jsonl}\n  b: {type: file, path: b.jsonl}\n"
               "operators:\n"
               "  f1: {type: filter, input: a, where: 'true'}\n"
               "  f2: {type: filter, input: " + second_source + ", where: 'true'}\n"
               "  w: {type: window, input: [f1, f2], size: 1h, aggregates: {n: count()}}\n"
               "sinks:\n  out: {type: file, path: out.jsonl, input: w}\n");
  };
  const std::string run = "cd " + dir.path().string() + " && " + kLicflow + " run p.yaml";
  pipeline("a");
  REQUIRE(run_command(run).exit_code == 0);
  pipeline("b");
  auto unjoined = run_command(run);
  CHECK(unjoined.exit_code == 1);
  CHECK_THAT(unjoined.err, Contains("operator `w` read its inputs joined at the checkpoint"));
  REQUIRE(run_command(run + " --reset-state").exit_code == 0);
  pipeline("a");
  auto joined = run_command(run);
  CHECK(joined.exit_code == 1);
  CHECK_THAT(joined.err, Contains("operator `w` now reads its inputs joined"));
}

TEST_CASE("a finished state dir is not reused for another input: another file or new contents "
          "start over",
          "[e2e][checkpoint]") {
  TempDir dir;
  auto event = [](int64_t ts, const std::string& user) {
    return "{\"ts\":" + std::to_string(ts) + ",\"type\":\"denied\",\"feature\":\"f\",\"user\":\"" +
           user + "\"}\n";
  };
  write_file(dir.file("a.jsonl"), event(1000, "a1") + event(2000, "a2"));
  write_file(dir.file("b.jsonl"), event(1000, "b1"));
  write_file(dir.file("p.yaml"),
             "name: p\nstate: {dir: ./state}\nsources:\n  events: {type: file, path: a.jsonl}\n"
             "sinks:\n  out: {type: file, path: out.jsonl, input: events}\n");
  const std::string run = "cd " + dir.path().string() + " && " + kLicflow + " run p.yaml";
  REQUIRE(run_command(run + " --input a.jsonl").exit_code == 0);
  CHECK(read_lines(dir.file("out.jsonl")).size() == 2);
  // The same input again: finished, nothing to do.
  auto same = run_command(run + " --input a.jsonl");
  CHECK(same.exit_code == 0);
  CHECK_THAT(same.err, Contains("nothing to do"));
  // Another file: a run of its own.
  auto other = run_command(run + " --input b.jsonl");
  CHECK(other.exit_code == 0);
  CHECK_THAT(other.err, Contains("starting over"));
  auto lines = read_lines(dir.file("out.jsonl"));
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Contains("\"user\":\"b1\""));
  // The same path with new contents (the next day's log): a run of its own too.
  write_file(dir.file("b.jsonl"), event(5000, "c1") + event(6000, "c2") + event(7000, "c3"));
  auto changed = run_command(run + " --input b.jsonl");
  CHECK(changed.exit_code == 0);
  CHECK(read_lines(dir.file("out.jsonl")).size() == 3);
}

TEST_CASE("a state dir is locked while a node runs, and a foreign one is refused",
          "[e2e][checkpoint]") {
  TempDir dir;
  const std::string pipeline = "name: p\nstate: {dir: ./state}\n"
                               "sources:\n  events: {type: stdin}\n"
                               "sinks:\n  out: {type: file, path: out.jsonl, input: events}\n";
  write_file(dir.file("p.yaml"), pipeline);
  // A first node holds the state dir while it waits on its stdin.
  const std::string fifo = dir.file("in.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  pid_t first = ::fork();
  if (first == 0) {
    if (::chdir(dir.path().c_str()) != 0) ::_exit(120);
    std::FILE* in = std::freopen(fifo.c_str(), "r", stdin);
    std::FILE* err = std::freopen("/dev/null", "w", stderr);
    (void)in;
    (void)err;
    ::execl(kLicflow.c_str(), kLicflow.c_str(), "run", "p.yaml", static_cast<char*>(nullptr));
    ::_exit(121);
  }
  const int writer = ::open(fifo.c_str(), O_WRONLY);  // returns once the first node reads it
  REQUIRE(writer >= 0);
  // Its sinks open after it has locked the state dir.
  for (int i = 0; i < 500 && !std::filesystem::exists(dir.file("out.jsonl")); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto second = run_command("cd " + dir.path().string() + " && " + kLicflow +
                            " run p.yaml --input /dev/null");
  const bool refused = second.exit_code == 1 &&
                       second.err.find("is in use by another licflow process") != std::string::npos;
  CHECK(refused);
  ::close(writer);
  CHECK(wait_exit(first) == 0);

  // A directory that is not a licflow checkpoint store is left alone.
  TempDir foreign;
  write_file(foreign.file("p.yaml"), pipeline);
  std::filesystem::create_directories(foreign.path() / "state" / "checkpoints");
  write_file(foreign.file("state/checkpoints/notes.txt"), "mine");
  auto r = run_command("cd " + foreign.path().string() + " && " + kLicflow +
                       " run p.yaml --input /dev/null");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("is not a licflow checkpoint store") != std::string::npos);
  CHECK(read_file(foreign.file("state/checkpoints/notes.txt")) == "mine");

  // A corrupt store is refused with RocksDB's reason, and not repaired behind the user's back.
  TempDir corrupt;
  write_file(corrupt.file("p.yaml"), pipeline);
  std::filesystem::create_directories(corrupt.path() / "state" / "checkpoints");
  write_file(corrupt.file("state/checkpoints/CURRENT"), "MANIFEST-999999\n");
  auto c = run_command("cd " + corrupt.path().string() + " && " + kLicflow +
                       " run p.yaml --input /dev/null");
  CHECK(c.exit_code == 1);
  CHECK(c.err.find("cannot open the checkpoint store") != std::string::npos);
  CHECK(read_file(corrupt.file("state/checkpoints/CURRENT")) == "MANIFEST-999999\n");
}

TEST_CASE("a run whose output failed is not remembered as finished", "[e2e][checkpoint]") {
  TempDir dir;
  write_file(dir.file("events.jsonl"), "{\"ts\":1000,\"type\":\"denied\",\"feature\":\"f\"}\n");
  auto run_into = [&](const std::string& path) {
    write_file(dir.file("p.yaml"),
               "name: p\nstate: {dir: ./state}\nsources:\n  events: {type: file, path: events.jsonl}\n"
               "sinks:\n  out: {type: file, path: " + path + ", input: events}\n");
    return run_command("cd " + dir.path().string() + " && " + kLicflow + " run p.yaml");
  };
  CHECK(run_into("/dev/full").exit_code == 1);  // every write fails: no space left
  auto again = run_into("out.jsonl");
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("nothing to do") == std::string::npos);
  CHECK(read_lines(dir.file("out.jsonl")).size() == 1);
}

TEST_CASE("a clean stop (SIGTERM) in the middle of a file neither cuts a line nor loses it",
          "[e2e][checkpoint]") {
  // SPEC §8 run: SIGTERM is a clean stop with a checkpoint; SPEC §7: the resumed run's output is
  // the uninterrupted one's. The line the reader is in the middle of when the stop comes is
  // read whole by the resumed run: no dead letter, nothing lost or doubled.
  TempDir dir;
  constexpr int kLines = 600000;
  {
    std::string text;
    text.reserve(kLines * 48);
    for (int i = 0; i < kLines; ++i) {
      text += "{\"ts\":" + std::to_string(i) + ",\"type\":\"metric\",\"n\":" + std::to_string(i) +
              "}\n";
    }
    write_file(dir.file("in.jsonl"), text);
  }
  write_file(dir.file("p.yaml"),
             "name: p\nstate: {dir: ./state}\ndead_letter: {path: dead.jsonl}\n"
             "sources:\n  events: {type: file, path: in.jsonl}\n"
             "sinks:\n  out: {type: file, path: out.jsonl, input: events}\n");
  pid_t pid = start_licflow(dir.path().string(), "p.yaml");
  // Once output appears, the node is past start-up and reading the file.
  std::error_code ec;
  while (std::filesystem::file_size(dir.file("out.jsonl"), ec) == 0 || ec) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(pid, SIGTERM);
  REQUIRE(wait_exit(pid) == 0);
  const size_t after_stop = read_lines(dir.file("out.jsonl")).size();

  auto resumed = run_command("cd " + dir.path().string() + " && " + kLicflow + " run p.yaml");
  REQUIRE(resumed.exit_code == 0);
  const auto lines = read_lines(dir.file("out.jsonl"));
  REQUIRE(lines.size() == kLines);
  for (int i : {0, kLines / 2, kLines - 1}) {
    CHECK_THAT(lines[static_cast<size_t>(i)], Contains(",\"n\":" + std::to_string(i) + ","));
  }
  CHECK(read_lines(dir.file("dead.jsonl")).empty());
  INFO("lines written before the stop: " << after_stop);
  CHECK(after_stop <= static_cast<size_t>(kLines));
}

TEST_CASE("a resumed run stopped before it got anywhere keeps the position it resumed from",
          "[e2e][checkpoint]") {
  // Run 1 stops in the middle of the input; runs 2 to 4 resume and are stopped at once, before
  // they reach where run 1 stopped (a log format re-reads the file from its start for its
  // dates, which takes a while here); the last run resumes again and finishes. Its output must
  // be an uninterrupted run's: a stopped run's checkpoint must not move the source back (which
  // doubled everything after that point).
  for (const std::string format : {"jsonl", "flexlm"}) {
    INFO("format " << format);
    TempDir dir;
    std::string text = format == "flexlm" ? " 0:00:00 (lmgrd) TIMESTAMP 11/27/2026\n" : "";
    constexpr int kEvents = 300000;
    for (int i = 0; i < kEvents; ++i) {
      const int s = i % 86400;
      if (format == "flexlm") {
        text += std::to_string(s / 3600) + ":" + std::to_string(s / 60 % 60 / 10) +
                std::to_string(s / 60 % 60 % 10) + ":" + std::to_string(s % 60 / 10) +
                std::to_string(s % 60 % 10) + " (MLM) " + (i % 2 == 0 ? "OUT" : "IN") +
                ": \"f\" u" + std::to_string(i / 2 % 50) + "@h\n";
      } else {
        text += "{\"ts\":" + std::to_string(i) + ",\"type\":\"metric\",\"n\":" +
                std::to_string(i) + "}\n";
      }
    }
    write_file(dir.file("in.log"), text);
    auto plan_in = [&](const std::string& out) {
      return load_plan("name: p\nstate: {dir: " + dir.file("state-" + out) + "}\n"
                       "sources:\n  events: {type: file, path: " + dir.file("in.log") +
                       ", format: " + format + "}\n"
                       "sinks:\n  out: {type: file, path: " + dir.file(out) + ", input: events}\n");
    };
    licflow::RunOptions options;
    options.checkpoints = true;
    {
      auto reference = plan_in("reference.jsonl");
      REQUIRE(licflow::run_plan(*reference, options).is_ok());
    }
    const uintmax_t full = std::filesystem::file_size(dir.file("reference.jsonl"));
    {
      auto first = plan_in("out.jsonl");  // stopped about two thirds of the way in
      BackgroundRun run(*first, options);
      std::error_code ec;
      while (std::filesystem::file_size(dir.file("out.jsonl"), ec) < full / 3 * 2 || ec) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      REQUIRE(run.stop().is_ok());
    }
    for (int ms : {2, 8, 20}) {  // resumed and stopped at once, or while it re-reads the log
      auto again = plan_in("out.jsonl");
      BackgroundRun run(*again, options);
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      auto stopped = run.stop();
      REQUIRE(stopped.is_ok());
      CHECK(stopped.value().resumed_from > 0);
    }
    auto last = plan_in("out.jsonl");
    REQUIRE(licflow::run_plan(*last, options).is_ok());
    CHECK(read_file(dir.file("out.jsonl")) == read_file(dir.file("reference.jsonl")));
  }
}

TEST_CASE("a second SIGTERM stops at once a clean stop that waits (a dead webhook's retries)",
          "[e2e][cli]") {
  TempDir dir;
  write_file(dir.file("in.jsonl"), "{\"ts\":1,\"type\":\"metric\"}\n");
  write_file(dir.file("p.yaml"),
             "name: p\nstate: {dir: ./state}\n"
             "sources:\n  events: {type: file, path: in.jsonl}\n"
             "sinks:\n  hook: {type: webhook, url: \"http://127.0.0.1:" +
                 std::to_string(free_port()) + "/x\", input: events}\n");
  pid_t pid = start_licflow(dir.path().string(), "p.yaml");
  // The webhook retries for many seconds; the first signal asks for a clean stop, which waits.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ::kill(pid, SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int status_now = 0;
  REQUIRE(::waitpid(pid, &status_now, WNOHANG) == 0);  // the first signal did not end it
  const auto second = std::chrono::steady_clock::now();
  ::kill(pid, SIGTERM);
  const int status = wait_exit(pid);
  const auto took = std::chrono::steady_clock::now() - second;
  CHECK(status == 128 + SIGTERM);
  CHECK(took < std::chrono::seconds(2));
}

// SPEC §6 "a dead endpoint never … loses a record silently" with SPEC §7: a small file ends in
// milliseconds, long before a slow webhook has sent it. Killed then, the rerun must send what
// was still queued (here: everything again; a webhook is at least once), not find the run
// finished.
TEST_CASE("killed while its webhook still sends, a finished input is sent again on rerun",
          "[spec-6][spec-7][webhook][crash]") {
  std::mutex mutex;
  std::string bodies;
  std::atomic<int> requests{0};
  std::atomic<int> delay_ms{300};
  httplib::Server server;
  server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    {
      std::lock_guard lock(mutex);
      bodies += req.body;
    }
    ++requests;
    res.set_content("ok", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread serving([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();

  TempDir dir;
  std::string input;
  for (int i = 0; i < 20; ++i) {
    input += "{\"ts\":" + std::to_string(i) + ",\"type\":\"metric\",\"n\":" + std::to_string(i) +
             "}\n";
  }
  write_file(dir.file("in.jsonl"), input);
  write_file(dir.file("p.yaml"),
             "name: t\nstate: {dir: ./state}\n"
             "sources:\n  s: {type: file, path: in.jsonl}\n"
             "sinks:\n  hook: {type: webhook, input: s, batch_size: 1, url: "
             "'http://127.0.0.1:" + std::to_string(port) + "/hook'}\n");
  pid_t pid = start_licflow(dir.path().string(), "p.yaml");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (requests.load() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(requests.load() >= 3);
  ::kill(pid, SIGKILL);
  wait_exit(pid);

  delay_ms = 0;
  CHECK(wait_exit(start_licflow(dir.path().string(), "p.yaml")) == 0);
  server.stop();
  serving.join();
  for (int i = 0; i < 20; ++i) {
    INFO("record " << i);
    CHECK_THAT(bodies, Contains("\"n\":" + std::to_string(i) + ","));
  }
}
