#include "engine/history/history_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "engine/rocksdb_cache.h"
#include "engine/state_codec.h"
#include "engine/store_dir.h"

namespace licflow {

int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace history_codec {

namespace {
void append_u32(std::string& out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}
}  // namespace

void append_pair(std::string& out, std::string_view key, std::string_view value) {
  append_u32(out, static_cast<uint32_t>(key.size()));
  out.append(key);
  append_u32(out, static_cast<uint32_t>(value.size()));
  out.append(value);
}

void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    out += c;
    if (c == '\0') out += '\xFF';
  }
  out += '\0';
  out += '\x01';
}

void append_ts(std::string& out, int64_t ts) {
  uint64_t u = static_cast<uint64_t>(ts) ^ (uint64_t{1} << 63);  // negative times sort first
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((u >> shift) & 0xFF);
}

uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string record_key_prefix(std::string_view stream) {
  std::string key = "d";
  append_escaped(key, stream);
  return key;
}

std::string meta_key(std::string_view stream) { return "m" + std::string(stream); }

std::string encode_meta(const StreamMeta& meta) {
  StateWriter w;
  w.i64(meta.retention_ms);
  w.u64(meta.key_fields.size());
  for (const std::string& f : meta.key_fields) w.str(f);
  return w.take();
}

void append_record_value(std::string& out, uint64_t seq, std::string_view json) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((seq >> shift) & 0xFF);
  out.append(json);
}

std::optional<RecordValue> read_record_value(std::string_view value) {
  if (value.size() < 8) return std::nullopt;
  uint64_t seq = 0;
  for (size_t i = 0; i < 8; ++i) seq = (seq << 8) | static_cast<unsigned char>(value[i]);
  return RecordValue{seq, value.substr(8)};
}

int64_t key_ts(std::string_view key) {
  uint64_t u = 0;
  for (size_t i = key.size() - 16; i < key.size() - 8; ++i) {
    u = (u << 8) | static_cast<unsigned char>(key[i]);
  }
  return static_cast<int64_t>(u ^ (uint64_t{1} << 63));
}

}  // namespace history_codec

namespace {

namespace fs = std::filesystem;
using namespace history_codec;

constexpr std::string_view kFormatKey = "f";
constexpr std::string_view kFormat = "licflow-history-2";
constexpr size_t kTailBytes = 16;  // TS + HASH

std::optional<StreamMeta> decode_meta(std::string_view bytes) {
  StateReader in(bytes);
  StreamMeta meta;
  meta.retention_ms = in.i64();
  const uint64_t n = in.count(8);
  for (uint64_t i = 0; i < n && !in.failed(); ++i) meta.key_fields.push_back(in.str());
  if (in.failed() || !in.at_end()) return std::nullopt;
  return meta;
}

// The stream of a record key ('d' STREAM …), unescaped.
std::string key_stream(std::string_view key) {
  std::string stream;
  for (size_t i = 1; i + 1 < key.size(); ++i) {
    if (key[i] != '\0') {
      stream += key[i];
    } else if (key[i + 1] == '\x01') {
      break;
    } else {
      stream += '\0';
      ++i;
    }
  }
  return stream;
}

// Tuned for a 2-core machine that also runs the pipeline: one flush and one compaction at a
// time, at most 2 × 16 MiB of memtables, and an 8 MiB block cache shared by every store of the
// process (queries scan mostly once; the OS page cache does the rest). JSON compresses about 4×
// with LZ4, the cheapest codec on CPU.
rocksdb::Options store_options() {
  rocksdb::Options options;
  options.max_background_jobs = 2;
  options.write_buffer_size = 16 << 20;
  options.max_write_buffer_number = 2;
  options.compression = rocksdb::kLZ4Compression;
  options.keep_log_file_num = 2;
  options.max_manifest_file_size = 4 << 20;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = shared_block_cache();
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

struct HistoryStore::Impl {
  // Drops records older than now − their stream's retention, by the event time in the key.
  class RetentionFilter final : public rocksdb::CompactionFilter {
   public:
    explicit RetentionFilter(const Impl& impl) : impl_(impl) {}
    bool Filter(int, const rocksdb::Slice& key, const rocksdb::Slice&, std::string*,
                bool*) const override {
      std::string_view k(key.data(), key.size());
      if (k.empty() || k[0] != 'd' || k.size() < 1 + 2 + kTailBytes) return false;
      return key_ts(k) < impl_.cutoff(key_stream(k));
    }
    const char* Name() const override { return "licflow.HistoryRetention"; }

   private:
    const Impl& impl_;
  };

  explicit Impl(HistoryClock c) : clock(std::move(c)), filter(*this) {}
  ~Impl() {
    db.reset();
    if (!secondary_dir.empty()) {
      std::error_code ec;
      fs::remove_all(secondary_dir, ec);
    }
  }

  // Records with ts below this are expired.
  int64_t cutoff(const std::string& stream) const {
    std::shared_lock lock(mu);
    auto it = metas.find(stream);
    if (it == metas.end() || it->second.retention_ms <= 0) return INT64_MIN;
    return clock() - it->second.retention_ms;
  }

  HistoryClock clock;
  mutable std::shared_mutex mu;
  std::map<std::string, StreamMeta> metas;  // guarded by mu
  RetentionFilter filter;                   // outlives db: declared before it
  std::string secondary_dir;
  std::unique_ptr<rocksdb::DB> db;
};

HistoryStore::HistoryStore(std::unique_ptr<Impl> impl, std::string path)
    : impl_(std::move(impl)), path_(std::move(path)) {}
HistoryStore::~HistoryStore() = default;

Result<std::unique_ptr<HistoryStore>> HistoryStore::open(const std::string& state_dir, Mode mode,
                                                         HistoryClock clock) {
  const fs::path path = fs::path(state_dir) / "history";
  const std::string where = path.string();
  if (mode == Mode::kWrite) {
    RETURN_IF_ERROR(create_store_dir(where, [](const std::string& dir) {
      rocksdb::Options options = store_options();
      options.create_if_missing = true;
      rocksdb::DB* raw = nullptr;
      rocksdb::Status st = rocksdb::DB::Open(options, dir, &raw);
      std::unique_ptr<rocksdb::DB> db(raw);
      rocksdb::WriteOptions sync;
      sync.sync = true;
      if (st.ok()) st = db->Put(sync, std::string(kFormatKey), std::string(kFormat));
      if (st.ok()) st = db->Close();
      return st.ok() ? Status::ok()
                     : Status::error("cannot create the history store " + dir + ": " +
                                     st.ToString());
    }));
  }
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  const bool has_current = fs::exists(path / "CURRENT", ec);
  if (exists && !has_current && !fs::is_empty(path, ec)) {
    return Status::error(where + " exists but is not a licflow history store; refusing to touch "
                         "it (move it away or choose another --state)");
  }
  if (mode == Mode::kRead && !has_current) {
    return Status::error("no history in state dir " + state_dir + " (" + where +
                         " does not exist)");
  }

  auto impl = std::make_unique<Impl>(std::move(clock));
  rocksdb::Options options = store_options();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st;
  if (mode == Mode::kWrite) {
    fs::create_directories(path, ec);
    options.create_if_missing = true;
    options.compaction_filter = &impl->filter;
    st = rocksdb::DB::Open(options, where, &raw);
  } else {
    // A secondary instance keeps its own info log; it lives in a temp dir removed at close.
    std::string tmpl = (fs::temp_directory_path() / "licflow-query-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return Status::error("cannot create a temporary directory for the query");
    }
    impl->secondary_dir = tmpl;
    options.max_open_files = -1;  // required of a secondary instance
    st = rocksdb::DB::OpenAsSecondary(options, where, tmpl, &raw);
  }
  if (!st.ok()) {
    if (st.IsIOError() && st.ToString().find("lock") != std::string::npos) {
      return Status::error("state dir " + state_dir + " is in use by another licflow process (" +
                           st.ToString() + ")");
    }
    return Status::error("cannot open the history store " + where + ": " + st.ToString());
  }
  impl->db.reset(raw);

  std::string format;
  st = raw->Get(rocksdb::ReadOptions(), std::string(kFormatKey), &format);
  if (st.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid() || mode == Mode::kRead) {
      return Status::error(where + " is a RocksDB database but not licflow's history; refusing "
                           "to touch it");
    }
    rocksdb::WriteOptions sync;
    sync.sync = true;
    st = raw->Put(sync, std::string(kFormatKey), std::string(kFormat));
  } else if (st.ok() && format != kFormat) {
    return Status::error(where + " holds history of format `" + format +
                         "`, which this licflow cannot read");
  }
  if (!st.ok()) return Status::error("history store " + where + ": " + st.ToString());

  std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("m"); it->Valid() && it->key().starts_with("m"); it->Next()) {
    auto meta = decode_meta(it->value().ToStringView());
    if (!meta) return Status::error(where + ": corrupt stream entry " + it->key().ToString());
    impl->metas[it->key().ToString().substr(1)] = std::move(*meta);
  }
  if (!it->status().ok()) return Status::error(where + ": " + it->status().ToString());
  return std::unique_ptr<HistoryStore>(new HistoryStore(std::move(impl), where));
}

Result<std::shared_ptr<HistoryStore>> HistoryStore::shared_writer(const std::string& state_dir) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<HistoryStore>> open_stores;
  std::lock_guard lock(mu);
  const std::string id = fs::absolute(state_dir).lexically_normal().string();
  if (auto store = open_stores[id].lock()) return store;
  auto opened = open(state_dir, Mode::kWrite);
  if (!opened.is_ok()) return opened.status();
  std::shared_ptr<HistoryStore> store = std::move(opened).value();
  open_stores[id] = store;
  return store;
}

Status HistoryStore::write(std::string_view pairs) {
  rocksdb::WriteBatch batch;
  auto take = [&](std::string_view& field) {
    uint32_t n = 0;
    if (pairs.size() < 4) return false;
    std::memcpy(&n, pairs.data(), 4);
    if (pairs.size() - 4 < n) return false;
    field = pairs.substr(4, n);
    pairs.remove_prefix(4 + n);
    return true;
  };
  while (!pairs.empty()) {
    std::string_view key, value;
    if (!take(key) || !take(value)) return Status::error(path_ + ": malformed write (internal)");
    batch.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
    if (!key.empty() && key[0] == 'm') {
      auto meta = decode_meta(value);
      if (!meta) return Status::error(path_ + ": malformed stream entry (internal)");
      std::unique_lock lock(impl_->mu);
      impl_->metas[std::string(key.substr(1))] = std::move(*meta);
    }
  }
  rocksdb::Status st = impl_->db->Write(rocksdb::WriteOptions(), &batch);
  if (!st.ok()) return Status::error("writing history to " + path_ + ": " + st.ToString());
  return Status::ok();
}

Status HistoryStore::sync() {
  rocksdb::Status st = impl_->db->SyncWAL();
  if (!st.ok()) return Status::error("syncing history in " + path_ + ": " + st.ToString());
  return Status::ok();
}

Status HistoryStore::compact() {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  rocksdb::Status st = impl_->db->CompactRange(options, nullptr, nullptr);
  if (!st.ok()) return Status::error("compacting history in " + path_ + ": " + st.ToString());
  return Status::ok();
}

std::optional<StreamMeta> HistoryStore::meta(const std::string& stream) const {
  std::shared_lock lock(impl_->mu);
  auto it = impl_->metas.find(stream);
  if (it == impl_->metas.end()) return std::nullopt;
  return it->second;
}

Status HistoryStore::scan(
    const std::string& stream, int64_t from, int64_t to,
    const std::function<void(std::string_view key, std::string_view value)>& fn) {
  const std::string prefix = record_key_prefix(stream);
  std::string upper = prefix;
  upper.back() = '\x02';  // just past every key with this stream's terminator 00 01
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read;
  read.iterate_upper_bound = &upper_slice;
  from = std::max(from, impl_->cutoff(stream));
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read));
  // A key's records lie in time order, so its records before `from` are skipped with one seek to
  // (key, from) and those at or after `to` with one seek past the key: a query of a day out of a
  // year of history reads that day of each key, not the year. Key values of a stream whose key
  // fields changed between runs extend a shorter key with a kind tag (01–03), which sorts before
  // every TS (7F… or 80…, years 0000 to 9999): no seek passes over them.
  std::string target;
  it->Seek(prefix);
  while (it->Valid()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() < prefix.size() + kTailBytes) {
      it->Next();
      continue;
    }
    const int64_t ts = key_ts(key);
    if (ts >= from && ts < to) {
      fn(key, it->value().ToStringView());
      it->Next();
      continue;
    }
    // (A TS below 04… would sort among the tags: read on. No time of years 0000–9999 is.)
    if (static_cast<unsigned char>(key[key.size() - kTailBytes]) <= 0x03) {
      it->Next();
      continue;
    }
    target.assign(key.substr(0, key.size() - kTailBytes));
    if (ts < from) {
      append_ts(target, from);
    } else {
      target.append(kTailBytes + 1, '\xFF');
    }
    it->Seek(target);
  }
  if (!it->status().ok()) return Status::error("reading " + path_ + ": " + it->status().ToString());
  return Status::ok();
}

}  // namespace licflow
