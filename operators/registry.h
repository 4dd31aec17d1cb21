// The operator registry: one entry per SPEC §5 operator type, listed in registry.cpp.
// It is the single source for "unknown operator type (valid: …)", allowed keys and `validate`.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "config/node_config.h"
#include "operators/operator.h"

namespace licflow {

struct OperatorType {
  std::string_view name;
  std::vector<std::string> keys;  // allowed keys besides `type` and `input`
  // Builds the operator, reporting every config problem to config.diag(); nullptr if any.
  std::unique_ptr<Operator> (*make)(NodeConfig& config);
};

const std::vector<OperatorType>& operator_types();
const OperatorType* find_operator_type(std::string_view name);

// Checks every feature's inventory `cost:` (operators/cost.cpp), for a pipeline without a `cost`
// operator: `validate` rejects a bad one all the same (SPEC §3), though nothing would read it.
void check_feature_costs(const PipelineSettings& settings, Diagnostics& diag);

}  // namespace licflow
