// The `format:` key shared by file, stdin and tcp sources (SPEC §1), with `server:` and
// `timezone:` for the license-server log formats (engine/sources/log_format.h).
#pragma once

#include <optional>

#include "config/node_config.h"
#include "engine/sources/log_format.h"

namespace licflow {

// Reads `format:`, `server:` and `timezone:`; nullopt after reporting a problem.
inline std::optional<SourceFormat> read_source_format(NodeConfig& config) {
  SourceFormat format;
  bool ok = true;
  if (auto name = config.get_string("format", false)) format.name = *name;
  if (format.name != "jsonl" && format.name != "flexlm" && format.name != "rlm") {
    config.error("format", "`" + config.id() + "`: unknown format `" + format.name +
                               "` (valid: jsonl, flexlm, rlm)");
    ok = false;
  }
  const bool log_format = format.name == "flexlm" || format.name == "rlm";
  for (const char* key : {"server", "timezone"}) {
    if (config.has(key) && ok && !log_format) {
      config.error(key, "`" + config.id() + "`: `" + key +
                            "` applies only to the log formats flexlm and rlm");
      ok = false;
    }
  }
  if (auto server = config.get_string("server", false)) format.server = *server;
  if (auto zone = config.get_string("timezone", false)) {
    if (auto offset = parse_utc_offset(*zone)) {
      format.utc_offset_minutes = *offset;
    } else if (const date::time_zone* named = find_time_zone(*zone)) {
      format.zone = named;
    } else {
      config.error("timezone", "`" + config.id() + "`: timezone must be UTC, a fixed offset " +
                                   "such as +01:00 or a zone name such as Europe/Berlin, got `" +
                                   *zone + "`");
      ok = false;
    }
  }
  if (!ok || config.failed()) return std::nullopt;
  return format;
}

}  // namespace licflow
