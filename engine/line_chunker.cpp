#include "engine/line_chunker.h"

#include <algorithm>
#include <cstring>

#include "engine/event_parser.h"

namespace licflow {

LineChunker::LineChunker(uint32_t source, Emit emit, size_t chunk_bytes)
    : source_(source), emit_(std::move(emit)), chunk_bytes_(chunk_bytes) {
  start_chunk();
}

void LineChunker::start_chunk() {
  chunk_ = std::make_unique<RawChunk>();
  chunk_->source = source_;
  chunk_->first_line = next_line_;
  chunk_->bytes.reserve(chunk_bytes_ + kParsePadding + 4096);
}

void LineChunker::resume_at(uint64_t offset, uint64_t line) {
  consumed_ = offset;
  next_line_ = line;
  chunk_->first_line = line;
}

void LineChunker::flush_chunk() {
  if (chunk_->size == 0 && chunk_->dead_letters.empty()) return;
  chunk_->end_offset = consumed_;
  chunk_->next_line = next_line_;
  chunk_->bytes.append(kParsePadding, '\0');
  emit_(std::move(chunk_));
  start_chunk();
}

void LineChunker::add_dead_letter(std::string error, std::string_view raw) {
  chunk_->dead_letters.push_back(
      {next_line_, std::move(error), std::string(raw.substr(0, 512))});
  chunk_->bytes.push_back('\n');  // keep the line, empty, so numbering stays right
  chunk_->size += 1;
}

size_t LineChunker::take_whole_lines(std::string_view bytes) {
  if (skipping_ || !partial_.empty() || chunk_->size >= chunk_bytes_) return 0;
  // Up to the chunk's size, and no more than a line may be: every line inside is then short
  // enough, and none needs looking at on its own.
  const size_t span = std::min({bytes.size(), chunk_bytes_ - chunk_->size, kMaxLineBytes});
  const void* last = memrchr(bytes.data(), '\n', span);
  if (last == nullptr) return 0;
  const size_t take = static_cast<size_t>(static_cast<const char*>(last) - bytes.data()) + 1;
  // Counted in byte-wide lanes, 255 bytes at a time, which the compiler vectorizes well.
  size_t lines = 0;
  for (size_t i = 0; i < take;) {
    const size_t end = std::min(take, i + 255);
    uint8_t n = 0;
    for (; i < end; ++i) n += bytes[i] == '\n';
    lines += n;
  }
  chunk_->bytes.append(bytes.data(), take);
  chunk_->size += take;
  next_line_ += lines;
  consumed_ += take;
  return take;
}

void LineChunker::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (size_t taken = take_whole_lines(bytes); taken > 0) {
      bytes.remove_prefix(taken);
      if (chunk_->size >= chunk_bytes_) flush_chunk();
      continue;
    }
    const char* nl = static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
    size_t take = nl ? static_cast<size_t>(nl - bytes.data()) : bytes.size();
    std::string_view piece = bytes.substr(0, take);
    if (skipping_) {
      // Oversized line: bytes are dropped; its dead letter was recorded when it crossed the limit.
    } else if (partial_.size() + piece.size() > kMaxLineBytes + 1) {
      // +1 tolerates the '\r' that is stripped before the length rule applies.
      partial_.append(piece.substr(0, 512 > partial_.size() ? 512 - partial_.size() : 0));
      add_dead_letter("line longer than 1 MiB", partial_);
      partial_.clear();
      skipping_ = true;
    } else if (!nl || !partial_.empty()) {
      partial_.append(piece);
    }
    if (!nl) {
      line_bytes_ += take;
      return;
    }
    consumed_ += line_bytes_ + take + 1;
    line_bytes_ = 0;
    if (skipping_) {
      skipping_ = false;
    } else {
      std::string_view line = partial_.empty() ? piece : std::string_view(partial_);
      size_t content = line.size() - (!line.empty() && line.back() == '\r' ? 1 : 0);
      if (content > kMaxLineBytes) {
        add_dead_letter("line longer than 1 MiB", line);
      } else {
        chunk_->bytes.append(line);
        chunk_->bytes.push_back('\n');
        chunk_->size += line.size() + 1;
      }
      partial_.clear();
    }
    ++next_line_;
    bytes.remove_prefix(take + 1);
    if (chunk_->size >= chunk_bytes_) flush_chunk();
  }
}

void LineChunker::finish(bool partial_line_is_error) {
  consumed_ += line_bytes_;
  line_bytes_ = 0;
  if (skipping_) {
    ++next_line_;
  } else if (!partial_.empty()) {
    const size_t content = partial_.size() - (partial_.back() == '\r' ? 1 : 0);
    if (partial_line_is_error) {
      add_dead_letter("connection closed in the middle of a line", partial_);
    } else if (content > kMaxLineBytes) {  // a last line without '\n', one byte over the limit
      add_dead_letter("line longer than 1 MiB", partial_);
    } else {
      chunk_->bytes.append(partial_);
      chunk_->bytes.push_back('\n');
      chunk_->size += partial_.size() + 1;
    }
    partial_.clear();
    ++next_line_;
  }
  skipping_ = false;
  flush_chunk();
}

void LineChunker::stop() {
  // An oversized line in progress had its dead letter recorded when it crossed the limit; the
  // resumed run records it again, so it goes, with the empty line that held its place.
  if (skipping_ && !chunk_->dead_letters.empty() &&
      chunk_->dead_letters.back().line == next_line_) {
    chunk_->dead_letters.pop_back();
    chunk_->bytes.pop_back();
    chunk_->size -= 1;
  }
  partial_.clear();
  line_bytes_ = 0;
  skipping_ = false;
  flush_chunk();
}

}  // namespace licflow
