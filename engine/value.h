// Value: one typed field value of a record (SPEC §1: number, string, bool, null).
// Integers and doubles are kept apart because SPEC §4 arithmetic keeps integer op integer integral.
// An object (a nested, immutable record) is never read from input — SPEC §1 drops those — but
// operators produce one: the `record` of a threshold alert (SPEC §5).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace licflow {

class Record;

enum class ValueKind : uint8_t { kNull, kBool, kInt, kDouble, kString, kObject };

class Value {
 public:
  Value() = default;  // null
  Value(bool b) : v_(b) {}
  Value(int64_t i) : v_(i) {}
  Value(int i) : v_(int64_t{i}) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  // Built in place: a temporary std::string moved in would copy a short string's bytes twice.
  Value(std::string_view s) : v_(std::in_place_type<std::string>, s) {}
  Value(const char* s) : v_(std::in_place_type<std::string>, s) {}
  // Shared, not copied: an alert's record travels to every sink without a deep copy.
  explicit Value(std::shared_ptr<const Record> object) : v_(std::move(object)) {}

  ValueKind kind() const { return static_cast<ValueKind>(v_.index()); }
  bool is_null() const { return kind() == ValueKind::kNull; }
  bool is_bool() const { return kind() == ValueKind::kBool; }
  bool is_int() const { return kind() == ValueKind::kInt; }
  bool is_double() const { return kind() == ValueKind::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return kind() == ValueKind::kString; }
  bool is_object() const { return kind() == ValueKind::kObject; }
  // True only for the boolean `true` (SPEC §4: and/or/not treat only true as true).
  bool is_true() const { return is_bool() && std::get<bool>(v_); }

  // REQUIRES: the matching kind.
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_double() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const std::shared_ptr<const Record>& as_object() const {
    return std::get<std::shared_ptr<const Record>>(v_);
  }
  // REQUIRES: is_number().
  double as_number() const {
    return is_int() ? static_cast<double>(as_int()) : as_double();
  }

  // Heap bytes this value owns beyond sizeof(Value), roughly: a long string's buffer (memory
  // accounting of spillable state; objects are shared and counted once elsewhere, or not at all).
  size_t heap_bytes() const {
    return is_string() && as_string().capacity() > 15 ? as_string().capacity() + 16 : 0;
  }

  // Structural equality: same kind and same value (1 != 1.0 here; SPEC §4 `==` is in expression.cpp).
  // Objects are equal only when they are the same object.
  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, std::shared_ptr<const Record>>
      v_;
};

}  // namespace licflow
