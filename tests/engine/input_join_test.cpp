// InputJoin (engine/input_join.h): the batches of one origin, one per input, merged by the
// records' positions; each record's input is told, so a sink can name its stream.
#include "engine/input_join.h"

#include <catch2/catch.hpp>

using namespace licflow;

namespace {

// A batch of `origin` whose records carry ts = position * 10 at those positions.
BatchPtr batch_at(uint64_t origin, std::vector<uint32_t> positions) {
  auto b = std::make_shared<Batch>();
  b->origin = origin;
  for (uint32_t p : positions) {
    Record r;
    r.ts = p * 10;
    b->records.push_back(std::move(r));
  }
  b->positions = std::move(positions);
  return b;
}

std::vector<int64_t> timestamps(const Batch& b) {
  std::vector<int64_t> out;
  for (const Record& r : b.records) out.push_back(r.ts);
  return out;
}

}  // namespace

TEST_CASE("a join merges one origin's batches by position and tells each record's input",
          "[join]") {
  InputJoin join(2);
  std::vector<uint32_t> inputs;
  // An operator's ports: `out` got positions 0, 1, 3, 4; `sessions` got 2 and 5.
  CHECK(join.add(1, batch_at(7, {2, 5}), &inputs) == nullptr);
  BatchPtr merged = join.add(0, batch_at(7, {0, 1, 3, 4}), &inputs);
  REQUIRE(merged != nullptr);
  CHECK(timestamps(*merged) == std::vector<int64_t>{0, 10, 20, 30, 40, 50});
  CHECK(inputs == std::vector<uint32_t>{0, 0, 1, 0, 0, 1});
  CHECK(merged->positions == std::vector<uint32_t>{0, 1, 2, 3, 4, 5});

  // A batch without origin passes at once, all of it from its own input.
  auto plain = std::make_shared<Batch>();
  plain->records.resize(3);
  CHECK(join.add(1, plain, &inputs) == plain);
  CHECK(inputs == std::vector<uint32_t>{1, 1, 1});

  // An empty batch completes its set as any other.
  CHECK(join.add(0, batch_at(8, {}), &inputs) == nullptr);
  merged = join.add(1, batch_at(8, {0, 1}), &inputs);
  REQUIRE(merged != nullptr);
  CHECK(inputs == std::vector<uint32_t>{1, 1});
}

TEST_CASE("draining a join gives the incomplete sets, oldest first, with each record's input",
          "[join]") {
  InputJoin join(3);
  CHECK(join.add(2, batch_at(1, {1}), nullptr) == nullptr);
  CHECK(join.add(0, batch_at(1, {0, 2}), nullptr) == nullptr);
  CHECK(join.add(1, batch_at(2, {0}), nullptr) == nullptr);
  std::vector<std::vector<uint32_t>> inputs;
  const std::vector<BatchPtr> rest = join.drain(&inputs);
  REQUIRE(rest.size() == 2);
  REQUIRE(inputs.size() == 2);
  CHECK(timestamps(*rest[0]) == std::vector<int64_t>{0, 10, 20});
  CHECK(inputs[0] == std::vector<uint32_t>{0, 2, 0});
  CHECK(timestamps(*rest[1]) == std::vector<int64_t>{0});
  CHECK(inputs[1] == std::vector<uint32_t>{1});
  CHECK(join.drain(&inputs).empty());
}
