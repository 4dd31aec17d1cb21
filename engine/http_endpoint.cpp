#include "engine/http_endpoint.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <thread>

namespace licflow {

struct HttpEndpoint::Impl {
  httplib::Server server;
  std::thread thread;
};

bool split_host_port(const std::string& address, std::string& host, int& port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const char* first = address.data() + colon + 1;
  const char* last = address.data() + address.size();
  auto [end, ec] = std::from_chars(first, last, port);
  return ec == std::errc() && end == last && first != last && port >= 0 && port <= 65535;
}

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::start(const std::string& address,
                                                          std::function<std::string()> metrics) {
  std::string host;
  int port = 0;
  if (!split_host_port(address, host, port)) {
    return Status::error("--http: expected ADDR:PORT, got `" + address + "`");
  }
  std::unique_ptr<HttpEndpoint> endpoint(new HttpEndpoint());
  endpoint->impl_ = std::make_unique<Impl>();
  httplib::Server& server = endpoint->impl_->server;
  server.Get("/metrics", [metrics = std::move(metrics)](const httplib::Request&,
                                                        httplib::Response& res) {
    res.set_content(metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  // Both are read-only: another method gets 405 with the method that works, as HTTP asks (RFC
  // 9110 §15.5.6), not cpp-httplib's 404 or 400.
  const auto get_only = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content("method not allowed: use GET\n", "text/plain");
  };
  for (const char* path : {"/metrics", "/healthz"}) {
    server.Post(path, get_only);
    server.Put(path, get_only);
    server.Patch(path, get_only);
    server.Delete(path, get_only);
  }
  const int bound = port == 0 ? server.bind_to_any_port(host) : server.bind_to_port(host, port)
                                                                    ? port
                                                                    : -1;
  if (bound < 0) return Status::error("--http: cannot listen on " + address);
  endpoint->port_ = bound;
  endpoint->impl_->thread = std::thread([&server] { server.listen_after_bind(); });
  spdlog::info("serving /metrics and /healthz on http://{}:{}", host, bound);
  return endpoint;
}

void HttpEndpoint::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

HttpEndpoint::~HttpEndpoint() { stop(); }

}  // namespace licflow
