// route: SPEC §5 "route" — `routes: {NAME: EXPR, …}` in order; each record goes to the port of
// the first matching route (`mode: all`: of every matching route); records matching none go to
// `unmatched`. There is no `out` port. `priority: [NAME, …]` marks lanes whose records, and
// everything downstream of them, are scheduled ahead of bulk work (the runtime raises the
// oneTBB node priority of every node fed by such a lane).
#include "config/suggest.h"
#include "operators/registry.h"

namespace licflow {
namespace {

class Route final : public Operator {
 public:
  Route(std::vector<std::string> ports, std::vector<Expression> conditions, bool all,
        std::vector<bool> priority)
      : Operator(std::move(ports)), conditions_(std::move(conditions)), all_(all),
        priority_(std::move(priority)) {}

  bool is_priority_port(size_t port) const override { return priority_[port]; }
  bool stateless() const override { return true; }
  // Several streams of one source come merged in the source's order, each record with the
  // watermark the source had before it (engine/input_join.h).
  bool join_inputs() override { return true; }
  bool forwards_batches() const override { return true; }
  std::optional<std::vector<FieldId>> fields_read_forwarding() const override {
    std::vector<FieldId> fields;
    for (const Expression& condition : conditions_) condition.collect_fields(fields);
    return fields;
  }

  void process(size_t, const BatchPtr& batch, Emitter& out) override {
    const std::vector<Record>& records = batch->records;
    const size_t unmatched = conditions_.size();
    std::vector<Batch> lanes(conditions_.size() + 1);
    // Sole owner of the batch: a record goes to its last lane by a move, not a copy (as filter).
    std::vector<Record>* movable = records_to_move(batch);
    if (all_) {
      for (size_t k = 0; k < records.size(); ++k) {
        matched_.clear();
        for (size_t i = 0; i < conditions_.size(); ++i) {
          if (conditions_[i].test(records[k])) matched_.push_back(i);
        }
        if (matched_.empty()) matched_.push_back(unmatched);
        for (size_t j = 0; j + 1 < matched_.size(); ++j) add(lanes[matched_[j]], *batch, k);
        take(lanes[matched_.back()], *batch, k, movable);
      }
    } else {
      lane_of_.resize(records.size());
      bool one_lane = true;
      for (size_t k = 0; k < records.size(); ++k) {
        lane_of_[k] = first_match(records[k]);
        one_lane = one_lane && lane_of_[k] == lane_of_[0];
      }
      if (one_lane && !records.empty()) {
        // Every record takes the same lane (the usual case for bulk traffic): the batch itself
        // goes on, without a copy.
        emit_lanes(batch, lane_of_[0], lanes, out);
        return;
      }
      for (size_t k = 0; k < records.size(); ++k) take(lanes[lane_of_[k]], *batch, k, movable);
    }
    emit_lanes(batch, lanes.size(), lanes, out);
  }

 private:
  // Appends a copy of record `k` of `in` to `lane`, with the watermark it carries.
  static void add(Batch& lane, const Batch& in, size_t k) {
    append_from(lane, in, k, in.records[k]);
  }
  // The same, moving the record out when `movable` (records_to_move) allows: its last use.
  static void take(Batch& lane, const Batch& in, size_t k, std::vector<Record>* movable) {
    append_from(lane, in, k, movable != nullptr ? std::move((*movable)[k]) : in.records[k]);
  }

  // The port of the first route `r` matches, or the unmatched port.
  size_t first_match(const Record& r) const {
    for (size_t i = 0; i < conditions_.size(); ++i) {
      if (conditions_[i].test(r)) return i;
    }
    return conditions_.size();
  }

  // Sends every lane, empty ones too: they carry the input's watermark and idleness to every
  // port. Port `whole` (if any) gets the input batch itself instead of lanes[whole].
  static void emit_lanes(const BatchPtr& batch, size_t whole, std::vector<Batch>& lanes,
                         Emitter& out) {
    for (size_t port = 0; port < lanes.size(); ++port) {
      if (port == whole) {
        out.emit(port, batch);
        continue;
      }
      Batch lane = derived_from(*batch);
      lane.records.swap(lanes[port].records);
      lane.watermarks.swap(lanes[port].watermarks);
      lane.positions.swap(lanes[port].positions);
      out.emit(port, std::move(lane));
    }
  }

  std::vector<Expression> conditions_;  // conditions_[i] feeds port i
  bool all_;
  std::vector<bool> priority_;  // per port
  std::vector<size_t> lane_of_;  // per record of the batch in process (first-match mode)
  std::vector<size_t> matched_;  // the lanes of the record in process (mode: all)
};

}  // namespace

std::unique_ptr<Operator> make_route(NodeConfig& config) {
  const YAML::Node routes = config.node()["routes"];
  std::vector<std::string> ports;
  std::vector<Expression> conditions;
  if (!routes.IsDefined() || routes.IsNull()) {
    config.error("routes", "`" + config.id() + "`: missing required key `routes`");
  } else if (!routes.IsMap() || routes.size() == 0) {
    config.error("routes", "`" + config.id() + "`: `routes` must map route names to conditions");
  } else {
    for (const auto& entry : routes) {
      std::string name = entry.first.Scalar();
      // `out` too: SPEC §5 "a route has no `out` port", so `input: lanes` is always an error.
      if (name == "unmatched" || name == "out" || name.find('.') != std::string::npos) {
        config.diag().error(entry.first.Mark(), "`" + config.id() + "`: route name `" + name +
                                                    "` is reserved or contains '.'");
      }
      auto condition = config.parse_expression(entry.second);
      ports.push_back(name);
      if (condition) conditions.push_back(std::move(*condition));
    }
  }
  auto mode = config.get_string("mode", false).value_or("first");
  if (mode != "first" && mode != "all") {
    config.error("mode", "`" + config.id() + "`: `mode` must be `first` or `all`, got `" + mode +
                             "`");
  }
  std::vector<bool> is_priority(ports.size() + 1, false);
  if (auto priority = config.get_string_list("priority", false)) {
    for (const std::string& lane : *priority) {
      auto it = std::find(ports.begin(), ports.end(), lane);
      if (it != ports.end()) {
        is_priority[static_cast<size_t>(it - ports.begin())] = true;
        continue;
      }
      std::string hint = nearest(lane, ports);
      config.error("priority", "`" + config.id() + "`: priority lane `" + lane +
                                   "` is not a route" +
                                   (hint.empty() ? "" : " (did you mean `" + hint + "`?)"));
    }
  }
  if (config.failed()) return nullptr;
  ports.push_back("unmatched");
  return std::make_unique<Route>(std::move(ports), std::move(conditions), mode == "all",
                                 std::move(is_priority));
}

}  // namespace licflow
