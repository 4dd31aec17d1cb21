#include "tests/test_util.h"

#include <catch2/catch.hpp>
#include <sys/wait.h>

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

}  // namespace licflow::test
