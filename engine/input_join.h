// InputJoin: SPEC §2 for an operator reading several streams of one source through filter, route
// and dedup (`input: [r.a, r.b]`, or two filters of one source). "Watermarks travel through the
// graph with the records, as in Flink": route and filter pass every watermark on at once, on
// every port, so when such an operator receives a record, each of its inputs has received the
// watermark the source had before that record. Here the streams' batches travel separately and
// reach the operator in any order (with several threads, in a different order from run to run);
// judged input by input, a record would be late or not depending on which came first.
//
// So the runtime holds each stream's batch until every stream's batch taken from the same source
// batch (Batch::origin) has come, and the operator reads them merged, in the source's order
// (Batch::positions), as its only input. A record a route sends to several of the streams
// (`mode: all`) comes once per stream, in the order of the operator's inputs. Every stream
// brings a batch for every source batch: the runtime sends empty ones on the way to a join.
//
// The same holds the ports of one operator that groups its output (Operator::group_output): a
// node reading several of them (`input: [state, state.sessions]`) reads them merged in the order
// the operator emitted them, each derived record right after the record that caused it (SPEC §2).
// A sink reads its joined inputs so too, each record still written with its own stream's name.
//
// Threading: used by its node's serial body only.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/batch.h"

namespace licflow {

class InputJoin {
 public:
  explicit InputJoin(size_t inputs) : inputs_(inputs) {}

  // Takes the batch `input` brought. Returns the merged batch once every input has brought its
  // batch of that origin, else null. A batch without origin passes at once. `inputs`, when
  // given, receives the input each record of the returned batch came from.
  BatchPtr add(size_t input, BatchPtr batch, std::vector<uint32_t>* inputs = nullptr);
  // The sets still incomplete (none unless a stream lost a batch), merged as they stand, oldest
  // first: at end of input. `inputs`, when given, receives per batch what add() gives.
  std::vector<BatchPtr> drain(std::vector<std::vector<uint32_t>>* inputs = nullptr);

 private:
  struct Pending {
    uint64_t origin = 0;
    std::vector<BatchPtr> by_input;  // null: not come yet
    size_t missing = 0;
  };
  BatchPtr merge(const Pending& p, std::vector<uint32_t>* inputs) const;

  size_t inputs_;
  std::deque<Pending> pending_;  // in the order their first batch came
};

}  // namespace licflow
