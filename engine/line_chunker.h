// LineChunker: turns a byte stream into RawChunks of whole lines (SPEC §1 framing).
// Lines longer than kMaxLineBytes are not buffered: the chunker keeps their first 512 bytes for
// the dead letter and skips the rest up to the newline. One instance per stream; not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "engine/raw_chunk.h"

namespace licflow {

class LineChunker {
 public:
  using Emit = std::function<void(std::unique_ptr<RawChunk>)>;
  static constexpr size_t kDefaultChunkBytes = 256 * 1024;

  LineChunker(uint32_t source, Emit emit, size_t chunk_bytes = kDefaultChunkBytes);

  // Continues a stream read from byte `offset`, where line number `line` starts (recovery from a
  // checkpoint). Call before the first feed().
  void resume_at(uint64_t offset, uint64_t line);
  void feed(std::string_view bytes);
  // Emits the complete lines gathered so far (a live stream that went quiet).
  void flush_pending() { flush_chunk(); }
  // End of stream. A last line without a newline is a line when `partial_line_is_error` is false
  // (a file's last line); otherwise (a connection closed mid-line) it becomes a dead letter.
  void finish(bool partial_line_is_error);
  // A stop request, not the end of the stream: emits the complete lines and leaves out the line
  // in progress, so that the stream's offset stays at its start and a resumed run reads it whole.
  void stop();
  // Lines read so far, whole or in progress (for messages).
  uint64_t lines_read() const { return next_line_ - 1; }

 private:
  void start_chunk();
  void flush_chunk();
  void add_dead_letter(std::string error, std::string_view raw);
  // The common case, in bulk: with no line in progress, appends the complete lines at the front
  // of `bytes` that fit in the chunk, in one copy. Returns the bytes taken (0: one line at a
  // time, below).
  size_t take_whole_lines(std::string_view bytes);

  uint32_t source_;
  Emit emit_;
  size_t chunk_bytes_;
  std::unique_ptr<RawChunk> chunk_;
  uint64_t next_line_ = 1;   // number of the line being assembled
  uint64_t consumed_ = 0;    // stream offset where that line starts
  uint64_t line_bytes_ = 0;  // bytes of that line fed so far (kept or skipped)
  std::string partial_;      // the current line's bytes so far (never more than kMaxLineBytes)
  bool skipping_ = false;    // inside an oversized line, dropping bytes up to the newline
};

}  // namespace licflow
