// SPEC §4 expressions: parsing, precedence, evaluation rules and parse-error offsets.
#include "config/expression.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/field_names.h"
#include "engine/record.h"
#include "engine/value.h"

namespace licflow {
namespace {

// A record with a few fields of every kind; `nothing` is present but null.
Record sample() {
  Record r;
  r.ts = 1764316800000;  // 2025-11-28T08:00:00.000Z
  r.set(intern_field("type"), Value("checkout"));
  r.set(intern_field("feature"), Value("matlab_core"));
  r.set(intern_field("user"), Value("alice"));
  r.set(intern_field("n"), Value(7));
  r.set(intern_field("two"), Value(2));
  r.set(intern_field("zero"), Value(0));
  r.set(intern_field("half"), Value(0.5));
  r.set(intern_field("dzero"), Value(0.0));
  r.set(intern_field("flag"), Value(true));
  r.set(intern_field("off"), Value(false));
  r.set(intern_field("nothing"), Value());
  r.set(intern_field("big"), Value(std::numeric_limits<int64_t>::max()));
  r.set(intern_field("small"), Value(std::numeric_limits<int64_t>::min()));
  r.set(intern_field("utilization"), Value(0.95));
  return r;
}

Value eval(std::string_view text, const Record& r = sample()) {
  ExpressionError err;
  Expression e = Expression::parse(text, &err);
  INFO("expression: " << text << "  error: " << err.message << " at " << err.offset);
  REQUIRE(e.ok());
  return e.evaluate(r);
}

bool test(std::string_view text, const Record& r = sample()) {
  ExpressionError err;
  Expression e = Expression::parse(text, &err);
  INFO("expression: " << text << "  error: " << err.message << " at " << err.offset);
  REQUIRE(e.ok());
  return e.test(r);
}

ExpressionError parse_error(std::string_view text) {
  ExpressionError err;
  Expression e = Expression::parse(text, &err);
  INFO("expression: " << text);
  REQUIRE_FALSE(e.ok());
  return err;
}

void check_int(std::string_view text, int64_t expected) {
  Value v = eval(text);
  INFO("expression: " << text);
  REQUIRE(v.is_int());
  CHECK(v.as_int() == expected);
}

void check_double(std::string_view text, double expected) {
  Value v = eval(text);
  INFO("expression: " << text);
  REQUIRE(v.is_double());
  CHECK(v.as_double() == expected);
}

void check_null(std::string_view text) {
  INFO("expression: " << text);
  CHECK(eval(text).is_null());
}

void check_bool(std::string_view text, bool expected) {
  Value v = eval(text);
  INFO("expression: " << text);
  REQUIRE(v.is_bool());
  CHECK(v.as_bool() == expected);
}

void check_string(std::string_view text, const std::string& expected) {
  Value v = eval(text);
  INFO("expression: " << text);
  REQUIRE(v.is_string());
  CHECK(v.as_string() == expected);
}

void check_error(std::string_view text, size_t offset, std::string_view message_part) {
  ExpressionError err = parse_error(text);
  INFO("expression: " << text << "  error: " << err.message);
  CHECK(err.offset == offset);
  CHECK(err.message.find(message_part) != std::string::npos);
}

}  // namespace

TEST_CASE("literals: integers, doubles, strings, bools, null", "[expression][spec-4]") {
  check_int("1", 1);
  check_int("0", 0);
  check_int("9223372036854775807", std::numeric_limits<int64_t>::max());
  check_int("-9223372036854775808", std::numeric_limits<int64_t>::min());
  check_double("1.5", 1.5);
  check_double("1e3", 1000.0);
  check_double("1E3", 1000.0);
  check_double("2.5e-1", 0.25);
  check_double("1e+2", 100.0);
  check_double("1.0", 1.0);
  // Too large for int64: kept as a number rather than rejected.
  check_double("9223372036854775808", 9223372036854775808.0);
  check_string("'str'", "str");
  check_string("\"str\"", "str");
  check_string("''", "");
  check_string("'say \"hi\"'", "say \"hi\"");
  check_bool("true", true);
  check_bool("false", false);
  check_null("null");
}

TEST_CASE("string escapes", "[expression][spec-4]") {
  check_string(R"('a\\b')", "a\\b");
  check_string(R"('it\'s')", "it's");
  check_string(R"("q\"q")", "q\"q");
  check_string(R"('a\nb')", "a\nb");
  check_string(R"('a\tb')", "a\tb");
  // Unknown escapes stay as written, so regexes like '\d' need no doubled backslash.
  check_string(R"('\d+')", "\\d+");
}

TEST_CASE("fields: present, missing, null, and ts", "[expression][spec-4]") {
  check_string("user", "alice");
  check_int("n", 7);
  check_double("half", 0.5);
  check_null("no_such_field");
  check_null("nothing");
  check_int("ts", 1764316800000);
  check_bool("ts == 1764316800000", true);
  check_bool("ts > 0", true);
  // Keywords are case-sensitive, so these are ordinary (missing) fields.
  check_null("True");
  check_null("NULL");
  Record r;
  r.ts = -5;
  CHECK(eval("ts", r) == Value(-5));
  CHECK(eval("ts + 1", r) == Value(-4));
}

TEST_CASE("exists: present even if null, missing, and ts", "[expression][spec-4]") {
  check_bool("exists(user)", true);
  check_bool("exists(nothing)", true);
  check_bool("exists(no_such_field)", false);
  check_bool("exists(ts)", true);
  check_bool("exists( user )", true);
  check_bool("not exists(no_such_field)", true);
  check_bool("exists(nothing) and nothing == null", true);
  Record empty;
  CHECK(eval("exists(ts)", empty) == Value(true));
  CHECK(eval("exists(user)", empty) == Value(false));
}

TEST_CASE("== compares numbers across int and double", "[expression][spec-4]") {
  check_bool("1 == 1.0", true);
  check_bool("1.0 == 1", true);
  check_bool("n == 7", true);
  check_bool("n == 7.0", true);
  check_bool("n == 7.5", false);
  check_bool("half == 0.5", true);
  check_bool("0 == -0.0", true);
  check_bool("zero == dzero", true);
  // Exact: 2^53 + 1 is not 2^53 even though both convert to the same double.
  check_bool("9007199254740993 == 9007199254740992.0", false);
  check_bool("9007199254740992 == 9007199254740992.0", true);
  check_bool("big == 9223372036854775807", true);
  check_bool("big == 9223372036854775808", false);  // the double 2^63 is above INT64_MAX
  check_bool("big < 9223372036854775808", true);
  check_bool("small == -9223372036854775808.0", true);
}

TEST_CASE("== on strings, bools, null and mixed kinds", "[expression][spec-4]") {
  check_bool("user == 'alice'", true);
  check_bool("user == \"alice\"", true);
  check_bool("user == 'Alice'", false);
  check_bool("'a' == 'a'", true);
  check_bool("flag == true", true);
  check_bool("off == false", true);
  check_bool("flag == false", false);
  check_bool("null == null", true);
  check_bool("nothing == null", true);
  check_bool("no_such_field == null", true);
  check_bool("no_such_field == nothing", true);
  // Different kinds are never equal.
  check_bool("'1' == 1", false);
  check_bool("1 == '1'", false);
  check_bool("true == 1", false);
  check_bool("false == 0", false);
  check_bool("null == 0", false);
  check_bool("null == ''", false);
  check_bool("null == false", false);
  check_bool("user == null", false);
}

TEST_CASE("!= is exactly the negation of ==", "[expression][spec-4]") {
  for (const char* pair : {"1, 1.0", "'1', 1", "null, null", "nothing, 0", "true, 1", "'a', 'b'",
                           "user, 'alice'", "no_such_field, null", "n, 7"}) {
    std::string p(pair);
    size_t comma = p.find(',');
    std::string a = p.substr(0, comma);
    std::string b = p.substr(comma + 1);
    INFO(a << " vs " << b);
    CHECK(eval(a + " != " + b).as_bool() == !eval(a + " == " + b).as_bool());
  }
  check_bool("'1' != 1", true);
  check_bool("null != null", false);
  check_bool("nothing != 0", true);
  check_bool("1 != 1.0", false);
}

TEST_CASE("ordering: numbers numerically, strings byte-wise, else false", "[expression][spec-4]") {
  check_bool("1 < 2", true);
  check_bool("2 < 1", false);
  check_bool("1 < 1.5", true);
  check_bool("1.5 < 2", true);
  check_bool("2 <= 2.0", true);
  check_bool("2 >= 2", true);
  check_bool("3 > 2.5", true);
  check_bool("-1 < 0", true);
  check_bool("utilization > 0.9", true);
  check_bool("n >= 7 and n <= 7", true);
  check_bool("'a' < 'b'", true);
  check_bool("'abc' < 'abd'", true);
  check_bool("'ab' < 'abc'", true);
  check_bool("'b' > 'abc'", true);
  check_bool("'B' < 'a'", true);  // byte order: uppercase sorts first
  check_bool("'a' <= 'a'", true);
  check_bool("'a' >= 'a'", true);
  // Bytes compare unsigned: U+00E9 (0xC3 0xA9) sorts after every ASCII letter.
  check_bool("'\xc3\xa9' > 'z'", true);
  // Mixed kinds and null: every ordering is false.
  for (const char* op : {"<", "<=", ">", ">="}) {
    std::string o(op);
    INFO("operator " << o);
    CHECK(eval("1 " + o + " '1'") == Value(false));
    CHECK(eval("'1' " + o + " 1") == Value(false));
    CHECK(eval("null " + o + " null") == Value(false));
    CHECK(eval("nothing " + o + " 1") == Value(false));
    CHECK(eval("1 " + o + " no_such_field") == Value(false));
    CHECK(eval("true " + o + " false") == Value(false));
    CHECK(eval("true " + o + " true") == Value(false));
    CHECK(eval("flag " + o + " 1") == Value(false));
  }
}

TEST_CASE("arithmetic keeps integers integral, / is real division", "[expression][spec-4]") {
  check_int("1 + 2", 3);
  check_int("5 - 8", -3);
  check_int("2 * 3", 6);
  check_int("n * two", 14);
  check_double("7 / 2", 3.5);
  check_double("6 / 2", 3.0);  // still a double
  check_double("n / two", 3.5);
  check_double("1 + 0.5", 1.5);
  check_double("2 * 1.5", 3.0);
  check_double("1.5 + 1.5", 3.0);
  check_double("half - 1", -0.5);
  check_double("1.0 + 2", 3.0);  // a double operand makes a double even when the value is whole
  check_double("1e3 + 1", 1001.0);
}

TEST_CASE("arithmetic overflow falls back to double", "[expression][spec-4]") {
  check_double("big + 1", 9223372036854775808.0);
  check_double("small - 1", -9223372036854775809.0);
  check_double("big * 2", 18446744073709551614.0);
  check_int("big - 1", std::numeric_limits<int64_t>::max() - 1);
  check_double("-small", 9223372036854775808.0);
  check_int("-big", -std::numeric_limits<int64_t>::max());
}

TEST_CASE("division by zero is null", "[expression][spec-4]") {
  check_null("1 / 0");
  check_null("1 / 0.0");
  check_null("1.5 / 0");
  check_null("n / zero");
  check_null("n / dzero");
  check_null("n / -0.0");
  check_null("0 / 0");
  check_double("0 / 5", 0.0);
}

TEST_CASE("arithmetic on non-numbers is null, except + on strings", "[expression][spec-4]") {
  check_string("'a' + 'b'", "ab");
  check_string("user + '@' + 'host'", "alice@host");
  check_string("'' + ''", "");
  check_null("'a' + 1");
  check_null("1 + 'a'");
  check_null("'a' - 'b'");
  check_null("'a' * 2");
  check_null("'a' / 'b'");
  check_null("true + 1");
  check_null("null + 1");
  check_null("no_such_field + 1");
  check_null("nothing * 2");
  check_null("flag + flag");
  check_null("'a' + null");
  check_null("[1] + [2]");
  // Null propagates, and comparing it then follows the == / ordering rules.
  check_bool("no_such_field + 1 == null", true);
  check_bool("no_such_field + 1 > 0", false);
}

TEST_CASE("unary minus", "[expression][spec-4]") {
  check_int("-5", -5);
  check_double("-1.5", -1.5);
  check_int("-n", -7);
  check_int("--3", 3);
  check_int("- -3", 3);
  check_int("-(2 + 3)", -5);
  check_double("-half", -0.5);
  check_int("3 - -2", 5);
  check_int("2 * -3", -6);
  check_null("-user");
  check_null("-'a'");
  check_null("-true");
  check_null("-null");
  check_null("-no_such_field");
  check_bool("-1 < 0", true);
}

TEST_CASE("precedence and associativity", "[expression][spec-4]") {
  check_int("1 + 2 * 3", 7);
  check_int("(1 + 2) * 3", 9);
  check_int("2 * 3 + 1", 7);
  check_int("-2 * 3", -6);
  check_int("-2 + 3", 1);
  check_int("10 - 2 - 3", 5);  // left-associative
  check_double("8 / 4 / 2", 1.0);
  check_int("2 * 3 - 4 * 5", -14);
  check_bool("1 + 1 == 2", true);
  check_bool("2 == 1 + 1", true);
  check_bool("n * 2 > 10 + 3", true);
  // `not` binds looser than comparison: `not a == b` is `not (a == b)`.
  check_bool("not user == 'bob'", true);
  check_bool("not user == 'alice'", false);
  check_bool("not 1 == 2", true);
  // and binds tighter than or.
  check_bool("true or false and false", true);
  check_bool("(true or false) and false", false);
  check_bool("false and false or true", true);
  // not binds tighter than and.
  check_bool("not false and false", false);
  check_bool("not (false and false)", true);
  check_bool("not not true", true);
  check_bool("type == 'checkout' and feature == 'matlab_core' or user == 'x'", true);
  check_bool("user == 'x' or type == 'checkout' and n > 5", true);
  // `in` is a comparison, so arithmetic binds tighter.
  check_bool("1 + 1 in [2, 3]", true);
}

TEST_CASE("and / or / not treat only true as true and return bools", "[expression][spec-4]") {
  check_bool("true and true", true);
  check_bool("true and false", false);
  check_bool("false or true", true);
  check_bool("false or false", false);
  check_bool("not true", false);
  check_bool("not false", true);
  check_bool("not null", true);
  check_bool("not nothing", true);
  check_bool("not no_such_field", true);
  check_bool("not 1", true);
  check_bool("not 'true'", true);
  check_bool("1 and true", false);
  check_bool("true and 1", false);
  check_bool("'x' or false", false);
  check_bool("null or true", true);
  check_bool("flag and not off", true);
  check_bool("flag or n", true);
  check_bool("off or n", false);  // result is a bool, never the operand
}

TEST_CASE("and / or short-circuit", "[expression][spec-4]") {
  // Evaluation has no side effects, so only the results can show it: once the left side
  // decides, whatever the right side is does not matter.
  check_bool("false and (1 / 0 == null)", false);
  check_bool("true or no_such_field", true);
  check_bool("true and no_such_field", false);
  check_bool("false or nothing", false);
}

TEST_CASE("in with lists", "[expression][spec-4]") {
  check_bool("type in ['checkout', 'checkin']", true);
  check_bool("type in ['denied', 'queued']", false);
  check_bool("n in [1, 7, 9]", true);
  check_bool("n in [7.0]", true);  // membership uses ==, so 7 matches 7.0
  check_bool("7.0 in [1, 7]", true);
  check_bool("'7' in [7]", false);
  check_bool("1 in ['1']", false);
  check_bool("null in [null]", true);
  check_bool("no_such_field in [null]", true);
  check_bool("no_such_field in [1, 2]", false);
  check_bool("true in [1, true]", true);
  check_bool("1 in []", false);
  check_bool("1 in [1, 2,]", true);     // trailing comma accepted
  check_bool("n in [n - 1, n]", true);  // elements are expressions
  check_bool("user in [type, 'al' + 'ice']", true);
  check_bool("(n in [1, 2]) == false", true);
}

TEST_CASE("not in is the negation of in", "[expression][spec-4]") {
  check_bool("type not in ['checkout', 'checkin']", false);
  check_bool("type not in ['denied']", true);
  check_bool("no_such_field not in [1]", true);
  check_bool("null not in [null]", false);
  check_bool("1 not in 5", true);  // `1 in 5` is false
  check_bool("'al' not in user", false);
  check_bool("'bob' not in user", true);
  check_bool("not type not in ['checkout']", true);
}

TEST_CASE("in on two strings is a substring test", "[expression][spec-4]") {
  check_bool("'s' in 'string'", true);
  check_bool("'ring' in 'string'", true);
  check_bool("'x' in 'string'", false);
  check_bool("'' in 'abc'", true);
  check_bool("'matlab' in feature", true);
  check_bool("'MATLAB' in feature", false);
  check_bool("feature in 'matlab_core_extra'", true);
  check_bool("'abc' in 'ab'", false);
  // Anything that is not (string in string) or (x in list) is false.
  check_bool("1 in 123", false);
  check_bool("'1' in 123", false);
  check_bool("1 in '123'", false);
  check_bool("null in 'null'", false);
  check_bool("'a' in null", false);
  check_bool("'a' in no_such_field", false);
  check_bool("[1] in 'x'", false);
}

TEST_CASE("lists outside in", "[expression][spec-4]") {
  // Value has no list kind: a list on its own evaluates to null, but compares as a list.
  check_null("[1, 2]");
  check_bool("[1, 2] == [1, 2.0]", true);
  check_bool("[1, 2] == [2, 1]", false);
  check_bool("[] == []", true);
  check_bool("[1] == 1", false);
  check_bool("[1] == null", false);
  check_bool("no_such_field == []", false);
  check_bool("[1] != null", true);
  check_bool("[1] in [[1], [2]]", true);
  check_bool("[3] in [[1], [2]]", false);
  check_bool("1 in [[1]]", false);
  check_bool("[1] < [2]", false);
  check_bool("[] and true", false);
  check_bool("not []", true);
}

TEST_CASE("regex =~ is an unanchored ECMAScript search", "[expression][spec-4]") {
  check_bool("feature =~ 'matlab'", true);
  check_bool("feature =~ 'lab_co'", true);  // search, not full match
  check_bool("feature =~ '^lab'", false);
  check_bool("feature =~ '^matlab_core$'", true);
  check_bool("feature =~ '^matlab$'", false);
  check_bool("feature =~ 'core$'", true);
  check_bool("feature =~ '^mat.*_c'", true);
  check_bool("feature =~ 'MATLAB'", false);  // case-sensitive
  check_bool("user =~ '^(alice|bob)$'", true);
  check_bool("user =~ '^a\\w+e$'", true);    // \\w written escaped
  check_bool("user =~ '^a\\\\w+e$'", true);  // and with the backslash doubled
  check_bool("'v12.3' =~ '^v\\d+\\.\\d$'", true);
  check_bool("'v12x3' =~ '^v\\d+\\.\\d$'", false);
  check_bool("'aa' =~ '(a)\\1'", true);  // ECMAScript back-references
  check_bool("'' =~ ''", true);
  check_bool("feature =~ \"^m\"", true);
  // A non-string left side is false, never an error.
  check_bool("n =~ '7'", false);
  check_bool("nothing =~ '.*'", false);
  check_bool("no_such_field =~ '.*'", false);
  check_bool("flag =~ 'true'", false);
  check_bool("not n =~ '7'", true);
  check_bool("user + '@x' =~ '@x$'", true);  // the left side is an additive expression
}

TEST_CASE("regex =~ matches characters, not bytes", "[expression][spec-4]") {
  check_bool("'José' =~ '^Jos.$'", true);  // `.` is one character (é is two bytes)
  check_bool("'Josè' =~ '[é]'", false);     // a class of one character, not of its bytes
  check_bool("'José' =~ '[é]'", true);
  check_bool("'é' =~ '\\u00e9'", true);   // \u escapes name characters
  check_bool("'日本語' =~ '^.{3}$'", true);
  check_bool("'naïve' =~ 'a.v'", true);     // an ASCII pattern over non-ASCII text
  check_bool("'abc' =~ '^[^é]+$'", true);   // a non-ASCII pattern over ASCII text
  check_bool("'a' =~ '\\u0161'", false);     // an escape beyond ASCII over ASCII text
  check_bool("'X1' =~ '^[\\u0430-\\u044f]+$'", false);
  check_bool("'яблоко' =~ '^[\\u0430-\\u044f]+$'", true);
  check_bool("'a' =~ '\\xe9'", false);
  // ECMAScript's white space beyond ASCII (NBSP, ideographic space, PS, BOM) is `\s`.
  check_bool("'john\u00a0smith' =~ 'john\\ssmith'", true);
  check_bool("'john\u3000smith' =~ 'john\\ssmith'", true);
  check_bool("'john\u2029smith' =~ '^john[\\s]smith$'", true);
  check_bool("'john\ufeffsmith' =~ 'john\\Ssmith'", false);
  check_bool("'john\u00a0smith' =~ 'john\\Ssmith'", false);
  check_bool("'jöhn smith' =~ 'jöhn\\Ssmith'", false);
  check_bool("'jöhn_smith' =~ 'jöhn\\Ssmith'", true);
  // `.` stops at every line terminator, U+2028 and U+2029 too.
  check_bool("'a\u2028b' =~ 'a.b'", false);
  check_bool("'a\u00e9b' =~ 'a.b'", true);
  check_bool("'a\u2028b' =~ 'a[.\u2028]b'", true);  // in a class `.` is itself
  Record r;
  r.set(intern_field("s"), Value(std::string(100000, 'a') + "é"));
  CHECK(eval("s =~ '^a.*é$'", r) == Value(true));  // long non-ASCII text neither crashes
}

TEST_CASE("regex \\cX is a control character", "[expression][spec-4]") {
  Record r;
  r.set(intern_field("s"), Value(std::string("a\nb")));
  CHECK(eval("s =~ 'a\\cJb'", r) == Value(true));
  CHECK(eval("s =~ 'a\\cjb'", r) == Value(true));
  CHECK(eval("s =~ '^a[\\cJ]b$'", r) == Value(true));
  r.set(intern_field("s"), Value(std::string("aJb")));
  CHECK(eval("s =~ 'a\\cJb'", r) == Value(false));
  r.set(intern_field("s"), Value(std::string("é\tb")));
  CHECK(eval("s =~ '^é\\cIb$'", r) == Value(true));  // through the wide regex too
  r.set(intern_field("s"), Value(std::string("\\cI")));
  CHECK(eval("s =~ '^\\\\\\\\cI$'", r) == Value(true));  // an escaped backslash, then `cI`
}

TEST_CASE("regex search on a long field neither crashes nor errors", "[expression][spec-4]") {
  Record r;
  r.set(intern_field("s"), Value(std::string(200000, 'a')));
  CHECK(eval("s =~ '^a.*b'", r) == Value(false));
  CHECK(eval("s =~ '^a.*a$'", r) == Value(true));
  CHECK(eval("s =~ 'a{3}$'", r) == Value(true));
}

TEST_CASE("whitespace and layout", "[expression][spec-4]") {
  check_bool("  n==7  ", true);
  check_bool("n\n==\t7", true);
  check_bool("type=='checkout'and(n>1)", true);
  check_int("1+2*3", 7);
}

TEST_CASE("test() is true only for boolean true", "[expression][spec-4]") {
  CHECK(test("n == 7"));
  CHECK_FALSE(test("n == 8"));
  CHECK_FALSE(test("n"));
  CHECK_FALSE(test("user"));
  CHECK_FALSE(test("nothing"));
  CHECK_FALSE(test("1 / 0"));
  CHECK(test("flag"));
  CHECK_FALSE(test("off"));
}

TEST_CASE("parse keeps the text; a default Expression is not ok", "[expression][spec-4]") {
  ExpressionError err;
  Expression e = Expression::parse("n > 1", &err);
  REQUIRE(e.ok());
  CHECK(e.text() == "n > 1");
  Expression none;
  CHECK_FALSE(none.ok());
  CHECK(none.evaluate(sample()).is_null());
  CHECK_FALSE(none.test(sample()));
  // A null error pointer is allowed.
  CHECK_FALSE(Expression::parse("(", nullptr).ok());
}

TEST_CASE("parse errors point at the offending offset", "[expression][spec-4]") {
  check_error("", 0, "empty expression");
  check_error("   ", 0, "empty expression");
  check_error("a == ", 5, "unexpected end of expression");
  check_error("a ==", 4, "unexpected end of expression");
  check_error("a == 'x", 5, "unterminated string");
  check_error("\"abc", 0, "unterminated string");
  check_error("'abc\\'", 0, "unterminated string");  // the escaped quote does not close it
  check_error("(a == 1", 7, "expected ')'");
  check_error("(a == 1]", 7, "expected ')'");
  check_error("a b", 2, "unexpected token 'b'");
  check_error("a == 1 foo", 7, "unexpected token 'foo'");
  check_error(")", 0, "unexpected token ')'");
  check_error("a and", 5, "unexpected end of expression");
  check_error("a or or b", 5, "unexpected token 'or'");
  check_error("not", 3, "unexpected end of expression");
  check_error("1 +", 3, "unexpected end of expression");
  check_error("* 2", 0, "unexpected token '*'");
  check_error("a == 1 'x'", 7, "unexpected string 'x'");
}

TEST_CASE("parse errors: chained comparisons", "[expression][spec-4]") {
  check_error("a < b < c", 6, "comparison operators cannot be chained");
  check_error("1 == 1 == true", 7, "cannot be chained");
  check_error("a in [1] in [true]", 9, "cannot be chained");
  check_error("a == b not in [1]", 7, "cannot be chained");
  check_error("a =~ 'x' == true", 9, "cannot be chained");
  // Parentheses make it legal.
  check_bool("(1 < 2) == true", true);
  check_bool("(1 == 1) in [true]", true);
}

TEST_CASE("parse errors: functions, exists, regex, lists", "[expression][spec-4]") {
  check_error("foo(a)", 0, "unknown function 'foo' (expected exists)");
  check_error("a == len(b)", 5, "unknown function 'len'");
  check_error("ts(1)", 0, "unknown function 'ts'");
  check_error("exists", 6, "expected '(' after 'exists'");
  check_error("exists a", 7, "expected '(' after 'exists'");
  check_error("exists('a')", 7, "field name");
  check_error("exists(1)", 7, "field name");
  check_error("exists(null)", 7, "field name");
  check_error("exists(a", 8, "expected ')'");
  check_error("exists(a b)", 9, "expected ')'");
  check_error("a =~ '('", 5, "invalid regex");
  check_error("a =~ '[a-'", 5, "invalid regex");
  check_error("a =~ b", 5, "string literal");
  check_error("a =~ 1", 5, "string literal");
  check_error("a =~ ", 5, "string literal");
  check_error("a in [1, 2", 10, "expected ',' or ']'");
  check_error("a in [1 2]", 8, "expected ',' or ']'");
  check_error("a in [,]", 6, "unexpected token ','");
  check_error("a not b", 6, "expected 'in' after 'not'");
  check_error("a not", 5, "expected 'in' after 'not'");
  check_error("not in [1]", 4, "unexpected token 'in'");
}

TEST_CASE("parse errors: bad characters and numbers", "[expression][spec-4]") {
  check_error("a = 1", 2, "did you mean '=='");
  check_error("!a", 0, "use 'not'");
  check_error("a && b", 2, "use 'and'");
  check_error("a || b", 2, "use 'or'");
  check_error("a $ b", 2, "unexpected character '$'");
  check_error("a % 2", 2, "unexpected character '%'");
  check_error("+1", 0, "unexpected token '+'");
  check_error("1e", 0, "invalid number '1e'");
  check_error("1e+", 0, "invalid number");
  check_error("12abc", 0, "invalid number '12abc'");
  check_error("1.2.3", 0, "invalid number '1.2.3'");
  check_error("1e999", 0, "out of range");
  check_error("a == caf\xc3\xa9", 8, "unexpected character");
  // The first problem in the text is the one reported.
  check_error("a == ) 'x", 5, "unexpected token ')'");
  check_error("a == 'x", 5, "unterminated string");
}

TEST_CASE("keywords are lowercase and reserved", "[expression][spec-4]") {
  check_error("a AND b", 2, "unexpected token 'AND'");
  check_error("in == 1", 0, "unexpected token 'in'");
  check_error("and", 0, "unexpected token 'and'");
  check_bool("NOT == null", true);  // a missing field called NOT
}

TEST_CASE("deep nesting is rejected at parse time, not by a crash", "[expression][spec-4]") {
  std::string deep(10000, '(');
  ExpressionError err = parse_error(deep + "1" + std::string(10000, ')'));
  CHECK(err.message.find("nested too deeply") != std::string::npos);
  std::string chain = "1";
  for (int i = 0; i < 10000; ++i) chain += " + 1";
  err = parse_error(chain);
  CHECK(err.message.find("nested too deeply") != std::string::npos);
  std::string nots;
  for (int i = 0; i < 10000; ++i) nots += "not ";
  err = parse_error(nots + "true");
  CHECK(err.message.find("nested too deeply") != std::string::npos);
  // Moderate depth is fine.
  std::string ok = "1";
  for (int i = 0; i < 100; ++i) ok += " + 1";
  check_int(ok, 101);
}

TEST_CASE("one expression evaluated from many threads", "[expression][spec-4]") {
  ExpressionError err;
  Expression e = Expression::parse("user =~ '^al' and n * 2 == 14 and type in ['checkout']", &err);
  REQUIRE(e.ok());
  Record r = sample();
  std::vector<std::thread> threads;
  std::vector<int> hits(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) hits[t] += e.test(r) ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  for (int h : hits) CHECK(h == 2000);
}

}  // namespace licflow
