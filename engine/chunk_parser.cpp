#include "engine/chunk_parser.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace licflow {
namespace {

bool is_blank(const char* p, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    const char c = p[i];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') return false;
  }
  return true;
}

}  // namespace

void parse_chunk(const RawChunk& chunk, EventParser& parser, std::vector<Record>& records,
                 std::vector<DeadLetter>& dead_letters, const FieldMask* keep,
                 size_t spare_fields) {
  const char* data = chunk.bytes.data();
  const size_t capacity = chunk.bytes.size();
  records.reserve(records.size() + chunk.size / 160 + 1);
  auto rejected = chunk.dead_letters.begin();
  // A log format's lines carry the numbers of the log lines they came from.
  const std::vector<uint64_t>& numbers = chunk.line_numbers;
  uint64_t line = chunk.first_line;
  std::string error;
  for (size_t pos = 0, k = 0; pos < chunk.size; ++line, ++k) {
    if (k < numbers.size()) line = numbers[k];
    const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', chunk.size - pos));
    // Sources end every line with '\n'; a last line without one still ends at the chunk's end.
    const size_t end = nl != nullptr ? static_cast<size_t>(nl - data) : chunk.size;
    const size_t start = pos;
    size_t len = end - pos;
    if (len > 0 && data[pos + len - 1] == '\r') --len;
    pos = end + 1;
    for (; rejected != chunk.dead_letters.end() && rejected->line <= line; ++rejected) {
      dead_letters.push_back({rejected->line, rejected->error, rejected->raw});
    }
    if (is_blank(data + start, len)) continue;
    records.emplace_back();
    if (!parser.parse(data + start, len, capacity - start, records.back(), error, keep,
                      spare_fields)) {
      records.pop_back();
      dead_letters.push_back({line, error, std::string(data + start, std::min<size_t>(len, 512))});
    }
  }
  for (; rejected != chunk.dead_letters.end(); ++rejected) {
    dead_letters.push_back({rejected->line, rejected->error, rejected->raw});
  }
}

}  // namespace licflow
