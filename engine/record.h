// Record: one event or derived result flowing through the graph.
// Event time `ts` (ms since the epoch) is a member, not a field, because every time-aware stage
// reads it; expressions still see it as the integer field `ts`. Fields keep insertion order,
// which is the order sinks print them in.
#pragma once

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "engine/field_names.h"
#include "engine/value.h"

namespace licflow {

inline constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();

struct Field {
  Field(FieldId i, Value v) : id(i), value(std::move(v)) {}
  // Builds the value in place from what a Value is made of (a string_view, an int64_t…).
  template <typename V>
  Field(std::in_place_t, FieldId i, V&& v) : id(i), value(std::forward<V>(v)) {}

  FieldId id;
  Value value;
};

class Record {
 public:
  int64_t ts = 0;

  Record() = default;
  // A copy with room for `extra` more fields, so an operator that annotates what it passes on
  // does not reallocate (and move every field) on its first set().
  Record(const Record& other, size_t extra) : ts(other.ts) {
    fields_.reserve(other.fields_.size() + extra);
    fields_.insert(fields_.end(), other.fields_.begin(), other.fields_.end());
  }

  // nullptr when the field is absent. A present field may hold null (SPEC §4 `exists`).
  const Value* find(FieldId id) const {
    for (const Field& f : fields_) {
      if (f.id == id) return &f.value;
    }
    return nullptr;
  }
  // Replaces the value of an existing field or appends a new one.
  void set(FieldId id, Value value) {
    for (Field& f : fields_) {
      if (f.id == id) {
        f.value = std::move(value);
        return;
      }
    }
    fields_.push_back({id, std::move(value)});
  }
  // Appends without looking for an existing field. REQUIRES: `id` is not present.
  void append(FieldId id, Value value) { fields_.push_back({id, std::move(value)}); }
  bool erase(FieldId id) {
    for (auto it = fields_.begin(); it != fields_.end(); ++it) {
      if (it->id == id) {
        fields_.erase(it);
        return true;
      }
    }
    return false;
  }
  const std::vector<Field>& fields() const { return fields_; }
  // For builders that fill a record in place and keep their own index of it (EventParser).
  std::vector<Field>& mutable_fields() { return fields_; }
  void reserve(size_t n) { fields_.reserve(n); }

  friend bool operator==(const Record& a, const Record& b) {
    if (a.ts != b.ts || a.fields_.size() != b.fields_.size()) return false;
    for (const Field& f : a.fields_) {
      const Value* v = b.find(f.id);
      if (v == nullptr || !(*v == f.value)) return false;
    }
    return true;
  }

 private:
  std::vector<Field> fields_;
};

}  // namespace licflow
