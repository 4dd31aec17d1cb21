// Keys of keyed operators (operators/key.h): the hash of a record's key, the same hash of its
// encoded bytes, and matching a record against encoded bytes without encoding it.
#include "operators/key.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

using namespace licflow;

namespace {

Record record_of(std::vector<std::pair<std::string, Value>> fields, int64_t ts = 0) {
  Record r;
  r.ts = ts;
  for (auto& [name, value] : fields) r.set(intern_field(name), std::move(value));
  return r;
}

}  // namespace

TEST_CASE("a key's hash is the same from the record and from its encoded bytes", "[key]") {
  const KeyFields keys({"a", "b", "ts"});
  auto object = std::make_shared<Record>(record_of({{"x", Value(int64_t{1})}}));
  const std::vector<Value> values = {Value(),
                                     Value(true),
                                     Value(false),
                                     Value(int64_t{-7}),
                                     Value(2.0),  // keyed as the integer 2
                                     Value(2.5),
                                     Value(std::string_view("")),
                                     Value(std::string_view("matlab")),
                                     Value(std::string(300, 'x')),  // XXH3's long-input path
                                     Value(std::shared_ptr<const Record>(object))};
  for (const Value& a : values) {
    for (const Value& b : values) {
      const Record r = record_of({{"a", a}, {"b", b}}, 123);
      std::string encoded;
      REQUIRE(keys.encode(r, encoded));
      const std::optional<uint64_t> hash = keys.hash(r);
      REQUIRE(hash);
      CHECK(KeyFields::hash_encoded(encoded) == *hash);
      CHECK(keys.matches(r, encoded));
    }
  }
}

TEST_CASE("a record matches only the encoded bytes of an equal key", "[key]") {
  const KeyFields keys({"server", "feature"});
  std::string encoded;
  REQUIRE(
      keys.encode(record_of({{"server", Value("s1")}, {"feature", Value(int64_t{1})}}), encoded));

  // 1 and 1.0 are one key (SPEC §4 `==`), as encode() makes them.
  CHECK(keys.matches(record_of({{"server", Value("s1")}, {"feature", Value(1.0)}}), encoded));
  CHECK_FALSE(keys.matches(record_of({{"server", Value("s1")}, {"feature", Value("1")}}), encoded));
  CHECK_FALSE(
      keys.matches(record_of({{"server", Value("s")}, {"feature", Value(int64_t{1})}}), encoded));
  CHECK_FALSE(
      keys.matches(record_of({{"server", Value("s10")}, {"feature", Value(int64_t{1})}}), encoded));
  CHECK_FALSE(
      keys.matches(record_of({{"server", Value("s1")}, {"feature", Value(int64_t{2})}}), encoded));
  CHECK_FALSE(keys.matches(record_of({{"server", Value("s1")}, {"feature", Value()}}), encoded));
  CHECK_FALSE(keys.matches(record_of({{"server", Value("s1")}}), encoded));  // missing field
  CHECK_FALSE(keys.hash(record_of({{"server", Value("s1")}})));

  // Bytes cut short or longer than the key never match.
  for (size_t n = 0; n < encoded.size(); ++n) {
    CHECK_FALSE(keys.matches(record_of({{"server", Value("s1")}, {"feature", Value(int64_t{1})}}),
                             encoded.substr(0, n)));
  }
  CHECK_FALSE(keys.matches(record_of({{"server", Value("s1")}, {"feature", Value(int64_t{1})}}),
                           encoded + '\0'));

  // String keys, the common case, compared without building a key part.
  const Record strings = record_of({{"server", Value("s1")}, {"feature", Value("matlab")}});
  REQUIRE(keys.encode(strings, encoded));
  CHECK(keys.matches(strings, encoded));
  CHECK_FALSE(
      keys.matches(record_of({{"server", Value("s1")}, {"feature", Value("matlaB")}}), encoded));
  CHECK_FALSE(
      keys.matches(record_of({{"server", Value("s1")}, {"feature", Value("matla")}}), encoded));
  CHECK_FALSE(
      keys.matches(record_of({{"server", Value("s1")}, {"feature", Value("matlab2")}}), encoded));
  for (size_t n = 0; n < encoded.size(); ++n) {
    CHECK_FALSE(keys.matches(strings, encoded.substr(0, n)));
  }
  CHECK_FALSE(keys.matches(strings, encoded + '\0'));
  // A string never matches the bytes of another kind that happen to hold its length and bytes.
  std::string retagged = encoded;
  retagged[0] = static_cast<char>(ValueKind::kObject);
  CHECK_FALSE(keys.matches(strings, retagged));
}

TEST_CASE("bytes that are no encoded key still hash, without reading past them", "[key]") {
  // A corrupt checkpoint is hashed before it is refused: a length past the end, a cut length,
  // an unknown tag, a cut integer. (The sanitizer build checks the reads.) Every byte counts.
  const std::vector<std::string> garbage = {std::string("\x04\xff\xff\xff\x7f"
                                                        "a",
                                                        6),
                                            std::string("\x04\x01\x00", 3),
                                            std::string("\xfb\x01\x00\x00\x00"
                                                        "a",
                                                        6),
                                            std::string("\x02\x01", 2)};
  for (const std::string& bytes : garbage) {
    CHECK(KeyFields::hash_encoded(bytes) != KeyFields::hash_encoded(bytes + 'x'));
  }
}
