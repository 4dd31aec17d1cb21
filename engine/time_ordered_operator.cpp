// SPEC §2: watermarks, holding, (ts, arrival) order, late records, end of input.
#include "engine/time_ordered_operator.h"

#include <algorithm>

namespace licflow {

TimeOrderedOperator::TimeOrderedOperator(std::vector<std::string> ports, size_t input_count)
    : Operator(std::move(ports)),
      inputs_(input_count),
      next_arrival_(std::max<size_t>(input_count, 1), 0) {
  pending_.resize(this->ports().size());
  pending_marks_.resize(this->ports().size());
  pending_order_.resize(this->ports().size());
  pending_step_.resize(this->ports().size());
  pending_positions_.resize(this->ports().size());
}

void TimeOrderedOperator::emit(size_t port, Record record) {
  pending_[port].push_back(std::move(record));
  // Downstream judges the record against the watermark sent before it (SPEC §2).
  pending_marks_[port].push_back(sent_watermark_);
  if (partition_) {
    pending_order_[port].push_back(order_);
    pending_step_[port].push_back(step_);
  }
  if (origin_base_ != 0 || stamp_positions_) pending_positions_[port].push_back(next_position_++);
  // A watermark may fire millions of windows at once: they leave in batches as they come, not
  // all at the end of the call. These batches carry the watermark already sent, which is
  // always safe: it promises nothing new.
  if (pending_[port].size() >= kMaxBatchRecords && out_ != nullptr) {
    if (origin_base_ != 0) {
      send_group(*out_, sent_watermark_, credit_);
    } else {
      send(port, *out_, sent_watermark_, credit_);
    }
  }
}

void TimeOrderedOperator::send(size_t port, Emitter& out, int64_t watermark,
                               const std::shared_ptr<void>& credit, uint64_t origin) {
  Batch b;
  b.records.swap(pending_[port]);
  b.watermarks.swap(pending_marks_[port]);
  b.emit_order.swap(pending_order_[port]);
  b.emit_step.swap(pending_step_[port]);
  b.positions.swap(pending_positions_[port]);
  b.origin = origin;
  b.watermark = watermark;
  b.idle = inputs_.all_idle();
  b.credit = credit;
  out.emit(port, std::move(b));
}

// Each record is judged against the watermark received before it (SPEC §2): the one its input
// carried with it, combined with the other inputs'. Records' marks are non-decreasing and mostly
// equal, so the combination is only recomputed where one changes.
void TimeOrderedOperator::walk(size_t input, const Batch& batch, BatchWalk& walk) const {
  walk.late.clear();
  walk.max_ts = kMinTime;
  walk.last_mark.reset();
  InputWatermarks inputs = inputs_;
  int64_t watermark = watermark_;
  int64_t before = std::max(watermark, inputs.combined());
  const std::vector<Record>& records = batch.records;
  const std::vector<int64_t>& marks = batch.watermarks;
  for (uint32_t i = 0; i < records.size(); ++i) {
    const int64_t ts = records[i].ts;
    walk.max_ts = std::max(walk.max_ts, ts);
    if (!marks.empty() && (!walk.last_mark || marks[i] != *walk.last_mark)) {
      inputs.update(input, marks[i], false);
      walk.last_mark = marks[i];
      before = std::max(watermark, inputs.combined());
    }
    if (ts < before) {
      walk.late.push_back({i, before});
      watermark = before;
    }
  }
}

void TimeOrderedOperator::process_selected(size_t input, const BatchPtr& batch,
                                           const std::vector<uint32_t>* selection,
                                           const BatchWalk* given_walk, Emitter& out) {
  if (given_walk == nullptr) walk(input, *batch, walk_);
  const BatchWalk* batch_walk = given_walk != nullptr ? given_walk : &walk_;
  out_ = &out;
  credit_ = batch->credit;
  movable_ = records_to_move(batch);
  const std::vector<Record>& records = batch->records;
  const SelectedRecords selected(records, selection);
  before_batch(selected);
  max_ts_ = std::max(max_ts_, batch_walk->max_ts);
  // The marks only ever raise an input's watermark and clear its idleness, so the last one,
  // applied now, leaves inputs_ as applying each in turn would; the walk says where each record
  // stood.
  if (batch_walk->last_mark) inputs_.update(input, *batch_walk->last_mark, false);
  // The watermark is advanced lazily: only a late record needs the operator to be at that
  // watermark (so that the records and timers it releases go first), and otherwise the batch's
  // end is enough, since on-time records and timers are processed in (ts, arrival) order either
  // way. A partition advances wherever any record is late, its own or not, as one instance
  // would, so the partitions' outputs carry one instance's watermarks and merge in its order.
  // Arrival numbers count every record of every batch, so that the partitions of an operator
  // number records alike; the input comes first, so that records of one ts from several inputs
  // go in input order, whichever input's batch came first (--threads).
  const uint64_t first_arrival = (uint64_t{input} << kInputShift) | next_arrival_[input];
  on_time_.clear();
  step_ = 0;
  size_t next_own = 0;
  size_t next_late = 0;
  const std::vector<BatchWalk::Late>& late = batch_walk->late;
  while (next_own < selected.size() || next_late < late.size()) {
    const uint32_t own = next_own < selected.size() ? selected.index(next_own) : UINT32_MAX;
    if (next_late < late.size() && late[next_late].index <= own) {
      const BatchWalk::Late point = late[next_late++];
      advance_to(point.watermark, records);
      // A late record is processed at once, in a step of its own (Batch::emit_step).
      ++step_;
      if (point.index == own) {
        ++next_own;
        order_ = {records[own].ts, first_arrival + own};
        current_index_ = own;
        on_late(records[own]);
        current_index_ = kNotInBatch;
      }
      ++step_;
    } else {
      on_time_.push_back({own, first_arrival + own});
      ++next_own;
    }
  }
  next_arrival_[input] += records.size();
  inputs_.update(input, batch->watermark, batch->idle);
  advance_to(std::max(watermark_, inputs_.combined()), records);
  movable_ = nullptr;
  after_batch();
  flush(out, batch->credit);
}

namespace {

// Records reach an order-dependent operator cold: parsed on another core, often held a while.
// Their fields (a separate allocation, ~10 cache lines for a license event) are fetched a few
// records ahead of processing, in (ts, arrival) order, which the hardware cannot guess.
constexpr size_t kPrefetchAhead = 4;

void prefetch_fields(const Record& record) {
  const auto* bytes = reinterpret_cast<const char*>(record.fields().data());
  const size_t size = record.fields().size() * sizeof(Field);
  for (size_t offset = 0; offset < size; offset += 64) __builtin_prefetch(bytes + offset);
}

}  // namespace

void TimeOrderedOperator::advance_to(int64_t watermark, const std::vector<Record>& records) {
  watermark_ = watermark;
  // The batch's records that the watermark releases are processed in place, in (ts, arrival)
  // order, each after the held records that come before it (all of which arrived earlier); only
  // the rest are copied into held_. With bounded disorder that is most records not copied.
  std::stable_sort(on_time_.begin(), on_time_.end(), [&](const Arrival& a, const Arrival& b) {
    return records[a.index].ts < records[b.index].ts;
  });
  size_t next = 0;
  if (watermark_ != kMinTime) {
    for (; next < on_time_.size() && records[on_time_[next].index].ts <= watermark_; ++next) {
      if (next + kPrefetchAhead < on_time_.size()) {
        prefetch_fields(records[on_time_[next + kPrefetchAhead].index]);
      }
      const uint32_t index = on_time_[next].index;
      const int64_t ts = records[index].ts;
      release_held_before(ts, on_time_[next].arrival);
      time_reached(ts);
      order_ = {ts, on_time_[next].arrival};
      current_index_ = index;
      if (movable_ != nullptr) {
        on_owned_record(std::move((*movable_)[index]));
      } else {
        on_record(records[index]);
      }
      current_index_ = kNotInBatch;
    }
  }
  for (; next < on_time_.size(); ++next) {
    const uint32_t index = on_time_[next].index;
    held_.push({records[index].ts, on_time_[next].arrival,
                movable_ != nullptr ? std::move((*movable_)[index]) : records[index]});
  }
  on_time_.clear();
  // Also releases records with ts == an unchanged watermark: no on-time record can come before them.
  if (watermark_ != kMinTime) release_up_to(watermark_);
  // What is emitted from now on comes after this watermark.
  sent_watermark_ = watermark_;
}

void TimeOrderedOperator::release_held_before(int64_t time, uint64_t arrival) {
  while (!held_.empty() && (held_.top().ts < time ||
                            (held_.top().ts == time && held_.top().arrival < arrival))) {
    // priority_queue::top is const; the record is moved out just before pop discards it.
    Held next = std::move(const_cast<Held&>(held_.top()));
    held_.pop();
    time_reached(next.ts);
    order_ = {next.ts, next.arrival};
    on_owned_record(std::move(next.record));
  }
}

void TimeOrderedOperator::release_up_to(int64_t time) {
  release_held_before(time, UINT64_MAX);
  time_reached(time);
}

void TimeOrderedOperator::time_reached(int64_t time) {
  order_ = {time, 0};  // what timers emit comes before the records at that time
  on_time(time);
}

void TimeOrderedOperator::finish(Emitter& out) {
  out_ = &out;
  step_ = 0;
  credit_ = nullptr;
  if (max_ts_ > watermark_) watermark_ = max_ts_;
  if (watermark_ != kMinTime) release_up_to(watermark_);
  on_end_of_input();
  flush(out, nullptr);
}

void TimeOrderedOperator::save_state(StateWriter& out) const {
  inputs_.save(out);
  out.i64(watermark_);
  out.i64(max_ts_);
  for (uint64_t next : next_arrival_) out.u64(next);
  // A copy of the heap's array is in no particular order; arrival numbers restore the order.
  auto held = held_;
  out.u64(held.size());
  for (; !held.empty(); held.pop()) {
    out.i64(held.top().ts);
    out.u64(held.top().arrival);
    out.record(held.top().record);
  }
  save_operator_state(out);
}

void TimeOrderedOperator::load_state(StateReader& in) {
  inputs_.load(in);  // fails when the number of inputs changed
  watermark_ = in.i64();
  sent_watermark_ = watermark_;  // checkpoints are taken between calls, after a flush
  max_ts_ = in.i64();
  for (uint64_t& next : next_arrival_) next = in.u64();  // as many as inputs_ (checked)
  held_ = {};
  for (uint64_t n = in.count(24); n > 0 && !in.failed(); --n) {
    Held h;
    h.ts = in.i64();
    h.arrival = in.u64();
    h.record = in.record();
    held_.push(std::move(h));
  }
  load_operator_state(in);
}

void TimeOrderedOperator::send_group(Emitter& out, int64_t watermark,
                                     const std::shared_ptr<void>& credit) {
  const uint64_t origin = origin_base_ + ++groups_sent_;
  for (size_t port = 0; port < pending_.size(); ++port) {
    send(port, out, watermark, credit, origin);
  }
  next_position_ = 0;
}

void TimeOrderedOperator::flush(Emitter& out, const std::shared_ptr<void>& credit) {
  if (origin_base_ != 0) {
    send_group(out, watermark_, credit);
  } else {
    for (size_t port = 0; port < pending_.size(); ++port) send(port, out, watermark_, credit);
  }
  next_position_ = 0;  // stamped positions count per call
  sent_watermark_ = watermark_;
  out_ = nullptr;
  credit_ = nullptr;
}

}  // namespace licflow
