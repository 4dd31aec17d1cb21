// `licflow run --http` (SPEC §8): GET /metrics serves valid Prometheus text whose counters match
// the records actually processed; GET /healthz answers.
#include <httplib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <regex>
#include <thread>

#include "engine/http_endpoint.h"
#include "engine/metrics.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

namespace {

// Parses the Prometheus text exposition format strictly enough to catch what a scraper rejects:
// every sample belongs to a family declared by a TYPE line before it, names and labels are well
// formed, values are numbers. Returns "name{a="x",b="y"}" (labels as written) -> value.
std::map<std::string, double> parse_prometheus(const std::string& text) {
  static const std::regex type_line(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  static const std::regex help_line(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  static const std::regex sample_line(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (\S+))");
  std::map<std::string, std::string> families;
  std::map<std::string, double> samples;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, type_line)) {
      REQUIRE(families.count(m[1]) == 0);  // one TYPE per family
      families[m[1]] = m[2];
      continue;
    }
    if (std::regex_match(line, m, help_line)) continue;
    INFO(line);
    REQUIRE(std::regex_match(line, m, sample_line));
    std::string name = m[1];
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (families.count(family) == 0 && name.size() > s.size() &&
          name.compare(name.size() - s.size(), s.size(), s) == 0) {
        family = name.substr(0, name.size() - s.size());
      }
    }
    REQUIRE(families.count(family) == 1);
    if (families[family] == "counter") CHECK(name.size() > 6);
    const std::string value = m[m.size() - 1];
    double v = value == "+Inf" ? INFINITY : std::stod(value);
    samples[name + std::string(m[2])] = v;
  }
  for (const auto& [name, type] : families) {
    if (type == "counter") CHECK(name.substr(name.size() - 6) == "_total");
    CHECK(name.rfind("licflow_", 0) == 0);
  }
  return samples;
}

}  // namespace

TEST_CASE("Prometheus text: families, escaped labels, histogram buckets", "[metrics]") {
  PrometheusText text;
  text.family("licflow_x_total", "counter", "X.");
  text.sample("licflow_x_total", {{"id", "a\"b\\c\nd"}}, uint64_t{7});
  LatencyHistogram h;
  h.observe(0.0003, 2);  // <= 0.0005
  h.observe(0.2, 1);     // <= 0.25
  h.observe(60, 1);      // +Inf only
  text.family("licflow_lat_seconds", "histogram", "L.");
  h.write(text, "licflow_lat_seconds", {{"sink", "s"}});
  const std::string out = text.take();
  CHECK(out.find("licflow_x_total{id=\"a\\\"b\\\\c\\nd\"} 7\n") != std::string::npos);
  auto samples = parse_prometheus(out);
  CHECK(samples["licflow_lat_seconds_bucket{sink=\"s\",le=\"0.00025\"}"] == 0);
  CHECK(samples["licflow_lat_seconds_bucket{sink=\"s\",le=\"0.0005\"}"] == 2);
  CHECK(samples["licflow_lat_seconds_bucket{sink=\"s\",le=\"0.1\"}"] == 2);
  CHECK(samples["licflow_lat_seconds_bucket{sink=\"s\",le=\"0.25\"}"] == 3);
  CHECK(samples["licflow_lat_seconds_bucket{sink=\"s\",le=\"10\"}"] == 3);
  CHECK(samples["licflow_lat_seconds_bucket{sink=\"s\",le=\"+Inf\"}"] == 4);
  CHECK(samples["licflow_lat_seconds_count{sink=\"s\"}"] == 4);
  CHECK(samples["licflow_lat_seconds_sum{sink=\"s\"}"] == Approx(60.2006));
}

TEST_CASE("http endpoint addresses are ADDR:PORT or an IPv6 address in brackets", "[metrics]") {
  std::string host;
  int port = -1;
  CHECK(split_host_port("127.0.0.1:9464", host, port));
  CHECK(host == "127.0.0.1");
  CHECK(port == 9464);
  CHECK(split_host_port("[::1]:0", host, port));
  CHECK(host == "::1");
  CHECK(port == 0);
  for (const char* bad : {"9464", ":9464", "host:", "host:x1", "host:70000", "host:-1"}) {
    INFO(bad);
    CHECK_FALSE(split_host_port(bad, host, port));
  }
}

TEST_CASE("GET /metrics counts what the running graph processed; GET /healthz answers",
          "[metrics][runtime]") {
  TempDir dir;
  const uint16_t tcp_port = free_port();
  auto plan = load_plan(
      "name: t\ndead_letter: {path: " + dir.file("dead.jsonl") + "}\n"
      "sources:\n  net: {type: tcp, listen: 127.0.0.1:" + std::to_string(tcp_port) + "}\n"
      "operators:\n"
      "  busy: {type: filter, input: net, where: \"type == 'checkout'\"}\n"
      "  lanes:\n    type: route\n    input: busy\n    routes: {big: count > 1}\n"
      "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") + ", input: [lanes.big, lanes.unmatched]}\n");
  std::atomic<bool> stop{false};
  std::atomic<int> http_port{0};
  Result<RunSummary> result = Status::error("not run");
  std::thread runner([&] {
    RunOptions options;
    options.stop = &stop;
    options.http_address = "127.0.0.1:0";
    options.on_http_ready = [&](int port) { http_port = port; };
    result = run_plan(*plan, options);
  });
  // 300 checkouts (100 with count 2), 200 checkins, 2 bad lines.
  std::string text;
  for (int i = 0; i < 500; ++i) {
    text += "{\"ts\":" + std::to_string(1000 + i) + ",\"type\":\"" +
            (i % 5 < 3 ? "checkout" : "checkin") + "\",\"feature\":\"f\"" +
            (i % 5 == 0 ? ",\"count\":2" : "") + "}\n";
    if (i == 100 || i == 400) text += "{not json\n";
  }
  const int fd = connect_to(tcp_port);
  send_all(fd, text);
  ::close(fd);

  while (http_port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  httplib::Client client("127.0.0.1", http_port);
  std::map<std::string, double> m;
  for (int attempt = 0; attempt < 400; ++attempt) {  // until the graph has written everything
    auto res = client.Get("/metrics");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
    m = parse_prometheus(res->body);
    // A sink counts a record in when it formats it and its latency once it is written.
    if (m["licflow_sink_records_total{sink=\"out\",type=\"file\"}"] == 300 &&
        m["licflow_sink_latency_seconds_count{sink=\"out\"}"] == 300) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");
  auto posted = client.Post("/metrics", "x", "text/plain");
  REQUIRE(posted);
  CHECK(posted->status == 405);
  CHECK(posted->get_header_value("Allow") == "GET, HEAD");
  stop = true;
  runner.join();
  REQUIRE(result.is_ok());

  CHECK(m["licflow_source_events_total{source=\"net\"}"] == 500);
  CHECK(m["licflow_source_dead_letters_total{source=\"net\"}"] == 2);
  CHECK(m["licflow_source_watermark_seconds{source=\"net\"}"] == Approx(1.499));
  CHECK(m["licflow_operator_records_in_total{operator=\"busy\",type=\"filter\"}"] == 500);
  CHECK(m["licflow_operator_records_out_total{operator=\"busy\",port=\"out\"}"] == 300);
  CHECK(m["licflow_operator_records_in_total{operator=\"lanes\",type=\"route\"}"] == 300);
  CHECK(m["licflow_operator_records_out_total{operator=\"lanes\",port=\"big\"}"] == 100);
  CHECK(m["licflow_operator_records_out_total{operator=\"lanes\",port=\"unmatched\"}"] == 200);
  CHECK(m["licflow_sink_records_total{sink=\"out\",type=\"file\"}"] == 300);
  CHECK(m["licflow_sink_latency_seconds_count{sink=\"out\"}"] == 300);
  CHECK(m["licflow_sink_latency_seconds_bucket{sink=\"out\",le=\"+Inf\"}"] == 300);
  CHECK(m["licflow_ingest_chunks_capacity"] == 16);
  CHECK(m.count("licflow_operator_busy_seconds_total{operator=\"busy\"}") == 1);
  CHECK(m.count("licflow_operator_late_records_total{operator=\"lanes\"}") == 1);
}

TEST_CASE("licflow run --http refuses a malformed address with exit code 2", "[metrics][cli]") {
  auto r = run_command(std::string(LICFLOW_BINARY) + " run " + LICFLOW_SOURCE_DIR +
                       "/pipelines/denials.yaml --input /dev/null --http 9464");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--http: expected ADDR:PORT") != std::string::npos);
}

TEST_CASE("licflow run --metrics-file writes the final metrics; the summary shows peak memory",
          "[metrics][cli]") {
  TempDir dir;
  write_file(dir.file("p.yaml"),
             "name: m\ndead_letter: {path: " + dir.file("dead.jsonl") + "}\n"
             "sources:\n  events: {type: file, path: " + dir.file("in.jsonl") + "}\n"
             "operators:\n  denials: {type: filter, input: events, where: \"type == 'denied'\"}\n"
             "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") + ", input: denials}\n");
  write_file(dir.file("in.jsonl"),
             "{\"ts\":1,\"type\":\"denied\",\"feature\":\"f\"}\n"
             "{\"ts\":2,\"type\":\"checkout\",\"feature\":\"f\"}\n"
             "oops\n"
             "{\"ts\":3,\"type\":\"denied\",\"feature\":\"g\"}\n");
  auto r = run_command(std::string(LICFLOW_BINARY) + " run " + dir.file("p.yaml") +
                       " --metrics-file " + dir.file("final.prom"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("peak memory (RSS)") != std::string::npos);
  auto m = parse_prometheus(read_file(dir.file("final.prom")));
  CHECK(m["licflow_source_events_total{source=\"events\"}"] == 3);
  CHECK(m["licflow_source_dead_letters_total{source=\"events\"}"] == 1);
  CHECK(m["licflow_operator_records_out_total{operator=\"denials\",port=\"out\"}"] == 2);
  CHECK(m["licflow_sink_latency_seconds_count{sink=\"out\"}"] == 2);

  // The shipped Grafana dashboard plots only metrics the node exports.
  const std::string text = read_file(dir.file("final.prom"));
  const std::string dashboard = read_file(std::string(LICFLOW_SOURCE_DIR) +
                                          "/pipelines/grafana-dashboard.json");
  static const std::regex metric_name("licflow_[a-z_]+");
  int plotted = 0;
  for (std::sregex_iterator it(dashboard.begin(), dashboard.end(), metric_name), end; it != end;
       ++it, ++plotted) {
    INFO(it->str());
    CHECK(text.find("# TYPE " + std::regex_replace(it->str(), std::regex("_bucket$"), "")) !=
          std::string::npos);
  }
  CHECK(plotted >= 10);
}

TEST_CASE("late records are counted per operator, in the metrics and on the summary row",
          "[metrics][cli][late][spec-2]") {
  TempDir dir;
  write_file(dir.file("p.yaml"),
             "name: l\ntime: {allowed_lateness: 1h}\n"
             "sources:\n  events: {type: file, path: " + dir.file("in.jsonl") + "}\n"
             "operators:\n  hourly: {type: window, input: events, size: 1h, "
             "aggregates: {n: count()}}\n"
             "sinks:\n  out: {type: file, path: " + dir.file("out.jsonl") +
             ", input: [hourly, hourly.late]}\n");
  // At 10:00 (36,000,000 ms) the watermark passes 09:xx, whose window is kept until 11:00:
  // 09:30 is late and re-emits it; 07:30's window is gone, so it goes to `late`.
  write_file(dir.file("in.jsonl"),
             "{\"ts\":32400000,\"type\":\"metric\"}\n"
             "{\"ts\":36000000,\"type\":\"metric\"}\n"
             "{\"ts\":34200000,\"type\":\"metric\"}\n"
             "{\"ts\":27000000,\"type\":\"metric\"}\n");
  auto r = run_command(std::string(LICFLOW_BINARY) + " run " + dir.file("p.yaml") +
                       " --metrics-file " + dir.file("final.prom"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto m = parse_prometheus(read_file(dir.file("final.prom")));
  CHECK(m["licflow_operator_late_records_total{operator=\"hourly\"}"] == 2);
  CHECK(m["licflow_operator_records_out_total{operator=\"hourly\",port=\"late\"}"] == 1);
  CHECK(r.err.find("late 2") != std::string::npos);
}

TEST_CASE("every record a sink writes is in its latency histogram: held, trickled, flushed",
          "[metrics][cli][express]") {
  // A live trickle on stdin runs as express chunks; what license_state holds is released by the
  // watermark marker behind each one, and the window's last output by the end of input.
  TempDir dir;
  write_file(dir.file("p.yaml"),
             "name: l\nsources:\n  ev: {type: stdin}\n"
             "operators:\n  ls: {type: license_state, input: ev}\n"
             "  w: {type: window, input: ev, size: 1m, aggregates: {n: count()}}\n"
             "sinks:\n  direct: {type: file, path: " + dir.file("a.jsonl") + ", input: ev}\n"
             "  held: {type: file, path: " + dir.file("b.jsonl") + ", input: ls}\n"
             "  windows: {type: file, path: " + dir.file("c.jsonl") + ", input: w}\n");
  auto r = run_command(
      "(echo '{\"ts\":1000,\"type\":\"denied\",\"feature\":\"A\"}'; sleep 0.3; "
      "echo '{\"ts\":61000,\"type\":\"denied\",\"feature\":\"A\"}'; sleep 0.3; "
      "echo '{\"ts\":62000,\"type\":\"denied\",\"feature\":\"A\"}') | " +
      std::string(LICFLOW_BINARY) + " run " + dir.file("p.yaml") + " --metrics-file " +
      dir.file("final.prom"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto m = parse_prometheus(read_file(dir.file("final.prom")));
  CHECK(m["licflow_sink_latency_seconds_count{sink=\"direct\"}"] == 3);
  CHECK(m["licflow_sink_latency_seconds_count{sink=\"held\"}"] == 3);
  CHECK(read_lines(dir.file("c.jsonl")).size() == 2);
  CHECK(m["licflow_sink_latency_seconds_count{sink=\"windows\"}"] == 2);
}
