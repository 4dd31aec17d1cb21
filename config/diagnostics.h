// Diagnostics: configuration problems collected (not thrown) and printed as
// `FILE:LINE:COL: error: MESSAGE` (SPEC §3). Lines and columns are 1-based here; yaml-cpp marks
// are 0-based and are converted by the YAML overload.
#pragma once

#include <string>
#include <vector>

namespace YAML {
struct Mark;
class Node;
}

namespace licflow {

struct Diagnostic {
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string message;
};

class Diagnostics {
 public:
  explicit Diagnostics(std::string file = "<pipeline>") : file_(std::move(file)) {}

  void error(int line, int column, std::string message) {
    items_.push_back({line, column, std::move(message)});
  }
  void error(const YAML::Mark& mark, std::string message);
  // `column_offset` is added to the mark's column.
  void error(const YAML::Mark& mark, int column_offset, std::string message);
  // An error at byte `offset` of the value of `scalar` (an expression's bad token): located in
  // the source text (config/yaml_scalar.h) when set_source() gave it; else on the scalar's
  // line, `offset` columns after its start.
  void error_in_scalar(const YAML::Node& scalar, size_t offset, std::string message);

  // The pipeline's text, for error_in_scalar.
  void set_source(std::string text) { source_ = std::move(text); }

  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

  // Every diagnostic, one `FILE:LINE:COL: error: MESSAGE` line each, sorted by position.
  std::string format() const;

 private:
  std::string file_;
  std::string source_;
  std::vector<Diagnostic> items_;
};

}  // namespace licflow
