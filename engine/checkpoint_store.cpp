#include "engine/checkpoint_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <functional>

#include "engine/state_codec.h"

namespace licflow {
namespace {

constexpr const char* kFormatKey = "format";
constexpr const char* kFormat = "licflow-checkpoints-1";
constexpr const char* kManifestKey = "manifest";

std::string operator_key(const std::string& id) { return "op/" + id; }

uint64_t state_hash(const std::string& bytes) { return std::hash<std::string>{}(bytes); }

// A small database: a manifest and one value per stateful operator, written every few
// seconds. One background job, a small memtable, no block cache to speak of.
rocksdb::Options store_options(bool create) {
  rocksdb::Options options;
  options.create_if_missing = create;
  options.max_background_jobs = 1;
  options.write_buffer_size = 8 << 20;
  options.max_write_buffer_number = 2;
  options.keep_log_file_num = 2;
  options.max_manifest_file_size = 4 << 20;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  return options;
}

std::string encode_manifest(const Checkpoint& c, const std::map<std::string, uint64_t>& hashes) {
  StateWriter w;
  w.u64(c.number);
  w.boolean(c.finished);
  w.u64(c.operators.size());
  for (const auto& op : c.operators) {
    w.str(op.id);
    w.str(op.type);
    w.str(op.config);
    w.u64(hashes.at(op.id));
  }
  w.u64(c.sources.size());
  for (const auto& s : c.sources) {
    w.str(s.id);
    w.u64(s.offset);
    w.u64(s.next_line);
  }
  w.u64(c.sinks.size());
  for (const auto& s : c.sinks) {
    w.str(s.id);
    w.str(s.state);
  }
  w.u64(c.dead_letter_size);
  w.str(c.runtime);
  return w.take();
}

}  // namespace

CheckpointStore::~CheckpointStore() = default;

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::open(const std::string& state_dir) {
  namespace fs = std::filesystem;
  const fs::path path = fs::path(state_dir) / "checkpoints";
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (exists && !fs::exists(path / "CURRENT", ec) && !fs::is_empty(path, ec)) {
    return Status::error(path.string() + " exists but is not a licflow checkpoint store; "
                         "refusing to touch it (move it away or choose another --state)");
  }
  fs::create_directories(path, ec);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(store_options(true), path.string(), &raw);
  if (!st.ok()) {
    if (st.IsIOError() && st.ToString().find("lock") != std::string::npos) {
      return Status::error("state dir " + state_dir + " is in use by another licflow process (" +
                           st.ToString() + ")");
    }
    return Status::error("cannot open the checkpoint store " + path.string() + ": " +
                         st.ToString());
  }
  std::unique_ptr<CheckpointStore> store(new CheckpointStore());
  store->db_.reset(raw);
  store->path_ = path.string();
  std::string format;
  st = raw->Get(rocksdb::ReadOptions(), kFormatKey, &format);
  if (st.IsNotFound()) {
    std::string any;
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid()) {
      return Status::error(path.string() + " is a RocksDB database but not licflow's; refusing "
                           "to touch it");
    }
    rocksdb::WriteOptions sync;
    sync.sync = true;
    st = raw->Put(sync, kFormatKey, kFormat);
  } else if (st.ok() && format != kFormat) {
    return Status::error(path.string() + " holds checkpoints of format `" + format +
                         "`, which this licflow cannot read");
  }
  if (!st.ok()) {
    return Status::error("checkpoint store " + path.string() + ": " + st.ToString());
  }
  return store;
}

Status CheckpointStore::reset() {
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key() != kFormatKey) batch.Delete(it->key());
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status st = db_->Write(sync, &batch);
  saved_hashes_.clear();
  return st.ok() ? Status::ok() : Status::error("resetting " + path_ + ": " + st.ToString());
}

Result<std::optional<Checkpoint>> CheckpointStore::load() {
  std::string manifest;
  rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), kManifestKey, &manifest);
  if (st.IsNotFound()) return std::optional<Checkpoint>();
  if (!st.ok()) return Status::error("reading " + path_ + ": " + st.ToString());
  auto corrupt = [&](const std::string& what) {
    return Status::error("the checkpoint in " + path_ + " is corrupt (" + what +
                         "); refusing to resume from it (--reset-state starts over)");
  };
  Checkpoint c;
  StateReader r(manifest);
  c.number = r.u64();
  c.finished = r.boolean();
  std::map<std::string, uint64_t> hashes;
  for (uint64_t n = r.count(32); n > 0 && !r.failed(); --n) {
    Checkpoint::OperatorState op;
    op.id = r.str();
    op.type = r.str();
    op.config = r.str();
    hashes[op.id] = r.u64();
    c.operators.push_back(std::move(op));
  }
  for (uint64_t n = r.count(24); n > 0 && !r.failed(); --n) {
    Checkpoint::SourcePosition s;
    s.id = r.str();
    s.offset = r.u64();
    s.next_line = r.u64();
    c.sources.push_back(std::move(s));
  }
  for (uint64_t n = r.count(16); n > 0 && !r.failed(); --n) {
    Checkpoint::SinkState s;
    s.id = r.str();
    s.state = r.str();
    c.sinks.push_back(std::move(s));
  }
  c.dead_letter_size = r.u64();
  c.runtime = r.str();
  if (r.failed() || !r.at_end()) return corrupt("the manifest does not decode");
  for (Checkpoint::OperatorState& op : c.operators) {
    st = db_->Get(rocksdb::ReadOptions(), operator_key(op.id), &op.state);
    if (!st.ok()) return corrupt("no state for operator `" + op.id + "`: " + st.ToString());
    if (state_hash(op.state) != hashes[op.id]) {
      return corrupt("the state of operator `" + op.id + "` does not match its hash");
    }
  }
  saved_hashes_ = std::move(hashes);
  return std::optional<Checkpoint>(std::move(c));
}

Status CheckpointStore::save(const Checkpoint& checkpoint) {
  rocksdb::WriteBatch batch;
  std::map<std::string, uint64_t> hashes;
  for (const Checkpoint::OperatorState& op : checkpoint.operators) {
    const uint64_t h = state_hash(op.state);
    hashes[op.id] = h;
    auto previous = saved_hashes_.find(op.id);
    if (previous == saved_hashes_.end() || previous->second != h) {
      batch.Put(operator_key(op.id), op.state);
    }
  }
  for (const auto& [id, h] : saved_hashes_) {
    if (hashes.count(id) == 0) batch.Delete(operator_key(id));
  }
  batch.Put(kManifestKey, encode_manifest(checkpoint, hashes));
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status st = db_->Write(sync, &batch);
  if (!st.ok()) return Status::error("writing a checkpoint to " + path_ + ": " + st.ToString());
  last_bytes_written_ = batch.GetDataSize();
  saved_hashes_ = std::move(hashes);
  return Status::ok();
}

}  // namespace licflow
