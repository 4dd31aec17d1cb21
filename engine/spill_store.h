// SpillStore: the RocksDB database holding operators' cold keyed state beyond state.memory_limit
// (SPEC §7: "colder state lives in RocksDB"). One column family per kind of state ("window",
// "license_state"); within it, an operator's keys are its id, a NUL and the key's number.
//
// Spilled state is a cache, not a record: checkpoints hold the durable copy, so the store is
// wiped when opened, written without a WAL, and removed at close when it was a temporary
// directory. Writes are buffered in a WriteBatch and go to RocksDB in one Write per eviction
// round; reads of many keys go through one MultiGet.
//
// Threading: a SpillTable belongs to one operator, used from one thread at a time (Operator's
// contract). Different tables may be used concurrently (RocksDB is thread-safe).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
struct Options;
class WriteBatch;
}  // namespace rocksdb

namespace licflow {

class SpillStore;

class SpillTable {
 public:
  ~SpillTable();

  // Buffers the state of key `id`, replacing what was spilled for it before.
  void put(uint64_t id, std::string_view bytes);
  // Writes what put() buffered. Throws std::runtime_error when RocksDB fails (disk full): the
  // operator cannot go on without its state, and the runtime reports an operator failure.
  void flush();
  // The states of `ids` (each spilled and flushed before), in order. Throws as flush().
  void get(std::span<const uint64_t> ids, std::vector<std::string>& values);

 private:
  friend class SpillStore;
  SpillTable(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, std::string owner);
  std::string key(uint64_t id) const;

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* family_;
  std::string owner_;  // the operator id and a NUL: the prefix of its keys
  std::unique_ptr<rocksdb::WriteBatch> pending_;
};

class SpillStore {
 public:
  ~SpillStore();
  // Opens an empty store at `dir` (wiping what a previous run left there). With `temporary`, the
  // directory is removed again at close. Its memtables are sized from state.memory_limit.
  static Result<std::unique_ptr<SpillStore>> open(const std::string& dir, bool temporary,
                                                  uint64_t memory_limit);

  // The table of operator `owner` in the column family `kind`, created on first use.
  Result<std::unique_ptr<SpillTable>> table(const std::string& kind, const std::string& owner);

  // Memtables and table readers (index and filter blocks) of this database, in bytes; the block
  // cache is shared (engine/rocksdb_cache.h).
  uint64_t memory_bytes() const;
  const std::string& dir() const { return dir_; }

 private:
  SpillStore() = default;
  std::unique_ptr<rocksdb::Options> options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::mutex families_mutex_;
  std::vector<rocksdb::ColumnFamilyHandle*> families_;
  std::string dir_;
  bool temporary_ = false;
};

}  // namespace licflow
