// `window` timers: a key whose gauge value is non-zero gets a carried-only window every slide
// (SPEC §5), so one record followed by a watermark jump fires many windows at once — a license
// held all week under 1-minute windows, or a source back after an outage. The time per window
// must stay flat as the jump grows (it once grew with it: each window dropped erased from the
// front of all those not yet dropped).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/plan.h"
#include "engine/runtime.h"

namespace {

using namespace licflow;

// One key with a gauge value at 0, then a keyless record `windows` seconds later: that many
// carried-only 1 s windows fire when the watermark jumps.
void BM_CarriedWindows(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string in = (dir / "licflow-bench-carried.jsonl").string();
  const std::string out = (dir / "licflow-bench-carried-out.jsonl").string();
  const int64_t windows = state.range(0);
  {
    std::ofstream file(in, std::ios::binary);
    file << "{\"ts\":0,\"type\":\"metric\",\"k\":\"a\",\"v\":1}\n"
         << "{\"ts\":" << windows * 1000 << ",\"type\":\"metric\",\"v\":1}\n";
  }
  for (auto _ : state) {
    Diagnostics diag("bench");
    auto plan = load_pipeline_text(
        "name: bench\n"
        "sources:\n  events: {type: file, path: " + in + "}\n"
        "operators:\n"
        "  w: {type: window, input: events, key: [k], size: 1s, aggregates: {g: gauge_avg(v)}}\n"
        "sinks:\n  out: {type: file, path: " + out + ", input: w}\n",
        "bench", diag);
    if (!plan) std::abort();
    auto result = run_plan(*plan, RunOptions{});
    if (!result.is_ok()) {
      state.SkipWithError(result.status().message().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * windows);
}
BENCHMARK(BM_CarriedWindows)->ArgName("windows")->Arg(10'000)->Arg(100'000)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
