// Plan: a pipeline file loaded and validated (SPEC §3) — ids resolved, ports checked, the DAG
// checked and topologically sorted, expressions compiled, durations parsed, and every source,
// operator and sink built. Nothing runs an unvalidated pipeline: run, validate and graph all
// start from load_pipeline().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/node_config.h"
#include "engine/sinks/sink.h"
#include "engine/sources/source.h"
#include "operators/operator.h"

namespace licflow {

struct StateSettings {
  bool configured = false;  // the pipeline has a `state:` section: checkpoints are on
  std::string dir = "./licflow-data";
  int64_t checkpoint_interval_ms = 10'000;
  uint64_t memory_limit_bytes = 512ull << 20;
};

// A stream: the output of one port of one node (a source has the single port `out`).
struct StreamId {
  size_t node = 0;  // index into Plan::nodes
  size_t port = 0;
  friend bool operator==(const StreamId&, const StreamId&) = default;
};

enum class NodeKind { kSource, kOperator, kSink };

struct PlanNode {
  std::string id;
  std::string type;
  NodeKind kind = NodeKind::kSource;
  int line = 0;  // 1-based position of the id in the pipeline file
  std::vector<StreamId> inputs;
  // Exactly one of these is set, as `kind` says.
  std::unique_ptr<Source> source;
  std::unique_ptr<Operator> op;
  std::unique_ptr<Sink> sink;
  bool priority = false;  // fed, directly or transitively, by a route priority lane
  std::string config_text;  // the entry as YAML: a checkpoint's operator must match it

  const std::vector<std::string>& ports() const;
};

struct Plan {
  std::string name;
  StateSettings state;
  std::string dead_letter_path;
  bool dead_letter_configured = false;  // `dead_letter.path` given, else STATE_DIR's default
  PipelineSettings settings;
  // Sources first, then operators in topological order, then sinks.
  std::vector<PlanNode> nodes;

  // `id` for the default port `out`, `id.port` for the others (SPEC §5).
  std::string stream_name(StreamId s) const;
};

// Loads and validates a pipeline file. Returns nullptr after filling `diag` when it is invalid.
std::unique_ptr<Plan> load_pipeline(const std::string& path, Diagnostics& diag);
// Same, from YAML text (`file` names it in diagnostics).
std::unique_ptr<Plan> load_pipeline_text(const std::string& text, const std::string& file,
                                         Diagnostics& diag);

// `licflow validate`'s summary and `licflow graph`'s drawings.
std::string describe_plan(const Plan& plan);
std::string render_dot(const Plan& plan);
std::string render_mermaid(const Plan& plan);

}  // namespace licflow
