// RawChunk: a run of complete input lines read by a source's I/O thread, not yet parsed.
// Chunks are the unit of parallel parsing; the runtime restores their order per source by `seq`.
#pragma once

#include <cstdint>
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
  // Where the stream continues after this chunk: its byte offset and line number. A checkpoint
  // taken after the chunk was processed records them, and a file source resumes there.
  uint64_t end_offset = 0;
  uint64_t next_line = 1;
  bool end = false;  // no data: the source has finished
  bool idle = false;  // no data: marks the source's stream idle (made by the runtime)
  int64_t ingest_ns = 0;  // stamped by IngestQueue::push (steady clock, ns), before its wait
};

}  // namespace licflow
