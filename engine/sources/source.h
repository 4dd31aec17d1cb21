// Source: where events come from (SPEC §3 `sources:`). A source owns its I/O thread(s), which
// frame bytes into RawChunks and hand them to the graph through the IngestQueue.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/node_config.h"
#include "engine/ingest_queue.h"
#include "engine/sources/log_format.h"
#include "engine/status.h"

namespace licflow {

class Source {
 public:
  explicit Source(std::string id) : id_(std::move(id)) {}
  virtual ~Source() = default;
  const std::string& id() const { return id_; }

  // Opens the input and starts the I/O thread(s). They push chunks tagged with `index` and, when
  // the input ends or stop is requested, exactly one push_end(index).
  virtual Status start(uint32_t index, IngestQueue& queue) = 0;
  // Asks the I/O threads to finish soon (clean stop on SIGINT/SIGTERM). Thread-safe.
  virtual void request_stop() = 0;
  // Waits for the I/O threads. REQUIRES: start() succeeded.
  virtual void join() = 0;

  // Recovery from a checkpoint (SPEC §7): true when the source can reopen its input at a byte
  // offset (a file can; stdin and TCP cannot). resume_at() is called before start().
  virtual bool can_resume() const { return false; }
  virtual void resume_at(uint64_t offset, uint64_t line) {}
  // What a resumable source reads, as saved with checkpoints: its path, then a tab and the
  // file's size and modification time. A state dir whose checkpoint names another path, or whose
  // finished run read other contents, is not this input's (Runner::open_checkpoints).
  virtual std::string input_identity() const { return ""; }
  // The `format:` it reads (jsonl, flexlm, rlm and their options): `--input` keeps it.
  virtual SourceFormat format() const { return {}; }

 private:
  std::string id_;
};

struct SourceType {
  std::string_view name;
  std::vector<std::string> keys;  // allowed keys besides `type`
  std::unique_ptr<Source> (*make)(NodeConfig& config);
};

const std::vector<SourceType>& source_types();
const SourceType* find_source_type(std::string_view name);

// A file source for `path` ("-" is stdin), as `licflow run --input` builds it.
std::unique_ptr<Source> make_file_source(std::string id, std::string path,
                                         SourceFormat format = {});

}  // namespace licflow
