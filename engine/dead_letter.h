// DeadLetterWriter: the dead-letter file of SPEC §1. Each bad line is written as
// {"source": ID, "line": N, "error": "…", "raw": "<at most the first 512 bytes>"}.
// Thread-safe: write() may be called concurrently. The file is created on the first dead letter.
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
  Status close();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
  bool failed_ = false;
  std::string buffer_;
};

// `raw` cut to at most 512 bytes and made valid UTF-8 (invalid bytes become U+FFFD), so the
// dead-letter line is valid JSON whatever the input was.
std::string dead_letter_raw(std::string_view raw);

}  // namespace licflow
