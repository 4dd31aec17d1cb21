// CSV cells as RFC 4180 writes them: the file sink's csv format and `licflow query --format csv`.
#pragma once

#include <string>
#include <string_view>

namespace licflow {

// Appends `text` as one cell: quoted, with quotes doubled, when it holds a comma, a quote or a
// line break.
inline void append_csv_cell(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace licflow
