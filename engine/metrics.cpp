#include "engine/metrics.h"

#include <chrono>
#include <cmath>
#include <cstdio>

namespace licflow {

namespace {

// Label values escape backslash, double quote and newline (exposition format 0.0.4).
void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_double(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out += buf;
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::begin_sample(std::string_view name, const Labels& labels) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out_ += ',';
      out_ += labels[i].first;
      out_ += "=\"";
      append_escaped(out_, labels[i].second);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

void PrometheusText::sample(std::string_view name, const Labels& labels, double value) {
  begin_sample(name, labels);
  append_double(out_, value);
  out_ += '\n';
}

void PrometheusText::sample(std::string_view name, const Labels& labels, uint64_t value) {
  begin_sample(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

void LatencyHistogram::observe(double seconds, uint64_t count) {
  size_t bucket = 0;
  while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
  buckets_[bucket].fetch_add(count, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::max(0.0, seconds) * 1e9) * count,
                    std::memory_order_relaxed);
  count_.fetch_add(count, std::memory_order_relaxed);
}

void LatencyHistogram::write(PrometheusText& text, std::string_view name,
                             const Labels& labels) const {
  const std::string bucket_name = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  char le[32];
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    if (i < kBounds.size()) {
      std::snprintf(le, sizeof le, "%g", kBounds[i]);
    } else {
      std::snprintf(le, sizeof le, "+Inf");
    }
    Labels with_le = labels;
    with_le.emplace_back("le", le);
    text.sample(bucket_name, with_le, cumulative);
  }
  text.sample(std::string(name) + "_sum", labels,
              static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  // The count equals the +Inf bucket, as the format requires, even while observations race.
  text.sample(std::string(name) + "_count", labels, cumulative);
}

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace licflow
