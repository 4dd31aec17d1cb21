#include "engine/state_codec.h"

#include <algorithm>
#include <memory>

namespace licflow {

void StateWriter::value(const Value& v) {
  u8(static_cast<uint8_t>(v.kind()));
  switch (v.kind()) {
    case ValueKind::kNull:
      break;
    case ValueKind::kBool:
      boolean(v.as_bool());
      break;
    case ValueKind::kInt:
      i64(v.as_int());
      break;
    case ValueKind::kDouble:
      f64(v.as_double());
      break;
    case ValueKind::kString:
      str(v.as_string());
      break;
    case ValueKind::kObject:
      record(*v.as_object());
      break;
  }
}

void StateWriter::record(const Record& r) {
  i64(r.ts);
  u64(r.fields().size());
  for (const Field& f : r.fields()) {
    str(field_name(f.id));
    value(f.value);
  }
}

bool StateReader::refill(size_t n) {
  if (!source_ || failed_ || remaining() < n) return false;
  std::string chunk;
  while (in_.size() - pos_ < n) {
    const Pull pulled = source_(chunk);
    if (pulled != Pull::kChunk) {
      failed_ = failed_ || pulled == Pull::kCorrupt;
      source_ = nullptr;
      return false;
    }
    buffer_.erase(0, pos_);
    consumed_ += pos_;
    pos_ = 0;
    buffer_ += chunk;
    in_ = buffer_;
  }
  return true;
}

bool StateReader::at_end() {
  if (failed_ || remaining() != 0 || pos_ != in_.size()) return false;
  if (!source_) return true;
  std::string chunk;  // the source must have nothing more, and find its chunks intact
  const Pull pulled = source_(chunk);
  source_ = nullptr;
  if (pulled == Pull::kEnd) return true;
  failed_ = true;
  return false;
}

std::string StateReader::str() {
  const uint64_t n = u64();
  if (failed_ || remaining() < n || (in_.size() - pos_ < n && !refill(n))) {
    failed_ = true;
    return {};
  }
  std::string s(in_.substr(pos_, n));
  pos_ += n;
  return s;
}

uint64_t StateReader::count(size_t min_bytes) {
  const uint64_t n = u64();
  if (failed_ || n > remaining() / std::max<size_t>(min_bytes, 1)) {
    failed_ = true;
    return 0;
  }
  return n;
}

Value StateReader::value() {
  switch (static_cast<ValueKind>(u8())) {
    case ValueKind::kNull:
      return Value();
    case ValueKind::kBool:
      return Value(boolean());
    case ValueKind::kInt:
      return Value(i64());
    case ValueKind::kDouble:
      return Value(f64());
    case ValueKind::kString:
      return Value(str());
    case ValueKind::kObject: {
      if (++depth_ > 64) {
        failed_ = true;
        return Value();
      }
      auto object = std::make_shared<const Record>(record());
      --depth_;
      return Value(std::move(object));
    }
  }
  failed_ = true;
  return Value();
}

Record StateReader::record() {
  Record r;
  r.ts = i64();
  const uint64_t n = count(9);
  r.reserve(n);
  for (uint64_t i = 0; i < n && !failed_; ++i) {
    std::string name = str();
    r.append(intern_field(name), value());
  }
  return r;
}

}  // namespace licflow
