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
      {"filter", {"where"}, &make_filter},
      {"route", {"routes", "mode", "priority"}, &make_route},
      {"dedup", {"key", "within"}, &make_dedup},
      {"license_state", {}, &make_license_state},
      {"window", {"key", "size", "slide", "aggregates"}, &make_window},
      {"threshold", {"key", "condition", "for", "severity", "message"}, &make_threshold},
      {"anomaly",
       {"key", "value", "method", "threshold", "min_samples", "min_stddev", "direction", "alpha",
        "period", "bucket", "history"},
       &make_anomaly},
      {"cost", {"groups", "default_cost_center", "budget"}, &make_cost},
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
