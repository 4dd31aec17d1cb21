// TimeOrderedOperator: SPEC §2 event-time semantics, written once for every order-dependent
// operator (license_state, window, threshold, anomaly, cost).
//
// - The operator's watermark is the minimum of its inputs' watermarks (each input's is the latest
//   one it carried: per record, Batch::watermarks, then the batch's own). A record is judged
//   against the watermark received *before* it: ts < watermark is late (on_late); ts ==
//   watermark is on time. Late records are handled where they arrive, after what the watermark
//   they come with releases.
// - On-time records are held until the watermark reaches their ts, then handed to on_record() in
//   (ts, arrival) order. Before each record, on_time(ts) lets timers due by then fire; after the
//   held records are released, on_time(watermark). With several inputs, arrival is input first,
//   then order within the input: records of one ts go in input order, so the output does not
//   depend on which input's batch the scheduler delivered first (SPEC §8, --threads). Several
//   streams of one source come merged as one input instead (join_inputs, engine/input_join.h).
// - End of input: the watermark advances to the largest ts received, everything held is
//   processed, then on_end_of_input().
// Records are emitted one at a time through emit() and leave as one batch per port per call,
// carrying the operator's watermark (and, past kMaxBatchRecords, in batches along the way); each
// record carries the watermark sent before it: records released by a watermark leave before it,
// as in Flink.
//
// Threading: as Operator — one thread at a time per instance.
#pragma once

#include <optional>
#include <queue>

#include "engine/watermarks.h"
#include "operators/operator.h"

namespace licflow {

// The records of a batch one operator instance processes: all of them, or those at the indexes
// of `selection` (a partition's share, see operators/partitioned.h).
class SelectedRecords {
 public:
  SelectedRecords(const std::vector<Record>& records, const std::vector<uint32_t>* selection)
      : records_(records), selection_(selection) {}
  size_t size() const { return selection_ ? selection_->size() : records_.size(); }
  // The index in the batch of the i-th selected record.
  uint32_t index(size_t i) const {
    return selection_ ? (*selection_)[i] : static_cast<uint32_t>(i);
  }
  const Record& operator[](size_t i) const { return records_[index(i)]; }

  class Iterator {
   public:
    Iterator(const SelectedRecords& s, size_t i) : s_(s), i_(i) {}
    const Record& operator*() const { return s_[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    const SelectedRecords& s_;
    size_t i_;
  };
  Iterator begin() const { return {*this, 0}; }
  Iterator end() const { return {*this, size()}; }

 private:
  const std::vector<Record>& records_;
  const std::vector<uint32_t>* selection_;
};

// What an operator meets walking a batch, whichever of its records it processes: where records
// are late, the largest ts, the last watermark a record carries. The partitions of an operator
// (operators/partitioned.h) are in one state and meet the same; the batch is walked once for
// all of them.
struct BatchWalk {
  struct Late {
    uint32_t index;     // in the batch
    int64_t watermark;  // the watermark before it, which the operator advances to first
  };
  std::vector<Late> late;  // by index
  int64_t max_ts = kMinTime;
  std::optional<int64_t> last_mark;  // of Batch::watermarks, when there are some
};

class TimeOrderedOperator : public Operator {
 public:
  void process(size_t input, const BatchPtr& batch, Emitter& out) final {
    process_selected(input, batch, nullptr, nullptr, out);
  }
  // The walk of `batch`, arriving on `input`, from this operator's current state.
  void walk(size_t input, const Batch& batch, BatchWalk& walk) const;
  // Processes the records of `batch` at the indexes of `selection` (all when null) and the
  // batch's watermark. `given_walk`: the batch's walk from this state (made here when null).
  void process_selected(size_t input, const BatchPtr& batch, const std::vector<uint32_t>* selection,
                        const BatchWalk* given_walk, Emitter& out);
  void finish(Emitter& out) final;
  // Its inputs come merged as one (engine/input_join.h): one watermark, arrival in that order.
  bool join_inputs() final {
    inputs_ = InputWatermarks(1);
    next_arrival_.assign(1, 0);
    return true;
  }
  // This instance is one of an operator's partitions (operators/partitioned.h): what it emits
  // carries its EmitOrder, for the merge. `key_hashes`: per record of each batch it is given,
  // the KeyFields::hash of the record's partition key (kNoKeyHash when it has none), which the
  // partitioner computed to pick the partition and the instance need not compute again.
  void run_as_partition(const std::vector<uint64_t>* key_hashes) {
    partition_ = true;
    key_hashes_ = key_hashes;
  }
  static constexpr uint64_t kNoKeyHash = UINT64_MAX;
  // Groups: each call's output (and, past kMaxBatchRecords on a port, each part of it) is one
  // group, sent on every port at once.
  bool group_output(uint64_t origin_base) final {
    origin_base_ = origin_base;
    return true;
  }
  // As a partition of an operator that groups its output: each record emitted carries its
  // position in the call's output across the ports (Batch::positions), for the merge.
  void stamp_positions() { stamp_positions_ = true; }

  // Checkpoints: the watermarks, the held records and arrival numbering, then the subclass's
  // state (save_operator_state / load_operator_state).
  bool has_state() const final { return true; }
  void save_state(StateWriter& out) const final;
  void load_state(StateReader& in) final;

 protected:
  TimeOrderedOperator(std::vector<std::string> ports, size_t input_count);

  virtual void on_record(const Record& record) = 0;
  // The same, for a record the operator may take: a held copy, or one of a batch no one else
  // holds (records_to_move, engine/batch.h). An operator that passes its input on overrides it
  // to move the record instead of copying it.
  virtual void on_owned_record(Record&& record) { on_record(record); }
  virtual void on_late(const Record& record) = 0;
  // Event time reached `time`: fire what is due. Called with non-decreasing times.
  virtual void on_time(int64_t time) {}
  virtual void on_end_of_input() {}
  // Around each input batch: a subclass whose state may be spilled loads the batch's cold keys
  // in one read before, and settles its memory after (engine/keyed_state.h).
  virtual void before_batch(const SelectedRecords& records) {}
  virtual void after_batch() {}
  // The subclass's own state, for checkpoints (see Operator::save_state).
  virtual void save_operator_state(StateWriter& out) const {}
  virtual void load_operator_state(StateReader& in) { in.fail(); }

  void emit(size_t port, Record record);
  int64_t watermark() const { return watermark_; }
  // The EmitOrder (engine/batch.h) of what emit() sends now: the (ts, arrival) of the record
  // being processed, or (time, 0) in on_time(time). An operator whose outputs due together are
  // ordered otherwise (windows by key first seen) sets it before emitting them.
  const EmitOrder& emit_order() const { return order_; }
  void set_emit_order(EmitOrder order) { order_ = order; }
  // The KeyFields::hash of the partition key of the record on_record() or on_late() was given,
  // when the partitioner computed it (a record of the current batch); nullopt otherwise (a held
  // record, no partitioner, a record without the key, or a hash that happens to be kNoKeyHash).
  std::optional<uint64_t> partition_key_hash() const {
    if (key_hashes_ == nullptr || current_index_ == kNotInBatch) return std::nullopt;
    const uint64_t hash = (*key_hashes_)[current_index_];
    if (hash == kNoKeyHash) return std::nullopt;
    return hash;
  }

 private:
  struct Held {
    int64_t ts;
    uint64_t arrival;
    Record record;
  };
  struct Later {
    bool operator()(const Held& a, const Held& b) const {
      return a.ts != b.ts ? a.ts > b.ts : a.arrival > b.arrival;
    }
  };

  struct Arrival {
    uint32_t index;  // in the batch
    uint64_t arrival;
  };

  // Moves the watermark to `watermark`: processes the current batch's on-time records (on_time_)
  // and the held ones up to it, in (ts, arrival) order, holds the rest of on_time_, fires timers.
  void advance_to(int64_t watermark, const std::vector<Record>& records);
  // Processes the held records before (time, arrival), in (ts, arrival) order.
  void release_held_before(int64_t time, uint64_t arrival);
  // on_time(time), with emit_order() set to (time, 0).
  void time_reached(int64_t time);
  // Processes every held record with ts < time, or ts == time, in (ts, arrival) order, then
  // time_reached(time).
  void release_up_to(int64_t time);
  void flush(Emitter& out, const std::shared_ptr<void>& credit);
  void send(size_t port, Emitter& out, int64_t watermark, const std::shared_ptr<void>& credit,
            uint64_t origin = 0);
  // Sends every port's pending records as one group (group_output).
  void send_group(Emitter& out, int64_t watermark, const std::shared_ptr<void>& credit);

  static constexpr size_t kMaxBatchRecords = 4096;

  InputWatermarks inputs_;
  int64_t watermark_ = kMinTime;
  int64_t max_ts_ = kMinTime;
  // Per input, the number of records it brought so far. A record's arrival number is its
  // input's index (from bit kInputShift) and that count.
  static constexpr int kInputShift = 48;
  std::vector<uint64_t> next_arrival_;
  std::priority_queue<Held, std::vector<Held>, Later> held_;
  std::vector<Arrival> on_time_;  // scratch: the current batch's on-time records not yet processed
  BatchWalk walk_;                // scratch: the current batch's walk, when not given
  // The current batch's records when this operator may move them (no one else holds the batch).
  // Partitions of one operator share the batch, but each takes only its own records; the others
  // read only their ts, which moving leaves.
  std::vector<Record>* movable_ = nullptr;
  std::vector<std::vector<Record>> pending_;  // per port, emitted but not yet sent
  std::vector<std::vector<int64_t>> pending_marks_;  // per port, the watermark before each
  std::vector<std::vector<EmitOrder>> pending_order_;  // per port, when a partition instance
  std::vector<std::vector<uint32_t>> pending_step_;    // per port, with pending_order_
  // Per port, when output is grouped or positions stamped: each record's position in the
  // group's (or call's) output across the ports.
  std::vector<std::vector<uint32_t>> pending_positions_;
  uint32_t next_position_ = 0;
  uint64_t origin_base_ = 0;  // see group_output(); 0: not grouped
  uint64_t groups_sent_ = 0;
  bool stamp_positions_ = false;  // see stamp_positions()
  // The step of the current input batch's processing (Batch::emit_step): 0 until its first
  // late record, which is step 1 (processed at once), then 2 until the next late record, and so
  // on; what timers and released records emit takes the current step. Every partition walks the
  // whole batch and meets the same late records, so they number steps alike.
  uint32_t step_ = 0;
  bool partition_ = false;  // see run_as_partition()
  const std::vector<uint64_t>* key_hashes_ = nullptr;  // see run_as_partition()
  // The index in the current batch of the record being processed (partition_key_hash()).
  static constexpr uint32_t kNotInBatch = UINT32_MAX;
  uint32_t current_index_ = kNotInBatch;
  EmitOrder order_;
  // The watermark downstream has been given: what is emitted now is judged against it.
  int64_t sent_watermark_ = kMinTime;
  // While process() or finish() runs: where and with which credit batches go.
  Emitter* out_ = nullptr;
  std::shared_ptr<void> credit_;
};

}  // namespace licflow
