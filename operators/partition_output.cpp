#include "operators/partition_output.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace licflow {
namespace {

constexpr size_t kFileChunkBytes = 256 * 1024;  // written and read at a time

// The directory of temporary files when none is set: $TMPDIR, or /tmp.
std::string default_directory() {
  const char* dir = std::getenv("TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

// A file of its own in `dir`, unlinked at once: nothing is left behind, even by a crash.
std::FILE* open_anonymous_file(const std::string& dir) {
  std::string path = dir + "/licflow-partition-output-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) return nullptr;
  unlink(path.c_str());
  std::FILE* file = fdopen(fd, "w+b");
  if (file == nullptr) close(fd);
  return file;
}

}  // namespace

void PartitionOutput::add(Batch&& batch) {
  if (empty()) {
    credit_ = batch.credit;
    ingest_ns_ = batch.ingest_ns;
  }
  memory_records_ += batch.records.size();
  memory_.push_back(std::move(batch));
  if (memory_records_ >= kMemoryRecords && !file_failed_ && !move_to_file()) {
    file_failed_ = true;
    spdlog::warn(
        "could not write a temporary file in {}: a long output of a partitioned operator is "
        "held in memory",
        directory_.empty() ? default_directory() : directory_);
  }
}

bool PartitionOutput::move_to_file() {
  if (!file_)
    file_.reset(open_anonymous_file(directory_.empty() ? default_directory() : directory_));
  if (!file_) return false;
  std::FILE* file = file_.get();
  if (std::fseek(file, static_cast<long>(file_bytes_), SEEK_SET) != 0) return false;
  uint64_t written = 0;
  bool failed = false;
  StateWriter out(
      [&](std::string_view chunk) {
        failed = failed || std::fwrite(chunk.data(), 1, chunk.size(), file) != chunk.size();
        written += chunk.size();
      },
      kFileChunkBytes);
  for (const Batch& b : memory_) {
    for (size_t i = 0; i < b.records.size(); ++i) {
      out.i64(b.watermarks.empty() ? kMinTime : b.watermarks[i]);
      const EmitOrder order = b.emit_order.empty() ? EmitOrder{} : b.emit_order[i];
      out.i64(order.ts);
      out.u64(order.arrival);
      out.u64(b.emit_step.empty() ? 0 : b.emit_step[i]);
      out.u64(b.positions.empty() ? 0 : b.positions[i]);
      out.record(b.records[i]);
      out.yield_point();
    }
  }
  const std::string& rest = out.bytes();
  failed = failed || std::fwrite(rest.data(), 1, rest.size(), file) != rest.size();
  written += rest.size();
  // Flushed at once, so that a full disk shows here, while the records are still in memory (what
  // was written is overwritten by the next attempt).
  if (failed || std::fflush(file) != 0) {
    std::clearerr(file);
    return false;
  }
  file_bytes_ += written;
  file_records_ += memory_records_;
  memory_.clear();
  memory_records_ = 0;
  return true;
}

void PartitionOutput::clear() {
  memory_.clear();
  memory_records_ = 0;
  credit_.reset();
  ingest_ns_ = 0;
  if (file_records_ > 0) {
    // The disk space goes back now, not when the process ends.
    if (ftruncate(fileno(file_.get()), 0) != 0) file_.reset();
    file_bytes_ = 0;
    file_records_ = 0;
  }
}

PartitionOutput::Cursor::Cursor(PartitionOutput& output)
    : output_(&output), file_left_(output.file_records_) {
  if (file_left_ > 0) {
    std::FILE* file = output.file_.get();
    std::rewind(file);
    uint64_t unread = output.file_bytes_;
    file_ = std::make_unique<StateReader>(
        [file, unread](std::string& chunk) mutable {
          chunk.resize(std::min<uint64_t>(kFileChunkBytes, unread));
          if (chunk.empty()) return StateReader::Pull::kEnd;
          if (std::fread(chunk.data(), 1, chunk.size(), file) != chunk.size()) {
            return StateReader::Pull::kCorrupt;
          }
          unread -= chunk.size();
          return StateReader::Pull::kChunk;
        },
        output.file_bytes_);
  }
  load();
}

void PartitionOutput::Cursor::next() {
  if (file_ == nullptr) ++index_;
  load();
}

// Makes the next record current: from the file while it has some, then from memory.
void PartitionOutput::Cursor::load() {
  if (file_ != nullptr) {
    if (file_left_ > 0) {
      --file_left_;
      StateReader& in = *file_;
      mark_ = in.i64();
      order_.ts = in.i64();
      order_.arrival = in.u64();
      step_ = static_cast<uint32_t>(in.u64());
      position_ = static_cast<uint32_t>(in.u64());
      file_record_ = in.record();
      record_ = nullptr;
      if (!in.failed()) return;
      // Only an I/O error reading back our own file gets here: say so, loudly.
      spdlog::error(
          "reading back a partitioned operator's output from its temporary file "
          "failed: {} records are lost",
          file_left_ + 1);
    }
    file_.reset();
  }
  const std::vector<Batch>& memory = output_->memory_;
  while (batch_ < memory.size() && index_ == memory[batch_].records.size()) {
    ++batch_;
    index_ = 0;
  }
  if (batch_ == memory.size()) {
    done_ = true;
    return;
  }
  Batch& b = output_->memory_[batch_];
  record_ = &b.records[index_];
  mark_ = b.watermarks.empty() ? kMinTime : b.watermarks[index_];
  order_ = b.emit_order.empty() ? EmitOrder{} : b.emit_order[index_];
  step_ = b.emit_step.empty() ? 0 : b.emit_step[index_];
  position_ = b.positions.empty() ? 0 : b.positions[index_];
}

}  // namespace licflow
