// Runtime: the running graph described in runtime.h.
#include "engine/runtime.h"

#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <rocksdb/cache.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>

#include "engine/checkpoint_store.h"
#include "engine/chunk_parser.h"
#include "engine/dead_letter.h"
#include "engine/event_parser.h"
#include "engine/http_endpoint.h"
#include "engine/ingest_queue.h"
#include "engine/input_join.h"
#include "engine/metrics.h"
#include "engine/rocksdb_cache.h"
#include "engine/sinks/webhook_sink.h"
#include "engine/spill_store.h"
#include "engine/watermarks.h"

namespace licflow {
namespace {

namespace flow = tbb::flow;
using Clock = std::chrono::steady_clock;

constexpr flow::node_priority_t kPriorityLane = 1;

struct ParseJob {
  std::shared_ptr<RawChunk> chunk;
  std::shared_ptr<void> credit;
};

// A chunk after parsing, waiting in its source's sequencer.
struct ParsedChunk {
  uint64_t seq = 0;
  bool idle = false;  // an idle marker: an empty batch that marks the source's stream idle
  int64_t express_max_ts = kMinTime;  // a marker after an express chunk: that chunk's largest ts
  uint64_t skipped_lines = 0;  // log lines skipped as no license events (RawChunk)
  std::shared_ptr<Batch> batch = std::make_shared<Batch>();
  std::vector<DeadLetter> dead_letters;  // in line order
};
using ParsedPtr = std::shared_ptr<ParsedChunk>;

// What travels on an edge into an operator or sink: a batch and which input it arrived on.
struct Envelope {
  BatchPtr batch;
  uint32_t input = 0;
  uint64_t seq = 0;  // per consumer: the order the batch was sent in (for parallel sink formatting)
};

// A sink batch formatted in parallel, waiting for its turn to be written.
struct Formatted {
  uint64_t seq = 0;
  std::string bytes;
  std::shared_ptr<void> credit;
  size_t records = 0;
  int64_t ingest_ns = 0;
};
using FormattedPtr = std::shared_ptr<Formatted>;

using ConsumerNode = flow::function_node<Envelope, flow::continue_msg>;

// Express batches waiting to run through a node (its index and the envelope), in the order sent.
using ExpressWork = std::deque<std::pair<size_t, Envelope>>;

struct NodeRuntime;

struct Consumer {
  NodeRuntime* runtime;
  size_t node;  // its index in the plan
  uint32_t input;
};

struct NodeRuntime {
  // consumers[port] are fed by that port.
  std::vector<std::vector<Consumer>> consumers;
  std::vector<int64_t> port_watermark;  // last watermark sent per port
  std::vector<char> port_idle;          // last idleness sent per port
  // Per port: it leads to an InputJoin, which needs every batch, empty ones too.
  std::vector<char> port_sends_empty;
  InputWatermarks inputs;               // operators: their inputs' watermarks (SPEC §2)
  std::unique_ptr<InputJoin> join;      // operators reading several streams of one source
  std::unique_ptr<ConsumerNode> node;   // operators and sinks
  // Held while the node's serial code runs (an operator, a sink's write, a source's deliver):
  // taken by its oneTBB body and by a source's reading thread running an express batch through
  // the node (see run_express).
  std::mutex serial;
  bool runs_express = false;  // express batches run through it at once: a sink or stateless op
  std::atomic<uint64_t> next_seq{0};    // numbers the envelopes sent to `node`
  // Sinks that format in parallel: node (unlimited) -> sequencer -> writer (serial).
  std::unique_ptr<flow::sequencer_node<FormattedPtr>> sequencer;
  std::unique_ptr<flow::function_node<FormattedPtr, flow::continue_msg>> writer;
  std::atomic<uint64_t> records_in{0};
  std::atomic<uint64_t> records_out{0};
  std::unique_ptr<std::atomic<uint64_t>[]> port_records_out;  // per port
  std::atomic<int64_t> busy_ns{0};        // time spent in the node's own code
  std::atomic<uint64_t> dead_letters{0};  // sources
  std::atomic<uint64_t> skipped_lines{0};  // sources: log lines that are no license events
  std::atomic<uint64_t> express_chunks{0};  // sources: chunks run as express chunks
  std::atomic<int64_t> published_watermark{kMinTime};  // sources: `watermark`, for /metrics
  LatencyHistogram latency;               // sinks: ingest to write, per record
  int64_t watermark = kMinTime;  // sources: largest ts - max_out_of_orderness
  int64_t max_ts = kMinTime;
  uint64_t delivered = 0;  // sources: batches delivered, numbering their origins
  // Sources: where the input continues after the last chunk handed to the graph.
  uint64_t next_offset = 0;
  uint64_t next_line = 1;
  std::vector<std::string> input_streams;  // name of the stream on each input, for sinks
  std::vector<uint32_t> joined_inputs;     // scratch of a joined sink: each record's input
};

class Runner {
 public:
  Runner(Plan& plan, const RunOptions& options)
      : plan_(plan),
        options_(options),
        queue_(options.max_chunks_in_flight, options.chunk_bytes),
        dead_letters_(plan.dead_letter_path),
        parallelism_(tbb::global_control::max_allowed_parallelism,
                     static_cast<size_t>(std::max(1, options.threads)) + 1),
        arena_(std::max(1, options.threads), 0) {}

  Result<RunSummary> run() {
    plan_input_joins();
    std::optional<Checkpoint> restored;
    if (options_.checkpoints) {
      const auto begin = Clock::now();
      auto loaded = open_checkpoints();
      if (!loaded.is_ok()) return loaded.status();
      restored = std::move(loaded.value());
      RETURN_IF_ERROR(open_spill());
      if (restored) RETURN_IF_ERROR(restore(*restored));
      summary_.restore_seconds = std::chrono::duration<double>(Clock::now() - begin).count();
      if (restored && restored->finished) {
        summary_.already_finished = true;
        return summary_;
      }
    }
    if (!options_.checkpoints) RETURN_IF_ERROR(open_spill());
    // A run that starts over starts its dead-letter file over, as its sinks' files, even if it
    // writes no dead letter (the file is otherwise created by the first one).
    if (!restored) RETURN_IF_ERROR(dead_letters_.start_fresh());
    Status opened = open_sinks();
    if (!opened.is_ok()) return opened;
    arena_.execute([&] { build_graph(); });
    if (restored) {
      restore_runtime(restored->runtime);
      // Where each source resumes is where it stands until its next chunk.
      for (const Checkpoint::SourcePosition& pos : restored->sources) {
        for (size_t i = 0; i < plan_.nodes.size(); ++i) {
          if (plan_.nodes[i].id != pos.id || !plan_.nodes[i].source) continue;
          if (!plan_.nodes[i].source->can_resume()) continue;
          runtime_[i]->next_offset = pos.offset;
          runtime_[i]->next_line = pos.next_line;
        }
      }
    }
    started_ = Clock::now();  // before /metrics, whose thread reads it
    std::unique_ptr<HttpEndpoint> http;
    if (!options_.http_address.empty()) {
      auto started = HttpEndpoint::start(options_.http_address, [this] { return render_metrics(); });
      if (!started.is_ok()) return started.status();
      http = std::move(started.value());
      if (options_.on_http_ready) options_.on_http_ready(http->port());
    }
    queue_.run_express_with([this](std::unique_ptr<RawChunk> c) { return run_express(std::move(c)); });
    for (uint32_t i = 0; i < source_count_; ++i) {
      Status st = plan_.nodes[i].source->start(i, queue_);
      if (!st.is_ok()) {
        stop_started_sources(i);
        return st;
      }
    }
    next_checkpoint_ = Clock::now() + std::chrono::milliseconds(plan_.state.checkpoint_interval_ms);
    feed();
    for (uint32_t i = 0; i < source_count_; ++i) plan_.nodes[i].source->join();

    std::string failure;
    try {
      arena_.execute([&] {
        graph_->wait_for_all();
        if (!summary_.stopped) finish_operators();
      });
      if (!summary_.stopped) {
        for (PlanNode& n : plan_.nodes) {
          if (n.sink) record_failure(n.sink->drain());
        }
      }
      // A run whose output failed must not be remembered as done: its rerun redoes the work.
      if (store_ && first_error_.empty()) take_checkpoint(/*finished=*/!summary_.stopped);
    } catch (const std::exception& e) {
      failure = std::string("operator failed: ") + e.what();
    }
    for (PlanNode& n : plan_.nodes) {
      if (n.sink) record_failure(n.sink->close());
    }
    record_failure(dead_letters_.close());
    if (!options_.metrics_file.empty()) write_metrics_file();
    if (options_.progress == RunOptions::Progress::kTerminal) std::fputs("\r\033[K", stderr);
    if (!failure.empty()) return Status::error(failure);
    if (!first_error_.empty()) return Status::error(first_error_);

    summary_.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    summary_.events = events_.load();
    summary_.dead_letters = dead_letter_count_.load();
    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) == 0) summary_.peak_rss_bytes = usage.ru_maxrss * 1024ull;
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      const PlanNode& n = plan_.nodes[i];
      NodeRuntime& rt = *runtime_[i];
      const auto* hook = dynamic_cast<const WebhookSink*>(n.sink.get());
      summary_.nodes.push_back({n.id, n.type, rt.records_in.load(), rt.records_out.load(),
                                n.op ? n.op->dropped() : rt.skipped_lines.load(),
                                hook != nullptr ? hook->stats().dead_lettered : 0,
                                n.op ? n.op->late_records() : 0, n.sink != nullptr,
                                hook != nullptr ? std::optional<uint64_t>(hook->stats().delivered)
                                                : std::nullopt});
    }
    return summary_;
  }

 private:
  // Stops the first `started` sources after another failed to start. Their chunks are drained
  // and dropped (returning the credits) so no I/O thread stays blocked on a full queue.
  void stop_started_sources(uint32_t started) {
    for (uint32_t k = 0; k < started; ++k) plan_.nodes[k].source->request_stop();
    for (uint32_t ended = 0; ended < started;) {
      std::unique_ptr<RawChunk> chunk;
      if (!queue_.pop(chunk, std::chrono::milliseconds(100))) continue;
      if (chunk->end) {
        ++ended;
      } else if (!chunk->watermark_only) {
        queue_.make_credit(*chunk);  // destroyed at once: the credit goes back
      }
    }
    for (uint32_t k = 0; k < started; ++k) plan_.nodes[k].source->join();
    arena_.execute([&] { graph_->wait_for_all(); });  // no task may outlive the graph
  }

  // Nodes with several inputs that all come from one source, or from ports of one operator
  // that can group its output (Operator::group_output), each through filter, route and dedup
  // only (one batch out per batch in), read them merged (engine/input_join.h): operators that
  // take them so, and sinks. Not joined, so that nothing fast waits for slow work in a merge:
  // a node downstream of a priority lane (its priority records would wait for bulk ones),
  // except operators reading streams of one source, as always; and a sink reading streams of a
  // source through a dedup, which an express batch (a trickle) cannot run through at once. In
  // topological order, so a joined filter is known before what reads it.
  void plan_input_joins() {
    joined_.assign(plan_.nodes.size(), 0);
    std::vector<char> grouped(plan_.nodes.size(), 0);
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      PlanNode& n = plan_.nodes[i];
      if (n.inputs.size() < 2) continue;
      std::optional<size_t> common;
      bool one_origin = true;
      bool all_express = true;  // every node on the way runs express batches at once
      for (const StreamId& input : n.inputs) {
        size_t at = input.node;
        while (plan_.nodes[at].kind == NodeKind::kOperator && passes_batches(at)) {
          all_express = all_express && plan_.nodes[at].op->stateless();
          at = plan_.nodes[at].inputs[0].node;
        }
        one_origin = one_origin && (!common || *common == at);
        common = at;
      }
      if (!one_origin) continue;
      PlanNode& from = plan_.nodes[*common];
      const bool from_source = from.kind == NodeKind::kSource;
      if (n.priority && (n.sink || !from_source)) continue;
      if (n.sink && from_source && !all_express) continue;
      if (!from_source && !grouped[*common]) {
        if (!from.op) continue;
        grouped[*common] = from.op->group_output(uint64_t{1} << 63 | uint64_t{*common} << 40);
        if (!grouped[*common]) continue;
      }
      joined_[i] = n.sink ? 1 : n.op->join_inputs();
    }
  }
  // What a checkpoint's operator state must have been saved by: the operator's YAML entry, and
  // whether it read its inputs joined (its state then has one input, not one per stream).
  static constexpr char kJoinedMark[] = "\n# inputs joined";
  std::string state_identity(size_t i) const {
    return plan_.nodes[i].config_text + (joined_[i] ? kJoinedMark : "");
  }

  // Node `i` sends one batch per batch of its source, with the records' positions in it: a
  // filter, route or dedup of one input, or of several streams of one source it reads joined.
  bool passes_batches(size_t i) const {
    const PlanNode& n = plan_.nodes[i];
    return n.op && n.op->forwards_batches() && (n.inputs.size() == 1 || joined_[i]);
  }

  // SPEC §7 "memory stays under state.memory_limit": half of it is shared equally by the operators
  // with keyed state, which spill their cold keys beyond that to STATE_DIR/spill (or, without
  // checkpoints, to a temporary directory). The other half is the headroom of everything else:
  // batches in flight, RocksDB's memtables and block cache, sinks' buffers.
  Status open_spill() {
    std::vector<PlanNode*> spilling;
    for (PlanNode& n : plan_.nodes) {
      if (n.op && n.op->spill_kind() != nullptr) spilling.push_back(&n);
    }
    if (spilling.empty()) return Status::ok();
    std::string dir = plan_.state.dir + "/spill";
    if (!options_.checkpoints) {
      const char* tmp = std::getenv("TMPDIR");
      std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                            "/licflow-spill-XXXXXX";
      if (::mkdtemp(pattern.data()) == nullptr) {
        return Status::error("cannot create a spill directory " + pattern + ": " +
                             std::strerror(errno));
      }
      dir = pattern;
    }
    auto store = SpillStore::open(dir, /*temporary=*/!options_.checkpoints,
                                  plan_.state.memory_limit_bytes);
    if (!store.is_ok()) return store.status();
    spill_ = std::move(store.value());
    const uint64_t budget = plan_.state.memory_limit_bytes / 2 / spilling.size();
    for (PlanNode* n : spilling) RETURN_IF_ERROR(n->op->enable_spill(*spill_, n->id, budget));
    return Status::ok();
  }

  // Opens the checkpoint store and reads the last checkpoint, refusing one this pipeline cannot
  // resume from.
  Result<std::optional<Checkpoint>> open_checkpoints() {
    auto store = CheckpointStore::open(plan_.state.dir);
    if (!store.is_ok()) return store.status();
    store_ = std::move(store.value());
    if (options_.reset_state) RETURN_IF_ERROR(store_->reset());
    auto loaded = store_->load();
    if (!loaded.is_ok() || !loaded.value()) return loaded;
    // A state dir belongs to its input: another file, or other contents after a finished run
    // (the same pipeline run on the next day's log), start over instead of resuming.
    const Checkpoint& c = *loaded.value();
    for (const Checkpoint::SourcePosition& saved : c.sources) {
      for (const PlanNode& n : plan_.nodes) {
        if (n.id != saved.id || !n.source || !n.source->can_resume()) continue;
        const std::string now = n.source->input_identity();
        const bool other_file = now.substr(0, now.find('\t')) !=
                                saved.input.substr(0, saved.input.find('\t'));
        if (other_file || (c.finished && now != saved.input)) {
          spdlog::warn("source `{}` now reads {} {}; the state in {} was built from another "
                       "input: starting over", n.id, now.substr(0, now.find('\t')),
                       other_file ? "" : "(changed since the finished run)", plan_.state.dir);
          RETURN_IF_ERROR(store_->reset());
          return std::optional<Checkpoint>();
        }
      }
    }
    return loaded;
  }

  // Hands the checkpoint's state to the operators, sinks, sources and the dead-letter file.
  // Operators are the state's names (as Flink's uids): each must still exist, with the same type
  // and configuration. An operator new since the checkpoint starts empty.
  Status restore(const Checkpoint& c) {
    auto find = [&](const std::string& id) -> PlanNode* {
      for (PlanNode& n : plan_.nodes) {
        if (n.id == id) return &n;
      }
      return nullptr;
    };
    auto refuse = [&](const std::string& why) {
      return Status::error("cannot resume from checkpoint " + std::to_string(c.number) + " in " +
                           plan_.state.dir + ": " + why +
                           " (--reset-state starts over, losing that state)");
    };
    for (const Checkpoint::OperatorState& op : c.operators) {
      PlanNode* n = find(op.id);
      if (n == nullptr || !n->op) {
        return refuse("operator `" + op.id + "` (" + op.type + ") has state but is no longer in " +
                      "the pipeline");
      }
      const std::string now = state_identity(static_cast<size_t>(n - plan_.nodes.data()));
      if (n->type != op.type || now != op.config) {
        if (n->type == op.type && n->config_text + kJoinedMark == op.config) {
          return refuse("operator `" + op.id + "` read its inputs joined at the checkpoint " +
                        "(streams of one source, or ports of one operator) and no longer does: " +
                        "the graph above it changed");
        }
        if (n->type == op.type && now == op.config + kJoinedMark) {
          return refuse("operator `" + op.id + "` now reads its inputs joined (streams of one " +
                        "source, or ports of one operator) and did not at the checkpoint: the " +
                        "graph above it changed, or the checkpoint was written by an older " +
                        "licflow, which read ports of one operator apart");
        }
        return refuse("operator `" + op.id + "` changed since the checkpoint; its state no longer fits");
      }
      StateReader in = store_->operator_reader(op.id);
      n->op->load_state(in);
      if (in.failed() || !in.at_end()) {
        // Also what a state saved by a licflow that laid it out otherwise looks like (a keyed
        // threshold became 4 partitions on 2026-11-30).
        return refuse("the state of operator `" + op.id + "` is corrupt, or was written by a " +
                      "version of licflow that laid it out otherwise");
      }
    }
    for (const Checkpoint::SinkState& sink : c.sinks) {
      PlanNode* n = find(sink.id);
      if (n == nullptr || !n->sink || !n->sink->can_resume()) continue;  // gone: nothing to cut
      if (const std::string now = n->sink->output_identity(); now != sink.output) {
        return refuse("sink `" + sink.id + "` writes to another file or in another format than " +
                      "at the checkpoint, which holds where its output ended (now: " + now +
                      "; then: " + sink.output + ")");
      }
      StateReader in(sink.state);
      n->sink->load_state(in);
      if (in.failed() || !in.at_end()) {
        // Also a history sink's state from before it numbered records per stream (2026-11-30).
        return refuse("the state of sink `" + sink.id + "` is corrupt, or was written by a " +
                      "version of licflow that laid it out otherwise");
      }
    }
    for (const Checkpoint::SourcePosition& pos : c.sources) {
      PlanNode* n = find(pos.id);
      if (n != nullptr && n->source && n->source->can_resume()) {
        n->source->resume_at(pos.offset, pos.next_line);
      }
    }
    RETURN_IF_ERROR(dead_letters_.resume_at(c.dead_letter_size));
    summary_.resumed_from = c.number;
    checkpoint_number_ = c.number;
    spdlog::info("resuming from checkpoint {} in {}", c.number, plan_.state.dir);
    return Status::ok();
  }

  // The runtime's own part of a checkpoint, per node: its ports' last watermark and idleness,
  // its inputs' watermarks; for sources, the watermark and largest ts. A node that changed since
  // (another number of ports or inputs) starts from scratch.
  std::string save_runtime() const {
    StateWriter w;
    w.u64(runtime_.size());
    for (size_t i = 0; i < runtime_.size(); ++i) {
      const NodeRuntime& rt = *runtime_[i];
      w.str(plan_.nodes[i].id);
      w.u64(rt.port_watermark.size());
      for (size_t p = 0; p < rt.port_watermark.size(); ++p) {
        w.i64(rt.port_watermark[p]);
        w.boolean(rt.port_idle[p]);
      }
      StateWriter inputs;
      rt.inputs.save(inputs);
      w.str(inputs.bytes());
      w.i64(rt.watermark);
      w.i64(rt.max_ts);
    }
    return w.take();
  }

  void restore_runtime(const std::string& bytes) {
    StateReader r(bytes);
    for (uint64_t n = r.count(32); n > 0 && !r.failed(); --n) {
      const std::string id = r.str();
      std::vector<std::pair<int64_t, bool>> ports(r.count(9));
      for (auto& [wm, idle] : ports) {
        wm = r.i64();
        idle = r.boolean();
      }
      const std::string inputs = r.str();
      const int64_t watermark = r.i64(), max_ts = r.i64();
      for (size_t i = 0; i < plan_.nodes.size(); ++i) {
        if (plan_.nodes[i].id != id) continue;
        NodeRuntime& rt = *runtime_[i];
        if (ports.size() == rt.port_watermark.size()) {
          for (size_t p = 0; p < ports.size(); ++p) {
            rt.port_watermark[p] = ports[p].first;
            rt.port_idle[p] = ports[p].second;
          }
        }
        InputWatermarks restored(rt.inputs.size());
        StateReader in(inputs);
        restored.load(in);
        if (!in.failed()) rt.inputs = restored;
        rt.watermark = watermark;
        rt.max_ts = max_ts;
        rt.published_watermark.store(watermark, std::memory_order_relaxed);
      }
    }
  }

  // Takes a checkpoint at a quiescent point: the feed thread stops handing chunks over, the graph
  // drains (at most max_chunks_in_flight chunks), and every stateful node is saved.
  void take_checkpoint(bool finished) {
    const auto begin = Clock::now();
    checkpoint_pending_.store(true, std::memory_order_release);
    std::unique_lock gate(express_gate_);
    struct Reopen {  // lets express chunks run again when the checkpoint ends, however it ends
      std::atomic<bool>& pending;
      ~Reopen() {
        pending.store(false, std::memory_order_release);
        pending.notify_all();
      }
    } reopen{checkpoint_pending_};
    arena_.execute([&] { graph_->wait_for_all(); });
    Checkpoint c;
    c.number = ++checkpoint_number_;
    c.finished = finished;
    Status status = Status::ok();
    for (size_t i = 0; i < plan_.nodes.size() && status.is_ok(); ++i) {
      PlanNode& n = plan_.nodes[i];
      if (n.op && n.op->has_state()) {
        StateWriter w = store_->operator_writer(n.id, c.number);
        n.op->save_state(w);
        store_->end_operator(n.id, w);
        c.operators.push_back({n.id, n.type, state_identity(i)});
      } else if (n.source && n.source->can_resume()) {
        c.sources.push_back(
            {n.id, runtime_[i]->next_offset, runtime_[i]->next_line, n.source->input_identity()});
      } else if (n.sink && n.sink->can_resume()) {
        StateWriter w;
        status = n.sink->save_state(w);
        c.sinks.push_back({n.id, w.take(), n.sink->output_identity()});
      }
    }
    if (status.is_ok()) {
      auto size = dead_letters_.checkpoint();
      if (size.is_ok()) {
        c.dead_letter_size = size.value();
      } else {
        status = size.status();
      }
    }
    c.runtime = save_runtime();
    if (status.is_ok()) status = store_->save(c);
    if (!status.is_ok()) {
      record_failure(Status::error("checkpoint " + std::to_string(c.number) + " failed: " +
                                   status.message()));
      store_.reset();  // no more checkpoints; the run goes on and fails at the end
      return;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    ++summary_.checkpoints;
    summary_.checkpoint_seconds += seconds;
    summary_.checkpoint_bytes = store_->last_bytes_written();
    last_checkpoint_ns_.store(static_cast<int64_t>(seconds * 1e9), std::memory_order_relaxed);
    checkpoints_taken_.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("checkpoint {}: {} bytes written in {:.1f} ms", c.number,
                 store_->last_bytes_written(), seconds * 1e3);
    next_checkpoint_ = Clock::now() + std::chrono::milliseconds(plan_.state.checkpoint_interval_ms);
  }

  Status open_sinks() {
    for (PlanNode& n : plan_.nodes) {
      if (n.sink) n.sink->attach_dead_letters(dead_letters_);
      if (n.sink) n.sink->attach_state_dir(plan_.state.dir);
      if (n.sink) RETURN_IF_ERROR(n.sink->open());
    }
    return Status::ok();
  }

  void build_graph() {
    graph_ = std::make_unique<flow::graph>();
    runtime_.clear();
    for (const PlanNode& n : plan_.nodes) {
      auto rt = std::make_unique<NodeRuntime>();
      rt->consumers.resize(n.ports().size());
      rt->port_watermark.assign(n.ports().size(), kMinTime);
      rt->port_idle.assign(n.ports().size(), 0);
      rt->port_sends_empty.assign(n.ports().size(), 0);
      rt->inputs = InputWatermarks(n.inputs.size());
      rt->port_records_out = std::make_unique<std::atomic<uint64_t>[]>(n.ports().size());
      for (const StreamId& s : n.inputs) rt->input_streams.push_back(plan_.stream_name(s));
      runtime_.push_back(std::move(rt));
      if (n.kind == NodeKind::kSource) ++source_count_;
    }
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      PlanNode& n = plan_.nodes[i];
      if (n.kind == NodeKind::kSource) continue;
      flow::node_priority_t priority = n.priority ? kPriorityLane : flow::no_priority;
      NodeRuntime& rt = *runtime_[i];
      rt.runs_express = n.sink || n.op->stateless();
      // A sink that reads its inputs joined formats serially: the join is serial.
      if (n.sink && n.sink->parallel_format() && !joined_[i]) {
        rt.node = std::make_unique<ConsumerNode>(
            *graph_, flow::unlimited,
            [this, i](const Envelope& e) {
              format_for_sink(i, e);
              return flow::continue_msg();
            },
            priority);
        rt.sequencer = std::make_unique<flow::sequencer_node<FormattedPtr>>(
            *graph_, [](const FormattedPtr& f) { return static_cast<size_t>(f->seq); });
        rt.writer = std::make_unique<flow::function_node<FormattedPtr, flow::continue_msg>>(
            *graph_, flow::serial,
            [this, i](const FormattedPtr& f) {
              std::lock_guard serial(runtime_[i]->serial);
              write_formatted(i, f->bytes, f->ingest_ns, f->records);
              return flow::continue_msg();
            },
            priority);
        flow::make_edge(*rt.sequencer, *rt.writer);
        continue;
      }
      rt.node = std::make_unique<ConsumerNode>(
          *graph_, flow::serial,
          [this, i](const Envelope& e) {
            std::lock_guard serial(runtime_[i]->serial);
            if (plan_.nodes[i].sink) {
              run_sink(i, e);
            } else {
              run_operator(i, e);
            }
            return flow::continue_msg();
          },
          priority);
    }
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      const PlanNode& n = plan_.nodes[i];
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        const StreamId& s = n.inputs[k];
        runtime_[s.node]->consumers[s.port].push_back(
            {runtime_[i].get(), i, static_cast<uint32_t>(k)});
      }
      if (!joined_.empty() && joined_[i]) {
        runtime_[i]->join = std::make_unique<InputJoin>(n.inputs.size());
        for (const StreamId& input : n.inputs) {
          for (StreamId s = input;; s = plan_.nodes[s.node].inputs[0]) {
            runtime_[s.node]->port_sends_empty[s.port] = 1;
            if (plan_.nodes[s.node].kind == NodeKind::kSource || !passes_batches(s.node)) break;
          }
        }
      }
    }
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      if (plan_.nodes[i].op) plan_.nodes[i].op->set_consumed_ports(consumed_ports(i));
    }

    plan_projections();
    parse_ = std::make_unique<flow::function_node<ParseJob, flow::continue_msg>>(
        *graph_, flow::unlimited, [this](const ParseJob& job) {
          auto parsed = std::make_shared<ParsedChunk>();
          parsed->seq = job.chunk->seq;
          parsed->idle = job.chunk->idle;
          parsed->express_max_ts = job.chunk->express_max_ts;
          parsed->skipped_lines = job.chunk->skipped_lines;
          parse_chunk(*job.chunk, parsers_.local(), parsed->batch->records, parsed->dead_letters,
                      projection(job.chunk->source), spare_fields_[job.chunk->source]);
          parsed->batch->credit = job.credit;
          parsed->batch->ingest_ns = job.chunk->ingest_ns;
          sequencers_[job.chunk->source]->try_put(parsed);
          return flow::continue_msg();
        });
    for (uint32_t s = 0; s < source_count_; ++s) {
      sequencers_.push_back(std::make_unique<flow::sequencer_node<ParsedPtr>>(
          *graph_, [](const ParsedPtr& p) { return static_cast<size_t>(p->seq); }));
      delivers_.push_back(std::make_unique<flow::function_node<ParsedPtr, flow::continue_msg>>(
          *graph_, flow::serial, [this, s](const ParsedPtr& p) {
            deliver(s, *p);
            return flow::continue_msg();
          }));
      flow::make_edge(*sequencers_.back(), *delivers_.back());
    }
  }

  // consumed[port]: something reads that port of node `node`.
  std::vector<bool> consumed_ports(size_t node) const {
    std::vector<bool> consumed;
    for (const auto& port_consumers : runtime_[node]->consumers) {
      consumed.push_back(!port_consumers.empty());
    }
    return consumed;
  }

  // The input fields operator `node` needs, or nullopt for every field: those it reads
  // (Operator::fields_read), or, for a filter or route, those it reads and everything that its
  // consumers need (Operator::fields_read_forwarding). A sink needs every field.
  std::optional<std::vector<FieldId>> fields_needed(size_t node) const {
    const PlanNode& n = plan_.nodes[node];
    if (!n.op) return std::nullopt;
    if (auto read = n.op->fields_read(consumed_ports(node))) return read;
    auto fields = n.op->fields_read_forwarding();
    if (!fields) return std::nullopt;
    for (const auto& port_consumers : runtime_[node]->consumers) {
      for (const Consumer& c : port_consumers) {
        auto more = fields_needed(c.node);
        if (!more) return std::nullopt;
        fields->insert(fields->end(), more->begin(), more->end());
      }
    }
    return fields;
  }

  // Projection pushdown: a source whose consumers all name the fields they need parses only
  // their union (and checks the others, SPEC §1). And room on its records for the fields its
  // consumers add in place (Operator::fields_added).
  void plan_projections() {
    projections_.assign(source_count_, std::nullopt);
    spare_fields_.assign(source_count_, 0);
    for (uint32_t s = 0; s < source_count_; ++s) {
      for (const Consumer& c : runtime_[s]->consumers[0]) {
        if (const Operator* op = plan_.nodes[c.node].op.get()) {
          spare_fields_[s] = std::max(spare_fields_[s], op->fields_added());
        }
      }
      std::vector<FieldId> fields;
      bool all = runtime_[s]->consumers[0].empty();
      for (const Consumer& c : runtime_[s]->consumers[0]) {
        std::optional<std::vector<FieldId>> needed = fields_needed(c.node);
        if (!needed) {
          all = true;
          break;
        }
        fields.insert(fields.end(), needed->begin(), needed->end());
      }
      if (all) continue;
      FieldMask& keep = projections_[s].emplace();
      for (FieldId id : fields) keep.add(id);
      spdlog::info("source `{}`: parses only the {} field(s) its consumers read", plan_.nodes[s].id,
                   keep.count());
    }
  }

  const FieldMask* projection(uint32_t source) const {
    const std::optional<FieldMask>& keep = projections_[source];
    return keep ? &*keep : nullptr;
  }

  // The serial per-source stage: dead letters in line order, then the batch downstream.
  // `express`: the chunk is an express chunk, and its batch's express consumers go there.
  void deliver(uint32_t source, ParsedChunk& parsed, ExpressWork* express = nullptr) {
    std::lock_guard serial(runtime_[source]->serial);
    const std::string& id = plan_.nodes[source].id;
    for (const DeadLetter& d : parsed.dead_letters) {
      record_failure(dead_letters_.write(id, d));
    }
    if (!parsed.dead_letters.empty()) record_failure(dead_letters_.flush());
    dead_letter_count_.fetch_add(parsed.dead_letters.size(), std::memory_order_relaxed);
    NodeRuntime& rt = *runtime_[source];
    rt.dead_letters.fetch_add(parsed.dead_letters.size(), std::memory_order_relaxed);
    rt.skipped_lines.fetch_add(parsed.skipped_lines, std::memory_order_relaxed);
    Batch& batch = *parsed.batch;
    // An express batch overtakes chunks of the source that are still on their way to this
    // point, so its records must not advance the watermark those chunks will carry: it carries
    // none, and the marker behind it, delivered in the source's order, brings its largest ts.
    if (express != nullptr) {
      batch.watermark = kMinTime;
    } else {
      rt.max_ts = std::max(rt.max_ts, parsed.express_max_ts);
      // Each record carries the watermark of the records read before it (SPEC §2).
      const int64_t bound = plan_.settings.time.max_out_of_orderness_ms;
      batch.watermarks.resize(batch.records.size());
      for (size_t i = 0; i < batch.records.size(); ++i) {
        batch.watermarks[i] = rt.max_ts == kMinTime ? kMinTime : rt.max_ts - bound;
        rt.max_ts = std::max(rt.max_ts, batch.records[i].ts);
      }
      if (rt.max_ts != kMinTime) rt.watermark = rt.max_ts - bound;
      batch.watermark = rt.watermark;
    }
    batch.idle = parsed.idle;
    batch.origin = (uint64_t{source} + 1) << 40 | ++rt.delivered;
    rt.published_watermark.store(rt.watermark, std::memory_order_relaxed);
    events_.fetch_add(batch.records.size(), std::memory_order_relaxed);
    send(source, 0, std::move(parsed.batch), express);
  }

  // Express chunks (raw_chunk.h, engine/runtime.h): parsed on the source's reading thread and
  // run at once through every sink and stateless operator they reach, ahead of the bulk batches
  // queued there. Each node runs under its own lock only, never while holding another's, so a
  // blocked sink holds back nothing upstream of it. Nodes with state get express batches in
  // their queue's order. Never while a checkpoint is taken.
  int64_t run_express(std::unique_ptr<RawChunk> chunk) {
    // A checkpoint waiting for the gate goes first (shared_mutex may let readers overtake it).
    checkpoint_pending_.wait(true, std::memory_order_acquire);
    std::shared_lock gate(express_gate_);
    ParsedChunk parsed;
    parsed.skipped_lines = chunk->skipped_lines;
    parse_chunk(*chunk, parsers_.local(), parsed.batch->records, parsed.dead_letters,
                projection(chunk->source), spare_fields_[chunk->source]);
    parsed.batch->credit = queue_.make_credit(*chunk);
    parsed.batch->ingest_ns = chunk->ingest_ns;
    int64_t max_ts = kMinTime;
    for (const Record& r : parsed.batch->records) max_ts = std::max(max_ts, r.ts);
    ExpressWork work;
    runtime_[chunk->source]->express_chunks.fetch_add(1, std::memory_order_relaxed);
    deliver(chunk->source, parsed, &work);
    for (; !work.empty(); work.pop_front()) {
      run_express_at(work.front().first, work.front().second, work);
    }
    return max_ts;
  }

  void run_express_at(size_t i, const Envelope& e, ExpressWork& work) {
    NodeRuntime& rt = *runtime_[i];
    if (!rt.writer) {
      std::lock_guard serial(rt.serial);
      if (plan_.nodes[i].sink) {
        run_sink(i, e);
      } else {
        run_operator(i, e, &work);
      }
      return;
    }
    // A sink that formats in parallel: out of its numbering, straight to its writer.
    std::string& bytes = serial_buffer_.local();
    bytes.clear();
    format_batch(i, e, bytes);
    std::lock_guard serial(rt.serial);
    write_formatted(i, bytes, e.batch->ingest_ns, e.batch->records.size());
  }

  // Sends a batch on a port: skipped when it is empty and carries no watermark progress (unless an
  // InputJoin waits for it).
  // `express`: the batch derives from an express chunk; consumers that run express batches get
  // it there, to run once the sender's lock is released.
  void send(size_t node, size_t port, BatchPtr batch, ExpressWork* express = nullptr) {
    NodeRuntime& rt = *runtime_[node];
    if (batch->records.empty() && batch->watermark <= rt.port_watermark[port] &&
        batch->idle == static_cast<bool>(rt.port_idle[port]) && !rt.port_sends_empty[port]) {
      return;
    }
    rt.port_watermark[port] = std::max(rt.port_watermark[port], batch->watermark);
    rt.port_idle[port] = batch->idle;
    rt.records_out.fetch_add(batch->records.size(), std::memory_order_relaxed);
    rt.port_records_out[port].fetch_add(batch->records.size(), std::memory_order_relaxed);
    for (const Consumer& c : rt.consumers[port]) {
      if (express != nullptr && c.runtime->runs_express) {
        express->emplace_back(c.node, Envelope{batch, c.input, 0});
        continue;
      }
      // Producers number their batches in the order they send them; a parallel sink's sequencer
      // writes them in that order. Each producer is serial, so its own order is kept.
      uint64_t seq = c.runtime->next_seq.fetch_add(1, std::memory_order_relaxed);
      c.runtime->node->try_put(Envelope{batch, c.input, seq});
    }
  }

  class NodeEmitter final : public Emitter {
   public:
    NodeEmitter(Runner& runner, size_t node, int64_t ingest_ns = 0, bool clamp = false,
                ExpressWork* express = nullptr)
        : runner_(runner), node_(node), clamp_(clamp), express_(express) {
      ingest_ns_ = ingest_ns;
    }
    using Emitter::emit;
    void emit(size_t port, BatchPtr batch) override {
      if (clamp_) batch = runner_.with_node_watermark(node_, std::move(batch));
      const size_t records = batch->records.size();
      runner_.send(node_, port, std::move(batch), express_);
      // At end of input (the caller's thread, outside the graph's tasks) an operator may flush
      // millions of records at once, with no source credit to hold it back: let the graph
      // consume every kDrainRecords, so they do not pile up in front of the sinks.
      if (drain_ && (unsent_ += records) >= kDrainRecords) {
        runner_.graph_->wait_for_all();
        unsent_ = 0;
      }
    }
    void drain_as_it_goes() { drain_ = true; }

   private:
    static constexpr size_t kDrainRecords = 32 * 1024;
    Runner& runner_;
    size_t node_;
    bool clamp_;
    ExpressWork* express_;
    bool drain_ = false;
    size_t unsent_ = 0;
  };

  // SPEC §2 for operators with several inputs: what they send carries the minimum of their
  // inputs' watermarks (and is idle only when all inputs are). An operator that forwards a batch
  // of one input (filter, route) would otherwise pass on that input's watermark alone. Copies the
  // batch only in that case.
  BatchPtr with_node_watermark(size_t node, BatchPtr batch) {
    const InputWatermarks& inputs = runtime_[node]->inputs;
    if (inputs.size() < 2) return batch;
    const int64_t combined = inputs.combined();
    const bool marks_above = !batch->watermarks.empty() && batch->watermarks.back() > combined;
    if (batch->watermark <= combined && !marks_above && batch->idle == inputs.all_idle()) {
      return batch;
    }
    auto copy = std::make_shared<Batch>(*batch);
    copy->watermark = std::min(batch->watermark, combined);
    for (int64_t& mark : copy->watermarks) mark = std::min(mark, combined);
    copy->idle = inputs.all_idle();
    return copy;
  }

  void run_operator(size_t i, const Envelope& e, ExpressWork* express = nullptr) {
    NodeRuntime& rt = *runtime_[i];
    rt.records_in.fetch_add(e.batch->records.size(), std::memory_order_relaxed);
    const int64_t begin = steady_now_ns();
    rt.inputs.update(e.input, e.batch->watermark, e.batch->idle);
    NodeEmitter emitter(*this, i, e.batch->ingest_ns, /*clamp=*/true, express);
    if (rt.join) {
      if (BatchPtr merged = rt.join->add(e.input, e.batch)) {
        plan_.nodes[i].op->process(0, merged, emitter);
      }
    } else {
      plan_.nodes[i].op->process(e.input, e.batch, emitter);
    }
    // Includes the hand-off of its outputs to the next nodes (a try_put each): cheap.
    rt.busy_ns.fetch_add(steady_now_ns() - begin, std::memory_order_relaxed);
  }

  // A sink that formats serially (e.g. CSV), or reads its inputs joined: format and write in one
  // serial step.
  void run_sink(size_t i, const Envelope& e) {
    NodeRuntime& rt = *runtime_[i];
    if (rt.join) {
      if (BatchPtr merged = rt.join->add(e.input, e.batch, &rt.joined_inputs)) {
        write_joined(i, *merged, rt.joined_inputs);
      }
      return;
    }
    if (e.batch->records.empty()) return;
    rt.records_in.fetch_add(e.batch->records.size(), std::memory_order_relaxed);
    Sink& sink = *plan_.nodes[i].sink;
    const int64_t begin = steady_now_ns();
    std::string& bytes = serial_buffer_.local();
    bytes.clear();
    sink.format(e.batch->records, rt.input_streams[e.input], bytes);
    record_failure(sink.write(bytes));
    written(rt, begin, e.batch->ingest_ns, e.batch->records.size());
  }

  // Writes a batch a sink's InputJoin merged: each run of records of one input is formatted
  // with that input's stream name. `inputs`: per record, its input.
  void write_joined(size_t i, const Batch& batch, const std::vector<uint32_t>& inputs) {
    NodeRuntime& rt = *runtime_[i];
    const size_t n = batch.records.size();
    if (n == 0) return;
    rt.records_in.fetch_add(n, std::memory_order_relaxed);
    Sink& sink = *plan_.nodes[i].sink;
    const int64_t begin = steady_now_ns();
    std::string& bytes = serial_buffer_.local();
    bytes.clear();
    const std::span<const Record> records(batch.records);
    for (size_t run = 0; run < n;) {
      size_t end = run + 1;
      while (end < n && inputs[end] == inputs[run]) ++end;
      sink.format(records.subspan(run, end - run), rt.input_streams[inputs[run]], bytes);
      run = end;
    }
    record_failure(sink.write(bytes));
    written(rt, begin, batch.ingest_ns, n);
  }

  // A sink wrote `records` records that entered the ingest queue at `ingest_ns`.
  void written(NodeRuntime& rt, int64_t begin_ns, int64_t ingest_ns, size_t records) {
    const int64_t now = steady_now_ns();
    rt.busy_ns.fetch_add(now - begin_ns, std::memory_order_relaxed);
    if (ingest_ns != 0 && records > 0) rt.latency.observe(1e-9 * static_cast<double>(now - ingest_ns), records);
  }

  // A sink that formats in parallel: format here, on any thread; the sequencer restores order
  // and the serial writer appends. Empty batches still pass, to keep the numbering dense.
  void format_for_sink(size_t i, const Envelope& e) {
    NodeRuntime& rt = *runtime_[i];
    auto f = std::make_shared<Formatted>();
    f->seq = e.seq;
    f->credit = e.batch->credit;
    f->records = e.batch->records.size();
    f->ingest_ns = e.batch->ingest_ns;
    f->bytes.reserve(e.batch->records.size() * 256);
    format_batch(i, e, f->bytes);
    rt.sequencer->try_put(f);
  }

  // Formats a batch for sink `i`, counting its records in and the time as busy.
  void format_batch(size_t i, const Envelope& e, std::string& bytes) {
    NodeRuntime& rt = *runtime_[i];
    if (e.batch->records.empty()) return;
    rt.records_in.fetch_add(e.batch->records.size(), std::memory_order_relaxed);
    const int64_t begin = steady_now_ns();
    plan_.nodes[i].sink->format(e.batch->records, rt.input_streams[e.input], bytes);
    rt.busy_ns.fetch_add(steady_now_ns() - begin, std::memory_order_relaxed);
  }

  // The serial end of a parallel-formatting sink. REQUIRES: its `serial` lock is held.
  void write_formatted(size_t i, const std::string& bytes, int64_t ingest_ns, size_t records) {
    if (bytes.empty()) return;
    const int64_t begin = steady_now_ns();
    record_failure(plan_.nodes[i].sink->write(bytes));
    written(*runtime_[i], begin, ingest_ns, records);
  }

  // End of input: operators flush in topological order, each after its inputs flushed.
  void finish_operators() {
    // What end of input releases (windows still open, held records) counts in the sinks'
    // latency from now, when the input was known to have ended.
    const int64_t end_of_input_ns = steady_now_ns();
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      if (!plan_.nodes[i].op) continue;
      NodeEmitter emitter(*this, i, end_of_input_ns);
      emitter.drain_as_it_goes();
      if (runtime_[i]->join) {
        // Never expected: every stream brings a batch for every source batch.
        std::vector<BatchPtr> incomplete = runtime_[i]->join->drain();
        if (!incomplete.empty()) {
          spdlog::warn("operator `{}`: {} batches of its inputs came without the others' at end "
                       "of input", plan_.nodes[i].id, incomplete.size());
        }
        for (const BatchPtr& b : incomplete) plan_.nodes[i].op->process(0, b, emitter);
      }
      plan_.nodes[i].op->finish(emitter);
      graph_->wait_for_all();
    }
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      NodeRuntime& rt = *runtime_[i];
      if (!plan_.nodes[i].sink || !rt.join) continue;
      std::vector<std::vector<uint32_t>> inputs;
      std::vector<BatchPtr> incomplete = rt.join->drain(&inputs);
      if (!incomplete.empty()) {  // never expected, as for operators
        spdlog::warn("sink `{}`: {} batches of its inputs came without the others' at end of input",
                     plan_.nodes[i].id, incomplete.size());
      }
      std::lock_guard serial(rt.serial);
      for (size_t k = 0; k < incomplete.size(); ++k) write_joined(i, *incomplete[k], inputs[k]);
    }
  }

  // The first failure of a sink, the dead-letter file, a checkpoint or the metrics file: logged
  // at once, and the run's result (exit code 1) once it ends.
  void record_failure(const Status& st) {
    if (st.is_ok()) return;
    std::lock_guard lock(error_mutex_);
    if (first_error_.empty()) {
      first_error_ = st.message();
      // A long run (a TCP node) goes on: say so now; main reports the failure again at the end.
      spdlog::error("{} (the run goes on, and will end with exit code 1)", st.message());
    }
  }

  // Idleness (SPEC §2, engine/watermarks.h): with several sources, one that has sent nothing
  // for time.idle_timeout, ended or not, gets an idle marker, so it stops holding back the
  // others.
  struct SourceFeed {
    uint64_t next_seq = 0;
    Clock::time_point last_data = Clock::now();
    bool ended = false;
    bool idle = false;  // an idle marker was sent and no data came since
  };

  // The calling thread: moves chunks from the I/O threads into the graph until all sources end,
  // takes the checkpoints, marks idle sources and prints progress.
  void feed() {
    std::vector<SourceFeed> sources(source_count_);
    uint32_t active = source_count_;
    bool stopping = false;
    const auto progress_every =
        std::chrono::seconds(options_.progress == RunOptions::Progress::kTerminal ? 1 : 10);
    auto next_progress = Clock::now() + progress_every;
    const auto idle_timeout = std::chrono::milliseconds(plan_.settings.time.idle_timeout_ms);
    while (active > 0) {
      std::unique_ptr<RawChunk> chunk;
      if (queue_.pop(chunk, std::chrono::milliseconds(100))) {
        summary_.peak_chunks_in_flight =
            std::max(summary_.peak_chunks_in_flight, queue_.in_flight());
        SourceFeed& source = sources[chunk->source];
        if (chunk->end) {
          // An ended source goes on holding back the others at its last watermark, as a quiet
          // one does, until idle_timeout (below): SPEC §2's end of input is every source's, and
          // two file sources give the same output whichever ends first.
          --active;
          source.ended = true;
          continue;
        }
        source.last_data = Clock::now();
        source.idle = false;
        // Only forward: a resumed log file is re-read from its start for its dates (the log
        // formats' replay), and those chunks end before the position it resumed from.
        if (!chunk->watermark_only && chunk->next_line >= runtime_[chunk->source]->next_line) {
          NodeRuntime& rt = *runtime_[chunk->source];
          rt.next_offset = chunk->end_offset;
          rt.next_line = chunk->next_line;
        }
        hand_over(std::move(chunk), source);
      }
      if (source_count_ > 1) {
        const auto now = Clock::now();
        for (uint32_t s = 0; s < source_count_; ++s) {
          SourceFeed& source = sources[s];
          if (source.idle || now - source.last_data < idle_timeout) continue;
          spdlog::info("source `{}` {}: it no longer holds back the watermark", plan_.nodes[s].id,
                       source.ended ? "has ended and is idle" : "is idle");
          source.idle = true;
          hand_over(idle_marker(s), source);
        }
      }
      if (store_ && !stopping && Clock::now() >= next_checkpoint_) take_checkpoint(false);
      if (!stopping && options_.stop != nullptr && options_.stop->load()) {
        stopping = true;
        summary_.stopped = true;
        spdlog::info("stop requested: finishing the records already read");
        for (uint32_t i = 0; i < source_count_; ++i) plan_.nodes[i].source->request_stop();
      }
      if (options_.progress != RunOptions::Progress::kNone && Clock::now() >= next_progress) {
        next_progress += progress_every;
        print_progress();
      }
    }
  }

  // SPEC §7's memory bound: keyed state per operator, in memory and spilled, and RocksDB's own.
  void render_state_metrics(PrometheusText& text) {
    text.family("licflow_state_memory_limit_bytes", "gauge", "state.memory_limit of the pipeline.");
    text.sample("licflow_state_memory_limit_bytes", {}, plan_.state.memory_limit_bytes);
    auto for_keyed = [&](auto&& fn) {
      for (const PlanNode& n : plan_.nodes) {
        if (n.op && n.op->spill_kind() != nullptr) fn(n, n.op->state_footprint());
      }
    };
    text.family("licflow_operator_state_keys", "gauge",
                "Keys of an operator's keyed state, in memory or spilled to RocksDB.");
    for_keyed([&](const PlanNode& n, const Operator::StateFootprint& f) {
      text.sample("licflow_operator_state_keys", {{"operator", n.id}, {"location", "memory"}},
                  f.hot_keys);
      text.sample("licflow_operator_state_keys", {{"operator", n.id}, {"location", "rocksdb"}},
                  f.keys - f.hot_keys);
    });
    text.family("licflow_operator_state_memory_bytes", "gauge",
                "Estimated memory of an operator's keyed state: keys in memory and the index.");
    for_keyed([&](const PlanNode& n, const Operator::StateFootprint& f) {
      text.sample("licflow_operator_state_memory_bytes", {{"operator", n.id}}, f.memory_bytes);
    });
    text.family("licflow_rocksdb_memory_bytes", "gauge",
                "RocksDB memory: the block cache shared by all stores, and the spill store's "
                "memtables and table readers.");
    text.sample("licflow_rocksdb_memory_bytes", {{"part", "block_cache"}},
                shared_block_cache()->GetUsage());
    if (spill_) text.sample("licflow_rocksdb_memory_bytes", {{"part", "spill"}}, spill_->memory_bytes());
  }

  // GET /metrics: every counter of the running graph in the Prometheus text format. Runs on the
  // HTTP server's thread and reads only atomics.
  std::string render_metrics() {
    PrometheusText text;
    const double now_s = std::chrono::duration<double>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
    auto for_kind = [&](NodeKind kind, auto&& fn) {
      for (size_t i = 0; i < plan_.nodes.size(); ++i) {
        if (plan_.nodes[i].kind == kind) fn(plan_.nodes[i], *runtime_[i]);
      }
    };
    auto busy_s = [](const NodeRuntime& rt) {
      return 1e-9 * static_cast<double>(rt.busy_ns.load(std::memory_order_relaxed));
    };
    text.family("licflow_uptime_seconds", "gauge", "Seconds since the run started.");
    text.sample("licflow_uptime_seconds", {},
                std::chrono::duration<double>(Clock::now() - started_).count());

    text.family("licflow_source_events_total", "counter", "Good events parsed, per source.");
    for_kind(NodeKind::kSource, [&](const PlanNode& n, const NodeRuntime& rt) {
      text.sample("licflow_source_events_total", {{"source", n.id}},
                  rt.records_out.load(std::memory_order_relaxed));
    });
    text.family("licflow_source_dead_letters_total", "counter",
                "Lines that became dead letters, per source.");
    for_kind(NodeKind::kSource, [&](const PlanNode& n, const NodeRuntime& rt) {
      text.sample("licflow_source_dead_letters_total", {{"source", n.id}},
                  rt.dead_letters.load(std::memory_order_relaxed));
    });
    text.family("licflow_source_skipped_lines_total", "counter",
                "Log lines (format flexlm or rlm) that are no license events, per source.");
    for_kind(NodeKind::kSource, [&](const PlanNode& n, const NodeRuntime& rt) {
      text.sample("licflow_source_skipped_lines_total", {{"source", n.id}},
                  rt.skipped_lines.load(std::memory_order_relaxed));
    });
    text.family("licflow_source_express_chunks_total", "counter",
                "Chunks of a live stream that went quiet, run at once ahead of bulk work, per "
                "source (priority lanes).");
    for_kind(NodeKind::kSource, [&](const PlanNode& n, const NodeRuntime& rt) {
      text.sample("licflow_source_express_chunks_total", {{"source", n.id}},
                  rt.express_chunks.load(std::memory_order_relaxed));
    });
    text.family("licflow_source_watermark_seconds", "gauge",
                "Event-time watermark per source, in Unix seconds (absent before any event).");
    for_kind(NodeKind::kSource, [&](const PlanNode& n, const NodeRuntime& rt) {
      const int64_t wm = rt.published_watermark.load(std::memory_order_relaxed);
      if (wm != kMinTime) text.sample("licflow_source_watermark_seconds", {{"source", n.id}}, wm / 1e3);
    });
    text.family("licflow_source_watermark_lag_seconds", "gauge",
                "Wall-clock time minus the source's watermark: how far event time trails now.");
    for_kind(NodeKind::kSource, [&](const PlanNode& n, const NodeRuntime& rt) {
      const int64_t wm = rt.published_watermark.load(std::memory_order_relaxed);
      if (wm != kMinTime) {
        text.sample("licflow_source_watermark_lag_seconds", {{"source", n.id}}, now_s - wm / 1e3);
      }
    });

    text.family("licflow_ingest_chunks_in_flight", "gauge",
                "Input chunks queued or inside the graph (backpressure holds it at most the capacity).");
    text.sample("licflow_ingest_chunks_in_flight", {}, static_cast<uint64_t>(queue_.in_flight()));
    text.family("licflow_ingest_chunks_capacity", "gauge", "The backpressure bound on chunks in flight.");
    text.sample("licflow_ingest_chunks_capacity", {}, static_cast<uint64_t>(queue_.capacity()));

    text.family("licflow_operator_records_in_total", "counter", "Records received, per operator.");
    for_kind(NodeKind::kOperator, [&](const PlanNode& n, const NodeRuntime& rt) {
      text.sample("licflow_operator_records_in_total", {{"operator", n.id}, {"type", n.type}},
                  rt.records_in.load(std::memory_order_relaxed));
    });
    text.family("licflow_operator_records_out_total", "counter",
                "Records emitted, per operator and port.");
    for_kind(NodeKind::kOperator, [&](const PlanNode& n, const NodeRuntime& rt) {
      for (size_t p = 0; p < n.ports().size(); ++p) {
        text.sample("licflow_operator_records_out_total", {{"operator", n.id}, {"port", n.ports()[p]}},
                    rt.port_records_out[p].load(std::memory_order_relaxed));
      }
    });
    text.family("licflow_operator_late_records_total", "counter",
                "Records that arrived behind the operator's watermark.");
    for_kind(NodeKind::kOperator, [&](const PlanNode& n, const NodeRuntime&) {
      text.sample("licflow_operator_late_records_total", {{"operator", n.id}}, n.op->late_records());
    });
    text.family("licflow_operator_dropped_records_total", "counter",
                "Records skipped and counted (lacking a key field, or a value the operator needs).");
    for_kind(NodeKind::kOperator, [&](const PlanNode& n, const NodeRuntime&) {
      text.sample("licflow_operator_dropped_records_total", {{"operator", n.id}}, n.op->dropped());
    });
    text.family("licflow_operator_busy_seconds_total", "counter",
                "Time spent processing batches, per operator.");
    for_kind(NodeKind::kOperator, [&](const PlanNode& n, const NodeRuntime& rt) {
      text.sample("licflow_operator_busy_seconds_total", {{"operator", n.id}}, busy_s(rt));
    });

    render_state_metrics(text);

    text.family("licflow_checkpoints_total", "counter", "Checkpoints taken by this run.");
    text.sample("licflow_checkpoints_total", {}, checkpoints_taken_.load(std::memory_order_relaxed));
    text.family("licflow_checkpoint_last_duration_seconds", "gauge",
                "How long the last checkpoint held the graph (drain, save, synced write).");
    text.sample("licflow_checkpoint_last_duration_seconds", {},
                1e-9 * static_cast<double>(last_checkpoint_ns_.load(std::memory_order_relaxed)));

    text.family("licflow_sink_records_total", "counter", "Records received, per sink.");
    for_kind(NodeKind::kSink, [&](const PlanNode& n, const NodeRuntime& rt) {
      text.sample("licflow_sink_records_total", {{"sink", n.id}, {"type", n.type}},
                  rt.records_in.load(std::memory_order_relaxed));
    });
    text.family("licflow_sink_busy_seconds_total", "counter", "Time spent formatting and writing, per sink.");
    for_kind(NodeKind::kSink, [&](const PlanNode& n, const NodeRuntime& rt) {
      text.sample("licflow_sink_busy_seconds_total", {{"sink", n.id}}, busy_s(rt));
    });
    render_webhook_metrics(text);
    text.family("licflow_sink_latency_seconds", "histogram",
                "Per record: from its input chunk entering the ingest queue to its write by the sink. "
                "Records an operator held (windows, alerts) count from the chunk that released them, "
                "or from the end of input.");
    for_kind(NodeKind::kSink, [&](const PlanNode& n, const NodeRuntime& rt) {
      rt.latency.write(text, "licflow_sink_latency_seconds", {{"sink", n.id}});
    });
    return text.take();
  }

  static std::unique_ptr<RawChunk> idle_marker(uint32_t source) {
    auto marker = std::make_unique<RawChunk>();
    marker->source = source;
    marker->idle = true;
    marker->ingest_ns = steady_now_ns();
    return marker;
  }

  // Numbers a chunk in its source's order and hands it to the parse node.
  void hand_over(std::unique_ptr<RawChunk> chunk, SourceFeed& source) {
    chunk->seq = source.next_seq++;
    if (chunk->idle) source.idle = true;
    // Markers take no credit from the queue, so they give none back.
    std::shared_ptr<void> credit =
        chunk->idle || chunk->watermark_only ? nullptr : queue_.make_credit(*chunk);
    ParseJob job{std::shared_ptr<RawChunk>(std::move(chunk)), std::move(credit)};
    graph_->reserve_wait();  // wait_for_all must also wait for this not-yet-started put
    arena_.enqueue([this, job = std::move(job)] {
      parse_->try_put(job);
      graph_->release_wait();
    });
  }

  // Delivery counters of the webhook sinks (engine/sinks/webhook_sink.h).
  void render_webhook_metrics(PrometheusText& text) const {
    std::vector<std::pair<std::string_view, WebhookStats>> hooks;
    for (const PlanNode& n : plan_.nodes) {
      if (const auto* hook = dynamic_cast<const WebhookSink*>(n.sink.get())) {
        hooks.emplace_back(n.id, hook->stats());
      }
    }
    if (hooks.empty()) return;
    auto family = [&](const char* name, const char* type, const char* help, auto field) {
      text.family(name, type, help);
      for (const auto& [id, stats] : hooks) text.sample(name, {{"sink", id}}, stats.*field);
    };
    family("licflow_webhook_delivered_records_total", "counter",
           "Records the endpoint acknowledged with 2xx.", &WebhookStats::delivered);
    family("licflow_webhook_retries_total", "counter", "Failed POSTs that were tried again.",
           &WebhookStats::retries);
    family("licflow_webhook_dead_lettered_records_total", "counter",
           "Records given up and written to the dead-letter file.", &WebhookStats::dead_lettered);
    family("licflow_webhook_buffered_records", "gauge", "Records waiting or in flight.",
           &WebhookStats::buffered);
  }

  // --metrics-file: the final metrics, written atomically (node_exporter's textfile collector
  // reads such files; benchmarks read latency histograms from it).
  void write_metrics_file() {
    const std::string tmp = options_.metrics_file + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    const std::string text = render_metrics();
    const bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (f != nullptr && std::fclose(f) != 0) record_failure(Status::error("writing " + tmp + " failed"));
    if (!ok || std::rename(tmp.c_str(), options_.metrics_file.c_str()) != 0) {
      record_failure(Status::error("cannot write the metrics file " + options_.metrics_file));
    }
  }

  void print_progress() {
    double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    uint64_t events = events_.load();
    const bool terminal = options_.progress == RunOptions::Progress::kTerminal;
    std::fprintf(stderr, "%s%.0fs  %llu events  %.0f events/s  %llu dead letters  %zu chunks "
                 "in flight%s",
                 terminal ? "\r\033[K" : "licflow: ",
                 seconds, static_cast<unsigned long long>(events),
                 seconds > 0 ? static_cast<double>(events) / seconds : 0.0,
                 static_cast<unsigned long long>(dead_letter_count_.load()), queue_.in_flight(),
                 terminal ? "" : "\n");
    std::fflush(stderr);
  }

  Plan& plan_;
  RunOptions options_;
  IngestQueue queue_;
  DeadLetterWriter dead_letters_;
  tbb::global_control parallelism_;
  tbb::task_arena arena_;
  std::unique_ptr<flow::graph> graph_;
  std::unique_ptr<CheckpointStore> store_;  // set when checkpoints are on
  std::unique_ptr<SpillStore> spill_;       // set when an operator has keyed state
  std::vector<char> joined_;                // per node: reads its inputs through an InputJoin
  uint64_t checkpoint_number_ = 0;
  Clock::time_point next_checkpoint_ = Clock::now();
  std::atomic<uint64_t> checkpoints_taken_{0};
  std::atomic<int64_t> last_checkpoint_ns_{0};
  std::vector<std::unique_ptr<NodeRuntime>> runtime_;
  std::unique_ptr<flow::function_node<ParseJob, flow::continue_msg>> parse_;
  std::vector<std::unique_ptr<flow::sequencer_node<ParsedPtr>>> sequencers_;
  std::vector<std::unique_ptr<flow::function_node<ParsedPtr, flow::continue_msg>>> delivers_;
  tbb::enumerable_thread_specific<EventParser> parsers_;
  tbb::enumerable_thread_specific<std::string> serial_buffer_;
  uint32_t source_count_ = 0;
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> dead_letter_count_{0};
  std::mutex error_mutex_;
  std::vector<std::optional<FieldMask>> projections_;  // per source; none: every field
  std::vector<size_t> spare_fields_;  // per source: Operator::fields_added of its consumers
  // Shared by express chunks running on reading threads; a checkpoint holds it alone.
  std::shared_mutex express_gate_;
  std::atomic<bool> checkpoint_pending_{false};  // a checkpoint waits for, or holds, the gate
  std::string first_error_;
  RunSummary summary_;
  Clock::time_point started_ = Clock::now();
};

}  // namespace

Result<RunSummary> run_plan(Plan& plan, const RunOptions& options) {
  Runner runner(plan, options);
  return runner.run();
}

std::string format_summary(const Plan& plan, const RunSummary& s) {
  uint64_t sink_dead_letters = 0;  // records a webhook gave up
  for (const NodeStats& n : s.nodes) sink_dead_letters += n.dead_lettered;
  std::string out = fmt::format("licflow: `{}` {} in {:.2f} s: {} events ({:.0f} events/s), {} "
                                "dead letters",
                                plan.name, s.stopped ? "stopped" : "finished", s.seconds, s.events,
                                s.seconds > 0 ? static_cast<double>(s.events) / s.seconds : 0.0,
                                s.dead_letters + sink_dead_letters);
  if (sink_dead_letters > 0) {
    out += " (" + std::to_string(s.dead_letters) + " bad lines, " +
           std::to_string(sink_dead_letters) + " records sinks gave up)";
  }
  out += "\n";
  out += fmt::format("  peak memory (RSS) {:.1f} MiB\n",
                     static_cast<double>(s.peak_rss_bytes) / (1 << 20));
  if (s.resumed_from > 0) {
    out += fmt::format("  resumed from checkpoint {} (read and restored in {:.0f} ms)\n",
                       s.resumed_from, 1e3 * s.restore_seconds);
  }
  if (s.checkpoints > 0) {
    out += fmt::format("  {} checkpoints, {:.1f} ms each on average; the last wrote {:.1f} MiB\n",
                       s.checkpoints,
                       1e3 * s.checkpoint_seconds / static_cast<double>(s.checkpoints),
                       static_cast<double>(s.checkpoint_bytes) / (1 << 20));
  }
  bool any_dead_letters = s.dead_letters > 0;
  for (const NodeStats& n : s.nodes) any_dead_letters |= n.dead_lettered > 0;
  if (any_dead_letters) out += "  dead letters written to " + plan.dead_letter_path + "\n";
  for (const NodeStats& n : s.nodes) {
    // A sink sends nothing on: its second column is what left the process (a file's records
    // are written when the run succeeds, a webhook's when its endpoint accepted them).
    const uint64_t second = !n.sink ? n.records_out : n.delivered.value_or(n.records_in);
    const char* what = !n.sink ? "out" : n.delivered ? "delivered" : "written";
    out += fmt::format("  {:<20} {:<14} in {:>12}  {:<9} {:>12}", n.id, n.type, n.records_in, what,
                       second);
    if (n.late > 0) out += "  late " + std::to_string(n.late);
    if (n.dropped > 0) out += "  skipped " + std::to_string(n.dropped);
    if (n.dead_lettered > 0) out += "  dead-lettered " + std::to_string(n.dead_lettered);
    out += "\n";
  }
  return out;
}

}  // namespace licflow
