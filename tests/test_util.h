// Helpers shared by the tests: temporary directories, files, and running pipelines or the CLI.
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "config/plan.h"
#include "engine/runtime.h"
#include "operators/operator.h"

namespace licflow::test {

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    static std::mt19937_64 rng(std::random_device{}());
    path_ = std::filesystem::temp_directory_path() /
            ("licflow-test-" + std::to_string(rng()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path, std::ios::binary);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Loads YAML text; fails the test with the diagnostics when it is invalid.
std::unique_ptr<Plan> load_plan(const std::string& yaml);
// The diagnostics a pipeline produces (empty when it is valid), one formatted line each.
std::vector<std::string> pipeline_errors(const std::string& yaml,
                                         const std::string& file = "p.yaml");

// Collects what an operator emits, per port.
class CollectingEmitter final : public Emitter {
 public:
  using Emitter::emit;
  void emit(size_t port, BatchPtr batch) override {
    if (ports.size() <= port) ports.resize(port + 1);
    for (const Record& r : batch->records) ports[port].push_back(r);
  }
  std::vector<std::vector<Record>> ports;
  std::vector<Record>& port(size_t p) {
    if (ports.size() <= p) ports.resize(p + 1);
    return ports[p];
  }
};

// Parses JSON Lines text into records (test input), failing the test on a bad line.
std::vector<Record> records_from_jsonl(const std::string& text);
BatchPtr batch_of(std::vector<Record> records);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs a shell command line; stdin from /dev/null unless redirected in `command`.
CommandResult run_command(const std::string& command);

// TCP helpers for tests of the tcp source and the HTTP endpoint: a port free right now, a
// connection (retried while the server starts), and a blocking send of all of `text`.
uint16_t free_port();
int connect_to(uint16_t port);
void send_all(int fd, const std::string& text);

// A run of `plan` on its own thread, for live sources (TCP, pipes): stop() requests a clean stop,
// as SIGTERM does, and returns the run's result.
class BackgroundRun {
 public:
  explicit BackgroundRun(Plan& plan, RunOptions options = {});
  ~BackgroundRun();
  BackgroundRun(const BackgroundRun&) = delete;
  BackgroundRun& operator=(const BackgroundRun&) = delete;
  Result<RunSummary> stop();

 private:
  std::atomic<bool> stop_{false};
  Result<RunSummary> result_ = Status::error("not run");
  std::thread thread_;
};

}  // namespace licflow::test
