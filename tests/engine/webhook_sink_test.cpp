// The webhook sink (SPEC §6): batching, retries with backoff, timeouts, a dead endpoint that
// never stalls the pipeline, buffer overflow and refusals going to the dead-letter file.
#include "engine/sinks/webhook_sink.h"

#include <httplib.h>
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/dead_letter.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;
using Catch::Matchers::Contains;

namespace {

// The `n` of each record in a JSON array of records, in order (fails on invalid JSON).
std::vector<int64_t> numbers_in(const std::string& body, const std::string& stream = "s") {
  simdjson::dom::parser parser;
  simdjson::dom::array records;
  REQUIRE(parser.parse(body).get_array().get(records) == simdjson::SUCCESS);
  std::vector<int64_t> out;
  for (simdjson::dom::element r : records) {
    CHECK(std::string(r["stream"].get_string().value()) == stream);
    out.push_back(r["n"].get_int64().value());
  }
  return out;
}

std::vector<int64_t> iota(int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t i = from; i < to; ++i) out.push_back(i);
  return out;
}

// Records {"ts": i, "type": "metric", "n": i} for i in [from, to), formatted as the sink does.
std::string formatted(Sink& sink, int64_t from, int64_t to) {
  std::string text;
  for (int64_t i = from; i < to; ++i) {
    text += "{\"ts\":" + std::to_string(i) + ",\"type\":\"metric\",\"n\":" + std::to_string(i) +
            "}\n";
  }
  std::string out;
  sink.format(records_from_jsonl(text), "s", out);
  return out;
}

std::unique_ptr<WebhookSink> make_webhook(const std::string& options) {
  Diagnostics diag;
  PipelineSettings settings;
  NodeConfig config("hook", YAML::Load("{type: webhook, " + options + "}"), diag, settings);
  auto sink = make_webhook_sink_from_config(config);
  INFO(diag.format());
  REQUIRE(sink);
  return std::unique_ptr<WebhookSink>(static_cast<WebhookSink*>(sink.release()));
}

// A dead letter written by the sink: its error and its record's `n`.
struct SinkDeadLetter {
  std::string error;
  int64_t n;
};

std::vector<SinkDeadLetter> sink_dead_letters(const std::string& path) {
  std::vector<SinkDeadLetter> out;
  simdjson::dom::parser parser;
  for (const std::string& line : read_lines(path)) {
    simdjson::dom::element d;
    REQUIRE(parser.parse(line).get(d) == simdjson::SUCCESS);
    CHECK(std::string(d["sink"].get_string().value()) == "hook");
    out.push_back({std::string(d["error"].get_string().value()), d["record"]["n"].get_int64()});
  }
  return out;
}

// A local endpoint at /hook. `respond(i)` gives the status of the i-th request (from 0) and may
// block; the bodies of requests answered 2xx are kept.
class TestEndpoint {
 public:
  explicit TestEndpoint(std::function<int(int)> respond = [](int) { return 200; })
      : respond_(std::move(respond)) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      int i;
      {
        std::lock_guard lock(mutex_);
        i = requests_++;
        content_types_.push_back(req.get_header_value("Content-Type"));
        authorizations_.push_back(req.get_header_value("Authorization"));
      }
      changed_.notify_all();
      res.status = respond_(i);
      res.set_content(res.status < 300 ? "ok" : "nope", "text/plain");
      std::lock_guard lock(mutex_);
      if (res.status < 300) bodies_.push_back(req.body);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~TestEndpoint() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  // Blocks until at least `n` requests have arrived.
  void wait_for_requests(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return requests_ >= n; });
  }
  bool wait_for_requests(int n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return requests_ >= n; });
  }
  int requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  std::vector<int64_t> delivered() {
    std::vector<int64_t> all;
    for (const std::string& body : bodies()) {
      for (int64_t n : numbers_in(body)) all.push_back(n);
    }
    return all;
  }
  std::vector<std::string> content_types_, authorizations_;  // read after close()

 private:
  std::function<int(int)> respond_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  int requests_ = 0;
  std::vector<std::string> bodies_;
};

}  // namespace

TEST_CASE("webhook delivers every record once, in order, in batches of at most batch_size",
          "[webhook][spec-6]") {
  TempDir dir;
  TestEndpoint endpoint;
  DeadLetterWriter dead(dir.file("dead.jsonl"));
  auto sink = make_webhook("url: '" + endpoint.url() +
                           "', batch_size: 64, headers: {Authorization: Bearer xyz}");
  sink->attach_dead_letters(dead);
  REQUIRE(sink->open().is_ok());
  for (int64_t i = 0; i < 1000; i += 100) {
    REQUIRE(sink->write(formatted(*sink, i, i + 100)).is_ok());
  }
  REQUIRE(sink->close().is_ok());

  CHECK(endpoint.delivered() == iota(0, 1000));
  auto bodies = endpoint.bodies();
  CHECK(bodies.size() >= 16);  // ceil(1000 / 64)
  for (const std::string& body : bodies) CHECK(numbers_in(body).size() <= 64);
  for (const std::string& type : endpoint.content_types_) CHECK(type == "application/json");
  for (const std::string& auth : endpoint.authorizations_) CHECK(auth == "Bearer xyz");
  WebhookStats s = sink->stats();
  CHECK(s.delivered == 1000);
  CHECK(s.retries == 0);
  CHECK(s.dead_lettered == 0);
  CHECK(s.buffered == 0);
  REQUIRE(dead.close().is_ok());
  CHECK_FALSE(std::filesystem::exists(dir.file("dead.jsonl")));
}

TEST_CASE("webhook retries 5xx, 429 and 408 with backoff and loses or doubles nothing",
          "[webhook][spec-6]") {
  TempDir dir;
  const int failing[] = {500, 429, 408};
  TestEndpoint endpoint([&](int i) { return i < 3 ? failing[i] : 200; });
  DeadLetterWriter dead(dir.file("dead.jsonl"));
  auto sink = make_webhook("url: '" + endpoint.url() + "', batch_size: 50, backoff: 10ms");
  sink->attach_dead_letters(dead);
  REQUIRE(sink->open().is_ok());
  REQUIRE(sink->write(formatted(*sink, 0, 120)).is_ok());
  REQUIRE(sink->write(formatted(*sink, 120, 200)).is_ok());
  REQUIRE(sink->close().is_ok());

  CHECK(endpoint.delivered() == iota(0, 200));
  CHECK(endpoint.requests() == static_cast<int>(endpoint.bodies().size()) + 3);
  WebhookStats s = sink->stats();
  CHECK(s.retries == 3);
  CHECK(s.delivered == 200);
  CHECK(s.dead_lettered == 0);
}

TEST_CASE("webhook gives up a request slower than timeout and sends it again",
          "[webhook][spec-6]") {
  TempDir dir;
  // The first request is held until a second one arrives, which only the client's timeout can
  // cause (no other request is in flight); it then fails, so only the retry counts.
  bool retried_while_pending = false;  // read once the endpoint (and its handlers) stopped
  std::unique_ptr<TestEndpoint> endpoint;
  endpoint = std::make_unique<TestEndpoint>([&](int i) {
    if (i == 0) retried_while_pending = endpoint->wait_for_requests(2, std::chrono::seconds(5));
    return i == 0 ? 503 : 200;
  });
  DeadLetterWriter dead(dir.file("dead.jsonl"));
  auto sink = make_webhook("url: '" + endpoint->url() + "', timeout: 300ms, backoff: 10ms");
  sink->attach_dead_letters(dead);
  REQUIRE(sink->open().is_ok());
  REQUIRE(sink->write(formatted(*sink, 0, 10)).is_ok());
  REQUIRE(sink->close().is_ok());
  const std::vector<int64_t> delivered = endpoint->delivered();
  endpoint.reset();

  CHECK(retried_while_pending);
  CHECK(delivered == iota(0, 10));
  CHECK(sink->stats().retries >= 1);
  CHECK(sink->stats().dead_lettered == 0);
}

TEST_CASE("webhook to a dead endpoint never stalls writes and dead-letters every record",
          "[webhook][spec-6][dead-letter]") {
  TempDir dir;
  const std::string url = "http://127.0.0.1:" + std::to_string(free_port()) + "/hook";
  DeadLetterWriter dead(dir.file("dead.jsonl"));
  auto sink = make_webhook("url: '" + url + "', max_retries: 2, backoff: 10ms, batch_size: 500");
  sink->attach_dead_letters(dead);
  REQUIRE(sink->open().is_ok());
  std::vector<std::string> chunks;
  for (int64_t i = 0; i < 10'000; i += 100) chunks.push_back(formatted(*sink, i, i + 100));
  auto start = std::chrono::steady_clock::now();
  for (const std::string& chunk : chunks) REQUIRE(sink->write(chunk).is_ok());
  // Loose on purpose: the point is that writes never wait for the endpoint's retries.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  REQUIRE(sink->close().is_ok());
  REQUIRE(dead.close().is_ok());

  auto letters = sink_dead_letters(dir.file("dead.jsonl"));
  std::vector<int64_t> ns;
  for (const SinkDeadLetter& d : letters) {
    ns.push_back(d.n);
    CHECK_THAT(d.error, Contains("connection error"));
  }
  std::sort(ns.begin(), ns.end());
  CHECK(ns == iota(0, 10'000));
  WebhookStats s = sink->stats();
  CHECK(s.delivered == 0);
  CHECK(s.dead_lettered == 10'000);
  CHECK(s.buffered == 0);
}

TEST_CASE("webhook dead-letters the incoming records when its buffer is full",
          "[webhook][spec-6][dead-letter]") {
  TempDir dir;
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  TestEndpoint endpoint([&](int i) {
    std::unique_lock lock(mutex);
    if (i == 0) cv.wait(lock, [&] { return release; });
    return 200;
  });
  DeadLetterWriter dead(dir.file("dead.jsonl"));
  auto sink = make_webhook("url: '" + endpoint.url() + "', buffer: 10, batch_size: 5");
  sink->attach_dead_letters(dead);
  REQUIRE(sink->open().is_ok());
  REQUIRE(sink->write(formatted(*sink, 0, 1)).is_ok());
  endpoint.wait_for_requests(1);  // record 0 is in flight and holds a place in the buffer
  REQUIRE(sink->write(formatted(*sink, 1, 21)).is_ok());
  CHECK(sink->stats().buffered == 10);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  REQUIRE(sink->close().is_ok());
  REQUIRE(dead.close().is_ok());

  CHECK(endpoint.delivered() == iota(0, 10));
  auto letters = sink_dead_letters(dir.file("dead.jsonl"));
  REQUIRE(letters.size() == 11);
  for (size_t i = 0; i < letters.size(); ++i) {
    CHECK(letters[i].n == static_cast<int64_t>(10 + i));
    CHECK(letters[i].error == "webhook buffer full");
  }
  CHECK(sink->stats().dead_lettered == 11);
}

TEST_CASE("webhook dead-letters a batch refused with 400 without retrying",
          "[webhook][spec-6][dead-letter]") {
  TempDir dir;
  TestEndpoint endpoint([](int) { return 400; });
  DeadLetterWriter dead(dir.file("dead.jsonl"));
  auto sink = make_webhook("url: '" + endpoint.url() + "', max_retries: 5, backoff: 10ms");
  sink->attach_dead_letters(dead);
  REQUIRE(sink->open().is_ok());
  REQUIRE(sink->write(formatted(*sink, 0, 3)).is_ok());
  REQUIRE(sink->close().is_ok());
  REQUIRE(dead.close().is_ok());

  auto letters = sink_dead_letters(dir.file("dead.jsonl"));
  REQUIRE(letters.size() == 3);
  for (size_t i = 0; i < letters.size(); ++i) {
    CHECK(letters[i].n == static_cast<int64_t>(i));
    CHECK(letters[i].error == "webhook endpoint refused: HTTP 400: nope");
  }
  CHECK(sink->stats().retries == 0);
  CHECK(endpoint.requests() <= 3);  // one request per batch, never one more
}

TEST_CASE("webhook options are checked", "[webhook][spec-6][config]") {
  auto errors_for = [](const std::string& options) {
    return pipeline_errors("name: t\nsources:\n  events: {type: stdin}\nsinks:\n"
                           "  hook:\n    type: webhook\n    input: events\n" + options);
  };
  using Case = std::pair<std::string, std::string>;
  for (const auto& [options, message] : {
           Case{"", "`hook`: missing required key `url`"},
           Case{"    url: ftp://x/y\n", "must start with http:// or https://"},
           Case{"    url: http:///hook\n", "the URL has no host"},
           Case{"    url: http://h:99999/\n", "bad port `99999`"},
           Case{"    url: http://u:p@h/\n", "credentials in the URL"},
           Case{"    url: http://h/\n    timeout: 5 parsecs\n", "bad duration `5 parsecs`"},
           Case{"    url: http://h/\n    backoff: 0s\n", "`backoff` must be longer than 0"},
           Case{"    url: http://h/\n    batch_size: 0\n", "`batch_size` must be an integer >= 1"},
           Case{"    url: http://h/\n    headers: [a]\n", "`headers` must be a map"},
           Case{"    url: http://h/\n    headers: {Content-Type: text/plain}\n",
                "header `Content-Type` is set by the sink"},
       }) {
    INFO(options);
    auto errors = errors_for(options);
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0], Contains(message));
  }
  CHECK(errors_for("    url: https://[::1]:8443/a?b=c\n    headers: {X-Key: k}\n").empty());
}

TEST_CASE("a pipeline's webhook sink delivers records and dead-letters into the pipeline's file",
          "[webhook][spec-6][runtime]") {
  TempDir dir;
  TestEndpoint endpoint([](int) { return 200; });
  const std::string dead_port = std::to_string(free_port());
  std::string input;
  for (int i = 0; i < 50; ++i) {
    input += "{\"ts\":" + std::to_string(i) + ",\"type\":\"metric\",\"n\":" + std::to_string(i) +
             "}\n";
  }
  write_file(dir.file("in.jsonl"), input);
  auto plan = load_plan("name: t\n"
                        "dead_letter: {path: " + dir.file("dead.jsonl") + "}\n"
                        "sources:\n  s: {type: file, path: " + dir.file("in.jsonl") + "}\n"
                        "sinks:\n"
                        "  hook: {type: webhook, input: s, url: '" + endpoint.url() + "'}\n"
                        "  down: {type: webhook, input: s, max_retries: 1, backoff: 10ms, "
                        "url: 'http://127.0.0.1:" + dead_port + "/'}\n");
  RunOptions options;
  options.metrics_file = dir.file("final.prom");
  auto result = run_plan(*plan, options);
  INFO(result.status().message());
  REQUIRE(result.is_ok());

  CHECK(endpoint.delivered() == iota(0, 50));
  const std::string metrics = read_file(dir.file("final.prom"));
  CHECK_THAT(metrics, Contains("licflow_webhook_delivered_records_total{sink=\"hook\"} 50\n"));
  CHECK_THAT(metrics, Contains("licflow_webhook_delivered_records_total{sink=\"down\"} 0\n"));
  CHECK_THAT(metrics, Contains("licflow_webhook_dead_lettered_records_total{sink=\"down\"} 50\n"));
  CHECK_THAT(metrics, Contains("licflow_webhook_retries_total{sink=\"hook\"} 0\n"));
  auto dead = read_lines(dir.file("dead.jsonl"));
  REQUIRE(dead.size() == 50);
  CHECK_THAT(dead[0], Contains("{\"sink\":\"down\",\"error\":\"webhook delivery failed after 2 "
                               "attempts: connection error: "));
  CHECK_THAT(dead[0], Contains(",\"record\":{\"stream\":\"s\","));
  // The run's summary counts them too: dead letters are never silent.
  const std::string summary = format_summary(*plan, result.value());
  CHECK_THAT(summary, Contains("dead letters written to " + dir.file("dead.jsonl")));
  CHECK_THAT(summary, Contains("dead-lettered 50\n"));
  CHECK_THAT(summary, Contains(", 50 dead letters (0 bad lines, 50 records sinks gave up)\n"));
  CHECK_THAT(summary, Contains("in           50  delivered           50\n"));  // hook
  CHECK_THAT(summary, Contains("in           50  delivered            0  dead-lettered 50\n"));
}

TEST_CASE("webhook: a checkpoint keeps the records not yet delivered, and a restart sends them",
          "[webhook][spec-6][spec-7]") {
  // The endpoint is down while records are written and a checkpoint is taken; the process then
  // dies (the sink is dropped without close()). Restored from the checkpoint, a new sink sends
  // them, in order, before anything written after the restart.
  const uint16_t port = free_port();
  const std::string options =
      "url: 'http://127.0.0.1:" + std::to_string(port) + "/hook', backoff: 10s, batch_size: 7";
  std::string state;
  {
    auto sink = make_webhook(options);
    REQUIRE(sink->open().is_ok());
    REQUIRE(sink->write(formatted(*sink, 0, 20)).is_ok());
    StateWriter w;
    REQUIRE(sink->save_state(w).is_ok());
    state = w.take();
  }
  TestEndpoint endpoint;
  auto restored = make_webhook("url: '" + endpoint.url() + "', batch_size: 7");
  StateReader in(state);
  restored->load_state(in);
  REQUIRE_FALSE(in.failed());
  REQUIRE(in.at_end());
  REQUIRE(restored->open().is_ok());
  REQUIRE(restored->write(formatted(*restored, 20, 25)).is_ok());
  REQUIRE(restored->close().is_ok());
  CHECK(endpoint.delivered() == iota(0, 25));
  CHECK(restored->stats().delivered == 25);
}
