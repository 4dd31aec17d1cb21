// The webhook sink (SPEC §6); see webhook_sink.cpp for its delivery rules.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/sinks/sink.h"

namespace licflow {

// Record counts since open(), for /metrics.
struct WebhookStats {
  uint64_t delivered = 0;      // acknowledged by the endpoint with 2xx
  uint64_t retries = 0;        // failed attempts that were tried again
  uint64_t dead_lettered = 0;  // given up: buffer full, rejected, retries exhausted, closed
  uint64_t buffered = 0;       // waiting or in flight
};

class WebhookSink : public Sink {
 public:
  using Sink::Sink;
  // Thread-safe; the counts are read one by one, so they need not add up at an instant.
  virtual WebhookStats stats() const = 0;
};

std::unique_ptr<Sink> make_webhook_sink_from_config(NodeConfig& config);

}  // namespace licflow
