// HistoryStore: the `history` sink's RocksDB database (SPEC §6, §7), at STATE_DIR/history —
// beside STATE_DIR/checkpoints (engine/checkpoint_store.h), each its own database with its own
// LOCK and tuning: a checkpoint's small synced writes never queue behind history's write stalls.
//
// Keys (byte order = scan order):
//   'd' STREAM KEYVALUE… TS HASH  one record; STREAM and each KEYVALUE (a kind tag — null,
//                                 string, other JSON — then the text) are escaped and
//                                 terminated (0x00 → 00 FF, end → 00 01) so prefixes never
//                                 collide; TS is 8 bytes big-endian with the sign bit flipped;
//                                 HASH is 8 bytes of FNV-1a over the value, so a replayed record
//                                 overwrites itself instead of doubling (SPEC §7).
//   'm' STREAM                    the stream's retention and key fields (query and compaction
//                                 read them).
//   'f'                           the format marker: a directory without it is not ours.
// Values of 'd' keys are SEQ (8 bytes big-endian: the record's number in the order its sink
// received it, so records of one ts read back in that order) then the record as JSON with
// `stream`, exactly as the file sink writes it.
//
// Threading: write(), sync() and scan() may be called from any thread (RocksDB is thread-safe);
// the compaction filter reads the retention map under a shared lock from RocksDB's threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace licflow {

// Milliseconds since the epoch; wall clock unless a test injects its own.
using HistoryClock = std::function<int64_t()>;
int64_t wall_clock_ms();

// What a stream's 'm' entry holds.
struct StreamMeta {
  int64_t retention_ms = 0;  // 0: kept forever
  std::vector<std::string> key_fields;
};

// The key layout above, shared by the history sink (which builds keys in parallel) and the store.
namespace history_codec {
// One (key, value) pair in the form write() takes: u32 length, bytes, u32 length, bytes.
void append_pair(std::string& out, std::string_view key, std::string_view value);
void append_escaped(std::string& out, std::string_view text);
void append_ts(std::string& out, int64_t ts);
uint64_t fnv1a(std::string_view bytes);
std::string record_key_prefix(std::string_view stream);  // 'd' STREAM
std::string meta_key(std::string_view stream);
std::string encode_meta(const StreamMeta& meta);
// A record key's event time (its last 16 bytes are TS then HASH).
int64_t key_ts(std::string_view key);
// A record value: SEQ then the JSON.
void append_record_value(std::string& out, uint64_t seq, std::string_view json);
struct RecordValue {
  uint64_t seq = 0;
  std::string_view json;
};
std::optional<RecordValue> read_record_value(std::string_view value);  // nullopt: too short
}  // namespace history_codec

class HistoryStore {
 public:
  enum class Mode {
    kWrite,  // the one writer: takes the LOCK, creates the database when the directory is new
    kRead,   // a RocksDB secondary instance: works beside a running node, never writes
  };
  ~HistoryStore();

  // Opens STATE_DIR/history. Refuses a directory in use (LOCK held), one that is not licflow's
  // history, and a corrupt one, leaving it untouched.
  static Result<std::unique_ptr<HistoryStore>> open(const std::string& state_dir, Mode mode,
                                                    HistoryClock clock = wall_clock_ms);
  // The writer of STATE_DIR/history shared by every history sink of this process (two sinks of
  // one pipeline would otherwise fight over the LOCK).
  static Result<std::shared_ptr<HistoryStore>> shared_writer(const std::string& state_dir);

  // Writes pairs encoded by history_codec::append_pair as one WriteBatch (WAL on, not synced).
  Status write(std::string_view pairs);
  // Makes every write so far durable (fsync of the WAL): called at checkpoints.
  Status sync();
  // Compacts everything: the retention filter then drops expired records for good.
  Status compact();

  std::optional<StreamMeta> meta(const std::string& stream) const;
  // Calls `fn(key, value)` for each unexpired record of `stream` with from <= ts < to, in key
  // order (key field values, then ts). Scans the whole stream: ts is not the leading part.
  Status scan(const std::string& stream, int64_t from, int64_t to,
              const std::function<void(std::string_view key, std::string_view value)>& fn);
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  explicit HistoryStore(std::unique_ptr<Impl> impl, std::string path);
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace licflow
