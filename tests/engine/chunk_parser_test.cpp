// parse_chunk: SPEC §1 line numbering across a chunk, blank lines, and dead letters in line order.
#include <catch2/catch.hpp>

#include "engine/chunk_parser.h"

namespace licflow {
namespace {

RawChunk make_chunk(std::string lines, uint64_t first_line) {
  RawChunk chunk;
  chunk.first_line = first_line;
  chunk.size = lines.size();
  chunk.bytes = std::move(lines);
  chunk.bytes.append(kParsePadding, '\0');
  return chunk;
}

TEST_CASE("parse_chunk numbers lines from the chunk's first line, counting blank ones") {
  RawChunk chunk = make_chunk(
      "{\"ts\":1,\"type\":\"server_up\"}\r\n"
      "\n"
      "  \t\n"
      "not json\n"
      "\n"  // a line the reader rejected (too long): left in as an empty line
      "{\"ts\":2,\"type\":\"server_down\",\"server\":\"s\"}\n",
      10);
  chunk.dead_letters.push_back({14, "line longer than 1 MiB", "{\"ts\""});
  EventParser parser;
  std::vector<Record> records;
  std::vector<DeadLetter> dead_letters;
  parse_chunk(chunk, parser, records, dead_letters, nullptr);

  REQUIRE(records.size() == 2);
  CHECK(records[0].ts == 1);
  CHECK(records[1].ts == 2);
  REQUIRE(dead_letters.size() == 2);
  CHECK(dead_letters[0].line == 13);
  CHECK(dead_letters[0].raw == "not json");
  CHECK(dead_letters[1].line == 14);
  CHECK(dead_letters[1].error == "line longer than 1 MiB");
}

TEST_CASE("parse_chunk merges the reader's dead letters with its own in line order") {
  // Line 1 rejected by the reader, line 2 by the parser, line 3 good, and one more reader dead
  // letter numbered past the chunk's last line.
  RawChunk chunk = make_chunk("\n[1]\n{\"ts\":1,\"type\":\"server_up\"}", 1);
  chunk.dead_letters.push_back({1, "line longer than 1 MiB", "{"});
  chunk.dead_letters.push_back({9, "connection closed mid-line", "{\"ts\":"});
  EventParser parser;
  std::vector<Record> records;
  std::vector<DeadLetter> dead_letters;
  parse_chunk(chunk, parser, records, dead_letters, nullptr);
  CHECK(records.size() == 1);  // the last line, without its newline, is read too
  REQUIRE(dead_letters.size() == 3);
  CHECK(dead_letters[0].line == 1);
  CHECK(dead_letters[0].error == "line longer than 1 MiB");
  CHECK(dead_letters[1].line == 2);
  CHECK(dead_letters[1].raw == "[1]");
  CHECK(dead_letters[2].line == 9);
}

}  // namespace
}  // namespace licflow
