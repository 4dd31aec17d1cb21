// Batch: the unit that travels along the graph's edges. Records move in batches so the per-message
// scheduling cost is paid once per few thousand records, not once per record.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "engine/record.h"

namespace licflow {

// Where a record stands in its operator's emission order: the (ts, arrival) of the input record
// that caused it, or of what orders it among outputs due together (the first record of a
// window's key, the start of an alert's episode). Partitions of an operator fill it, so that
// their outputs merge in the order one instance would have emitted them (operators/partitioned.h).
struct EmitOrder {
  int64_t ts = kMinTime;
  uint64_t arrival = 0;
  bool operator<(const EmitOrder& o) const {
    return ts != o.ts ? ts < o.ts : arrival < o.arrival;
  }
};

struct Batch {
  std::vector<Record> records;
  // The producing stream's watermark after these records (SPEC §2); kMinTime before any.
  int64_t watermark = kMinTime;
  // Per record, the watermark its stream had sent before it (SPEC §2: "each operator judges a
  // record against the watermark it had received before that record"), so a record behind
  // an earlier record of the same batch is late as it would be one batch later. Empty: every
  // record carries the watermark of the stream's previous batch (no progress inside the batch).
  // Non-decreasing.
  std::vector<int64_t> watermarks;
  // Per record, its EmitOrder: only in batches a partition instance emits to its merger.
  std::vector<EmitOrder> emit_order;
  // Per record, with emit_order: the step of its input batch's processing that emitted it. Each
  // late record of an input batch is a step of its own, between the step that advanced the
  // watermark to it and the next (engine/time_ordered_operator.h): what it causes comes out
  // where one instance, processing it at once, would have put it.
  std::vector<uint32_t> emit_step;
  // The producing stream is idle (SPEC §2 idleness, see engine/watermarks.h): until a batch
  // without this flag comes, consumers leave its watermark out of their minimum.
  bool idle = false;
  // Backpressure credit of the source chunk this batch came from. Every batch derived from the
  // chunk shares it; the credit returns to the source when the last of them is destroyed.
  std::shared_ptr<void> credit;
  // When the source chunk entered the ingest queue (steady clock, ns; 0 when unknown): the start
  // of the end-to-end latency the sinks measure.
  int64_t ingest_ns = 0;
  // The source batch these records were taken from, unchanged (by filter, route, dedup); 0 for
  // anything else. With `positions` (per record, its index in that source batch; empty: the
  // source batch itself), it lets an operator reading several streams of one source put their
  // records back in the source's order (engine/input_join.h).
  uint64_t origin = 0;
  std::vector<uint32_t> positions;
};

// An empty batch to take records of `in` into (a stateless operator's output): the same
// watermark, idleness, credit, ingest time and origin.
inline Batch derived_from(const Batch& in) {
  Batch out;
  out.watermark = in.watermark;
  out.idle = in.idle;
  out.credit = in.credit;
  out.ingest_ns = in.ingest_ns;
  out.origin = in.origin;
  return out;
}

// Appends `record`, record `k` of `in` (moved or copied by the caller), with the watermark it
// carries and its position in the source batch.
inline void append_from(Batch& out, const Batch& in, size_t k, Record record) {
  out.records.push_back(std::move(record));
  if (!in.watermarks.empty()) out.watermarks.push_back(in.watermarks[k]);
  if (in.origin != 0) {
    out.positions.push_back(in.positions.empty() ? static_cast<uint32_t>(k) : in.positions[k]);
  }
}

// Batches are immutable once emitted, so one can be delivered to several consumers without a copy.
using BatchPtr = std::shared_ptr<const Batch>;

// The records of `batch` for moving out, when the caller holds the batch's only reference: its
// producer and every other consumer are done with it, so no one reads them any more (the
// count cannot rise again: only holders copy a BatchPtr). Null when it is shared; copy then.
// The vector keeps its size, so the caller may still count the records.
// REQUIRES: the batch was created as a mutable Batch (make_shared<Batch>), as every batch of
// the runtime and of Emitter::emit is, so casting the const away is defined.
inline std::vector<Record>* records_to_move(const BatchPtr& batch) {
  if (batch.use_count() != 1) return nullptr;
  // use_count() is a relaxed load: the fence orders the other owners' reads of the records,
  // which ended with their (release) decrements, before our writes (as Rust's Arc::get_mut).
  std::atomic_thread_fence(std::memory_order_acquire);
  return &const_cast<Batch&>(*batch).records;
}

}  // namespace licflow
