#include "engine/spill_store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "engine/rocksdb_cache.h"

namespace licflow {
namespace {

// Tuned for a 2-core machine that also runs the pipeline. Spilled state is rewritten often and
// read back by point lookups:
// - two memtables of memory_limit / 32 each (1 to 16 MiB) bound write memory within the
//   headroom of the limit; a key read soon after it was spilled is served from them.
// - a 10-bit Bloom filter per table keeps a lookup to about one table read;
// - LZ4 (cheapest codec on CPU) roughly halves the bytes written;
// - two background jobs: one flush and one compaction at a time;
// - no WAL and no fsync: a crash loses the spill, never state (the checkpoint has it).
rocksdb::Options spill_options(uint64_t memory_limit) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_background_jobs = 2;
  options.write_buffer_size = std::clamp<uint64_t>(memory_limit / 32, 1 << 20, 16 << 20);
  options.max_write_buffer_number = 2;
  options.compression = rocksdb::kLZ4Compression;
  options.keep_log_file_num = 1;
  options.max_manifest_file_size = 4 << 20;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = shared_block_cache();
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

rocksdb::WriteOptions no_wal() {
  rocksdb::WriteOptions w;
  w.disableWAL = true;
  return w;
}

[[noreturn]] void fail(const std::string& what, const rocksdb::Status& st) {
  throw std::runtime_error("spilled state: " + what + ": " + st.ToString());
}

}  // namespace

SpillTable::SpillTable(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, std::string owner)
    : db_(db),
      family_(family),
      owner_(std::move(owner) + '\0'),
      pending_(std::make_unique<rocksdb::WriteBatch>()) {}

SpillTable::~SpillTable() = default;

// Big-endian, so one operator's keys sort by number.
std::string SpillTable::key(uint64_t id) const {
  std::string k = owner_;
  for (int shift = 56; shift >= 0; shift -= 8) k.push_back(static_cast<char>(id >> shift));
  return k;
}

void SpillTable::put(uint64_t id, std::string_view bytes) {
  rocksdb::Status st = pending_->Put(family_, key(id), bytes);
  if (!st.ok()) fail("buffering a key", st);
}

void SpillTable::flush() {
  if (pending_->Count() == 0) return;
  rocksdb::Status st = db_->Write(no_wal(), pending_.get());
  if (!st.ok()) fail("writing " + std::to_string(pending_->Count()) + " keys", st);
  pending_->Clear();
}

void SpillTable::get(std::span<const uint64_t> ids, std::vector<std::string>& values) {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (uint64_t id : ids) keys.push_back(key(id));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> families(ids.size(), family_);
  values.clear();
  std::vector<rocksdb::Status> statuses =
      db_->MultiGet(rocksdb::ReadOptions(), families, slices, &values);
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (!statuses[i].ok()) fail("reading key " + std::to_string(ids[i]), statuses[i]);
  }
}

Result<std::unique_ptr<SpillStore>> SpillStore::open(const std::string& dir, bool temporary,
                                                     uint64_t memory_limit) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return Status::error("cannot clear the spill directory " + dir + ": " + ec.message());
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
  std::unique_ptr<SpillStore> store(new SpillStore());
  rocksdb::DB* raw = nullptr;
  store->options_ = std::make_unique<rocksdb::Options>(spill_options(memory_limit));
  rocksdb::Status st = rocksdb::DB::Open(*store->options_, dir, &raw);
  if (!st.ok()) return Status::error("cannot open the spill store " + dir + ": " + st.ToString());
  store->db_.reset(raw);
  store->dir_ = dir;
  store->temporary_ = temporary;
  return store;
}

SpillStore::~SpillStore() {
  for (rocksdb::ColumnFamilyHandle* f : families_) db_->DestroyColumnFamilyHandle(f);
  db_.reset();
  if (temporary_) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Result<std::unique_ptr<SpillTable>> SpillStore::table(const std::string& kind,
                                                      const std::string& owner) {
  std::lock_guard lock(families_mutex_);
  rocksdb::ColumnFamilyHandle* family = nullptr;
  for (rocksdb::ColumnFamilyHandle* f : families_) {
    if (f->GetName() == kind) family = f;
  }
  if (family == nullptr) {
    rocksdb::Status st = db_->CreateColumnFamily(*options_, kind, &family);
    if (!st.ok()) return Status::error("cannot create spill family " + kind + ": " + st.ToString());
    families_.push_back(family);
  }
  return std::unique_ptr<SpillTable>(new SpillTable(db_.get(), family, owner));
}

uint64_t SpillStore::memory_bytes() const {
  uint64_t total = 0;
  for (const char* property :
       {"rocksdb.cur-size-all-mem-tables", "rocksdb.estimate-table-readers-mem"}) {
    uint64_t v = 0;
    if (db_->GetAggregatedIntProperty(property, &v)) total += v;
  }
  return total;
}

}  // namespace licflow
