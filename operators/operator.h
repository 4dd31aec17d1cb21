// Operator: the base interface every SPEC §5 operator implements.
//
// Threading contract: the runtime calls process() and finish() of one instance from one thread at
// a time (each operator is a serial node), in the order its input batches were produced, so an
// operator needs no locking for its own state. Different operators run concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/batch.h"

namespace licflow {

// Where an operator's output goes. `port` indexes Operator::ports().
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void emit(size_t port, BatchPtr batch) = 0;
  void emit(size_t port, Batch&& batch) {
    emit(port, std::make_shared<const Batch>(std::move(batch)));
  }
};

class Operator {
 public:
  virtual ~Operator() = default;

  // Output port names; index 0 is the default port unless the operator has none named `out`.
  const std::vector<std::string>& ports() const { return ports_; }

  // Processes one input batch. `input` indexes the operator's `input:` list.
  virtual void process(size_t input, const BatchPtr& batch, Emitter& out) = 0;
  // End of input (SPEC §2): flush whatever is held. Called once, after every input has ended.
  virtual void finish(Emitter& out) {}
  // True for a `route` priority lane: everything fed by it is scheduled ahead of bulk work.
  virtual bool is_priority_port(size_t port) const { return false; }

  // Records this operator skipped for lacking a key field, or otherwise counted and dropped.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 protected:
  explicit Operator(std::vector<std::string> ports) : ports_(std::move(ports)) {}
  void count_dropped(uint64_t n) { dropped_.fetch_add(n, std::memory_order_relaxed); }

 private:
  std::vector<std::string> ports_;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace licflow
