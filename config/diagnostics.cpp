#include "config/diagnostics.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "config/yaml_scalar.h"

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


void Diagnostics::error_in_scalar(const YAML::Node& scalar, size_t offset, std::string message) {
  const YAML::Mark mark = scalar.Mark();
  if (source_.empty() || mark.pos < 0 || static_cast<size_t>(mark.pos) >= source_.size()) {
    return error(mark, static_cast<int>(offset), std::move(message));
  }
  const size_t at = scalar_value_position(source_, static_cast<size_t>(mark.pos),
                                          scalar.Scalar().size(), offset);
  const size_t line_start = source_.rfind('\n', at == 0 ? 0 : at - 1);
  const int line = static_cast<int>(std::count(source_.begin(), source_.begin() + at, '\n')) + 1;
  const size_t column = line_start == std::string::npos || at == 0 ? at : at - line_start - 1;
  error(line, static_cast<int>(column) + 1, std::move(message));
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
