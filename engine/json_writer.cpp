// JSON output forms of SPEC §2 and §6: RFC 3339 UTC ms timestamps, shortest round-trip numbers,
// one record per line with "stream".
#include "engine/json_writer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
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

// Writes the escape of `c` at `w` (at most 6 bytes); returns the end.
char* write_escape(char* w, unsigned char c) {
  const char* short_form = nullptr;
  switch (c) {
    case '"':
      short_form = "\\\"";
      break;
    case '\\':
      short_form = "\\\\";
      break;
    case '\b':
      short_form = "\\b";
      break;
    case '\f':
      short_form = "\\f";
      break;
    case '\n':
      short_form = "\\n";
      break;
    case '\r':
      short_form = "\\r";
      break;
    case '\t':
      short_form = "\\t";
      break;
    default: {
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      std::memcpy(w, u, 6);
      return w + 6;
    }
  }
  w[0] = short_form[0];
  w[1] = short_form[1];
  return w + 2;
}

// True when none of the 8 bytes of `word` needs an escape or a UTF-8 check (class 0 below):
// no byte < 0x20, '"', '\\' or >= 0x80. (The usual zero-byte tests: a borrow can only mark a
// byte above one that truly matched, so "any" is exact.)
inline bool plain_word(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  const uint64_t quotes = word ^ (kOnes * '"');
  const uint64_t backslashes = word ^ (kOnes * '\\');
  const uint64_t special = word | ((word - kOnes * 0x20) & ~word) | ((quotes - kOnes) & ~quotes) |
                           ((backslashes - kOnes) & ~backslashes);
  return (special & kHighs) == 0;
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
// keeps field_name()'s shared lock and the escaping off the per-record path. Each is kept in a
// fixed slot, so that writing one copies a constant number of bytes (a few vector moves, where
// a copy of the exact length is a call into memcpy); longer names are kept aside.
struct KeyPrefix {
  static constexpr size_t kInline = 31;
  uint8_t size = 0;  // 0: not made yet
  char bytes[kInline];
  std::string long_form;  // when the name does not fit in `bytes`

  std::string_view view() const {
    return long_form.empty() ? std::string_view(bytes, size) : std::string_view(long_form);
  }
};

[[gnu::noinline]] void make_key_prefix(KeyPrefix& prefix, FieldId id) {
  std::string s;
  append_json_string(s, field_name(id));
  s.push_back(':');
  // At least 3 (`"":`), so never 0 once made; only the inline form's size is read.
  prefix.size = static_cast<uint8_t>(std::min<size_t>(s.size(), 255));
  if (s.size() <= KeyPrefix::kInline) {
    std::memcpy(prefix.bytes, s.data(), s.size());
  } else {
    prefix.long_form = std::move(s);
  }
}

const KeyPrefix& key_prefix(std::vector<KeyPrefix>& cache, FieldId id) {
  if (id >= cache.size()) cache.resize(static_cast<size_t>(id) + 1);
  KeyPrefix& prefix = cache[id];
  if (prefix.size == 0) make_key_prefix(prefix, id);
  return prefix;
}

// Bounds of what the writers below write, so that a record is written into a buffer sized once,
// without a capacity check per piece.
constexpr size_t json_string_bound(size_t n) { return 6 * n + 2; }  // all `\u00XX`, and quotes
constexpr size_t kMaxDoubleBytes = 32;  // `-1.2345678901234567e-308` is 24
constexpr size_t kMaxScalarBytes = 24;  // `-9223372036854775808`, `false`, `null`

char* write_json_string(char* w, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  *w++ = '"';
  size_t i = 0;
  // Most strings need no escape: whole words of plain bytes go at once.
  for (uint64_t word; i + 8 <= n; i += 8) {
    std::memcpy(&word, p + i, 8);
    if (!plain_word(word)) break;
    std::memcpy(w, &word, 8);
    w += 8;
  }
  while (i < n) {
    const uint8_t cls = kClass[p[i]];
    if (cls == 0) {
      *w++ = static_cast<char>(p[i++]);
      continue;
    }
    if (cls == 1) {
      w = write_escape(w, p[i++]);
      continue;
    }
    const int len = utf8_sequence(p, n, i);
    if (len > 0) {
      for (int k = 0; k < len; ++k) *w++ = static_cast<char>(p[i++]);
      continue;
    }
    // Invalid UTF-8 (from a log line or a cut dead-letter `raw`) would make the output line
    // unreadable as JSON, so it becomes U+FFFD.
    std::memcpy(w, "\xEF\xBF\xBD", 3);
    w += 3;
    i += static_cast<size_t>(-len);
  }
  *w++ = '"';
  return w;
}

char* write_json_double(char* w, double d) {
  if (!std::isfinite(d)) {
    std::memcpy(w, "null", 4);
    return w + 4;
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
    std::memcpy(w, sci, static_cast<size_t>(end - sci));
    return w + (end - sci);
  }
  const char* p = sci;
  if (*p == '-') *w++ = *p++;
  char digits[24];
  size_t n = 0;
  for (; p < e; ++p) {
    if (*p != '.') digits[n++] = *p;
  }
  const auto put = [&](const char* bytes, size_t count) {
    std::memcpy(w, bytes, count);
    w += count;
  };
  if (exponent < 0) {
    put("0.", 2);
    put("0000", static_cast<size_t>(-exponent - 1));
    put(digits, n);
    return w;
  }
  const auto whole = static_cast<size_t>(exponent) + 1;  // digits before the point
  if (n <= whole) {
    put(digits, n);
    put("0000000000000000", whole - n);
    put(".0", 2);
  } else {
    put(digits, whole);
    *w++ = '.';
    put(digits + whole, n - whole);
  }
  return w;
}

// REQUIRES: not an object (see append_record_json); room for value_bound(v).
char* write_json_value(char* w, const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      std::memcpy(w, "null", 4);
      return w + 4;
    case ValueKind::kBool:
      if (v.as_bool()) {
        std::memcpy(w, "true", 4);
        return w + 4;
      }
      std::memcpy(w, "false", 5);
      return w + 5;
    case ValueKind::kInt:
      return std::to_chars(w, w + kMaxScalarBytes, v.as_int()).ptr;
    case ValueKind::kDouble:
      return write_json_double(w, v.as_double());
    case ValueKind::kString:
      return write_json_string(w, v.as_string());
    case ValueKind::kObject:
      break;
  }
  return w;
}

size_t value_bound(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kDouble:
      return kMaxDoubleBytes;
    case ValueKind::kString:
      return json_string_bound(v.as_string().size());
    default:
      return kMaxScalarBytes;
  }
}

// Room to write a record in, per thread, kept between records; uninitialized, unlike a string's
// growth, which would zero the bound's bytes (several times what is written) on every record.
class Scratch {
 public:
  char* get(size_t bytes) {
    if (bytes > capacity_) {
      capacity_ = std::max(bytes, 2 * capacity_);
      buffer_.reset(new char[capacity_]);
    }
    return buffer_.get();
  }
  // After a huge record (a 1 MiB field bounds at 6 MiB), so a thread does not keep its room.
  void trim() {
    if (capacity_ <= kKeptBytes) return;
    buffer_.reset();
    capacity_ = 0;
  }

 private:
  static constexpr size_t kKeptBytes = 1 << 20;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
};

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  const size_t old = out.size();
  out.resize(old + json_string_bound(s.size()));
  out.resize(static_cast<size_t>(write_json_string(out.data() + old, s) - out.data()));
}

void append_valid_utf8(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  out.reserve(out.size() + s.size());
  for (size_t i = 0; i < s.size();) {
    if (p[i] < 0x80) {
      out.push_back(static_cast<char>(p[i++]));
      continue;
    }
    const int len = utf8_sequence(p, s.size(), i);
    if (len > 0) {
      out.append(s.substr(i, static_cast<size_t>(len)));
      i += static_cast<size_t>(len);
    } else {
      out.append("\xEF\xBF\xBD");
      i += static_cast<size_t>(-len);
    }
  }
}

void append_json_double(std::string& out, double d) {
  char buf[kMaxDoubleBytes];
  out.append(buf, static_cast<size_t>(write_json_double(buf, d) - buf));
}

void append_json_value(std::string& out, const Value& v) {
  if (v.kind() == ValueKind::kObject) {
    // A nested record reads like a top-level one: its `ts` first, as RFC 3339.
    append_record_json(out, *v.as_object(), {});
    return;
  }
  const size_t old = out.size();
  out.resize(old + value_bound(v));
  out.resize(static_cast<size_t>(write_json_value(out.data() + old, v) - out.data()));
}

void append_record_json(std::string& out, const Record& record, std::string_view stream) {
  // `ts` is Record::ts, written first; a `stream` field (an input event may carry one) is
  // replaced by the producing stream's name (SPEC §6), so no key is ever written twice.
  const auto skipped = [&](const Field& f) {
    return f.id == field::kTs || (f.id == field::kStream && !stream.empty());
  };
  static thread_local std::vector<KeyPrefix> prefixes;
  std::vector<KeyPrefix>& cache = prefixes;
  // Nested records (an alert's `record`) are written first, to know their size.
  std::string nested;
  std::vector<size_t> nested_ends;
  // The slack lets a key prefix be copied as its whole fixed slot.
  size_t bound = sizeof R"({"stream":,"ts":""})" + json_string_bound(stream.size()) +
                 kMaxRfc3339Bytes + KeyPrefix::kInline;
  for (const Field& f : record.fields()) {
    if (skipped(f)) continue;
    bound += 1 + key_prefix(cache, f.id).view().size();
    if (f.value.kind() == ValueKind::kObject) {
      append_record_json(nested, *f.value.as_object(), {});
      nested_ends.push_back(nested.size());
    } else {
      bound += value_bound(f.value);
    }
  }
  bound += nested.size();

  static thread_local Scratch scratch;
  char* const begin = scratch.get(bound);
  char* w = begin;
  const auto put = [&](std::string_view bytes) {
    std::memcpy(w, bytes.data(), bytes.size());
    w += bytes.size();
  };
  *w++ = '{';
  if (!stream.empty()) {
    put(R"("stream":)");
    w = write_json_string(w, stream);
    *w++ = ',';
  }
  put(R"("ts":")");
  w = write_rfc3339(w, record.ts);
  *w++ = '"';
  size_t nested_begin = 0;
  size_t next_nested = 0;
  for (const Field& f : record.fields()) {
    if (skipped(f)) continue;
    *w++ = ',';
    const KeyPrefix& prefix = cache[f.id];  // made in the first pass
    if (prefix.long_form.empty()) {
      std::memcpy(w, prefix.bytes, KeyPrefix::kInline);
      w += prefix.size;
    } else {
      put(prefix.long_form);
    }
    if (f.value.kind() == ValueKind::kObject) {
      const size_t nested_end = nested_ends[next_nested++];
      put(std::string_view(nested).substr(nested_begin, nested_end - nested_begin));
      nested_begin = nested_end;
    } else {
      w = write_json_value(w, f.value);
    }
  }
  *w++ = '}';
  out.append(begin, static_cast<size_t>(w - begin));
  scratch.trim();
}

}  // namespace licflow
