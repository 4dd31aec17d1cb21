// IngestQueue: the bounded hand-off from sources' I/O threads to the graph (moodycamel).
//
// A source must hold a credit to push a chunk; the credit travels with every batch derived from
// the chunk and returns when the last of them is destroyed. So at most `max_in_flight` chunks are
// queued or inside the graph at once: a slow sink slows the sources down instead of growing memory.
// push()/push_end() may be called concurrently from any I/O thread; pop() from one thread.
#pragma once

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "engine/metrics.h"
#include "engine/raw_chunk.h"

namespace licflow {

class IngestQueue {
 public:
  IngestQueue(size_t max_in_flight, size_t chunk_bytes)
      : credits_(static_cast<moodycamel::LightweightSemaphore::ssize_t>(max_in_flight)),
        max_in_flight_(max_in_flight),
        chunk_bytes_(chunk_bytes) {}

  // How many bytes of lines sources should gather into one chunk.
  size_t chunk_bytes() const { return chunk_bytes_; }

  // Blocks until a credit is free, then enqueues. The chunk's ingest time is taken before the
  // wait, so latency figures include time spent held back by backpressure.
  void push(std::unique_ptr<RawChunk> chunk) {
    chunk->ingest_ns = steady_now_ns();
    while (!credits_.wait(100'000)) {
    }
    queue_.enqueue(std::move(chunk));
  }
  // Marks the end of a source; never blocks.
  void push_end(uint32_t source) {
    auto end = std::make_unique<RawChunk>();
    end->source = source;
    end->end = true;
    queue_.enqueue(std::move(end));
  }
  bool pop(std::unique_ptr<RawChunk>& out, std::chrono::milliseconds timeout) {
    return queue_.wait_dequeue_timed(out, timeout);
  }
  // The credit of a popped data chunk; destroying the last copy returns it to the sources.
  std::shared_ptr<void> make_credit() {
    return std::shared_ptr<void>(nullptr, [this](void*) { credits_.signal(); });
  }
  // Chunks queued or in the graph.
  size_t capacity() const { return max_in_flight_; }
  size_t in_flight() const {
    auto free = credits_.availableApprox();
    return max_in_flight_ - static_cast<size_t>(free);
  }

 private:
  moodycamel::BlockingConcurrentQueue<std::unique_ptr<RawChunk>> queue_;
  moodycamel::LightweightSemaphore credits_;
  size_t max_in_flight_;
  size_t chunk_bytes_;
};

}  // namespace licflow
