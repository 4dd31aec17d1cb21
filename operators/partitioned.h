// PartitionedOperator: keyed work shared by the cores (Flink's key groups, Kafka Streams'
// partitions). A keyed time-ordered operator is built kPartitions times; each input record goes
// to the instance its key hashes to, and the instances process their shares of a batch in
// parallel (oneTBB tasks), each also seeing the batch's watermark, so each runs exactly the
// SPEC's rules for its keys.
//
// - The number of partitions is fixed, not the thread count: checkpoints and output do not
//   depend on --threads. A record lacking a key field goes to partition 0, which counts it.
// - Output: per port, the instances' records merged by (the watermark each record carries, the
//   step of the batch that emitted it — a late record is a step of its own — ts, EmitOrder)
//   (ties in partition order, each instance's own order kept, so a key's records keep theirs),
//   with the new watermark, which only now may leave: no record is ever behind a watermark sent
//   before it. Across keys, records of equal ts come in arrival order, windows closing together
//   in first-seen order. An instance's long output (a watermark firing millions of windows)
//   waits for the merge in a temporary file (operators/partition_output.h), and the merged
//   output leaves in batches as it is merged. When a node reads several of its ports
//   (group_output), the ports are merged together, in the order each instance emitted its
//   records across them.
// - Checkpoints: the partitions' states in order, each streamed.
//
// Threading: as Operator — the runtime calls it from one thread at a time; inside a call the
// instances run concurrently, each on its own state.
#pragma once

#include <memory>
#include <vector>

#include "engine/time_ordered_operator.h"
#include "operators/key.h"
#include "operators/partition_output.h"

namespace licflow {

class PartitionedOperator final : public Operator {
 public:
  static constexpr size_t kPartitions = 4;
  // The merged output of a call leaves in batches of at most this many records.
  static constexpr size_t kMergedBatchRecords = 8192;

  // `parts`: kPartitions instances built from the same configuration; `key`: the fields whose
  // values choose a record's partition.
  PartitionedOperator(std::vector<std::unique_ptr<TimeOrderedOperator>> parts, KeyFields key);
  ~PartitionedOperator() override;

  void process(size_t input, const BatchPtr& batch, Emitter& out) override;
  void finish(Emitter& out) override;
  bool is_priority_port(size_t port) const override { return parts_[0]->is_priority_port(port); }
  size_t fields_added() const override { return parts_[0]->fields_added(); }
  std::optional<std::vector<FieldId>> fields_read(const std::vector<bool>& consumed) const override {
    return parts_[0]->fields_read(consumed);
  }
  void set_consumed_ports(const std::vector<bool>& consumed) override {
    Operator::set_consumed_ports(consumed);
    for (auto& part : parts_) part->set_consumed_ports(consumed);
  }

  bool group_output(uint64_t origin_base) override;

  bool has_state() const override { return true; }
  bool join_inputs() override {
    for (auto& part : parts_) part->join_inputs();
    return true;
  }
  void save_state(StateWriter& out) const override;
  void load_state(StateReader& in) override;

  const char* spill_kind() const override { return parts_[0]->spill_kind(); }
  Status enable_spill(SpillStore& store, const std::string& owner, uint64_t budget_bytes) override;

 private:
  class PartEmitter;
  // Runs `work(k)` for every partition in parallel, then sends what they emitted to `out`.
  template <typename Work>
  void run_parts(Emitter& out, Work work);
  void merge_into(Emitter& out, size_t port, int64_t watermark, bool idle);
  void merge_grouped(Emitter& out, int64_t watermark, bool idle);
  void publish_counters();

  std::vector<std::unique_ptr<TimeOrderedOperator>> parts_;
  std::vector<std::unique_ptr<PartEmitter>> emitters_;
  const KeyFields key_;
  int64_t sent_watermark_ = kMinTime;
  uint64_t origin_base_ = 0;  // see group_output(); 0: each port merged on its own
  uint64_t groups_sent_ = 0;
  uint64_t dropped_seen_ = 0;
  uint64_t late_seen_ = 0;
  // Scratch: per partition, the indexes of its records in the current batch; per record, the
  // hash of its key (TimeOrderedOperator::partition_key_hash); the batch's walk.
  std::vector<std::vector<uint32_t>> selections_;
  std::vector<uint64_t> key_hashes_;
  BatchWalk walk_;
};

}  // namespace licflow
