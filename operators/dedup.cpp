// dedup: SPEC §5 "dedup" — drops a record when a record with the same key passed less than
// `within` earlier in event time: some passed q has q.ts <= r.ts < q.ts + within. Records that
// lack a key field are skipped and counted. Stateless in time: no holding, late records are
// judged like any other, against the passed records still remembered.
//
// Memory: per key the passed timestamps that can still matter, i.e. those at or after
// (latest passed ts of the key) - within - horizon, horizon = the larger of a day and
// max_out_of_orderness + allowed_lateness; keys whose every timestamp fell out of that range are
// swept periodically. A record more than the horizon behind its key's latest passed record may
// therefore pass where an unbounded memory would drop it. A day keeps that to records far later
// than any the pipeline declares, at a few timestamps per key (passed ones are `within` apart).
#include <algorithm>
#include <unordered_map>

#include "operators/key.h"
#include "operators/registry.h"

namespace licflow {
namespace {

constexpr uint64_t kSweepEvery = 1 << 16;  // records between sweeps of forgotten keys

class Dedup final : public Operator {
 public:
  Dedup(KeyFields key, int64_t within_ms, int64_t horizon_ms)
      : Operator({"out"}), key_(std::move(key)), within_ms_(within_ms), horizon_ms_(horizon_ms) {}

  // Which of two duplicates passes depends on their order: streams of one source come merged
  // in the source's order (engine/input_join.h), whatever the threads.
  bool join_inputs() override { return true; }
  bool forwards_batches() const override { return true; }

  void process(size_t, const BatchPtr& batch, Emitter& out) override {
    const std::vector<Record>& in = batch->records;
    admitted_.clear();
    uint64_t skipped = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const Record& r = in[i];
      if (!key_.encode(r, scratch_)) {
        ++skipped;
        continue;
      }
      if (admit(scratch_, r.ts)) admitted_.push_back(static_cast<uint32_t>(i));
      if (++since_sweep_ == kSweepEvery) sweep();
    }
    if (skipped > 0) count_dropped(skipped);
    if (admitted_.size() == in.size()) {
      out.emit(0, batch);  // nothing dropped: forward the batch itself
      return;
    }
    Batch kept = derived_from(*batch);
    kept.records.reserve(admitted_.size());
    std::vector<Record>* movable = records_to_move(batch);
    for (uint32_t i : admitted_) {
      append_from(kept, *batch, i, movable != nullptr ? std::move((*movable)[i]) : in[i]);
    }
    out.emit(0, std::move(kept));
  }

  // Checkpoints (SPEC §7): the remembered timestamps per key and the sweep's progress.
  bool has_state() const override { return true; }

  void save_state(StateWriter& out) const override {
    out.i64(latest_);
    out.u64(since_sweep_);
    out.u64(passed_.size());
    for (const auto& [key, passed] : passed_) {
      out.str(key);
      out.u64(passed.size());
      for (int64_t ts : passed) out.i64(ts);
    }
  }

  void load_state(StateReader& in) override {
    latest_ = in.i64();
    since_sweep_ = in.u64();
    if (since_sweep_ >= kSweepEvery) in.fail();
    passed_.clear();
    for (uint64_t n = in.count(24); n > 0 && !in.failed(); --n) {
      auto [it, fresh] = passed_.try_emplace(in.str());
      std::vector<int64_t>& passed = it->second;
      for (uint64_t m = in.count(8); m > 0 && !in.failed(); --m) passed.push_back(in.i64());
      // admit() and sweep() rely on a sorted, non-empty list per key.
      if (!fresh || passed.empty() || !std::is_sorted(passed.begin(), passed.end())) in.fail();
    }
    if (in.failed()) passed_.clear();  // never leave an empty list behind for sweep()
  }

 private:
  bool admit(const std::string& key, int64_t ts) {
    std::vector<int64_t>& passed = passed_[key];  // sorted ascending
    auto after = std::upper_bound(passed.begin(), passed.end(), ts);
    if (after != passed.begin() && ts - *(after - 1) < within_ms_) return false;
    passed.insert(after, ts);
    latest_ = std::max(latest_, ts);
    // Forget timestamps no on-time record can be judged against any more.
    int64_t keep_from = passed.back() - within_ms_ - horizon_ms_;
    auto first_kept = std::lower_bound(passed.begin(), passed.end(), keep_from);
    if (first_kept != passed.begin() && first_kept != passed.end()) {
      passed.erase(passed.begin(), first_kept);
    }
    return true;
  }

  void sweep() {
    since_sweep_ = 0;
    if (latest_ == kMinTime) return;
    int64_t keep_from = latest_ - within_ms_ - horizon_ms_;
    std::erase_if(passed_, [&](const auto& entry) { return entry.second.back() < keep_from; });
  }

  KeyFields key_;
  int64_t within_ms_;
  int64_t horizon_ms_;
  std::unordered_map<std::string, std::vector<int64_t>> passed_;
  int64_t latest_ = kMinTime;
  uint64_t since_sweep_ = 0;
  std::string scratch_;
  std::vector<uint32_t> admitted_;  // per batch: the records that pass, by index
};

}  // namespace

std::unique_ptr<Operator> make_dedup(NodeConfig& config) {
  auto key = config.get_string_list("key", true);
  auto within = config.get_duration("within", true);
  if (config.failed()) return nullptr;
  const TimeSettings& time = config.settings().time;
  constexpr int64_t kMinHorizonMs = 24 * 3600 * 1000LL;
  return std::make_unique<Dedup>(
      KeyFields(*key), *within,
      std::max(kMinHorizonMs, time.max_out_of_orderness_ms + time.allowed_lateness_ms));
}

}  // namespace licflow
