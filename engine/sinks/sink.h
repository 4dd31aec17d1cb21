// Sink: where results go (SPEC §6). Every record is written with `stream` set to the name of the
// stream that produced it (`id` or `id.port`).
//
// Threading contract: the runtime calls open(), write() and close() of one sink from one thread at
// a time (each sink is a serial node), in stream order.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/node_config.h"
#include "engine/batch.h"
#include "engine/status.h"

namespace licflow {

class Sink {
 public:
  explicit Sink(std::string id) : id_(std::move(id)) {}
  virtual ~Sink() = default;
  const std::string& id() const { return id_; }

  virtual Status open() = 0;
  // A failed write is reported by the runtime and fails the run (exit code 1); it never stalls it.
  virtual Status write(const Batch& batch, std::string_view stream) = 0;
  virtual Status close() = 0;

 private:
  std::string id_;
};

struct SinkType {
  std::string_view name;
  std::string_view summary;
  std::vector<std::string> keys;  // allowed keys besides `type` and `input`
  std::unique_ptr<Sink> (*make)(NodeConfig& config);
};

const std::vector<SinkType>& sink_types();
const SinkType* find_sink_type(std::string_view name);

}  // namespace licflow
