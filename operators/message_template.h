// MessageTemplate: the message templates of SPEC §5 (`threshold`'s `message`). Parsed once,
// when the pipeline loads; rendering never fails.
//
// - `{field}` is replaced by the record's value: strings bare, numbers as JSON (shortest
//   round-trip), booleans as true/false, objects as JSON, null or missing as `null`. `{ts}` is the
//   record's event time as RFC 3339 UTC with milliseconds; fields holding RFC 3339 strings (a
//   session's `start`, `end`) are strings and so come out as they are.
// - SPEC §4 lists message templates among the users of expressions, so a placeholder may hold any
//   SPEC §4 expression (`{in_use / capacity * 100}`); a bare field name is the common case. A
//   `}` inside a quoted string literal does not close the placeholder.
// - `{{` and `}}` write a literal `{` and `}` (as Python's str.format and Rust's format!).
// - A lone `}`, an unclosed `{`, an empty `{}` and a placeholder that is not a valid expression
//   are configuration errors, reported at their column.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/expression.h"
#include "config/node_config.h"
#include "engine/record.h"

namespace licflow {

class MessageTemplate {
 public:
  struct Error {
    size_t offset = 0;  // 0-based byte offset into the template text
    std::string message;
  };

  // nullopt on a malformed template, with `error` filled.
  static std::optional<MessageTemplate> parse(std::string_view text, Error* error);
  // A template without placeholders that renders `text` as it is.
  static MessageTemplate literal(std::string text);

  std::string render(const Record& record) const;

 private:
  struct Part {
    std::string literal;     // written before the placeholder
    bool has_value = false;  // false only for the trailing literal
    bool is_ts = false;      // `{ts}`: RFC 3339 rather than the integer expressions see
    Expression value;
  };
  std::vector<Part> parts_;
};

// Reads `key` of the node as a template; problems are reported at their column inside the value.
// nullopt when absent or malformed (config.failed() tells them apart).
std::optional<MessageTemplate> get_message_template(NodeConfig& config, const char* key);

}  // namespace licflow
