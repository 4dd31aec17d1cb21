// Tests for KeyedState's spilling (SPEC §7 "memory stays under state.memory_limit; colder state
// lives in RocksDB"), on a state that is a plain string weighing its length.
#include "engine/keyed_state.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/test_util.h"

namespace licflow {
namespace {

using test::TempDir;

class StringCodec final : public KeyedState<std::string>::Codec {
 public:
  void save(const std::string& state, StateWriter& out) const override { out.str(state); }
  void load(StateReader& in, std::string& state) const override { state = in.str(); }
  size_t footprint(const std::string& state) const override { return state.size(); }
};

struct Spilling {
  TempDir dir;
  std::unique_ptr<SpillStore> store;
  StringCodec codec;
  KeyedState<std::string> keys{codec, 0};

  explicit Spilling(uint64_t budget) {
    auto opened = SpillStore::open(dir.file("spill"), /*temporary=*/true, 64 << 20);
    REQUIRE(opened.is_ok());
    store = std::move(opened.value());
    auto table = store->table("test", "op");
    REQUIRE(table.is_ok());
    keys.enable_spill(std::move(table.value()), budget, "op");
  }
};

}  // namespace

TEST_CASE("keys beyond the budget are spilled and read back whole", "[spill]") {
  Spilling s(64 << 10);
  std::vector<KeyId> ids;
  for (int k = 0; k < 100; ++k) {
    ids.push_back(s.keys.add("k" + std::to_string(k)));
    s.keys.at(ids.back()) = std::string(2000, static_cast<char>('a' + k % 26));
    s.keys.settle();
  }
  CHECK(s.keys.size() == 100);
  CHECK(s.keys.hot_keys() < 40);
  CHECK(s.keys.hot_bytes() + s.keys.index_bytes() <= 64 << 10);
  for (int k = 0; k < 100; ++k) {
    CHECK(s.keys.at(ids[k]) == std::string(2000, static_cast<char>('a' + k % 26)));
    s.keys.settle();
  }
}

// State is spilled per key: a key over half the share would be written out after every batch
// and read back by the next (quadratic in its size as it grows), so it stays in memory, and the
// others are spilled around it as usual.
TEST_CASE("a key over half the budget stays in memory; the others spill around it", "[spill]") {
  constexpr uint64_t kBudget = 64 << 10;
  Spilling s(kBudget);
  const KeyId big = s.keys.add("big");
  std::vector<KeyId> small;
  for (int k = 0; k < 50; ++k) small.push_back(s.keys.add("k" + std::to_string(k)));
  for (int round = 0; round < 20; ++round) {
    s.keys.at(big) += std::string(4000, 'b');  // grows past half the budget on round 8
    s.keys.settle();
    for (KeyId id : small) {  // the big key is not used for a while: the hand comes round
      s.keys.at(id) = std::string(1000, 's');
      s.keys.settle();
    }
    if (s.keys.at(big).size() > kBudget / 2) {
      INFO("round " << round);
      CHECK(s.keys.hot_bytes() >= s.keys.at(big).size());
      // The others are still kept within what the budget leaves.
      CHECK(s.keys.hot_bytes() - s.keys.at(big).size() <= kBudget / 4 * 3);
      CHECK(s.keys.hot_keys() < 40);
    }
  }
  s.keys.settle();
  CHECK(s.keys.at(big) == std::string(80000, 'b'));
  for (KeyId id : small) CHECK(s.keys.at(id) == std::string(1000, 's'));
}

}  // namespace licflow
