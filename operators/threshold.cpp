// threshold: SPEC §5 "threshold" on the event time of SPEC §2. Per key, the condition (only the
// boolean true counts) is evaluated on every on-time record and holds, as a step function of
// event time, until the key's next record. When it turns true at `since` and holds until the
// watermark reaches since + for, the alert fires once, at ts = since + for, before any record at
// or after that instant is processed; when a later record of the key makes it false, the alert
// resolves at that record's ts. A condition that turns false before then emits nothing.
//
// Where SPEC is silent, as a Prometheus (`for:` on an alerting rule) or Flink user would expect:
// - `record` of a firing is the key's last record processed before the firing: the last with
//   ts < since + for (a record exactly at since + for is processed after the firing, SPEC §5).
//   With `for: 0s` that is the record that made the condition true: it fires right after it,
//   at its ts (an `available == 0` rule fires at the ts of the checkout that exhausted the
//   feature).
// - A firing alert does not fire again while the condition stays true (one firing per episode);
//   the next true after a resolve starts a new episode with a new `since`. A record with a
//   null or non-boolean condition counts as false: it resolves a firing alert.
// - The resolve carries the episode's `since`, and `record` and `message` of the resolving record.
// - Key field values in the output come from the output's `record`.
// - End of input (SPEC §2): the watermark reaches the largest ts received, so a pending alert
//   with since + for <= that fires; a firing alert stays firing, nothing is resolved.
// - Alerts due at the same instant fire in the order their episodes started ((ts, arrival) of
//   the records that made them true).
// - Late records (ts < watermark) go to port `late` and are counted; they change no alert. A
//   record lacking a key field is skipped and counted as dropped, late or not (as `window`).
// - Keyed, it runs as partitions (operators/partitioned.h) whose outputs merge in the order one
//   instance would have emitted them.
// - `for` defaults to 0s; `severity` to "warning" (Prometheus' usual label value, and the
//   SPEC example's); `message` to "ID: CONDITION" (the alert's id and the condition's text, taken
//   literally), so every alert carries a readable `message` as SPEC's output form lists it.
// - Key fields may not be named like an output field (ts, alert, state, severity, since,
//   message, record), nor be listed twice.
#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

#include "engine/time_format.h"
#include "engine/time_ordered_operator.h"
#include "operators/key.h"
#include "operators/message_template.h"
#include "operators/partitioned.h"
#include "operators/registry.h"

namespace licflow {
namespace {

constexpr size_t kOut = 0;
constexpr size_t kLate = 1;

const std::vector<std::string>& output_fields() {
  static const std::vector<std::string> names = {"ts",    "alert",   "state", "severity",
                                                 "since", "message", "record"};
  return names;
}

struct ThresholdOptions {
  std::string id;
  std::vector<std::string> key_names;
  Expression condition;
  int64_t for_ms = 0;
  std::string severity;
  MessageTemplate message;
  size_t input_count = 1;
};

struct OutputFields {
  FieldId alert = intern_field("alert");
  FieldId state = intern_field("state");
  FieldId severity = intern_field("severity");
  FieldId since = intern_field("since");
  FieldId message = intern_field("message");
  FieldId record = intern_field("record");
};

// (due time, arrival number of the record that started the episode): alerts due together fire
// in the order their episodes started. Arrival numbers are unique and shared by the partitions,
// so the merged partitions' firings come in that order too.
using TimerKey = std::pair<int64_t, uint64_t>;

// A key whose condition holds; keys whose condition is false keep no state.
struct Episode {
  int64_t since = 0;
  bool firing = false;
  TimerKey timer;  // while pending (not firing): its entry in ThresholdOperator::pending_
  Record last;     // while pending: the key's last record, the firing's `record`
};

class ThresholdOperator final : public TimeOrderedOperator {
 public:
  explicit ThresholdOperator(ThresholdOptions options)
      : TimeOrderedOperator({"out", "late"}, options.input_count),
        options_(std::move(options)),
        key_fields_(options_.key_names) {}

 protected:
  void on_record(const Record& record) override {
    if (!key_fields_.encode(record, key_)) {
      count_dropped(1);
      return;
    }
    const bool holds = options_.condition.test(record);
    auto it = episodes_.find(key_);
    if (!holds) {
      if (it == episodes_.end()) return;
      Episode& episode = it->second;
      if (episode.firing) {
        emit(kOut, alert("resolved", record.ts, episode.since, record));
      } else {
        pending_.erase(episode.timer);  // flapping: it never fires
      }
      episodes_.erase(it);
      return;
    }
    if (it != episodes_.end()) {
      if (!it->second.firing) it->second.last = record;
      return;
    }
    Episode& episode = episodes_[key_];
    episode.since = record.ts;
    if (options_.for_ms == 0) {
      episode.firing = true;
      emit(kOut, alert("firing", record.ts, record.ts, record));
      return;
    }
    episode.timer = {due(record.ts), emit_order().arrival};
    episode.last = record;
    pending_.emplace(episode.timer, &episode);
  }

  void on_late(const Record& record) override {
    if (!key_fields_.encode(record, key_)) {
      count_dropped(1);
      return;
    }
    count_late();
    emit(kLate, record);
  }

  // Fires every pending alert whose since + for has been reached; the base class calls this
  // before each record with that record's ts, so a firing precedes every record at its instant.
  void on_time(int64_t time) override {
    while (!pending_.empty() && pending_.begin()->first.first <= time) {
      Episode& episode = *pending_.begin()->second;
      pending_.erase(pending_.begin());
      episode.firing = true;
      set_emit_order({episode.since, episode.timer.second});
      emit(kOut, alert("firing", due(episode.since), episode.since, episode.last));
      episode.last = Record();  // a firing alert needs only `since` until it resolves
    }
  }

  // Checkpoints (SPEC §7): each episode with its key; a pending one also with its arrival number
  // and last record. pending_ points into episodes_ and is rebuilt; its due times come from
  // `since` and the configured `for`.
  void save_operator_state(StateWriter& out) const override {
    out.u64(episodes_.size());
    for (const auto& [key, episode] : episodes_) {
      out.str(key);
      out.i64(episode.since);
      out.boolean(episode.firing);
      if (episode.firing) continue;
      out.u64(episode.timer.second);
      out.record(episode.last);
    }
  }

  void load_operator_state(StateReader& in) override {
    episodes_.clear();
    pending_.clear();
    for (uint64_t n = in.count(17); n > 0 && !in.failed(); --n) {
      auto [it, fresh] = episodes_.try_emplace(in.str());
      Episode& episode = it->second;
      episode.since = in.i64();
      episode.firing = in.boolean();
      if (!fresh) return in.fail();
      if (episode.firing) continue;
      episode.timer = {due(episode.since), in.u64()};
      episode.last = in.record();
      if (!pending_.emplace(episode.timer, &episode).second) return in.fail();  // unique
    }
  }

 private:
  // since + for, saturating: a `for` of years must not wrap around.
  int64_t due(int64_t since) const {
    return since > std::numeric_limits<int64_t>::max() - options_.for_ms
               ? std::numeric_limits<int64_t>::max()
               : since + options_.for_ms;
  }

  // {ts, alert, state, severity, since, KEY FIELDS…, message, record}
  Record alert(const char* state, int64_t ts, int64_t since, const Record& source) const {
    static const OutputFields f;
    Record out;
    out.ts = ts;
    out.reserve(6 + key_fields_.ids().size());
    out.append(f.alert, Value(options_.id));
    out.append(f.state, Value(state));
    out.append(f.severity, Value(options_.severity));
    out.append(f.since, Value(format_rfc3339(since)));
    for (FieldId id : key_fields_.ids()) {
      const Value* v = source.find(id);
      out.append(id, v != nullptr ? *v : Value());
    }
    out.append(f.message, Value(options_.message.render(source)));
    out.append(f.record, Value(std::make_shared<const Record>(source)));
    return out;
  }

  ThresholdOptions options_;
  KeyFields key_fields_;
  std::string key_;  // scratch for the encoded key
  // Node-based: pending_ points into it, and pointers to elements survive rehashing.
  std::unordered_map<std::string, Episode> episodes_;
  std::map<TimerKey, Episode*> pending_;
};

}  // namespace

std::unique_ptr<Operator> make_threshold(NodeConfig& config) {
  const std::string& id = config.id();
  ThresholdOptions options;
  options.id = id;
  options.input_count = config.input_count();
  auto key = read_key_fields(config, output_fields(),
                             "a threshold: the alert has a field of that name");
  if (key) options.key_names = *key;
  auto condition = config.get_expression("condition", true);
  auto for_ms = config.has("for") ? config.get_duration("for", false) : std::optional<int64_t>(0);
  auto severity = config.has("severity") ? config.get_string("severity", false)
                                         : std::optional<std::string>("warning");
  auto message = get_message_template(config, "message");
  if (config.failed()) return nullptr;
  options.condition = std::move(*condition);
  options.for_ms = *for_ms;
  options.severity = std::move(*severity);
  options.message = message ? std::move(*message)
                            : MessageTemplate::literal(id + ": " + options.condition.text());
  if (options.key_names.empty()) return std::make_unique<ThresholdOperator>(std::move(options));
  // Keyed: the keys are shared among partitions that run in parallel (operators/partitioned.h).
  std::vector<std::unique_ptr<TimeOrderedOperator>> parts;
  for (size_t k = 0; k < PartitionedOperator::kPartitions; ++k) {
    parts.push_back(std::make_unique<ThresholdOperator>(options));
  }
  return std::make_unique<PartitionedOperator>(std::move(parts), KeyFields(options.key_names));
}

}  // namespace licflow
