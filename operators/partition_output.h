// PartitionOutput: what one partition of a PartitionedOperator (operators/partitioned.h) emitted
// on one port during one call, kept in the order it was emitted until every partition is done
// and the outputs are merged. Past kMemoryRecords, the records go to a temporary file (unlinked
// at once, so it disappears with the process; in the operator's spill directory under
// state.dir when it has one, else in $TMPDIR or /tmp), and the merge reads them back: a watermark
// that fires millions of windows is merged in SPEC §5 order (window_end, then keys in first-seen
// order) without being held in memory. If no file can be written, the records stay in memory.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/batch.h"
#include "engine/state_codec.h"

namespace licflow {

class PartitionOutput {
 public:
  static constexpr size_t kMemoryRecords = 8192;

  // Where the temporary file goes, if one is needed later (empty: $TMPDIR, or /tmp).
  void set_directory(std::string dir) { directory_ = std::move(dir); }

  // `batch` is a partition instance's output: records with their watermarks, EmitOrder and step
  // (and positions, when the instance stamps them).
  void add(Batch&& batch);
  bool empty() const { return memory_.empty() && file_records_ == 0; }
  size_t size() const { return memory_records_ + file_records_; }
  // Of the first batch added: the merged output carries them.
  const std::shared_ptr<void>& credit() const { return credit_; }
  int64_t ingest_ns() const { return ingest_ns_; }
  // Everything added so far is forgotten (and the file emptied).
  void clear();

  // Reads the records back in the order they were added: the file's first, then memory's. The
  // output may not be added to while a Cursor reads it.
  class Cursor {
   public:
    explicit Cursor(PartitionOutput& output);
    bool done() const { return done_; }
    // The current record, which the caller may move out, and what it carries.
    Record& record() { return record_ != nullptr ? *record_ : file_record_; }
    const Record& record() const { return record_ != nullptr ? *record_ : file_record_; }
    int64_t mark() const { return mark_; }
    uint32_t step() const { return step_; }
    const EmitOrder& order() const { return order_; }
    uint32_t position() const { return position_; }
    void next();

   private:
    void load();

    PartitionOutput* output_;
    bool done_ = false;
    std::unique_ptr<StateReader> file_;  // while records of the file are left
    uint64_t file_left_;
    Record file_record_;
    size_t batch_ = 0;  // then the memory's
    size_t index_ = 0;
    Record* record_ = nullptr;  // in memory; null: file_record_
    int64_t mark_ = 0;
    uint32_t step_ = 0;
    EmitOrder order_;
    uint32_t position_ = 0;
  };

 private:
  // Writes the records in memory to the file; false when it cannot (they stay in memory, and
  // what was written is past file_bytes_, overwritten by the next attempt).
  bool move_to_file();

  std::string directory_;
  std::vector<Batch> memory_;
  size_t memory_records_ = 0;
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> file_;
  bool file_failed_ = false;
  uint64_t file_bytes_ = 0;
  uint64_t file_records_ = 0;
  std::shared_ptr<void> credit_;
  int64_t ingest_ns_ = 0;
};

}  // namespace licflow
