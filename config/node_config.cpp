#include "config/node_config.h"

#include "config/duration.h"

namespace licflow {
namespace {

bool is_scalar_string(const YAML::Node& n) { return n.IsScalar(); }

}  // namespace

void NodeConfig::error(const char* key, std::string message) {
  YAML::Node value = node_[key];
  diag_.error(value.IsDefined() ? value.Mark() : node_.Mark(), std::move(message));
}

std::optional<std::string> NodeConfig::get_string(const char* key, bool required) {
  YAML::Node value = node_[key];
  if (!value.IsDefined() || value.IsNull()) {
    if (required) diag_.error(node_.Mark(), "`" + id_ + "`: missing required key `" + key + "`");
    return std::nullopt;
  }
  if (!is_scalar_string(value)) {
    diag_.error(value.Mark(), "`" + id_ + "`: `" + key + "` must be a string");
    return std::nullopt;
  }
  return value.Scalar();
}

std::optional<std::string> NodeConfig::get_path(const char* key, bool required) {
  auto path = get_string(key, required);
  if (path && path->empty()) {
    diag_.error(node_[key].Mark(), "`" + id_ + "`: `" + key + "` must not be empty");
    return std::nullopt;
  }
  return path;
}

std::optional<int64_t> NodeConfig::get_int(const char* key, int64_t min_value, bool required) {
  auto text = get_string(key, required);
  if (!text) return std::nullopt;
  try {
    size_t used = 0;
    long long v = std::stoll(*text, &used);
    if (used == text->size() && v >= min_value) return v;
  } catch (const std::exception&) {
  }
  diag_.error(node_[key].Mark(), "`" + id_ + "`: `" + key + "` must be an integer >= " +
                                     std::to_string(min_value) + ", got `" + *text + "`");
  return std::nullopt;
}

std::optional<double> NodeConfig::get_double(const char* key, bool required) {
  auto text = get_string(key, required);
  if (!text) return std::nullopt;
  try {
    size_t used = 0;
    double v = std::stod(*text, &used);
    if (used == text->size()) return v;
  } catch (const std::exception&) {
  }
  diag_.error(node_[key].Mark(),
              "`" + id_ + "`: `" + key + "` must be a number, got `" + *text + "`");
  return std::nullopt;
}

std::optional<int64_t> NodeConfig::get_duration(const char* key, bool required) {
  auto text = get_string(key, required);
  if (!text) return std::nullopt;
  std::string why;
  auto ms = parse_duration(*text, &why);
  if (!ms) {
    diag_.error(node_[key].Mark(), "`" + id_ + "`: bad duration `" + *text + "` for `" + key +
                                       "`: " + why + " (write e.g. 250ms, 5s, 15m, 1h30m)");
  }
  return ms;
}

std::optional<Expression> NodeConfig::get_expression(const char* key, bool required) {
  YAML::Node value = node_[key];
  if (!value.IsDefined() || value.IsNull()) {
    if (required) diag_.error(node_.Mark(), "`" + id_ + "`: missing required key `" + key + "`");
    return std::nullopt;
  }
  return parse_expression(value);
}

std::optional<Expression> NodeConfig::parse_expression(const YAML::Node& scalar) {
  if (!scalar.IsScalar()) {
    diag_.error(scalar.Mark(), "`" + id_ + "`: expected an expression (a string); YAML flow "
                               "style splits on commas, so quote expressions that contain them");
    return std::nullopt;
  }
  ExpressionError why;
  Expression e = Expression::parse(scalar.Scalar(), &why);
  if (e.ok()) return e;
  diag_.error_in_scalar(scalar, why.offset, "`" + id_ + "`: bad expression: " + why.message);
  return std::nullopt;
}

std::optional<std::vector<std::string>> NodeConfig::get_string_list(const char* key,
                                                                    bool required) {
  YAML::Node value = node_[key];
  std::vector<std::string> out;
  if (!value.IsDefined() || value.IsNull()) {
    if (required) {
      diag_.error(node_.Mark(), "`" + id_ + "`: missing required key `" + key + "`");
      return std::nullopt;
    }
    return out;
  }
  if (value.IsScalar()) {
    out.push_back(value.Scalar());
    return out;
  }
  if (value.IsSequence()) {
    for (const YAML::Node& item : value) {
      if (!item.IsScalar()) {
        diag_.error(item.Mark(), "`" + id_ + "`: `" + key + "` must list strings");
        return std::nullopt;
      }
      out.push_back(item.Scalar());
    }
    return out;
  }
  diag_.error(value.Mark(), "`" + id_ + "`: `" + key + "` must be a string or a list of strings");
  return std::nullopt;
}

}  // namespace licflow
