#include "operators/partitioned.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <mutex>


namespace licflow {

// Collects one partition's output during a call; forwards it early, under the shared lock,
// once it grows past kEarlyRecords.
class PartitionedOperator::PartEmitter final : public Emitter {
 public:
  static constexpr size_t kEarlyRecords = 8192;

  PartEmitter(std::mutex& lock, const int64_t& sent_watermark)
      : lock_(lock), sent_watermark_(sent_watermark) {}

  void begin(Emitter& out, int64_t ingest_ns) {
    out_ = &out;
    ingest_ns_ = ingest_ns;
  }

  // An instance's batch: held until every partition is done (see merge_into), or sent at once,
  // under the lock, once the held records are many. Either way it carries the watermark already
  // sent (the new one goes out after every partition's records).
  void emit(size_t port, Batch&& batch) override {
    if (batch.ingest_ns == 0) batch.ingest_ns = ingest_ns_;
    last_idle_ = batch.idle;
    last_watermark_ = std::max(last_watermark_, batch.watermark);
    if (batch.records.empty()) return;
    batch.watermark = std::min(batch.watermark, sent_watermark_);
    if (ports_.size() <= port) ports_.resize(port + 1);
    held_records_ += batch.records.size();
    ports_[port].push_back(std::move(batch));
    if (held_records_ >= kEarlyRecords) {
      std::lock_guard guard(lock_);
      for (size_t p = 0; p < ports_.size(); ++p) {
        for (Batch& b : ports_[p]) {
          // Ahead of the other partitions' records, it may not promise more than was sent.
          for (int64_t& mark : b.watermarks) mark = std::min(mark, sent_watermark_);
          out_->emit(p, std::move(b));
        }
        ports_[p].clear();
      }
      held_records_ = 0;
    }
  }
  void emit(size_t port, BatchPtr batch) override {
    Batch copy = *batch;
    emit(port, std::move(copy));
  }

  std::vector<Batch>& held(size_t port) {
    if (ports_.size() <= port) ports_.resize(port + 1);
    return ports_[port];
  }
  void clear_held() {
    for (auto& p : ports_) p.clear();
    held_records_ = 0;
  }

  int64_t last_watermark() const { return last_watermark_; }
  bool last_idle() const { return last_idle_; }

 private:
  std::mutex& lock_;
  const int64_t& sent_watermark_;
  Emitter* out_ = nullptr;
  std::vector<std::vector<Batch>> ports_;
  size_t held_records_ = 0;
  int64_t last_watermark_ = kMinTime;
  bool last_idle_ = false;
};

PartitionedOperator::PartitionedOperator(std::vector<std::unique_ptr<TimeOrderedOperator>> parts,
                                         KeyFields key)
    : Operator(parts.at(0)->ports()), parts_(std::move(parts)), key_(std::move(key)) {
  for (size_t k = 0; k < parts_.size(); ++k) {
    parts_[k]->run_as_partition();
    emitters_.push_back(std::make_unique<PartEmitter>(forward_lock_, sent_watermark_));
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
  for (size_t port = 0; port < ports().size(); ++port) merge_into(out, port, watermark, idle);
  for (auto& e : emitters_) e->clear_held();
  sent_watermark_ = watermark;
  publish_counters();
}

// The partitions' records of one port as one batch, merged by (the watermark each carries, the
// step of the input batch that emitted it, ts, EmitOrder) as one instance would have emitted
// them, keeping each partition's own order (ties: partition order). The watermarks first: a
// record must not come after one that carries a watermark past its ts, which one instance would
// only have emitted later. Steps put what a late record causes where it was processed, at once
// (revisions of two keys' windows in their late records' arrival order). EmitOrder puts records
// of one ts in arrival order and windows closing together in their keys' first-seen order,
// whatever partition they are in.
void PartitionedOperator::merge_into(Emitter& out, size_t port, int64_t watermark, bool idle) {
  struct Cursor {
    std::vector<Batch>* batches;
    size_t batch = 0;
    size_t record = 0;
    bool done() const { return batch == batches->size(); }
    Record& head() { return (*batches)[batch].records[record]; }
    int64_t head_mark() const {
      const Batch& b = (*batches)[batch];
      return b.watermarks.empty() ? kMinTime : b.watermarks[record];
    }
    EmitOrder head_order() const {
      const Batch& b = (*batches)[batch];
      return b.emit_order.empty() ? EmitOrder{} : b.emit_order[record];
    }
    uint32_t head_step() const {
      const Batch& b = (*batches)[batch];
      return b.emit_step.empty() ? 0 : b.emit_step[record];
    }
    bool before(Cursor& other) {
      const int64_t mark = head_mark();
      const int64_t other_mark = other.head_mark();
      if (mark != other_mark) return mark < other_mark;
      if (head_step() != other.head_step()) return head_step() < other.head_step();
      if (head().ts != other.head().ts) return head().ts < other.head().ts;
      return head_order() < other.head_order();
    }
    void next() {
      if (++record == (*batches)[batch].records.size()) {
        record = 0;
        ++batch;
      }
    }
  };
  std::vector<Cursor> cursors;
  size_t total = 0;
  Batch merged;
  merged.watermark = watermark;
  merged.idle = idle;
  for (auto& e : emitters_) {
    std::vector<Batch>& batches = e->held(port);
    if (batches.empty()) continue;
    if (cursors.empty()) {
      merged.credit = batches.front().credit;
      merged.ingest_ns = batches.front().ingest_ns;
    }
    for (const Batch& b : batches) total += b.records.size();
    cursors.push_back({&batches});
  }
  merged.records.reserve(total);
  merged.watermarks.reserve(total);
  while (true) {
    Cursor* best = nullptr;
    for (Cursor& c : cursors) {
      if (!c.done() && (best == nullptr || c.before(*best))) best = &c;
    }
    if (best == nullptr) break;
    merged.watermarks.push_back(best->head_mark());
    merged.records.push_back(std::move(best->head()));
    best->next();
  }
  out.emit(port, std::move(merged));
}

void PartitionedOperator::process(size_t input, const BatchPtr& batch, Emitter& out) {
  for (auto& s : selections_) s.clear();
  const std::vector<Record>& records = batch->records;
  for (uint32_t i = 0; i < records.size(); ++i) {
    size_t k = 0;
    if (std::optional<uint64_t> h = key_.hash(records[i])) k = *h % parts_.size();
    selections_[k].push_back(i);
  }
  for (auto& e : emitters_) e->begin(out, batch->ingest_ns);
  run_parts(out, [&](size_t k) {
    parts_[k]->process_selected(input, batch, &selections_[k], *emitters_[k]);
  });
}

// One partition after the other, on the caller's thread: end of input may flush a great many
// records, which `out` may then hold back (the runtime drains the graph as they go), and that
// must not happen inside a task.
void PartitionedOperator::finish(Emitter& out) {
  for (auto& e : emitters_) e->begin(out, 0);
  for (size_t k = 0; k < parts_.size(); ++k) parts_[k]->finish(*emitters_[k]);
  run_parts(out, [](size_t) {});
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
  for (size_t k = 0; k < parts_.size(); ++k) {
    RETURN_IF_ERROR(parts_[k]->enable_spill(store, owner + "#" + std::to_string(k),
                                            budget_bytes / parts_.size()));
  }
  return Status::ok();
}

}  // namespace licflow
