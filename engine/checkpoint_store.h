// CheckpointStore: the checkpoints of SPEC §7, in a RocksDB database at STATE_DIR/checkpoints.
//
// Layout: `format` marks the database as licflow's; `manifest` describes the last complete
// checkpoint (its number, whether the run had finished, per stateful operator its id, type,
// configuration and a hash of its state, the sources' positions, the sinks' states, the
// dead-letter file's size, the runtime's watermarks); `op/ID` holds an operator's state. A
// checkpoint is one synced WriteBatch — the manifest and the states that changed since the
// previous checkpoint (an unchanged operator is not rewritten) — so it is either wholly there
// or not at all, whenever the process dies.
//
// Safety: RocksDB's LOCK file keeps a second process out of the directory; a directory that
// exists but is not a licflow checkpoint store, or whose contents do not decode, is refused and
// left untouched.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"

namespace rocksdb {
class DB;
}

namespace licflow {

struct Checkpoint {
  struct OperatorState {
    std::string id;
    std::string type;
    std::string config;  // the pipeline entry as YAML
    std::string state;   // Operator::save_state bytes
  };
  struct SourcePosition {
    std::string id;
    uint64_t offset = 0;     // bytes of input fully processed
    uint64_t next_line = 1;  // the line number at `offset`
  };
  struct SinkState {
    std::string id;
    std::string state;  // Sink::save_state bytes
  };

  uint64_t number = 0;
  bool finished = false;  // taken after end of input: there is nothing left to do
  std::vector<OperatorState> operators;
  std::vector<SourcePosition> sources;
  std::vector<SinkState> sinks;
  uint64_t dead_letter_size = 0;
  std::string runtime;  // the runtime's own state (watermarks per node and port)
};

class CheckpointStore {
 public:
  ~CheckpointStore();
  // Opens (creating if needed) STATE_DIR/checkpoints.
  static Result<std::unique_ptr<CheckpointStore>> open(const std::string& state_dir);
  // Deletes every checkpoint (`licflow run --reset-state`).
  Status reset();
  // The last complete checkpoint, or nullopt when there is none.
  Result<std::optional<Checkpoint>> load();
  // Writes `checkpoint` atomically; operator states equal to the previous ones are not rewritten.
  Status save(const Checkpoint& checkpoint);
  // Bytes written by the last save(), for the log and /metrics.
  uint64_t last_bytes_written() const { return last_bytes_written_; }

 private:
  CheckpointStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::string path_;
  std::map<std::string, uint64_t> saved_hashes_;  // per operator id: hash of the stored state
  uint64_t last_bytes_written_ = 0;
};

}  // namespace licflow
