// `licflow validate` summary and `licflow graph --format dot|mermaid` (SPEC §8).
#include <cctype>
#include <string>

#include "config/plan.h"

namespace licflow {
namespace {

const char* kind_name(NodeKind k) {
  switch (k) {
    case NodeKind::kSource:
      return "source";
    case NodeKind::kOperator:
      return "operator";
    case NodeKind::kSink:
      return "sink";
  }
  return "";
}

std::string escape_label(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Text for a quoted Mermaid label: anything that could end it or mark it up (quotes, brackets,
// `<`, `|`, `#`, control characters…) as a decimal entity code (`#34;`), as Mermaid documents.
std::string mermaid_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80 || c == ' ' || c == '_' || c == '-' || c == '.' || c == ':') {
      out += c;
    } else {
      out += "#" + std::to_string(u) + ";";
    }
  }
  return out;
}

}  // namespace

std::string describe_plan(const Plan& plan) {
  size_t counts[3] = {0, 0, 0};
  for (const PlanNode& n : plan.nodes) ++counts[static_cast<int>(n.kind)];
  std::string out = "pipeline `" + plan.name + "`: " + std::to_string(counts[0]) + " source(s), " +
                    std::to_string(counts[1]) + " operator(s), " + std::to_string(counts[2]) +
                    " sink(s)\n";
  for (const PlanNode& n : plan.nodes) {
    out += "  " + std::string(kind_name(n.kind)) + " " + n.id + " (" + n.type + ")";
    if (!n.inputs.empty()) {
      out += " <- ";
      for (size_t i = 0; i < n.inputs.size(); ++i) {
        if (i > 0) out += ", ";
        out += plan.stream_name(n.inputs[i]);
      }
    }
    const std::vector<std::string>& ports = n.ports();
    if (n.kind == NodeKind::kOperator && !(ports.size() == 1 && ports[0] == "out")) {
      out += "  [ports:";
      for (const std::string& p : ports) out += " " + p;
      out += "]";
    }
    if (n.priority) out += "  [priority]";
    out += "\n";
  }
  return out;
}

std::string render_dot(const Plan& plan) {
  std::string out = "digraph \"" + escape_label(plan.name) + "\" {\n  rankdir=LR;\n";
  for (const PlanNode& n : plan.nodes) {
    const char* shape = n.kind == NodeKind::kSource ? "invhouse"
                        : n.kind == NodeKind::kSink ? "house"
                                                    : "box";
    out += "  \"" + escape_label(n.id) + "\" [label=\"" + escape_label(n.id) + "\\n" +
           escape_label(n.type) + "\", shape=" + shape +
           (n.priority ? ", color=red" : "") + "];\n";
  }
  for (const PlanNode& n : plan.nodes) {
    for (const StreamId& s : n.inputs) {
      const std::string& port = plan.nodes[s.node].ports()[s.port];
      out += "  \"" + escape_label(plan.nodes[s.node].id) + "\" -> \"" + escape_label(n.id) + "\"";
      if (port != "out") out += " [label=\"" + escape_label(port) + "\"]";
      out += ";\n";
    }
  }
  out += "}\n";
  return out;
}

std::string render_mermaid(const Plan& plan) {
  // Mermaid ids must be simple; number the nodes and show the real id in the label.
  std::string out = "flowchart LR\n";
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    const PlanNode& n = plan.nodes[i];
    std::string label = "\"" + mermaid_text(n.id) + "<br/>" + mermaid_text(n.type) + "\"";
    std::string id = "n" + std::to_string(i);
    if (n.kind == NodeKind::kSource) {
      out += "  " + id + "[/" + label + "/]\n";
    } else if (n.kind == NodeKind::kSink) {
      out += "  " + id + "[(" + label + ")]\n";
    } else {
      out += "  " + id + "[" + label + "]\n";
    }
  }
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    for (const StreamId& s : plan.nodes[i].inputs) {
      const std::string& port = plan.nodes[s.node].ports()[s.port];
      out += "  n" + std::to_string(s.node) +
             (port == "out" ? " --> " : " -->|\"" + mermaid_text(port) + "\"| ") + "n" +
             std::to_string(i) + "\n";
    }
  }
  return out;
}

}  // namespace licflow
