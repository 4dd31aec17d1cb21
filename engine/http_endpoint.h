// HttpEndpoint: `licflow run --http ADDR:PORT` (SPEC §8) — GET /metrics in the Prometheus text
// format and GET /healthz, served by cpp-httplib on its own threads, off the data path.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/status.h"

namespace licflow {

class HttpEndpoint {
 public:
  ~HttpEndpoint();
  // Binds ADDR:PORT (port 0 picks a free one) and starts serving. `metrics` renders the body of
  // GET /metrics; it is called from the server's threads.
  static Result<std::unique_ptr<HttpEndpoint>> start(const std::string& address,
                                                    std::function<std::string()> metrics);
  int port() const { return port_; }
  // Stops serving and waits for the server thread; also done by the destructor.
  void stop();

 private:
  struct Impl;
  HttpEndpoint() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// Splits "ADDR:PORT" ("[v6]:PORT" too). Returns false when it is not of that form.
bool split_host_port(const std::string& address, std::string& host, int& port);

}  // namespace licflow
