// SPEC §5 "window" functions: count, count_if, count_distinct (0 over nothing); sum, min, max,
// avg, quantile (numbers only), first, last (any non-null value) — null over nothing; and the
// gauge functions over a key's step function.
#include "operators/aggregates.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "config/duration.h"
#include "config/suggest.h"
#include "engine/json_writer.h"

namespace licflow {
namespace {

struct FunctionInfo {
  const char* name;
  AggregateKind kind;
  const char* signature;  // for arity errors
};

constexpr FunctionInfo kFunctions[] = {
    {"count", AggregateKind::kCount, "count()"},
    {"count_if", AggregateKind::kCountIf, "count_if(CONDITION)"},
    {"count_distinct", AggregateKind::kCountDistinct, "count_distinct(FIELD)"},
    {"sum", AggregateKind::kSum, "sum(FIELD)"},
    {"min", AggregateKind::kMin, "min(FIELD)"},
    {"max", AggregateKind::kMax, "max(FIELD)"},
    {"avg", AggregateKind::kAvg, "avg(FIELD)"},
    {"quantile", AggregateKind::kQuantile, "quantile(FIELD, Q)"},
    {"first", AggregateKind::kFirst, "first(FIELD)"},
    {"last", AggregateKind::kLast, "last(FIELD)"},
    {"gauge_max", AggregateKind::kGaugeMax, "gauge_max(FIELD)"},
    {"gauge_min", AggregateKind::kGaugeMin, "gauge_min(FIELD)"},
    {"gauge_avg", AggregateKind::kGaugeAvg, "gauge_avg(FIELD)"},
    {"gauge_integral", AggregateKind::kGaugeIntegral, "gauge_integral(FIELD[, UNIT])"},
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

// One argument of the call: its text without surrounding spaces and its offset in the FUNC text.
struct Argument {
  std::string text;
  size_t offset;
};

// Reports problems inside the FUNC scalar at their column, as NodeConfig::parse_expression does.
class CallParser {
 public:
  CallParser(NodeConfig& config, const YAML::Node& func, std::string aggregate)
      : config_(config), func_(func), text_(func.Scalar()), aggregate_(std::move(aggregate)) {}

  std::optional<AggregateSpec> parse() {
    size_t p = skip_spaces(0);
    size_t name_end = p;
    if (name_end < text_.size() && is_ident_start(text_[name_end])) {
      while (name_end < text_.size() && is_ident_char(text_[name_end])) ++name_end;
    }
    if (name_end == p) {
      return fail(
          p, "expected an aggregate function such as count() or sum(FIELD), got `" + text_ + "`");
    }
    std::string name = text_.substr(p, name_end - p);
    const FunctionInfo* function = nullptr;
    std::vector<std::string> valid;
    for (const FunctionInfo& f : kFunctions) {
      valid.emplace_back(f.name);
      if (name == f.name) function = &f;
    }
    if (function == nullptr) {
      std::string hint = nearest(name, valid);
      return fail(p, "unknown aggregate `" + name + "` (" +
                         (hint.empty() ? "" : "did you mean `" + hint + "`? ") +
                         "valid: " + join(valid) + ")");
    }
    size_t open = skip_spaces(name_end);
    if (open >= text_.size() || text_[open] != '(') {
      return fail(open, "expected `(` after `" + name + "` (write " + function->signature + ")");
    }
    auto close = matching_paren(open);
    if (!close) return fail(text_.size(), "missing `)` in `" + text_ + "`");
    size_t after = skip_spaces(*close + 1);
    if (after != text_.size()) return fail(after, "unexpected text after `)`");

    AggregateSpec spec;
    spec.name = aggregate_;
    spec.kind = function->kind;
    if (spec.kind == AggregateKind::kCountIf) {
      if (!parse_condition(open + 1, *close, spec)) return std::nullopt;
      return spec;
    }
    std::vector<Argument> args = split_arguments(open + 1, *close);
    size_t min_args = 1, max_args = 1;
    if (spec.kind == AggregateKind::kCount) min_args = max_args = 0;
    if (spec.kind == AggregateKind::kQuantile) min_args = max_args = 2;
    if (spec.kind == AggregateKind::kGaugeIntegral) max_args = 2;
    if (args.size() < min_args || args.size() > max_args) {
      size_t at = args.size() > max_args ? args[max_args].offset : *close;
      std::string count = max_args == 0 ? "no arguments"
                          : min_args == max_args
                              ? std::to_string(max_args) + " argument" + (max_args == 1 ? "" : "s")
                              : "1 or 2 arguments";
      return fail(at, "`" + name + "` takes " + count + ", got " + std::to_string(args.size()) +
                          " (write " + function->signature + ")");
    }
    if (args.empty()) return spec;
    if (!parse_field(args[0], name, spec)) return std::nullopt;
    if (spec.kind == AggregateKind::kQuantile && !parse_level(args[1], spec)) return std::nullopt;
    if (spec.kind == AggregateKind::kGaugeIntegral && args.size() == 2 &&
        !parse_unit(args[1], spec)) {
      return std::nullopt;
    }
    return spec;
  }

 private:
  size_t skip_spaces(size_t p) const {
    while (p < text_.size() && is_space(text_[p])) ++p;
    return p;
  }

  // The `)` closing the `(` at `open`, skipping quoted strings and nested brackets.
  std::optional<size_t> matching_paren(size_t open) const {
    int depth = 0;
    for (size_t p = open; p < text_.size(); ++p) {
      char c = text_[p];
      if (c == '\'' || c == '"') {
        p = end_of_string(p);
        if (p == text_.size()) return std::nullopt;
      } else if (c == '(' || c == '[') {
        ++depth;
      } else if (c == ')' || c == ']') {
        if (--depth == 0) return c == ')' ? std::optional<size_t>(p) : std::nullopt;
      }
    }
    return std::nullopt;
  }

  // The offset of the quote closing the string that opens at `p`, or text_.size().
  size_t end_of_string(size_t p) const {
    char quote = text_[p];
    for (++p; p < text_.size(); ++p) {
      if (text_[p] == '\\') {
        ++p;
      } else if (text_[p] == quote) {
        return p;
      }
    }
    return text_.size();
  }

  // The comma-separated arguments of text_[begin, end); none when it is blank.
  std::vector<Argument> split_arguments(size_t begin, size_t end) const {
    std::vector<Argument> args;
    if (skip_spaces(begin) >= end) return args;
    int depth = 0;
    size_t from = begin;
    for (size_t p = begin; p <= end; ++p) {
      char c = p < end ? text_[p] : ',';
      if (p < end && (c == '\'' || c == '"')) {
        p = std::min(end_of_string(p), end - 1);
      } else if (c == '(' || c == '[') {
        ++depth;
      } else if (c == ')' || c == ']') {
        --depth;
      } else if (c == ',' && depth == 0) {
        size_t first = skip_spaces(from);
        size_t last = p;
        while (last > first && is_space(text_[last - 1])) --last;
        args.push_back({text_.substr(first, last - first), first});
        from = p + 1;
      }
    }
    return args;
  }

  bool parse_condition(size_t begin, size_t end, AggregateSpec& spec) {
    if (skip_spaces(begin) >= end) {
      fail(begin, "`count_if` needs a condition (write count_if(CONDITION))");
      return false;
    }
    ExpressionError why;
    spec.condition = Expression::parse(std::string_view(text_).substr(begin, end - begin), &why);
    if (spec.condition.ok()) return true;
    fail(begin + why.offset, "bad expression: " + why.message);
    return false;
  }

  bool parse_field(const Argument& arg, const std::string& function, AggregateSpec& spec) {
    bool ok = !arg.text.empty() && is_ident_start(arg.text[0]) &&
              std::all_of(arg.text.begin(), arg.text.end(), is_ident_char);
    if (!ok) {
      fail(arg.offset,
           "the argument of `" + function + "` must be a field name, got `" + arg.text + "`");
      return false;
    }
    spec.field = intern_field(arg.text);
    return true;
  }

  bool parse_level(const Argument& arg, AggregateSpec& spec) {
    char* end = nullptr;
    double q = std::strtod(arg.text.c_str(), &end);
    if (arg.text.empty() || end != arg.text.c_str() + arg.text.size() || !(q >= 0 && q <= 1)) {
      fail(arg.offset,
           "the level of `quantile` must be a number from 0 to 1, got `" + arg.text + "`");
      return false;
    }
    spec.level = q;
    return true;
  }

  bool parse_unit(const Argument& arg, AggregateSpec& spec) {
    std::string why;
    auto ms = parse_duration(arg.text, &why);
    if (!ms || *ms <= 0) {
      fail(arg.offset, "bad unit `" + arg.text + "` of `gauge_integral`: " +
                           (ms ? "it must be longer than 0" : why) + " (write e.g. 1s, 1h)");
      return false;
    }
    spec.unit_ms = *ms;
    return true;
  }

  std::nullopt_t fail(size_t offset, const std::string& message) {
    config_.diag().error_in_scalar(
        func_, offset, "`" + config_.id() + "`: aggregate `" + aggregate_ + "`: " + message);
    return std::nullopt;
  }

  NodeConfig& config_;
  const YAML::Node& func_;
  std::string text_;
  std::string aggregate_;
};

// Exactly representable as int64: [-2^63, 2^63).
bool fits_int64(double d) { return d >= -9223372036854775808.0 && d < 9223372036854775808.0; }

}  // namespace

std::optional<AggregateSpec> parse_aggregate(NodeConfig& config, const YAML::Node& name,
                                             const YAML::Node& func) {
  if (!func.IsScalar()) {
    // A null value (`n:` and nothing) has the mark of the token after it: point at the name.
    config.diag().error(func.IsNull() ? name.Mark() : func.Mark(),
                        "`" + config.id() + "`: aggregate `" + name.Scalar() +
                                         "` must be a function call such as count() or "
                                         "sum(FIELD); YAML flow style splits on commas, so quote "
                                         "aggregates that contain them");
    return std::nullopt;
  }
  auto spec = CallParser(config, func, name.Scalar()).parse();
  if (spec) spec->output = intern_field(spec->name);
  return spec;
}

void QuantileSketch::Store::add(int index) {
  if (counts.empty()) {
    offset = index;
    counts.push_back(0);
  } else if (index < offset) {
    counts.insert(counts.begin(), static_cast<size_t>(offset - index), 0);
    offset = index;
  } else if (static_cast<size_t>(index - offset) >= counts.size()) {
    counts.resize(static_cast<size_t>(index - offset) + 1, 0);
  }
  ++counts[static_cast<size_t>(index - offset)];
}

namespace {

constexpr double kGamma =
    (1 + QuantileSketch::kRelativeAccuracy) / (1 - QuantileSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);

// Bucket i holds (gamma^(i-1), gamma^i]; 2·gamma^i/(gamma+1) is within kRelativeAccuracy of all.
int bucket_of(double magnitude) {
  return static_cast<int>(std::ceil(std::log(magnitude) / kLogGamma));
}
double bucket_value(int index) { return 2 * std::exp(index * kLogGamma) / (kGamma + 1); }

}  // namespace

void QuantileSketch::add(double x) {
  if (!std::isfinite(x)) return;
  if (count_ == 0 || x < min_) min_ = x;
  if (count_ == 0 || x > max_) max_ = x;
  ++count_;
  if (count_ <= kExactValues) {
    exact_.push_back(x);
  } else if (!exact_.empty()) {
    exact_ = std::vector<double>();
  }
  // Below the smallest normal double, log() loses its meaning; such values count as zero.
  if (std::fabs(x) < std::numeric_limits<double>::min()) {
    ++zeros_;
  } else if (x > 0) {
    positive_.add(bucket_of(x));
  } else {
    negative_.add(bucket_of(-x));
  }
}

double QuantileSketch::value_at_rank(uint64_t rank) const {
  if (rank == 0) return min_;
  if (rank + 1 >= count_) return max_;
  uint64_t seen = 0;
  double value = max_;
  for (size_t i = negative_.counts.size(); i-- > 0;) {  // most negative first
    seen += negative_.counts[i];
    if (rank < seen) {
      value = -bucket_value(negative_.offset + static_cast<int>(i));
      return std::clamp(value, min_, max_);
    }
  }
  seen += zeros_;
  if (rank < seen) return 0;
  for (size_t i = 0; i < positive_.counts.size(); ++i) {
    seen += positive_.counts[i];
    if (rank < seen) {
      value = bucket_value(positive_.offset + static_cast<int>(i));
      break;
    }
  }
  return std::clamp(value, min_, max_);
}

double QuantileSketch::quantile(double q) const {
  double rank = q * static_cast<double>(count_ - 1);
  auto below = static_cast<uint64_t>(std::floor(rank));
  double weight = rank - static_cast<double>(below);
  if (exact_.size() == count_) {
    std::vector<double> sorted = exact_;
    std::sort(sorted.begin(), sorted.end());
    const double low = sorted[below];
    return weight == 0 ? low : low + weight * (sorted[below + 1] - low);
  }
  double low = value_at_rank(below);
  if (weight == 0) return low;
  return low + weight * (value_at_rank(below + 1) - low);
}

// A string entry's node (next pointer, cached hash, the string) and its heap buffer, if any.
size_t DistinctSet::text_entry_bytes(const std::string& v) {
  return 64 + (v.capacity() > 15 ? v.capacity() + 16 : 0);
}

void DistinctSet::add(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return;
    case ValueKind::kBool:
      (v.as_bool() ? seen_true_ : seen_false_) = true;
      return;
    case ValueKind::kInt:
      integers_.insert(v.as_int());
      return;
    case ValueKind::kDouble: {
      double d = v.as_double();
      if (std::isnan(d)) return;
      if (std::trunc(d) == d && fits_int64(d)) {
        integers_.insert(static_cast<int64_t>(d));
      } else {
        reals_.insert(d);
      }
      return;
    }
    case ValueKind::kString:
      if (strings_.find(v.as_string()) == strings_.end()) {
        text_bytes_ += text_entry_bytes(*strings_.insert(v.as_string()).first);
      }
      return;
    case ValueKind::kObject: {
      std::string json;
      append_json_value(json, v);
      if (auto [it, inserted] = objects_.insert(std::move(json)); inserted) {
        text_bytes_ += text_entry_bytes(*it);
      }
      return;
    }
  }
}

int64_t DistinctSet::size() const {
  return static_cast<int64_t>(integers_.size() + reals_.size() + strings_.size() +
                              objects_.size()) +
         seen_false_ + seen_true_;
}

Accumulator::Accumulator(AggregateKind kind) {
  switch (kind) {
    case AggregateKind::kSum:
    case AggregateKind::kAvg:
      state_ = detail::SumState{};
      break;
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      state_ = detail::ExtremeState{};
      break;
    case AggregateKind::kFirst:
    case AggregateKind::kLast:
      state_ = detail::EdgeState{};
      break;
    case AggregateKind::kCountDistinct:
      state_ = std::unique_ptr<DistinctSet>();
      break;
    case AggregateKind::kQuantile:
      state_ = std::unique_ptr<QuantileSketch>();
      break;
    default:
      state_ = detail::CountState{};
  }
}

void Accumulator::add(AggregateKind kind, const Value* value, int64_t ts) {
  switch (kind) {
    case AggregateKind::kCount:
    case AggregateKind::kCountIf:
      if (value != nullptr) ++std::get<detail::CountState>(state_).n;
      return;
    case AggregateKind::kCountDistinct: {
      if (value == nullptr || value->is_null()) return;
      auto& set = std::get<std::unique_ptr<DistinctSet>>(state_);
      if (!set) set = std::make_unique<DistinctSet>();  // carried-only windows never allocate
      set->add(*value);
      return;
    }
    case AggregateKind::kSum:
    case AggregateKind::kAvg: {
      if (value == nullptr || !value->is_number()) return;
      detail::SumState& s = std::get<detail::SumState>(state_);
      ++s.n;
      if (value->is_double()) {
        s.real += value->as_double();
        s.all_int = false;
      } else if (int64_t sum; !__builtin_add_overflow(s.integer, value->as_int(), &sum)) {
        s.integer = sum;
      } else {
        s.real += static_cast<double>(value->as_int());  // beyond int64: the sum goes real
        s.all_int = false;
      }
      return;
    }
    case AggregateKind::kMin:
    case AggregateKind::kMax: {
      if (value == nullptr || !value->is_number()) return;
      auto& best = std::get<detail::ExtremeState>(state_).best;
      Number n = Number::of(*value);
      bool better = !best || (kind == AggregateKind::kMin ? n.as_double() < best->as_double()
                                                          : n.as_double() > best->as_double());
      if (better) best = n;
      return;
    }
    case AggregateKind::kFirst:
    case AggregateKind::kLast: {
      if (value == nullptr || value->is_null()) return;
      detail::EdgeState& e = std::get<detail::EdgeState>(state_);
      // Ties in ts go to the earlier arrival for first, the later one for last.
      bool take = e.value.is_null() || (kind == AggregateKind::kFirst ? ts < e.ts : ts >= e.ts);
      if (take) {
        e.ts = ts;
        e.value = *value;
      }
      return;
    }
    case AggregateKind::kQuantile: {
      if (value == nullptr || !value->is_number()) return;
      auto& sketch = std::get<std::unique_ptr<QuantileSketch>>(state_);
      if (!sketch) sketch = std::make_unique<QuantileSketch>();
      sketch->add(value->as_number());
      return;
    }
    default:
      return;  // gauges keep no per-window accumulator
  }
}

Value Accumulator::result(const AggregateSpec& spec) const {
  switch (spec.kind) {
    case AggregateKind::kCount:
    case AggregateKind::kCountIf:
      return Value(std::get<detail::CountState>(state_).n);
    case AggregateKind::kCountDistinct: {
      const auto& set = std::get<std::unique_ptr<DistinctSet>>(state_);
      return Value(set ? set->size() : int64_t{0});
    }
    case AggregateKind::kSum: {
      const detail::SumState& s = std::get<detail::SumState>(state_);
      if (s.n == 0) return Value();
      if (s.all_int) return Value(s.integer);
      return Value(static_cast<double>(s.integer) + s.real);
    }
    case AggregateKind::kAvg: {
      const detail::SumState& s = std::get<detail::SumState>(state_);
      if (s.n == 0) return Value();
      return Value((static_cast<double>(s.integer) + s.real) / static_cast<double>(s.n));
    }
    case AggregateKind::kMin:
    case AggregateKind::kMax: {
      const auto& best = std::get<detail::ExtremeState>(state_).best;
      return best ? best->to_value() : Value();
    }
    case AggregateKind::kFirst:
    case AggregateKind::kLast:
      return std::get<detail::EdgeState>(state_).value;
    case AggregateKind::kQuantile: {
      const auto& sketch = std::get<std::unique_ptr<QuantileSketch>>(state_);
      if (!sketch || sketch->count() == 0) return Value();
      return Value(sketch->quantile(spec.level));
    }
    default:
      return Value();
  }
}

// Checkpoints (SPEC §7). Unordered sets are written in their iteration order: only their
// size is ever read, so the order they come back in does not matter.

namespace {

// Bucket indexes of finite doubles lie within about ±71,000 (log(DBL_MAX) / log(gamma)).
constexpr int64_t kMaxBucketIndex = 1 << 17;

void save_store(StateWriter& out, const std::vector<uint64_t>& counts, int offset) {
  out.i64(offset);
  out.u64(counts.size());
  for (uint64_t c : counts) out.u64(c);
}

// Returns the sum of the counts read (saturating), for the caller's consistency check.
uint64_t load_store(StateReader& in, std::vector<uint64_t>& counts, int& offset) {
  const int64_t first = in.i64();
  counts.resize(in.count(8));
  if (!counts.empty() &&
      (first < -kMaxBucketIndex || first + static_cast<int64_t>(counts.size()) > kMaxBucketIndex)) {
    in.fail();
  }
  offset = in.failed() ? 0 : static_cast<int>(first);
  uint64_t total = 0;
  for (uint64_t& c : counts) {
    c = in.u64();
    if (__builtin_add_overflow(total, c, &total)) in.fail();
  }
  if (in.failed()) counts.clear();
  return total;
}

template <typename Set, typename Read>
void load_set(StateReader& in, Set& set, size_t min_bytes, Read read) {
  for (uint64_t n = in.count(min_bytes); n > 0 && !in.failed(); --n) set.insert(read());
}

}  // namespace

void QuantileSketch::save(StateWriter& out) const {
  save_store(out, positive_.counts, positive_.offset);
  save_store(out, negative_.counts, negative_.offset);
  out.u64(zeros_);
  out.u64(count_);
  out.f64(min_);
  out.f64(max_);
  out.u64(exact_.size());
  for (double x : exact_) out.f64(x);
}

void QuantileSketch::load(StateReader& in) {
  uint64_t total = load_store(in, positive_.counts, positive_.offset);
  const uint64_t negatives = load_store(in, negative_.counts, negative_.offset);
  zeros_ = in.u64();
  count_ = in.u64();
  min_ = in.f64();
  max_ = in.f64();
  const uint64_t exact = in.u64();
  if (exact != (count_ <= kExactValues ? count_ : 0)) {
    in.fail();
    return;
  }
  exact_.resize(exact);
  for (double& x : exact_) x = in.f64();
  if (__builtin_add_overflow(total, negatives, &total) ||
      __builtin_add_overflow(total, zeros_, &total) || total != count_) {
    in.fail();
  }
}

size_t QuantileSketch::heap_bytes() const {
  return (positive_.counts.capacity() + negative_.counts.capacity()) * sizeof(uint64_t) +
         exact_.capacity() * sizeof(double);
}

void DistinctSet::save(StateWriter& out) const {
  out.u64(integers_.size());
  for (int64_t v : integers_) out.i64(v);
  out.u64(reals_.size());
  for (double v : reals_) out.f64(v);
  out.u64(strings_.size());
  for (const std::string& v : strings_) out.str(v);
  out.u64(objects_.size());
  for (const std::string& v : objects_) out.str(v);
  out.boolean(seen_false_);
  out.boolean(seen_true_);
}

void DistinctSet::load(StateReader& in) {
  load_set(in, integers_, 8, [&] { return in.i64(); });
  load_set(in, reals_, 8, [&] { return in.f64(); });
  load_set(in, strings_, 8, [&] { return in.str(); });
  load_set(in, objects_, 8, [&] { return in.str(); });
  seen_false_ = in.boolean();
  seen_true_ = in.boolean();
  text_bytes_ = 0;
  for (const auto* set : {&strings_, &objects_}) {
    for (const std::string& v : *set) text_bytes_ += text_entry_bytes(v);
  }
}

// A node of an unordered_set holds the next pointer and the element (and, for strings, the
// cached hash), rounded up by the allocator; each bucket is a pointer.
size_t DistinctSet::heap_bytes() const {
  return (integers_.size() + reals_.size()) * 32 +
         (integers_.bucket_count() + reals_.bucket_count() + strings_.bucket_count() +
          objects_.bucket_count()) *
             sizeof(void*) +
         text_bytes_;
}

size_t Accumulator::heap_bytes() const {
  if (const auto* edge = std::get_if<detail::EdgeState>(&state_)) return edge->value.heap_bytes();
  if (const auto* set = std::get_if<std::unique_ptr<DistinctSet>>(&state_)) {
    return *set ? sizeof(DistinctSet) + 16 + (*set)->heap_bytes() : 0;
  }
  if (const auto* sketch = std::get_if<std::unique_ptr<QuantileSketch>>(&state_)) {
    return *sketch ? sizeof(QuantileSketch) + 16 + (*sketch)->heap_bytes() : 0;
  }
  return 0;
}

void Accumulator::save(StateWriter& out) const {
  out.u8(static_cast<uint8_t>(state_.index()));
  if (const auto* c = std::get_if<detail::CountState>(&state_)) {
    out.i64(c->n);
  } else if (const auto* s = std::get_if<detail::SumState>(&state_)) {
    out.i64(s->integer);
    out.f64(s->real);
    out.i64(s->n);
    out.boolean(s->all_int);
  } else if (const auto* e = std::get_if<detail::ExtremeState>(&state_)) {
    out.boolean(e->best.has_value());
    if (e->best) {
      out.boolean(e->best->is_int);
      out.i64(e->best->integer);
      out.f64(e->best->real);
    }
  } else if (const auto* edge = std::get_if<detail::EdgeState>(&state_)) {
    out.i64(edge->ts);
    out.value(edge->value);
  } else if (const auto* set = std::get_if<std::unique_ptr<DistinctSet>>(&state_)) {
    out.boolean(*set != nullptr);
    if (*set) (*set)->save(out);
  } else if (const auto* sketch = std::get_if<std::unique_ptr<QuantileSketch>>(&state_)) {
    out.boolean(*sketch != nullptr);
    if (*sketch) (*sketch)->save(out);
  }
}

void Accumulator::load(StateReader& in) {
  if (in.u8() != state_.index()) return in.fail();  // saved for another function
  if (auto* c = std::get_if<detail::CountState>(&state_)) {
    c->n = in.i64();
  } else if (auto* s = std::get_if<detail::SumState>(&state_)) {
    s->integer = in.i64();
    s->real = in.f64();
    s->n = in.i64();
    s->all_int = in.boolean();
  } else if (auto* e = std::get_if<detail::ExtremeState>(&state_)) {
    if (in.boolean()) {
      Number n;
      n.is_int = in.boolean();
      n.integer = in.i64();
      n.real = in.f64();
      e->best = n;
    }
  } else if (auto* edge = std::get_if<detail::EdgeState>(&state_)) {
    edge->ts = in.i64();
    edge->value = in.value();
  } else if (auto* set = std::get_if<std::unique_ptr<DistinctSet>>(&state_)) {
    if (in.boolean()) (*set = std::make_unique<DistinctSet>())->load(in);
  } else if (auto* sketch = std::get_if<std::unique_ptr<QuantileSketch>>(&state_)) {
    if (in.boolean()) (*sketch = std::make_unique<QuantileSketch>())->load(in);
  }
}

namespace {

// A point's value, exactly: long double holds every int64 and every double.
long double exact(const GaugePoint& p) {
  return p.is_int ? static_cast<long double>(p.integer) : static_cast<long double>(p.value);
}

}  // namespace

GaugeSummary summarize_gauge(const std::vector<GaugePoint>& points, int64_t start, int64_t end) {
  auto by_ts = [](const GaugePoint& p, int64_t t) { return p.ts < t; };
  auto first = std::lower_bound(points.begin(), points.end(), start, by_ts);
  auto last = std::lower_bound(first, points.end(), end, by_ts);
  const GaugePoint* carried = nullptr;
  for (auto it = first; it != points.begin();) {
    --it;
    if (it->on_time) {
      carried = &*it;
      break;
    }
  }
  GaugeSummary s;
  const GaugePoint* holding = nullptr;
  int64_t since = 0;
  auto step_to = [&](const GaugePoint& p, int64_t at) {
    if (holding != nullptr) {
      s.integral_ms += holding->value * static_cast<double>(at - since);
    } else {
      s.covered_ms = end - at;
    }
    // Strict comparisons: among equal values the first keeps its integer/real form.
    if (!s.any || exact(p) > exact(s.max)) s.max = p;
    if (!s.any || exact(p) < exact(s.min)) s.min = p;
    s.any = true;
    holding = &p;
    since = at;
  };
  bool point_at_start = first != last && first->ts == start;
  if (carried != nullptr && !point_at_start) step_to(*carried, start);
  for (auto it = first; it != last; ++it) step_to(*it, it->ts);
  if (holding != nullptr) s.integral_ms += holding->value * static_cast<double>(end - since);
  return s;
}

Value gauge_result(const AggregateSpec& spec, const GaugeSummary& summary) {
  if (!summary.any) return Value();
  auto number = [](const GaugePoint& p) {
    return p.is_int ? Value(p.integer) : Value(p.value);
  };
  switch (spec.kind) {
    case AggregateKind::kGaugeMax:
      return number(summary.max);
    case AggregateKind::kGaugeMin:
      return number(summary.min);
    case AggregateKind::kGaugeAvg:
      return Value(summary.integral_ms / static_cast<double>(summary.covered_ms));
    case AggregateKind::kGaugeIntegral:
      return Value(summary.integral_ms / static_cast<double>(spec.unit_ms));
    default:
      return Value();
  }
}

}  // namespace licflow
