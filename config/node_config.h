// NodeConfig: typed, validating access to one source/operator/sink entry of a pipeline file.
// Every getter reports problems to the shared Diagnostics with the YAML position of the offending
// value and returns nullopt; factories check failed() once at the end. Used only while loading.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/expression.h"

namespace licflow {

struct TimeSettings {
  int64_t max_out_of_orderness_ms = 0;
  int64_t allowed_lateness_ms = 0;
  // A source that sends nothing for this long (wall clock), or that ended, stops holding back
  // the watermark of operators fed by other sources too (engine/watermarks.h).
  int64_t idle_timeout_ms = 30'000;
};

// One entry of the pipeline's `features:` inventory.
struct FeatureInfo {
  std::optional<int64_t> capacity;
  std::string dup_group;  // "", "user", "host" or "user_host"
  YAML::Node cost;        // the raw `cost:` model; the cost operator validates and reads it
};

// Pipeline-wide settings an operator may need while it is built.
struct PipelineSettings {
  TimeSettings time;
  std::map<std::string, FeatureInfo> features;
};

class NodeConfig {
 public:
  NodeConfig(std::string id, YAML::Node node, Diagnostics& diag, const PipelineSettings& settings)
      : id_(std::move(id)), node_(std::move(node)), diag_(diag), settings_(settings),
        errors_at_start_(diag.size()) {}

  const std::string& id() const { return id_; }
  const YAML::Node& node() const { return node_; }
  const PipelineSettings& settings() const { return settings_; }
  Diagnostics& diag() { return diag_; }
  // True once any problem was reported while building this entry.
  bool failed() const { return diag_.size() > errors_at_start_; }

  bool has(const char* key) const { return node_[key].IsDefined() && !node_[key].IsNull(); }
  // How many streams `input:` names (a list, or one stream): the inputs whose watermarks an
  // operator combines (SPEC §2).
  size_t input_count() const {
    const YAML::Node input = node_["input"];
    return input.IsSequence() ? std::max<size_t>(input.size(), 1) : 1;
  }
  void error(const char* key, std::string message);

  std::optional<std::string> get_string(const char* key, bool required);
  // A file path: a non-empty string.
  std::optional<std::string> get_path(const char* key, bool required);
  std::optional<int64_t> get_int(const char* key, int64_t min_value, bool required);
  std::optional<double> get_double(const char* key, bool required);
  // Durations as SPEC §2 writes them (`15m`, `1h30m`); returns milliseconds.
  std::optional<int64_t> get_duration(const char* key, bool required);
  std::optional<Expression> get_expression(const char* key, bool required);
  // A string or a list of strings; empty when absent (and `required` reports it).
  std::optional<std::vector<std::string>> get_string_list(const char* key, bool required);

  // Parses the expression held by a scalar node, pointing errors at the column inside it.
  std::optional<Expression> parse_expression(const YAML::Node& scalar);

 private:
  std::string id_;
  YAML::Node node_;
  Diagnostics& diag_;
  const PipelineSettings& settings_;
  size_t errors_at_start_;
};

}  // namespace licflow
