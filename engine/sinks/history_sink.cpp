// history sink: SPEC §6 "history stores records in RocksDB, keyed by stream, key and event
// time, with retention". Options: `key: [fields]` (default none) orders a stream's records by
// those fields' values before event time; `retention: DUR` (default: kept forever) expires
// records whose event time is older than wall-clock now − retention.
// A record's RocksDB key ends with a hash of its JSON, so writing it again — a replay after a
// crash (SPEC §7) — overwrites it: nothing doubles. Identical records (a duplicated checkout's
// outputs, a log line sent twice) are told apart by their occurrence, folded into the hash: the
// first is 0, the next 1, and so on, counted in the stream's order over its last
// kRecentRecords records (RecentRecords). The count is checkpointed, and a replay sends a
// stream's records in the same order, so it numbers them alike. Identical records further apart
// than that in their stream (with no copy between them) are one record in history.

#include <deque>
#include <map>
#include <set>
#include <unordered_map>

#include "engine/history/history_store.h"
#include "engine/json_writer.h"
#include "engine/sinks/sink.h"

namespace licflow {
namespace {

using namespace history_codec;

// Key values carry a kind tag, so the string "3" and the number 3 stay distinct keys.
constexpr char kNullKey = '\x01';
constexpr char kStringKey = '\x02';
constexpr char kJsonKey = '\x03';

// The hashes of a stream's last kRecentRecords records, for the occurrence of each record among
// its identical predecessors.
class RecentRecords {
 public:
  static constexpr size_t kRecentRecords = 8192;

  // The occurrence of a record with `hash`: how many identical records came before it while
  // some copy stayed among the recent ones. Never repeats a number still in use.
  uint64_t add(uint64_t hash) {
    Seen& seen = seen_[hash];
    ++seen.in_window;
    const uint64_t occurrence = seen.next++;
    order_.push_back(hash);
    if (order_.size() > kRecentRecords) {
      auto oldest = seen_.find(order_.front());
      order_.pop_front();
      if (--oldest->second.in_window == 0) seen_.erase(oldest);
    }
    return occurrence;
  }

  void save(StateWriter& out) const {
    out.u64(order_.size());
    for (uint64_t hash : order_) out.u64(hash);
    out.u64(seen_.size());
    for (const auto& [hash, seen] : seen_) {
      out.u64(hash);
      out.u64(seen.next);
    }
  }
  void load(StateReader& in) {
    order_.clear();
    seen_.clear();
    for (uint64_t n = in.count(8); n > 0 && !in.failed(); --n) {
      order_.push_back(in.u64());
      ++seen_[order_.back()].in_window;
    }
    for (uint64_t n = in.count(16); n > 0 && !in.failed(); --n) {
      const uint64_t hash = in.u64();
      const uint64_t next = in.u64();
      auto it = seen_.find(hash);
      if (it == seen_.end() || next < it->second.in_window) return in.fail();
      it->second.next = next;
    }
    if (order_.size() > kRecentRecords) in.fail();
  }

 private:
  struct Seen {
    uint64_t in_window = 0;  // copies among the recent records
    uint64_t next = 0;       // the occurrence the next copy gets
  };
  std::deque<uint64_t> order_;  // oldest first
  std::unordered_map<uint64_t, Seen> seen_;
};

class HistorySink final : public Sink {
 public:
  HistorySink(std::string id, int64_t retention_ms, std::vector<std::string> key_fields)
      : Sink(std::move(id)), meta_{retention_ms, std::move(key_fields)} {
    for (const std::string& f : meta_.key_fields) key_ids_.push_back(intern_field(f));
  }

  void attach_state_dir(const std::string& dir) override { state_dir_ = dir; }

  Status open() override {
    if (state_dir_.empty()) {
      return Status::error("sink `" + id() + "`: no state dir (attach_state_dir not called)");
    }
    auto store = HistoryStore::shared_writer(state_dir_);
    if (!store.is_ok()) return Status::error("sink `" + id() + "`: " + store.status().message());
    store_ = std::move(store).value();
    return Status::ok();
  }

  // Serial: each record's SEQ is its number in the order the sink receives them.
  bool parallel_format() const override { return false; }

  void format(std::span<const Record> records, std::string_view stream, std::string& out) override {
    if (seen_.emplace(stream).second) append_pair(out, meta_key(stream), encode_meta(meta_));
    const std::string prefix = record_key_prefix(stream);
    std::string key, json, text, value;
    RecentRecords& recent = recent_[std::string(stream)];
    for (const Record& r : records) {
      json.clear();
      append_record_json(json, r, stream);
      key = prefix;
      for (FieldId f : key_ids_) {
        const Value* v = r.find(f);
        if (v == nullptr || v->is_null()) {
          key += kNullKey;
          append_escaped(key, "");
        } else if (v->is_string()) {
          key += kStringKey;
          append_escaped(key, v->as_string());
        } else {
          text.clear();
          append_json_value(text, *v);
          key += kJsonKey;
          append_escaped(key, text);
        }
      }
      append_ts(key, r.ts);
      uint64_t hash = fnv1a(json);
      hash += recent.add(hash) * 0x9E3779B97F4A7C15ull;  // 0 for the first
      for (int shift = 56; shift >= 0; shift -= 8) key += static_cast<char>((hash >> shift) & 0xFF);
      value.clear();
      append_record_value(value, next_seq_++, json);
      append_pair(out, key, value);
    }
  }

  // One WriteBatch per formatted batch.
  Status write(std::string_view bytes) override { return store_->write(bytes); }

  Status close() override {
    if (!store_) return Status::ok();
    Status status = store_->sync();
    store_.reset();
    return status;
  }

  // Replays overwrite (see the top of the file), so resuming needs no position: a checkpoint
  // makes the records written so far durable, and keeps the SEQ the next record gets, so that
  // replayed records are numbered after those before the checkpoint, and each stream's recent
  // records, so that replayed ones get the occurrences they had.
  bool can_resume() const override { return true; }
  Status save_state(StateWriter& out) override {
    out.u64(next_seq_);
    out.u64(recent_.size());
    for (const auto& [stream, recent] : recent_) {
      out.str(stream);
      recent.save(out);
    }
    return store_->sync();
  }
  void load_state(StateReader& in) override {
    next_seq_ = in.u64();
    recent_.clear();
    for (uint64_t n = in.count(9); n > 0 && !in.failed(); --n) {
      std::string stream = in.str();
      recent_[std::move(stream)].load(in);
    }
  }

 private:
  StreamMeta meta_;
  std::vector<FieldId> key_ids_;
  std::string state_dir_;
  std::shared_ptr<HistoryStore> store_;
  std::set<std::string, std::less<>> seen_;  // streams whose meta entry this run wrote
  uint64_t next_seq_ = 0;
  std::map<std::string, RecentRecords, std::less<>> recent_;  // by stream
};

}  // namespace

std::unique_ptr<Sink> make_history_sink_from_config(NodeConfig& config) {
  auto retention = config.has("retention") ? config.get_duration("retention", true)
                                           : std::optional<int64_t>(0);
  auto key = config.get_string_list("key", false);
  if (retention && config.has("retention") && *retention <= 0) {
    config.error("retention", "`" + config.id() + "`: retention must be positive (omit it to "
                                                  "keep history forever)");
  }
  if (config.failed()) return nullptr;
  return std::make_unique<HistorySink>(config.id(), *retention,
                                       key.value_or(std::vector<std::string>{}));
}

}  // namespace licflow
