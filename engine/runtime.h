// Runtime: runs a validated Plan as a oneTBB flow graph (SPEC §2, §3, §8 `run`).
//
// Shape of the running graph:
//   I/O threads (one per file/stdin source, one per TCP connection) frame lines into RawChunks
//     -> IngestQueue (bounded by credits: backpressure)
//     -> the calling thread hands each chunk to the graph
//     -> `parse` node, unlimited concurrency: chunks parse in parallel on every worker
//     -> per source a sequencer_node restores chunk order, then a serial `deliver` node writes
//        dead letters, advances the source watermark and passes the batch on
//     -> one serial node per operator and per sink; each edge delivers batches in order.
// Keeping every operator serial and every edge ordered is what makes the output independent of
// --threads; the parallelism comes from parsing (the dominant cost) and from pipelining stages.
//
// Express chunks (a trickle from a quiet TCP connection, raw_chunk.h) skip all of that: they run
// on the reading thread through every sink and stateless operator they reach, each under its
// node's lock, and carry no watermark progress; a watermark-only marker follows in order.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/plan.h"
#include "engine/status.h"

namespace licflow {

struct RunOptions {
  int threads = 2;  // worker threads of the graph; I/O threads come on top
  // Progress on stderr while running: kTerminal rewrites one line every second; kLines (stderr
  // is a file or a pipe, SPEC §8 "progress while it runs") writes a line every 10 seconds.
  enum class Progress { kNone, kTerminal, kLines };
  Progress progress = Progress::kNone;
  const std::atomic<bool>* stop = nullptr;  // when set to true: clean stop
  size_t max_chunks_in_flight = 16;  // backpressure bound: chunks queued or inside the graph
  size_t chunk_bytes = 256 * 1024;   // lines per chunk, in bytes: the unit of parallel parsing
  std::string http_address;  // ADDR:PORT: serve /metrics and /healthz while running (port 0: any)
  std::function<void(int port)> on_http_ready;  // called with the bound port once serving
  // Checkpoints (SPEC §7) under plan.state.dir every plan.state.checkpoint_interval_ms, at a
  // clean stop and at end of input; a run resumes from the last one it finds there.
  bool checkpoints = false;
  std::string metrics_file;  // when set: the final /metrics text is written there at the end
  bool reset_state = false;  // forget the checkpoints found under the state dir first
};

struct NodeStats {
  std::string id;
  std::string type;
  uint64_t records_in = 0;
  uint64_t records_out = 0;
  uint64_t dropped = 0;  // operators: records skipped (a key field missing); sources: log
                         // lines that are no license events
  uint64_t dead_lettered = 0;  // sinks: records given up and written as dead letters (webhook)
  uint64_t late = 0;           // operators: records behind their watermark (SPEC §2)
  bool sink = false;
  std::optional<uint64_t> delivered;  // webhook sinks: records the endpoint accepted
};

struct RunSummary {
  uint64_t events = 0;        // parsed good events, all sources
  uint64_t dead_letters = 0;  // input lines; sinks' dead letters are in their NodeStats
  double seconds = 0;
  bool stopped = false;       // ended by a stop request rather than end of input
  bool already_finished = false;  // the state dir holds a run that reached end of input
  uint64_t resumed_from = 0;      // the checkpoint the run resumed from (0: none)
  double restore_seconds = 0;     // reading and applying it
  uint64_t checkpoints = 0;       // checkpoints taken
  double checkpoint_seconds = 0;  // their total duration
  uint64_t checkpoint_bytes = 0;  // written by the last one (unchanged operator states are not)
  size_t peak_chunks_in_flight = 0;  // the most chunks queued or in the graph at once
  uint64_t peak_rss_bytes = 0;       // of the whole process (getrusage)
  std::vector<NodeStats> nodes;
};

// Runs until every source ends or `options.stop` is raised. Fails on an unopenable source or sink,
// a failed sink write (after the run finished processing) or an operator error.
Result<RunSummary> run_plan(Plan& plan, const RunOptions& options);

std::string format_summary(const Plan& plan, const RunSummary& summary);

}  // namespace licflow
