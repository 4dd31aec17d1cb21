// window: SPEC §5 "window" on the event time of SPEC §2. Per key, epoch-aligned half-open windows
// [start, end) of `size`, one starting every `slide`; a window is emitted with revision 0 when the
// watermark reaches its end and kept until it reaches end + allowed_lateness; a late record
// re-emits each of its kept, already emitted windows with revision + 1 (Flink's semantics).
//
// Where SPEC is silent, as a Flink user would expect:
// - A late record (ts < watermark) whose window has not ended yet is simply added to it; the
//   window is emitted once, when the watermark reaches its end (Flink fires at once only windows
//   whose end has passed).
// - The value carried into a window is the key's last *on-time* value before window_start: late
//   records change the windows they fall in and nothing else, also when they create a window.
// - "A record exactly at window_start" means one with a numeric value of that gauge's field.
// - Carried-only windows go on up to start <= the end-of-input watermark (the largest ts received).
// - Keys are "first seen" in processing order: an on-time record at its (ts, arrival), so that
//   out-of-order input within max_out_of_orderness yields exactly the output of sorted input; a
//   late record on arrival, at (watermark, arrival).
// - A record lacking a key field is skipped and counted as dropped (not as late), also when it
//   is late: keying comes first, as Flink's keyBy before its window.
// - count_distinct compares as SPEC §4 `==` (1 and 1.0 are one value) and ignores null.
// - sum of integers is an integer (a real once it overflows int64 or meets a real); min, max,
//   gauge_max and gauge_min keep the value's own form; avg, quantile, gauge_avg and
//   gauge_integral are reals.
// - quantile interpolates linearly between the order statistics around rank q·(n−1), as numpy,
//   Prometheus' quantile_over_time and SQL PERCENTILE_CONT do.
// - Aggregate names and key fields may not reuse an output field (window_start, window_end,
//   revision, ts) or each other.
#include <algorithm>
#include <limits>
#include <map>

#include "config/duration.h"
#include "config/suggest.h"
#include "engine/keyed_state.h"
#include "engine/time_format.h"
#include "engine/time_ordered_operator.h"
#include "operators/aggregates.h"
#include "operators/key.h"
#include "operators/partitioned.h"
#include "operators/registry.h"

namespace licflow {
namespace {

constexpr int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct WindowOptions {
  std::vector<std::string> key_names;
  int64_t size_ms = 0;
  int64_t slide_ms = 0;
  int64_t allowed_lateness_ms = 0;
  std::vector<AggregateSpec> aggregates;
  size_t input_count = 1;
};

// One window of one key. Gauge functions keep nothing here: they read the key's GaugeLog.
struct KeyWindow {
  int64_t start;
  int64_t emissions = 0;                  // the next revision
  std::vector<Accumulator> accumulators;  // one per non-gauge aggregate
};

// The values of one gauge field of one key, sorted by (ts, arrival), from the last on-time value
// before the oldest window a late record may still reach.
struct GaugeLog {
  std::vector<GaugePoint> points;
  double current = 0;  // the last on-time value: carried into windows without records
  bool has_current = false;
};

struct KeyState {
  std::vector<Value> key_values;
  std::vector<KeyWindow> windows;  // sorted by start
  std::vector<GaugeLog> gauges;    // one per distinct gauge field
  // Windows starting before next_start were created by on-time records or are carried-only
  // windows already handled; chained_end is the fire time registered for the next of those.
  int64_t next_start = kMinTime;
  int64_t chained_end = kMinTime;
  bool carries_value = false;  // some gauge field's current value is non-zero
  // (ts, arrival) of the key's first record: windows closing together come out in this order,
  // across partitions too (SPEC §5: keys in first-seen order).
  EmitOrder first_seen;
};

// How a key's state is checkpointed and spilled, and weighed against state.memory_limit.
class KeyStateCodec final : public KeyedState<KeyState>::Codec {
 public:
  KeyStateCodec(const WindowOptions& options, const std::vector<size_t>& accumulated,
                const std::vector<FieldId>& gauge_fields)
      : options_(options), accumulated_(accumulated), gauge_fields_(gauge_fields) {}

  void save(const KeyState& key, StateWriter& out) const override {
    for (const Value& v : key.key_values) out.value(v);
    out.u64(key.windows.size());
    for (const KeyWindow& w : key.windows) {
      out.i64(w.start);
      out.i64(w.emissions);
      for (const Accumulator& a : w.accumulators) a.save(out);
    }
    for (const GaugeLog& log : key.gauges) {
      out.u64(log.points.size());
      for (const GaugePoint& p : log.points) {
        out.i64(p.ts);
        out.f64(p.value);
        out.i64(p.integer);
        out.boolean(p.is_int);
        out.boolean(p.on_time);
      }
      out.f64(log.current);
      out.boolean(log.has_current);
    }
    out.i64(key.next_start);
    out.i64(key.chained_end);
    out.boolean(key.carries_value);
    out.i64(key.first_seen.ts);
    out.u64(key.first_seen.arrival);
  }

  void load(StateReader& in, KeyState& key) const override {
    for (size_t i = 0; i < options_.key_names.size(); ++i) key.key_values.push_back(in.value());
    for (uint64_t n = in.count(16); n > 0 && !in.failed(); --n) {
      KeyWindow& w = key.windows.emplace_back(KeyWindow{in.i64(), in.i64(), {}});
      for (size_t a : accumulated_) {
        w.accumulators.emplace_back(options_.aggregates[a].kind).load(in);
      }
      // find_window() searches by start: starts must be strictly increasing.
      if (w.emissions < 0 ||
          (key.windows.size() > 1 && (key.windows.end() - 2)->start >= w.start)) {
        in.fail();
      }
    }
    key.gauges.resize(gauge_fields_.size());
    for (GaugeLog& log : key.gauges) {
      for (uint64_t n = in.count(26); n > 0 && !in.failed(); --n) {
        GaugePoint p{in.i64(), in.f64(), in.i64(), in.boolean(), in.boolean()};
        if (!log.points.empty() && log.points.back().ts > p.ts) in.fail();  // sorted by ts
        log.points.push_back(p);
      }
      log.current = in.f64();
      log.has_current = in.boolean();
    }
    key.next_start = in.i64();
    key.chained_end = in.i64();
    key.carries_value = in.boolean();
    key.first_seen.ts = in.i64();
    key.first_seen.arrival = in.u64();
  }

  size_t footprint(const KeyState& key) const override {
    constexpr size_t kAllocation = 16;  // the allocator's overhead per block
    size_t bytes = sizeof(KeyState) + key.key_values.capacity() * sizeof(Value) +
                   key.windows.capacity() * sizeof(KeyWindow) +
                   key.gauges.capacity() * sizeof(GaugeLog) + 3 * kAllocation;
    for (const Value& v : key.key_values) bytes += v.heap_bytes();
    for (const KeyWindow& w : key.windows) {
      bytes += w.accumulators.capacity() * sizeof(Accumulator) + kAllocation;
      for (const Accumulator& a : w.accumulators) bytes += a.heap_bytes();
    }
    for (const GaugeLog& log : key.gauges) {
      bytes += log.points.capacity() * sizeof(GaugePoint) + kAllocation;
    }
    return bytes;
  }

 private:
  const WindowOptions& options_;
  const std::vector<size_t>& accumulated_;
  const std::vector<FieldId>& gauge_fields_;
};

// All mutable state of the operator.
struct WindowState {
  // In first-seen order: a key's number is its emission order. Spilled beyond memory_limit.
  KeyedState<KeyState> keys;
  // window_end -> keys with a window ending there, or with a carried-only window due there.
  std::map<int64_t, std::vector<KeyId>> fire_at;
  // window_end + allowed_lateness -> keys whose window ending at window_end may be dropped.
  std::map<int64_t, std::vector<KeyId>> drop_at;
};

class WindowOperator final : public TimeOrderedOperator {
 public:
  explicit WindowOperator(WindowOptions options)
      : TimeOrderedOperator({"out", "late"}, options.input_count),
        options_(std::move(options)),
        key_(options_.key_names) {
    for (size_t i = 0; i < options_.aggregates.size(); ++i) {
      const AggregateSpec& spec = options_.aggregates[i];
      if (is_gauge(spec.kind)) {
        auto it = std::find(gauge_fields_.begin(), gauge_fields_.end(), spec.field);
        slot_.push_back(static_cast<size_t>(it - gauge_fields_.begin()));
        if (it == gauge_fields_.end()) gauge_fields_.push_back(spec.field);
      } else {
        slot_.push_back(accumulated_.size());
        accumulated_.push_back(i);
      }
    }
    inputs_.resize(accumulated_.size());
  }

  // The key, the aggregates' fields and count_if's conditions; `late` passes records whole.
  std::optional<std::vector<FieldId>> fields_read(const std::vector<bool>& consumed) const override {
    if (consumed.size() > 1 && consumed[1]) return std::nullopt;
    std::vector<FieldId> fields = key_.ids();
    for (const AggregateSpec& spec : options_.aggregates) {
      if (spec.kind == AggregateKind::kCountIf) {
        spec.condition.collect_fields(fields);
      } else if (spec.kind != AggregateKind::kCount) {
        fields.push_back(spec.field);
      }
    }
    return fields;
  }

  const char* spill_kind() const override { return "window"; }
  Status enable_spill(SpillStore& store, const std::string& owner,
                      uint64_t budget_bytes) override {
    auto table = store.table(spill_kind(), owner);
    if (!table.is_ok()) return table.status();
    state_.keys.enable_spill(std::move(table.value()), budget_bytes, owner);
    return Status::ok();
  }

 private:
  void on_record(const Record& record) override {
    const std::optional<uint64_t> hash = key_hash(record);
    if (!hash) {
      count_dropped(1);
      return;
    }
    KeyState* state = nullptr;
    const KeyId id = key_of(record, *hash, emit_order(), state);
    KeyState& key = *state;
    collect_inputs(record);
    const int64_t last = floor_div(record.ts, options_.slide_ms) * options_.slide_ms;
    for (int64_t start = last - options_.size_ms + options_.slide_ms; start <= last;
         start += options_.slide_ms) {
      add_to(window_at(id, key, start), record.ts);
    }
    key.next_start = std::max(key.next_start, last + options_.slide_ms);
    if (gauge_fields_.empty()) return;
    key.carries_value = false;
    for (size_t g = 0; g < gauge_fields_.size(); ++g) {
      GaugeLog& log = key.gauges[g];
      if (const Value* v = field_value(record, gauge_fields_[g]); v && v->is_number()) {
        log.points.push_back(gauge_point(record.ts, *v, true));
        log.current = v->as_number();
        log.has_current = true;
      }
      key.carries_value |= log.has_current && log.current != 0;
    }
    if (key.carries_value) chain(id, key);
  }

  void on_late(const Record& record) override {
    const std::optional<uint64_t> hash = key_hash(record);
    if (!hash) {
      count_dropped(1);
      return;
    }
    count_late();  // behind the watermark, whether a kept window takes it or not
    const int64_t wm = watermark();
    const int64_t slide = options_.slide_ms;
    const int64_t last = floor_div(record.ts, slide) * slide;
    // Kept windows: end + allowed_lateness > watermark.
    const int64_t oldest_kept =
        floor_div(wm - options_.size_ms - options_.allowed_lateness_ms, slide) * slide + slide;
    const int64_t first = std::max(last - options_.size_ms + slide, oldest_kept);
    if (first > last) {
      emit(1, record);
      return;
    }
    // Processed now, after every record up to the watermark and before every later one: that is
    // where its key, if new, is first seen — not at its ts, before keys seen earlier.
    const EmitOrder seen{wm, emit_order().arrival};
    KeyState* state = nullptr;
    const KeyId id = key_of(record, *hash, seen, state);
    KeyState& key = *state;
    collect_inputs(record);
    for (int64_t start = first; start <= last; start += slide) {
      add_to(window_at(id, key, start), record.ts);
    }
    for (size_t g = 0; g < gauge_fields_.size(); ++g) {
      if (const Value* v = field_value(record, gauge_fields_[g]); v && v->is_number()) {
        std::vector<GaugePoint>& points = key.gauges[g].points;
        auto at = std::upper_bound(points.begin(), points.end(), record.ts,
                                   [](int64_t t, const GaugePoint& p) { return t < p.ts; });
        points.insert(at, gauge_point(record.ts, *v, false));
      }
    }
    for (int64_t start = first; start <= last && start + options_.size_ms <= wm; start += slide) {
      emit_window(id, *find_window(key, start));
    }
  }

  // Fires and drops in time order, a fire first at equal times: a key's windows are dropped as
  // the watermark passes them, not after every window up to `time` has fired, so a long stretch
  // of carried-only windows (a license held all week, a watermark jump) costs time linear in
  // their number — each drop erases from the front of the key's windows.
  void on_time(int64_t time) override {
    fired_until_ = time;
    auto& fire_at = state_.fire_at;
    auto& drop_at = state_.drop_at;
    for (;;) {
      const bool fire_due = !fire_at.empty() && fire_at.begin()->first <= time;
      const bool drop_due = !drop_at.empty() && drop_at.begin()->first <= time;
      if (fire_due && (!drop_due || fire_at.begin()->first <= drop_at.begin()->first)) {
        auto due = fire_at.extract(fire_at.begin());
        fire(due.key(), due.mapped());
      } else if (drop_due) {
        auto due = drop_at.extract(drop_at.begin());
        drop_windows(due.key() - options_.allowed_lateness_ms, due.mapped(), due.key());
      } else {
        break;
      }
    }
  }

  // The base class has advanced the watermark to the largest ts received and fired what ended.
  void on_end_of_input() override {
    fired_until_ = std::numeric_limits<int64_t>::max();  // every window still open fires now
    while (!state_.fire_at.empty()) {
      auto due = state_.fire_at.extract(state_.fire_at.begin());
      fire(due.key(), due.mapped());
    }
  }

  // Checkpoints (SPEC §7): every key in first-seen order (its number is its emission order) with
  // its encoded key, windows with their revisions and accumulators, gauge logs and chaining marks
  // (KeyStateCodec); then the fire and drop schedules. The sizes the configuration implies are
  // written first, so a state saved for other aggregates or key fields is refused.
  void save_operator_state(StateWriter& out) const override {
    out.u64(key_.ids().size());
    out.u64(accumulated_.size());
    out.u64(gauge_fields_.size());
    out.i64(fired_until_);
    state_.keys.save(out);
    save_schedule(out, state_.fire_at);
    save_schedule(out, state_.drop_at);
  }

  void load_operator_state(StateReader& in) override {
    if (in.u64() != key_.ids().size() || in.u64() != accumulated_.size() ||
        in.u64() != gauge_fields_.size()) {
      return in.fail();
    }
    fired_until_ = in.i64();
    state_.fire_at.clear();
    state_.drop_at.clear();
    state_.keys.load(in);
    load_schedule(in, state_.fire_at);
    load_schedule(in, state_.drop_at);
    publish();
  }

  // Loads the batch's spilled keys in one read, before its records are processed.
  void before_batch(const SelectedRecords& records) override {
    if (!state_.keys.any_spilled()) return;
    batch_keys_.clear();
    for (const Record& r : records) {
      if (const std::optional<uint64_t> hash = key_.hash(r)) {
        state_.keys.candidates_hashed(*hash, batch_keys_);
      }
    }
    state_.keys.prefetch(batch_keys_);
  }

  void after_batch() override {
    state_.keys.settle();
    publish();
  }

  void publish() {
    publish_footprint({state_.keys.size(), state_.keys.hot_keys(),
                       state_.keys.hot_bytes() + state_.keys.index_bytes()});
  }

  static void save_schedule(StateWriter& out, const std::map<int64_t, std::vector<KeyId>>& at) {
    out.u64(at.size());
    for (const auto& [time, ids] : at) {
      out.i64(time);
      out.u64(ids.size());
      for (KeyId id : ids) out.u64(id);
    }
  }

  void load_schedule(StateReader& in, std::map<int64_t, std::vector<KeyId>>& at) const {
    for (uint64_t n = in.count(16); n > 0 && !in.failed(); --n) {
      std::vector<KeyId>& ids = at[in.i64()];
      for (uint64_t m = in.count(8); m > 0 && !in.failed(); --m) {
        const KeyId id = in.u64();
        if (id >= state_.keys.next_id()) return in.fail();
        ids.push_back(id);
      }
    }
  }

  // The KeyFields::hash of the record's key; the partitioner's, when it computed it (the window
  // is partitioned by its own key).
  std::optional<uint64_t> key_hash(const Record& record) const {
    if (std::optional<uint64_t> known = partition_key_hash()) return known;
    return key_.hash(record);
  }

  // The key of the record, whose KeyFields::hash is `hash`, created on first sight (`seen`, its
  // place in processing order); `state` points at its state (valid until the batch's end, see
  // KeyedState::at). Only a new key is encoded.
  KeyId key_of(const Record& record, uint64_t hash, EmitOrder seen, KeyState*& state) {
    const auto matches = [&](std::string_view encoded) { return key_.matches(record, encoded); };
    if (std::optional<KeyId> id = state_.keys.find_hashed(hash, matches, state)) return *id;
    key_.encode(record, scratch_);
    const KeyId id = state_.keys.add(scratch_);
    KeyState& key = state_.keys.at(id);
    key.first_seen = seen;
    for (FieldId f : key_.ids()) key.key_values.push_back(*field_value(record, f));
    key.gauges.resize(gauge_fields_.size());
    state = &key;
    return id;
  }

  // nullptr when absent; `ts` is the record's event time.
  const Value* field_value(const Record& record, FieldId id) {
    if (id != field::kTs) return record.find(id);
    ts_value_ = Value(record.ts);
    return &ts_value_;
  }

  void collect_inputs(const Record& record) {
    static const Value kCounted(true);
    for (size_t a = 0; a < accumulated_.size(); ++a) {
      const AggregateSpec& spec = options_.aggregates[accumulated_[a]];
      switch (spec.kind) {
        case AggregateKind::kCount:
          inputs_[a] = &kCounted;
          break;
        case AggregateKind::kCountIf:
          inputs_[a] = spec.condition.test(record) ? &kCounted : nullptr;
          break;
        default:
          inputs_[a] = field_value(record, spec.field);
      }
    }
  }

  void add_to(KeyWindow& window, int64_t ts) {
    for (size_t a = 0; a < accumulated_.size(); ++a) {
      window.accumulators[a].add(options_.aggregates[accumulated_[a]].kind, inputs_[a], ts);
    }
  }

  static KeyWindow* find_window(KeyState& key, int64_t start) {
    auto it = std::lower_bound(key.windows.begin(), key.windows.end(), start,
                               [](const KeyWindow& w, int64_t s) { return w.start < s; });
    return it != key.windows.end() && it->start == start ? &*it : nullptr;
  }

  // The window of `id` starting at `start`, created (and scheduled) when missing.
  KeyWindow& window_at(KeyId id, int64_t start) { return window_at(id, state_.keys.at(id), start); }
  KeyWindow& window_at(KeyId id, KeyState& key, int64_t start) {
    if (!key.windows.empty() && key.windows.back().start == start) return key.windows.back();
    if (KeyWindow* w = find_window(key, start)) return *w;
    auto at = std::lower_bound(key.windows.begin(), key.windows.end(), start,
                               [](const KeyWindow& w, int64_t s) { return w.start < s; });
    KeyWindow& window = *key.windows.insert(at, KeyWindow{start, 0, {}});
    window.accumulators.reserve(accumulated_.size());
    for (size_t a : accumulated_) window.accumulators.emplace_back(options_.aggregates[a].kind);
    const int64_t end = start + options_.size_ms;
    // A window that ended already is being created by a late record, which emits it itself.
    if (end > fired_until_) state_.fire_at[end].push_back(id);
    state_.drop_at[end + options_.allowed_lateness_ms].push_back(id);
    return window;
  }

  // Schedules the carried-only window of a key whose gauge value is non-zero.
  void chain(KeyId id) { chain(id, state_.keys.at(id)); }
  void chain(KeyId id, KeyState& key) {
    const int64_t end = key.next_start + options_.size_ms;
    if (key.chained_end == end) return;
    key.chained_end = end;
    state_.fire_at[end].push_back(id);
  }

  // The watermark reached `end`: emit the windows ending there, keys in first-seen order.
  void fire(int64_t end, std::vector<KeyId>& ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    const int64_t start = end - options_.size_ms;
    for_keys(ids, [&](KeyId id) {
      KeyState& key = state_.keys.at(id);
      KeyWindow* window = find_window(key, start);
      // No on-time record of this key since next_start (or it would have moved on), so its
      // current values are the ones carried into `start`.
      if (key.next_start == start && start <= watermark()) {
        key.next_start = start + options_.slide_ms;
        if (key.carries_value) {
          if (window == nullptr) window = &window_at(id, start);
          chain(id);
        }
      }
      if (window != nullptr && window->emissions == 0) {
        set_emit_order(key.first_seen);
        emit_window(id, *window);
      }
    });
  }

  // Drops the windows ending at `end` (and earlier) of `ids`, and the gauge values no window a
  // late record may still reach can use.
  void drop_windows(int64_t end, const std::vector<KeyId>& ids, int64_t time) {
    const int64_t slide = options_.slide_ms;
    const int64_t oldest_kept =
        floor_div(time - options_.size_ms - options_.allowed_lateness_ms, slide) * slide + slide;
    for_keys(ids, [&](KeyId id) {
      KeyState& key = state_.keys.at(id);
      auto kept = std::find_if(key.windows.begin(), key.windows.end(), [&](const KeyWindow& w) {
        return w.start + options_.size_ms > end;
      });
      key.windows.erase(key.windows.begin(), kept);
      for (GaugeLog& log : key.gauges) {
        auto from = std::lower_bound(log.points.begin(), log.points.end(), oldest_kept,
                                     [](const GaugePoint& p, int64_t t) { return p.ts < t; });
        // Keep the last on-time value before `from`: it is carried into the oldest windows.
        auto after_carried = from;
        while (after_carried != log.points.begin() && !(after_carried - 1)->on_time) {
          --after_carried;
        }
        auto keep = after_carried == log.points.begin() ? from : after_carried - 1;
        log.points.erase(log.points.begin(), keep);
      }
      if (is_empty(key)) state_.keys.remove(id);
    });
  }

  // A key with no window left and no gauge value ever is as good as one never seen: it is
  // forgotten, so state follows the live keys (a key with a gauge value keeps producing carried
  // windows and is kept).
  static bool is_empty(const KeyState& key) {
    return key.windows.empty() &&
           std::all_of(key.gauges.begin(), key.gauges.end(), [](const GaugeLog& log) {
             return log.points.empty() && !log.has_current;
           });
  }

  // Runs `each` on every live key of `ids` (a timer may outlive its key), loading the spilled
  // ones a chunk at a time in one read and settling memory between chunks: the end of an hour
  // may touch millions of cold keys.
  template <typename Each>
  void for_keys(const std::vector<KeyId>& ids, Each each) {
    constexpr size_t kChunk = 4096;
    for (size_t begin = 0; begin < ids.size(); begin += kChunk) {
      live_.clear();
      for (size_t i = begin; i < std::min(ids.size(), begin + kChunk); ++i) {
        if (state_.keys.contains(ids[i])) live_.push_back(ids[i]);
      }
      state_.keys.prefetch(live_);
      for (KeyId id : live_) each(id);
      if (ids.size() > kChunk) state_.keys.settle();
    }
  }

  void emit_window(KeyId id, KeyWindow& window) {
    const KeyState& key = state_.keys.at(id);
    const int64_t end = window.start + options_.size_ms;
    summaries_.clear();
    for (const GaugeLog& log : key.gauges) {
      summaries_.push_back(summarize_gauge(log.points, window.start, end));
    }
    Record out;
    out.ts = end;
    out.reserve(3 + key.key_values.size() + options_.aggregates.size());
    out.append(kWindowStart, Value(format_rfc3339(window.start)));
    out.append(kWindowEnd, Value(format_rfc3339(end)));
    for (size_t i = 0; i < key.key_values.size(); ++i) {
      out.append(key_.ids()[i], key.key_values[i]);
    }
    for (size_t i = 0; i < options_.aggregates.size(); ++i) {
      const AggregateSpec& spec = options_.aggregates[i];
      out.append(spec.output, is_gauge(spec.kind) ? gauge_result(spec, summaries_[slot_[i]])
                                                  : window.accumulators[slot_[i]].result(spec));
    }
    out.append(kRevision, Value(window.emissions++));
    emit(0, std::move(out));
  }

  const FieldId kWindowStart = intern_field("window_start");
  const FieldId kWindowEnd = intern_field("window_end");
  const FieldId kRevision = intern_field("revision");

  const WindowOptions options_;
  const KeyFields key_;
  std::vector<FieldId> gauge_fields_;  // distinct fields of the gauge functions
  std::vector<size_t> accumulated_;    // the aggregates (indexes) that keep an Accumulator
  std::vector<size_t> slot_;           // per aggregate: its Accumulator or its gauge field

  const KeyStateCodec codec_{options_, accumulated_, gauge_fields_};
  // Timers take about 2 × 4 bytes per key in fire_at and drop_at.
  WindowState state_{KeyedState<KeyState>(codec_, 8, &KeyFields::hash_encoded), {}, {}};
  int64_t fired_until_ = kMinTime;  // windows ending at or before it were emitted

  // Scratch reused from record to record.
  std::string scratch_;               // the encoded key of a new key
  std::vector<const Value*> inputs_;  // per Accumulator: the current record's argument
  Value ts_value_;
  std::vector<GaugeSummary> summaries_;  // per gauge field, of the window being emitted
  std::vector<KeyId> batch_keys_;     // the keys of the batch being prefetched
  std::vector<KeyId> live_;           // for_keys(): the live keys of a chunk
};

}  // namespace

std::unique_ptr<Operator> make_window(NodeConfig& config) {
  const std::string& id = config.id();
  WindowOptions options;
  options.input_count = config.input_count();
  options.allowed_lateness_ms = config.settings().time.allowed_lateness_ms;
  auto size = config.get_duration("size", true);
  auto slide = config.has("slide") ? config.get_duration("slide", false) : size;
  if (size && *size <= 0) config.error("size", "`" + id + "`: `size` must be longer than 0s");
  if (config.has("slide") && slide && *slide <= 0) {
    config.error("slide", "`" + id + "`: `slide` must be longer than 0s");
  } else if (size && slide && *size > 0 && *size % *slide != 0) {
    config.error("slide", "`" + id + "`: `size` (" + format_duration(*size) +
                              ") must be a multiple of `slide` (" + format_duration(*slide) + ")");
  }

  // Output field names already taken, to reject an aggregate or key field that would clash.
  std::vector<std::string> taken = {"ts", "window_start", "window_end", "revision"};
  auto key = read_key_fields(config, taken, "a window: the output has a field of that name");
  if (key) {
    taken.insert(taken.end(), key->begin(), key->end());
    options.key_names = *key;
  }
  const YAML::Node aggregates = config.node()["aggregates"];
  if (aggregates.IsDefined() && !aggregates.IsNull()) {
    if (!aggregates.IsMap()) {
      config.error("aggregates", "`" + id +
                                     "`: `aggregates` must map names to functions, "
                                     "e.g. {denials: \"count_if(type == 'denied')\"}");
    } else {
      for (const auto& entry : aggregates) {
        const std::string& name = entry.first.Scalar();
        if (name.empty()) {
          config.diag().error(entry.first.Mark(),
                              "`" + id + "`: aggregate names must be non-empty strings");
          continue;
        }
        if (std::find(taken.begin(), taken.end(), name) != taken.end()) {
          config.diag().error(entry.first.Mark(),
                              "`" + id + "`: aggregate name `" + name +
                                  "` clashes with a key field or an output field (" +
                                  join({"ts", "window_start", "window_end", "revision"}) + ")");
          continue;
        }
        taken.push_back(name);
        if (auto spec = parse_aggregate(config, entry.first, entry.second)) {
          options.aggregates.push_back(std::move(*spec));
        }
      }
    }
  }
  if (config.failed()) return nullptr;
  options.size_ms = *size;
  options.slide_ms = *slide;
  if (options.key_names.empty()) return std::make_unique<WindowOperator>(std::move(options));
  // Keyed: the keys are shared among partitions that run in parallel.
  std::vector<std::unique_ptr<TimeOrderedOperator>> parts;
  for (size_t k = 0; k < PartitionedOperator::kPartitions; ++k) {
    parts.push_back(std::make_unique<WindowOperator>(options));
  }
  return std::make_unique<PartitionedOperator>(std::move(parts), KeyFields(options.key_names));
}

}  // namespace licflow
