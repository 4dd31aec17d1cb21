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

// One key field of a record as it is keyed: its value, and the kind it is keyed by, with
// `as_int` set when that is an integer. A double with an integral value in int64's range is
// keyed as that integer: 1 and 1.0 (and 0 and -0.0) are one key, as SPEC §4's `==` makes them
// equal (and as a Python dict keys them).
struct KeyPart {
  const Value* value = nullptr;
  ValueKind kind = ValueKind::kNull;
  int64_t as_int = 0;
};

// False when the field is missing. The key field `ts` is the record's event time, built in
// `ts_value`.
bool key_part(const Record& record, FieldId id, Value& ts_value, KeyPart& part) {
  if (id == field::kTs) {
    ts_value = Value(record.ts);
    part.value = &ts_value;
  } else {
    part.value = record.find(id);
    if (part.value == nullptr) return false;
  }
  const Value& v = *part.value;
  constexpr double kTwo63 = 9223372036854775808.0;
  part.kind = v.kind();
  if (v.is_int()) {
    part.as_int = v.as_int();
  } else if (v.is_double()) {
    const double d = v.as_double();
    if (d >= -kTwo63 && d < kTwo63 && d == std::trunc(d)) {
      part.kind = ValueKind::kInt;
      part.as_int = static_cast<int64_t>(d);
    }
  }
  return true;
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
    // The common case first: a string (server, feature, user…), hashed as its bytes.
    if (const Value* v = id == field::kTs ? nullptr : record.find(id); v && v->is_string()) {
      h = hash_step(h, ValueKind::kString, v->as_string().data(), v->as_string().size());
      continue;
    }
    Value ts_value;
    KeyPart part;
    if (!key_part(record, id, ts_value, part)) return std::nullopt;
    switch (part.kind) {
      case ValueKind::kNull:
        h = hash_step(h, part.kind, nullptr, 0);
        break;
      case ValueKind::kBool: {
        const char b = part.value->as_bool() ? '1' : '0';
        h = hash_step(h, part.kind, &b, 1);
        break;
      }
      case ValueKind::kInt:
        h = hash_step(h, part.kind, &part.as_int, sizeof part.as_int);
        break;
      case ValueKind::kDouble: {
        const double d = part.value->as_double();
        h = hash_step(h, part.kind, &d, sizeof d);
        break;
      }
      case ValueKind::kString:
        h = hash_step(h, part.kind, part.value->as_string().data(), part.value->as_string().size());
        break;
      case ValueKind::kObject: {
        std::string json;
        append_json_value(json, *part.value);
        h = hash_step(h, part.kind, json.data(), json.size());
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
    // The common case first: a string, encoded as its kind, its length and its bytes.
    if (const Value* v = id == field::kTs ? nullptr : record.find(id); v && v->is_string()) {
      const std::string& s = v->as_string();
      constexpr size_t kHead = 1 + sizeof(uint32_t);
      if (encoded.size() - pos < kHead + s.size() ||
          static_cast<ValueKind>(encoded[pos]) != ValueKind::kString ||
          read_size(encoded, pos + 1) != s.size() ||
          std::memcmp(encoded.data() + pos + kHead, s.data(), s.size()) != 0) {
        return false;
      }
      pos += kHead + s.size();
      continue;
    }
    Value ts_value;
    KeyPart part;
    if (!key_part(record, id, ts_value, part)) return false;
    if (pos >= encoded.size() || static_cast<ValueKind>(encoded[pos]) != part.kind) return false;
    ++pos;
    std::string json;
    double d = 0;
    std::string_view bytes;  // the value's bytes, as encode() writes them
    switch (part.kind) {
      case ValueKind::kNull:
        continue;
      case ValueKind::kBool:
        if (pos >= encoded.size() || encoded[pos] != (part.value->as_bool() ? '1' : '0')) return false;
        ++pos;
        continue;
      case ValueKind::kInt:
        bytes = std::string_view(reinterpret_cast<const char*>(&part.as_int), sizeof part.as_int);
        break;
      case ValueKind::kDouble:
        d = part.value->as_double();
        bytes = std::string_view(reinterpret_cast<const char*>(&d), sizeof d);
        break;
      case ValueKind::kString:
      case ValueKind::kObject:
        if (part.kind == ValueKind::kObject) append_json_value(json, *part.value);
        bytes = part.kind == ValueKind::kString ? std::string_view(part.value->as_string()) : json;
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
    KeyPart part;
    if (!key_part(record, id, ts_value, part)) return false;
    // Kind tag + fixed-width or length-prefixed bytes: distinct values never collide.
    out.push_back(static_cast<char>(part.kind));
    switch (part.kind) {
      case ValueKind::kNull:
        break;
      case ValueKind::kBool:
        out.push_back(part.value->as_bool() ? '1' : '0');
        break;
      case ValueKind::kInt: {
        const int64_t i = part.as_int;
        out.append(reinterpret_cast<const char*>(&i), sizeof i);
        break;
      }
      case ValueKind::kDouble: {
        double d = part.value->as_double();
        out.append(reinterpret_cast<const char*>(&d), sizeof d);
        break;
      }
      case ValueKind::kString: {
        auto size = static_cast<uint32_t>(part.value->as_string().size());
        out.append(reinterpret_cast<const char*>(&size), sizeof size);
        out.append(part.value->as_string());
        break;
      }
      case ValueKind::kObject: {
        // Its JSON text: equal contents are one key, as for the other kinds.
        std::string json;
        append_json_value(json, *part.value);
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
