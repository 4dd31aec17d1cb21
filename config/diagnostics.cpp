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

namespace {

// Byte position in `text` of byte `offset` of the value of the scalar starting at `start`.
size_t scalar_value_position(const std::string& text, size_t start, size_t offset) {
  const char first = text[start];
  size_t i = start;
  if (first == '|' || first == '>') {
    // Block scalar: its lines follow the indicator's, all indented like the first non-blank one;
    // each line break is one byte of the value (a newline, or a space where `>` folds it).
    i = text.find('\n', start);
    if (i == std::string::npos) return start;
    ++i;
    size_t indent = 0;
    for (size_t j = i; j < text.size() && (text[j] == ' ' || text[j] == '\n'); ++j) {
      indent = text[j] == '\n' ? 0 : indent + 1;
    }
    size_t left = offset;
    while (i < text.size()) {
      size_t eol = text.find('\n', i);
      if (eol == std::string::npos) eol = text.size();
      const size_t content = std::min(i + indent, eol);
      if (left <= eol - content) return content + left;
      left -= eol - content + 1;
      i = eol + 1;
    }
    return start;
  }
  if (first == '\'' || first == '"') {
    // Quoted: `''` (single) or a backslash escape (double) is one character of the value.
    ++i;
    for (size_t v = 0; v < offset && i < text.size(); ++v) {
      if (first == '\'' && text[i] == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        i += 2;
      } else if (first == '"' && text[i] == '\\' && i + 1 < text.size()) {
        i += text[i + 1] == 'u' ? 6 : text[i + 1] == 'x' ? 4 : 2;
      } else {
        ++i;
      }
    }
    return std::min(i, text.size());
  }
  return std::min(start + offset, text.size());
}

}  // namespace

void Diagnostics::error_in_scalar(const YAML::Mark& mark, size_t offset, std::string message) {
  if (source_.empty() || mark.pos < 0 || static_cast<size_t>(mark.pos) >= source_.size()) {
    return error(mark, static_cast<int>(offset), std::move(message));
  }
  const size_t at = scalar_value_position(source_, static_cast<size_t>(mark.pos), offset);
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
