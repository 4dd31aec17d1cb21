#include "operators/partitioned.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

namespace licflow {

// Collects one partition's output during a call, per port in a PartitionOutput (in memory, or
// in a temporary file past a bound), until every partition is done and merge_into merges them.
class PartitionedOperator::PartEmitter final : public Emitter {
 public:
  void begin(int64_t ingest_ns) { ingest_ns_ = ingest_ns; }

  void emit(size_t port, Batch&& batch) override {
    if (batch.ingest_ns == 0) batch.ingest_ns = ingest_ns_;
    last_idle_ = batch.idle;
    last_watermark_ = std::max(last_watermark_, batch.watermark);
    if (batch.records.empty()) return;
    output(port).add(std::move(batch));
  }
  void emit(size_t port, BatchPtr batch) override {
    Batch copy = *batch;
    emit(port, std::move(copy));
  }

  PartitionOutput& output(size_t port) {
    if (ports_.size() <= port) {
      ports_.resize(port + 1);
      for (PartitionOutput& p : ports_) p.set_directory(directory_);
    }
    return ports_[port];
  }
  // Where long outputs go (PartitionOutput::set_directory).
  void set_directory(const std::string& dir) {
    directory_ = dir;
    for (PartitionOutput& p : ports_) p.set_directory(directory_);
  }
  void clear() {
    for (PartitionOutput& p : ports_) p.clear();
  }

  int64_t last_watermark() const { return last_watermark_; }
  bool last_idle() const { return last_idle_; }

 private:
  int64_t ingest_ns_ = 0;
  std::string directory_;
  std::vector<PartitionOutput> ports_;
  int64_t last_watermark_ = kMinTime;
  bool last_idle_ = false;
};

PartitionedOperator::PartitionedOperator(std::vector<std::unique_ptr<TimeOrderedOperator>> parts,
                                         KeyFields key)
    : Operator(parts.at(0)->ports()), parts_(std::move(parts)), key_(std::move(key)) {
  for (size_t k = 0; k < parts_.size(); ++k) {
    parts_[k]->run_as_partition(&key_hashes_);
    emitters_.push_back(std::make_unique<PartEmitter>());
  }
  selections_.resize(parts_.size());
}

PartitionedOperator::~PartitionedOperator() = default;

template <typename Work>
void PartitionedOperator::run_parts(Emitter& out, Work work) {
  // Isolated: while it waits for the other partitions, this thread takes none of the graph's
  // other tasks, which would hold up this (often the slowest) node behind unrelated work.
  tbb::this_task_arena::isolate(
      [&] { tbb::parallel_for(size_t{0}, parts_.size(), [&](size_t k) { work(k); }); });
  int64_t watermark = sent_watermark_;
  bool idle = false;
  for (auto& e : emitters_) {
    watermark = std::max(watermark, e->last_watermark());
    idle = e->last_idle();
  }
  // Every partition's records are in: the merged batch may carry the new watermark.
  if (origin_base_ != 0) {
    merge_grouped(out, watermark, idle);
  } else {
    for (size_t port = 0; port < ports().size(); ++port) merge_into(out, port, watermark, idle);
  }
  for (auto& e : emitters_) e->clear();
  sent_watermark_ = watermark;
  publish_counters();
}

namespace {

using Cursor = PartitionOutput::Cursor;

bool before(const Cursor& a, const Cursor& b) {
  if (a.mark() != b.mark()) return a.mark() < b.mark();
  if (a.step() != b.step()) return a.step() < b.step();
  if (a.record().ts != b.record().ts) return a.record().ts < b.record().ts;
  return a.order() < b.order();
}

}  // namespace

// The partitions' records of one port as one batch, merged by (the watermark each carries, the
// step of the input batch that emitted it, ts, EmitOrder) as one instance would have emitted
// them, keeping each partition's own order (ties: partition order). The watermarks first: a
// record must not come after one that carries a watermark past its ts, which one instance would
// only have emitted later. Steps put what a late record causes where it was processed, at once
// (revisions of two keys' windows in their late records' arrival order). EmitOrder puts records
// of one ts in arrival order and windows closing together in their keys' first-seen order,
// whatever partition they are in.
void PartitionedOperator::merge_into(Emitter& out, size_t port, int64_t watermark, bool idle) {
  std::vector<Cursor> cursors;
  size_t total = 0;
  Batch merged;
  for (auto& e : emitters_) {
    PartitionOutput& output = e->output(port);
    if (output.empty()) continue;
    if (cursors.empty()) {
      merged.credit = output.credit();
      merged.ingest_ns = output.ingest_ns();
    }
    total += output.size();
    cursors.emplace_back(output);
  }
  // A long output (a watermark firing millions of windows) leaves in batches as it is merged;
  // each carries the watermark of its last record, which the instances had already passed.
  const size_t batch_records = std::min(total, kMergedBatchRecords);
  merged.records.reserve(batch_records);
  merged.watermarks.reserve(batch_records);
  for (size_t left = total; left > 0; --left) {
    Cursor* best = nullptr;
    for (Cursor& c : cursors) {
      if (!c.done() && (best == nullptr || before(c, *best))) best = &c;
    }
    if (best == nullptr) break;  // records a failed read of a temporary file lost (logged)
    merged.watermarks.push_back(best->mark());
    merged.records.push_back(std::move(best->record()));
    best->next();
    if (merged.records.size() == kMergedBatchRecords && left > 1) {
      Batch part;
      part.credit = merged.credit;
      part.ingest_ns = merged.ingest_ns;
      part.watermark = std::max(sent_watermark_, merged.watermarks.back());
      std::swap(part.records, merged.records);
      std::swap(part.watermarks, merged.watermarks);
      out.emit(port, std::move(part));
      merged.records.reserve(batch_records);
      merged.watermarks.reserve(batch_records);
    }
  }
  merged.watermark = watermark;
  merged.idle = idle;
  out.emit(port, std::move(merged));
}

// Grouped output (group_output): the records of all ports merged as one sequence — each
// partition's in the order it emitted them across its ports (the positions it stamps), the
// partitions' as merge_into merges them — and sent in groups of at most kMergedBatchRecords,
// one batch per port, each record with its position in its group.
void PartitionedOperator::merge_grouped(Emitter& out, int64_t watermark, bool idle) {
  const size_t port_count = ports().size();
  std::vector<Cursor> cursors;  // partition k's port p at k * port_count + p
  cursors.reserve(parts_.size() * port_count);
  size_t total = 0;
  std::shared_ptr<void> credit;
  int64_t ingest_ns = 0;
  for (auto& e : emitters_) {
    e->output(port_count - 1);  // makes every port's output, which cursors then point into
    for (size_t port = 0; port < port_count; ++port) {
      PartitionOutput& output = e->output(port);
      if (!output.empty() && total == 0) {
        credit = output.credit();
        ingest_ns = output.ingest_ns();
      }
      total += output.size();
      cursors.emplace_back(output);
    }
  }
  // A partition's next record: the one of its ports it emitted first.
  const auto next_of = [&](size_t k) {
    Cursor* next = nullptr;
    for (size_t port = 0; port < port_count; ++port) {
      Cursor& c = cursors[k * port_count + port];
      if (!c.done() && (next == nullptr || c.position() < next->position())) next = &c;
    }
    return next;
  };
  std::vector<Batch> group(port_count);
  uint32_t position = 0;
  const auto send_group = [&](int64_t group_watermark, bool group_idle) {
    const uint64_t origin = origin_base_ + ++groups_sent_;
    for (size_t port = 0; port < port_count; ++port) {
      Batch b;
      std::swap(b.records, group[port].records);
      std::swap(b.watermarks, group[port].watermarks);
      std::swap(b.positions, group[port].positions);
      b.credit = credit;
      b.ingest_ns = ingest_ns;
      b.watermark = group_watermark;
      b.idle = group_idle;
      b.origin = origin;
      out.emit(port, std::move(b));
    }
    position = 0;
  };
  for (size_t left = total; left > 0; --left) {
    Cursor* best = nullptr;
    for (size_t k = 0; k < parts_.size(); ++k) {
      Cursor* c = next_of(k);
      if (c != nullptr && (best == nullptr || before(*c, *best))) best = c;
    }
    if (best == nullptr) break;  // records a failed read of a temporary file lost (logged)
    Batch& to = group[static_cast<size_t>(best - cursors.data()) % port_count];
    const int64_t mark = best->mark();
    to.watermarks.push_back(mark);
    to.records.push_back(std::move(best->record()));
    to.positions.push_back(position++);
    best->next();
    if (position == kMergedBatchRecords && left > 1) {
      send_group(std::max(sent_watermark_, mark), false);
    }
  }
  send_group(watermark, idle);
}

bool PartitionedOperator::group_output(uint64_t origin_base) {
  origin_base_ = origin_base;
  for (auto& part : parts_) part->stamp_positions();
  return true;
}

void PartitionedOperator::process(size_t input, const BatchPtr& batch, Emitter& out) {
  for (auto& s : selections_) s.clear();
  const std::vector<Record>& records = batch->records;
  key_hashes_.resize(records.size());
  for (uint32_t i = 0; i < records.size(); ++i) {
    size_t k = 0;
    key_hashes_[i] = TimeOrderedOperator::kNoKeyHash;
    if (std::optional<uint64_t> h = key_.hash(records[i])) {
      k = *h % parts_.size();
      key_hashes_[i] = *h;
    }
    selections_[k].push_back(i);
  }
  // The partitions are in one state (they have met the same batches): one walk serves all.
  parts_[0]->walk(input, *batch, walk_);
  for (auto& e : emitters_) e->begin(batch->ingest_ns);
  run_parts(out, [&](size_t k) {
    parts_[k]->process_selected(input, batch, &selections_[k], &walk_, *emitters_[k]);
  });
}

void PartitionedOperator::finish(Emitter& out) {
  for (auto& e : emitters_) e->begin(0);
  run_parts(out, [&](size_t k) { parts_[k]->finish(*emitters_[k]); });
}

void PartitionedOperator::publish_counters() {
  uint64_t dropped = 0;
  uint64_t late = 0;
  StateFootprint total;
  for (const auto& p : parts_) {
    dropped += p->dropped();
    late += p->late_records();
    const StateFootprint f = p->state_footprint();
    total.keys += f.keys;
    total.hot_keys += f.hot_keys;
    total.memory_bytes += f.memory_bytes;
  }
  count_dropped(dropped - dropped_seen_);
  count_late(late - late_seen_);
  dropped_seen_ = dropped;
  late_seen_ = late;
  publish_footprint(total);
}

void PartitionedOperator::save_state(StateWriter& out) const {
  out.u64(parts_.size());
  out.i64(sent_watermark_);
  for (const auto& p : parts_) p->save_state(out);
}

void PartitionedOperator::load_state(StateReader& in) {
  if (in.u64() != parts_.size()) return in.fail();
  sent_watermark_ = in.i64();
  for (const auto& p : parts_) p->load_state(in);
  publish_counters();
}

Status PartitionedOperator::enable_spill(SpillStore& store, const std::string& owner,
                                         uint64_t budget_bytes) {
  // A long output waits for the merge on the spill's disk too, not in a /tmp that may be RAM.
  for (auto& e : emitters_) e->set_directory(store.dir());
  for (size_t k = 0; k < parts_.size(); ++k) {
    RETURN_IF_ERROR(parts_[k]->enable_spill(store, owner + "#" + std::to_string(k),
                                            budget_bytes / parts_.size()));
  }
  return Status::ok();
}

}  // namespace licflow
