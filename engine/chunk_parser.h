// parse_chunk: a chunk of input lines -> records and dead letters (SPEC §1), in line order.
#pragma once

#include <vector>

#include "engine/dead_letter.h"
#include "engine/event_parser.h"
#include "engine/raw_chunk.h"
#include "engine/record.h"

namespace licflow {

// Lines (each ending in '\n', as sources cut them; a last one may lack it) are numbered from the
// chunk's first line, or by chunk.line_numbers (a log format's events: their log lines); blank
// or white-space-only lines are counted but skipped. The lines the reader already rejected
// (chunk.dead_letters) join the parser's dead letters in line order. `keep`: the source's
// projection (null: every field); `spare_fields`: room on each record for fields its consumers add
// (EventParser::parse).
void parse_chunk(const RawChunk& chunk, EventParser& parser, std::vector<Record>& records,
                 std::vector<DeadLetter>& dead_letters, const FieldMask* keep,
                 size_t spare_fields = 0);

}  // namespace licflow
