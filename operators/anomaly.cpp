// anomaly: SPEC §5 "anomaly" on the event time of SPEC §2. Per key, scores each numeric `value`
// against a baseline learnt from the key's earlier values — an exponentially weighted mean and
// variance (`method: ewma`) or the median and MAD of the same slot of earlier periods
// (`method: seasonal`) — and emits {ts, KEY FIELDS…, value, expected, stddev, score, direction}
// when |score| reaches `threshold` in an allowed direction. Every value, anomalous or not, then
// updates the baseline. Records are scored in (ts, arrival) order; late ones go to `late`.
//
// Where SPEC is silent or ambiguous, as a user would expect:
// - `method` defaults to `ewma` (SPEC lists it first); `min_samples` defaults to 10 for ewma and
//   2 for seasonal. Keys of the other method (`alpha` with seasonal; `period`, `bucket`, `history`
//   with ewma) are config errors rather than silently ignored.
// - ewma: `min_samples` counts the values seen before the current one (SPEC's n), so with the
//   default 10 the 11th value is the first scored. `expected` is the mean before the update.
// - seasonal: a period's index is floor(ts / period) and the slot is (ts floor-mod period) div
//   bucket, so negative timestamps fall into the same slots as positive ones; a period that is
//   not a multiple of the bucket ends in a shorter slot. "Earlier" values
//   are those of earlier period indexes that have a value in the slot (a period with no value
//   there contributes nothing, and the last `history` contributing periods are used however far
//   back they are). A value in the record's own period is not history: a later value in the same
//   period and slot replaces it as that period's last value. A slot is scored once it has
//   `min_samples` earlier values in all, which may be more than the `history` its median uses.
//   Memory per key and slot: the last max(`history`, `min_samples`) earlier periods plus the
//   current one.
// - `min_samples` must be ≥ 1 (a median of nothing is undefined).
// - `threshold` and `min_stddev` must be finite and > 0: a zero floor would divide by zero, and a
//   threshold of 0 would make a score of exactly 0 both high and low.
// - A value is numeric when it is an integer or a finite real; bools, strings, null and a missing
//   field are skipped and counted as dropped (as records lacking a key field are), so the
//   operator's dropped count shows a misnamed `value:`. `value` is output as read (an integer
//   stays an integer); expected, stddev and score are reals.
// - A late record goes to `late` unchanged and is counted, whether or not it has a numeric
//   value: the late port is where a user looks for what the operator could not judge. One lacking
//   a key field is skipped and counted as dropped, late or not: keying comes first, as in
//   `window` and `threshold` (and Flink's keyBy).
// - Key fields may not be named like an output field (ts, value, expected, stddev, score,
//   direction), which would make the output ambiguous.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "config/duration.h"
#include "config/suggest.h"
#include "engine/time_ordered_operator.h"
#include "operators/key.h"
#include "operators/registry.h"

namespace licflow {
namespace {

constexpr size_t kOut = 0;
constexpr size_t kLate = 1;

// Scale factor that makes the MAD a consistent estimator of a normal distribution's σ.
constexpr double kMadToSigma = 1.4826;

constexpr int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

enum class Method { kEwma, kSeasonal };
enum class Direction { kBoth, kHigh, kLow };

struct AnomalyOptions {
  std::vector<std::string> key_names;
  std::string value_field;
  Method method = Method::kEwma;
  double threshold = 3.0;
  int64_t min_samples = 10;
  double min_stddev = 1.0;
  Direction direction = Direction::kBoth;
  double alpha = 0.1;     // ewma
  int64_t period_ms = 0;  // seasonal
  int64_t bucket_ms = 0;  // seasonal
  int64_t history = 4;    // seasonal
  size_t input_count = 1;
};

// The comparison of one value with its key's baseline.
struct Score {
  double expected;
  double stddev;  // after the min_stddev floor
  double score;
};

struct EwmaState {
  int64_t n = 0;
  double mean = 0;
  double var = 0;
};

// One slot of one key: the last value of each recent period that had one, oldest first.
struct PeriodValue {
  int64_t period;
  double value;
};
using SlotHistory = std::vector<PeriodValue>;

// REQUIRES: !v.empty(). Sorts v.
double median(std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

class Anomaly final : public TimeOrderedOperator {
 public:
  explicit Anomaly(AnomalyOptions options)
      : TimeOrderedOperator({"out", "late"}, options.input_count),
        options_(std::move(options)),
        key_(options_.key_names),
        value_field_(intern_field(options_.value_field)) {}

 private:
  void on_record(const Record& record) override {
    const Value* v = record.find(value_field_);
    if (!key_.encode(record, scratch_) || v == nullptr || !v->is_number() ||
        !std::isfinite(v->as_number())) {
      count_dropped(1);
      return;
    }
    const double x = v->as_number();
    std::optional<Score> s =
        options_.method == Method::kEwma ? observe_ewma(x) : observe_seasonal(record.ts, x);
    if (s && reaches_threshold(s->score)) emit_anomaly(record, *v, *s);
  }

  void on_late(const Record& record) override {
    if (!key_.encode(record, scratch_)) {
      count_dropped(1);
      return;
    }
    count_late();
    emit(kLate, record);
  }

  // Checkpoints (SPEC §7): the baselines of the configured method, by encoded key (and slot).
  void save_operator_state(StateWriter& out) const override {
    out.u8(static_cast<uint8_t>(options_.method));
    out.u64(ewma_.size());
    for (const auto& [key, s] : ewma_) {
      out.str(key);
      out.i64(s.n);
      out.f64(s.mean);
      out.f64(s.var);
    }
    out.u64(seasonal_.size());
    for (const auto& [key, h] : seasonal_) {
      out.str(key);
      out.u64(h.size());
      for (const PeriodValue& p : h) {
        out.i64(p.period);
        out.f64(p.value);
      }
    }
  }

  void load_operator_state(StateReader& in) override {
    if (in.u8() != static_cast<uint8_t>(options_.method)) return in.fail();
    ewma_.clear();
    seasonal_.clear();
    for (uint64_t n = in.count(32); n > 0 && !in.failed(); --n) {
      std::string key = in.str();
      EwmaState s{in.i64(), in.f64(), in.f64()};
      if (!ewma_.emplace(std::move(key), s).second) return in.fail();
    }
    for (uint64_t n = in.count(16); n > 0 && !in.failed(); --n) {
      SlotHistory& h = seasonal_[in.str()];
      if (!h.empty()) return in.fail();  // the key came twice
      const uint64_t periods = in.count(16);
      // Memory bound of observe_seasonal: the periods it keeps plus the current one.
      if (periods > kept_periods() + 1) return in.fail();
      for (uint64_t i = 0; i < periods && !in.failed(); ++i) h.push_back({in.i64(), in.f64()});
    }
  }

  // SPEC: σ = max(√var, min_stddev); scored when n ≥ min_samples; then the update.
  std::optional<Score> observe_ewma(double x) {
    EwmaState& s = ewma_[scratch_];
    if (s.n == 0) {
      s = {1, x, 0};
      return std::nullopt;
    }
    std::optional<Score> result;
    if (s.n >= options_.min_samples) {
      const double sigma = std::max(std::sqrt(s.var), options_.min_stddev);
      result = Score{s.mean, sigma, (x - s.mean) / sigma};
    }
    const double a = options_.alpha;
    const double d = x - s.mean;
    s.mean += a * d;
    s.var = (1 - a) * (s.var + a * d * d);
    ++s.n;
    return result;
  }

  // SPEC: median and 1.4826·MAD of the last `history` earlier periods' last values in the slot.
  std::optional<Score> observe_seasonal(int64_t ts, double x) {
    const int64_t period = floor_div(ts, options_.period_ms);
    const int64_t slot = (ts - period * options_.period_ms) / options_.bucket_ms;
    scratch_.append(reinterpret_cast<const char*>(&slot), sizeof slot);
    SlotHistory& h = seasonal_[scratch_];
    // Records arrive in ts order, so only the newest entry can belong to the record's period.
    const bool has_current = !h.empty() && h.back().period == period;
    const size_t earlier = h.size() - (has_current ? 1 : 0);
    std::optional<Score> result;
    if (earlier >= static_cast<size_t>(options_.min_samples)) {
      const size_t used = std::min(earlier, static_cast<size_t>(options_.history));
      values_.clear();
      for (size_t i = earlier - used; i < earlier; ++i) values_.push_back(h[i].value);
      const double expected = median(values_);
      for (double& v : values_) v = std::abs(v - expected);
      const double sigma = std::max(kMadToSigma * median(values_), options_.min_stddev);
      result = Score{expected, sigma, (x - expected) / sigma};
    }
    if (has_current) {
      h.back().value = x;
    } else {
      h.push_back({period, x});
      if (h.size() > kept_periods() + 1) h.erase(h.begin());
    }
    return result;
  }

  // Earlier periods a slot keeps: enough for its median and to count up to min_samples.
  size_t kept_periods() const {
    return static_cast<size_t>(std::max(options_.history, options_.min_samples));
  }

  bool reaches_threshold(double score) const {
    const bool high = score >= options_.threshold && options_.direction != Direction::kLow;
    const bool low = score <= -options_.threshold && options_.direction != Direction::kHigh;
    return high || low;
  }

  void emit_anomaly(const Record& record, const Value& value, const Score& s) {
    Record out;
    out.ts = record.ts;
    out.reserve(key_.ids().size() + 5);
    for (FieldId id : key_.ids()) out.append(id, *record.find(id));
    out.append(kValue, value);
    out.append(kExpected, Value(s.expected));
    out.append(kStddev, Value(s.stddev));
    out.append(kScore, Value(s.score));
    out.append(kDirection, Value(s.score > 0 ? "high" : "low"));
    emit(kOut, std::move(out));
  }

  const FieldId kValue = intern_field("value");
  const FieldId kExpected = intern_field("expected");
  const FieldId kStddev = intern_field("stddev");
  const FieldId kScore = intern_field("score");
  const FieldId kDirection = intern_field("direction");

  const AnomalyOptions options_;
  const KeyFields key_;
  const FieldId value_field_;
  std::unordered_map<std::string, EwmaState> ewma_;        // by encoded key
  std::unordered_map<std::string, SlotHistory> seasonal_;  // by encoded key + slot

  // Scratch reused from record to record.
  std::string scratch_;         // the encoded key (then + slot, for seasonal)
  std::vector<double> values_;  // a slot's history while its median and MAD are computed
};

// False, and reported, when `key` is given but belongs to the other method.
bool allowed(NodeConfig& config, const char* key, bool applies, const std::string& method) {
  if (applies || !config.has(key)) return true;
  config.error(key,
               "`" + config.id() + "`: `" + key + "` does not apply to method `" + method + "`");
  return false;
}

std::optional<int64_t> duration_or(NodeConfig& config, const char* key, int64_t fallback) {
  if (!config.has(key)) return fallback;
  auto ms = config.get_duration(key, false);
  if (ms && *ms <= 0) {
    config.error(key, "`" + config.id() + "`: `" + key + "` must be longer than 0s");
    return std::nullopt;
  }
  return ms;
}

// A real option that must be finite and > 0 (or, with `at_most_one`, in (0, 1]).
std::optional<double> positive_double(NodeConfig& config, const char* key, double fallback,
                                      bool at_most_one = false) {
  if (!config.has(key)) return fallback;
  auto v = config.get_double(key, false);
  if (v && !(std::isfinite(*v) && *v > 0 && (!at_most_one || *v <= 1))) {
    config.error(key, "`" + config.id() + "`: `" + key + "` must be " +
                          (at_most_one ? "in (0, 1]" : "a number > 0") + ", got `" +
                          config.node()[key].Scalar() + "`");
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::unique_ptr<Operator> make_anomaly(NodeConfig& config) {
  const std::string& id = config.id();
  AnomalyOptions options;
  options.input_count = config.input_count();

  const std::vector<std::string> outputs = {"ts",     "value", "expected",
                                            "stddev", "score", "direction"};
  auto key = read_key_fields(config, outputs,
                             "an anomaly: the output has a field of that name (" + join(outputs) + ")");
  auto value = config.get_string("value", true);
  if (key) options.key_names = *key;
  if (value) options.value_field = *value;

  const std::string method = config.get_string("method", false).value_or("ewma");
  const bool ewma = method == "ewma";
  const bool seasonal = method == "seasonal";
  if (!ewma && !seasonal) {
    config.error("method",
                 "`" + id + "`: `method` must be `ewma` or `seasonal`, got `" + method + "`");
  }
  options.method = seasonal ? Method::kSeasonal : Method::kEwma;

  const std::string direction = config.get_string("direction", false).value_or("both");
  if (direction == "high") {
    options.direction = Direction::kHigh;
  } else if (direction == "low") {
    options.direction = Direction::kLow;
  } else if (direction != "both") {
    config.error("direction", "`" + id + "`: `direction` must be `both`, `high` or `low`, got `" +
                                  direction + "`");
  }
  auto threshold = positive_double(config, "threshold", 3.0);
  auto min_stddev = positive_double(config, "min_stddev", 1.0);
  auto min_samples = config.has("min_samples") ? config.get_int("min_samples", 1, false)
                                               : std::optional<int64_t>(seasonal ? 2 : 10);

  // An unknown method is reported once: then every method's keys are accepted.
  const bool for_ewma = !seasonal;
  const bool for_seasonal = !ewma;
  std::optional<double> alpha;
  if (allowed(config, "alpha", for_ewma, method)) {
    alpha = positive_double(config, "alpha", 0.1, /*at_most_one=*/true);
  }
  std::optional<int64_t> period, bucket, history;
  if (allowed(config, "period", for_seasonal, method)) {
    period = duration_or(config, "period", 7 * 24 * 3600 * 1000LL);
  }
  if (allowed(config, "bucket", for_seasonal, method)) {
    bucket = duration_or(config, "bucket", 3600 * 1000LL);
  }
  if (allowed(config, "history", for_seasonal, method)) {
    history =
        config.has("history") ? config.get_int("history", 1, false) : std::optional<int64_t>(4);
  }
  if (config.failed()) return nullptr;
  options.threshold = *threshold;
  options.min_samples = *min_samples;
  options.min_stddev = *min_stddev;
  options.alpha = *alpha;
  options.period_ms = *period;
  options.bucket_ms = *bucket;
  options.history = *history;
  return std::make_unique<Anomaly>(std::move(options));
}

}  // namespace licflow
