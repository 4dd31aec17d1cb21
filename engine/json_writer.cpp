// JSON output forms of SPEC §2 and §6: RFC 3339 UTC ms timestamps, shortest round-trip numbers,
// one record per line with "stream".
#include "engine/json_writer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/time_format.h"

namespace licflow {
namespace {

// 0: copy as is; 1: needs an escape; 2: first byte of a non-ASCII sequence (UTF-8 check).
constexpr std::array<uint8_t, 256> make_class_table() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  for (int c = 0x80; c < 0x100; ++c) t[c] = 2;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = make_class_table();

constexpr char kHex[] = "0123456789abcdef";

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out.append("\\\"");
      return;
    case '\\':
      out.append("\\\\");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    default: {
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(u, 6);
    }
  }
}

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode Table 3-7), or, when it is
// ill-formed, minus the length of its maximal subpart (at least 1), which is replaced by one
// U+FFFD as Python's and WHATWG's decoders do.
int utf8_sequence(const unsigned char* s, size_t n, size_t i) {
  const unsigned char c = s[i];
  int need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return -1;
  }
  for (int k = 1; k <= need; ++k) {
    if (i + k >= n) return -k;
    const unsigned char b = s[i + k];
    if (b < lo || b > hi) return -k;
    lo = 0x80;
    hi = 0xBF;
  }
  return need + 1;
}

// Serialized `"name":` per field id, per thread: names never change once interned, and this
// keeps field_name()'s shared lock and the escaping off the per-record path.
const std::string& key_prefix(FieldId id) {
  thread_local std::vector<std::string> cache;
  if (id >= cache.size()) cache.resize(static_cast<size_t>(id) + 1);
  std::string& s = cache[id];
  if (s.empty()) {
    append_json_string(s, field_name(id));
    s.push_back(':');
  }
  return s;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  out.reserve(out.size() + n + 2);
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied verbatim
  size_t i = 0;
  while (i < n) {
    const uint8_t cls = kClass[p[i]];
    if (cls == 0) {
      ++i;
      continue;
    }
    if (cls == 1) {
      out.append(s.data() + run, i - run);
      append_escape(out, p[i]);
      run = ++i;
      continue;
    }
    const int len = utf8_sequence(p, n, i);
    if (len > 0) {
      i += static_cast<size_t>(len);
      continue;
    }
    // Invalid UTF-8 (from a log line or a cut dead-letter `raw`) would make the output line
    // unreadable as JSON, so it becomes U+FFFD.
    out.append(s.data() + run, i - run);
    out.append("\xEF\xBF\xBD");
    i += static_cast<size_t>(-len);
    run = i;
  }
  out.append(s.data() + run, n - run);
  out.push_back('"');
}

void append_json_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out.append("null");
    return;
  }
  // The shortest digits that read back as `d`, as d.ddde±XX.
  char sci[32];
  const char* const end = std::to_chars(sci, sci + sizeof sci, d, std::chars_format::scientific).ptr;
  const char* const e = std::find(static_cast<const char*>(sci), end, 'e');
  int exponent = 0;
  std::from_chars(e + 1 + (e[1] == '+'), end, exponent);
  // Laid out as Python's repr (and so json.dumps) does: positional when the exponent is in
  // [-4, 16), with ".0" on integral values so they read back as doubles, else scientific.
  if (exponent < -4 || exponent >= 16) {
    out.append(sci, static_cast<size_t>(end - sci));
    return;
  }
  const char* p = sci;
  if (*p == '-') out.push_back(*p++);
  char digits[24];
  size_t n = 0;
  for (; p < e; ++p) {
    if (*p != '.') digits[n++] = *p;
  }
  if (exponent < 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out.append(digits, n);
    return;
  }
  const auto whole = static_cast<size_t>(exponent) + 1;  // digits before the point
  if (n <= whole) {
    out.append(digits, n);
    out.append(whole - n, '0');
    out.append(".0");
  } else {
    out.append(digits, whole);
    out.push_back('.');
    out.append(digits + whole, n - whole);
  }
}

void append_json_value(std::string& out, const Value& v) {
  char buf[40];
  switch (v.kind()) {
    case ValueKind::kNull:
      out.append("null");
      return;
    case ValueKind::kBool:
      out.append(v.as_bool() ? "true" : "false");
      return;
    case ValueKind::kInt: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
      out.append(buf, static_cast<size_t>(r.ptr - buf));
      return;
    }
    case ValueKind::kDouble:
      append_json_double(out, v.as_double());
      return;
    case ValueKind::kString:
      append_json_string(out, v.as_string());
      return;
    case ValueKind::kObject:
      // A nested record reads like a top-level one: its `ts` first, as RFC 3339.
      append_record_json(out, *v.as_object(), {});
      return;
  }
}

void append_record_json(std::string& out, const Record& record, std::string_view stream) {
  out.push_back('{');
  if (!stream.empty()) {
    out.append("\"stream\":");
    append_json_string(out, stream);
    out.push_back(',');
  }
  out.append("\"ts\":\"");
  append_rfc3339(out, record.ts);
  out.push_back('"');
  for (const Field& f : record.fields()) {
    // `ts` is Record::ts, already written; a `stream` field (an input event may carry one) is
    // replaced by the producing stream's name (SPEC §6), so no key is ever written twice.
    if (f.id == field::kTs || (f.id == field::kStream && !stream.empty())) continue;
    out.push_back(',');
    out.append(key_prefix(f.id));
    append_json_value(out, f.value);
  }
  out.push_back('}');
}

}  // namespace licflow
