// Metrics: the pieces of `licflow run --http`'s GET /metrics (SPEC §8, Prometheus text format
// 0.0.4). The runtime keeps plain atomic counters on its hot path and renders them only when
// scraped, so an unscraped node pays nothing but relaxed increments.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace licflow {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

// Writes metric families: family() once (HELP and TYPE), then its samples.
class PrometheusText {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, uint64_t value);
  std::string take() { return std::move(out_); }

 private:
  void begin_sample(std::string_view name, const Labels& labels);
  std::string out_;
};

// A latency histogram with fixed buckets (seconds), safe to observe from any thread.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 15> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                     0.005,  0.01,    0.025,  0.05,  0.1,
                                                     0.25,   0.5,     1,      2.5,   10};
  // Records `count` observations of `seconds` (a batch of records that waited as long).
  void observe(double seconds, uint64_t count);
  // Emits NAME_bucket{…, le}, NAME_sum and NAME_count samples (the family must be open).
  void write(PrometheusText& text, std::string_view name, const Labels& labels) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // last: +Inf
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> count_{0};
};

// Nanoseconds on the steady clock: the ingest stamps and busy times.
int64_t steady_now_ns();

}  // namespace licflow
