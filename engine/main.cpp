// licflow: the command line (SPEC §8). Exit codes: 0 success, 1 run-time failure, 2 bad usage or
// invalid pipeline. CLI11 lives only in this file: it is the heaviest header to compile.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <limits>
#include <thread>

#include "config/duration.h"
#include "config/plan.h"
#include "engine/generator.h"
#include "engine/http_endpoint.h"
#include "engine/query.h"
#include "engine/runtime.h"
#include "engine/time_format.h"

namespace {

using namespace licflow;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::atomic<bool> g_stop{false};

// The first SIGINT or SIGTERM asks for a clean stop (a checkpoint, outputs flushed); the
// default action it then restores makes a second one end the process at once, as `kill -9`
// would, which checkpoints make safe (SPEC §7): for a stop that waits on a long end-of-input
// flush or a dead webhook's retries.
extern "C" void on_stop_signal(int) {
  const int saved_errno = errno;  // of the code the signal interrupted
  g_stop.store(true);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  constexpr char kMessage[] = "licflow: stopping cleanly; a second signal stops at once\n";
  const ssize_t written = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)written;
  errno = saved_errno;
}

std::unique_ptr<Plan> load_or_report(const std::string& path) {
  Diagnostics diag(path);
  auto plan = load_pipeline(path, diag);
  if (!plan) std::cerr << diag.format();
  return plan;
}

int cmd_validate(const std::string& path) {
  auto plan = load_or_report(path);
  if (!plan) return kExitUsage;
  std::cout << describe_plan(*plan) << path << ": ok\n";
  return 0;
}

int cmd_graph(const std::string& path, const std::string& format) {
  auto plan = load_or_report(path);
  if (!plan) return kExitUsage;
  std::cout << (format == "mermaid" ? render_mermaid(*plan) : render_dot(*plan));
  return 0;
}

struct RunArgs {
  std::string pipeline;
  std::string input;
  std::string state;
  std::string http;
  int threads = 0;
  bool reset_state = false;
  std::string metrics_file;
};

int cmd_run(const RunArgs& args) {
  // First: a stop requested while the pipeline loads is a clean stop too, not a kill.
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::string http_host;
  int http_port = 0;
  if (!args.http.empty() && !split_host_port(args.http, http_host, http_port)) {
    std::cerr << "licflow run: --http: expected ADDR:PORT (e.g. 127.0.0.1:9464), got `" << args.http
              << "`\n";
    return kExitUsage;
  }
  auto plan = load_or_report(args.pipeline);
  if (!plan) return kExitUsage;
  if (!args.state.empty()) {
    if (!plan->dead_letter_configured) plan->dead_letter_path = args.state + "/dead_letter.jsonl";
    plan->state.dir = args.state;
  }
  if (!args.input.empty()) {
    // SPEC §3: --input replaces the first source; dead letters keep that source's id.
    PlanNode& first = plan->nodes.front();
    first.source = make_file_source(first.id, args.input, first.source->format());
    first.type = args.input == "-" ? "stdin" : "file";
  }
  RunOptions options;
  options.threads = args.threads > 0 ? args.threads
                                      : static_cast<int>(std::thread::hardware_concurrency());
  options.progress = ::isatty(STDERR_FILENO) != 0 ? RunOptions::Progress::kTerminal
                                                   : RunOptions::Progress::kLines;
  options.stop = &g_stop;
  options.http_address = args.http;
  // SPEC §7: checkpoints when the pipeline has a `state:` section or --state names a directory.
  options.checkpoints = plan->state.configured || !args.state.empty();
  options.reset_state = args.reset_state;
  options.metrics_file = args.metrics_file;
  options.on_http_ready = [&](int port) {
    // An IPv6 address is bracketed in a URL.
    const bool v6 = http_host.find(':') != std::string::npos;
    std::cerr << "licflow: serving /metrics and /healthz on http://" << (v6 ? "[" : "")
              << http_host << (v6 ? "]" : "") << ":" << port
              << "\n";
  };
  auto result = run_plan(*plan, options);
  if (!result.is_ok()) {
    std::cerr << "licflow: error: " << result.status().message() << "\n";
    return kExitFailure;
  }
  if (result.value().already_finished) {
    std::cerr << "licflow: the state in " << plan->state.dir << " is of a run that reached the "
              << "end of its input (checkpoint " << result.value().resumed_from
              << "); nothing to do (--reset-state starts over)\n";
    return 0;
  }
  std::cerr << format_summary(*plan, result.value());
  return 0;
}

int cmd_generate(GeneratorOptions options, const std::string& start, const std::string& disorder) {
  if (!start.empty()) {
    auto ms = parse_rfc3339(start);
    if (!ms) ms = parse_rfc3339(start + "T00:00:00Z");
    if (!ms) {
      std::cerr << "licflow generate: --start: expected an RFC 3339 time or a date, got `"
                << start << "`\n";
      return kExitUsage;
    }
    options.start_ms = *ms;
  }
  if (!disorder.empty()) {
    std::string why;
    auto ms = parse_duration(disorder, &why);
    if (!ms) {
      std::cerr << "licflow generate: --out-of-order: " << why << "\n";
      return kExitUsage;
    }
    options.out_of_order_ms = *ms;
  }
  std::ios::sync_with_stdio(false);
  bool ok = true;
  generate_events(options, [&](std::string_view text) {
    if (ok && std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) ok = false;
  });
  if (std::fflush(stdout) != 0) ok = false;
  if (!ok) {
    std::cerr << "licflow generate: write to standard output failed\n";
    return kExitFailure;
  }
  return 0;
}

struct QueryArgs {
  QueryOptions options;
  std::vector<std::string> keys;
  std::string from, to, format = "jsonl";
  int64_t limit = -1;
};

int cmd_query(QueryArgs args) {
  for (const std::string& k : args.keys) {
    auto key = parse_query_key(k);
    if (!key) {
      std::cerr << "licflow query: --key: expected FIELD=VALUE, got `" << k << "`\n";
      return kExitUsage;
    }
    args.options.keys.push_back(std::move(*key));
  }
  auto parse_time = [](const char* flag, const std::string& text, int64_t& ms) {
    if (text.empty()) return true;
    auto parsed = parse_query_time(text);
    if (!parsed) {
      std::cerr << "licflow query: " << flag << ": expected RFC 3339, a date or ms since the epoch, got `"
                << text << "`\n";
      return false;
    }
    ms = *parsed;
    return true;
  };
  if (!parse_time("--from", args.from, args.options.from) ||
      !parse_time("--to", args.to, args.options.to)) {
    return kExitUsage;
  }
  args.options.format = args.format == "csv"     ? QueryFormat::kCsv
                        : args.format == "table" ? QueryFormat::kTable
                                                 : QueryFormat::kJsonl;
  if (args.limit >= 0) args.options.limit = static_cast<uint64_t>(args.limit);
  std::string out;
  Status status = run_query(args.options, out);
  if (!status.is_ok()) {
    std::cerr << "licflow query: error: " << status.message() << "\n";
    return kExitFailure;
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::cerr << "licflow query: write to standard output failed\n";
    return kExitFailure;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("licflow");
  logger->set_pattern("licflow: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::warn);

  CLI::App app{"licflow: a stream-processing engine for software-license events"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "log what the engine does");

  RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "run a pipeline until its input ends or SIGINT/SIGTERM");
  run->add_option("pipeline", run_args.pipeline, "pipeline YAML file")->required();
  run->add_option("--input", run_args.input, "replace the first source by this file (- = stdin)");
  run->add_option("--state", run_args.state, "state directory (overrides state.dir)");
  run->add_option("--threads", run_args.threads, "worker threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  run->add_option("--http", run_args.http, "serve /metrics and /healthz on ADDR:PORT");
  run->add_option("--metrics-file", run_args.metrics_file,
                  "at the end, write the final metrics there (Prometheus text format)");
  run->add_flag("--reset-state", run_args.reset_state,
                "forget the checkpoints in the state directory and start over");

  std::string validate_path;
  CLI::App* validate = app.add_subcommand("validate", "check a pipeline and print its graph");
  validate->add_option("pipeline", validate_path, "pipeline YAML file")->required();

  std::string graph_path, graph_format = "dot";
  CLI::App* graph = app.add_subcommand("graph", "draw a pipeline's graph");
  graph->add_option("pipeline", graph_path, "pipeline YAML file")->required();
  graph->add_option("--format", graph_format, "dot or mermaid")
      ->check(CLI::IsMember({"dot", "mermaid"}));

  GeneratorOptions gen;
  std::string gen_start, gen_disorder;
  CLI::App* generate = app.add_subcommand("generate", "write realistic synthetic events");
  generate->add_option("--seed", gen.seed, "random seed")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            uint64_t seed = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
            const bool whole = ec == std::errc() && end == text.data() + text.size();
            return whole ? "" : "expected an integer from 0 to 18446744073709551615, got " + text;
          },
          "UINT64"));
  generate->add_option("--users", gen.users, "number of users")->check(CLI::Range(1, 10'000'000));
  generate->add_option("--features", gen.features, "number of features")
      ->check(CLI::Range(1, 100'000));
  generate->add_option("--servers", gen.servers, "number of license servers")
      ->check(CLI::Range(1, 10'000));
  generate->add_option("--days", gen.days, "days of events")->check(CLI::Range(1, 3660));
  generate->add_option("--start", gen_start, "first day, RFC 3339 or YYYY-MM-DD");
  generate->add_option("--out-of-order", gen_disorder, "largest event-time disorder, e.g. 5s");
  generate->add_flag("--faults", gen.faults, "mix in bad lines of every kind");

  QueryArgs query_args;
  CLI::App* query = app.add_subcommand("query", "read what history sinks stored");
  query->add_option("--state", query_args.options.state_dir, "state directory")->required();
  query->add_option("--stream", query_args.options.stream, "stream name (id or id.port)")
      ->required();
  query->add_option("--key", query_args.keys, "FIELD=VALUE filter (repeatable)");
  query->add_option("--from", query_args.from, "from this time on (RFC 3339 or ms)");
  query->add_option("--to", query_args.to, "before this time (RFC 3339 or ms)");
  query->add_option("--format", query_args.format, "jsonl, csv or table")
      ->check(CLI::IsMember({"jsonl", "csv", "table"}));
  query->add_option("--limit", query_args.limit, "at most N records")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  if (verbose) spdlog::set_level(spdlog::level::info);

  if (*run) return cmd_run(run_args);
  if (*validate) return cmd_validate(validate_path);
  if (*graph) return cmd_graph(graph_path, graph_format);
  if (*generate) return cmd_generate(gen, gen_start, gen_disorder);
  if (*query) return cmd_query(std::move(query_args));
  return kExitUsage;
}
