#include "engine/sources/source.h"

namespace licflow {

std::unique_ptr<Source> make_file_source_from_config(NodeConfig& config);
std::unique_ptr<Source> make_stdin_source_from_config(NodeConfig& config);
std::unique_ptr<Source> make_tcp_source_from_config(NodeConfig& config);

// The one list of source types: `licflow validate` and error messages read it.
const std::vector<SourceType>& source_types() {
  static const std::vector<SourceType> types = {
      {"file", {"path", "format", "server", "timezone"}, &make_file_source_from_config},
      {"stdin", {"format", "server", "timezone"}, &make_stdin_source_from_config},
      {"tcp", {"listen", "format", "server", "timezone"}, &make_tcp_source_from_config},
  };
  return types;
}

const SourceType* find_source_type(std::string_view name) {
  for (const SourceType& t : source_types()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace licflow
