// YAML 1.2 scalar value construction (chapters 7 and 8), run over the source for positions only.
#include "config/yaml_scalar.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace licflow {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_break(char c) { return c == '\n' || c == '\r'; }

// Past the line break at `i` (\n, \r or \r\n).
size_t after_break(const std::string& text, size_t i) {
  return text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n' ? i + 2 : i + 1;
}

// Bytes of the UTF-8 encoding of code point `cp`.
size_t utf8_bytes(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

uint32_t hex_value(const std::string& text, size_t i, size_t digits) {
  uint32_t v = 0;
  for (size_t k = 0; k < digits && i + k < text.size(); ++k) {
    const char c = text[i + k];
    v = v * 16 + static_cast<uint32_t>(c >= '0' && c <= '9'   ? c - '0'
                                       : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                              : 0);
  }
  return v;
}

// Plain, single- and double-quoted scalars: a line break between two lines of text is one space,
// n + 1 breaks (n empty lines) are n newlines; white space around breaks is not in the value.
void flow_positions(const std::string& text, size_t start, size_t size, std::vector<size_t>& at) {
  const char quote = text[start] == '\'' || text[start] == '"' ? text[start] : '\0';
  size_t i = start + (quote != '\0' ? 1 : 0);
  bool skip_indent = false;
  while (at.size() < size && i < text.size()) {
    const char c = text[i];
    if (skip_indent && is_blank(c)) {
      ++i;
      continue;
    }
    skip_indent = false;
    if (is_break(c)) {
      const size_t first_break = i;
      std::vector<size_t> empty_lines;
      size_t j = after_break(text, i);
      while (true) {
        size_t k = j;
        while (k < text.size() && is_blank(text[k])) ++k;
        if (k >= text.size() || !is_break(text[k])) break;
        empty_lines.push_back(k);
        j = after_break(text, k);
      }
      if (empty_lines.empty()) {
        at.push_back(first_break);
      } else {
        at.insert(at.end(), empty_lines.begin(), empty_lines.end());
      }
      i = j;
      skip_indent = true;
      continue;
    }
    if (quote == '\'' && c == '\'') {
      if (i + 1 < text.size() && text[i + 1] == '\'') {
        at.push_back(i);
        i += 2;
        continue;
      }
      break;
    }
    if (quote == '"' && c == '"') break;
    if (quote == '"' && c == '\\' && i + 1 < text.size()) {
      const char e = text[i + 1];
      if (is_break(e)) {  // an escaped line break: nothing, and the next line's indent goes
        i = after_break(text, i + 1);
        skip_indent = true;
        continue;
      }
      size_t length = 2;
      size_t bytes = 1;
      switch (e) {
        case 'x':
          length = 4;
          bytes = utf8_bytes(hex_value(text, i + 2, 2));
          break;
        case 'u':
          length = 6;
          bytes = utf8_bytes(hex_value(text, i + 2, 4));
          break;
        case 'U':
          length = 10;
          bytes = utf8_bytes(hex_value(text, i + 2, 8));
          break;
        case 'N':
        case '_':
          bytes = 2;  // U+0085, U+00A0
          break;
        case 'L':
        case 'P':
          bytes = 3;  // U+2028, U+2029
          break;
      }
      at.insert(at.end(), bytes, i);
      i += length;
      continue;
    }
    if (is_blank(c)) {  // white space before a line break is not in the value
      size_t j = i;
      while (j < text.size() && is_blank(text[j])) ++j;
      if (j < text.size() && is_break(text[j])) {
        i = j;
        continue;
      }
    }
    at.push_back(i);
    ++i;
  }
}

// `|` keeps each line (from the content indentation on) and its break; `>` folds a break between
// two lines of text at the content indentation into a space, drops it before empty lines (each
// of which is a newline), and keeps breaks around more-indented lines.
void block_positions(const std::string& text, size_t start, size_t size, std::vector<size_t>& at) {
  const bool folded = text[start] == '>';
  size_t indicator = 0;
  size_t i = start + 1;
  for (; i < text.size() && !is_break(text[i]) && text[i] != '#' && text[i] != ' '; ++i) {
    if (text[i] >= '1' && text[i] <= '9') indicator = static_cast<size_t>(text[i] - '0');
  }
  while (i < text.size() && !is_break(text[i])) ++i;
  if (i >= text.size()) return;
  i = after_break(text, i);
  size_t indent = 0;
  if (indicator > 0) {
    // Relative to the indentation of the node holding the scalar: the key's line.
    size_t line = text.rfind('\n', start);
    line = line == std::string::npos ? 0 : line + 1;
    size_t parent = 0;
    while (line + parent < text.size() && text[line + parent] == ' ') ++parent;
    indent = parent + indicator;
  } else {
    for (size_t j = i; j < text.size() && (text[j] == ' ' || is_break(text[j])); ++j) {
      indent = is_break(text[j]) ? 0 : indent + 1;
    }
  }
  enum class Line { kEmpty, kText, kMoreIndented };
  struct Scanned {
    Line kind;
    size_t content;  // where the value's part of the line starts
    size_t eol;
  };
  auto scan = [&](size_t from) {
    size_t eol = from;
    while (eol < text.size() && !is_break(text[eol])) ++eol;
    size_t spaces = 0;
    while (from + spaces < eol && text[from + spaces] == ' ') ++spaces;
    if (spaces >= eol - from) return Scanned{Line::kEmpty, std::min(from + indent, eol), eol};
    const size_t content = from + std::min(spaces, indent);
    const bool more = spaces > indent || (spaces == indent && is_blank(text[content]));
    return Scanned{more ? Line::kMoreIndented : Line::kText, content, eol};
  };
  Scanned line = scan(i);
  while (at.size() < size && i < text.size()) {
    for (size_t k = line.content; k < line.eol && at.size() < size; ++k) at.push_back(k);
    if (line.eol >= text.size()) break;
    const size_t next_start = after_break(text, line.eol);
    const Scanned next = scan(next_start);
    // Folded, text before an empty line loses its break (the empty line makes the newline);
    // every other break is a byte: a newline, or the space two lines of text fold into.
    if (!folded || line.kind != Line::kText || next.kind != Line::kEmpty) at.push_back(line.eol);
    i = next_start;
    line = next;
  }
}

}  // namespace

size_t scalar_value_position(const std::string& text, size_t start, size_t value_size,
                             size_t offset) {
  if (start >= text.size()) return text.size();
  std::vector<size_t> at;
  const bool past_end = offset >= value_size;
  const size_t wanted = past_end ? value_size : offset + 1;
  if (text[start] == '|' || text[start] == '>') {
    block_positions(text, start, wanted, at);
  } else {
    flow_positions(text, start, wanted, at);
  }
  if (!past_end && offset < at.size()) return at[offset];
  return at.empty() ? start : std::min(at.back() + 1, text.size());
}

}  // namespace licflow
