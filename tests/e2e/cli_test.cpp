// The licflow command line, run as a user runs it (SPEC §3, §8): exit codes, validate's output,
// run from file to file, --input, --threads invariance, generate and graph.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>

#include "tests/test_util.h"

using namespace licflow::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kLicflow = LICFLOW_BINARY;
const std::string kPipelines = std::string(LICFLOW_SOURCE_DIR) + "/pipelines";

std::string pipeline_file(const TempDir& dir) {
  std::string path = dir.file("p.yaml");
  write_file(path,
             "name: cli\n"
             "dead_letter: {path: " + dir.file("dead.jsonl") + "}\n"
             "sources:\n  events: {type: file, path: /nonexistent/replaced-by-input.jsonl}\n"
             "operators:\n"
             "  denials: {type: filter, input: events, where: \"type == 'denied'\"}\n"
             "  once: {type: dedup, input: denials, key: [feature, user], within: 10m}\n"
             "sinks:\n"
             "  out: {type: file, path: " + dir.file("out.jsonl") + ", input: once}\n"
             "  table: {type: file, path: " + dir.file("out.csv") + ", format: csv, input: once}\n");
  return path;
}

}  // namespace

TEST_CASE("validate accepts every shipped pipeline", "[cli][spec-3]") {
  for (const auto& entry : std::filesystem::directory_iterator(kPipelines)) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string name = entry.path().filename().string();
    auto r = run_command(kLicflow + " validate " + kPipelines + "/" + name);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Contains(": ok"));
  }
}

TEST_CASE("validate reports problems as FILE:LINE:COL and exits 2", "[cli][spec-3]") {
  TempDir dir;
  std::string path = dir.file("bad.yaml");
  write_file(path,
             "name: bad\n"
             "sources: {events: {type: stdin}}\n"
             "operators:\n"
             "  f: {type: filtre, input: event}\n");
  auto r = run_command(kLicflow + " validate " + path);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, StartsWith(path + ":4:13: error: unknown operator type `filtre`"));
  CHECK_THAT(r.err, Contains(path + ":4:28: error: unknown input `event` of `f` (did you mean "
                             "`events`?)"));
}

TEST_CASE("bad usage exits 2", "[cli][spec-8]") {
  CHECK(run_command(kLicflow).exit_code == 2);
  CHECK(run_command(kLicflow + " frobnicate").exit_code == 2);
  CHECK(run_command(kLicflow + " run").exit_code == 2);
  CHECK(run_command(kLicflow + " graph x.yaml --format png").exit_code == 2);
  CHECK(run_command(kLicflow + " validate /nonexistent.yaml").exit_code == 2);
  // Numbers out of range are refused, not wrapped or saturated.
  for (const char* seed : {"-1", "18446744073709551616", "1e3"}) {
    INFO(seed);
    auto r = run_command(kLicflow + " generate --days 1 --users 1 --seed " + seed);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("expected an integer from 0 to 18446744073709551615"));
  }
  auto limit = run_command(kLicflow + " query --state . --stream s --limit -1");
  CHECK(limit.exit_code == 2);
  CHECK_THAT(limit.err, Contains("not in range 0 to 9223372036854775807"));
  auto help = run_command(kLicflow + " run --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Contains("--input"));
}

TEST_CASE("run: --input replaces the first source; file to file; summary on stderr",
          "[cli][spec-3][spec-8]") {
  TempDir dir;
  auto gen = run_command(kLicflow + " generate --users 40 --days 2 --faults > " +
                         dir.file("events.jsonl"));
  REQUIRE(gen.exit_code == 0);
  auto r = run_command(kLicflow + " run " + pipeline_file(dir) + " --input " +
                       dir.file("events.jsonl"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Contains("licflow: `cli` finished"));
  CHECK_THAT(r.err, Contains("dead letters written to " + dir.file("dead.jsonl")));
  auto out = read_lines(dir.file("out.jsonl"));
  REQUIRE_FALSE(out.empty());
  // A sink's row says what it wrote, not an "out" it never has.
  char row[64];
  std::snprintf(row, sizeof row, "in %12zu  written   %12zu\n", out.size(), out.size());
  CHECK_THAT(r.err, Contains(row));
  for (const std::string& line : out) {
    CHECK_THAT(line, StartsWith("{\"stream\":\"once\",\"ts\":\""));
    CHECK_THAT(line, Contains("\"type\":\"denied\""));
  }
  auto csv = read_lines(dir.file("out.csv"));
  REQUIRE(csv.size() == out.size() + 1);
  CHECK_THAT(csv[0], StartsWith("stream,ts,type,"));
  // Dead letters keep the replaced source's id.
  auto dead = read_lines(dir.file("dead.jsonl"));
  REQUIRE_FALSE(dead.empty());
  CHECK_THAT(dead[0], StartsWith("{\"source\":\"events\",\"line\":"));
}

TEST_CASE("run reads stdin with --input -, and exits 1 when a source cannot open",
          "[cli][spec-8]") {
  TempDir dir;
  std::string p = pipeline_file(dir);
  auto r = run_command("printf '{\"ts\":1,\"type\":\"denied\",\"feature\":\"f\",\"user\":\"u\"}\\n' | " +
                       kLicflow + " run " + p + " --input -");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(read_lines(dir.file("out.jsonl")).size() == 1);
  auto missing = run_command(kLicflow + " run " + p + " --input " + dir.file("missing.jsonl"));
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Contains("cannot open"));
  // A directory opens, but is no input: not an empty run.
  auto directory = run_command(kLicflow + " run " + p + " --input " + dir.path().string());
  CHECK(directory.exit_code == 1);
  CHECK_THAT(directory.err, Contains("Is a directory"));
}

TEST_CASE("a run starts its dead-letter file over, also when it has no dead letter",
          "[cli][dead-letter][spec-1]") {
  TempDir dir;
  const std::string p = pipeline_file(dir);
  write_file(dir.file("bad.jsonl"), "{\"ts\":1,\"type\":\"metric\"}\nnot json\n");
  write_file(dir.file("good.jsonl"), "{\"ts\":1,\"type\":\"metric\"}\n");
  REQUIRE(run_command(kLicflow + " run " + p + " --input " + dir.file("bad.jsonl")).exit_code == 0);
  REQUIRE(read_lines(dir.file("dead.jsonl")).size() == 1);
  REQUIRE(run_command(kLicflow + " run " + p + " --input " + dir.file("good.jsonl")).exit_code ==
          0);
  CHECK(read_lines(dir.file("dead.jsonl")).empty());
  // A dead-letter path that is no regular file (here /dev/null) is not truncated, and no error.
  write_file(dir.file("null.yaml"),
             "name: n\ndead_letter: {path: /dev/null}\nsources:\n  events: {type: file, path: " +
                 dir.file("bad.jsonl") + "}\nsinks:\n  out: {type: file, path: " +
                 dir.file("o.jsonl") + ", input: events}\n");
  CHECK(run_command(kLicflow + " run " + dir.file("null.yaml")).exit_code == 0);
}

TEST_CASE("run --state moves the default dead-letter file, never a configured one",
          "[cli][dead-letter][spec-8]") {
  TempDir dir;
  write_file(dir.file("bad.jsonl"), "not json\n");
  const std::string sources = "sources:\n  events: {type: file, path: " + dir.file("bad.jsonl") +
                              "}\nsinks:\n  out: {type: file, path: " + dir.file("o.jsonl") +
                              ", input: events}\n";
  // No dead_letter: it follows the state dir.
  write_file(dir.file("a.yaml"), "name: a\n" + sources);
  REQUIRE(run_command("cd " + dir.path().string() + " && " + kLicflow + " run a.yaml --state " +
                      dir.file("s1")).exit_code == 0);
  CHECK(read_lines(dir.file("s1/dead_letter.jsonl")).size() == 1);
  // A configured path stays, even when it is written as the default would be.
  write_file(dir.file("b.yaml"),
             "name: b\ndead_letter: {path: ./licflow-data/dead_letter.jsonl}\n" + sources);
  REQUIRE(run_command("cd " + dir.path().string() + " && " + kLicflow + " run b.yaml --state " +
                      dir.file("s2")).exit_code == 0);
  CHECK(read_lines(dir.file("licflow-data/dead_letter.jsonl")).size() == 1);
  CHECK_FALSE(std::filesystem::exists(dir.file("s2/dead_letter.jsonl")));
}

TEST_CASE("a live node's dead letters are in the file while it runs", "[cli][dead-letter]") {
  TempDir dir;
  const std::string p = pipeline_file(dir);
  // The writer of stdin looks at the dead-letter file before it ends the input.
  auto r = run_command("(echo 'not json'; sleep 0.8; cat " + dir.file("dead.jsonl") + " > " +
                       dir.file("seen.txt") + "; echo '{\"ts\":1,\"type\":\"metric\"}') | " +
                       kLicflow + " run " + p + " --input -");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read_lines(dir.file("seen.txt")).size() == 1);
}

TEST_CASE("run gives the same output with --threads 1 and --threads 2", "[cli][spec-8]") {
  TempDir dir;
  REQUIRE(run_command(kLicflow + " generate --users 80 --days 3 --faults --out-of-order 30s > " +
                      dir.file("events.jsonl"))
              .exit_code == 0);
  std::string p = pipeline_file(dir);
  std::vector<std::string> outs[2];
  for (int threads : {1, 2}) {
    auto r = run_command(kLicflow + " run " + p + " --threads " + std::to_string(threads) +
                         " --input " + dir.file("events.jsonl"));
    REQUIRE(r.exit_code == 0);
    outs[threads - 1] = read_lines(dir.file("out.jsonl"));
  }
  CHECK_FALSE(outs[0].empty());
  CHECK(sorted(outs[0]) == sorted(outs[1]));
}

TEST_CASE("generate is deterministic per seed", "[cli][generate][spec-8]") {
  auto a = run_command(kLicflow + " generate --seed 7 --users 20 --days 1");
  auto b = run_command(kLicflow + " generate --seed 7 --users 20 --days 1");
  auto c = run_command(kLicflow + " generate --seed 8 --users 20 --days 1");
  REQUIRE(a.exit_code == 0);
  CHECK(a.out.size() > 1000);
  CHECK(a.out == b.out);
  CHECK(a.out != c.out);
  CHECK(run_command(kLicflow + " generate --start yesterday").exit_code == 2);
}

TEST_CASE("graph draws dot and mermaid", "[cli][spec-8]") {
  auto dot = run_command(kLicflow + " graph " + kPipelines + "/denials.yaml");
  CHECK(dot.exit_code == 0);
  CHECK_THAT(dot.out, StartsWith("digraph \"denials\""));
  auto mermaid = run_command(kLicflow + " graph " + kPipelines + "/denials.yaml --format mermaid");
  CHECK(mermaid.exit_code == 0);
  CHECK_THAT(mermaid.out, StartsWith("flowchart LR"));

  // Ids and port names that would end or mark up a Mermaid label are written as entity codes.
  TempDir dir;
  write_file(dir.file("p.yaml"),
             "name: odd\nsources: {'r<b>': {type: stdin}}\noperators:\n"
             "  lanes:\n    type: route\n    input: 'r<b>'\n    routes:\n"
             "      'say \"hi\"|--': 'true'\n"
             "sinks: {o: {type: stdout, input: 'lanes.say \"hi\"|--'}}\n");
  auto odd = run_command(kLicflow + " graph " + dir.file("p.yaml") + " --format mermaid");
  INFO(odd.err);
  REQUIRE(odd.exit_code == 0);
  CHECK_THAT(odd.out, Contains("n0[/\"r#60;b#62;<br/>stdin\"/]"));
  CHECK_THAT(odd.out, Contains("n1 -->|\"say #34;hi#34;#124;--\"| n2"));
}

TEST_CASE("run --input keeps the format of the source it replaces", "[cli][spec-3][flexlm]") {
  TempDir dir;
  write_file(dir.file("p.yaml"),
             "name: logs\ndead_letter: {path: " + dir.file("dead.jsonl") + "}\n"
             "sources:\n  lmgrd: {type: file, path: /nonexistent.log, format: flexlm, server: lic-a}\n"
             "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") + ", input: lmgrd}\n");
  write_file(dir.file("debug.log"), "23:58:00 (lmgrd) TIMESTAMP 11/27/2026\n"
                                    " 9:14:37 (MLM) OUT: \"MATLAB\" jdoe@ws042  \n");
  auto r = run_command(kLicflow + " run " + dir.file("p.yaml") + " --input " + dir.file("debug.log"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto out = read_lines(dir.file("out.jsonl"));
  REQUIRE(out.size() == 1);
  CHECK_THAT(out[0], StartsWith("{\"stream\":\"lmgrd\",\"ts\":\"2026-11-28T09:14:37.000Z\","
                                "\"type\":\"checkout\",\"server\":\"lic-a\",\"feature\":\"MATLAB\""));
}
