// EventParser: one JSON Lines event -> Record, with every validation rule of SPEC §1.
// A line that breaks a rule is a dead letter; the parser returns the reason instead of a Record.
// One instance per thread (it owns a simdjson parser and a field-name cache); not thread-safe.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/record.h"

namespace licflow {

inline constexpr size_t kMaxLineBytes = size_t{1} << 20;  // SPEC §1: longer lines are dead letters
inline constexpr size_t kParsePadding = 64;               // = SIMDJSON_PADDING, readable past a line

// A projection: the fields that go onto the record. Read for every field of every line, so the
// first 64 ids (SPEC §1's fields among them) are bits of one word.
class FieldMask {
 public:
  void add(FieldId id) {
    if (id < 64) {
      low_ |= uint64_t{1} << id;
      return;
    }
    if (id - 64 >= high_.size()) high_.resize(id - 64 + 1, false);
    high_[id - 64] = true;
  }
  bool contains(FieldId id) const {
    if (id < 64) return (low_ >> id) & 1;
    return id - 64 < high_.size() && high_[id - 64];
  }
  size_t count() const {
    return static_cast<size_t>(std::popcount(low_)) +
           static_cast<size_t>(std::count(high_.begin(), high_.end(), true));
  }

 private:
  uint64_t low_ = 0;
  std::vector<bool> high_;  // ids from 64 up
};

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
  // The record has room for `spare_fields` more (Operator::fields_added).
  bool parse(const char* data, size_t len, size_t capacity, Record& out, std::string& error,
             const FieldMask* keep = nullptr, size_t spare_fields = 0);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace licflow
