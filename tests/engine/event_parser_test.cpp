// Tests for SPEC §1 "Events (input)": what a valid event becomes and why a line is a dead letter.
#include "engine/event_parser.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/field_names.h"
#include "engine/record.h"
#include "engine/time_format.h"

namespace licflow {
namespace {

struct Parsed {
  bool ok = false;
  Record record;
  std::string error;
};

// Copies the line into a buffer with kParsePadding bytes after it, as a source's buffer would
// have; `pad` fills them, to show their contents (e.g. the next line) do not matter.
Parsed parse_line(EventParser& parser, std::string_view line, char pad = '\0') {
  std::string buf(line);
  buf.append(kParsePadding, pad);
  Parsed p;
  p.ok = parser.parse(buf.data(), line.size(), buf.size(), p.record, p.error);
  return p;
}

Parsed parse_line(std::string_view line) {
  EventParser parser;
  return parse_line(parser, line);
}

const Value* get(const Record& r, std::string_view name) { return r.find(intern_field(name)); }

std::vector<std::string> field_order(const Record& r) {
  std::vector<std::string> names;
  for (const Field& f : r.fields()) names.emplace_back(field_name(f.id));
  return names;
}

// Replaces the '@' in `line` by a NUL byte.
std::string with_nul(std::string line) {
  line[line.find('@')] = '\0';
  return line;
}

const int64_t kNov27 = 1'795'737'600'000;  // 2026-11-27T00:00:00Z

}  // namespace

TEST_CASE("dead letters: each SPEC §1 rule with its reason", "[parser][spec-1]") {
  struct Case {
    std::string line;
    const char* error;  // expected substring of the reason
  };
  const std::vector<Case> cases = {
      // Not one JSON object.
      {R"({"ts":1,"type":"metric")", "invalid JSON"},
      {R"({"ts":1,"type":"metric"} x)", "invalid JSON"},
      {R"({"ts":1,"type":"metric"} 5)", "invalid JSON"},
      {R"({"ts":1,"type":"metric"}{"ts":2,"type":"metric"})", "invalid JSON"},
      {R"({"ts":1,"type":"metric"}})", "invalid JSON"},
      {R"({"ts":1,"type":"metric"}])", "invalid JSON"},
      {R"({"ts":1,"type":"metric",})", "invalid JSON"},
      {R"({"ts":1 "type":"metric"})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":1 2})", "invalid JSON"},
      {R"({"ts":1,"type"})", "invalid JSON"},
      {R"({ts:1,"type":"metric"})", "invalid JSON"},
      {R"({'ts':1,"type":"metric"})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":"unclosed})", "invalid JSON"},
      {"", "invalid JSON"},
      {"not json", "invalid JSON"},
      {"nul", "invalid JSON"},
      {"[1,", "invalid JSON"},
      // A ts RFC 3339 cannot write (years 0000 to 9999), e.g. in micro- or nanoseconds.
      {R"({"ts":1795770900000000,"type":"metric"})", "field `ts`: out of range"},
      {R"({"ts":253402300800000,"type":"metric"})", "field `ts`: out of range"},
      {R"({"ts":-62167219200001,"type":"metric"})", "field `ts`: out of range"},
      {R"({"ts":9223372036854775807,"type":"metric"})", "field `ts`: out of range"},
      {R"({"ts":-9223372036854775808,"type":"metric"})", "field `ts`: out of range"},
      {R"({"ts":"0000-01-01T00:30:00+01:00","type":"metric"})", "field `ts`: out of range"},
      {"\xEF\xBB\xBF{\"ts\":1,\"type\":\"metric\"}", "invalid JSON"},  // byte-order mark
      // NaN / Infinity and other non-JSON numbers.
      {R"({"ts":1,"type":"metric","x":NaN})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":nan})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":Infinity})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":-Infinity})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":01})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":1.})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":.5})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":+1})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":0x10})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":1e})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":1e400})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":tru})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":nullx})", "invalid JSON"},
      // Invalid strings: bad UTF-8 bytes, raw control characters, bad escapes.
      {"{\"ts\":1,\"type\":\"metric\",\"user\":\"\xff\"}", "invalid JSON"},
      {"{\"ts\":1,\"type\":\"metric\",\"user\":\"\xc3\x28\"}", "invalid JSON"},
      {"{\"ts\":1,\"type\":\"metric\",\"user\":\"\xc0\xaf\"}", "invalid JSON"},
      {"{\"ts\":1,\"type\":\"metric\",\"user\":\"\xed\xa0\x80\"}", "invalid JSON"},
      {"{\"ts\":1,\"type\":\"metric\",\"k\xfe\":1}", "invalid JSON"},
      {"{\"ts\":1,\"type\":\"metric\",\"user\":\"a\tb\"}", "invalid JSON"},
      {with_nul(R"({"ts":1,"type":"metric","user":"a@b"})"), "invalid JSON"},
      {R"({"ts":1,"type":"metric","user":"\x"})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","user":"\u12"})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","u\qser":"a"})", "invalid JSON"},
      {with_nul(R"({"ts":1,"type":"metric"}@)"), "invalid JSON"},
      {"{\"ts\":1,\"type\":\"metric\"}\f", "invalid JSON"},  // form feed is not JSON space
      {std::string(5000, '[') + std::string(5000, ']'), "invalid JSON"},  // beyond max depth
      {R"({"ts":1,"type":"metric","x":)" + std::string(3000, '[') + std::string(3000, ']') + "}",
       "invalid JSON"},
      // Dropped arrays and objects must still be valid JSON.
      {R"({"ts":1,"type":"metric","x":[1,,2]})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":[1,2,]})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":{"a":}})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":{"a" 1}})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":[NaN]})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":[01]})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":{"\x":1}})", "invalid JSON"},
      {R"({"ts":1,"type":"metric","x":[1,2})", "invalid JSON"},
      // Structure wins over a semantic error elsewhere on the line.
      {R"({"ts":"bad","type":"nope","x":[1,,2]})", "invalid JSON"},
      // Valid JSON, not an object.
      {"[1,2]", "not a JSON object"},
      {"[]", "not a JSON object"},
      {"42", "not a JSON object"},
      {"-1.5", "not a JSON object"},
      {R"("str")", "not a JSON object"},
      {"true", "not a JSON object"},
      {"null", "not a JSON object"},
      // Required fields.
      {R"({"type":"metric"})", "missing field `ts`"},
      {"{}", "missing field `ts`"},
      {R"({"ts":1})", "missing field `type`"},
      {R"({"ts":1,"type":null})", "field `type`: expected a string"},
      {R"({"ts":1,"type":5})", "field `type`: expected a string"},
      {R"({"ts":1,"type":["checkout"]})", "field `type`: expected a string"},
      {R"({"ts":1,"type":"foo"})", "unknown type `foo`"},
      {R"({"ts":1,"type":""})", "unknown type ``"},
      {R"({"ts":1,"type":"Checkout"})", "unknown type `Checkout`"},
      {R"({"ts":1,"type":"CHECKIN"})", "unknown type `CHECKIN`"},
      {R"({"ts":1,"type":"server_Up"})", "unknown type `server_Up`"},
      {R"({"ts":1,"type":" metric"})", "unknown type ` metric`"},
      // `feature` on the five license types.
      {R"({"ts":1,"type":"checkout"})", "missing field `feature` for type `checkout`"},
      {R"({"ts":1,"type":"checkin"})", "missing field `feature` for type `checkin`"},
      {R"({"ts":1,"type":"denied"})", "missing field `feature` for type `denied`"},
      {R"({"ts":1,"type":"queued"})", "missing field `feature` for type `queued`"},
      {R"({"ts":1,"type":"dequeued"})", "missing field `feature` for type `dequeued`"},
      {R"({"ts":1,"type":"checkin","feature":null})", "missing field `feature` for type `checkin`"},
      {R"({"ts":1,"type":"checkout","feature":7})", "field `feature`: expected a string"},
      // count: integer >= 1.
      {R"({"ts":1,"type":"checkout","feature":"f","count":2.0})",
       "field `count`: expected an integer >= 1"},
      {R"({"ts":1,"type":"checkout","feature":"f","count":"x"})",
       "field `count`: expected an integer >= 1"},
      {R"({"ts":1,"type":"checkout","feature":"f","count":"2"})",
       "field `count`: expected an integer >= 1"},
      {R"({"ts":1,"type":"checkout","feature":"f","count":0})",
       "field `count`: expected an integer >= 1"},
      {R"({"ts":1,"type":"checkout","feature":"f","count":-1})",
       "field `count`: expected an integer >= 1"},
      {R"({"ts":1,"type":"checkout","feature":"f","count":1e0})",
       "field `count`: expected an integer >= 1"},
      {R"({"ts":1,"type":"checkout","feature":"f","count":true})",
       "field `count`: expected an integer >= 1"},
      {R"({"ts":1,"type":"checkout","feature":"f","count":[1]})",
       "field `count`: expected an integer >= 1"},
      {R"({"ts":1,"type":"checkout","feature":"f","count":9223372036854775808})",
       "field `count`: expected an integer >= 1"},
      // capacity: integer >= 0.
      {R"({"ts":1,"type":"metric","capacity":-1})", "field `capacity`: expected an integer >= 0"},
      {R"({"ts":1,"type":"metric","capacity":1.5})", "field `capacity`: expected an integer >= 0"},
      {R"({"ts":1,"type":"metric","capacity":"10"})", "field `capacity`: expected an integer >= 0"},
      // Other known fields must be strings.
      {R"({"ts":1,"type":"metric","user":5})", "field `user`: expected a string"},
      {R"({"ts":1,"type":"metric","server":1})", "field `server`: expected a string"},
      {R"({"ts":1,"type":"metric","host":true})", "field `host`: expected a string"},
      {R"({"ts":1,"type":"metric","group":{}})", "field `group`: expected a string"},
      {R"({"ts":1,"type":"metric","project":[]})", "field `project`: expected a string"},
      {R"({"ts":1,"type":"metric","vendor":1.5})", "field `vendor`: expected a string"},
      {R"({"ts":1,"type":"metric","version":2})", "field `version`: expected a string"},
      {R"({"ts":1,"type":"checkin","feature":"f","handle":42})",
       "field `handle`: expected a string"},
      {R"({"ts":1,"type":"checkin","feature":"f","reason":false})",
       "field `reason`: expected a string"},
      // ts: integer literal or RFC 3339.
      {R"({"ts":1.0,"type":"metric"})", "field `ts`: expected integer milliseconds"},
      {R"({"ts":1e3,"type":"metric"})", "field `ts`"},
      {R"({"ts":1E3,"type":"metric"})", "field `ts`"},
      {R"({"ts":-0.0,"type":"metric"})", "field `ts`"},
      {R"({"ts":true,"type":"metric"})", "field `ts`"},
      {R"({"ts":null,"type":"metric"})", "field `ts`"},
      {R"({"ts":[1],"type":"metric"})", "field `ts`"},
      {R"({"ts":"1700000000000","type":"metric"})", "field `ts`"},
      {R"({"ts":9223372036854775808,"type":"metric"})", "field `ts`"},
      {R"({"ts":"","type":"metric"})", "field `ts`"},
      {R"({"ts":"2026-13-01T00:00:00Z","type":"metric"})", "field `ts`"},
      {R"({"ts":"2026-02-30T00:00:00Z","type":"metric"})", "field `ts`"},
      {R"({"ts":"2025-02-29T00:00:00Z","type":"metric"})", "field `ts`"},
      {R"({"ts":"2026-11-27T09:15:00","type":"metric"})", "field `ts`"},
      {R"({"ts":"2026-11-27T25:00:00Z","type":"metric"})", "field `ts`"},
      {R"({"ts":"2026-11-27","type":"metric"})", "field `ts`"},
      {R"({"ts":"2026-11-27T09:15:00Z ","type":"metric"})", "field `ts`"},
      // Duplicate keys: the last one decides.
      {R"({"ts":1,"type":"metric","count":5,"count":0})", "field `count`"},
      {R"({"ts":1,"ts":"x","type":"metric"})", "field `ts`"},
      {R"({"ts":1,"type":"metric","type":"bogus"})", "unknown type `bogus`"},
      {R"({"ts":1,"type":"checkout","feature":"f","feature":null})",
       "missing field `feature` for type `checkout`"},
  };

  EventParser parser;
  for (const Case& c : cases) {
    INFO("line: " << c.line);
    const Parsed p = parse_line(parser, c.line);
    CHECK_FALSE(p.ok);
    CHECK_THAT(p.error, Catch::Matchers::Contains(c.error));
  }
}

TEST_CASE("dead-letter reasons are bounded and name the field", "[parser][spec-1]") {
  const std::string long_type(5000, 'x');
  const Parsed p = parse_line(R"({"ts":1,"type":")" + long_type + R"("})");
  REQUIRE_FALSE(p.ok);
  CHECK(p.error.size() < 200);

  const Parsed q = parse_line(R"({"ts":1,"type":"metric","weird key":[1,,]})");
  REQUIRE_FALSE(q.ok);
  CHECK_THAT(q.error, Catch::Matchers::Contains("weird key"));
}

TEST_CASE("ts as integer ms or RFC 3339 in every allowed form", "[parser][spec-1]") {
  const int64_t t = kNov27 + (9 * 3600 + 15 * 60) * 1000;
  struct Case {
    std::string ts;
    int64_t want;
  };
  for (const Case& c : std::vector<Case>{
           {"1795770900000", t},
           {"-1", -1},
           {"0", 0},
           {"-0", 0},
           {"253402300799999", kLatestEventTime},
           {"-62167219200000", kEarliestEventTime},
           {R"("9999-12-31T23:59:59.999Z")", kLatestEventTime},
           {R"("0000-01-01T00:00:00Z")", kEarliestEventTime},
           {R"("2026-11-27T09:15:00Z")", t},
           {R"("2026-11-27t09:15:00z")", t},
           {R"("2026-11-27 09:15:00Z")", t},
           {R"("2026-11-27T11:15:00+02:00")", t},
           {R"("2026-11-27T03:45:00-05:30")", t},
           {R"("2026-11-27T09:15:00.1239Z")", t + 123},
           {R"("2026-11-27T09:15:00.5Z")", t + 500},
           {R"("2026-11-27T09:15:00.123456789Z")", t + 123},
           {R"("1969-12-31T23:59:59.999Z")", -1},
           {R"("2024-02-29T00:00:00Z")", 1'709'164'800'000},
           {R"("2026-11-27T09:15:00\u005a")", t},  // escapes are JSON's business, then RFC 3339
       }) {
    INFO("ts: " << c.ts);
    const Parsed p = parse_line(R"({"ts":)" + c.ts + R"(,"type":"server_up"})");
    REQUIRE(p.ok);
    CHECK(p.record.ts == c.want);
    CHECK(get(p.record, "ts") == nullptr);  // ts is Record::ts, not a field
  }
}

TEST_CASE("a full checkout keeps every field, in input order", "[parser][spec-1]") {
  const Parsed p = parse_line(
      R"({"ts":1795770900000,"type":"checkout","server":"lic-1","feature":"matlab","user":"ann",)"
      R"("host":"ws7","group":"cae","project":"p1","vendor":"MLM","version":"R2026a",)"
      R"("count":2,"handle":"h-1","capacity":50,"reason":"none"})");
  REQUIRE(p.ok);
  CHECK(field_order(p.record) ==
        std::vector<std::string>{"type", "server", "feature", "user", "host", "group", "project",
                                 "vendor", "version", "count", "handle", "capacity", "reason"});
  CHECK(p.record.find(field::kType)->as_string() == "checkout");
  CHECK(p.record.find(field::kServer)->as_string() == "lic-1");
  CHECK(p.record.find(field::kFeature)->as_string() == "matlab");
  CHECK(p.record.find(field::kCount)->as_int() == 2);
  CHECK(p.record.find(field::kCapacity)->as_int() == 50);
  CHECK(p.record.find(field::kHandle)->as_string() == "h-1");
}

TEST_CASE("server defaults to \"default\", written onto the record", "[parser][spec-1]") {
  const Parsed p = parse_line(R"({"ts":1,"type":"checkout","feature":"f","user":"u"})");
  REQUIRE(p.ok);
  CHECK(field_order(p.record) == std::vector<std::string>{"type", "feature", "user", "server"});
  CHECK(p.record.find(field::kServer)->as_string() == "default");

  const Parsed n = parse_line(R"({"ts":1,"type":"checkout","server":null,"feature":"f"})");
  REQUIRE(n.ok);
  CHECK(field_order(n.record) == std::vector<std::string>{"type", "server", "feature"});
  CHECK(n.record.find(field::kServer)->as_string() == "default");

  const Parsed e = parse_line(R"({"ts":1,"type":"server_down","server":""})");
  REQUIRE(e.ok);
  CHECK(e.record.find(field::kServer)->as_string() == "");
}

TEST_CASE("count: absent is not written, 64-bit values kept", "[parser][spec-1]") {
  const Parsed absent = parse_line(R"({"ts":1,"type":"checkout","feature":"f"})");
  REQUIRE(absent.ok);
  CHECK(absent.record.find(field::kCount) == nullptr);

  const Parsed null_count = parse_line(R"({"ts":1,"type":"checkout","feature":"f","count":null})");
  REQUIRE(null_count.ok);
  CHECK(null_count.record.find(field::kCount) == nullptr);

  const Parsed big = parse_line(R"({"ts":1,"type":"checkout","feature":"f","count":5000000000})");
  REQUIRE(big.ok);
  CHECK(big.record.find(field::kCount)->as_int() == 5'000'000'000);

  const Parsed max =
      parse_line(R"({"ts":1,"type":"checkout","feature":"f","count":9223372036854775807})");
  REQUIRE(max.ok);
  CHECK(max.record.find(field::kCount)->as_int() == INT64_MAX);

  const Parsed cap0 = parse_line(R"({"ts":1,"type":"metric","capacity":0})");
  REQUIRE(cap0.ok);
  CHECK(cap0.record.find(field::kCapacity)->as_int() == 0);

  const Parsed cap_null = parse_line(R"({"ts":1,"type":"metric","capacity":null})");
  REQUIRE(cap_null.ok);
  CHECK(cap_null.record.find(field::kCapacity) == nullptr);
}

TEST_CASE("null known optional fields are absent", "[parser][spec-1]") {
  const Parsed p = parse_line(
      R"({"ts":1,"type":"checkin","feature":"f","user":null,"host":null,"group":null,)"
      R"("project":null,"vendor":null,"version":null,"handle":null,"reason":null,"x":1})");
  REQUIRE(p.ok);
  CHECK(field_order(p.record) == std::vector<std::string>{"type", "feature", "x", "server"});
}

TEST_CASE("other fields are kept with their kinds; arrays and objects dropped",
          "[parser][spec-1]") {
  const Parsed p = parse_line(
      R"({"ts":1,"type":"metric","response_time_ms":250,"queue_time_s":1.5,"ok":true,)"
      R"("bad":false,"note":null,"site":"b\u00e9rlin\n","tags":["a",{"b":[1,2.5,null]}],)"
      R"("meta":{"k":{"x":"y"}},"neg":-7,"exp":1e3,"huge":123456789012345678901234567890,)"
      R"("u64":18446744073709551615,"tiny":1e-400,"long":0.1234567890123456789012345,)"
      R"("empty":[],"eobj":{}})");
  REQUIRE(p.ok);
  CHECK(field_order(p.record) ==
        std::vector<std::string>{"type", "response_time_ms", "queue_time_s", "ok", "bad", "note",
                                 "site", "neg", "exp", "huge", "u64", "tiny", "long", "server"});
  const Record& r = p.record;
  CHECK(get(r, "response_time_ms")->is_int());
  CHECK(get(r, "response_time_ms")->as_int() == 250);
  CHECK(get(r, "queue_time_s")->as_double() == 1.5);
  CHECK(get(r, "ok")->is_true());
  CHECK(get(r, "bad")->is_bool());
  CHECK_FALSE(get(r, "bad")->as_bool());
  REQUIRE(get(r, "note") != nullptr);  // a null unknown field is present (SPEC §4 `exists`)
  CHECK(get(r, "note")->is_null());
  CHECK(get(r, "site")->as_string() == "b\xc3\xa9rlin\n");
  CHECK(get(r, "neg")->as_int() == -7);
  CHECK(get(r, "exp")->is_double());
  CHECK(get(r, "exp")->as_double() == 1000.0);
  CHECK(get(r, "huge")->is_double());
  CHECK(get(r, "huge")->as_double() == 1.2345678901234568e29);
  CHECK(get(r, "u64")->is_double());
  CHECK(get(r, "u64")->as_double() == 18446744073709551615.0);
  CHECK(get(r, "tiny")->as_double() == 0.0);
  CHECK(get(r, "long")->as_double() == 0.12345678901234568);  // simdjson 3.0.1 gets this wrong
  CHECK(get(r, "tags") == nullptr);
  CHECK(get(r, "meta") == nullptr);
  CHECK(get(r, "empty") == nullptr);
}

TEST_CASE("deeply nested values are validated and dropped", "[parser][spec-1]") {
  const Parsed p = parse_line(R"({"ts":1,"type":"metric","x":)" + std::string(500, '[') + "1" +
                              std::string(500, ']') + R"(,"y":{"a":{"b":{"c":[{}]}}},"z":3})");
  REQUIRE(p.ok);
  CHECK(field_order(p.record) == std::vector<std::string>{"type", "z", "server"});
}

TEST_CASE("metric, server_up and server_down need no feature", "[parser][spec-1]") {
  for (const char* type : {"metric", "server_up", "server_down"}) {
    INFO(type);
    const Parsed p = parse_line(std::string(R"({"ts":5,"type":")") + type + R"(","server":"s"})");
    REQUIRE(p.ok);
    CHECK(p.record.find(field::kType)->as_string() == type);
    CHECK(p.record.find(field::kFeature) == nullptr);
  }
  for (const char* type : {"checkout", "checkin", "denied", "queued", "dequeued"}) {
    INFO(type);
    const Parsed p = parse_line(std::string(R"({"ts":5,"type":")") + type + R"(","feature":""})");
    REQUIRE(p.ok);  // an empty feature is present
  }
}

TEST_CASE("duplicate keys: the last one wins at the first one's position", "[parser][spec-1]") {
  const Parsed p = parse_line(
      R"({"ts":1,"user":"a","type":"checkout","feature":"f","user":"b","count":0,"count":3,)"
      R"("x":[1],"y":1,"x":2,"z":1,"z":{},"host":null,"host":"h","ts":2})");
  REQUIRE(p.ok);
  CHECK(p.record.ts == 2);
  CHECK(field_order(p.record) ==
        std::vector<std::string>{"user", "type", "feature", "count", "x", "y", "host", "server"});
  CHECK(get(p.record, "user")->as_string() == "b");
  CHECK(get(p.record, "count")->as_int() == 3);
  CHECK(get(p.record, "x")->as_int() == 2);
  CHECK(get(p.record, "host")->as_string() == "h");

  // A wrong-typed or null first occurrence still fixes the position; repeated nulls stay absent.
  const Parsed q = parse_line(
      R"({"ts":1,"feature":0,"type":"checkout","reason":null,"reason":null,"x":[],"x":{},)"
      R"("feature":"f","project":true,"project":null})");
  REQUIRE(q.ok);
  CHECK(field_order(q.record) == std::vector<std::string>{"feature", "type", "server"});
}

TEST_CASE("duplicate keys of fields numbered past 64 behave alike", "[parser][spec-1]") {
  // The parser indexes the first 64 field ids apart from the rest: these names come after them.
  for (int i = 0; intern_field("dup_pad_" + std::to_string(i)) < 64; ++i) {
  }
  REQUIRE(intern_field("dup_late_x") >= 64);
  const Parsed p = parse_line(
      R"({"ts":1,"dup_late_x":[1],"type":"metric","dup_late_y":1,"dup_late_x":2,"dup_late_z":1,)"
      R"("dup_late_z":{},"dup_late_y":"b"})");
  REQUIRE(p.ok);
  CHECK(field_order(p.record) ==
        std::vector<std::string>{"dup_late_x", "type", "dup_late_y", "server"});
  CHECK(get(p.record, "dup_late_x")->as_int() == 2);
  CHECK(get(p.record, "dup_late_y")->as_string() == "b");
}

TEST_CASE("escaped keys mean the same field", "[parser][spec-1]") {
  const Parsed p =
      parse_line(R"({"t\u0073":1,"\u0074ype":"checkout","feat\u0075re":"f","us\"er":1})");
  REQUIRE(p.ok);
  CHECK(p.record.ts == 1);
  CHECK(p.record.find(field::kFeature)->as_string() == "f");
  CHECK(get(p.record, "us\"er")->as_int() == 1);
}

TEST_CASE("white space around tokens and padding contents do not matter", "[parser][spec-1]") {
  EventParser parser;
  const std::string line = " \t{ \"ts\" : 1 , \"type\" :\"metric\" , \"v\" : 2.5 } \t";
  for (char pad : {'\0', ' ', '}', '"', '1', '{', '\n'}) {
    INFO("pad " << static_cast<int>(pad));
    const Parsed p = parse_line(parser, line, pad);
    REQUIRE(p.ok);
    CHECK(get(p.record, "v")->as_double() == 2.5);
  }
  // A number last in a bare value must not read digits from the padding.
  const Parsed n = parse_line(parser, "123", '4');
  CHECK(n.error == "not a JSON object");
}

TEST_CASE("one parser, many lines: errors do not leak into the next line", "[parser][spec-1]") {
  EventParser parser;
  for (int round = 0; round < 3; ++round) {
    const Parsed bad = parse_line(parser, R"({"ts":1,"type":"checkout","count":0})");
    CHECK_FALSE(bad.ok);
    const Parsed good = parse_line(parser, R"({"ts":2,"type":"checkout","feature":"f","a":1})");
    REQUIRE(good.ok);
    CHECK(field_order(good.record) == std::vector<std::string>{"type", "feature", "a", "server"});
    const Parsed broken = parse_line(parser, R"({"ts":1,"type":"metric","a":[)");
    CHECK_FALSE(broken.ok);
  }
  // `out` is cleared even when it held a record.
  Parsed p = parse_line(parser, R"({"ts":3,"type":"metric","only":1})");
  REQUIRE(p.ok);
  std::string buf = R"({"ts":4,"type":"metric"})";
  const size_t len = buf.size();
  buf.append(kParsePadding, '\0');
  std::string error;
  REQUIRE(parser.parse(buf.data(), len, buf.size(), p.record, error));
  CHECK(field_order(p.record) == std::vector<std::string>{"type", "server"});
}

TEST_CASE("many distinct field names are all kept", "[parser][spec-1]") {
  EventParser parser;
  std::string line = R"({"ts":1,"type":"metric")";
  for (int i = 0; i < 5000; ++i) {
    line += ",\"parser_test_f" + std::to_string(i) + "\":" + std::to_string(i);
  }
  line += "}";
  for (int round = 0; round < 2; ++round) {
    const Parsed p = parse_line(parser, line);
    REQUIRE(p.ok);
    REQUIRE(p.record.fields().size() == 5002);
    CHECK(get(p.record, "parser_test_f4999")->as_int() == 4999);
  }
}

}  // namespace licflow

namespace licflow {
namespace {

Parsed parse_projected(std::string_view line, const FieldMask& keep) {
  EventParser parser;
  std::string buf(line);
  buf.append(kParsePadding, '\0');
  Parsed p;
  p.ok = parser.parse(buf.data(), line.size(), buf.size(), p.record, p.error, &keep);
  return p;
}

FieldMask mask_of(std::initializer_list<FieldId> ids) {
  FieldMask keep;
  for (FieldId id : ids) keep.add(id);
  return keep;
}

}  // namespace

TEST_CASE("a record has room for the fields its consumers add, whatever the line's shape",
          "[parser]") {
  // license_state annotates the records of the source it reads in place (Operator::fields_added):
  // with the room made by the parser, that is no move into a larger allocation per record.
  std::string wide = R"({"ts":5,"type":"metric")";  // 17 fields after one of 2
  for (int i = 0; i < 15; ++i) wide += ",\"a" + std::to_string(i) + "\":1";
  wide += "}";
  EventParser parser;
  for (const std::string& line :
       {std::string(R"({"ts":5,"type":"metric"})"), wide,
        std::string(R"({"ts":5,"type":"checkout","server":"s","feature":"f","user":"u",)"
                    R"("host":"h","group":"g","project":"p","count":2,"handle":"x"})"),
        std::string(R"({"ts":5,"type":"metric","a":1})")}) {
    std::string buf = line + std::string(kParsePadding, '\0');
    Record record;
    std::string error;
    REQUIRE(parser.parse(buf.data(), line.size(), buf.size(), record, error, nullptr, 7));
    CHECK(record.fields().capacity() >= record.fields().size() + 7);
  }
}

TEST_CASE("a projection keeps only its fields and ts", "[parser][projection]") {
  const FieldId extra = intern_field("open_sessions");
  const FieldMask keep = mask_of({field::kFeature, field::kCount, extra});
  Parsed p = parse_projected(
      R"({"ts":5,"type":"checkout","server":"s","feature":"f","user":"u","count":2,"count":3,)"
      R"("open_sessions":7,"pad":"x"})",
      keep);
  REQUIRE(p.ok);
  CHECK(p.record.ts == 5);
  CHECK(field_order(p.record) == std::vector<std::string>{"feature", "count", "open_sessions"});
  CHECK(p.record.find(field::kCount)->as_int() == 3);  // duplicate key: the last one wins
  CHECK(p.record.find(field::kServer) == nullptr);
  CHECK(p.record.find(field::kType) == nullptr);
}

TEST_CASE("a projection tells fields apart on both sides of its 64-bit word",
          "[parser][projection]") {
  FieldMask keep;
  for (FieldId id : {FieldId{0}, FieldId{63}, FieldId{64}, FieldId{200}}) keep.add(id);
  for (FieldId id : {FieldId{0}, FieldId{63}, FieldId{64}, FieldId{200}}) CHECK(keep.contains(id));
  for (FieldId id :
       {FieldId{1}, FieldId{62}, FieldId{65}, FieldId{199}, FieldId{201}, FieldId{5000}}) {
    CHECK_FALSE(keep.contains(id));
  }
  CHECK(keep.count() == 4);

  // A field numbered past the word still goes onto the record, and one next to it does not.
  std::vector<FieldId> names;
  for (int i = 0; names.size() < 2 || names.back() < 70; ++i) {
    names.push_back(intern_field("projection_pad_" + std::to_string(i)));
  }
  const std::string far(field_name(names.back()));
  const std::string near(field_name(names[names.size() - 2]));
  const Parsed p =
      parse_projected(R"({"ts":5,"type":"metric",")" + near + R"(":1,")" + far + R"(":2})",
                      mask_of({names.back()}));
  REQUIRE(p.ok);
  CHECK(field_order(p.record) == std::vector<std::string>{far});
}

TEST_CASE("a projection keeps the default server when it keeps server", "[parser][projection]") {
  Parsed p = parse_projected(R"({"ts":5,"type":"metric"})", mask_of({field::kServer}));
  REQUIRE(p.ok);
  REQUIRE(p.record.find(field::kServer) != nullptr);
  CHECK(p.record.find(field::kServer)->as_string() == "default");
}

TEST_CASE("fields left out by a projection are still validated (SPEC §1)", "[parser][projection]") {
  const FieldMask keep = mask_of({field::kServer});
  const std::vector<std::string> lines = {
      R"({"ts":5,"type":"checkout","feature":"f","count":"x"})",
      R"({"ts":5,"type":"checkout","feature":"f","count":0})",
      R"({"ts":5,"type":"checkout","user":"u"})",
      R"({"ts":5,"type":"checkout","feature":null})",
      R"({"ts":5,"type":"checkout","feature":7})",
      R"({"ts":5,"type":"nonsense"})",
      R"({"ts":5,"type":"metric","pad":[1,2})",
      R"({"ts":5,"type":"metric","user":12})",
      R"({"ts":5,"type":"checkout","feature":"f","capacity":-1})",
      R"({"ts":5,"type":"metric","user":"a\qb"})",       // a bad escape in a left-out string
      R"({"ts":5,"type":"metric","note":"a\ud800b"})",   // a lone surrogate in one
      R"({"ts":5,"type":"checkout","feature":"f\x"})",    // in the left-out feature
  };
  for (const std::string& line : lines) {
    INFO(line);
    Parsed all = parse_line(line);
    Parsed projected = parse_projected(line, keep);
    CHECK_FALSE(all.ok);
    CHECK_FALSE(projected.ok);
    CHECK(projected.error == all.error);
  }
  // And a license event whose feature is present but left out is fine.
  CHECK(parse_projected(R"({"ts":5,"type":"checkout","feature":"f"})", keep).ok);
  CHECK(parse_projected(R"({"ts":5,"type":"checkout","feature":"f\n\u00e9","x":"\"q\""})", keep).ok);
}

}  // namespace licflow

namespace licflow {

// The parser finds the end of a key, and a backslash in a left-out string, eight bytes at a time:
// an escape or the closing quote at any place in or across those words must be seen.
TEST_CASE("keys and left-out strings of every length up to 3 words, escapes anywhere",
          "[parser][projection]") {
  const FieldMask keep = mask_of({field::kServer});
  for (size_t len = 0; len <= 24; ++len) {
    const std::string plain(len, 'k');
    INFO("length " << len);
    // A plain key of this length is one field; its value (left out) has this length too.
    Parsed p = parse_line(R"({"ts":1,"type":"metric",")" + plain + R"(":")" + plain + R"("})");
    REQUIRE(p.ok);
    CHECK(get(p.record, plain)->as_string() == plain);
    CHECK(parse_projected(R"({"ts":1,"type":"metric",")" + plain + R"(":")" + plain + R"("})",
                          keep)
              .ok);
    for (size_t at = 0; at < len; ++at) {
      INFO("escape at " << at);
      std::string escaped_key = plain;
      escaped_key.replace(at, 1, "\\u006b");  // the same 'k', escaped
      Parsed e = parse_line(R"({"ts":1,"type":"metric",")" + escaped_key + R"(":1})");
      REQUIRE(e.ok);
      CHECK(get(e.record, plain)->as_int() == 1);
      std::string bad_value = plain;
      bad_value.replace(at, 1, "\\q");
      const std::string line = R"({"ts":1,"type":"metric","note":")" + bad_value + R"("})";
      CHECK_FALSE(parse_projected(line, keep).ok);
      std::string good_value = plain;
      good_value.replace(at, 1, "\\\"");
      CHECK(parse_projected(R"({"ts":1,"type":"metric","note":")" + good_value + R"("})", keep)
                .ok);
    }
  }
}

}  // namespace licflow
