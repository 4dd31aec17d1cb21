// Aggregate functions of SPEC §5 "window": parsing `NAME: FUNC(args)` from the pipeline file, the
// per-window accumulators of the ordinary functions, the quantile sketch and the evaluation of
// the gauge functions over a key's step function.
//
// Threading: specs are immutable after parsing; accumulators, sketches and gauge logs belong to
// one window operator instance and are used from one thread at a time.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "config/node_config.h"
#include "engine/record.h"
#include "engine/state_codec.h"

namespace licflow {

enum class AggregateKind : uint8_t {
  kCount,
  kCountIf,
  kCountDistinct,
  kSum,
  kMin,
  kMax,
  kAvg,
  kQuantile,
  kFirst,
  kLast,
  kGaugeMax,
  kGaugeMin,
  kGaugeAvg,
  kGaugeIntegral,
};

inline bool is_gauge(AggregateKind kind) { return kind >= AggregateKind::kGaugeMax; }

struct AggregateSpec {
  std::string name;
  FieldId output = 0;  // the output field NAME
  AggregateKind kind = AggregateKind::kCount;
  FieldId field = 0;       // the argument field; unused by count and count_if
  Expression condition;    // count_if
  double level = 0;        // quantile's q in [0, 1]
  int64_t unit_ms = 1000;  // gauge_integral's UNIT
};

// Parses the aggregate `name: text` of a window, reporting every problem to config.diag() at its
// column inside `func` (a scalar node). Returns nullopt when it reported any.
std::optional<AggregateSpec> parse_aggregate(NodeConfig& config, const YAML::Node& name,
                                             const YAML::Node& func);

// A field value's number, keeping SPEC §4's distinction between integers and reals so that
// min/max/sum of integers print as integers.
struct Number {
  bool is_int = false;
  int64_t integer = 0;
  double real = 0;

  static Number of(const Value& v) {  // REQUIRES: v.is_number()
    return v.is_int() ? Number{true, v.as_int(), 0} : Number{false, 0, v.as_double()};
  }
  double as_double() const { return is_int ? static_cast<double>(integer) : real; }
  Value to_value() const { return is_int ? Value(integer) : Value(real); }
};

// Quantiles within a relative error of kRelativeAccuracy (DDSketch, Masson et al., VLDB 2019):
// values fall into logarithmic buckets (gamma^(i-1), gamma^i], mirrored for negative values, with
// zero counted apart. Memory grows with log(max/min), not with the number of values.
class QuantileSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.005;
  // Up to this many values the quantile is exact: a relative accuracy means nothing near zero,
  // where values of both signs meet (the 0.25-quantile of -10, 10, 20 is 0).
  static constexpr size_t kExactValues = 256;

  void add(double x);
  uint64_t count() const { return count_; }
  // The q-quantile by linear interpolation between the order statistics around rank q·(n−1)
  // (numpy's default, Prometheus' quantile_over_time). REQUIRES: count() > 0, 0 <= q <= 1.
  double quantile(double q) const;

  // Checkpoints (SPEC §7). load() fails `in` on counts that disagree or buckets out of range.
  void save(StateWriter& out) const;
  void load(StateReader& in);
  size_t heap_bytes() const;

 private:
  // Dense counts of consecutive bucket indexes starting at `offset`.
  struct Store {
    std::vector<uint64_t> counts;
    int offset = 0;
    void add(int index);
  };
  // The value of the element of 0-based rank `rank` in sorted order, within the accuracy.
  double value_at_rank(uint64_t rank) const;

  std::vector<double> exact_;  // every value while there are at most kExactValues
  Store positive_;
  Store negative_;  // indexed by the magnitude of negative values
  uint64_t zeros_ = 0;
  uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
};

// Distinct values of count_distinct, compared as SPEC §4 `==` does: 1 and 1.0 are one value,
// 1 and "1" and true are three. Null is not a value (SQL COUNT(DISTINCT)).
class DistinctSet {
 public:
  void add(const Value& v);
  int64_t size() const;

  void save(StateWriter& out) const;
  void load(StateReader& in);
  size_t heap_bytes() const;

 private:
  static size_t text_entry_bytes(const std::string& v);

  std::unordered_set<int64_t> integers_;  // integers and integral reals
  std::unordered_set<double> reals_;      // the other reals
  std::unordered_set<std::string> strings_;
  std::unordered_set<std::string> objects_;  // their JSON text
  // Heap bytes of the entries of strings_ and objects_, kept as they come: heap_bytes() runs for
  // every key a batch touches, and a walk over a day of distinct users each time was quadratic.
  size_t text_bytes_ = 0;
  bool seen_false_ = false;
  bool seen_true_ = false;
};

namespace detail {
struct CountState {
  int64_t n = 0;
};
struct SumState {  // sum and avg: integers summed exactly while they fit
  int64_t integer = 0;
  double real = 0;
  int64_t n = 0;
  bool all_int = true;
};
struct ExtremeState {  // min and max
  std::optional<Number> best;
};
struct EdgeState {  // first and last
  int64_t ts = 0;
  Value value;  // null until a non-null value was seen
};
}  // namespace detail

// The per-window state of one non-gauge aggregate: only what its function needs.
class Accumulator {
 public:
  explicit Accumulator(AggregateKind kind);

  // Adds one record: `value` is the argument field's value (nullptr when absent); for count and
  // count_if, non-null when the record counts. Called in processing order, which breaks ts ties.
  void add(AggregateKind kind, const Value* value, int64_t ts);
  Value result(const AggregateSpec& spec) const;

  // Checkpoints (SPEC §7): load() on an Accumulator built for the same kind; fails `in` when the
  // saved state belongs to another kind of function.
  void save(StateWriter& out) const;
  void load(StateReader& in);
  // Heap bytes beyond sizeof(Accumulator), roughly (memory accounting of spillable state).
  size_t heap_bytes() const;

 private:
  std::variant<detail::CountState, detail::SumState, detail::ExtremeState, detail::EdgeState,
               std::unique_ptr<DistinctSet>, std::unique_ptr<QuantileSketch>>
      state_;
};

// One numeric value of a gauge field on a key's step function.
struct GaugePoint {
  int64_t ts;
  double value;     // for integrals and averages
  int64_t integer;  // the value itself when is_int: gauge_max/gauge_min print it unrounded
  bool is_int;
  bool on_time;  // late points change no carried value (SPEC §5)
};
// REQUIRES: v.is_number().
inline GaugePoint gauge_point(int64_t ts, const Value& v, bool on_time) {
  return {ts, v.as_number(), v.is_int() ? v.as_int() : 0, v.is_int(), on_time};
}

// The step function of one gauge field over one window [start, end).
struct GaugeSummary {
  bool any = false;  // false: no value held anywhere in the window; every gauge is null
  GaugePoint max{};
  GaugePoint min{};
  double integral_ms = 0;  // value × milliseconds
  int64_t covered_ms = 0;  // from window_start (value carried in) or the first value, to the end
};

// `points` are a key's values sorted by (ts, arrival). The value carried into the window is the
// last on-time point before `start`, and counts unless a point sits exactly at `start`.
GaugeSummary summarize_gauge(const std::vector<GaugePoint>& points, int64_t start, int64_t end);
Value gauge_result(const AggregateSpec& spec, const GaugeSummary& summary);

}  // namespace licflow
