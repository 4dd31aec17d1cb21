// IngestQueue: the bounded hand-off from sources' I/O threads to the graph (moodycamel).
//
// A source must hold a credit to push a chunk; the credit travels with every batch derived from
// the chunk and returns when the last of them is destroyed. So at most `max_in_flight` chunks are
// queued or inside the graph at once: a slow sink slows the sources down instead of growing memory.
// push()/push_end() may be called concurrently from any I/O thread; pop() from one thread.
//
// Express chunks (raw_chunk.h) skip the queue: they draw on a small pool of credits of their
// own and run at once, on the pushing thread, through the runner set by run_express_with(). With a
// saturating load, waiting for a bulk credit alone costs tens of milliseconds, and handing the
// chunk to another thread a few more on a busy machine.
#pragma once

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

#include "engine/metrics.h"
#include "engine/raw_chunk.h"

namespace licflow {

class IngestQueue {
 public:
  IngestQueue(size_t max_in_flight, size_t chunk_bytes)
      : credits_(static_cast<moodycamel::LightweightSemaphore::ssize_t>(max_in_flight)),
        express_credits_(kExpressCredits),
        max_in_flight_(max_in_flight),
        chunk_bytes_(chunk_bytes) {}

  // How many bytes of lines sources should gather into one chunk.
  size_t chunk_bytes() const { return chunk_bytes_; }

  // Blocks until a credit is free, then enqueues. The chunk's ingest time is taken before the
  // wait, so latency figures include time spent held back by backpressure.
  void push(std::unique_ptr<RawChunk> chunk) {
    chunk->ingest_ns = steady_now_ns();
    if (chunk->stream_in_flight) chunk->stream_in_flight->fetch_add(1, std::memory_order_relaxed);
    if (chunk->express && express_runner_ && express_credits_.tryWait()) {
      auto marker = std::make_unique<RawChunk>();
      marker->source = chunk->source;
      marker->watermark_only = true;
      // What the marker's watermark releases downstream counts its latency from this chunk.
      marker->ingest_ns = chunk->ingest_ns;
      marker->express_max_ts = express_runner_(std::move(chunk));
      queue_.enqueue(std::move(marker));
      return;
    }
    chunk->express = false;
    while (!credits_.wait(100'000)) {
    }
    queue_.enqueue(std::move(chunk));
  }
  // Set before any source starts. The runner must take the chunk's credit (make_credit) and
  // return the largest ts of its records (for the marker that follows it).
  using ExpressRunner = std::function<int64_t(std::unique_ptr<RawChunk>)>;
  void run_express_with(ExpressRunner runner) { express_runner_ = std::move(runner); }
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
  // The credit of a popped data chunk; destroying the last copy returns it to the pool it came
  // from and counts the chunk out of its stream.
  std::shared_ptr<void> make_credit(const RawChunk& chunk) {
    return std::shared_ptr<void>(
        nullptr, [this, express = chunk.express, stream = chunk.stream_in_flight](void*) {
          if (stream) stream->fetch_sub(1, std::memory_order_relaxed);
          (express ? express_credits_ : credits_).signal();
        });
  }
  // The bound on chunks in flight (backpressure).
  size_t capacity() const { return max_in_flight_; }
  // Chunks queued or in the graph.
  size_t in_flight() const {
    auto free = credits_.availableApprox();
    return max_in_flight_ - static_cast<size_t>(free);
  }

 private:
  moodycamel::BlockingConcurrentQueue<std::unique_ptr<RawChunk>> queue_;
  static constexpr int kExpressCredits = 8;
  moodycamel::LightweightSemaphore credits_;
  moodycamel::LightweightSemaphore express_credits_;
  ExpressRunner express_runner_;
  size_t max_in_flight_;
  size_t chunk_bytes_;
};

}  // namespace licflow
