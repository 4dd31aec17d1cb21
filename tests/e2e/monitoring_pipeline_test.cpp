// pipelines/olicense-monitoring.yaml end to end, as the main job runs it: three weeks of generated
// events (with the generator's outages, exhausted features and slow servers) plus an injected
// night-time usage spike. Every expected alert and the spike's anomaly must appear, each exactly
// where the input says it should, and the spike hour is not flagged on the clean input.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "engine/generator.h"
#include "engine/time_format.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

namespace {

const std::string kLicflow = LICFLOW_BINARY;
const std::string kPipeline = std::string(LICFLOW_SOURCE_DIR) + "/pipelines/olicense-monitoring.yaml";

// 2026-11-18 (a Wednesday of the third week) 03:00 UTC, at night when almost nothing is held.
constexpr int64_t kSpikeStart = 1793577600000 + 16 * 86'400'000LL + 3 * 3'600'000LL;
constexpr int kSpikeUsers = 60;

std::string generated_events() {
  GeneratorOptions options;
  options.seed = 11;
  options.users = 300;
  options.days = 21;
  std::string text;
  generate_events(options, [&](std::string_view chunk) { text.append(chunk); });
  return text;
}

// 60 extra users take matlab_core on lic-1 within five minutes and give it back 50 minutes later;
// the lines are spliced in at their place in time.
std::string with_spike(const std::string& events) {
  std::vector<std::pair<int64_t, std::string>> spike;
  for (int i = 0; i < kSpikeUsers; ++i) {
    const int64_t out = kSpikeStart + i * 7'000;
    const std::string who = "\"server\":\"lic-1\",\"feature\":\"matlab_core\",\"user\":\"spike" +
                            std::to_string(i) + "\",\"host\":\"lab\",\"group\":\"research\",\"handle\":\"spike" +
                            std::to_string(i) + "\"";
    spike.emplace_back(out, "{\"ts\":" + std::to_string(out) + ",\"type\":\"checkout\"," + who + "}\n");
    spike.emplace_back(out + 3'000'000, "{\"ts\":" + std::to_string(out + 3'000'000) +
                                            ",\"type\":\"checkin\"," + who + "}\n");
  }
  std::sort(spike.begin(), spike.end());
  std::string result;
  size_t next = 0;
  for (size_t pos = 0; pos < events.size();) {
    const size_t end = events.find('\n', pos) + 1;
    const std::string_view line(events.data() + pos, end - pos);
    if (line.rfind("{\"ts\":", 0) == 0 && std::isdigit(static_cast<unsigned char>(line[6]))) {
      const int64_t ts = std::stoll(std::string(line.substr(6, 13)));
      while (next < spike.size() && spike[next].first <= ts) result += spike[next++].second;
    }
    result.append(line);
    pos = end;
  }
  for (; next < spike.size(); ++next) result += spike[next].second;
  return result;
}

struct Run {
  std::vector<std::string> live;
  std::vector<std::string> alerts;
  std::vector<std::string> sessions;
};

Run run_monitoring(const TempDir& dir, const std::string& events) {
  write_file(dir.file("events.jsonl"), events);
  auto r = run_command("cd " + dir.path().string() + " && " + kLicflow + " run " + kPipeline +
                       " --input events.jsonl");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return {read_lines(dir.file("licflow-data/live.jsonl")),
          read_lines(dir.file("licflow-data/alerts.jsonl")),
          read_lines(dir.file("licflow-data/sessions.jsonl"))};
}

int64_t ms(simdjson::dom::element e) { return *parse_rfc3339(std::string(e.get_string().value())); }

}  // namespace

TEST_CASE("the monitoring pipeline raises every expected alert and the spike's anomaly",
          "[e2e][monitoring]") {
  const std::string clean = generated_events();
  REQUIRE(clean.find("\"server\":\"lic-1\",\"feature\":\"matlab_core\"") != std::string::npos);
  TempDir dir;
  const Run run = run_monitoring(dir, with_spike(clean));

  // What the alerts must match, read from license_state's output.
  simdjson::dom::parser parser;
  std::multiset<std::pair<std::string, int64_t>> server_downs, exhaustions;
  for (const std::string& line : run.live) {
    simdjson::dom::element e = parser.parse(line);
    const std::string_view type = e["type"].get_string().value();
    if (type == "server_down" && e["feature"].error()) {
      server_downs.emplace(std::string(e["server"].get_string().value()), ms(e["ts"]));
    } else if (type == "license_exhausted") {
      exhaustions.emplace(std::string(e["server"].get_string().value()) + "/" +
                              std::string(e["feature"].get_string().value()),
                          ms(e["ts"]));
    }
  }
  REQUIRE(server_downs.size() >= 3);
  REQUIRE(exhaustions.size() >= 10);

  std::map<std::string, int> fired, resolved;
  std::multiset<std::pair<std::string, int64_t>> down_alerts, exhausted_alerts;
  bool spike_anomaly = false;
  for (const std::string& line : run.alerts) {
    simdjson::dom::element e = parser.parse(line);
    const std::string stream(e["stream"].get_string().value());
    if (stream == "peak_anomalies") {
      CHECK(e["score"].get_double().value() >= 4);
      CHECK(e["direction"].get_string().value() == "high");
      if (e["feature"].get_string().value() == "matlab_core" &&
          ms(e["ts"]) == kSpikeStart + 3'600'000) {
        spike_anomaly = true;
        CHECK(e["value"].get_double().value() > 0.4);
      }
      continue;
    }
    const std::string state(e["state"].get_string().value());
    (state == "firing" ? fired : resolved)[stream]++;
    if (state != "firing") continue;
    const int64_t ts = ms(e["ts"]);
    const int64_t since = stream == "cost.budget" ? ts : ms(e["since"]);
    if (stream == "server_down") {
      CHECK(e["severity"].get_string().value() == "critical");
      down_alerts.emplace(std::string(e["server"].get_string().value()), ts);
    } else if (stream == "no_licenses") {
      CHECK(e["record"]["available"].get_int64().value() <= 0);
      exhausted_alerts.emplace(std::string(e["server"].get_string().value()) + "/" +
                                   std::string(e["feature"].get_string().value()),
                               ts);
    } else if (stream == "busy") {
      CHECK(ts - since == 15 * 60'000);
      CHECK(e["record"]["utilization"].get_double().value() > 0.9);
    } else if (stream == "cost.budget") {
      CHECK(e["fraction"].get_double().value() >= e["alert_at"].get_double().value());
    } else if (stream == "slow_server") {
      CHECK(ts - since == 5 * 60'000);
      CHECK(e["record"]["response_time_ms"].get_int64().value() > 5000);
    }
  }
  // Every outage fires once, at the server_down; every exhaustion fires no_licenses at once.
  CHECK(down_alerts == server_downs);
  CHECK(exhausted_alerts == exhaustions);
  CHECK(fired["busy"] > 0);
  CHECK(fired["slow_server"] > 0);  // the generator's crashes are preceded by slow responses
  for (const auto& [alert, n] : fired) CHECK(resolved[alert] <= n);
  CHECK(spike_anomaly);
  // Three weeks of engineering cross 75 % of its monthly budget.
  CHECK(fired["cost.budget"] > 0);
  // Every session is priced (every generated feature has a cost model) and allocated.
  REQUIRE(run.sessions.size() > 1000);
  for (const std::string& line : run.sessions) {
    simdjson::dom::element e = parser.parse(line);
    CHECK(e["cost"].get_double().value() >= 0);
    CHECK_FALSE(e["cost_center"].get_string().value().empty());
  }

  // The same three weeks without the spike: that hour is not anomalous.
  TempDir clean_dir;
  const Run clean_run = run_monitoring(clean_dir, clean);
  for (const std::string& line : clean_run.alerts) {
    simdjson::dom::element e = parser.parse(line);
    if (e["stream"].get_string().value() != "peak_anomalies") continue;
    CHECK_FALSE((e["feature"].get_string().value() == "matlab_core" &&
                 ms(e["ts"]) == kSpikeStart + 3'600'000));
  }
}
