// SPEC §7 checkpoints as CheckpointStore keeps them: a large operator state streams to RocksDB
// in chunks and reads back exactly; an unchanged small state is not rewritten; a checkpoint that
// died half-written leaves the previous one intact; damaged chunks are refused, not loaded.
#include <rocksdb/db.h>

#include <catch2/catch.hpp>

#include "engine/checkpoint_store.h"
#include "engine/history/history_store.h"
#include "tests/test_util.h"

using namespace licflow;
using namespace licflow::test;

namespace {

// `keys` blobs of 1 KiB, each a yield point, as KeyedState::save writes them.
void write_big_state(StateWriter& w, uint64_t keys, char fill) {
  w.u64(keys);
  for (uint64_t k = 0; k < keys; ++k) {
    w.u64(k);
    w.str(std::string(1024, static_cast<char>(fill + k % 7)));
    w.yield_point();
  }
}

// Reads back what write_big_state wrote; false on any difference.
bool read_big_state(StateReader& r, uint64_t keys, char fill) {
  if (r.u64() != keys) return false;
  for (uint64_t k = 0; k < keys; ++k) {
    if (r.u64() != k || r.str() != std::string(1024, static_cast<char>(fill + k % 7))) return false;
  }
  return !r.failed() && r.at_end();
}

const std::string kSmall(100 * 1024, 's');
// Bytes of the large state of 12000 keys: the count, then per key its number and its blob.
constexpr uint64_t kBig = 8 + 12000 * (8 + 8 + 1024);

Checkpoint manifest(uint64_t number) {
  Checkpoint c;
  c.number = number;
  c.operators = {{"big", "window", "cfg"}, {"small", "threshold", "cfg"}};
  return c;
}

// Checkpoint `number`: `big` holds `keys` blobs, `small` the string `small_state`.
void save(CheckpointStore& store, uint64_t number, uint64_t keys, char fill,
          const std::string& small_state) {
  StateWriter big = store.operator_writer("big", number);
  write_big_state(big, keys, fill);
  store.end_operator("big", big);
  StateWriter small = store.operator_writer("small", number);
  small.str(small_state);
  store.end_operator("small", small);
  REQUIRE(store.save(manifest(number)).is_ok());
}

}  // namespace

TEST_CASE("a large operator state streams in chunks and reads back exactly", "[checkpoint]") {
  TempDir dir;
  {
    auto store = CheckpointStore::open(dir.path().string());
    REQUIRE(store.is_ok());
    save(*store.value(), 1, 12000, 'a', kSmall);  // about 12 MiB: three 4 MiB chunks and a tail
    CHECK(store.value()->last_bytes_written() >= kBig + kSmall.size());
  }
  auto store = CheckpointStore::open(dir.path().string());
  REQUIRE(store.is_ok());
  auto loaded = store.value()->load();
  REQUIRE(loaded.is_ok());
  REQUIRE(loaded.value().has_value());
  CHECK(loaded.value()->number == 1);
  StateReader big = store.value()->operator_reader("big");
  CHECK(read_big_state(big, 12000, 'a'));
  StateReader small = store.value()->operator_reader("small");
  CHECK(small.str() == kSmall);
  CHECK(small.at_end());

  SECTION("an unchanged small state is not rewritten; a changed large one replaces the old") {
    save(*store.value(), 2, 12000, 'b', kSmall);
    const uint64_t written = store.value()->last_bytes_written();
    CHECK(written >= kBig);
    CHECK(written < kBig + 4096);  // the 100 KiB small state was not written again
    save(*store.value(), 3, 100, 'c', kSmall);  // the large state shrinks to one chunk
    REQUIRE(store.value()->load().is_ok());
    StateReader again = store.value()->operator_reader("big");
    CHECK(read_big_state(again, 100, 'c'));
    StateReader small_again = store.value()->operator_reader("small");
    CHECK(small_again.str() == kSmall);
  }

  SECTION("a checkpoint that died after streaming chunks leaves the previous one whole") {
    StateWriter big_writer = store.value()->operator_writer("big", 2);
    write_big_state(big_writer, 12000, 'z');  // chunks written; no end_operator, no save
    store.value().reset();                    // the process dies
    auto reopened = CheckpointStore::open(dir.path().string());
    REQUIRE(reopened.is_ok());
    auto previous = reopened.value()->load();
    REQUIRE((previous.is_ok() && previous.value().has_value()));
    CHECK(previous.value()->number == 1);
    StateReader r = reopened.value()->operator_reader("big");
    CHECK(read_big_state(r, 12000, 'a'));
    // The next checkpoint reuses generation 2 and leaves nothing of the dead one behind.
    save(*reopened.value(), 2, 5000, 'd', std::string(50, 't'));
    REQUIRE(reopened.value()->load().is_ok());
    StateReader next = reopened.value()->operator_reader("big");
    CHECK(read_big_state(next, 5000, 'd'));
  }
}

TEST_CASE("a damaged or missing state chunk is refused when read", "[checkpoint]") {
  TempDir dir;
  {
    auto store = CheckpointStore::open(dir.path().string());
    REQUIRE(store.is_ok());
    save(*store.value(), 1, 9000, 'a', kSmall);
  }
  const std::string path = dir.file("checkpoints");
  // Chunk 1 of generation 1 of `big`.
  std::string key = std::string("op/big") + '\0';
  for (uint64_t v : {uint64_t{1}, uint64_t{1}}) {
    for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(v >> shift));
  }
  const bool drop = GENERATE(false, true);
  {
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string chunk;
    REQUIRE(db->Get(rocksdb::ReadOptions(), key, &chunk).ok());
    if (drop) {
      REQUIRE(db->Delete(rocksdb::WriteOptions(), key).ok());
    } else {
      chunk[chunk.size() / 2] ^= 1;  // one bit inside a blob: it still decodes
      REQUIRE(db->Put(rocksdb::WriteOptions(), key, chunk).ok());
    }
  }
  auto store = CheckpointStore::open(dir.path().string());
  REQUIRE(store.is_ok());
  REQUIRE(store.value()->load().is_ok());
  StateReader r = store.value()->operator_reader("big");
  r.u64();
  for (uint64_t k = 0; k < 9000 && !r.failed(); ++k) {
    r.u64();
    r.str();
  }
  CHECK_FALSE(r.at_end());
  CHECK(r.failed());
}

TEST_CASE("a store's creation killed half-way leaves nothing that blocks the next run",
          "[checkpoint][spec-7]") {
  // SPEC §7: kill -9 at any moment. RocksDB writes a new database's files one by one; a store is
  // created aside and renamed into place, so what a kill leaves is `checkpoints.creating-PID`.
  TempDir dir;
  const std::string state = dir.path().string();
  std::filesystem::create_directories(state + "/checkpoints.creating-999999999");
  write_file(state + "/checkpoints.creating-999999999/LOG", "half a creation");
  write_file(state + "/checkpoints.creating-999999999/MANIFEST-000001", "");
  std::filesystem::create_directories(state + "/history");  // empty: created, nothing more
  {
    auto store = CheckpointStore::open(state);
    INFO(store.status().message());
    REQUIRE(store.is_ok());
    save(*store.value(), 1, 3, 'a', "small");
  }
  CHECK_FALSE(std::filesystem::exists(state + "/checkpoints.creating-999999999"));
  auto reopened = CheckpointStore::open(state);
  REQUIRE(reopened.is_ok());
  auto loaded = reopened.value()->load();
  REQUIRE(loaded.is_ok());
  REQUIRE(loaded.value().has_value());
  CHECK(loaded.value()->number == 1);
  // The same for the history store, and an empty directory is no obstacle either.
  std::filesystem::create_directories(state + "/history.creating-999999999/archive");
  auto history = HistoryStore::open(state, HistoryStore::Mode::kWrite);
  INFO(history.status().message());
  CHECK(history.is_ok());
  CHECK_FALSE(std::filesystem::exists(state + "/history.creating-999999999"));
}
