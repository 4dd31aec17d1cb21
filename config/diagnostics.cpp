#include "config/diagnostics.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace licflow {

void Diagnostics::error(const YAML::Mark& mark, std::string message) {
  error(mark, 0, std::move(message));
}

void Diagnostics::error(const YAML::Mark& mark, int column_offset, std::string message) {
  // yaml-cpp marks are 0-based, and -1 when the node has no position.
  int line = mark.line >= 0 ? mark.line + 1 : 0;
  int column = mark.column >= 0 ? mark.column + 1 + column_offset : 0;
  error(line, column, std::move(message));
}

std::string Diagnostics::format() const {
  std::vector<Diagnostic> sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  std::string out;
  for (const Diagnostic& d : sorted) {
    out += file_;
    out += ':' + std::to_string(std::max(d.line, 1)) + ':' + std::to_string(std::max(d.column, 1));
    out += ": error: " + d.message + '\n';
  }
  return out;
}

}  // namespace licflow
