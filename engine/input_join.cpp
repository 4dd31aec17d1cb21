#include "engine/input_join.h"

#include <algorithm>
#include <limits>

namespace licflow {

BatchPtr InputJoin::add(size_t input, BatchPtr batch, std::vector<uint32_t>* inputs) {
  if (batch->origin == 0 || input >= inputs_) {
    if (inputs != nullptr) inputs->assign(batch->records.size(), static_cast<uint32_t>(input));
    return batch;
  }
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Pending& p) { return p.origin == batch->origin; });
  if (it == pending_.end()) {
    Pending p;
    p.origin = batch->origin;
    p.by_input.resize(inputs_);
    p.missing = inputs_;
    pending_.push_back(std::move(p));
    it = pending_.end() - 1;
  }
  if (it->by_input[input] == nullptr) --it->missing;
  it->by_input[input] = std::move(batch);
  if (it->missing > 0) return nullptr;
  BatchPtr merged = merge(*it, inputs);
  pending_.erase(it);
  return merged;
}

std::vector<BatchPtr> InputJoin::drain(std::vector<std::vector<uint32_t>>* inputs) {
  std::vector<BatchPtr> out;
  if (inputs != nullptr) inputs->assign(pending_.size(), {});
  for (size_t i = 0; i < pending_.size(); ++i) {
    out.push_back(merge(pending_[i], inputs != nullptr ? &(*inputs)[i] : nullptr));
  }
  pending_.clear();
  return out;
}

BatchPtr InputJoin::merge(const Pending& p, std::vector<uint32_t>* inputs) const {
  auto merged = std::make_shared<Batch>();
  merged->origin = p.origin;  // the records keep their positions: a filter passes them on
  merged->watermark = std::numeric_limits<int64_t>::max();
  merged->idle = true;
  size_t total = 0;
  bool marks = true;  // every record carries its watermark (all but express batches)
  for (const BatchPtr& b : p.by_input) {
    if (b == nullptr) continue;
    merged->watermark = std::min(merged->watermark, b->watermark);
    merged->idle = merged->idle && b->idle;
    if (merged->credit == nullptr) merged->credit = b->credit;
    if (merged->ingest_ns == 0) merged->ingest_ns = b->ingest_ns;
    total += b->records.size();
    marks = marks && (b->records.empty() || !b->watermarks.empty());
  }
  merged->records.reserve(total);
  merged->positions.reserve(total);
  if (marks) merged->watermarks.reserve(total);

  struct Cursor {
    uint32_t input;
    const Batch* batch;
    std::vector<Record>* movable;  // the batch's records when no one else holds it
    size_t next = 0;
    uint32_t position() const {
      return batch->positions.empty() ? static_cast<uint32_t>(next) : batch->positions[next];
    }
    bool done() const { return next == batch->records.size(); }
  };
  std::vector<Cursor> cursors;
  for (size_t input = 0; input < p.by_input.size(); ++input) {
    const BatchPtr& b = p.by_input[input];
    if (b != nullptr && !b->records.empty()) {
      cursors.push_back({static_cast<uint32_t>(input), b.get(), records_to_move(b)});
    }
  }
  if (inputs != nullptr) {
    inputs->clear();
    inputs->reserve(total);
  }
  // Smallest position first; among equal ones (one record on several routes), input order.
  while (true) {
    Cursor* best = nullptr;
    for (Cursor& c : cursors) {
      if (!c.done() && (best == nullptr || c.position() < best->position())) best = &c;
    }
    if (best == nullptr) break;
    merged->positions.push_back(best->position());
    if (inputs != nullptr) inputs->push_back(best->input);
    const size_t k = best->next++;
    merged->records.push_back(best->movable != nullptr ? std::move((*best->movable)[k])
                                                       : best->batch->records[k]);
    if (marks) merged->watermarks.push_back(best->batch->watermarks[k]);
  }
  return merged;
}

}  // namespace licflow
