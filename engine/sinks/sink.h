// Sink: where results go (SPEC §6). Every record is written with `stream` set to the name of the
// stream that produced it (`id` or `id.port`).
//
// Writing is split in two so the expensive half can run in parallel:
// - format() turns records of one stream — a batch's, or a run of a joined batch's (see
//   engine/input_join.h) — into bytes. When parallel_format() is true it is thread-safe and the
//   runtime calls it from any number of threads at once, then restores batch order;
//   otherwise (a format with state, such as CSV's header) it is called serially, in order.
// - write() appends formatted bytes. Called from one thread at a time, in stream order, as are
//   open() and close().
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/node_config.h"
#include "engine/batch.h"
#include "engine/state_codec.h"
#include "engine/status.h"

namespace licflow {

class DeadLetterWriter;

class Sink {
 public:
  explicit Sink(std::string id) : id_(std::move(id)) {}
  virtual ~Sink() = default;
  const std::string& id() const { return id_; }

  // Called by the runtime before open(), for sinks that give up records (webhook): the writer
  // outlives the sink's close().
  virtual void attach_dead_letters(DeadLetterWriter& writer) {}
  // Called by the runtime before open(), for sinks that store under the state dir (history).
  virtual void attach_state_dir(const std::string& dir) {}
  virtual Status open() = 0;
  virtual bool parallel_format() const { return false; }
  virtual void format(std::span<const Record> records, std::string_view stream,
                      std::string& out) = 0;
  // A failed write is reported by the runtime and fails the run (exit code 1); it never stalls it.
  virtual Status write(std::string_view bytes) = 0;
  virtual Status close() = 0;
  // Waits until every record write() accepted has left the process (a webhook: delivered or
  // dead-lettered). The runtime calls it at the end of the input, before the checkpoint that marks
  // the run finished: a finished run is never resumed, so nothing may still be on its way then.
  virtual Status drain() { return Status::ok(); }

  // Checkpoints (SPEC §7). A sink that can rewind returns true from can_resume(). At a checkpoint
  // (nothing in flight) save_state() makes what was written durable and records where the output
  // ends, with any state of its format; on recovery load_state() runs before open(), which then
  // cuts the output back to that point and appends, so nothing is lost or doubled.
  virtual bool can_resume() const { return false; }
  virtual Status save_state(StateWriter& out) { return Status::ok(); }
  virtual void load_state(StateReader& in) {}
  // What must not change between a checkpoint and the run resuming from it for the saved state
  // to describe the output (a file sink: its path and format); recorded with the state.
  virtual std::string output_identity() const { return ""; }

 private:
  std::string id_;
};

struct SinkType {
  std::string_view name;
  std::vector<std::string> keys;  // allowed keys besides `type` and `input`
  std::unique_ptr<Sink> (*make)(NodeConfig& config);
};

const std::vector<SinkType>& sink_types();
const SinkType* find_sink_type(std::string_view name);

}  // namespace licflow
