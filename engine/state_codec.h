// StateWriter / StateReader: the byte format of operator state in checkpoints (SPEC §7).
// Little-endian fixed-width integers and doubles, length-prefixed strings; field names are
// written as names (FieldIds are per process). A reader never trusts its input: any overrun or
// unknown tag sets failed() and yields zero values, so a corrupt checkpoint is refused, not
// crashed on.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/record.h"

namespace licflow {

class StateWriter {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  void value(const Value& v);
  void record(const Record& r);

  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class StateReader {
 public:
  explicit StateReader(std::string_view in) : in_(in) {}

  uint8_t u8() {
    uint8_t v = 0;
    raw(&v, 1);
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    raw(&v, sizeof v);
    return v;
  }
  int64_t i64() {
    int64_t v = 0;
    raw(&v, sizeof v);
    return v;
  }
  double f64() {
    double v = 0;
    raw(&v, sizeof v);
    return v;
  }
  bool boolean() { return u8() != 0; }
  std::string str();
  Value value();
  Record record();
  // A count of items that each take at least `min_bytes`: guards reserve() against corrupt input.
  uint64_t count(size_t min_bytes = 1);

  bool failed() const { return failed_; }
  bool at_end() const { return pos_ == in_.size(); }
  void fail() { failed_ = true; }

 private:
  void raw(void* p, size_t n) {
    if (failed_ || in_.size() - pos_ < n) {
      failed_ = true;
      std::memset(p, 0, n);
      return;
    }
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool failed_ = false;
  int depth_ = 0;  // nesting of object values
};

}  // namespace licflow
