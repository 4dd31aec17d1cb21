#include "operators/key.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/hash.h"
#include "engine/json_writer.h"

namespace licflow {

std::optional<std::vector<std::string>> read_key_fields(NodeConfig& config,
                                                        const std::vector<std::string>& reserved,
                                                        const std::string& clash) {
  auto key = config.get_string_list("key", false);
  if (!key) return key;
  for (auto it = key->begin(); it != key->end(); ++it) {
    if (std::find(key->begin(), it, *it) != it) {
      config.error("key", "`" + config.id() + "`: `key` lists `" + *it + "` twice");
    } else if (std::find(reserved.begin(), reserved.end(), *it) != reserved.end()) {
      config.error("key", "`" + config.id() + "`: `" + *it + "` cannot be a key field of " + clash);
    }
  }
  return key;
}

namespace {

// The value of key field `id` of `record`, or null when it is missing; `ts` is the record's
// event time, built in `ts_value`.
const Value* key_value(const Record& record, FieldId id, Value& ts_value) {
  if (id != field::kTs) return record.find(id);
  ts_value = Value(record.ts);
  return &ts_value;
}

// The kind a key value is keyed by, with `as_int` set when that is an integer. A double with an
// integral value in int64's range is keyed as that integer: 1 and 1.0 (and 0 and -0.0) are one
// key, as SPEC §4's `==` makes them equal (and as a Python dict keys them).
ValueKind key_kind(const Value& v, int64_t& as_int) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (v.is_int()) {
    as_int = v.as_int();
    return ValueKind::kInt;
  }
  if (v.is_double()) {
    const double d = v.as_double();
    if (d >= -kTwo63 && d < kTwo63 && d == std::trunc(d)) {
      as_int = static_cast<int64_t>(d);
      return ValueKind::kInt;
    }
  }
  return v.kind();
}

}  // namespace

KeyFields::KeyFields(const std::vector<std::string>& names) {
  for (const std::string& n : names) ids_.push_back(intern_field(n));
}

namespace {

// One key field's step of the hash: seeded with its kind and the fields before it, as encode()
// tags them, so distinct kinds never collide.
uint64_t hash_step(uint64_t h, ValueKind kind, const void* bytes, size_t size) {
  return XXH3_64bits_withSeed(bytes, size,
                              h ^ (static_cast<uint64_t>(kind) + 1) * 0x9E3779B97F4A7C15ull);
}

// The bytes encode() writes for a string-like value: its length, then the bytes.
uint32_t read_size(std::string_view encoded, size_t pos) {
  uint32_t size;
  std::memcpy(&size, encoded.data() + pos, sizeof size);
  return size;
}

}  // namespace

std::optional<uint64_t> KeyFields::hash(const Record& record) const {
  uint64_t h = 0;
  for (FieldId id : ids_) {
    Value ts_value;
    const Value* v = key_value(record, id, ts_value);
    if (v == nullptr) return std::nullopt;
    int64_t as_int = 0;
    const ValueKind kind = key_kind(*v, as_int);
    switch (kind) {
      case ValueKind::kNull:
        h = hash_step(h, kind, nullptr, 0);
        break;
      case ValueKind::kBool: {
        const char b = v->as_bool() ? '1' : '0';
        h = hash_step(h, kind, &b, 1);
        break;
      }
      case ValueKind::kInt:
        h = hash_step(h, kind, &as_int, sizeof as_int);
        break;
      case ValueKind::kDouble: {
        const double d = v->as_double();
        h = hash_step(h, kind, &d, sizeof d);
        break;
      }
      case ValueKind::kString:
        h = hash_step(h, kind, v->as_string().data(), v->as_string().size());
        break;
      case ValueKind::kObject: {
        std::string json;
        append_json_value(json, *v);
        h = hash_step(h, kind, json.data(), json.size());
        break;
      }
    }
  }
  return h;
}

uint64_t KeyFields::hash_encoded(std::string_view encoded) {
  // Checkpoints are read before they are trusted: bytes that are no key still get a hash.
  const auto malformed = [&] { return XXH3_64bits(encoded.data(), encoded.size()); };
  uint64_t h = 0;
  for (size_t pos = 0; pos < encoded.size();) {
    const auto kind = static_cast<ValueKind>(encoded[pos++]);
    size_t size = 0;
    switch (kind) {
      case ValueKind::kNull:
        break;
      case ValueKind::kBool:
        size = 1;
        break;
      case ValueKind::kInt:
      case ValueKind::kDouble:
        size = 8;
        break;
      case ValueKind::kString:
      case ValueKind::kObject:
        if (encoded.size() - pos < sizeof(uint32_t)) return malformed();
        size = read_size(encoded, pos);
        pos += sizeof(uint32_t);
        break;
      default:
        return malformed();
    }
    if (encoded.size() - pos < size) return malformed();
    h = hash_step(h, kind, encoded.data() + pos, size);
    pos += size;
  }
  return h;
}

bool KeyFields::matches(const Record& record, std::string_view encoded) const {
  size_t pos = 0;
  for (FieldId id : ids_) {
    Value ts_value;
    const Value* v = key_value(record, id, ts_value);
    if (v == nullptr) return false;
    int64_t as_int = 0;
    const ValueKind kind = key_kind(*v, as_int);
    if (pos >= encoded.size() || static_cast<ValueKind>(encoded[pos]) != kind) return false;
    ++pos;
    std::string json;
    std::string_view bytes;
    switch (kind) {
      case ValueKind::kNull:
        continue;
      case ValueKind::kBool:
        if (pos >= encoded.size() || encoded[pos] != (v->as_bool() ? '1' : '0')) return false;
        ++pos;
        continue;
      case ValueKind::kInt:
        bytes = std::string_view(reinterpret_cast<const char*>(&as_int), sizeof as_int);
        break;
      case ValueKind::kDouble: {
        const double d = v->as_double();
        std::memcpy(&as_int, &d, sizeof d);  // the double's bytes, as encode() writes them
        bytes = std::string_view(reinterpret_cast<const char*>(&as_int), sizeof d);
        break;
      }
      case ValueKind::kString:
      case ValueKind::kObject:
        if (kind == ValueKind::kObject) append_json_value(json, *v);
        bytes = kind == ValueKind::kString ? std::string_view(v->as_string()) : json;
        if (encoded.size() - pos < sizeof(uint32_t) || read_size(encoded, pos) != bytes.size()) {
          return false;
        }
        pos += sizeof(uint32_t);
        break;
    }
    if (encoded.size() - pos < bytes.size() ||
        std::memcmp(encoded.data() + pos, bytes.data(), bytes.size()) != 0) {
      return false;
    }
    pos += bytes.size();
  }
  return pos == encoded.size();
}

bool KeyFields::encode(const Record& record, std::string& out) const {
  out.clear();
  for (FieldId id : ids_) {
    Value ts_value;
    const Value* v = key_value(record, id, ts_value);
    if (v == nullptr) return false;
    int64_t as_int = 0;
    const ValueKind kind = key_kind(*v, as_int);
    // Kind tag + fixed-width or length-prefixed bytes: distinct values never collide.
    out.push_back(static_cast<char>(kind));
    switch (kind) {
      case ValueKind::kNull:
        break;
      case ValueKind::kBool:
        out.push_back(v->as_bool() ? '1' : '0');
        break;
      case ValueKind::kInt: {
        const int64_t i = as_int;
        out.append(reinterpret_cast<const char*>(&i), sizeof i);
        break;
      }
      case ValueKind::kDouble: {
        double d = v->as_double();
        out.append(reinterpret_cast<const char*>(&d), sizeof d);
        break;
      }
      case ValueKind::kString: {
        auto size = static_cast<uint32_t>(v->as_string().size());
        out.append(reinterpret_cast<const char*>(&size), sizeof size);
        out.append(v->as_string());
        break;
      }
      case ValueKind::kObject: {
        // Its JSON text: equal contents are one key, as for the other kinds.
        std::string json;
        append_json_value(json, *v);
        auto size = static_cast<uint32_t>(json.size());
        out.append(reinterpret_cast<const char*>(&size), sizeof size);
        out.append(json);
        break;
      }
    }
  }
  return true;
}

}  // namespace licflow
