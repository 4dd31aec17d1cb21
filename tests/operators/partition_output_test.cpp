// PartitionOutput (operators/partition_output.h): a partition's output of one call read back in
// the order it was added, with what each record carries, whether it went through the temporary
// file or stayed in memory.
#include "operators/partition_output.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

using namespace licflow;

namespace {

// `count` records numbered from `first`: ts, mark, EmitOrder, step and position all follow the
// number.
Batch numbered_batch(int64_t first, int64_t count) {
  Batch b;
  for (int64_t n = first; n < first + count; ++n) {
    Record r;
    r.ts = n * 10;
    r.set(intern_field("n"), Value(n));
    r.set(intern_field("text"), Value("record " + std::to_string(n)));
    b.records.push_back(std::move(r));
    b.watermarks.push_back(n * 10 - 5);
    b.emit_order.push_back({n * 10, static_cast<uint64_t>(n) + 1000});
    b.emit_step.push_back(static_cast<uint32_t>(n / 100));
    b.positions.push_back(static_cast<uint32_t>(3 * n + 1));
  }
  return b;
}

// Reads `output` and counts the records that are not record n of 0, 1, 2, … or do not carry
// what numbered_batch gave them.
size_t count_wrong(PartitionOutput& output, int64_t expected_count) {
  size_t wrong = 0;
  int64_t n = 0;
  for (PartitionOutput::Cursor c(output); !c.done(); c.next(), ++n) {
    const Record& r = c.record();
    const bool right = r.ts == n * 10 && r.find(intern_field("n")) != nullptr &&
                       *r.find(intern_field("n")) == Value(n) &&
                       *r.find(intern_field("text")) == Value("record " + std::to_string(n)) &&
                       c.mark() == n * 10 - 5 && c.order().ts == n * 10 &&
                       c.order().arrival == static_cast<uint64_t>(n) + 1000 &&
                       c.step() == static_cast<uint32_t>(n / 100) &&
                       c.position() == static_cast<uint32_t>(3 * n + 1);
    if (!right) ++wrong;
  }
  return wrong + (n == expected_count ? 0 : 1);
}

}  // namespace

TEST_CASE("a partition's output reads back in order, through the temporary file past the bound",
          "[partitioned]") {
  constexpr int64_t kTotal = 3 * PartitionOutput::kMemoryRecords + 123;
  PartitionOutput output;
  for (int64_t first = 0; first < kTotal; first += 1000) {
    output.add(numbered_batch(first, std::min<int64_t>(1000, kTotal - first)));
  }
  CHECK(output.size() == kTotal);
  CHECK(count_wrong(output, kTotal) == 0);

  SECTION("cleared, it is empty and takes a new output") {
    output.clear();
    CHECK(output.empty());
    CHECK(count_wrong(output, 0) == 0);
    output.add(numbered_batch(0, 10));
    CHECK(count_wrong(output, 10) == 0);
    output.add(numbered_batch(10, PartitionOutput::kMemoryRecords));
    CHECK(count_wrong(output, 10 + PartitionOutput::kMemoryRecords) == 0);
  }
}

TEST_CASE("without a writable temporary directory, a long output stays in memory, in order",
          "[partitioned]") {
  const char* saved = std::getenv("TMPDIR");
  const std::string restore = saved != nullptr ? saved : "";
  setenv("TMPDIR", "/nonexistent-licflow-test-dir", 1);
  PartitionOutput output;
  constexpr int64_t kTotal = 2 * PartitionOutput::kMemoryRecords;
  output.add(numbered_batch(0, kTotal / 2));
  output.add(numbered_batch(kTotal / 2, kTotal / 2));
  CHECK(count_wrong(output, kTotal) == 0);
  if (saved != nullptr) {
    setenv("TMPDIR", restore.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
}

TEST_CASE("a long output goes to the directory it is given, not to $TMPDIR", "[partitioned]") {
  // The spill directory under state.dir (PartitionedOperator::enable_spill): $TMPDIR may be a
  // RAM disk. The file is unlinked at once; the process's open descriptors still name it.
  const char* saved = std::getenv("TMPDIR");
  const std::string restore = saved != nullptr ? saved : "";
  setenv("TMPDIR", "/nonexistent-licflow-test-dir", 1);
  const std::string given = (std::filesystem::path("/tmp") /
                             ("licflow-partition-output-test-" + std::to_string(::getpid())))
                                .string();
  std::filesystem::create_directories(given);
  const auto files_in_given = [&] {
    size_t n = 0;
    for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
      if (!ec && target.rfind(given + "/licflow-partition-output-", 0) == 0) ++n;
    }
    return n;
  };
  {
    PartitionOutput output;
    output.set_directory(given);
    constexpr int64_t kTotal = 2 * PartitionOutput::kMemoryRecords;
    output.add(numbered_batch(0, kTotal / 2));
    output.add(numbered_batch(kTotal / 2, kTotal / 2));
    CHECK(files_in_given() == 1);
    CHECK(count_wrong(output, kTotal) == 0);
  }
  CHECK(files_in_given() == 0);
  CHECK(std::filesystem::is_empty(given));  // unlinked at once
  std::filesystem::remove_all(given);
  if (saved != nullptr) {
    setenv("TMPDIR", restore.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
}
