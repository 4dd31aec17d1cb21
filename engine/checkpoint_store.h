// CheckpointStore: the checkpoints of SPEC §7, in a RocksDB database at STATE_DIR/checkpoints.
//
// Layout: `format` marks the database as licflow's; `manifest` describes the last complete
// checkpoint (its number, whether the run had finished, per stateful operator its id, type,
// configuration and where its state is, the sources' positions, the sinks' states, the
// dead-letter file's size, the runtime's watermarks). An operator's state is a run of chunks
// `op/ID NUL GENERATION CHUNK` (big-endian numbers; the generation is the number of the
// checkpoint that wrote it) with its size and a hash in the manifest.
//
// Writing: a state of at most one chunk (4 MiB) waits in memory and is written with the
// manifest in one synced WriteBatch — or not at all when it equals the previous one. A larger
// state streams: its chunks are written as the operator produces them (operator_writer), and
// the synced manifest write that follows makes them durable with it (RocksDB syncs its log in
// order). Older generations are deleted in that same batch. Until the manifest is written,
// the previous checkpoint is the one that counts: a checkpoint is wholly there or not at all,
// whenever the process dies.
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

#include "engine/state_codec.h"
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
  };
  struct SourcePosition {
    std::string id;
    uint64_t offset = 0;     // bytes of input fully processed
    uint64_t next_line = 1;  // the line number at `offset`
    std::string input;       // Source::input_identity() when it was taken
  };
  struct SinkState {
    std::string id;
    std::string state;   // Sink::save_state bytes
    std::string output;  // Sink::output_identity() when it was taken
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
  // Where an operator's state is.
  struct StoredState {
    uint64_t generation = 0;
    uint64_t chunks = 0;
    uint64_t bytes = 0;
    uint64_t hash = 0;  // of the chunks, in order
  };

  ~CheckpointStore();
  // Opens (creating if needed) STATE_DIR/checkpoints.
  static Result<std::unique_ptr<CheckpointStore>> open(const std::string& state_dir);
  // Deletes every checkpoint (`licflow run --reset-state`).
  Status reset();
  // The last complete checkpoint, or nullopt when there is none.
  Result<std::optional<Checkpoint>> load();
  // A reader streaming the state operator `id` had in the checkpoint load() returned. It fails
  // when the chunks are missing or do not match their hash.
  StateReader operator_reader(const std::string& id);

  // Saving checkpoint `number`: each operator's state is written through the writer of
  // operator_writer() and handed back to end_operator(); then save() writes the rest and the
  // manifest. Operator states equal to the previous ones are not rewritten.
  StateWriter operator_writer(const std::string& id, uint64_t number);
  void end_operator(const std::string& id, StateWriter& writer);
  Status save(const Checkpoint& checkpoint);
  // Bytes written by the last save(), for the log and /metrics.
  uint64_t last_bytes_written() const { return last_bytes_written_; }

 private:
  CheckpointStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::string path_;
  // A state being saved: what streamed already, and its last chunk, not yet written.
  struct PendingState {
    StoredState stored;
    std::string tail;
    bool unchanged = false;  // equal to the saved one: nothing to write
  };
  void write_chunk(const std::string& id, PendingState& pending, std::string_view chunk);

  std::map<std::string, StoredState> saved_;     // per operator id, in the last checkpoint
  std::map<std::string, PendingState> pending_;  // per operator id, being saved
  Status streaming_status_;                      // the first failed chunk write
  uint64_t streamed_bytes_ = 0;                  // chunks of the checkpoint being saved
  uint64_t last_bytes_written_ = 0;
};

}  // namespace licflow
