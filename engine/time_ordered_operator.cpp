// SPEC §2: watermarks, holding, (ts, arrival) order, late records, end of input.
#include "engine/time_ordered_operator.h"

#include <algorithm>

namespace licflow {

TimeOrderedOperator::TimeOrderedOperator(std::vector<std::string> ports, size_t input_count)
    : Operator(std::move(ports)), input_watermarks_(std::max<size_t>(input_count, 1), kMinTime) {
  pending_.resize(this->ports().size());
}

void TimeOrderedOperator::emit(size_t port, Record record) {
  pending_[port].push_back(std::move(record));
}

void TimeOrderedOperator::process(size_t input, const BatchPtr& batch, Emitter& out) {
  for (const Record& r : batch->records) {
    max_ts_ = std::max(max_ts_, r.ts);
    if (r.ts < watermark_) {
      on_late(r);
    } else {
      held_.push({r.ts, next_arrival_++, r});
    }
  }
  if (input < input_watermarks_.size()) {
    input_watermarks_[input] = std::max(input_watermarks_[input], batch->watermark);
  }
  watermark_ = std::max(watermark_,
                        *std::min_element(input_watermarks_.begin(), input_watermarks_.end()));
  // Also releases records with ts == an unchanged watermark: no on-time record can come before them.
  if (watermark_ != kMinTime) release_up_to(watermark_);
  flush(out, batch->credit);
}

void TimeOrderedOperator::release_up_to(int64_t time) {
  while (!held_.empty() && held_.top().ts <= time) {
    // priority_queue::top is const; the record is moved out just before pop discards it.
    Held next = std::move(const_cast<Held&>(held_.top()));
    held_.pop();
    on_time(next.ts);
    on_record(next.record);
  }
  on_time(time);
}

void TimeOrderedOperator::finish(Emitter& out) {
  if (max_ts_ > watermark_) watermark_ = max_ts_;
  if (watermark_ != kMinTime) release_up_to(watermark_);
  on_end_of_input();
  flush(out, nullptr);
}

void TimeOrderedOperator::save_state(StateWriter& out) const {
  out.u64(input_watermarks_.size());
  for (int64_t wm : input_watermarks_) out.i64(wm);
  out.i64(watermark_);
  out.i64(max_ts_);
  out.u64(next_arrival_);
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
  if (in.count(8) != input_watermarks_.size()) return in.fail();  // the inputs changed
  for (int64_t& wm : input_watermarks_) wm = in.i64();
  watermark_ = in.i64();
  max_ts_ = in.i64();
  next_arrival_ = in.u64();
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

void TimeOrderedOperator::flush(Emitter& out, const std::shared_ptr<void>& credit) {
  for (size_t port = 0; port < pending_.size(); ++port) {
    Batch b;
    b.records.swap(pending_[port]);
    b.watermark = watermark_;
    b.credit = credit;
    out.emit(port, std::move(b));
  }
}

}  // namespace licflow
