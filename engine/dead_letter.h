// DeadLetterWriter: the dead-letter file of SPEC §1. Each bad line is written as
// {"source": ID, "line": N, "error": "…", "raw": "<at most the first 512 bytes>"}.
// A record a sink gave up (webhook) is written as {"sink": ID, "error": "…", "record": {…}}.
// Thread-safe: write() and write_record() may be called concurrently. The file is created on the
// first dead letter.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace licflow {

struct DeadLetter {
  uint64_t line = 0;
  std::string error;
  std::string raw;
};

class DeadLetterWriter {
 public:
  explicit DeadLetterWriter(std::string path) : path_(std::move(path)) {}
  ~DeadLetterWriter();

  Status write(std::string_view source, const DeadLetter& letter);
  // `record_json` is the record as one JSON object (the sink's own output, so valid JSON).
  Status write_record(std::string_view sink, std::string_view error, std::string_view record_json);
  // Hands what was written to the OS, so that a live node's dead letters show up as they come
  // (write() buffers a chunk's; write_record() flushes each).
  Status flush();
  Status close();
  // Checkpoints (SPEC §7): makes what was written durable and returns the file's size.
  Result<uint64_t> checkpoint();
  // Recovery: cuts the file back to a checkpointed size; later dead letters are appended.
  Status resume_at(uint64_t size);
  // A run that starts over: empties the file of an earlier run, if there is one.
  Status start_fresh();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
  bool failed_ = false;
  bool resumed_ = false;
  uint64_t resumed_size_ = 0;
  std::string buffer_;

  // REQUIRES: mutex_ is held. Writes buffer_, opening the file first if needed.
  Status write_buffer_locked();
  Status flush_locked();
};

// `raw` cut to at most 512 bytes and made valid UTF-8 (each maximal ill-formed subpart, a
// sequence the cut splits too, becomes one U+FFFD: what decoding those bytes with replacement
// gives), so the dead-letter line is valid JSON whatever the input was.
std::string dead_letter_raw(std::string_view raw);

}  // namespace licflow
