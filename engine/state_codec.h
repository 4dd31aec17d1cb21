// StateWriter / StateReader: the byte format of operator state in checkpoints (SPEC §7).
// Little-endian fixed-width integers and doubles, length-prefixed strings; field names are
// written as names (FieldIds are per process). A reader never trusts its input: any overrun or
// unknown tag sets failed() and yields zero values, so a corrupt checkpoint is refused, not
// crashed on.
//
// Large states stream: a writer given a ChunkSink hands its bytes over in chunks at the
// yield_point()s the state's owner marks (e.g. after each key), and a reader given a
// ChunkSource pulls them back as it reads, so a state of millions of keys is never whole in
// memory.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "engine/record.h"

namespace licflow {

class StateWriter {
 public:
  using ChunkSink = std::function<void(std::string_view chunk)>;

  StateWriter() = default;
  StateWriter(ChunkSink sink, size_t chunk_bytes)
      : sink_(std::move(sink)), chunk_bytes_(chunk_bytes) {}

  // A point where the bytes so far may leave: with a sink, once chunk_bytes have accumulated.
  void yield_point() {
    if (sink_ && out_.size() >= chunk_bytes_) {
      sink_(out_);
      out_.clear();
    }
  }

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

  // The bytes not yet handed to the sink (all of them without one).
  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
  ChunkSink sink_;
  size_t chunk_bytes_ = 0;
};

class StateReader {
 public:
  enum class Pull { kChunk, kEnd, kCorrupt };
  // Fills `chunk` with the next chunk (kChunk), or says there is none (kEnd) or that the chunks
  // are damaged (kCorrupt: the reader fails).
  using ChunkSource = std::function<Pull(std::string& chunk)>;

  explicit StateReader(std::string_view in) : in_(in), total_(in.size()) {}
  // Streams `total_bytes` from `source`.
  StateReader(ChunkSource source, uint64_t total_bytes)
      : source_(std::move(source)), total_(total_bytes) {}

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
  // Everything read; with a source, also every chunk pulled and found intact.
  bool at_end();
  void fail() { failed_ = true; }

 private:
  void raw(void* p, size_t n) {
    if (failed_ || (in_.size() - pos_ < n && !refill(n))) {
      failed_ = true;
      std::memset(p, 0, n);
      return;
    }
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  // Bytes of the state not read yet, pulled or not.
  uint64_t remaining() const { return total_ - consumed_ - pos_; }
  // Pulls chunks until `n` bytes are readable at pos_; false when there are not that many.
  bool refill(size_t n);

  std::string_view in_;
  size_t pos_ = 0;
  bool failed_ = false;
  int depth_ = 0;  // nesting of object values
  // Streaming: in_ views buffer_, which holds the unread end of the chunks pulled so far.
  ChunkSource source_;
  std::string buffer_;
  uint64_t total_ = 0;
  uint64_t consumed_ = 0;  // bytes dropped from the front of buffer_
};

}  // namespace licflow
