// Regex: the compiled pattern of SPEC §4 `f =~ 're'`, an unanchored ECMAScript search over
// characters, not bytes: `.` matches one character, `[é]` is a class of one, `\u00e9` is é.
// libstdc++ has no char32_t regex, so text or patterns beyond ASCII go through std::wregex (UTF-32
// on Linux); ASCII text against an ASCII pattern takes the byte regex, which matches it alike
// without converting.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>

namespace licflow {

class Regex {
 public:
  // nullptr and `error` set when `pattern` is not a valid ECMAScript regex.
  static std::unique_ptr<const Regex> compile(const std::string& pattern, std::string* error);

  // True when the pattern matches somewhere in `text` (UTF-8). Never throws: a search libstdc++
  // gives up on (pathological backtracking) is no match.
  bool search(std::string_view text) const;

 private:
  Regex() = default;
  bool ascii_pattern_ = false;  // ASCII, and names no character beyond it by an escape
  std::regex bytes_;  // when ascii_pattern_
  std::wregex wide_;
};

}  // namespace licflow
