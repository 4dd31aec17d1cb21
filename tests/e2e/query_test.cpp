// `licflow run` with history sinks, then `licflow query`, as a user runs them (SPEC §6, §8).
#include <catch2/catch.hpp>

#include "tests/test_util.h"

using namespace licflow::test;
using Catch::Matchers::Contains;

namespace {
const std::string kLicflow = LICFLOW_BINARY;
}

TEST_CASE("licflow query reads what licflow run stored in history", "[history][cli][spec-8]") {
  TempDir dir;
  write_file(dir.file("in.jsonl"),
             "{\"ts\": 3000, \"type\": \"checkout\", \"feature\": \"b\", \"user\": \"ann\"}\n"
             "{\"ts\": 1000, \"type\": \"denied\", \"feature\": \"a\", \"user\": \"bob\"}\n"
             "{\"ts\": 2000, \"type\": \"denied\", \"feature\": \"b\", \"user\": \"cy\"}\n");
  // Two history sinks share the store of one state dir.
  write_file(dir.file("p.yaml"),
             "name: h\n"
             "sources:\n  events: {type: file, path: " + dir.file("in.jsonl") + "}\n"
             "operators:\n  denials: {type: filter, input: events, where: \"type == 'denied'\"}\n"
             "sinks:\n"
             "  all: {type: history, input: events}\n"
             "  denied: {type: history, input: denials, key: [feature], retention: 5000w}\n");
  const std::string state = dir.file("state");
  auto run = run_command(kLicflow + " run " + dir.file("p.yaml") + " --state " + state);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);

  const std::string q = kLicflow + " query --state " + state;
  auto denied = run_command(q + " --stream denials --format csv");
  CHECK(denied.exit_code == 0);
  CHECK(denied.out ==
        "stream,ts,type,feature,user,server\n"
        "denials,1970-01-01T00:00:01.000Z,denied,a,bob,default\n"
        "denials,1970-01-01T00:00:02.000Z,denied,b,cy,default\n");
  auto one = run_command(q + " --stream events --key user=ann --from 1970-01-01T00:00:02Z");
  CHECK(one.exit_code == 0);
  CHECK(one.out ==
        "{\"stream\":\"events\",\"ts\":\"1970-01-01T00:00:03.000Z\",\"type\":\"checkout\","
        "\"feature\":\"b\",\"user\":\"ann\",\"server\":\"default\"}\n");

  auto none = run_command(q + " --stream events --to 1000");
  CHECK(none.exit_code == 0);
  CHECK(none.out.empty());
  CHECK(run_command(q + " --stream events --from soon").exit_code == 2);
  CHECK(run_command(q + " --stream events --key user").exit_code == 2);
  CHECK(run_command(q + " --stream events --format xml").exit_code == 2);
  auto missing = run_command(kLicflow + " query --state " + dir.file("nope") + " --stream events");
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Contains("no history in state dir"));
}
