// Expression: SPEC §4, the language of `filter`, `route`, `threshold`, `count_if` and templates.
// Parsed and checked once when the pipeline loads; evaluation never fails (a type mismatch gives
// false or null as SPEC §4 says). Expressions are immutable after parse and may be evaluated
// concurrently from any number of threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/field_names.h"
#include "engine/record.h"
#include "engine/value.h"

namespace licflow {

struct ExpressionError {
  size_t offset = 0;  // 0-based byte offset into the expression text where the problem is
  std::string message;
};

namespace detail {
struct ExprNode;
}

class Expression {
 public:
  // Parses `text`. On failure returns nullptr-equivalent (`ok() == false`) and fills `error`.
  static Expression parse(std::string_view text, ExpressionError* error);

  Expression() = default;
  bool ok() const { return root_ != nullptr; }
  const std::string& text() const { return text_; }

  Value evaluate(const Record& record) const;
  // True only when evaluate() gives the boolean true (SPEC §4).
  bool test(const Record& record) const { return evaluate(record).is_true(); }
  // Appends the fields the expression reads (`ts` is a member, not a field, so never among them).
  void collect_fields(std::vector<FieldId>& out) const;

 private:
  std::string text_;
  std::shared_ptr<const detail::ExprNode> root_;
};

}  // namespace licflow
