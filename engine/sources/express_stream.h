// ExpressStream: whether a live stream's chunks may be express chunks (raw_chunk.h): a chunk
// handed over because the stream went quiet, small, with none of the stream's earlier chunks
// still queued or in the graph, so it overtakes bulk work but never its own stream's lines.
// One per stream (a TCP connection, stdin); used by the stream's reading thread only.
#pragma once

#include <atomic>
#include <memory>

#include "engine/line_chunker.h"
#include "engine/raw_chunk.h"

namespace licflow {

class ExpressStream {
 public:
  // Stamps a chunk of this stream before IngestQueue::push.
  void stamp(RawChunk& chunk) const {
    chunk.stream_in_flight = in_flight_;
    chunk.express = quiet_ && chunk.size <= kExpressChunkBytes &&
                    in_flight_->load(std::memory_order_relaxed) == 0;
  }
  // The stream has nothing more waiting: hands over the lines `chunker` holds now.
  void flush_quiet(LineChunker& chunker) {
    quiet_ = true;
    chunker.flush_pending();
    quiet_ = false;
  }

 private:
  std::shared_ptr<std::atomic<int>> in_flight_ = std::make_shared<std::atomic<int>>(0);
  bool quiet_ = false;
};

}  // namespace licflow
