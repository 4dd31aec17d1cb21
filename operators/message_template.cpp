// SPEC §5 message templates (see message_template.h for the rules).
#include "operators/message_template.h"

#include "engine/json_writer.h"
#include "engine/time_format.h"

namespace licflow {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Index of the `}` closing the placeholder opened at `open`, skipping quoted string literals
// (with their backslash escapes) as the expression lexer reads them; npos when there is none.
size_t closing_brace(std::string_view text, size_t open) {
  char quote = 0;
  for (size_t i = open + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '}') {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<MessageTemplate> MessageTemplate::parse(std::string_view text, Error* error) {
  auto fail = [&](size_t offset, std::string message) -> std::optional<MessageTemplate> {
    *error = {offset, std::move(message)};
    return std::nullopt;
  };
  MessageTemplate t;
  Part part;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      part.literal += c;
      i += 2;
      continue;
    }
    if (c == '}') return fail(i, "unmatched `}` (write `}}` for a literal brace)");
    if (c != '{') {
      part.literal += c;
      ++i;
      continue;
    }
    const size_t close = closing_brace(text, i);
    if (close == std::string_view::npos) {
      return fail(i, "unclosed `{` (write `{{` for a literal brace)");
    }
    const std::string_view inner = text.substr(i + 1, close - i - 1);
    if (trim(inner).empty()) return fail(i, "empty placeholder `{}`: name a field, e.g. {feature}");
    ExpressionError why;
    part.value = Expression::parse(inner, &why);
    if (!part.value.ok()) return fail(i + 1 + why.offset, "bad placeholder: " + why.message);
    part.has_value = true;
    part.is_ts = trim(inner) == "ts";
    t.parts_.push_back(std::move(part));
    part = Part();
    i = close + 1;
  }
  if (!part.literal.empty() || t.parts_.empty()) t.parts_.push_back(std::move(part));
  return t;
}

MessageTemplate MessageTemplate::literal(std::string text) {
  MessageTemplate t;
  Part part;
  part.literal = std::move(text);
  t.parts_.push_back(std::move(part));
  return t;
}

std::string MessageTemplate::render(const Record& record) const {
  std::string out;
  for (const Part& part : parts_) {
    out += part.literal;
    if (!part.has_value) continue;
    if (part.is_ts) {
      append_rfc3339(out, record.ts);
      continue;
    }
    const Value v = part.value.evaluate(record);
    if (v.is_string()) {
      out += v.as_string();
    } else {
      append_json_value(out, v);  // null as `null`, numbers in JSON's shortest round-trip form
    }
  }
  return out;
}

std::optional<MessageTemplate> get_message_template(NodeConfig& config, const char* key) {
  const YAML::Node value = config.node()[key];
  if (!value.IsDefined() || value.IsNull()) return std::nullopt;
  if (!value.IsScalar()) {
    config.diag().error(value.Mark(), "`" + config.id() + "`: `" + key +
                                          "` must be a string; quote templates that start "
                                          "with `{`");
    return std::nullopt;
  }
  MessageTemplate::Error why;
  auto t = MessageTemplate::parse(value.Scalar(), &why);
  if (t) return t;
  config.diag().error_in_scalar(
      value, why.offset,
      "`" + config.id() + "`: bad template for `" + key + "`: " + why.message);
  return std::nullopt;
}

}  // namespace licflow
