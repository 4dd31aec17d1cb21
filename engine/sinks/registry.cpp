#include "engine/sinks/sink.h"

namespace licflow {

std::unique_ptr<Sink> make_stdout_sink_from_config(NodeConfig& config);
std::unique_ptr<Sink> make_file_sink_from_config(NodeConfig& config);
std::unique_ptr<Sink> make_webhook_sink_from_config(NodeConfig& config);
std::unique_ptr<Sink> make_history_sink_from_config(NodeConfig& config);

// The one list of sink types: `licflow validate` and error messages read it.
const std::vector<SinkType>& sink_types() {
  static const std::vector<SinkType> types = {
      {"stdout", {"format", "columns"}, &make_stdout_sink_from_config},
      {"file", {"path", "format", "columns"}, &make_file_sink_from_config},
      {"webhook", {"url", "batch_size", "timeout", "max_retries", "backoff", "buffer", "headers"},
       &make_webhook_sink_from_config},
      {"history", {"retention", "key"}, &make_history_sink_from_config},
  };
  return types;
}

const SinkType* find_sink_type(std::string_view name) {
  for (const SinkType& t : sink_types()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace licflow
