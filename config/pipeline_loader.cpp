// Pipeline loading: SPEC §3. YAML -> validated Plan, every problem reported as
// FILE:LINE:COL: error: MESSAGE (all of them, not just the first).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "config/duration.h"
#include "config/plan.h"
#include "config/suggest.h"
#include "operators/registry.h"

namespace licflow {
namespace {

const std::vector<std::string> kTopLevelKeys = {"name",     "time",    "state",     "dead_letter",
                                                "features", "sources", "operators", "sinks"};

std::string quoted(const std::string& s) { return "`" + s + "`"; }

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string hint = nearest(word, candidates);
  return hint.empty() ? "" : " (did you mean " + quoted(hint) + "?)";
}

// yaml-cpp keeps the first of duplicate keys silently; a user almost never means that.
void check_duplicate_keys(const YAML::Node& node, Diagnostics& diag) {
  if (node.IsMap()) {
    std::map<std::string, int> seen;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (key.IsScalar()) {
        auto [it, inserted] = seen.emplace(key.Scalar(), key.Mark().line + 1);
        if (!inserted) {
          diag.error(key.Mark(), "duplicate key " + quoted(key.Scalar()) + " (first at line " +
                                     std::to_string(it->second) + ")");
        }
      }
      check_duplicate_keys(entry.second, diag);
    }
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) check_duplicate_keys(item, diag);
  }
}

// YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`), which yaml-cpp reads as an ordinary key:
// the merged mappings' keys join the mapping unless it has them (YAML 1.1 merge: its own keys
// win, then the first listed mapping's). Values keep the marks of where they were written; keys
// are new nodes (yaml-cpp finds a key inserted as a node only by identity), without one.
void merge_keys(YAML::Node node) {
  if (node.IsSequence()) {
    for (YAML::Node item : node) merge_keys(item);
    return;
  }
  if (!node.IsMap()) return;
  for (auto entry : node) merge_keys(entry.second);
  const YAML::Node merge = node["<<"];
  if (!merge || !(merge.IsMap() || merge.IsSequence())) return;
  std::vector<YAML::Node> sources;
  if (merge.IsMap()) {
    sources.push_back(merge);
  } else {
    for (YAML::Node item : merge) {
      if (!item.IsMap()) return;  // not a merge: left for check_keys to report
      sources.push_back(item);
    }
  }
  node.remove("<<");
  for (const YAML::Node& source : sources) {
    for (auto entry : source) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      if (!key.empty() && !node[key]) node[key] = entry.second;
    }
  }
}

// Where a mapping's key is written. A key a merge (`<<`) brought has no mark of its own: its
// value's tells where it is.
template <typename Entry>
YAML::Mark key_mark(const Entry& entry) {
  return entry.first.Mark().is_null() ? entry.second.Mark() : entry.first.Mark();
}

void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                const std::string& where, Diagnostics& diag) {
  for (const auto& entry : map) {
    const std::string& key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string hint = nearest(key, allowed);
    diag.error(key_mark(entry),
               "unknown key " + quoted(key) + " in " + where +
                   (hint.empty() ? "" : " (did you mean " + quoted(hint) + "?)") +
                   "; valid keys: " + join(allowed));
  }
}

std::optional<uint64_t> parse_size(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 15) return std::nullopt;
  uint64_t n = std::stoull(text.substr(0, i));
  std::string unit = text.substr(i);
  static const std::map<std::string, uint64_t> kUnits = {
      {"", 1},           {"B", 1},          {"KB", 1000},       {"MB", 1000 * 1000},
      {"GB", 1000000000}, {"KiB", 1 << 10}, {"MiB", 1 << 20},   {"GiB", 1ull << 30}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) return std::nullopt;
  return n * it->second;
}

// A map-valued top-level section, or an undefined node after reporting a wrong shape.
YAML::Node section(const YAML::Node& root, const char* key, Diagnostics& diag) {
  YAML::Node node = root[key];
  if (!node.IsDefined() || node.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
  if (!node.IsMap()) {
    diag.error(node.Mark(), quoted(key) + " must be a mapping");
    return YAML::Node(YAML::NodeType::Undefined);
  }
  return node;
}

// `map[key]` as a file path (a non-empty string); nullopt when absent or wrong (reported).
std::optional<std::string> read_path(const YAML::Node& map, const char* key, const char* where,
                                     Diagnostics& diag) {
  YAML::Node v = map[key];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  if (!v.IsScalar() || v.Scalar().empty()) {
    diag.error(v.Mark(), std::string("`") + where + "." + key + "` must be a path (a non-empty string)");
    return std::nullopt;
  }
  return v.Scalar();
}

std::optional<int64_t> read_duration(const YAML::Node& map, const char* key, const char* where,
                                     Diagnostics& diag) {
  YAML::Node v = map[key];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  std::string why;
  std::optional<int64_t> ms;
  if (v.IsScalar()) ms = parse_duration(v.Scalar(), &why);
  if (!ms) {
    diag.error(v.Mark(), std::string("bad duration ") + quoted(v.IsScalar() ? v.Scalar() : "?") +
                             " for `" + where + "." + key + "`: " +
                             (why.empty() ? "expected a duration" : why) +
                             " (write e.g. 250ms, 5s, 15m, 1h30m)");
  }
  return ms;
}

void load_settings(const YAML::Node& root, Plan& plan, Diagnostics& diag) {
  YAML::Node name = root["name"];
  if (!name.IsDefined() || name.IsNull()) {
    diag.error(root.Mark(), "missing required key `name`");
  } else if (!name.IsScalar()) {
    diag.error(name.Mark(), "`name` must be a string");
  } else {
    plan.name = name.Scalar();
  }

  if (YAML::Node time = section(root, "time", diag)) {
    check_keys(time, {"max_out_of_orderness", "allowed_lateness", "idle_timeout"}, "`time`", diag);
    if (auto ms = read_duration(time, "max_out_of_orderness", "time", diag)) {
      plan.settings.time.max_out_of_orderness_ms = *ms;
    }
    if (auto ms = read_duration(time, "allowed_lateness", "time", diag)) {
      plan.settings.time.allowed_lateness_ms = *ms;
    }
    if (auto ms = read_duration(time, "idle_timeout", "time", diag)) {
      if (*ms > 0) {
        plan.settings.time.idle_timeout_ms = *ms;
      } else {
        diag.error(time["idle_timeout"].Mark(), "`time.idle_timeout` must be longer than 0s");
      }
    }
  }

  if (YAML::Node state = section(root, "state", diag)) {
    check_keys(state, {"dir", "checkpoint_interval", "memory_limit"}, "`state`", diag);
    plan.state.configured = true;
    if (auto dir = read_path(state, "dir", "state", diag)) plan.state.dir = *dir;
    if (auto ms = read_duration(state, "checkpoint_interval", "state", diag)) {
      if (*ms > 0) {
        plan.state.checkpoint_interval_ms = *ms;
      } else {
        diag.error(state["checkpoint_interval"].Mark(),
                   "`state.checkpoint_interval` must be longer than 0s");
      }
    }
    YAML::Node limit = state["memory_limit"];
    if (limit.IsDefined() && !limit.IsNull()) {
      auto bytes = limit.IsScalar() ? parse_size(limit.Scalar()) : std::nullopt;
      if (bytes) {
        plan.state.memory_limit_bytes = *bytes;
      } else {
        diag.error(limit.Mark(), "bad size for `state.memory_limit` (write e.g. 512MiB, 2GiB)");
      }
    }
  }

  plan.dead_letter_path = plan.state.dir + "/dead_letter.jsonl";
  if (YAML::Node dead = section(root, "dead_letter", diag)) {
    check_keys(dead, {"path"}, "`dead_letter`", diag);
    if (auto path = read_path(dead, "path", "dead_letter", diag)) {
      plan.dead_letter_path = *path;
      plan.dead_letter_configured = true;
    }
  }

  if (YAML::Node features = section(root, "features", diag)) {
    for (const auto& entry : features) {
      const std::string& feature = entry.first.Scalar();
      const YAML::Node& spec = entry.second;
      FeatureInfo info;
      if (!spec.IsMap()) {
        // A null value (`name:` and nothing) has the mark of the token after it: point at the key.
        diag.error(spec.IsNull() ? key_mark(entry) : spec.Mark(),
                   "feature " + quoted(feature) + " must be a mapping");
        continue;
      }
      check_keys(spec, {"capacity", "cost", "dup_group"}, "feature " + quoted(feature), diag);
      if (YAML::Node cap = spec["capacity"]; cap.IsDefined() && !cap.IsNull()) {
        try {
          info.capacity = cap.as<int64_t>();
          if (*info.capacity < 0) throw YAML::Exception(cap.Mark(), "negative");
        } catch (const YAML::Exception&) {
          diag.error(cap.Mark(), "capacity of feature " + quoted(feature) +
                                     " must be an integer >= 0");
        }
      }
      if (YAML::Node dup = spec["dup_group"]; dup.IsDefined() && !dup.IsNull()) {
        std::string g = dup.IsScalar() ? dup.Scalar() : "";
        if (g == "user" || g == "host" || g == "user_host") {
          info.dup_group = g;
        } else {
          diag.error(dup.Mark(), "dup_group of feature " + quoted(feature) +
                                     " must be user, host or user_host");
        }
      }
      // Assigning a missing key's zombie node would throw; keep cost undefined instead. The
      // document's own node, not a YAML::Clone (which drops marks): the cost operator reports
      // problems in it at their line and column.
      if (YAML::Node cost = spec["cost"]; cost.IsDefined()) info.cost = cost;
      plan.settings.features[feature] = info;
    }
  }
}

struct InputRef {
  std::string text;
  YAML::Mark mark;
};

// A node as declared, before ordering.
struct Declared {
  PlanNode node;
  YAML::Mark mark;
  std::vector<InputRef> refs;
};

template <typename Type>
std::vector<std::string> type_names(const std::vector<Type>& types) {
  std::vector<std::string> names;
  for (const Type& t : types) names.emplace_back(t.name);
  return names;
}

void declare_section(const YAML::Node& root, const char* section_name, NodeKind kind, Plan& plan,
                     std::vector<Declared>& out, std::set<std::string>& ids, Diagnostics& diag) {
  YAML::Node nodes = section(root, section_name, diag);
  if (!nodes) {
    if (kind == NodeKind::kSource) diag.error(root.Mark(), "a pipeline needs `sources`");
    return;
  }
  // An empty `sources: {}` would give a run that reads nothing and `--input` nothing to replace.
  if (kind == NodeKind::kSource && nodes.size() == 0) {
    diag.error(nodes.Mark(), "a pipeline needs at least one source");
    return;
  }
  const char* noun = kind == NodeKind::kSource     ? "source"
                     : kind == NodeKind::kOperator ? "operator"
                                                   : "sink";
  std::set<std::string> in_section;  // a key twice in one section is reported as a duplicate key
  for (const auto& entry : nodes) {
    Declared d;
    d.node.id = entry.first.Scalar();
    d.node.kind = kind;
    d.mark = key_mark(entry);
    d.node.line = d.mark.line + 1;
    const YAML::Node& spec = entry.second;
    if (d.node.id.empty() || d.node.id.find('.') != std::string::npos) {
      diag.error(d.mark, "bad id " + quoted(d.node.id) + ": ids must be non-empty, without '.'");
    } else if (!ids.insert(d.node.id).second && in_section.count(d.node.id) == 0) {
      diag.error(d.mark, "duplicate id " + quoted(d.node.id) +
                             ": sources, operators and sinks share one namespace");
    }
    in_section.insert(d.node.id);
    if (!spec.IsMap()) {
      diag.error(spec.IsNull() ? d.mark : spec.Mark(),  // null: its mark is the next token's
                 std::string(noun) + " " + quoted(d.node.id) + " must be a mapping");
      continue;
    }
    YAML::Node type = spec["type"];
    if (!type.IsDefined() || !type.IsScalar()) {
      diag.error(d.mark, std::string(noun) + " " + quoted(d.node.id) + " needs a `type`");
      continue;
    }
    d.node.type = type.Scalar();
    d.node.config_text = YAML::Dump(spec);

    std::vector<std::string> keys = {"type"};
    if (kind != NodeKind::kSource) keys.push_back("input");
    std::vector<std::string> valid;
    NodeConfig config(d.node.id, spec, diag, plan.settings);
    bool known = false;
    // Unknown keys are checked after the node is built: reported first, they would make it
    // fail (a node with problems is not built), and its ports go unchecked with it.
    auto make_with = [&](const auto* t) {
      if (t == nullptr) return;
      known = true;
      keys.insert(keys.end(), t->keys.begin(), t->keys.end());
    };
    if (kind == NodeKind::kSource) {
      valid = type_names(source_types());
      const SourceType* t = find_source_type(d.node.type);
      make_with(t);
      if (t) d.node.source = t->make(config);
    } else if (kind == NodeKind::kOperator) {
      valid = type_names(operator_types());
      const OperatorType* t = find_operator_type(d.node.type);
      make_with(t);
      if (t) d.node.op = t->make(config);
    } else {
      valid = type_names(sink_types());
      const SinkType* t = find_sink_type(d.node.type);
      make_with(t);
      if (t) d.node.sink = t->make(config);
    }
    if (known) {
      check_keys(spec, keys, std::string(noun) + " " + quoted(d.node.id), diag);
    } else {
      diag.error(type.Mark(), "unknown " + std::string(noun) + " type " + quoted(d.node.type) +
                                  did_you_mean(d.node.type, valid) + "; valid: " + join(valid));
    }

    if (kind != NodeKind::kSource) {
      YAML::Node input = spec["input"];
      if (!input.IsDefined() || input.IsNull()) {
        diag.error(d.mark, std::string(noun) + " " + quoted(d.node.id) + " needs an `input`");
      } else if (input.IsScalar()) {
        d.refs.push_back({input.Scalar(), input.Mark()});
      } else if (input.IsSequence() && input.size() > 0) {
        for (const YAML::Node& item : input) {
          if (item.IsScalar()) {
            d.refs.push_back({item.Scalar(), item.Mark()});
          } else {
            diag.error(item.Mark(), "`input` must list stream names");
          }
        }
      } else {
        diag.error(input.Mark(), "`input` must be a stream name or a list of them");
      }
    }
    out.push_back(std::move(d));
  }
}

// Resolves `id` / `id.port` references into (node, port) pairs over `declared` indices.
// `ids`: every id of the file, also those of nodes too broken to declare (no `type`, not a
// mapping), whose problem is reported: a reference to one is not an unknown input besides.
void resolve_inputs(std::vector<Declared>& declared, const std::set<std::string>& ids,
                    Diagnostics& diag) {
  std::map<std::string, size_t> index;
  std::vector<std::string> producer_ids;
  for (size_t i = 0; i < declared.size(); ++i) {
    index.emplace(declared[i].node.id, i);
    if (declared[i].node.kind != NodeKind::kSink) producer_ids.push_back(declared[i].node.id);
  }
  for (Declared& d : declared) {
    for (const InputRef& ref : d.refs) {
      size_t dot = ref.text.find('.');
      std::string id = ref.text.substr(0, dot);
      std::string port = dot == std::string::npos ? "out" : ref.text.substr(dot + 1);
      auto it = index.find(id);
      if (it == index.end()) {
        if (ids.count(id) != 0) continue;
        std::vector<std::string> others = producer_ids;  // a node is never its own input
        others.erase(std::remove(others.begin(), others.end(), d.node.id), others.end());
        const std::string hint = closest(id, others);
        diag.error(ref.mark, "unknown input " + quoted(ref.text) + " of " + quoted(d.node.id) +
                                 (hint.empty() ? "" : " (did you mean " + quoted(hint) + "?)"));
        continue;
      }
      const PlanNode& producer = declared[it->second].node;
      if (producer.kind == NodeKind::kSink) {
        diag.error(ref.mark, "input " + quoted(ref.text) + " of " + quoted(d.node.id) +
                                 " is a sink; sinks produce no stream");
        continue;
      }
      if (producer.kind == NodeKind::kOperator && !producer.op) {
        // Its problems are reported and the plan will not be built, but the edge still counts
        // in the search for cycles, so that every problem is reported.
        d.node.inputs.push_back({it->second, 0});
        continue;
      }
      const std::vector<std::string>& ports = producer.ports();
      auto p = std::find(ports.begin(), ports.end(), port);
      if (p == ports.end()) {
        std::string message =
            dot == std::string::npos
                ? quoted(id) + " has no `out` port; name one of its ports: " +
                      join(ports, ", ")
                : "unknown port " + quoted(port) + " of " + quoted(id) +
                      did_you_mean(port, ports) + "; ports: " + join(ports);
        diag.error(ref.mark, "input " + quoted(ref.text) + " of " + quoted(d.node.id) + ": " +
                                 message);
        continue;
      }
      d.node.inputs.push_back({it->second, static_cast<size_t>(p - ports.begin())});
    }
  }
}

// Reports each cycle once, naming it `a -> b -> a`. Returns true when there is none.
bool check_acyclic(const std::vector<Declared>& declared, Diagnostics& diag) {
  enum class Color { kWhite, kGrey, kBlack };
  std::vector<Color> color(declared.size(), Color::kWhite);
  std::vector<size_t> path;
  bool ok = true;
  // Edges point from a node to its inputs; a cycle is a cycle either way.
  std::function<void(size_t)> visit = [&](size_t n) {
    color[n] = Color::kGrey;
    path.push_back(n);
    for (const StreamId& in : declared[n].node.inputs) {
      if (color[in.node] == Color::kGrey) {
        auto start = std::find(path.begin(), path.end(), in.node);
        // `path` walks from consumers to their inputs; print it in data-flow order.
        std::vector<size_t> members(start, path.end());
        std::reverse(members.begin(), members.end());
        // Start at the member declared first, so the message does not depend on DFS order.
        std::rotate(members.begin(), std::min_element(members.begin(), members.end()),
                    members.end());
        std::vector<std::string> cycle;
        for (size_t m : members) cycle.push_back(declared[m].node.id);
        cycle.push_back(cycle.front());
        diag.error(declared[members.front()].mark, "cycle: " + join(cycle, " -> ") +
                                                       " (the graph must be a DAG)");
        ok = false;
      } else if (color[in.node] == Color::kWhite) {
        visit(in.node);
      }
    }
    path.pop_back();
    color[n] = Color::kBlack;
  };
  for (size_t i = 0; i < declared.size(); ++i) {
    if (color[i] == Color::kWhite) visit(i);
  }
  return ok;
}

}  // namespace

const std::vector<std::string>& PlanNode::ports() const {
  static const std::vector<std::string> kOut = {"out"};
  static const std::vector<std::string> kNone;
  if (kind == NodeKind::kOperator && op) return op->ports();
  return kind == NodeKind::kSink ? kNone : kOut;
}

std::string Plan::stream_name(StreamId s) const {
  const PlanNode& n = nodes[s.node];
  const std::string& port = n.ports()[s.port];
  return port == "out" ? n.id : n.id + "." + port;
}

namespace {

// yaml-cpp 0.7 takes a quoted scalar that is never closed to run to the end of the file, and
// the pipeline then fails for some later reason (or not at all): find such a scalar.
std::optional<YAML::Mark> unterminated_quote(const YAML::Node& node, const std::string& text) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      if (auto mark = unterminated_quote(entry.first, text)) return mark;
      if (auto mark = unterminated_quote(entry.second, text)) return mark;
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      if (auto mark = unterminated_quote(item, text)) return mark;
    }
  } else if (node.IsScalar() && node.Mark().pos >= 0 &&
             static_cast<size_t>(node.Mark().pos) < text.size()) {
    const size_t start = static_cast<size_t>(node.Mark().pos);
    const char quote = text[start];
    if (quote != '"' && quote != '\'') return std::nullopt;
    for (size_t i = start + 1; i < text.size(); ++i) {
      if (quote == '"' && text[i] == '\\') {
        ++i;
      } else if (text[i] == quote) {
        if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          ++i;
        } else {
          return std::nullopt;
        }
      }
    }
    return node.Mark();
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Plan> load_pipeline_text(const std::string& text, const std::string& file,
                                         Diagnostics& diag) {
  // yaml-cpp skips a UTF-8 byte-order mark without counting it in its marks' positions, which
  // index `text` (expression columns): it goes first.
  const std::string_view kBom = "\xEF\xBB\xBF";
  const std::string unmarked(text.compare(0, kBom.size(), kBom) == 0 ? text.substr(kBom.size())
                                                                     : text);
  diag.set_source(unmarked);
  YAML::Node root;
  try {
    root = YAML::Load(unmarked);
  } catch (const YAML::Exception& e) {
    diag.error(e.mark, "invalid YAML: " + e.msg);
    return nullptr;
  }
  if (auto open = unterminated_quote(root, unmarked)) {
    diag.error(*open, "invalid YAML: a quoted string is not closed before the end of the file");
    return nullptr;
  }
  if (!root.IsMap()) {
    diag.error(1, 1, "a pipeline file must be a YAML mapping with `name`, `sources`, ...");
    return nullptr;
  }
  check_duplicate_keys(root, diag);
  merge_keys(root);
  check_keys(root, kTopLevelKeys, "the pipeline", diag);

  auto plan = std::make_unique<Plan>();
  load_settings(root, *plan, diag);

  std::vector<Declared> declared;
  std::set<std::string> ids;
  declare_section(root, "sources", NodeKind::kSource, *plan, declared, ids, diag);
  declare_section(root, "operators", NodeKind::kOperator, *plan, declared, ids, diag);
  declare_section(root, "sinks", NodeKind::kSink, *plan, declared, ids, diag);
  if (std::none_of(declared.begin(), declared.end(),
                   [](const Declared& d) { return d.node.type == "cost"; })) {
    check_feature_costs(plan->settings, diag);  // else the cost operator checks them
  }
  resolve_inputs(declared, ids, diag);
  bool acyclic = check_acyclic(declared, diag);
  if (!diag.empty() || !acyclic) return nullptr;

  // Kahn's algorithm, keeping declaration order among ready nodes; sources come first and sinks
  // last because neither can feed an operator that feeds them.
  std::vector<size_t> order;
  std::vector<bool> placed(declared.size(), false);
  while (order.size() < declared.size()) {
    for (size_t i = 0; i < declared.size(); ++i) {
      if (placed[i]) continue;
      bool ready = std::all_of(declared[i].node.inputs.begin(), declared[i].node.inputs.end(),
                               [&](const StreamId& s) { return placed[s.node]; });
      if (!ready) continue;
      placed[i] = true;
      order.push_back(i);
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return static_cast<int>(declared[a].node.kind) < static_cast<int>(declared[b].node.kind);
  });
  std::vector<size_t> position(declared.size());
  for (size_t p = 0; p < order.size(); ++p) position[order[p]] = p;
  for (size_t p : order) {
    PlanNode node = std::move(declared[p].node);
    for (StreamId& s : node.inputs) s.node = position[s.node];
    plan->nodes.push_back(std::move(node));
  }
  for (PlanNode& n : plan->nodes) {
    for (const StreamId& s : n.inputs) {
      const PlanNode& producer = plan->nodes[s.node];
      if (producer.priority || (producer.op && producer.op->is_priority_port(s.port))) {
        n.priority = true;
      }
    }
  }
  return plan;
}

std::unique_ptr<Plan> load_pipeline(const std::string& path, Diagnostics& diag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diag.error(0, 0, "cannot read pipeline file");
    return nullptr;
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_pipeline_text(text.str(), path, diag);
}

}  // namespace licflow
