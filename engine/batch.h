// Batch: the unit that travels along the graph's edges. Records move in batches so the per-message
// scheduling cost is paid once per few thousand records, not once per record.
#pragma once

#include <memory>
#include <vector>

#include "engine/record.h"

namespace licflow {

struct Batch {
  std::vector<Record> records;
  // The producing stream's watermark after these records (SPEC §2); kMinTime before any.
  int64_t watermark = kMinTime;
  // The producing stream is idle (SPEC §2 idleness, see engine/watermarks.h): until a batch
  // without this flag comes, consumers leave its watermark out of their minimum.
  bool idle = false;
  // Backpressure credit of the source chunk this batch came from. Every batch derived from the
  // chunk shares it; the credit returns to the source when the last of them is destroyed.
  std::shared_ptr<void> credit;
  // When the source chunk entered the ingest queue (steady clock, ns; 0 when unknown): the start
  // of the end-to-end latency the sinks measure.
  int64_t ingest_ns = 0;
};

// Batches are immutable once emitted, so one can be delivered to several consumers without a copy.
using BatchPtr = std::shared_ptr<const Batch>;

}  // namespace licflow
