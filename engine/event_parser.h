// EventParser: one JSON Lines event -> Record, with every validation rule of SPEC §1.
// A line that breaks a rule is a dead letter; the parser returns the reason instead of a Record.
// One instance per thread (it owns a simdjson parser and a field-name cache); not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/record.h"

namespace licflow {

inline constexpr size_t kMaxLineBytes = size_t{1} << 20;  // SPEC §1: longer lines are dead letters
inline constexpr size_t kParsePadding = 64;               // = SIMDJSON_PADDING, readable past a line

// A projection: keep[id] says whether field `id` goes onto the record; ids beyond it do not.
using FieldMask = std::vector<bool>;

class EventParser {
 public:
  EventParser();
  ~EventParser();
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // Parses `len` bytes at `data` (one line, no newline, trailing '\r' already stripped).
  // REQUIRES: `capacity` >= len + kParsePadding bytes at `data` are readable (parsing is in place).
  // On success fills `out` (cleared first) and returns true; otherwise sets `error` to a specific
  // reason naming the field (e.g. "field `count`: expected an integer >= 1") and returns false.
  // With `keep`, only those fields go onto the record (`ts` always does); every rule of SPEC §1
  // still applies to the others, so the same lines become dead letters, for the same reasons.
  bool parse(const char* data, size_t len, size_t capacity, Record& out, std::string& error,
             const FieldMask* keep = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace licflow
