// The `format:` key shared by file, stdin and tcp sources (SPEC §1).
#pragma once

#include "config/node_config.h"

namespace licflow {

// Validates `format:`; only `jsonl` is implemented so far. Returns false after reporting.
inline bool check_source_format(NodeConfig& config) {
  auto format = config.get_string("format", false);
  if (!format || *format == "jsonl") return true;
  if (*format == "flexlm" || *format == "rlm") {
    config.error("format", "`" + config.id() + "`: format `" + *format +
                               "` is not implemented yet (supported: jsonl)");
  } else {
    config.error("format", "`" + config.id() + "`: unknown format `" + *format +
                               "` (valid: jsonl, flexlm, rlm)");
  }
  return false;
}

}  // namespace licflow
