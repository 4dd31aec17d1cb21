#include "operators/registry.h"

namespace licflow {

std::unique_ptr<Operator> make_filter(NodeConfig& config);
std::unique_ptr<Operator> make_route(NodeConfig& config);
std::unique_ptr<Operator> make_dedup(NodeConfig& config);
std::unique_ptr<Operator> make_license_state(NodeConfig& config);
std::unique_ptr<Operator> make_window(NodeConfig& config);
std::unique_ptr<Operator> make_threshold(NodeConfig& config);
std::unique_ptr<Operator> make_anomaly(NodeConfig& config);
std::unique_ptr<Operator> make_cost(NodeConfig& config);

const std::vector<OperatorType>& operator_types() {
  static const std::vector<OperatorType> types = {
      {"filter", "passes records for which `where` is true", {"where"}, &make_filter},
      {"route", "sends each record to the port of the first (or every) matching route",
       {"routes", "mode", "priority"}, &make_route},
      {"dedup", "drops a record when one with the same key passed less than `within` earlier",
       {"key", "within"}, &make_dedup},
      {"license_state", "keeps licenses in use, capacity and queues per (server, feature)", {},
       &make_license_state},
      {"window", "aggregates each key's records over epoch-aligned tumbling or sliding windows",
       {"key", "size", "slide", "aggregates"}, &make_window},
      {"threshold", "alerts per key when `condition` has held for `for`, and when it resolves",
       {"key", "condition", "for", "severity", "message"}, &make_threshold},
      {"anomaly", "scores each key's values against an ewma or seasonal baseline; emits outliers",
       {"key", "value", "method", "threshold", "min_samples", "min_stddev", "direction", "alpha",
        "period", "bucket", "history"},
       &make_anomaly},
      {"cost", "prices sessions by the inventory's cost models; allocates cost centers; budgets",
       {"groups", "default_cost_center", "budget"}, &make_cost},
  };
  return types;
}

const OperatorType* find_operator_type(std::string_view name) {
  for (const OperatorType& t : operator_types()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace licflow
