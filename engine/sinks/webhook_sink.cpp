// webhook sink: SPEC §6 "POSTs batches of JSON records to a URL with retries and backoff; a dead
// endpoint never stalls the pipeline and never loses a record silently".
//
// Readings where SPEC is silent (after Vector's http sink and Prometheus remote write):
// - Options: `url` (http:// or https://, required), `batch_size` (records per POST, default 500),
//   `timeout` (default 5s), `max_retries` (default 5), `backoff` (default 500ms), `buffer`
//   (records, default 100000) and `headers` (a map, e.g. Authorization).
// - Body: a JSON array of records, each as the jsonl sinks write it (with "stream"), in the order
//   the sink received them, at most `batch_size` per POST; Content-Type application/json. A batch
//   holds what is buffered when the previous POST ends, so a quiet stream is sent without delay.
// - write() only appends to a bounded in-memory buffer; a background thread per sink delivers, so
//   a slow or dead endpoint never stalls the pipeline. `buffer` counts records waiting and in
//   flight. When it is full the incoming records are given up (Vector's `when_full:
//   drop_newest`): they go to the dead-letter file with the error "webhook buffer full".
// - 2xx is delivered. 408, 429, 5xx, timeouts and connection errors are retried up to
//   `max_retries` times, waiting `backoff` before the first retry and twice as long before each
//   next one, at most 30s (or `backoff` when that is longer). Any other status (other 4xx;
//   redirects are not followed) is final: the batch is dead-lettered at once. A batch still
//   failing after its retries is dead-lettered with the last error and the next batch is tried.
// - Delivery is at least once: a request that timed out may have reached the endpoint and is sent
//   again. `timeout` bounds connecting and each wait for the endpoint, not the whole request.
// - close() (end of input, clean stop) delivers what is buffered. Once a batch exhausts its
//   retries after close() began, the endpoint counts as down and everything still buffered is
//   dead-lettered at once, so stopping waits at most one retry cycle beyond working deliveries.
// - A dead letter is {"sink": ID, "error": "…", "record": {…}}, in the pipeline's dead-letter
//   file.
// - Checkpoints save the records not yet delivered (buffered and in flight), and a restart from
//   the checkpoint sends them first: after `kill -9` nothing is lost. Delivery stays at least
//   once: what was delivered after the last checkpoint is sent again.
#include "engine/sinks/webhook_sink.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "engine/dead_letter.h"
#include "engine/json_writer.h"

namespace licflow {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kMaxBackoffMs = 30'000;

struct WebhookOptions {
  std::string url;
  std::string origin;  // scheme://host[:port]
  std::string target;  // path and query, at least "/"
  size_t batch_size = 500;
  int64_t timeout_ms = 5'000;
  int64_t max_retries = 5;
  int64_t backoff_ms = 500;
  size_t buffer = 100'000;
  httplib::Headers headers;
};

// Splits an http(s) URL into origin and target; returns an explanation when it is not one.
std::string split_url(WebhookOptions& o) {
  std::string_view url = o.url;
  size_t scheme_end = url.find("://");
  std::string_view scheme = scheme_end == std::string_view::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return "the URL must start with http:// or https://";
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));  // a fragment is never sent
  size_t authority_end = std::min(rest.find('/'), rest.find('?'));
  std::string_view authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return "credentials in the URL are not supported; put them in `headers`";
  }
  size_t host_end = authority.empty() || authority[0] != '[' ? authority.rfind(':')
                                                             : authority.find("]:");
  if (host_end != std::string_view::npos && authority[0] == '[') ++host_end;
  std::string_view host = authority.substr(0, host_end);
  if (host.empty() || host == "[]") return "the URL has no host";
  if (host_end != std::string_view::npos) {
    std::string_view port = authority.substr(host_end + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return "bad port `" + std::string(port) + "`";
    }
  }
  o.origin = std::string(scheme) + "://" + std::string(authority);
  o.target = authority_end == std::string_view::npos ? std::string("/")
                                                     : std::string(rest.substr(authority_end));
  if (o.target[0] == '?') o.target.insert(0, "/");
  return "";
}

// httplib names its errors tersely ("Read"); the dead-letter reason should say what happened.
std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return "cannot connect";
    case httplib::Error::ConnectionTimeout: return "connecting timed out";
    case httplib::Error::Read: return "no response (timed out or connection lost)";
    case httplib::Error::Write: return "sending failed (timed out or connection lost)";
    case httplib::Error::SSLConnection: return "TLS handshake failed";
    case httplib::Error::SSLServerVerification: return "the server's certificate is not trusted";
    default: return httplib::to_string(error);
  }
}

// Logs at most one warning per interval and says how many it held back. One thread per object.
class RateLimitedLog {
 public:
  template <typename... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) {
    auto now = Clock::now();
    if (logged_ && now - last_ < std::chrono::seconds(10)) {
      ++suppressed_;
      return;
    }
    std::string text = fmt::format(format, std::forward<Args>(args)...);
    if (suppressed_ > 0) text += fmt::format(" ({} similar warnings suppressed)", suppressed_);
    spdlog::warn("{}", text);
    logged_ = true;
    last_ = now;
    suppressed_ = 0;
  }

 private:
  bool logged_ = false;
  Clock::time_point last_;
  uint64_t suppressed_ = 0;
};

// The outcome of one POST.
struct Attempt {
  bool delivered = false;
  bool retryable = false;
  std::string error;  // "HTTP 503: …" or the connection error
};

class HttpWebhookSink final : public WebhookSink {
 public:
  HttpWebhookSink(std::string id, WebhookOptions options)
      : WebhookSink(std::move(id)), options_(std::move(options)) {}

  // Only reached without close() when the run failed before its sources started (nothing was
  // written), so this stops without dead-lettering: the writer may already be gone.
  ~HttpWebhookSink() override {
    if (!sender_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    sender_.join();
    if (buffered_ > 0) {
      spdlog::error("webhook `{}`: stopped without close(); {} records were not delivered", id(),
                    buffered_.load());
    }
  }

  void attach_dead_letters(DeadLetterWriter& writer) override { dead_letters_ = &writer; }

  Status open() override {
    client_ = std::make_unique<httplib::Client>(options_.origin);
    if (!client_->is_valid()) {
      return Status::error("webhook `" + id() + "`: cannot create an HTTP client for " +
                           options_.url);
    }
    const auto timeout = std::chrono::milliseconds(options_.timeout_ms);
    client_->set_connection_timeout(timeout);
    client_->set_read_timeout(timeout);
    client_->set_write_timeout(timeout);
    sender_ = std::thread([this] { run(); });
    return Status::ok();
  }

  bool parallel_format() const override { return true; }

  void format(std::span<const Record> records, std::string_view stream, std::string& out) override {
    for (const Record& r : records) {
      append_record_json(out, r, stream);
      out += '\n';
    }
  }

  // Never waits for the endpoint: appends to the buffer, or dead-letters what does not fit.
  Status write(std::string_view bytes) override {
    overflow_.clear();
    {
      std::lock_guard lock(mutex_);
      for (size_t pos = 0; pos < bytes.size();) {
        size_t end = std::min(bytes.find('\n', pos), bytes.size());
        std::string_view line = bytes.substr(pos, end - pos);
        pos = end + 1;
        if (line.empty()) continue;
        if (buffered_ < options_.buffer) {
          queue_.emplace_back(line);
          ++buffered_;
        } else {
          overflow_.push_back(line);
        }
      }
    }
    wake_.notify_one();
    for (std::string_view line : overflow_) dead_letter(line, "webhook buffer full");
    if (!overflow_.empty()) {
      overflow_log_.warn("webhook `{}`: buffer of {} records full; {} records dead-lettered", id(),
                         options_.buffer, overflow_.size());
    }
    return Status::ok();
  }

  Status close() override { return drain(); }

  // Lets the sender deliver (or dead-letter) what is queued, retries included, and stops it.
  Status drain() override {
    if (!sender_.joinable()) return Status::ok();
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    wake_.notify_all();
    sender_.join();
    WebhookStats s = stats();
    spdlog::info("webhook `{}`: {} records delivered, {} attempts retried, {} dead-lettered", id(),
                 s.delivered, s.retries, s.dead_lettered);
    return Status::ok();
  }

  // Checkpoints (SPEC §7): the records not yet delivered, in order; taken while the graph is
  // paused, so no write() runs, but the sender may be delivering: what it has in flight counts.
  bool can_resume() const override { return true; }
  Status save_state(StateWriter& out) override {
    std::lock_guard lock(mutex_);
    out.u64(in_flight_.size() + queue_.size());
    for (const std::string& r : in_flight_) out.str(r);
    for (const std::string& r : queue_) out.str(r);
    return Status::ok();
  }
  // Before open(): the saved records go first.
  void load_state(StateReader& in) override {
    std::lock_guard lock(mutex_);
    for (uint64_t n = in.count(8); n > 0 && !in.failed(); --n) queue_.push_back(in.str());
    buffered_ = queue_.size();
  }

  WebhookStats stats() const override {
    return {delivered_.load(), retries_.load(), dead_lettered_.load(), buffered_.load()};
  }

 private:
  // The sender thread: takes up to batch_size records at a time until closed and drained.
  void run() {
    // The batch is in_flight_, written under the lock only; save_state() reads it as well.
    const std::vector<std::string>& batch = in_flight_;
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return !queue_.empty() || closing_ || stopping_; });
      if (queue_.empty() || stopping_) return;
      const size_t n = std::min(queue_.size(), options_.batch_size);
      in_flight_.assign(std::make_move_iterator(queue_.begin()),
                        std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
      const bool endpoint_down = endpoint_down_;
      const std::string last_error = last_error_;
      lock.unlock();
      if (endpoint_down) {
        for (const std::string& r : batch) {
          dead_letter(r, "webhook closed while the endpoint was failing: " + last_error);
        }
      } else if (!deliver(batch)) {
        return;  // stopping; the batch stays counted in buffered_
      }
      lock.lock();
      in_flight_.clear();
      buffered_ -= n;
    }
  }

  // Sends one batch until it is delivered or given up; false when stopped in between.
  bool deliver(const std::vector<std::string>& batch) {
    std::string body = "[";
    for (const std::string& r : batch) {
      if (body.size() > 1) body += ',';
      body += r;
    }
    body += ']';
    int64_t backoff_ms = options_.backoff_ms;
    for (int64_t attempt = 0;; ++attempt) {
      Attempt a = post(body);
      if (a.delivered) {
        delivered_ += batch.size();
        return true;
      }
      const bool retry = a.retryable && attempt < options_.max_retries;
      attempt_log_.warn("webhook `{}`: POST of {} records to {} failed: {}{}", id(), batch.size(),
                        options_.url, a.error, retry ? "; will retry" : "; dead-lettering them");
      if (!a.retryable) {
        for (const std::string& r : batch) dead_letter(r, "webhook endpoint refused: " + a.error);
        return true;
      }
      if (!retry) {
        const std::string error = "webhook delivery failed after " +
                                  std::to_string(attempt + 1) + " attempts: " + a.error;
        for (const std::string& r : batch) dead_letter(r, error);
        std::lock_guard lock(mutex_);
        if (closing_) {
          endpoint_down_ = true;
          last_error_ = a.error;
        }
        return true;
      }
      ++retries_;
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] { return stopping_; })) {
        return false;
      }
      backoff_ms = std::min(backoff_ms * 2, std::max(kMaxBackoffMs, options_.backoff_ms));
    }
  }

  Attempt post(const std::string& body) {
    httplib::Result res =
        client_->Post(options_.target, options_.headers, body, "application/json");
    if (!res) return {false, true, "connection error: " + describe(res.error())};
    const int status = res->status;
    if (status >= 200 && status < 300) return {true, false, ""};
    std::string error = "HTTP " + std::to_string(status);
    if (!res->body.empty()) {
      error += ": " + dead_letter_raw(std::string_view(res->body).substr(0, 200));
    }
    return {false, status == 408 || status == 429 || status >= 500, std::move(error)};
  }

  // Called from write() and the sender thread.
  void dead_letter(std::string_view record, const std::string& error) {
    ++dead_lettered_;
    Status st = dead_letters_ != nullptr
                    ? dead_letters_->write_record(id(), error, record)
                    : Status::error("no dead-letter file attached");
    if (!st.is_ok() && !dead_letter_failed_.exchange(true)) {
      spdlog::error("webhook `{}`: cannot dead-letter records: {}", id(), st.message());
    }
  }

  const WebhookOptions options_;
  DeadLetterWriter* dead_letters_ = nullptr;
  std::unique_ptr<httplib::Client> client_;  // sender thread only
  std::thread sender_;

  std::mutex mutex_;
  std::condition_variable wake_;
  // Guarded by mutex_.
  std::deque<std::string> queue_;
  std::vector<std::string> in_flight_;  // the batch being delivered (the sender reads it unlocked)
  bool closing_ = false;
  bool stopping_ = false;
  bool endpoint_down_ = false;  // a batch exhausted its retries after close() began
  std::string last_error_;

  std::atomic<uint64_t> delivered_{0}, retries_{0}, dead_lettered_{0}, buffered_{0};
  std::atomic<bool> dead_letter_failed_{false};
  std::vector<std::string_view> overflow_;  // write() only
  RateLimitedLog overflow_log_;             // write() only
  RateLimitedLog attempt_log_;              // sender thread only
};

}  // namespace

std::unique_ptr<Sink> make_webhook_sink_from_config(NodeConfig& config) {
  WebhookOptions o;
  const std::string& id = config.id();
  if (auto url = config.get_string("url", true)) {
    o.url = *url;
    std::string why = split_url(o);
    if (!why.empty()) config.error("url", "`" + id + "`: bad url `" + o.url + "`: " + why);
  }
  if (auto v = config.get_int("batch_size", 1, false)) o.batch_size = static_cast<size_t>(*v);
  if (auto v = config.get_int("max_retries", 0, false)) o.max_retries = *v;
  if (auto v = config.get_int("buffer", 1, false)) o.buffer = static_cast<size_t>(*v);
  for (auto [key, target] : {std::pair{"timeout", &o.timeout_ms}, {"backoff", &o.backoff_ms}}) {
    auto ms = config.get_duration(key, false);
    if (ms && *ms <= 0) config.error(key, "`" + id + "`: `" + key + "` must be longer than 0");
    if (ms) *target = *ms;
  }
  if (config.has("headers")) {
    const YAML::Node headers = config.node()["headers"];
    if (!headers.IsMap()) {
      config.error("headers", "`" + id + "`: `headers` must be a map of header names to values");
    } else {
      for (const auto& h : headers) {
        const std::string name = h.first.Scalar();
        if (!h.second.IsScalar()) {
          config.diag().error(h.second.Mark(), "`" + id + "`: header `" + name +
                                                   "` must have a single value");
        } else if (strcasecmp(name.c_str(), "Content-Type") == 0 ||
                   strcasecmp(name.c_str(), "Content-Length") == 0) {
          config.diag().error(h.first.Mark(), "`" + id + "`: header `" + name +
                                                  "` is set by the sink");
        } else {
          o.headers.emplace(name, h.second.Scalar());
        }
      }
    }
  }
  if (config.failed()) return nullptr;
  return std::make_unique<HttpWebhookSink>(id, std::move(o));
}

}  // namespace licflow
