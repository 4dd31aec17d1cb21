// JSON output of values and records (SPEC §2 output forms): strings escaped, integers as
// integers, doubles in shortest round-trip form, `ts` as RFC 3339 UTC with milliseconds.
#pragma once

#include <string>
#include <string_view>

#include "engine/record.h"

namespace licflow {

void append_json_string(std::string& out, std::string_view s);
// `s` as valid UTF-8: each maximal ill-formed subpart becomes one U+FFFD, as in
// append_json_string (and Python's and WHATWG's decoders).
void append_valid_utf8(std::string& out, std::string_view s);
// Non-finite doubles (never produced by parsing) are written as null; an object as a nested
// record (see append_record_json).
void append_json_value(std::string& out, const Value& v);
// The shortest digits that read back as `d`, laid out as Python's repr: `100000.0`, `0.0001`,
// `1e+16`, `1.5e-07`. Non-finite: null.
void append_json_double(std::string& out, double d);
// `{"stream":"S","ts":"…",field…}` with no trailing newline; "stream" is omitted when empty.
void append_record_json(std::string& out, const Record& record, std::string_view stream);

}  // namespace licflow
