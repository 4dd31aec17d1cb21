// Operator: the base interface every SPEC §5 operator implements.
//
// Threading contract: the runtime calls process() and finish() of one instance from one thread at
// a time (each operator is a serial node), in the order its input batches were produced, so an
// operator needs no locking for its own state. Different operators run concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/batch.h"
#include "engine/spill_store.h"
#include "engine/state_codec.h"

namespace licflow {

// Where an operator's output goes. `port` indexes Operator::ports().
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void emit(size_t port, BatchPtr batch) = 0;
  // A new batch inherits the ingest time of the input being processed, so the sinks' latency
  // histograms measure from the read of the chunk that caused the output.
  virtual void emit(size_t port, Batch&& batch) {
    if (batch.ingest_ns == 0) batch.ingest_ns = ingest_ns_;
    // Created mutable, so that a sole consumer may move its records out (records_to_move).
    emit(port, std::make_shared<Batch>(std::move(batch)));
  }

 protected:
  int64_t ingest_ns_ = 0;
};

class Operator {
 public:
  virtual ~Operator() = default;

  // Output port names; index 0 is the default port unless the operator has none named `out`.
  const std::vector<std::string>& ports() const { return ports_; }

  // Processes one input batch. `input` indexes the operator's `input:` list. When `batch` is
  // its only reference, the operator may move records out of it (records_to_move): the caller
  // must not read the records of a batch it handed over, only count them.
  virtual void process(size_t input, const BatchPtr& batch, Emitter& out) = 0;
  // End of input (SPEC §2): flush whatever is held. Called once, after every input has ended.
  virtual void finish(Emitter& out) {}
  // True for a `route` priority lane: everything fed by it is scheduled ahead of bulk work.
  virtual bool is_priority_port(size_t port) const { return false; }
  // Projection (Arrow's and DuckDB's projection pushdown): the input fields process() reads, when
  // its outputs on the ports marked in `consumed` carry no input record whole. A source whose
  // consumers all name theirs parses only those (and validates the rest, SPEC §1). nullopt, the
  // default: every field.
  virtual std::optional<std::vector<FieldId>> fields_read(const std::vector<bool>& consumed) const {
    return std::nullopt;
  }
  // Projection through an operator that forwards its input records unchanged (filter, route):
  // the fields it reads itself. Its input then needs those and what its consumers need.
  // nullopt, the default: the operator is not one of those.
  virtual std::optional<std::vector<FieldId>> fields_read_forwarding() const {
    return std::nullopt;
  }
  // Fields the operator adds to the input records it passes on, in place (license_state's
  // annotations): a source read directly by it parses its records with room for them, so they
  // are not moved into a larger allocation one by one.
  virtual size_t fields_added() const { return 0; }
  // Called by the runtime once, before the first batch: consumed[port] says whether anything
  // reads that port. An operator may skip building records only an unread port would get (the
  // session records of a license_state whose `sessions` nobody reads).
  virtual void set_consumed_ports(const std::vector<bool>& consumed) { consumed_ = consumed; }
  bool port_consumed(size_t port) const { return port >= consumed_.size() || consumed_[port]; }

  // True for an operator without state whose cost is linear in the batch (filter, route): the
  // runtime may run an express batch through it at once, ahead of queued bulk batches.
  virtual bool stateless() const { return false; }

  // Checkpoints (SPEC §7). The runtime calls these only at a quiescent point: no batch in flight,
  // nothing emitted but not yet sent. save_state writes everything process() depends on;
  // load_state, on a freshly built operator, restores it (and calls in.fail() on nonsense).
  virtual bool has_state() const { return false; }
  virtual void save_state(StateWriter& out) const {}
  virtual void load_state(StateReader& in) {}

  // The runtime will deliver this operator's inputs, all streams of one source, merged in the
  // source's order as one input (engine/input_join.h); called before load_state and the first
  // batch. An operator that orders records by event time takes them so and returns true; the
  // default, for operators to which the order across inputs means nothing, declines.
  virtual bool join_inputs() { return false; }
  // Sends exactly one batch per input batch, each record with its position in the source batch
  // (Batch::positions): filter, route and dedup. A join looks through such operators.
  virtual bool forwards_batches() const { return false; }
  // Called by the runtime before the first batch when a node reads several of this operator's
  // ports (or one of them twice, through filters): the operator is to send its output in groups
  // — per group one batch on every port, empty ones too, all with origin `origin_base` + the
  // group's number (from 1, below 2^40) and each record with its position in the order the
  // group's records were emitted across the ports — so that such a node reads them merged in
  // that order (engine/input_join.h; SPEC §2 "records an operator derives from one record
  // follow it directly"). False, the default: it cannot, and such a node reads each port's
  // batches as they come.
  virtual bool group_output(uint64_t origin_base) { return false; }

  // SPEC §7 "colder state lives in RocksDB": an operator with keyed state names the kind of it
  // (the spill store's column family, e.g. "window"); the runtime then calls enable_spill once,
  // before load_state and the first batch, with the store its cold keys go to (under `owner`,
  // its id) and the bytes of state.memory_limit it may keep in memory.
  virtual const char* spill_kind() const { return nullptr; }
  virtual Status enable_spill(SpillStore& store, const std::string& owner, uint64_t budget_bytes) {
    return Status::ok();
  }

  // Keyed state, as last published by the operator (for /metrics, from other threads).
  struct StateFootprint {
    uint64_t keys = 0;         // known keys
    uint64_t hot_keys = 0;     // of which in memory
    uint64_t memory_bytes = 0;  // estimated bytes of the state in memory, index included
  };
  StateFootprint state_footprint() const {
    return {keys_.load(std::memory_order_relaxed), hot_keys_.load(std::memory_order_relaxed),
            memory_bytes_.load(std::memory_order_relaxed)};
  }

  // Records this operator skipped for lacking a key field, or otherwise counted and dropped.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Records that arrived behind the watermark (SPEC §2). Read by /metrics from other threads.
  uint64_t late_records() const { return late_.load(std::memory_order_relaxed); }

 protected:
  explicit Operator(std::vector<std::string> ports) : ports_(std::move(ports)) {}
  void count_dropped(uint64_t n) { dropped_.fetch_add(n, std::memory_order_relaxed); }
  void count_late(uint64_t n = 1) { late_.fetch_add(n, std::memory_order_relaxed); }
  void publish_footprint(const StateFootprint& f) {
    keys_.store(f.keys, std::memory_order_relaxed);
    hot_keys_.store(f.hot_keys, std::memory_order_relaxed);
    memory_bytes_.store(f.memory_bytes, std::memory_order_relaxed);
  }

 private:
  std::vector<std::string> ports_;
  std::vector<bool> consumed_;  // empty until set_consumed_ports: every port counts as read
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> late_{0};
  std::atomic<uint64_t> keys_{0};
  std::atomic<uint64_t> hot_keys_{0};
  std::atomic<uint64_t> memory_bytes_{0};
};

}  // namespace licflow
