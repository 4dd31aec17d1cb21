// history sink: SPEC §6 "history stores records in RocksDB, keyed by stream, key and event
// time, with retention". Options: `key: [fields]` (default none) orders a stream's records by
// those fields' values before event time; `retention: DUR` (default: kept forever) expires
// records whose event time is older than wall-clock now − retention.
// A record's RocksDB key ends with its number in its stream (0, 1, 2…: the stream's records in
// the order the sink receives them), and the numbers reached are checkpointed. A replay after a
// crash (SPEC §7) sends each stream's records in the same order, so it numbers them alike and
// overwrites them: nothing doubles. Identical records (a duplicated checkout's outputs, a log
// line sent twice) have their own numbers, however far apart: nothing is merged.

#include <map>
#include <set>

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
    auto numbered_it = numbered_.find(stream);
    if (numbered_it == numbered_.end()) numbered_it = numbered_.emplace(stream, 0).first;
    uint64_t& numbered = numbered_it->second;  // the stream's records so far
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
      const uint64_t number = numbered++;
      for (int shift = 56; shift >= 0; shift -= 8) {
        key += static_cast<char>((number >> shift) & 0xFF);
      }
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
  // replayed records are numbered after those before the checkpoint, and each stream's record
  // count, so that replayed ones get the numbers they had.
  bool can_resume() const override { return true; }
  Status save_state(StateWriter& out) override {
    out.u64(next_seq_);
    out.u64(numbered_.size());
    for (const auto& [stream, records] : numbered_) {
      out.str(stream);
      out.u64(records);
    }
    return store_->sync();
  }
  void load_state(StateReader& in) override {
    next_seq_ = in.u64();
    numbered_.clear();
    for (uint64_t n = in.count(16); n > 0 && !in.failed(); --n) {
      std::string stream = in.str();
      const uint64_t records = in.u64();
      if (!numbered_.emplace(std::move(stream), records).second) return in.fail();
    }
  }

 private:
  StreamMeta meta_;
  std::vector<FieldId> key_ids_;
  std::string state_dir_;
  std::shared_ptr<HistoryStore> store_;
  std::set<std::string, std::less<>> seen_;  // streams whose meta entry this run wrote
  uint64_t next_seq_ = 0;
  std::map<std::string, uint64_t, std::less<>> numbered_;  // records per stream, ever
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
