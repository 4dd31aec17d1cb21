// cost: SPEC §5 "cost" on the event time of SPEC §2. Annotates each `session` record (usually
// from `license_state`'s `sessions` port) with `cost`, priced by its feature's inventory `cost:`
// model (SPEC §3), and `cost_center`, allocated by the `groups:` rules; a `budget:` turns each
// cost center's month-to-date cost into alerts on port `budget`. Sessions are priced in
// (ts, arrival) order — ts is the session's end — because a tiered rate depends on the sessions
// priced before.
//
// Formulas. A session runs from `start` to `end` (its ts); hours = (end − start) / 3 600 000 ms,
// split at UTC month boundaries (h_m: its hours in calendar month m, whose length H_m is
// 24 × its days: 672, 696, 720 or 744). `count` multiplies every model: a checkout of 5 tokens
// costs 5 times one of 1 (license-hours = count × hours).
// - usage: cost = per_hour × count × max(hours, minimum_hours) (minimum_hours default 0, applied
//   per session: a short checkout is billed as minimum_hours).
// - tiered: each feature keeps, per calendar month, the license-hours priced so far (C_m, per
//   feature across servers: SPEC says "the feature's hours"). The session's license-hours in
//   month m, L = count × h_m, cover the interval [C_m, C_m + L) of that counter; each part of it
//   inside tier i ([up_to_hours of tier i−1, up_to_hours of tier i), the last tier open-ended)
//   costs tier i's per_hour. Then C_m += L. cost = the sum over the session's months.
// - subscription: per_month is one license's price for a month, spread over the month's hours:
//   cost = Σ_m per_month × count × h_m / H_m (a whole-month checkout of 1 license costs per_month,
//   whether the month has 28 or 31 days).
// The cost of a session is attributed to the months it spans (for budgets) as above: each month
// gets the cost of its hours; usage's minimum_hours top-up goes to the month the session ends in.
//
// Allocation: `groups: {CENTER: RULE, …}` is tried in order and the first match gives
// `cost_center`. A RULE is a group name or a list of them (matching the session's `group`), or
// `{where: EXPR}` (SPEC §4, over the session record, e.g. `project =~ '^rd-'`). Without a match:
// `default_cost_center` when set, else the session's `group` itself (so no rules at all means
// one cost center per group), else null. A group listed under two cost centers is a config error.
//
// Budget: `budget: {per_month: {CENTER: AMOUNT, …}, alert_at: [0.75, 0.9, 1.0]}` (alert_at
// defaults to those; fractions > 0, strictly increasing). Per (cost center, month) the cost
// attributed so far is summed; when it reaches alert_at × budget, one alert per level and month
// is emitted right after the session that crossed it, at that session's ts:
// {ts, alert: ID, state: firing, severity, cost_center, month: "YYYY-MM", alert_at, cost,
//  budget, fraction, message}, with cost = month-to-date cost, fraction = cost / budget, and
// severity `warning` below 1.0 and `critical` at ≥ 1.0. A session crossing several levels
// emits them in increasing order. Alerts never resolve: month-to-date cost never falls, and a
// new month starts from 0. Cost centers without a budget, and a null cost_center, get no alerts.
//
// Where SPEC is silent, as a user of a license cost report would expect:
// - Records that are not `type: session` pass through unchanged (in event-time order, as held).
// - A session of a feature without a cost model (not in the inventory, or no `cost:`) gets
//   `cost: null` ("not priced", which 0 would hide) and still a cost_center; so does a session
//   whose span is unknown (no `start` and no `duration_s`), reversed, or longer than 100 years.
//   `count` is 1 when absent or not an integer ≥ 1 (SPEC §1). `cost` and `cost_center` replace
//   fields of those names already on the record.
// - Late sessions (ts < watermark) are priced at once, not sent to a late port — as
//   license_state applies a late checkin, a closed session must never go unbilled. A tiered late
//   session is priced at its months' counters as they stand when it arrives. The session and its
//   alerts are marked `"late": true`. Late records are counted (late_records()).
// - Cost models are validated here, at their inventory position, when a cost operator exists.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include <spdlog/fmt/fmt.h>

#include "config/suggest.h"
#include "engine/time_format.h"
#include "engine/time_ordered_operator.h"
#include "operators/registry.h"

namespace licflow {
namespace {

constexpr size_t kOut = 0;
constexpr size_t kBudget = 1;
constexpr double kMsPerHour = 3'600'000.0;
constexpr int64_t kMsPerDay = 86'400'000;
constexpr int64_t kMaxSessionMonths = 1200;

// ---- Calendar months (UTC), in int64 so that no timestamp overflows.

// Months since year 0: year × 12 + (month − 1).
using MonthIndex = int64_t;

constexpr int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Howard Hinnant's civil_from_days, reduced to the month.
MonthIndex month_of(int64_t ms) {
  const int64_t z = floor_div(ms, kMsPerDay) + 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return year * 12 + month - 1;
}

// The first millisecond of month m (Hinnant's days_from_civil), saturating at the int64 range.
int64_t month_start(MonthIndex m) {
  int64_t year = floor_div(m, 12);
  const int64_t month = m - year * 12 + 1;
  year -= month <= 2 ? 1 : 0;
  const int64_t era = floor_div(year, 400);
  const int64_t yoe = year - era * 400;
  const int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5;
  const int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (days > kMax / kMsPerDay) return kMax;
  if (days < -(kMax / kMsPerDay)) return std::numeric_limits<int64_t>::min();
  return days * kMsPerDay;
}

std::string month_label(MonthIndex m) {
  return fmt::format("{:04}-{:02}", floor_div(m, 12), m - floor_div(m, 12) * 12 + 1);
}

// The part of a session inside one calendar month.
struct MonthPiece {
  MonthIndex month;
  int64_t ms;        // of the session in this month
  int64_t month_ms;  // length of the month
};

// Splits [start, end) at month boundaries; a zero-length session is one empty piece in its month.
// False when it spans more than kMaxSessionMonths.
bool split_by_month(int64_t start, int64_t end, std::vector<MonthPiece>& out) {
  out.clear();
  MonthIndex m = month_of(start);
  int64_t from = start;
  do {
    if (out.size() == kMaxSessionMonths) return false;
    const int64_t next = month_start(m + 1);
    const int64_t to = std::min(end, next);
    out.push_back({m, to - from, next - month_start(m)});
    from = to;
    ++m;
  } while (from < end);
  return true;
}

// ---- Options

enum class Model { kUsage, kTiered, kSubscription };

struct Tier {
  double up_to_hours;  // +inf for the last tier
  double per_hour;
};

struct CostModel {
  Model model = Model::kUsage;
  double per_hour = 0;       // usage
  double minimum_hours = 0;  // usage
  std::vector<Tier> tiers;   // tiered
  double per_month = 0;      // subscription
};

struct GroupRule {
  std::string cost_center;
  std::vector<std::string> groups;  // matched against `group` when `where` is not set
  Expression where;
};

struct CostOptions {
  std::string id;
  size_t input_count = 1;
  std::unordered_map<std::string, CostModel> models;  // by feature
  std::vector<GroupRule> groups;
  std::optional<std::string> default_cost_center;
  std::map<std::string, double> budgets;  // per_month, by cost center
  std::vector<double> alert_at = {0.75, 0.9, 1.0};
};

// The cost over the counter interval [before, before + hours) of a tiered model.
double tiered_cost(const std::vector<Tier>& tiers, double before, double hours) {
  double cost = 0;
  double at = before;
  double left = hours;
  for (const Tier& tier : tiers) {
    if (left <= 0) break;
    if (at >= tier.up_to_hours) continue;
    const double take = std::min(left, tier.up_to_hours - at);
    cost += take * tier.per_hour;
    at += take;
    left -= take;
  }
  return cost;
}

// ---- State

struct MonthSpend {
  double cost = 0;
  uint64_t alerts = 0;  // how many alert_at levels have fired
};

// Everything pricing depends on besides the options; checkpointed.
struct CostState {
  std::map<std::pair<std::string, MonthIndex>, double> tier_hours;  // (feature, month) → C_m
  std::map<std::pair<std::string, MonthIndex>, MonthSpend> spent;   // (cost center, month)
};

class CostOperator final : public TimeOrderedOperator {
 public:
  explicit CostOperator(CostOptions options)
      : TimeOrderedOperator({"out", "budget"}, options.input_count), options_(std::move(options)) {}

 private:
  void on_record(const Record& record) override { handle(record, false); }

  void on_late(const Record& record) override {
    count_late();
    handle(record, true);
  }

  void handle(const Record& record, bool late) {
    const Value* type = record.find(field::kType);
    if (type == nullptr || !type->is_string() || type->as_string() != "session") {
      emit(kOut, record);
      return;
    }
    Record session = record;
    const Value center = allocate(session);
    month_costs_.clear();
    Value cost;
    if (price(session, month_costs_)) {
      double total = 0;
      for (const auto& [month, c] : month_costs_) total += c;
      cost = Value(total);
    }
    session.set(kCost, std::move(cost));
    session.set(kCostCenter, center);
    if (late) session.set(field::kLate, Value(true));
    const int64_t ts = session.ts;
    emit(kOut, std::move(session));
    if (center.is_string()) {
      for (const auto& [month, c] : month_costs_) charge(center.as_string(), month, c, ts, late);
    }
  }

  Value allocate(const Record& session) const {
    const Value* group = session.find(field::kGroup);
    const bool has_group = group != nullptr && group->is_string();
    for (const GroupRule& rule : options_.groups) {
      const bool match = rule.where.ok()
                             ? rule.where.test(session)
                             : has_group && std::find(rule.groups.begin(), rule.groups.end(),
                                                      group->as_string()) != rule.groups.end();
      if (match) return Value(rule.cost_center);
    }
    if (options_.default_cost_center) return Value(*options_.default_cost_center);
    return has_group ? *group : Value();
  }

  // Fills `out` with the session's cost per month, in month order; false when it cannot be priced.
  bool price(const Record& session, std::vector<std::pair<MonthIndex, double>>& out) {
    const Value* feature = session.find(field::kFeature);
    if (feature == nullptr || !feature->is_string()) return false;
    auto model_it = options_.models.find(feature->as_string());
    if (model_it == options_.models.end()) return false;
    const CostModel& model = model_it->second;
    const int64_t end = session.ts;
    const std::optional<int64_t> start = session_start(session);
    if (!start || *start > end || !split_by_month(*start, end, pieces_)) return false;
    const Value* count_value = session.find(field::kCount);
    const double count =
        count_value != nullptr && count_value->is_int() && count_value->as_int() >= 1
            ? static_cast<double>(count_value->as_int())
            : 1.0;
    switch (model.model) {
      case Model::kUsage: {
        const double hours = static_cast<double>(end - *start) / kMsPerHour;
        const double total = model.per_hour * count * std::max(hours, model.minimum_hours);
        double before_last = 0;
        for (size_t i = 0; i + 1 < pieces_.size(); ++i) {
          const double c =
              model.per_hour * count * (static_cast<double>(pieces_[i].ms) / kMsPerHour);
          out.emplace_back(pieces_[i].month, c);
          before_last += c;
        }
        out.emplace_back(pieces_.back().month, total - before_last);
        break;
      }
      case Model::kTiered:
        for (const MonthPiece& p : pieces_) {
          double& counter = state_.tier_hours[{feature->as_string(), p.month}];
          const double hours = count * (static_cast<double>(p.ms) / kMsPerHour);
          out.emplace_back(p.month, tiered_cost(model.tiers, counter, hours));
          counter += hours;
        }
        break;
      case Model::kSubscription:
        for (const MonthPiece& p : pieces_) {
          out.emplace_back(p.month, model.per_month * count * static_cast<double>(p.ms) /
                                        static_cast<double>(p.month_ms));
        }
        break;
    }
    return true;
  }

  // `start` as RFC 3339 (license_state's form) or ms; else end − duration_s.
  static std::optional<int64_t> session_start(const Record& session) {
    static const FieldId kStart = intern_field("start");
    static const FieldId kDuration = intern_field("duration_s");
    if (const Value* v = session.find(kStart); v != nullptr) {
      if (v->is_string()) return parse_rfc3339(v->as_string());
      if (v->is_int()) return v->as_int();
    }
    const Value* d = session.find(kDuration);
    if (d == nullptr || !d->is_number() || !std::isfinite(d->as_number()) || d->as_number() < 0 ||
        d->as_number() > 1e13) {
      return std::nullopt;
    }
    return session.ts - std::llround(d->as_number() * 1000);
  }

  void charge(const std::string& center, MonthIndex month, double cost, int64_t ts, bool late) {
    auto budget = options_.budgets.find(center);
    if (budget == options_.budgets.end()) return;
    MonthSpend& spend = state_.spent[{center, month}];
    spend.cost += cost;
    const double fraction = spend.cost / budget->second;
    while (spend.alerts < options_.alert_at.size() && fraction >= options_.alert_at[spend.alerts]) {
      emit(kBudget, alert(center, month, options_.alert_at[spend.alerts], spend.cost,
                          budget->second, ts, late));
      ++spend.alerts;
    }
  }

  Record alert(const std::string& center, MonthIndex month, double level, double cost,
               double budget, int64_t ts, bool late) const {
    static const FieldId kAlert = intern_field("alert");
    static const FieldId kState = intern_field("state");
    static const FieldId kSeverity = intern_field("severity");
    static const FieldId kMonth = intern_field("month");
    static const FieldId kAlertAt = intern_field("alert_at");
    static const FieldId kBudgetField = intern_field("budget");
    static const FieldId kFraction = intern_field("fraction");
    static const FieldId kMessage = intern_field("message");
    const std::string label = month_label(month);
    // Percent rounded so that 0.9 reads 90, not 90.00000000000001.
    const std::string message = fmt::format("{} reached {:g}% of its {} budget: {:.2f} of {:.2f}",
                                            center, std::round(level * 1e8) / 1e6, label, cost,
                                            budget);
    Record out;
    out.ts = ts;
    out.reserve(12);
    out.append(kAlert, Value(options_.id));
    out.append(kState, Value("firing"));
    out.append(kSeverity, Value(level >= 1.0 ? "critical" : "warning"));
    out.append(kCostCenter, Value(center));
    out.append(kMonth, Value(label));
    out.append(kAlertAt, Value(level));
    out.append(kCost, Value(cost));
    out.append(kBudgetField, Value(budget));
    out.append(kFraction, Value(cost / budget));
    out.append(kMessage, Value(message));
    if (late) out.append(field::kLate, Value(true));
    return out;
  }

  // Checkpoints (SPEC §7): the tier counters, then the month-to-date spend per cost center.
  void save_operator_state(StateWriter& out) const override {
    out.u64(state_.tier_hours.size());
    for (const auto& [key, hours] : state_.tier_hours) {
      out.str(key.first);
      out.i64(key.second);
      out.f64(hours);
    }
    out.u64(state_.spent.size());
    for (const auto& [key, spend] : state_.spent) {
      out.str(key.first);
      out.i64(key.second);
      out.f64(spend.cost);
      out.u64(spend.alerts);
    }
  }

  void load_operator_state(StateReader& in) override {
    state_ = {};
    for (uint64_t n = in.count(24); n > 0 && !in.failed(); --n) {
      std::string feature = in.str();
      const MonthIndex month = in.i64();
      state_.tier_hours[{std::move(feature), month}] = in.f64();
    }
    for (uint64_t n = in.count(32); n > 0 && !in.failed(); --n) {
      std::string center = in.str();
      const MonthIndex month = in.i64();
      MonthSpend& spend = state_.spent[{std::move(center), month}];
      spend.cost = in.f64();
      spend.alerts = in.u64();
      if (spend.alerts > options_.alert_at.size()) in.fail();  // saved with other alert_at
    }
  }

  const FieldId kCost = intern_field("cost");
  const FieldId kCostCenter = intern_field("cost_center");

  const CostOptions options_;
  CostState state_;
  // Scratch reused from session to session.
  std::vector<MonthPiece> pieces_;
  std::vector<std::pair<MonthIndex, double>> month_costs_;
};

// ---- Configuration

std::string quoted(const std::string& s) { return "`" + s + "`"; }

// Reports every key of `map` not in `allowed`.
void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                const std::string& where, Diagnostics& diag) {
  for (const auto& entry : map) {
    const std::string& key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::string hint = nearest(key, allowed);
    diag.error(entry.first.Mark(),
               "unknown key " + quoted(key) + " in " + where +
                   (hint.empty() ? "" : " (did you mean " + quoted(hint) + "?)") +
                   "; valid keys: " + join(allowed));
  }
}

// A finite number >= 0 (> 0 when `positive`) held by a scalar node; reported and nullopt if not.
std::optional<double> number(const YAML::Node& node, const std::string& what, bool positive,
                             Diagnostics& diag) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    try {
      size_t used = 0;
      const double v = std::stod(text, &used);
      if (used == text.size() && std::isfinite(v) && (positive ? v > 0 : v >= 0)) return v;
    } catch (const std::exception&) {
    }
  }
  diag.error(node.Mark(), what + " must be a number " + (positive ? "> 0" : ">= 0") +
                              (node.IsScalar() ? ", got " + quoted(node.Scalar()) : ""));
  return std::nullopt;
}

// A required number member `key` of `map`; reported at the map when missing.
std::optional<double> member(const YAML::Node& map, const char* key, const std::string& where,
                             bool positive, Diagnostics& diag) {
  const YAML::Node value = map[key];
  if (!value.IsDefined() || value.IsNull()) {
    diag.error(map.Mark(), where + ": missing " + quoted(key));
    return std::nullopt;
  }
  return number(value, where + ": " + quoted(key), positive, diag);
}

std::optional<std::vector<Tier>> parse_tiers(const YAML::Node& cost, const std::string& where,
                                             Diagnostics& diag) {
  const YAML::Node tiers = cost["tiers"];
  if (!tiers.IsDefined() || tiers.IsNull()) {
    diag.error(cost.Mark(), where + ": missing `tiers`");
    return std::nullopt;
  }
  if (!tiers.IsSequence() || tiers.size() == 0) {
    diag.error(tiers.Mark(), where +
                                 ": `tiers` must be a non-empty list such as "
                                 "[{up_to_hours: 100, per_hour: 5.0}, {per_hour: 4.5}]");
    return std::nullopt;
  }
  std::vector<Tier> out;
  bool ok = true;
  double previous = 0;
  for (size_t i = 0; i < tiers.size(); ++i) {
    const YAML::Node tier = tiers[i];
    const std::string at = where + ", tier " + std::to_string(i + 1);
    if (!tier.IsMap()) {
      diag.error(tier.Mark(), at + " must be a mapping such as {up_to_hours: 100, per_hour: 5.0}");
      ok = false;
      continue;
    }
    check_keys(tier, {"up_to_hours", "per_hour"}, at, diag);
    const auto rate = member(tier, "per_hour", at, false, diag);
    const YAML::Node bound = tier["up_to_hours"];
    const bool last = i + 1 == tiers.size();
    const bool has_bound = bound.IsDefined() && !bound.IsNull();
    std::optional<double> up_to = std::numeric_limits<double>::infinity();
    if (last && has_bound) {
      diag.error(bound.Mark(), at + ": the last tier must be open-ended (no `up_to_hours`), or "
                                    "hours beyond it would have no rate");
      up_to.reset();
    } else if (!last) {
      up_to = member(tier, "up_to_hours", at, true, diag);
      if (up_to && *up_to <= previous) {
        diag.error(bound.Mark(), at + ": `up_to_hours` must increase from tier to tier");
        up_to.reset();
      }
      if (up_to) previous = *up_to;
    }
    if (!rate || !up_to) {
      ok = false;
      continue;
    }
    out.push_back({*up_to, *rate});
  }
  if (!ok) return std::nullopt;
  return out;
}

// One feature's inventory `cost:`; nullopt (reported) when invalid.
std::optional<CostModel> parse_cost_model(const std::string& feature, const YAML::Node& cost,
                                          Diagnostics& diag) {
  const std::string where = "`cost` of feature " + quoted(feature);
  if (!cost.IsMap()) {
    diag.error(cost.Mark(), where + " must be a mapping such as {model: usage, per_hour: 12}");
    return std::nullopt;
  }
  const std::vector<std::string> models = {"usage", "tiered", "subscription"};
  const YAML::Node model = cost["model"];
  if (!model.IsDefined() || model.IsNull() || !model.IsScalar()) {
    diag.error(model.IsDefined() ? model.Mark() : cost.Mark(),
               where + ": `model` must be one of " + join(models));
    return std::nullopt;
  }
  const std::string& name = model.Scalar();
  CostModel out;
  bool ok = true;
  if (name == "usage") {
    out.model = Model::kUsage;
    check_keys(cost, {"model", "per_hour", "minimum_hours"}, where + " (model usage)", diag);
    const auto per_hour = member(cost, "per_hour", where, false, diag);
    std::optional<double> minimum = 0.0;
    if (cost["minimum_hours"].IsDefined() && !cost["minimum_hours"].IsNull()) {
      minimum = number(cost["minimum_hours"], where + ": `minimum_hours`", false, diag);
    }
    ok = per_hour && minimum;
    if (ok) {
      out.per_hour = *per_hour;
      out.minimum_hours = *minimum;
    }
  } else if (name == "tiered") {
    out.model = Model::kTiered;
    check_keys(cost, {"model", "tiers"}, where + " (model tiered)", diag);
    auto tiers = parse_tiers(cost, where, diag);
    ok = tiers.has_value();
    if (ok) out.tiers = std::move(*tiers);
  } else if (name == "subscription") {
    out.model = Model::kSubscription;
    check_keys(cost, {"model", "per_month"}, where + " (model subscription)", diag);
    const auto per_month = member(cost, "per_month", where, false, diag);
    ok = per_month.has_value();
    if (ok) out.per_month = *per_month;
  } else {
    const std::string hint = nearest(name, models);
    diag.error(model.Mark(), where + ": unknown cost model " + quoted(name) +
                                 (hint.empty() ? "" : " (did you mean " + quoted(hint) + "?)") +
                                 "; valid: " + join(models));
    return std::nullopt;
  }
  if (!ok) return std::nullopt;
  return out;
}

void parse_groups(NodeConfig& config, CostOptions& options) {
  const YAML::Node groups = config.node()["groups"];
  if (!config.has("groups")) return;
  Diagnostics& diag = config.diag();
  const std::string where = quoted(config.id()) + ": `groups`";
  if (!groups.IsMap()) {
    diag.error(groups.Mark(), where +
                                  " must map cost centers to group names or {where: EXPR}, "
                                  "e.g. {engineering: [cfd, fea], research: r_and_d}");
    return;
  }
  std::map<std::string, std::string> owner;  // group name → the cost center that lists it
  for (const auto& entry : groups) {
    GroupRule rule;
    rule.cost_center = entry.first.Scalar();
    const YAML::Node& value = entry.second;
    const std::string at = where + " of " + quoted(rule.cost_center);
    if (value.IsMap()) {
      check_keys(value, {"where"}, at, diag);
      if (!value["where"].IsDefined() || value["where"].IsNull()) {
        diag.error(value.Mark(), at + ": missing `where`");
      } else if (auto e = config.parse_expression(value["where"])) {
        rule.where = std::move(*e);
      }
    } else {
      std::vector<YAML::Node> names;
      if (value.IsScalar()) names.push_back(value);
      if (value.IsSequence()) {
        for (const YAML::Node& name : value) names.push_back(name);
      }
      if (names.empty()) {
        diag.error(value.Mark(), at + " must be a group name, a list of them or {where: EXPR}");
      }
      for (const YAML::Node& name : names) {
        if (!name.IsScalar()) {
          diag.error(name.Mark(), at + " must list group names");
          continue;
        }
        auto [it, inserted] = owner.emplace(name.Scalar(), rule.cost_center);
        if (!inserted) {
          diag.error(name.Mark(), at + ": group " + quoted(name.Scalar()) +
                                      " is already allocated to " + quoted(it->second));
        }
        rule.groups.push_back(name.Scalar());
      }
    }
    options.groups.push_back(std::move(rule));
  }
}

void parse_budget(NodeConfig& config, CostOptions& options) {
  if (!config.has("budget")) return;
  const YAML::Node budget = config.node()["budget"];
  Diagnostics& diag = config.diag();
  const std::string where = quoted(config.id()) + ": `budget`";
  if (!budget.IsMap()) {
    diag.error(budget.Mark(), where +
                                  " must be a mapping such as "
                                  "{per_month: {engineering: 10000}, alert_at: [0.75, 0.9, 1.0]}");
    return;
  }
  check_keys(budget, {"per_month", "alert_at"}, where, diag);
  const YAML::Node per_month = budget["per_month"];
  if (!per_month.IsDefined() || per_month.IsNull()) {
    diag.error(budget.Mark(), where + ": missing `per_month`");
  } else if (!per_month.IsMap()) {
    diag.error(per_month.Mark(), where + ": `per_month` must map cost centers to amounts");
  } else {
    for (const auto& entry : per_month) {
      const std::string& center = entry.first.Scalar();
      auto amount = number(entry.second, where + " of " + quoted(center), true, diag);
      if (amount) options.budgets[center] = *amount;
    }
  }
  const YAML::Node alert_at = budget["alert_at"];
  if (!alert_at.IsDefined() || alert_at.IsNull()) return;
  if (!alert_at.IsSequence() || alert_at.size() == 0) {
    diag.error(alert_at.Mark(), where +
                                    ": `alert_at` must be a non-empty list of fractions, "
                                    "e.g. [0.75, 0.9, 1.0]");
    return;
  }
  options.alert_at.clear();
  for (const YAML::Node& level : alert_at) {
    auto v = number(level, where + ": `alert_at` entries", true, diag);
    if (!v) continue;
    if (!options.alert_at.empty() && *v <= options.alert_at.back()) {
      diag.error(level.Mark(), where + ": `alert_at` must increase strictly");
      continue;
    }
    options.alert_at.push_back(*v);
  }
}

}  // namespace

void check_feature_costs(const PipelineSettings& settings, Diagnostics& diag) {
  for (const auto& [feature, info] : settings.features) {
    if (info.cost.IsDefined() && !info.cost.IsNull()) parse_cost_model(feature, info.cost, diag);
  }
}

std::unique_ptr<Operator> make_cost(NodeConfig& config) {
  CostOptions options;
  options.id = config.id();
  options.input_count = config.input_count();
  for (const auto& [feature, info] : config.settings().features) {
    if (!info.cost.IsDefined() || info.cost.IsNull()) continue;
    if (auto model = parse_cost_model(feature, info.cost, config.diag())) {
      options.models.emplace(feature, std::move(*model));
    }
  }
  parse_groups(config, options);
  options.default_cost_center = config.get_string("default_cost_center", false);
  parse_budget(config, options);
  if (config.failed()) return nullptr;
  return std::make_unique<CostOperator>(std::move(options));
}

}  // namespace licflow
