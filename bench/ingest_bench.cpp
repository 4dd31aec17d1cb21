// End-to-end ingest throughput: parse -> filter -> file sink through the real runtime, at 1 and 2
// worker threads. Input: $LICFLOW_BENCH_INPUT (JSON Lines), else 1M events from `generate`.
// Compare with ../shared/baseline/roofline on the same file: bench/compare_with_roofline.sh.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/plan.h"
#include "engine/chunk_parser.h"
#include "engine/generator.h"
#include "engine/json_writer.h"
#include "engine/runtime.h"

namespace {

using namespace licflow;

struct Input {
  std::string path;
  uint64_t lines = 0;
  uint64_t bytes = 0;
};

const Input& input() {
  static const Input in = [] {
    Input i;
    if (const char* env = std::getenv("LICFLOW_BENCH_INPUT")) {
      i.path = env;
    } else {
      i.path = (std::filesystem::temp_directory_path() / "licflow-bench-events.jsonl").string();
      std::ofstream out(i.path, std::ios::binary);
      GeneratorOptions options;
      options.users = 2000;
      options.days = 14;
      generate_events(options, [&](std::string_view text) { out.write(text.data(), text.size()); });
    }
    std::ifstream in(i.path, std::ios::binary);
    for (std::string line; std::getline(in, line);) {
      ++i.lines;
      i.bytes += line.size() + 1;
    }
    return i;
  }();
  return in;
}

std::unique_ptr<Plan> pipeline(const std::string& where, const std::string& out) {
  Diagnostics diag("bench");
  auto plan = load_pipeline_text(
      "name: bench\n"
      "dead_letter: {path: " + out + ".dead}\n"
      "sources:\n  events: {type: file, path: " + input().path + "}\n"
      "operators:\n  keep: {type: filter, input: events, where: \"" + where + "\"}\n"
      "sinks:\n  out: {type: file, path: " + out + ", input: keep}\n",
      "bench", diag);
  if (!plan) std::abort();
  return plan;
}

// parse -> filter (keeps checkouts, about half) -> file sink.
void BM_ParseFilterFileSink(benchmark::State& state) {
  const Input& in = input();
  std::string out = (std::filesystem::temp_directory_path() / "licflow-bench-out.jsonl").string();
  uint64_t events = 0;
  for (auto _ : state) {
    auto plan = pipeline("type == 'checkout'", out);
    RunOptions options;
    options.threads = static_cast<int>(state.range(0));
    auto result = run_plan(*plan, options);
    if (!result.is_ok()) {
      state.SkipWithError(result.status().message().c_str());
      return;
    }
    events = result.value().events + result.value().dead_letters;
  }
  if (events != in.lines) state.SkipWithError("not every line was read");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * in.lines));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.bytes));
}
BENCHMARK(BM_ParseFilterFileSink)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The parser alone, one thread, in memory, over the file cut into the chunks a source reads:
// the floor under everything above.
void BM_ParseChunks(benchmark::State& state) {
  const Input& in = input();
  std::ifstream file(in.path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<RawChunk> chunks;
  const size_t chunk_bytes = RunOptions().chunk_bytes;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.rfind('\n', std::min(text.size(), pos + chunk_bytes) - 1);
    if (end == std::string::npos || end < pos) end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size() - 1;
    RawChunk& chunk = chunks.emplace_back();
    chunk.bytes.assign(text, pos, end + 1 - pos);
    chunk.size = chunk.bytes.size();
    chunk.bytes.append(kParsePadding, '\0');
    pos = end + 1;
  }
  EventParser parser;
  std::vector<Record> records;
  std::vector<DeadLetter> dead_letters;
  uint64_t good = 0;
  for (auto _ : state) {
    good = 0;
    for (const RawChunk& chunk : chunks) {
      records.clear();
      dead_letters.clear();
      parse_chunk(chunk, parser, records, dead_letters, nullptr);
      good += records.size();
    }
    benchmark::DoNotOptimize(good);
  }
  if (good == 0) state.SkipWithError("nothing parsed");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * in.lines));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.bytes));
}
BENCHMARK(BM_ParseChunks)->Unit(benchmark::kMillisecond);

// Formatting alone, one thread: the parsed records back to the JSON lines a file sink writes.
void BM_FormatRecords(benchmark::State& state) {
  const Input& in = input();
  std::ifstream file(in.path, std::ios::binary);
  RawChunk chunk;
  chunk.bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  chunk.size = chunk.bytes.size();
  chunk.bytes.append(kParsePadding, '\0');
  EventParser parser;
  std::vector<Record> records;
  std::vector<DeadLetter> dead_letters;
  parse_chunk(chunk, parser, records, dead_letters, nullptr);
  constexpr size_t kRecordsPerChunk = 1200;
  std::string out;
  uint64_t bytes = 0;
  for (auto _ : state) {
    // In batches of a 256 KiB chunk's records, into one reused buffer, as a sink formats.
    for (size_t begin = 0; begin < records.size(); begin += kRecordsPerChunk) {
      out.clear();
      const size_t end = std::min(records.size(), begin + kRecordsPerChunk);
      for (size_t i = begin; i < end; ++i) {
        append_record_json(out, records[i], "licenses");
        out += '\n';
      }
      bytes += out.size();
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records.size()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_FormatRecords)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
