#include "tests/test_util.h"

#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "engine/event_parser.h"

namespace licflow::test {

std::unique_ptr<Plan> load_plan(const std::string& yaml) {
  Diagnostics diag("test.yaml");
  auto plan = load_pipeline_text(yaml, "test.yaml", diag);
  INFO(diag.format());
  REQUIRE(plan != nullptr);
  return plan;
}

std::vector<std::string> pipeline_errors(const std::string& yaml, const std::string& file) {
  Diagnostics diag(file);
  auto plan = load_pipeline_text(yaml, file, diag);
  std::vector<std::string> lines;
  std::stringstream text(diag.format());
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  if (plan) REQUIRE(lines.empty());
  return lines;
}

std::vector<Record> records_from_jsonl(const std::string& text) {
  EventParser parser;
  std::vector<Record> out;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    std::string padded = line + std::string(kParsePadding, '\0');
    Record r;
    std::string error;
    INFO(line);
    REQUIRE(parser.parse(padded.data(), line.size(), padded.size(), r, error));
    out.push_back(std::move(r));
  }
  return out;
}

BatchPtr batch_of(std::vector<Record> records) {
  auto b = std::make_shared<Batch>();
  b->records = std::move(records);
  return b;
}

CommandResult run_command(const std::string& command) {
  TempDir dir;
  std::string out = dir.file("out"), err = dir.file("err");
  std::string full = "(" + command + ") >" + out + " 2>" + err;
  int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

int connect_to(uint16_t port) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  FAIL("could not connect to the tcp source");
  return -1;
}

void send_all(int fd, const std::string& text) {
  size_t sent = 0;
  while (sent < text.size()) {
    ssize_t n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    sent += static_cast<size_t>(n);
  }
}

BackgroundRun::BackgroundRun(Plan& plan, RunOptions options) {
  options.stop = &stop_;
  thread_ = std::thread([this, &plan, options] { result_ = run_plan(plan, options); });
}

BackgroundRun::~BackgroundRun() {
  if (thread_.joinable()) static_cast<void>(stop());  // a test that did not stop it failed already
}

Result<RunSummary> BackgroundRun::stop() {
  stop_ = true;
  thread_.join();
  return result_;
}

}  // namespace licflow::test
