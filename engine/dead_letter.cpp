// Dead-letter file: SPEC §1.
#include "engine/dead_letter.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "engine/json_writer.h"

namespace licflow {

std::string dead_letter_raw(std::string_view raw) {
  // A sequence the cut splits is one U+FFFD, as a reader decoding the first 512 bytes gets.
  std::string out;
  append_valid_utf8(out, raw.substr(0, 512));
  return out;
}

DeadLetterWriter::~DeadLetterWriter() { (void)close(); }

Status DeadLetterWriter::write(std::string_view source, const DeadLetter& letter) {
  std::lock_guard lock(mutex_);
  buffer_.clear();
  buffer_ += "{\"source\":";
  append_json_string(buffer_, source);
  buffer_ += ",\"line\":" + std::to_string(letter.line) + ",\"error\":";
  append_json_string(buffer_, letter.error);
  buffer_ += ",\"raw\":";
  append_json_string(buffer_, dead_letter_raw(letter.raw));
  buffer_ += "}\n";
  return write_buffer_locked();
}

Status DeadLetterWriter::write_record(std::string_view sink, std::string_view error,
                                      std::string_view record_json) {
  std::lock_guard lock(mutex_);
  buffer_.clear();
  buffer_ += "{\"sink\":";
  append_json_string(buffer_, sink);
  buffer_ += ",\"error\":";
  append_json_string(buffer_, error);
  buffer_ += ",\"record\":";
  buffer_ += record_json;
  buffer_ += "}\n";
  RETURN_IF_ERROR(write_buffer_locked());
  return flush_locked();
}

Status DeadLetterWriter::flush() {
  std::lock_guard lock(mutex_);
  return flush_locked();
}

Status DeadLetterWriter::flush_locked() {
  if (file_ != nullptr && std::fflush(file_) != 0) {
    return Status::error("write to dead-letter file " + path_ + " failed: " + std::strerror(errno));
  }
  return Status::ok();
}

Status DeadLetterWriter::write_buffer_locked() {
  if (failed_) return Status::error("dead-letter file " + path_ + " is not writable");
  if (file_ == nullptr) {
    std::error_code ec;
    auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    file_ = std::fopen(path_.c_str(), resumed_ ? "ab" : "wb");
    if (file_ == nullptr) {
      failed_ = true;
      return Status::error("cannot open dead-letter file " + path_ + ": " + std::strerror(errno));
    }
  }
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    return Status::error("write to dead-letter file " + path_ + " failed");
  }
  return Status::ok();
}

Result<uint64_t> DeadLetterWriter::checkpoint() {
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return resumed_size_;
  if (std::fflush(file_) != 0 || ::fdatasync(::fileno(file_)) != 0) {
    return Status::error("flushing dead-letter file " + path_ + " failed: " + std::strerror(errno));
  }
  const long size = std::ftell(file_);
  if (size < 0) return Status::error("cannot tell the size of dead-letter file " + path_);
  return static_cast<uint64_t>(size);
}

Status DeadLetterWriter::resume_at(uint64_t size) {
  std::lock_guard lock(mutex_);
  resumed_ = true;
  resumed_size_ = size;
  if (::truncate(path_.c_str(), static_cast<off_t>(size)) != 0 && !(errno == ENOENT && size == 0)) {
    return Status::error("cannot cut dead-letter file " + path_ + " back to its checkpointed size: " +
                         std::strerror(errno));
  }
  return Status::ok();
}

Status DeadLetterWriter::start_fresh() {
  std::lock_guard lock(mutex_);
  // Only a regular file: /dev/null, a FIFO or a terminal cannot be truncated, nor need to be.
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return Status::ok();
  if (::truncate(path_.c_str(), 0) != 0) {
    return Status::error("cannot truncate dead-letter file " + path_ + ": " + std::strerror(errno));
  }
  return Status::ok();
}

Status DeadLetterWriter::close() {
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return Status::ok();
  int rc = std::fclose(file_);
  file_ = nullptr;
  return rc == 0 ? Status::ok() : Status::error("closing dead-letter file " + path_ + " failed");
}

}  // namespace licflow
