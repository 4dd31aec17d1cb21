// Tests for the SPEC §2 / §6 output forms: escaping, shortest round-trip numbers, record lines.
#include "engine/json_writer.h"

#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>

#include "engine/field_names.h"
#include "engine/record.h"

namespace licflow {
namespace {

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string json_value(const Value& v) {
  std::string out;
  append_json_value(out, v);
  return out;
}

}  // namespace

TEST_CASE("append_json_string escapes what JSON requires and nothing else", "[json][spec-2]") {
  CHECK(json_string("") == R"("")");
  CHECK(json_string("plain") == R"("plain")");
  CHECK(json_string("a\"b\\c/d") == R"("a\"b\\c/d")");
  CHECK(json_string("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  CHECK(json_string(std::string_view("\0\x01\x1f", 3)) == R"("\u0000\u0001\u001f")");
  CHECK(json_string("\x7f") == "\"\x7f\"");
  CHECK(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");

  std::string appended = "x";
  append_json_string(appended, "y");
  CHECK(appended == "x\"y\"");
}

TEST_CASE("append_json_string finds a byte to escape at any position of a long string",
          "[json][spec-2]") {
  // Plain runs are skipped a word at a time: every position, and every class of byte that stops
  // a run, must still be caught.
  const std::vector<std::pair<std::string, std::string>> specials = {
      {"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {std::string(1, '\0'), "\\u0000"},
      {"\x1f", "\\u001f"}, {"\x7f", "\x7f"}, {" ", " "}, {"\xC3\xA9", "\xC3\xA9"},
      {"\xFF", "\xEF\xBF\xBD"}};
  for (size_t at = 0; at < 20; ++at) {
    for (const auto& [raw, escaped] : specials) {
      const std::string before(at, 'a'), after(19 - at, 'z');
      std::string out;
      append_json_string(out, before + raw + after);
      INFO("at " << at << ", byte " << int(static_cast<unsigned char>(raw[0])));
      CHECK(out == "\"" + before + escaped + after + "\"");
    }
  }
}

TEST_CASE("append_json_string replaces invalid UTF-8 with U+FFFD", "[json][spec-2]") {
  const std::string r = "\xEF\xBF\xBD";
  CHECK(json_string("a\xff"
                    "b") == "\"a" + r + "b\"");
  CHECK(json_string("\xc3") == "\"" + r + "\"");  // cut sequence at the end
  CHECK(json_string("\xe2\x82"
                    "A") == "\"" + r + "A\"");                    // maximal subpart: one U+FFFD
  CHECK(json_string("\xc0\xaf") == "\"" + r + r + "\"");          // overlong
  CHECK(json_string("\xed\xa0\x80") == "\"" + r + r + r + "\"");  // UTF-16 surrogate
  CHECK(json_string("\xf4\x90\x80\x80") == "\"" + r + r + r + r + "\"");  // above U+10FFFF
}

TEST_CASE("append_json_value writes each kind", "[json][spec-2]") {
  CHECK(json_value(Value()) == "null");
  CHECK(json_value(Value(true)) == "true");
  CHECK(json_value(Value(false)) == "false");
  CHECK(json_value(Value(int64_t{0})) == "0");
  CHECK(json_value(Value(int64_t{-42})) == "-42");
  CHECK(json_value(Value(std::numeric_limits<int64_t>::max())) == "9223372036854775807");
  CHECK(json_value(Value(std::numeric_limits<int64_t>::min())) == "-9223372036854775808");
  CHECK(json_value(Value("s\n")) == R"("s\n")");
}

TEST_CASE("doubles are printed shortest round-trip and stay doubles", "[json][spec-2]") {
  CHECK(json_value(Value(0.1)) == "0.1");
  CHECK(json_value(Value(0.9)) == "0.9");
  CHECK(json_value(Value(2.5)) == "2.5");
  CHECK(json_value(Value(1.0)) == "1.0");
  CHECK(json_value(Value(-0.0)) == "-0.0");
  CHECK(json_value(Value(100.0)) == "100.0");
  CHECK(json_value(Value(1e21)) == "1e+21");
  CHECK(json_value(Value(1.5e-7)) == "1.5e-07");
  CHECK(json_value(Value(1.0 / 3.0)) == "0.3333333333333333");
  // Positional for decimal exponents in [-4, 16), else scientific, as Python's repr.
  CHECK(json_value(Value(100000.0)) == "100000.0");
  CHECK(json_value(Value(1e15)) == "1000000000000000.0");
  CHECK(json_value(Value(1e16)) == "1e+16");
  CHECK(json_value(Value(1234567890123456.7)) == "1234567890123456.8");
  CHECK(json_value(Value(9.223372036854776e18)) == "9.223372036854776e+18");
  CHECK(json_value(Value(1.2345678901234568e20)) == "1.2345678901234568e+20");
  CHECK(json_value(Value(0.0001)) == "0.0001");
  CHECK(json_value(Value(-0.00012)) == "-0.00012");
  CHECK(json_value(Value(0.00001)) == "1e-05");
  CHECK(json_value(Value(12.5)) == "12.5");
  CHECK(json_value(Value(-1234.5)) == "-1234.5");
  CHECK(json_value(Value(5e-324)) == "5e-324");
  CHECK(json_value(Value(1.7976931348623157e308)) == "1.7976931348623157e+308");
  CHECK(json_value(Value(std::nan(""))) == "null");
  CHECK(json_value(Value(std::numeric_limits<double>::infinity())) == "null");
  CHECK(json_value(Value(-std::numeric_limits<double>::infinity())) == "null");

  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    double d;
    const uint64_t bits = rng();
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string text = json_value(Value(d));
    double back = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), back);
    INFO(text);
    REQUIRE(r.ec == std::errc());
    REQUIRE(r.ptr == text.data() + text.size());
    REQUIRE(std::memcmp(&back, &d, sizeof d) == 0);
  }
}

TEST_CASE("append_record_json writes stream, ts, then fields in order", "[json][spec-2][spec-6]") {
  Record r;
  r.ts = 1'795'770'900'000;  // 2026-11-27T09:15:00Z
  r.set(field::kType, Value("checkout"));
  r.set(field::kServer, Value("lic-1"));
  r.set(field::kCount, Value(int64_t{3}));
  r.set(intern_field("utilization"), Value(0.5));
  r.set(intern_field("odd \"name\""), Value());
  r.set(field::kLate, Value(true));

  std::string out;
  append_record_json(out, r, "state.sessions");
  CHECK(out == R"({"stream":"state.sessions","ts":"2026-11-27T09:15:00.000Z","type":"checkout",)"
               R"("server":"lic-1","count":3,"utilization":0.5,"odd \"name\"":null,"late":true})");

  out.clear();
  append_record_json(out, r, "");
  CHECK(out.rfind(R"({"ts":"2026-11-27T09:15:00.000Z","type":"checkout",)", 0) == 0);
}

TEST_CASE("append_record_json never writes a key twice", "[json][spec-6]") {
  Record r;
  r.ts = -1;
  r.set(field::kStream, Value("from the input"));
  r.set(field::kTs, Value(int64_t{5}));
  r.set(field::kUser, Value("u"));

  std::string out;
  append_record_json(out, r, "events");
  CHECK(out == R"({"stream":"events","ts":"1969-12-31T23:59:59.999Z","user":"u"})");

  out.clear();
  append_record_json(out, r, "");
  CHECK(out == R"({"ts":"1969-12-31T23:59:59.999Z","stream":"from the input","user":"u"})");

  Record empty;
  out.clear();
  append_record_json(out, empty, "s");
  CHECK(out == R"({"stream":"s","ts":"1970-01-01T00:00:00.000Z"})");
}

TEST_CASE("an object value is written as a nested record, its ts first as RFC 3339",
          "[json][spec-2][spec-5][threshold]") {
  auto inner = std::make_shared<Record>();
  inner->ts = 1'795'770'900'000;  // 2026-11-27T09:15:00Z
  inner->set(field::kFeature, Value("cad"));
  inner->set(intern_field("available"), Value(int64_t{0}));
  inner->set(intern_field("utilization"), Value(1.0));
  inner->set(field::kUser, Value());
  CHECK(json_value(Value(std::shared_ptr<const Record>(inner))) ==
        R"({"ts":"2026-11-27T09:15:00.000Z","feature":"cad","available":0,"utilization":1.0,)"
        R"("user":null})");

  // Nested in a record line, the inner record carries no "stream" of its own.
  Record alert;
  alert.ts = inner->ts + 60'000;
  alert.set(intern_field("alert"), Value("busy"));
  alert.set(intern_field("record"), Value(std::shared_ptr<const Record>(inner)));
  std::string out;
  append_record_json(out, alert, "busy");
  CHECK(out == R"({"stream":"busy","ts":"2026-11-27T09:16:00.000Z","alert":"busy","record":)"
               R"({"ts":"2026-11-27T09:15:00.000Z","feature":"cad","available":0,)"
               R"("utilization":1.0,"user":null}})");
}

// append_record_json writes into a buffer sized from bounds, with copies of fixed width; this
// checks it against the piecewise writers on what stresses that: names longer than a key slot,
// escapes and multi-byte UTF-8 at every position of every length, several nested records,
// extreme numbers and a year beyond 9999.
TEST_CASE("append_record_json agrees with the piecewise writers", "[json][spec-2][spec-6]") {
  std::vector<Value> values = {Value(),
                               Value(true),
                               Value(false),
                               Value(std::numeric_limits<int64_t>::min()),
                               Value(-std::numeric_limits<double>::max()),
                               Value(1e-300),
                               Value(0.1)};
  const std::string specials[] = {
      "\"",   "\\",      "\n", std::string(1, '\0'), "\x1f", "\xC3\xA9", "\xF0\x9F\x98\x80",
      "\xFF", "\xE2\x82"};
  for (size_t len = 0; len <= 20; ++len) {
    for (size_t at = 0; at <= len; ++at) {
      for (const std::string& special : specials) {
        values.emplace_back(std::string(at, 'a') + special + std::string(len - at, 'b'));
      }
    }
  }
  auto inner = std::make_shared<Record>();
  inner->ts = 5;
  inner->set(field::kUser, Value("in\"ner"));
  auto outer = std::make_shared<Record>();
  outer->set(intern_field("inner"), Value(std::shared_ptr<const Record>(inner)));

  const std::string long_name(40, 'n');
  Record r;
  r.ts = 253402300800000 + 86'400'000;  // 10000-01-02T00:00:00Z, past RFC 3339's years
  r.set(intern_field(long_name), Value("after a long name"));
  r.set(intern_field("first"), Value(std::shared_ptr<const Record>(outer)));
  for (size_t i = 0; i < values.size(); ++i) {
    r.set(intern_field("f" + std::to_string(i)), values[i]);
  }
  r.set(intern_field("second"), Value(std::shared_ptr<const Record>(inner)));
  r.set(intern_field(long_name + "\t" + long_name), Value(int64_t{7}));

  std::string expected = R"({"stream":)" + json_string("a \"stream\"") + R"(,"ts":"10000-01-02)";
  expected += R"(T00:00:00.000Z")";
  for (const Field& f : r.fields()) {
    expected += "," + json_string(field_name(f.id)) + ":" + json_value(f.value);
  }
  expected += "}";
  std::string out = "kept";
  append_record_json(out, r, "a \"stream\"");
  CHECK(out == "kept" + expected);
  CHECK(json_value(Value(std::shared_ptr<const Record>(outer))) ==
        R"({"ts":"1970-01-01T00:00:00.000Z","inner":{"ts":"1970-01-01T00:00:00.005Z",)"
        R"("user":"in\"ner"}})");
}

}  // namespace licflow
