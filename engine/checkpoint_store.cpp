#include "engine/checkpoint_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <filesystem>

#include "engine/hash.h"
#include "engine/state_codec.h"
#include "engine/store_dir.h"

namespace licflow {
namespace {

constexpr const char* kFormatKey = "format";
constexpr const char* kFormat = "licflow-checkpoints-6";  // 6: exact small quantiles
constexpr const char* kManifestKey = "manifest";
constexpr size_t kChunkBytes = 4 << 20;

void append_big_endian(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// All keys of operator `id`'s state sort between these two.
std::string operator_prefix(const std::string& id) { return "op/" + id + '\0'; }
std::string operator_prefix_end(const std::string& id) { return "op/" + id + '\1'; }

std::string chunk_key(const std::string& id, uint64_t generation, uint64_t chunk) {
  std::string key = operator_prefix(id);
  append_big_endian(key, generation);
  append_big_endian(key, chunk);
  return key;
}

uint64_t chunk_hash(uint64_t h, std::string_view chunk) {
  return (h ^ hash_bytes(chunk)) * 0x100000001b3ull;
}

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

std::string encode_manifest(const Checkpoint& c,
                            const std::map<std::string, CheckpointStore::StoredState>& states) {
  StateWriter w;
  w.u64(c.number);
  w.boolean(c.finished);
  w.u64(c.operators.size());
  for (const auto& op : c.operators) {
    w.str(op.id);
    w.str(op.type);
    w.str(op.config);
    const CheckpointStore::StoredState& stored = states.at(op.id);
    w.u64(stored.generation);
    w.u64(stored.chunks);
    w.u64(stored.bytes);
    w.u64(stored.hash);
  }
  w.u64(c.sources.size());
  for (const auto& s : c.sources) {
    w.str(s.id);
    w.u64(s.offset);
    w.u64(s.next_line);
    w.str(s.input);
  }
  w.u64(c.sinks.size());
  for (const auto& s : c.sinks) {
    w.str(s.id);
    w.str(s.state);
    w.str(s.output);
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
  RETURN_IF_ERROR(create_store_dir(path.string(), [](const std::string& dir) {
    rocksdb::DB* raw = nullptr;
    rocksdb::Status st = rocksdb::DB::Open(store_options(true), dir, &raw);
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    if (st.ok()) st = db->Put(sync, kFormatKey, kFormat);
    if (st.ok()) st = db->Close();
    return st.ok() ? Status::ok()
                   : Status::error("cannot create the checkpoint store " + dir + ": " +
                                   st.ToString());
  }));
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
  saved_.clear();
  return st.ok() ? Status::ok() : Status::error("resetting " + path_ + ": " + st.ToString());
}

Result<std::optional<Checkpoint>> CheckpointStore::load() {
  std::string manifest;
  rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), kManifestKey, &manifest);
  if (st.IsNotFound()) return std::optional<Checkpoint>();
  if (!st.ok()) return Status::error("reading " + path_ + ": " + st.ToString());
  Checkpoint c;
  StateReader r(manifest);
  c.number = r.u64();
  c.finished = r.boolean();
  std::map<std::string, StoredState> states;
  for (uint64_t n = r.count(56); n > 0 && !r.failed(); --n) {
    Checkpoint::OperatorState op;
    op.id = r.str();
    op.type = r.str();
    op.config = r.str();
    StoredState& stored = states[op.id];
    stored.generation = r.u64();
    stored.chunks = r.u64();
    stored.bytes = r.u64();
    stored.hash = r.u64();
    c.operators.push_back(std::move(op));
  }
  for (uint64_t n = r.count(24); n > 0 && !r.failed(); --n) {
    Checkpoint::SourcePosition s;
    s.id = r.str();
    s.offset = r.u64();
    s.next_line = r.u64();
    s.input = r.str();
    c.sources.push_back(std::move(s));
  }
  for (uint64_t n = r.count(24); n > 0 && !r.failed(); --n) {
    Checkpoint::SinkState s;
    s.id = r.str();
    s.state = r.str();
    s.output = r.str();
    c.sinks.push_back(std::move(s));
  }
  c.dead_letter_size = r.u64();
  c.runtime = r.str();
  if (r.failed() || !r.at_end()) {
    return Status::error("the checkpoint in " + path_ +
                         " is corrupt (the manifest does not decode); refusing to resume from it "
                         "(--reset-state starts over)");
  }
  saved_ = std::move(states);
  return std::optional<Checkpoint>(std::move(c));
}

StateReader CheckpointStore::operator_reader(const std::string& id) {
  auto it = saved_.find(id);
  if (it == saved_.end()) return StateReader(std::string_view());
  const StoredState stored = it->second;
  uint64_t next = 0;
  uint64_t hash = 0;
  auto source = [this, id, stored, next, hash](std::string& chunk) mutable {
    if (next == stored.chunks) {
      return hash == stored.hash ? StateReader::Pull::kEnd : StateReader::Pull::kCorrupt;
    }
    rocksdb::Status st =
        db_->Get(rocksdb::ReadOptions(), chunk_key(id, stored.generation, next++), &chunk);
    if (!st.ok()) return StateReader::Pull::kCorrupt;
    hash = chunk_hash(hash, chunk);
    return StateReader::Pull::kChunk;
  };
  return StateReader(std::move(source), stored.bytes);
}

StateWriter CheckpointStore::operator_writer(const std::string& id, uint64_t number) {
  PendingState& pending = pending_[id];
  pending = PendingState();
  pending.stored.generation = number;
  return StateWriter([this, id](std::string_view chunk) { write_chunk(id, pending_[id], chunk); },
                     kChunkBytes);
}

void CheckpointStore::write_chunk(const std::string& id, PendingState& pending,
                                  std::string_view chunk) {
  StoredState& s = pending.stored;
  rocksdb::Status st =
      db_->Put(rocksdb::WriteOptions(), chunk_key(id, s.generation, s.chunks), chunk);
  if (!st.ok() && streaming_status_.is_ok()) {
    streaming_status_ = Status::error("writing the state of `" + id + "` to " + path_ + ": " +
                                      st.ToString());
  }
  ++s.chunks;
  s.bytes += chunk.size();
  s.hash = chunk_hash(s.hash, chunk);
  streamed_bytes_ += chunk.size();
}

void CheckpointStore::end_operator(const std::string& id, StateWriter& writer) {
  PendingState& pending = pending_[id];
  pending.tail = writer.take();
  StoredState& s = pending.stored;
  if (s.chunks == 0) {
    // Small enough to compare with the saved state before writing anything.
    auto saved = saved_.find(id);
    if (saved != saved_.end() && saved->second.chunks <= 1 &&
        saved->second.bytes == pending.tail.size() &&
        saved->second.hash == (pending.tail.empty() ? 0 : chunk_hash(0, pending.tail))) {
      pending.stored = saved->second;
      pending.unchanged = true;
    }
  }
}

Status CheckpointStore::save(const Checkpoint& checkpoint) {
  Status streamed = streaming_status_;
  streaming_status_ = Status::ok();
  const uint64_t streamed_bytes = streamed_bytes_;
  streamed_bytes_ = 0;
  if (!streamed.is_ok()) {
    pending_.clear();
    return streamed;
  }
  rocksdb::WriteBatch batch;
  std::map<std::string, StoredState> states;
  for (const Checkpoint::OperatorState& op : checkpoint.operators) {
    PendingState& pending = pending_.at(op.id);
    StoredState& s = pending.stored;
    if (!pending.unchanged) {
      if (!pending.tail.empty()) {
        batch.Put(chunk_key(op.id, s.generation, s.chunks++), pending.tail);
        s.bytes += pending.tail.size();
        s.hash = chunk_hash(s.hash, pending.tail);
      }
      // Older generations, and what a checkpoint that died half-written left.
      batch.DeleteRange(operator_prefix(op.id), chunk_key(op.id, s.generation, 0));
      batch.DeleteRange(chunk_key(op.id, s.generation, s.chunks), operator_prefix_end(op.id));
    }
    states[op.id] = s;
  }
  for (const auto& [id, stored] : saved_) {
    if (states.count(id) == 0) batch.DeleteRange(operator_prefix(id), operator_prefix_end(id));
  }
  pending_.clear();
  batch.Put(kManifestKey, encode_manifest(checkpoint, states));
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status st = db_->Write(sync, &batch);
  if (!st.ok()) return Status::error("writing a checkpoint to " + path_ + ": " + st.ToString());
  last_bytes_written_ = streamed_bytes + batch.GetDataSize();
  saved_ = std::move(states);
  return Status::ok();
}

}  // namespace licflow
