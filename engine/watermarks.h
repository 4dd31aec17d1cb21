// InputWatermarks: the watermark of a node with several inputs (SPEC §2: the minimum of its
// inputs' watermarks), with idleness as Flink's `withIdleness`: an input whose stream is idle —
// its source sent nothing for `time.idle_timeout`, whether it ended or not — does not hold the
// minimum back. The combined watermark never goes back: when an idle input wakes up behind
// it, its records are judged late. When every input is idle, the largest of their watermarks
// counts (as Flink's StatusWatermarkValve): which source went quiet last must not matter.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/record.h"
#include "engine/state_codec.h"

namespace licflow {

class InputWatermarks {
 public:
  explicit InputWatermarks(size_t inputs = 1)
      : watermarks_(std::max<size_t>(inputs, 1), kMinTime),
        idle_(std::max<size_t>(inputs, 1), false) {}

  // A batch arrived on `input` carrying its stream's watermark and idleness.
  void update(size_t input, int64_t watermark, bool idle) {
    if (input >= watermarks_.size()) return;
    watermarks_[input] = std::max(watermarks_[input], watermark);
    idle_[input] = idle;
    int64_t low = std::numeric_limits<int64_t>::max();
    bool any_active = false;
    for (size_t i = 0; i < watermarks_.size(); ++i) {
      if (idle_[i]) continue;
      low = std::min(low, watermarks_[i]);
      any_active = true;
    }
    if (!any_active) low = *std::max_element(watermarks_.begin(), watermarks_.end());
    combined_ = std::max(combined_, low);
  }

  int64_t combined() const { return combined_; }
  // Every input is idle: so is the node's output stream.
  bool all_idle() const { return std::all_of(idle_.begin(), idle_.end(), [](bool b) { return b; }); }
  size_t size() const { return watermarks_.size(); }

  void save(StateWriter& out) const {
    out.u64(watermarks_.size());
    for (size_t i = 0; i < watermarks_.size(); ++i) {
      out.i64(watermarks_[i]);
      out.boolean(idle_[i]);
    }
    out.i64(combined_);
  }
  // Fails `in` when the number of inputs changed.
  void load(StateReader& in) {
    if (in.count(9) != watermarks_.size()) return in.fail();
    for (size_t i = 0; i < watermarks_.size(); ++i) {
      watermarks_[i] = in.i64();
      idle_[i] = in.boolean();
    }
    combined_ = in.i64();
  }

 private:
  std::vector<int64_t> watermarks_;  // per input: the largest received
  std::vector<bool> idle_;           // per input: idle since its last batch said so
  int64_t combined_ = kMinTime;
};

}  // namespace licflow
