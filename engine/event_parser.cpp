// SPEC §1 "Events (input)": one JSON Lines event -> Record, or the dead-letter reason.
//
// Decisions where SPEC §1 is silent (to be listed in the README):
// - Duplicate keys: the last one wins, for validation as for the value (as Python's json and most
//   JSON-to-map readers do); the field keeps the position of its first occurrence.
// - `type: null` / `ts: null` are wrong types (both are required), not "missing".
// - Numbers are parsed from the raw token with std::from_chars rather than simdjson's
//   get_number/get_double: simdjson 3.0.1 returns wrong values for some floats with more than 19
//   significant digits (e.g. get_double("0.1234567890123456789012345") == 1.096e-07).
// - A number too large for a double (`1e400`) is invalid JSON; one too small becomes ±0.0.
// - A UTF-8 byte-order mark is invalid JSON (as in Python's json.loads and serde_json).
// - A `ts` outside the years 0000 to 9999 (UTC) is out of range: outputs write RFC 3339 times,
//   which cannot name it. In practice it is a time in micro- or nanoseconds.
#include "engine/event_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine/time_format.h"

namespace licflow {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

constexpr FieldId kNoField = ~FieldId{0};
constexpr size_t kMaxCachedNames = 4096;    // bounds memory for streams of random field names
constexpr size_t kMaxRetainedSlots = 4096;  // per-line scratch kept between lines
constexpr size_t kMaxQuotedBytes = 64;      // of a user's value quoted in an error message

enum class EventType : uint8_t {
  kCheckout,
  kCheckin,
  kDenied,
  kQueued,
  kDequeued,
  kServerUp,
  kServerDown,
  kMetric,
  kUnknown
};

constexpr bool is_license_type(EventType t) { return t <= EventType::kDequeued; }

EventType classify_type(std::string_view s) {
  switch (s.size()) {
    case 6:
      if (s == "denied") return EventType::kDenied;
      if (s == "queued") return EventType::kQueued;
      if (s == "metric") return EventType::kMetric;
      break;
    case 7:
      if (s == "checkin") return EventType::kCheckin;
      break;
    case 8:
      if (s == "checkout") return EventType::kCheckout;
      if (s == "dequeued") return EventType::kDequeued;
      break;
    case 9:
      if (s == "server_up") return EventType::kServerUp;
      break;
    case 11:
      if (s == "server_down") return EventType::kServerDown;
      break;
  }
  return EventType::kUnknown;
}

// The fields SPEC §1 gives a type; everything else is kept as it comes.
FieldId known_field(const char* p, size_t n) {
  auto is = [&](const char* name) { return std::memcmp(p, name, n) == 0; };
  switch (n) {
    case 2:
      if (is("ts")) return field::kTs;
      break;
    case 4:
      if (is("type")) return field::kType;
      if (is("user")) return field::kUser;
      if (is("host")) return field::kHost;
      break;
    case 5:
      if (is("count")) return field::kCount;
      if (is("group")) return field::kGroup;
      break;
    case 6:
      if (is("server")) return field::kServer;
      if (is("handle")) return field::kHandle;
      if (is("reason")) return field::kReason;
      if (is("vendor")) return field::kVendor;
      break;
    case 7:
      if (is("feature")) return field::kFeature;
      if (is("project")) return field::kProject;
      if (is("version")) return field::kVersion;
      break;
    case 8:
      if (is("capacity")) return field::kCapacity;
      break;
  }
  return kNoField;
}

constexpr bool is_known_string_field(FieldId id) {
  return id == field::kServer || id == field::kFeature || id == field::kUser ||
         id == field::kHost || id == field::kGroup || id == field::kProject ||
         id == field::kVendor || id == field::kVersion || id == field::kHandle ||
         id == field::kReason;
}

// A JSON value read and validated down to what a Record can hold.
struct Scalar {
  enum class Kind : uint8_t { kNull, kBool, kInt, kDouble, kString, kComposite };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  // Into the line, or into the parser's string buffer: valid until the next iterate().
  std::string_view s;
};

// The first '"' or '\\' at or after `p`, sixteen bytes at a time (SSE2, which every x86-64 has;
// elsewhere eight, in a 64-bit word): most keys and values are shorter than one step.
// REQUIRES: one occurs before the line's padding ends (the closing quote of a string stage 1
// found), so the reads stay within the padded buffer.
inline const char* find_quote_or_backslash(const char* p) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (;; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto found = static_cast<uint32_t>(_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash))));
    if (found != 0) return p + std::countr_zero(found);
  }
#else
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  for (;; p += 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    const uint64_t quotes = word ^ (kOnes * '"');
    const uint64_t backslashes = word ^ (kOnes * '\\');
    // A zero byte marks a match; borrows can only mark bytes after the first true match.
    const uint64_t found = ((quotes - kOnes) & ~quotes & kHighs) |
                           ((backslashes - kOnes) & ~backslashes & kHighs);
    if (found != 0) return p + (std::countr_zero(found) >> 3);
  }
#endif
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Parses one JSON number token (RFC 8259 grammar) into an int64 when it is an integer literal
// that fits, else into a double. Returns false when it is not a JSON number or overflows a double.
bool parse_number_token_slow(std::string_view tok, Scalar& out);

// The common case first, checked and converted in one pass: an integer literal of at most 18
// digits (`ts`, `count`, `capacity`), which cannot overflow an int64.
inline bool parse_number_token(std::string_view tok, Scalar& out) {
  const char* p = tok.data();
  const char* const end = p + tok.size();
  const bool negative = p < end && *p == '-';
  p += negative;
  const char* const digits = p;
  const char* const last = digits + std::min<std::ptrdiff_t>(end - digits, 18);
  const auto is_digit = [](char c) { return static_cast<unsigned char>(c - '0') < 10; };
  int64_t v = 0;
  while (p < last && is_digit(*p)) v = v * 10 + (*p++ - '0');
  const auto n = static_cast<size_t>(p - digits);
  if (n == 0 || (p < end && is_digit(*p)) || (*digits == '0' && n > 1)) {
    return parse_number_token_slow(tok, out);  // not a plain integer, or 19 digits or more
  }
  while (p < end && is_json_space(*p)) ++p;
  if (p != end) return parse_number_token_slow(tok, out);
  out.kind = Scalar::Kind::kInt;
  out.i = negative ? -v : v;
  return true;
}

bool parse_number_token_slow(std::string_view tok, Scalar& out) {
  while (!tok.empty() && is_json_space(tok.back())) tok.remove_suffix(1);
  const char* const begin = tok.data();
  const char* const end = begin + tok.size();
  const char* p = begin;
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  if (p == end) return false;
  const char* const int_begin = p;
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    while (p < end && *p >= '0' && *p <= '9') ++p;
  } else {
    return false;
  }
  const char* const int_end = p;
  bool integral = true;
  if (p < end && *p == '.') {
    ++p;
    const char* digits = p;
    while (p < end && *p >= '0' && *p <= '9') ++p;
    if (p == digits) return false;
    integral = false;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    const char* digits = p;
    while (p < end && *p >= '0' && *p <= '9') ++p;
    if (p == digits) return false;
    integral = false;
  }
  if (p != end) return false;

  if (integral) {
    const size_t ndigits = static_cast<size_t>(int_end - int_begin);
    if (ndigits <= 18) {  // cannot overflow int64
      int64_t v = 0;
      for (const char* q = int_begin; q < int_end; ++q) v = v * 10 + (*q - '0');
      out.kind = Scalar::Kind::kInt;
      out.i = negative ? -v : v;
      return true;
    }
    int64_t v;
    if (std::from_chars(begin, end, v).ec == std::errc()) {
      out.kind = Scalar::Kind::kInt;
      out.i = v;
      return true;
    }
    // Out of int64 range: SPEC §1 keeps it as a number, so it becomes a double below.
  }
  double d;
  const auto r = std::from_chars(begin, end, d);
  if (r.ec == std::errc::result_out_of_range) {
    // from_chars reports underflow and overflow alike; only overflow is unrepresentable.
    // Decimal exponent of the leading significant digit decides which one it was.
    int64_t e10 = 0;
    const char* q = int_begin;
    while (q < int_end && *q == '0') ++q;
    if (q < int_end) {
      e10 = int_end - q - 1;
    } else {
      const char* f = int_end + (int_end < end && *int_end == '.');
      const char* f0 = f;
      while (f < end && *f == '0') ++f;
      e10 = -(f - f0) - 1;
    }
    const char* e = int_end;
    while (e < end && *e != 'e' && *e != 'E') ++e;
    if (e < end) {
      int64_t ev = 0;
      const char* x = e + 1;
      const bool eneg = *x == '-';
      if (*x == '+' || *x == '-') ++x;
      for (; x < end && ev < 100000; ++x) ev = ev * 10 + (*x - '0');
      e10 += eneg ? -ev : ev;
    }
    if (e10 >= 0) return false;
    d = negative ? -0.0 : 0.0;
  } else if (r.ec != std::errc() || r.ptr != end) {
    return false;
  }
  out.kind = Scalar::Kind::kDouble;
  out.d = d;
  return true;
}

// Nesting limit for dropped values, kept well below the parser's max_depth (1024), which debug
// builds of simdjson assert on. On Demand does not enforce a limit itself, and
// a 1 MiB line of `[` would otherwise overflow the stack of the recursive walk below.
constexpr int kMaxDepth = 512;

// Walks an array or object that is dropped from the record, so that it still has to be valid JSON
// (simdjson would otherwise skip it by bracket counting alone). `depth` counts enclosing values.
error_code validate_composite(od::value& v, od::json_type type, int depth);

// Inlined into the per-field loop, which runs it for every field of every line; arrays and
// objects, rare in events, take the out-of-line call.
// A string without a backslash is valid as it stands (stage 1 checked its UTF-8): `out.s` then
// points into the input line instead of a copy unescaped into the parser's buffer.
[[gnu::always_inline]] inline error_code read_scalar(od::value& v, Scalar& out, int depth = 1) {
  od::json_type type;
  if (auto err = v.type().get(type)) return err;
  switch (type) {
    case od::json_type::string: {
      out.kind = Scalar::Kind::kString;
      // The first quote or backslash after the opening quote: the closing quote when the
      // string has no escape.
      const char* const begin = v.raw_json_token().data() + 1;
      const char* const stop = find_quote_or_backslash(begin);
      if (*stop == '"') {
        out.s = std::string_view(begin, static_cast<size_t>(stop - begin));
        return simdjson::SUCCESS;
      }
      return v.get_string().get(out.s);
    }
    case od::json_type::number:
      return parse_number_token(v.raw_json_token(), out) ? simdjson::SUCCESS
                                                         : simdjson::NUMBER_ERROR;
    case od::json_type::boolean:
      out.kind = Scalar::Kind::kBool;
      return v.get_bool().get(out.b);
    case od::json_type::null: {
      bool is_null = false;
      if (auto err = v.is_null().get(is_null)) return err;
      out.kind = Scalar::Kind::kNull;
      return is_null ? simdjson::SUCCESS : simdjson::INCORRECT_TYPE;
    }
    case od::json_type::array:
    case od::json_type::object:
      out.kind = Scalar::Kind::kComposite;
      return validate_composite(v, type, depth + 1);
  }
  return simdjson::TAPE_ERROR;
}

error_code validate_composite(od::value& v, od::json_type type, int depth) {
  if (depth > kMaxDepth) return simdjson::DEPTH_ERROR;
  Scalar ignored;
  if (type == od::json_type::array) {
    od::array arr;
    if (auto err = v.get_array().get(arr)) return err;
    for (auto element : arr) {
      od::value ev;
      if (auto err = element.get(ev)) return err;
      if (auto err = read_scalar(ev, ignored, depth)) return err;
    }
    return simdjson::SUCCESS;
  }
  od::object obj;
  if (auto err = v.get_object().get(obj)) return err;
  for (auto f : obj) {
    if (auto err = f.error()) return err;
    std::string_view key;  // unescaping validates the key's escapes
    if (auto err = f.unescaped_key().get(key)) return err;
    od::value fv = f.value();
    if (auto err = read_scalar(fv, ignored, depth)) return err;
  }
  return simdjson::SUCCESS;
}

// Bytes of `s` for an error message: at most kMaxQuotedBytes, cut on a UTF-8 boundary.
std::string_view quoted(std::string_view s) {
  if (s.size() <= kMaxQuotedBytes) return s;
  size_t n = kMaxQuotedBytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace

struct EventParser::Impl {
  od::parser parser;
  // Field name bytes -> id for names outside SPEC §1's list; saves intern_field's lock and hash.
  std::unordered_map<std::string, FieldId, NameHash, std::equal_to<>> names;

  // The line's fields are built in place on the output record, in first-occurrence order, and
  // indexed by id, so a duplicate key is replaced in O(1): a 1 MiB line of duplicate keys stays
  // linear. Ids below 64 (SPEC §1's fields among them) are bits of `seen_low`, at slot
  // slot_low[id]; the others are at slot_of[id] when seen[id] == generation (stamps avoid
  // clearing per line).
  std::vector<Field>* fields = nullptr;
  uint64_t seen_low = 0;
  uint32_t slot_low[64];
  std::vector<uint32_t> seen;
  std::vector<uint32_t> slot_of;
  uint32_t generation = 0;
  // absent[i] != 0 (i < absent.size()): field i is a null known optional field, a dropped
  // array/object or a wrong-typed known field. It is not written, but it holds the key's
  // position in case a later duplicate key revives it. Such fields, and the placeholders of a
  // projection, are removed at the end.
  std::vector<uint8_t> absent;
  bool needs_compaction = false;
  size_t expected_fields = 8;  // the field count to make room for (finish_record)
  size_t narrower_lines = 0;   // lines since the last one of expected_fields or more
  size_t spare_fields = 0;     // room for fields the consumers add (EventParser::parse)

  FieldId lookup(std::string_view name) {
    if (FieldId id = known_field(name.data(), name.size()); id != kNoField) return id;
    if (auto it = names.find(name); it != names.end()) return it->second;
    const FieldId id = intern_field(name);
    if (names.size() < kMaxCachedNames) names.emplace(name, id);
    return id;
  }

  void begin_record(Record& out) {
    seen_low = 0;
    if (++generation == 0) {  // wrapped: old stamps could collide
      std::fill(seen.begin(), seen.end(), 0);
      generation = 1;
    }
    // Keep the scratch capacity for the next line, unless a huge line inflated it.
    if (absent.capacity() > kMaxRetainedSlots) {
      absent = std::vector<uint8_t>();
    } else {
      absent.clear();
    }
    needs_compaction = false;
    fields = &out.mutable_fields();
    fields->reserve(expected_fields + spare_fields);
  }

  Field* find(FieldId id) {
    if (id < 64) return (seen_low >> id) & 1 ? &(*fields)[slot_low[id]] : nullptr;
    if (id >= seen.size() || seen[id] != generation) return nullptr;
    return &(*fields)[slot_of[id]];
  }

  void set_absent(const Field* f, bool value) {
    const auto slot = static_cast<size_t>(f - fields->data());
    if (slot >= absent.size()) {
      if (!value) return;
      absent.resize(slot + 1, 0);
    }
    absent[slot] = value;
  }
  bool absent_at(size_t slot) const { return slot < absent.size() && absent[slot] != 0; }

  // The projection of the line being parsed; null: every field.
  const FieldMask* keep = nullptr;
  bool kept(FieldId id) const { return keep == nullptr || keep->contains(id); }

  // A field left out by the projection takes no slot, except `feature` and `server`, whose
  // presence the rules below check: theirs holds a null instead of the value.
  template <typename V>
  [[gnu::always_inline]] void put(FieldId id, V&& v) {
    if (kept(id)) {
      place(id, std::forward<V>(v));
    } else if (id == field::kFeature || id == field::kServer) {
      place(id, Value());
      needs_compaction = true;
    }
  }

  template <typename V>
  void place(FieldId id, V&& v) {
    if (Field* f = find(id)) {  // duplicate key: the last value wins, at the first position
      f->value = Value(std::forward<V>(v));
      set_absent(f, false);
      return;
    }
    const auto slot = static_cast<uint32_t>(fields->size());
    if (id < 64) {
      seen_low |= uint64_t{1} << id;
      slot_low[id] = slot;
    } else {
      if (id >= seen.size()) {
        seen.resize(static_cast<size_t>(id) + 1, 0);
        slot_of.resize(seen.size());
      }
      seen[id] = generation;
      slot_of[id] = slot;
    }
    fields->emplace_back(std::in_place, id, std::forward<V>(v));
  }

  void put_absent(FieldId id) {
    put(id, Value());
    if (Field* f = find(id)) {
      set_absent(f, true);
      needs_compaction = true;
    }
  }

  bool is_absent(FieldId id) {
    const Field* f = find(id);
    return f == nullptr || absent_at(static_cast<size_t>(f - fields->data()));
  }

  // Removes the absent fields and the projection's placeholders, keeping the order of the rest.
  void finish_record() {
    // The widest recent line, forgotten one field per 32 narrower lines: streams mix a few
    // shapes (metric, checkout, checkin), and room for the narrower would make the wider move
    // (below).
    if (fields->size() >= expected_fields) {
      expected_fields = std::min<size_t>(fields->size(), 64);
      narrower_lines = 0;
    } else if (++narrower_lines % 32 == 0) {
      --expected_fields;
    }
    // A line of another shape than the last outgrew the room reserved for it.
    if (fields->capacity() < fields->size() + spare_fields) {
      fields->reserve(fields->size() + spare_fields);
    }
    if (!needs_compaction) return;
    size_t out = 0;
    for (size_t i = 0; i < fields->size(); ++i) {
      Field& f = (*fields)[i];
      if (absent_at(i) || !kept(f.id)) continue;
      if (out != i) (*fields)[out] = std::move(f);
      ++out;
    }
    fields->erase(fields->begin() + static_cast<std::ptrdiff_t>(out), fields->end());
  }

  bool parse(const char* data, size_t len, size_t capacity, Record& out, std::string& error);
};

namespace {

std::string invalid_json(error_code err) {
  std::string msg = "invalid JSON: ";
  msg += simdjson::error_message(err);
  return msg;
}

std::string field_message(std::string_view name, const char* what) {
  std::string msg = "field `";
  msg += quoted(name);
  msg += "`: ";
  msg += what;
  return msg;
}

// Decides between "not a JSON object" and "invalid JSON" for a document that is not an object.
std::string describe_non_object(od::document& doc, const char* end) {
  od::json_type type;
  if (auto err = doc.type().get(type)) return invalid_json(err);
  error_code err = simdjson::SUCCESS;
  Scalar s;
  switch (type) {
    case od::json_type::array: {
      od::value v;
      err = doc.get_value().get(v);
      if (!err) err = validate_composite(v, type, 1);
      break;
    }
    case od::json_type::number: {
      // Reading the raw token does not advance the document, so the trailing check below would
      // see the number itself; the token (with its trailing spaces) must reach the line's end.
      std::string_view tok;
      err = doc.raw_json_token().get(tok);
      if (!err && !parse_number_token(tok, s)) err = simdjson::NUMBER_ERROR;
      if (err) return invalid_json(err);
      if (tok.data() + tok.size() != end) return "invalid JSON: trailing content after the value";
      return "not a JSON object";
    }
    case od::json_type::string:
      err = doc.get_string().get(s.s);
      break;
    case od::json_type::boolean:
      err = doc.get_bool().get(s.b);
      break;
    case od::json_type::null: {
      bool is_null = false;
      err = doc.is_null().get(is_null);
      if (!err && !is_null) err = simdjson::INCORRECT_TYPE;
      break;
    }
    case od::json_type::object:
      break;
  }
  if (err) return invalid_json(err);
  const char* rest;
  if (!doc.current_location().get(rest)) return "invalid JSON: trailing content after the value";
  return "not a JSON object";
}

}  // namespace

bool EventParser::Impl::parse(const char* data, size_t len, size_t capacity, Record& out,
                              std::string& error) {
  out = Record();
  begin_record(out);

  od::document doc;
  if (auto err = parser.iterate(data, len, capacity).get(doc)) {
    error = invalid_json(err);
    return false;
  }
  od::object obj;
  if (auto err = doc.get_object().get(obj)) {
    error =
        err == simdjson::INCORRECT_TYPE ? describe_non_object(doc, data + len) : invalid_json(err);
    return false;
  }

  // Semantic state: the last occurrence of each key decides (duplicate keys: last one wins).
  enum class TsState : uint8_t { kMissing, kOk, kBad };
  TsState ts_state = TsState::kMissing;
  bool type_seen = false;
  bool type_is_string = false;
  std::string_view type_text;
  uint32_t bad_fields = 0;  // bit per known FieldId whose last value has the wrong type

  Scalar sc;
  for (auto result : obj) {
    if (auto err = result.error()) {
      error = invalid_json(err);
      return false;
    }
    // A reference into `result`, not a copy: copying a field (as get() does) costs a
    // store-forwarding stall per field, about a tenth of the time of parsing a line.
    od::field&& f = std::move(result).value_unsafe();
    // Fast path: keys without escapes are looked up straight from the input bytes.
    std::string_view name;
    const char* k = f.key().raw();
    const char* q = find_quote_or_backslash(k);
    if (*q == '"') {
      name = std::string_view(k, static_cast<size_t>(q - k));
    } else if (auto err = f.unescaped_key().get(name)) {
      error = invalid_json(err);
      return false;
    }
    const FieldId id = lookup(name);

    od::value& v = f.value();
    if (auto err = read_scalar(v, sc)) {
      error = invalid_json(err);
      error += " (field `";
      error += quoted(name);
      error += "`)";
      return false;
    }

    using Kind = Scalar::Kind;
    if (id == field::kTs) {
      ts_state = TsState::kBad;
      if (sc.kind == Kind::kInt) {
        out.ts = sc.i;
        ts_state = TsState::kOk;
      } else if (sc.kind == Kind::kString) {
        if (auto ms = parse_rfc3339(sc.s)) {
          out.ts = *ms;
          ts_state = TsState::kOk;
        }
      }
    } else if (id == field::kType) {
      type_seen = true;
      type_is_string = sc.kind == Kind::kString;
      if (type_is_string) type_text = sc.s;
      // A wrong type still claims the key's position, as the first occurrence of a duplicate key.
      if (type_is_string) {
        put(id, sc.s);
      } else {
        put_absent(id);
      }
    } else if (is_known_string_field(id)) {
      const uint32_t bit = 1u << id;
      bad_fields &= ~bit;
      if (sc.kind == Kind::kString) {
        put(id, sc.s);
      } else {
        put_absent(id);
        if (sc.kind != Kind::kNull) bad_fields |= bit;
      }
    } else if (id == field::kCount || id == field::kCapacity) {
      const uint32_t bit = 1u << id;
      bad_fields &= ~bit;
      const int64_t min = id == field::kCount ? 1 : 0;
      if (sc.kind == Kind::kInt && sc.i >= min) {
        put(id, sc.i);
      } else {
        put_absent(id);
        if (sc.kind != Kind::kNull) bad_fields |= bit;
      }
    } else {
      switch (sc.kind) {
        case Kind::kNull:
          put(id, Value());
          break;
        case Kind::kBool:
          put(id, sc.b);
          break;
        case Kind::kInt:
          put(id, sc.i);
          break;
        case Kind::kDouble:
          put(id, sc.d);
          break;
        case Kind::kString:
          put(id, sc.s);
          break;
        case Kind::kComposite:
          put_absent(id);
          break;  // SPEC §1: dropped, not an error
      }
    }
  }

  // Only one JSON value per line: `{…}{…}` or `{…}}` leave tokens behind the object.
  const char* rest;
  if (!doc.current_location().get(rest)) {
    error = "invalid JSON: trailing content after the object";
    return false;
  }

  if (ts_state == TsState::kMissing) {
    error = "missing field `ts`";
    return false;
  }
  if (ts_state == TsState::kBad) {
    error = "field `ts`: expected integer milliseconds or an RFC 3339 string";
    return false;
  }
  if (out.ts < kEarliestEventTime || out.ts > kLatestEventTime) {
    error = "field `ts`: out of range: milliseconds within the years 0000 to 9999 expected";
    return false;
  }
  if (!type_seen) {
    error = "missing field `type`";
    return false;
  }
  if (!type_is_string) {
    error = "field `type`: expected a string";
    return false;
  }
  const EventType type = classify_type(type_text);
  if (type == EventType::kUnknown) {
    error = "unknown type `";
    error += quoted(type_text);
    error += "`";
    return false;
  }
  if (bad_fields != 0) {
    const auto id = static_cast<FieldId>(std::countr_zero(bad_fields));
    const char* what = id == field::kCount      ? "expected an integer >= 1"
                       : id == field::kCapacity ? "expected an integer >= 0"
                                                : "expected a string";
    error = field_message(field_name(id), what);
    return false;
  }

  if (is_license_type(type) && is_absent(field::kFeature)) {
    error = "missing field `feature` for type `";
    error += type_text;
    error += "`";
    return false;
  }

  // SPEC §1: `server` defaults to "default", written onto the record (in place of a null).
  if (is_absent(field::kServer)) put(field::kServer, std::string_view("default"));
  finish_record();
  return true;
}

EventParser::EventParser() : impl_(std::make_unique<Impl>()) {}
EventParser::~EventParser() = default;

bool EventParser::parse(const char* data, size_t len, size_t capacity, Record& out,
                        std::string& error, const FieldMask* keep, size_t spare_fields) {
  impl_->keep = keep;
  impl_->spare_fields = spare_fields;
  return impl_->parse(data, len, capacity, out, error);
}

}  // namespace licflow
