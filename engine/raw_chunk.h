// RawChunk: a run of complete input lines read by a source's I/O thread, not yet parsed.
// Chunks are the unit of parallel parsing; the runtime restores their order per source by `seq`.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace licflow {

// A line the reader rejected before parsing (longer than 1 MiB, cut off by a closed connection).
struct RawDeadLetter {
  uint64_t line = 0;
  std::string error;
  std::string raw;  // at most the first 512 bytes
};

struct RawChunk {
  uint32_t source = 0;    // index of the source in the plan
  uint64_t seq = 0;       // per-source sequence number, stamped by the runtime
  uint64_t first_line = 1;
  // Complete lines, each ending in '\n', then kParsePadding spare bytes so simdjson can parse
  // each line in place. Rejected lines stay in as empty lines to keep line numbers right.
  std::string bytes;
  size_t size = 0;  // bytes of lines, without the padding
  std::vector<RawDeadLetter> dead_letters;  // in line order
  uint64_t skipped_lines = 0;  // log lines a log format skipped (not license events, SPEC §1)
  // Lines rewritten by a log format: per line of `bytes`, the number of the log line it came
  // from (one log line may give two events). Empty: lines are numbered from first_line.
  std::vector<uint64_t> line_numbers;
  // Where the stream continues after this chunk: its byte offset and line number. A checkpoint
  // taken after the chunk was processed records them, and a file source resumes there.
  uint64_t end_offset = 0;
  uint64_t next_line = 1;
  bool end = false;  // no data: the source has finished
  bool idle = false;  // no data: marks the source's stream idle (made by the runtime)
  // No data: follows an express chunk, which carries no watermark progress, and brings that
  // chunk's largest ts into the source's watermark at the express chunk's place in the source's
  // order (made by IngestQueue::push).
  bool watermark_only = false;
  int64_t express_max_ts = std::numeric_limits<int64_t>::min();  // of a watermark_only marker
  int64_t ingest_ns = 0;  // stamped by IngestQueue::push (steady clock, ns), before its wait
  // An express chunk: a few lines from a live stream that went quiet (a trickle, not bulk) and
  // has nothing else in flight. It runs at once on the reading thread, ahead of bulk work
  // (engine/runtime.h); IngestQueue::push clears the flag when no express credit is free.
  bool express = false;
  // Chunks of this chunk's stream (a TCP connection, stdin) that are queued or inside the
  // graph; null for streams that never send express chunks.
  std::shared_ptr<std::atomic<int>> stream_in_flight;
};

// An express chunk is at most this big: enough for a burst of alerts, small enough to parse and
// run on the reading thread without holding its stream back.
inline constexpr size_t kExpressChunkBytes = 16 * 1024;

}  // namespace licflow
