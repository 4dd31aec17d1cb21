// SPEC §1 framing: lines numbered from 1 counting blank lines, 1 MiB limit, cut lines.
#include <catch2/catch.hpp>

#include "engine/event_parser.h"
#include "engine/line_chunker.h"

using namespace licflow;

namespace {

struct Collected {
  std::vector<std::unique_ptr<RawChunk>> chunks;
  LineChunker chunker;
  explicit Collected(size_t chunk_bytes = 1 << 20)
      : chunker(7, [this](std::unique_ptr<RawChunk> c) { chunks.push_back(std::move(c)); },
                chunk_bytes) {}
  // All lines as text, with their numbers.
  std::vector<std::pair<uint64_t, std::string>> lines() const {
    std::vector<std::pair<uint64_t, std::string>> out;
    for (const auto& c : chunks) {
      uint64_t n = c->first_line;
      std::string_view data(c->bytes.data(), c->size);
      while (!data.empty()) {
        size_t nl = data.find('\n');
        out.emplace_back(n++, std::string(data.substr(0, nl)));
        data.remove_prefix(nl + 1);
      }
      CHECK(c->bytes.size() == c->size + kParsePadding);
      CHECK(c->source == 7);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("lines split across feeds are reassembled and numbered", "[chunker][spec-1]") {
  Collected c;
  c.chunker.feed("{\"a\":1}\n\n{\"b\"");
  c.chunker.feed(":2}\r\n  \n{\"c\":3}");
  c.chunker.finish(false);
  auto lines = c.lines();
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == std::make_pair(uint64_t{1}, std::string("{\"a\":1}")));
  CHECK(lines[2] == std::make_pair(uint64_t{3}, std::string("{\"b\":2}\r")));
  CHECK(lines[4] == std::make_pair(uint64_t{5}, std::string("{\"c\":3}")));  // last, no newline
}

TEST_CASE("chunks end on line boundaries and keep numbering", "[chunker][spec-1]") {
  Collected c(/*chunk_bytes=*/16);
  for (int i = 0; i < 10; ++i) c.chunker.feed("{\"i\":" + std::to_string(i) + "}\n");
  c.chunker.finish(false);
  CHECK(c.chunks.size() > 1);
  auto lines = c.lines();
  REQUIRE(lines.size() == 10);
  for (int i = 0; i < 10; ++i) {
    CHECK(lines[i].first == static_cast<uint64_t>(i + 1));
    CHECK(lines[i].second == "{\"i\":" + std::to_string(i) + "}");
  }
}

TEST_CASE("a line over 1 MiB becomes a dead letter without being buffered", "[chunker][spec-1]") {
  Collected c;
  c.chunker.feed("{\"ok\":1}\n{\"big\":\"");
  std::string block(64 * 1024, 'x');
  for (int i = 0; i < 20; ++i) c.chunker.feed(block);  // 1.25 MiB
  c.chunker.feed("\"}\n{\"ok\":2}\n");
  c.chunker.finish(false);
  auto lines = c.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].second.empty());  // kept as an empty line so numbering stays right
  CHECK(lines[2] == std::make_pair(uint64_t{3}, std::string("{\"ok\":2}")));
  size_t letters = 0;
  for (const auto& chunk : c.chunks) {
    for (const RawDeadLetter& d : chunk->dead_letters) {
      ++letters;
      CHECK(d.line == 2);
      CHECK(d.error == "line longer than 1 MiB");
      CHECK(d.raw.size() == 512);
      CHECK(d.raw.substr(0, 9) == "{\"big\":\"x");
    }
  }
  CHECK(letters == 1);
}

TEST_CASE("a line of exactly 1 MiB is accepted, one byte more is not", "[chunker][spec-1]") {
  Collected c;
  std::string exact(kMaxLineBytes, 'a');
  c.chunker.feed(exact + "\r\n" + exact + "b\n");
  c.chunker.finish(false);
  auto lines = c.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].second.size() == kMaxLineBytes + 1);  // with its '\r', stripped at parse time
  CHECK(lines[1].second.empty());
  CHECK(c.chunks.back()->dead_letters.size() == 1);
}

TEST_CASE("a last line without newline is held to the 1 MiB limit too", "[chunker][spec-1]") {
  for (size_t extra : {0, 1}) {
    Collected c;
    c.chunker.feed("{}\n" + std::string(kMaxLineBytes + extra, 'a'));
    c.chunker.finish(false);
    auto lines = c.lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].second.size() == (extra == 0 ? kMaxLineBytes : 0));
    CHECK(c.chunks.back()->dead_letters.size() == extra);
  }
}

TEST_CASE("a stream cut mid-line yields a dead letter for the partial line", "[chunker][tcp]") {
  Collected c;
  c.chunker.feed("{\"a\":1}\n{\"ts\":12,\"ty");
  c.chunker.finish(/*partial_line_is_error=*/true);
  auto lines = c.lines();
  REQUIRE(lines.size() == 2);
  const RawDeadLetter& d = c.chunks.back()->dead_letters.at(0);
  CHECK(d.line == 2);
  CHECK(d.raw == "{\"ts\":12,\"ty");
  CHECK(d.error == "connection closed in the middle of a line");
}

TEST_CASE("a stop leaves the line in progress out and the offset at its start",
          "[chunker][checkpoint]") {
  // SIGTERM in the middle of a file: the cut line must be neither a line nor a dead letter; a
  // run resumed at the offset reads it whole (and the same for an oversized line in progress).
  const std::string first = "{\"a\":1}\n";
  for (const std::string& cut : {std::string("{\"ts\":12,\"ty"), std::string((1 << 20) + 5, 'y')}) {
    Collected c;
    c.chunker.feed(first + "\n" + cut);
    c.chunker.stop();
    REQUIRE(c.chunks.size() == 1);
    CHECK(c.lines() == std::vector<std::pair<uint64_t, std::string>>{{1, "{\"a\":1}"}, {2, ""}});
    CHECK(c.chunks[0]->dead_letters.empty());
    CHECK(c.chunks[0]->end_offset == first.size() + 1);
    CHECK(c.chunks[0]->next_line == 3);
  }
}

TEST_CASE("each chunk records where the stream continues; resuming there gives the same chunks",
          "[chunker][checkpoint]") {
  // Mixed line lengths, a blank line, a CRLF line and an oversized line, fed in odd pieces.
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += i == 7 ? "" : i == 11 ? "{\"crlf\":1}\r" : "{\"i\":" + std::string(i % 9, 'x') + "}";
    text += '\n';
  }
  text += std::string((1 << 20) + 10, 'y') + "\n{\"tail\":1}";
  auto feed_in_pieces = [](LineChunker& chunker, std::string_view bytes) {
    for (size_t pos = 0; pos < bytes.size(); pos += 37) chunker.feed(bytes.substr(pos, 37));
    chunker.finish(false);
  };
  Collected whole(/*chunk_bytes=*/64);
  feed_in_pieces(whole.chunker, text);
  REQUIRE(whole.chunks.size() > 5);
  CHECK(whole.chunks.back()->end_offset == text.size());
  CHECK(whole.chunks.back()->next_line == 43);  // 40 lines, the oversized one, the tail
  for (size_t k = 0; k + 1 < whole.chunks.size(); ++k) {
    const RawChunk& cut = *whole.chunks[k];
    INFO("resume after chunk " << k);
    // The offset is the start of line next_line.
    CHECK(std::count(text.begin(), text.begin() + static_cast<ptrdiff_t>(cut.end_offset), '\n') ==
          static_cast<ptrdiff_t>(cut.next_line - 1));
    Collected resumed(/*chunk_bytes=*/64);
    resumed.chunker.resume_at(cut.end_offset, cut.next_line);
    feed_in_pieces(resumed.chunker, std::string_view(text).substr(cut.end_offset));
    REQUIRE(resumed.chunks.size() == whole.chunks.size() - k - 1);
    for (size_t i = 0; i < resumed.chunks.size(); ++i) {
      const RawChunk& a = *whole.chunks[k + 1 + i];
      const RawChunk& b = *resumed.chunks[i];
      CHECK(a.first_line == b.first_line);
      CHECK(a.bytes == b.bytes);
      CHECK(a.end_offset == b.end_offset);
      CHECK(a.next_line == b.next_line);
      CHECK(a.dead_letters.size() == b.dead_letters.size());
    }
  }
}

TEST_CASE("whole feeds and byte-sized feeds give the same chunks, long lines included",
          "[chunker][spec-1]") {
  // A feed of many whole lines is taken in bulk; one cut anywhere goes line by line. Both must
  // frame, number and limit lines alike, including a line over 1 MiB between short ones.
  std::string stream;
  for (int i = 0; i < 300; ++i) {
    stream += i % 37 == 0 ? std::string("\r\n") : "{\"i\":" + std::to_string(i) + "}\n";
    if (i == 150) stream += std::string(kMaxLineBytes + 10, 'x') + "\n";
  }
  stream += "{\"last\":1}";
  auto run = [&](size_t piece) {
    Collected c(/*chunk_bytes=*/200);
    for (size_t at = 0; at < stream.size(); at += piece) {
      c.chunker.feed(std::string_view(stream).substr(at, piece));
    }
    c.chunker.finish(false);
    return c;
  };
  Collected whole = run(stream.size());
  Collected small = run(7);
  REQUIRE(whole.chunks.size() == small.chunks.size());
  for (size_t k = 0; k < whole.chunks.size(); ++k) {
    const RawChunk& a = *whole.chunks[k];
    const RawChunk& b = *small.chunks[k];
    CHECK(a.first_line == b.first_line);
    CHECK(a.next_line == b.next_line);
    CHECK(a.end_offset == b.end_offset);
    CHECK(a.size == b.size);
    CHECK(a.bytes == b.bytes);
    CHECK(a.dead_letters.size() == b.dead_letters.size());
  }
  auto lines = whole.lines();
  CHECK(lines.back() == std::make_pair(uint64_t{302}, std::string("{\"last\":1}")));
  size_t dead = 0;
  for (const auto& chunk : whole.chunks) dead += chunk->dead_letters.size();
  CHECK(dead == 1);
}
