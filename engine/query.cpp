// `licflow query` (SPEC §8). Readings where the SPEC is silent:
// - The store is opened as a RocksDB secondary instance: a query works while a node writes
//   (it sees what was written when it started) and never takes the writer's LOCK.
// - Output is in event-time order across all keys; records with equal `ts` come in the order the
//   history sink received them (its SEQ). --from/--to are half-open [from, to).
// - Records past their stream's retention are never returned, compacted away or not.
// - csv: a header of the union of the records' fields in first-seen order (`stream`, `ts`
//   first); strings bare, other values as JSON text, null and absent fields empty (RFC 4180
//   quoting). table: the same cells, left-aligned in columns two spaces apart, for humans.
#include "engine/query.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include "engine/csv.h"
#include "engine/time_format.h"

namespace licflow {
namespace {

struct JsonField {
  std::string name;
  std::string text;  // a string's value, else the JSON text
  bool is_string = false;
  bool is_null = false;
};

bool split_fields(simdjson::ondemand::parser& parser, std::string_view json,
                  std::vector<JsonField>& out) {
  namespace od = simdjson::ondemand;
  out.clear();
  simdjson::padded_string padded(json);
  od::document doc;
  od::object object;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(object)) return false;
  for (auto field : object) {
    std::string_view name, text;
    od::value value;
    od::json_type type;
    if (field.unescaped_key().get(name)) return false;
    JsonField f;
    f.name = name;
    if (field.value().get(value) || value.type().get(type)) return false;
    bool failed = false;
    if (type == od::json_type::string) {
      failed = value.get_string().get(text) != simdjson::SUCCESS;
      f.is_string = true;
    } else if (type == od::json_type::object) {
      od::object nested;
      failed = value.get_object().get(nested) || nested.raw_json().get(text);
    } else if (type == od::json_type::array) {
      od::array nested;
      failed = value.get_array().get(nested) || nested.raw_json().get(text);
    } else {
      text = value.raw_json_token();
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
      }
      f.is_null = type == od::json_type::null;
    }
    if (failed) return false;
    f.text = text;
    out.push_back(std::move(f));
  }
  return true;
}

// `text` as a number: an integer when all of it is one, else a finite double when all of it is
// one (from_chars' grammar, so `.5` and `007` pass too; a stored value is always valid JSON).
struct Number {
  bool is_int = false;
  int64_t i = 0;
  double d = 0;
};
std::optional<Number> number_of(std::string_view text) {
  const char* end = text.data() + text.size();
  Number n;
  auto [int_end, int_ec] = std::from_chars(text.data(), end, n.i);
  if (int_ec == std::errc() && int_end == end && !text.empty()) {
    n.is_int = true;
    return n;
  }
  auto [ptr, ec] = std::from_chars(text.data(), end, n.d);
  if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(n.d)) return std::nullopt;
  return n;
}

// Exactly, as SPEC §4's `==` (config/expression.cpp): 2 == 2.0, but 2^53 + 1 != 2^53.
bool numbers_equal(const Number& a, const Number& b) {
  if (a.is_int && b.is_int) return a.i == b.i;
  if (!a.is_int && !b.is_int) return a.d == b.d;
  const int64_t i = a.is_int ? a.i : b.i;
  const double d = a.is_int ? b.d : a.d;
  // -2^63 <= d < 2^63, integral, and the same integer.
  return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d &&
         static_cast<int64_t>(d) == i;
}

// A field equals a `--key` value as SPEC §4's `==` would have it: a string by its value, a
// number by its numeric value (`count=2` matches 2.0), anything else by its JSON text. A missing
// field is null, so `f=null` matches a record without f.
bool matches(const std::vector<JsonField>& fields,
             const std::vector<std::pair<std::string, std::string>>& keys) {
  for (const auto& [name, want] : keys) {
    auto it = std::find_if(fields.begin(), fields.end(),
                           [&](const JsonField& f) { return f.name == name; });
    const std::string_view have = it == fields.end() ? std::string_view("null") : it->text;
    if (have == want) continue;
    if (it == fields.end() || it->is_string) return false;
    const std::optional<Number> a = number_of(have), b = number_of(want);
    if (!a || !b || !numbers_equal(*a, *b)) return false;
  }
  return true;
}

// Display width in code points: UTF-8 continuation bytes take no column.
size_t width(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

struct Row {
  int64_t ts;
  uint64_t seq;  // the order its sink received it
  std::string json;
};

// Cells per row for csv and table, columns in first-seen order.
struct Grid {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

bool build_grid(simdjson::ondemand::parser& parser, const std::vector<Row>& rows, Grid& grid) {
  std::vector<JsonField> fields;
  for (const Row& row : rows) {
    if (!split_fields(parser, row.json, fields)) return false;
    std::vector<std::string> cells(grid.columns.size());
    for (JsonField& f : fields) {
      auto it = std::find(grid.columns.begin(), grid.columns.end(), f.name);
      const size_t col = static_cast<size_t>(it - grid.columns.begin());
      if (it == grid.columns.end()) grid.columns.push_back(f.name);
      if (cells.size() <= col) cells.resize(col + 1);
      if (!f.is_null) cells[col] = std::move(f.text);
    }
    grid.rows.push_back(std::move(cells));
  }
  for (auto& cells : grid.rows) cells.resize(grid.columns.size());
  return true;
}

void append_csv(const Grid& grid, std::string& out) {
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      append_csv_cell(out, cells[i]);
    }
    out += '\n';
  };
  line(grid.columns);
  for (const auto& cells : grid.rows) line(cells);
}

void append_table(Grid grid, std::string& out) {
  std::vector<size_t> widths(grid.columns.size());
  auto measure = [&](std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      // One record per line, whatever its strings hold.
      std::replace_if(cells[i].begin(), cells[i].end(),
                      [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
      widths[i] = std::max(widths[i], width(cells[i]));
    }
  };
  measure(grid.columns);
  for (auto& cells : grid.rows) measure(cells);
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) text += "  ";
      text += cells[i];
      if (i + 1 < cells.size()) text.append(widths[i] - width(cells[i]), ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  };
  line(grid.columns);
  for (const auto& cells : grid.rows) line(cells);
}

}  // namespace

std::optional<int64_t> parse_query_time(std::string_view text) {
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return ms;
  // A date alone (`2026-11-29`) is its first instant, UTC: `--from D --to D+1` is that day.
  if (text.size() == 10) return parse_rfc3339(std::string(text) + "T00:00:00Z");
  return parse_rfc3339(text);
}

std::optional<std::pair<std::string, std::string>> parse_query_key(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return std::nullopt;
  return std::pair{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Status run_query(const QueryOptions& options, std::string& out) {
  ASSIGN_OR_RETURN(auto store,
                   HistoryStore::open(options.state_dir, HistoryStore::Mode::kRead, options.clock));
  simdjson::ondemand::parser parser;
  std::vector<Row> rows;
  std::vector<JsonField> fields;
  bool corrupt = false;
  RETURN_IF_ERROR(store->scan(options.stream, options.from, options.to,
                              [&](std::string_view key, std::string_view value) {
                                auto record = history_codec::read_record_value(value);
                                if (!record) {
                                  corrupt = true;
                                  return;
                                }
                                if (!options.keys.empty()) {
                                  if (!split_fields(parser, record->json, fields)) {
                                    corrupt = true;
                                    return;
                                  }
                                  if (!matches(fields, options.keys)) return;
                                }
                                rows.push_back({history_codec::key_ts(key), record->seq,
                                                std::string(record->json)});
                              }));
  if (corrupt) return Status::error(store->path() + ": a stored record is not a JSON object");
  // Event time, then the order the sink received them (a checkout before the edge it causes).
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
  });
  if (options.limit && rows.size() > *options.limit) rows.resize(*options.limit);
  if (rows.empty()) return Status::ok();
  if (options.format == QueryFormat::kJsonl) {
    for (const Row& row : rows) {
      out += row.json;
      out += '\n';
    }
    return Status::ok();
  }
  Grid grid;
  if (!build_grid(parser, rows, grid)) {
    return Status::error(store->path() + ": a stored record is not a JSON object");
  }
  if (options.format == QueryFormat::kCsv) {
    append_csv(grid, out);
  } else {
    append_table(std::move(grid), out);
  }
  return Status::ok();
}

}  // namespace licflow
