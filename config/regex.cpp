#include "config/regex.h"

#include <cctype>
#include <cstdint>
#include <cstring>

namespace licflow {
namespace {

bool is_ascii(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof word);
    if ((word & 0x8080808080808080ull) != 0) return false;
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) >= 0x80) return false;
  }
  return true;
}

// UTF-8 -> UTF-32. A byte that does not start a well-formed sequence becomes U+FFFD (events
// arrive validated; this only keeps odd pipeline literals from going wrong silently).
std::wstring to_wide(std::string_view s) {
  std::wstring out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    uint32_t c = 0;  // the code point
    size_t n = 0;    // and its length in bytes; 0: not a lead byte
    if (lead < 0x80) {
      c = lead, n = 1;
    } else if (lead >= 0xC2 && lead < 0xE0) {
      c = lead & 0x1F, n = 2;
    } else if (lead >= 0xE0 && lead < 0xF0) {
      c = lead & 0x0F, n = 3;
    } else if (lead >= 0xF0 && lead < 0xF5) {
      c = lead & 0x07, n = 4;
    }
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) {
      const auto cont = static_cast<unsigned char>(s[i + k]);
      ok = (cont & 0xC0) == 0x80;
      c = (c << 6) | (cont & 0x3F);
    }
    // Overlong forms and surrogates are not well formed.
    if (ok && n == 3) ok = c >= 0x800 && (c < 0xD800 || c > 0xDFFF);
    if (ok && n == 4) ok = c >= 0x10000 && c <= 0x10FFFF;
    out.push_back(static_cast<wchar_t>(ok ? c : 0xFFFD));
    i += ok ? n : 1;
  }
  return out;
}

// libstdc++'s default (backtracking) executor recurses once per input character, so a pattern
// like '^a.*b' crashes on a 100 kB field; its __polynomial (Thompson NFA) executor does not and
// cannot backtrack catastrophically. It gives the same match/no-match answer but rejects
// back-references, so only those patterns use the default executor.
template <typename Char>
bool compile_into(std::basic_regex<Char>& re, const std::basic_string<Char>& pattern,
                  std::string* error) {
#if defined(__GLIBCXX__)
  try {
    re.assign(pattern, std::regex::ECMAScript | std::regex_constants::__polynomial);
    return true;
  } catch (const std::regex_error&) {
    // Back-reference or a genuinely invalid pattern: the plain compile below tells which.
  }
#endif
  try {
    re.assign(pattern, std::regex::ECMAScript);
    return true;
  } catch (const std::regex_error& e) {
    if (error != nullptr) *error = e.what();
    return false;
  }
}

// ECMAScript's white space and line terminators beyond ASCII (ES5 §7.2–7.3: NBSP, the Zs
// spaces, BOM, LS, PS), which libstdc++'s `\s` and `.` go by the C locale and miss.
constexpr std::string_view kWideSpaces =
    "\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff";

// Rewrites what libstdc++'s ECMAScript grammar gets wrong into what it gets right:
// - `\cX` (a control character, ES3) is read as the letter X: it becomes `\xHH`;
// - with `wide`, for text beyond ASCII: `\s` and `\S` gain the spaces above (in a class too,
//   except `\S`, which a class cannot widen), and `.` stops at U+2028/U+2029 as at `\n`.
std::string rewrite_pattern(std::string_view pattern, bool wide) {
  std::string out;
  out.reserve(pattern.size());
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[++i];
      const bool then_letter =
          i + 1 < pattern.size() && std::isalpha(static_cast<unsigned char>(pattern[i + 1]));
      if (e == 'c' && then_letter) {
        static constexpr char kHex[] = "0123456789abcdef";
        const int code = pattern[++i] % 32;
        out += "\\x";
        out += kHex[code >> 4];
        out += kHex[code & 15];
      } else if (wide && e == 's') {
        out += in_class ? "\\s" + std::string(kWideSpaces)
                        : "[\\s" + std::string(kWideSpaces) + "]";
      } else if (wide && e == 'S' && !in_class) {
        out += "[^\\s" + std::string(kWideSpaces) + "]";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
      out += c;
      // `]` right after `[` or `[^` is ECMAScript's empty class `[]` (or `[^]`): it closes it.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      continue;
    } else if (wide && c == '.') {
      out += "[^\\n\\r\\u2028\\u2029]";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::unique_ptr<const Regex> Regex::compile(const std::string& pattern, std::string* error) {
  std::unique_ptr<Regex> re(new Regex());
  if (!compile_into(re->wide_, to_wide(rewrite_pattern(pattern, /*wide=*/true)), error)) {
    return nullptr;
  }
  // `\u00e9` or `\xe9` name characters beyond ASCII, which the byte regex would cut to a byte.
  re->ascii_pattern_ = is_ascii(pattern) && pattern.find("\\u") == std::string::npos &&
                       pattern.find("\\x") == std::string::npos;
  if (re->ascii_pattern_ &&
      !compile_into(re->bytes_, rewrite_pattern(pattern, /*wide=*/false), error)) {
    return nullptr;
  }
  return re;
}

bool Regex::search(std::string_view text) const {
  try {
    if (ascii_pattern_ && is_ascii(text)) {
      return std::regex_search(text.begin(), text.end(), bytes_);
    }
    const std::wstring wide = to_wide(text);
    return std::regex_search(wide, wide_);
  } catch (...) {
    // std::regex reports pathological backtracking by throwing; evaluation must not fail.
    return false;
  }
}

}  // namespace licflow
