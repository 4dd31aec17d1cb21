// "Did you mean" help for misspelt ids, keys and types (Levenshtein distance).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace licflow {

size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate within a distance of max(2, |word|/3), or "" when none is close.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);
// The candidate nearest to `word`, however far (SPEC §3 suggests the nearest id for an unknown
// input): one that contains `word` or that `word` contains first (`usage` -> `usage_hourly`), the
// shortest such; else the closest by edit distance. "" only without candidates.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);
// "a, b, c" for error messages.
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace licflow
