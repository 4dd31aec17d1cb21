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
