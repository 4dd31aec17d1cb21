// Test helper for the log formats (SPEC §1 `format: flexlm | rlm`): runs a log text through the
// line chunker and a ChunkTranslator, as a source's I/O thread does, and collects the result.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/event_parser.h"
#include "engine/line_chunker.h"
#include "engine/sources/log_format.h"

namespace licflow::test {

struct Translated {
  std::vector<std::string> events;  // the event lines, in order
  std::vector<RawDeadLetter> dead_letters;
  uint64_t skipped = 0;
};

// `chunk_bytes` = 1 puts every line in its own chunk (state must carry across chunks).
inline Translated translate_log(const std::string& log, const SourceFormat& format,
                                size_t chunk_bytes = 1 << 20, uint64_t replay_until = 0) {
  Translated r;
  std::unique_ptr<ChunkTranslator> translator = make_chunk_translator(format);
  translator->replay_until(replay_until);
  LineChunker chunker(
      0,
      [&](std::unique_ptr<RawChunk> c) {
        translator->translate(*c);
        std::string_view data(c->bytes.data(), c->size);
        while (!data.empty()) {
          size_t nl = data.find('\n');
          r.events.emplace_back(data.substr(0, nl));
          data.remove_prefix(nl + 1);
        }
        if (c->bytes.size() != c->size + kParsePadding) r.events.push_back("<bad padding>");
        for (RawDeadLetter& d : c->dead_letters) r.dead_letters.push_back(std::move(d));
      },
      chunk_bytes);
  chunker.feed(log);
  chunker.finish(false);
  r.skipped = translator->skipped();
  return r;
}

inline SourceFormat log_format(std::string name, std::string server = "default",
                               int32_t offset_minutes = 0) {
  SourceFormat f;
  f.name = std::move(name);
  f.server = std::move(server);
  f.utc_offset_minutes = offset_minutes;
  return f;
}

}  // namespace licflow::test
