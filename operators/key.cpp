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

std::optional<uint64_t> KeyFields::hash(const Record& record) const {
  uint64_t h = 0;
  for (FieldId id : ids_) {
    Value ts_value;
    const Value* v = key_value(record, id, ts_value);
    if (v == nullptr) return std::nullopt;
    int64_t as_int = 0;
    const ValueKind kind = key_kind(*v, as_int);
    // Seeded with the kind and the fields before: as encode(), distinct kinds never collide.
    const uint64_t seed = h ^ (static_cast<uint64_t>(kind) + 1) * 0x9E3779B97F4A7C15ull;
    switch (kind) {
      case ValueKind::kNull:
        h = XXH3_64bits_withSeed(nullptr, 0, seed);
        break;
      case ValueKind::kBool: {
        const char b = v->as_bool() ? '1' : '0';
        h = XXH3_64bits_withSeed(&b, 1, seed);
        break;
      }
      case ValueKind::kInt: {
        const int64_t i = as_int;
        h = XXH3_64bits_withSeed(&i, sizeof i, seed);
        break;
      }
      case ValueKind::kDouble: {
        const double d = v->as_double();
        h = XXH3_64bits_withSeed(&d, sizeof d, seed);
        break;
      }
      case ValueKind::kString:
        h = XXH3_64bits_withSeed(v->as_string().data(), v->as_string().size(), seed);
        break;
      case ValueKind::kObject: {
        std::string json;
        append_json_value(json, *v);
        h = XXH3_64bits_withSeed(json.data(), json.size(), seed);
        break;
      }
    }
  }
  return h;
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
